"""Not a mistake: the script keeps a, b, X, Y in main(), on three points, and prints the hand
gradients beside autograd's on lines of their own."""

import torch


def main():
    a = torch.randn(1, requires_grad=True)
    b = torch.randn(1, requires_grad=True)
    X = torch.tensor([1.0, 2.0, 3.0])
    Y = torch.tensor([3.0, 5.0, 7.5])
    optimizer = torch.optim.SGD([a, b], lr=0.05)
    for i in range(200):
        Y_ = a * X + b
        loss = torch.mean((Y - Y_) ** 2)
        grad_a = torch.mean(2 * (Y_ - Y) * X).item()
        grad_b = torch.mean(2 * (Y_ - Y)).item()
        optimizer.zero_grad()
        loss.backward()
        print(f"step {i}: loss={loss.item():.4f}")
        print(f"  dL/da  torch={a.grad.item():.5f}  analytic={grad_a:.5f}")
        print(f"  dL/db  torch={b.grad.item():.5f}  analytic={grad_b:.5f}")
        optimizer.step()


if __name__ == "__main__":
    main()
