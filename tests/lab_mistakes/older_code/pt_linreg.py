"""Mistake: the hand gradients have the wrong sign (the derivative of (y - y')^2 by a is -2 (y - y') x)."""

import torch

a = torch.randn(1, requires_grad=True)
b = torch.randn(1, requires_grad=True)
X = torch.tensor([1.0, 2.0])
Y = torch.tensor([3.0, 5.0])
optimizer = torch.optim.SGD([a, b], lr=0.1)

for i in range(100):
    Y_ = a * X + b
    diff = Y - Y_
    loss = torch.mean(diff ** 2)
    loss.backward()
    hand_a = torch.mean(2 * diff * X)
    hand_b = torch.mean(2 * diff)
    print(f"step {i}: loss {loss.item():.6f}, dL/da {a.grad.item():.6f} by hand {hand_a.item():.6f}, "
          f"dL/db {b.grad.item():.6f} by hand {hand_b.item():.6f}")
    optimizer.step()
    optimizer.zero_grad()
