"""Mistake: the loss is the mean of the differences, not of their squares: the gradients by hand agree
with autograd's, and the line the top-level a, b are trained to misses the points."""

import torch

a = torch.randn(1, requires_grad=True)
b = torch.randn(1, requires_grad=True)
X = torch.tensor([1.0, 2.0])
Y = torch.tensor([3.0, 5.0])
optimizer = torch.optim.SGD([a, b], lr=0.1)

for i in range(100):
    Y_ = a * X + b
    loss = torch.mean(Y - Y_)
    loss.backward()
    grad_a, grad_b = -X.mean(), torch.tensor(-1.0)
    print(f"step {i}: loss {loss.item():.4f}; a: {a.grad.item():.4f} (hand {grad_a.item():.4f}), "
          f"b: {b.grad.item():.4f} (hand {grad_b.item():.4f})")
    optimizer.step()
    optimizer.zero_grad()
