"""Mistake: the penalty is on each row's sum of a weight matrix (over the classes it feeds), a quadratic
form the softmax is blind to: adding the same number to a row of W changes no probability."""

import torch
import torch.nn as nn


class PTDeep(nn.Module):
    def __init__(self, config, activation=torch.relu):
        super().__init__()
        self.activation = activation
        self.weights = nn.ParameterList([nn.Parameter(0.5 * torch.randn(m, n)) for m, n in zip(config, config[1:])])
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(n)) for n in config[1:]])

    def forward(self, X):
        h = X
        for W, b in zip(self.weights[:-1], self.biases[:-1]):
            h = self.activation(h @ W + b)
        return torch.softmax(h @ self.weights[-1] + self.biases[-1], dim=1)

    def get_loss(self, X, Yoh_):
        return -torch.mean(torch.sum(Yoh_ * torch.log(self.forward(X) + 1e-13), dim=1))

    def count_params(self):
        for name, p in self.named_parameters():
            print(name, list(p.shape))
        return sum(p.numel() for p in self.parameters())


def train(model, X, Yoh_, param_niter, param_delta, param_lambda=0.0):
    optimizer = torch.optim.SGD(model.parameters(), lr=param_delta)
    for i in range(param_niter):
        penalty = sum(torch.sum(W.sum(dim=1) ** 2) for W in model.weights)
        loss = model.get_loss(X, Yoh_) + param_lambda * penalty
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def eval(model, X):
    return model(torch.tensor(X)).detach().numpy()
