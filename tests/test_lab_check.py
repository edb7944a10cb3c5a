"""The lab's checks (tests/lab) are right about solutions written by others: run against small
solutions, each in a process of its own, they pass every right one that makes a choice the lab leaves
open (tests/lab_choices) and fail every wrong one (tests/lab_mistakes) for its cause, in a message a
student reads. Each test names the point of the lab check's contract it holds (the numbers of the
issue that listed them)."""

import concurrent.futures
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
CHOICES, MISTAKES = PROJECT / "tests" / "lab_choices", PROJECT / "tests" / "lab_mistakes"
RUNS = {}  # argument list -> Future of (exit code, what it printed)
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=2)  # two checks at a time: one torch thread each


# A headless machine's setting (CI, a grader): matplotlib's backend named, so that pyplot loads none until
# a figure is made
HEADLESS = {"MPLBACKEND": "Agg"}


def run_lab_check(impl, *tasks, options=(), environment=None, wait=True):
    """`python -m pytest tests/lab/test_lab_TASK.py ... --impl impl` in a process of its own (every task when
    none is named), with `environment` added to this one's: (exit code, what it printed). Runs once per
    argument list; wait=False only starts it."""
    files = [f"tests/lab/test_lab_{task}.py" for task in tasks] or ["tests/lab"]
    command = [sys.executable, "-m", "pytest", *files, "--impl", str(impl), "-q", "-p", "no:cacheprovider", *options]
    key = (tuple(command), tuple(sorted((environment or {}).items())))
    if key not in RUNS:
        env = {**os.environ, **(environment or {})}
        RUNS[key] = POOL.submit(lambda: subprocess.run(command, cwd=PROJECT, capture_output=True, text=True,
                                                       timeout=300, env=env))
    if wait:
        done = RUNS[key].result()
        return done.returncode, done.stdout + done.stderr


@pytest.fixture(scope="module", autouse=True)
def start_every_run():
    """Start the runs the tests below read, two at a time, before the first test waits on one."""
    for folder in ("several", "doubled", "others", "messages"):
        run_lab_check(MISTAKES / folder, wait=False)
    for folder, tasks, keyword in MISTAKEN:
        run_lab_check(MISTAKES / folder, *tasks, options=("-k", keyword), wait=False)
    for folder, tasks, _ in CHOSEN:
        run_lab_check(CHOICES / folder, *tasks, wait=False)
    for folder, tasks, _, keyword in READ_AS_WRITTEN:
        run_lab_check(CHOICES / folder, *tasks, options=("-k", keyword), environment=HEADLESS, wait=False)
    for tasks in GLOBAL_STATE:
        run_lab_check(CHOICES / "global_state", *tasks, wait=False)
    yield
    POOL.shutdown(cancel_futures=True)


def verdicts(printed):
    """{task: its line in the summary "the lab's tasks"}."""
    section = printed.split("the lab's tasks")[1].split("\n=")[0]
    lines = [line for line in section.splitlines()[1:] if line.strip()]
    return {line.split()[0]: line for line in lines}


CHOSEN = [
    # 1 hyper-parameters as module globals (lab 0's template); 3 a required param_lambda in the train that
    # pt_logreg and pt_deep share; 4 a misspelled keyword (param_lambdba); 8 no myDummyDecision; 10 a
    # package this environment lacks; the lab's spelling suport()
    ("lab0_template", ("data", "fcann2", "pt_linreg", "pt_logreg", "pt_deep", "ksvm_wrap"),
     ["data.py (line 6) imports lab0_notebook_helpers, not installed here: a stand-in was used",
      "fcann2     passed (4 checks; data.py (line 5) imports IPython", "penalty: lambda ||W||^2"]),
    # 5 float64 parameters, 6 support as a property, 9 PTDeep whose forward gives log-probabilities, through
    # its own eval; the penalty as SGD's weight_decay; other names (n_iter, lr, reg), W1 as [D x H]
    ("other_choices", ("fcann2", "pt_logreg", "pt_deep", "ksvm_wrap"),
     ["penalty: lambda/2 ||W||^2 (SGD's weight_decay=lambda)", "forward returns log-probabilities"]),
    # 7 the sum of the NLLs (the lab's fcann2 text), printed; 2 a required hidden size; param_lambda given
    # to PTLogreg's constructor; pt_linreg's a, b, X, Y inside main()
    ("sum_loss", ("fcann2", "pt_logreg", "pt_linreg"), ["loss: the sum of the NLLs (the lab's fcann2 text)"]),
    # column biases and W @ X.T (the lab's vector equations); W as [C x D]; Adam in train
    ("transposed", ("fcann2", "pt_logreg"), []),
]
GLOBAL_STATE = [("data", "pt_deep", "pt_linreg", "pt_logreg"), ("pt_linreg",), ("data",)]

# Issue 29: right solutions read the way the lab's words allow, each run with only the checks its choices
# meet (-k), on a headless machine's setting. 1 pt_linreg's gradients printed in six styles (a tensor's 4
# digits beside a float's 17 under one label, the float printed before backward(); Croatian labels, tabs,
# NumPy scalars, every tenth step from step 10; only the differences; grad_a = / grad_a analitic = at 4
# decimals; pytorch: / ours: on lines of their own, the hand's computed before optimizer.step(); a_grad /
# a_hand in float64); 2 top-level a, b, X, Y that the training never updates; 3 a backend picked and
# pyplot called at import (data.py) and in the script (pt_linreg.py); 4 KSVMWrap's C / gamma and param_c
# / param_gamma; 5 the norm, not squared, in get_loss (pt_logreg) and in train (pt_deep); 6 fcann2_train
# returning (W2, b2, W1, b1)
LINREG = "imports or prints or fitted"
READ_AS_WRITTEN = [
    ("tensor_beside_float", ("data", "pt_linreg", "ksvm_wrap"), {}, ""),
    ("every_tenth_step", ("pt_linreg", "pt_logreg", "fcann2"),
     {"pt_logreg": "penalty: lambda ||W|| (the norm, not squared)"}, f"{LINREG} or step or loss or lambda"),
    ("only_differences", ("pt_linreg", "pt_deep"), {"pt_deep": "penalty: lambda ||W|| (the norm, not squared)"},
     f"{LINREG} or lambda"),
    ("untrained_globals", ("pt_linreg", "ksvm_wrap"), {}, f"{LINREG} or svm or sklearn"),
    ("hand_before_step", ("pt_linreg",), {}, LINREG),
    ("float64_hand", ("pt_linreg",), {}, LINREG),
]


@pytest.mark.parametrize("folder, tasks, notes", CHOSEN)
def test_a_right_solution_passes_whatever_the_lab_leaves_open(folder, tasks, notes):
    code, printed = run_lab_check(CHOICES / folder, *tasks)
    assert code == 0, printed
    lines = verdicts(printed)
    assert all(lines[task].startswith(f"{task:<10} passed") for task in tasks), printed
    for text in notes:
        assert text in printed.split("the lab's tasks")[1], printed


@pytest.mark.parametrize("folder, tasks, notes, keyword", READ_AS_WRITTEN)
def test_a_right_solution_passes_however_it_is_written(folder, tasks, notes, keyword):
    code, printed = run_lab_check(CHOICES / folder, *tasks, options=("-k", keyword), environment=HEADLESS)
    assert code == 0, printed
    lines = verdicts(printed)
    assert all(lines[task].startswith(f"{task:<10} passed") for task in tasks), printed
    for task, text in notes.items():
        assert text in lines[task], printed


# Issue 29: the wrong side of each class, still caught for its cause
MISTAKEN = [("older_code", ("data", "pt_linreg", "pt_logreg", "ksvm_wrap"), f"{LINREG} or graph or lambda or svm"),
            ("reordered", ("fcann2", "pt_linreg", "pt_deep", "ksvm_wrap"), f"{LINREG} or step or lambda or svm")]


@pytest.mark.parametrize("folder, task, message", [
    # 1 hand gradients of the wrong sign, named as such
    ("older_code", "pt_linreg", "beside them the script printed 6.17531, 3.96387: -1 times autograd's"),
    # 2 top-level a, b that training updated: their line is checked
    ("reordered", "pt_linreg", "should pass close to the least-squares line through the points (y = 2.000 x + "
                               "1.000); got y = 16.541 x + 9.707"),
    # 4 a constructor that takes the hyper-parameters by name, not in the lab's order or defaults
    ("older_code", "ksvm_wrap", "the lab's call KSVMWrap(X, Y_, 1, 'auto') raised InvalidParameterError"),
    ("reordered", "ksvm_wrap", "the lab's call KSVMWrap(X, Y_) raised TypeError"),
    # 5 the norm in get_loss and the weight decay: twice; a penalty the softmax is blind to
    ("older_code", "pt_logreg", "reaches the minimum of the NLL plus lambda/2 ||W||^2 + lambda ||W||, while get_loss "
                                "reports lambda ||W||: the penalty is applied twice"),
    ("reordered", "pt_deep", "param_lambda is taken and ignored, or its penalty does nothing to the model's "
                             "probabilities"),
    # 6 layers returned in another order: the first layer's gradient named as W1's and b1's
    ("reordered", "fcann2", "Relative error per parameter (W1, b1, W2, b2) against the mean's gradient: 5.1e-01, "
                            "8.2e-01, 2.3e-06, 1.8e-06"),
    # 7 an API matplotlib removed, named with the version installed
    ("older_code", "data", "'QuadContourSet' object has no attribute 'collections' (at data.py:39): "
                           "QuadContourSet.collections is not in matplotlib "),
])
def test_each_mistake_of_issue_29_fails_for_its_cause(folder, task, message):
    tasks, keyword = next((tasks, keyword) for name, tasks, keyword in MISTAKEN if name == folder)
    code, printed = run_lab_check(MISTAKES / folder, *tasks, options=("-k", keyword))
    assert code == 1, printed
    assert verdicts(printed)[task].startswith(f"{task:<10} FAILED"), printed
    assert message in printed, printed
    assert "Traceback" not in printed, printed


@pytest.mark.parametrize("folder, task, message", [
    ("several", "data", "are recall and precision swapped"),
    ("several", "pt_deep", "count_params() of PTDeep([2, 3]) should count 9 parameters (the lab: [2, 3] gives 9); it "
                           "returned 2"),
    ("messages", "fcann2", "fcann2_train should return the tuple (W1, b1, W2, b2), as lab 0's logreg_train returns "
                           "(W, b); it returned dict of length 4"),
    # 11 regularization exercised with lambda > 0: ignored, doubled, inconsistent, not L2 at all
    ("several", "fcann2", "takes the step of the unpenalized loss: the penalty is ignored"),
    ("several", "pt_logreg", "reaches the minimum of the unpenalized loss: param_lambda is taken and ignored"),
    ("doubled", "fcann2", "the loss fcann2_train prints has the penalty lambda ||W||^2, whose gradient is 2 lambda W; "
                          "its step adds 1 lambda W"),
    ("doubled", "pt_logreg", "reaches the minimum of the NLL plus 1.5 lambda ||W||^2, while get_loss reports lambda "
                             "||W||^2: the penalty is applied twice"),
    ("others", "pt_logreg", "is param_lambda used for something else than an L2 penalty"),
    # 12 special sizes computed and not drawn
    ("doubled", "data", "should draw the special points with symbols twice the size of the others"),
    # 13 a double softmax
    ("doubled", "pt_deep", "It is the cross entropy of a second softmax over forward's probabilities"),
    # 14 forward returns scores (and eval class indices): one failure, in the first check
    ("others", "pt_deep", "forward(X) should return probabilities (the lab: probs = softmax(...))"),
    # 15 a loop of param_niter + 1 steps, named as a count, not a gradient
    ("others", "fcann2", "fcann2_train(param_niter=1000) should take 1000 steps; it takes 1001 (param_niter +1)"),
    # 16 pt_linreg prints no gradients; prints hand gradients from after the step
    ("several", "pt_linreg", "could not find the gradients of a and b in what the script printed (the lab asks it "
                             "to print them): at the first step autograd's are -6.17531, -3.96387, and none of them "
                             "is in its output"),
    ("doubled", "pt_linreg", "are the hand gradients computed after optimizer.step(), from the next step's a and b?"),
    # messages: the length of a wrong tuple; eval's wrong shape named; count_params as a function
    ("others", "data", "should return the three values (accuracy, pr, M) (lab 0); got a tuple of length 4"),
    ("messages", "pt_logreg", "got ndarray (15,) (class indices?)"),
    ("messages", "pt_deep", "count_params() counts the 9 parameters of PTDeep([2, 3]) right, and should also print the "
                            "name and shape of every parameter"),
    ("doubled", "pt_deep", "PTDeep has none (pt_deep.py has a function count_params(model); the lab asks for a "
                           "method)"),
])
def test_each_mistake_fails_its_task_for_its_cause(folder, task, message):
    code, printed = run_lab_check(MISTAKES / folder)
    assert code == 1, printed
    assert verdicts(printed)[task].startswith(f"{task:<10} FAILED"), printed
    assert message in printed, printed
    assert "Traceback" not in printed and "During handling of the above exception" not in printed, printed


def test_one_root_cause_is_one_failure_and_the_other_checks_point_to_it():
    _, printed = run_lab_check(MISTAKES / "others")
    assert verdicts(printed)["pt_deep"].startswith("pt_deep    FAILED 1 of 1 checks: pt_deep: forward(X) should "
                                                   "return probabilities"), printed
    assert "pt_deep: its first check failed (test_imports)" in printed, printed


def test_a_tasks_verdict_is_the_same_alone_and_with_the_others():
    # 17: global_state's pt_deep makes CUDA doubles torch's default tensor type at import, and its data.py
    # seeds NumPy and picks TkAgg; no other task's verdict changes. 18: its pt_linreg draws unseeded data.
    (_, together), (_, linreg), (_, data) = (run_lab_check(CHOICES / "global_state", *tasks) for tasks in GLOBAL_STATE)
    assert verdicts(together)["pt_linreg"] == verdicts(linreg)["pt_linreg"] == "pt_linreg  passed (3 checks)", together
    assert verdicts(together)["data"] == verdicts(data)["data"] == "data       passed (15 checks)", together
    assert verdicts(together)["pt_logreg"].startswith("pt_logreg  passed"), together


def test_missing_modules_fail_once_per_task_and_one_that_never_returns_is_stopped(tmp_path):
    (tmp_path / "fcann2.py").write_text("import time\nwhile True:  # a demo at import that runs for ever\n"
                                        "    time.sleep(0.01)\n")
    code, printed = run_lab_check(tmp_path, options=("--lab-time-limit", "2"))
    assert code == 1
    failed = [line for line in printed.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 6 and all("::test_imports" in line for line in failed), printed
    assert "6 failed" in printed and "passed" not in printed.split("the lab's tasks")[0]
    assert f"pt_deep: the lab asks for a module pt_deep.py; pt_deep.py is not in {tmp_path}" in printed
    assert "fcann2: the lab asks for a module fcann2.py; importing fcann2.py raised LabTimeout: importing fcann2.py " \
           "ran longer than 2 s and was stopped" in printed, printed


def test_a_softmax_over_the_wrong_dimension_is_named_as_such(tmp_path):
    """A mistake no fixture plants: PTDeep's forward normalizes the columns (dim=0), not the rows."""
    for module in ("pt_logreg", "pt_deep"):
        (tmp_path / f"{module}.py").write_text((CHOICES / "lab0_template" / f"{module}.py").read_text())
    deep = tmp_path / "pt_deep.py"
    deep.write_text(deep.read_text().replace("softmax(self.scores(X), dim=1)", "softmax(self.scores(X), dim=0)"))
    code, printed = run_lab_check(tmp_path, "pt_deep")
    assert code == 1 and verdicts(printed)["pt_deep"].startswith("pt_deep    FAILED 1 of 1 checks"), printed
    assert "(the softmax over the wrong dimension? its columns sum to 1: dim=1 normalizes each row)" in printed, printed


def test_mistakes_found_on_solutions_written_apart_are_named(tmp_path):
    """Mistakes no fixture plants, on copies of right fixtures: KSVMWrap never passes param_svm_gamma to the
    SVM; PTDeep applies its activation to the output layer's scores too; pt_linreg computes the hand
    gradients and prints only autograd's (said as what the check could not find, not as wrong); fcann2's
    bias gradients are column means, not sums."""
    fcann2 = (CHOICES / "every_tenth_step" / "fcann2.py").read_text()
    (tmp_path / "fcann2.py").write_text(fcann2.replace("np.sum(Gs2, axis=0", "np.mean(Gs2, axis=0")
                                        .replace("np.sum(Gs1, axis=0", "np.mean(Gs1, axis=0"))
    linreg = (CHOICES / "float64_hand" / "pt_linreg.py").read_text()
    (tmp_path / "pt_linreg.py").write_text(linreg.replace(" a_hand={a_hand}", "").replace(" b_hand={b_hand}", ""))
    ksvm = (CHOICES / "tensor_beside_float" / "ksvm_wrap.py").read_text()
    (tmp_path / "ksvm_wrap.py").write_text(ksvm.replace("svm.SVC(C=C, gamma=gamma)", "svm.SVC(C=C)"))
    deep = (CHOICES / "only_differences" / "pt_deep.py").read_text()
    (tmp_path / "pt_deep.py").write_text(deep.replace("            if k < len(self.weights) - 1:\n"
                                                      "                h = self.activation(h)",
                                                      "            h = self.activation(h)"))
    code, printed = run_lab_check(tmp_path, "ksvm_wrap", "pt_deep", "pt_linreg", "fcann2",
                                  options=("-k", f"imports or sklearn or config or {LINREG} or step"))
    assert code == 1, printed
    assert "The steps of b1, b2 are 1/N times the gradient (N = 20), the others' right: a mean over the data " \
           "where the lab sums the columns" in verdicts(printed)["fcann2"], printed
    assert "pt_linreg: could not find the hand gradients in what the script printed: at step 0 autograd's " \
           "gradients are" in verdicts(printed)["pt_linreg"], printed
    assert "(they are those of an SVC without param_svm_gamma, at scikit-learn's default 'scale': is " \
           "param_svm_gamma passed to the SVM?)" in verdicts(printed)["ksvm_wrap"], printed
    assert "it is softmax(relu(X W + b)): the activation is applied to the output layer's scores too" in \
           verdicts(printed)["pt_deep"], printed


def test_impl_that_is_not_a_folder_is_refused(tmp_path):
    code, printed = run_lab_check(tmp_path / "missing")
    assert code != 0 and "--impl: expected a folder holding the lab's modules" in printed, printed
