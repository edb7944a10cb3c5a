"""Not a mistake: the top-level a and b are the lab's first autograd example, never trained, and X, Y the
lab's points; the line is fitted by fit_line, whose a and b are its own. The gradients printed as
`grad_a = ...` beside `grad_a analitic = ...`, rounded to 4 decimals."""

import torch

# the lab's first example: y = a*x + b at x = 2
a = torch.tensor(5.0, requires_grad=True)
b = torch.tensor(8.0, requires_grad=True)
y = a * 2 + b

# the points the line goes through
X = torch.tensor([1.0, 2.0])
Y = torch.tensor([3.0, 5.0])


def fit_line(X, Y, steps=100, lr=0.1):
    a = torch.randn(1, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    optimizer = torch.optim.SGD([a, b], lr=lr)
    for i in range(steps):
        Y_ = a * X + b
        loss = torch.mean((Y - Y_) ** 2)
        optimizer.zero_grad()
        loss.backward()
        grad_a = torch.mean(2 * (Y_ - Y) * X).item()
        grad_b = torch.mean(2 * (Y_ - Y)).item()
        print(f"{i}: grad_a = {a.grad.item():.4f}, grad_a analitic = {grad_a:.4f}, "
              f"grad_b = {b.grad.item():.4f}, grad_b analitic = {grad_b:.4f}")
        optimizer.step()
    return a, b


if __name__ == "__main__":
    fit_line(X, Y)
