"""The lab's contract as checks any implementation can run: `python -m pytest tests/lab --impl DIR`.

DIR holds a student's data.py, fcann2.py, pt_linreg.py, pt_logreg.py, pt_deep.py and ksvm_wrap.py (the
default: this project). Only what the lab text names is checked: its signatures, return tuples, methods
and behaviour, never this project's own extensions. Each module is one task, imported afresh for its own
checks (what it changes for the process is put back afterwards). A task's first check (test_imports)
imports it and makes the lab's basic calls; when that fails, the task's other checks skip with a pointer
to it. A check that runs longer than --lab-time-limit seconds is stopped with a message. After the
checks, one line per task says passed, or failed with its first message.

A failed check reads as a note to a student: what the lab asks, what their code did, where to look.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from lab_check import LAB_MODULES, NOTES, PROJECT, VERDICTS, seed_everything, time_limit


def pytest_configure(config):
    folder = Path(config.getoption("--impl") or PROJECT).resolve()
    if not folder.is_dir():
        raise pytest.UsageError(f"--impl: expected a folder holding the lab's modules, got {folder}")
    config.lab_folder = folder


@pytest.fixture(autouse=True)
def lab_check_setting(request):
    """Every check starts from the same random draws and the headless backend, within the time limit."""
    seed_everything()
    if plt.get_backend().lower() != "agg":
        plt.switch_backend("Agg")
    with time_limit(request.config.getoption("--lab-time-limit"), request.node.name):
        yield
    plt.close("all")


def task_of(nodeid):
    """'fcann2' for tests/lab/test_lab_fcann2.py::..., else None."""
    file = nodeid.split("::")[0]
    name = Path(file).stem.removeprefix("test_lab_")
    return name if Path(file).parent.name == "lab" and name in LAB_MODULES else None


def pytest_runtest_logreport(report):
    task = task_of(report.nodeid)
    if task is None:
        return
    verdict = VERDICTS.setdefault(task, {"failed": [], "passed": 0, "skipped": 0})
    if report.failed:
        verdict["failed"].append(report.longreprtext.strip().splitlines()[0] if report.longreprtext.strip() else "")
    elif report.skipped:
        verdict["skipped"] += 1
    elif report.when == "call":
        verdict["passed"] += 1


def pytest_terminal_summary(terminalreporter):
    if not VERDICTS:
        return
    terminalreporter.section("the lab's tasks")
    for task in LAB_MODULES:
        verdict = VERDICTS.get(task)
        if verdict is None:
            continue
        failed, passed = verdict["failed"], verdict["passed"]
        notes = f"; {'; '.join(NOTES[task])}" if NOTES.get(task) else ""
        if failed:
            line = f"{task:<10} FAILED {len(failed)} of {len(failed) + passed} checks: {failed[0]}"
        elif not passed:
            line = f"{task:<10} not checked ({verdict['skipped']} skipped)"
        else:
            line = f"{task:<10} passed ({passed} checks{notes})"
        terminalreporter.write_line(line)
