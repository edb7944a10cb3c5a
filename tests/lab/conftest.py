"""The lab's contract as checks any implementation can run: `python -m pytest tests/lab --impl DIR`.

DIR holds a student's data.py, fcann2.py, pt_linreg.py, pt_logreg.py, pt_deep.py and ksvm_wrap.py (the
default: this project). Only what the lab text names is checked: its signatures, return tuples, methods
and behaviour, never this project's own extensions. Each module is one task: its first check imports it
and fails once with a message when the module is missing or does not import; the task's other checks
then skip. A check that runs longer than --lab-time-limit seconds is stopped with a message.

A failed check reads as a note to a student: what the lab asks, what their code did, where to look.
"""

from pathlib import Path

import pytest
from lab_check import PROJECT, import_lab_modules, time_limit


@pytest.fixture(scope="session")
def lab_modules(request):
    folder = Path(request.config.getoption("--impl") or PROJECT).resolve()
    if not folder.is_dir():
        raise pytest.UsageError(f"--impl: expected a folder holding the lab's modules, got {folder}")
    return import_lab_modules(folder, request.config.getoption("--lab-time-limit"))


@pytest.fixture(autouse=True)
def lab_time_limit(request):
    with time_limit(request.config.getoption("--lab-time-limit"), request.node.name):
        yield
