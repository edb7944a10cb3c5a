"""Everything about data, shared by every module of the lab: the input checks, 2-D toy data, evaluation
metrics, plots, files written whole, Markdown tables, and reading MNIST's IDX files.

Shapes: N data points, D input dimensions, C classes. `Y_` holds the true class indices (1-D int array
[N], booleans allowed), `Y` the predicted ones, `Yoh_` the one-hot matrix [N x C]. Without an `rng`,
the samplers draw from NumPy's global state, as the lab's programs (`np.random.seed(100)`) expect.

Run `python data.py` for the lab-0 demo: a Gaussian mixture, a dummy decision surface and the data.
"""

import argparse
import errno
import gzip
import hashlib
import math
import os
import re
import secrets
import struct
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np

# ---------------------------------------------------------------------------------------------------
# Input checks, shared by every module: they name the argument and what was expected.
# ---------------------------------------------------------------------------------------------------


def make_rng(rng=None):
    """A `numpy.random.Generator` from a Generator, a non-negative int seed, or None.

    None draws the Generator's seed from NumPy's global state, so the lab's programs, which start with
    `np.random.seed(100)`, get the same data on every run, and consecutive calls different data.
    """
    if rng is None:
        return np.random.default_rng(np.random.randint(2**31))  # noqa: NPY002 (the lab's global seed)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        return np.random.default_rng(check_seed(rng, "rng"))
    raise ValueError(f"rng: expected a numpy.random.Generator, an int seed in 0..2**63-1 or None, got {rng!r}")


def check_positive_int(value, name, minimum=1):
    """Return `value` as an int, or raise ValueError if it is not a whole number >= minimum (1e5 and
    100000.0 are; 1.5, inf and nan are not)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name}: expected a whole number >= {minimum}, got {value!r}")
    if not math.isfinite(value) or value != int(value) or int(value) < minimum:
        raise ValueError(f"{name}: expected a whole number >= {minimum}, got {value!r}")
    return int(value)


def check_seed(seed, name="seed"):
    """Return `seed` as an int, or raise ValueError unless it is a whole number in 0..2**63-1, what both
    numpy's and torch's generators take."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise ValueError(f"{name}: expected a whole number in 0..2**63-1, got {seed!r}")
    return int(seed)


def check_number(value, name, allow_zero=False):
    """Return `value` as a float, or raise ValueError unless it is finite and > 0 (>= 0 with allow_zero)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))
    if not (ok and np.isfinite(value) and (value >= 0 if allow_zero else value > 0)):
        expected = "a non-negative number" if allow_zero else "a positive number"
        raise ValueError(f"{name}: expected {expected}, got {value!r}")
    return float(value)


def as_numpy(value, name):
    """`value` as a NumPy array. A torch tensor (one that requires grad, or on a GPU, included) is detached
    and copied to the CPU; a ragged list (rows of unequal length) is refused naming `name`."""
    check_has_data(value, name)
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except ValueError:
        raise ValueError(f"{name}: expected rows of equal length (an array), got a ragged sequence") from None


def check_has_data(value, name):
    """Raise ValueError naming `name` when `value` is a tensor on torch's "meta" device: it has a shape and
    a dtype but no numbers to read."""
    if getattr(value, "is_meta", False):
        raise ValueError(f"{name}: a tensor on torch's 'meta' device, which holds a shape and dtype but no data; "
                         "expected one with numbers (on the CPU or a GPU)")


def check_data(X, name="X", n_cols=None):
    """Return X as a finite float array of shape (N, D); `n_cols` fixes D when given. A tensor is taken
    (as_numpy)."""
    X = as_numpy(X, name)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"{name}: expected a non-empty 2-D array of shape (N, D), got shape {X.shape}")
    if not (np.issubdtype(X.dtype, np.floating) or np.issubdtype(X.dtype, np.integer)):
        raise ValueError(f"{name}: expected numbers, got dtype {X.dtype}")
    if n_cols is not None and X.shape[1] != n_cols:
        raise ValueError(f"{name}: expected {n_cols} columns, got shape {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return X.astype(np.result_type(X.dtype, np.float32), copy=False)


MAX_CLASSES = 100_000  # far more than any data set here has: a larger C comes from a wrong label


def check_labels(Y, name="Y_", n_rows=None, n_classes=None):
    """Return Y as a 1-D int array of class indices in 0..n_classes-1 (any non-negative if None).

    Booleans count as 0 and 1: the lab-0 pattern `Y = myDummyDecision(X) > 0.5` gives such labels.
    """
    if n_classes is not None:
        n_classes = check_positive_int(n_classes, "C")
    Y = as_numpy(Y, name)
    if Y.dtype == bool:
        Y = Y.astype(np.int64)
    if Y.ndim == 2 and Y.shape[1] == 1:  # a column vector, as lab 0 returned it
        Y = Y[:, 0]
    if Y.ndim != 1 or Y.shape[0] == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array of class indices, got shape {Y.shape}")
    if n_rows is not None and Y.shape[0] != n_rows:
        raise ValueError(f"{name}: expected {n_rows} labels (one per row of X), got {Y.shape[0]}")
    if np.issubdtype(Y.dtype, np.floating) and np.all(np.isfinite(Y)) and np.all(Y == np.round(Y)):
        Y = Y.astype(np.int64)
    if not np.issubdtype(Y.dtype, np.integer):
        raise ValueError(f"{name}: expected integer class indices, got dtype {Y.dtype}")
    low, high = int(Y.min()), int(Y.max())  # Python ints: exact for any width, signed or not
    expected = "be non-negative" if n_classes is None else f"lie in 0..{n_classes - 1}"
    if low < 0 or (n_classes is not None and high >= n_classes):
        raise ValueError(f"{name}: class indices must {expected}, got range {low}..{high}")
    if high >= MAX_CLASSES:
        raise ValueError(f"{name}: class index {high} means more than {MAX_CLASSES} classes; is a label wrong?")
    return Y.astype(np.int64, copy=False)


# ---------------------------------------------------------------------------------------------------
# Watching a training loop's loss, one check for every loop here (fcann2, pt_linreg, train_mb)
# ---------------------------------------------------------------------------------------------------

RUNAWAY = 1e3  # a loss this many times the untrained one means the steps are too large: training stops


def check_progress(loss, first, where, desc, step_name, lr):
    """Stop a run (FloatingPointError) whose loss is not finite or has grown RUNAWAY times past the first
    one: `where` (e.g. 'iteration 12') and `desc` say which run, step_name and lr which step to shrink.
    An untrained loss (`first`, before any step) that is not finite is not the step's fault, and is named."""
    if not math.isfinite(first):
        raise FloatingPointError(f"{desc}: the untrained loss is {first:.4g}, before any step (so not "
                                 f"{step_name}'s fault): the inputs or the regularization weight are too large for "
                                 "the model's numbers")
    if not math.isfinite(loss) or loss > RUNAWAY * first:
        raise FloatingPointError(f"{desc}: loss became {loss:.4g} at {where} (untrained {first:.4g}): "
                                 f"training diverged; try a smaller {step_name} (was {lr:g})")


def check_settled(losses, desc, step_name, lr):
    """Warn (RuntimeWarning) when a finished run's loss (a sequence over its epochs or iterations) ended
    above the first, or rose again during its last tenth by more than half the progress it made (runs of
    20 values or more): signs of steps too large to settle. A loss still falling steeply at the end (a
    sigmoid net leaving a plateau late) is not a swing: only rises above the tail's lowest so far count."""
    tail = np.asarray(losses[-max(2, len(losses) // 10):], dtype=float)
    rebound = float(np.max(tail - np.minimum.accumulate(tail)))
    swings = len(losses) >= 20 and rebound > 0.5 * (losses[0] - min(losses))
    if len(losses) > 1 and (losses[-1] > losses[0] or swings):
        warnings.warn(f"{desc}: the loss did not settle (first {losses[0]:.4g}, lowest {min(losses):.4g}, last "
                      f"{len(tail)} between {min(tail):.4g} and {max(tail):.4g}): the steps overshoot; try a smaller "
                      f"{step_name} (was {lr:g})", RuntimeWarning, stacklevel=3)


# ---------------------------------------------------------------------------------------------------
# Samplers
# ---------------------------------------------------------------------------------------------------


class Random2DGaussian:
    """A bivariate Gaussian with a random mean in [0,10]^2 and a random rotated covariance.

    The eigenvalues are `(U(0,1) * range / 5)**2`, the rotation angle is uniform in [0, 2 pi) and the
    covariance is `R^T diag(eig) R`.
    """

    minx, maxx, miny, maxy = 0, 10, 0, 10

    def __init__(self, rng=None):
        self.rng = make_rng(rng)
        low = np.array([self.minx, self.miny])
        extent = np.array([self.maxx, self.maxy]) - low
        self.mean = low + self.rng.random(2) * extent  # (2,)
        eigvals = (self.rng.random(2) * extent / 5) ** 2
        theta = self.rng.random() * 2 * np.pi
        R = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
        self.cov = R.T @ np.diag(eigvals) @ R  # (2, 2)

    def get_sample(self, n):
        """Return n samples, an array of shape (n, 2)."""
        n = check_positive_int(n, "n")
        return self.rng.multivariate_normal(self.mean, self.cov, size=n)

    def __repr__(self):
        return f"Random2DGaussian(mean={np.round(self.mean, 2).tolist()})"


class GaussianMixture2D:
    """K random Gaussians, each labelled with a class drawn uniformly from {0..C-1}.

    Keeping the mixture (not only a sample) lets a model be scored on fresh data from the same
    distribution it was trained on.
    """

    def __init__(self, K, C, *, rng=None):
        K = check_positive_int(K, "K")
        C = check_positive_int(C, "C")
        if K < C:
            raise ValueError(f"K: need at least as many components as classes (K >= C), got K={K}, C={C}")
        self.rng = make_rng(rng)
        self.C = C
        self.components = [Random2DGaussian(self.rng) for _ in range(K)]
        self.classes = self.rng.integers(C, size=K)  # (K,)

    def sample(self, N):
        """N points from each component: X of shape (K*N, 2), Y_ of shape (K*N,)."""
        N = check_positive_int(N, "N")
        X = np.vstack([g.get_sample(N) for g in self.components])
        Y_ = np.repeat(self.classes, N)
        return X, Y_


def sample_gauss_2d(C, N, *, rng=None):
    """One random Gaussian per class: X of shape (C*N, 2), Y_ of shape (C*N,) with Y_ = 0..C-1. `rng` is
    keyword-only: a fourth number is refused, not taken as a seed."""
    C = check_positive_int(C, "C")
    N = check_positive_int(N, "N")
    rng = make_rng(rng)
    X = np.vstack([Random2DGaussian(rng).get_sample(N) for _ in range(C)])
    Y_ = np.repeat(np.arange(C), N)
    return X, Y_


def sample_gmm_2d(K, C, N, *, rng=None):
    """K >= C random Gaussians with random classes, N points each: X (K*N, 2), Y_ (K*N,). `rng` is
    keyword-only: sample_gmm_2d(3, 3, 100, 2) is refused, not read as seed 2."""
    return GaussianMixture2D(K, C, rng=rng).sample(N)


# ---------------------------------------------------------------------------------------------------
# Metrics
# ---------------------------------------------------------------------------------------------------


def _ratio(num, den):
    """num / den elementwise, 0 where den == 0 (scikit-learn's zero_division=0)."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def eval_perf_binary(Y, Y_):
    """Accuracy, recall and precision of binary predictions Y against true labels Y_ (class 1 positive)."""
    Y_ = check_labels(Y_, "Y_", n_classes=2)
    Y = check_labels(Y, "Y", n_rows=len(Y_), n_classes=2)
    tp = np.sum((Y == 1) & (Y_ == 1))
    fp = np.sum((Y == 1) & (Y_ == 0))
    fn = np.sum((Y == 0) & (Y_ == 1))
    accuracy = float(np.mean(Y == Y_))
    return accuracy, float(_ratio(tp, tp + fn)), float(_ratio(tp, tp + fp))


def count_classes(C, *labels):
    """The number of classes: C (checked) or, when None, 1 + the largest of the checked labels."""
    if C is None and not labels:
        raise ValueError("C: expected a number of classes, or labels to count them from; got neither")
    C = int(max(Y.max() for Y in labels)) + 1 if C is None else check_positive_int(C, "C")
    if C > MAX_CLASSES:
        raise ValueError(f"C: {C} classes (1 + the largest label) is more than {MAX_CLASSES}; is a label wrong?")
    return C


def confusion_matrix(Y, Y_, C=None):
    """C x C counts: rows are true classes, columns predicted ones."""
    Y_ = check_labels(Y_, "Y_", n_classes=C)
    Y = check_labels(Y, "Y", n_rows=len(Y_), n_classes=C)
    C = count_classes(C, Y, Y_)
    return np.bincount(Y_ * C + Y, minlength=C * C).reshape(C, C)


def eval_perf_multi(Y, Y_, C=None):
    """Multi-class metrics of predictions Y against true labels Y_.

    Returns (accuracy, pr, M): `pr` is a list of (recall_i, precision_i) per class, `M` the confusion
    matrix (rows true, columns predicted). A class that is never predicted gets precision 0, not NaN.
    """
    M = confusion_matrix(Y, Y_, C)
    tp = np.diag(M)
    recall = _ratio(tp, M.sum(axis=1))
    precision = _ratio(tp, M.sum(axis=0))
    accuracy = float(tp.sum() / M.sum())
    return accuracy, list(zip(recall.tolist(), precision.tolist(), strict=True)), M


def eval_AP(ranked_labels):
    """Average precision of binary true labels sorted by ascending classifier score.

    Each positive at rank i contributes the precision of the rule "everything from rank i up is
    positive"; AP is their mean.
    """
    labels = check_labels(ranked_labels, "ranked_labels", n_classes=2)
    n_pos = labels.sum()
    if n_pos == 0:
        raise ValueError("ranked_labels: AP is undefined without a positive label")
    positives_from_i = np.cumsum(labels[::-1])[::-1]  # positives at ranks i..n-1
    precision_from_i = positives_from_i / np.arange(len(labels), 0, -1)
    return float(np.sum(precision_from_i * labels) / n_pos)


def average_precision(scores, Y_):
    """AP of binary labels Y_ ranked by `scores` (higher means more likely class 1)."""
    Y_ = check_labels(Y_, "Y_", n_classes=2)
    scores = as_numpy(scores, "scores")
    if not (np.issubdtype(scores.dtype, np.integer) or np.issubdtype(scores.dtype, np.floating)
            or scores.dtype == bool):
        raise ValueError(f"scores: expected real numbers, got an array of {scores.dtype}")
    scores = scores.astype(float)
    if scores.shape != Y_.shape:
        raise ValueError(f"scores: expected shape {Y_.shape} (one per label), got {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("scores: contains NaN or infinite values (they cannot be ranked)")
    return eval_AP(Y_[np.argsort(scores, kind="stable")])


def class_to_onehot(Y, C=None):
    """One-hot matrix of shape (N, C) for class indices Y; C defaults to max(Y) + 1."""
    Y = check_labels(Y, "Y", n_classes=C)
    C = count_classes(C, Y)
    Yoh = np.zeros((len(Y), C))
    Yoh[np.arange(len(Y)), Y] = 1
    return Yoh


def spread(values):
    """Mean, sample standard deviation (0 for a single value), min and max of `values`, as a dict."""
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"values: expected a non-empty sequence of finite numbers, got {values!r}") from None
    if values.ndim != 1 or len(values) == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"values: expected a non-empty sequence of finite numbers, got {values.tolist()}")
    return {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "min": float(values.min()), "max": float(values.max())}


# ---------------------------------------------------------------------------------------------------
# Plots: they draw on the given (or current) axes; scripts save them with `save_figure`.
# ---------------------------------------------------------------------------------------------------


def graph_surface(function, rect, offset=0.5, width=256, height=256, ax=None):
    """Draw `function` over the rectangle rect = ([xmin, ymin], [xmax, ymax]).

    `function` maps an array of shape (M, 2) to M scores. The colour range is symmetric around `offset`
    (0.5 for probabilities, 0 for SVM scores) and a contour line marks the level `offset`; with
    offset=None the colours span the scores' range and no line is drawn.
    """
    import matplotlib.pyplot as plt

    width, height = check_positive_int(width, "width"), check_positive_int(height, "height")
    try:
        (xmin, ymin), (xmax, ymax) = np.asarray(rect, dtype=float).reshape(2, 2)
    except (TypeError, ValueError):
        raise ValueError(f"rect: expected ([xmin, ymin], [xmax, ymax]), got {rect!r}") from None
    if not (np.isfinite([xmin, ymin, xmax, ymax]).all() and xmin < xmax and ymin < ymax):
        raise ValueError(f"rect: expected finite corners with xmin < xmax and ymin < ymax, got {rect!r}")
    if offset is not None and (isinstance(offset, (bool, np.bool_)) or not (isinstance(offset, (int, float, np.number))
                                                                          and np.isfinite(offset))):
        raise ValueError(f"offset: expected a finite number or None, got {offset!r}")
    ax = ax or plt.gca()
    xx, yy = np.meshgrid(np.linspace(xmin, xmax, width), np.linspace(ymin, ymax, height))
    grid = np.stack([xx.ravel(), yy.ravel()], axis=1)  # (height*width, 2)
    scores = function(grid)
    try:
        values = as_numpy(scores, "function").astype(float)  # a tensor that requires grad too
    except (TypeError, ValueError):
        raise ValueError(f"function: expected numbers, one score per grid point, got {type(scores).__name__}") from None
    if values.shape not in ((height * width,), (height * width, 1)):
        raise ValueError(f"function: expected one score per grid point, shape ({height * width},), got {values.shape}")
    values = values.reshape(height, width)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"function: returned {np.sum(~np.isfinite(values))} NaN or infinite scores on the grid; "
                         "expected finite scores (a blank surface would hide it)")
    if offset is None:
        ax.pcolormesh(xx, yy, values, cmap="coolwarm", shading="auto")
        return ax
    span = max(np.max(values) - offset, offset - np.min(values), 1e-12)
    ax.pcolormesh(xx, yy, values, vmin=offset - span, vmax=offset + span, cmap="coolwarm", shading="auto")
    if values.min() < offset < values.max():
        ax.contour(xx, yy, values, levels=[offset], colors="black", linewidths=1)
    return ax


def graph_data(X, Y_, Y, special=(), ax=None):
    """Scatter X coloured by true class: circles where Y == Y_, squares where wrong.

    Points whose indices are in `special` (e.g. support vectors), or where `special` is True (a boolean
    mask of N values), are drawn at double size.
    """
    import matplotlib.pyplot as plt

    X = check_data(X, "X", n_cols=2)
    Y_ = check_labels(Y_, "Y_", n_rows=len(X))
    Y = check_labels(Y, "Y", n_rows=len(X))
    ax = ax or plt.gca()
    palette = plt.get_cmap("tab10" if Y_.max() < 10 else "tab20")
    colors = palette(Y_ % palette.N)
    special = as_numpy(special, "special")
    if special.dtype == bool and special.shape == (len(X),):
        special = np.flatnonzero(special)
    if special.size and (not np.issubdtype(special.dtype, np.integer) or special.ndim != 1
                         or special.min() < -len(X) or special.max() >= len(X)):
        raise ValueError(f"special: expected indices of rows of X (0..{len(X) - 1}) or a mask of {len(X)} booleans, "
                         f"got {special.dtype} {special.shape} {np.array2string(special, threshold=10)}")
    sizes = np.full(len(X), 20.0)
    sizes[special.astype(int)] *= 2
    for mask, marker in ((Y == Y_, "o"), (Y != Y_, "s")):
        ax.scatter(X[mask, 0], X[mask, 1], c=colors[mask], s=sizes[mask], marker=marker, edgecolors="black")
    return ax


def graph_confusion(M, ax=None):
    """Draw a confusion matrix M (rows true, columns predicted) with its counts, colour on a log scale."""
    import matplotlib.pyplot as plt

    M = np.asarray(M)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.size == 0:
        raise ValueError(f"M: expected a square matrix of counts (C, C), got shape {M.shape}")
    if not (np.issubdtype(M.dtype, np.number) and np.all(np.isfinite(M)) and np.all(M >= 0)):
        raise ValueError("M: expected counts (finite numbers >= 0); got negative, NaN or non-numeric entries")
    ax = ax or plt.gca()
    ax.imshow(np.log1p(M), cmap="Blues")
    for (i, j), count in np.ndenumerate(M):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color="black" if i != j else "white")
    ax.set(xlabel="predicted", ylabel="true", xticks=range(len(M)), yticks=range(len(M)))
    return ax


def graph_images(images, titles, ncols=10, signed=False, row_labels=()):
    """A new figure with the 2-D `images` in a grid of ncols columns, each under its title. signed: a
    red-blue colour map centred at 0 for each image (weights), else grey (pixels)."""
    import matplotlib.pyplot as plt

    if len(images) == 0 or len(titles) != len(images):
        raise ValueError(f"images: expected at least one image and a title for each, got {len(images)} images and "
                         f"{len(titles)} titles")
    ncols = check_positive_int(ncols, "ncols")
    if any(np.ndim(image) != 2 for image in images):
        raise ValueError(f"images: expected 2-D images (height, width), got shapes "
                         f"{sorted({np.shape(image) for image in images})}")
    nrows = math.ceil(len(images) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.45 * nrows + 0.4), squeeze=False)
    for ax, image, title in zip(axes.flat, images, titles, strict=False):
        span = np.abs(image).max() or 1
        ax.imshow(image, cmap="seismic", vmin=-span, vmax=span) if signed else ax.imshow(image, cmap="gray")
        ax.set_title(title, fontsize=7)
    for ax in axes.flat:
        ax.set(xticks=[], yticks=[])
        ax.spines[:].set_visible(False)
    for ax, label in zip(axes[:, 0], row_labels, strict=False):
        ax.set_ylabel(label, fontsize=8)
    return fig


def graph_spread(rows, xlabel):
    """A new figure: one point with ± std error bars per (label, data.spread dict) in rows, top down."""
    import matplotlib.pyplot as plt

    bad = [label for label, s in rows if not (isinstance(s, dict) and {"mean", "std"} <= set(s))]
    if bad:
        raise ValueError(f"rows: expected (label, {{'mean': ..., 'std': ...}}) pairs (data.spread); these lack "
                         f"them: {bad[:3]}")
    fig, ax = plt.subplots(figsize=(8, 0.28 * len(rows) + 1.2))
    y = np.arange(len(rows))[::-1]
    ax.errorbar([s["mean"] for _, s in rows], y, xerr=[s["std"] for _, s in rows], fmt="o", capsize=3)
    ax.set(yticks=y, yticklabels=[label for label, _ in rows], xlabel=xlabel)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(axis="x", alpha=0.3)
    return fig


def data_rect(X, margin=0.5):
    """The bounding box of X (N, D), widened by `margin`, as graph_surface's rect."""
    X = check_data(X, "X")
    margin = check_number(margin, "margin", allow_zero=True)
    return X.min(axis=0) - margin, X.max(axis=0) + margin


# ---------------------------------------------------------------------------------------------------
# Files and tables: every file written whole (a temporary, then a rename), and Markdown tables
# ---------------------------------------------------------------------------------------------------


# The names atomic_output's temporaries get: .<name>.<8 random characters>.fc-lab-partial<suffix>. The
# marker is this project's own, so that cleaning up never touches a user's file (.draft.20241201.tmp).
TEMPORARY_MARKER = ".fc-lab-partial"
TEMPORARY = re.compile(r"\..+\.\w{8}" + re.escape(TEMPORARY_MARKER) + r"(\.\w+)?")


def temporary_name(path):
    """A name for a temporary next to `path`: .<name>.<8 random hex digits>.fc-lab-partial<suffix>."""
    path = Path(path)
    return path.parent / f".{path.name}.{secrets.token_hex(4)}{TEMPORARY_MARKER}{path.suffix}"


@contextmanager
def atomic_output(path):
    """Yield a temporary path next to `path` (same suffix); rename it to `path` when the block ends
    without error, remove it otherwise: readers never see a half-written file, and an interruption
    (Ctrl-C, SIGTERM) at any instant leaves no temporary behind."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a folder; expected the path of a file to write", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_name(path)  # named before it exists: wherever an interruption comes, it is known here
    try:
        tmp.touch(exist_ok=False)  # an ordinary file, as open() makes one (the umask applies)
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_figure(fig, path):
    """Save a matplotlib figure whole (atomic_output), as the format its suffix names."""
    with atomic_output(path) as tmp:
        fig.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=100, bbox_inches="tight")
    return Path(path)


def check_writable_folder(folder, name):
    """Create `folder` and prove a file can be written there: before the work, not after it. Raises
    ValueError naming the argument `name` otherwise. Removes the temporaries of atomic_output that a
    killed run left there."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = temporary_name(folder / ".write-test")  # never a user's name
        try:
            probe.touch(exist_ok=False)
        finally:
            probe.unlink(missing_ok=True)
    except OSError as error:
        raise ValueError(f"{name}: cannot write to {folder} ({error})") from None
    remove_temporaries(folder)


def remove_temporaries(folder):
    """Remove the temporaries of atomic_output that a killed run left in `folder` (TEMPORARY names only:
    never a user's file)."""
    for leftover in Path(folder).glob(".*"):
        if TEMPORARY.fullmatch(leftover.name) and leftover.is_file():
            leftover.unlink()


def format_cell(value):
    """A table cell: floats with 4 decimals (1 from 10 on, %g below 1e-3), NumPy's floats alike, None
    empty."""
    if value is None:
        return ""
    if isinstance(value, np.floating):
        value = float(value)
    if isinstance(value, float) and 0 < abs(value) < 1e-3:
        return f"{value:g}"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def markdown_table(header, rows):
    """A Markdown table: a header row of names and rows of cells (anything str() can show); rows may be
    any iterable, a generator included."""
    if isinstance(header, str):
        raise ValueError(f"header: expected a sequence of column names, got the string {header!r}")
    if len(header) == 0:
        raise ValueError("header: expected at least one column name, got none")
    rows = [list(row) for row in rows]
    if any(len(row) != len(header) for row in rows):
        raise ValueError(f"rows: expected {len(header)} cells per row (one per header name), got "
                         f"{sorted({len(row) for row in rows})}")
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(map(str, row)) + " |" for row in rows])


def write_text(path, text):
    """Write a UTF-8 text file whole (atomic_output)."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def finish_figure(fig, path, show=False):
    """Save `fig` to `path`, show it when asked, then close it; return the path."""
    import matplotlib.pyplot as plt

    save_figure(fig, path)
    if show:
        plt.show()
    plt.close(fig)
    print(f"wrote {path}")
    return path


# ---------------------------------------------------------------------------------------------------
# MNIST and Fashion-MNIST: the four IDX files of each, read as they are published
# ---------------------------------------------------------------------------------------------------

DATASETS = {  # name -> (folder under the root, where to get the files by hand)
    "mnist": ("MNIST", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion": ("FashionMNIST", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
}
IDX_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801


def default_root():
    """$MNIST_ROOT if set, else a per-user cache folder."""
    if os.environ.get("MNIST_ROOT"):
        return Path(os.environ["MNIST_ROOT"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fc-classifiers-lab"


def read_idx(path):
    """Read one IDX file, plain or gzipped, into a uint8 array of shape (n,) or (n, rows, cols).

    Raises ValueError naming the file when it is not a complete IDX file of unsigned bytes.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise ValueError(f"{path}: corrupt gzip data ({error})") from None
    if len(raw) < 8:
        raise ValueError(f"{path}: too short to be an IDX file ({len(raw)} bytes)")
    magic, count = struct.unpack(">II", raw[:8])
    if magic == IMAGE_MAGIC:
        if len(raw) < 16:
            raise ValueError(f"{path}: truncated IDX image header")
        rows, cols = struct.unpack(">II", raw[8:16])
        shape, offset = (count, rows, cols), 16
    elif magic == LABEL_MAGIC:
        shape, offset = (count,), 8
    else:
        raise ValueError(f"{path}: bad IDX magic number 0x{magic:08x} "
                         f"(expected 0x{IMAGE_MAGIC:08x} for images or 0x{LABEL_MAGIC:08x} for labels)")
    if count == 0:
        raise ValueError(f"{path}: an IDX file of 0 items")
    expected = offset + math.prod(shape)
    if len(raw) != expected:
        raise ValueError(f"{path}: header promises {expected} bytes for shape {shape}, file has {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape).copy()  # writable, own memory


def find_idx(raw_dir, name):
    """The IDX file `name` in raw_dir, plain or with .gz; None when neither exists. Both may exist
    only when they hold the same data: two different copies raise ValueError naming both."""
    plain, packed = Path(raw_dir) / name, Path(raw_dir) / f"{name}.gz"
    if plain.is_file() and packed.is_file():
        try:
            with gzip.open(packed) as f:
                same = f.read() == plain.read_bytes()
        except (OSError, EOFError) as error:  # a corrupt or unreadable copy beside the other
            raise ValueError(f"{packed}: cannot be read beside {plain} ({error}); remove the broken one") from None
        if not same:
            raise ValueError(f"{plain} and {packed} hold different data; remove the stale one")
    return next((p for p in (plain, packed) if p.is_file()), None)


def check_dataset(dataset):
    """`dataset` when it names one of DATASETS; ValueError naming the argument otherwise."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset: expected one of {sorted(DATASETS)}, got {dataset!r}")
    return dataset


def missing_data_error(dataset, raw_dir, reason):
    folder, url = DATASETS[check_dataset(dataset)]
    names = "\n  ".join(IDX_NAMES)
    return FileNotFoundError(
        f"{dataset} data not found in {raw_dir} ({reason}).\nPut these four files there, plain or gzipped "
        f"(.gz):\n  {names}\nThey are published at {url}; or point --data-root or MNIST_ROOT at a folder "
        f"that holds {folder}/raw/.")


def download(dataset, root):
    """Fetch the data set ('mnist' or 'fashion') with torchvision into root/<folder>/raw/."""
    check_dataset(dataset)
    import torchvision

    cls = torchvision.datasets.MNIST if dataset == "mnist" else torchvision.datasets.FashionMNIST
    for train in (True, False):
        cls(str(root), train=train, download=True)


def arrays_digest(arrays):
    """The first 16 hex digits of the SHA-256 of arrays (their shapes, dtypes and bytes): what identifies
    a data set as read, so that results of another copy of it are never taken for these."""
    digest = hashlib.sha256()
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.data)
    return digest.hexdigest()[:16]


def load_dataset(dataset="mnist", root=None, allow_download=True):
    """Images and labels of the train and test sets as uint8 arrays.

    Returns (x_train (60000, 28, 28), y_train (60000,), x_test (10000, 28, 28), y_test (10000,)).
    Looks in root/<MNIST|FashionMNIST>/raw/ (root: argument, else $MNIST_ROOT, else a user cache) and
    downloads with torchvision when files are missing; raises FileNotFoundError saying what to put
    where when that fails (and leaves no empty folders behind), ValueError for a corrupt file.
    """
    check_dataset(dataset)
    root = Path(root) if root is not None else default_root()
    raw_dir = root / DATASETS[dataset][0] / "raw"
    if any(find_idx(raw_dir, n) is None for n in IDX_NAMES):
        if not allow_download:
            raise missing_data_error(dataset, raw_dir, "download not allowed")
        new_folders = [p for p in (raw_dir, raw_dir.parent, root) if not p.exists()]  # deepest first
        try:
            download(dataset, root)
        except Exception as error:  # no network, read-only folder, checksum mismatch ...
            for folder in new_folders:  # what the failed download made and left empty
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
            raise missing_data_error(dataset, raw_dir, f"download failed: {error}") from error
        if any(find_idx(raw_dir, n) is None for n in IDX_NAMES):
            raise missing_data_error(dataset, raw_dir, "download left files missing")
    arrays = [read_idx(find_idx(raw_dir, n)) for n in IDX_NAMES]
    for (images, labels), split in zip((arrays[:2], arrays[2:]), ("train", "test"), strict=True):
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (len(images),):
            raise ValueError(f"{raw_dir}: {split} images {images.shape} and labels {labels.shape} do not match "
                             f"(expected (n, 28, 28) and (n,))")
        if labels.max() > 9:
            raise ValueError(f"{raw_dir}: {split} labels must be 0..9, found {labels.max()}")
    return tuple(arrays)


# ---------------------------------------------------------------------------------------------------
# The scripts: the lab's dummy decision, the demos' command-line arguments, and how a script ends
# ---------------------------------------------------------------------------------------------------


def myDummyDecision(X):
    """A fixed linear score, x0 + x1 - 5, for X of shape (N, 2): to test graph_surface."""
    X = check_data(X, "X", n_cols=2)
    return X[:, 0] + X[:, 1] - 5


def output_file(suffix, beside=()):
    """An argparse type for a file a script will write: a path ending in `suffix` whose folder can be
    written, checked when the command line is read (before any work), and no folder where the files it
    writes beside it go (the same name with each suffix of `beside`). The 2-D demos' --out is such a
    file; the shootout's --out is a folder."""

    def check(text):
        path = Path(text)
        if path.is_dir() or path.suffix.lower() != suffix:
            raise argparse.ArgumentTypeError(f"expected a {suffix} file to write (e.g. results/name{suffix}), got "
                                             f"{text!r}" + (", a folder" if path.is_dir() else ""))
        for other in (path.with_suffix(s) for s in beside):
            if other.is_dir():
                raise argparse.ArgumentTypeError(f"{other} is a folder, and the file written beside {text!r} goes "
                                                 "there")
        try:
            check_writable_folder(path.parent, "--out")
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error).removeprefix("--out: ")) from None
        return path

    check.__name__ = f"{suffix} file"  # what argparse's messages call it
    return check


def argument_type(parse, expected):
    """An argparse type: the flag's text read by `parse`, which raises ValueError for a bad value; such a
    value is refused when the command line is read, with "expected <expected>, got <text>"."""

    def check(text):
        try:
            return parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None

    return check


def nonempty_path(text):
    """`text` as a Path; ValueError for an empty one, which Path would take as the current folder."""
    if not text.strip():
        raise ValueError("an empty path")
    return Path(text)


folder_argument = argument_type(nonempty_path, "the path of a folder (not empty)")  # --out, --data-root
seed_argument = argument_type(lambda text: check_seed(int(text)), "a whole number in 0..2**63-1")  # --seed
count_argument = argument_type(lambda text: check_positive_int(int(text), "count"), "a whole number >= 1")  # --niter
rate_argument = argument_type(lambda text: check_number(float(text), "rate"), "a positive number")  # --delta


def run_script(main):
    """Run a script's main(); a bad setting (ValueError, whose message names the argument and what to do)
    or a file that cannot be read or written (OSError: missing data, a folder where a file goes, a full
    disk; its message names the file) ends it with that one line, not a traceback."""
    try:
        return main()
    except (OSError, ValueError) as error:
        sys.exit(f"error: {error}")


def demo_argparser(description, out, seed=100):
    """The flags every 2-D demo shares: --seed, --out and --show."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seed", type=seed_argument, default=seed, help=f"random seed (default: {seed})")
    parser.add_argument("--out", type=output_file(".png"), default=out,
                        help=f"the PNG file to write the figure to (default: {out})")
    parser.add_argument("--show", action="store_true", help="also open a window (default: only save PNG)")
    return parser


def main(argv=None):
    args = demo_argparser("Lab-0 demo: a Gaussian mixture and a dummy decision surface.",
                          "results/data.png").parse_args(argv)
    import matplotlib.pyplot as plt

    X, Y_ = sample_gmm_2d(4, 2, 30, rng=args.seed)
    Y = (myDummyDecision(X) > 0).astype(int)
    accuracy, recall, precision = eval_perf_binary(Y, Y_)
    print(f"dummy decision: accuracy {accuracy:.3f}, recall {recall:.3f}, precision {precision:.3f}")
    fig = plt.figure(figsize=(6, 5))
    graph_surface(myDummyDecision, data_rect(X), offset=0)
    graph_data(X, Y_, Y)
    plt.title("sample_gmm_2d(4, 2, 30) and x0 + x1 - 5 > 0")
    finish_figure(fig, args.out, args.show)


if __name__ == "__main__":
    run_script(main)
