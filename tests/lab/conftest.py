"""The lab's contract as checks any implementation can run: `python -m pytest tests/lab --impl DIR`.

DIR holds a student's data.py, fcann2.py, pt_linreg.py, pt_logreg.py, pt_deep.py and ksvm_wrap.py (the
default: this project). Only what the lab text names is checked: its signatures, return tuples, methods
and behaviour, never this project's own extensions. Each module is one task, imported afresh for its own
checks (what it changes for the process is put back afterwards). A task's first check (test_imports)
imports it and makes the lab's basic calls; when that fails, the task's other checks skip with a pointer
to it. A check that runs longer than --lab-time-limit seconds is stopped with a message. After the
checks, one line per task says passed, or failed with its first message.

A failed check reads as a note to a student: what the lab asks, what their code did, where to look.

What a solution does to the process cannot turn into a verdict (see "Guards" below): the session runs in
a child process whose parent reports a session that ended before its checks completed (os._exit, a
crash) with a non-zero exit status; a conftest.py in DIR is never loaded; a thread or process the
solution leaves running does not keep pytest from ending; a function of the libraries the checks compute
their answers with (numpy, torch, scikit-learn, scipy, builtins, ...) that the solution replaces fails
its task and is put back before the next check. The class grader (grade.py) runs the same session, one
task per child process, and reads the verdicts this file collects.
"""

import math
import os
import select
import signal
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from lab_check import LAB_MODULES, NOTES, PROJECT, VERDICTS, LabTimeout, seed_everything, time_limit


def pytest_configure(config):
    config.pluginmanager.__dict__.pop("_loadconftestmodules", None)  # DIR's conftest guard: its work is done
    folder = Path(config.getoption("--impl") or PROJECT).resolve()
    if not folder.is_dir():
        raise pytest.UsageError(f"--impl: expected a folder holding the lab's modules, got {folder}")
    config.lab_folder = folder
    config.lab_libraries = LibrarySnapshot()


@pytest.fixture(autouse=True)
def lab_check_setting(request):
    """Every check starts from the same random draws and the headless backend, within the time limit;
    afterwards the libraries the answers come from are as they were before the student's code ran."""
    seed_everything()
    if plt.get_backend().lower() != "agg":
        plt.switch_backend("Agg")
    with time_limit(request.config.getoption("--lab-time-limit"), request.node.name):
        yield
    plt.close("all")
    replaced = request.config.lab_libraries.restore()
    if replaced:
        task = task_of(request.node.nodeid) or "the lab"
        message = (f"{task}: the solution replaced {', '.join(replaced[:5])}{' ...' if len(replaced) > 5 else ''} "
                   "(at import or in a call): the checks compute their answers with these libraries, so this task's "
                   "verdict cannot be trusted; they are put back for the next check")
        VERDICTS.setdefault(task, new_verdict())["tampered"] = message
        pytest.fail(message, pytrace=False)


def task_of(nodeid):
    """'fcann2' for tests/lab/test_lab_fcann2.py::..., else None."""
    file = nodeid.split("::")[0]
    name = Path(file).stem.removeprefix("test_lab_")
    return name if Path(file).parent.name == "lab" and name in LAB_MODULES else None


def new_verdict():
    """A task's verdict as the checks report it: the first line of each failure, and what kind of failure
    it was ('failed'; 'timeout': a time limit stopped it; 'crashed': the solution raised SystemExit,
    KeyboardInterrupt or MemoryError); the counts of passed and skipped checks; 'tampered': why the
    verdict cannot be trusted (a library replaced), if so."""
    return {"failed": [], "kinds": [], "passed": 0, "skipped": 0, "tampered": None}


# What the solution's code raised, named in the failure's first line when the checks caught it
CRASHES = (SystemExit, KeyboardInterrupt, MemoryError)


def failure_kind(report, excinfo):
    """'timeout', 'crashed' or 'failed' for a failed check (see new_verdict)."""
    text = report.longreprtext
    if (excinfo is not None and excinfo.errisinstance(LabTimeout)) or f"raised {LabTimeout.__name__}:" in text:
        return "timeout"
    if (excinfo is not None and excinfo.errisinstance(CRASHES)) or \
            any(f"raised {error.__name__}" in text for error in CRASHES):
        return "crashed"
    return "failed"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.failed:
        report.lab_kind = failure_kind(report, call.excinfo)
        error = call.excinfo
        if error is not None and not error.errisinstance(pytest.fail.Exception):  # raised, not a check's message
            text = str(error.value).strip()
            report.lab_first_line = f"{task_of(report.nodeid) or 'lab'}: {error.typename} in {item.name}" + \
                (f": {text.splitlines()[0]}" if text else "")
    return report


def pytest_runtest_logreport(report):
    task = task_of(report.nodeid)
    if task is None:
        return
    verdict = VERDICTS.setdefault(task, new_verdict())
    if report.failed:
        text = report.longreprtext.strip()
        verdict["failed"].append(getattr(report, "lab_first_line", None) or (text.splitlines()[0] if text else ""))
        verdict["kinds"].append(getattr(report, "lab_kind", "failed"))
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
            first = verdict["tampered"] or failed[0]
            line = f"{task:<10} FAILED {len(failed)} of {len(failed) + passed} checks: {first}"
        elif not passed:
            line = f"{task:<10} not checked ({verdict['skipped']} skipped)"
        else:
            line = f"{task:<10} passed ({passed} checks{notes})"
        terminalreporter.write_line(line)


# ---------------------------------------------------------------------------------------------------------
# Guards: what a solution does to the process never becomes a verdict
# ---------------------------------------------------------------------------------------------------------

# The libraries the checks compute their answers with, and the classes whose methods they call
GUARDED_MODULES = ("builtins", "math", "numpy", "numpy.linalg", "numpy.random", "torch", "torch.nn",
                   "torch.nn.functional", "torch.linalg", "torch.optim", "scipy.optimize", "sklearn.metrics",
                   "sklearn.svm", "sklearn.linear_model", "lab_check", "pytest", "inspect")
GUARDED_CLASSES = (("torch", "Tensor"), ("torch.nn", "Module"), ("sklearn.svm", "SVC"),
                   ("sklearn.linear_model", "LogisticRegression"))
# What torch changes itself: set_default_tensor_type points torch.Storage at the new type's storage
UNGUARDED = {"torch.Storage"}


class LibrarySnapshot:
    """The functions, classes and modules in GUARDED_MODULES (and the methods of GUARDED_CLASSES) as they
    are before any student's code runs. `restore()` puts back whatever was replaced or removed since,
    and the entries of sys.modules for those modules, and returns their names ('numpy.allclose')."""

    def __init__(self):
        import importlib

        import torch._dynamo  # noqa: F401 (torch's first optimizer step imports it, and it wraps torch.manual_seed)
        self.modules = {name: importlib.import_module(name) for name in GUARDED_MODULES}
        self.entries = {}
        for name, module in self.modules.items():
            self.entries[name] = (module, {k: v for k, v in vars(module).items() if callable(v) or
                                           isinstance(v, type(sys))})
        for module_name, class_name in GUARDED_CLASSES:
            cls = getattr(self.modules[module_name], class_name)
            self.entries[f"{module_name}.{class_name}"] = (cls, dict(vars(cls)))

    def restore(self):
        replaced = []
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                sys.modules[name] = module
                replaced.append(f"sys.modules[{name!r}]")
        for name, (owner, saved) in self.entries.items():
            now = vars(owner)
            for key, value in saved.items():
                if now.get(key, None) is not value and f"{name}.{key}" not in UNGUARDED:
                    setattr(owner, key, value)
                    replaced.append(f"{name}.{key}")
        return replaced


def impl_argument(args):
    """The value of --impl in a command line, or None."""
    for i, argument in enumerate(args):
        if argument == "--impl" and i + 1 < len(args):
            return args[i + 1]
        if argument.startswith("--impl="):
            return argument.split("=", 1)[1]
    return None


def pytest_plugin_registered(plugin, manager):
    """DIR's conftest.py is never run. pytest reads `--impl DIR` as a path to start from before it knows
    the option, so it would load DIR's conftest.py and those of DIR/test*/ (a DIR that is a link to this
    project would load tests/conftest.py twice: "option names {'--impl'} already added"). When this file
    is loaded, every folder in or under DIR is left out of the rest of that first round of conftests
    (pytest_configure puts the loader back). Give `tests/lab` before `--impl DIR`, as this file's
    docstring does, so that this file is loaded first."""
    if getattr(plugin, "__file__", None) != __file__ or "_loadconftestmodules" in manager.__dict__:
        return
    config = manager.get_plugin("pytestconfig")
    impl = impl_argument(list(config.invocation_params.args)) if config is not None else None
    if impl is None:
        return
    given = Path(os.path.abspath(config.invocation_params.dir / impl))
    load = getattr(manager, "_loadconftestmodules", None)  # pytest's own (8 and 9): where it is gone, no guard
    if load is None:
        return

    def load_outside_impl(path, *args, **kwargs):
        path = Path(os.path.abspath(path))
        if path == given or given in path.parents or path.resolve() == given.resolve():
            return None
        return load(path, *args, **kwargs)

    manager._loadconftestmodules = load_outside_impl


CHILD = {}  # in the child process that runs the session: "pipe", the descriptor it reports to


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """Run the session in a child process (its own process group) and wait for it. The child reports
    each check it starts and, once the session is over, "completed STATUS", then ends at once (threads
    it leaves do not hold it); the parent ends whatever the child left running. A child that ends without
    that report (os._exit(0), a crash), or that starts no check for twice --lab-time-limit plus 15 s (a
    check the time limit cannot stop), makes the parent say so and exit with status 1, never 0. The
    class grader runs its own child processes and is not forked again."""
    isolated = any(getattr(plugin, "lab_isolated", False) for plugin in config.pluginmanager.get_plugins())
    if not hasattr(os, "fork") or isolated or config.getoption("usepdb"):
        return None
    read, write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        os.setpgid(0, 0)
        CHILD["pipe"] = write
        return None  # the session runs here, in the child
    os.close(write)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass  # the child did it first, or has already ended
    forward = {s: signal.signal(s, lambda signum, frame: os.killpg(pid, signum)) for s in (signal.SIGINT,
                                                                                         signal.SIGTERM)}
    # A check the time limit cannot stop (a loop in C code, SIGALRM ignored) is killed: its import and its
    # first calls have a limit each
    seconds = config.getoption("--lab-time-limit")
    deadline = 2 * seconds + 15 if seconds > 0 else math.inf
    lines, status, killed = [], None, False
    try:
        received, progress = b"", time.monotonic()
        while status is None:
            if select.select([read], [], [], 0.2)[0]:
                received += os.read(read, 65536)
                progress = time.monotonic()
            done, status_code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = status_code
            elif time.monotonic() - progress > deadline and not killed:
                os.killpg(pid, signal.SIGKILL)
                killed = True
        while select.select([read], [], [], 0)[0] and (chunk := os.read(read, 65536)):
            received += chunk
        lines = received.decode(errors="replace").splitlines()
    finally:
        for s, handler in forward.items():
            signal.signal(s, handler)
        os.close(read)
        try:
            os.killpg(pid, signal.SIGKILL)  # what the solution left running
        except (ProcessLookupError, PermissionError):
            pass
    completed = [line for line in lines if line.startswith("completed ")]
    if completed:
        return int(completed[-1].split()[1])
    started = [line.removeprefix("started ") for line in lines if line.startswith("started ")]
    if not started and not killed and os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0:
        return os.WEXITSTATUS(status)  # pytest refused to start (a usage error), and said why
    ended = (f"ran past {deadline:g} s and was killed (a loop in C code, or SIGALRM ignored?)" if killed else
             f"was killed by {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
             else f"exited with status {os.WEXITSTATUS(status)}")
    sys.stderr.write(f"\ntests/lab: the session ended before its checks completed: the process {ended} during "
                     f"{started[-1] if started else 'the start of the session'}. A solution that ends the process "
                     "(os._exit, sys.exit outside a check, a crash in C code) fails that check; nothing after it "
                     "was checked.\n")
    return pytest.ExitCode.TESTS_FAILED


def report_to_parent(text):
    if "pipe" in CHILD:
        os.write(CHILD["pipe"], f"{text}\n".encode())


def pytest_runtest_logstart(nodeid):
    report_to_parent(f"started {nodeid}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    CHILD["status"] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """The child's last act: report the completed session to the parent and end, threads and all. A
    session that never started (a usage error) ends as pytest ends it, with pytest's message."""
    if "pipe" in CHILD and "status" in CHILD:
        sys.stdout.flush()
        sys.stderr.flush()
        report_to_parent(f"completed {CHILD['status']}")
        os._exit(CHILD["status"])
