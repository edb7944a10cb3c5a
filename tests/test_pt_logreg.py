import copy
import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

import data
import mnist_shootout
import pt_logreg
from pt_deep import PTDeep
from pt_logreg import PTLogreg, Settings


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
    with pytest.raises(FloatingPointError, match=r"at iteration \d+ .*smaller param_delta"):
        pt_logreg.train(PTLogreg(2, 3), X * 1e30, Yoh_, 50, 1e10, log_every=0)


def test_demo_writes_png_and_measures_the_distance_to_the_optimum(tmp_path, capsys):
    out = tmp_path / "logreg.png"
    pt_logreg.main(["--niter", "50", "--out", str(out)])
    assert out.read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert printed.count("the optimum (scikit-learn's LogisticRegression, same objective)") >= 6
    assert "warning: train: the loss did not settle" in printed  # param_delta 10 is shown failing


@pytest.mark.parametrize("C, param_lambda", [(2, 1e-2), (3, 1e-2)])
def test_reference_fit_is_the_optimum_of_our_objective(C, param_lambda):
    X, Y_ = data.sample_gauss_2d(C, 60, rng=4)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    model = PTLogreg(2, C).double()
    Xt, Yoh_ = pt_logreg.to_tensors(X, Y_, dtype=torch.float64)
    pt_logreg.train(model, Xt, Yoh_, 3000, 1.0, param_lambda, log_every=0)
    reference = pt_logreg.reference_fit(X, Y_, param_lambda)
    assert np.abs(pt_logreg.eval(model, X) - pt_logreg.eval(reference, X)).max() < 1e-4
    assert reference.get_loss(Xt, Yoh_, param_lambda).item() <= model.get_loss(Xt, Yoh_, param_lambda).item() + 1e-9


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


# --- train_mb: the one training loop -------------------------------------------------------------


def small_splits(n=600, seed=0):
    generator = torch.Generator().manual_seed(seed)
    centers = torch.rand(10, 784, generator=generator)
    Y = torch.randint(10, (n,), generator=generator)
    X = (centers[Y] + 0.6 * torch.rand(n, 784, generator=generator)).clamp(0, 1)
    full = pt_logreg.Split(X, Y)
    return full.subset(torch.arange(0, n // 2)), full.subset(torch.arange(n // 2, n))


def test_train_mb_is_reproducible_with_a_seed():
    train, val = small_splits()
    states = []
    for _ in range(2):
        model = PTDeep([784, 20, 10], seed=1)
        pt_logreg.train_mb(model, train, Settings(epochs=3, batch_size=32, seed=5), val=val)
        states.append(model.state_dict())
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key])
    model = PTDeep([784, 20, 10], seed=1)
    pt_logreg.train_mb(model, train, Settings(epochs=3, batch_size=32, seed=6), val=val)
    assert not torch.equal(model.weights[0], states[0]["weights.0"])  # another shuffle, another result


def test_the_labs_train_and_train_mb_go_through_autograd_unless_asked(monkeypatch):
    train, _ = small_splits(100)
    model = PTDeep([784, 10, 10], seed=0)
    monkeypatch.setattr(model, "sgd_step", lambda *args, **kwargs: pytest.fail("sgd_step was taken"))
    pt_logreg.train_mb(model, train, Settings(epochs=1, batch_size=25))
    pt_logreg.train(model, train.X, torch.eye(10)[train.Y], 3, 0.1, log_every=0)
    steps = []
    monkeypatch.setattr(model, "sgd_step", lambda X, *args, **kwargs: steps.append(len(X)) or torch.tensor(1.0))
    pt_logreg.train(model, train.X, torch.eye(10)[train.Y], 3, 0.1, log_every=0, by_hand=True)  # opted in
    assert steps == [len(train)] * 3


@pytest.mark.parametrize("by_hand, optimizer, batchnorm, method", [
    (True, "sgd", False, "sgd_step"), (True, "sgd", True, "sgd_step"), (False, "sgd", False, "get_loss"),
    (True, "adam", False, "get_loss"),  # Adam: the hand-written step does not apply
])
def test_train_mb_takes_one_step_per_mini_batch_and_reshuffles(monkeypatch, by_hand, optimizer, batchnorm, method):
    train, _ = small_splits(200)
    model = PTDeep([784, 10, 10], batchnorm=batchnorm, seed=0)
    seen = []
    original = getattr(model, method)

    def spy(X, *args, **kwargs):
        seen.append(X.shape[0])
        return original(X, *args, **kwargs)

    monkeypatch.setattr(model, method, spy)
    orders = []
    real_randperm = torch.randperm
    monkeypatch.setattr(torch, "randperm", lambda *a, **k: orders.append(real_randperm(*a, **k)) or orders[-1])
    pt_logreg.train_mb(model, train, Settings(epochs=2, batch_size=30, optimizer=optimizer, by_hand=by_hand))
    assert seen == [30, 30, 30, 10] * 2  # ceil(100 / 30) steps per epoch, the last one smaller
    assert len(orders) == 2 and not torch.equal(orders[0], orders[1])


@pytest.mark.filterwarnings("ignore:train. the loss did not settle")  # a full batch at lr 0.2: the point is equality
@pytest.mark.parametrize("batch_size, batchnorm", [(7, False), (100, False), (7, True)])
def test_train_mb_by_hand_reaches_the_parameters_of_the_autograd_path(batch_size, batchnorm):
    train, val = small_splits(200)
    train = pt_logreg.Split(train.X.double(), train.Y)
    models = {}
    for by_hand in (True, False):
        model = PTDeep([784, 20, 20, 10], batchnorm=batchnorm, seed=3).double()
        pt_logreg.train_mb(model, train, Settings(epochs=3, batch_size=batch_size, lr=0.2, param_lambda=1e-3,
                                                  lr_gamma=0.8, seed=4, by_hand=by_hand))
        models[by_hand] = model
    for (name, p), q in zip(models[True].state_dict().items(), models[False].state_dict().values(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-10, msg=name)
    assert not torch.equal(models[True].weights[0], PTDeep([784, 20, 20, 10], seed=3).weights[0].double())


def test_early_stopping_restores_a_copy_of_the_best_epoch():
    train, val = small_splits(300)
    model = PTDeep([784, 50, 10], seed=0)
    settings = Settings(epochs=25, batch_size=10, lr=0.5, early_stopping=True, seed=0)
    history = pt_logreg.train_mb(model, train, settings, val=val)
    assert history.best_epoch < 25  # validation loss rose again, so the last epoch is not the best
    assert history.val_loss[history.best_epoch - 1] == min(history.val_loss)
    assert pt_logreg.evaluate(model, val)[0] == pytest.approx(min(history.val_loss), rel=1e-6)


def test_exponential_lr_steps_once_per_epoch():
    train, _ = small_splits(100)
    settings = Settings(epochs=4, batch_size=10, optimizer="adam", lr=1e-3, lr_gamma=0.5)
    history = pt_logreg.train_mb(PTDeep([784, 10]), train, settings)
    assert history.lr == pytest.approx([1e-3, 5e-4, 2.5e-4, 1.25e-4])


def test_train_mb_does_not_use_a_dataloader():
    for module in (pt_logreg, mnist_shootout):
        assert "DataLoader" not in Path(module.__file__).read_text()


def test_divergence_stops_with_a_message():
    train, _ = small_splits(100)
    with pytest.raises(FloatingPointError, match="epoch 1 .*training diverged; try a smaller lr"):
        pt_logreg.train_mb(PTDeep([784, 10]), pt_logreg.Split(train.X * 1e30, train.Y),
                           Settings(epochs=2, batch_size=10, lr=1e10))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_train_mb_on_cuda_matches_the_cpu():
    train, _ = small_splits(300)
    models = {}
    for device in ("cpu", "cuda"):
        model = PTDeep([784, 30, 10], seed=2).double().to(device)
        split = pt_logreg.Split(train.X.double().to(device), train.Y.to(device))
        pt_logreg.train_mb(model, split, Settings(epochs=2, batch_size=16, lr=0.1, param_lambda=1e-4, seed=1))
        models[device] = model
    for p, q in zip(models["cpu"].parameters(), models["cuda"].parameters(), strict=True):
        torch.testing.assert_close(p, q.cpu(), rtol=0, atol=1e-9)


def test_train_is_the_one_batch_case_of_train_mb(monkeypatch):
    X, Yoh_ = pt_logreg.to_tensors(*data.sample_gauss_2d(3, 20, rng=0))
    calls = []
    real = pt_logreg.train_mb
    monkeypatch.setattr(pt_logreg, "train_mb", lambda *a, **k: calls.append(a[2]) or real(*a, **k))
    losses = pt_logreg.train(PTLogreg(2, 3), X, Yoh_, 30, 0.01, log_every=0)
    assert calls == [Settings(epochs=30, batch_size=60, lr=0.01)] and len(losses) == 30
    monkeypatch.undo()
    history = pt_logreg.train_mb(PTLogreg(2, 3), pt_logreg.Split(X, Yoh_.argmax(dim=1)),
                                 Settings(epochs=30, batch_size=60, lr=0.01))
    np.testing.assert_array_equal(losses, history.train_loss)


def test_a_runaway_loss_stops_training_even_while_finite():
    train, _ = small_splits(200)
    with pytest.raises(FloatingPointError, match=r"training diverged; try a smaller lr \(was 1e\+06\)"):
        pt_logreg.train_mb(PTDeep([784, 10, 10], seed=0), train, Settings(epochs=3, batch_size=20, lr=1e6))
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=3)
    with pytest.raises(FloatingPointError, match=r"at iteration \d+ .*smaller param_delta \(was 1e\+06\)"):
        pt_logreg.train(PTDeep([2, 10, 10, 2], seed=0), *pt_logreg.to_tensors(X, Y_), 300, 1e6, log_every=0)


@pytest.mark.parametrize("param_niter, param_delta", [(1000, 0.5), (1000, 10.0), (10, 10.0)])
def test_a_loss_that_does_not_settle_warns(param_niter, param_delta):
    X, Y_ = data.sample_gauss_2d(3, 100, rng=0)  # coordinates in [0, 10]: stable steps are below about 0.05
    with pytest.warns(RuntimeWarning, match=rf"did not settle .* smaller param_delta \(was {param_delta:g}\)"):
        pt_logreg.train(PTLogreg(2, 3), *pt_logreg.to_tensors(X, Y_), param_niter, param_delta, log_every=0)


def test_a_run_that_settles_does_not_warn(recwarn):
    X, Y_ = data.sample_gauss_2d(3, 100, rng=0)
    pt_logreg.train(PTLogreg(2, 3), *pt_logreg.to_tensors(X, Y_), 1000, 0.02, log_every=0)
    train, val = small_splits()
    pt_logreg.train_mb(PTDeep([784, 20, 10], seed=1), train, Settings(epochs=20, batch_size=10), val=val)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("kwargs, argument", [
    ({"lr": 0}, "lr"), ({"lr": -0.1}, "lr"), ({"param_lambda": -1e-3}, "param_lambda"),
    ({"lr_gamma": 0}, "lr_gamma"), ({"lr_gamma": -0.5}, "lr_gamma"), ({"log_every": -1}, "log_every"),
    ({"seed": -1}, "seed"), ({"epochs": 1.5}, "epochs"), ({"optimizer": "SGD"}, "optimizer"),
    ({"by_hand": "no"}, "by_hand"), ({"early_stopping": 1}, "early_stopping"),
])
def test_train_mb_checks_every_training_argument(kwargs, argument):
    train, _ = small_splits(100)
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        settings = {k: v for k, v in kwargs.items() if k != "log_every"}
        pt_logreg.train_mb(PTDeep([784, 10]), train, Settings(**{"epochs": 1, "batch_size": 10, **settings}),
                           log_every=kwargs.get("log_every", 0))


def test_settings_hold_plain_numbers_whatever_they_were_given():
    settings = Settings(epochs=np.int64(2), batch_size=np.int32(10), lr=np.float32(0.5), seed=np.uint8(3))
    assert json.loads(json.dumps(dataclasses.asdict(settings)))["lr"] == 0.5  # NumPy scalars would not go to JSON
    assert type(settings.epochs) is int and type(settings.lr) is float and settings == Settings(
        epochs=2, batch_size=10, lr=0.5, seed=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.lr = 1.0  # a run's settings are its identity: they do not change


@pytest.mark.parametrize("change, argument, message", [
    (lambda s: pt_logreg.Split(s.X, s.Y + 5), "train.Y", r"must lie in 0..9, got range \d+..14"),
    (lambda s: pt_logreg.Split(s.X[:, :100], s.Y), "train.X", r"\(N, 784\)"),
    (lambda s: pt_logreg.Split(s.X.double(), s.Y), "train.X", "expected torch.float32 on cpu"),
    (lambda s: pt_logreg.Split(s.X, torch.full_like(s.Y, 3)), "train.Y", "at least two classes"),
])
def test_train_mb_checks_the_data_before_training(change, argument, message):
    train, _ = small_splits(100)
    model = PTDeep([784, 10], seed=0)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match=rf"^{argument}: .*{message}"):
        pt_logreg.train_mb(model, change(train), Settings(epochs=1, batch_size=10))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # nothing trained


@pytest.mark.parametrize("make, argument, message", [
    (lambda s: pt_logreg.Split(s.X, s.Y.int()), "Split.Y", "int64"),
    (lambda s: pt_logreg.Split(s.X, s.Y[:-1]), "Split.Y", "expected 50 class indices"),
    (lambda s: pt_logreg.Split(s.X * np.nan, s.Y), "Split.X", "NaN"),
    (lambda s: pt_logreg.Split(s.X.long(), s.Y), "Split.X", "floating"),
    (lambda s: pt_logreg.Split(s.X, s.Y - 1), "Split.Y", "non-negative"),
    (lambda s: pt_logreg.Split.from_numpy(np.zeros((4, 28, 28)), [0.5, 1.7, 2, 3]), "labels", "integer"),
    (lambda s: pt_logreg.Split.from_numpy(np.zeros((4, 28, 28)), [0, 1, 2]), "labels", "expected 4 labels"),
    (lambda s: pt_logreg.Split.from_numpy([[1, 2]] * 3, [[0, 1]] * 3), "labels", "1-D"),
    (lambda s: pt_logreg.Split.from_numpy(np.zeros((4, 0), dtype=np.uint8), [0, 1, 2, 3]), "images", "one pixel"),
    (lambda s: pt_logreg.Split(s.X[:, :0], s.Y), "Split.X", r"D >= 1"),
    (lambda s: pt_logreg.Split(s.X.to("meta"), s.Y), "Split.X", "'meta' device, which holds .* no data"),
    (lambda s: pt_logreg.Split.from_numpy(torch.zeros(4, 28, 28, device="meta"), [0, 1, 2, 3]), "images", "'meta'"),
])
def test_a_split_is_checked_when_it_is_made(make, argument, message):
    train, _ = small_splits(100)
    with pytest.raises(ValueError, match=rf"^{argument}: .*{message}"):
        make(train)


def test_training_looks_at_the_values_of_a_split_once_not_per_call(monkeypatch):
    train, val = small_splits(100)
    looked = []
    real_isfinite = torch.isfinite
    monkeypatch.setattr(torch, "isfinite", lambda X: looked.append(X.shape) or real_isfinite(X))
    for _ in range(3):
        pt_logreg.train_mb(PTDeep([784, 10], seed=0), train, Settings(epochs=1, batch_size=50), val=val)
    assert looked == []  # the Splits were checked when small_splits made them


@pytest.mark.parametrize("call, argument", [
    (lambda t: pt_logreg.train_mb(PTDeep([784, 10]), t, Settings(epochs=1, batch_size=0)), "batch_size"),
    (lambda t: pt_logreg.train_mb(PTDeep([784, 10]), t, Settings(epochs=1, batch_size=10_000)), "batch_size"),
    (lambda t: pt_logreg.train_mb(PTDeep([784, 10]), t, Settings(epochs=0, batch_size=10)), "epochs"),
    (lambda t: pt_logreg.train_mb(PTDeep([784, 10]), t, Settings(optimizer="rmsprop")), "optimizer"),
    (lambda t: pt_logreg.train_mb(PTDeep([784, 10]), t, Settings(batch_size=10, early_stopping=True)), "val"),
    (lambda t: pt_logreg.train_mb(PTDeep([784, 10]), t, {"epochs": 1}), "settings"),
])
def test_train_mb_bad_arguments_name_the_argument(call, argument):
    train, _ = small_splits(100)
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        call(train)


@pytest.mark.filterwarnings("ignore:train. the loss did not settle")  # 2 epochs of noise: the point is the sizes
def test_a_last_batch_of_one_row_is_folded_into_the_one_before():
    train = pt_logreg.Split(torch.rand(7, 784), torch.arange(7) % 2)
    sizes = [len(Y) for _, Y in pt_logreg.mini_batches(train, 3, torch.Generator().manual_seed(0))]
    assert sizes == [3, 4]
    model = PTDeep([784, 5, 10], batchnorm=True, seed=0)  # batch norm cannot normalize one row
    assert len(pt_logreg.train_mb(model, train, Settings(epochs=2, batch_size=3, lr=0.01)).train_loss) == 2


def test_images_outside_0_to_255_are_refused_not_scaled_to_negative_pixels():
    with pytest.raises(ValueError, match=r"^images: expected pixels 0..255, got values from -56 to 0 \(int8\)"):
        pt_logreg.Split.from_numpy(np.array([[0, 200]], dtype=np.uint8).astype(np.int8), [0])


@pytest.mark.parametrize("call, argument", [
    (lambda: pt_logreg.evaluate(PTLogreg(2, 3), torch.zeros(4, 2)), "split"),  # evaluate takes a Split
    (lambda: list(pt_logreg.mini_batches(pt_logreg.Split(torch.zeros(4, 2), torch.zeros(4, dtype=torch.int64)), 0,
                                         None)), "batch_size"),
    (lambda: pt_logreg.plot_histories({}, "none"), "histories"),
    (lambda: pt_logreg.reference_fit(np.zeros((4, 2)), np.array([0, 1, 2, 0]), -1), "param_lambda"),
])
def test_raw_errors_are_named(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}: "):
        call()


def test_report_takes_labels_as_a_list():
    X, Y_ = data.sample_gauss_2d(2, 10, rng=0)
    pt_logreg.report("model", PTLogreg(2, 2), X, Y_.tolist())  # a list, as a student's labels may be


# --- the forward pass and the loss, called directly: what torch would refuse raw is named ---------


MODELS = {"PTLogreg": lambda: PTLogreg(2, 3), "PTDeep": lambda: PTDeep([2, 5, 3], seed=0)}


@pytest.mark.parametrize("method", ["forward", "logits", "get_loss"])
@pytest.mark.parametrize("X, message", [
    (np.zeros((4, 2), dtype=np.float32), r"^X: expected a torch.Tensor \(N, 2\), got ndarray \(eval\(model, X\) takes"),
    (torch.zeros(4, 2, dtype=torch.float64), r"^X: expected torch.float32 on cpu .*got torch.float64 on cpu; "
                                             r"convert with X.to\(torch.float32\)"),
    (torch.zeros(4, 2, dtype=torch.bfloat16), r"^X: expected torch.float32 on cpu .*got torch.bfloat16"),
    (torch.zeros(4, 3), r"^X: expected \(N, 2\) inputs \(the model's input size\), got shape \(4, 3\)"),
    (torch.zeros(2), r"^X: expected \(N, 2\) inputs .*got shape \(2,\)"),
    (torch.zeros(4, 2, device="meta"), r"^X: expected a tensor on cpu .*got one on meta; move it with X.to\('cpu'\)"),
], ids=["numpy", "float64", "bfloat16", "width", "1-D", "another device"])
@pytest.mark.parametrize("model", MODELS)
def test_inputs_the_forward_pass_cannot_take_are_named(model, X, message, method):
    model = MODELS[model]()
    args = (X, torch.tensor([0, 1, 2, 0])) if method == "get_loss" else (X,)
    with pytest.raises(ValueError, match=message):
        getattr(model, method)(*args)


@pytest.mark.parametrize("model", MODELS)
def test_get_loss_after_the_default_dtype_changed_names_x(model):
    """torch.set_default_dtype(torch.float64) after the model was made (or before, with float32 data):
    train converts the data to the model's dtype; get_loss, which takes tensors as they are, names X."""
    older = MODELS[model]()
    torch.set_default_dtype(torch.float64)
    try:
        newer, X64 = MODELS[model](), torch.zeros(4, 2)
    finally:
        torch.set_default_dtype(torch.float32)
    Y = torch.tensor([0, 1, 2, 0])
    with pytest.raises(ValueError, match=r"^X: expected torch.float32 on cpu .* got torch.float64"):
        older.get_loss(X64, Y)
    with pytest.raises(ValueError, match=r"^X: expected torch.float64 on cpu .* got torch.float32"):
        newer.get_loss(X64.float(), Y)
    assert np.isfinite(pt_logreg.train(newer, X64.float(), torch.eye(3)[Y], 3, 0.1, log_every=0)).all()


@pytest.mark.parametrize("model", MODELS)
def test_class_indices_of_any_integer_dtype_and_a_boolean_one_hot_give_the_same_loss(model):
    model, Y = MODELS[model](), torch.tensor([0, 1, 2, 0, 1, 2])
    X = torch.randn(6, 2, generator=torch.Generator().manual_seed(0))
    expected = model.get_loss(X, Y, 0.1)
    for labels in (Y.int(), Y.short(), Y.to(torch.uint8), torch.eye(3)[Y].bool(), torch.eye(3, dtype=torch.int64)[Y]):
        torch.testing.assert_close(model.get_loss(X, labels, 0.1), expected)


@pytest.mark.parametrize("labels, message", [
    (torch.tensor([0, 1, 5, 0]), r"^Yoh_: class indices must lie in 0..2 \(the model's classes\), got 0..5"),
    (torch.tensor([0, -1, 2, 0]), r"^Yoh_: class indices must lie in 0..2 \(the model's classes\), got -1..2"),
    (torch.tensor([0.0, 1.0, 2.0, 0.0]), r"^Yoh_: class indices must be integers, got torch.float32"),
    ([0, 1, 2, 0], r"^Yoh_: expected a torch.Tensor \(a one-hot matrix or class indices\), got list"),
], ids=["5 of 3", "-1", "float", "list"])
@pytest.mark.parametrize("model", MODELS)
def test_labels_the_loss_cannot_take_are_named(model, labels, message):
    with pytest.raises(ValueError, match=message):
        MODELS[model]().get_loss(torch.zeros(4, 2), labels)


def test_train_takes_a_boolean_one_hot_as_it_takes_a_float_one():
    Xt, Yoh_ = pt_logreg.to_tensors(*three_classes())
    float_run, bool_run = (pt_logreg.train(PTLogreg(2, 3), Xt, labels, 50, 0.5, log_every=0)
                           for labels in (Yoh_, Yoh_.bool()))
    np.testing.assert_array_equal(float_run, bool_run)


@pytest.mark.parametrize("function", [pt_logreg.evaluate, pt_logreg.metrics])
@pytest.mark.parametrize("X, Y, message", [
    (torch.zeros(4, 2, dtype=torch.float64), [0, 1, 2, 0], r"^split.X: expected torch.float32 on cpu .*float64"),
    (torch.zeros(4, 3), [0, 1, 2, 0], r"^split.X: expected \(N, 2\) inputs"),
    (torch.zeros(4, 2), [0, 1, 12, 0], r"^split.Y: class indices must lie in 0..2, got range 0..12"),
], ids=["float64", "width", "label 12"])
def test_evaluate_and_metrics_name_a_split_that_does_not_fit_the_model(function, X, Y, message):
    with pytest.raises(ValueError, match=message):
        function(PTLogreg(2, 3), pt_logreg.Split(X, torch.tensor(Y)))


@pytest.mark.parametrize("call, message", [
    (lambda X, Yoh_: pt_logreg.train(PTDeep([2, 5, 3], seed=0), X, Yoh_, 5, 1e308, log_every=0),
     r"^param_delta: 1e\+308 overflows the model's torch.float32 \(largest 3.403e\+38\)"),
    (lambda X, Yoh_: pt_logreg.train(PTDeep([2, 5, 3], seed=0), X, Yoh_, 5, 0.1, 1e308, log_every=0),
     r"^param_lambda: 1e\+308 overflows the model's torch.float32"),
    (lambda X, Yoh_: pt_logreg.train_mb(PTLogreg(2, 3), pt_logreg.Split(X, Yoh_.argmax(dim=1)), Settings(lr=1e39)),
     r"^lr: 1e\+39 overflows the model's torch.float32"),
], ids=["param_delta", "param_lambda", "lr"])
def test_a_rate_or_weight_beyond_the_models_numbers_is_named_before_training(call, message):
    with pytest.raises(ValueError, match=message):
        call(*pt_logreg.to_tensors(*three_classes()))


def test_an_untrained_loss_that_overflows_is_not_blamed_on_the_step():
    Xt, Yoh_ = pt_logreg.to_tensors(*three_classes())  # 3e38 fits a float32; 3e38 ||W||^2 does not
    with pytest.raises(FloatingPointError, match=r"^train: the untrained loss is inf, before any step \(so not "
                                                 r"param_delta's fault\): the inputs or the regularization weight"):
        pt_logreg.train(PTDeep([2, 5, 3], seed=0), Xt, Yoh_, 5, 0.1, 3e38, log_every=0)


ON_META = "a tensor on torch's 'meta' device, which holds a shape and dtype but no data"


@pytest.mark.parametrize("call, argument, message", [
    (lambda m, s: pt_logreg.train_mb(None, s), "model", "expected a model with parameters .*got None"),
    (lambda m, s: pt_logreg.train_mb(torch.nn.ReLU(), s), "model", "expected a model with parameters"),
    (lambda m, s: pt_logreg.evaluate(m, s, chunk=0), "chunk", "expected a whole number >= 1, got 0"),
    (lambda m, s: pt_logreg.evaluate(None, s), "model", "expected a model"),
    (lambda m, s: pt_logreg.train(m, s.X.to("meta"), torch.eye(10)[s.Y].to("meta"), 10, 0.1), "X", ON_META),
    (lambda m, s: pt_logreg.eval(m, s.X.to("meta")), "X", ON_META),
], ids=["train_mb(None)", "train_mb(ReLU)", "chunk=0", "evaluate(None)", "train on meta", "eval on meta"])
def test_the_training_loop_names_what_it_cannot_take(call, argument, message):
    train, _ = small_splits(100)
    with pytest.raises(ValueError, match=rf"^{argument}: {message}"):
        call(PTDeep([784, 10], seed=0), train)
