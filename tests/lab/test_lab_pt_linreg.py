"""Task 3, pt_linreg.py: the lab's example, y = a*x + b through (1, 3) and (2, 5) by SGD.

The lab names no function here, only a program: it is run as a script. The lab's example keeps its
parameters `a`, `b` and its points `X`, `Y` at the top level; where the script does too, the fitted line
is checked against the least-squares line through its points. A script that keeps them inside functions
is not wrong (the lab leaves that open): the line is then not checked.
"""

import contextlib
import io
import runpy
import sys

import numpy as np
import pytest
import torch
from lab_check import check_imports, expect, lab_fail, module_fixture

pt_linreg = module_fixture("pt_linreg")


def test_imports(lab_modules):
    check_imports(lab_modules, "pt_linreg", ())


@pytest.fixture
def script_run(pt_linreg, monkeypatch):
    """The module run as `python pt_linreg.py`: (its top-level names, what it printed)."""
    monkeypatch.setattr(sys, "argv", [pt_linreg.__file__])
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            names = runpy.run_path(pt_linreg.__file__, run_name="__main__")
    except SystemExit as error:
        if error.code not in (None, 0):
            lab_fail(f"pt_linreg: `python pt_linreg.py` exited with {error.code}")
        names = {}
    except Exception as error:
        lab_fail(f"pt_linreg: `python pt_linreg.py` raised {type(error).__name__}: {error}")
    return names, printed.getvalue()


def test_the_script_runs_and_prints_its_progress(script_run):
    _, printed = script_run
    expect(printed.strip(), "pt_linreg: the lab asks the script to print the loss and the gradients while it "
                            "trains; `python pt_linreg.py` printed nothing")


def test_the_fitted_line_goes_through_the_points(script_run):
    names, _ = script_run
    values = {k: names.get(k) for k in ("a", "b", "X", "Y")}
    if not all(isinstance(v, torch.Tensor) for v in values.values()):
        pytest.skip("the script keeps a, b, X, Y inside functions: the fitted line is not checked")
    a, b, X, Y = (v.detach().double().reshape(-1).numpy() for v in values.values())
    slope, intercept = np.polyfit(X, Y, 1)
    fitted, best = a[0] * X + b[0], slope * X + intercept
    expect(np.max(np.abs(fitted - best)) <= 0.1 * (1 + np.max(np.abs(Y))),
           f"pt_linreg: after training, y = a*x + b should pass close to the least-squares line through the points "
           f"(y = {slope:.3f} x + {intercept:.3f}); got y = {a[0]:.3f} x + {b[0]:.3f}")
