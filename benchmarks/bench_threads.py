"""Per-step cost of train_mb with one and with two torch threads, side by side in one run.

[784,100,100,10] on a slice of MNIST, for batch sizes 10 to 1000 and three kinds of step: SGD with
PTDeep.sgd_step (the backward pass by hand), Adam (autograd + torch.optim.Adam) and batch norm (SGD
through sgd_step too, batch norm's backward written out). Each figure is the median over --repeats
epochs after a warm-up epoch; within a round the thread counts take turns, so that a slow spell of a
shared machine hits both alike. It shows where the shootout's time goes: at small batches a step is a
few dozen tiny operations, bound by the per-call cost of eager PyTorch, and a second thread buys
little or nothing.

    python benchmarks/bench_threads.py [--images 12000] [--repeats 3]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import data  # noqa: E402
from pt_deep import PTDeep  # noqa: E402
from pt_logreg import Settings, Split, train_mb  # noqa: E402

KINDS = {"sgd by hand": ("sgd", False), "adam": ("adam", False), "batch norm": ("sgd", True)}


def epoch_seconds(train, batch_size, kind, threads, repeats):
    """Median seconds of one train_mb epoch per thread count, the counts taking turns in each round."""
    optimizer, batchnorm = KINDS[kind]
    models = {t: PTDeep([784, 100, 100, 10], batchnorm=batchnorm, seed=0) for t in threads}
    times = {t: [] for t in threads}
    for round_ in range(repeats + 1):
        for t in threads:
            torch.set_num_threads(t)
            start = time.perf_counter()
            train_mb(models[t], train, Settings(epochs=1, batch_size=batch_size, optimizer=optimizer, lr=1e-3,
                                                param_lambda=1e-4))
            if round_:
                times[t].append(time.perf_counter() - start)
    return {t: statistics.median(times[t]) for t in threads}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12_000, help="training images per epoch (default: 12000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per figure (default: 3)")
    parser.add_argument("--data-root", default=None, help="MNIST root (default: $MNIST_ROOT or the cache)")
    args = parser.parse_args(argv)
    x_train, y_train, _, _ = data.load_dataset("mnist", args.data_root or data.default_root())
    train = Split.from_numpy(x_train[:args.images], y_train[:args.images])
    threads, before = (1, 2), torch.get_num_threads()
    print(f"[784,100,100,10], {args.images} images, torch {torch.__version__}; microseconds per step")
    print(f"{'kind':<12s} {'batch':>6s} {'1 thread':>9s} {'2 threads':>10s} {'1 / 2':>6s}")
    try:
        for batch_size in (10, 50, 100, 1000):
            for kind in KINDS:
                seconds = epoch_seconds(train, batch_size, kind, threads, args.repeats)
                per_step = {t: seconds[t] / (args.images / batch_size) * 1e6 for t in threads}
                print(f"{kind:<12s} {batch_size:>6d} {per_step[1]:9.0f} {per_step[2]:10.0f} "
                      f"{per_step[1] / per_step[2]:6.2f}", flush=True)
    finally:
        torch.set_num_threads(before)


if __name__ == "__main__":
    main()
