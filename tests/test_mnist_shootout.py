import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch

import data
import mnist_shootout as ms
import pt_deep

# --- the whole quick run: needs MNIST_ROOT; fails (does not skip) when it is set and the data is missing


@pytest.fixture(scope="module")
def quick_run(mnist_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("quick")
    threads = torch.get_num_threads()
    ms.main(["--quick", "--data-root", str(mnist_root), "--out", str(out), "--device", "cpu"])  # default workers
    assert torch.get_num_threads() == threads  # main() leaves the process as it found it
    return json.loads((out / "results.json").read_text()), out


def rows_of(results):
    return {(name, r["model"]): r for name, e in results["experiments"].items() for r in e["rows"]}


def test_quick_run_writes_a_sane_report(quick_run):
    results, out = quick_run
    assert list(results["experiments"]) == list(ms.EXPERIMENTS)
    rows = rows_of(results)
    assert rows["depth", "[784,10]"]["test_accuracy"] > 0.80
    assert rows["depth", "[784,100,10]"]["test_accuracy"] > 0.80
    assert rows["svm", "SVC rbf gamma='scale' on 2000"]["test_accuracy"] > 0.85
    untrained = results["experiments"]["untrained"]["rows"]
    assert all(abs(r["test_loss"] - np.log(10)) < 0.3 for r in untrained)
    assert all(0 <= r["test_accuracy"] <= 1 for r in rows.values())
    report = (out / "report.md").read_text()
    assert report.count("\n## ") == 10 and "| [784,100,10] |" in report
    for figure in ("weights.png", "depth_losses.png", "depth_worst.png", "depth_confusion.png",
                   "batchnorm_losses.png"):
        assert (out / figure).read_bytes()[:4] == b"\x89PNG" and f"]({figure})" in report
    assert not list(out.glob(".*tmp*"))  # every file renamed into place


def test_the_experiments_use_the_labs_settings(quick_run):
    results, _ = quick_run
    epochs = results["meta"]["settings"]["epochs"]
    experiments = results["experiments"]
    adam, = experiments["adam"]["rows"]
    assert adam["training"] | {"param_lambda": 0} == adam["training"] | {
        "optimizer": "adam", "lr": 1e-4, "lr_gamma": None, "last_lr": 1e-4, "param_lambda": 0, "epochs": epochs}
    decay, = experiments["adam_decay"]["rows"]
    assert decay["training"]["optimizer"] == "adam" and decay["training"]["lr"] == 1e-4
    assert decay["training"]["lr_gamma"] == 1 - 1e-4 and decay["training"]["config"] == adam["training"]["config"]
    assert decay["training"]["last_lr"] == pytest.approx(1e-4 * (1 - 1e-4) ** (epochs - 1), rel=1e-12)
    assert [r["model"] for r in experiments["depth"]["rows"]] == [
        "[784,10]", "[784,100,10]", "[784,100,100,10]", "[784,100,100,100,10]"]
    svms = [r["training"] for r in experiments["svm"]["rows"]]
    assert [(s["kernel"], s["gamma"], s["decision_function_shape"], s["C"]) for s in svms] == [
        ("linear", "scale", "ovo", 1.0), ("rbf", "scale", "ovo", 1.0), ("rbf", "auto", "ovo", 1.0)]


def test_the_depth_recipe_refits_for_the_epoch_validation_chose(quick_run):
    results, _ = quick_run
    experiments = results["experiments"]
    rows = experiments["depth"]["rows"] + experiments["batchnorm"]["rows"]
    for row in rows:
        per_epoch = row["val_accuracy_per_epoch"]  # the chosen λ's run on the training part
        assert row["val_accuracy"] == max(per_epoch)
        assert row["epochs"] == row["training"]["epochs"] == int(np.argmax(per_epoch)) + 1, row["model"]
        assert row["best_epoch"] is None  # the refit watches nothing: it trains on train + validation
    assert any(row["epochs"] < len(row["val_accuracy_per_epoch"]) for row in rows)  # a choice was made


def test_the_validation_split_is_cut_from_the_training_images_and_kept_apart():
    rng = np.random.default_rng(0)
    n = 50
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    images[:, 0, 0], images[:, 0, 1] = np.arange(n) % 256, np.arange(n) // 256  # each image knows its index
    arrays = (images, rng.integers(0, 10, n), images[:10], rng.integers(0, 10, 10))
    train, val, test = ms.make_splits(arrays, "cpu", val_fraction=0.2, seed=3)

    def indices(split):
        return (split.X[:, 0] * 255).round().long() + 256 * (split.X[:, 1] * 255).round().long()

    seen_train, seen_val = set(indices(train).tolist()), set(indices(val).tolist())
    assert len(val) == 10 and len(train) == 40 and len(seen_train) == 40 and len(seen_val) == 10
    assert not seen_train & seen_val and seen_train | seen_val == set(range(n))
    assert seen_val != set(range(40, 50)) and seen_val != set(range(10))  # drawn at random, not a block
    other = ms.make_splits(arrays, "cpu", val_fraction=0.2, seed=4)[1]
    assert set(indices(other).tolist()) != seen_val  # the seed draws it


def test_runs_that_two_experiments_share_are_trained_once(quick_run):
    results, _ = quick_run
    rows = rows_of(results)
    plain, depth = rows["batchnorm", "[784,100,100,10]"], rows["depth", "[784,100,100,10]"]
    assert plain == depth
    # minibatch's batch 100 runs on depth's best config; when that is regularization's [784,100,100,10]
    # (in the full run: every seed), regularization's λ=1e-4 run is the same run
    best = next(name for experiment, name in rows if experiment == "minibatch" and name.endswith(" batch 100"))
    batch_100 = rows["minibatch", best]
    if best == "[784,100,100,10] batch 100":
        shared = [rows["regularization", "[784,100,100,10] λ=0.0001"], batch_100]
        own = ("model", "param_lambda", "val_accuracy", "steps")  # what each experiment adds to a row
        same = [{k: v for k, v in r.items() if k not in own} for r in shared]
        assert same[0] == same[1] and len(same[0]) > 9
    early, = results["experiments"]["early_stop"]["rows"]
    assert early["restored_epoch"] == batch_100["best_epoch"] and early["seconds"] == batch_100["seconds"]
    assert rows["batchnorm", "[784,100,100,10] + BN"]["training"]["steps_by_hand"] is True


def test_quick_run_saves_a_loadable_best_model(mnist_root, quick_run):
    results, out = quick_run
    model = pt_deep.load_model(out / "best_depth.pt")
    best = next(r for r in results["experiments"]["depth"]["rows"] if r["model"] == ms.config_name(model.config))
    assert best["val_accuracy"] == max(r["val_accuracy"] for r in results["experiments"]["depth"]["rows"])
    for name in ("early_stop", "minibatch", "adam", "adam_decay"):  # they train depth's choice
        assert all(r["model"].startswith(best["model"] + " ") for r in results["experiments"][name]["rows"]), name
    arrays = ms.data.load_dataset("mnist", mnist_root, allow_download=False)
    _, _, test = ms.make_splits(arrays, "cpu", n_train=5000, n_test=1000, seed=0)
    assert ms.evaluate(model, test)[1] == pytest.approx(best["test_accuracy"])


def test_same_seed_same_numbers_on_cpu_and_autograd_nearly_the_same(mnist_root, tmp_path):
    runs, metas = [], []
    for name, extra in (("a", []), ("b", []), ("autograd", ["--autograd"])):
        ms.main(["weights", "--quick", "--epochs", "1", "--data-root", str(mnist_root), "--out", str(tmp_path / name),
                 "--device", "cpu", "--workers", "1"] + extra)
        results = json.loads((tmp_path / name / "results.json").read_text())
        runs.append([{k: v for k, v in r.items() if k != "seconds"} for r in results["experiments"]["weights"]["rows"]])
        metas.append(results["meta"])
    assert runs[0] == runs[1]
    assert metas[0]["sgd_steps_by_hand"] and not metas[2]["sgd_steps_by_hand"]
    for by_hand, autograd in zip(runs[0], runs[2], strict=True):  # the same steps, rounded differently
        assert by_hand["test_loss"] == pytest.approx(autograd["test_loss"], rel=1e-4)
        assert by_hand["test_accuracy"] == pytest.approx(autograd["test_accuracy"], abs=2e-3)


# --- worker processes: the same numbers as in this process, errors raised here, none left behind ------


def test_worker_processes_give_the_numbers_of_this_process(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setattr(ms, "usable_cores", lambda: 2)  # the pool's mechanics are tested, on any machine
    runs = []
    for workers in ("1", "2"):
        ms.main(["weights", "depth", "svm", "--quick", "--epochs", "2", "--workers", workers, "--threads", "1",
                 "--data-root", str(mnist_root), "--out", str(tmp_path / workers), "--device", "cpu"])
        results = json.loads((tmp_path / workers / "results.json").read_text())
        assert results["meta"]["workers"] == int(workers)
        runs.append({name: [{k: v for k, v in row.items() if "seconds" not in k} for row in e["rows"]]
                     for name, e in results["experiments"].items()})
    assert runs[0] == runs[1] and len(runs[0]["depth"]) == 4 and len(runs[0]["svm"]) == 3


def test_workers_train_each_seed_on_its_own_split(mnist_root, tmp_path, monkeypatch):
    """A worker keeps the Splits it made last and makes them again for another seed's key: with two seeds,
    two workers give the numbers of one (at the same threads), so no seed trains on another's split."""
    monkeypatch.setattr(ms, "usable_cores", lambda: 2)
    runs = []
    for workers in ("1", "2"):
        ms.main(["weights", "--quick", "--epochs", "1", "--seeds", "0", "1", "--workers", workers, "--threads", "1",
                 "--data-root", str(mnist_root), "--out", str(tmp_path / workers), "--device", "cpu"])
        runs.append([[{k: v for k, v in row.items() if "seconds" not in k} for row in json.loads(
            (tmp_path / workers / f"seed-{seed}" / "results.json").read_text())["experiments"]["weights"]["rows"]]
            for seed in (0, 1)])
    assert runs[0] == runs[1] and runs[0][0] != runs[0][1]


def test_every_run_is_trained_once_and_no_run_that_no_report_reads(mnist_root, tmp_path, capfd, monkeypatch):
    monkeypatch.setattr(ms, "usable_cores", lambda: 2)  # two workers, on any machine
    ms.main(["weights", "depth", "early_stop", "minibatch", "--quick", "--epochs", "1", "--workers", "2",
             "--data-root", str(mnist_root), "--out", str(tmp_path), "--device", "cpu"])
    trained = [line.split(":")[0] for line in capfd.readouterr().out.splitlines() if line.startswith("  trained ")]
    # weights: 2 λ; depth: 4 configs x (2 λ + the refit); minibatch: batch 4000 and 100, whose run early_stop reads
    assert len(trained) == 2 + 4 * 3 + 2, trained


def synthetic_splits(n=40):  # small: the arrays travel to each worker as it starts
    rng = np.random.default_rng(0)
    arrays = (rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n),
              rng.integers(0, 256, (n // 4, 28, 28), dtype=np.uint8), rng.integers(0, 10, n // 4))
    return ms.Splits.make(arrays, "cpu", 0.2, None, None, 0), arrays


def test_what_a_worker_raises_is_raised_here_and_equal_runs_are_one():
    splits, arrays = synthetic_splits()  # 32 training images: batch 100 is refused, in the worker
    runs = [ms.Run(config=(784, 10), epochs=1, batch_size=b, name=f"run {i}") for i, b in enumerate((8, 100, 16, 4))]
    with ms.worker_pool(2, 1, arrays) as pool:
        trainer = ms.Trainer(splits, pool, lambda: runs + [ms.Run(config=[784, 10], epochs=1, batch_size=8)])
        trainer.finish(lambda: runs[3:])
        model, history = trainer.result(runs[3])
        assert len(history.train_loss) == 1 and model.config == [784, 10]
        trainer.finish(lambda: runs)
        with pytest.raises(ValueError, match="^batch_size: expected at most the 32 training samples, got 100"):
            trainer.result(runs[1])
        assert trainer.history(runs[1]) is None and not trainer.diverged(runs[1])
        assert trainer.result(runs[2])[1].settings.batch_size == 16
        assert len(trainer.futures) == 4  # the unnamed run equals runs[0]


def child_processes(pid):
    return {int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()}


def still_alive(pids, seconds=5):
    """Those of `pids` still alive after up to `seconds` (a process ends a moment after its parent has)."""
    deadline = time.monotonic() + seconds
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [pid for pid in pids if alive(pid)]


def alive(pid):
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"  # a zombie is dead
    except FileNotFoundError:
        return False


@dataclass(frozen=True)
class Backtracking:
    """A run whose fit never ends and never lets go of the GIL."""

    name: str = "backtracking"

    def fit(self, splits):
        print("up", flush=True)
        re.match(r"(a+)+$", "a" * 60 + "b")  # exponential backtracking, in C, holding the GIL all along


HOLD_THE_GIL = """
import sys
sys.path.insert(0, "tests")
import mnist_shootout as ms
from test_mnist_shootout import Backtracking, synthetic_splits
splits, arrays = synthetic_splits()
pool = ms.WorkerPool()
pool.start(1, 1, arrays, "cpu")
pool.submit(Backtracking(), splits.key)
pool.next_finished()
"""


@dataclass(frozen=True)
class Deaf:
    """A run that ignores SIGTERM and never ends."""

    name: str = "deaf"

    def fit(self, splits):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("deaf", flush=True)
        while True:
            time.sleep(0.05)


STOP_A_DEAF_WORKER = """
import signal, sys, time
sys.path.insert(0, "tests")
import mnist_shootout as ms
from test_mnist_shootout import Deaf, synthetic_splits
signal.signal(signal.SIGTERM, ms.stop_on_sigterm)
splits, arrays = synthetic_splits()
pool = ms.WorkerPool()
pool.start(1, 1, arrays, "cpu")
try:
    pool.submit(Deaf(), splits.key)
    pool.next_finished()
finally:
    began = time.monotonic()
    pool.stop()
    print(f"stopped in {time.monotonic() - began:.1f} s", flush=True)
"""


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from Linux's /proc")
def test_stopping_the_pool_kills_a_worker_that_ignores_sigterm():
    """WorkerPool.stop asks each worker to end (SIGTERM) and kills one still alive 5 s later: a worker stuck
    in a run that ignores SIGTERM must not keep the shootout waiting for ever."""
    parent = subprocess.Popen([sys.executable, "-c", STOP_A_DEAF_WORKER], cwd=Path(ms.__file__).parent,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert parent.stdout.readline() == "deaf\n"
        workers = child_processes(parent.pid)
        parent.send_signal(signal.SIGTERM)
        out, err = parent.communicate(timeout=30)
    finally:
        parent.kill()
    stopped = float(out.split("stopped in ")[1].split()[0])
    assert 4 < stopped < 8, out  # SIGTERM ignored, then killed at 5 s
    assert not still_alive(workers)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from Linux's /proc")
def test_no_worker_outlives_its_parent_even_inside_native_code():
    signals = (signal.SIGTERM, signal.SIGKILL)
    parents = [subprocess.Popen([sys.executable, "-c", HOLD_THE_GIL], cwd=Path(ms.__file__).parent,
                                stdout=subprocess.PIPE, text=True) for _ in signals]
    try:
        assert [parent.stdout.readline() for parent in parents] == ["up\n"] * 2
        time.sleep(0.5)  # into re.match
        workers = {pid for parent in parents for pid in child_processes(parent.pid)}  # and resource trackers
        assert len(workers) >= 2
    finally:
        for parent, how in zip(parents, signals, strict=True):
            parent.send_signal(how)
            parent.wait()
    assert not still_alive(workers)


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from Linux's /proc")
# after "== weights" the workers start (seconds of imports), after "trained" they train, after "wrote" a
# figure has been written and the next files are being written
@pytest.mark.parametrize("after", ["== weights", "trained", "wrote"])
@pytest.mark.parametrize("sent, code", [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGINT, -signal.SIGINT)],
                         ids=["SIGTERM", "Ctrl-C"])
def test_a_signal_at_any_moment_ends_the_shootout_leaving_no_temporaries_and_no_workers(mnist_root, tmp_path, after,
                                                                                         sent, code):
    shootout = subprocess.Popen([sys.executable, "mnist_shootout.py", "weights", "depth", "--quick", "--data-root",
                                 str(mnist_root), "--out", str(tmp_path)], cwd=Path(ms.__file__).parent,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
    try:
        while after not in (line := shootout.stdout.readline()):
            assert line, "the shootout ended before it could be stopped"
        workers = child_processes(shootout.pid)
    finally:
        shootout.send_signal(sent)
        sent_at = time.monotonic()
        _, stderr = shootout.communicate(timeout=60)
    assert time.monotonic() - sent_at < 10 and shootout.returncode == code
    # nothing said after Ctrl-C's traceback: no fatal error, no semaphore a killed worker left
    assert stderr.splitlines()[-1:] == ([] if sent == signal.SIGTERM else ["KeyboardInterrupt"]), stderr
    assert not still_alive(workers)
    assert not [p.name for p in tmp_path.rglob("*") if "fc-lab-partial" in p.name]


INTERRUPTED_IMPORT = """
import builtins, os, runpy, signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # Python's own, as a terminal starts it
importing, module, out = builtins.__import__, sys.argv[1], sys.argv[2]

def interrupt_at(name, *args, **kwargs):
    if name == module:
        builtins.__import__ = importing
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C just as this import starts
    return importing(name, *args, **kwargs)

builtins.__import__ = interrupt_at
sys.argv = ["mnist_shootout.py", "untrained", "--quick", "--out", out]
runpy.run_path("mnist_shootout.py", run_name="__main__")
"""


@pytest.mark.parametrize("module", ["numpy", "torch", "data", "matplotlib.pyplot"])
def test_ctrl_c_while_the_libraries_load_ends_the_shootout_at_once_saying_nothing(tmp_path, module):
    """Ctrl-C inside a C extension's initialization once hung the process on exit (and ended others in
    "ImportError: initialization failed"): until the libraries are loaded it ends the process at once."""
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_IMPORT, module, str(tmp_path / "out")],
                          cwd=Path(ms.__file__).parent, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (-signal.SIGINT, ""), done.stderr[-2000:]
    assert not (tmp_path / "out").exists()


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from Linux's /proc")
def test_ctrl_c_in_the_first_seconds_ends_the_shootout_promptly(mnist_root, tmp_path):
    """Ctrl-C at many moments of the start (imports, reading the data, starting the workers): each ends
    within 10 s, by the signal, with nothing on stderr but Python's KeyboardInterrupt, no worker left and
    no temporary."""
    ended = []
    for delay in (0.05, 0.15, 0.3, 0.5, 0.7, 0.9, 1.1, 1.4, 1.7, 2.0, 2.5, 3.0):
        shootout = subprocess.Popen([sys.executable, "mnist_shootout.py", "untrained", "--quick", "--data-root",
                                     str(mnist_root), "--out", str(tmp_path / "out")], cwd=Path(ms.__file__).parent,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # a terminal's
        time.sleep(delay)
        workers = child_processes(shootout.pid)
        shootout.send_signal(signal.SIGINT)
        sent_at = time.monotonic()
        try:
            _, stderr = shootout.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            shootout.kill()
            shootout.communicate()
            pytest.fail(f"Ctrl-C {delay} s after the start: the shootout had not ended 10 s later")
        ended.append(time.monotonic() - sent_at)
        assert shootout.returncode in (-signal.SIGINT, 0), (delay, stderr[-2000:])  # 0: it had finished
        assert stderr.splitlines()[-1:] in ([], ["KeyboardInterrupt"]), (delay, stderr[-2000:])
        assert not still_alive(workers), delay
        assert not [p.name for p in tmp_path.rglob("*") if "fc-lab-partial" in p.name], delay
    assert max(ended) < 10


LONG_TASK = """
import sys
sys.path.insert(0, "tests")
import mnist_shootout as ms
from test_mnist_shootout import synthetic_splits
splits, arrays = synthetic_splits()
quick = ms.Run(config=(784, 10), epochs=1, batch_size=8, name="quick")
endless = ms.Run(config=(784, 10), epochs=10**6, batch_size=8, name="endless")
with ms.worker_pool(2, 1, arrays) as pool:
    trainer = ms.Trainer(splits, pool, lambda: [quick, endless])
    trainer.finish(lambda: [quick])
    print("running", flush=True)  # the other worker started with this one: it is training the endless run
    trainer.finish(lambda: [endless])
"""


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from Linux's /proc")
def test_ctrl_c_ends_the_runs_in_progress_at_once():
    parent = subprocess.Popen([sys.executable, "-c", LONG_TASK], cwd=Path(ms.__file__).parent, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True,
                              preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as in a terminal
    try:
        while parent.stdout.readline() not in ("running\n", ""):
            pass
        time.sleep(0.5)
        workers = child_processes(parent.pid)
        parent.send_signal(signal.SIGINT)
        parent.wait(timeout=10)  # not when the endless run is done
    finally:
        parent.kill()
    assert parent.returncode != 0 and workers and not still_alive(workers)


class DiesWhilePickled:
    """A value whose pickling kills the worker process half way through: before its reply is sent."""

    def __reduce__(self):
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True)
class DyingRun(ms.Run):
    def fit(self, splits):
        return [torch.zeros(10**6), DiesWhilePickled()]


@dataclass(frozen=True)
class LargeRun(ms.Run):
    def fit(self, splits):
        print("sending", flush=True)
        time.sleep(1)  # for the test to stop the parent and count what this worker has written so far
        return torch.zeros(10**7)  # 40 MB: many writes to the pipe, each waiting for the parent to read


def written(pid, after=0.0):
    """How many bytes process `pid` has written, `after` seconds from now."""
    time.sleep(after)
    return int(re.search(r"^wchar: (\d+)$", Path(f"/proc/{pid}/io").read_text(), re.M)[1])


KILLED_WORKER = """
import sys
sys.path.insert(0, "tests")
import mnist_shootout as ms
from test_mnist_shootout import DyingRun, LargeRun, synthetic_splits
splits, arrays = synthetic_splits()
quick = ms.Run(config=(784, 10), epochs=1, batch_size=8, name="quick")
endless = ms.Run(config=(784, 10), epochs=10**6, batch_size=8, name="endless")
last = {"kill": endless, "dies": DyingRun(config=(784, 10), epochs=1, batch_size=8, name="dying"),
        "large": LargeRun(config=(784, 10), epochs=1, batch_size=8, name="large")}[sys.argv[1]]
with ms.worker_pool(2, 1, arrays) as pool:
    trainer = ms.Trainer(splits, pool, lambda: [quick, endless])
    trainer.finish(lambda: [quick])
    [pid] = [pool.processes[pipe].pid for pipe, (run, _) in pool.holding.items() if run.name == "endless"]
    [idle] = [process.pid for pipe, process in pool.processes.items() if pipe not in pool.holding]
    print("running", pid, idle, flush=True)  # one worker trains the endless run; the idle one gets the last
    trainer.finish(lambda: [last])
"""


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree from Linux's /proc")
@pytest.mark.parametrize("how", ["kill", "dies while its reply is pickled", "large reply, killed while sending it"])
def test_a_worker_that_dies_ends_the_shootout_naming_its_run(how):
    parent = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, how.split()[0]], cwd=Path(ms.__file__).parent,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not (line := parent.stdout.readline()).startswith("running "):
            assert line, "the script ended before its worker could die"
        endless, idle = map(int, line.split()[1:])
        workers = child_processes(parent.pid)
        if how == "kill":  # the out-of-memory killer's way: SIGKILL to the worker training the endless run
            os.kill(endless, signal.SIGKILL)
        elif how.startswith("large"):  # the worker that is not training the endless run sends a large result
            assert parent.stdout.readline() == "sending\n"
            os.kill(parent.pid, signal.SIGSTOP)  # reads no more: the worker's writes wait once the pipe is full
            before, deadline = written(idle), time.monotonic() + 30
            while (now := written(idle)) == before or written(idle, after=0.5) != now:  # until it waits
                assert time.monotonic() < deadline
            assert 0 < now - before < 4 * 10**7  # it waits half way through its reply
            os.kill(idle, signal.SIGKILL)
            os.kill(parent.pid, signal.SIGCONT)
        _, stderr = parent.communicate(timeout=30)  # not when the endless run is done, nor ever
    finally:
        parent.kill()
    name = {"kill": "endless", "dies": "dying", "large": "large"}[how.split()[0]]
    assert parent.returncode != 0 and f"WorkerDied: a worker process died (the worker training '{name}' ended, " \
        "killed by signal 9 (the out-of-memory killer, or kill -9))" in stderr, stderr
    assert workers and not still_alive(workers)


def test_the_pool_adds_no_thread_to_this_process():
    # Ctrl-C and SIGTERM raise in the main thread at any line; a thread of the pool's that shares a lock
    # with it could wait for ever for the lock an interrupted line held (ProcessPoolExecutor's did once)
    splits, arrays = synthetic_splits()
    runs = [ms.Run(config=(784, 10), epochs=1, batch_size=8, seed=seed, name=f"run {seed}") for seed in range(3)]
    threads = set(threading.enumerate())
    with ms.worker_pool(2, 1, arrays) as pool:
        trainer = ms.Trainer(splits, pool, lambda: runs)
        trainer.finish(lambda: runs[:1])
        assert set(threading.enumerate()) == threads
        trainer.finish(lambda: runs)
        assert set(threading.enumerate()) == threads
        assert all(trainer.result(run)[0].config == [784, 10] for run in runs)
    assert [process.exitcode for process in pool.processes.values()] == [0, 0]  # ended cleanly, not killed


# --- the command line: every flag reaches every experiment it names, or is refused -------------------


def test_experiments_run_in_the_labs_order_however_they_are_named():
    # minibatch trains depth's choice: run before depth, it would train the default config instead
    assert ms.parse_args(["minibatch", "weights", "depth"]).experiments == ["weights", "depth", "minibatch"]


def test_epochs_and_batch_size_reach_every_training_run():
    profile = ms.make_profile(ms.parse_args(["--epochs", "2", "--batch-size", "20", "depth", "weights"]))
    assert (profile.epochs, profile.weights_epochs) == (2, 2)
    assert (profile.batch_size, profile.depth_batch_size) == (20, 20)
    assert ms.make_profile(ms.parse_args([])) == ms.FULL


@pytest.mark.parametrize("argv, message", [
    (["bogus"], "unknown experiment 'bogus'"),
    (["--dataset", "cifar"], "--dataset"),
    (["--configs", "100,10"], "--configs: config: MNIST models need 784 inputs"),
    (["--configs", "784,100,9"], "--configs"),
    (["--configs", "784,10", "784,10"], "--configs: the same config twice"),
    (["--batch-size", "0"], "--batch-size"),
    (["--workers", "0"], "--workers: expected a whole number >= 1, got 0"),
    (["--workers", str(ms.usable_cores() + 1)], f"--workers: {ms.usable_cores() + 1} is more than the "
                                                 f"{ms.usable_cores()} cores this process may use"),
    (["--configs", "784,abc,10"], "--configs: expected layer sizes separated by commas, such as 784,100,10; got "
                                  "'784,abc,10'"),
    (["--threads", "-2"], "--threads: expected a whole number >= 1, got -2"),
    (["--val-fraction", "1.5"], "--val-fraction"),
    (["--val-fraction", "0"], "--val-fraction"),
    (["--batch-size", "20"], "--batch-size: `minibatch` compares its own batch sizes"),
    (["--batch-size", "20", "svm", "minibatch"], "--batch-size: `minibatch`"),
    (["--epochs", "2", "svm", "untrained"], "--epochs: changes only"),
    (["weights", "--configs", "784,10"], "--configs: changes only depth, untrained"),
    (["--seed", "-1"], "--seed/--seeds: expected whole numbers in 0..2**63-1, got -1"),
    (["--seed", str(2**64)], "--seed/--seeds"),
    (["--seeds", "0", "-3"], "--seed/--seeds"),
    (["--seed", "4", "--seeds", "0", "1"], "--seed: not with --seeds"),
    (["--seeds", "0", "0"], "--seeds: expected different seeds"),
])
def test_bad_command_lines_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        ms.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="^config:"):
        ms.check_mnist_config([784, 100, 9])
    with pytest.raises(ValueError, match="^val_fraction:"):
        ms.make_splits([None] * 4, "cpu", val_fraction=1.0)
    with pytest.raises(ValueError, match="^config: MNIST models need 784 inputs"):
        ms.Run(config=(2, 10), epochs=1)
    with pytest.raises(ValueError, match="^epochs:"):
        ms.Run(config=(784, 10), epochs=0)


def test_fashion_quick_depth_trains_every_config(mnist_root, tmp_path):
    """Fashion-MNIST's brighter images need a smaller step than MNIST's; none of the nets may collapse."""
    ms.main(["depth", "--quick", "--dataset", "fashion", "--data-root", str(mnist_root), "--out", str(tmp_path),
             "--workers", "1"])
    rows = json.loads((tmp_path / "results.json").read_text())["experiments"]["depth"]["rows"]
    assert len(rows) == 4 and all(r["test_accuracy"] > 0.7 for r in rows)




# --- repeats over seeds ------------------------------------------------------------------------------


def test_repeats_aggregate_the_seeds_run_the_svms_once_and_resume(mnist_root, tmp_path, monkeypatch):
    argv = ["weights", "depth", "svm", "--quick", "--seeds", "0", "1", "--data-root", str(mnist_root),
            "--out", str(tmp_path), "--device", "cpu", "--workers", "1"]
    ms.main(argv)
    per_seed = {seed: json.loads((tmp_path / f"seed-{seed}" / "results.json").read_text()) for seed in (0, 1)}
    assert list(per_seed[0]["experiments"]) == ["weights", "depth", "svm"]
    assert list(per_seed[1]["experiments"]) == ["weights", "depth"]  # the SVMs do not depend on the seed
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["meta"]["seeds"] == [0, 1] and (tmp_path / "spread.png").read_bytes()[:4] == b"\x89PNG"
    for name in ("weights", "depth"):
        for i, row in enumerate(results["experiments"][name]["rows"]):
            accuracies = [per_seed[seed]["experiments"][name]["rows"][i]["test_accuracy"] for seed in (0, 1)]
            assert row["seeds"] == 2 and row["test_accuracy"]["mean"] == pytest.approx(np.mean(accuracies))
            assert row["test_accuracy"]["std"] == pytest.approx(np.std(accuracies, ddof=1))
            assert row["test_accuracy"]["min"] == min(accuracies) and row["test_accuracy"]["max"] == max(accuracies)
    svm = results["experiments"]["svm"]
    assert svm["seed_independent"] and svm["seeds"] == [0] and svm["rows"][0]["seeds"] == 1
    report = (tmp_path / "report.md").read_text()
    assert "(does not depend on the seed: run once)" in report and " ± " in report

    runs = []
    real = ms.run_seed
    monkeypatch.setattr(ms, "run_seed", lambda *a: runs.append(a[4]) or real(*a))
    ms.main(argv)  # everything is there: nothing runs again
    (tmp_path / "seed-1" / "results.json").unlink()
    ms.main(argv)  # an interrupted repeat: only the missing seed runs
    assert runs == [1]
    assert json.loads((tmp_path / "results.json").read_text())["experiments"]["depth"]["rows"][0]["seeds"] == 2


# --- nothing silently wrong, nothing lost -------------------------------------------------------------


@pytest.mark.parametrize("where", ["a file", "under a file", "read-only"])
def test_an_unwritable_out_is_refused_before_any_work(tmp_path, monkeypatch, where):
    monkeypatch.setattr(ms.data, "load_dataset", lambda *a, **k: pytest.fail("the work started"))
    (tmp_path / "file").write_text("")
    out = {"a file": tmp_path / "file", "under a file": tmp_path / "file" / "sub", "read-only": tmp_path / "ro"}[where]
    if where == "read-only":  # as root writes anywhere, the refusal is simulated where it would come
        monkeypatch.setattr(ms.data.Path, "touch", lambda *a, **k: (_ for _ in ()).throw(PermissionError("denied")))
    with pytest.raises(ValueError, match=f"^--out: cannot write to {out}"):
        ms.main(["untrained", "--quick", "--out", str(out)])


@pytest.mark.parametrize("argv, message", [
    (["--val-fraction", "0.0001"], "^val_fraction: 0.0001 of 5000 training images leaves 0 for validation"),
    (["--val-fraction", "0.9999"], "^val_fraction: .* leaves 5000 for validation and 0 for training"),
    (["--val-fraction", "0.99", "--batch-size", "100"], "batch_size 100 is more than the 50 training images"),
])
def test_splits_that_cannot_work_are_refused_before_training(mnist_root, tmp_path, argv, message):
    with pytest.raises(ValueError, match=message):
        ms.main(["depth", "--quick", "--data-root", str(mnist_root), "--out", str(tmp_path)] + argv)
    assert not (tmp_path / "results.json").exists()


def test_a_second_run_keeps_only_results_of_its_own_settings(mnist_root, tmp_path):
    common = ["--quick", "--data-root", str(mnist_root), "--out", str(tmp_path), "--workers", "1"]
    (tmp_path / ".report.md.abcd1234.fc-lab-partial.md").write_text("")  # left by a killed run
    (tmp_path / ".draft.20241201.tmp").write_text("a user's")  # not ours: kept
    ms.main(["weights", "--epochs", "1"] + common)
    assert sorted(p.name for p in tmp_path.glob(".*")) == [".draft.20241201.tmp", ms.MANIFEST]
    assert (tmp_path / "weights.png").is_file()
    with pytest.raises(ValueError, match=r"results.json holds the results of another run: settings.epochs is 1 there "
                                         r"and 3 in this run \(set by --epochs.*or pass --replace to replace them"):
        ms.main(["untrained"] + common)  # other settings (3 epochs): refused unasked ...
    ms.main(["untrained", "--replace"] + common)  # ... and asked, the 1-epoch rows go, and their figure
    assert list(json.loads((tmp_path / "results.json").read_text())["experiments"]) == ["untrained"]
    assert not (tmp_path / "weights.png").exists()
    ms.main(["weights"] + common)  # the same settings: both kept, in the lab's order
    assert list(json.loads((tmp_path / "results.json").read_text())["experiments"]) == ["weights", "untrained"]


@pytest.mark.parametrize("content", ["[1, 2]", '{"meta": "x", "experiments": {}}', '{"meta": {}}',
                                     '{"meta": {}, "experiments": []}', "not json", None])
def test_a_results_json_this_project_did_not_write_is_refused_before_any_work(tmp_path, content, capsys):
    path = tmp_path / "results.json"
    if content is None:
        path.mkdir()  # a folder of that name
    else:
        path.write_text(content)
    with pytest.raises(ValueError, match=r"^--out: .*results.json was not written by this shootout"):
        ms.main(["weights", "--quick", "--out", str(tmp_path), "--data-root", str(tmp_path / "no-data")])
    assert "==" not in capsys.readouterr().out  # no experiment started
    assert content is None or path.read_text() == content


def as_written(results):
    """results.json's text for `results`, as the shootout writes it (with its digest)."""
    return json.dumps({**results, "sha256": ms.results_digest(results)})


OURS = as_written({"meta": {}, "experiments": {"weights": {"rows": [], "figures": ["weights.png"]}}})


@pytest.mark.parametrize("files, seeds, message", [
    ({"report.md": "my notes"}, (), "report.md was not written by this shootout"),
    ({"weights.png": "my figure"}, (), "weights.png was not written by this shootout"),
    ({"results.json": OURS, "report.md/": None}, (), "report.md is a folder"),
    ({"results.json": OURS, "best_depth.pt": "my model"}, (), "best_depth.pt was not written by this shootout"),
    ({"seed-1": "a file"}, ("0", "1"), "seed-1 is a file"),
    ({"results.json": '{"meta": {}, "experiments": {"weights": "done"}}'}, (), "results.json was not written by"),
    ({"seed-1/results.json": '{"meta": {}, "experiments": {"weights": {}}}'}, ("0", "1"), "not whole"),
])
def test_what_the_user_wrote_in_out_is_refused_before_any_work(tmp_path, files, seeds, message, capsys):
    for name, content in files.items():
        path = tmp_path / name.rstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.mkdir() if content is None else path.write_text(content)
    argv = ["weights", "--quick", "--out", str(tmp_path), "--data-root", str(tmp_path / "no-data")]
    with pytest.raises(ValueError, match=f"^--out: .*{message}"):
        ms.main(argv + (["--seeds", *seeds] if seeds else []))
    assert "==" not in capsys.readouterr().out  # no experiment started
    for name, content in files.items():
        assert content is None or (tmp_path / name).read_text() == content


def test_a_file_of_a_killed_run_is_ours_though_no_results_json_lists_it(tmp_path):
    ms.claimed(tmp_path / "weights.png").write_text("a figure the run wrote before it was killed")
    ms.check_earlier_results(tmp_path)  # no results.json yet: the manifest says whose it is
    (tmp_path / "report.md").write_text("the user's")
    with pytest.raises(ValueError, match="report.md was not written by this shootout"):
        ms.check_earlier_results(tmp_path)


RESULTS = {"meta": {"seed": 0}, "experiments": {"untrained": {"rows": [
    {"model": "[784,10]", "test_accuracy": 0.1, "test_loss": 2.3, "test_precision": 0.01, "seconds": 0.1}]}}}


@pytest.mark.parametrize("change, message", [
    (lambda text: text.replace('"test_accuracy": 0.1', '"test_accuracy": 1.5'), "has changed since the shootout"),
    (lambda text: text.replace('"sha256"', '"digest"'), "has changed since .* an older version of it wrote it"),
    (lambda text: as_written(json.loads(text.replace('"test_accuracy": 0.1', '"test_accuracy": 1.5'))),
     r"holds a figure out of its range \(untrained / \[784,10\] / test_accuracy = 1.5\): no run computed it"),
    (lambda text: as_written(json.loads(text.replace('"test_loss": 2.3', '"test_loss": NaN'))), "test_loss = nan"),
    (lambda text: as_written(json.loads(text.replace('"seconds": 0.1', '"seconds": -1'))), "seconds = -1"),
], ids=["edited", "no digest", "accuracy 1.5", "loss NaN", "negative time"])
def test_numbers_the_shootout_did_not_compute_are_refused_naming_the_file(tmp_path, change, message, capsys):
    """What a run reads back (on resume, into report.md) must be what the shootout wrote: a results.json
    edited by hand, written by an older version, or holding a figure out of its range is refused before
    any work; --replace replaces it."""
    ms.write_results_file(tmp_path / "results.json", RESULTS)
    ms.check_earlier_results(tmp_path)  # as written: taken
    edited = change((tmp_path / "results.json").read_text())
    (tmp_path / "results.json").write_text(edited)
    argv = ["untrained", "--quick", "--out", str(tmp_path), "--data-root", str(tmp_path / "no-data")]
    with pytest.raises(ValueError, match=f"^--out: {re.escape(str(tmp_path / 'results.json'))} .*{message}.*--replace"):
        ms.main(argv)
    assert "==" not in capsys.readouterr().out and (tmp_path / "results.json").read_text() == edited
    ms.check_earlier_results(tmp_path, replace=True)  # asked to replace it: its numbers are not read


def test_an_aggregates_spreads_are_held_to_the_ranges_too():
    def aggregate(**row):
        return {"experiments": {"depth": {"rows": [{"model": "[784,10]", **row}]}}}

    same_epoch = {"mean": 3.0, "std": 0.0, "min": 3, "max": 3}  # every seed stopped at epoch 3: std 0 is right
    assert ms.values_out_of_range(aggregate(best_epoch=same_epoch)) is None
    accuracy = {"mean": 0.9, "std": 0.2, "min": 0.7, "max": 1.1}
    assert ms.values_out_of_range(aggregate(test_accuracy=accuracy)) == "depth / [784,10] / test_accuracy.max = 1.1"
    loss = {"mean": 0.3, "std": -0.1, "min": 0.2, "max": 0.4}
    assert ms.values_out_of_range(aggregate(test_loss=loss)) == "depth / [784,10] / test_loss.std = -0.1"


def test_a_stale_temporary_beside_a_users_file_is_removed_though_the_run_is_refused(tmp_path):
    stale = [tmp_path / ".results.json.abcd1234.fc-lab-partial.json",
             tmp_path / "seed-1" / ".report.md.0123abcd.fc-lab-partial.md"]
    (tmp_path / "seed-1").mkdir()
    for path in stale:
        path.write_text("left by a killed run")
    (tmp_path / "seed-1" / "report.md").write_text("the user's")
    with pytest.raises(ValueError, match="seed-1/report.md was not written by this shootout"):
        ms.main(["untrained", "--quick", "--seeds", "0", "1", "--out", str(tmp_path), "--data-root",
                 str(tmp_path / "no-data")])
    assert not [path for path in stale if path.exists()]
    assert (tmp_path / "seed-1" / "report.md").read_text() == "the user's"


def test_an_empty_out_is_refused_not_taken_as_the_current_folder(capsys):
    for flag in ("--out", "--data-root"):
        with pytest.raises(SystemExit):
            ms.parse_args([flag, ""])
        assert f"argument {flag}: expected the path of a folder (not empty), got ''" in capsys.readouterr().err


def test_the_writability_probe_leaves_a_users_file_alone(tmp_path):
    (tmp_path / ".write-test").write_text("mine")
    data.check_writable_folder(tmp_path, "--out")
    assert (tmp_path / ".write-test").read_text() == "mine" and len(list(tmp_path.iterdir())) == 1


def test_every_file_a_run_writes_is_one_the_shootout_knows_it_writes(quick_run):
    results, out = quick_run
    written = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert written <= set(ms.WRITES), written - set(ms.WRITES)


def test_results_of_another_thread_count_are_refused_and_replaced_only_when_asked(mnist_root, tmp_path, monkeypatch,
                                                                                  capsys):
    """The worker count shares the cores out: 1 worker has 2 threads, 2 workers 1 each. Other threads are
    other numbers (another run): right not to mix them, wrong to drop them silently."""
    monkeypatch.setattr(ms, "usable_cores", lambda: 2)
    common = ["--quick", "--data-root", str(mnist_root), "--out", str(tmp_path), "--device", "cpu"]
    ms.main(["untrained", "--workers", "1"] + common)
    before = (tmp_path / "results.json").read_text()
    capsys.readouterr()
    with pytest.raises(ValueError, match=r"^--out: .*results.json holds the results of another run: threads is 2 "
                                         r"there and 1 in this run \(set by --threads .*--workers\).*--replace"):
        ms.main(["weights", "--workers", "2"] + common)
    assert "==" not in capsys.readouterr().out and (tmp_path / "results.json").read_text() == before
    ms.main(["weights", "--workers", "2", "--replace"] + common)  # asked: untrained's rows go
    results = json.loads((tmp_path / "results.json").read_text())
    assert list(results["experiments"]) == ["weights"] and results["meta"]["threads"] == 1


def test_an_aggregate_and_a_single_seeds_results_leave_no_figure_of_the_other(mnist_root, tmp_path):
    common = ["--quick", "--data-root", str(mnist_root), "--out", str(tmp_path), "--device", "cpu", "--workers", "1"]
    ms.main(["weights"] + common)
    assert (tmp_path / "weights.png").is_file()
    with pytest.raises(ValueError, match="it holds one seed's results; this run writes an aggregate over --seeds"):
        ms.main(["untrained", "--seeds", "0", "1"] + common)
    ms.main(["untrained", "--seeds", "0", "1", "--replace"] + common)  # the aggregate replaces one seed's results ...
    assert not (tmp_path / "weights.png").exists() and (tmp_path / "spread.png").is_file()
    ms.main(["untrained", "--seeds", "0", "1", "2"] + common)  # other seeds: the aggregate is made again from them
    assert json.loads((tmp_path / "results.json").read_text())["meta"]["seeds"] == [0, 1, 2]
    with pytest.raises(ValueError, match="it holds the aggregate of several seeds; this run writes one seed's"):
        ms.main(["untrained"] + common)
    ms.main(["untrained", "--replace"] + common)  # ... and one seed's replace the aggregate
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [".fc-lab-files", "report.md", "results.json"]


def test_every_field_of_meta_but_the_worker_count_is_what_makes_results_the_same():
    """A field run_meta records (or one added later) that same_run did not compare would let results of
    other settings (another thread count, another torch) be kept beside these."""
    args = ms.parse_args(["--quick", "--workers", "1"])
    args.data_sha256 = "0123456789abcdef"
    meta = ms.run_meta(args, ms.make_profile(args), "cpu", 0)
    written = json.loads(json.dumps(meta))  # as results.json holds it

    def results(meta):
        return json.loads(as_written({"meta": meta, "experiments": {}}))

    assert {"threads", "versions", "device", "data_sha256", "settings", "sizes"} <= meta.keys()
    assert ms.same_run(results(written), meta)
    for key in meta:
        assert ms.same_run(results({**written, key: "another"}), meta) == (key == "workers"), key
    versions = {**written["versions"], "torch": "1.0.0"}
    assert not ms.same_run(results({**written, "versions": versions}), meta)
    assert not ms.same_run({**results(written), "sha256": "0" * 64}, meta)  # not as written: never resumed


def test_replace_recomputes_numbers_that_were_edited_though_the_settings_match(mnist_root, tmp_path):
    common = ["--quick", "--data-root", str(mnist_root), "--out", str(tmp_path), "--workers", "1"]
    ms.main(["untrained"] + common)
    path = tmp_path / "results.json"
    computed = json.loads(path.read_text())
    edited = json.loads(path.read_text())
    edited["experiments"]["untrained"]["rows"][0]["test_accuracy"] = 0.99  # in range, but nobody computed it
    path.write_text(json.dumps(edited))
    with pytest.raises(ValueError, match="has changed since the shootout wrote it"):
        ms.main(["untrained"] + common)
    ms.main(["weights", "--replace"] + common)  # the same settings: resumed, were it as written
    again = json.loads(path.read_text())
    assert list(again["experiments"]) == ["weights"] and again["meta"] == computed["meta"]
    assert "0.99" not in (tmp_path / "report.md").read_text()


def test_results_of_other_data_are_not_kept_beside_these(mnist_root, tmp_path):
    import gzip

    copy = tmp_path / "copy" / "MNIST" / "raw"
    copy.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (copy / name).write_bytes(gzip.decompress((mnist_root / "MNIST" / "raw" / f"{name}.gz").read_bytes()))
    common = ["--quick", "--out", str(tmp_path / "out"), "--workers", "1"]
    ms.main(["weights"] + common + ["--data-root", str(mnist_root)])
    labels = bytearray((copy / "t10k-labels-idx1-ubyte").read_bytes())
    labels[8] = (labels[8] + 1) % 10  # a corrected (or corrupted) copy: one test label differs
    (copy / "t10k-labels-idx1-ubyte").write_bytes(bytes(labels))
    with pytest.raises(ValueError, match=r"another run: data_sha256 is \"[0-9a-f]+\" there and \"[0-9a-f]+\" in this "
                                         r"run \(set by other data \(--data-root\)\)"):
        ms.main(["untrained"] + common + ["--data-root", str(tmp_path / "copy")])
    results = ms.main(["untrained", "--replace"] + common + ["--data-root", str(tmp_path / "copy")])
    assert list(results["experiments"]) == ["untrained"]  # the first copy's weights rows are gone
    recorded = ms.read_results(tmp_path / "out" / "results.json")["meta"]["data_sha256"]
    assert recorded == data.arrays_digest(data.load_dataset("mnist", tmp_path / "copy"))
    assert recorded != data.arrays_digest(data.load_dataset("mnist", mnist_root))


def test_loading_something_that_is_not_a_checkpoint_names_the_file(tmp_path):
    text, partial = tmp_path / "notes.txt", tmp_path / "partial.pt"
    text.write_text("not a checkpoint")
    torch.save({"config": [2, 3]}, partial)
    with pytest.raises(ValueError, match=f"^{text}: not a PTDeep checkpoint"):
        pt_deep.load_model(text)
    with pytest.raises(ValueError, match=rf"^{partial}: not a PTDeep checkpoint .*found \['config'\]"):
        pt_deep.load_model(partial)
    pt_deep.save_model(pt_deep.PTDeep([2, 4, 3], "tanh", batchnorm=True, seed=0), tmp_path / "ok.pt")
    model = pt_deep.load_model(tmp_path / "ok.pt")
    assert model.config == [2, 4, 3] and model.batchnorm and model.activation is torch.tanh


def tiny_context(tmp_path):
    generator = torch.Generator().manual_seed(0)
    Y = torch.randint(10, (300,), generator=generator)
    X = (torch.rand(10, 784, generator=generator)[Y] + 0.5 * torch.rand(300, 784, generator=generator)).clamp(0, 1)
    splits = ms.Splits(*(ms.Split(X[i::3], Y[i::3]) for i in range(3)), (), (0.2, None, None, 0))
    ctx = ms.Context("mnist", ms.replace(ms.QUICK, epochs=2), splits, tmp_path, ("depth",))
    ctx.trainer = ms.Trainer(splits)
    return ctx


@pytest.mark.filterwarnings("ignore:.*did not settle")  # 2 epochs of a tiny set at lr 0.5: not the point
@pytest.mark.parametrize("diverges", ["the first refit", "every refit"])
def test_a_depth_recipe_that_diverges_starts_again_with_half_the_step(tmp_path, monkeypatch, diverges):
    ctx, real, steps = tiny_context(tmp_path), ms.Run.fit, []

    def fit(run, splits):
        steps.append(run.lr)
        if run.refit and (run.lr == 0.5 or diverges == "every refit"):
            raise FloatingPointError("loss became nan at epoch 1")
        return real(run, splits)

    monkeypatch.setattr(ms.Run, "fit", fit)
    ctx.trainer.finish(lambda: ms.recipe(ctx, (784, 20, 10)).runs)
    if diverges == "the first refit":
        _, row = ms.recipe_row(ctx, ms.recipe(ctx, (784, 20, 10)))
        assert steps == [0.5, 0.5, 0.5, 0.25, 0.25, 0.25] and row["training"]["lr"] == 0.25
    else:  # at most twice: then the divergence is the result
        with pytest.raises(FloatingPointError, match="loss became nan"):
            ms.recipe_row(ctx, ms.recipe(ctx, (784, 20, 10)))
        assert steps == [0.5] * 3 + [0.25] * 3 + [0.125] * 3
