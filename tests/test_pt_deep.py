import re

import numpy as np
import pytest
import torch
import torch.nn as nn

import data
import pt_deep
import pt_logreg
from pt_deep import PTDeep


@pytest.mark.parametrize("config, total", [([2, 3], 9), ([2, 5, 3], 33), ([784, 100, 10], 79510)])
def test_count_params(config, total, capsys):
    assert PTDeep(config).count_params() == total
    printed = capsys.readouterr().out
    assert "weights.0" in printed and "biases.0" in printed and f"{total}" in printed
    if config == [784, 100, 10]:
        assert "(784, 100)" in printed and "(100, 10)" in printed


def test_parameters_are_parameter_lists_without_linear_layers():
    model = PTDeep([2, 5, 5, 3])
    assert isinstance(model.weights, nn.ParameterList) and isinstance(model.biases, nn.ParameterList)
    assert [tuple(W.shape) for W in model.weights] == [(2, 5), (5, 5), (5, 3)]
    assert not any(isinstance(m, (nn.Linear, nn.Sequential)) for m in model.modules())


def test_logistic_regression_config_equals_ptlogreg():
    X, Y_ = data.sample_gauss_2d(3, 30, rng=0)
    logreg = pt_logreg.PTLogreg(2, 3)
    pt_logreg.train(logreg, *pt_logreg.to_tensors(X, Y_), 300, 0.05, 1e-3, log_every=0)
    deep = PTDeep([2, 3])
    with torch.no_grad():
        deep.weights[0].copy_(logreg.W)
        deep.biases[0].copy_(logreg.b)
    np.testing.assert_array_equal(pt_logreg.eval(deep, X), pt_logreg.eval(logreg, X))
    Xt, Yoh_ = pt_logreg.to_tensors(X, Y_)
    assert deep.get_loss(Xt, Yoh_, 1e-3).item() == logreg.get_loss(Xt, Yoh_, 1e-3).item()


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_each_activation_learns_a_nonlinear_problem(activation):
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=3)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    model = PTDeep([2, 10, 10, 2], activation, seed=0)
    # Sigmoid units started small (PTDeep's init) sit on a plateau for a few thousand steps before they
    # separate the classes: they get the lab's reference 1e4 steps, ReLU and tanh need 3000.
    niter = 10_000 if activation == "sigmoid" else 3000
    losses = pt_logreg.train(model, *pt_logreg.to_tensors(X, Y_), niter, 0.3, log_every=0)
    assert losses[-1] < 0.5 * losses[0]
    assert np.mean(pt_logreg.eval(model, X).argmax(axis=1) == Y_) >= 0.9


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_untrained_loss_is_about_ln_C_on_pixel_like_inputs(activation):
    generator = torch.Generator().manual_seed(0)
    X = (torch.rand(2000, 784, generator=generator) < 0.15).float()  # sparse inputs in [0, 1], like digits
    Yoh_ = torch.eye(10)[torch.randint(10, (2000,), generator=generator)]
    for depth in range(3):
        model = PTDeep([784] + [100] * depth + [10], activation, seed=1)
        assert model.get_loss(X, Yoh_).item() == pytest.approx(np.log(10), abs=0.25)


def test_seed_makes_initialization_reproducible():
    a, b, c = PTDeep([2, 10, 2], seed=3), PTDeep([2, 10, 2], seed=3), PTDeep([2, 10, 2], seed=4)
    assert torch.equal(a.weights[0], b.weights[0]) and not torch.equal(a.weights[0], c.weights[0])


# --- batch normalization -----------------------------------------------------------------------------


def test_batchnorm_normalizes_each_hidden_feature_in_training_mode():
    model = PTDeep([3, 8, 8, 2], batchnorm=True, seed=0).train()
    S = torch.randn(256, 8) * 5 + 3
    Z, inv_std = model.normalize(0, S)
    torch.testing.assert_close(inv_std, 1 / torch.sqrt(S.var(dim=0, unbiased=False) + model.eps))
    torch.testing.assert_close(Z.mean(dim=0), torch.zeros(8), atol=1e-5, rtol=0)
    torch.testing.assert_close(Z.var(dim=0, unbiased=False), torch.ones(8), atol=1e-3, rtol=0)
    torch.testing.assert_close(model.running_mean0, 0.1 * S.mean(dim=0))  # one step of momentum 0.1


def test_batchnorm_eval_prediction_does_not_depend_on_the_batch():
    X, Y_ = data.sample_gmm_2d(6, 2, 20, rng=1)
    model = PTDeep([2, 10, 10, 2], batchnorm=True, seed=0).double()
    pt_logreg.train(model, *pt_logreg.to_tensors(X, Y_), 200, 0.1, log_every=0)
    batch = pt_logreg.eval(model, X)
    alone = np.vstack([pt_logreg.eval(model, X[i:i + 1]) for i in range(len(X))])
    np.testing.assert_allclose(alone, batch, rtol=0, atol=1e-12)
    half = pt_logreg.eval(model, X[::2])
    np.testing.assert_allclose(half, batch[::2], rtol=0, atol=1e-12)
    # In training mode the same sample's output does depend on its batch: that is what eval mode fixes.
    with torch.no_grad():
        model.train()
        Xt = torch.as_tensor(X)
        assert not torch.allclose(model(Xt)[:2], model(Xt[:2]))


def test_batchnorm_statistics_are_buffers_not_parameters(capsys):
    model = PTDeep([4, 6, 5, 3], batchnorm=True)
    buffer_names = {"running_mean0", "running_var0", "running_mean1", "running_var1"}
    assert buffer_names <= set(model.state_dict())
    assert not buffer_names & {name for name, _ in model.named_parameters()}
    plain = 4 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3
    assert model.count_params() == plain + 2 * (6 + 5)  # gamma and beta, no running statistics
    assert "running" not in capsys.readouterr().out
    model = model.to(torch.float64)
    assert model.running_var1.dtype == torch.float64  # buffers follow .to()
    restored = PTDeep([4, 6, 5, 3], batchnorm=True).double()
    model.running_mean0.fill_(7)
    restored.load_state_dict(model.state_dict())
    assert torch.all(restored.running_mean0 == 7)


def test_batchnorm_running_averages_follow_nn_batchnorm1d():
    model = PTDeep([3, 6, 2], batchnorm=True, momentum=0.1, seed=0).double().train()
    reference = nn.BatchNorm1d(6, momentum=0.1, dtype=torch.float64).train()
    generator = torch.Generator().manual_seed(0)
    for n in (5, 9, 2, 17):
        S = torch.randn(n, 6, generator=generator, dtype=torch.float64) * 3 + 1
        Z, _ = model.normalize(0, S)
        torch.testing.assert_close(Z, reference(S), rtol=0, atol=1e-5)  # reference's eps is 1e-5 too
    torch.testing.assert_close(model.running_mean0, reference.running_mean, rtol=0, atol=1e-12)
    torch.testing.assert_close(model.running_var0, reference.running_var, rtol=0, atol=1e-12)


def test_no_batchnorm_on_the_output_layer():
    model = PTDeep([2, 4, 3], batchnorm=True)
    assert len(model.gammas) == 1 and model.gammas[0].shape == (4,)


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_batchnorm_gradients_pass_gradcheck(activation):
    model = PTDeep([3, 5, 4, 2], activation, batchnorm=True, seed=0).double().train()
    X = torch.randn(7, 3, dtype=torch.float64)
    Yoh_ = torch.eye(2, dtype=torch.float64)[torch.randint(2, (7,))]
    names = [name for name, _ in model.named_parameters()]

    def loss(X, *params):
        return torch.func.functional_call(model, dict(zip(names, params, strict=True)), (X,)) \
            .log().mul(Yoh_).sum()

    inputs = (X.requires_grad_(),) + tuple(p.detach().clone().requires_grad_() for p in model.parameters())
    assert torch.autograd.gradcheck(loss, inputs, eps=1e-6, atol=1e-5)


def test_plain_model_gradients_pass_gradcheck():
    model = PTDeep([3, 5, 2], "sigmoid", seed=0).double()
    X = torch.randn(6, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda X: model.logits(X), (X,))


def test_batchnorm_trains_and_predicts():
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=3)
    model = PTDeep([2, 10, 10, 2], batchnorm=True, seed=0)
    losses = pt_logreg.train(model, *pt_logreg.to_tensors(X, Y_), 2000, 0.1, 1e-4, log_every=0)
    assert losses[-1] < 0.3 * losses[0]
    assert np.mean(pt_logreg.eval(model, X).argmax(axis=1) == Y_) >= 0.9


def test_a_lab_script_trains_and_evaluates_ptdeep_like_ptlogreg():
    np.random.seed(100)  # noqa: NPY002 (the lab programs' habit)
    X, Y_ = data.sample_gmm_2d(4, 2, 40)
    # torch's generator draws the initialization: seeded, so that the result does not depend on the tests
    # run before this one (of torch seeds 0-9, seed 0 alone ends in a local optimum at accuracy 0.75)
    torch.manual_seed(1)
    model = pt_deep.PTDeep([2, 10, 10, 2], torch.relu)
    pt_deep.train(model, *pt_deep.to_tensors(X, Y_), 1000, 0.1, 1e-4, log_every=0)
    probs = pt_deep.eval(model, X)
    assert probs.shape == (160, 2) and np.mean(probs.argmax(axis=1) == Y_) > 0.9


def test_demo_and_animation_write_files(tmp_path, capsys):
    out = tmp_path / "deep.png"
    pt_deep.main(["--niter", "400", "--animate", "--out", str(out)])
    line = next(s for s in capsys.readouterr().out.splitlines() if s.startswith("PTDeep([2, 3]) vs PTLogreg"))
    assert float(line.rsplit(" ", 1)[1]) < 1e-12  # logistic regression both ways: the same probabilities
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert out.with_suffix(".gif").read_bytes()[:3] == b"GIF"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep.gif", "deep.png"]


X_OK, Y_OK = pt_logreg.to_tensors(*data.sample_gmm_2d(4, 2, 5, rng=0))
X_TWO, Y_TWO = pt_logreg.to_tensors(*data.sample_gmm_2d(4, 2, 5, rng=1), C=2)  # both classes present


@pytest.mark.parametrize("call, argument", [
    (lambda: PTDeep([2]), "config"),
    (lambda: PTDeep([2, 0, 2]), "config"),
    (lambda: PTDeep([2, -3]), "config"),
    (lambda: PTDeep(5), "config"),
    (lambda: PTDeep([2, 2], activation="softplus"), "activation"),
    (lambda: PTDeep([2, 5, 2], activation=lambda S: S.sum(dim=1)), "activation"),  # not element-wise
    (lambda: PTDeep([2, 5, 2], activation=5), "activation"),
    (lambda: PTDeep([2, 5, 2], batchnorm="no"), "batchnorm"),
    (lambda: PTDeep([2, 5, 2], seed=1.5), "seed"),
    (lambda: PTDeep([2, 5, 2], seed=2**64), "seed"),
    (lambda: PTDeep([2, 5, 2], init="xavier"), "init"),
    (lambda: pt_logreg.train(PTDeep([2, 2]), X_TWO, Y_TWO, float("inf"), 0.1), "param_niter"),
    (lambda: pt_logreg.train(PTDeep([2, 2]), X_TWO, Y_TWO, 10, 0.1, log_every=-1), "log_every"),
    (lambda: pt_logreg.train(PTDeep([2, 2]), X_TWO, Y_TWO, 10, 0.1, callback=5), "callback"),
    (lambda: PTDeep([2, 3]).get_loss(X_TWO, Y_TWO), "Yoh_"),  # 2 one-hot columns for 3 classes
    (lambda: pt_logreg.PTLogreg(2, 3).get_loss(X_TWO, Y_TWO.argmax(dim=1)[:5]), "Yoh_"),
    (lambda: pt_logreg.train_mb(PTDeep([2, 2]), (X_TWO, Y_TWO), pt_logreg.Settings()), "train"),  # a tuple, not a Split
    (lambda: pt_logreg.train(PTDeep([3, 2]), X_OK, Y_OK, 10, 0.1), "X"),
    (lambda: pt_logreg.train(PTDeep([2, 2]), X_OK.numpy(), Y_OK, 10, 0.1), "X"),  # NumPy: says to_tensors
    (lambda: pt_logreg.train(PTDeep([2, 2]), X_OK, Y_OK[:5], 10, 0.1), "Yoh_"),
    (lambda: pt_logreg.train(PTDeep([2, 3]), X_OK, Y_OK, 10, 0.1), "Yoh_"),
    (lambda: pt_logreg.to_tensors(np.ones((2, 2)), [0, 2], C=2), "Y_"),
    (lambda: PTDeep([3, 2]).sgd_step(X_OK, Y_OK.argmax(dim=1), 0.1), "X"),
    (lambda: PTDeep([2, 2]).sgd_step(X_OK, Y_OK, 0.1), "Y"),  # one-hot: sgd_step takes class indices
    (lambda: PTDeep([2, 2]).sgd_step(X_OK, Y_OK.argmax(dim=1)[:5], 0.1), "Y"),
    (lambda: PTDeep([2, 2]).sgd_step(X_OK, Y_OK.argmax(dim=1) + 5, 0.1), "Y"),  # out of range, named
    (lambda: PTDeep([2, 2]).sgd_step(X_OK * np.nan, Y_OK.argmax(dim=1), 0.1), "X"),  # NaN: weights untouched
    (lambda: PTDeep([2, 2]).sgd_step(X_OK.bfloat16(), Y_OK.argmax(dim=1), 0.1), "X"),  # not the model's dtype
    (lambda: PTDeep([2, 2]).sgd_step(X_OK, Y_OK.argmax(dim=1), 0.0), "lr"),
    (lambda: PTDeep([2, 2]).sgd_step(X_OK, Y_OK.argmax(dim=1), -0.1), "lr"),
    (lambda: PTDeep([2, 2]).sgd_step(X_OK, Y_OK.argmax(dim=1), 0.1, -1e-3), "param_lambda"),
    (lambda: PTDeep([2, 4, 2], batchnorm=True, eps=-1), "eps"),
    (lambda: PTDeep([2, 4, 2], batchnorm=True, eps=0), "eps"),
    (lambda: PTDeep([2, 4, 2], batchnorm=True, momentum=-1), "momentum"),
    (lambda: PTDeep([2, 4, 2], batchnorm=True, momentum=1.5), "momentum"),
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        call()


def test_divergence_stops_naming_the_iteration():
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=3)
    with pytest.raises(FloatingPointError, match=r"at iteration \d+.*smaller param_delta"):
        pt_logreg.train(PTDeep([2, 10, 2], seed=0), *pt_logreg.to_tensors(X * 1e20, Y_), 100, 1e6, log_every=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_runs_on_cuda():
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=3)
    model = PTDeep([2, 10, 2], batchnorm=True, seed=0).cuda()
    pt_logreg.train(model, *pt_logreg.to_tensors(X, Y_, device="cuda"), 50, 0.1, log_every=0)
    assert model.running_mean0.is_cuda and pt_logreg.eval(model, X).shape == (60, 2)


def test_loss_takes_class_indices_as_well_as_one_hot():
    X, Y_ = data.sample_gmm_2d(6, 3, 10, rng=4)
    model = PTDeep([2, 5, 3], seed=0)
    Xt, Yoh_ = pt_logreg.to_tensors(X, Y_, C=3)
    indices = torch.as_tensor(Y_)
    torch.testing.assert_close(model.get_loss(Xt, indices, 1e-3), model.get_loss(Xt, Yoh_, 1e-3))


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("param_lambda", [0.0, 1e-2])
@pytest.mark.parametrize("batchnorm, mode", [(False, "train"), (True, "train"), (True, "eval")])
def test_sgd_step_by_hand_equals_autograd_and_torch_sgd(activation, param_lambda, batchnorm, mode):
    torch.manual_seed(0)
    by_hand = PTDeep([5, 7, 6, 3], activation, batchnorm=batchnorm, seed=1).double().train(mode == "train")
    autograd = PTDeep([5, 7, 6, 3], activation, batchnorm=batchnorm, seed=1).double().train(mode == "train")
    if mode == "eval":  # running averages away from their start, so that they matter
        for model in (by_hand, autograd):
            model.running_mean0.fill_(0.3), model.running_var1.fill_(2.0)
    optimizer = torch.optim.SGD(autograd.parameters(), lr=0.3)
    for _ in range(20):
        X, Y = torch.randn(11, 5, dtype=torch.float64), torch.randint(0, 3, (11,))
        loss = by_hand.sgd_step(X, Y, 0.3, param_lambda)
        reference = autograd.get_loss(X, Y, param_lambda)
        optimizer.zero_grad()
        reference.backward()
        optimizer.step()
        assert loss.item() == pytest.approx(reference.item(), rel=1e-12)  # the loss before the step
    for (name, p), q in zip(by_hand.state_dict().items(), autograd.state_dict().values(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-12, msg=name)  # parameters and running averages
    assert not torch.equal(by_hand.weights[0], PTDeep([5, 7, 6, 3], activation, seed=1).weights[0].double())
    if batchnorm:
        assert not torch.equal(by_hand.gammas[1], torch.ones(6, dtype=torch.float64))


def test_weights_are_stored_out_by_in_and_keep_that_layout():
    model = PTDeep([784, 100, 10], seed=0)
    reloaded = PTDeep([784, 100, 10], seed=1)
    reloaded.load_state_dict(model.state_dict())
    for W in list(model.double().weights) + list(reloaded.weights):
        assert W.dim() == 2 and W.t().is_contiguous()  # (in, out) to the user, nn.Linear's (out, in) in memory
    torch.testing.assert_close(reloaded.weights[1].double(), model.weights[1])
    model.get_loss(torch.rand(3, 784, dtype=torch.float64), torch.tensor([1, 2, 3])).backward()
    assert all(W.grad.stride() == W.stride() for W in model.weights)


# --- what students pass: the lab's words allow any activation function --------------------------------


@pytest.mark.parametrize("activation, name", [
    (torch.relu, "relu"), (torch.nn.functional.relu, "relu"), (nn.ReLU(), "relu"), ("relu", "relu"),
    (torch.sigmoid, "sigmoid"), (torch.nn.functional.sigmoid, "sigmoid"), (nn.Sigmoid(), "sigmoid"),
    (torch.tanh, "tanh"), (torch.nn.functional.tanh, "tanh"), (nn.Tanh(), "tanh"),
])
def test_every_form_of_relu_sigmoid_tanh_keeps_the_step_by_hand(activation, name):
    model = pt_deep.PTDeep([2, 10, 2], activation)
    assert model.activation_name == name and model.steps_by_hand
    X = torch.randn(5, 2)
    hidden = pt_deep.ACTIVATIONS[name](X @ model.weights[0] + model.biases[0])
    torch.testing.assert_close(model.layer_outputs(X)[0][1], hidden)


@pytest.mark.parametrize("activation", [
    torch.nn.functional.leaky_relu, nn.LeakyReLU(0.1), nn.ELU(), lambda S: S * torch.sigmoid(S), nn.PReLU(),
])
def test_any_elementwise_callable_trains_through_autograd(activation):
    np.random.seed(100)  # noqa: NPY002 (the lab programs' habit)
    X, Y_ = data.sample_gmm_2d(6, 2, 10)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    torch.manual_seed(0)
    model = pt_deep.PTDeep([2, 10, 10, 2], activation)
    assert not model.steps_by_hand
    with pytest.raises(ValueError, match="^activation: sgd_step"):
        model.sgd_step(torch.zeros(3, 2), torch.zeros(3, dtype=torch.int64), 0.1)
    losses = pt_deep.train(model, torch.Tensor(X), torch.Tensor(data.class_to_onehot(Y_)), 1000, 0.3, log_every=0)
    assert losses[-1] < 0.5 * losses[0]
    assert np.mean(pt_deep.eval(model, X).argmax(axis=1) == Y_) >= 0.9


def test_a_custom_activation_is_what_the_model_computes():
    model = PTDeep([3, 4, 2], lambda S: S.abs(), seed=0).double()
    X = torch.randn(5, 3, dtype=torch.float64)
    expected = (X @ model.weights[0] + model.biases[0]).abs() @ model.weights[1] + model.biases[1]
    torch.testing.assert_close(model.logits(X), expected)


def test_checkpoints_say_what_they_cannot_store(tmp_path):
    model = PTDeep([2, 5, 2], nn.PReLU(), seed=0)
    with torch.no_grad():
        model.activation.weight.fill_(0.3)
    path = pt_deep.save_model(model, tmp_path / "prelu.pt")
    with pytest.raises(ValueError, match=r"^activation: .*prelu.pt was saved with a custom activation.*PReLU"):
        pt_deep.load_model(path)
    restored = pt_deep.load_model(path, activation=nn.PReLU())
    X = torch.randn(4, 2)
    torch.testing.assert_close(restored(X), model(X))  # PReLU's own weight came back too
    relu = pt_deep.save_model(PTDeep([2, 5, 2], nn.ReLU(), seed=0), tmp_path / "relu.pt")
    assert pt_deep.load_model(relu, activation=torch.relu).activation is torch.relu
    with pytest.raises(ValueError, match=r"^activation: .*relu.pt was trained with relu"):
        pt_deep.load_model(relu, activation=torch.tanh)


def test_a_wide_net_trains_on_raw_2d_data_at_the_labs_step():
    # The lab's template step (0.5) on sample_gmm_2d's raw coordinates (0..10), a wide ReLU net, a
    # student's seeding: the initialization must not start it so far from ln 2 that the first steps diverge.
    np.random.seed(100)  # noqa: NPY002 (the lab programs' habit)
    torch.manual_seed(0)
    X, Y_ = data.sample_gmm_2d(50, 2, 100)
    m = pt_deep.PTDeep([2, 128, 256, 64, 2], torch.relu)
    losses = pt_deep.train(m, torch.Tensor(X), torch.Tensor(data.class_to_onehot(Y_)), 40, 0.5, 1e-3, log_every=0)
    assert losses[0] < 1.5 and np.all(np.isfinite(losses)) and losses[-1] < losses[0]


def test_get_loss_takes_an_integer_one_hot_matrix():
    X, Y_ = data.sample_gmm_2d(6, 3, 10, rng=4)
    model = PTDeep([2, 5, 3], seed=0)
    Xt, Yoh_ = pt_logreg.to_tensors(X, Y_, C=3)
    integer = torch.nn.functional.one_hot(torch.as_tensor(Y_))  # int64, as students make it
    assert integer.dtype == torch.int64
    torch.testing.assert_close(model.get_loss(Xt, integer, 1e-3), model.get_loss(Xt, Yoh_, 1e-3))
    logreg = pt_logreg.PTLogreg(2, 3)
    torch.testing.assert_close(logreg.get_loss(Xt, integer), logreg.get_loss(Xt, Yoh_))


@pytest.mark.parametrize("kwargs, argument", [
    ({"activation": lambda x: torch.softmax(x, 1)}, "activation"),  # same shape, not element-wise
    ({"activation": lambda x: x.double()}, "activation"),  # would fail inside matmul later
    ({"batchnorm": True, "momentum": True}, "momentum"),  # not 1
])
def test_what_would_be_silently_wrong_is_refused_by_name(kwargs, argument):
    with pytest.raises(ValueError, match=f"^{argument}: "):
        PTDeep([2, 5, 2], **kwargs)


def test_a_folder_where_the_gif_goes_is_refused_before_the_work(tmp_path, capsys):
    (tmp_path / "demo.gif").mkdir()
    with pytest.raises(SystemExit):
        pt_deep.main(["--out", str(tmp_path / "demo.png"), "--animate", "--niter", "10"])
    assert "--animate: " in capsys.readouterr().err and not (tmp_path / "demo.png").exists()


def test_save_model_of_another_model_is_named(tmp_path):
    with pytest.raises(ValueError, match="^model: save_model writes a PTDeep; got a PTLogreg"):
        pt_deep.save_model(pt_logreg.PTLogreg(2, 3), tmp_path / "m.pt")


@pytest.mark.parametrize("field, value", [("config", [2, -5, 2]), ("activation", "gelu"), ("batchnorm", "yes"),
                                          ("init", "lecun")])
def test_a_checkpoint_with_a_field_no_ptdeep_has_names_the_file_and_the_field(tmp_path, field, value):
    path = pt_deep.save_model(PTDeep([2, 5, 2], seed=0), tmp_path / "model.pt")
    checkpoint = torch.load(path, weights_only=True)
    checkpoint[field] = value
    torch.save(checkpoint, path)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: not a PTDeep checkpoint .*\({field}: .*{value}"):
        pt_deep.load_model(path)


def test_save_model_to_a_folder_is_refused_as_writing_any_file_there_is(tmp_path):
    with pytest.raises(IsADirectoryError, match=f"is a folder; expected the path of a file to write: '{tmp_path}'"):
        pt_deep.save_model(PTDeep([2, 3]), tmp_path)
