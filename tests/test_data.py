import gzip
import importlib
import os
import re
import struct
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from sklearn import metrics

import data


@pytest.mark.parametrize("labels, expected", [
    ([0, 0, 0, 1, 1, 1], 1.0),
    ([0, 0, 1, 0, 1, 1], 0.9166666666666666),
    ([0, 1, 0, 1, 0, 1], 0.7555555555555555),
    ([1, 0, 1, 0, 1, 0], 0.5),
])
def test_eval_AP_lab_values(labels, expected):
    assert data.eval_AP(labels) == pytest.approx(expected, abs=1e-12)


def test_average_precision_matches_sklearn():
    rng = np.random.default_rng(0)
    Y_ = rng.integers(2, size=200)
    scores = rng.normal(size=200) + Y_
    assert data.average_precision(scores, Y_) == pytest.approx(metrics.average_precision_score(Y_, scores))


@pytest.mark.parametrize("seed", range(5))
def test_eval_perf_multi_matches_sklearn_with_a_class_never_predicted(seed):
    rng = np.random.default_rng(seed)
    C = 5
    Y_ = rng.integers(C, size=300)
    Y = rng.integers(C - 1, size=300)  # class C-1 is never predicted
    accuracy, pr, M = data.eval_perf_multi(Y, Y_)
    labels = list(range(C))
    np.testing.assert_array_equal(M, metrics.confusion_matrix(Y_, Y, labels=labels))
    recall, precision = np.array(pr).T
    np.testing.assert_allclose(recall, metrics.recall_score(Y_, Y, average=None, labels=labels, zero_division=0))
    np.testing.assert_allclose(precision,
                               metrics.precision_score(Y_, Y, average=None, labels=labels, zero_division=0))
    assert precision[-1] == 0 and np.all(np.isfinite(precision))
    assert accuracy == pytest.approx(metrics.accuracy_score(Y_, Y))


def test_eval_perf_multi_argument_order_is_predicted_then_true():
    _, pr, M = data.eval_perf_multi([1, 1, 1], [0, 1, 1])
    np.testing.assert_array_equal(M, [[0, 1], [0, 2]])  # row = true class
    assert pr[1] == (1.0, 2 / 3)


@pytest.mark.parametrize("seed", range(3))
def test_eval_perf_binary_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    Y_, Y = rng.integers(2, size=100), rng.integers(2, size=100)
    accuracy, recall, precision = data.eval_perf_binary(Y, Y_)
    assert accuracy == pytest.approx(metrics.accuracy_score(Y_, Y))
    assert recall == pytest.approx(metrics.recall_score(Y_, Y))
    assert precision == pytest.approx(metrics.precision_score(Y_, Y))


def test_eval_perf_binary_no_positive_prediction_gives_zero_precision():
    assert data.eval_perf_binary([0, 0, 0], [0, 1, 1]) == (pytest.approx(1 / 3), 0.0, 0.0)


def test_class_to_onehot():
    np.testing.assert_array_equal(data.class_to_onehot([2, 0, 1]), np.eye(3)[[2, 0, 1]])
    assert data.class_to_onehot([0, 0], C=3).shape == (2, 3)


@pytest.mark.parametrize("sampler", [
    lambda rng: data.sample_gauss_2d(3, 20, rng=rng),
    lambda rng: data.sample_gmm_2d(6, 2, 10, rng=rng),
    lambda rng: (data.Random2DGaussian(rng).get_sample(7), None),
])
def test_samplers_are_reproducible_through_rng(sampler):
    X1, Y1 = sampler(42)
    X2, Y2 = sampler(np.random.default_rng(42))
    X3, _ = sampler(43)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)
    assert not np.allclose(X1, X3)


def test_sample_shapes_and_classes():
    X, Y_ = data.sample_gmm_2d(6, 3, 10, rng=0)
    assert X.shape == (60, 2) and Y_.shape == (60,)
    assert set(np.unique(Y_)) <= {0, 1, 2}
    assert np.all(Y_.reshape(6, 10) == Y_.reshape(6, 10)[:, :1])  # one class per component
    X, Y_ = data.sample_gauss_2d(3, 4, rng=0)
    np.testing.assert_array_equal(Y_, np.repeat([0, 1, 2], 4))


def test_random_gaussian_follows_spec():
    rng = np.random.default_rng(1)
    for _ in range(20):
        g = data.Random2DGaussian(rng)
        assert np.all((0 <= g.mean) & (g.mean <= 10))
        eig = np.linalg.eigvalsh(g.cov)
        assert np.all(eig >= 0) and np.all(eig <= 4 + 1e-9)  # (U(0,1) * 10 / 5)^2 <= 4
    X = data.Random2DGaussian(3).get_sample(20000)
    g = data.Random2DGaussian(3)
    np.testing.assert_allclose(np.cov(X.T), g.cov, atol=0.1 * max(1, np.abs(g.cov).max()))


@pytest.mark.parametrize("special", [[1, 3], np.isin(np.arange(10), [1, 3])], ids=["indices", "boolean mask"])
def test_graph_data_doubles_special_markers(special):
    X, Y_ = data.sample_gauss_2d(2, 5, rng=0)
    fig, ax = plt.subplots()
    data.graph_data(X, Y_, Y_, special=special, ax=ax)
    sizes = np.concatenate([c.get_sizes() for c in ax.collections])
    assert sorted(sizes.tolist()) == [20.0] * 8 + [40.0] * 2
    plt.close(fig)


def test_graph_data_marks_wrong_points_as_squares():
    X, Y_ = data.sample_gauss_2d(2, 5, rng=0)
    Y = Y_.copy()
    Y[:3] = 1 - Y[:3]
    fig, ax = plt.subplots()
    data.graph_data(X, Y_, Y, ax=ax)
    correct, wrong = ax.collections
    assert len(correct.get_offsets()) == 7 and len(wrong.get_offsets()) == 3
    plt.close(fig)


def test_graph_surface_draws_function_and_contour():
    fig, ax = plt.subplots()
    data.graph_surface(data.myDummyDecision, ([0, 0], [10, 10]), offset=0, width=32, height=16, ax=ax)
    mesh = ax.collections[0]
    values = np.asarray(mesh.get_array()).reshape(16, 32)
    assert values[0, 0] == pytest.approx(-5) and values[-1, -1] == pytest.approx(15)
    assert mesh.get_clim() == (pytest.approx(-15), pytest.approx(15))  # symmetric around the offset
    assert len(ax.collections) == 2  # the surface and the contour at the offset
    plt.close(fig)


def test_graph_surface_colours_are_symmetric_around_any_offset():
    fig, ax = plt.subplots()
    data.graph_surface(lambda G: G[:, 0] / 10, ([0, 0], [10, 10]), offset=0.5, width=11, height=4, ax=ax)
    mesh = ax.collections[0]
    assert mesh.get_clim() == (pytest.approx(0.0), pytest.approx(1.0))  # 0.5 -+ the larger distance, 0.5
    ax.clear()
    data.graph_surface(lambda G: G[:, 0] / 10, ([0, 0], [10, 10]), offset=0.8, width=11, height=4, ax=ax)
    assert ax.collections[0].get_clim() == (pytest.approx(0.0), pytest.approx(1.6))  # 0.8 -+ 0.8
    plt.close(fig)


def test_demo_writes_png(tmp_path):
    out = tmp_path / "demo.png"
    data.main(["--out", str(out)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in tmp_path.iterdir() if p.name != "demo.png"]  # no temporary file left behind


@pytest.mark.parametrize("call, argument", [
    (lambda: data.sample_gmm_2d(2, 3, 10), "K"),
    (lambda: data.sample_gauss_2d(0, 10), "C"),
    (lambda: data.sample_gmm_2d(4, 2, 0), "N"),
    (lambda: data.eval_perf_multi([0, 1], [0, 1, 1]), "Y"),
    (lambda: data.eval_perf_multi([0, -1], [0, 1]), "Y"),
    (lambda: data.eval_perf_binary([0, 2], [0, 1]), "Y"),
    (lambda: data.eval_AP([0, 0, 0]), "ranked_labels"),
    (lambda: data.class_to_onehot([0, 3], C=2), "Y"),
    (lambda: data.check_data(np.ones(3)), "X"),
    (lambda: data.check_data([[1.0, np.nan]]), "X"),
    (lambda: data.make_rng("seed"), "rng"),
    (lambda: data.sample_gauss_2d(2, 10, rng=-1), "rng"),
    (lambda: data.sample_gauss_2d(2, 10, rng=True), "rng"),
    (lambda: data.class_to_onehot([0, 1], C=True), "C"),  # a bool is not a number of classes
    (lambda: data.class_to_onehot([0, 10**10]), "Y"),  # would be a 149 GiB matrix: a wrong label, named
    (lambda: data.eval_perf_multi([0, 1], [0, 1], C=0), "C"),
    (lambda: data.eval_perf_multi([0, 1], [0, 1], C=2.5), "C"),
    (lambda: data.eval_perf_multi([0, 1], [0, 1], C=-1), "C"),
    (lambda: data.average_precision([0.3, np.nan, 0.1], [0, 1, 1]), "scores"),
    (lambda: data.graph_data(np.ones((3, 2)), [0, 1, 0], [0, 1, 0], special=[1000]), "special"),
    (lambda: data.check_data(np.ones((3, 0))), "X"),
    (lambda: data.sample_gmm_2d(4, 2, float("inf")), "N"),  # not an OverflowError from int()
    (lambda: data.sample_gmm_2d(4, 2, float("nan")), "N"),
    (lambda: data.sample_gmm_2d(4, 2, 1.5), "N"),
    (lambda: data.sample_gauss_2d(2, 10, rng=2**64), "rng"),
    (lambda: data.data_rect([]), "X"),
    (lambda: data.data_rect([[1.0, np.nan]]), "X"),
    (lambda: data.data_rect(np.ones((3, 2)), margin=-1), "margin"),
    (lambda: data.spread([]), "values"),
    (lambda: data.spread([1.0, np.nan]), "values"),
    (lambda: data.download("foo", "."), "dataset"),  # not a fetch of Fashion-MNIST
    (lambda: data.check_seed("a"), "seed"),
    (lambda: data.check_seed(1.5), "seed"),
    (lambda: data.check_seed(2**64), "seed"),
    (lambda: data.myDummyDecision(np.ones(3)), "X"),
    (lambda: data.markdown_table(["a"], [[1, 2]]), "rows"),
    (lambda: data.markdown_table("ab", [[1, 2]]), "header"),  # not two columns named a and b
    (lambda: data.markdown_table([], []), "header"),  # not '| |\n|', a table of no column
    (lambda: data.data_rect(torch.zeros(3, 2, device="meta")), "X"),  # no numbers to read
])
def test_bad_input_names_the_argument(call, argument):
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        call()


def test_data_rect_takes_lists():
    low, high = data.data_rect([[0, 1], [2, 5]], margin=0.5)
    assert list(low) == [-0.5, 0.5] and list(high) == [2.5, 5.5]


def test_atomic_output_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "report.md"
    data.write_text(target, "complete")
    with pytest.raises(RuntimeError), data.atomic_output(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "complete"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask  # an ordinary file, as open() makes one


def write_interrupted_at_line(target, text, stop_at):
    """Write `text` to `target` through atomic_output, raising KeyboardInterrupt at the `stop_at`-th line
    of Python it runs; return whether it was interrupted (False: it ended first)."""
    lines = 0

    def interrupt_at_a_line(frame, event, arg):
        nonlocal lines
        lines += event == "line"
        if lines == stop_at:
            raise KeyboardInterrupt  # raised from a trace function, it is raised in the line traced
        return interrupt_at_a_line

    sys.settrace(interrupt_at_a_line)
    try:
        with data.atomic_output(target) as tmp:
            tmp.write_text(text)
        return False
    except KeyboardInterrupt:
        return True
    finally:
        sys.settrace(None)


def test_atomic_output_interrupted_at_any_line_leaves_no_temporary(tmp_path):
    """Ctrl-C and SIGTERM (mnist_shootout.stop_on_sigterm) raise wherever the main thread is, between
    two lines of Python. Interrupted at each line that writing a file runs in turn (atomic_output, what
    it calls, the writing itself), the target holds its old text or its new, and no temporary is left."""
    target = data.write_text(tmp_path / "report.md", "old")
    stop_at = 1
    while write_interrupted_at_line(target, "new", stop_at):
        assert [p.name for p in tmp_path.iterdir()] == ["report.md"], f"interrupted at line {stop_at}"
        assert target.read_text() in ("old", "new")
        stop_at += 1
    assert stop_at > 10 and target.read_text() == "new"  # the interruptions covered the work, which then ended


def test_writing_a_file_where_a_folder_is_raises_what_python_raises_and_a_script_ends_in_one_line(tmp_path):
    with pytest.raises(IsADirectoryError, match=f"is a folder; expected the path of a file to write: '{tmp_path}'"):
        data.write_text(tmp_path, "text")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(SystemExit) as ended:  # an OSError (a folder, a full disk, no permission): one line
        data.run_script(lambda: data.write_text(tmp_path, "text"))
    assert ended.value.code == f"error: [Errno 21] is a folder; expected the path of a file to write: '{tmp_path}'"


def test_an_untrained_loss_that_is_not_finite_is_not_blamed_on_the_step():
    with pytest.raises(FloatingPointError, match=r"^fit: the untrained loss is nan, before any step \(so not lr's"):
        data.check_progress(1.0, float("nan"), "step 3", "fit", "lr", 0.1)
    with pytest.raises(FloatingPointError, match=r"^fit: loss became inf at step 3 \(untrained 1\).*smaller lr"):
        data.check_progress(float("inf"), 1.0, "step 3", "fit", "lr", 0.1)


# --- MNIST's IDX files ---------------------------------------------------------------------------


def idx_bytes(array):
    array = np.asarray(array, dtype=np.uint8)
    magic = data.IMAGE_MAGIC if array.ndim == 3 else data.LABEL_MAGIC
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
    np.testing.assert_array_equal(data.read_idx(tmp_path / "plain"), images)
    np.testing.assert_array_equal(data.read_idx(tmp_path / "packed.gz"), [3, 1, 4])


@pytest.mark.parametrize("payload, message", [
    (struct.pack(">II", 0x0803, 1), "truncated"),
    (struct.pack(">II", 0x0999, 1) + b"\0", "magic"),
    (struct.pack(">II", 0x0801, 5) + b"\0\1", "header promises"),
    (struct.pack(">IIII", 0x0803, 1, 28, 28) + b"\0" * 10, "header promises"),
    (b"\x1f\x8b\x08\x00garbage", "corrupt gzip"),
    (b"\0\0", "too short"),
    (struct.pack(">II", 0x0801, 0), "0 items"),
    (struct.pack(">IIII", 0x0803, 0, 28, 28), "0 items"),
])
def test_read_idx_rejects_corrupt_files(tmp_path, payload, message):
    path = tmp_path / "bad-idx"
    path.write_bytes(payload)
    with pytest.raises(ValueError, match=message) as error:
        data.read_idx(path)
    assert str(path) in str(error.value)


def test_a_corrupt_gz_beside_a_good_plain_file_is_named(tmp_path):
    write_fake_dataset(tmp_path, gzipped=())
    raw = tmp_path / "MNIST" / "raw"
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b\x08\x00broken")
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz: cannot be read beside .*remove the broken one"):
        data.load_dataset("mnist", tmp_path, allow_download=False)


def test_a_data_file_that_may_not_be_read_is_named(tmp_path, monkeypatch):
    """chmod 000 on a file of the data set (simulated: root reads anything): a ValueError naming the file,
    which the scripts print as their one error line."""
    write_fake_dataset(tmp_path)
    unreadable = tmp_path / "MNIST" / "raw" / "train-labels-idx1-ubyte"
    read_bytes = Path.read_bytes

    def denied(path):
        if path == unreadable:
            raise PermissionError(13, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(data.Path, "read_bytes", denied)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(unreadable))}: cannot be read \(.*Permission denied"):
        data.load_dataset("mnist", tmp_path, allow_download=False)


def test_load_dataset_from_a_folder_with_mixed_plain_and_gzipped_files(tmp_path):
    arrays = write_fake_dataset(tmp_path, "FashionMNIST")
    x_train, y_train, x_test, y_test = data.load_dataset("fashion", tmp_path, allow_download=False)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte"])
    assert x_test.shape == (12, 28, 28) and y_train.shape == (30,)


def test_missing_data_error_names_folder_files_and_source(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        data.load_dataset("mnist", tmp_path, allow_download=False)
    message = str(error.value)
    assert str(tmp_path / "MNIST" / "raw") in message
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte", "https://"):
        assert name in message


def test_failed_download_gives_the_same_clear_error(tmp_path, monkeypatch):
    def offline(dataset, root):
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "download", offline)
    with pytest.raises(FileNotFoundError, match="download failed: network unreachable"):
        data.load_dataset("mnist", tmp_path)


def test_mismatched_image_and_label_counts_are_rejected(tmp_path):
    write_fake_dataset(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    (raw / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5)))
    with pytest.raises(ValueError, match="do not match"):
        data.load_dataset("mnist", tmp_path, allow_download=False)


def test_default_root_follows_mnist_root(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_ROOT", str(tmp_path))
    assert data.default_root() == tmp_path
    monkeypatch.delenv("MNIST_ROOT")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.default_root() == tmp_path / "cache" / "fc-classifiers-lab"


@pytest.mark.parametrize("dataset, train_labels, test_labels", [
    ("mnist", [5, 0, 4, 1, 9, 2, 1, 3], [7, 2, 1, 0, 4, 1, 4, 9]),
    ("fashion", [9, 0, 0, 3, 0, 2, 7, 2], [9, 2, 1, 1, 6, 1, 4, 6]),
])
def test_real_data_loads(mnist_root, dataset, train_labels, test_labels):
    x_train, y_train, x_test, y_test = data.load_dataset(dataset, mnist_root, allow_download=False)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train[:8].tolist() == train_labels and y_test[:8].tolist() == test_labels
    assert np.bincount(y_train).min() > 5000


def test_a_plain_and_a_gzipped_copy_must_agree(tmp_path):
    arrays = write_fake_dataset(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    (raw / "train-images-idx3-ubyte").write_bytes(idx_bytes(arrays["train-images-idx3-ubyte"]))  # the same data
    assert data.load_dataset("mnist", tmp_path, allow_download=False)[0].shape == (30, 28, 28)
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(12))))  # a stale copy
    with pytest.raises(ValueError, match="t10k-labels-idx1-ubyte and .*t10k-labels-idx1-ubyte.gz hold different"):
        data.load_dataset("mnist", tmp_path, allow_download=False)


def test_a_failed_download_leaves_no_empty_folders(tmp_path, monkeypatch):
    def offline(dataset, root):
        (Path(root) / "MNIST" / "raw").mkdir(parents=True)  # as torchvision does before it fetches
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "download", offline)
    root = tmp_path / "cache"
    with pytest.raises(FileNotFoundError, match="download failed"):
        data.load_dataset("mnist", root)
    assert not root.exists() and list(tmp_path.iterdir()) == []


# --- the lab's own programs ---------------------------------------------------------------------------


@pytest.mark.parametrize("sampler", [lambda: data.sample_gauss_2d(3, 100), lambda: data.sample_gmm_2d(4, 2, 30),
                                     lambda: data.Random2DGaussian().get_sample(5)])
def test_the_labs_global_seed_makes_samplers_without_rng_reproducible(sampler):
    def arrays():
        result = sampler()
        return result if isinstance(result, tuple) else (result,)

    np.random.seed(100)  # noqa: NPY002 (the lab programs' habit)
    first, again = arrays(), arrays()
    np.random.seed(100)  # noqa: NPY002
    for a, b in zip(first, arrays(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], again[0])  # the next call: new data


def test_the_lab0_program_with_boolean_labels_runs():
    np.random.seed(100)  # noqa: NPY002 (the lab 0 test program, as the lab writes it)
    X, Y_ = data.sample_gmm_2d(4, 2, 30)
    Y = data.myDummyDecision(X) > 0.5  # booleans
    accuracy, recall, precision = data.eval_perf_binary(Y, Y_)
    assert (accuracy, recall, precision) == data.eval_perf_binary(Y.astype(int), Y_)
    assert data.eval_perf_multi(Y, Y_ == 1)[0] == accuracy
    np.testing.assert_array_equal(data.confusion_matrix(Y, Y_), data.confusion_matrix(Y.astype(int), Y_))
    np.testing.assert_array_equal(data.class_to_onehot(Y), data.class_to_onehot(Y.astype(int)))
    ranked = (Y_ == 1)[np.argsort(data.myDummyDecision(X))]
    assert data.eval_AP(ranked) == data.eval_AP(ranked.astype(int))
    assert data.average_precision(data.myDummyDecision(X), Y_ == 1) == data.eval_AP(ranked.astype(int))
    plt.figure()
    data.graph_surface(data.myDummyDecision, data.data_rect(X), offset=0)
    data.graph_data(X, Y_, Y, special=[0])
    plt.close("all")


def test_graph_surface_with_offset_none_draws_no_contour():
    plt.figure()
    ax = data.graph_surface(data.myDummyDecision, ([0, 0], [10, 10]), offset=None, width=20, height=20)
    assert len(ax.collections) == 1  # the colour mesh only: no contour line
    low, high = ax.collections[0].get_clim()
    assert (low, high) == pytest.approx((-5, 15), abs=1e-9)  # the scores' own range, not centred
    plt.close("all")


def test_labels_too_large_for_any_class_are_named_not_wrapped():
    huge = np.array([0, 1, 2**64 - 1], dtype=np.uint64)  # once converted to int64: -1, that is class 1
    with pytest.raises(ValueError, match=r"^Y: class index 18446744073709551615 means more than"):
        data.class_to_onehot(huge)
    with pytest.raises(ValueError, match=r"^Y_: class index"):
        data.eval_perf_multi(np.array([0, 1, 1]), huge)


@pytest.mark.parametrize("module", ["data", "fcann2", "pt_logreg", "pt_deep", "ksvm_wrap"])
@pytest.mark.parametrize("out, message", [
    ("", r"expected a .png file .*, a folder"),  # an existing folder, as the shootout's --out is
    ("figures", r"expected a .png file to write \(e.g. results/name.png\), got '.*figures'"),  # no suffix
    ("a-file/demo.png", "cannot write to"),  # under a file
])
def test_every_demo_refuses_an_out_it_cannot_write_before_any_work(tmp_path, module, out, message, capsys):

    (tmp_path / "a-file").write_text("")
    with pytest.raises(SystemExit):
        importlib.import_module(module).main(["--out", str(tmp_path / out)])
    printed = capsys.readouterr()
    assert re.search(rf"argument --out: {message}", printed.err) and "accuracy" not in printed.out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_compare_refuses_a_table_it_cannot_write_before_any_work(tmp_path, capsys):
    import ksvm_wrap

    (tmp_path / "a-file").write_text("")
    with pytest.raises(SystemExit):
        ksvm_wrap.main(["compare", "--table", str(tmp_path / "a-file" / "compare.md"), "--out",
                        str(tmp_path / "x.png")])
    assert "argument --table: cannot write to" in capsys.readouterr().err


@pytest.mark.parametrize("call, argument", [
    (lambda: data.graph_surface(data.myDummyDecision, ([0, 0], [1, 1]), width=0), "width"),
    (lambda: data.graph_surface(data.myDummyDecision, ([0, 0], [1, 1]), height=-3), "height"),
    (lambda: data.graph_images([], []), "images"),
    (lambda: data.graph_images([np.zeros((2, 2))], ["a"], ncols=0), "ncols"),
    (lambda: data.graph_confusion(np.array([1, 2, 3])), "M"),
    (lambda: data.graph_surface(data.myDummyDecision, (1, 2)), "rect"),
    (lambda: data.graph_surface(data.myDummyDecision, ([1, 1], [0, 0])), "rect"),
    (lambda: data.graph_surface(data.myDummyDecision, ([0, 0], [1, 1]), offset=float("nan")), "offset"),
    (lambda: data.graph_surface(lambda G: G, ([0, 0], [1, 1])), "function"),  # two scores per point
])
def test_plot_helpers_name_a_bad_argument(call, argument):
    try:
        with pytest.raises(ValueError, match=rf"^{argument}:"):
            call()
    finally:
        plt.close("all")


@pytest.mark.parametrize("argv, message", [
    (["fcann2.py", "--niter", "0", "--out", "OUT"], "argument --niter: expected a whole number >= 1, got '0'"),
    (["pt_linreg.py", "--points", "-3"], "error: --points: expected a whole number >= 0, got -3"),
    (["pt_deep.py", "--seed", str(2**64), "--out", "OUT"], "argument --seed: expected a whole number in 0..2**63-1"),
])
def test_a_script_given_a_bad_setting_ends_with_one_line_not_a_traceback(tmp_path, argv, message):
    import subprocess
    import sys

    argv = [str(tmp_path / "x.png") if a == "OUT" else a for a in argv]
    done = subprocess.run([sys.executable, *argv], cwd=Path(data.__file__).parent, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


@pytest.mark.parametrize("module, argv, message", [
    ("fcann2", ["--niter", "0"], "argument --niter: expected a whole number >= 1, got '0'"),
    ("pt_linreg", ["--niter", "1.5"], "argument --niter: expected a whole number >= 1, got '1.5'"),
    ("pt_logreg", ["--delta", "nan"], "argument --delta: expected a positive number, got 'nan'"),
    ("pt_logreg", ["--delta", "-0.2"], "argument --delta: expected a positive number, got '-0.2'"),
    ("pt_deep", ["--niter", "ten"], "argument --niter: expected a whole number >= 1, got 'ten'"),
    ("ksvm_wrap", ["compare", "--datasets", "0"], "argument --datasets: expected a whole number >= 1, got '0'"),
])
def test_the_demos_refuse_a_bad_count_or_step_by_its_flag_when_the_command_line_is_read(module, argv, message,
                                                                                         capsys):
    with pytest.raises(SystemExit) as ended:
        importlib.import_module(module).main(argv)
    assert ended.value.code == 2 and message in capsys.readouterr().err


def test_a_fourth_number_to_a_sampler_is_refused_not_taken_as_a_seed():
    with pytest.raises(TypeError, match="takes 3 positional arguments but 4 were given"):
        data.sample_gmm_2d(3, 3, 100, 2)
    with pytest.raises(TypeError, match="takes 2 positional arguments but 3 were given"):
        data.sample_gauss_2d(3, 100, 2)
    X, _ = data.sample_gmm_2d(3, 3, 10, rng=2)
    assert np.array_equal(X, data.sample_gmm_2d(3, 3, 10, rng=2)[0])


@pytest.mark.parametrize("call, argument", [
    (lambda: data.graph_surface(lambda G: G[:, 0], ([0, 0], [1, 1]), offset=False), "offset"),  # None means no line
    (lambda: data.graph_surface(lambda G: G[:, 0] * np.nan, ([0, 0], [1, 1])), "function"),  # not a blank surface
    (lambda: data.average_precision(np.array([1 + 1j, 2]), np.array([0, 1])), "scores"),  # not 1.0
    (lambda: data.graph_confusion(np.array([[1, -2], [0, 3]])), "M"),
])
def test_what_would_be_silently_wrong_is_refused_by_name(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}: "):
        call()


def test_tables_take_generators_and_numpy_floats():
    assert data.markdown_table(["a", "b"], ((i, i + 1) for i in range(2))).count("\n") == 3
    assert data.format_cell(np.float32(0.123456)) == data.format_cell(0.123456) == "0.1235"


@pytest.mark.parametrize("call, argument", [
    (lambda: data.missing_data_error("foo", "x", "missing"), "dataset"),
    (lambda: data.count_classes(None), "C"),
    (lambda: data.graph_spread([("run", {"mean": 0.9})], "accuracy"), "rows"),
    (lambda: data.graph_images([np.zeros(784)], ["one"]), "images"),
])
def test_raw_errors_are_named(call, argument):
    with pytest.raises(ValueError, match=f"^{argument}: "):
        call()


def test_tensors_are_taken_and_ragged_lists_named():
    torch = pytest.importorskip("torch")
    X = torch.randn(20, 2, requires_grad=True)  # a student's tensor, still in the graph
    assert np.array_equal(np.array(data.data_rect(X)), np.array(data.data_rect(X.detach().numpy())))
    assert data.average_precision(torch.tensor([0.1, 0.9, 0.2, 0.8], requires_grad=True), [0, 1, 0, 1]) == 1.0
    with pytest.raises(ValueError, match="^X: expected rows of equal length"):
        data.check_data([[1, 2], [3]])
    w = torch.tensor([1.0, -1.0], requires_grad=True)  # a decision function written in torch, not detached
    ax = data.graph_surface(lambda G: torch.as_tensor(G, dtype=torch.float32) @ w, ([0, 0], [1, 1]), offset=0)
    assert len(ax.collections) == 2  # the surface and its level-0 line
    plt.close("all")
    with pytest.raises(ValueError, match="^function: expected numbers, one score per grid point, got list"):
        data.graph_surface(lambda G: ["a"] * len(G), ([0, 0], [1, 1]))


def test_spread_of_strings_is_named():
    with pytest.raises(ValueError, match="^values: expected a non-empty sequence of finite numbers"):
        data.spread(["a", "b"])
