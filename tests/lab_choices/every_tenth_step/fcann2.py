"""Not a mistake: fcann2_train returns the layers from the output back, (W2, b2, W1, b1), and
fcann2_classify takes them in that order."""

import numpy as np


def relu(S):
    return np.maximum(0, S)


def softmax(S):
    E = np.exp(S - np.max(S, axis=1, keepdims=True))
    return E / np.sum(E, axis=1, keepdims=True)


def fcann2_classify(X, W2, b2, W1, b1):
    return softmax(relu(X @ W1 + b1) @ W2 + b2)


def fcann2_train(X, Y_, param_niter=100000, param_delta=0.05, param_lambda=1e-3, hidden=5):
    N, D = X.shape
    C = int(np.max(Y_)) + 1
    W1, b1 = np.random.randn(D, hidden), np.zeros((1, hidden))
    W2, b2 = np.random.randn(hidden, C), np.zeros((1, C))
    Yoh = np.eye(C)[Y_]
    for i in range(int(param_niter)):
        S1 = X @ W1 + b1
        H1 = relu(S1)
        P = softmax(H1 @ W2 + b2)
        Gs2 = (P - Yoh) / N
        grad_W2 = H1.T @ Gs2 + 2 * param_lambda * W2
        grad_b2 = np.sum(Gs2, axis=0, keepdims=True)
        Gs1 = (Gs2 @ W2.T) * (S1 > 0)
        grad_W1 = X.T @ Gs1 + 2 * param_lambda * W1
        grad_b1 = np.sum(Gs1, axis=0, keepdims=True)
        W1, b1 = W1 - param_delta * grad_W1, b1 - param_delta * grad_b1
        W2, b2 = W2 - param_delta * grad_W2, b2 - param_delta * grad_b2
    return W2, b2, W1, b1
