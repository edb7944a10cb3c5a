"""Linear regression y = a*x + b with PyTorch autograd, checked against hand-derived gradients.

The lab's example fits the line through (1, 3) and (2, 5) with SGD (lr 0.1, 100 steps); the demo takes
1000 steps, since along the slow direction of this problem (the eigenvalue 0.15 of the loss's Hessian)
a step of 0.1 shrinks the error by only 1.5% and 100 steps end at y = 2.03x + 0.95. The loss
is the *mean* squared error, so the size of the gradient does not grow with the number of points:

    L(a, b) = 1/N sum_i (y_i - a x_i - b)^2
    dL/da   = -2/N sum_i (y_i - a x_i - b) x_i
    dL/db   = -2/N sum_i (y_i - a x_i - b)

Run `python pt_linreg.py` to watch the loss and both gradients, autograd's and ours, step by step.
"""

import argparse

import numpy as np
import torch

import data


def analytic_gradients(a, b, X, Y):
    """dL/da and dL/db of the mean squared error, from the formulas above (no autograd). X and Y: tensors
    of the same shape (as_points makes them)."""
    check_points(X, Y)
    residual = Y - (a * X + b)  # (N,)
    return -2 * torch.mean(residual * X), -2 * torch.mean(residual)


def mse_loss(a, b, X, Y):
    """Mean squared error of the line a*x + b on the points (X, Y), tensors of the same shape."""
    check_points(X, Y)
    return torch.mean((Y - (a * X + b)) ** 2)


def check_points(X, Y):
    """Raise ValueError naming X or Y unless both are tensors of one shape (as_points converts sequences)."""
    for name, values in (("X", X), ("Y", Y)):
        if not isinstance(values, torch.Tensor):
            raise ValueError(f"{name}: expected a tensor (as_points(X, Y) converts sequences), got "
                             f"{type(values).__name__}")
    if X.shape != Y.shape:
        raise ValueError(f"Y: expected one value per x, shape {tuple(X.shape)}, got {tuple(Y.shape)}")


def as_points(X, Y):
    """Validate and convert the points, two 1-D sequences of N numbers, to float64 tensors of shape (N,)."""
    X, Y = data.as_numpy(X, "X"), data.as_numpy(Y, "Y")  # a tensor that requires grad is detached
    for name, values in (("X", X), ("Y", Y)):
        if values.ndim != 1:
            raise ValueError(f"{name}: expected a 1-D sequence of numbers, got shape {values.shape}")
        data.check_data(values.reshape(-1, 1), name)
    if len(Y) != len(X):
        raise ValueError(f"Y: expected one value per x ({len(X)}), got {len(Y)}")
    return torch.from_numpy(X.astype(float)), torch.from_numpy(Y.astype(float))


def fit_line(X, Y, param_niter=100, param_delta=0.1, seed=None, log_every=1):
    """Fit y = a*x + b by SGD; every `log_every` steps print the loss and both gradients (0 = silent).

    Returns (a, b) as floats. Raises FloatingPointError if the loss stops being finite or grows
    data.RUNAWAY times past the first (param_delta too large for the spread of X); warns
    (RuntimeWarning) when it does not settle.
    """
    X, Y = as_points(X, Y)
    param_niter = data.check_positive_int(param_niter, "param_niter")
    param_delta = data.check_number(param_delta, "param_delta")
    log_every = data.check_positive_int(log_every, "log_every", minimum=0)
    generator = torch.Generator().manual_seed(data.check_seed(seed)) if seed is not None else None
    a = torch.randn(1, dtype=torch.float64, generator=generator).requires_grad_()
    b = torch.randn(1, dtype=torch.float64, generator=generator).requires_grad_()
    optimizer = torch.optim.SGD([a, b], lr=param_delta)

    losses = []
    for step in range(param_niter):
        loss = mse_loss(a, b, X, Y)
        optimizer.zero_grad()
        loss.backward()
        losses.append(loss.item())
        data.check_progress(losses[-1], losses[0], f"step {step}", "fit_line", "param_delta", param_delta)
        if log_every and step % log_every == 0:
            with torch.no_grad():
                grad_a, grad_b = analytic_gradients(a, b, X, Y)
            print(f"step {step:3d}  loss {loss.item():.6f}  a {a.item():+.4f}  b {b.item():+.4f}  "
                  f"dL/da autograd {a.grad.item():+.6f} ours {grad_a.item():+.6f}  "
                  f"dL/db autograd {b.grad.item():+.6f} ours {grad_b.item():+.6f}")
        optimizer.step()
    data.check_settled(losses, "fit_line", "param_delta", param_delta)
    return a.item(), b.item()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Fit y = a*x + b with PyTorch; compare gradients.")
    parser.add_argument("--seed", type=data.seed_argument, default=100, help="random seed (default: 100)")
    parser.add_argument("--niter", type=data.count_argument, default=1000,
                        help="SGD steps (default: 1000; the lab's 100 stop short of the line through the points)")
    parser.add_argument("--points", type=int, default=0,
                        help="fit N noisy points of y = 2x + 1 instead of the lab's (1,3), (2,5) (default: 0)")
    args = parser.parse_args(argv)
    data.check_positive_int(args.points, "--points", minimum=0)
    if args.points:
        rng = np.random.default_rng(args.seed)
        X = rng.uniform(0, 2, args.points)
        Y = 2 * X + 1 + rng.normal(0, 0.1, args.points)
    else:
        X, Y = [1.0, 2.0], [3.0, 5.0]
    a, b = fit_line(X, Y, param_niter=args.niter, param_delta=0.1, seed=args.seed, log_every=max(1, args.niter // 20))
    print(f"fitted y = {a:.4f} x + {b:.4f}" + ("" if args.points else " (the line through both points: y = 2x + 1)"))


if __name__ == "__main__":
    data.run_script(main)
