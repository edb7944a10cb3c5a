"""The lab's checks (tests/lab) catch real mistakes: run against deliberately wrong solutions
(tests/lab_mistakes), each mistake fails its check with the message a student reads, and a folder with
nothing in it fails once per task."""

import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
MISTAKES = PROJECT / "tests" / "lab_mistakes"


def run_lab_check(impl, *args):
    """`python -m pytest tests/lab --impl impl ...` in a process of its own: (exit code, what it printed)."""
    done = subprocess.run([sys.executable, "-m", "pytest", "tests/lab", "--impl", str(impl), "-q", "-p",
                           "no:cacheprovider", *args], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module")
def several_mistakes():
    return run_lab_check(MISTAKES / "several", "-k", "eval_perf_binary or step_follows or count_params or "
                                                     "support_is_a_method or wrapper_agrees")


@pytest.mark.parametrize("check, message", [
    ("test_eval_perf_binary_agrees_with_sklearn", "are recall and precision swapped"),
    ("test_the_step_follows_the_gradient_of_the_mean_loss", "Your step is 20 (= N) times the gradient of the mean"),
    ("test_count_params[config0-9]", "count_params() of PTDeep([2, 3]) should count 9 parameters (the lab: [2, 3] "
                                     "gives 9); it returned 2"),
    ("test_support_is_a_method_as_the_lab_lists_it", "svm.support() should work; svm.support is a ndarray, "
                                                     "not callable"),
])
def test_each_mistake_fails_its_check_with_a_students_message(several_mistakes, check, message):
    code, printed = several_mistakes
    assert code == 1, printed
    assert "FAILED tests/lab/" in printed and f"::{check}" in printed.split("short test summary info")[1], printed
    assert message in printed, printed


def test_what_the_mistakes_do_not_touch_passes(several_mistakes):
    _, printed = several_mistakes
    # The SVM wrapper's predict, get_scores and support agree with SVC: only "support is not a method" fails.
    assert "test_wrapper_agrees_with_sklearn_svc" not in printed.split("short test summary info")[1], printed
    assert "6 failed, 2 passed" in printed, printed


def test_what_the_lab_leaves_open_is_not_held_against_a_right_solution():
    # other names for the hyper-parameters (n_iter, lr, reg), W1 as [D x H], biases as row vectors
    code, printed = run_lab_check(MISTAKES / "other_choices", "-k", "fcann2")
    assert code == 0 and "4 passed" in printed, printed


def test_fcann2_returning_a_dict_is_named():
    code, printed = run_lab_check(MISTAKES / "fcann2_dict", "-k", "fcann2 and returns_the_tuple")
    assert code == 1
    assert ("fcann2: fcann2_train should return the tuple (W1, b1, W2, b2), as lab 0's logreg_train returns (W, b); "
            "it returned dict") in printed, printed


def test_missing_modules_fail_once_per_task_and_one_that_never_returns_is_stopped(tmp_path):
    (tmp_path / "fcann2.py").write_text("import time\nwhile True:  # a demo at import that runs for ever\n"
                                        "    time.sleep(0.01)\n")
    code, printed = run_lab_check(tmp_path, "--lab-time-limit", "2")
    assert code == 1
    failed = [line for line in printed.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 6 and all("::test_imports" in line for line in failed), printed
    assert "6 failed" in printed and "passed" not in printed
    assert f"pt_deep: the lab asks for a module pt_deep.py; pt_deep.py is not in {tmp_path}" in printed
    assert "fcann2: the lab asks for a module fcann2.py; importing fcann2.py raised LabTimeout: importing fcann2.py " \
           "ran longer than 2 s and was stopped" in printed, printed


def test_impl_that_is_not_a_folder_is_refused(tmp_path):
    code, printed = run_lab_check(tmp_path / "missing")
    assert code != 0 and "--impl: expected a folder holding the lab's modules" in printed, printed
