"""Mistake: count_params counts the parameter tensors, not the numbers in them."""

import torch
import torch.nn as nn


class PTDeep(nn.Module):
    def __init__(self, config, activation=torch.relu):
        super().__init__()
        self.weights = nn.ParameterList([nn.Parameter(torch.randn(i, o) * 0.1) for i, o in zip(config, config[1:])])
        self.biases = nn.ParameterList([nn.Parameter(torch.zeros(o)) for o in config[1:]])
        self.activation = activation

    def count_params(self):
        for name, p in self.named_parameters():
            print(name, tuple(p.shape))
        return len(list(self.parameters()))
