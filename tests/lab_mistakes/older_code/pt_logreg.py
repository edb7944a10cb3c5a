"""Mistake: the penalty twice: param_lambda ||W|| (the norm) in get_loss, and again as SGD's
weight_decay=param_lambda in train."""

import torch
import torch.nn as nn


class PTLogreg(nn.Module):
    def __init__(self, D, C):
        super().__init__()
        self.W = nn.Parameter(torch.randn(D, C) * 0.01)
        self.b = nn.Parameter(torch.zeros(C))

    def forward(self, X):
        return torch.softmax(torch.mm(X, self.W) + self.b, dim=1)

    def get_loss(self, X, Yoh_, param_lambda=0):
        logp = torch.log_softmax(torch.mm(X, self.W) + self.b, dim=1)
        return -torch.mean(torch.sum(Yoh_ * logp, dim=1)) + param_lambda * torch.linalg.norm(self.W)


def train(model, X, Yoh_, param_niter, param_delta, param_lambda=0):
    optimizer = torch.optim.SGD(model.parameters(), lr=param_delta, weight_decay=param_lambda)
    for i in range(param_niter):
        loss = model.get_loss(X, Yoh_, param_lambda)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if i % 1000 == 0:
            print(f"step {i}: loss {loss.item():.6f}")


def eval(model, X):
    return model.forward(torch.Tensor(X)).detach().numpy()
