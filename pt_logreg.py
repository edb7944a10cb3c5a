"""Multinomial logistic regression in PyTorch, and the training loop every PyTorch model here uses.

    probs = softmax(X W + b)      # X (N, D), W (D, C), b (C,), probs (N, C)
    loss  = mean_i -log probs[i, y_i] + param_lambda * ||W||^2

The loss is computed from log_softmax of the scores (never the log of a softmax, which underflows to
-inf for confident mistakes) and divided by N, so its value and the gradient step do not depend on the
size of the training set.

`train` and `eval` serve any model with `forward(X) -> probs`, `logits(X)` and `get_loss(X, Yoh_,
param_lambda)`: PTLogreg here and PTDeep in pt_deep.py.

Run `python pt_logreg.py` for the demo on two and three Gaussian classes.
"""

import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import data


def weight_parameter(W):
    """W (in, out), the lab's layout, as a Parameter kept in memory as nn.Linear keeps its weight,
    (out, in), and seen through a transpose: the same numbers and shape, but the products of a training
    step run up to 3x faster for narrow outputs such as MNIST's 10 classes (benchmarks/bench_train.py).
    Gradients, .to() and state_dict keep the layout."""
    return nn.Parameter(W.t().contiguous().t())


class PTLogreg(nn.Module):
    """Logistic regression of D-dimensional data into C classes.

    W and b start at zero: every class then gets probability 1/C, so the untrained loss is exactly
    ln C, and the convex objective has a single optimum to reach from there.
    """

    def __init__(self, D, C):
        super().__init__()
        D = data.check_positive_int(D, "D")
        C = data.check_positive_int(C, "C")
        self.W = weight_parameter(torch.zeros(D, C))  # (D, C)
        self.b = nn.Parameter(torch.zeros(C))  # (C,)

    @property
    def n_inputs(self):
        return self.W.shape[0]

    @property
    def n_classes(self):
        return self.W.shape[1]

    def logits(self, X):
        """Classification scores of shape (N, C)."""
        return torch.addmm(self.b, X, self.W)  # X @ W + b, fused

    def forward(self, X):
        """Class probabilities of shape (N, C)."""
        return torch.softmax(self.logits(X), dim=1)

    def get_loss(self, X, Yoh_, param_lambda=0.0):
        """Mean NLL of the labels Yoh_ (one-hot (N, C), or class indices (N,)) plus param_lambda * ||W||^2."""
        return cross_entropy(self.logits(X), Yoh_) + param_lambda * self.W.pow(2).sum()


def cross_entropy(logits, Yoh_):
    """Mean over rows of -sum_c Yoh_[i, c] * log_softmax(logits)[i, c].

    F.cross_entropy computes exactly this, from log_softmax (stable), in one fused call instead of
    four. It also takes the labels as class indices (an int64 tensor of shape (N,)) in place of the
    one-hot matrix: the same loss without the (N, C) product, which mini-batch training uses.
    """
    return F.cross_entropy(logits, Yoh_)


def model_device_dtype(model):
    """Device and floating dtype of a model's parameters: inputs are brought to these."""
    p = next(model.parameters())
    return p.device, p.dtype


def check_inputs(model, X, Yoh_=None):
    """Validate a training batch for `model`: X (N, D) finite, Yoh_ (N, C) one-hot over model's C."""
    D = model.n_inputs
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X: expected a non-empty 2-D torch.Tensor (N, D), got {getattr(X, 'shape', type(X))}")
    if X.shape[1] != D:
        raise ValueError(f"X: expected {D} columns (the model's input size), got shape {tuple(X.shape)}")
    if not torch.isfinite(X).all():
        raise ValueError("X: contains NaN or infinite values")
    if Yoh_ is None:
        return
    C = model.n_classes
    if not isinstance(Yoh_, torch.Tensor) or Yoh_.ndim != 2:
        raise ValueError(f"Yoh_: expected a 2-D one-hot torch.Tensor (N, C), got {getattr(Yoh_, 'shape', Yoh_)}")
    if Yoh_.shape[0] != X.shape[0]:
        raise ValueError(f"Yoh_: expected {X.shape[0]} rows (one per row of X), got {Yoh_.shape[0]}")
    if Yoh_.shape[1] != C:
        raise ValueError(f"Yoh_: expected {C} columns (labels in 0..{C - 1}), got shape {tuple(Yoh_.shape)}")
    if not (((Yoh_ == 0) | (Yoh_ == 1)).all() and (Yoh_.sum(dim=1) == 1).all()):
        raise ValueError("Yoh_: expected one-hot rows (a single 1 per row)")


def check_finite_losses(losses, first_iteration, param_delta):
    """Raise FloatingPointError naming the first iteration whose loss is NaN or infinite."""
    bad = (~torch.isfinite(losses)).nonzero()
    if len(bad):
        i = first_iteration + int(bad[0, 0])
        raise FloatingPointError(f"loss became {losses[bad[0, 0]].item()} at iteration {i}; training "
                                 f"diverged, try a smaller param_delta (was {param_delta})")


def train(model, X, Yoh_, param_niter, param_delta, param_lambda=0.0, log_every=None, callback=None):
    """Full-batch gradient descent on model.get_loss; prints the loss and returns the loss history.

    Inputs:
    - model: PTLogreg or PTDeep
    - X: torch.Tensor of shape (N, D), on the model's device
    - Yoh_: one-hot torch.Tensor of shape (N, C)
    - param_niter: number of steps; param_delta: learning rate; param_lambda: L2 weight
    - log_every: print the loss every this many steps (default: 10 times in all; 0 = silent)
    - callback: called as callback(iteration) every log_every steps (e.g. to draw an animation frame)
    Returns: a 1-D NumPy array of the loss at every step.
    Raises FloatingPointError, naming the iteration, when the loss becomes NaN or infinite.
    """
    check_inputs(model, X, Yoh_)
    param_niter = data.check_positive_int(param_niter, "param_niter")
    param_delta = data.check_number(param_delta, "param_delta")
    param_lambda = data.check_number(param_lambda, "param_lambda", allow_zero=True)
    if log_every is None:
        log_every = max(1, param_niter // 10)
    device, dtype = model_device_dtype(model)
    X, Yoh_ = X.to(device, dtype), Yoh_.to(device, dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=param_delta)
    # Losses stay on the device and are checked in blocks: no host sync on every step.
    losses = torch.empty(param_niter, device=device, dtype=dtype)
    check_every = log_every or 1000
    model.train()
    for it in range(param_niter):
        loss = model.get_loss(X, Yoh_, param_lambda)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses[it] = loss.detach()
        done = it + 1
        if done % check_every == 0 or done == param_niter:
            start = done - (done % check_every or check_every)
            check_finite_losses(losses[start:done], start, param_delta)
            if log_every:
                print(f"iteration {it:>6d}  loss {losses[it].item():.6f}")
                if callback is not None:
                    callback(it)
    return losses.cpu().numpy()


@torch.no_grad()
def eval(model, X):
    """Class probabilities (NumPy, shape (N, C)) for NumPy data X of shape (N, D), in eval mode."""
    X = data.check_data(X, "X", n_cols=model.n_inputs)
    device, dtype = model_device_dtype(model)
    X = torch.as_tensor(X, device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        return model(X).cpu().numpy()
    finally:
        model.train(was_training)


def to_tensors(X, Y_, C=None, device="cpu", dtype=torch.float32):
    """NumPy data X (N, D) and labels Y_ (N,) as torch tensors X and one-hot Yoh_ on `device`."""
    X = data.check_data(X, "X")
    Yoh_ = data.class_to_onehot(data.check_labels(Y_, "Y_", n_rows=len(X), n_classes=C), C)
    return (torch.as_tensor(X, device=device, dtype=dtype), torch.as_tensor(Yoh_, device=device, dtype=dtype))


def report(name, model, X, Y_):
    """Print accuracy, per-class recall/precision and (two classes) AP of `model` on (X, Y_)."""
    probs = eval(model, X)
    Y = probs.argmax(axis=1)
    accuracy, pr, _ = data.eval_perf_multi(Y, Y_, C=probs.shape[1])
    per_class = "  ".join(f"class {c}: R {r:.3f} P {p:.3f}" for c, (r, p) in enumerate(pr))
    line = f"{name}: accuracy {accuracy:.3f}  {per_class}"
    if probs.shape[1] == 2 and 0 < Y_.sum() < len(Y_):
        line += f"  AP {data.average_precision(probs[:, 1], Y_):.3f}"
    print(line)
    return probs


def plot_decision(model, X, Y_, title, ax=None):
    """Decision surface (the probability of the predicted class, centred at 1/2) and the data."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    probs = eval(model, X)
    if probs.shape[1] == 2:
        surface = lambda G: eval(model, G)[:, 1]  # noqa: E731
    else:  # several classes: show where the winning class is confident
        surface = lambda G: eval(model, G).max(axis=1)  # noqa: E731
    data.graph_surface(surface, data.data_rect(X), offset=0.5, ax=ax)
    data.graph_data(X, Y_, probs.argmax(axis=1), ax=ax)
    ax.set_title(title, fontsize=9)
    return ax


def main(argv=None):
    parser = data.demo_argparser("Logistic regression in PyTorch on 2 and 3 Gaussian classes.",
                                 "results/pt_logreg.png")
    parser.add_argument("--niter", type=int, default=2000, help="gradient steps (default: 2000)")
    parser.add_argument("--delta", type=float, default=0.05, help="learning rate (default: 0.05)")
    args = parser.parse_args(argv)
    import matplotlib.pyplot as plt

    torch.set_num_threads(1)  # tiny tensors: a second thread only adds overhead (and stalls under load)
    rng = np.random.default_rng(args.seed)
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5))
    for row, C in zip(axes, (2, 3), strict=True):
        X, Y_ = data.sample_gauss_2d(C, 100, rng=rng)
        Xt, Yoh_ = to_tensors(X, Y_)
        for ax, param_lambda in zip(row, (0.0, 1e-3, 1e-2, 1e-1), strict=True):
            model = PTLogreg(2, C)
            start = time.perf_counter()
            print(f"-- {C} classes, param_lambda={param_lambda}")
            losses = train(model, Xt, Yoh_, args.niter, args.delta, param_lambda, log_every=args.niter // 2)
            name = f"C={C} lambda={param_lambda:g}"
            report(f"{name} ({time.perf_counter() - start:.2f} s)", model, X, Y_)
            plot_decision(model, X, Y_, f"{name}: loss {losses[-1]:.3f}, |W|={model.W.norm():.2f}", ax)
    fig.suptitle(f"PTLogreg, delta {args.delta:g}: decision surfaces as param_lambda grows "
                 "(3 classes: colour = probability of the winning class)")
    data.finish_figure(fig, args.out, args.show)

    # Hyper-parameters that fail (README, "pt_logreg.py"): the last 3-class data set, other steps.
    print(f"-- 3 classes, other learning rates (untrained loss ln 3 = {np.log(3):.4f})")
    for param_delta in (1e-5, args.delta, 1.0, 10.0):
        losses = train(PTLogreg(2, 3), Xt, Yoh_, args.niter, param_delta, log_every=0)
        last = losses[-100:]
        print(f"param_delta={param_delta:<6g} final loss {losses[-1]:.4f}, min {losses.min():.4f}, "
              f"last 100 steps range {last.min():.4f}..{last.max():.4f}")


if __name__ == "__main__":
    main()
