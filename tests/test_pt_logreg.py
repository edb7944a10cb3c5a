import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import data
import pt_logreg
from pt_logreg import PTLogreg


def three_classes(seed=0, N=60):
    X, Y_ = data.sample_gauss_2d(3, N, rng=seed)
    return (X - X.mean(axis=0)) / X.std(axis=0), Y_  # standardized: plain SGD converges quickly


def test_matches_sklearn_logistic_regression_on_the_same_objective():
    X, Y_ = three_classes()
    param_lambda = 1e-2
    model = PTLogreg(2, 3).double()
    Xt, Yoh_ = pt_logreg.to_tensors(X, Y_, dtype=torch.float64)
    losses = pt_logreg.train(model, Xt, Yoh_, 4000, 0.5, param_lambda, log_every=0)
    assert losses[-1] < losses[0]
    # sklearn minimizes 1/2 ||W||^2 + C sum_i nll_i; ours times 1/(2 lambda) gives C = 1/(2 N lambda).
    reference = LogisticRegression(C=1 / (2 * len(X) * param_lambda), tol=1e-10, max_iter=10_000).fit(X, Y_)
    probs = pt_logreg.eval(model, X)
    assert np.max(np.abs(probs - reference.predict_proba(X))) <= 1e-3
    # And not by accident: without the penalty the optimum is a different one.
    unregularized = LogisticRegression(C=1e6, tol=1e-10, max_iter=10_000).fit(X, Y_)
    assert np.max(np.abs(probs - unregularized.predict_proba(X))) > 1e-2


def test_untrained_loss_is_ln_C_and_training_lowers_it(capsys):
    X, Y_ = three_classes(1)
    model = PTLogreg(2, 3)
    Xt, Yoh_ = pt_logreg.to_tensors(X, Y_)
    losses = pt_logreg.train(model, Xt, Yoh_, 200, 0.5)
    assert losses[0] == pytest.approx(np.log(3), abs=1e-6)
    assert losses[-1] < 0.5 * losses[0]
    assert capsys.readouterr().out.count("loss") == 10


def test_loss_uses_log_softmax_and_survives_huge_scores():
    model = PTLogreg(2, 2)
    with torch.no_grad():
        model.W.copy_(torch.tensor([[1e4, -1e4], [0.0, 0.0]]))
    X = torch.tensor([[1.0, 0.0]])
    wrong = torch.tensor([[0.0, 1.0]])  # the model is certain of class 0: log of a softmax would give inf
    loss = model.get_loss(X, wrong)
    assert torch.isfinite(loss) and loss.item() == pytest.approx(2e4)


def test_regularization_adds_lambda_times_squared_norm():
    model = PTLogreg(2, 3)
    with torch.no_grad():
        model.W.fill_(0.5)
    X, Yoh_ = pt_logreg.to_tensors(*three_classes(2, 5))
    diff = model.get_loss(X, Yoh_, 0.1) - model.get_loss(X, Yoh_, 0.0)
    assert diff.item() == pytest.approx(0.1 * 6 * 0.25)


def test_eval_takes_and_returns_numpy_and_restores_mode():
    model = PTLogreg(2, 3)
    model.train()
    probs = pt_logreg.eval(model, np.ones((4, 2)))
    assert isinstance(probs, np.ndarray) and probs.shape == (4, 3)
    np.testing.assert_allclose(probs, 1 / 3)
    assert model.training


def test_follows_the_model_dtype():
    model = PTLogreg(2, 2).double()
    X, Yoh_ = pt_logreg.to_tensors(*data.sample_gauss_2d(2, 10, rng=0))  # float32 in
    pt_logreg.train(model, X, Yoh_, 5, 0.01, log_every=0)
    assert pt_logreg.eval(model, X.numpy()).dtype == np.float64


def test_divergence_names_the_iteration():
    X, Yoh_ = pt_logreg.to_tensors(*data.sample_gauss_2d(3, 20, rng=0))
    with pytest.raises(FloatingPointError, match=r"at iteration \d+.*smaller param_delta"):
        pt_logreg.train(PTLogreg(2, 3), X * 1e30, Yoh_, 50, 1e10, log_every=0)


def test_demo_writes_png(tmp_path):
    out = tmp_path / "logreg.png"
    pt_logreg.main(["--niter", "50", "--out", str(out)])
    assert out.read_bytes()[:4] == b"\x89PNG"


X_OK, Y_OK = pt_logreg.to_tensors(*data.sample_gauss_2d(3, 5, rng=0))


@pytest.mark.parametrize("call, argument", [
    (lambda: pt_logreg.train(PTLogreg(3, 3), X_OK, Y_OK, 10, 0.1), "X"),
    (lambda: pt_logreg.train(PTLogreg(2, 3), X_OK, Y_OK[:-1], 10, 0.1), "Yoh_"),
    (lambda: pt_logreg.train(PTLogreg(2, 4), X_OK, Y_OK, 10, 0.1), "Yoh_"),
    (lambda: pt_logreg.train(PTLogreg(2, 3), X_OK * np.nan, Y_OK, 10, 0.1), "X"),
    (lambda: pt_logreg.train(PTLogreg(2, 3), X_OK, Y_OK, 0, 0.1), "param_niter"),
    (lambda: pt_logreg.train(PTLogreg(2, 3), X_OK, Y_OK, 10, -0.1), "param_delta"),
    (lambda: pt_logreg.train(PTLogreg(2, 3), X_OK, Y_OK, 10, 0.1, -1), "param_lambda"),
    (lambda: pt_logreg.to_tensors(np.ones((3, 2)), [0, 1, 3], C=3), "Y_"),
    (lambda: pt_logreg.eval(PTLogreg(2, 3), np.ones((3, 4))), "X"),
    (lambda: PTLogreg(0, 3), "D"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        call()
