"""Mistake: the loop takes param_niter + 1 steps; the gradient is right."""

import numpy as np


def softmax(S):
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def fcann2_classify(X, W1, b1, W2, b2):
    return softmax(np.maximum(X @ W1.T + b1, 0) @ W2.T + b2)


def fcann2_train(X, Y_, param_niter=int(1e5), param_delta=0.05, param_lambda=1e-3, hidden=5):
    N, D = X.shape
    C = max(Y_) + 1
    W1, b1 = np.random.randn(hidden, D), np.zeros(hidden)
    W2, b2 = np.random.randn(C, hidden), np.zeros(C)
    Yoh = np.eye(C)[Y_]
    for i in range(int(param_niter) + 1):
        S1 = X @ W1.T + b1
        H1 = np.maximum(S1, 0)
        P = softmax(H1 @ W2.T + b2)
        if i % 1000 == 0:
            loss = -np.mean(np.log(P[range(N), Y_])) + param_lambda * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
            print(f"iteration {i}: loss {loss:.6f}")
        Gs2 = (P - Yoh) / N
        grad_W2 = Gs2.T @ H1 + 2 * param_lambda * W2
        grad_b2 = Gs2.sum(axis=0)
        Gs1 = (Gs2 @ W2) * (S1 > 0)
        grad_W1 = Gs1.T @ X + 2 * param_lambda * W1
        grad_b1 = Gs1.sum(axis=0)
        W1, b1 = W1 - param_delta * grad_W1, b1 - param_delta * grad_b1
        W2, b2 = W2 - param_delta * grad_W2, b2 - param_delta * grad_b2
    return W1, b1, W2, b2
