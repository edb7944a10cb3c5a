"""Mistake: the hand gradients are taken after optimizer.step(), from the next step's a and b."""

import torch
import torch.optim as optim

a = torch.randn(1, requires_grad=True)
b = torch.randn(1, requires_grad=True)
X = torch.tensor([1.0, 2.0])
Y = torch.tensor([3.0, 5.0])
optimizer = optim.SGD([a, b], lr=0.1)

for i in range(100):
    Y_ = a * X + b
    diff = Y - Y_
    loss = torch.mean(diff ** 2)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        diff = Y - (a * X + b)
        grad_a = torch.mean(-2 * diff * X)
        grad_b = torch.mean(-2 * diff)
    print(f"step {i}: loss {loss.item():.6f} grad a {a.grad.item():.6f} (by hand {grad_a.item():.6f}) "
          f"grad b {b.grad.item():.6f} (by hand {grad_b.item():.6f})")
    optimizer.zero_grad()
