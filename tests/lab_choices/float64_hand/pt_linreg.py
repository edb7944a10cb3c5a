"""Not a mistake: a_grad beside a_hand on one line, the hand gradients computed in float64 from float32
parameters and printed with every digit (they differ from autograd's float32 in the last ones)."""

import torch

a = torch.randn(1, requires_grad=True)
b = torch.randn(1, requires_grad=True)
X = torch.tensor([1.0, 2.0])
Y = torch.tensor([3.0, 5.0])
optimizer = torch.optim.SGD([a, b], lr=0.1)

for i in range(100):
    Y_ = a * X + b
    loss = ((Y_ - Y) ** 2).mean()
    optimizer.zero_grad()
    loss.backward()
    with torch.no_grad():
        residual = a.double() * X.double() + b.double() - Y.double()
        a_hand, b_hand = (2 * residual * X.double()).mean().item(), (2 * residual).mean().item()
    print(f"i={i} loss={loss.item()} a_grad={a.grad.item()} a_hand={a_hand} b_grad={b.grad.item()} b_hand={b_hand}")
    optimizer.step()
