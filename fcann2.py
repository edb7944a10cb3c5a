"""A two-layer fully connected classifier in pure NumPy, with backpropagation written by hand.

Model, for a batch X of shape (N, D):

    S1 = X W1^T + b1          # (N, H)
    H1 = ReLU(S1)             # (N, H)
    S2 = H1 W2^T + b2         # (N, C)
    P  = softmax(S2)          # (N, C)

Loss: mean negative log-likelihood over the N points plus param_lambda * (||W1||^2 + ||W2||^2); the
biases are not regularized. Organised like lab 0's logistic regression:

    W1, b1, W2, b2 = fcann2_train(X, Y_)
    probs = fcann2_classify(X, W1, b1, W2, b2)

Inside, the forward pass, the loss and the gradients take the parameters as a dict keyed W1, b1, W2,
b2 (rows of W are units), so the tests can check every gradient by name.

Run `python fcann2.py` for the lab's demo on sample_gmm_2d(6, 2, 10).
"""

import time

import numpy as np

import data

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def fcann2_init(X, C, hidden=5, rng=None):
    """Random parameters for data X of shape (N, D) and C classes.

    W1 is He-normal (std sqrt(2/D), right for ReLU) and W2 LeCun-normal (std sqrt(1/H)). Each hidden
    unit's hyperplane is put through a randomly chosen data point (b1 = -W1 x): with b1 = 0 they would
    all pass through the origin, which may lie far outside the data (the 2-D demos live in [0,10]^2),
    leaving units that are off, or linear, for every point.
    """
    X = data.check_data(X, "X")
    D = X.shape[1]
    C = data.check_positive_int(C, "C")
    hidden = data.check_positive_int(hidden, "hidden")
    rng = data.make_rng(rng)
    W1 = rng.standard_normal((hidden, D)) * np.sqrt(2 / D)  # (H, D)
    anchors = X[rng.integers(len(X), size=hidden)]  # (H, D)
    return {
        "W1": W1,
        "b1": -np.sum(W1 * anchors, axis=1),  # (H,)
        "W2": rng.standard_normal((C, hidden)) * np.sqrt(1 / hidden),  # (C, H)
        "b2": np.zeros(C),  # (C,)
    }


def fcann2_forward(X, params):
    """Forward pass. Returns (S1, H1, P): scores, hidden activations and class probabilities."""
    S1 = X @ params["W1"].T + params["b1"]  # (N, H)
    H1 = np.maximum(S1, 0)  # (N, H)
    S2 = H1 @ params["W2"].T + params["b2"]  # (N, C)
    # Subtracting the row maximum leaves the softmax unchanged and keeps exp() from overflowing.
    E = np.exp(S2 - S2.max(axis=1, keepdims=True))
    P = E / E.sum(axis=1, keepdims=True)  # (N, C)
    return S1, H1, P


def fcann2_loss(X, Yoh_, params, param_lambda=0.0):
    """Mean NLL plus param_lambda * sum of squared weights, computed from log-sum-exp (stable)."""
    S1 = X @ params["W1"].T + params["b1"]
    S2 = np.maximum(S1, 0) @ params["W2"].T + params["b2"]
    if np.shape(Yoh_) != S2.shape:
        raise ValueError(f"Yoh_: expected a one-hot matrix of shape {S2.shape} (N, C), got {np.shape(Yoh_)}")
    shifted = S2 - S2.max(axis=1, keepdims=True)
    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))  # (N, C)
    data_loss = -np.sum(Yoh_ * log_P) / len(X)
    reg_loss = param_lambda * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    return float(data_loss + reg_loss)


def fcann2_gradients(X, Yoh_, params, param_lambda=0.0):
    """Gradients of fcann2_loss with respect to W1, b1, W2, b2, for the whole batch at once.

    Inputs:
    - X: array of shape (N, D)
    - Yoh_: one-hot labels of shape (N, C)
    - params: dict W1 (H, D), b1 (H,), W2 (C, H), b2 (C,)
    Returns: a dict of arrays with the shapes of params.
    """
    N = len(X)
    S1, H1, P = fcann2_forward(X, params)
    # d(-log softmax(s)_y)/ds = p - y: the softmax Jacobian times -1/p_y collapses to this difference.
    Gs2 = (P - Yoh_) / N  # (N, C)
    Gh1 = Gs2 @ params["W2"]  # (N, H)
    Gs1 = Gh1 * (S1 > 0)  # (N, H): ReLU passes gradient only where it was active
    return {
        "W1": Gs1.T @ X + 2 * param_lambda * params["W1"],  # (H, D)
        "b1": Gs1.sum(axis=0),  # (H,)
        "W2": Gs2.T @ H1 + 2 * param_lambda * params["W2"],  # (C, H)
        "b2": Gs2.sum(axis=0),  # (C,)
    }


def fcann2_train(X, Y_, param_niter=100_000, param_delta=0.05, param_lambda=1e-3, hidden=5, rng=None,
                 log_every=None):
    """Train the two-layer net with full-batch gradient descent.

    Inputs:
    - X: data of shape (N, D)
    - Y_: true class indices of shape (N,); C = max(Y_) + 1
    - param_niter: number of gradient steps
    - param_delta: learning rate
    - param_lambda: L2 regularization of the weights
    - hidden: number of hidden units H
    - rng: numpy Generator or int seed for the initialization
    - log_every: print the loss every this many steps (default: every 10% of training; 0 = silent)
    Returns: the tuple W1 (H, D), b1 (H,), W2 (C, H), b2 (C,).
    Raises ValueError naming a bad argument, FloatingPointError when the loss stops being finite or
    grows data.RUNAWAY times past the untrained one; warns (RuntimeWarning) when it does not settle.
    """
    X = data.check_data(X, "X").astype(np.float64)
    Y_ = data.check_labels(Y_, "Y_", n_rows=len(X))
    if len(np.unique(Y_)) < 2:
        raise ValueError(f"Y_: a classifier needs at least two classes in the labels, got only class {Y_[0]}")
    param_niter = data.check_positive_int(param_niter, "param_niter")
    param_delta = data.check_number(param_delta, "param_delta")
    param_lambda = data.check_number(param_lambda, "param_lambda", allow_zero=True)
    Yoh_ = data.class_to_onehot(Y_)
    if log_every is None:
        log_every = max(1, param_niter // 10)
    log_every = data.check_positive_int(log_every, "log_every", minimum=0)
    params = fcann2_init(X, Yoh_.shape[1], hidden, rng)
    # The loss is watched 100 times a run (data.check_progress, data.check_settled), as every loop here is.
    watch_every = max(1, param_niter // 100)
    losses = [fcann2_loss(X, Yoh_, params, param_lambda)]  # untrained

    for it in range(1, param_niter + 1):
        grads = fcann2_gradients(X, Yoh_, params, param_lambda)
        for name in PARAM_NAMES:
            params[name] -= param_delta * grads[name]
        watched = it % watch_every == 0 or it == param_niter
        logged = log_every and (it % log_every == 0 or it == param_niter)
        if watched or logged:
            loss = fcann2_loss(X, Yoh_, params, param_lambda)
            data.check_progress(loss, losses[0], f"iteration {it}", "fcann2_train", "param_delta", param_delta)
            if watched:
                losses.append(loss)
            if logged:
                print(f"iteration {it:>7d}  loss {loss:.6f}")
    data.check_settled(losses, "fcann2_train", "param_delta", param_delta)
    return tuple(params[name] for name in PARAM_NAMES)


def fcann2_classify(X, W1, b1, W2, b2):
    """Class probabilities of shape (N, C) for data X of shape (N, D), with fcann2_train's parameters."""
    W1, b1, W2, b2 = (np.asarray(p, dtype=np.float64) for p in (W1, b1, W2, b2))  # lists too
    if W1.ndim != 2 or b1.shape != W1.shape[:1] or b2.ndim != 1 or W2.shape != (len(b2), len(W1)):
        raise ValueError(f"W1, b1, W2, b2: expected fcann2_train's shapes (H, D), (H,), (C, H), (C,), got "
                         f"{W1.shape}, {b1.shape}, {W2.shape}, {b2.shape}")
    X = data.check_data(X, "X", n_cols=W1.shape[1])
    return fcann2_forward(X, dict(zip(PARAM_NAMES, (W1, b1, W2, b2), strict=True)))[2]


def main(argv=None):
    # Seed 3: a mixture no line separates that 5 ReLUs fit exactly (README: which seeds do not).
    parser = data.demo_argparser("Two-layer NumPy net on sample_gmm_2d(6, 2, 10).", "results/fcann2.png", seed=3)
    parser.add_argument("--niter", type=data.count_argument, default=100_000, help="gradient steps (default: 100000)")
    args = parser.parse_args(argv)
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(args.seed)
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=rng)
    start = time.perf_counter()
    params = fcann2_train(X, Y_, param_niter=args.niter, param_delta=0.05, param_lambda=1e-3, hidden=5, rng=rng)
    seconds = time.perf_counter() - start
    probs = fcann2_classify(X, *params)
    Y = probs.argmax(axis=1)
    accuracy, recall, precision = data.eval_perf_binary(Y, Y_)
    ap = data.average_precision(probs[:, 1], Y_)
    print(f"trained {args.niter} iterations in {seconds:.2f} s ({seconds / args.niter * 1e6:.1f} us each)")
    print(f"accuracy {accuracy:.3f}  recall {recall:.3f}  precision {precision:.3f}  AP {ap:.3f}")

    fig = plt.figure(figsize=(6, 5))
    data.graph_surface(lambda G: fcann2_classify(G, *params)[:, 1], data.data_rect(X), offset=0.5)
    data.graph_data(X, Y_, Y)
    plt.title("fcann2: P(class 1), hidden=5")
    data.finish_figure(fig, args.out, args.show)


if __name__ == "__main__":
    data.run_script(main)
