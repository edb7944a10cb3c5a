"""fcann2's training loop against a minimal NumPy loop doing the same math.

The minimal loop is what one would write without any structure: local variables, no dicts, no
checks. fcann2_train should cost no more per iteration. Prints medians of several repeats and
their ratio.

    python benchmarks/bench_fcann2.py [--niter 100000] [--repeats 5]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import data  # noqa: E402
import fcann2  # noqa: E402


def minimal_loop(X, Yoh_, W1, b1, W2, b2, niter, delta, lam):
    """The same forward/backward/update as fcann2, written inline with no structure at all."""
    N = len(X)
    for _ in range(niter):
        S1 = X @ W1.T + b1
        H1 = np.maximum(S1, 0)
        S2 = H1 @ W2.T + b2
        E = np.exp(S2 - S2.max(axis=1, keepdims=True))
        P = E / E.sum(axis=1, keepdims=True)
        Gs2 = (P - Yoh_) / N
        Gs1 = (Gs2 @ W2) * (S1 > 0)
        W1 -= delta * (Gs1.T @ X + 2 * lam * W1)
        b1 -= delta * Gs1.sum(axis=0)
        W2 -= delta * (Gs2.T @ H1 + 2 * lam * W2)
        b2 -= delta * Gs2.sum(axis=0)
    return W1, b1, W2, b2


def time_fcann2(niter, repeats, seed=100):
    """Median seconds of fcann2_train and of the minimal loop, same data and initialization."""
    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=seed)
    Yoh_ = data.class_to_onehot(Y_)
    ours, minimal = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        fcann2.fcann2_train(X, Y_, param_niter=niter, rng=seed, log_every=0)
        ours.append(time.perf_counter() - start)
        p = fcann2.fcann2_init(X, 2, 5, rng=seed)
        start = time.perf_counter()
        minimal_loop(X, Yoh_, p["W1"], p["b1"], p["W2"], p["b2"], niter, 0.05, 1e-3)
        minimal.append(time.perf_counter() - start)
    return statistics.median(ours), statistics.median(minimal)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--niter", type=int, default=100_000, help="iterations per run (default: 100000)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each, median taken (default: 5)")
    args = parser.parse_args(argv)
    ours, minimal = time_fcann2(args.niter, args.repeats)
    print(f"fcann2_train   {ours:7.3f} s per {args.niter} iterations (median of {args.repeats})")
    print(f"minimal loop   {minimal:7.3f} s per {args.niter} iterations")
    print(f"ratio          {ours / minimal:7.3f}  (target <= 1.2)")


if __name__ == "__main__":
    main()
