"""Helpers of the lab's checks (tests/lab): loading a student's modules, messages, the time limit."""

import importlib
import inspect
import signal
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
LAB_MODULES = ("data", "fcann2", "pt_linreg", "pt_logreg", "pt_deep", "ksvm_wrap")


class LabTimeout(Exception):
    """Raised inside a check that ran past the time limit."""


def lab_fail(message):
    """Fail the current check with `message` alone, no traceback: the message is the explanation."""
    pytest.fail(message, pytrace=False)


def expect(condition, message):
    if not condition:
        lab_fail(message)


def call(task, description, function, *args, **kwargs):
    """function(*args, **kwargs), or a failure naming what the lab asks (`description`) and the error."""
    try:
        return function(*args, **kwargs)
    except LabTimeout:
        raise
    except Exception as error:
        lab_fail(f"{task}: {description} raised {type(error).__name__}: {error}")


# The lab's names for the hyper-parameters, and the words (between underscores) of the names students
# give them instead: param_niter ~ n_iter, epochs; param_delta ~ lr, learning_rate; param_lambda ~ reg ...
LAB_NAMES = {"param_niter": {"niter", "iter", "iters", "iterations", "epochs", "steps"},
             "param_delta": {"delta", "lr", "eta", "rate"},
             "param_lambda": {"lambda", "lam", "lmbda", "reg", "l2", "decay"}}


def lab_keywords(function, **values):
    """`values`, given under the lab's names (param_niter=..., param_delta=...), renamed to the parameters
    of `function` that stand for them: the lab's name itself, else the one parameter with one of
    LAB_NAMES' words in its name (of several, the one named just that word). A value the function has
    no parameter for is left out when it is 0 (a penalty the function does not have), and is a failure
    naming the lab's name otherwise."""
    parameters = list(inspect.signature(function).parameters)
    renamed = {}
    for lab_name, value in values.items():
        words = LAB_NAMES[lab_name]
        matches = [lab_name] if lab_name in parameters else [p for p in parameters if words & set(p.lower().split("_"))]
        if len(matches) > 1:  # lr and lr_decay: the name that is one of the words itself
            matches = [p for p in matches if p.lower() in words]
        if len(matches) == 1:
            renamed[matches[0]] = value
        elif value != 0:
            lab_fail(f"{function.__module__}: {function.__name__} should take the lab's {lab_name} (or one parameter "
                     f"named like it); its parameters are {', '.join(parameters)}")
    return renamed


class time_limit:
    """Raise LabTimeout in the main thread after `seconds` (where the platform has SIGALRM)."""

    def __init__(self, seconds, what):
        self.seconds, self.what = seconds, what

    def __enter__(self):
        if hasattr(signal, "setitimer") and self.seconds > 0:
            def stop(signum, frame):
                raise LabTimeout(f"{self.what} ran longer than {self.seconds:g} s and was stopped (--lab-time-limit): "
                                 "does it train for the full number of steps at import, or print every step?")
            self.previous = signal.signal(signal.SIGALRM, stop)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc):
        if hasattr(signal, "setitimer") and self.seconds > 0:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def import_lab_modules(folder, seconds):
    """Import the lab's modules from `folder` alone: {name: module, or the reason it did not import}.

    The modules import each other (fcann2 imports data), so they are imported together, with `folder`
    first on sys.path and this project's folder off it; afterwards sys.modules holds what it held before,
    so the project's own tests keep this project's modules.
    """
    saved_modules = {name: sys.modules.pop(name) for name in LAB_MODULES if name in sys.modules}
    saved_path = sys.path[:]
    sys.path[:] = [str(folder)] + [p for p in sys.path if p and Path(p).resolve() != PROJECT]
    modules = {}
    try:
        for name in LAB_MODULES:
            if not (folder / f"{name}.py").is_file():
                modules[name] = f"{name}.py is not in {folder}"
                continue
            try:
                with time_limit(seconds, f"importing {name}.py"):
                    modules[name] = importlib.import_module(name)
            except BaseException as error:  # SystemExit, a demo run at import ...: the task fails, not the run
                if isinstance(error, KeyboardInterrupt):
                    raise
                modules[name] = f"importing {name}.py raised {type(error).__name__}: {error}"
    finally:
        sys.path[:] = saved_path
        for name in LAB_MODULES:
            sys.modules.pop(name, None)
        sys.modules.update(saved_modules)
    return modules


class LabModule:
    """A student's module whose missing names skip the check that uses them: test_imports reports them."""

    def __init__(self, module):
        self.module = module

    def __getattr__(self, name):
        try:
            return getattr(self.module, name)
        except AttributeError:
            pytest.skip(f"{self.module.__name__}.{name} is missing (see its test_imports check)")


def module_fixture(name):
    """A fixture giving the imported module `name`; its checks skip when it did not import, or when a name
    they use is missing (the task's test_imports check fails for those, once)."""

    @pytest.fixture
    def fixture(lab_modules):
        module = lab_modules[name]
        if isinstance(module, str):
            pytest.skip(f"{name}.py did not import (see its test_imports check)")
        return LabModule(module)

    return fixture


def check_imports(lab_modules, name, functions):
    """The task's first check: the module imports and has the functions or classes the lab names."""
    module = lab_modules[name]
    expect(not isinstance(module, str), f"{name}: the lab asks for a module {name}.py; {module}")
    missing = [f for f in functions if not callable(getattr(module, f, None))]
    expect(not missing, f"{name}: the lab names {', '.join(functions)} in {name}.py; missing: {', '.join(missing)}")
