"""Multinomial logistic regression in PyTorch, and the training loop every PyTorch model here uses.

    probs = softmax(X W + b)      # X (N, D), W (D, C), b (C,), probs (N, C)
    loss  = mean_i -log probs[i, y_i] + param_lambda * ||W||^2

The loss is computed from log_softmax of the scores (never the log of a softmax, which underflows to
-inf for confident mistakes) and divided by N, so its value and the gradient step do not depend on the
size of the training set.

The module opens with what the lab names: PTLogreg, `train(model, X, Yoh_, param_niter, param_delta)`
and `eval(model, X)`. Below them, the training loop, written once: `train_mb` (mini-batches by index
from a device-resident `Split`, one host sync per epoch, validation and test after every epoch), of
which the lab's full-batch `train` is the one-batch case. Both train through PyTorch's autograd, as the
lab does; `Settings(by_hand=True)` takes PTDeep's hand-written `sgd_step` instead, which is what
mnist_shootout asks for. They serve any model with `forward(X) -> probs`, `logits(X)` and
`get_loss(X, Yoh_, param_lambda)`: PTLogreg here, PTDeep in pt_deep.py.

Run `python pt_logreg.py` for the demo on two and three Gaussian classes, measured against the optimum
that scikit-learn's LogisticRegression finds for the same objective.
"""

import copy
import math
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm import tqdm

import data


class PTLogreg(nn.Module):
    """Logistic regression of D-dimensional data into C classes.

    W and b start at zero: every class then gets probability 1/C, so the untrained loss is exactly
    ln C, and the convex objective has a single optimum to reach from there.
    """

    def __init__(self, D, C):
        super().__init__()
        D = data.check_positive_int(D, "D")
        C = data.check_positive_int(C, "C")
        self.W = weight_parameter(torch.zeros(D, C))  # (D, C)
        self.b = nn.Parameter(torch.zeros(C))  # (C,)

    @property
    def n_inputs(self):
        return self.W.shape[0]

    @property
    def n_classes(self):
        return self.W.shape[1]

    def logits(self, X):
        """Classification scores of shape (N, C) for X, a tensor (N, D) in the model's dtype and on its device."""
        try:
            return torch.addmm(self.b, X, self.W)  # X @ W + b, fused
        except (TypeError, RuntimeError) as error:
            raise input_error(self, X, error) from None

    def forward(self, X):
        """Class probabilities of shape (N, C)."""
        return torch.softmax(self.logits(X), dim=1)

    def get_loss(self, X, Yoh_, param_lambda=0.0):
        """Mean NLL of the labels Yoh_ (one-hot (N, C), or class indices (N,)) plus param_lambda * ||W||^2.
        X as logits takes it; Yoh_ as cross_entropy takes it."""
        return cross_entropy(self.logits(X), Yoh_) + param_lambda * self.W.pow(2).sum()


def cross_entropy(logits, Yoh_):
    """Mean over rows of -sum_c Yoh_[i, c] * log_softmax(logits)[i, c].

    F.cross_entropy computes exactly this, from log_softmax (stable), in one fused call instead of
    four. It also takes the labels as class indices (a tensor of integers of shape (N,)) in place of the
    one-hot matrix: the same loss without the (N, C) product, which mini-batch training uses. A one-hot
    matrix of any dtype (the lab gives Yoh_ none: integers, booleans, float64) is taken in the scores'
    dtype, indices of any integer dtype as int64.

    This runs every step, so it looks at shapes and dtypes, never at values (a wait for the device): a
    class index outside 0..C-1 is named when torch refuses it on the CPU; on a GPU torch's own device-side
    assertion stops the process (train_mb checks its Splits' labels once, before the first step).
    """
    if not isinstance(Yoh_, torch.Tensor):
        raise ValueError(f"Yoh_: expected a torch.Tensor (a one-hot matrix or class indices), got "
                         f"{type(Yoh_).__name__}")
    if Yoh_.shape != logits.shape and Yoh_.shape != logits.shape[:1]:
        raise ValueError(f"Yoh_: expected a one-hot {tuple(logits.shape)} matrix or {logits.shape[0]} class "
                         f"indices (N = rows of X, C = the model's classes), got shape {tuple(Yoh_.shape)}")
    if Yoh_.ndim == 2 and Yoh_.dtype != logits.dtype:
        Yoh_ = Yoh_.to(logits.dtype)
    elif Yoh_.ndim == 1 and Yoh_.dtype != torch.int64:
        if Yoh_.is_floating_point() or Yoh_.is_complex():
            raise ValueError(f"Yoh_: class indices must be integers, got {Yoh_.dtype} (a one-hot matrix is (N, C))")
        Yoh_ = Yoh_.long()
    try:
        return F.cross_entropy(logits, Yoh_)
    except IndexError:  # the CPU's "Target 5 is out of bounds"
        raise ValueError(f"Yoh_: class indices must lie in 0..{logits.shape[1] - 1} (the model's classes), got "
                         f"{Yoh_.min().item()}..{Yoh_.max().item()}") from None


def train(model, X, Yoh_, param_niter, param_delta, param_lambda=0.0, log_every=None, callback=None, by_hand=False):
    """The lab's full-batch gradient descent: train_mb with one batch of all N rows, so an epoch is one
    step. Prints the loss every log_every steps and returns the loss of every step.

    Inputs:
    - model: PTLogreg or PTDeep
    - X: torch.Tensor of shape (N, D); Yoh_: one-hot torch.Tensor of shape (N, C)
    - param_niter: number of steps; param_delta: learning rate; param_lambda: L2 weight
    - log_every: print the loss every this many steps (default: 10 times in all; 0 = silent)
    - callback: called as callback(iteration) every log_every steps (e.g. to draw an animation frame)
    - by_hand: False (the lab's way): autograd and torch.optim.SGD; True: PTDeep's hand-written sgd_step,
      the same steps up to rounding in about a third of the time on these small problems (train_mb)
    Returns: a 1-D NumPy array of the loss before every step.
    Raises what train_mb raises (the step size named param_delta), and warns when the loss rose.
    """
    check_inputs(model, X, Yoh_)
    param_niter = data.check_positive_int(param_niter, "param_niter")
    param_delta = data.check_number(param_delta, "param_delta")  # named as the lab names it, not Settings.lr
    if log_every is None:
        log_every = max(1, param_niter // 10)
    settings = Settings(epochs=param_niter, batch_size=len(X), lr=param_delta, param_lambda=param_lambda,
                        by_hand=by_hand)
    device, dtype = model_device_dtype(model)
    split = Split(X.to(device, dtype), Yoh_.to(device, dtype).argmax(dim=1))  # booleans too (argmax takes no bool)
    history = train_mb(model, split, settings, log_every=log_every, callback=callback, step_name="param_delta")
    return np.asarray(history.train_loss)


@torch.no_grad()
def eval(model, X):
    """Class probabilities (NumPy, shape (N, C)) for NumPy data X of shape (N, D), in eval mode."""
    X = data.check_data(X, "X", n_cols=model.n_inputs)
    device, dtype = model_device_dtype(model)
    X = torch.as_tensor(X, device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        return model(X).cpu().numpy()
    finally:
        model.train(was_training)


# ---------------------------------------------------------------------------------------------------
# The machinery under train: data on the device, mini-batches by index, one loop for every model
# ---------------------------------------------------------------------------------------------------


def weight_parameter(W):
    """W (in, out), the lab's layout, as a Parameter kept in memory as nn.Linear keeps its weight,
    (out, in), and seen through a transpose: the same numbers and shape, but the products of a training
    step run up to 3x faster for narrow outputs such as MNIST's 10 classes (benchmarks/bench_train.py).
    Gradients, .to() and state_dict keep the layout."""
    return nn.Parameter(W.t().contiguous().t())


def model_device_dtype(model):
    """Device and floating dtype of a model's parameters: inputs are brought to these."""
    p = next(model.parameters())
    return p.device, p.dtype


def input_problem(model, X, name="X"):
    """What makes X unfit for `model`, by name (None when nothing does): a 2-D tensor (N, D) of the model's
    input size, in its parameters' dtype and on their device is expected. Looks at no values."""
    D, (device, dtype) = model.n_inputs, model_device_dtype(model)
    if not isinstance(X, torch.Tensor):
        return (f"{name}: expected a torch.Tensor (N, {D}), got {type(X).__name__} (eval(model, X) takes NumPy "
                f"data; or torch.as_tensor(X, dtype={dtype}))")
    if X.ndim != 2 or X.shape[1] != D:
        return f"{name}: expected (N, {D}) inputs (the model's input size), got shape {tuple(X.shape)}"
    if X.device != device:
        return (f"{name}: expected a tensor on {device} (the model's parameters), got one on {X.device}; move it "
                f"with {name}.to('{device}') or the model with model.to('{X.device}')")
    if X.dtype != dtype:
        return (f"{name}: expected {dtype} on {device} (the model's parameters), got {X.dtype} on {X.device}; "
                f"convert with {name}.to({dtype}) or the model with model.to({X.dtype})")
    return None


def input_error(model, X, error):
    """The error to raise when torch refused X in a model's forward pass: a ValueError naming what is wrong
    with X (input_problem), or torch's own `error` when X is not to blame. Asked only after a failure, so
    that a good X costs nothing."""
    problem = input_problem(model, X)
    return error if problem is None else ValueError(problem)


def check_inputs(model, X, Yoh_=None):
    """Validate a training batch for `model`: X (N, D) finite, Yoh_ (N, C) one-hot over model's C."""
    D = model.n_inputs
    if not isinstance(X, torch.Tensor):
        raise ValueError(f"X: expected a torch.Tensor (N, D), got {type(X).__name__} (to_tensors(X, Y_) makes X and "
                         "Yoh_ of NumPy data)")
    data.check_has_data(X, "X")
    data.check_has_data(Yoh_, "Yoh_")
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(f"X: expected a non-empty 2-D torch.Tensor (N, D), got shape {tuple(X.shape)}")
    if X.shape[1] != D:
        raise ValueError(f"X: expected {D} columns (the model's input size), got shape {tuple(X.shape)}")
    if not torch.isfinite(X).all():
        raise ValueError("X: contains NaN or infinite values")
    if Yoh_ is None:
        return
    C = model.n_classes
    if not isinstance(Yoh_, torch.Tensor) or Yoh_.ndim != 2:
        raise ValueError(f"Yoh_: expected a 2-D one-hot torch.Tensor (N, C), got {getattr(Yoh_, 'shape', Yoh_)}")
    if Yoh_.shape[0] != X.shape[0]:
        raise ValueError(f"Yoh_: expected {X.shape[0]} rows (one per row of X), got {Yoh_.shape[0]}")
    if Yoh_.shape[1] != C:
        raise ValueError(f"Yoh_: expected {C} columns (labels in 0..{C - 1}), got shape {tuple(Yoh_.shape)}")
    if not (((Yoh_ == 0) | (Yoh_ == 1)).all() and (Yoh_.sum(dim=1) == 1).all()):
        raise ValueError("Yoh_: expected one-hot rows (a single 1 per row)")


def to_tensors(X, Y_, C=None, device="cpu", dtype=torch.float32):
    """NumPy data X (N, D) and labels Y_ (N,) as torch tensors X and one-hot Yoh_ on `device`."""
    X = data.check_data(X, "X")
    Yoh_ = data.class_to_onehot(data.check_labels(Y_, "Y_", n_rows=len(X), n_classes=C), C)
    return (torch.as_tensor(X, device=device, dtype=dtype), torch.as_tensor(Yoh_, device=device, dtype=dtype))


@dataclass
class Split:
    """Inputs X (N, D), floating and finite, and class indices Y (N,) int64, on one device.

    Checked once, when it is made (one look at the values: a single wait for the device), so that
    training on it checks only what a call can change: shapes, dtype and device against the model
    (check_split). Raises ValueError naming Split.X or Split.Y.
    """

    X: torch.Tensor
    Y: torch.Tensor

    def __post_init__(self):
        self.label_range = check_tensors(self.X, self.Y, ("Split.X", "Split.Y"))

    @classmethod
    def from_numpy(cls, images, labels, device="cpu"):
        """Images of any shape (N, ...) with pixels 0..255, flattened to (N, D) float32 in [0, 1], and their
        labels (N,) as class indices (data.check_labels: whole numbers, one per image)."""
        images = data.as_numpy(images, "images")
        if images.ndim < 2 or not (np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)):
            raise ValueError(f"images: expected an array of N images of numbers, got {images.dtype} {images.shape}")
        if images.size and (images.min() < 0 or images.max() > 255):
            raise ValueError(f"images: expected pixels 0..255, got values from {images.min()} to {images.max()} "
                             f"({images.dtype})")
        if images.ndim >= 2 and images[0].size == 0:
            raise ValueError(f"images: expected images of at least one pixel, got shape {images.shape}")
        labels = data.check_labels(labels, "labels", n_rows=len(images))
        X = torch.as_tensor(images.reshape(len(images), -1), device=device).float().div_(255)
        return cls(X, torch.as_tensor(labels, device=device))

    def __len__(self):
        return len(self.Y)

    def subset(self, index):
        return Split(self.X[index], self.Y[index])

    @staticmethod
    def concat(*splits):
        return Split(torch.cat([s.X for s in splits]), torch.cat([s.Y for s in splits]))


def check_tensors(X, Y, names=("X", "Y")):
    """Check inputs X (N, D), floating and finite, and class indices Y (N,), int64 and non-negative, on
    one device; return Y's range (low, high). One look at the values: a single wait for the device.
    Raises ValueError naming names[0] or names[1]."""
    data.check_has_data(X, names[0])
    data.check_has_data(Y, names[1])
    if not isinstance(X, torch.Tensor) or X.ndim != 2 or 0 in X.shape or not X.is_floating_point():
        raise ValueError(f"{names[0]}: expected a non-empty 2-D floating tensor (N, D), D >= 1, got "
                         f"{getattr(X, 'dtype', type(X).__name__)} {tuple(getattr(X, 'shape', ()))}")
    if not isinstance(Y, torch.Tensor) or Y.shape != (X.shape[0],) or Y.dtype != torch.int64:
        raise ValueError(f"{names[1]}: expected {X.shape[0]} class indices (an int64 tensor, one per row of X), "
                         f"got {getattr(Y, 'dtype', type(Y).__name__)} {tuple(getattr(Y, 'shape', ()))}")
    if Y.device != X.device:
        raise ValueError(f"{names[1]}: expected it on X's device {X.device}, got {Y.device}")
    low, high, finite = torch.stack([Y.min(), Y.max(), torch.isfinite(X).all()]).tolist()
    if not finite:
        raise ValueError(f"{names[0]}: contains NaN or infinite values")
    if low < 0:
        raise ValueError(f"{names[1]}: class indices must be non-negative, got range {low:.0f}..{high:.0f}")
    return int(low), int(high)


def check_fits(model, X, label_range, names):
    """X's width and the label range (low, high) against `model`'s inputs and classes."""
    if X.shape[1] != model.n_inputs:
        raise ValueError(f"{names[0]}: expected (N, {model.n_inputs}) inputs (the model's input size), got "
                         f"{tuple(X.shape)}")
    if label_range[1] >= model.n_classes:
        raise ValueError(f"{names[1]}: class indices must lie in 0..{model.n_classes - 1}, got range "
                         f"{label_range[0]}..{label_range[1]}")


def check_batch(model, X, Y, names=("X", "Y")):
    """Validate inputs X (N, D) and class indices Y (N,) for `model` (check_tensors, input_problem,
    check_fits), naming them `names` in errors."""
    label_range = check_tensors(X, Y, names)
    if problem := input_problem(model, X, names[0]):
        raise ValueError(problem)
    check_fits(model, X, label_range, names)


def check_model(model):
    """Raise ValueError unless `model` is a torch.nn.Module with parameters (PTLogreg, PTDeep)."""
    if not isinstance(model, nn.Module) or next(model.parameters(), None) is None:
        raise ValueError(f"model: expected a model with parameters (a PTLogreg or PTDeep), got {repr(model):.80}")


def check_split(model, split, name="train"):
    """A Split (checked when it was made) against `model`: its width, dtype and device and its label range,
    without a look at the values; the training split must hold two classes or more. Errors name
    <name>.X and <name>.Y."""
    if not isinstance(split, Split):
        raise ValueError(f"{name}: expected a Split, got {type(split).__name__}")
    device, dtype = model_device_dtype(model)
    if split.X.dtype != dtype or split.X.device != device:
        raise ValueError(f"{name}.X: expected {dtype} on {device} (the model's parameters), got {split.X.dtype} on "
                         f"{split.X.device}")
    check_fits(model, split.X, split.label_range, (f"{name}.X", f"{name}.Y"))
    low, high = split.label_range
    if name == "train" and low == high:
        raise ValueError(f"{name}.Y: a classifier needs at least two classes to train on, got only class {low}")


@torch.no_grad()
def evaluate(model, split, chunk=10_000):
    """Mean NLL (without regularization), accuracy, predicted labels (N,) and per-sample NLL (N,) of
    `model` on a Split, in eval mode (the model's mode is restored afterwards)."""
    if not isinstance(split, Split):
        raise ValueError(f"split: expected a Split (Split(X, Y) or Split.from_numpy); got {type(split).__name__} "
                         "(eval(model, X) takes the inputs alone)")
    check_model(model)
    check_split(model, split, "split")
    chunk = data.check_positive_int(chunk, "chunk")
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
    """Accuracy, macro precision and recall (data.eval_perf_multi) and mean loss of `model` on a Split."""
    loss, _, Y, _ = evaluate(model, split)
    accuracy, pr, _ = data.eval_perf_multi(Y.cpu().numpy(), split.Y.cpu().numpy(), C=model.n_classes)
    recall, precision = np.mean(pr, axis=0)
    return {"accuracy": accuracy, "precision": float(precision), "recall": float(recall), "loss": loss}


@dataclass
class History:
    """What train_mb records per epoch; best_epoch (1-based) has the lowest validation loss (None: no
    validation split)."""

    train_loss: list = field(default_factory=list)  # mean loss of the epoch's steps, each before its update
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    test_loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)  # the learning rate each epoch ran with
    best_epoch: int | None = None
    best_state: dict | None = None  # a copy of the model's state_dict after best_epoch
    seconds: float = 0.0
    settings: "Settings | None" = None  # how the run was trained
    steps_by_hand: bool = False  # whether the SGD steps went through model.sgd_step (Settings.by_hand)


OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


def mini_batches(train, batch_size, generator):
    """One epoch's mini-batches (X, Y): the training set in a fresh random order, cut into pieces of
    batch_size (the last one smaller when it does not divide, and folded into the one before when it
    would hold a single row: batch norm cannot normalize one row). A single batch is the whole set as
    it is: the order of the rows does not change a mean."""
    batch_size = data.check_positive_int(batch_size, "batch_size")
    if batch_size >= len(train):
        yield train.X, train.Y
        return
    order = torch.randperm(len(train), generator=generator).to(train.X.device)
    pieces = list(order.split(batch_size))
    if len(pieces[-1]) == 1:
        pieces[-2:] = [torch.cat(pieces[-2:])]
    for index in pieces:
        yield train.X.index_select(0, index), train.Y.index_select(0, index)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How train_mb trains: checked when made (ValueError naming the field), recorded in History.settings.

    - epochs: passes over the training set; batch_size: rows per mini-batch (at most the training set's)
    - optimizer: 'sgd' or 'adam', with learning rate lr; lr_gamma: torch's ExponentialLR factor, stepped
      once per epoch (None: a constant rate)
    - param_lambda: the L2 weight of the model's get_loss
    - early_stopping: load the parameters of the epoch with the lowest validation loss back at the end
    - by_hand: False (the default): loss.backward() and torch.optim, as the lab trains. True: SGD steps
      through model.sgd_step (the backward pass written out, the same steps up to rounding) when the
      model has one that applies (model.steps_by_hand: PTDeep with relu, sigmoid or tanh)
    - seed: fixes the shuffling (the initialization is the model's own)
    """

    epochs: int = 10
    batch_size: int = 100
    optimizer: str = "sgd"
    lr: float = 0.1
    lr_gamma: float | None = None
    param_lambda: float = 0.0
    early_stopping: bool = False
    by_hand: bool = False
    seed: int = 0

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer: expected one of {sorted(OPTIMIZERS)}, got {self.optimizer!r}")
        checked = {"epochs": data.check_positive_int(self.epochs, "epochs"),
                   "batch_size": data.check_positive_int(self.batch_size, "batch_size"),
                   "lr": data.check_number(self.lr, "lr"),
                   "lr_gamma": None if self.lr_gamma is None else data.check_number(self.lr_gamma, "lr_gamma"),
                   "param_lambda": data.check_number(self.param_lambda, "param_lambda", allow_zero=True),
                   "seed": data.check_seed(self.seed)}
        for name in ("early_stopping", "by_hand"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name}: expected True or False, got {getattr(self, name)!r}")
            checked[name] = bool(getattr(self, name))
        for name, value in checked.items():  # as plain Python numbers (a NumPy scalar would not go to JSON)
            object.__setattr__(self, name, value)


def train_mb(model, train, settings=Settings(), val=None, test=None, *, desc="train", log_every=0, callback=None,
             step_name="lr", progress=True):
    """Mini-batch training: every epoch reshuffles the training set, cuts it into ceil(N / batch_size)
    mini-batches and takes one step on each; the loss of a step is the mean over its mini-batch.

    Inputs:
    - model: PTLogreg, PTDeep (anything with n_inputs, n_classes, logits(X), get_loss(X, Y, param_lambda)),
      on train's device
    - train, val, test: Splits; val and test are evaluated after every epoch when given (a copy of the
      parameters of the epoch with the lowest validation loss is kept in history.best_state)
    - settings: a Settings (epochs, batch size, optimizer, rates, L2 weight, early stopping, seed)
    - desc: the run's name in the progress bar and in messages; progress: a progress bar over the epochs
      when stderr is a terminal (False: never)
    - log_every: print the loss every this many epochs (0: silent); callback(epoch index) then too
    - step_name: what error messages call lr (train passes the lab's param_delta)
    Returns a History. Raises ValueError for bad arguments (before any work), FloatingPointError when
    an epoch's loss is not finite or exceeds data.RUNAWAY times the untrained loss; warns (data.check_settled)
    when the loss ends above the first epoch's or still swings widely at the end.
    """
    if not isinstance(settings, Settings):
        raise ValueError(f"settings: expected a pt_logreg.Settings, got {type(settings).__name__}")
    check_model(model)
    for name, split in (("train", train), ("val", val), ("test", test)):
        if split is not None:
            check_split(model, split, name)
    log_every = data.check_positive_int(log_every, "log_every", minimum=0)
    if callback is not None and not callable(callback):
        raise ValueError(f"callback: expected a function called as callback(epoch), got {callback!r}")
    if settings.batch_size > len(train):
        raise ValueError(f"batch_size: expected at most the {len(train)} training samples, got {settings.batch_size}")
    if settings.early_stopping and val is None:
        raise ValueError("val: early stopping needs a validation split")
    dtype = model_device_dtype(model)[1]
    largest = torch.finfo(dtype).max  # what the steps multiply by must be a number of the model's dtype
    for name, value in ((step_name, settings.lr), ("param_lambda", settings.param_lambda)):
        if value > largest:
            raise ValueError(f"{name}: {value:g} overflows the model's {dtype} (largest {largest:.4g})")

    by_hand = settings.by_hand and settings.optimizer == "sgd" and getattr(model, "steps_by_hand", False)
    opt = None if by_hand else OPTIMIZERS[settings.optimizer](model.parameters(), lr=settings.lr)
    scheduler = None if opt is None or not settings.lr_gamma else \
        torch.optim.lr_scheduler.ExponentialLR(opt, gamma=settings.lr_gamma)
    generator = torch.Generator().manual_seed(settings.seed)  # on the CPU: the same order on every device
    unit = "iteration" if settings.batch_size == len(train) else "epoch"  # a full batch: one step per epoch
    history, best_val, first = History(settings=settings, steps_by_hand=by_hand), math.inf, None
    start = time.perf_counter()
    for epoch in tqdm(range(settings.epochs), desc=desc, disable=None if progress else True, leave=False):
        # by hand there is no optimizer object: the rate is ExponentialLR's, lr * gamma^epoch
        rate = settings.lr * (settings.lr_gamma or 1.0) ** epoch if by_hand else opt.param_groups[0]["lr"]
        history.lr.append(rate)
        losses = one_epoch(model, mini_batches(train, settings.batch_size, generator), opt, rate,
                           settings.param_lambda)
        if scheduler is not None:
            scheduler.step()
        first = losses[0].item() if first is None else first
        epoch_loss = losses.mean().item()  # the one host sync of the epoch (two in the first)
        data.check_progress(epoch_loss, first, f"{unit} {epoch + 1}", desc, step_name, settings.lr)
        history.train_loss.append(epoch_loss)
        if log_every and ((epoch + 1) % log_every == 0 or epoch + 1 == settings.epochs):
            tqdm.write(f"{unit} {epoch + 1:>6d}  loss {epoch_loss:.6f}")
            if callback is not None:
                callback(epoch)
        if val is not None:
            val_loss, val_accuracy, _, _ = evaluate(model, val)
            history.val_loss.append(val_loss)
            history.val_accuracy.append(val_accuracy)
            if val_loss < best_val:
                best_val, history.best_epoch = val_loss, epoch + 1
                history.best_state = copy.deepcopy(model.state_dict())  # a real copy, not references
        if test is not None:
            history.test_loss.append(evaluate(model, test)[0])
    if settings.early_stopping:
        model.load_state_dict(history.best_state)
    history.seconds = time.perf_counter() - start
    data.check_settled(history.train_loss, desc, step_name, settings.lr)
    return history


def one_epoch(model, batches, opt, rate, param_lambda):
    """One step on each mini-batch (X, Y) of `batches`: through the optimizer `opt` (autograd), or with
    opt None by model.sgd_step at this rate. Returns the loss of every step, each before its update, as
    a tensor on the model's device (no host sync)."""
    model.train()
    losses = []
    for X, Y in batches:
        if opt is None:
            loss = model.sgd_step(X, Y, rate, param_lambda, check=False)  # train_mb checked the data
        else:
            loss = model.get_loss(X, Y, param_lambda)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        losses.append(loss.detach())
    return torch.stack(losses)


def choose_device(name):
    """torch.device for 'auto' (CUDA when there is one), 'cpu' or 'cuda'; ValueError naming --device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"--device: expected auto, cpu or cuda, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device: cuda requested but torch.cuda.is_available() is False")
    return torch.device(name)


# ---------------------------------------------------------------------------------------------------
# Figures, reports and the demo
# ---------------------------------------------------------------------------------------------------


def plot_history(history, mark=None, ax=None, title=""):
    """Train (mean over the epoch's batches), validation and test loss per epoch on a log scale; a dotted
    line at epoch `mark` (e.g. the one whose parameters were kept)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    epochs = np.arange(1, len(history.train_loss) + 1)
    for losses, label in ((history.train_loss, "train (batch mean)"), (history.val_loss, "validation"),
                          (history.test_loss, "test")):
        if losses:
            ax.plot(epochs, losses, label=label)
    if mark:
        ax.axvline(mark, color="grey", linestyle=":", linewidth=1)
    ax.set(title=title, xlabel="epoch", ylabel="mean NLL", yscale="log")
    ax.title.set_fontsize(9)
    return ax


def plot_histories(histories, title):
    """A new figure with one plot_history panel per run; histories maps a label to a History or to
    (History, the epoch to mark)."""
    import matplotlib.pyplot as plt

    if not histories:
        raise ValueError("histories: expected at least one run's History to plot, got none")
    fig, axes = plt.subplots(1, len(histories), figsize=(4 * len(histories), 3.4), squeeze=False)
    for ax, (label, h) in zip(axes[0], histories.items(), strict=True):
        plot_history(*(h if isinstance(h, tuple) else (h, h.best_epoch)), ax=ax, title=label)
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(title)
    return fig


def report(name, model, X, Y_):
    """Print accuracy, per-class recall/precision and (two classes) AP of `model` on (X, Y_)."""
    probs = eval(model, X)
    Y_ = data.check_labels(Y_, "Y_", n_rows=len(probs), n_classes=probs.shape[1])
    Y = probs.argmax(axis=1)
    accuracy, pr, _ = data.eval_perf_multi(Y, Y_, C=probs.shape[1])
    per_class = "  ".join(f"class {c}: R {r:.3f} P {p:.3f}" for c, (r, p) in enumerate(pr))
    line = f"{name}: accuracy {accuracy:.3f}  {per_class}"
    if probs.shape[1] == 2 and 0 < Y_.sum() < len(Y_):
        line += f"  AP {data.average_precision(probs[:, 1], Y_):.3f}"
    print(line)
    return probs


def plot_decision(model, X, Y_, title, ax=None):
    """Decision surface (the probability of the predicted class, centred at 1/2) and the data."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    probs = eval(model, X)
    if probs.shape[1] == 2:
        surface = lambda G: eval(model, G)[:, 1]  # noqa: E731
    else:  # several classes: show where the winning class is confident
        surface = lambda G: eval(model, G).max(axis=1)  # noqa: E731
    data.graph_surface(surface, data.data_rect(X), offset=0.5, ax=ax)
    data.graph_data(X, Y_, probs.argmax(axis=1), ax=ax)
    ax.set_title(title, fontsize=9)
    return ax


def reference_fit(X, Y_, param_lambda):
    """The optimum of PTLogreg's objective found by an independent solver, scikit-learn's
    LogisticRegression (L-BFGS), as a float64 PTLogreg; None for param_lambda = 0 on separable data,
    whose optimum lies at infinity (so does that of data where one class alone is separable: not detected).

    scikit-learn minimizes 1/2 ||w||^2 + c sum_i nll_i. For C >= 3 classes that is our objective times
    1/(2 lambda) with c = 1/(2 N lambda); for two classes it fits one vector w = W[:, 1] - W[:, 0], and
    our optimum has W[:, 0] = -W[:, 1] (the penalty is then lambda ||w||^2 / 2), so c = 1/(N lambda).
    """
    from sklearn.linear_model import LogisticRegression

    param_lambda = data.check_number(param_lambda, "param_lambda", allow_zero=True)
    C, N = int(Y_.max()) + 1, len(X)
    c = np.inf if param_lambda == 0 else 1 / ((2 if C > 2 else 1) * N * param_lambda)
    fit = LogisticRegression(C=c, tol=1e-12, max_iter=100_000).fit(X, Y_)
    if param_lambda == 0 and fit.score(X, Y_) == 1.0:
        return None
    W, b = fit.coef_.T, fit.intercept_  # (D, C) or (D, 1) for two classes
    if C == 2:
        W, b = np.hstack([-W / 2, W / 2]), np.array([-b[0] / 2, b[0] / 2])
    model = PTLogreg(X.shape[1], C).double()
    with torch.no_grad():
        model.W.copy_(torch.as_tensor(W))
        model.b.copy_(torch.as_tensor(b))
    return model


def main(argv=None):
    parser = data.demo_argparser("Logistic regression in PyTorch on 2 and 3 Gaussian classes.",
                                 "results/pt_logreg.png")
    parser.add_argument("--niter", type=data.count_argument, default=5000, help="gradient steps (default: 5000)")
    parser.add_argument("--delta", type=data.rate_argument, default=0.2, help="learning rate (default: 0.2)")
    args = parser.parse_args(argv)
    import matplotlib.pyplot as plt

    torch.set_num_threads(1)  # tiny tensors: a second thread only adds overhead (and stalls under load)
    rng = np.random.default_rng(args.seed)
    fig, axes = plt.subplots(2, 4, figsize=(16, 7.5))
    for row, C in zip(axes, (2, 3), strict=True):
        X, Y_ = data.sample_gauss_2d(C, 100, rng=rng)
        # Trained on centred inputs: the same model and the same optimum (the bias absorbs the shift and
        # the penalty is on W alone), but a far better conditioned descent, which tolerates 4x the step
        # and converges in thousands of steps instead of hundreds of thousands.
        mean = X.mean(axis=0)
        Xt, Yoh_ = to_tensors(X - mean, Y_)
        for ax, param_lambda in zip(row, (0.0, 1e-3, 1e-2, 1e-1), strict=True):
            model = PTLogreg(2, C)
            start = time.perf_counter()
            print(f"-- {C} classes, param_lambda={param_lambda}")
            losses = train(model, Xt, Yoh_, args.niter, args.delta, param_lambda, log_every=args.niter // 2)
            with torch.no_grad():  # the same model for the raw inputs: X W + b' = (X - mean) W + b
                model.b -= torch.as_tensor(mean, dtype=model.b.dtype) @ model.W
            name = f"C={C} lambda={param_lambda:g}"
            report(f"{name} ({time.perf_counter() - start:.2f} s)", model, X, Y_)
            reference = reference_fit(X, Y_, param_lambda)
            if reference is None:
                print("   separable data and no penalty: the loss falls towards 0 as |W| grows, no finite optimum")
            else:
                Xr, Yr = to_tensors(X, Y_, dtype=torch.float64)
                optimum = reference.get_loss(Xr, Yr, param_lambda).item()
                final = model.double().get_loss(Xr, Yr, param_lambda).item()
                print(f"   loss {final:.6f}; the optimum (scikit-learn's LogisticRegression, same objective) "
                      f"{optimum:.6f}: {final - optimum:.1e} away, probabilities within "
                      f"{np.abs(eval(model, X) - eval(reference, X)).max():.1e}")
            plot_decision(model, X, Y_, f"{name}: loss {losses[-1]:.3f}, |W|={model.W.norm():.2f}", ax)
    fig.suptitle(f"PTLogreg, delta {args.delta:g}: decision surfaces as param_lambda grows "
                 "(3 classes: colour = probability of the winning class)")
    data.finish_figure(fig, args.out, args.show)

    # Hyper-parameters that fail (README, "pt_logreg.py"): the last 3-class data set, raw, other steps.
    Xt, Yoh_ = to_tensors(X, Y_)
    print(f"-- 3 classes, raw inputs in [0, 10], other learning rates, 2000 steps (untrained loss ln 3 = "
          f"{np.log(3):.4f})")
    for param_delta in (1e-5, 0.05, 1.0, 10.0):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            losses = train(PTLogreg(2, 3), Xt, Yoh_, 2000, param_delta, log_every=0)
        last = losses[-100:]
        print(f"param_delta={param_delta:<6g} final loss {losses[-1]:.4f}, min {losses.min():.4f}, "
              f"last 100 steps range {last.min():.4f}..{last.max():.4f}"
              + "".join(f"\n   warning: {w.message}" for w in caught))


if __name__ == "__main__":
    data.run_script(main)
