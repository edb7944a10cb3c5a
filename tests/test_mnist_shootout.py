import gzip
import json
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

import mnist_shootout as ms
from pt_deep import PTDeep

# --- IDX files the tests write themselves ------------------------------------------------------------


def idx_bytes(array):
    array = np.asarray(array, dtype=np.uint8)
    magic = ms.IMAGE_MAGIC if array.ndim == 3 else ms.LABEL_MAGIC
    return struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_fake_dataset(root, folder="MNIST", n_train=30, n_test=12, gzipped=("train-images-idx3-ubyte",)):
    rng = np.random.default_rng(0)
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
              "train-labels-idx1-ubyte": np.arange(n_train) % 10,
              "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
              "t10k-labels-idx1-ubyte": (np.arange(n_test) * 3) % 10}
    for name, array in arrays.items():
        payload = idx_bytes(array)
        if name in gzipped:
            (raw / f"{name}.gz").write_bytes(gzip.compress(payload))
        else:
            (raw / name).write_bytes(payload)
    return arrays


def test_read_idx_plain_and_gzipped(tmp_path):
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    (tmp_path / "plain").write_bytes(idx_bytes(images))
    (tmp_path / "packed.gz").write_bytes(gzip.compress(idx_bytes([3, 1, 4])))
    np.testing.assert_array_equal(ms.read_idx(tmp_path / "plain"), images)
    np.testing.assert_array_equal(ms.read_idx(tmp_path / "packed.gz"), [3, 1, 4])


@pytest.mark.parametrize("payload, message", [
    (struct.pack(">II", 0x0803, 1), "truncated"),
    (struct.pack(">II", 0x0999, 1) + b"\0", "magic"),
    (struct.pack(">II", 0x0801, 5) + b"\0\1", "header promises"),
    (struct.pack(">IIII", 0x0803, 1, 28, 28) + b"\0" * 10, "header promises"),
    (b"\x1f\x8b\x08\x00garbage", "corrupt gzip"),
    (b"\0\0", "too short"),
])
def test_read_idx_rejects_corrupt_files(tmp_path, payload, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message) as error:
        ms.read_idx(path)
    assert str(path) in str(error.value)


def test_load_dataset_from_a_folder_with_mixed_plain_and_gzipped_files(tmp_path):
    arrays = write_fake_dataset(tmp_path, "FashionMNIST")
    x_train, y_train, x_test, y_test = ms.load_dataset("fashion", tmp_path, allow_download=False)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])
    assert x_test.shape == (12, 28, 28) and y_train.shape == (30,)


def test_missing_data_error_names_folder_files_and_source(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        ms.load_dataset("mnist", tmp_path, allow_download=False)
    message = str(error.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte", "https://"):
        assert name in message


def test_failed_download_gives_the_same_clear_error(tmp_path, monkeypatch):
    def offline(dataset, root):
        raise OSError("network unreachable")

    monkeypatch.setattr(ms, "download", offline)
    with pytest.raises(FileNotFoundError, match="download failed: network unreachable"):
        ms.load_dataset("mnist", tmp_path)


def test_mismatched_image_and_label_counts_are_rejected(tmp_path):
    write_fake_dataset(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    (raw / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5)))
    with pytest.raises(ValueError, match="do not match"):
        ms.load_dataset("mnist", tmp_path, allow_download=False)


def test_default_root_follows_mnist_root(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_ROOT", str(tmp_path))
    assert ms.default_root() == tmp_path
    monkeypatch.delenv("MNIST_ROOT")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert ms.default_root() == tmp_path / "cache" / "fc-classifiers-lab"


# --- the real data: needs MNIST_ROOT; fails (does not skip) when it is set and the data is missing ---


def real_root():
    if not os.environ.get("MNIST_ROOT"):
        pytest.skip("MNIST_ROOT is not set")
    return Path(os.environ["MNIST_ROOT"])


@pytest.mark.parametrize("dataset, train_labels, test_labels", [
    ("mnist", [5, 0, 4, 1, 9, 2, 1, 3], [7, 2, 1, 0, 4, 1, 4, 9]),
    ("fashion", [9, 0, 0, 3, 0, 2, 7, 2], [9, 2, 1, 1, 6, 1, 4, 6]),
])
def test_real_data_loads(dataset, train_labels, test_labels):
    x_train, y_train, x_test, y_test = ms.load_dataset(dataset, real_root(), allow_download=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train[:8].tolist() == train_labels and y_test[:8].tolist() == test_labels
    assert np.bincount(y_train).min() > 5000


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    root = real_root()
    out = tmp_path_factory.mktemp("quick")
    threads = torch.get_num_threads()
    ms.main(["--quick", "--data-root", str(root), "--out", str(out), "--device", "cpu", "--threads", "2"])
    assert torch.get_num_threads() == threads  # main() leaves the process as it found it
    return out


def test_quick_run_writes_a_sane_report(quick_run):
    results = json.loads((quick_run / "results.json").read_text())
    assert list(results["experiments"]) == list(ms.EXPERIMENTS)
    rows = {(name, r["model"]): r for name, e in results["experiments"].items() for r in e["rows"]}
    assert rows["depth", "[784,10]"]["test_accuracy"] > 0.80
    assert rows["depth", "[784,100,10]"]["test_accuracy"] > 0.80
    assert rows["svm", "SVC RBF gamma='scale' on 2000"]["test_accuracy"] > 0.85
    untrained = results["experiments"]["untrained"]["rows"]
    assert all(abs(r["test_loss"] - np.log(10)) < 0.3 for r in untrained)
    assert all(0 <= r["test_accuracy"] <= 1 for r in rows.values())
    report = (quick_run / "report.md").read_text()
    assert report.count("\n## ") == 10 and "| [784,100,10] |" in report
    for figure in ("weights.png", "depth_losses.png", "depth_worst.png", "depth_confusion.png",
                   "batchnorm_losses.png"):
        assert (quick_run / figure).read_bytes()[:4] == b"\x89PNG" and f"]({figure})" in report
    assert not list(quick_run.glob(".*tmp*"))  # every file renamed into place


def test_background_svms_match_a_run_in_this_process(quick_run):
    results = json.loads((quick_run / "results.json").read_text())
    assert "second process" in results["experiments"]["svm"]["note"]
    arrays = ms.load_dataset("mnist", real_root(), allow_download=False)
    rows = ms.run_svms(*ms.make_splits(arrays, "cpu", n_train=5000, n_test=1000, seed=0), ms.QUICK)
    background = results["experiments"]["svm"]["rows"]
    assert [r["test_accuracy"] for r in rows] == [r["test_accuracy"] for r in background]
    assert [r["support_vectors"] for r in rows] == [r["support_vectors"] for r in background]


def test_quick_run_saves_a_loadable_best_model(quick_run):
    results = json.loads((quick_run / "results.json").read_text())
    model = ms.load_model(quick_run / "best_depth.pt")
    best = next(r for r in results["experiments"]["depth"]["rows"] if r["model"] == ms.config_name(model.config))
    arrays = ms.load_dataset("mnist", real_root(), allow_download=False)
    _, _, test = ms.make_splits(arrays, "cpu", n_train=5000, n_test=1000, seed=0)
    assert ms.evaluate(model, test)[1] == pytest.approx(best["test_accuracy"])


# --- train_mb ---------------------------------------------------------------------------------------


def small_splits(n=600, seed=0):
    generator = torch.Generator().manual_seed(seed)
    centers = torch.rand(10, 784, generator=generator)
    Y = torch.randint(10, (n,), generator=generator)
    X = (centers[Y] + 0.6 * torch.rand(n, 784, generator=generator)).clamp(0, 1)
    full = ms.Split(X, Y)
    return full.subset(torch.arange(0, n // 2)), full.subset(torch.arange(n // 2, n))


def test_train_mb_is_reproducible_with_a_seed():
    train, val = small_splits()
    states = []
    for _ in range(2):
        model = PTDeep([784, 20, 10], seed=1)
        ms.train_mb(model, train, 3, batch_size=32, val=val, seed=5)
        states.append(model.state_dict())
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key])
    model = PTDeep([784, 20, 10], seed=1)
    ms.train_mb(model, train, 3, batch_size=32, val=val, seed=6)
    assert not torch.equal(model.weights[0], states[0]["weights.0"])  # another shuffle, another result


@pytest.mark.parametrize("by_hand, optimizer, batchnorm, method", [
    (True, "sgd", False, "sgd_step"), (False, "sgd", False, "get_loss"),
    (True, "adam", False, "get_loss"), (True, "sgd", True, "get_loss"),  # where the hand-written step does not apply
])
def test_train_mb_takes_one_step_per_mini_batch_and_reshuffles(monkeypatch, by_hand, optimizer, batchnorm, method):
    train, _ = small_splits(200)
    model = PTDeep([784, 10, 10], batchnorm=batchnorm, seed=0)
    seen = []
    original = getattr(model, method)

    def spy(X, *args):
        seen.append(X.shape[0])
        return original(X, *args)

    monkeypatch.setattr(model, method, spy)
    orders = []
    real_randperm = torch.randperm
    monkeypatch.setattr(torch, "randperm", lambda *a, **k: orders.append(real_randperm(*a, **k)) or orders[-1])
    ms.train_mb(model, train, 2, batch_size=30, optimizer=optimizer, by_hand=by_hand)
    assert seen == [30, 30, 30, 10] * 2  # ceil(100 / 30) steps per epoch, the last one smaller
    assert len(orders) == 2 and not torch.equal(orders[0], orders[1])


@pytest.mark.parametrize("batch_size", [7, 100])
def test_train_mb_by_hand_reaches_the_parameters_of_the_autograd_path(batch_size):
    train, val = small_splits(200)
    train = ms.Split(train.X.double(), train.Y)
    models = {}
    for by_hand in (True, False):
        model = PTDeep([784, 20, 20, 10], seed=3).double()
        ms.train_mb(model, train, 3, batch_size=batch_size, lr=0.2, param_lambda=1e-3, lr_gamma=0.8, seed=4,
                    by_hand=by_hand)
        models[by_hand] = model
    for (name, p), q in zip(models[True].named_parameters(), models[False].parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-10, msg=name)
    assert not torch.equal(models[True].weights[0], PTDeep([784, 20, 20, 10], seed=3).weights[0].double())


def test_early_stopping_restores_a_copy_of_the_best_epoch():
    train, val = small_splits(300)
    model = PTDeep([784, 50, 10], seed=0)
    history = ms.train_mb(model, train, 25, batch_size=10, lr=0.5, val=val, early_stopping=True, seed=0)
    assert history.best_epoch < 25  # validation loss rose again, so the last epoch is not the best
    assert history.val_loss[history.best_epoch - 1] == min(history.val_loss)
    assert ms.evaluate(model, val)[0] == pytest.approx(min(history.val_loss), rel=1e-6)


def test_exponential_lr_steps_once_per_epoch():
    train, _ = small_splits(100)
    history = ms.train_mb(PTDeep([784, 10]), train, 4, batch_size=10, optimizer="adam", lr=1e-3, lr_gamma=0.5)
    assert history.lr == pytest.approx([1e-3, 5e-4, 2.5e-4, 1.25e-4])


def test_train_mb_does_not_use_a_dataloader():
    source = Path(ms.__file__).read_text()
    assert "DataLoader" not in source.replace("no DataLoader", "")


def test_divergence_stops_with_a_message():
    train, _ = small_splits(100)
    with pytest.raises(FloatingPointError, match="epoch 1.*smaller learning rate"):
        ms.train_mb(PTDeep([784, 10]), ms.Split(train.X * 1e30, train.Y), 2, batch_size=10, lr=1e10)


def test_same_seed_same_numbers_on_cpu_and_autograd_nearly_the_same(tmp_path):
    root = real_root()
    runs, metas = [], []
    for name, extra in (("a", []), ("b", []), ("autograd", ["--autograd"])):
        ms.main(["weights", "--quick", "--epochs", "1", "--data-root", str(root), "--out", str(tmp_path / name),
                 "--device", "cpu"] + extra)
        results = json.loads((tmp_path / name / "results.json").read_text())
        runs.append([{k: v for k, v in r.items() if k != "seconds"} for r in results["experiments"]["weights"]["rows"]])
        metas.append(results["meta"])
    assert runs[0] == runs[1]
    assert metas[0]["sgd_steps_by_hand"] and not metas[2]["sgd_steps_by_hand"]
    for by_hand, autograd in zip(runs[0], runs[2], strict=True):  # the same steps, rounded differently
        assert by_hand["test_loss"] == pytest.approx(autograd["test_loss"], rel=1e-4)
        assert by_hand["test_accuracy"] == pytest.approx(autograd["test_accuracy"], abs=2e-3)


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    (["bogus"], "unknown experiment 'bogus'"),
    (["--dataset", "cifar"], "--dataset"),
    (["--configs", "100,10"], "--configs: config: MNIST models need 784 inputs"),
    (["--configs", "784,100,9"], "--configs"),
    (["--batch-size", "0"], "--batch-size"),
    (["--val-fraction", "1.5"], "--val-fraction"),
    (["--val-fraction", "0"], "--val-fraction"),
])
def test_bad_command_lines_are_refused(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        ms.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("call, argument", [
    (lambda t: ms.train_mb(PTDeep([784, 10]), t, 1, batch_size=0), "batch_size"),
    (lambda t: ms.train_mb(PTDeep([784, 10]), t, 1, batch_size=10_000), "batch_size"),
    (lambda t: ms.train_mb(PTDeep([784, 10]), t, 0, batch_size=10), "n_epochs"),
    (lambda t: ms.train_mb(PTDeep([784, 10]), t, 1, batch_size=10, optimizer="rmsprop"), "optimizer"),
    (lambda t: ms.train_mb(PTDeep([784, 10]), t, 1, batch_size=10, early_stopping=True), "val"),
    (lambda t: ms.check_mnist_config([784, 100, 9]), "config"),
    (lambda t: ms.make_splits([None] * 4, "cpu", val_fraction=1.0), "val_fraction"),
    (lambda t: ms.load_dataset("cifar"), "dataset"),
])
def test_bad_arguments_name_the_argument(call, argument):
    train, _ = small_splits(100)
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        call(train)


def test_fashion_quick_depth_trains_every_config(tmp_path):
    """Fashion-MNIST's brighter images need a smaller step than MNIST's; none of the nets may collapse."""
    root = real_root()
    ms.main(["depth", "--quick", "--dataset", "fashion", "--data-root", str(root), "--out", str(tmp_path)])
    rows = json.loads((tmp_path / "results.json").read_text())["experiments"]["depth"]["rows"]
    assert len(rows) == 4 and all(r["test_accuracy"] > 0.7 for r in rows)


def overlapping_classes(seed=0):
    """400 6-D points of 5 overlapping classes labelled 3, 5, 6, 8, 9 (not 0..4); columns 1 and 4 are 0
    in the first (training) half and not in the second."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(400, 6)) + np.repeat(rng.normal(scale=0.8, size=(5, 6)), 80, axis=0)
    X[::2, 1] = X[::2, 4] = 0
    return X, np.repeat([3, 5, 6, 8, 9], 80)


@pytest.mark.parametrize("kernel, gamma", [("rbf", "scale"), ("rbf", 0.5), ("linear", "scale"), ("poly", "scale")])
def test_svc_predict_gives_libsvms_labels(kernel, gamma):
    from sklearn.svm import SVC

    X, Y = overlapping_classes()
    svm = SVC(kernel=kernel, gamma=gamma, decision_function_shape="ovo").fit(X[::2], Y[::2])
    predicted = ms.svc_predict(svm, X[1::2].astype(np.float32), chunk=64)
    np.testing.assert_array_equal(predicted, svm.predict(X[1::2].astype(np.float32)))
    assert 0.3 < np.mean(predicted == Y[1::2]) < 0.95  # a hard problem: many close votes, many errors


def test_svc_predict_refuses_columns_that_do_not_fit_the_svc():
    X, Y = overlapping_classes(1)
    svm, columns = ms.fit_svc("rbf", "scale", X[::2], Y[::2])
    for bad in (lambda: ms.svc_predict(svm, X[1::2]),  # the mask forgotten: 6 columns for an SVC of 4
                lambda: ms.svc_predict(svm, X[1::2, :5], columns),
                lambda: ms.svc_predict(svm, X[1], columns)):
        with pytest.raises(ValueError, match=r"^X: expected a 2-D array with \d columns"):
            bad()


@pytest.mark.parametrize("kernel, gamma", [("rbf", "scale"), ("rbf", "auto"), ("linear", "scale")])
def test_fit_svc_without_the_zero_columns_finds_the_same_machine(kernel, gamma):
    from sklearn.svm import SVC

    X, Y = overlapping_classes(1)
    svm, columns = ms.fit_svc(kernel, gamma, X[::2], Y[::2])
    assert columns.tolist() == [True, False, True, True, False, True]
    full = SVC(kernel=kernel, gamma=gamma, decision_function_shape="ovo").fit(X[::2], Y[::2])
    np.testing.assert_array_equal(svm.support_, full.support_)
    np.testing.assert_allclose(svm.dual_coef_, full.dual_coef_, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(ms.svc_predict(svm, X[1::2], columns), full.predict(X[1::2]))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_train_mb_on_cuda_matches_the_cpu():
    train, _ = small_splits(300)
    models = {}
    for device in ("cpu", "cuda"):
        model = PTDeep([784, 30, 10], seed=2).double().to(device)
        split = ms.Split(train.X.double().to(device), train.Y.to(device))
        ms.train_mb(model, split, 2, batch_size=16, lr=0.1, param_lambda=1e-4, seed=1)
        models[device] = model
    for p, q in zip(models["cpu"].parameters(), models["cuda"].parameters(), strict=True):
        torch.testing.assert_close(p, q.cpu(), rtol=0, atol=1e-9)
