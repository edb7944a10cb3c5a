"""The lab's example, with the gradients by hand printed beside autograd's."""

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
    grad_a = torch.mean(-2 * diff * X)
    grad_b = torch.mean(-2 * diff)
    print(f"step {i}: loss {loss.item():.6f} grad a {a.grad.item():.6f} (by hand {grad_a.item():.6f}) "
          f"grad b {b.grad.item():.6f} (by hand {grad_b.item():.6f})")
    optimizer.step()
    optimizer.zero_grad()
