"""Not a mistake: labels in Croatian, one multi-line f-string with tabs every tenth step from step 10 (none
at step 0), the gradients as NumPy scalars (a.grad.detach().numpy()[0])."""

import torch

a = torch.randn(1, requires_grad=True)
b = torch.randn(1, requires_grad=True)
X = torch.tensor([1.0, 2.0])
Y = torch.tensor([3.0, 5.0])
optimizer = torch.optim.SGD([a, b], lr=0.1)

for korak in range(1, 101):
    Y_ = a * X + b
    razlika = Y - Y_
    gubitak = torch.mean(razlika ** 2)
    optimizer.zero_grad()
    gubitak.backward()
    with torch.no_grad():
        rucno_a = torch.mean(-2 * razlika * X)  # derivacija srednje kvadratne pogreske po a
        rucno_b = torch.mean(-2 * razlika)
    if korak % 10 == 0:
        print(f"""korak {korak}:
\tgubitak\t{gubitak.item():.5f}
\tgradijent a (pytorch)\t{a.grad.detach().numpy()[0]}\tručno\t{rucno_a.numpy()}
\tgradijent b (pytorch)\t{b.grad.detach().numpy()[0]}\tručno\t{rucno_b.numpy()}""")
    optimizer.step()
