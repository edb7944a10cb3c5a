"""The class grader (tests/lab/grade.py) and the protections of `pytest tests/lab --impl DIR`.

Every submission here is this project's own modules with a small edit: a fault planted in one function
or at the top of one module (os._exit, a segfault, KeyboardInterrupt, a loop in Python, a call that
stays in C with SIGALRM ignored, replaced library functions, leftover threads and processes, files
written beside the module, a conftest.py), or the modules moved where students put them (a subfolder,
numbered names, a package, a file found by what it defines, a .zip). One class holds them all and is
graded once; the tests read its table. Each faulty submission plants several faults, one per task, so
that each task shows one fault and the untouched tasks show that the faults did not reach them.
"""

import concurrent.futures
import csv
import hashlib
import random
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
GRADE = PROJECT / "tests" / "lab" / "grade.py"
MODULES = ("data", "fcann2", "pt_linreg", "pt_logreg", "pt_deep", "ksvm_wrap")
CHECK_SECONDS = 12  # the checks' time limit in these runs: the grader kills a check after 2 * 12 + 15 s
MARKER = f"{random.randrange(10 ** 6, 10 ** 7)}"  # names the processes a solution leaves running


def copy_modules(folder, modules=MODULES):
    folder.mkdir(parents=True, exist_ok=True)
    for module in modules:
        shutil.copy(PROJECT / f"{module}.py", folder / f"{module}.py")


def edit(file, old, new):
    """Replace the one occurrence of `old` in `file` (fails if the project's module no longer has it)."""
    text = file.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {file}"
    file.write_text(text.replace(old, new))


def plant(file, definition, *lines):
    """Put `lines` at the start of the body of the function that starts with `definition`, or after the
    module's imports when `definition` is None."""
    text = file.read_text().splitlines(keepends=True)
    if definition is None:
        at = max(i for i, line in enumerate(text) if line.startswith(("import ", "from "))) + 1
        while text[at - 1].rstrip().endswith(("(", ",")):  # a parenthesized import
            at += 1
        indent = ""
    else:
        at = next(i for i, line in enumerate(text) if line.lstrip().startswith(definition))
        indent = text[at][:len(text[at]) - len(text[at].lstrip())] + "    "
        while not text[at].rstrip().endswith(":"):
            at += 1
        at += 1
    text[at:at] = [f"{indent}{line}\n" for line in lines]
    file.write_text("".join(text))


def ends_the_process(folder, witness):
    """Faults that end or stop the process, one per task, and (pt_linreg) what a solution leaves behind;
    pt_logreg, which imports the data.py that pt_linreg overwrites, is untouched."""
    copy_modules(folder)
    plant(folder / "data.py", "def eval_AP(", "os._exit(0)")
    plant(folder / "fcann2.py", "def fcann2_classify(", "raise KeyboardInterrupt")
    plant(folder / "ksvm_wrap.py", "def get_scores(", "import ctypes", "ctypes.string_at(0)")
    plant(folder / "pt_deep.py", "def __init__(self, config,", "raise SystemExit(0)")
    plant(folder / "pt_linreg.py", None,
          "import os, pathlib, signal, subprocess, sys, threading, time",
          "threading.Thread(target=time.sleep, args=(3600,)).start()  # not a daemon",
          f"subprocess.Popen(['sleep', '3600.{MARKER}'])",
          "signal.signal(signal.SIGTERM, signal.SIG_IGN)",
          "signal.signal(signal.SIGINT, signal.SIG_IGN)",
          "os.write(1, b'x' * 3_000_000)",
          "beside = pathlib.Path(__file__).parent",
          "(beside / 'data.py').write_text('raise SystemExit(\"clobbered\")')",
          "(beside / 'fcann2.py').write_text('')",
          "os.chdir('/')")
    (folder / "conftest.py").write_text(f"open({str(witness)!r}, 'w').write('run')\nimport os\nos._exit(0)\n")


def breaks_the_rules(folder):
    """Faults the limits catch, one per task; pt_deep, which imports the faulty pt_logreg, is untouched."""
    copy_modules(folder)
    plant(folder / "data.py", "def eval_AP(", "import ctypes, signal",
          "signal.signal(signal.SIGALRM, signal.SIG_IGN)",
          "ctypes.CDLL(None).sleep(3600)  # in C, as a loop in C would be, without burning the CPU of the test")
    plant(folder / "fcann2.py", "def fcann2_train(", "import os", "os.write(1, b'x' * 3_000_000)  # 3 MB, shown "
          "with the failure", "while True:", "    pass")
    plant(folder / "pt_linreg.py", None, "np.allclose = lambda *args, **kwargs: True")
    plant(folder / "pt_logreg.py", "def __init__(self, D, C):", "bytearray(64 * 2 ** 30)  # 64 GiB")
    plant(folder / "ksvm_wrap.py", None, "import sys, types",
          "sys.modules['sklearn.svm'] = types.ModuleType('sklearn.svm')",
          "sys.path.clear()")


def student_layout(folder):
    """The modules as a student might lay them out, zipped: in LAB1/, data in a package (utils/data.py),
    fcann2 and pt_deep with numbers in their names, KSVMWrap in svm.py, a notebook beside them; the
    imports between them edited to match, as the student's would be."""
    lab = folder / "LAB1"
    copy_modules(lab, ("pt_linreg", "pt_logreg"))
    (lab / "utils").mkdir()
    (lab / "utils" / "__init__.py").write_text("")
    shutil.copy(PROJECT / "data.py", lab / "utils" / "data.py")
    shutil.copy(PROJECT / "fcann2.py", lab / "2_fcann2.py")
    shutil.copy(PROJECT / "pt_deep.py", lab / "ptdeep_5.py")
    shutil.copy(PROJECT / "ksvm_wrap.py", lab / "svm.py")
    for file in lab.glob("*.py"):
        edit(file, "\nimport data\n", "\nfrom utils import data\n")
    edit(lab / "svm.py", "\nimport pt_deep\n", "\nimport ptdeep_5 as pt_deep\n")
    (lab / "lab1.ipynb").write_text('{"cells": []}')
    archive = folder.with_suffix(".zip")
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in sorted(folder.rglob("*")):
            zipped.write(file, file.relative_to(folder))
    shutil.rmtree(folder)


def two_folders(folder):
    """data.py left in lab 0's folder; lab 1's modules in their own, one with the task's words around its
    name, importing data from there (the student ran them with both folders on the path)."""
    copy_modules(folder / "lab0", ("data",))
    copy_modules(folder / "lab1", ("pt_linreg",))
    shutil.copy(PROJECT / "fcann2.py", folder / "lab1" / "zadatak2_fcann2.py")


def digest(folder):
    return hashlib.sha256(b"".join(str(p.relative_to(folder)).encode() + p.read_bytes()
                                   for p in sorted(folder.rglob("*")) if p.is_file())).hexdigest()


def run_grade(*arguments, timeout=400):
    return subprocess.run([sys.executable, str(GRADE), *map(str, arguments)], cwd=PROJECT, capture_output=True,
                          text=True, timeout=timeout)


def rows_of(out):
    with open(out / "grades.csv", newline="") as file:
        return {row["submission"]: row for row in csv.DictReader(file)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One class, graded once: (its folder, the --out folder, the run, the digests of the submissions)."""
    root = tmp_path_factory.mktemp("class")
    submissions = root / "submissions"
    ends_the_process(submissions / "ends_the_process", root / "conftest_was_run")
    breaks_the_rules(submissions / "breaks_the_rules")
    student_layout(submissions / "student_layout")
    two_folders(submissions / "two_folders")
    (submissions / "notebooks_only").mkdir()
    (submissions / "notebooks_only" / "lab1.ipynb").write_text('{"cells": []}')
    before = {p.name: digest(p) if p.is_dir() else p.read_bytes() for p in submissions.iterdir()}
    out = root / "out"
    done = run_grade(submissions, "--out", out, "-j", 2, "--time-limit", CHECK_SECONDS)
    return submissions, out, done, before


def test_the_class_is_graded_in_one_table(graded):
    _, out, done, _ = graded
    assert done.returncode == 0, done.stderr
    rows = rows_of(out)
    assert sorted(rows) == ["breaks_the_rules", "ends_the_process", "notebooks_only", "student_layout", "two_folders"]
    assert list(rows["student_layout"])[:8] == ["submission", *MODULES, "passed"]
    for row in rows.values():
        assert row["passed"] == str(sum(row[m] == "passed" for m in MODULES)), row
        assert all((row[m] == "passed") == (row[f"{m} cause"] == "") for m in MODULES), row
    markdown = (out / "grades.md").read_text()
    assert "| student_layout | passed | passed | passed | passed | passed | passed | 6 |" in markdown, markdown
    assert "| pt_deep | 2 | 0 | 1 | 0 | 2 |" in markdown, markdown  # passed failed crashed timeout absent
    assert "| pt_logreg | 2 | 0 | 1 | 0 | 2 |" in markdown, markdown
    assert "## Most common causes" in markdown and "- **data** (2 of 5 not passed, absent aside):" in markdown
    assert sorted(p.name for p in (out / "logs").iterdir()) == [f"{name}.txt" for name in sorted(rows)]


def test_each_layout_is_found_and_its_imports_work(graded):
    _, out, _, _ = graded
    assert [rows_of(out)["student_layout"][m] for m in MODULES] == ["passed"] * 6
    log = (out / "logs" / "student_layout.txt").read_text()
    for line in ["data       LAB1/utils/data.py (by its name)", "fcann2     LAB1/2_fcann2.py (by its name's letters)",
                 "pt_deep    LAB1/ptdeep_5.py (by its name's letters)", "pt_linreg  LAB1/pt_linreg.py (by its name)",
                 "ksvm_wrap  LAB1/svm.py (by what it defines: KSVMWrap)", "the checks run in LAB1/ of a scratch copy"]:
        assert line in log, log


def test_modules_in_two_folders_import_each_other(graded):
    _, out, _, _ = graded
    assert [rows_of(out)["two_folders"][m] for m in MODULES] == ["passed"] * 3 + ["absent"] * 3
    log = (out / "logs" / "two_folders.txt").read_text()
    for line in ["data       lab0/data.py (by its name)", "fcann2     lab1/zadatak2_fcann2.py (by its name's letters)",
                 "the checks run in lab1/ of a scratch copy", "data.py written there: it loads lab0/data.py"]:
        assert line in log, log


def test_a_submission_of_notebooks_says_so(graded):
    row = rows_of(graded[1])["notebooks_only"]
    assert [row[m] for m in MODULES] == ["absent"] * 6
    assert "the submission has notebooks only (lab1.ipynb)" in row["fcann2 cause"], row


def test_ending_the_process_is_crashed_and_reaches_no_other_task(graded):
    row = rows_of(graded[1])["ends_the_process"]
    assert [row[m] for m in MODULES] == ["crashed", "crashed", "passed", "passed", "crashed", "crashed"], row
    assert "the process exited with status 0 in test_eval_AP_on_the_labs_examples" in row["data cause"], row
    assert row["pt_deep cause"] == "pt_deep: SystemExit in test_imports: 0", row
    assert "the checks were interrupted in" in row["fcann2 cause"], row
    assert "the process was killed by SIGSEGV in test_wrapper_agrees_with_sklearn_svc" in row["ksvm_wrap cause"]


def test_what_a_solution_leaves_behind_is_gone_and_changes_nothing(graded):
    """pt_linreg leaves a thread and a process running, ignores SIGTERM and SIGINT, prints 3 MB, changes
    directory and overwrites data.py and fcann2.py beside itself: it passes, and so do the tasks that
    import data.py; the submission's files are as they were; its conftest.py was never run."""
    submissions, out, _, before = graded
    assert rows_of(out)["ends_the_process"]["pt_linreg"] == "passed"
    assert before["ends_the_process"] == digest(submissions / "ends_the_process")
    assert before == {p.name: digest(p) if p.is_dir() else p.read_bytes() for p in submissions.iterdir()}
    assert not (submissions.parent / "conftest_was_run").exists()
    left = [p for p in Path("/proc").iterdir() if p.name.isdigit() and MARKER in read_cmdline(p)]
    assert not left, "a process the solution started is still running"


def read_cmdline(process):
    try:
        return (process / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def test_loops_and_replaced_libraries_are_caught(graded):
    row = rows_of(graded[1])["breaks_the_rules"]
    assert [row[m] for m in MODULES] == ["timeout", "timeout", "crashed", "crashed", "passed", "crashed"], row
    assert "test_eval_AP_on_the_labs_examples" in row["data cause"] and "ran past the grader's limit of " \
           f"{2 * CHECK_SECONDS + 15} s for one check" in row["data cause"], row
    assert f"ran longer than {CHECK_SECONDS} s" in row["fcann2 cause"], row
    log = graded[1] / "logs" / "breaks_the_rules.txt"
    assert "bytes of output left out ...]" in log.read_text() and log.stat().st_size < 200_000
    assert "the solution replaced numpy.allclose" in row["pt_linreg cause"], row
    assert "PTLogreg(2, 3) raised MemoryError" in row["pt_logreg cause"], row
    assert row["pt_logreg cause"].endswith("(the grader's memory limit: 4 GiB for a task)"), row
    assert "sys.modules['sklearn.svm']" in row["ksvm_wrap cause"], row


def test_a_second_run_grades_only_what_changed(graded):
    submissions, out, _, _ = graded
    first = (out / "grades.csv").read_text()
    again = run_grade(submissions, "--out", out, "--time-limit", CHECK_SECONDS)
    assert again.returncode == 0 and "5 submissions: 0 to grade, 5 unchanged" in again.stderr, again.stderr
    assert (out / "grades.csv").read_text() == first
    shutil.copy(PROJECT / "data.py", submissions / "notebooks_only" / "data.py")
    changed = run_grade(submissions, "--out", out, "--time-limit", CHECK_SECONDS)
    assert "5 submissions: 1 to grade, 4 unchanged" in changed.stderr, changed.stderr
    rows = rows_of(out)
    assert rows["notebooks_only"]["data"] == "passed" and rows["notebooks_only"]["passed"] == "1", rows
    assert [rows["ends_the_process"][m] for m in MODULES] == ["crashed", "crashed", "passed", "passed", "crashed",
                                                              "crashed"]


def test_shards_graded_apart_merge_into_one_table(tmp_path):
    submissions = tmp_path / "submissions"
    for name in ("a", "b", "c"):
        (submissions / name).mkdir(parents=True)
    (submissions / "b" / "notes.ipynb").write_text("{}")
    shutil.copy(PROJECT / "data.py", submissions / "c" / "data.py")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        first, second = pool.map(lambda i: run_grade(submissions, "--out", tmp_path / f"shard{i}", "--shard", f"{i}/2",
                                                     "-j", 1), (1, 2))
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert sorted(rows_of(tmp_path / "shard1")) == ["a", "c"] and sorted(rows_of(tmp_path / "shard2")) == ["b"]
    merged = run_grade("--merge", tmp_path / "shard1", tmp_path / "shard2", "--out", tmp_path / "all")
    assert merged.returncode == 0, merged.stderr
    rows = rows_of(tmp_path / "all")
    assert rows == {**rows_of(tmp_path / "shard1"), **rows_of(tmp_path / "shard2")}
    assert rows["c"]["data"] == "passed" and rows["a"]["data"] == "absent" and rows["b"]["data"] == "absent"
    assert sorted(p.name for p in (tmp_path / "all" / "logs").iterdir()) == ["a.txt", "b.txt", "c.txt"]
    twice = run_grade("--merge", tmp_path / "shard1", tmp_path / "all", "--out", tmp_path / "again")
    assert twice.returncode == 2 and "--merge: 'a' is graded in" in twice.stderr, twice.stderr
    assert run_grade(submissions, "--out", tmp_path / "other", "--shard", "2/2", "--time-limit", 30).returncode == 0
    mixed = run_grade("--merge", tmp_path / "shard1", tmp_path / "other", "--out", tmp_path / "mixed")
    assert mixed.returncode == 2 and "were graded with other checks or limits" in mixed.stderr, mixed.stderr
    assert not (tmp_path / "again").exists() and not (tmp_path / "mixed").exists()


@pytest.mark.parametrize("arguments, message", [
    (["missing", "--out", "out"], "SUBMISSIONS: expected a folder of submissions"),
    (["empty", "--out", "out"], "SUBMISSIONS: "),
    (["empty", "--out", "out", "--shard", "3/2"], "argument --shard: expected i/n with 1 <= i <= n"),
    (["empty", "--out", "out", "--shard", "x"], "argument --shard: expected i/n"),
    (["empty", "--out", "out", "-j", "0"], "argument -j/--jobs: expected a positive number"),
    (["--out", "out"], "give SUBMISSIONS to grade, or --merge"),
    (["--merge", "empty", "--out", "out"], "--merge: "),
    (["class", "--out", "taken"], "taken/grades.csv exists and was not written by grade.py"),
])
def test_bad_arguments_are_named_before_any_work(tmp_path, arguments, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "class" / "s1").mkdir(parents=True)
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "grades.csv").write_text("a gradebook of someone else's\n")
    done = subprocess.run([sys.executable, str(GRADE), *arguments], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert (tmp_path / "taken" / "grades.csv").read_text() == "a gradebook of someone else's\n"
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------------------------
# pytest tests/lab --impl DIR, for one student's own solution
# ---------------------------------------------------------------------------------------------------------

def run_lab_check(test_file, impl, *options):
    return subprocess.run([sys.executable, "-m", "pytest", f"tests/lab/{test_file}", "--impl", str(impl), "-q",
                           "-p", "no:cacheprovider", *options], cwd=PROJECT, capture_output=True, text=True,
                          timeout=180)


@pytest.fixture(scope="module")
def lab_checks(tmp_path_factory):
    """Four runs of the checks: a solution that ends the process mid-check; one that stays in C with
    SIGALRM ignored (a 2 s time limit); one whose folder has a conftest.py and whose module leaves a
    thread running; the project through a symbolic link."""
    root = tmp_path_factory.mktemp("impl")
    copy_modules(root / "exits", ("data",))
    plant(root / "exits" / "data.py", "def eval_AP(", "os._exit(0)")
    copy_modules(root / "stalls", ("data",))
    plant(root / "stalls" / "data.py", "def eval_AP(", "import ctypes",
          "signal.signal(signal.SIGALRM, signal.SIG_IGN)", "ctypes.CDLL(None).sleep(3600)")
    edit(root / "stalls" / "data.py", "\nimport sys\n", "\nimport signal\nimport sys\n")
    copy_modules(root / "leftovers", ("data", "pt_logreg", "pt_deep", "ksvm_wrap"))
    plant(root / "leftovers" / "ksvm_wrap.py", None, "import threading",
          "threading.Thread(target=time.sleep, args=(3600,)).start()  # not a daemon")
    (root / "leftovers" / "conftest.py").write_text(f"open({str(root / 'conftest_was_run')!r}, 'w')\n"
                                                    "raise SystemExit('a conftest.py of the solution')\n")
    (root / "link").symlink_to(PROJECT)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = pool.map(lambda arguments: run_lab_check(*arguments), [
            ("test_lab_data.py", root / "exits"), ("test_lab_data.py", root / "stalls", "--lab-time-limit", "2"),
            ("test_lab_ksvm_wrap.py", root / "leftovers"), ("test_lab_ksvm_wrap.py", root / "link")])
        return root, dict(zip(("exits", "stalls", "leftovers", "link"), runs, strict=True))


def test_a_solution_that_ends_the_process_never_leaves_exit_status_0(lab_checks):
    done = lab_checks[1]["exits"]
    assert done.returncode == 1, done.stdout + done.stderr
    assert "tests/lab: the session ended before its checks completed: the process exited with status 0 during " \
           "tests/lab/test_lab_data.py::test_eval_AP_on_the_labs_examples" in done.stderr, done.stderr


def test_a_check_the_time_limit_cannot_stop_is_killed_and_named(lab_checks):
    done = lab_checks[1]["stalls"]
    assert done.returncode == 1, done.stdout + done.stderr
    assert "the process ran past 19 s and was killed (a loop in C code, or SIGALRM ignored?) during " \
           "tests/lab/test_lab_data.py::test_eval_AP_on_the_labs_examples" in done.stderr, done.stderr


def test_the_solutions_conftest_is_not_run_and_a_leftover_thread_does_not_hold_pytest(lab_checks):
    root, runs = lab_checks
    done = runs["leftovers"]
    assert done.returncode == 0 and "ksvm_wrap  passed (" in done.stdout, done.stdout + done.stderr
    assert not (root / "conftest_was_run").exists()


def test_impl_may_be_a_symbolic_link_to_this_project(lab_checks):
    done = lab_checks[1]["link"]
    assert done.returncode == 0 and "ksvm_wrap  passed (" in done.stdout, done.stdout + done.stderr


def test_a_library_function_a_solution_replaces_fails_its_task_and_is_put_back(tmp_path):
    copy_modules(tmp_path, ("data",))
    plant(tmp_path / "data.py", None, "np.allclose = lambda *args, **kwargs: True")
    done = run_lab_check("test_lab_data.py", tmp_path)
    assert done.returncode == 1, done.stdout
    assert "data       FAILED 1 of " in done.stdout and "data: the solution replaced numpy.allclose (at import or in " \
           "a call)" in done.stdout, done.stdout
    # put back after the first check: every other check ran on the real numpy, and passed
    assert " 1 error" in done.stdout and "failed" not in done.stdout.split("the lab's tasks")[0], done.stdout
