"""Generalization on MNIST: fully connected PTDeep models against kernel SVMs, ten experiments.

    python mnist_shootout.py                       # all ten experiments, report in results/mnist/
    python mnist_shootout.py weights depth         # any subset, by name (see EXPERIMENTS)
    python mnist_shootout.py --quick               # everything on a subset, in about a minute
    python mnist_shootout.py --dataset fashion     # Fashion-MNIST instead

Data: pixels scaled to [0, 1] and flattened to 784; a random 1/5 of the training set (fixed by
--seed) is held out for validation. Every hyper-parameter (lambda, epoch, configuration) is chosen on
that validation split; the test set is only ever reported. All data live on the chosen device for the
whole run: a mini-batch is an index gather there, never a host-to-device copy.
"""

import argparse
import copy
import gzip
import itertools
import json
import math
import multiprocessing
import os
import struct
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

import data
from pt_deep import PTDeep, check_config

# ---------------------------------------------------------------------------------------------------
# Loading the IDX files
# ---------------------------------------------------------------------------------------------------

DATASETS = {  # --dataset name -> (folder under the root, where to get the files by hand)
    "mnist": ("MNIST", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    "fashion": ("FashionMNIST", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"),
}
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IDX_NAMES = [name for pair in IDX_FILES.values() for name in pair]  # the four files, in that order
IMAGE_MAGIC, LABEL_MAGIC = 0x00000803, 0x00000801


def default_root():
    """$MNIST_ROOT if set, else a per-user cache folder."""
    if os.environ.get("MNIST_ROOT"):
        return Path(os.environ["MNIST_ROOT"])
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "fc-classifiers-lab"


def read_idx(path):
    """Read one IDX file, plain or gzipped, into a uint8 array of shape (n,) or (n, rows, cols)."""
    path = Path(path)
    with open(path, "rb") as f:
        raw = f.read()
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
    expected = offset + math.prod(shape)
    if len(raw) != expected:
        raise ValueError(f"{path}: header promises {expected} bytes for shape {shape}, file has {len(raw)}")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape).copy()  # writable, own memory


def find_idx(raw_dir, name):
    """The IDX file `name` in raw_dir, plain or with .gz; None when neither exists."""
    for candidate in (raw_dir / name, raw_dir / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def missing_data_error(dataset, raw_dir, reason):
    folder, url = DATASETS[dataset]
    names = "\n  ".join(IDX_NAMES)
    return FileNotFoundError(
        f"{dataset} data not found in {raw_dir} ({reason}).\nPut these four files there, plain or gzipped "
        f"(.gz):\n  {names}\nThey are published at {url}; or point --data-root or MNIST_ROOT at a folder "
        f"that holds {folder}/raw/.")


def download(dataset, root):
    """Fetch the data set with torchvision into root/<folder>/raw/."""
    import torchvision

    cls = torchvision.datasets.MNIST if dataset == "mnist" else torchvision.datasets.FashionMNIST
    for train in (True, False):
        cls(str(root), train=train, download=True)


def load_dataset(dataset="mnist", root=None, allow_download=True):
    """Images and labels of the train and test sets as uint8 arrays.

    Returns (x_train (60000, 28, 28), y_train (60000,), x_test (10000, 28, 28), y_test (10000,)).
    Looks in root/<MNIST|FashionMNIST>/raw/ (root: argument, else $MNIST_ROOT, else a user cache) and
    downloads with torchvision when files are missing; raises FileNotFoundError saying what to put
    where when that fails.
    """
    if dataset not in DATASETS:
        raise ValueError(f"dataset: expected one of {sorted(DATASETS)}, got {dataset!r}")
    root = Path(root) if root is not None else default_root()
    raw_dir = root / DATASETS[dataset][0] / "raw"
    if any(find_idx(raw_dir, n) is None for n in IDX_NAMES):
        if not allow_download:
            raise missing_data_error(dataset, raw_dir, "download not allowed")
        try:
            download(dataset, root)
        except Exception as error:  # no network, read-only folder, checksum mismatch ...
            raise missing_data_error(dataset, raw_dir, f"download failed: {error}") from error
        if any(find_idx(raw_dir, n) is None for n in IDX_NAMES):
            raise missing_data_error(dataset, raw_dir, "download left files missing")
    arrays = [read_idx(find_idx(raw_dir, n)) for n in IDX_NAMES]
    for (images, labels), split in zip((arrays[:2], arrays[2:]), IDX_FILES, strict=True):
        if images.ndim != 3 or images.shape[1:] != (28, 28) or labels.shape != (len(images),):
            raise ValueError(f"{raw_dir}: {split} images {images.shape} and labels {labels.shape} do not match "
                             f"(expected (n, 28, 28) and (n,))")
        if labels.max() > 9:
            raise ValueError(f"{raw_dir}: {split} labels must be 0..9, found {labels.max()}")
    return tuple(arrays)


# ---------------------------------------------------------------------------------------------------
# Data on the device
# ---------------------------------------------------------------------------------------------------


@dataclass
class Split:
    """Images X (N, 784) float32 in [0, 1] and labels Y (N,) int64, on one device."""

    X: torch.Tensor
    Y: torch.Tensor

    @classmethod
    def from_numpy(cls, images, labels, device):
        X = torch.as_tensor(images.reshape(len(images), -1), device=device).float().div_(255)
        return cls(X, torch.as_tensor(labels.astype(np.int64), device=device))

    def __len__(self):
        return len(self.Y)

    def subset(self, index):
        return Split(self.X[index], self.Y[index])

    @staticmethod
    def concat(*splits):
        return Split(torch.cat([s.X for s in splits]), torch.cat([s.Y for s in splits]))


def make_splits(arrays, device, val_fraction=0.2, n_train=None, n_test=None, seed=0):
    """Train / validation / test Splits: a random val_fraction of the (first n_train) training images
    is held out for validation, fixed by `seed`."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction: expected a number in (0, 1), got {val_fraction!r}")
    x_train, y_train, x_test, y_test = arrays
    n_train = len(x_train) if n_train is None else min(n_train, len(x_train))
    n_test = len(x_test) if n_test is None else min(n_test, len(x_test))
    order = np.random.default_rng(seed).permutation(n_train)
    n_val = int(round(val_fraction * n_train))
    full = Split.from_numpy(x_train[:n_train], y_train[:n_train], device)
    index = torch.as_tensor(order, device=device)
    test = Split.from_numpy(x_test[:n_test], y_test[:n_test], device)
    return full.subset(index[n_val:]), full.subset(index[:n_val]), test


# ---------------------------------------------------------------------------------------------------
# Training and evaluation
# ---------------------------------------------------------------------------------------------------


@torch.no_grad()
def evaluate(model, split, chunk=10_000):
    """Mean NLL (without regularization), accuracy, predicted labels and per-sample NLL on a Split."""
    was_training = model.training
    model.eval()
    losses, predictions = [], []
    try:
        for start in range(0, len(split), chunk):
            logits = model.logits(split.X[start:start + chunk])
            losses.append(F.cross_entropy(logits, split.Y[start:start + chunk], reduction="none"))
            predictions.append(logits.argmax(dim=1))
    finally:
        model.train(was_training)
    per_sample, Y = torch.cat(losses), torch.cat(predictions)
    return per_sample.mean().item(), (Y == split.Y).float().mean().item(), Y, per_sample


def metrics(model, split):
    """Accuracy, macro precision and recall, and mean loss of `model` on `split`, as a dict."""
    loss, _, Y, _ = evaluate(model, split)
    accuracy, pr, _ = data.eval_perf_multi(Y.cpu().numpy(), split.Y.cpu().numpy(), C=10)
    recall, precision = np.mean(pr, axis=0)
    return {"accuracy": accuracy, "precision": float(precision), "recall": float(recall), "loss": loss}


@dataclass
class History:
    """What train_mb records per epoch; best_epoch (1-based) has the lowest validation loss (None: no
    validation split)."""

    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)  # the learning rate each epoch ran with
    best_epoch: int | None = None
    seconds: float = 0.0


def make_optimizer(name, parameters, lr):
    if name == "sgd":
        return torch.optim.SGD(parameters, lr=lr)
    if name == "adam":
        return torch.optim.Adam(parameters, lr=lr)
    raise ValueError(f"optimizer: expected 'sgd' or 'adam', got {name!r}")


def mini_batches(train, batch_size, generator):
    """One epoch's mini-batches (X, Y): the training set in a fresh random order, cut into pieces of
    batch_size (the last one smaller when it does not divide). A single batch is the whole set as it is:
    the order of the rows does not change a mean."""
    if batch_size >= len(train):
        yield train.X, train.Y
        return
    order = torch.randperm(len(train), generator=generator).to(train.X.device)
    for index in order.split(batch_size):
        yield train.X.index_select(0, index), train.Y.index_select(0, index)


def train_mb(model, train, n_epochs, batch_size=100, optimizer="sgd", lr=0.1, param_lambda=0.0, lr_gamma=None,
             val=None, test=None, early_stopping=False, seed=0, desc="train", by_hand=True):
    """Mini-batch training: every epoch reshuffles the training set, cuts it into ceil(N / batch_size)
    mini-batches and takes one step on each; the loss of a step is the mean over its mini-batch.

    Inputs:
    - model: PTDeep (or anything with get_loss(X, Yoh_, param_lambda) and logits(X)), on train's device
    - train, val, test: Splits; val and test are evaluated after every epoch when given
    - optimizer: 'sgd' or 'adam', with learning rate lr; lr_gamma: ExponentialLR factor per epoch
    - early_stopping: keep a copy of the parameters of the epoch with the lowest validation loss and
      load it back at the end
    - seed: fixes the shuffling (the initialization is the model's own)
    - by_hand: take SGD steps with model.sgd_step, the backward pass written out by hand, when the model
      has one (PTDeep without batch norm): the same steps as loss.backward() + optimizer.step() up to
      rounding, 1.3-1.8x faster on small batches. False: always autograd and torch.optim.
    Returns a History. Raises FloatingPointError when an epoch's loss is not finite.
    """
    n_epochs = data.check_positive_int(n_epochs, "n_epochs")
    batch_size = data.check_positive_int(batch_size, "batch_size")
    if batch_size > len(train):
        raise ValueError(f"batch_size: expected at most the {len(train)} training samples, got {batch_size}")
    if early_stopping and val is None:
        raise ValueError("val: early stopping needs a validation split")

    by_hand = by_hand and optimizer == "sgd" and getattr(model, "steps_by_hand", False)
    opt = None if by_hand else make_optimizer(optimizer, model.parameters(), lr)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=lr_gamma) if lr_gamma and opt else None
    generator = torch.Generator().manual_seed(seed)  # on the CPU: the same order on every device
    n_batches = math.ceil(len(train) / batch_size)
    history, best_state, best_val = History(), None, math.inf
    start = time.perf_counter()
    for epoch in tqdm(range(n_epochs), desc=desc, disable=None, leave=False):
        model.train()
        step = lr * (lr_gamma or 1.0) ** epoch if by_hand else opt.param_groups[0]["lr"]  # what ExponentialLR does
        history.lr.append(step)
        batch_losses = torch.zeros(n_batches, device=train.X.device)
        for b, (X, Y) in enumerate(mini_batches(train, batch_size, generator)):  # labels as class indices
            if by_hand:
                loss = model.sgd_step(X, Y, step, param_lambda)
            else:
                loss = model.get_loss(X, Y, param_lambda)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            batch_losses[b] = loss.detach()
        if scheduler is not None:
            scheduler.step()
        epoch_loss = batch_losses.mean().item()  # the one host sync of the epoch
        if not math.isfinite(epoch_loss):
            raise FloatingPointError(f"{desc}: loss became {epoch_loss} in epoch {epoch + 1}; "
                                     f"try a smaller learning rate (was {lr})")
        history.train_loss.append(epoch_loss)
        if val is not None:
            val_loss, val_accuracy, _, _ = evaluate(model, val)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_accuracy)
            if val_loss < best_val:
                best_val, history.best_epoch = val_loss, epoch + 1
                if early_stopping:
                    best_state = copy.deepcopy(model.state_dict())  # a real copy, not references
        if test is not None:
            history.test_loss.append(evaluate(model, test)[0])
    if best_state is not None:
        model.load_state_dict(best_state)
    history.seconds = time.perf_counter() - start
    return history


# ---------------------------------------------------------------------------------------------------
# The experiments
# ---------------------------------------------------------------------------------------------------


@dataclass
class Profile:
    """How much work each experiment does; FULL is the default, QUICK the --quick run."""

    n_train: int | None = None  # training images used, before the validation split (None: all 60000)
    n_test: int | None = None  # test images used (None: all 10000)
    epochs: int = 30  # epochs of every mini-batch run
    batch_size: int = 100  # mini-batch size of every run but `minibatch`'s
    depth_configs: tuple = ((784, 10), (784, 100, 10), (784, 100, 100, 10), (784, 100, 100, 100, 10))
    weights_epochs: int = 10  # epochs of the [784,10] runs of `weights`
    svm_train: int | None = None  # SVM training images (None: the whole training set, all 60000)
    svm_subset: int = 10_000  # training images for the gamma='auto' contrast
    lambdas: tuple = (0.0, 1e-3, 1e-2, 1e-1)  # `weights`: [784,10] regularization
    deep_lambdas: tuple = (0.0, 1e-4, 1e-3, 1e-2)  # `regularization`: deep models
    batch_sizes: tuple = (60_000, 1000, 100, 10)  # `minibatch`: capped at the training-set size


FULL = Profile()
QUICK = Profile(n_train=5000, n_test=1000, epochs=3, weights_epochs=3, svm_train=2000, svm_subset=1000,
                lambdas=(0.0, 1e-2), deep_lambdas=(0.0, 1e-3), batch_sizes=(4000, 100))

SGD_LR = 0.1  # plain SGD step for every experiment that does not vary it
ADAM_LR = 1e-4  # the lab's fixed Adam learning rate
SVC_CACHE_MB = 2000  # libsvm's kernel cache (default 200 MB): rows of the kernel matrix kept for reuse


@dataclass
class Context:
    """Everything the experiments share: data, settings, and where results go."""

    dataset: str
    profile: Profile
    train: Split
    val: Split
    test: Split
    out: Path
    seed: int
    results: dict = field(default_factory=dict)
    best_config: list = field(default_factory=lambda: [784, 100, 10])
    svm_rows: object = None  # a Future of run_svms' rows when the SVMs run in a background process
    by_hand: bool = True  # train_mb's by_hand: SGD steps with the backward pass written out, where it applies

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


def model_row(name, model, ctx, history=None, seconds=None, train=None, **extra):
    """One result row: train (ctx.train unless given) and test metrics of `model`, epochs and wall time."""
    row = {"model": name}
    for split_name, split in (("train", train or ctx.train), ("test", ctx.test)):
        for key, value in metrics(model, split).items():
            row[f"{split_name}_{key}"] = value
    if history is not None:
        row["epochs"] = len(history.train_loss)
        row["final_train_loss"] = history.train_loss[-1]
        row["best_epoch"] = history.best_epoch
        row["seconds"] = history.seconds
    if seconds is not None:
        row["seconds"] = seconds
    row.update(extra)
    return row


def new_model(ctx, config, **kwargs):
    return PTDeep(config, seed=ctx.seed, **kwargs).to(ctx.train.X.device)


def fit(ctx, config, name, epochs=None, refit=False, **train_kwargs):
    """Train a fresh PTDeep(config) with train_mb; return (model, history).

    By default it trains on ctx.train and watches ctx.val; with refit=True it trains on every training
    image (ctx.train_and_val) for `epochs` chosen beforehand on validation, with nothing left to watch.
    """
    model = new_model(ctx, check_mnist_config(config), batchnorm=train_kwargs.pop("batchnorm", False))
    train_kwargs.setdefault("batch_size", ctx.profile.batch_size)
    train_kwargs.setdefault("by_hand", ctx.by_hand)
    train, val = (ctx.train_and_val, None) if refit else (ctx.train, ctx.val)
    history = train_mb(model, train, epochs or ctx.profile.epochs, val=val, test=ctx.test, seed=ctx.seed,
                       desc=f"{name} refit" if refit else name, **train_kwargs)
    return model, history


def figure(ctx, name, fig):
    """Save a figure under ctx.out and return its file name (for the report)."""
    data.finish_figure(fig, ctx.out / name)
    return name


def plot_histories(ctx, histories, name, title):
    """Train / validation / test loss per epoch, one panel per run."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(histories), figsize=(4 * len(histories), 3.4), squeeze=False)
    for ax, (label, h) in zip(axes[0], histories.items(), strict=True):
        epochs = np.arange(1, len(h.train_loss) + 1)
        ax.plot(epochs, h.train_loss, label="train (batch mean)")
        if h.val_loss:
            ax.plot(epochs, h.val_loss, label="validation")
        ax.plot(epochs, h.test_loss, label="test")
        if h.best_epoch:
            ax.axvline(h.best_epoch, color="grey", linestyle=":", linewidth=1)
        ax.set_title(label, fontsize=9)
        ax.set_xlabel("epoch")
        ax.set_yscale("log")
    axes[0, 0].set_ylabel("mean NLL")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title)
    return figure(ctx, name, fig)


def exp_weights(ctx):
    """1. [784,10]: the weight image of each digit, for several param_lambda."""
    import matplotlib.pyplot as plt

    p = ctx.profile
    rows, models = [], {}
    for param_lambda in p.lambdas:
        model, history = fit(ctx, [784, 10], f"[784,10] lambda={param_lambda:g}", p.weights_epochs,
                             lr=SGD_LR, param_lambda=param_lambda)
        models[param_lambda] = model
        rows.append(model_row(f"[784,10] λ={param_lambda:g}", model, ctx, history, param_lambda=param_lambda,
                              val_accuracy=history.val_accuracy[-1]))
    fig, axes = plt.subplots(len(p.lambdas), 10, figsize=(12, 1.35 * len(p.lambdas) + 0.5), squeeze=False)
    for row_axes, (param_lambda, model) in zip(axes, models.items(), strict=True):
        W = model.weights[0].detach().cpu().numpy()  # (784, 10)
        for digit, ax in enumerate(row_axes):
            image = W[:, digit].reshape(28, 28)
            span = np.abs(image).max()
            ax.imshow(image, cmap="seismic", vmin=-span, vmax=span)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(str(digit), fontsize=8)
        row_axes[0].set_ylabel(f"λ={param_lambda:g}", fontsize=8)
    fig.suptitle("[784,10] weights per class (red positive, blue negative)")
    best = max(rows, key=lambda r: r["val_accuracy"])
    return {"rows": rows, "figures": [figure(ctx, "weights.png", fig)],
            "note": f"λ chosen on validation: {best['param_lambda']:g}. Larger λ gives smoother, digit-like "
                    "templates; with λ=0 the weights of pixels that are almost always 0 hardly move."}


def plot_worst(ctx, Y, per_sample, name):
    """The test images that contribute most to the loss, with true and predicted labels (Y and per_sample:
    evaluate's predictions and per-sample losses on ctx.test)."""
    import matplotlib.pyplot as plt

    worst = torch.argsort(per_sample, descending=True)[:20].cpu().numpy()
    fig, axes = plt.subplots(2, 10, figsize=(12, 3.2))
    for ax, i in zip(axes.flat, worst, strict=True):
        ax.imshow(ctx.test.X[i].cpu().numpy().reshape(28, 28), cmap="gray")
        ax.set_title(f"true {ctx.test.Y[i].item()} pred {Y[i].item()}\nloss {per_sample[i].item():.1f}",
                     fontsize=7)
        ax.set_axis_off()
    fig.suptitle("test images with the highest loss")
    return figure(ctx, name, fig)


def plot_confusion(ctx, Y, name):
    """The test confusion matrix of the predictions Y on ctx.test."""
    import matplotlib.pyplot as plt

    M = data.confusion_matrix(Y.cpu().numpy(), ctx.test.Y.cpu().numpy(), C=10)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.imshow(np.log1p(M), cmap="Blues")
    for (i, j), count in np.ndenumerate(M):
        ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color="black" if i != j else "white")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_title("best model: test confusion matrix")
    return figure(ctx, name, fig)


def save_model(ctx, model, name):
    """Save config + state_dict, loadable with torch.load(..., weights_only=True)."""
    with data.atomic_output(ctx.out / name) as tmp:
        torch.save({"config": model.config, "batchnorm": model.batchnorm,
                    "state_dict": {k: v.cpu() for k, v in model.state_dict().items()}}, tmp)
    return name


def load_model(path):
    """Rebuild a PTDeep saved by save_model."""
    checkpoint = torch.load(path, weights_only=True, map_location="cpu")
    model = PTDeep(checkpoint["config"], batchnorm=checkpoint["batchnorm"])
    model.load_state_dict(checkpoint["state_dict"])
    return model


DEPTH_TRAINING = {"batch_size": 50, "lr_gamma": 0.93}  # SGD, lr * 0.93^epoch
# The starting step, chosen on each data set's validation split: on MNIST 0.5 beat 0.2 (0.9765 vs 0.9741
# for [784,100,10]); Fashion-MNIST's brighter images make 0.5 unstable (0.77 vs 0.86 after 3 epochs).
DEPTH_LR = {"mnist": 0.5, "fashion": 0.2}
DEPTH_LAMBDAS = (0.0, 1e-4)  # tried for every config; validation accuracy decides


def select_and_refit(ctx, config, name, batchnorm=False):
    """The depth recipe for one config: train with each λ in DEPTH_LAMBDAS on the training part, let
    validation accuracy pick λ and the epoch, retrain on train + validation. Returns (model, history of
    the chosen λ, result row)."""
    recipe = {"lr": DEPTH_LR[ctx.dataset], "batchnorm": batchnorm, **DEPTH_TRAINING}
    tried = {lam: fit(ctx, config, f"{name} λ={lam:g}", param_lambda=lam, **recipe)[1] for lam in DEPTH_LAMBDAS}
    param_lambda, history = max(tried.items(), key=lambda item: max(item[1].val_accuracy))
    epochs = int(np.argmax(history.val_accuracy)) + 1
    model, final = fit(ctx, config, name, epochs, refit=True, param_lambda=param_lambda, **recipe)
    row = model_row(name, model, ctx, final, train=ctx.train_and_val, param_lambda=param_lambda,
                    val_accuracy=max(history.val_accuracy),
                    seconds=sum(h.seconds for h in tried.values()) + final.seconds)
    return model, history, row


def recipe_note(ctx):
    return (f"SGD, lr {DEPTH_LR[ctx.dataset]} decayed by 0.93 per epoch, batch 50. Each model trains on the "
            f"training part with λ in {DEPTH_LAMBDAS}; validation accuracy picks λ and the epoch; the reported "
            "model is then retrained on all training images (train + validation) for that many epochs.")


def exp_depth(ctx):
    """2. Four depths with SGD: loss per epoch, train/test metrics, the best model's hardest images."""
    rows, histories, models = [], {}, {}
    for config in ctx.profile.depth_configs:
        name = config_name(config)
        model, history, row = select_and_refit(ctx, config, name)
        histories[f"{name} λ={row['param_lambda']:g}"], models[name] = history, model
        rows.append(row)
    best = max(rows, key=lambda r: r["val_accuracy"])
    model = models[best["model"]]
    ctx.best_config = list(model.config)
    _, _, Y, per_sample = evaluate(model, ctx.test)
    figures = [plot_histories(ctx, histories, "depth_losses.png",
                              f"SGD lr {DEPTH_LR[ctx.dataset]} × 0.93^epoch, batch 50 (train on 4/5, validate on 1/5)"),
               plot_worst(ctx, Y, per_sample, "depth_worst.png"), plot_confusion(ctx, Y, "depth_confusion.png")]
    return {"rows": rows, "figures": figures, "saved_model": save_model(ctx, model, "best_depth.pt"),
            "note": f"{recipe_note(ctx)} Best on validation: {best['model']} (saved as best_depth.pt)."}


def exp_regularization(ctx):
    """3. param_lambda's effect on train and test performance of a deep model."""
    rows, histories = [], {}
    config = [784, 100, 100, 10]
    for param_lambda in ctx.profile.deep_lambdas:
        name = f"[784,100,100,10] λ={param_lambda:g}"
        model, history = fit(ctx, config, name, lr=SGD_LR, param_lambda=param_lambda)
        histories[name] = history
        rows.append(model_row(name, model, ctx, history, param_lambda=param_lambda,
                              val_accuracy=history.val_accuracy[-1]))
    best = max(rows, key=lambda r: r["val_accuracy"])
    return {"rows": rows, "figures": [plot_histories(ctx, histories, "regularization_losses.png",
                                                     "[784,100,100,10], SGD lr 0.1, batch 100")],
            "note": f"λ chosen on validation: {best['param_lambda']:g}. A large λ closes the gap between train "
                    "and test accuracy by lowering both."}


def exp_early_stop(ctx):
    """4. Early stopping on the validation split: the best epoch's parameters, restored."""
    model, history = fit(ctx, ctx.best_config, "early stop", lr=SGD_LR, param_lambda=1e-4, early_stopping=True)
    name = config_name(ctx.best_config)
    return {"rows": [model_row(f"{name} best epoch", model, ctx, history)],
            "figures": [plot_histories(ctx, {f"{name} (best epoch {history.best_epoch})": history},
                                       "early_stop_losses.png", "early stopping on validation loss")],
            "note": f"Lowest validation loss after epoch {history.best_epoch} of {len(history.train_loss)}; "
                    "that epoch's parameters (a deep copy) were restored."}


def exp_minibatch(ctx):
    """5. train_mb with several batch sizes (N = full batch gradient descent) for the same epochs."""
    rows, histories = [], {}
    for batch_size in sorted({min(b, len(ctx.train)) for b in ctx.profile.batch_sizes}, reverse=True):
        name = f"batch {batch_size}"
        model, history = fit(ctx, ctx.best_config, name, lr=SGD_LR, param_lambda=1e-4, batch_size=batch_size)
        histories[name] = history
        steps = len(history.train_loss) * math.ceil(len(ctx.train) / batch_size)
        rows.append(model_row(f"{config_name(ctx.best_config)} {name}", model, ctx, history,
                              batch_size=batch_size, steps=steps))
    title = f"{config_name(ctx.best_config)}, SGD lr 0.1, same number of epochs"
    return {"rows": rows, "figures": [plot_histories(ctx, histories, "minibatch_losses.png", title)],
            "note": "Same epochs, so the same number of gradient evaluations per sample: smaller batches take "
                    "many more (noisier) steps and get much further; full-batch descent barely starts."}


def exp_adam(ctx):
    """6. Adam with the lab's fixed learning rate 1e-4."""
    model, history = fit(ctx, ctx.best_config, "adam", optimizer="adam", lr=ADAM_LR, param_lambda=1e-4)
    return {"rows": [model_row(f"{config_name(ctx.best_config)} Adam 1e-4", model, ctx, history)],
            "figures": [plot_histories(ctx, {"Adam lr 1e-4": history}, "adam_losses.png", "Adam")]}


def exp_adam_decay(ctx):
    """7. Adam 1e-4 with ExponentialLR(gamma=1-1e-4), stepped once per epoch."""
    model, history = fit(ctx, ctx.best_config, "adam+decay", optimizer="adam", lr=ADAM_LR, param_lambda=1e-4,
                         lr_gamma=1 - 1e-4)
    return {"rows": [model_row(f"{config_name(ctx.best_config)} Adam 1e-4 + ExponentialLR", model, ctx, history)],
            "figures": [plot_histories(ctx, {"Adam + ExponentialLR": history}, "adam_decay_losses.png",
                                       "Adam, lr 1e-4 * (1 - 1e-4)^epoch")],
            "note": f"After {ctx.profile.epochs} epochs the rate is still {(1 - 1e-4) ** ctx.profile.epochs:.4f} of "
                    "its start: with gamma = 1 - 1e-4 stepped per epoch the schedule changes almost nothing."}


def exp_untrained(ctx):
    """8. The loss of randomly initialized models on the test set, against ln 10."""
    rows = []
    for config in ctx.profile.depth_configs:
        model = new_model(ctx, config)
        rows.append(model_row(config_name(config), model, ctx, ln_C=math.log(10)))
    return {"rows": rows,
            "note": "About ln 10 = 2.303: the output layer's weights have variance 1/fan_in, so the untrained "
                    "scores are small, the softmax nearly uniform and -log(1/10) = ln 10 per sample."}


def fit_svc(kernel, gamma, X, Y):
    """The shootout's SVC, fitted on (X, Y) without the columns that are 0 in every row of X: one-vs-one,
    scikit-learn's defaults otherwise (C=1, tolerance 1e-3), and a large kernel cache, which saves
    recomputing kernel rows but does not change the solution. Returns (svm, columns): columns is the
    boolean mask of the columns kept, for svc_predict.

    Such a column adds exactly 0 to every kernel value between training vectors (x_i y_i = 0), so the
    solution is the same (tested: the same support vectors, coefficients to rounding, and predictions),
    and on MNIST, where 67 of the 784 pixels are 0 in every training image, the fit is 5-7% faster.
    gamma 'scale' and 'auto' are resolved first, on all the columns, as scikit-learn resolves them.
    """
    from sklearn.svm import SVC

    X = np.asarray(X, dtype=np.float64)
    if gamma == "scale":
        gamma = 1.0 / (X.shape[1] * X.var())
    elif gamma == "auto":
        gamma = 1.0 / X.shape[1]
    columns = X.any(axis=0)
    svm = SVC(kernel=kernel, gamma=gamma, decision_function_shape="ovo", cache_size=SVC_CACHE_MB)
    return svm.fit(X[:, columns], Y), columns


def svc_predict(svm, X, columns=None, chunk=2000):
    """svm.predict(X) for a fitted scikit-learn SVC with a linear or RBF kernel, with the kernels evaluated
    by matrix products (BLAS, every core) instead of libsvm's loop over one pair of vectors at a time:
    the same labels (a test compares them), about 10x faster on MNIST. Other kernels: svm.predict.
    columns: the mask fit_svc returns (None: the SVC was fitted on every column of X). X keeps all its
    columns: ||x - v||^2 counts a test image's ink where no training image had any, as an SVC fitted on
    every column would (libsvm's own predict on X[:, columns] cannot see it).

    libsvm's one-vs-one rule: for every pair of classes i < j the decision value is
        sum over the support vectors v of class i of dual_coef[j-1, v] K(x, v)
      + sum over the support vectors v of class j of dual_coef[i, v] K(x, v) + intercept[pair];
    it votes for i when > 0, else for j, and the class with the most votes wins (the first one on a tie).
    """
    X = np.asarray(X)
    used = svm.support_vectors_.shape[1]  # the columns the SVC was fitted on
    columns = np.ones(used, dtype=bool) if columns is None else np.asarray(columns, dtype=bool)
    if X.ndim != 2 or X.shape[1] != len(columns) or columns.sum() != used:
        raise ValueError(f"X: expected a 2-D array with {len(columns)} columns, {used} of them the SVC's "
                         f"(columns: the mask fit_svc returned), got shape {X.shape}")
    if svm.kernel not in ("linear", "rbf") or svm.break_ties:  # kernels of x.v only: the left-out columns add 0
        return svm.predict(X[:, columns])
    vectors = np.zeros((len(svm.support_vectors_), len(columns)))  # grouped by class
    vectors[:, columns] = svm.support_vectors_  # the columns left out were 0 in every training vector
    first = np.concatenate([[0], np.cumsum(svm.n_support_)])
    of = [slice(first[c], first[c + 1]) for c in range(len(svm.classes_))]  # the support vectors of class c
    pairs = list(itertools.combinations(range(len(svm.classes_)), 2))
    weights = np.zeros((len(vectors), len(pairs)))  # every support vector's coefficient in every decision
    for p, (i, j) in enumerate(pairs):
        weights[of[i], p] = svm.dual_coef_[j - 1, of[i]]
        weights[of[j], p] = svm.dual_coef_[i, of[j]]
    squared_norms = (vectors * vectors).sum(axis=1)
    predicted = []
    for start in range(0, len(X), chunk):  # chunks keep the kernel matrix to chunk x n_SV numbers
        x = np.asarray(X[start:start + chunk], dtype=np.float64)
        K = x @ vectors.T
        if svm.kernel == "rbf":  # exp(-gamma ||x - v||^2), with ||x - v||^2 = ||x||^2 + ||v||^2 - 2 x.v
            K = np.exp(-svm._gamma * ((x * x).sum(axis=1)[:, None] + squared_norms - 2 * K))  # _gamma: resolved
        decision = K @ weights + svm.intercept_
        votes = np.zeros((len(x), len(svm.classes_)), dtype=np.int64)
        for p, (i, j) in enumerate(pairs):
            votes[:, i] += decision[:, p] > 0
            votes[:, j] += decision[:, p] <= 0
        predicted.append(votes.argmax(axis=1))
    return svm.classes_[np.concatenate(predicted)]


def run_svms(train, val, test, profile):
    """Fit the experiment's three SVCs and score them; returns the result rows.

    The SVMs see the whole training set (train + validation): no hyper-parameter is tuned for them.
    """
    every = Split.concat(train, val)
    X, Y = every.X.cpu().numpy(), every.Y.cpu().numpy()
    X_test, Y_test = test.X.cpu().numpy(), test.Y.cpu().numpy()
    n = len(X) if profile.svm_train is None else min(profile.svm_train, len(X))
    runs = [("SVC linear", "linear", "scale", n), ("SVC RBF gamma='scale'", "rbf", "scale", n),
            ("SVC RBF gamma='auto'", "rbf", "auto", min(profile.svm_subset, len(X)))]
    rows = []
    for name, kernel, gamma, size in runs:
        start = time.perf_counter()
        svm, columns = fit_svc(kernel, gamma, X[:size], Y[:size])
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        predicted = svc_predict(svm, X_test, columns)
        predict_seconds = time.perf_counter() - start
        accuracy, pr, _ = data.eval_perf_multi(predicted, Y_test, C=10)
        recall, precision = np.mean(pr, axis=0)
        seen = min(size, 2000)  # train accuracy, close to 1 for SVMs, estimated on a sample: cheaper
        train_accuracy = float(np.mean(svc_predict(svm, X[:seen], columns) == Y[:seen]))
        rows.append({"model": f"{name} on {size}", "train_accuracy": train_accuracy, "test_accuracy": accuracy,
                     "test_precision": float(precision), "test_recall": float(recall),
                     "support_vectors": int(len(svm.support_)), "fit_seconds": fit_seconds,
                     "predict_seconds": predict_seconds, "seconds": fit_seconds + predict_seconds})
        print(f"{name} on {size}: test accuracy {accuracy:.4f}, fit {fit_seconds:.1f} s, "
              f"predict {predict_seconds:.1f} s", flush=True)
    return rows


def run_svms_from_disk(dataset, root, val_fraction, profile, seed):
    """run_svms on the same splits as the main process, rebuilt here on the CPU (for a worker process)."""
    splits = make_splits(load_dataset(dataset, root), "cpu", val_fraction, profile.n_train, profile.n_test, seed)
    return run_svms(*splits, profile)


def exp_svm(ctx):
    """9. Linear and RBF SVC (one-vs-one, gamma='scale') on the training set; gamma='auto' on a subset."""
    if ctx.svm_rows is not None:  # started in a background process by main()
        rows, where = ctx.svm_rows.result(), "in a second process, while the nets trained"
    else:
        rows, where = run_svms(ctx.train, ctx.val, ctx.test, ctx.profile), "in this process"
    return {"rows": rows,
            "note": f"Fitted {where} (scikit-learn's SVC uses one core), without the pixels that are 0 in every "
                    "training image (the same solution, faster: fit_svc); predictions by kernel matrix products "
                    "(svc_predict: libsvm's labels, 10x faster). Train accuracy of the SVMs is measured "
                    "on (at most) their first 2000 training images. gamma='auto' is 1/784, ten times smaller than "
                    "'scale' = 1/(784 Var(X)) ≈ 1/(784 · 0.095): too wide a kernel for digits."}


def exp_batchnorm(ctx):
    """10. Our batch normalization against the plain model, same config and training."""
    rows, histories = [], {}
    config = [784, 100, 100, 10]
    for batchnorm in (False, True):
        name = config_name(config) + (" + BN" if batchnorm else "")
        model, history, row = select_and_refit(ctx, config, name, batchnorm=batchnorm)
        histories[f"{name} λ={row['param_lambda']:g}"] = history
        rows.append(row)
    return {"rows": rows, "figures": [plot_histories(ctx, histories, "batchnorm_losses.png",
                                                     "plain vs batch norm, the depth recipe")],
            "saved_model": save_model(ctx, model, "best_batchnorm.pt"),
            "note": f"{recipe_note(ctx)} Batch norm keeps every hidden layer's scores at zero mean and unit variance "
                    "over the batch, so the same step makes steadier progress; in eval mode it uses running "
                    "averages, so a test image's prediction does not depend on its batch."}


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


# ---------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------

COLUMNS = [("param_lambda", "λ"), ("train_accuracy", "train acc"), ("test_accuracy", "test acc"),
           ("test_precision", "test P (macro)"),
           ("test_recall", "test R (macro)"), ("test_loss", "test loss"), ("final_train_loss", "final train loss"),
           ("epochs", "epochs"), ("best_epoch", "best epoch"), ("support_vectors", "support vectors"),
           ("fit_seconds", "fit s"), ("predict_seconds", "predict s"), ("seconds", "wall s")]


def format_cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and 0 < abs(value) < 1e-3:
        return f"{value:g}"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}"
    return str(value)


def render_report(results):
    """Markdown: a section per experiment, a table of its rows and its figures."""
    meta = results["meta"]
    lines = [f"# MNIST shootout: {meta['dataset']}", "",
             f"Profile {meta['profile']}, seed {meta['seed']}, device {meta['device']}, {meta['threads']} CPU "
             f"thread(s){' while the SVMs ran in a second process' if meta.get('background_svm') else ''}; "
             f"train/validation/test = {meta['sizes']}; SGD steps "
             f"{'by hand (PTDeep.sgd_step)' if meta.get('sgd_steps_by_hand', True) else 'through autograd'}.", ""]
    for name, result in results["experiments"].items():
        lines += [f"## {result['title']}", ""]
        rows = result.get("rows", [])
        columns = [(key, label) for key, label in COLUMNS if any(key in r for r in rows)]
        lines += ["| model | " + " | ".join(label for _, label in columns) + " |",
                  "|---|" + "---|" * len(columns)]
        lines += [f"| {r['model']} | " + " | ".join(format_cell(r.get(key)) for key, _ in columns) + " |"
                  for r in rows]
        lines.append("")
        if result.get("note"):
            lines += [result["note"], ""]
        lines += [f"![{figure_name}]({figure_name})" for figure_name in result.get("figures", [])]
        lines += [f"({name}: {result['seconds']:.1f} s)", ""]
    return "\n".join(lines)


def write_results(ctx, meta):
    """results.json and report.md, each written whole; experiments already in results.json from an
    earlier run with the same profile, data set and seed are kept."""
    path = ctx.out / "results.json"
    merged = {}
    if path.exists():
        try:
            previous = json.loads(path.read_text())
            if all(previous.get("meta", {}).get(k) == meta[k] for k in ("dataset", "profile", "seed")):
                merged = previous.get("experiments", {})
        except json.JSONDecodeError:
            pass
    merged.update(ctx.results)
    ordered = {name: merged[name] for name in EXPERIMENTS if name in merged}
    results = {"meta": meta, "experiments": ordered}
    data.write_text(path, json.dumps(results, indent=1) + "\n")
    data.write_text(ctx.out / "report.md", render_report(results))
    return results


# ---------------------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------------------


def choose_device(name):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device: cuda requested but torch.cuda.is_available() is False")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"--device: expected auto, cpu or cuda, got {name!r}")
    return torch.device(name)


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
    parser.add_argument("--quick", action="store_true", help="a subset and few epochs: about a minute on a CPU")
    parser.add_argument("--device", default="auto", help="auto, cpu or cuda (default: auto)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the split, shuffling and init (default: 0)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default: 30, quick 3)")
    parser.add_argument("--no-background-svm", action="store_true",
                        help="fit the SVMs in turn, not in a second process beside the nets")
    parser.add_argument("--batch-size", type=int, default=None, help="mini-batch size (default: 100)")
    parser.add_argument("--autograd", action="store_true",
                        help="train every model with loss.backward() and torch.optim (by default SGD steps "
                             "without batch norm use PTDeep.sgd_step, the same steps written out by hand)")
    parser.add_argument("--val-fraction", type=float, default=0.2,
                        help="share of the training set held out for validation (default: 0.2)")
    parser.add_argument("--configs", nargs="+", default=None, metavar="SIZES",
                        help="configs for `depth` and `untrained`, e.g. 784,100,10 784,300,100,10 "
                             "(default: the four of the lab)")
    args = parser.parse_args(argv)
    unknown = [e for e in args.experiments if e not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment {', '.join(map(repr, unknown))}; choose from {', '.join(EXPERIMENTS)}")
    if args.dataset not in DATASETS:
        parser.error(f"--dataset: expected one of {', '.join(DATASETS)}, got {args.dataset!r}")
    for flag in ("epochs", "batch_size", "threads"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            parser.error(f"--{flag.replace('_', '-')}: expected a whole number >= 1, got {value}")
    if not 0 < args.val_fraction < 1:
        parser.error(f"--val-fraction: expected a number in (0, 1), got {args.val_fraction}")
    if args.configs:
        try:
            args.configs = tuple(check_mnist_config(int(s) for s in c.split(",")) for c in args.configs)
        except ValueError as error:
            parser.error(f"--configs: {error}")
    return args


def main(argv=None):
    args = parse_args(argv)
    device = choose_device(args.device)
    profile = QUICK if args.quick else FULL
    overrides = {"epochs": args.epochs, "batch_size": args.batch_size, "depth_configs": args.configs}
    profile = replace(profile, **{k: v for k, v in overrides.items() if v is not None})
    out = args.out or Path("results") / (args.dataset + ("-quick" if args.quick else ""))
    torch.manual_seed(args.seed)

    arrays = load_dataset(args.dataset, args.data_root)
    train, val, test = make_splits(arrays, device, args.val_fraction, profile.n_train, profile.n_test, args.seed)
    ctx = Context(args.dataset, profile, train, val, test, out, args.seed, by_hand=not args.autograd)
    names = args.experiments or list(EXPERIMENTS)
    pool, threads = None, torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    if "svm" in names and len(names) > 1 and not args.no_background_svm and (os.cpu_count() or 1) > 1:
        # SVC fits on one core, for minutes: let it run in a second process while the nets train, and
        # leave that core to it (two processes fighting over every core slow both many times over).
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        ctx.svm_rows = pool.submit(run_svms_from_disk, args.dataset, args.data_root, args.val_fraction, profile,
                                   args.seed)
        if not args.threads and device.type == "cpu":
            torch.set_num_threads(max(1, min(torch.get_num_threads(), (os.cpu_count() or 2) - 1)))
    meta = {"dataset": args.dataset, "profile": "quick" if args.quick else "full", "seed": args.seed,
            "device": str(device), "threads": torch.get_num_threads(), "background_svm": pool is not None,
            "sgd_steps_by_hand": ctx.by_hand,
            "sizes": f"{len(train)}/{len(val)}/{len(test)}", "settings": asdict(profile)}
    start = time.perf_counter()
    try:
        for name in names:
            experiment = EXPERIMENTS[name]
            print(f"== {name}: {experiment.__doc__.splitlines()[0]}")
            t0 = time.perf_counter()
            result = experiment(ctx)
            result["title"] = experiment.__doc__.splitlines()[0]
            result["seconds"] = time.perf_counter() - t0
            ctx.results[name] = result
            if name == "svm":  # the SVM process (if any) is done: its core is free again
                torch.set_num_threads(args.threads or threads)
            for row in result["rows"]:
                print(f"  {row['model']:<45s} test accuracy {row['test_accuracy']:.4f}")
            write_results(ctx, meta)  # after every experiment: an interrupted run keeps what it finished
    finally:
        torch.set_num_threads(threads)  # main() may be called from a REPL or a test: leave it as found
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    print(f"total {time.perf_counter() - start:.1f} s; wrote {out / 'report.md'} and {out / 'results.json'}")
    return ctx.results


if __name__ == "__main__":
    try:
        main()
    except FileNotFoundError as error:  # missing data: the message says what to do, a traceback would not
        sys.exit(f"error: {error}")
