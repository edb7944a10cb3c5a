"""Mistake: the gradient of the summed loss, without the lab's 1/N."""

import numpy as np


def fcann2_classify(X, W1, b1, W2, b2):
    H1 = np.maximum(X @ W1 + b1, 0)
    S2 = H1 @ W2 + b2
    E = np.exp(S2 - S2.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def fcann2_train(X, Y_, param_niter=100_000, param_delta=0.05, param_lambda=1e-3, hidden=5):
    C = int(np.max(Y_)) + 1
    W1, b1 = np.random.randn(X.shape[1], hidden), np.zeros(hidden)
    W2, b2 = np.random.randn(hidden, C), np.zeros(C)
    Yoh_ = np.eye(C)[Y_]
    for _ in range(int(param_niter)):
        S1 = X @ W1 + b1
        H1 = np.maximum(S1, 0)
        Gs2 = fcann2_classify(X, W1, b1, W2, b2) - Yoh_  # missing: / len(X)
        Gs1 = (Gs2 @ W2.T) * (S1 > 0)
        W2 -= param_delta * (H1.T @ Gs2 + 2 * param_lambda * W2)
        b2 -= param_delta * Gs2.sum(axis=0)
        W1 -= param_delta * (X.T @ Gs1 + 2 * param_lambda * W1)
        b1 -= param_delta * Gs1.sum(axis=0)
    return W1, b1, W2, b2
