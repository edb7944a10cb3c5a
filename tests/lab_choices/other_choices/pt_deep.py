"""Not a mistake: float64 parameters; forward returns log-probabilities and pt_deep's own
eval turns them into probabilities; train with weight_decay, as in pt_logreg."""

import torch
import numpy as np
import torch.nn as nn


class PTDeep(nn.Module):
    def __init__(self, config, activation=torch.relu):
        super().__init__()
        self.weights = nn.ParameterList([nn.Parameter(torch.tensor(np.random.randn(i, o) / i ** 0.5))
                                         for i, o in zip(config, config[1:])])
        self.biases = nn.ParameterList([nn.Parameter(torch.tensor(np.zeros(o))) for o in config[1:]])
        self.activation = activation

    def scores(self, X):
        h = X
        for W, b in list(zip(self.weights, self.biases))[:-1]:
            h = self.activation(torch.mm(h, W) + b)
        return torch.mm(h, self.weights[-1]) + self.biases[-1]

    def forward(self, X):
        return torch.log_softmax(self.scores(X), dim=1)

    def get_loss(self, X, Yoh_):
        return torch.nn.functional.nll_loss(self.forward(X), Yoh_.argmax(dim=1))

    def count_params(self):
        total = 0
        for name, p in self.named_parameters():
            print(name, tuple(p.shape))
            total += p.numel()
        print("total", total)
        return total


def train(model, X, Yoh_, param_niter, param_delta, param_lambda=0):
    optimizer = torch.optim.SGD([{"params": model.weights, "weight_decay": param_lambda}, {"params": model.biases}],
                                lr=param_delta)
    for _ in range(param_niter):
        loss = model.get_loss(torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(Yoh_, dtype=torch.float64))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def eval(model, X):
    with torch.no_grad():
        return torch.softmax(model.forward(torch.as_tensor(X, dtype=torch.float64)), dim=1).numpy()
