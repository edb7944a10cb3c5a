"""Mistakes: get_loss applies nn.CrossEntropyLoss to forward's probabilities (a second softmax);
count_params is a module function, not PTDeep's method. Its own train and eval (right)."""

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
        penalty = sum(torch.sum(W ** 2) for W in self.weights)
        return nn.CrossEntropyLoss()(self.forward(X), Yoh_.argmax(dim=1)) + param_lambda * penalty


def count_params(model):
    for name, p in model.named_parameters():
        print(name, tuple(p.shape))
    return sum(p.numel() for p in model.parameters())


def train(model, X, Yoh_, param_niter, param_delta, param_lambda=0):
    optimizer = torch.optim.SGD(model.parameters(), lr=param_delta)
    for _ in range(param_niter):
        loss = model.get_loss(X, Yoh_, param_lambda)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def eval(model, X):
    return model.forward(torch.Tensor(X)).detach().numpy()
