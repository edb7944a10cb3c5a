"""Generalization on MNIST: fully connected PTDeep models against kernel SVMs, the lab's ten experiments.

    python mnist_shootout.py                       # all ten experiments, report in results/mnist/
    python mnist_shootout.py weights depth         # any subset, by name (see EXPERIMENTS)
    python mnist_shootout.py --quick               # everything on a subset, in seconds
    python mnist_shootout.py --seeds 0 1 2         # once per seed, then mean ± std of every row
    python mnist_shootout.py --dataset fashion     # Fashion-MNIST instead

Data: pixels scaled to [0, 1] and flattened to 784; a random 1/5 of the training set (fixed by
--seed) is held out for validation. Every hyper-parameter (lambda, epoch, configuration) is chosen on
that validation split; the test set is only ever reported. All data live on the chosen device for the
whole run: a mini-batch is an index gather there, never a host-to-device copy.

How the file reads: every setting is in Profile. Each experiment names the training runs it needs
(a Run: train_mb's Settings plus the model) and, once they have finished, builds its rows and figures
from them (EXPERIMENTS). Equal runs that two experiments ask for are trained once. Which results in
--out count as this run's, and which files there are ours to replace, is one section ("Results in
--out"); where the runs are trained is the last section's concern: in worker processes, one run
each, started as soon as an experiment can name them, or here in this process.
"""

import signal

if __name__ == "__main__":
    # Ctrl-C while the libraries load ends the process at once, by the kernel's default action: nothing
    # is written or started yet, and a KeyboardInterrupt raised inside a C extension's initialization
    # can end in "ImportError: initialization failed", abort the interpreter, or hang it on exit. Python's
    # handler is put back when main starts (the end of this file).
    signal.signal(signal.SIGINT, signal.SIG_DFL)

import argparse
import ctypes
import hashlib
import importlib.metadata
import json
import math
import multiprocessing
import multiprocessing.connection
import os
import pickle
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

import data
from ksvm_wrap import fit_and_score
from pt_deep import PTDeep, check_config, save_model
from pt_logreg import Settings, Split, choose_device, evaluate, metrics, plot_histories, train_mb

# ---------------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """Every setting of the ten experiments; FULL is the default run, QUICK the --quick one."""

    n_train: int | None = None  # training images used, before the validation split (None: all 60000)
    n_test: int | None = None  # test images used (None: all 10000)
    epochs: int = 30  # epochs of every mini-batch run (weights: weights_epochs)
    batch_size: int = 100  # mini-batch size of every run outside the depth recipe (but minibatch's own sizes)
    sgd_lr: float = 0.1  # SGD step of every run outside the depth recipe
    param_lambda: float = 1e-4  # L2 weight of early_stop, minibatch, adam, adam_decay
    weights_epochs: int = 10  # epochs of the [784,10] runs of `weights`
    lambdas: tuple = (0.0, 1e-3, 1e-2, 1e-1)  # `weights`: [784,10] regularization
    # The depth recipe (depth, batchnorm): SGD with lr decayed by depth_lr_gamma per epoch, each λ of
    # depth_lambdas tried, validation accuracy picks λ and the epoch, then a refit on all training images.
    depth_configs: tuple = ((784, 10), (784, 100, 10), (784, 100, 100, 10), (784, 100, 100, 100, 10))
    depth_batch_size: int = 50
    # The starting step of each data set, chosen on its validation split (README: "The depth recipe").
    depth_lr: dict = field(default_factory=lambda: {"mnist": 0.5, "fashion": 0.2})
    depth_lr_gamma: float = 0.93
    depth_lambdas: tuple = (0.0, 1e-4)
    deep_config: tuple = (784, 100, 100, 10)  # `regularization` and `batchnorm`
    deep_lambdas: tuple = (0.0, 1e-4, 1e-3, 1e-2)  # `regularization`
    batch_sizes: tuple = (60_000, 1000, 100, 10)  # `minibatch`: capped at the training-set size
    adam_lr: float = 1e-4  # the lab's fixed Adam learning rate
    adam_lr_gamma: float = 1 - 1e-4  # the lab's ExponentialLR gamma, stepped once per epoch
    svm_train: int | None = None  # SVM training images (None: the whole training set, all 60000)
    svm_subset: int = 10_000  # training images for the gamma='auto' contrast


FULL = Profile()
QUICK = Profile(n_train=5000, n_test=1000, epochs=3, weights_epochs=3, svm_train=2000, svm_subset=1000,
                lambdas=(0.0, 1e-2), deep_lambdas=(0.0, 1e-4), batch_sizes=(4000, 100))

# ---------------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------------


def split_sizes(arrays, val_fraction=0.2, n_train=None, n_test=None):
    """(training part, validation split, test set) sizes of make_splits with these arguments."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction: expected a number in (0, 1), got {val_fraction!r}")
    x_train, _, x_test, _ = arrays
    n_train = len(x_train) if n_train is None else min(n_train, len(x_train))
    n_test = len(x_test) if n_test is None else min(n_test, len(x_test))
    n_val = int(round(val_fraction * n_train))
    if not 1 <= n_val < n_train:
        raise ValueError(f"val_fraction: {val_fraction} of {n_train} training images leaves {n_val} for validation "
                         f"and {n_train - n_val} for training; both need at least one")
    return n_train - n_val, n_val, n_test


def make_splits(arrays, device, val_fraction=0.2, n_train=None, n_test=None, seed=0):
    """Train / validation / test Splits: a random val_fraction of the (first n_train) training images
    is held out for validation, fixed by `seed`."""
    n_part, n_val, n_test = split_sizes(arrays, val_fraction, n_train, n_test)
    x_train, y_train, x_test, y_test = arrays
    n_train = n_part + n_val
    order = torch.as_tensor(np.random.default_rng(seed).permutation(n_train), device=device)
    full = Split.from_numpy(x_train[:n_train], y_train[:n_train], device)
    test = Split.from_numpy(x_test[:n_test], y_test[:n_test], device)
    return full.subset(order[n_val:]), full.subset(order[:n_val]), test


@dataclass
class Splits:
    """The data of one seed: the training part, the validation split and the test set, and the data set's
    arrays as read. `key` holds make_splits' arguments after the arrays: a worker process that has the
    arrays rebuilds the same Splits from it."""

    train: Split
    val: Split
    test: Split
    arrays: tuple  # load_dataset's uint8 arrays, in file order
    key: tuple  # (val_fraction, n_train, n_test, seed)

    @classmethod
    def make(cls, arrays, device, *key):
        return cls(*make_splits(arrays, device, *key), arrays, key)

    @property
    def seed(self):
        return self.key[-1]

    @cached_property
    def train_and_val(self):
        """Every training image: what a model is retrained on once validation has made its choices."""
        return Split.concat(self.train, self.val)

    def svm_images(self):
        """The SVMs' training images, X (N, 784) in [0, 1] and Y (N,) as NumPy arrays: every training image
        of the profile, in file order (no hyper-parameter is tuned, so none is held out, and the seed plays
        no part)."""
        every = Split.from_numpy(*(a[:len(self.train) + len(self.val)] for a in self.arrays[:2]))
        return every.X.numpy(), every.Y.numpy()


def config_name(config):
    return "[" + ",".join(map(str, config)) + "]"


def check_mnist_config(config):
    """A PTDeep config for MNIST: [784, ..., 10]."""
    config = check_config(config)
    if config[0] != 784 or config[-1] != 10:
        raise ValueError(f"config: MNIST models need 784 inputs and 10 classes, [784, ..., 10]; got {config}")
    return config


# ---------------------------------------------------------------------------------------------------
# Runs: what an experiment asks to be trained
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Run(Settings):
    """One training run: a fresh PTDeep(config, batchnorm) trained by train_mb with these Settings, on the
    training part while watching the validation split, or with refit=True on every training image with
    nothing left to watch. Runs that are equal but for their name are one run: it is trained once, and
    both experiments that ask for it read its result."""

    config: tuple
    batchnorm: bool = False
    refit: bool = False
    name: str = field(default="", compare=False)  # what the progress lines call it

    def __post_init__(self):
        super().__post_init__()
        object.__setattr__(self, "config", tuple(check_mnist_config(self.config)))

    def fit(self, splits):
        """Train the run on `splits`: (model, history)."""
        model = PTDeep(self.config, batchnorm=self.batchnorm, seed=self.seed).to(splits.test.X.device)
        train, val = (splits.train_and_val, None) if self.refit else (splits.train, splits.val)
        desc = self.name + (" refit" if self.refit else "")
        history = train_mb(model, train, self, val=val, test=splits.test, desc=desc, progress=not WORKER)
        print(f"  trained {desc}: {history.seconds:.1f} s", flush=True)
        return model, history


@dataclass(frozen=True)
class SVMRun:
    """One SVC (ksvm_wrap.fit_and_score) on the first `images` of the SVMs' training images."""

    kernel: str
    gamma: str
    images: int

    @property
    def name(self):
        return f"SVC {self.kernel} gamma={self.gamma!r} on {self.images}"

    def fit(self, splits):
        """Fit and score the SVC: its result row."""
        X, Y = (a[:self.images] for a in splits.svm_images())
        return fit_and_score(self.kernel, self.gamma, X, Y, splits.test.X.cpu().numpy(), splits.test.Y.cpu().numpy())


@dataclass
class Context:
    """What the experiments of one seed share: settings, data, where results go, and the Trainer that
    holds every run they asked for."""

    dataset: str
    profile: Profile
    splits: Splits
    out: Path
    names: tuple = ()  # the experiments this run makes, in the lab's order
    by_hand: bool = True  # Settings.by_hand of every run: SGD steps by PTDeep.sgd_step
    trainer: "Trainer" = None
    results: dict = field(default_factory=dict)


def profile_run(ctx, config, name, **settings):
    """A Run of `config` with the profile's defaults: SGD, its epochs, batch size and step; `settings`
    replace any of them."""
    p = ctx.profile
    return Run(**{"epochs": p.epochs, "batch_size": p.batch_size, "lr": p.sgd_lr, **settings}, config=config,
               name=name, by_hand=ctx.by_hand, seed=ctx.splits.seed)


def model_row(name, model, ctx, history=None, train=None, **extra):
    """One result row: train (the training part unless given) and test metrics of `model`, the run's
    settings, epochs and wall time."""
    row = {"model": name}
    for split_name, split in (("train", train or ctx.splits.train), ("test", ctx.splits.test)):
        for key, value in metrics(model, split).items():
            row[f"{split_name}_{key}"] = value
    if history is not None:
        training = {k: v for k, v in asdict(history.settings).items() if k != "name"}
        row.update(epochs=len(history.train_loss), final_train_loss=history.train_loss[-1],
                   best_epoch=history.best_epoch, seconds=history.seconds,
                   training=training | {"steps_by_hand": history.steps_by_hand, "last_lr": history.lr[-1]})
    row.update(extra)
    return row


# ---------------------------------------------------------------------------------------------------
# The depth recipe, shared by `depth` and `batchnorm`
# ---------------------------------------------------------------------------------------------------


@dataclass
class Recipe:
    """The depth recipe for one model, as far as its finished runs tell: the grid (one run per λ on the
    training part), and once the grid has finished, the choice of λ and epoch and the refit."""

    name: str
    grid: list
    chosen: Run | None = None  # the grid's run with the highest validation accuracy
    history: object = None  # the chosen run's History (pt_logreg)
    refit: Run | None = None  # the chosen run again, on every training image, for its best epoch

    @property
    def runs(self):
        return self.grid + ([self.refit] if self.refit else [])


def recipe(ctx, config, batchnorm=False):
    """The depth recipe for one config: train with each λ of depth_lambdas on the training part, let
    validation accuracy pick λ and the epoch, retrain on train + validation for that many epochs. A run
    that diverges (FloatingPointError) starts the recipe again with half the step, at most twice."""
    p, name = ctx.profile, config_name(config) + (" + BN" if batchnorm else "")
    lr = p.depth_lr[ctx.dataset]
    while True:
        grid = [profile_run(ctx, config, f"{name} λ={lam:g}", batchnorm=batchnorm, lr=lr, lr_gamma=p.depth_lr_gamma,
                        batch_size=p.depth_batch_size, param_lambda=lam) for lam in p.depth_lambdas]
        found = Recipe(name, grid)
        histories = [ctx.trainer.history(run) for run in grid]
        if None not in histories:
            found.history, found.chosen = max(zip(histories, grid, strict=True), key=lambda hr: max(hr[0].val_accuracy))
            epochs = int(np.argmax(found.history.val_accuracy)) + 1
            found.refit = replace(found.chosen, name=name, epochs=epochs, refit=True)
        if lr < p.depth_lr[ctx.dataset] / 3 or not any(map(ctx.trainer.diverged, found.runs)):
            return found
        lr /= 2


def recipe_row(ctx, found):
    """A finished recipe's model (the refit) and its result row; raises what a run of it raised."""
    for run in found.runs:
        ctx.trainer.result(run)  # a divergence the recipe could not recover from
    model, final = ctx.trainer.result(found.refit)
    row = model_row(found.name, model, ctx, final, train=ctx.splits.train_and_val,
                    param_lambda=found.chosen.param_lambda, val_accuracy=max(found.history.val_accuracy),
                    val_accuracy_per_epoch=found.history.val_accuracy)
    row["seconds"] = sum(ctx.trainer.history(run).seconds for run in found.grid) + final.seconds
    return model, row


def recipe_note(ctx):
    p = ctx.profile
    return (f"SGD, lr {p.depth_lr[ctx.dataset]:g} decayed by {p.depth_lr_gamma:g} per epoch, batch "
            f"{p.depth_batch_size}. Each model trains on the training part with λ in {p.depth_lambdas}; "
            "validation accuracy picks λ and the epoch (marked in the figure); the reported model is then "
            "retrained on all training images (train + validation) for that many epochs. A run that diverges "
            "starts the recipe again with half the step (the row's training.lr says which step it took).")


def best_config(ctx):
    """The config that early_stop, minibatch, adam and adam_decay train: depth's best on validation (the
    config whose recipe reached the highest validation accuracy), or [784,100,10] when depth is not run.
    None while depth's grids train."""
    if "depth" not in ctx.names:
        return (784, 100, 10)
    recipes = [recipe(ctx, config) for config in ctx.profile.depth_configs]
    if any(found.chosen is None for found in recipes):
        return None
    return max(recipes, key=lambda found: max(found.history.val_accuracy)).chosen.config


def on_best_config(ctx, make_runs):
    """The runs make_runs(config) on best_config; while it is not known yet, the runs that decide it."""
    config = best_config(ctx)
    return depth_runs(ctx) if config is None else make_runs(config)


def chosen_lambda(rows):
    return max(rows, key=lambda r: r["val_accuracy"])["param_lambda"]


# ---------------------------------------------------------------------------------------------------
# The ten experiments, in the lab's order: the runs each needs, and its report once they have finished
# ---------------------------------------------------------------------------------------------------


def weights_runs(ctx):
    p = ctx.profile
    return [profile_run(ctx, (784, 10), f"[784,10] λ={lam:g}", epochs=p.weights_epochs, param_lambda=lam)
            for lam in p.lambdas]


def lambda_rows(ctx, runs):
    """The rows of runs that differ in λ, each with its validation accuracy after the last epoch (which
    chooses λ), and their (model, history) pairs."""
    trained = [ctx.trainer.result(run) for run in runs]
    rows = [model_row(run.name, model, ctx, history, param_lambda=run.param_lambda,
                      val_accuracy=history.val_accuracy[-1])
            for run, (model, history) in zip(runs, trained, strict=True)]
    return rows, trained


def weights_report(ctx):
    """1. [784,10]: the weight image of each digit, for several param_lambda."""
    p, runs = ctx.profile, weights_runs(ctx)
    rows, trained = lambda_rows(ctx, runs)
    models = {run.param_lambda: model for run, (model, _) in zip(runs, trained, strict=True)}
    return {"rows": rows, "figures": [plot_weights(ctx, models, "weights.png")],
            "note": f"SGD lr {p.sgd_lr:g}, batch {p.batch_size}, {p.weights_epochs} epochs. λ chosen on validation: "
                    f"{chosen_lambda(rows):g}. Larger λ gives smoother, digit-like templates; with λ=0 the weights "
                    "of pixels that are almost always 0 hardly move."}


def depth_runs(ctx):
    return [run for config in ctx.profile.depth_configs for run in recipe(ctx, config).runs]


def depth_report(ctx):
    """2. Four depths with SGD: loss per epoch, train/test metrics, the best model's hardest images."""
    rows, histories, models = [], {}, {}
    for config in ctx.profile.depth_configs:
        found = recipe(ctx, config)
        models[found.chosen.config], row = recipe_row(ctx, found)
        histories[f"{found.name} λ={found.chosen.param_lambda:g}"] = found.history, found.refit.epochs
        rows.append(row)
    model = models[best_config(ctx)]
    _, _, Y, per_sample = evaluate(model, ctx.splits.test)
    save_model(model, claimed(ctx.out / "best_depth.pt"))
    figures = [history_figure(ctx, histories, "depth_losses.png", "the depth recipe (train on 4/5, validate on 1/5)"),
               plot_worst(ctx, Y, per_sample, "depth_worst.png"), confusion_figure(ctx, Y)]
    return {"rows": rows, "figures": figures, "saved_model": "best_depth.pt",
            "note": f"{recipe_note(ctx)} Best on validation: {config_name(model.config)} (saved as best_depth.pt)."}


def regularization_runs(ctx):
    config = ctx.profile.deep_config
    return [profile_run(ctx, config, f"{config_name(config)} λ={lam:g}", param_lambda=lam)
            for lam in ctx.profile.deep_lambdas]


def regularization_report(ctx):
    """3. param_lambda's effect on train and test performance of a deep model."""
    p, runs = ctx.profile, regularization_runs(ctx)
    rows, trained = lambda_rows(ctx, runs)
    histories = {run.name: history for run, (_, history) in zip(runs, trained, strict=True)}
    title = f"{config_name(p.deep_config)}, SGD lr {p.sgd_lr:g}, batch {p.batch_size}"
    return {"rows": rows, "figures": [history_figure(ctx, histories, "regularization_losses.png", title)],
            "note": f"λ chosen on validation: {chosen_lambda(rows):g}. A large λ closes the gap between train "
                    "and test accuracy by lowering both."}


def early_stop_runs(ctx):  # minibatch's batch-100 run: its best epoch is restored here
    p = ctx.profile
    return on_best_config(ctx, lambda config: [profile_run(ctx, config, "early stop", param_lambda=p.param_lambda)])


def early_stop_report(ctx):
    """4. Early stopping on the validation split: the best epoch's parameters, restored."""
    run, = early_stop_runs(ctx)
    _, history = ctx.trainer.result(run)
    model = PTDeep(run.config, seed=run.seed).to(ctx.splits.test.X.device)
    model.load_state_dict(history.best_state)
    name = config_name(run.config)
    return {"rows": [model_row(f"{name} best epoch", model, ctx, history, restored_epoch=history.best_epoch)],
            "figures": [history_figure(ctx, {f"{name} (best epoch {history.best_epoch})": history},
                                       "early_stop_losses.png", "early stopping on validation loss")],
            "note": f"Lowest validation loss after epoch {history.best_epoch} of {len(history.train_loss)}; "
                    "that epoch's parameters (a deep copy) were restored."}


def minibatch_runs(ctx):
    p = ctx.profile
    sizes = sorted({min(b, len(ctx.splits.train)) for b in p.batch_sizes}, reverse=True)
    return on_best_config(ctx, lambda config: [profile_run(ctx, config, f"batch {b}", batch_size=b,
                                                           param_lambda=p.param_lambda) for b in sizes])


def minibatch_report(ctx):
    """5. train_mb with several batch sizes (N = full batch gradient descent) for the same epochs."""
    p, runs, rows, histories = ctx.profile, minibatch_runs(ctx), [], {}
    for run in runs:
        model, history = ctx.trainer.result(run)
        histories[run.name] = history
        steps = len(history.train_loss) * math.ceil(len(ctx.splits.train) / run.batch_size)
        rows.append(model_row(f"{config_name(run.config)} {run.name}", model, ctx, history, steps=steps))
    title = f"{config_name(runs[0].config)}, SGD lr {p.sgd_lr:g}, {p.epochs} epochs each"
    return {"rows": rows, "figures": [history_figure(ctx, histories, "minibatch_losses.png", title)],
            "note": "Same epochs, so the same number of gradient evaluations per sample: smaller batches take "
                    "many more (noisier) steps and get much further; full-batch descent barely starts."}


def adam_runs(ctx, lr_gamma=None):
    p, name = ctx.profile, "adam" if lr_gamma is None else "adam+decay"
    return on_best_config(ctx, lambda config: [profile_run(ctx, config, name, optimizer="adam", lr=p.adam_lr,
                                                           lr_gamma=lr_gamma, param_lambda=p.param_lambda)])


def adam_report(ctx):
    """6. Adam with the lab's fixed learning rate."""
    p, (run,) = ctx.profile, adam_runs(ctx)
    model, history = ctx.trainer.result(run)
    return {"rows": [model_row(f"{config_name(run.config)} Adam {p.adam_lr:g}", model, ctx, history)],
            "figures": [history_figure(ctx, {f"Adam lr {p.adam_lr:g}": history}, "adam_losses.png", "Adam")]}


def adam_decay_runs(ctx):
    return adam_runs(ctx, ctx.profile.adam_lr_gamma)


def adam_decay_report(ctx):
    """7. Adam with ExponentialLR, stepped once per epoch."""
    p, (run,) = ctx.profile, adam_decay_runs(ctx)
    model, history = ctx.trainer.result(run)
    label = f"Adam {p.adam_lr:g} + ExponentialLR(gamma={p.adam_lr_gamma:g})"
    return {"rows": [model_row(f"{config_name(run.config)} {label}", model, ctx, history)],
            "figures": [history_figure(ctx, {label: history}, "adam_decay_losses.png",
                                       f"Adam, lr {p.adam_lr:g} · {p.adam_lr_gamma:g}^epoch")],
            "note": f"After {p.epochs} epochs the rate is still {p.adam_lr_gamma ** p.epochs:.4f} of its start: "
                    f"with gamma = {p.adam_lr_gamma:g} stepped per epoch the schedule changes almost nothing."}


def untrained_report(ctx):
    """8. The loss of randomly initialized models on the test set, against ln 10."""
    rows = [model_row(config_name(c), PTDeep(c, seed=ctx.splits.seed).to(ctx.splits.test.X.device), ctx,
                      ln_C=math.log(10)) for c in ctx.profile.depth_configs]
    return {"rows": rows,
            "note": "About ln 10 = 2.303: PTDeep starts as nn.Linear does, weights and biases drawn from "
                    "U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (variance 1/(3 fan_in)), so the untrained scores are small, "
                    "the softmax nearly uniform and -log(1/10) = ln 10 per sample."}


def svm_runs(ctx):
    """Linear and RBF 'scale' on svm_train images, RBF 'auto' on svm_subset."""
    p, n = ctx.profile, len(ctx.splits.train) + len(ctx.splits.val)
    n = n if p.svm_train is None else min(p.svm_train, n)
    return [SVMRun("linear", "scale", n), SVMRun("rbf", "scale", n), SVMRun("rbf", "auto", min(p.svm_subset, n))]


def svm_report(ctx):
    """9. Linear and RBF SVC (one-vs-one, gamma='scale') on the training set; gamma='auto' on a subset."""
    rows = [ctx.trainer.result(run) for run in svm_runs(ctx)]
    X, _ = ctx.splits.svm_images()
    return {"rows": rows,
            "note": f"Fitted with {rows[0]['training']['engine']}, on the training images in file order. Train "
                    "accuracy of the SVMs is measured on (at most) their first 2000 training images. gamma='auto' "
                    f"is 1/784, ten times smaller than 'scale' = 1/(784 Var(X)) ≈ 1/(784 · "
                    f"{X[:rows[0]['training']['images']].var():.3f}): too wide a kernel for digits."}


def batchnorm_runs(ctx):
    return [run for batchnorm in (False, True) for run in recipe(ctx, ctx.profile.deep_config, batchnorm).runs]


def batchnorm_report(ctx):
    """10. Our batch normalization against the plain model, same config and training."""
    rows, histories = [], {}
    for batchnorm in (False, True):
        found = recipe(ctx, ctx.profile.deep_config, batchnorm)
        model, row = recipe_row(ctx, found)
        histories[f"{found.name} λ={found.chosen.param_lambda:g}"] = found.history, found.refit.epochs
        rows.append(row)
    save_model(model, claimed(ctx.out / "best_batchnorm.pt"))
    title = "plain vs batch norm, the depth recipe"
    return {"rows": rows, "saved_model": "best_batchnorm.pt",
            "figures": [history_figure(ctx, histories, "batchnorm_losses.png", title)],
            "note": f"{recipe_note(ctx)} Batch norm keeps every hidden layer's scores at zero mean and unit variance "
                    "over the batch, so the same step makes steadier progress; in eval mode it uses running "
                    "averages, so a test image's prediction does not depend on its batch."}


@dataclass(frozen=True)
class Experiment:
    """One of the lab's experiments: the runs it needs, and the report it builds from their results. Its
    title is the first line of the report's docstring."""

    runs: Callable  # ctx -> the runs it needs, as far as finished runs tell (asked again as runs finish)
    report: Callable  # ctx -> {"rows", "figures", "note", ...}, once every run it needs has finished

    @property
    def title(self):
        return self.report.__doc__.splitlines()[0]


EXPERIMENTS = {
    "weights": Experiment(weights_runs, weights_report),
    "depth": Experiment(depth_runs, depth_report),
    "regularization": Experiment(regularization_runs, regularization_report),
    "early_stop": Experiment(early_stop_runs, early_stop_report),
    "minibatch": Experiment(minibatch_runs, minibatch_report),
    "adam": Experiment(adam_runs, adam_report),
    "adam_decay": Experiment(adam_decay_runs, adam_decay_report),
    "untrained": Experiment(lambda ctx: [], untrained_report),
    "svm": Experiment(svm_runs, svm_report),
    "batchnorm": Experiment(batchnorm_runs, batchnorm_report),
}
SEED_INDEPENDENT = {"svm"}  # run once in a repeat over seeds: nothing in them depends on the seed


def declared_runs(ctx):
    """Every run that the experiments of ctx can name now, in the lab's order."""
    return [run for name in ctx.names for run in EXPERIMENTS[name].runs(ctx)]


# ---------------------------------------------------------------------------------------------------
# Figures and the report
# ---------------------------------------------------------------------------------------------------


def figure(ctx, name, fig):
    """Save a figure under ctx.out and return its file name (for the report)."""
    data.finish_figure(fig, claimed(ctx.out / name))
    return name


def history_figure(ctx, histories, name, title):
    return figure(ctx, name, plot_histories(histories, title))


def confusion_figure(ctx, Y):
    """The test confusion matrix of the predictions Y on the test split."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.5))
    data.graph_confusion(data.confusion_matrix(Y.cpu().numpy(), ctx.splits.test.Y.cpu().numpy(), C=10), ax)
    ax.set_title("best model: test confusion matrix")
    return figure(ctx, "depth_confusion.png", fig)


def plot_weights(ctx, models, name):
    """The 28x28 weight image of every digit, one row per [784,10] model (models: λ -> model)."""
    images = [W[:, digit].reshape(28, 28) for W in (m.weights[0].detach().cpu().numpy() for m in models.values())
              for digit in range(10)]  # W: (784, 10)
    fig = data.graph_images(images, [str(digit) for _ in models for digit in range(10)], signed=True,
                            row_labels=[f"λ={param_lambda:g}" for param_lambda in models])
    fig.suptitle("[784,10] weights per class (red positive, blue negative)")
    return figure(ctx, name, fig)


def plot_worst(ctx, Y, per_sample, name):
    """The test images that contribute most to the loss, with true and predicted labels (Y and per_sample:
    evaluate's predictions and per-sample losses on the test split)."""
    worst = torch.argsort(per_sample, descending=True)[:20].cpu().numpy()
    fig = data.graph_images(ctx.splits.test.X[worst].cpu().numpy().reshape(-1, 28, 28),
                            [f"true {ctx.splits.test.Y[i].item()} pred {Y[i].item()}\nloss {per_sample[i].item():.1f}"
                             for i in worst])
    fig.suptitle("test images with the highest loss")
    return figure(ctx, name, fig)


COLUMNS = [("param_lambda", "λ"), ("train_accuracy", "train acc"), ("test_accuracy", "test acc"),
           ("test_precision", "test P (macro)"), ("test_recall", "test R (macro)"), ("test_loss", "test loss"),
           ("final_train_loss", "final train loss"), ("epochs", "epochs"), ("best_epoch", "best epoch"),
           ("support_vectors", "support vectors"), ("fit_seconds", "fit s"), ("predict_seconds", "predict s"),
           ("seconds", "wall s")]


def results_table(rows, columns, cell):
    """A Markdown table of result rows: the model, then each column (key, label) that some row has, its
    cells written by cell(key, value) (empty where a row lacks the key)."""
    columns = [(key, label) for key, label in columns if any(key in r for r in rows)]
    return data.markdown_table(["model"] + [label for _, label in columns],
                               [[r["model"]] + [cell(key, r[key]) if key in r else "" for key, _ in columns]
                                for r in rows])


def render(title, description, sections):
    """A Markdown report: a title, a description, then per section (heading, table, lines after it)."""
    lines = [f"# MNIST shootout: {title}", "", description, ""]
    for heading, table, after in sections:
        lines += [f"## {heading}", "", table, "", *after]
    return "\n".join(lines)


def render_report(results):
    """Markdown: a section per experiment, a table of its rows and its figures."""
    meta = results["meta"]
    description = (f"Profile {meta['profile']}, seed {meta['seed']}, device {meta['device']}, {meta.get('workers', 1)} "
                   f"worker(s) of {meta['threads']} CPU thread(s); train/validation/test = {meta['sizes']}; SGD steps "
                   f"{'by hand (PTDeep.sgd_step)' if meta['sgd_steps_by_hand'] else 'through autograd'}.")
    sections = []
    for name, result in results["experiments"].items():
        after = [result["note"], ""] if result.get("note") else []
        after += [f"![{figure}]({figure})" for figure in result.get("figures", [])]
        table = results_table(result.get("rows", []), COLUMNS, lambda key, value: data.format_cell(value))
        sections.append((result["title"], table, after + [f"({name}: {result['seconds']:.1f} s)", ""]))
    return render(meta["dataset"], description, sections)


# ---------------------------------------------------------------------------------------------------
# Results in --out: what makes two runs' results the same, and which files there are ours
# ---------------------------------------------------------------------------------------------------


def run_meta(args, profile, device, seed):
    """What identifies a run's results (same_run compares it), and how it ran."""
    return {"dataset": args.dataset, "data_sha256": args.data_sha256, "profile": "quick" if args.quick else "full",
            "seed": seed, "val_fraction": args.val_fraction, "sizes": args.sizes, "device": str(device),
            "workers": args.workers, "threads": torch.get_num_threads(), "sgd_steps_by_hand": not args.autograd,
            "settings": asdict(profile), "versions": library_versions()}


def library_versions():
    """The versions of the libraries that compute the numbers (scikit-learn-intelex: None when absent),
    read without importing them."""
    versions = {}
    for name in ("torch", "numpy", "scikit-learn", "scikit-learn-intelex"):
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


# What run_meta records that changes no number: the worker count (1 and 2 workers give the same rows,
# tested). Everything else it records is the identity of results: the threads too (a torch thread count
# changes the order of float sums, README) and the libraries' versions.
NOT_IDENTITY = ("workers",)


def same_run(results, meta):
    """Whether `results` (a parsed results.json, or anything) came from a run with these settings, every
    field of `meta` (run_meta) but NOT_IDENTITY equal, and are as the shootout wrote them (their digest
    matches, their figures in range): only then are they resumed. Others are replaced (--replace) or
    refused before any work (check_earlier_results, check_same_run)."""
    found = results.get("meta") if isinstance(results, dict) else None
    return isinstance(found, dict) and not differences(found, meta) and as_written(results)


def as_written(results):
    """Whether a whole results object (check_earlier_results) is as the shootout wrote it: its digest
    matches its content and its figures are in range."""
    return results.get("sha256") == results_digest(results) and values_out_of_range(results) is None


def differences(found, meta, prefix=""):
    """[(field, its value in `found`, in `meta`)] for each field of `meta` but NOT_IDENTITY that `found`
    (a results.json's meta) holds otherwise; a field inside a field is named with a dot (settings.epochs)."""
    wanted = json.loads(json.dumps({k: v for k, v in meta.items() if k not in NOT_IDENTITY}))  # tuples as lists
    found = found if isinstance(found, dict) else {}
    different = []
    for key, value in wanted.items():
        if isinstance(value, dict) and isinstance(found.get(key), dict) and found[key] != value:
            different += differences(found[key], value, f"{prefix}{key}.")
        elif found.get(key) != value:
            different.append((prefix + key, found.get(key), value))
    return different


# The flags that set each field of run_meta, named when --out holds results of another run.
META_FLAGS = {"dataset": "--dataset", "data_sha256": "other data (--data-root)", "profile": "--quick",
              "seed": "--seed", "val_fraction": "--val-fraction", "sizes": "--quick and --val-fraction",
              "device": "--device", "threads": "--threads (its default shares the cores out among --workers)",
              "sgd_steps_by_hand": "--autograd", "settings": "--epochs, --batch-size, --configs or --quick",
              "versions": "the installed libraries", "seeds": "--seeds"}


def check_same_run(folder, meta, replace=False, may_differ=()):
    """Refuse, before any work, to replace the results of another run in `folder`: a results.json whose
    meta differs from `meta` (run_meta) in a field that is not in `may_differ`, unless `replace` (--replace).
    Raises ValueError naming the field, both values and the flag that sets it."""
    path = Path(folder) / "results.json"
    previous = read_results(path)
    if previous is None or replace:
        return
    if ("per_seed" in previous) != ("seeds" in meta):
        there, now = ("the aggregate of several seeds", "one seed's") if "per_seed" in previous else \
            ("one seed's results", "an aggregate over --seeds")
        found = f"it holds {there}; this run writes {now} there"
    else:
        different = [d for d in differences(previous["meta"], meta) if d[0].split(".")[0] not in may_differ]
        if not different:
            return
        name, there, now = different[0]
        found = (f"{name} is {json.dumps(there):.60} there and {json.dumps(now):.60} in this run (set by "
                 f"{META_FLAGS.get(name.split('.')[0], name)})")
    raise ValueError(f"--out: {path} holds the results of another run: {found}. The shootout keeps one run's "
                     "results in a folder: choose another --out, or pass --replace to replace them")


def read_results(path):
    """A parsed results.json, or None when it is missing (check_earlier_results has vouched for the rest)."""
    return json.loads(Path(path).read_text()) if Path(path).is_file() else None


def write_results_file(path, results):
    """results.json, written whole, with the digest of its content (results_digest) beside it."""
    data.write_text(claimed(path), json.dumps({**results, "sha256": results_digest(results)}, indent=1) + "\n")


def results_digest(results):
    """The SHA-256 of a results object's content, every field but "sha256": what the shootout reads back
    must be what it wrote, not numbers edited (or written by another program) since."""
    content = {key: value for key, value in results.items() if key != "sha256"}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


# The range of each figure a result row holds, by the end of its name: a value outside it is no result.
RANGES = {"accuracy": (0.0, 1.0), "precision": (0.0, 1.0), "recall": (0.0, 1.0), "loss": (0.0, math.inf),
          "seconds": (0.0, math.inf), "epochs": (0.0, math.inf), "epoch": (1.0, math.inf)}


def values_out_of_range(results):
    """'experiment / row / field = value' for the first figure of a results object outside RANGES (of an
    aggregate's spread, the mean, min and max; its std >= 0), or None."""
    for name, experiment in results["experiments"].items():
        for row in experiment["rows"]:
            for key, value in row.items() if isinstance(row, dict) else ():
                low, high = next((r for end, r in RANGES.items() if key.split("_")[-1] == end), (-math.inf, math.inf))
                spread = isinstance(value, dict) and "std" in value
                for part, v in value.items() if spread else [("", value)]:
                    bounds = (0.0, math.inf) if part == "std" else (low, high)
                    if isinstance(v, (int, float)) and not isinstance(v, bool) and not bounds[0] <= v <= bounds[1]:
                        return f"{name} / {row.get('model')} / {key}{'.' + part if part else ''} = {v}"  # NaN too
    return None


# Every file the shootout may write in --out (and in each seed-<seed>/ of a repeat): a file of these names
# that neither the results.json of this project there lists nor its MANIFEST claims is a user's, and is
# refused before any work.
MANIFEST = ".fc-lab-files"  # the names this project wrote in a folder, one a line, each before writing it
WRITES = ("results.json", "report.md", "spread.png", "best_depth.pt", "best_batchnorm.pt", "weights.png",
          "depth_losses.png", "depth_worst.png", "depth_confusion.png", "regularization_losses.png",
          "early_stop_losses.png", "minibatch_losses.png", "adam_losses.png", "adam_decay_losses.png",
          "batchnorm_losses.png")


def check_earlier_results(folder, replace=False):
    """Refuse, before any work, what in `folder` this project did not write and a run would overwrite or
    stumble on: a results.json that is not ours, whole (a JSON object with 'meta' and 'experiments', each
    experiment an object with a list of 'rows'), a file of WRITES that it does not list, a folder where
    a file goes, a file where the folder goes; and, unless `replace` (--replace: its results go), a
    results.json changed since the shootout wrote it (results_digest) or holding a figure out of its
    range (RANGES). Removes the temporaries of a killed run there (data.remove_temporaries). Raises
    ValueError naming the path."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out: {folder} is a file; the shootout writes a folder there: choose another --out, or "
                         "move it away")
    if folder.is_dir():
        data.remove_temporaries(folder)
    path = folder / "results.json"
    results = None
    if path.exists():
        try:
            results = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            pass
        whole = isinstance(results, dict) and isinstance(results.get("meta"), dict) and \
            isinstance(results.get("experiments"), dict) and \
            all(isinstance(e, dict) and isinstance(e.get("rows"), list) for e in results["experiments"].values())
        if not whole:
            raise ValueError(f"--out: {path} was not written by this shootout, or not whole (expected a JSON object "
                             "with 'meta' and 'experiments', each experiment with its 'rows'); choose another --out, "
                             "or move it away")
        if not replace and results.get("sha256") != results_digest(results):
            raise ValueError(f"--out: {path} has changed since the shootout wrote it (or an older version of it "
                             "wrote it: its digest does not match), and a run reads back only numbers it computed: "
                             "choose another --out, or pass --replace to replace its results")
        if not replace and (bad := values_out_of_range(results)):
            raise ValueError(f"--out: {path} holds a figure out of its range ({bad}): no run computed it; choose "
                             "another --out, or pass --replace to replace its results")
    ours = set() if results is None else {"results.json", "report.md", "spread.png"} | files_of(results)
    if (folder / MANIFEST).is_file():  # what a run killed before its results.json wrote, or after it went
        ours |= set((folder / MANIFEST).read_text().split())
    for name in WRITES:
        target = folder / name
        if target.is_dir() or (target.exists() and name not in ours):
            raise ValueError(f"--out: {target} " + ("is a folder" if target.is_dir() else "was not written by this "
                             "shootout (no results.json of ours there lists it)") + "; the shootout would write "
                             "that file: choose another --out, or move it away")


def claimed(path):
    """`path`, once its name is in its folder's MANIFEST: a run killed after it wrote a file and before
    its results.json listed it leaves the file ours, so the rerun may replace it."""
    manifest = Path(path).parent / MANIFEST
    names = set(manifest.read_text().split()) if manifest.is_file() else set()
    if Path(path).name not in names:
        data.write_text(manifest, "".join(f"{name}\n" for name in sorted(names | {Path(path).name})))
    return path


def files_of(results):
    """The files an earlier run's results (its parsed results.json) list: its figures and checkpoints, and
    an aggregate's spread.png."""
    names = {str(name) for result in results["experiments"].values() if isinstance(result, dict)
             for name in [*result.get("figures", []), result.get("saved_model")] if name}
    return names | ({"spread.png"} if "per_seed" in results else set())


def remove_files_of(results, folder):
    """Remove the files that an earlier run's results list in `folder` (files_of): files this project
    provably wrote, which would otherwise sit beside a report they are not part of."""
    for name in files_of(results) & set(WRITES):
        path = Path(folder) / name
        if path.is_file():
            path.unlink()


def write_results(ctx, meta):
    """results.json and report.md, each written whole; experiments already in results.json from an
    earlier run with the same meta settings (data set, profile, seed, sizes ...) are kept."""
    path, merged = ctx.out / "results.json", {}
    previous = read_results(path)
    if same_run(previous, meta):
        merged = previous["experiments"]
    merged.update(ctx.results)
    results = {"meta": meta, "experiments": {name: merged[name] for name in EXPERIMENTS if name in merged}}
    write_results_file(path, results)
    data.write_text(claimed(ctx.out / "report.md"), render_report(results))
    return results


# ---------------------------------------------------------------------------------------------------
# Repeats over seeds
# ---------------------------------------------------------------------------------------------------

SPREAD = {"test_accuracy": ("test acc", "{:.4f}"), "test_loss": ("test loss", "{:.4f}"), "epochs": ("epochs", "{:.1f}"),
          "best_epoch": ("best epoch", "{:.1f}"), "seconds": ("wall s", "{:.1f}")}  # key: (column, format)


def aggregate(per_seed, names):
    """Per experiment and row (rows match by position: the row names may follow the seed's best config),
    the spread of every SPREAD figure over the seeds that ran it."""
    experiments = {}
    for name in names:
        runs = {seed: r["experiments"][name] for seed, r in per_seed.items() if name in r["experiments"]}
        rows = []
        for i in range(len(next(iter(runs.values()))["rows"])):
            row_runs = [run["rows"][i] for run in runs.values()]
            row = {"model": " / ".join(dict.fromkeys(r["model"] for r in row_runs)), "seeds": len(row_runs)}
            for key in SPREAD:
                values = [r[key] for r in row_runs if r.get(key) is not None]
                if values:
                    row[key] = data.spread(values)
            rows.append(row)
        experiments[name] = {"title": next(iter(runs.values()))["title"], "seeds": list(runs), "rows": rows,
                             "seed_independent": name in SEED_INDEPENDENT}
    return experiments


def format_spread(key, s):
    mean, std, low, high = (SPREAD[key][1].format(s[k]) for k in ("mean", "std", "min", "max"))
    return f"{mean} ± {std} ({low}–{high})"


def render_aggregate(results):
    """Markdown: per experiment, mean ± std (min–max) over the seeds of every SPREAD figure."""
    meta = results["meta"]
    columns = [("seeds", "seeds")] + [(key, label) for key, (label, _) in SPREAD.items()]
    description = (f"Profile {meta['profile']}, seeds {meta['seeds']}, device {meta['device']}; mean ± sample std "
                   "(min–max) over the seeds. Each seed's own report is in seed-<seed>/.\n\n![spread](spread.png)")
    sections = [(result["title"] + (" (does not depend on the seed: run once)" if result["seed_independent"] else ""),
                 results_table(result["rows"], columns, lambda key, s: s if key == "seeds" else format_spread(key, s)),
                 []) for result in results["experiments"].values()]
    return render(f"{meta['dataset']}, {len(meta['seeds'])} seeds", description, sections)


def run_repeats(args, profile, device, arrays, out, pool):
    """The experiments once per seed of args.seeds, each in out/seed-<seed>/ (a seed whose results there
    are complete is not run again; SEED_INDEPENDENT ones run with the first seed only), then their
    aggregate in out/results.json, report.md and spread.png. Returns the aggregate results."""
    meta = run_meta(args, profile, device, None) | {"seeds": args.seeds}
    previous = read_results(out / "results.json")
    if previous is not None and not same_run(previous, meta):  # a single seed's, or other seeds': its files go
        remove_files_of(previous, out)
    per_seed = {}
    for i, seed in enumerate(args.seeds):
        folder = out / f"seed-{seed}"
        names = [n for n in args.experiments if i == 0 or n not in SEED_INDEPENDENT]
        previous = read_results(folder / "results.json")
        if same_run(previous, run_meta(args, profile, device, seed)) and set(names) <= set(previous["experiments"]):
            print(f"== seed {seed}: complete in {folder}, not run again")
        else:
            data.check_writable_folder(folder, "--out")
            previous = run_seed(args, profile, device, arrays, seed, folder, names, pool)
        per_seed[seed] = previous
    results = {"meta": meta, "per_seed": {seed: f"seed-{seed}/results.json" for seed in args.seeds},
               "experiments": aggregate(per_seed, args.experiments)}
    rows = [(f"{name}: {r['model']}", r["test_accuracy"]) for name, e in results["experiments"].items()
            if name != "untrained" for r in e["rows"]]  # untrained: chance level, off the scale
    data.finish_figure(data.graph_spread(rows, "test accuracy (mean ± std over seeds)"), claimed(out / "spread.png"))
    write_results_file(out / "results.json", results)
    data.write_text(claimed(out / "report.md"), render_aggregate(results))
    return results


# ---------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------

# A flag's experiments: it changes each of them, and is refused where it would be ignored.
FLAG_REACH = {"epochs": set(EXPERIMENTS) - {"untrained", "svm"}, "configs": {"depth", "untrained"},
              "batch_size": set(EXPERIMENTS) - {"untrained", "svm", "minibatch"}}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="experiments: " + ", ".join(EXPERIMENTS))
    parser.add_argument("experiments", nargs="*", metavar="EXPERIMENT",
                        help="experiments to run, named in any order, run in the lab's (default: all ten)")
    parser.add_argument("--dataset", default="mnist", help="mnist or fashion (default: mnist)")
    parser.add_argument("--data-root", type=data.folder_argument, default=None,
                        help="folder holding MNIST/raw/ or FashionMNIST/raw/ (default: $MNIST_ROOT, else a "
                             "user cache folder; downloaded there when missing)")
    parser.add_argument("--out", type=data.folder_argument, default=None,
                        help="output folder (default: results/<dataset>/)")
    parser.add_argument("--replace", action="store_true",
                        help="replace the results of another run (other settings, data or libraries) found in "
                             "--out; without it such results are refused before any work")
    parser.add_argument("--quick", action="store_true", help="a subset and few epochs: seconds on a CPU")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the split, shuffling and init (default: 0)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, metavar="SEED",
                        help="run the experiments once per seed (in <out>/seed-<SEED>/, resumable) and write "
                             "their mean, std and range to <out>")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes that train the models and fit the SVMs side by side, at most one per CPU "
                             "core (default: one per core, at most 4; 1 = all in this process)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads of each process (default: the cores shared out among the workers)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="epochs of every training run (default: 30 and 10 for `weights`; quick 3)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="mini-batch size of every training run (default: 100, the depth recipe 50); "
                             "refused with `minibatch`, which compares batch sizes")
    parser.add_argument("--autograd", action="store_true",
                        help="train every model with loss.backward() and torch.optim (by default SGD steps "
                             "use PTDeep.sgd_step, the same steps with the backward pass written out by hand)")
    parser.add_argument("--val-fraction", type=float, default=0.2,
                        help="share of the training set held out for validation (default: 0.2)")
    parser.add_argument("--configs", nargs="+", default=None, metavar="SIZES",
                        help="configs for `depth` and `untrained`, e.g. 784,100,10 784,300,100,10 "
                             "(default: the four of the lab)")
    args = parser.parse_args(argv)
    unknown = [e for e in args.experiments if e not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment {', '.join(map(repr, unknown))}; choose from {', '.join(EXPERIMENTS)}")
    args.experiments = [name for name in EXPERIMENTS if name in args.experiments or not args.experiments]  # lab's order
    args.data_sha256 = args.sizes = None  # main sets them once the data are read
    if args.dataset not in data.DATASETS:
        parser.error(f"--dataset: expected one of {', '.join(data.DATASETS)}, got {args.dataset!r}")
    for flag in ("epochs", "batch_size", "workers", "threads"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')}: expected a whole number >= 1, got {value}")
    if args.workers is not None and args.workers > (cores := usable_cores()):
        parser.error(f"--workers: {args.workers} is more than the {cores} cores this process may use: more processes "
                     "than cores only share them, and each holds a copy of the training set")
    if args.seed is not None and args.seeds is not None:
        parser.error("--seed: not with --seeds, which names every seed to run")
    args.seed = 0 if args.seed is None else args.seed
    for seed in [args.seed] + (args.seeds or []):
        if not 0 <= seed < 2**63:  # what numpy's and torch's generators take
            parser.error(f"--seed/--seeds: expected whole numbers in 0..2**63-1, got {seed}")
    if args.seeds is not None and len(set(args.seeds)) < len(args.seeds):
        parser.error(f"--seeds: expected different seeds (a spread over a repeated seed is no spread), got "
                     f"{' '.join(map(str, args.seeds))}")
    if args.batch_size is not None and "minibatch" in args.experiments:
        parser.error("--batch-size: `minibatch` compares its own batch sizes; run the other experiments by name")
    for flag, reach in FLAG_REACH.items():
        if getattr(args, flag) is not None and not reach & set(args.experiments):
            parser.error(f"--{flag.replace('_', '-')}: changes only {', '.join(sorted(reach))}; none of them is run")
    if not 0 < args.val_fraction < 1:
        parser.error(f"--val-fraction: expected a number in (0, 1), got {args.val_fraction}")
    if args.configs:
        try:
            args.configs = tuple(check_mnist_config(parse_sizes(c)) for c in args.configs)
            if len({tuple(c) for c in args.configs}) < len(args.configs):
                raise ValueError(f"the same config twice ({' '.join(config_name(c) for c in args.configs)}): each "
                                 "trains once")
        except ValueError as error:
            parser.error(f"--configs: {error}")
    return args


def parse_sizes(text):
    """'784,100,10' as [784, 100, 10]; ValueError saying what was expected otherwise."""
    try:
        return [int(size) for size in text.split(",")]
    except ValueError:
        raise ValueError(f"expected layer sizes separated by commas, such as 784,100,10; got {text!r}") from None


def make_profile(args):
    """The Profile of a command line: QUICK or FULL with the flags' overrides."""
    profile = QUICK if args.quick else FULL
    overrides = {"depth_configs": args.configs}
    if args.epochs is not None:
        overrides.update(epochs=args.epochs, weights_epochs=args.epochs)
    if args.batch_size is not None:
        overrides.update(batch_size=args.batch_size, depth_batch_size=args.batch_size)
    return replace(profile, **{k: v for k, v in overrides.items() if v is not None})


def run_seed(args, profile, device, arrays, seed, out, names, pool):
    """Run the experiments `names` with one seed, their runs in `pool` (None: here); results.json and
    report.md in `out`. Returns results."""
    splits = Splits.make(arrays, device, args.val_fraction, profile.n_train, profile.n_test, seed)
    for name in ("batch_size", "depth_batch_size"):  # before any work: train_mb would refuse them later
        if getattr(profile, name) > len(splits.train):
            raise ValueError(f"--batch-size / --val-fraction: {name} {getattr(profile, name)} is more than the "
                             f"{len(splits.train)} training images the validation split leaves")
    ctx = Context(args.dataset, profile, splits, out, tuple(names), by_hand=not args.autograd)
    ctx.trainer = Trainer(splits, pool, partial(declared_runs, ctx))
    meta = run_meta(args, profile, device, seed)
    previous = read_results(out / "results.json")
    if previous is not None and not same_run(previous, meta):  # its rows go (write_results), and its files
        remove_files_of(previous, out)
    results = None
    for name in names:
        experiment = EXPERIMENTS[name]
        print(f"== {name} (seed {seed}): {experiment.title}")
        began = time.perf_counter()
        ctx.trainer.finish(partial(experiment.runs, ctx))
        result = experiment.report(ctx)
        ctx.results[name] = {"title": experiment.title, **result, "seconds": time.perf_counter() - began}
        for row in result["rows"]:
            print(f"  {row['model']:<45s} test accuracy {row['test_accuracy']:.4f}")
        results = write_results(ctx, meta)  # after every experiment: an interrupted run keeps what it finished
    return results


def main(argv=None):
    args = parse_args(argv)
    device = choose_device(args.device)
    profile = make_profile(args)
    out = args.out or Path("results") / (args.dataset + ("-quick" if args.quick else ""))
    data.check_writable_folder(out, "--out")
    folders = {seed: out / f"seed-{seed}" for seed in args.seeds} if args.seeds else {args.seed: out}
    for folder in dict.fromkeys([out, *folders.values()]):
        check_earlier_results(folder, args.replace)
    arrays = data.load_dataset(args.dataset, args.data_root)
    import matplotlib.pyplot  # noqa: F401  before any work: Ctrl-C during this import made the process abort
    args.data_sha256 = data.arrays_digest(arrays)  # earlier results count only for the same data (same_run)
    args.sizes = "/".join(map(str, split_sizes(arrays, args.val_fraction, profile.n_train, profile.n_test)))
    cores, found_threads = usable_cores(), torch.get_num_threads()
    args.workers = args.workers or min(cores, 4)
    args.threads = args.threads or max(1, cores // args.workers)
    torch.set_num_threads(args.threads)  # this process evaluates the models meanwhile
    began = time.perf_counter()
    try:
        for seed, folder in folders.items():  # before any work: results of other settings are not replaced unasked
            check_same_run(folder, run_meta(args, profile, device, seed), args.replace)
        if args.seeds:  # the aggregate of other seeds is made again from the seed folders, which are kept
            check_same_run(out, run_meta(args, profile, device, None) | {"seeds": args.seeds}, args.replace, ("seeds",))
        with worker_pool(args.workers, args.threads, arrays, device) as pool:
            if args.seeds is None:
                results = run_seed(args, profile, device, arrays, args.seed, out, args.experiments, pool)
            else:
                results = run_repeats(args, profile, device, arrays, out, pool)
    finally:
        torch.set_num_threads(found_threads)  # main() may be called from a REPL or a test: leave it as found
    print(f"total {time.perf_counter() - began:.1f} s; wrote {out / 'report.md'} and {out / 'results.json'}")
    return results


def stop_on_sigterm(signum, frame):
    """SIGTERM as an exception in the main thread: the workers end with the run (worker_pool) and a file
    being written is removed, not left half-written (data.atomic_output)."""
    raise SystemExit(128 + signum)


# ---------------------------------------------------------------------------------------------------
# Where the runs are trained: in this process, or in worker processes
# ---------------------------------------------------------------------------------------------------


class Trainer:
    """The runs of one seed's experiments (a Run or an SVMRun: run.fit(splits)), each trained once.

    Without a pool, a run is trained in this process when an experiment waits for it. With a pool of
    worker processes, every run the experiments can name is submitted as soon as it is known, in the
    order they name it, and a worker trains it whole. `declared()` returns those runs; it is asked
    again each time a run finishes, since a finished run can let an experiment name more (a grid's
    result decides its refit).
    """

    def __init__(self, splits, pool=None, declared=lambda: []):
        self.splits, self.pool, self.declared = splits, pool, declared
        self.futures = {}  # run -> the Future that holds its value, or what it raised

    def finish(self, runs):
        """Wait until every run that runs() names has finished; runs() is asked again as runs finish."""
        while pending := [run for run in runs() if not self.finished(run)]:
            if self.pool is None:
                self.train_here(pending[0])
                continue
            for run in [*pending, *self.declared()]:
                if run not in self.futures:
                    self.futures[run] = self.pool.submit(run, self.splits.key)
            run = self.pool.next_finished()
            say_if_failed(run, self.futures[run])

    def train_here(self, run):
        self.futures[run] = future = Future()
        try:
            future.set_result(run.fit(self.splits))
        except Exception as error:  # kept, as a worker's error is, for result() to raise
            future.set_exception(error)
        say_if_failed(run, future)

    def finished(self, run):
        return run in self.futures and self.futures[run].done()

    def result(self, run):
        """A finished run's value, (model, history) for a Run and a result row for an SVMRun; raises what
        the run raised."""
        return self.futures[run].result()

    def history(self, run):
        """The History of a Run that has finished without an error; None for any other."""
        return self.result(run)[1] if self.finished(run) and self.futures[run].exception() is None else None

    def diverged(self, run):
        """Whether a run has finished with a FloatingPointError: its loss ran away."""
        return self.finished(run) and isinstance(self.futures[run].exception(), FloatingPointError)


def say_if_failed(run, future):
    if future.exception() is not None:
        print(f"  {run.name} failed: {future.exception()}", flush=True)


class WorkerDied(RuntimeError):
    """A worker process ended while the pool needed it (killed, out of memory)."""


class WorkerPool:
    """Worker processes that train runs for Trainer, one run each at a time, in the order submitted.

    No thread of this process takes part: `next_finished` hands the waiting runs to idle workers and
    itself waits on the workers' pipes and process sentinels. Ctrl-C and SIGTERM raise in the main
    thread at whatever line it is on, so stopping must not wait for a lock that an interrupted line may
    hold. Python's ProcessPoolExecutor has a thread of its own that takes the locks of the futures the
    main thread waits on, and its shutdown waits for that thread: a SIGTERM once left it waiting for
    ever. A worker that ends instead of replying (killed, out of memory), even half way through
    sending a result, is seen at once (its pipe's end of file, its sentinel) and named with the run it
    held. Made and stopped by worker_pool.
    """

    def __init__(self):
        self.processes = {}  # our end of a worker's pipe -> its process
        self.waiting = deque()  # (run, key, future) that no worker holds yet
        self.holding = {}  # our end of a worker's pipe -> the (run, future) that worker trains

    def start(self, n, threads, arrays, device):
        """Start n workers; each has `threads` torch threads and the data set's arrays, sent once."""
        spawn = multiprocessing.get_context("spawn")  # no fork of a threaded process
        shared = tuple(torch.from_numpy(a) for a in arrays)  # tensors travel in shared memory, not the pipe
        for _ in range(n):
            ours, theirs = spawn.Pipe()
            process = spawn.Process(target=serve, args=(theirs, shared, str(device), threads), daemon=True)
            self.processes[ours] = process
            process.start()
            theirs.close()  # the worker's end is the worker's: once it ends, ours reads the end of file

    def submit(self, run, key):
        """Queue `run`, to be trained on the Splits of `key`; returns the Future that will hold its value."""
        future = Future()
        self.waiting.append((run, key, future))
        return future

    def next_finished(self):
        """Hand waiting runs to idle workers, wait until one of the runs held finishes, set its Future and
        return it. Raises WorkerDied when a worker ends."""
        for pipe in self.processes:
            if pipe not in self.holding and self.waiting:
                run, key, future = self.waiting.popleft()
                try:
                    pipe.send((run, key))
                except OSError:  # the worker has ended
                    raise self.died() from None
                self.holding[pipe] = (run, future)
        if not self.holding:
            raise RuntimeError("next_finished: no run was submitted")
        ready = multiprocessing.connection.wait([*self.holding, *(p.sentinel for p in self.processes.values())])
        for pipe in [pipe for pipe in self.holding if pipe in ready]:
            try:
                value, error = pickle.loads(pipe.recv_bytes())
            except (EOFError, OSError):  # the worker ended before it sent its reply, or while (OSError)
                break
            run, future = self.holding.pop(pipe)
            if error is None:
                future.set_result(value)
            else:
                future.set_exception(error)
            return run
        raise self.died()

    def died(self):
        """WorkerDied, naming the workers that ended and the runs they held. A process closes its pipe
        before it can be waited for: it is given a second."""
        deadline = time.monotonic() + 1
        while all(p.exitcode is None for p in self.processes.values()) and time.monotonic() < deadline:
            time.sleep(0.02)
        said = []
        for pipe, process in self.processes.items():
            if (code := process.exitcode) is not None:
                run = f"the worker training {self.holding[pipe][0].name!r}" if pipe in self.holding else \
                    "a worker between runs"
                how = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
                said.append(f"{run} ended, {how}" + (" (the out-of-memory killer, or kill -9)" if code == -9 else ""))
        return WorkerDied(f"a worker process died ({'; '.join(said) or 'one of the workers ended'}); the experiments "
                          "that finished were kept: run the same command again to go on from them")

    def stop(self, at_once=True):
        """End every worker and wait for it: at once (SIGTERM), or by closing its pipe, which ends it
        cleanly once its run is done. One still alive after 5 s is killed."""
        for pipe, process in self.processes.items():
            if at_once and process.pid is not None:  # None: not started
                process.terminate()
            pipe.close()
        for process in self.processes.values():
            if process.pid is not None:
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()
                    process.join()


@contextmanager
def worker_pool(n, threads, arrays, device="cpu"):
    """A WorkerPool of `n` worker processes for Trainer, or None for n = 1 (the runs are trained here).
    A run on one thread never waits for another core, so n runs at a time keep n cores busy. The workers
    are stopped when the block is left, at once if it is left by an exception (an error, Ctrl-C,
    SIGTERM); none outlives this process (start_worker)."""
    if n == 1:
        yield None
        return
    pool, at_once = WorkerPool(), True
    try:
        pool.start(n, threads, arrays, device)
        yield pool
        at_once = False
    finally:
        pool.stop(at_once)


WORKER = {}  # in a worker process: the data set's arrays and device, the Splits last made from them


def serve(pipe, arrays, device, threads):
    """A worker's life: train each (run, key) that comes through `pipe`, on the Splits of `key` (made once
    per key), and send back (value, None), or (None, the error) with its message cut to 2000 characters;
    until the pipe is closed."""
    start_worker(arrays, device, threads)
    while True:
        try:
            run, key = pipe.recv()
        except EOFError:
            return
        try:
            if WORKER.get("key") != key:
                WORKER.update(key=key, splits=Splits.make(WORKER["arrays"], WORKER["device"], *key))
            reply = (run.fit(WORKER["splits"]), None)
        except Exception as error:
            reply = (None, short_error(error))
        pipe.send_bytes(pickle.dumps(reply))  # plain pickle: the tensors' bytes, not shared memory


def start_worker(arrays, device, threads):
    """A worker's set-up: its torch threads, its data, and its end when its parent ends."""
    parent = multiprocessing.parent_process()
    if sys.platform == "linux":  # the kernel's signal, which also stops native code that holds the GIL
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent.pid:  # the parent ended before that
        os._exit(1)
    threading.Thread(target=lambda: (parent.join(), os._exit(1)), daemon=True).start()  # elsewhere: a watchdog
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: the workers end with it
    tqdm.set_lock(threading.RLock())  # a worker shows no bars: no lock between processes, none left when killed
    torch.set_num_threads(threads)
    WORKER.update(arrays=tuple(a.numpy() for a in arrays), device=torch.device(device))


def short_error(error):
    """`error` again, with its message cut to 2000 characters (RuntimeError where its type cannot be made
    from a message)."""
    message = str(error) if len(str(error)) <= 2000 else str(error)[:2000] + " ..."
    try:
        return type(error)(message)
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {message}")


def usable_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


if __name__ == "__main__":
    import matplotlib.pyplot  # noqa: F401  still under the default SIGINT: Ctrl-C during this import aborted Python
    signal.signal(signal.SIGINT, signal.default_int_handler)  # from here, Ctrl-C cleans up (worker_pool, atomic_output)
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        main()
    except (OSError, ValueError, WorkerDied) as error:  # missing data, a full disk, bad settings, a killed worker
        sys.exit(f"error: {error}")
