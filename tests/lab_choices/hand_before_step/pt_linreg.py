"""Not a mistake: the hand gradients computed before optimizer.step() and printed after it, autograd's
labelled `pytorch:` and the hand's `ours:` on lines of their own; the script picks an interactive backend
and shows the fitted line at the end."""

import matplotlib
import matplotlib.pyplot as plt
import torch

matplotlib.use("TkAgg")

a = torch.randn(1, requires_grad=True)
b = torch.randn(1, requires_grad=True)
X = torch.tensor([1.0, 2.0])
Y = torch.tensor([3.0, 5.0])
optimizer = torch.optim.SGD([a, b], lr=0.1)

for i in range(100):
    optimizer.zero_grad()
    Y_ = a * X + b
    loss = torch.sum((Y - Y_) ** 2)
    loss.backward()
    ours = (torch.sum(2 * (Y_ - Y) * X).item(), torch.sum(2 * (Y_ - Y)).item())
    optimizer.step()
    print(f"step {i}, loss {loss.item():.6f}")
    print(f"  pytorch: {a.grad.item():.6f} {b.grad.item():.6f}")
    print(f"  ours:    {ours[0]:.6f} {ours[1]:.6f}")

plt.scatter(X, Y)
plt.plot(X, (a * X + b).detach())
plt.show()
