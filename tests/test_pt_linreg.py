import numpy as np
import pytest
import torch

import pt_linreg


@pytest.mark.parametrize("N", [2, 10, 1000])
def test_analytic_gradients_equal_autograd(N):
    rng = np.random.default_rng(N)
    X, Y = pt_linreg.as_points(rng.uniform(-3, 3, N), rng.normal(size=N))
    a = torch.tensor([0.7], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([-1.3], dtype=torch.float64, requires_grad=True)
    pt_linreg.mse_loss(a, b, X, Y).backward()
    grad_a, grad_b = pt_linreg.analytic_gradients(a.detach(), b.detach(), X, Y)
    torch.testing.assert_close(grad_a, a.grad[0], rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_b, b.grad[0], rtol=1e-12, atol=1e-12)


def test_gradient_size_does_not_grow_with_N():
    """The same 10 points repeated 100 times must give the same gradient (a sum would give 100x)."""
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 2, 10), rng.normal(size=10)
    grads = []
    for reps in (1, 100):
        X, Y = pt_linreg.as_points(np.tile(x, reps), np.tile(y, reps))
        a = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
        pt_linreg.mse_loss(a, b, X, Y).backward()
        grads.append(torch.cat([a.grad, b.grad]))
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-12, atol=1e-12)


def test_lab_example_fits_the_line_through_the_two_points(capsys):
    a, b = pt_linreg.fit_line([1, 2], [3, 5], param_niter=2000, param_delta=0.1, seed=0, log_every=500)
    assert a == pytest.approx(2, abs=1e-6) and b == pytest.approx(1, abs=1e-6)
    assert capsys.readouterr().out.count("step ") == 4


def test_the_demo_reaches_the_line_through_the_labs_points(capsys):
    pt_linreg.main([])
    a, b = map(float, capsys.readouterr().out.splitlines()[-1].split("y = ")[1].split(" (")[0].split(" x + "))
    assert a == pytest.approx(2, abs=1e-3) and b == pytest.approx(1, abs=1e-3)


def test_many_points_recover_the_line():
    rng = np.random.default_rng(1)
    X = rng.uniform(0, 2, 500)
    a, b = pt_linreg.fit_line(X, 2 * X + 1 + rng.normal(0, 0.05, 500), param_niter=2000, seed=0, log_every=0)
    assert a == pytest.approx(2, abs=0.02) and b == pytest.approx(1, abs=0.02)


def test_divergence_stops_with_a_message():
    with pytest.raises(FloatingPointError, match="param_delta"):
        pt_linreg.fit_line([1, 200], [3, 5], param_niter=500, param_delta=1.0, seed=0, log_every=0)


def test_a_runaway_loss_stops_the_fit():
    # Before the loss overflows: x in [0, 10] at step 0.05 grows the error about 30-fold a step.
    x = np.linspace(0, 10, 50)
    with pytest.raises(FloatingPointError, match=r"^fit_line: loss became .* at step \d+ .*param_delta \(was 0.05\)"):
        pt_linreg.fit_line(x, 2 * x + 1, param_niter=20, param_delta=0.05, seed=0, log_every=0)


def test_a_fit_that_does_not_settle_warns():
    x = np.linspace(0, 1, 50)  # a step just past the stable one for this spread: the error grows, slowly
    with pytest.warns(RuntimeWarning, match="^fit_line: the loss did not settle"):
        pt_linreg.fit_line(x, 2 * x + 1, param_niter=30, param_delta=0.8, seed=0, log_every=0)


@pytest.mark.parametrize("args, argument", [
    (([1, 2, 3], [3, 5]), "Y"),
    (([1, np.nan], [3, 5]), "X"),
    (([1, 2], [3, np.inf]), "Y"),
    (([[1, 2], [3, 4]], [3, 5, 7, 9]), "X"),  # a 2-D X is refused, not flattened
])
def test_bad_points_name_the_argument(args, argument):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        pt_linreg.fit_line(*args, log_every=0)


def test_bad_param_niter():
    with pytest.raises(ValueError, match="^param_niter:"):
        pt_linreg.fit_line([1, 2], [3, 5], param_niter=0)
    with pytest.raises(ValueError, match="^log_every:"):
        pt_linreg.fit_line([1, 2], [3, 5], log_every=-1)


@pytest.mark.parametrize("call, argument", [
    (lambda: pt_linreg.analytic_gradients(torch.zeros(1), torch.zeros(1), torch.ones(3), torch.ones(2)), "Y"),
    (lambda: pt_linreg.mse_loss(torch.zeros(1), torch.zeros(1), np.ones(2), np.ones(2)), "X"),
])
def test_the_formulas_name_points_that_do_not_fit(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}: "):
        call()


def test_points_given_as_tensors_in_a_graph_are_taken():
    X = torch.tensor([1.0, 2.0], requires_grad=True)  # as a student's tensor may still be
    assert pt_linreg.fit_line(X, torch.tensor([3, 5]), 2000, seed=0, log_every=0) == pytest.approx((2, 1), abs=1e-6)
