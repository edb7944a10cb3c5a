"""Not a mistake: PTDeep with its own train and eval; the penalty is param_lambda times the sum of the
weight matrices' norms (not squared), added in train."""

import numpy as np
import torch
import torch.nn as nn


class PTDeep(nn.Module):
    def __init__(self, config, activation=torch.relu):
        super().__init__()
        self.activation = activation
        self.weights = nn.ParameterList(
            [nn.Parameter(torch.randn(m, n) * np.sqrt(2 / m)) for m, n in zip(config, config[1:])])
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(n)) for n in config[1:]])

    def scores(self, X):
        h = X
        for k, (W, b) in enumerate(zip(self.weights, self.biases)):
            h = h @ W + b
            if k < len(self.weights) - 1:
                h = self.activation(h)
        return h

    def forward(self, X):
        return torch.softmax(self.scores(X), dim=1)

    def get_loss(self, X, Yoh_):
        return -torch.mean(torch.sum(Yoh_ * torch.log_softmax(self.scores(X), dim=1), dim=1))

    def count_params(self):
        total = 0
        for name, p in self.named_parameters():
            print(name, tuple(p.shape))
            total += p.numel()
        print("total:", total)
        return total


def train(model, X, Yoh_, param_niter, param_delta, param_lambda=0.0):
    optimizer = torch.optim.SGD(model.parameters(), lr=param_delta)
    for i in range(param_niter):
        loss = model.get_loss(X, Yoh_) + param_lambda * sum(torch.norm(W) for W in model.weights)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 1000 == 0:
            print(f"iteration {i}: loss {loss.item():.5f}")


def eval(model, X):
    with torch.no_grad():
        return model(torch.from_numpy(X)).numpy()
