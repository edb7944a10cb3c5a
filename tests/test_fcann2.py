import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
import torch

import data
import fcann2


def rel_error(x, y):
    return np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))


def small_problem(seed=0, N=5, D=3, C=4, H=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D))
    Yoh_ = data.class_to_onehot(rng.integers(C, size=N), C)
    params = fcann2.fcann2_init(X, C, H, rng)
    params = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in params.items()}  # biases non-zero too
    return X, Yoh_, params


def numeric_gradient(f, x, h=1e-5):
    """Centered differences of scalar f() with respect to every entry of x (changed in place)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f()
        x[i] = old - h
        minus = f()
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


@pytest.mark.parametrize("param_lambda", [0.0, 1e-2])
@pytest.mark.parametrize("seed", [0, 1])
def test_gradients_match_finite_differences(param_lambda, seed):
    X, Yoh_, params = small_problem(seed)
    grads = fcann2.fcann2_gradients(X, Yoh_, params, param_lambda)
    for name in fcann2.PARAM_NAMES:
        numeric = numeric_gradient(lambda: fcann2.fcann2_loss(X, Yoh_, params, param_lambda), params[name])
        assert rel_error(grads[name], numeric) < 1e-6, name


@pytest.mark.parametrize("param_lambda", [0.0, 1e-2])
def test_gradients_match_torch_autograd(param_lambda):
    X, Yoh_, params = small_problem(2, N=20, D=2, C=3, H=5)
    grads = fcann2.fcann2_gradients(X, Yoh_, params, param_lambda)
    t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in params.items()}
    logits = torch.relu(torch.tensor(X) @ t["W1"].T + t["b1"]) @ t["W2"].T + t["b2"]
    nll = -(torch.tensor(Yoh_) * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    loss = nll + param_lambda * (t["W1"].pow(2).sum() + t["W2"].pow(2).sum())
    loss.backward()
    assert fcann2.fcann2_loss(X, Yoh_, params, param_lambda) == pytest.approx(loss.item(), rel=1e-12)
    for name in fcann2.PARAM_NAMES:
        assert rel_error(grads[name], t[name].grad.numpy()) < 1e-10, name


def test_loss_is_stable_for_huge_scores():
    X, Yoh_, params = small_problem(3)
    params["W2"] *= 1e4
    assert np.isfinite(fcann2.fcann2_loss(X, Yoh_, params))
    P = fcann2.fcann2_classify(X, *params.values())
    assert np.all(np.isfinite(P)) and np.allclose(P.sum(axis=1), 1)


def demo_accuracy(seed):
    """The lab's setting: sample_gmm_2d(6, 2, 10), 1e5 steps, delta 0.05, lambda 1e-3, hidden 5."""
    rng = np.random.default_rng(seed)
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=rng)
    W1, b1, W2, b2 = fcann2.fcann2_train(X, Y_, 100_000, 0.05, 1e-3, hidden=5, rng=rng, log_every=0)
    return np.mean(fcann2.fcann2_classify(X, W1, b1, W2, b2).argmax(axis=1) == Y_)


def test_demo_data_trains_to_095_for_most_seeds():
    with ProcessPoolExecutor(2, multiprocessing.get_context("spawn")) as pool:  # ten runs of 3 s, on two cores
        accuracies = list(pool.map(demo_accuracy, range(10)))
    assert sum(accuracy >= 0.95 for accuracy in accuracies) >= 8


def test_training_is_reproducible():
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=5)
    p1 = fcann2.fcann2_train(X, Y_, 200, rng=9, log_every=0)
    p2 = fcann2.fcann2_train(X, Y_, 200, rng=9, log_every=0)
    assert len(p1) == 4
    for a, b in zip(p1, p2, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the overflow is the point
def test_divergence_stops_with_a_message():
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=5)
    with pytest.raises(FloatingPointError, match="param_delta"):
        fcann2.fcann2_train(X * 1e3, Y_, 100, param_delta=1e3, rng=0, log_every=0)


def test_a_runaway_loss_stops_before_it_overflows():
    # The case: a step far too large for the raw 0..10 coordinates; stopped while still finite.
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=3)
    with pytest.raises(FloatingPointError, match=r"^fcann2_train: loss became .* at iteration \d+ .*param_delta"):
        fcann2.fcann2_train(X, Y_, 2000, param_delta=30, rng=1, log_every=0)


def test_the_loss_is_watched_as_in_every_loop(monkeypatch):
    watched = []
    monkeypatch.setattr(data, "check_settled", lambda losses, *args: watched.append((len(losses), args)))
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=3)
    fcann2.fcann2_train(X, Y_, 1000, rng=0, log_every=0)
    assert watched == [(101, ("fcann2_train", "param_delta", 0.05))]  # the untrained loss and 100 more


def test_classify_takes_lists_as_the_lab_0_programs_hold_them():
    params = fcann2.fcann2_train(X_OK, Y_OK, 10, rng=0, log_every=0)
    np.testing.assert_array_equal(fcann2.fcann2_classify(X_OK.tolist(), *(p.tolist() for p in params)),
                                  fcann2.fcann2_classify(X_OK, *params))


def test_demo_prints_metrics_and_writes_png(tmp_path, capsys):
    out = tmp_path / "fcann2.png"
    fcann2.main(["--niter", "2000", "--out", str(out)])
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "AP" in printed and printed.count("loss") == 10
    assert out.read_bytes()[:4] == b"\x89PNG"


X_OK, Y_OK = data.sample_gmm_2d(4, 2, 5, rng=1)  # both classes present


@pytest.mark.parametrize("call, argument", [
    (lambda: fcann2.fcann2_train(X_OK[:, 0], Y_OK, 10), "X"),
    (lambda: fcann2.fcann2_train(X_OK, Y_OK[:-1], 10), "Y_"),
    (lambda: fcann2.fcann2_train(np.where(X_OK > 5, np.inf, X_OK), Y_OK, 10), "X"),
    (lambda: fcann2.fcann2_train(X_OK, Y_OK - 1, 10), "Y_"),
    (lambda: fcann2.fcann2_train(X_OK, Y_OK, 0), "param_niter"),
    (lambda: fcann2.fcann2_train(X_OK, Y_OK, 10, hidden=0), "hidden"),
    (lambda: fcann2.fcann2_train(X_OK, Y_OK, 10, param_delta=-1), "param_delta"),
    (lambda: fcann2.fcann2_classify(np.ones((3, 5)), *fcann2.fcann2_init(X_OK, 2, 3, 0).values()), "X"),
    (lambda: fcann2.fcann2_train(X_OK[:, :0], Y_OK, 10), "X"),  # D = 0
    (lambda: fcann2.fcann2_train(X_OK, np.zeros_like(Y_OK), 10), "Y_"),  # a single class
    (lambda: fcann2.fcann2_train(X_OK, Y_OK, 10, log_every=-1), "log_every"),
    (lambda: fcann2.fcann2_classify(X_OK, *list(fcann2.fcann2_init(X_OK, 2, 3, 0).values())[::-1]), "W1, b1, W2, b2"),
    (lambda: fcann2.fcann2_train(X_OK, np.array([0, 1, 2**64 - 1] * 6 + [0, 1], dtype=np.uint64), 10), "Y_"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        call()


def test_the_demos_default_data_needs_a_hidden_layer():
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)  # the demo's default seed
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=rng)
    assert LogisticRegression(C=1e4, max_iter=10_000).fit(X, Y_).score(X, Y_) < 0.7  # no line separates it
    W1, b1, W2, b2 = fcann2.fcann2_train(X, Y_, 100_000, 0.05, 1e-3, hidden=5, rng=rng, log_every=0)
    assert np.mean(fcann2.fcann2_classify(X, W1, b1, W2, b2).argmax(axis=1) == Y_) == 1.0


def test_fcann2_init_takes_a_list_and_fcann2_loss_names_a_one_hot_of_the_wrong_width():
    params = fcann2.fcann2_init([[0.0, 1.0], [1.0, 0.0]], 2, rng=0)
    assert params["W1"].shape == (5, 2)
    with pytest.raises(ValueError, match=r"^Yoh_: expected a one-hot matrix of shape \(2, 2\)"):
        fcann2.fcann2_loss(np.eye(2), np.eye(3)[:2], params)
