"""Not a mistake: the penalty is param_lambda ||W||, the norm not squared (torch.norm), in get_loss,
which train minimizes."""

import torch
import torch.nn as nn


class PTLogreg(nn.Module):
    def __init__(self, D, C):
        super().__init__()
        self.W = nn.Parameter(0.1 * torch.randn(D, C))
        self.b = nn.Parameter(torch.zeros(C))

    def forward(self, X):
        return torch.softmax(X @ self.W + self.b, dim=1)

    def get_loss(self, X, Yoh_, param_lambda=0.0):
        scores = X @ self.W + self.b
        nll = -(Yoh_ * torch.log_softmax(scores, dim=1)).sum(dim=1).mean()
        return nll + param_lambda * torch.norm(self.W)


def train(model, X, Yoh_, param_niter, param_delta, param_lambda=0.0):
    optimizer = torch.optim.SGD(model.parameters(), lr=param_delta)
    for i in range(param_niter):
        loss = model.get_loss(X, Yoh_, param_lambda)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if i % 500 == 0:
            print(i, loss.item())


def eval(model, X):
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32)).numpy()
