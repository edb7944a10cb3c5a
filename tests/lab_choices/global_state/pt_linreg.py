"""Not a mistake: the lab's example on ten points drawn without a seed (torch.randn)."""

import torch
import torch.optim as optim

a = torch.randn(1, requires_grad=True)
b = torch.randn(1, requires_grad=True)
X = torch.randn(10)
Y = 2 * X + 1 + 0.1 * torch.randn(10)
optimizer = optim.SGD([a, b], lr=0.1)

for i in range(100):
    Y_ = a * X + b
    diff = Y - Y_
    loss = torch.mean(diff ** 2)
    loss.backward()
    grad_a = torch.mean(-2 * diff * X)
    grad_b = torch.mean(-2 * diff)
    print(f"step {i}: loss {loss.item():.6f} grad a {a.grad.item():.6f} (by hand {grad_a.item():.6f}) "
          f"grad b {b.grad.item():.6f} (by hand {grad_b.item():.6f})")
    optimizer.step()
    optimizer.zero_grad()
