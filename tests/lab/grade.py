"""Grade a class: every submission through the lab's checks (tests/lab), each one isolated, into one table.

    python tests/lab/grade.py SUBMISSIONS --out OUT [-j N] [--shard i/n]
    python tests/lab/grade.py --merge OUT1 OUT2 ... --out ALL

Each entry of the folder SUBMISSIONS (a folder, or a .zip file) is one submission, named by the entry's
name without `.zip`. The checks are those of `python -m pytest tests/lab --impl DIR`, run once per task of
each submission: the rules live in lab_check.py and test_lab_*.py; this file only finds the modules, runs
the checks and collects their verdicts. Writes, in OUT:

- grades.csv: one row per submission: `submission`, one word per task (passed, failed, absent, crashed,
  timeout), `passed` (how many tasks passed) and `<task> cause` (the first line of the first message);
- grades.md: the same for reading, then per task how many passed and the most common causes;
- logs/<submission>.txt: where each module was found, and everything the checks said;
- .grade-state.json: what was graded from which files, so that a second run re-grades only the
  submissions whose files (or the checks) changed, and --merge can join the tables of several --shard runs.

Finding the modules (see `locate`): a file named as the lab names it (data.py) or with a number or a
suffix (2_fcann2.py, ptdeep_5.py, PT-Deep.py), at the top or in any folder; else a file that defines
what the lab names (fcann2_train, PTDeep, KSVMWrap, ...). The checks run on the folder that holds most of
them; a module found elsewhere or under another name gets a short stand-in there under the lab's name
that loads the student's file (a package's module by its dotted name), and every folder with one of the
modules is on sys.path, so the student's files import each other as they did for the student.

Isolation (see "One task in a child process"): every task runs in a process of its own, forked from this
one after the libraries are imported (but before any student's code), in its own process group, on a
scratch copy of the submission (the submission's files never change), with a time limit per check and
per task, a limit on memory and file size, its output in a file of which the log keeps the head and the
tail. A verdict is taken only from the report the checks' session itself sends when it completes, marked
with a token the child was forked with; a process that ends without it (os._exit, a segfault), runs past
its time, or whose session was interrupted (KeyboardInterrupt) is `crashed` or `timeout` with the check
it was in. The checks' conftest.py puts back any function of numpy, torch, scikit-learn, scipy or builtins
a solution replaces and fails its task (`crashed`). Afterwards the whole process group is killed: threads
and processes a solution leaves behind go with it. This guards the verdicts against students' mistakes;
it is no sandbox against code written to attack the machine (run the grader in a container for that).
"""

import argparse
import ast
import csv
import hashlib
import io
import json
import os
import re
import resource
import secrets
import select
import shutil
import signal
import sys
import tempfile
import time
import zipfile
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

# One thread per process: -j processes share the cores. Set before NumPy loads its BLAS.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import pytest  # noqa: E402 (light; the libraries the checks use are imported by import_checks)


def import_checks():
    """The checks' helper module lab_check, after importing what every task's checks import: each forked
    child then starts with them loaded (after the arguments are read: a mistyped command is answered at
    once)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import scipy.optimize  # noqa: F401
    import sklearn.metrics  # noqa: F401
    import sklearn.svm  # noqa: F401
    import torch
    import torch._dynamo  # noqa: F401 (imported by torch's first optimizer step otherwise)
    torch.set_num_threads(1)
    import lab_check
    return lab_check


LAB = None  # lab_check, once import_checks has run
LAB_MODULES = ("data", "fcann2", "pt_linreg", "pt_logreg", "pt_deep", "ksvm_wrap")  # checked against lab_check's
WORDS = ("passed", "failed", "crashed", "timeout", "absent")
STATE, LOGS = ".grade-state.json", "logs"
OUTPUT_KEPT = 20_000  # characters of a task's output kept in the log, from its start and from its end
FILE_SIZE_LIMIT = 256 * 2 ** 20  # bytes: the most a task may write to one file (its output included)
MAX_UNZIPPED = 512 * 2 ** 20  # bytes: a .zip submission that unpacks to more is refused


@dataclass(frozen=True)
class Limits:
    """What one task may use. `check_seconds` goes to the checks (--lab-time-limit), which stop a check
    that runs longer; the grader kills a task whose check runs past twice that plus 15 s (its module's
    import and its first calls are timed apart), or that runs past `task_seconds` in all."""

    check_seconds: float = 60.0
    task_seconds: float = 600.0
    memory_gib: float = 4.0  # address space beyond what the grader itself holds when it forks

    def check_deadline(self):
        return 2 * self.check_seconds + 15


# ---------------------------------------------------------------------------------------------------------
# Submissions
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Submission:
    """One entry of SUBMISSIONS: its name, its path (a folder or a .zip) and a digest of its files."""

    name: str
    path: Path
    digest: str = ""


def list_submissions(folder, out):
    """The submissions in `folder`, by name: every folder and .zip file that is not hidden (nor `out`, the
    grades' folder). Raises ValueError naming the argument when the folder is missing, empty, or two
    entries share a name."""
    if not folder.is_dir():
        raise ValueError(f"SUBMISSIONS: expected a folder of submissions (folders or .zip files), got {folder}")
    found = {}
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "__")) or not (entry.is_dir() or entry.suffix.lower() == ".zip") or \
                entry.resolve() == out.resolve():
            continue
        name = entry.stem if entry.suffix.lower() == ".zip" and entry.is_file() else entry.name
        if name in found:
            raise ValueError(f"SUBMISSIONS: {found[name].name} and {entry.name} would both be graded as {name!r}")
        found[name] = entry
    if not found:
        raise ValueError(f"SUBMISSIONS: {folder} holds no submission (a folder or a .zip file per student)")
    return [Submission(name, path) for name, path in found.items()]


# Folders that are no part of a solution: not copied, not read (virtual environments, caches, .git)
SKIPPED_FOLDERS = {"venv", "env", "site-packages", "node_modules", "build", "dist"}


def skipped(name):
    return name.startswith((".", "__")) or name in SKIPPED_FOLDERS


def solution_files(folder):
    """The files of a submission's folder, outside the skipped folders (hidden, caches, environments)."""
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False):
            if not skipped(entry.name):
                yield from solution_files(entry.path)
        elif entry.is_file(follow_symlinks=False):
            yield Path(entry.path)


def files_digest(path):
    """A sha256 of a submission's files (names and contents); of a .zip, of its bytes."""
    digest = hashlib.sha256()
    if path.is_file():
        digest.update(path.read_bytes())
        return digest.hexdigest()
    for file in solution_files(path):
        digest.update(str(file.relative_to(path)).encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def checks_digest(limits):
    """A sha256 of the checks' code and the limits: a change of either grades every submission again."""
    digest = hashlib.sha256(repr(limits).encode())
    for file in sorted(HERE.glob("*.py")) + [PROJECT / "tests" / "conftest.py"]:
        digest.update(file.read_bytes())
    return digest.hexdigest()


def unpack(submission, target):
    """Copy a submission's files to `target` (a folder's, or a .zip's members, checked to stay inside
    `target` and below MAX_UNZIPPED bytes in all). Raises ValueError for a .zip that cannot be read."""
    if submission.path.is_dir():
        shutil.copytree(submission.path, target, symlinks=True,
                        ignore=lambda folder, names: [n for n in names if skipped(n) and Path(folder, n).is_dir()])
        return
    try:
        with zipfile.ZipFile(submission.path) as archive:
            members = archive.infolist()
            if sum(m.file_size for m in members) > MAX_UNZIPPED:
                raise ValueError(f"{submission.path.name} unpacks to more than {MAX_UNZIPPED // 2 ** 20} MiB")
            for member in members:
                destination = (target / member.filename).resolve()
                if not destination.is_relative_to(target.resolve()):
                    raise ValueError(f"{submission.path.name} has a member outside its folder: {member.filename}")
            archive.extractall(target)
    except (zipfile.BadZipFile, OSError) as error:
        raise ValueError(f"{submission.path.name} is not a .zip file that can be read: {error}") from error


# ---------------------------------------------------------------------------------------------------------
# Finding the lab's modules
# ---------------------------------------------------------------------------------------------------------

# What the lab asks each module to define, to find a module whose file name does not say which it is.
# (Locating only: whether the definitions are right is the checks' business.)
DEFINES = {"data": ("sample_gauss_2d", "sample_gmm_2d", "graph_surface", "graph_data", "eval_perf_multi",
                    "eval_AP", "Random2DGaussian"),
           "fcann2": ("fcann2_train", "fcann2_classify"),
           "pt_linreg": (),
           "pt_logreg": ("PTLogreg",),
           "pt_deep": ("PTDeep",),
           "ksvm_wrap": ("KSVMWrap",)}
# Words students put around a module's name: lab1_fcann2.py, zadatak3_pt_logreg.py, pt_deep_final.py
PREFIXES, SUFFIXES = ("lab", "zadatak", "zad", "task", "exercise", "ex", "my"), ("final", "solution", "new", "v")


def letters(name):
    """'fcann' for 2_fcann2, fcann2_v3, lab1_fcann2 and FCANN2: a file name's letters, lower case, without
    the words students put before and after the lab's name (PREFIXES, SUFFIXES)."""
    text = re.sub(r"[^a-z]", "", name.lower())
    for prefix in PREFIXES:
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text.removeprefix(prefix)
            break
    for suffix in SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text.removesuffix(suffix)
            break
    return text


@dataclass
class SourceFile:
    path: Path  # relative to the submission's root
    defines: set = field(default_factory=set)


def source_files(root):
    """The submission's Python files that could be one of the lab's modules (not tests, setup or
    conftest files, nothing in hidden, cache or environment folders), with the names each defines at
    its top level (read with ast, never run)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if any(skipped(part) for part in relative.parts[:-1]) or \
                relative.name in ("conftest.py", "setup.py") or relative.name.startswith("test_") or \
                not path.is_file():
            continue
        try:
            tree = ast.parse(path.read_bytes()[:4_000_000])
            defines = {node.name for node in tree.body
                       if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
        except (SyntaxError, ValueError, RecursionError):
            defines = set()
        found.append(SourceFile(relative, defines))
    return found


def locate(root):
    """{lab module: the SourceFile used for it, or None}, and for each a line saying how it was found.

    A file named as the lab names the module (its letters, so 2_fcann2.py and ptdeep_5.py count) that
    defines one of the module's names (DEFINES) comes first, then a file that defines the most of them,
    then a file named for it that defines none; of equals, the exact name, then the shallowest path."""
    files = source_files(root)
    chosen, how = {}, {}
    for module in LAB_MODULES:
        def score(file, module=module):
            named = 2 if file.path.stem == module else 1 if letters(file.path.stem) == letters(module) else 0
            defined = len(file.defines & set(DEFINES[module]))
            return (defined > 0 and named > 0, defined, named, -len(file.path.parts), str(file.path))

        candidates = [f for f in files if score(f)[1] or score(f)[2]]
        if not candidates:
            chosen[module], how[module] = None, "absent"
            continue
        best = max(candidates, key=score)
        chosen[module] = best
        named, defined = score(best)[2], sorted(best.defines & set(DEFINES[module]))
        how[module] = (f"{best.path} (" + ("by its name" if named == 2 else "by its name's letters" if named else
                                           f"by what it defines: {', '.join(defined)}") + ")")
    return chosen, how


def home_folder(chosen):
    """The folder (relative) that holds most of the modules found; of equals, the shallowest."""
    folders = Counter(file.path.parent for file in chosen.values() if file is not None)
    if not folders:
        return Path()
    return max(folders, key=lambda folder: (folders[folder], -len(folder.parts), str(folder)))


STAND_IN = '''"""The lab's {module}.py for the checks: the student's {relative}, loaded under the lab's name (written
by the class grader into a scratch copy of the submission)."""
import importlib
import importlib.util
import os
import sys

if {dotted!r}:
    sys.modules[__name__] = importlib.import_module({dotted!r})
else:
    _location = os.path.join(os.path.dirname(os.path.abspath(__file__)), {location!r})
    _spec = importlib.util.spec_from_file_location(__name__, _location)
    _module = importlib.util.module_from_spec(_spec)
    sys.modules[__name__] = _module
    _spec.loader.exec_module(_module)
'''


def stand_ins(chosen, home):
    """{file name in the home folder: its text}: for each module found elsewhere or under another name, a
    module under the lab's name that loads the student's file (by its dotted name when its path below
    the home folder is made of Python names, so that a package's relative imports work)."""
    written = {}
    for module, file in chosen.items():
        if file is None or file.path == home / f"{module}.py":
            continue
        try:
            below = file.path.relative_to(home).with_suffix("").parts
        except ValueError:
            below = ()
        dotted = ".".join(below) if below and all(part.isidentifier() for part in below) else ""
        written[f"{module}.py"] = STAND_IN.format(module=module, relative=file.path, dotted=dotted,
                                                  location=os.path.relpath(file.path, home))
    return written


@dataclass
class Layout:
    """How a submission's modules are laid out: what `locate` found and where the checks run."""

    chosen: dict
    how: dict
    home: Path
    stand_ins: dict
    paths: list  # folders (relative) with one of the modules, other than home: put on sys.path
    notebooks: list

    def mapping(self):
        lines = [f"  {module:<10} {self.how[module]}" for module in LAB_MODULES]
        lines.append(f"  the checks run in {self.home}/ of a scratch copy" if self.home.parts else
                     "  the checks run in the top folder of a scratch copy")
        lines += [f"  {name} written there: it loads {self.chosen[name[:-3]].path}" for name in self.stand_ins]
        return "\n".join(lines)


def lay_out(root):
    chosen, how = locate(root)
    home = home_folder(chosen)
    notebooks = sorted(str(p.relative_to(root)) for p in root.rglob("*.ipynb")
                       if not any(part.startswith(".") for part in p.relative_to(root).parts))
    paths = sorted({file.path.parent for file in chosen.values() if file is not None} - {home}, key=str)
    return Layout(chosen, how, home, stand_ins(chosen, home), paths, notebooks)


def absent_cause(module, layout):
    names = ", ".join(DEFINES[module])
    where = f"no file is named {module}.py" + (f" or defines {names}" if names else "")
    if layout.notebooks and not any(layout.chosen.values()):
        return (f"{module}: {where}; the submission has notebooks only ({', '.join(layout.notebooks[:3])}): the "
                "checks run .py modules (jupyter nbconvert --to script)")
    return f"{module}: {where}" + (f" (notebooks are not run: {', '.join(layout.notebooks[:3])})"
                                   if layout.notebooks else "")


# ---------------------------------------------------------------------------------------------------------
# One task in a child process
# ---------------------------------------------------------------------------------------------------------

class Reporter:
    """The plugin of a task's pytest session, in the child: it tells the parent each check it starts
    and, when the session is over, sends the verdicts the checks collected, marked with `token`; then
    the child ends at once (threads left running do not hold it)."""

    lab_isolated = True  # the checks' conftest.py does not fork this session again

    def __init__(self, pipe, token):
        self.pipe, self.token = pipe, token

    def send(self, text):
        os.write(self.pipe, f"{text}\n".encode())

    def pytest_runtest_logstart(self, nodeid):
        self.send(f"started {nodeid}")

    def pytest_collectreport(self, report):
        if report.failed:
            self.collection_error = report.longreprtext.strip().splitlines()[-1]

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session, exitstatus):
        self.exitstatus = int(exitstatus)

    @pytest.hookimpl(trylast=True)
    def pytest_unconfigure(self, config):
        """After everything is printed: the report, then the end."""
        sys.stdout.flush()
        sys.stderr.flush()
        if hasattr(self, "exitstatus"):
            report = {"exitstatus": self.exitstatus, "verdicts": LAB.VERDICTS,
                      "collection_error": getattr(self, "collection_error", None)}
            self.send(f"report {self.token} {json.dumps(report)}")
        os._exit(0)


@dataclass
class Job:
    """One task of one submission: what the child runs, and what the parent has seen of it."""

    submission: Submission
    task: str
    folder: Path  # the task's scratch folder: the copy in submission/, the output in output.txt
    layout: Layout
    limits: Limits
    pid: int = 0
    pipe: int = -1
    token: str = ""
    started: float = 0.0
    received: bytes = b""
    check: str = ""  # the check it is in
    check_started: float = 0.0
    killed_for: str = ""
    status: int | None = None

    def impl(self):
        return self.folder / "submission" / self.layout.home


def start(job, address_space):
    """Fork the child that runs job's checks; the parent returns at once."""
    shutil.copytree(job.folder.parent / "source", job.folder / "submission", symlinks=True)
    for name, text in job.layout.stand_ins.items():
        (job.impl() / name).write_text(text)
    read, write = os.pipe()
    job.token, job.started = secrets.token_hex(16), time.monotonic()
    job.check_started = job.started
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            run_child(job, write, address_space)
        finally:
            os._exit(70)  # pytest.main returned without the report: the parent calls it crashed
    os.close(write)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass  # the child did it first, or has already ended
    os.set_blocking(read, False)
    job.pid, job.pipe = pid, read


def run_child(job, pipe, address_space):
    """In the child: its own process group, the limits, its output to a file, the scratch copy as its
    folder and the student's module folders on sys.path; then the task's pytest session."""
    os.setpgid(0, 0)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    memory = address_space + int(job.limits.memory_gib * 2 ** 30)
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
    cpu = int(job.limits.task_seconds) + 30
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    output = os.open(job.folder / "output.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    sys.dont_write_bytecode = True
    home = job.impl()
    os.chdir(home)
    sys.path[1:1] = [str(job.folder / "submission" / folder) for folder in job.layout.paths]
    pytest.main([str(HERE / f"test_lab_{job.task}.py"), f"--impl={home}",
                 f"--lab-time-limit={job.limits.check_seconds:g}", f"--rootdir={PROJECT}", "-q", "--color=no",
                 "-p", "no:cacheprovider"], plugins=[Reporter(pipe, job.token)])


def watch(job, now):
    """Read what the child sent; kill its process group when a check or the task runs past its limit.
    Returns True once the child has ended (or was killed) and has been reaped."""
    while True:
        try:
            chunk = os.read(job.pipe, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        job.received += chunk
        for line in chunk.decode(errors="replace").splitlines():
            if line.startswith("started "):
                job.check, job.check_started = line.removeprefix("started "), now
    if re.search(rb"(^|\n)report " + job.token.encode() + rb" [^\n]*\n", job.received):  # the whole line
        end(job)
        return True
    if job.killed_for == "":
        if now - job.check_started > job.limits.check_deadline():
            job.killed_for = (f"{job.check or 'the start of its session'} ran past the grader's limit of "
                              f"{job.limits.check_deadline():g} s for one check (a loop that the check's own "
                              "time limit cannot stop: in C code, or with SIGALRM caught or ignored)")
        elif now - job.started > job.limits.task_seconds:
            job.killed_for = f"its checks ran past the grader's limit of {job.limits.task_seconds:g} s for a task"
        if job.killed_for:
            end(job)
            return True
    done, status = os.waitpid(job.pid, os.WNOHANG)
    if done:
        job.status = status
        end(job)
        return True
    return False


def end(job):
    """Kill the child's process group (what it left running goes with it), read what is left, reap it."""
    try:
        os.killpg(job.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if job.status is None:
        job.status = os.waitpid(job.pid, 0)[1]
    while True:
        try:
            chunk = os.read(job.pipe, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        job.received += chunk
    os.close(job.pipe)


def verdict(job):
    """(word, cause) for a finished job: from the report its session completed, else from how it ended."""
    prefix = f"report {job.token} "
    reports = [line for line in job.received.decode(errors="replace").splitlines() if line.startswith(prefix)]
    check = job.check.split("::")[-1] if job.check else "the start of its session"
    if job.killed_for:
        return "timeout", f"{job.task}: {job.killed_for}"
    if not reports:
        ended = (f"was killed by {signal.Signals(os.WTERMSIG(job.status)).name}" if os.WIFSIGNALED(job.status)
                 else f"exited with status {os.WEXITSTATUS(job.status)}")
        if os.WIFSIGNALED(job.status) and os.WTERMSIG(job.status) == signal.SIGXCPU:
            ended += " (its CPU time limit)"
        elif os.WIFSIGNALED(job.status) and os.WTERMSIG(job.status) == signal.SIGXFSZ:
            ended += f" (it wrote a file past {FILE_SIZE_LIMIT // 2 ** 20} MiB)"
        return "crashed", (f"{job.task}: the process {ended} in {check}, before its checks completed (os._exit, "
                           "a crash in C code?)")
    report = json.loads(reports[-1].removeprefix(prefix))
    if report["collection_error"]:
        return "crashed", f"{job.task}: the checks could not be collected ({report['collection_error']})"
    if report["exitstatus"] == int(pytest.ExitCode.INTERRUPTED):
        return "crashed", f"{job.task}: the checks were interrupted in {check} (KeyboardInterrupt raised?)"
    task = report["verdicts"].get(job.task)
    if task is None:
        return "crashed", f"{job.task}: the checks reported nothing (pytest's exit status {report['exitstatus']})"
    if task.get("tampered"):
        return "crashed", task["tampered"]
    if task["failed"]:
        cause = task["failed"][0]
        if "MemoryError" in cause:
            cause += f" (the grader's memory limit: {job.limits.memory_gib:g} GiB for a task)"
        return task["kinds"][0], cause
    if not task["passed"]:
        return "failed", f"{job.task}: no check ran ({task['skipped']} skipped)"
    return "passed", ""


def output_of(job):
    """What the task's session printed: the head and the tail when it printed more than OUTPUT_KEPT."""
    try:
        with open(job.folder / "output.txt", "rb") as file:
            head = file.read(OUTPUT_KEPT)
            file.seek(0, io.SEEK_END)
            size = file.tell()
            if size <= 2 * OUTPUT_KEPT:
                file.seek(OUTPUT_KEPT)
                return (head + file.read()).decode(errors="replace")
            file.seek(size - OUTPUT_KEPT)
            tail = file.read()
    except OSError:
        return ""
    return (f"{head.decode(errors='replace')}\n[... {size - 2 * OUTPUT_KEPT} bytes of output left out ...]\n"
            f"{tail.decode(errors='replace')}")


# ---------------------------------------------------------------------------------------------------------
# Grading: every task of every submission, -j at a time
# ---------------------------------------------------------------------------------------------------------

@dataclass
class Graded:
    """A submission's row: {task: (word, cause)}, and its log."""

    tasks: dict
    log: str

    def passed(self):
        return sum(word == "passed" for word, _ in self.tasks.values())


def address_space_now():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def grade(submissions, limits, jobs, scratch, done):
    """Grade `submissions`, `jobs` tasks at a time; `done(submission, graded)` is called for each as soon
    as its last task ends."""
    from tqdm import tqdm
    tqdm.monitor_interval = 0  # no monitor thread: this process forks the children
    address_space = address_space_now()
    queue, running = deque(), []
    rows, waiting, layouts = {}, {}, {}
    progress = tqdm(total=len(submissions), unit="submission", desc="grading", file=sys.stderr, dynamic_ncols=True)
    for number, submission in enumerate(submissions):
        folder = scratch / f"{number}"
        source = folder / "source"
        rows[submission.name] = {}
        try:
            unpack(submission, source)
            layout = lay_out(source)
        except ValueError as error:
            layout = None
            rows[submission.name] = {task: ("absent", f"{task}: {error}") for task in LAB_MODULES}
        layouts[submission.name] = layout
        for task in LAB_MODULES:
            if layout is None:
                continue
            if layout.chosen[task] is None:
                rows[submission.name][task] = ("absent", absent_cause(task, layout))
            else:
                queue.append(Job(submission, task, folder / task, layout, limits))
        waiting[submission.name] = sum(job.submission is submission for job in queue)
        if not waiting[submission.name]:
            finish(submission, layout, rows[submission.name], {}, done, progress, folder)
    outputs = {}
    try:
        while queue or running:
            while queue and len(running) < jobs:
                job = queue.popleft()
                job.folder.mkdir(parents=True)
                start(job, address_space)
                running.append(job)
            readable = [job.pipe for job in running]
            select.select(readable, [], [], 0.2)
            now = time.monotonic()
            for job in list(running):
                if not watch(job, now):
                    continue
                running.remove(job)
                name = job.submission.name
                rows[name][job.task] = verdict(job)
                outputs[(name, job.task)] = f"({now - job.started:.1f} s)\n{output_of(job)}"
                shutil.rmtree(job.folder, ignore_errors=True)
                waiting[name] -= 1
                if not waiting[name]:
                    task_outputs = {t: outputs.pop((name, t)) for t in LAB_MODULES if (name, t) in outputs}
                    finish(job.submission, layouts[name], rows[name], task_outputs, done, progress,
                           job.folder.parent)
    finally:
        for job in running:
            end(job)
        progress.close()


def finish(submission, layout, row, outputs, done, progress, folder):
    tasks = {task: row[task] for task in LAB_MODULES}
    log = [f"submission {submission.name} ({submission.path.name}), files' sha256 {submission.digest[:16]}",
           "", "the lab's modules:", layout.mapping() if layout else "  none: the submission could not be read", ""]
    for task in LAB_MODULES:
        word, cause = tasks[task]
        log.append(f"===== {task}: {word}" + (f": {cause}" if cause else ""))
        if task in outputs:
            log.append(outputs[task].rstrip())
        log.append("")
    shutil.rmtree(folder, ignore_errors=True)
    done(submission, Graded(tasks, "\n".join(log) + "\n"))
    progress.update(1)


# ---------------------------------------------------------------------------------------------------------
# The tables, written whole
# ---------------------------------------------------------------------------------------------------------

def write_whole(path, text):
    """Write `text` to `path` through a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.grade-{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def log_name(name):
    return f"{LOGS}/{re.sub(r'[^A-Za-z0-9._ -]', '_', name)}.txt"


def csv_text(rows):
    """grades.csv: submission, a word per task, passed, a cause per task."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["submission", *LAB_MODULES, "passed", *(f"{task} cause" for task in LAB_MODULES)])
    for name, entry in sorted(rows.items()):
        tasks = entry["tasks"]
        writer.writerow([name, *(tasks[t][0] for t in LAB_MODULES), sum(tasks[t][0] == "passed" for t in LAB_MODULES),
                         *(tasks[t][1] for t in LAB_MODULES)])
    return buffer.getvalue()


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def cause_kind(cause):
    """A cause with its numbers masked: the same mistake, made with other numbers, counts once."""
    return re.sub(r"-?\d+(\.\d+)?(e[-+]?\d+)?", "#", cause)


def markdown_text(rows, limits):
    """grades.md: the table of words, the causes of every task that did not pass, and per task how many
    passed and the most common causes (what to explain again in class)."""
    names = sorted(rows)
    lines = ["# Grades", "",
             f"{len(names)} submissions through the lab's checks (`pytest tests/lab`), each task in a process of "
             f"its own: {limits.check_seconds:g} s per check, {limits.task_seconds:g} s per task, "
             f"{limits.memory_gib:g} GiB of memory. One log per submission in `{LOGS}/`.", "",
             "| submission | " + " | ".join(LAB_MODULES) + " | passed |",
             "|---" * (len(LAB_MODULES) + 2) + "|"]
    for name in names:
        tasks = rows[name]["tasks"]
        lines.append(f"| {cell(name)} | " + " | ".join(tasks[t][0] for t in LAB_MODULES) +
                     f" | {sum(tasks[t][0] == 'passed' for t in LAB_MODULES)} |")
    lines += ["", "## Per task", "", "| task | " + " | ".join(WORDS) + " |", "|---" * (len(WORDS) + 1) + "|"]
    for task in LAB_MODULES:
        counts = Counter(rows[name]["tasks"][task][0] for name in names)
        lines.append(f"| {task} | " + " | ".join(str(counts[word]) for word in WORDS) + " |")
    lines += ["", "## Most common causes", ""]
    for task in LAB_MODULES:
        causes = [rows[n]["tasks"][task] for n in names if rows[n]["tasks"][task][0] not in ("passed", "absent")]
        if not causes:
            continue
        kinds = Counter(cause_kind(cause) for _, cause in causes)
        lines.append(f"- **{task}** ({len(causes)} of {len(names)} not passed, absent aside):")
        for kind, count in kinds.most_common(3):
            example = next(cause for _, cause in causes if cause_kind(cause) == kind)
            lines.append(f"  - {count}x {example}")
    lines += ["", "## Causes", "", "| submission | task | verdict | cause |", "|---|---|---|---|"]
    for name in names:
        for task in LAB_MODULES:
            word, cause = rows[name]["tasks"][task]
            if word != "passed":
                lines.append(f"| {cell(name)} | {task} | {word} | {cell(cause)} |")
    return "\n".join(lines) + "\n"


class Output:
    """The folder --out: its state (what was graded from which files) and the files it holds. A file
    this program would write and did not write before (no state lists it) is refused, never
    overwritten."""

    def __init__(self, folder):
        self.folder = folder
        self.state = {"submissions": {}, "files": []}
        state = folder / STATE
        if state.is_file():
            try:
                self.state = json.loads(state.read_text())
            except (ValueError, OSError) as error:
                raise ValueError(f"--out: {state} cannot be read ({error}); remove it or choose another folder") \
                    from error
        elif folder.exists() and not folder.is_dir():
            raise ValueError(f"--out: expected a folder, got the file {folder}")

    def check_ours(self, names):
        """Raise ValueError naming the first file this run would write that someone else wrote."""
        ours = set(self.state["files"])
        for relative in ["grades.csv", "grades.md", *(log_name(n) for n in names)]:
            if (self.folder / relative).exists() and relative not in ours:
                raise ValueError(f"--out: {self.folder / relative} exists and was not written by grade.py; "
                                 "choose another folder, or move it away")

    def write(self, relative, text):
        if relative not in self.state["files"]:
            self.state["files"].append(relative)
            self.save()  # claimed before it is written
        write_whole(self.folder / relative, text)

    def save(self):
        write_whole(self.folder / STATE, json.dumps(self.state, indent=1))

    def keep_only(self, names):
        """Forget the submissions not in `names` and remove their logs (files this program wrote)."""
        for name in set(self.state["submissions"]) - set(names):
            del self.state["submissions"][name]
            relative = log_name(name)
            if relative in self.state["files"]:
                (self.folder / relative).unlink(missing_ok=True)
                self.state["files"].remove(relative)

    def tables(self, limits):
        self.state["limits"] = asdict(limits)
        rows = self.state["submissions"]
        self.write("grades.csv", csv_text(rows))
        self.write("grades.md", markdown_text(rows, limits))
        self.save()


# ---------------------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------------------

def shard_argument(text):
    match = re.fullmatch(r"(\d+)/(\d+)", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"expected i/n with 1 <= i <= n (e.g. 2/4), got {text!r}")
    return int(match[1]), int(match[2])


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not value > 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value
    return parse


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="grade.py", description="Grade a class of lab submissions with the lab's checks (tests/lab).")
    parser.add_argument("submissions", nargs="?", type=Path, metavar="SUBMISSIONS",
                        help="a folder with one folder or .zip file per submission")
    parser.add_argument("--out", type=Path, required=True, metavar="OUT",
                        help="the folder for grades.csv, grades.md and logs/ (made if missing)")
    parser.add_argument("-j", "--jobs", type=positive(int), default=len(os.sched_getaffinity(0)), metavar="N",
                        help="tasks graded at a time (default: the usable cores)")
    parser.add_argument("--shard", type=shard_argument, metavar="i/n",
                        help="grade only every n-th submission, starting at the i-th (in name order)")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="OUTk",
                        help="join the grades in these --out folders (of --shard runs) into --out")
    parser.add_argument("--time-limit", type=positive(float), default=Limits.check_seconds, metavar="SECONDS",
                        help=f"stop a check that runs longer (default: {Limits.check_seconds:g})")
    parser.add_argument("--task-time-limit", type=positive(float), default=Limits.task_seconds, metavar="SECONDS",
                        help=f"stop a task whose checks run longer in all (default: {Limits.task_seconds:g})")
    parser.add_argument("--memory-limit", type=positive(float), default=Limits.memory_gib, metavar="GiB",
                        help=f"memory a task may use (default: {Limits.memory_gib:g})")
    arguments = parser.parse_args(argv)
    if (arguments.submissions is None) == (arguments.merge is None):
        parser.error("give SUBMISSIONS to grade, or --merge OUT1 OUT2 ... to join graded tables (not both)")
    if arguments.merge and arguments.shard:
        parser.error("--shard: grades a part of SUBMISSIONS; it does not go with --merge")
    return parser, arguments


def merge(sources, output):
    """The submissions graded in the folders `sources`, and their logs: ({name: its entry}, {name: its log},
    the limits they were graded with). Raises ValueError naming --merge when a folder holds no grades,
    a submission is in two folders, or two were graded with other checks or limits."""
    rows, logs, graded_with = {}, {}, {}
    for source in sources:
        try:
            state = json.loads((source / STATE).read_text())
            limits = Limits(**state["limits"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"--merge: {source} holds no grades of grade.py that can be read ({error})") from error
        for name, entry in state["submissions"].items():
            if name in rows:
                raise ValueError(f"--merge: {name!r} is graded in {logs[name].parents[1]} and in {source}")
            rows[name], logs[name] = entry, source / log_name(name)
            graded_with.setdefault((entry["checks"], limits), source)
    if len(graded_with) > 1:
        first, second = list(graded_with.values())[:2]
        raise ValueError(f"--merge: {first} and {second} were graded with other checks or limits: grade them again "
                         "with the same ones")
    output.check_ours(rows)
    return rows, logs, next(iter(graded_with))[1] if graded_with else None


def plural(count, word):
    return f"{count} {word}{'' if count == 1 else 's'}"


def main(argv=None):
    parser, arguments = parse_arguments(argv)
    limits = Limits(arguments.time_limit, arguments.task_time_limit, arguments.memory_limit)
    try:
        output = Output(arguments.out)
        if arguments.merge:
            rows, logs, graded_with = merge(arguments.merge, output)
            output.keep_only(rows)
            for name, entry in rows.items():
                output.state["submissions"][name] = entry
                output.write(log_name(name), logs[name].read_text(encoding="utf-8"))
            output.tables(graded_with or limits)
            print(f"merged {plural(len(rows), 'submission')} from {len(arguments.merge)} folders into "
                  f"{arguments.out}", file=sys.stderr)
            return 0
        submissions = list_submissions(arguments.submissions, arguments.out)
        if arguments.shard:
            i, n = arguments.shard
            submissions = submissions[i - 1::n]
        output.check_ours([s.name for s in submissions])
    except ValueError as error:
        parser.error(str(error))
    global LAB
    LAB = import_checks()
    if LAB.LAB_MODULES != LAB_MODULES:
        raise RuntimeError(f"grade.py's tasks {LAB_MODULES} are not lab_check's {LAB.LAB_MODULES}")
    checks = checks_digest(limits)
    output.keep_only([s.name for s in submissions])
    for submission in submissions:
        submission.digest = files_digest(submission.path)
    previous = output.state["submissions"]
    changed = [s for s in submissions if previous.get(s.name, {}).get("digest") != s.digest
               or previous[s.name].get("checks") != checks]

    def done(submission, graded):
        output.write(log_name(submission.name), graded.log)
        output.state["submissions"][submission.name] = {
            "digest": submission.digest, "checks": checks, "source": submission.path.name,
            "tasks": {task: list(graded.tasks[task]) for task in LAB_MODULES}}
        output.save()

    print(f"{plural(len(submissions), 'submission')}: {len(changed)} to grade, {len(submissions) - len(changed)} "
          f"unchanged since the last run", file=sys.stderr)
    try:
        with tempfile.TemporaryDirectory(prefix="lab-grade-") as scratch:
            grade(changed, limits, arguments.jobs, Path(scratch), done)
    except KeyboardInterrupt:
        output.tables(limits)
        print(f"interrupted: the submissions graded so far are in {arguments.out}; run the same command again "
              "to grade the rest", file=sys.stderr)
        return 130
    output.tables(limits)
    rows = output.state["submissions"]
    total = sum(sum(rows[s.name]["tasks"][t][0] == "passed" for t in LAB_MODULES) for s in submissions)
    print(f"graded {plural(len(changed), 'submission')} ({len(submissions)} in the table, {total} tasks passed): "
          f"{arguments.out / 'grades.csv'}, {arguments.out / 'grades.md'}, {arguments.out / LOGS}/", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
