"""Not a mistake: a right fcann2 that makes choices the lab leaves open. Its hyper-parameters are named
n_iter, lr and reg; W1 is [D x H] and the biases are row vectors; it shuffles nothing and prints a lot."""

import numpy as np


def forward(X, W1, b1, W2, b2):
    S1 = X @ W1 + b1
    H1 = np.maximum(S1, 0)
    S2 = H1 @ W2 + b2
    E = np.exp(S2 - S2.max(axis=1, keepdims=True))
    return S1, H1, E / E.sum(axis=1, keepdims=True)


def fcann2_classify(X, W1, b1, W2, b2):
    return forward(X, W1, b1, W2, b2)[2]


def fcann2_train(X, Y_, n_iter=100_000, lr=0.05, reg=1e-3, hidden_dim=5):
    N, D = X.shape
    C = int(np.max(Y_)) + 1
    W1, b1 = np.random.randn(D, hidden_dim), np.zeros((1, hidden_dim))
    W2, b2 = np.random.randn(hidden_dim, C) / np.sqrt(hidden_dim), np.zeros((1, C))
    Yoh_ = np.eye(C)[Y_]
    for i in range(int(n_iter)):
        S1, H1, P = forward(X, W1, b1, W2, b2)
        if i % 1000 == 0:
            print(i, -np.mean(np.log(P[np.arange(N), Y_])))
        Gs2 = (P - Yoh_) / N
        Gs1 = (Gs2 @ W2.T) * (S1 > 0)
        W2 -= lr * (H1.T @ Gs2 + 2 * reg * W2)
        b2 -= lr * Gs2.sum(axis=0, keepdims=True)
        W1 -= lr * (X.T @ Gs1 + 2 * reg * W1)
        b1 -= lr * Gs1.sum(axis=0, keepdims=True)
    return W1, b1, W2, b2
