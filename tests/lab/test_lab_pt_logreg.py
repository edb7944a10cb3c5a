"""Task 4, pt_logreg.py: `class PTLogreg(nn.Module)` with `forward` and `get_loss`, `train(model, X, Yoh_,
param_niter, param_delta)` and `eval(model, X)`, from the lab's template.

The lab leaves open the parameters' names ("potential names: self.W, self.b") and their layout, and
whether train prints every step: none is checked. The data are made here (three overlapping Gaussian
classes), so that a fault in data.py does not show up as one in pt_logreg.py.
"""

import numpy as np
import torch
import torch.nn as nn
from lab_check import call, check_imports, expect, lab_keywords, module_fixture
from sklearn.linear_model import LogisticRegression

pt_logreg = module_fixture("pt_logreg")


def test_imports(lab_modules):
    check_imports(lab_modules, "pt_logreg", ("PTLogreg", "train", "eval"))


def overlapping_classes(n=100, seed=0):
    """Three Gaussian classes in 2-D, centred and overlapping: the loss without a penalty has one finite
    optimum (no line separates them)."""
    rng = np.random.default_rng(seed)
    X = np.vstack([c + rng.standard_normal((n, 2)) for c in ([0.0, 0.0], [1.5, 0.5], [0.5, 1.5])])
    return X - X.mean(axis=0), np.repeat([0, 1, 2], n)


def tensors(X, Y_):
    return torch.tensor(X, dtype=torch.float32), torch.tensor(np.eye(3)[Y_], dtype=torch.float32)


def make(pt_logreg, D=2, C=3):
    model = call("pt_logreg", f"PTLogreg({D}, {C})", pt_logreg.PTLogreg, D, C)
    expect(isinstance(model, nn.Module), f"pt_logreg: PTLogreg should inherit from torch.nn.Module (the lab's "
                                         f"template); it is a {type(model).__mro__[1].__name__}")
    return model


def test_ptlogreg_holds_its_parameters_as_nn_parameters(pt_logreg):
    model = make(pt_logreg)
    sizes = sorted(p.numel() for p in model.parameters())
    expect(sum(sizes) == 2 * 3 + 3, f"pt_logreg: PTLogreg(2, 3) should hold a weight matrix of 2 x 3 and a bias of "
                                    f"3 as nn.Parameter (9 numbers); model.parameters() holds {sizes}")


def test_forward_gives_probabilities_and_get_loss_is_their_mean_nll(pt_logreg):
    model = make(pt_logreg)
    with torch.no_grad():  # away from any symmetric start, so that the loss is not the same for every label
        for p in model.parameters():
            p.copy_(torch.linspace(-1, 1, p.numel()).reshape(p.shape))
    X, Yoh_ = tensors(*overlapping_classes(20))
    probs = call("pt_logreg", "model.forward(X)", model.forward, X)
    expect(isinstance(probs, torch.Tensor) and probs.shape == (60, 3), "pt_logreg: forward(X) should return the "
           f"class probabilities [N x C] = (60, 3) as a tensor; got {getattr(probs, 'shape', type(probs).__name__)}")
    expect(torch.allclose(probs.sum(dim=1), torch.ones(60), atol=1e-5) and bool((probs >= 0).all()),
           "pt_logreg: forward(X) should return probabilities (softmax): rows of non-negative numbers summing to 1")
    loss = call("pt_logreg", "model.get_loss(X, Yoh_)", model.get_loss, X, Yoh_,
                **lab_keywords(model.get_loss, param_lambda=0))  # a penalty, where it has one: none
    expected = -(Yoh_ * probs.log()).sum(dim=1).mean()
    total = -(Yoh_ * probs.log()).sum()
    expect(isinstance(loss, torch.Tensor) and loss.numel() == 1, f"pt_logreg: get_loss(X, Yoh_) should return the "
                                                                 f"loss as a one-number tensor; got {loss!r}")
    hint = (" It is the sum: the lab asks for a loss that does not depend on the size of the training data "
            "(the mean)." if torch.isclose(loss.detach(), total, rtol=1e-4) else "")
    expect(torch.isclose(loss.detach().float(), expected.detach(), rtol=1e-4),
           f"pt_logreg: get_loss(X, Yoh_) should be the mean over the data of -log P(Y = y_i | x_i) from forward's "
           f"probabilities: {expected.item():.6f}; got {loss.item():.6f}." + hint)
    loss.backward()
    expect(all(p.grad is not None for p in model.parameters()),
           "pt_logreg: get_loss should be computed from the parameters with torch operations, so that "
           "loss.backward() gives every parameter a gradient; some got none")


def test_train_reaches_the_optimum_that_scikit_learn_finds(pt_logreg):
    X, Y_ = overlapping_classes()
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, Y_)
    optimum = float(-np.mean(np.log(reference.predict_proba(X)[np.arange(len(Y_)), Y_])))
    torch.manual_seed(0)
    model = make(pt_logreg)
    call("pt_logreg", "train(model, X, Yoh_, 2000, 0.5)", pt_logreg.train, model, *tensors(X, Y_), 2000, 0.5,
         **lab_keywords(pt_logreg.train, param_lambda=0))
    probs = np.asarray(call("pt_logreg", "eval(model, X)", pt_logreg.eval, model, X), dtype=np.float64)
    loss = float(-np.mean(np.log(probs[np.arange(len(Y_)), Y_])))
    # 2000 steps of 0.5 from any small start reach the optimum of this well-conditioned problem to 1e-4 by
    # gradient descent; 0.01 leaves room for other optimizers and float32 rounding.
    expect(loss <= optimum + 0.01, f"pt_logreg: train(model, X, Yoh_, 2000, 0.5) on three overlapping classes "
                                   f"should reach the minimum of the mean NLL, {optimum:.4f} (scikit-learn's "
                                   f"LogisticRegression on the same data and objective); it reached {loss:.4f}")


def test_eval_takes_and_returns_numpy(pt_logreg):
    X, _ = overlapping_classes(10)
    probs = call("pt_logreg", "eval(model, X)", pt_logreg.eval, make(pt_logreg), X)
    expect(isinstance(probs, np.ndarray) and probs.shape == (30, 3),
           "pt_logreg: eval(model, X) takes X as np.array and should return the class probabilities [N x C] as "
           f"np.array (the lab's template: .detach().numpy()); got {type(probs).__name__} "
           f"{getattr(probs, 'shape', '')}")
    expect(np.allclose(probs.sum(axis=1), 1, atol=1e-5), "pt_logreg: eval's rows should be probabilities summing to 1")
