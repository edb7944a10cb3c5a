"""Mistake: count_params returns the names and the total and prints nothing. Its own eval (right)."""

import torch
import torch.nn as nn


class PTDeep(nn.Module):
    def __init__(self, config, activation=torch.relu):
        super().__init__()
        self.weights = nn.ParameterList([nn.Parameter(torch.randn(i, o) / i ** 0.5)
                                         for i, o in zip(config, config[1:])])
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(o)) for o in config[1:]])
        self.activation = activation

    def scores(self, X):
        h = X
        for W, b in list(zip(self.weights, self.biases))[:-1]:
            h = self.activation(torch.mm(h, W) + b)
        return torch.mm(h, self.weights[-1]) + self.biases[-1]

    def forward(self, X):
        return torch.softmax(self.scores(X), dim=1)

    def get_loss(self, X, Yoh_, param_lambda=0):
        logp = torch.log_softmax(self.scores(X), dim=1)
        penalty = sum(torch.sum(W ** 2) for W in self.weights)
        return -torch.mean(torch.sum(Yoh_ * logp, dim=1)) + param_lambda * penalty

    def count_params(self):
        names = [(name, tuple(p.shape)) for name, p in self.named_parameters()]
        return names, sum(p.numel() for p in self.parameters())


def eval(model, X):
    return model.forward(torch.Tensor(X)).detach().numpy()
