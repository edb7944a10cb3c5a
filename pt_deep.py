"""A configurable fully connected classifier in PyTorch, with our own batch normalization.

config = [D, H1, ..., C]: [2, 3] is logistic regression, [2, 5, 3] one hidden layer of 5 units.
For every layer k:

    S_k = H_{k-1} W_k + b_k            # W_k (in, out), b_k (out,)
    H_k = f(BN(S_k))  (hidden layers)  # BN only with batchnorm=True
    probs = softmax(S_last)

Training (`train`, `train_mb`, through autograd as the lab trains) and evaluation (`eval`) are
pt_logreg's: one loop serves both models. `sgd_step` is one SGD step with the backward pass written out
by hand, as fcann2 does for one hidden layer: what train_mb takes with Settings(by_hand=True) (the
shootout does), where autograd's per-step overhead would dominate small batches. `save_model` / `load_model` write and
read checkpoints.

Run `python pt_deep.py` for the lab's experiments (two mixtures x three configs, ReLU vs sigmoid, and
PTDeep([2, 3]) against PTLogreg); `--animate` also writes a GIF of the decision surface while
[2, 10, 10, 2] trains.
"""

import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import data
from pt_logreg import (
    PTLogreg,
    check_batch,
    cross_entropy,
    eval,
    input_error,
    plot_decision,
    report,
    to_tensors,
    train,
    weight_parameter,
)

# The activations whose derivative sgd_step writes out by hand, by name; f'(S) from the output H = f(S)
ACTIVATIONS = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
DERIVATIVES = {"relu": lambda H: H > 0, "sigmoid": lambda H: H * (1 - H), "tanh": lambda H: 1 - H * H}
# The same three as students also pass them: torch.nn.functional's functions and torch.nn's modules
FUNCTION_NAMES = {torch.relu: "relu", F.relu: "relu", torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid",
                  torch.tanh: "tanh", F.tanh: "tanh"}
MODULE_NAMES = {nn.ReLU: "relu", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh"}
INITS = ("torch", "glorot", "he")  # PTDeep's init; the first is the default


class PTDeep(nn.Module):
    """Fully connected classifier; weights in self.weights, biases in self.biases (ParameterLists).

    Inputs:
    - config: [D, H1, ..., C], the layer sizes
    - activation: the hidden layers' nonlinearity: torch.relu, torch.sigmoid, torch.tanh, their
      torch.nn.functional and torch.nn forms (F.relu, nn.ReLU(), ...) or names ('relu'); for these
      sgd_step has the derivative written out. Any other element-wise callable (F.leaky_relu,
      nn.ELU(), a lambda) works too and trains through autograd (train_mb's by_hand does not apply).
    - batchnorm: our batch normalization after every hidden layer's affine part (below)
    - seed: draws the initialization from its own generator (None: torch's global one)
    - init: how the weights are drawn (below)

    Initialization, chosen by measurement (benchmarks/init_study.py and its table in benchmarks/README.md;
    the lab: it matters a great deal): init='torch' (the default) draws W_k and b_k from
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as nn.Linear does. Its weights are small (variance 1/(3 fan_in)),
    so an untrained net, deep or wide, on MNIST's pixels or on the raw 0..10 coordinates of
    sample_gmm_2d, starts with small scores, a nearly uniform softmax and a loss close to ln C, and the
    lab's step 0.5 trains it; He's larger weights ('he': N(0, 2/fan_in) before a ReLU, N(0, 1/fan_in)
    elsewhere, biases 0) start such a net at a loss of 3 to 5 and a wide one diverges. Glorot's
    ('glorot': N(0, 2/(fan_in + fan_out)), biases 0) also trains the wide net but fits the small 2-D
    mixtures worse. The price of a small start: sigmoid units sit on a plateau for a few thousand steps
    before they learn, and a few full-batch steps barely leave the untrained loss.

    With batchnorm=True every hidden layer normalizes its scores S_k with the batch mean and variance
    (training mode) or with running averages of them (eval mode), then scales and shifts them with
    learnable gamma_k, beta_k. The running averages are buffers: they follow .to(), are saved in the
    state_dict and are not parameters. (b_k is then redundant: the mean subtraction removes it and its
    gradient is zero; it is kept so that every config has the same weights/biases layout.)
    """

    def __init__(self, config, activation=torch.relu, batchnorm=False, momentum=0.1, eps=1e-5, seed=None,
                 init="torch"):
        super().__init__()
        self.config = check_config(config)
        self.activation, self.activation_name = check_activation(activation)
        if not isinstance(batchnorm, (bool, np.bool_)):
            raise ValueError(f"batchnorm: expected True or False, got {batchnorm!r}")
        self.batchnorm = bool(batchnorm)
        if isinstance(momentum, bool) or not (isinstance(momentum, (int, float)) and 0 < momentum <= 1):
            raise ValueError(f"momentum: expected a number in (0, 1] (the running averages' step), got {momentum!r}")
        self.momentum, self.eps = momentum, data.check_number(eps, "eps")
        if init not in INITS:
            raise ValueError(f"init: expected one of {list(INITS)}, got {init!r}")
        self.init = init
        generator = torch.Generator().manual_seed(data.check_seed(seed)) if seed is not None else None
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for k, (fan_in, fan_out) in enumerate(zip(self.config[:-1], self.config[1:], strict=True)):
            if init == "torch":  # nn.Linear's: W and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
                bound = 1 / math.sqrt(fan_in)
                W = torch.empty(fan_in, fan_out).uniform_(-bound, bound, generator=generator)
                b = torch.empty(fan_out).uniform_(-bound, bound, generator=generator)
            else:
                if init == "glorot":
                    variance = 2 / (fan_in + fan_out)
                else:  # he: gain 2 before a ReLU, whose output keeps half the second moment of its input
                    variance = (2 if k < self.n_hidden and self.activation_name == "relu" else 1) / fan_in
                W = torch.randn(fan_in, fan_out, generator=generator) * math.sqrt(variance)
                b = torch.zeros(fan_out)
            self.weights.append(weight_parameter(W))
            self.biases.append(nn.Parameter(b))
        if self.batchnorm:
            hidden = self.config[1:-1]
            self.gammas = nn.ParameterList([nn.Parameter(torch.ones(h)) for h in hidden])
            self.betas = nn.ParameterList([nn.Parameter(torch.zeros(h)) for h in hidden])
            for k, h in enumerate(hidden):
                self.register_buffer(f"running_mean{k}", torch.zeros(h))
                self.register_buffer(f"running_var{k}", torch.ones(h))

    @property
    def n_hidden(self):
        return len(self.config) - 2

    @property
    def n_inputs(self):
        return self.config[0]

    @property
    def n_classes(self):
        return self.config[-1]

    def normalize(self, k, S):
        """Batch-normalize the scores S (N, H_k) of hidden layer k, before gamma and beta: returns
        (S - mean) / sqrt(var + eps) and 1 / sqrt(var + eps) (H_k,).

        Training mode: batch statistics (biased variance, as in the normalization itself), and the
        running averages move towards them (unbiased variance). Eval mode: the running averages only,
        so a sample's output does not depend on the rest of its batch.
        """
        running_mean = getattr(self, f"running_mean{k}")
        running_var = getattr(self, f"running_var{k}")
        if self.training:
            if S.shape[0] < 2:
                raise ValueError("X: batch normalization in training mode needs at least 2 rows per batch")
            mean = S.mean(dim=0)
            var = S.var(dim=0, unbiased=False)
            with torch.no_grad():
                n = S.shape[0]
                running_mean.lerp_(mean, self.momentum)
                running_var.lerp_(var * n / (n - 1), self.momentum)
        else:
            mean, var = running_mean, running_var
        inv_std = torch.rsqrt(var + self.eps)
        return (S - mean) * inv_std, inv_std

    def layer_outputs(self, X, normalized=None):
        """The forward pass: [H_0 = X, H_1, ..., H_L-1] (input and hidden layers) and the scores S_L.
        With batch norm, `normalized` (a list) receives normalize's pair for every hidden layer."""
        H = [X]
        for k in range(self.n_hidden):
            S = torch.addmm(self.biases[k], H[k], self.weights[k])  # H @ W + b in one fused call
            if self.batchnorm:
                S_hat, inv_std = self.normalize(k, S)
                if normalized is not None:
                    normalized.append((S_hat, inv_std))
                S = torch.addcmul(self.betas[k], self.gammas[k], S_hat)  # gamma * S_hat + beta
            H.append(self.activation(S))
        return H, torch.addmm(self.biases[-1], H[-1], self.weights[-1])

    def logits(self, X):
        """Classification scores of shape (N, C) for X, a tensor (N, D) in the model's dtype and on its device."""
        try:
            return self.layer_outputs(X)[1]
        except (TypeError, RuntimeError) as error:
            raise input_error(self, X, error) from None

    def forward(self, X):
        """Class probabilities of shape (N, C)."""
        return torch.softmax(self.logits(X), dim=1)

    def get_loss(self, X, Yoh_, param_lambda=0.0):
        """Mean NLL of Yoh_ (one-hot (N, C) or class indices (N,)) plus param_lambda * sum_k ||W_k||^2."""
        loss = cross_entropy(self.logits(X), Yoh_)
        return loss + param_lambda * self.squared_weights() if param_lambda else loss

    def squared_weights(self):
        """sum_k ||W_k||^2, the L2 term (biases are not regularized)."""
        return sum(W.pow(2).sum() for W in self.weights)

    @torch.no_grad()
    def sgd_step(self, X, Y, lr, param_lambda=0.0, check=True):
        """One SGD step on the mini-batch X (n, D), Y (n,) class indices, with the gradients of get_loss
        written out by hand and fused with the update. It computes what get_loss(X, Y, param_lambda).backward()
        and a torch.optim.SGD(lr) step compute, up to rounding, in about half the operations and without
        autograd's or the optimizer's bookkeeping: on small batches the time goes to the number of
        operations, not to their size. Returns the loss before the step (a 0-dim tensor: no wait for the
        device).

        With S_k = H_k-1 W_k + b_k, H_k = f(S_k) and G_k = n dL/dS_k (the batch size n times the gradient):

            G_L = softmax(S_L) - onehot(Y)
            dL/dW_k = H_k-1^T G_k / n + 2 lambda W_k        dL/db_k = (column sums of G_k) / n
            G_k-1 = (G_k W_k^T) * f'(S_k-1)

        With batch norm, H_k = f(Z_k), Z_k = gamma_k S^_k + beta_k and S^_k = (S_k - mean) / std over the
        batch; from G^Z = (G_k+1 W_k+1^T) * f'(Z_k) (column means over the batch written <.>):

            dL/dgamma_k = (column sums of G^Z * S^_k) / n      dL/dbeta_k = (column sums of G^Z) / n
            G_k = (G^ - <G^> - S^_k * <G^ * S^_k>) / std,      G^ = G^Z * gamma_k

        check=True validates X and Y (pt_logreg.check_batch: one wait for the device); train_mb checks its
        data once and passes check=False, leaving shape checks only. Raises ValueError naming the argument.
        """
        if not self.steps_by_hand:
            raise ValueError(f"activation: sgd_step differentiates {sorted(ACTIVATIONS)} by hand, not "
                             f"{self.activation!r}; train through autograd (as train and train_mb do by default)")
        if not lr > 0:  # plain comparisons: this runs every step
            raise ValueError(f"lr: expected a positive number, got {lr!r}")
        if not param_lambda >= 0:
            raise ValueError(f"param_lambda: expected a non-negative number, got {param_lambda!r}")
        n = X.shape[0]
        if check:
            check_batch(self, X, Y)
        elif X.ndim != 2 or X.shape[1] != self.n_inputs or Y.shape != (n,) or Y.dtype != torch.int64:
            raise ValueError(f"X, Y: expected shapes (n, {self.n_inputs}) and (n,) int64, got {tuple(X.shape)} and "
                             f"{tuple(Y.shape)} {Y.dtype}")
        normalized = []
        H, S = self.layer_outputs(X, normalized)
        log_probs = torch.log_softmax(S, dim=1)
        loss = F.nll_loss(log_probs, Y)  # = cross_entropy(S, Y), reusing log_probs
        if param_lambda:
            loss = loss + param_lambda * self.squared_weights()
        G = log_probs.exp_().sub_(F.one_hot(Y, self.n_classes))
        derivative = DERIVATIVES[self.activation_name]
        for k in reversed(range(len(self.weights))):
            W, b = self.weights[k], self.biases[k]
            G_below = G.mm(W.t()).mul_(derivative(H[k])) if k > 0 else None  # before W moves
            W.addmm_(H[k].t(), G, beta=1 - 2 * lr * param_lambda, alpha=-lr / n)  # W - lr dL/dW in one call
            b.sub_(G.sum(dim=0), alpha=lr / n)
            G = G_below
            if k > 0 and self.batchnorm:  # G is G^Z of hidden layer k - 1: back through its normalization
                G = self.normalization_backward(k - 1, G, *normalized[k - 1], lr / n)
        return loss

    def normalization_backward(self, k, G_Z, S_hat, inv_std, step):
        """sgd_step's way back through hidden layer k's batch norm (sgd_step's docstring has the formulas):
        moves gamma_k and beta_k by `step` times the column sums of n dL/dgamma and n dL/dbeta and
        returns G_k = n dL/dS_k. In eval mode mean and std are the running averages, constants."""
        gamma, beta = self.gammas[k], self.betas[k]
        sum_G, sum_GS = G_Z.sum(dim=0), (G_Z * S_hat).sum(dim=0)  # n dL/dbeta_k, n dL/dgamma_k
        G_hat = G_Z * gamma
        if self.training:  # <G^> = gamma sum_G / n and <G^ * S^> = gamma sum_GS / n
            G_hat.sub_(torch.addcmul(sum_G, S_hat, sum_GS).mul_(gamma / G_Z.shape[0]))
        gamma.sub_(sum_GS, alpha=step)
        beta.sub_(sum_G, alpha=step)
        return G_hat.mul_(inv_std)

    def count_params(self):
        """Print the name and shape of every parameter; return their total number of elements."""
        total = 0
        for name, p in self.named_parameters():
            print(f"{name:<12s} {tuple(p.shape)}")
            total += p.numel()
        print(f"total        {total}")
        return total

    @property
    def steps_by_hand(self):
        """Whether sgd_step can train this model: its activation is one of ACTIVATIONS."""
        return self.activation_name is not None

    def extra_repr(self):
        activation = self.activation_name or repr(self.activation)
        return f"config={self.config}, activation={activation}, batchnorm={self.batchnorm}, init={self.init}"


def check_config(config):
    """config must be a list of at least two positive ints [D, H1, ..., C]."""
    try:
        sizes = list(config)
    except TypeError:
        raise ValueError(f"config: expected a list of layer sizes [D, ..., C], got {config!r}") from None
    if len(sizes) < 2:
        raise ValueError(f"config: expected at least two sizes [D, ..., C], got {sizes}")
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in sizes):
        raise ValueError(f"config: every layer size must be a positive integer, got {sizes}")
    return [int(s) for s in sizes]


def check_activation(activation):
    """The hidden layers' activation as (function, name).

    relu, sigmoid and tanh, by name or as any of their torch, torch.nn.functional or torch.nn forms
    (torch.relu, F.relu, nn.ReLU(), ...), become torch's function with its name: sgd_step knows their
    derivatives. Any other callable that maps a tensor to a tensor of the same shape is kept as it is,
    with name None: the model then trains through autograd. Raises ValueError naming `activation`.
    """
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation: expected one of {sorted(ACTIVATIONS)} or a function, got {activation!r}")
        return ACTIVATIONS[activation], activation
    name = next((n for f, n in FUNCTION_NAMES.items() if activation is f), MODULE_NAMES.get(type(activation)))
    if name is not None:
        return ACTIVATIONS[name], name
    if not callable(activation):
        raise ValueError(f"activation: expected a function such as torch.relu (or its name), got {activation!r}")
    probe = torch.linspace(-3, 3, 12).reshape(3, 4)
    try:
        output = activation(probe)
    except Exception as error:
        raise ValueError(f"activation: {activation!r} failed on a (3, 4) tensor: {error}") from None
    if not isinstance(output, torch.Tensor) or output.shape != probe.shape or output.dtype != probe.dtype:
        raise ValueError(f"activation: expected an element-wise function (a (3, 4) tensor in, the same shape "
                         f"and dtype out); {activation!r} returned "
                         f"{getattr(output, 'shape', type(output).__name__)} {getattr(output, 'dtype', '')}")
    # element-wise: each output depends on its own input alone, so changing one input changes no other
    # output (a softmax over a row, or a normalization, changes its neighbours)
    changed = probe.clone()
    changed[1, 2] += 1.0
    others = torch.ones_like(probe, dtype=torch.bool)
    others[1, 2] = False
    if not torch.equal(activation(changed)[others], output[others]):
        raise ValueError(f"activation: expected an element-wise function (each output from its own input); "
                         f"{activation!r} mixes the elements of its input (a softmax or a normalization?)")
    return activation, None


def save_model(model, path):
    """Write a PTDeep to `path` whole: config, batchnorm, init, the activation's name and the state_dict
    (on the CPU), loadable with torch.load(..., weights_only=True).

    A checkpoint holds tensors and names, not code: an activation other than relu, sigmoid and tanh is
    recorded by its repr only, and load_model then needs it passed again.
    """
    if not isinstance(model, PTDeep):
        raise ValueError(f"model: save_model writes a PTDeep; got a {type(model).__name__} (torch.save its "
                         "state_dict instead)")
    custom = None if model.steps_by_hand else repr(model.activation)
    with data.atomic_output(path) as tmp:
        torch.save({"config": model.config, "batchnorm": model.batchnorm, "init": model.init,
                    "activation": model.activation_name, "custom_activation": custom,
                    "state_dict": {k: v.cpu() for k, v in model.state_dict().items()}}, tmp)
    return path


def load_model(path, activation=None):
    """Rebuild a PTDeep written by save_model (tensors only: torch.load with weights_only=True).

    `activation` is needed only for a model saved with a custom activation (save_model cannot store a
    function); given for a relu, sigmoid or tanh checkpoint, it must be the same one.
    Raises ValueError naming the file when it is not such a checkpoint or does not fit its config.
    """
    try:
        checkpoint = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as error:  # not a torch file, truncated, or holding more than tensors
        raise ValueError(f"{path}: not a PTDeep checkpoint written by save_model ({error})") from None
    keys = {"config", "batchnorm", "state_dict"}
    if not isinstance(checkpoint, dict) or not keys <= checkpoint.keys():
        found = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise ValueError(f"{path}: not a PTDeep checkpoint written by save_model (expected the keys "
                         f"{sorted(keys)}, found {found})")
    saved = checkpoint.get("activation", "relu")
    if saved is None and activation is None:
        custom = checkpoint.get("custom_activation")
        raise ValueError(f"activation: {path} was saved with a custom activation ({custom}), which a checkpoint "
                         "cannot hold; pass it again: load_model(path, activation=...)")
    if saved is not None and activation is not None and check_activation(activation)[1] != saved:
        raise ValueError(f"activation: {path} was trained with {saved}, got {activation!r}")
    try:
        model = PTDeep(checkpoint["config"], activation if saved is None else saved,
                       batchnorm=checkpoint["batchnorm"], init=checkpoint.get("init", "he"))
    except ValueError as error:  # a field that no PTDeep has: the file is named with it
        raise ValueError(f"{path}: not a PTDeep checkpoint written by save_model ({error})") from None
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as error:
        raise ValueError(f"{path}: its weights do not fit its config {checkpoint['config']} ({error})") from None
    return model


def animate_training(model, X, Y_, path, param_niter, param_delta, param_lambda, frames=40):
    """Train `model` on (X, Y_) and write a GIF of its decision surface every param_niter/frames steps."""
    import matplotlib.pyplot as plt
    from matplotlib.animation import PillowWriter

    Xt, Yoh_ = to_tensors(X, Y_, C=model.n_classes)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    writer = PillowWriter(fps=8)

    def frame(it):
        ax.clear()
        plot_decision(model, X, Y_, f"{model.config}, iteration {it + 1}", ax)
        writer.grab_frame()

    with data.atomic_output(path) as tmp, writer.saving(fig, tmp, dpi=80):
        train(model, Xt, Yoh_, param_niter, param_delta, param_lambda,
              log_every=max(1, param_niter // frames), callback=frame)
    plt.close(fig)
    print(f"wrote {path}")


def main(argv=None):
    parser = data.demo_argparser("PTDeep on 2-D Gaussian mixtures: depth and activation.", "results/pt_deep.png")
    parser.add_argument("--niter", type=data.count_argument, default=10_000, help="gradient steps (default: 10000)")
    parser.add_argument("--animate", action="store_true",
                        help="also write a GIF of the decision surface of [2,10,10,2] while it trains")
    args = parser.parse_args(argv)
    if args.animate and args.out.with_suffix(".gif").is_dir():  # before the work, not after it
        parser.error(f"--animate: {args.out.with_suffix('.gif')} is a folder, and the GIF beside --out goes there")
    import matplotlib.pyplot as plt

    torch.set_num_threads(1)  # tiny tensors: a second thread only adds overhead (and stalls under load)
    param_delta, param_lambda = 0.1, 1e-4
    rng = np.random.default_rng(args.seed)
    datasets = {"gmm(4,2,40)": data.sample_gmm_2d(4, 2, 40, rng=rng),
                "gmm(6,2,10)": data.sample_gmm_2d(6, 2, 10, rng=rng)}
    runs = [(config, "relu") for config in ([2, 2], [2, 10, 2], [2, 10, 10, 2])] + [([2, 10, 10, 2], "sigmoid")]
    fig, axes = plt.subplots(len(datasets), len(runs), figsize=(4 * len(runs), 4 * len(datasets)))
    for row, (set_name, (X, Y_)) in zip(axes, datasets.items(), strict=True):
        Xt, Yoh_ = to_tensors(X, Y_, C=2)
        for ax, (config, act) in zip(row, runs, strict=True):
            model = PTDeep(config, act, seed=args.seed)
            start = time.perf_counter()
            losses = train(model, Xt, Yoh_, args.niter, param_delta, param_lambda, log_every=0)
            name = f"{set_name} {config} {act}"
            report(f"{name} (loss {losses[-1]:.4f}, {time.perf_counter() - start:.1f} s)", model, X, Y_)
            plot_decision(model, X, Y_, f"{name}\nloss {losses[-1]:.3f}", ax)
    fig.suptitle(f"PTDeep, {args.niter} steps, delta {param_delta}, lambda {param_lambda}: P(class 1)")
    data.finish_figure(fig, args.out, args.show)

    # The lab's check: PTDeep([2, 3]) is logistic regression, so trained the same way it must agree with
    # PTLogreg. In float64, so that what is left is the difference of the models, not float32 rounding
    # (which the by-hand step and autograd would accumulate differently over thousands of steps, were
    # PTDeep trained with by_hand=True).
    X, Y_ = data.sample_gauss_2d(3, 100, rng=rng)
    X = X - X.mean(axis=0)  # centred, as in pt_logreg's demo: a larger stable step
    Xt, Yoh_ = to_tensors(X, Y_, dtype=torch.float64)
    deep, logreg = PTDeep([2, 3], seed=args.seed).double(), PTLogreg(2, 3).double()
    with torch.no_grad():  # the same start: PTLogreg's zeros
        deep.weights[0].zero_()
        deep.biases[0].zero_()
    for model in (deep, logreg):
        train(model, Xt, Yoh_, args.niter, 0.2, param_lambda, log_every=0)
    print(f"PTDeep([2, 3]) vs PTLogreg(2, 3) on sample_gauss_2d(3, 100), {args.niter} steps, delta 0.2, lambda "
          f"{param_lambda}, float64: max |difference of probabilities| "
          f"{np.abs(eval(deep, X) - eval(logreg, X)).max():.1e}")

    if args.animate:
        X, Y_ = datasets["gmm(6,2,10)"]
        animate_training(PTDeep([2, 10, 10, 2], "relu", seed=args.seed), X, Y_, args.out.with_suffix(".gif"),
                         args.niter, param_delta, param_lambda)


if __name__ == "__main__":
    data.run_script(main)
