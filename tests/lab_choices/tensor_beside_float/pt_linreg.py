"""Not a mistake: the lab's loop, the hand gradients computed in Python floats and printed as floats (17
digits) before loss.backward(), autograd's printed after it as tensors (torch's 4 digits), under the same
label."""

import torch
import torch.optim as optim

a = torch.randn(1, requires_grad=True)
b = torch.randn(1, requires_grad=True)
X = torch.tensor([1, 2])
Y = torch.tensor([3, 5])
optimizer = optim.SGD([a, b], lr=0.1)

for i in range(100):
    Y_ = a * X + b
    diff = Y - Y_
    loss = torch.sum(diff ** 2)
    print(f"step: {i}, loss: {loss}")
    # dL/da = sum -2 (y - a x - b) x, dL/db = sum -2 (y - a x - b)
    hand_a = sum(-2 * (y - a.item() * x - b.item()) * x for x, y in zip(X.tolist(), Y.tolist()))
    hand_b = sum(-2 * (y - a.item() * x - b.item()) for x, y in zip(X.tolist(), Y.tolist()))
    print("a.grad:", hand_a, "b.grad:", hand_b)
    loss.backward()
    print("a.grad:", a.grad, "b.grad:", b.grad)
    optimizer.step()
    optimizer.zero_grad()
