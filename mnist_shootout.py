"""Generalization on MNIST: fully connected PTDeep models against kernel SVMs, the lab's ten experiments.

    python mnist_shootout.py                       # all ten experiments, report in results/mnist/
    python mnist_shootout.py weights depth         # any subset, by name (see EXPERIMENTS)
    python mnist_shootout.py --quick               # everything on a subset, in seconds
    python mnist_shootout.py --seeds 0 1 2         # once per seed, then mean ± std of every row
    python mnist_shootout.py --dataset fashion     # Fashion-MNIST instead

Data: pixels scaled to [0, 1] and flattened to 784; a random 1/5 of the training set (fixed by
--seed) is held out for validation. Every hyper-parameter (lambda, epoch, configuration) is chosen on
that validation split; the test set is only ever reported. All data live on the chosen device for the
whole run: a mini-batch is an index gather there, never a host-to-device copy. Every setting of every
experiment is in Profile; figure titles and notes are built from it. The training runs and SVM fits
go to worker processes, one per core, each run whole on one thread (Workers), and start as soon as
their settings are known (prefetch): the experiments then collect them in the lab's order.
"""

import argparse
import ctypes
import io
import json
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import torch

import data
from ksvm_wrap import fit_and_score
from pt_deep import PTDeep, check_config, save_model
from pt_logreg import Split, choose_device, evaluate, metrics, plot_histories, train_mb

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
    # The starting step, chosen on each data set's validation split: on MNIST 0.5 beat 0.2 (0.9765 vs
    # 0.9741 for [784,100,10]); Fashion-MNIST's brighter images make 0.5 unstable (0.77 vs 0.86 after 3 epochs).
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


def make_splits(arrays, device, val_fraction=0.2, n_train=None, n_test=None, seed=0):
    """Train / validation / test Splits: a random val_fraction of the (first n_train) training images
    is held out for validation, fixed by `seed`."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction: expected a number in (0, 1), got {val_fraction!r}")
    x_train, y_train, x_test, y_test = arrays
    n_train = len(x_train) if n_train is None else min(n_train, len(x_train))
    n_test = len(x_test) if n_test is None else min(n_test, len(x_test))
    n_val = int(round(val_fraction * n_train))
    if not 1 <= n_val < n_train:
        raise ValueError(f"val_fraction: {val_fraction} of {n_train} training images leaves {n_val} for validation "
                         f"and {n_train - n_val} for training; both need at least one")
    order = torch.as_tensor(np.random.default_rng(seed).permutation(n_train), device=device)
    full = Split.from_numpy(x_train[:n_train], y_train[:n_train], device)
    test = Split.from_numpy(x_test[:n_test], y_test[:n_test], device)
    return full.subset(order[n_val:]), full.subset(order[:n_val]), test


# ---------------------------------------------------------------------------------------------------
# What the experiments share
# ---------------------------------------------------------------------------------------------------


@dataclass
class Context:
    """Everything the experiments share: data, settings, where results go, the workers and their runs."""

    dataset: str
    profile: Profile
    train: Split
    val: Split
    test: Split
    out: Path
    seed: int
    arrays: tuple = ()  # load_dataset's uint8 arrays, in file order (the SVMs' training images)
    by_hand: bool = True  # train_mb's by_hand: SGD steps with the backward pass written out, where it applies
    split_key: tuple | None = None  # make_splits' arguments after the arrays: how a worker rebuilds the Splits
    workers: "Workers" = field(default_factory=lambda: Workers())  # (defined below, with the worker processes)
    results: dict = field(default_factory=dict)
    best_config: list = field(default_factory=lambda: [784, 100, 10])  # set by `depth`
    recipes: dict = field(default_factory=dict)  # (config, batchnorm) -> select_and_refit's result
    runs: dict = field(default_factory=dict)  # start's settings -> its Task, for reuse

    @cached_property
    def train_and_val(self):
        """Every training image: what a model is retrained on once validation has made its choices."""
        return Split.concat(self.train, self.val)


def config_name(config):
    return "[" + ",".join(map(str, config)) + "]"


def check_mnist_config(config):
    """A PTDeep config for MNIST: [784, ..., 10]."""
    config = check_config(config)
    if config[0] != 784 or config[-1] != 10:
        raise ValueError(f"config: MNIST models need 784 inputs and 10 classes, [784, ..., 10]; got {config}")
    return config


# ---------------------------------------------------------------------------------------------------
# Training and scoring, as every experiment does it
# ---------------------------------------------------------------------------------------------------


def model_row(name, model, ctx, history=None, train=None, **extra):
    """One result row: train (ctx.train unless given) and test metrics of `model`, the training settings,
    epochs and wall time."""
    row = {"model": name}
    for split_name, split in (("train", train or ctx.train), ("test", ctx.test)):
        for key, value in metrics(model, split).items():
            row[f"{split_name}_{key}"] = value
    if history is not None:
        row.update(epochs=len(history.train_loss), final_train_loss=history.train_loss[-1],
                   best_epoch=history.best_epoch, seconds=history.seconds, training=history.settings)
    row.update(extra)
    return row


def train_run(ctx, config, batchnorm, epochs, refit, desc, train_kwargs):
    """A fresh PTDeep(config) trained by train_mb on ctx.train watching ctx.val, or with refit=True on every
    training image (ctx.train_and_val) with nothing left to watch. Returns (model, history)."""
    model = PTDeep(check_mnist_config(config), batchnorm=batchnorm, seed=ctx.seed).to(ctx.train.X.device)
    train, val = (ctx.train_and_val, None) if refit else (ctx.train, ctx.val)
    history = train_mb(model, train, epochs, val=val, test=ctx.test, seed=ctx.seed, desc=desc,
                       progress=not WORKER, **train_kwargs)
    print(f"  trained {desc}: {history.seconds:.1f} s", flush=True)
    return model, history


def start(ctx, config, name, epochs=None, refit=False, batchnorm=False, rank=2, **train_kwargs):
    """Hand train_run to ctx.workers (rank: see Workers), unless a run with the same settings was, and
    return its Task (fit waits for it). epochs: the profile's by default; train_kwargs:
    train_mb's, the profile's SGD lr and batch size by default."""
    train_kwargs = {"batch_size": ctx.profile.batch_size, "lr": ctx.profile.sgd_lr, "by_hand": ctx.by_hand,
                    **train_kwargs}
    epochs = epochs or ctx.profile.epochs
    key = (tuple(config), batchnorm, epochs, refit, tuple(sorted(train_kwargs.items())))
    return submit_once(ctx, key, train_run, list(config), batchnorm, epochs, refit, f"{name} refit" if refit else name,
                train_kwargs, rank=rank)


def submit_once(ctx, key, fn, *args, rank=2):
    """ctx.workers' Task for fn(ctx, *args), submitted once per key."""
    if key not in ctx.runs:
        ctx.runs[key] = ctx.workers.submit(fn, ctx, *args, rank=rank)
    return ctx.runs[key]


def fit(ctx, config, name, epochs=None, refit=False, **kwargs):
    """start's run, trained: (model, history). A run with the same settings as an earlier one of this
    Context returns that one's model and history (leave the model unchanged)."""
    return ctx.workers.result(start(ctx, config, name, epochs, refit, **kwargs))


def recipe_name(config, batchnorm):
    return config_name(config) + (" + BN" if batchnorm else "")


def recipe_runs(ctx, config, batchnorm=False, lr=None):
    """The depth recipe's runs on the training part, one per λ of depth_lambdas: {λ: start's arguments}
    (lr: the profile's starting step by default)."""
    p, name = ctx.profile, recipe_name(config, batchnorm)
    recipe = {"config": config, "lr": lr or p.depth_lr[ctx.dataset], "lr_gamma": p.depth_lr_gamma,
              "batch_size": p.depth_batch_size, "batchnorm": batchnorm}
    return {lam: dict(recipe, name=f"{name} λ={lam:g}", param_lambda=lam) for lam in p.depth_lambdas}


def recipe_choice(ctx, config, batchnorm, lr, tried):
    """The depth recipe's choice from the histories of its runs, tried = {λ: History}: (λ, its History,
    start's arguments for the refit on all training images for the best validation epoch)."""
    param_lambda, history = max(tried.items(), key=lambda item: max(item[1].val_accuracy))
    epochs = int(np.argmax(history.val_accuracy)) + 1
    return param_lambda, history, recipe_runs(ctx, config, batchnorm, lr)[param_lambda] | {
        "name": recipe_name(config, batchnorm), "epochs": epochs, "refit": True}


def select_and_refit(ctx, config, batchnorm=False):
    """The depth recipe for one config: train with each λ of depth_lambdas on the training part, let
    validation accuracy pick λ and the epoch, retrain on train + validation. A run that diverges starts
    the recipe again with half the step (at most twice). Returns (model, history of the chosen λ, chosen
    epoch, result row); a second call with the same arguments reuses the first's."""
    key, p, name = (tuple(config), batchnorm), ctx.profile, recipe_name(config, batchnorm)
    lr = p.depth_lr[ctx.dataset]
    while key not in ctx.recipes:
        try:
            tried = {lam: fit(ctx, **run)[1] for lam, run in recipe_runs(ctx, config, batchnorm, lr).items()}
            param_lambda, history, refit = recipe_choice(ctx, config, batchnorm, lr, tried)
            model, final = fit(ctx, **refit)
        except FloatingPointError as error:
            if lr < p.depth_lr[ctx.dataset] / 3:
                raise
            print(f"{error}\n{name}: the recipe again with half the step, {lr / 2:g}", flush=True)
            lr /= 2
            continue
        row = model_row(name, model, ctx, final, train=ctx.train_and_val, param_lambda=param_lambda,
                        val_accuracy=max(history.val_accuracy), val_accuracy_per_epoch=history.val_accuracy)
        row["seconds"] = sum(h.seconds for h in tried.values()) + final.seconds
        ctx.recipes[key] = model, history, refit["epochs"], row
    return ctx.recipes[key]


def recipe_note(ctx):
    p = ctx.profile
    return (f"SGD, lr {p.depth_lr[ctx.dataset]:g} decayed by {p.depth_lr_gamma:g} per epoch, batch "
            f"{p.depth_batch_size}. Each model trains on the training part with λ in {p.depth_lambdas}; "
            "validation accuracy picks λ and the epoch (marked in the figure); the reported model is then "
            "retrained on all training images (train + validation) for that many epochs. A run that diverges "
            "starts the recipe again with half the step (the row's training.lr says which step it took).")


def chosen_lambda(rows):
    return max(rows, key=lambda r: r["val_accuracy"])["param_lambda"]


# ---------------------------------------------------------------------------------------------------
# The ten experiments, in the lab's order
# ---------------------------------------------------------------------------------------------------


def weights_runs(ctx):
    p = ctx.profile
    return {lam: {"config": [784, 10], "name": f"[784,10] λ={lam:g}", "epochs": p.weights_epochs, "param_lambda": lam}
            for lam in p.lambdas}


def exp_weights(ctx):
    """1. [784,10]: the weight image of each digit, for several param_lambda."""
    p = ctx.profile
    rows, models = [], {}
    for param_lambda, run in weights_runs(ctx).items():
        model, history = fit(ctx, **run)
        models[param_lambda] = model
        rows.append(model_row(run["name"], model, ctx, history, param_lambda=param_lambda,
                              val_accuracy=history.val_accuracy[-1]))
    return {"rows": rows, "figures": [plot_weights(ctx, models, "weights.png")],
            "note": f"SGD lr {p.sgd_lr:g}, batch {p.batch_size}, {p.weights_epochs} epochs. λ chosen on validation: "
                    f"{chosen_lambda(rows):g}. Larger λ gives smoother, digit-like templates; with λ=0 the weights "
                    "of pixels that are almost always 0 hardly move."}


def exp_depth(ctx):
    """2. Four depths with SGD: loss per epoch, train/test metrics, the best model's hardest images."""
    rows, histories, models = [], {}, {}
    for config in ctx.profile.depth_configs:
        model, history, epoch, row = select_and_refit(ctx, config)
        histories[f"{row['model']} λ={row['param_lambda']:g}"] = history, epoch
        models[row["model"]] = model
        rows.append(row)
    best = max(rows, key=lambda r: r["val_accuracy"])
    model = models[best["model"]]
    ctx.best_config = list(model.config)
    _, _, Y, per_sample = evaluate(model, ctx.test)
    save_model(model, ctx.out / "best_depth.pt")
    figures = [history_figure(ctx, histories, "depth_losses.png", "the depth recipe (train on 4/5, validate on 1/5)"),
               plot_worst(ctx, Y, per_sample, "depth_worst.png"), confusion_figure(ctx, Y)]
    return {"rows": rows, "figures": figures, "saved_model": "best_depth.pt",
            "note": f"{recipe_note(ctx)} Best on validation: {best['model']} (saved as best_depth.pt)."}


def regularization_runs(ctx):
    p = ctx.profile
    return {lam: {"config": p.deep_config, "name": f"{config_name(p.deep_config)} λ={lam:g}", "param_lambda": lam}
            for lam in p.deep_lambdas}


def exp_regularization(ctx):
    """3. param_lambda's effect on train and test performance of a deep model."""
    p, rows, histories = ctx.profile, [], {}
    for param_lambda, run in regularization_runs(ctx).items():
        model, history = fit(ctx, **run)
        histories[run["name"]] = history
        rows.append(model_row(run["name"], model, ctx, history, param_lambda=param_lambda,
                              val_accuracy=history.val_accuracy[-1]))
    title = f"{config_name(p.deep_config)}, SGD lr {p.sgd_lr:g}, batch {p.batch_size}"
    return {"rows": rows, "figures": [history_figure(ctx, histories, "regularization_losses.png", title)],
            "note": f"λ chosen on validation: {chosen_lambda(rows):g}. A large λ closes the gap between train "
                    "and test accuracy by lowering both."}


def early_stop_run(ctx):
    return {"config": ctx.best_config, "name": "early stop", "param_lambda": ctx.profile.param_lambda}


def exp_early_stop(ctx):
    """4. Early stopping on the validation split: the best epoch's parameters, restored."""
    name = config_name(ctx.best_config)
    _, history = fit(ctx, **early_stop_run(ctx))  # minibatch's batch-100 run
    model = PTDeep(ctx.best_config, seed=ctx.seed).to(ctx.train.X.device)
    model.load_state_dict(history.best_state)
    return {"rows": [model_row(f"{name} best epoch", model, ctx, history, restored_epoch=history.best_epoch)],
            "figures": [history_figure(ctx, {f"{name} (best epoch {history.best_epoch})": history},
                                       "early_stop_losses.png", "early stopping on validation loss")],
            "note": f"Lowest validation loss after epoch {history.best_epoch} of {len(history.train_loss)}; "
                    "that epoch's parameters (a deep copy) were restored."}


def minibatch_runs(ctx):
    p = ctx.profile
    return {b: {"config": ctx.best_config, "name": f"batch {b}", "param_lambda": p.param_lambda, "batch_size": b}
            for b in sorted({min(b, len(ctx.train)) for b in p.batch_sizes}, reverse=True)}


def exp_minibatch(ctx):
    """5. train_mb with several batch sizes (N = full batch gradient descent) for the same epochs."""
    p, rows, histories = ctx.profile, [], {}
    for batch_size, run in minibatch_runs(ctx).items():
        name = run["name"]
        model, history = fit(ctx, **run)
        histories[name] = history
        steps = len(history.train_loss) * math.ceil(len(ctx.train) / batch_size)
        rows.append(model_row(f"{config_name(ctx.best_config)} {name}", model, ctx, history, steps=steps))
    title = f"{config_name(ctx.best_config)}, SGD lr {p.sgd_lr:g}, {p.epochs} epochs each"
    return {"rows": rows, "figures": [history_figure(ctx, histories, "minibatch_losses.png", title)],
            "note": "Same epochs, so the same number of gradient evaluations per sample: smaller batches take "
                    "many more (noisier) steps and get much further; full-batch descent barely starts."}


def adam_run(ctx, decay=False):
    p = ctx.profile
    return {"config": ctx.best_config, "name": "adam+decay" if decay else "adam", "optimizer": "adam", "lr": p.adam_lr,
            "param_lambda": p.param_lambda, **({"lr_gamma": p.adam_lr_gamma} if decay else {})}


def exp_adam(ctx):
    """6. Adam with the lab's fixed learning rate."""
    p = ctx.profile
    model, history = fit(ctx, **adam_run(ctx))
    return {"rows": [model_row(f"{config_name(ctx.best_config)} Adam {p.adam_lr:g}", model, ctx, history)],
            "figures": [history_figure(ctx, {f"Adam lr {p.adam_lr:g}": history}, "adam_losses.png", "Adam")]}


def exp_adam_decay(ctx):
    """7. Adam with ExponentialLR, stepped once per epoch."""
    p = ctx.profile
    model, history = fit(ctx, **adam_run(ctx, decay=True))
    label = f"Adam {p.adam_lr:g} + ExponentialLR(gamma={p.adam_lr_gamma:g})"
    return {"rows": [model_row(f"{config_name(ctx.best_config)} {label}", model, ctx, history)],
            "figures": [history_figure(ctx, {label: history}, "adam_decay_losses.png",
                                       f"Adam, lr {p.adam_lr:g} · {p.adam_lr_gamma:g}^epoch")],
            "note": f"After {p.epochs} epochs the rate is still {p.adam_lr_gamma ** p.epochs:.4f} of its start: "
                    f"with gamma = {p.adam_lr_gamma:g} stepped per epoch the schedule changes almost nothing."}


def exp_untrained(ctx):
    """8. The loss of randomly initialized models on the test set, against ln 10."""
    rows = [model_row(config_name(c), PTDeep(c, seed=ctx.seed).to(ctx.test.X.device), ctx, ln_C=math.log(10))
            for c in ctx.profile.depth_configs]
    return {"rows": rows,
            "note": "About ln 10 = 2.303: PTDeep starts as nn.Linear does, weights and biases drawn from "
                    "U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (variance 1/(3 fan_in)), so the untrained scores are small, "
                    "the softmax nearly uniform and -log(1/10) = ln 10 per sample."}


def svm_images(ctx):
    """The SVMs' training images, X (N, 784) in [0, 1] and Y (N,) as NumPy arrays: every training image
    of the profile, in file order (no hyper-parameter is tuned, so none is held out, and the seed plays
    no part)."""
    n_train = len(ctx.train) + len(ctx.val)
    every = Split.from_numpy(ctx.arrays[0][:n_train], ctx.arrays[1][:n_train])
    return every.X.numpy(), every.Y.numpy()


def svm_run(ctx, kernel, gamma, size):
    """ksvm_wrap.fit_and_score on the first `size` of svm_images, scored on ctx.test: the result row."""
    X, Y = (a[:size] for a in svm_images(ctx))
    return fit_and_score(kernel, gamma, X, Y, ctx.test.X.cpu().numpy(), ctx.test.Y.cpu().numpy())


def svm_tasks(ctx):
    """The three SVMs' Tasks: linear and RBF 'scale' on svm_train images (long: rank 1), RBF 'auto' on
    svm_subset (rank 3)."""
    p, n = ctx.profile, len(ctx.train) + len(ctx.val)
    n = n if p.svm_train is None else min(p.svm_train, n)
    ranks = {("linear", "scale", n): 1, ("rbf", "scale", n): 1, ("rbf", "auto", min(p.svm_subset, n)): 3}
    return [submit_once(ctx, ("svm", *run), svm_run, *run, rank=rank) for run, rank in ranks.items()]


def exp_svm(ctx):
    """9. Linear and RBF SVC (one-vs-one, gamma='scale') on the training set; gamma='auto' on a subset."""
    rows = [ctx.workers.result(t) for t in svm_tasks(ctx)]
    X, _ = svm_images(ctx)
    return {"rows": rows,
            "note": f"Fitted with {rows[0]['training']['engine']}, on the training images in file order. Train "
                    "accuracy of the SVMs is measured on (at most) their first 2000 training images. gamma='auto' "
                    f"is 1/784, ten times smaller than 'scale' = 1/(784 Var(X)) ≈ 1/(784 · "
                    f"{X[:rows[0]['training']['images']].var():.3f}): too wide a kernel for digits."}


def exp_batchnorm(ctx):
    """10. Our batch normalization against the plain model, same config and training."""
    rows, histories = [], {}
    for batchnorm in (False, True):
        model, history, epoch, row = select_and_refit(ctx, ctx.profile.deep_config, batchnorm)
        histories[f"{row['model']} λ={row['param_lambda']:g}"] = history, epoch
        rows.append(row)
    save_model(model, ctx.out / "best_batchnorm.pt")
    title = "plain vs batch norm, the depth recipe"
    return {"rows": rows, "saved_model": "best_batchnorm.pt",
            "figures": [history_figure(ctx, histories, "batchnorm_losses.png", title)],
            "note": f"{recipe_note(ctx)} Batch norm keeps every hidden layer's scores at zero mean and unit variance "
                    "over the batch, so the same step makes steadier progress; in eval mode it uses running "
                    "averages, so a test image's prediction does not depend on its batch."}


SEED_INDEPENDENT = {"svm"}  # run once in a repeat over seeds: nothing in them depends on the seed
EXPERIMENTS = {
    "weights": exp_weights,
    "depth": exp_depth,
    "regularization": exp_regularization,
    "early_stop": exp_early_stop,
    "minibatch": exp_minibatch,
    "adam": exp_adam,
    "adam_decay": exp_adam_decay,
    "untrained": exp_untrained,
    "svm": exp_svm,
    "batchnorm": exp_batchnorm,
}


def prefetch(ctx, names):
    """Start every run of the experiments `names` whose settings are known, so that the workers need
    not wait for the experiments, ranked (Workers) so that the work ends on both cores at once: first
    the short `weights` runs (the first experiment reports at once), then the two long SVM fits, the
    grids of the depth recipe and what their results make possible (a refit once its grid is done;
    once depth's grids are, ctx.best_config and its runs, the longest first), and last the short runs
    that need nothing, to fill the gaps at the end. run_seed calls this before every experiment and
    whenever a run finishes."""
    p = ctx.profile
    for run in weights_runs(ctx).values() if "weights" in names else ():
        start(ctx, rank=0, **run)
    if "svm" in names:
        svm_tasks(ctx)
    recipes = [(c, False) for c in reversed(p.depth_configs) if "depth" in names]
    recipes += [(p.deep_config, bn) for bn in (True, False) if "batchnorm" in names]
    grids = {recipe: {lam: start(ctx, **run) for lam, run in recipe_runs(ctx, *recipe).items()} for recipe in recipes}
    for run in regularization_runs(ctx).values() if "regularization" in names else ():
        start(ctx, rank=3, **run)
    done = {recipe: {lam: t.result()[1] for lam, t in grid.items()} for recipe, grid in grids.items()
            if all(t.done() and t.exception() is None for t in grid.values())}
    for (config, batchnorm), tried in done.items():
        start(ctx, **recipe_choice(ctx, config, batchnorm, None, tried)[2])
    if "depth" in names and "depth" not in ctx.results:
        if not all((c, False) in done for c in p.depth_configs):
            return
        chosen = {c: recipe_choice(ctx, c, False, None, done[c, False])[1] for c in p.depth_configs}
        ctx.best_config = list(max(chosen, key=lambda c: max(chosen[c].val_accuracy)))  # as exp_depth chooses
    for run in [*(run for _, run in sorted(minibatch_runs(ctx).items()) if "minibatch" in names),  # batch 10 first
                *(adam_run(ctx, decay) for decay in (False, True) if ("adam_decay" if decay else "adam") in names),
                *((early_stop_run(ctx),) if "early_stop" in names else ())]:
        start(ctx, **run)


# ---------------------------------------------------------------------------------------------------
# Figures and the report
# ---------------------------------------------------------------------------------------------------


def figure(ctx, name, fig):
    """Save a figure under ctx.out and return its file name (for the report)."""
    data.finish_figure(fig, ctx.out / name)
    return name


def history_figure(ctx, histories, name, title):
    return figure(ctx, name, plot_histories(histories, title))


def confusion_figure(ctx, Y):
    """The test confusion matrix of the predictions Y on ctx.test."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.5))
    data.graph_confusion(data.confusion_matrix(Y.cpu().numpy(), ctx.test.Y.cpu().numpy(), C=10), ax)
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
    evaluate's predictions and per-sample losses on ctx.test)."""
    worst = torch.argsort(per_sample, descending=True)[:20].cpu().numpy()
    fig = data.graph_images(ctx.test.X[worst].cpu().numpy().reshape(-1, 28, 28),
                            [f"true {ctx.test.Y[i].item()} pred {Y[i].item()}\nloss {per_sample[i].item():.1f}"
                             for i in worst])
    fig.suptitle("test images with the highest loss")
    return figure(ctx, name, fig)


COLUMNS = [("param_lambda", "λ"), ("train_accuracy", "train acc"), ("test_accuracy", "test acc"),
           ("test_precision", "test P (macro)"), ("test_recall", "test R (macro)"), ("test_loss", "test loss"),
           ("final_train_loss", "final train loss"), ("epochs", "epochs"), ("best_epoch", "best epoch"),
           ("support_vectors", "support vectors"), ("fit_seconds", "fit s"), ("predict_seconds", "predict s"),
           ("seconds", "wall s")]


def render_report(results):
    """Markdown: a section per experiment, a table of its rows and its figures."""
    meta = results["meta"]
    lines = [f"# MNIST shootout: {meta['dataset']}", "",
             f"Profile {meta['profile']}, seed {meta['seed']}, device {meta['device']}, {meta.get('workers', 1)} "
             f"worker(s) of {meta['threads']} CPU thread(s); train/validation/test = {meta['sizes']}; SGD steps "
             f"{'by hand (PTDeep.sgd_step)' if meta['sgd_steps_by_hand'] else 'through autograd'}.", ""]
    for name, result in results["experiments"].items():
        rows = result.get("rows", [])
        columns = [(key, label) for key, label in COLUMNS if any(key in r for r in rows)]
        lines += [f"## {result['title']}", "", data.markdown_table(
            ["model"] + [label for _, label in columns],
            [[r["model"]] + [data.format_cell(r.get(key)) for key, _ in columns] for r in rows]), ""]
        if result.get("note"):
            lines += [result["note"], ""]
        lines += [f"![{figure_name}]({figure_name})" for figure_name in result.get("figures", [])]
        lines += [f"({name}: {result['seconds']:.1f} s)", ""]
    return "\n".join(lines)


def same_run(results, meta):
    """Whether `results` (a parsed results.json, or anything) came from a run with these settings."""
    keys = ("dataset", "data_sha256", "profile", "seed", "val_fraction", "settings", "sgd_steps_by_hand", "device")
    wanted = json.loads(json.dumps({k: meta[k] for k in keys}))  # as JSON has it: tuples become lists
    return isinstance(results, dict) and all(results.get("meta", {}).get(k) == wanted[k] for k in keys)


def read_results(path):
    """A parsed results.json, or None when it is missing (check_earlier_results has vouched for the rest)."""
    return json.loads(Path(path).read_text()) if Path(path).is_file() else None


def check_earlier_results(folder):
    """Refuse, before any work, a results.json in `folder` that this project did not write (it would be
    overwritten): it must be a JSON object with the `meta` and `experiments` objects we write. Raises
    ValueError naming the file."""
    path = Path(folder) / "results.json"
    if not path.exists():
        return
    try:
        results = json.loads(path.read_text())
        ours = isinstance(results, dict) and isinstance(results.get("meta"), dict) and \
            isinstance(results.get("experiments"), dict)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        ours = False
    if not ours:
        raise ValueError(f"--out: {path} was not written by this shootout (expected a JSON object with 'meta' and "
                         "'experiments'); choose another --out, or move it away")


def remove_files_of(results, folder):
    """Remove the figures and checkpoints that an earlier run's results (its parsed results.json) list in
    `folder`: files this project provably wrote, which would otherwise sit beside a report they are not
    part of."""
    for result in results["experiments"].values():
        if not isinstance(result, dict):
            continue
        for name in [*result.get("figures", []), result.get("saved_model")]:
            path = Path(folder) / str(name)
            if name and path.parent == Path(folder) and path.is_file():
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
    data.write_text(path, json.dumps(results, indent=1) + "\n")
    data.write_text(ctx.out / "report.md", render_report(results))
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
    lines = [f"# MNIST shootout: {meta['dataset']}, {len(meta['seeds'])} seeds", "",
             f"Profile {meta['profile']}, seeds {meta['seeds']}, device {meta['device']}; mean ± sample std "
             "(min–max) over the seeds. Each seed's own report is in seed-<seed>/.", "", "![spread](spread.png)", ""]
    for result in results["experiments"].values():
        rows = result["rows"]
        columns = [key for key in SPREAD if any(key in r for r in rows)]
        once = " (does not depend on the seed: run once)" if result["seed_independent"] else ""
        cells = [[r["model"], r["seeds"]] + [format_spread(key, r[key]) if key in r else "" for key in columns]
                 for r in rows]
        lines += [f"## {result['title']}{once}", "",
                  data.markdown_table(["model", "seeds"] + [SPREAD[key][0] for key in columns], cells), ""]
    return "\n".join(lines)


def run_repeats(args, profile, device, arrays, out, workers):
    """The experiments once per seed of args.seeds, each in out/seed-<seed>/ (a seed whose results there
    are complete is not run again; SEED_INDEPENDENT ones run with the first seed only), then their
    aggregate in out/results.json, report.md and spread.png. Returns the aggregate results."""
    per_seed = {}
    for i, seed in enumerate(args.seeds):
        folder = out / f"seed-{seed}"
        names = [n for n in args.experiments if i == 0 or n not in SEED_INDEPENDENT]
        previous = read_results(folder / "results.json")
        if same_run(previous, run_meta(args, profile, device, seed)) and set(names) <= set(previous["experiments"]):
            print(f"== seed {seed}: complete in {folder}, not run again")
        else:
            data.check_writable_folder(folder, "--out")
            previous = run_seed(args, profile, device, arrays, seed, folder, names, workers)
        per_seed[seed] = previous
    meta = run_meta(args, profile, device, None) | {"seeds": args.seeds}
    results = {"meta": meta, "per_seed": {seed: f"seed-{seed}/results.json" for seed in args.seeds},
               "experiments": aggregate(per_seed, args.experiments)}
    rows = [(f"{name}: {r['model']}", r["test_accuracy"]) for name, e in results["experiments"].items()
            if name != "untrained" for r in e["rows"]]  # untrained: chance level, off the scale
    data.finish_figure(data.graph_spread(rows, "test accuracy (mean ± std over seeds)"), out / "spread.png")
    data.write_text(out / "results.json", json.dumps(results, indent=1) + "\n")
    data.write_text(out / "report.md", render_aggregate(results))
    return results


# ---------------------------------------------------------------------------------------------------
# Where the runs go: worker processes, one run at a time each
# ---------------------------------------------------------------------------------------------------


class Task(Future):
    """A piece of work for Workers, fn(ctx, *args): a Future of its value, queued by rank."""

    def __init__(self, fn, args, rank):
        super().__init__()
        self.fn, self.args, self.rank = fn, args, rank


class Workers:
    """Where the training runs and SVM fits go: tasks fn(ctx, *args), each run whole by one of `n`
    worker processes with `threads` torch threads (a run on one thread does not wait for the other
    cores, so n runs at a time use n cores fully), or for n = 1 in this process when its result is
    asked for. A free worker takes the queued task of the lowest rank, the first submitted among equals.
    A worker rebuilds the Splits from the data set's arrays (sent once) and ctx.split_key; it ends
    when this process ends, however that happens. While result() waits it calls refill() (when set)
    after every finished task: a chance to submit what that task made possible."""

    def __init__(self, n=1, threads=1, arrays=None, device="cpu"):
        self.n, self.queue, self.running, self.pool, self.refill = n, [], {}, None, None
        if n > 1:  # spawn: fresh interpreters, no fork of a process that runs threads
            shared = tuple(torch.from_numpy(a) for a in arrays)  # tensors travel in shared memory, not the pipe
            self.pool = ProcessPoolExecutor(n, multiprocessing.get_context("spawn"), initializer=start_worker,
                                            initargs=(shared, str(device), threads))

    def __enter__(self):
        return self

    def __exit__(self, kind, *exc):
        if self.pool is None:
            return
        if kind is not None:  # interrupted or failed: end the runs in progress now, not when they are done
            for process in self.pool._processes.values():  # (Python 3.14 has pool.terminate_workers())
                process.terminate()
        self.pool.shutdown(cancel_futures=True)

    def submit(self, fn, ctx, *args, rank=2):
        """Queue fn(ctx, *args) behind the tasks of its rank and below; returns its Task."""
        task = Task(fn, (ctx,) + args, (rank, time.perf_counter()))
        self.queue.append(task)
        self.dispatch()
        return task

    def dispatch(self):
        """Collect finished tasks and hand queued ones to free workers; returns whether any finished."""
        finished = [f for f in self.running if f.done()]
        for future in finished:
            task = self.running.pop(future)
            try:
                task.set_result(torch.load(io.BytesIO(future.result()), weights_only=False))  # our worker's bytes
            except Exception as error:  # what the task raised (FloatingPointError, ...), raised again by result
                task.set_exception(error)
        while self.pool is not None and self.queue and len(self.running) < self.n:
            task = min(self.queue, key=lambda t: t.rank)
            self.queue.remove(task)
            ctx, *args = task.args
            self.running[self.pool.submit(run_in_worker, task.fn, ctx.split_key, *args)] = task
        return bool(finished)

    def result(self, task):
        """The value of fn(ctx, *args), waiting for it if need be; raises what the task raised."""
        if task in self.queue and self.pool is None:
            self.queue.remove(task)
            try:
                task.set_result(task.fn(*task.args))
            except Exception as error:
                task.set_exception(error)
        while not task.done():
            if self.dispatch() and self.refill:
                self.refill()
            if not task.done():
                wait(self.running, return_when=FIRST_COMPLETED)
        return task.result()


WORKER = {}  # in a worker process: the data set's arrays and device, the Context last built from them


def start_worker(arrays, device, threads):
    """A worker's set-up: its torch threads, its data, and its end when its parent ends."""
    parent = multiprocessing.parent_process()
    if sys.platform == "linux":  # the kernel's signal, which also stops native code that holds the GIL
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent.pid:  # the parent ended before that
        os._exit(1)
    threading.Thread(target=lambda: (parent.join(), os._exit(1)), daemon=True).start()  # elsewhere: a watchdog
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: the workers end with it
    torch.set_num_threads(threads)
    WORKER.update(arrays=tuple(a.numpy() for a in arrays), device=torch.device(device))


def run_in_worker(fn, split_key, *args):
    """fn(ctx, *args) in a worker, its value serialized by torch.save (tensors travel as bytes)."""
    if WORKER.get("split_key") != split_key:
        train, val, test = make_splits(WORKER["arrays"], WORKER["device"], *split_key)
        WORKER.update(split_key=split_key, ctx=Context(None, None, train, val, test, None, split_key[-1],
                                                       WORKER["arrays"], split_key=split_key))
    buffer = io.BytesIO()
    torch.save(fn(WORKER["ctx"], *args), buffer)
    return buffer.getvalue()


def usable_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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
                        help="experiments to run, in any order (default: all ten)")
    parser.add_argument("--dataset", default="mnist", help="mnist or fashion (default: mnist)")
    parser.add_argument("--data-root", type=Path, default=None,
                        help="folder holding MNIST/raw/ or FashionMNIST/raw/ (default: $MNIST_ROOT, else a "
                             "user cache folder; downloaded there when missing)")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: results/<dataset>/)")
    parser.add_argument("--quick", action="store_true", help="a subset and few epochs: seconds on a CPU")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the split, shuffling and init (default: 0)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, metavar="SEED",
                        help="run the experiments once per seed (in <out>/seed-<SEED>/, resumable) and write "
                             "their mean, std and range to <out>")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes that train the models and fit the SVMs side by side (default: one per CPU "
                             "core, at most 4; 1 = all in this process)")
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
    args.experiments = args.experiments or list(EXPERIMENTS)
    args.data_sha256 = None  # main sets it once the data are read
    if args.dataset not in data.DATASETS:
        parser.error(f"--dataset: expected one of {', '.join(data.DATASETS)}, got {args.dataset!r}")
    for flag in ("epochs", "batch_size", "workers", "threads"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')}: expected a whole number >= 1, got {value}")
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
            args.configs = tuple(check_mnist_config(int(s) for s in c.split(",")) for c in args.configs)
        except ValueError as error:
            parser.error(f"--configs: {error}")
    return args


def make_profile(args):
    """The Profile of a command line: QUICK or FULL with the flags' overrides."""
    profile = QUICK if args.quick else FULL
    overrides = {"depth_configs": args.configs}
    if args.epochs is not None:
        overrides.update(epochs=args.epochs, weights_epochs=args.epochs)
    if args.batch_size is not None:
        overrides.update(batch_size=args.batch_size, depth_batch_size=args.batch_size)
    return replace(profile, **{k: v for k, v in overrides.items() if v is not None})


def run_meta(args, profile, device, seed):
    """What identifies a run's results (same_run compares it), and how it ran."""
    return {"dataset": args.dataset, "data_sha256": args.data_sha256, "profile": "quick" if args.quick else "full",
            "seed": seed,
            "val_fraction": args.val_fraction, "device": str(device), "workers": args.workers,
            "threads": torch.get_num_threads(),
            "sgd_steps_by_hand": not args.autograd, "settings": asdict(profile)}


def run_seed(args, profile, device, arrays, seed, out, names, workers):
    """Run the experiments `names` with one seed, their runs on `workers`; results.json and report.md in
    `out`. Returns results."""
    split_key = (args.val_fraction, profile.n_train, profile.n_test, seed)
    train, val, test = make_splits(arrays, device, *split_key)
    ctx = Context(args.dataset, profile, train, val, test, out, seed, arrays, by_hand=not args.autograd,
                  split_key=split_key, workers=workers)
    meta = run_meta(args, profile, device, seed) | {"sizes": f"{len(train)}/{len(val)}/{len(test)}"}
    previous = read_results(out / "results.json")
    if previous is not None and not same_run(previous, meta):  # its rows go (write_results), and its files
        remove_files_of(previous, out)
    for name in ("batch_size", "depth_batch_size"):  # before any work: train_mb would refuse them later
        if getattr(profile, name) > len(train):
            raise ValueError(f"--batch-size / --val-fraction: {name} {getattr(profile, name)} is more than the "
                             f"{len(train)} training images the validation split leaves")
    results, workers.refill = None, lambda: prefetch(ctx, names)
    for name in names:
        prefetch(ctx, names)
        experiment = EXPERIMENTS[name]
        title = experiment.__doc__.splitlines()[0]
        print(f"== {name} (seed {seed}): {title}")
        began = time.perf_counter()
        result = experiment(ctx)
        ctx.results[name] = {"title": title, **result, "seconds": time.perf_counter() - began}
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
    for folder in [out] + [out / f"seed-{seed}" for seed in args.seeds or []]:
        check_earlier_results(folder)
    arrays = data.load_dataset(args.dataset, args.data_root)
    args.data_sha256 = data.arrays_digest(arrays)  # earlier results count only for the same data (same_run)
    cores, found_threads = usable_cores(), torch.get_num_threads()
    args.workers = args.workers or min(cores, 4)
    args.threads = args.threads or max(1, cores // args.workers)
    torch.set_num_threads(args.threads)  # this process evaluates the models meanwhile
    began = time.perf_counter()
    try:
        with Workers(args.workers, args.threads, arrays, device) as workers:
            if args.seeds is None:
                results = run_seed(args, profile, device, arrays, args.seed, out, args.experiments, workers)
            else:
                results = run_repeats(args, profile, device, arrays, out, workers)
    finally:
        torch.set_num_threads(found_threads)  # main() may be called from a REPL or a test: leave it as found
    print(f"total {time.perf_counter() - began:.1f} s; wrote {out / 'report.md'} and {out / 'results.json'}")
    return results


def stop_on_sigterm(signum, frame):
    """SIGTERM as an exception in the main thread: the workers end with the run (Workers.__exit__) and a
    file being written is removed, not left half-written (data.atomic_output)."""
    raise SystemExit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        main()
    except (FileNotFoundError, ValueError) as error:  # missing data, bad settings: the message says what to do
        sys.exit(f"error: {error}")
