"""Task 1, data.py: lab 0's module, upgraded with sample_gmm_2d and graph_data(special=...).

Lab 1 names sample_gauss_2d, sample_gmm_2d, graph_surface and graph_data; a module without them fails
its first check. Lab 0's metrics (eval_perf_binary, eval_perf_multi, eval_AP, class_to_onehot), whose
results lab 1 prints without naming them, are checked where the module has them; lab 0's demo stub
myDummyDecision is not asked for (lab 1 never names it).
"""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import sklearn.metrics
from lab_check import call, check_first, check_names, expect, short, task_fixtures
from matplotlib.collections import PathCollection

NAMES = ("sample_gauss_2d", "sample_gmm_2d", "graph_surface", "graph_data")
lab_task, data = task_fixtures("data", lambda task: check_names(task, NAMES))


def test_imports(lab_task):
    check_first(lab_task)


def as_labels(Y_, name):
    Y_ = np.asarray(Y_)
    if Y_.ndim == 2 and 1 in Y_.shape:  # a column vector, as some lab-0 solutions return it
        Y_ = Y_.ravel()
    expect(Y_.ndim == 1, f"data: {name} should return the class indices Y_ as a vector [N]; got shape {Y_.shape}")
    return Y_


@pytest.mark.parametrize("C, N", [(2, 10), (3, 7)])
def test_sample_gauss_2d(data, C, N):
    result = call("data", f"sample_gauss_2d({C}, {N})", data.sample_gauss_2d, C, N)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"data: sample_gauss_2d(C, N) should return the pair (X, Y_) (lab 0); it returned {type(result).__name__}")
    X, Y_ = np.asarray(result[0]), as_labels(result[1], "sample_gauss_2d")
    expect(X.shape == (C * N, 2), f"data: sample_gauss_2d({C}, {N}) should give X of shape [C*N x 2] = "
                                  f"({C * N}, 2); got {X.shape}")
    counts = np.bincount(Y_.astype(int), minlength=C)
    expect(len(Y_) == C * N and list(counts) == [N] * C,
           f"data: sample_gauss_2d({C}, {N}) should give N={N} points of each class 0..{C - 1}; got the label counts "
           f"{counts.tolist()}")


@pytest.mark.parametrize("K, C, N", [(4, 2, 30), (6, 3, 5)])
def test_sample_gmm_2d(data, K, C, N):
    result = call("data", f"sample_gmm_2d({K}, {C}, {N})", data.sample_gmm_2d, K, C, N)
    expect(isinstance(result, tuple) and len(result) == 2,
           f"data: sample_gmm_2d(K, C, N) should return the pair (X, Y_); it returned {type(result).__name__}")
    X, Y_ = np.asarray(result[0]), as_labels(result[1], "sample_gmm_2d")
    expect(X.shape == (K * N, 2), f"data: sample_gmm_2d({K}, {C}, {N}) should give X of shape [K*N x 2] = "
                                  f"({K * N}, 2); got {X.shape}")
    expect(len(Y_) == K * N and set(np.unique(Y_)) <= set(range(C)),
           f"data: sample_gmm_2d({K}, {C}, {N}) should give K*N = {K * N} labels in 0..{C - 1}; got {len(Y_)} labels "
           f"{sorted(set(np.unique(Y_).tolist()))}")
    counts = np.bincount(Y_.astype(int), minlength=C)
    expect(all(count % N == 0 for count in counts),  # in any order: the lab does not fix one
           f"data: sample_gmm_2d should draw N = {N} points from each of the K components, all with the class "
           f"that component was given, so every class has a multiple of N points; got the counts {counts.tolist()}")


def test_np_random_seed_makes_the_samples_reproducible(data):
    draws = []
    for _ in range(2):
        np.random.seed(100)  # noqa: NPY002 (the lab programs' habit)
        draws.append(np.asarray(call("data", "sample_gmm_2d(4, 2, 30)", data.sample_gmm_2d, 4, 2, 30)[0]))
    expect(np.array_equal(draws[0], draws[1]),
           "data: the lab's programs start with np.random.seed(100) and expect the same data on every run; "
           "sample_gmm_2d gave different data after the same seed (does it use a Generator of its own?)")


def test_eval_perf_binary_agrees_with_sklearn(data):
    rng = np.random.default_rng(0)
    Y_ = rng.integers(0, 2, 200)
    Y = np.where(rng.random(200) < 0.8, Y_, 1 - Y_)
    Y[:3] = 1  # some of each kind of error
    result = call("data", "eval_perf_binary(Y, Y_)", data.eval_perf_binary, Y, Y_)
    expected = (sklearn.metrics.accuracy_score(Y_, Y), sklearn.metrics.recall_score(Y_, Y),
                sklearn.metrics.precision_score(Y_, Y))
    expect(isinstance(result, tuple) and len(result) == 3,
           f"data: eval_perf_binary(Y, Y_) should return (accuracy, recall, precision) (lab 0); got {short(result)}")
    expect(np.allclose(result, expected),
           f"data: eval_perf_binary(Y, Y_) should return (accuracy, recall, precision) = "
           f"({expected[0]:.4f}, {expected[1]:.4f}, {expected[2]:.4f}) as sklearn.metrics computes them; got "
           f"({', '.join(f'{float(v):.4f}' for v in result)}): are recall and precision swapped, or Y and Y_ "
           "(the predicted labels come first)?")


def test_eval_perf_multi_agrees_with_sklearn(data):
    rng = np.random.default_rng(1)
    Y_ = rng.integers(0, 3, 300)
    Y = np.where(rng.random(300) < 0.7, Y_, rng.integers(0, 3, 300))
    result = call("data", "eval_perf_multi(Y, Y_)", data.eval_perf_multi, Y, Y_)
    expect(isinstance(result, (tuple, list)) and len(result) == 3,
           "data: eval_perf_multi(Y, Y_) should return the three values (accuracy, pr, M) (lab 0); got "
           + (f"a {type(result).__name__} of length {len(result)}" if hasattr(result, "__len__") else short(result)))
    accuracy, pr, M = result
    expect(np.isclose(accuracy, sklearn.metrics.accuracy_score(Y_, Y)),
           f"data: eval_perf_multi's accuracy should be {sklearn.metrics.accuracy_score(Y_, Y):.4f}; got {accuracy}")
    M_expected = sklearn.metrics.confusion_matrix(Y_, Y)
    expect(np.shape(M) == M_expected.shape and np.array_equal(np.asarray(M), M_expected),
           "data: eval_perf_multi's M should be the confusion matrix with rows = true class and columns = "
           f"predicted\n{M_expected}\ngot\n{np.asarray(M)}")
    recall = sklearn.metrics.recall_score(Y_, Y, average=None)
    precision = sklearn.metrics.precision_score(Y_, Y, average=None)
    expected = np.stack([recall, precision], axis=1)
    expect(np.shape(pr) == (3, 2) and np.allclose(np.asarray(pr, dtype=float), expected),
           f"data: eval_perf_multi's pr should list (recall_i, precision_i) per class:\n{expected.round(4)}\ngot\n"
           f"{np.asarray(pr, dtype=float).round(4) if np.shape(pr) == (3, 2) else short(pr)}")


@pytest.mark.parametrize("ranked, expected", [
    ([0, 0, 0, 1, 1, 1], 1.0), ([0, 0, 1, 0, 1, 1], 0.9166666666666666), ([0, 1, 0, 1, 0, 1], 0.7555555555555555),
    ([1, 0, 1, 0, 1, 0], 0.5),
])
def test_eval_AP_on_the_labs_examples(data, ranked, expected):
    result = call("data", f"eval_AP({ranked})", data.eval_AP, ranked)
    expect(np.isclose(result, expected),
           f"data: eval_AP takes the true labels sorted by ascending score; the lab 0 example eval_AP({ranked}) "
           f"is {expected:.4f}, got {result}")


def test_class_to_onehot(data):
    Y = np.array([0, 2, 1, 2])
    result = np.asarray(call("data", "class_to_onehot([0, 2, 1, 2])", data.class_to_onehot, Y))
    expect(np.array_equal(result, np.eye(3)[Y]),
           f"data: class_to_onehot([0, 2, 1, 2]) should be the one-hot matrix\n{np.eye(3)[Y]}\ngot\n{result}")


def decision(X):
    """Lab 0's dummy decision, written here: a solution need not keep myDummyDecision."""
    return X[:, 0] + X[:, 1] - 5


def test_graph_surface_draws_the_function(data):
    X = np.array([[1.0, 1.0], [2.0, 5.0], [6.0, 4.0], [8.0, 9.0]])
    rect = (np.min(X, axis=0), np.max(X, axis=0))
    plt.figure()
    call("data", "graph_surface(function, rect, offset=0)", data.graph_surface, decision, rect, offset=0)
    expect(plt.gcf().axes and plt.gca().has_data(), "data: graph_surface(function, rect, offset) should draw the "
                                                    "function's values on the current figure; it is empty")


def marker_sizes(ax):
    """[(x, y, area in points^2)] of every marker on ax: scatter's collections and plot's lines."""
    drawn = []
    for collection in ax.collections:
        if isinstance(collection, PathCollection):
            sizes = np.asarray(collection.get_sizes(), dtype=float)
            sizes = sizes if sizes.size else np.array([plt.rcParams["lines.markersize"] ** 2])
            drawn += [(x, y, sizes[i % sizes.size]) for i, (x, y) in enumerate(np.asarray(collection.get_offsets()))]
    for line in ax.lines:
        if line.get_marker() not in (None, "None", "", " ", ","):
            points = zip(line.get_xdata(), line.get_ydata(), strict=True)
            drawn += [(x, y, line.get_markersize() ** 2) for x, y in points]
    return drawn


def test_graph_data_draws_special_points_twice_as_large(data):
    # Lab 1: "special assigns a list of data indices which are to be emphasized by doubling the size of
    # their symbols". Lab 0's pattern gives boolean predictions (decision(X) > 0.5).
    X = np.array([[1.0, 1.0], [2.0, 5.0], [6.0, 4.0], [8.0, 9.0], [3.0, 7.0], [9.0, 1.0]])
    Y_ = np.array([0, 1, 1, 0, 1, 0])
    special = [0, 3]
    plt.figure()
    call("data", "graph_data(X, Y_, Y, special=[0, 3])", data.graph_data, X, Y_, decision(X) > 0.5, special=special)
    drawn = marker_sizes(plt.gca())
    sizes = []
    for x, y in X:
        at = [s for dx, dy, s in drawn if abs(dx - x) < 1e-9 and abs(dy - y) < 1e-9]
        expect(at, f"data: graph_data(X, Y_, Y) should draw every point with a marker (scatter); nothing is drawn at "
                   f"({x:g}, {y:g})")
        sizes.append(max(at))
    sizes = np.array(sizes)
    plain = np.delete(sizes, special)
    expect(sizes[special].min() >= 1.5 * plain.max(),
           f"data: graph_data(..., special=[0, 3]) should draw the special points with symbols twice the size of the "
           f"others (lab 1); their marker areas are {sizes[special].tolist()}, the others' {plain.tolist()} (are the "
           "larger sizes computed but not passed to scatter's s=?)")
