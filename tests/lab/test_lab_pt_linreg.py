"""Task 3, pt_linreg.py: the lab's example, y = a*x + b through (1, 3) and (2, 5) by SGD.

The lab names no function here, only a program: it is run as a script (from the same seeds every time:
a script may draw unseeded data). The lab asks it to compute the gradients of a and b by hand and print
them beside PyTorch's, equal. The check records autograd's gradients at each `backward()` and what the
script prints after it, before the next: that is the step's output. The script may print at any step
(every tenth, from step 10), in any format (a tensor's 4 digits beside a float's 17, NumPy scalars, one
line or several, labels in any language); two numbers equal at the precision printed are equal, and a
hand gradient computed in float64 or in another order than autograd's may differ by float32's rounding.
At the first step whose output shows autograd's gradients (or only their differences from the hand's,
zero), each must be printed twice (or the difference zero), or once there and once just before that
step's backward() (hand gradients printed before autograd computes its own). A hand gradient computed
after `optimizer.step()` is the next step's, and is named as such; one that is a multiple of autograd's
too.

Where the script's top-level `a` and `b` are the tensors training updated (the leaves of the graph the
last `backward()` went through), the fitted line is checked against the least-squares line through its
top-level points `X`, `Y`. A script that trains other tensors (inside functions) is not wrong: the lab
leaves that open, and the line is then not checked.
"""

import io
import sys
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from lab_check import check_first, describe, expect, lab_fail, numbers_in, short, task_fixtures

lab_task, pt_linreg = task_fixtures("pt_linreg", lambda task: None)

# A hand gradient in float64, or in another order than autograd's float32, differs from it by a few
# float32 roundings: relatively, well under 1e-5.
ROUNDING = 1e-5
RECORDED = 10_000  # the steps whose output is kept (the lab's script takes 100)


def test_imports(lab_task):
    check_first(lab_task)


def graph_leaves(node, found=None, seen=None):
    """The tensors a backward pass from `node` (a grad_fn) accumulates gradients into."""
    found, seen = ([] if found is None else found), (set() if seen is None else seen)
    if node is None or id(node) in seen:
        return found
    seen.add(id(node))
    if hasattr(node, "variable"):
        found.append(node.variable)
    for child, _ in getattr(node, "next_functions", ()):
        graph_leaves(child, found, seen)
    return found


@dataclass
class Step:
    """One backward() of the script: autograd's gradients of the one- or two-number leaves, and what the
    script printed after it, before the next backward()."""

    gradients: list
    printed: str = ""


class Run(io.TextIOBase):
    """The script run as `python pt_linreg.py`, as a file its output is written to: its top-level `names`,
    its `steps`, what it printed `before` the first backward(), and the leaves the last backward() reached
    (`trained`: the tensors training updates)."""

    def __init__(self):
        super().__init__()
        self.names, self.steps, self.before, self.trained = {}, [], "", []

    def writable(self):
        return True

    def write(self, text):
        if self.steps:
            self.steps[-1].printed += text
        else:
            self.before += text
        return len(text)

    def printed(self):
        return self.before + "".join(step.printed for step in self.steps)


@pytest.fixture
def script_run(pt_linreg, monkeypatch):
    """The module run as `python pt_linreg.py`, its output cut at each backward() (see Run)."""
    import runpy

    run, original, inside = Run(), torch.Tensor.backward, []

    def backward(self, *args, **kwargs):
        if inside:  # a torch function mode (set_default_device's) calls backward again from within: one step
            return original(self, *args, **kwargs)
        inside.append(self)
        try:
            result = original(self, *args, **kwargs)
        finally:
            inside.pop()
        leaves = [leaf for leaf in graph_leaves(self.grad_fn) if leaf.numel() <= 2 and leaf.grad is not None]
        run.trained = leaves
        if len(run.steps) < RECORDED:
            run.steps.append(Step([float(v) for leaf in leaves for v in leaf.grad.reshape(-1)]))
        return result

    monkeypatch.setattr(torch.Tensor, "backward", backward)
    monkeypatch.setattr(sys, "argv", [pt_linreg.__file__])
    monkeypatch.setattr(sys, "stdout", run)
    monkeypatch.setattr(sys, "stderr", run)  # logging's output, print(..., file=sys.stderr)
    problem = None
    try:
        run.names = runpy.run_path(pt_linreg.__file__, run_name="__main__")
    except SystemExit as error:
        if error.code not in (None, 0):
            problem = f"exited with {error.code}"
    except Exception as error:
        problem = f"raised {describe(error)}"
    monkeypatch.undo()
    if problem:
        lab_fail(f"pt_linreg: `python pt_linreg.py` {problem}")
    return run


def equal(number, value):
    """Whether a printed (value, tolerance) stands for `value`, at the precision printed."""
    x, tolerance = number
    return abs(x - value) <= tolerance + ROUNDING * abs(value)


def zero_beside(number, gradients):
    """Whether a printed number is 0 at the precision of the gradients, which themselves are not: a
    difference hand - autograd printed instead of the two values."""
    x, tolerance = number
    scale = max(abs(v) for v in gradients)
    return abs(x) <= tolerance + ROUNDING * scale and not any(equal(number, v) for v in gradients)


def listed(gradients):
    return ", ".join(f"{v:.6g}" for v in gradients)


def first_shown(steps):
    """(k, how many times each gradient of step k is printed, how many zero differences) for the first step
    k whose output shows autograd's gradients or their differences from the hand's; None if none does."""
    for k, step in enumerate(steps):
        numbers = numbers_in(step.printed)
        counts = [sum(equal(x, v) for x in numbers) for v in step.gradients]
        differences = sum(zero_beside(x, step.gradients) for x in numbers)
        if all(counts) or differences >= len(step.gradients):
            return k, counts, differences
    return None


def test_the_script_prints_the_hand_gradients_beside_autograds(script_run):
    steps = script_run.steps
    expect(steps and steps[0].gradients, "pt_linreg: the lab's script fits a and b with PyTorch's autograd "
                                         "(loss.backward()); `python pt_linreg.py` never called backward()")
    shown = first_shown(steps)
    if shown is None:
        some = any(equal(x, v) for step in steps for x in numbers_in(step.printed) for v in step.gradients)
        lab_fail("pt_linreg: could not find the gradients of a and b in what the script printed (the lab asks it to "
                 f"print them): at the first step autograd's are {listed(steps[0].gradients)}, and "
                 f"{'not all of them are' if some else 'none of them is'} in its output at any step (printed: "
                 f"{short(script_run.printed().strip() or 'nothing', 200)})")
    k, counts, differences = shown
    step, numbers = steps[k], numbers_in(steps[k].printed)
    if all(c >= 2 for c in counts) or differences >= len(step.gradients):
        return
    # Autograd's values are printed once. Were the hand's printed before backward() (the same values)?
    once = [v for v, c in zip(step.gradients, counts, strict=True) if c == 1]
    earlier = numbers_in(steps[k - 1].printed if k else script_run.before)
    if all(any(equal(x, v) for x in earlier) for v in once):
        return
    # What else did the script print at that step?
    others = [x for x in numbers if not any(equal(x, v) for v in step.gradients)]
    where = f"at step {k} autograd's gradients are {listed(step.gradients)}, each printed once"
    following = steps[k + 1].gradients if k + 1 < len(steps) else []
    if following and all(any(equal(x, w) for x in others) for w in following):
        lab_fail(f"pt_linreg: the lab asks for the gradients of a and b computed by hand, printed beside PyTorch's and "
                 f"equal to them; {where}, and beside them the script printed {listed(following)}, autograd's "
                 "gradients of the next step: are the hand gradients computed after optimizer.step(), from the next "
                 "step's a and b?")
    for factor in (-1, 2, 0.5, -2, -0.5):
        if all(any(equal(x, factor * v) for x in others) for v in once):
            lab_fail(f"pt_linreg: the lab asks for the gradients of a and b computed by hand, equal to PyTorch's; "
                     f"{where}, and beside them the script printed {listed(factor * v for v in once)}: {factor:g} "
                     "times autograd's (a sign, or the factor 2 of the square's derivative?)")
    lab_fail(f"pt_linreg: could not find the hand gradients in what the script printed: {where}, with no other "
             f"number equal to them (printed at that step: {short(step.printed.strip(), 200)}). The lab asks for the "
             "gradients of a and b computed by hand, printed beside PyTorch's and equal to them.")


def test_the_fitted_line_goes_through_the_points(script_run):
    names, trained = script_run.names, script_run.trained
    tensors = {k: names.get(k) for k in ("a", "b", "X", "Y")}
    if not all(isinstance(v, torch.Tensor) for v in tensors.values()):
        pytest.skip("the script keeps a, b, X, Y inside functions: the fitted line is not checked")
    if not all(any(tensors[k] is leaf for leaf in trained) for k in ("a", "b")):
        pytest.skip("the script's top-level a and b are not the tensors its training updated (those live inside a "
                    "function): the fitted line is not checked")
    a, b, X, Y = (v.detach().double().reshape(-1).numpy() for v in tensors.values())
    slope, intercept = np.polyfit(X, Y, 1)
    fitted, best = a[0] * X + b[0], slope * X + intercept
    expect(np.max(np.abs(fitted - best)) <= 0.1 * (1 + np.max(np.abs(Y))),
           f"pt_linreg: after training, y = a*x + b should pass close to the least-squares line through the points "
           f"(y = {slope:.3f} x + {intercept:.3f}); got y = {a[0]:.3f} x + {b[0]:.3f}")
