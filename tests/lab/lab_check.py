"""Helpers of the lab's checks (tests/lab): loading a student's modules one task at a time, calling their
functions in the lab's words, messages a student reads, the time limit, and one verdict per task.

Sections: messages; the time limit; what a module may change for everyone (GlobalState); loading a
task's modules (with stand-ins for packages this environment lacks); calling in the lab's words
(lab_call); a task's first check and its verdict.
"""

import contextlib
import difflib
import importlib
import importlib.abc
import importlib.util
import inspect
import io
import math
import random
import re
import signal
import sys
import traceback
import types
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression

PROJECT = Path(__file__).resolve().parents[2]
# Each task imports its own module afresh (pt_deep also pt_logreg, whose train and eval it may use);
# a module's imports (fcann2 importing data) come along from the same folder.
TASKS = {"data": ("data",), "fcann2": ("fcann2",), "pt_linreg": ("pt_linreg",), "pt_logreg": ("pt_logreg",),
         "pt_deep": ("pt_deep", "pt_logreg"), "ksvm_wrap": ("ksvm_wrap",)}
LAB_MODULES = tuple(TASKS)


# ---------------------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------------------

class LabTimeout(Exception):
    """Raised inside a check that ran past the time limit."""


def short(value, limit=240):
    """`value` as text of at most `limit` characters: a message names a value, it does not print 12 kB."""
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split()) if len(text) > limit else text
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def lab_fail(message):
    """Fail the current check with `message` alone, no traceback: the message is the explanation (cut at
    2000 characters)."""
    __tracebackhide__ = True
    pytest.fail(short(message, 2000) if len(message) > 2000 else message, pytrace=False)


def expect(condition, message):
    __tracebackhide__ = True
    if not condition:
        lab_fail(message)


def where(error):
    """' (at fcann2.py:42)': the last line of the student's code that the error passed through, if any."""
    folder = CURRENT.get("folder")
    inside = [f for f in traceback.extract_tb(error.__traceback__) if Path(f.filename).resolve().parent == folder]
    return f" (at {Path(inside[-1].filename).name}:{inside[-1].lineno})" if inside else ""


def describe(error):
    """What an exception says, named, cut short, with where in the student's code it came from, and for an
    attribute a library lacks, which library and version this is (see missing_in_library)."""
    return f"{type(error).__name__}: {short(str(error), 400)}{where(error)}{missing_in_library(error)}"


def missing_in_library(error):
    """For an AttributeError on a library's object or module (matplotlib's ContourSet.collections, NumPy's
    np.float: gone in newer versions), ': matplotlib 3.10.0, installed here, has no ...', naming the library
    and its version as the likely cause (code written for another version), or a near name it does have; a
    NumPy array's attribute that a tensor has (or the other way round) as the wrong kind of array; Agg's
    figure manager's window as the window the checks' off-screen backend has not. '' for any other error,
    and for attributes of the student's own objects."""
    if not isinstance(error, AttributeError):
        return ""
    owner, name = getattr(error, "obj", None), getattr(error, "name", None)
    if isinstance(owner, types.ModuleType):
        library, what = owner.__name__, owner.__name__
    elif owner is not None:
        library, what = type(owner).__module__, type(owner).__name__
    else:  # a module's __getattr__ (NumPy's removed aliases) raises without naming the module
        found = re.match(r"module '([\w.]+)' has no attribute '(\w+)'", str(error))
        if not found:
            return ""
        library, name = found.groups()
        what = library
        owner = sys.modules.get(library)
    root = library.split(".")[0]
    version = getattr(sys.modules.get(root), "__version__", None)
    if root in LAB_MODULES or root in sys.stdlib_module_names or version is None or not name:
        return ""
    if library.startswith("matplotlib.backend"):  # Agg's figure manager and canvas, with no window
        return (f": the checks draw off screen, with matplotlib's Agg backend, which opens no window ({what} has "
                f"no {name}): code for a window belongs in the demo, under `if __name__ == \"__main__\":`")
    for mine, other in ((np.ndarray, torch.Tensor), (torch.Tensor, np.ndarray)):
        if isinstance(owner, mine) and hasattr(other, name):
            return (f": a {mine.__module__}.{mine.__name__} has no {name}, a {other.__module__}.{other.__name__} "
                    f"has: is a {'NumPy array' if mine is np.ndarray else 'tensor'} given where a "
                    f"{'tensor' if mine is np.ndarray else 'NumPy array'} is expected?")
    near = difflib.get_close_matches(name, [n for n in dir(owner) if not n.startswith("_")], n=1, cutoff=0.85)
    if near:
        return f": {root} {version}, installed here, has no {what}.{name}; did you mean {near[0]}?"
    return (f": {what}.{name} is not in {root} {version}, installed here: code written for an older {root}, "
            "whose API has changed since (see its API changes for what replaced it)")


def call(task, description, function, *args, **kwargs):
    """function(*args, **kwargs), or a failure naming what the lab asks (`description`) and the error.

    The failure is raised after the `except` block, so that pytest shows the message alone (no "During
    handling of the above exception")."""
    __tracebackhide__ = True
    try:
        return function(*args, **kwargs)
    except (LabTimeout, pytest.fail.Exception, pytest.skip.Exception):
        raise
    except Exception as error:  # a student's code may raise anything
        problem = describe(error)
    lab_fail(f"{task}: {description} raised {problem}")


def printed_by(function, *args, **kwargs):
    """(function's result, what it printed to stdout)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = function(*args, **kwargs)
    return result, printed.getvalue()


# ---------------------------------------------------------------------------------------------------------
# The time limit
# ---------------------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------------------
# What a module may change for everyone in the process
# ---------------------------------------------------------------------------------------------------------

class GlobalState:
    """torch's default dtype, device and tensor type, NumPy's and Python's global random state and
    matplotlib's backend, as they are now. `restore()` puts them back, so that what one task's module
    does at import (`torch.set_default_tensor_type(torch.cuda.DoubleTensor)`, `np.random.seed(1)`,
    `matplotlib.use("TkAgg")`) does not reach another task's checks: each task's verdict is the same
    run alone or with the others."""

    def __init__(self):
        import matplotlib
        self.dtype, self.device = torch.get_default_dtype(), torch.get_default_device()
        self.numpy, self.python = np.random.get_state(), random.getstate()  # noqa: NPY002 (the lab's state)
        self.backend = matplotlib.get_backend()

    def restore(self):
        import matplotlib.pyplot as plt
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # set_default_tensor_type is deprecated; it is the one reset of it
            torch.set_default_tensor_type(torch.FloatTensor)
        torch.set_default_dtype(self.dtype)
        if torch.get_default_device() != self.device:  # setting it installs a function mode, even to the same
            torch.set_default_device(self.device)
        np.random.set_state(self.numpy)  # noqa: NPY002
        random.setstate(self.python)
        plt.close("all")
        if plt.get_backend() != self.backend:
            plt.switch_backend(self.backend)


@contextlib.contextmanager
def headless_matplotlib():
    """While a task's modules are imported and checked, matplotlib draws with the real non-interactive
    backend Agg, whatever backend the student's code picks: `matplotlib.use(...)` and
    `plt.switch_backend(...)` return None and keep Agg, `plt.show()` returns at once, as Agg's does (without
    its warning), and every other pyplot call (plt.figure, plt.get_current_fig_manager, savefig) works as
    on Agg. Agg is loaded first, so that a module drawing at import finds a canvas. The checks close the
    figures; the real functions are back afterwards."""
    import matplotlib
    import matplotlib.pyplot as plt

    plt.switch_backend("agg")
    stand_ins = {(matplotlib, "use"): lambda backend, *args, **kwargs: None,
                 (plt, "switch_backend"): lambda newbackend: None,
                 (plt, "show"): lambda *args, **kwargs: None}
    saved = {key: getattr(*key) for key in stand_ins}
    for (owner, name), stand_in in stand_ins.items():
        setattr(owner, name, stand_in)
    try:
        yield
    finally:
        for (owner, name), function in saved.items():
            setattr(owner, name, function)


def seed_everything(seed=0):
    """A student's code may draw unseeded data (torch.randn(N)): every check starts from the same draws."""
    np.random.seed(seed)  # noqa: NPY002
    random.seed(seed)
    torch.manual_seed(seed)


# ---------------------------------------------------------------------------------------------------------
# Loading a task's modules
# ---------------------------------------------------------------------------------------------------------

CURRENT = {}  # "folder": the student's folder, for `where`


class StandIn(types.ModuleType):
    """A package this environment lacks (lab 0's template imports IPython): importing it works, using
    anything from it raises an error that names the package and the line that imported it."""

    __path__ = []  # a package, so that `from IPython.display import display` imports too

    def __init__(self, name, importer):
        super().__init__(name)
        self.__lab_importer__ = importer

    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return MissingThing(f"{self.__name__}.{attribute}", self.__lab_importer__)


class MissingThing:
    def __init__(self, name, importer):
        self.name, self.importer = name, importer

    def __getattr__(self, attribute):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return MissingThing(f"{self.name}.{attribute}", self.importer)

    def __call__(self, *args, **kwargs):
        package = self.name.split(".")[0]
        raise ModuleNotFoundError(f"{self.name} is used here, and {self.importer} imports {package}, which is not "
                                  f"installed in this environment: `pip install {package}`, or remove the import")


class StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Last on sys.meta_path while a student's modules are imported: a module that no other finder found,
    imported by a line of the student's own code (never by a library probing for an optional package,
    never one of the lab's modules), is served as a StandIn. `served` lists (package, importer)."""

    def __init__(self, folder):
        self.folder, self.served = folder, []

    def importer(self):
        """'data.py (line 3)' when the import statement being run is in the student's folder, else None."""
        frame = sys._getframe(2)
        while frame is not None and (frame.f_code.co_filename.startswith("<frozen importlib")
                                     or frame.f_code.co_filename == __file__):
            frame = frame.f_back
        if frame is None or Path(frame.f_code.co_filename).resolve().parent != self.folder:
            return None
        return f"{Path(frame.f_code.co_filename).name} (line {frame.f_lineno})"

    def find_spec(self, fullname, path=None, target=None):
        root = fullname.split(".")[0]
        served = {package for package, _ in self.served}
        if root in LAB_MODULES or (root not in served and self.importer() is None):
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        importer = self.importer() or "a module"
        if "." not in spec.name:
            self.served.append((spec.name, importer))
        return StandIn(spec.name, importer)

    def exec_module(self, module):
        pass


def import_task(folder, task, seconds):
    """Import task's modules (TASKS[task]) afresh from `folder` alone: ({name: module, or the reason it did
    not import}, [(missing package, the line that imported it)]).

    The folder comes first on sys.path and this project's folder is off it; afterwards sys.modules holds
    the lab's names as before, so the project's own tests keep this project's modules. A package this
    environment lacks gets a stand-in (see StandIn): the checks fail only where it is used. Figures the
    module draws at import are closed; the backend stays the checks' (see headless_matplotlib)."""
    saved_modules = {name: sys.modules.pop(name) for name in LAB_MODULES if name in sys.modules}
    saved_path = sys.path[:]
    sys.path[:] = [str(folder)] + [p for p in sys.path if p and Path(p).resolve() != PROJECT]
    finder = StandInFinder(folder)
    sys.meta_path.append(finder)
    modules = {}
    import matplotlib.pyplot as plt
    try:
        for name in TASKS[task]:
            if not (folder / f"{name}.py").is_file():
                modules[name] = f"{name}.py is not in {folder}"
                continue
            try:
                with time_limit(seconds, f"importing {name}.py"), contextlib.redirect_stdout(io.StringIO()):
                    modules[name] = importlib.import_module(name)
            except BaseException as error:  # SystemExit, a demo run at import ...: the task fails, not the run
                if isinstance(error, KeyboardInterrupt):
                    raise
                modules[name] = f"importing {name}.py raised {describe(error)}"
    finally:
        plt.close("all")  # what a module draws at import is not the checks'
        sys.meta_path.remove(finder)
        sys.path[:] = saved_path
        for name in list(sys.modules):
            if name.split(".")[0] in LAB_MODULES or isinstance(sys.modules[name], StandIn):
                del sys.modules[name]
        sys.modules.update(saved_modules)
    return modules, finder.served


# ---------------------------------------------------------------------------------------------------------
# Calling in the lab's words
# ---------------------------------------------------------------------------------------------------------

# The lab's names for the hyper-parameters, and the words (between underscores) of the names students
# give them instead: param_niter ~ n_iter, epochs; param_delta ~ lr, learning_rate; param_lambda ~ reg ...
LAB_NAMES = {"param_niter": {"niter", "iter", "iters", "iterations", "epochs", "steps", "nepochs", "epoch"},
             "param_delta": {"delta", "lr", "eta", "rate", "step"},
             "param_lambda": {"lambda", "lam", "lmbda", "lambd", "reg", "l2", "decay", "regularization"},
             # KSVMWrap's: param_c, C, c, svm_c ...; gamma, param_gamma ...
             "param_svm_c": {"c", "cost"},
             "param_svm_gamma": {"gamma"}}
TRAINING = ("param_niter", "param_delta", "param_lambda")  # the hyper-parameters of the trained models
# A hidden layer's size the lab gives as a number (5), never as a name; students call it hidden_dim, H ...
HIDDEN_WORDS = {"hidden", "h", "hid", "hdim", "units", "neurons", "nhidden"}


def parameters_of(function):
    """The named parameters of a function, method or class (its constructor), in order."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return []
    return [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]


def module_globals(function):
    """The global namespace `function` reads (its module's), or {}."""
    target = function.__init__ if inspect.isclass(function) else function
    return getattr(inspect.unwrap(getattr(target, "__func__", target)), "__globals__", {})


def named_like(lab_name, names):
    """Of `names`, the one that stands for `lab_name`: the name itself, else the one with one of the lab
    name's words in it (of several, the one that is just that word); None if there is none or no single
    one."""
    if lab_name in names:
        return lab_name
    words = LAB_NAMES[lab_name]
    matches = [n for n in names if words & set(n.lower().split("_"))]
    if len(matches) > 1:  # lr and lr_decay: the name that is one of the words itself
        matches = [n for n in matches if n.lower() in words]
    return matches[0] if len(matches) == 1 else None


def spelled_like(name):
    """The lab name `name` is a near spelling of (param_lambdba, param_nitre), or None."""
    ratios = {lab: difflib.SequenceMatcher(None, name.lower(), lab).ratio() for lab in LAB_NAMES}
    best = max(ratios, key=ratios.get)
    return best if ratios[best] >= 0.85 and sorted(ratios.values())[-2] < ratios[best] - 0.05 else None


@dataclass
class Placement:
    """Where lab_call puts each of the lab's hyper-parameters."""

    arguments: dict = field(default_factory=dict)  # parameter name -> value
    globals: dict = field(default_factory=dict)  # module-level global -> value, set for the call
    where: dict = field(default_factory=dict)  # lab name -> 'argument NAME' | 'global NAME'
    unfilled: list = field(default_factory=list)  # required parameters nothing was given for


def place(function, n_positional, lab_values, hidden=None):
    """Where function(*data, ...) takes each value of `lab_values` ({lab name: value}, in the lab's order).

    In order: a parameter after the data named like the lab's name (named_like), then one spelled nearly
    like it (spelled_like); a module-level global named like it (lab 0's template keeps param_niter,
    param_delta at the top of the module); then, by the lab's order, the parameters after the data that
    are still required. A required parameter that looks like the hidden layer's size gets `hidden`. What
    is left over is not placed (the caller decides)."""
    placement = Placement()
    parameters = parameters_of(function)[n_positional:]
    free = [p.name for p in parameters]

    def put(lab_name, name):
        placement.arguments[name], placement.where[lab_name] = lab_values[lab_name], f"argument {name}"
        free.remove(name)

    for lab_name in lab_values:
        if (name := named_like(lab_name, free)) is not None:
            put(lab_name, name)
    for name in list(free):
        lab_name = spelled_like(name)
        if lab_name in lab_values and lab_name not in placement.where:
            put(lab_name, name)
    names = module_globals(function)
    numbers = [n for n, v in names.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    for lab_name, value in lab_values.items():
        if lab_name not in placement.where and (name := named_like(lab_name, numbers)) is not None:
            placement.globals[name], placement.where[lab_name] = value, f"global {name}"
    required = [p.name for p in parameters if p.name in free and p.default is p.empty]
    for name in list(required):
        words = name.lower().split("_")
        if hidden is not None and (HIDDEN_WORDS & set(words) or any(w.startswith("hidden") for w in words)):
            placement.arguments[name] = hidden
            required.remove(name)
    for lab_name in lab_values:
        if lab_name not in placement.where and required:
            put(lab_name, required.pop(0))
    placement.unfilled = required
    return placement


def lab_call(task, description, function, args, lab_values=None, hidden=None, optional=("param_lambda",)):
    """function(*args, ...) with each of the lab's hyper-parameters given where the function takes it (see
    `place`): as an argument, or as the module-level global it reads (set for the call, then put back).

    A lab value the function has no place for fails the check naming the lab's name, unless it is in
    `optional` (the penalty, whose place the lab leaves open: the caller checks it where it matters)."""
    __tracebackhide__ = True
    lab_values = lab_values or {}
    placement = place(function, len(args), lab_values, hidden)
    name = getattr(function, "__name__", "the function")
    if placement.unfilled:
        lab_fail(f"{task}: {description}: {name} requires the argument(s) {', '.join(placement.unfilled)}, which "
                 "the lab's call does not give; give them a default (the lab's values, e.g. hidden size 5)")
    missing = [n for n in lab_values if n not in placement.where and n not in optional]
    if missing:
        lab_fail(f"{task}: {name} should take the lab's {', '.join(missing)}, as an argument or as a module-level "
                 f"global (lab 0's template); its parameters are "
                 f"({', '.join(p.name for p in parameters_of(function)) or 'none'})")
    namespace = module_globals(function)
    saved = {n: namespace[n] for n in placement.globals}
    namespace.update(placement.globals)
    try:
        return call(task, description, function, *args, **placement.arguments)
    finally:
        namespace.update(saved)


def takes(function, lab_name, n_positional):
    """Whether `function` has a place (argument or global) for the lab's `lab_name` (one of TRAINING), beside
    the others."""
    return lab_name in place(function, n_positional, dict.fromkeys(TRAINING, 1)).where


def model_dtype(model):
    """The floating dtype of a model's parameters (float32 or float64: the lab fixes none), else float32."""
    dtypes = {p.dtype for p in model.parameters() if p.is_floating_point()}
    return dtypes.pop() if len(dtypes) == 1 else torch.float32


# ---------------------------------------------------------------------------------------------------------
# A task: its modules, its first check, its verdict
# ---------------------------------------------------------------------------------------------------------

VERDICTS = {}  # task -> {"failed": [first lines], "passed": n, "skipped": n}
NOTES = {}  # task -> what the checks found about the conventions a solution chose, for the summary


def note(task, text):
    notes = NOTES.setdefault(task, [])
    if text not in notes:
        notes.append(text)


class Task:
    """One lab task's modules, imported afresh (import_task), and the result of its first check.

    `first_check` is a function of the Task that fails (lab_fail) when the basic calls of the lab do not
    run; it runs once. When it fails, the task's first check (test_imports) reports it and every other
    check of the task skips with a pointer to it: one root cause, one failure."""

    def __init__(self, name, folder, seconds, first_check):
        self.name, self.folder = name, folder
        CURRENT["folder"] = folder
        self.modules, self.stand_ins = import_task(folder, name, seconds)
        for package, importer in self.stand_ins:
            note(name, f"{importer} imports {package}, not installed here: a stand-in was used")
        self.first_check, self.problem, self.checked = first_check, None, False

    def module(self, name=None):
        module = self.modules.get(name or self.name)
        return None if isinstance(module, str) else module

    def run_first_check(self):
        if not self.checked:
            self.checked = True
            try:
                module = self.modules[self.name]
                expect(not isinstance(module, str), f"{self.name}: the lab asks for a module {self.name}.py; {module}")
                seed_everything()
                self.first_check(self)
            except pytest.fail.Exception as failure:
                self.problem = str(failure)
        return self.problem


def check_names(task, names):
    """Fail naming what the lab names in the task's module and the module lacks."""
    module = task.module()
    missing = [f for f in names if not callable(getattr(module, f, None))]
    expect(not missing, f"{task.name}: the lab names {', '.join(names)} in {task.name}.py; "
                        f"missing: {', '.join(missing)}")


def approx(x, y, rtol):
    return abs(x - y) <= rtol * max(abs(x), abs(y), 1e-12)


# A number as Python, NumPy and torch print floats: with a point or an exponent (-77.25914764404297,
# -77.2591, 2., 1.9073e-06), not inside a name (float32, W1, MulBackward0).
FLOAT = re.compile(r"(?<![\w.])[-+]?(?:\d+\.\d*|\.\d+|\d+(?=[eE]))(?:[eE][-+]?\d+)?(?![\w])")


def numbers_in(text):
    """The floats written in `text`, in order, each as (value, tolerance): the half unit of its last digit
    (-77.2591 stands for anything within 5e-5 of it), and a float's own rounding for one written with a
    trailing point (torch and NumPy write 2. for a float that is exactly 2). Integers (step counters) are
    not read."""
    found = []
    for token in FLOAT.findall(text):
        value = float(token)
        if not math.isfinite(value):
            continue
        mantissa, _, exponent = token.lower().partition("e")
        digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
        rounding = 0.0 if mantissa.endswith(".") else 0.5 * 10.0 ** (int(exponent or 0) - digits)
        found.append((value, rounding + 1e-9 * abs(value)))
    return found


def task_fixtures(name, first_check):
    """The fixtures of one task's test file: `lab_task` (the Task, imported once for the file and checked
    with matplotlib headless (headless_matplotlib), after which the global state is put back) and `name`
    (its module, or a skip when the first check failed or the module lacks a name the check uses)."""

    @pytest.fixture(scope="module", name="lab_task")
    def lab_task(request):
        clean = GlobalState()
        folder = request.config.lab_folder
        with headless_matplotlib():
            yield Task(name, folder, request.config.getoption("--lab-time-limit"), first_check)
        clean.restore()

    @pytest.fixture(name=name)
    def module(lab_task):
        problem = lab_task.run_first_check()
        if problem:
            pytest.skip(f"{name}: its first check failed (test_imports)")
        return LabModule(lab_task.module())

    return lab_task, module


def check_first(lab_task):
    """The body of each task's test_imports: the first check's failure, reported once."""
    __tracebackhide__ = True
    problem = lab_task.run_first_check()
    if problem:
        lab_fail(problem)


class LabModule:
    """A student's module whose missing names skip the check that uses them (the first check names them)."""

    def __init__(self, module):
        self.module = module

    def __getattr__(self, name):
        try:
            return getattr(self.module, name)
        except AttributeError:
            pytest.skip(f"{self.module.__name__}.{name} is missing")


# ---------------------------------------------------------------------------------------------------------
# The PyTorch tasks (pt_logreg, pt_deep): their shared calls, and independent answers to check them against
# ---------------------------------------------------------------------------------------------------------

def overlapping_classes(n=100, seed=0):
    """Three Gaussian classes in 2-D, centred and overlapping: the loss without a penalty has one finite
    optimum (no line separates them). X [3n x 2] float64, Y_ [3n]."""
    rng = np.random.default_rng(seed)
    X = np.vstack([c + rng.standard_normal((n, 2)) for c in ([0.0, 0.0], [1.5, 0.5], [0.5, 1.5])])
    return X - X.mean(axis=0), np.repeat([0, 1, 2], n)


def tensors(model, X, Y_, C):
    """X and the one-hot Yoh_ as tensors in the model's dtype (float32 or float64: the lab fixes none)."""
    dtype = model_dtype(model)
    return torch.tensor(X, dtype=dtype), torch.tensor(np.eye(C)[Y_], dtype=dtype)


def make_model(task, cls, args, lab_values=None):
    """cls(*args) (PTLogreg(D, C), PTDeep(config, activation)), checked to be an nn.Module; `lab_values`
    ({'param_lambda': ...}) go where the constructor takes them, if it does."""
    description = f"{cls.__name__}({', '.join(getattr(a, '__name__', None) or repr(a) for a in args)})"
    model = lab_call(task, description, cls, args, lab_values)
    expect(isinstance(model, torch.nn.Module), f"{task}: {cls.__name__} should inherit from torch.nn.Module (the lab's "
                                               f"template); it is a {type(model).__mro__[1].__name__}")
    return model


def forward_probabilities(task, model, X):
    """model.forward(X), checked to be class probabilities [N x C]: a tensor of rows summing to 1 (or their
    logarithms, log_softmax's: accepted and noted); returned as probabilities."""
    probs = call(task, "model.forward(X)", model.forward, X)
    N = len(X)
    expect(isinstance(probs, torch.Tensor) and probs.dim() == 2 and probs.shape[0] == N,
           f"{task}: forward(X) should return the class probabilities [N x C] as a tensor; got "
           f"{tuple(probs.shape) if isinstance(probs, torch.Tensor) else type(probs).__name__}")
    values = probs.detach().double()
    if bool((values <= 0).all()) and torch.allclose(values.exp().sum(dim=1), torch.ones(N, dtype=torch.float64),
                                                    atol=1e-4):
        note(task, "forward returns log-probabilities")
        return probs.exp()
    sums, columns = values.sum(dim=1), values.sum(dim=0)
    cause = ("the softmax over the wrong dimension? its columns sum to 1: dim=1 normalizes each row"
             if bool((values >= 0).all()) and torch.allclose(columns, torch.ones_like(columns), atol=1e-4)
             else "are these the scores, before the softmax?")
    expect(torch.allclose(sums, torch.ones_like(sums), atol=1e-4) and bool((values >= 0).all()),
           f"{task}: forward(X) should return probabilities (the lab: probs = softmax(...)): rows of non-negative "
           f"numbers summing to 1; its first rows sum to {short([round(v, 4) for v in sums[:3].tolist()])} "
           f"({cause})")
    return probs


def get_loss(task, model, X, Yoh_, param_lambda=0.0):
    """model.get_loss(X, Yoh_) with the penalty where it takes one, checked to be a one-number tensor."""
    loss = lab_call(task, "model.get_loss(X, Yoh_)", model.get_loss, (X, Yoh_), {"param_lambda": param_lambda})
    expect(isinstance(loss, torch.Tensor) and loss.numel() == 1,
           f"{task}: get_loss(X, Yoh_) should return the loss as a one-number tensor; got {short(loss, 120)}")
    return loss


def run_train(task, train, model, X, Yoh_, param_niter, param_delta, param_lambda=0.0):
    """The lab's train(model, X, Yoh_, param_niter, param_delta), the penalty where it takes one; what it
    printed is dropped."""
    description = f"train(model, X, Yoh_, {param_niter}, {param_delta})"
    lab_values = {"param_niter": param_niter, "param_delta": param_delta, "param_lambda": param_lambda}
    printed_by(lab_call, task, description, train, (model, X, Yoh_), lab_values)


def run_eval(task, eval, model, X, C):
    """The lab's eval(model, X) with X a NumPy array in the model's dtype, checked to return the class
    probabilities [N x C] as np.array; returned in float64."""
    X = np.asarray(X, dtype=np.float64 if model_dtype(model) == torch.float64 else np.float32)
    probs = call(task, "eval(model, X)", eval, model, X)
    expect(isinstance(probs, np.ndarray) and probs.shape == (len(X), C),
           f"{task}: eval(model, X) takes X as np.array and should return the class probabilities [N x C] = "
           f"({len(X)}, {C}) as np.array (the lab's template: .detach().numpy()); got {type(probs).__name__} "
           f"{getattr(probs, 'shape', '')}" + (" (class indices?)" if getattr(probs, "ndim", 0) == 1 else ""))
    probs = probs.astype(np.float64)
    expect(np.allclose(probs.sum(axis=1), 1, atol=1e-4) and np.all(probs >= 0),
           f"{task}: eval(model, X) should return probabilities: rows of non-negative numbers summing to 1")
    return probs


def parameter_norms(model):
    """The Frobenius norm of each weight matrix (2-D, both sides > 1) and of each other parameter (biases,
    [C] or [1 x C]): two lists."""
    weights = [p for p in model.parameters() if p.dim() == 2 and min(p.shape) > 1]
    biases = [p for p in model.parameters() if not any(p is w for w in weights)]
    return ([float(w.detach().double().norm()) for w in weights], [float(b.detach().double().norm()) for b in biases])


@dataclass(frozen=True)
class Penalty:
    """param_lambda times (squared ||W||^2 + norm ||W||), ||W|| the Frobenius norm of each weight matrix
    (summed over the matrices; with the biases, over every parameter). The lab says "regularization" and
    shows SGD's weight_decay; it fixes no form, so any penalty that grows with the weights' norm is right
    (RIGHT_PENALTIES); more than one of them at once is the penalty applied twice."""

    squared: float = 0.0
    norm: float = 0.0

    def __str__(self):
        terms = {1.0: "lambda ||W||^2", 0.5: "lambda/2 ||W||^2"}.get(self.squared, f"{self.squared:g} lambda ||W||^2")
        terms = ([terms] if self.squared else []) + (
            ["lambda ||W||" if self.norm == 1 else f"{self.norm:g} lambda ||W||"] if self.norm else [])
        return " + ".join(terms) or "no penalty"

    def named(self):
        """What the summary calls it: the weight decay and the norm not squared said as such."""
        if self == WEIGHT_DECAY:
            return f"{self} (SGD's weight_decay=lambda)"
        return f"{self} (the norm, not squared)" if self == Penalty(norm=1.0) else str(self)

    def value(self, norms, param_lambda):
        """The penalty at the norms of the parameters it is on."""
        return param_lambda * (self.squared * sum(n ** 2 for n in norms) + self.norm * sum(norms))

    def includes(self, other):
        """Whether this penalty is `other` plus more (other's terms, and others)."""
        return self != other and self.squared >= other.squared and self.norm >= other.norm


WEIGHT_DECAY = Penalty(squared=0.5)  # SGD's weight_decay=lambda: the gradient lambda W
RIGHT_PENALTIES = (Penalty(squared=1.0), WEIGHT_DECAY, Penalty(norm=1.0))
# What a training may reach: no penalty, a right one, or two at once (in the loss and as a weight decay)
TRAINED_PENALTIES = (Penalty(), *RIGHT_PENALTIES, Penalty(squared=1.5), Penalty(squared=2.0),
                     Penalty(squared=0.5, norm=1.0))


def logreg_optimum(X, Y_, penalty=Penalty(), param_lambda=0.0, biases=False):
    """Probabilities [N x C] at the minimum of mean NLL + `penalty` (on W, or on W and b) for multinomial
    logistic regression, found by scipy's L-BFGS in float64: the answer a trained model must reach, computed
    without the student's code."""
    from scipy.optimize import minimize

    N, D = X.shape
    C = int(Y_.max()) + 1
    Yoh_ = np.eye(C)[Y_]
    squared, norm = penalty.squared * param_lambda, penalty.norm * param_lambda

    def objective(theta):
        W, b = theta[:D * C].reshape(D, C), theta[D * C:]
        S = X @ W + b
        S = S - S.max(axis=1, keepdims=True)
        log_p = S - np.log(np.exp(S).sum(axis=1, keepdims=True))
        G = (np.exp(log_p) - Yoh_) / N  # d(mean NLL) / dS
        loss, gW, gb = -np.sum(Yoh_ * log_p) / N, X.T @ G, G.sum(axis=0)
        for P, grad, on in ((W, gW, True), (b, gb, biases)):
            size = np.sqrt(np.sum(P ** 2))
            loss += on * (squared * size ** 2 + norm * size)
            grad += on * (2 * squared * P + norm * P / max(size, 1e-300))
        return loss, np.concatenate([gW.ravel(), gb])

    theta = minimize(objective, np.zeros(D * C + C), jac=True, method="L-BFGS-B",
                     options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 10_000}).x
    S = X @ theta[:D * C].reshape(D, C) + theta[D * C:]
    P = np.exp(S - S.max(axis=1, keepdims=True))
    return P / P.sum(axis=1, keepdims=True)


def same_start(models):
    """Give every model the first one's parameters, set to a fixed pattern away from any symmetric start."""
    with torch.no_grad():
        for parameters in zip(*(m.parameters() for m in models), strict=True):
            pattern = torch.linspace(-1, 1, parameters[0].numel()).reshape(parameters[0].shape)
            for p in parameters:
                p.copy_(pattern)


def loss_penalty(task, cls, args):
    """The penalty get_loss adds with param_lambda (given to get_loss, or to the constructor), one of
    RIGHT_PENALTIES, checked; None when get_loss has no place for param_lambda."""
    lam = 0.1
    model = make_model(task, cls, args)
    if takes(model.get_loss, "param_lambda", 2):
        models, lambdas = [model, model], [0.0, lam]
    elif takes(cls, "param_lambda", len(args)):
        models, lambdas = [make_model(task, cls, args, {"param_lambda": v}) for v in (0.0, lam)], [0.0, 0.0]
    else:
        return None
    same_start(models)
    X, Yoh_ = tensors(models[0], *overlapping_classes(20), 3)
    plain, penalized = (float(get_loss(task, m, X, Yoh_, v).detach()) for m, v in zip(models, lambdas, strict=True))
    weights, biases = parameter_norms(models[0])
    for norms in (weights, weights + biases):  # on the weights (the lab's), or on every parameter
        for penalty in RIGHT_PENALTIES:
            if approx(penalized - plain, penalty.value(norms, lam), 1e-4):
                return penalty
    expect(abs(penalized - plain) > 1e-6 * abs(plain),
           f"{task}: get_loss(X, Yoh_, param_lambda={lam}) is the same as with param_lambda=0: the penalty is ignored")
    lab_fail(f"{task}: with param_lambda={lam}, get_loss should add a penalty that grows with the weights' norm: "
             f"lambda ||W||^2 = {Penalty(squared=1.0).value(weights, lam):.6f} (or half of it), or lambda ||W|| = "
             f"{Penalty(norm=1.0).value(weights, lam):.6f}; it adds {penalized - plain:.6f}")


def check_regularized_training(task, cls, args, train, eval, reported):
    """train(model, X, Yoh_, 2000, 0.5) with param_lambda = 0.03 should reach the minimum of the mean NLL
    plus a penalty that grows with the weights' norm (RIGHT_PENALTIES), and the one get_loss reports
    (`reported`, None if it has none) unless the decay is the optimizer's. The three classes are drawn
    close together (0.3 times overlapping_classes), so that the weights end far from norm 1, where lambda
    ||W|| and lambda/2 ||W||^2 (and their sums with others) would have the same minimum. An optimizer that
    has not settled there (Adam at 0.5 circles the minimum) gets 10000 steps of 0.05. The penalty goes
    where the solution takes it: train, the constructor, a module global or an attribute of the model.
    Returns the penalty found."""
    lam = 0.03
    X, Y_ = overlapping_classes()
    X = 0.3 * X
    for niter, delta in ((2000, 0.5), (10_000, 0.05)):
        torch.manual_seed(0)
        probs = regularized_probabilities(task, cls, args, train, eval, X, Y_, lam, niter, delta)
        gap, _, penalty = min((np.abs(probs - logreg_optimum(X, Y_, p, lam, b)).max(), i, p)
                              for i, p in enumerate(TRAINED_PENALTIES) for b in (False, True))
        if gap < 0.01:
            break
    expect(gap < 0.01, f"{task}: train with param_lambda={lam} should reach the minimum of the mean NLL plus a "
                       "penalty on the weights' norm; its probabilities are not those of lambda ||W||^2, lambda/2 "
                       "||W||^2 (weight_decay=lambda), lambda ||W||, nor of no penalty (up to "
                       f"{gap:.3f} away from the nearest, after 2000 steps of 0.5 and after 10000 of 0.05): is "
                       "param_lambda used for something else than an L2 penalty (label smoothing, dropout)?")
    expect(penalty != Penalty(), f"{task}: train(..., param_lambda={lam}) reaches the minimum of the unpenalized loss: "
                                 "param_lambda is taken and ignored, or its penalty does nothing to the model's "
                                 "probabilities (is it on the weights' norm?)")
    allowed = RIGHT_PENALTIES if reported is None else (reported, WEIGHT_DECAY)
    also = f", while get_loss reports {reported}" if reported else ""
    expect(penalty in allowed or not any(penalty.includes(a) for a in allowed),
           f"{task}: train(..., param_lambda={lam}) reaches the minimum of the NLL plus {penalty}{also}: the penalty "
           "is applied twice (in the loss and again as the optimizer's weight_decay?)")
    expect(penalty in allowed, f"{task}: train(..., param_lambda={lam}) reaches the minimum of the NLL plus "
                               f"{penalty}{also}: the penalty trained is not the one reported")
    note(task, f"penalty: {penalty.named()}")
    return penalty


def regularized_probabilities(task, cls, args, train, eval, X, Y_, lam, niter, delta):
    """A model cls(*args) trained by train with param_lambda = lam given where the solution takes it: its
    probabilities on X."""
    in_train = takes(train, "param_lambda", 3)
    model = make_model(task, cls, args, {} if in_train else {"param_lambda": lam})
    if not in_train and not takes(cls, "param_lambda", len(args)):
        attributes = [n for n, v in vars(model).items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
        attribute = named_like("param_lambda", attributes)
        expect(attribute is not None,
               f"{task}: the lab asks for regularization (param_lambda); found no place to give it: not an argument "
               f"of train or {cls.__name__}, not a module-level global, not an attribute of the model")
        setattr(model, attribute, lam)
    run_train(task, train, model, *tensors(model, X, Y_, 3), niter, delta, lam)
    return run_eval(task, eval, model, X, 3)


def check_loss_is_the_mean_nll(task, model):
    """get_loss(X, Yoh_) without a penalty should be the mean NLL of forward's probabilities (shared by
    pt_logreg and pt_deep)."""
    same_start([model])
    X, Yoh_ = tensors(model, *overlapping_classes(20), 3)
    probs = forward_probabilities(task, model, X).detach().double()
    loss = get_loss(task, model, X, Yoh_)
    targets = Yoh_.double()
    expected = -(targets * probs.log()).sum(dim=1).mean()
    value = loss.detach().double()
    hint = ""
    if torch.isclose(value, -(targets * probs.log()).sum(), rtol=1e-4):
        hint = (" It is the sum: the lab asks for a loss that does not depend on the size of the training data "
                "(the mean).")
    elif torch.isclose(value, -(targets * torch.log_softmax(probs, dim=1)).sum(dim=1).mean(), rtol=1e-4):
        hint = (" It is the cross entropy of a second softmax over forward's probabilities: nn.CrossEntropyLoss and "
                "F.cross_entropy take scores (logits), not probabilities.")
    expect(torch.isclose(value, expected, rtol=1e-4),
           f"{task}: get_loss(X, Yoh_) should be the mean over the data of -log P(Y = y_i | x_i) from forward's "
           f"probabilities: {expected.item():.6f}; got {value.item():.6f}." + hint)
    loss.backward()
    expect(all(p.grad is not None for p in model.parameters()),
           f"{task}: get_loss should be computed from the parameters with torch operations, so that "
           "loss.backward() gives every parameter a gradient; some got none")


def check_reaches_the_optimum(task, model, train, eval, name):
    """train(model, X, Yoh_, 2000, 0.5) on three overlapping classes should reach the minimum of the mean
    NLL that scikit-learn's LogisticRegression finds (shared by pt_logreg and pt_deep's [2, 3])."""
    X, Y_ = overlapping_classes()
    reference = LogisticRegression(C=np.inf, tol=1e-10, max_iter=10_000).fit(X, Y_)
    optimum = float(-np.mean(np.log(reference.predict_proba(X)[np.arange(len(Y_)), Y_])))
    run_train(task, train, model, *tensors(model, X, Y_, 3), 2000, 0.5)
    probs = run_eval(task, eval, model, X, 3)
    loss = float(-np.mean(np.log(np.maximum(probs[np.arange(len(Y_)), Y_], 1e-300))))
    # 2000 steps of 0.5 from any small start reach the optimum of this well-conditioned problem to 1e-4 by
    # gradient descent; 0.01 leaves room for other optimizers and float32 rounding.
    expect(loss <= optimum + 0.01, f"{task}: train({name}, X, Yoh_, 2000, 0.5) on three overlapping classes should "
                                   f"reach the minimum of the mean NLL, {optimum:.4f} (scikit-learn's "
                                   f"LogisticRegression on the same data and objective); it reached {loss:.4f}")
