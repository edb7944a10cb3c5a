"""Not a mistake: the biases are column vectors and the layers computed as W @ X.T (the lab's
vector equations); it prints the loss as two bare numbers."""

import numpy as np


def softmax(S):
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def fcann2_classify(X, W1, b1, W2, b2):
    return softmax((W2 @ np.maximum(W1 @ X.T + b1, 0) + b2).T)


def fcann2_train(X, Y_, param_niter=int(1e5), param_delta=0.05, param_lambda=1e-3, hidden=5):
    N, D = X.shape
    C = max(Y_) + 1
    W1, b1 = np.random.randn(hidden, D), np.zeros((hidden, 1))
    W2, b2 = np.random.randn(C, hidden), np.zeros((C, 1))
    Yoh = np.eye(C)[Y_]
    for i in range(int(param_niter)):
        S1 = (W1 @ X.T + b1).T
        H1 = np.maximum(S1, 0)
        P = softmax((W2 @ H1.T + b2).T)
        if i % 1000 == 0:
            loss = -np.mean(np.log(P[range(N), Y_])) + param_lambda * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
            print(i, loss)
        Gs2 = (P - Yoh) / N
        grad_W2 = Gs2.T @ H1 + 2 * param_lambda * W2
        grad_b2 = Gs2.sum(axis=0).reshape(-1, 1)
        Gs1 = (Gs2 @ W2) * (S1 > 0)
        grad_W1 = Gs1.T @ X + 2 * param_lambda * W1
        grad_b1 = Gs1.sum(axis=0).reshape(-1, 1)
        W1, b1 = W1 - param_delta * grad_W1, b1 - param_delta * grad_b1
        W2, b2 = W2 - param_delta * grad_W2, b2 - param_delta * grad_b2
    return W1, b1, W2, b2
