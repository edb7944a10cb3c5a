"""Which initialization PTDeep should start from: a measurement, not a habit.

Three ways to draw the weights, each trained the same way on the same data and seeds:
- torch: nn.Linear's default, W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PTDeep's default, chosen here);
- glorot: W ~ N(0, 2 / (fan_in + fan_out)) in every layer (Glorot & Bengio 2010);
- he: W ~ N(0, 2 / fan_in) before a ReLU, N(0, 1 / fan_in) elsewhere (He et al. 2015; PTDeep's old default).
Biases start at zero but for `torch`.

Cases (each prints a table; `--cases` picks some):
- demos: pt_deep's 2-D experiments (gmm(4,2,40), gmm(6,2,10); [2,10,2] and [2,10,10,2] ReLU, [2,10,10,2]
  sigmoid; 10000 steps, delta 0.1, lambda 1e-4): the final training loss, mean over the seeds;
- template: the lab's template step, train(model, X, Yoh_, 1000, 0.5), [2,10,10,2] ReLU on the same data;
- sigmoid: a short budget for sigmoid units, [2,10,10,2] sigmoid on gmm(6,2,10) standardized, 3000
  steps, delta 0.3 (where small weights start on a plateau);
- wide: a wide net on raw 2-D data at the lab's step: [2,128,256,64,2] ReLU on gmm(50,2,100), 300 steps,
  delta 0.5, lambda 1e-3;
- mnist: the shootout's depth recipe (SGD lr 0.5 x0.93 per epoch, batch 50, lambda 1e-4) for
  [784,100,10] and [784,100,100,100,10], trained on 50000 images and scored on the 10000 test images.
A run that diverges (pt_logreg's FloatingPointError) counts as such, not as a loss.

    python benchmarks/init_study.py [--cases demos template sigmoid wide mnist] [--seeds 0 1 2] [--epochs 10]
"""

import argparse
import math
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import data  # noqa: E402
from pt_deep import INITS, PTDeep  # noqa: E402
from pt_logreg import Settings, Split, evaluate, to_tensors, train, train_mb  # noqa: E402


def final_loss(model, X, Y_, niter, delta, param_lambda):
    """The last training loss of `train`, or inf when it diverged."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return float(train(model, *to_tensors(X, Y_, C=2), niter, delta, param_lambda, log_every=0)[-1])
        except FloatingPointError:
            return math.inf


def two_class_sample(K, C, N, seed):
    """sample_gmm_2d(K, C, N) from a Generator seeded with `seed`, drawn again while it has fewer than C
    classes (every component may get the same class; training refuses a single class)."""
    rng = np.random.default_rng(seed)
    while True:
        X, Y_ = data.sample_gmm_2d(K, C, N, rng=rng)
        if len(np.unique(Y_)) == C:
            return X, Y_


def summary(values):
    """'mean (min..max)' over seeds, with the number of diverged runs."""
    finite = [v for v in values if math.isfinite(v)]
    text = f"{statistics.mean(finite):.4f} ({min(finite):.4f}..{max(finite):.4f})" if finite else "-"
    diverged = len(values) - len(finite)
    return text + (f", {diverged} of {len(values)} diverged" if diverged else "")


def print_table(title, rows):
    print(f"\n{title}\n")
    print(data.markdown_table(["case", *INITS], rows))


MIXTURES = {"gmm(4,2,40)": (4, 2, 40), "gmm(6,2,10)": (6, 2, 10)}
TWO_D = {  # case: (mixtures, (config, activation) runs, (param_niter, param_delta, param_lambda), standardized)
    "demos": (("gmm(4,2,40)", "gmm(6,2,10)"), [([2, 10, 2], "relu"), ([2, 10, 10, 2], "relu"),
                                               ([2, 10, 10, 2], "sigmoid")], (10_000, 0.1, 1e-4), False),
    "template": (("gmm(4,2,40)", "gmm(6,2,10)"), [([2, 10, 10, 2], "relu")], (1000, 0.5, 0.0), False),
    "sigmoid": (("gmm(6,2,10)",), [([2, 10, 10, 2], "sigmoid")], (3000, 0.3, 0.0), True),
}


def two_d(case, seeds):
    mixtures, runs, steps, standardized = TWO_D[case]
    rows = []
    for name in mixtures:
        for config, activation in runs:
            losses = {init: [] for init in INITS}
            for seed in seeds:
                X, Y_ = two_class_sample(*MIXTURES[name], seed)
                if standardized:
                    X = (X - X.mean(axis=0)) / X.std(axis=0)
                for init in INITS:
                    model = PTDeep(config, activation, seed=seed, init=init)
                    losses[init].append(final_loss(model, X, Y_, *steps))
            rows.append([f"{name}{' standardized' * standardized} {config} {activation}",
                         *(summary(losses[i]) for i in INITS)])
    niter, delta, param_lambda = steps
    print_table(f"{case}: final training loss after {niter} steps, delta {delta}, lambda {param_lambda} "
                f"(mean and range over seeds {seeds})", rows)


def wide(seeds):
    losses = {init: [] for init in INITS}
    for seed in seeds:
        X, Y_ = two_class_sample(50, 2, 100, seed)
        for init in INITS:
            losses[init].append(final_loss(PTDeep([2, 128, 256, 64, 2], "relu", seed=seed, init=init), X, Y_,
                                           300, 0.5, 1e-3))
    print_table(f"wide: [2,128,256,64,2] ReLU on gmm(50,2,100), final loss after 300 steps, delta 0.5, "
                f"lambda 1e-3 (seeds {seeds})", [["gmm(50,2,100) [2,128,256,64,2]", *(summary(losses[i])
                                                                                  for i in INITS)]])


def mnist(seeds, epochs):
    x_train, y_train, x_test, y_test = data.load_dataset("mnist", allow_download=False)
    train_split = Split.from_numpy(x_train[:50_000], y_train[:50_000])
    test = Split.from_numpy(x_test, y_test)
    rows = []
    for config in ([784, 100, 10], [784, 100, 100, 100, 10]):
        untrained, accuracy = {i: [] for i in INITS}, {i: [] for i in INITS}
        for seed in seeds:
            for init in INITS:
                model = PTDeep(config, "relu", seed=seed, init=init)
                untrained[init].append(evaluate(model, test)[0])
                try:
                    train_mb(model, train_split, Settings(epochs=epochs, batch_size=50, lr=0.5, lr_gamma=0.93,
                                                          param_lambda=1e-4, seed=seed), progress=False)
                    accuracy[init].append(evaluate(model, test)[1])
                except FloatingPointError:
                    accuracy[init].append(math.inf)
        rows.append([f"{config} untrained test loss", *(summary(untrained[i]) for i in INITS)])
        rows.append([f"{config} test accuracy", *(summary(accuracy[i]) for i in INITS)])
    print_table(f"mnist: depth recipe, {epochs} epochs on 50000 images, test accuracy (seeds {seeds}; ln 10 = "
                f"{math.log(10):.4f})", rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cases = ("demos", "template", "sigmoid", "wide", "mnist")
    parser.add_argument("--cases", nargs="+", choices=cases, default=list(cases), help="what to measure (default: all)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default: 0 1 2)")
    parser.add_argument("--epochs", type=int, default=10, help="mnist: epochs (default: 10)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    start = time.perf_counter()
    for case in TWO_D:
        if case in args.cases:
            two_d(case, args.seeds)
    if "wide" in args.cases:
        wide(args.seeds)
    if "mnist" in args.cases:
        mnist(args.seeds, args.epochs)
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
