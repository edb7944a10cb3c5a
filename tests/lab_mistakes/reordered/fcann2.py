"""Mistake: the first layer's gradient leaves out the ReLU's derivative (Gs1 = Gh1, not Gh1 * [s1 > 0]);
fcann2_train returns the layers from the output back, (W2, b2, W1, b1), which fcann2_classify takes."""

import numpy as np


def softmax(S):
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def fcann2_classify(X, W2, b2, W1, b1):
    return softmax(np.maximum(X @ W1 + b1, 0) @ W2 + b2)


def fcann2_train(X, Y_, param_niter=100000, param_delta=0.05, param_lambda=1e-3, hidden=5):
    N, D = X.shape
    C = int(Y_.max()) + 1
    W1, b1 = np.random.randn(D, hidden), np.zeros(hidden)
    W2, b2 = np.random.randn(hidden, C), np.zeros(C)
    Yoh = np.eye(C)[Y_]
    for _ in range(int(param_niter)):
        H1 = np.maximum(X @ W1 + b1, 0)
        Gs2 = (softmax(H1 @ W2 + b2) - Yoh) / N
        Gs1 = Gs2 @ W2.T
        W2 = W2 - param_delta * (H1.T @ Gs2 + 2 * param_lambda * W2)
        b2 = b2 - param_delta * Gs2.sum(axis=0)
        W1 = W1 - param_delta * (X.T @ Gs1 + 2 * param_lambda * W1)
        b1 = b1 - param_delta * Gs1.sum(axis=0)
    return W2, b2, W1, b1
