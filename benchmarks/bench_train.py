"""Training speed against this machine's limits, measured side by side in one run.

For [784,10], [784,100,10], [784,100,100,10] and batch sizes 100, 1000 and the full training set:

- bound: the epoch's matrix products (forward, and the weight and input gradients of the backward
  pass) alone, called with torch.mm at the same shapes, each in its fastest memory layout: no
  training loop can beat it;
- train_mb: pt_logreg.train_mb with PTDeep, as the shootout runs it (SGD steps by hand: PTDeep.sgd_step);
- autograd: the same with Settings(by_hand=False), loss.backward() and torch.optim.SGD;
- reference: a plain loop, nn.Linear layers + F.cross_entropy, a per-batch index gather, optimizer step;
- DataLoader: the common approach, torchvision's MNIST with ToTensor through a DataLoader (batch 100
  only, and only with --dataloader: it is slow by a factor that needs no repeated proof);

then fcann2's 1e5 demo iterations against a minimal NumPy loop, and the shootout's SVCs (--svm): the
engine fit_svc picks (scikit-learn-intelex where installed) against stock scikit-learn.
Every figure is the median of --repeats epochs after one warm-up epoch; bound, train_mb, autograd and
reference take turns within each round, so that a slow spell of a shared machine hits them alike.

    python benchmarks/bench_train.py [--device cpu|cuda] [--repeats 7] [--dataloader] [--svm 10000 60000]
"""

import argparse
import gzip
import itertools
import math
import shutil
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench_fcann2 import time_fcann2  # noqa: E402

import data  # noqa: E402
from ksvm_wrap import fit_svc  # noqa: E402
from mnist_shootout import config_name  # noqa: E402
from pt_deep import PTDeep  # noqa: E402
from pt_logreg import Settings, Split, train_mb  # noqa: E402

CONFIGS = ([784, 10], [784, 100, 10], [784, 100, 100, 10])


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def median_seconds(run, repeats, device):
    """Median wall time of run() over `repeats` calls, after one warm-up call."""
    return side_by_side({"run": run}, repeats, device)["run"]


def side_by_side(runs, repeats, device):
    """{name: median wall time of runs[name]()} over `repeats` rounds, after one warm-up round; every
    round calls each run once, in turn, so that a slow spell of a shared machine hits them all alike."""
    times = {name: [] for name in runs}
    for round_ in range(repeats + 1):
        for name, run in runs.items():
            sync(device)
            start = time.perf_counter()
            run()
            sync(device)
            if round_ > 0:
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


def fastest_product(m, k, n, device, repeats=5):
    """(seconds, run) for one float32 (m, k) @ (k, n) product in the fastest of the four memory layouts
    (each factor stored as it is or transposed): the bound should not depend on the layout we chose."""
    best = (math.inf, None)
    for a_t, b_t in itertools.product((False, True), repeat=2):
        a = torch.randn(k, m, device=device).t() if a_t else torch.randn(m, k, device=device)
        b = torch.randn(n, k, device=device).t() if b_t else torch.randn(k, n, device=device)
        product = partial(torch.mm, a, b, out=torch.empty(m, n, device=device))
        calls = max(1, min(20, int(2e8 / (m * k * n))))  # about 0.2 GFLOP per timing, so small ones are seen
        seconds = median_seconds(lambda product=product, calls=calls: [product() for _ in range(calls)],
                                 repeats, device) / calls
        best = min(best, (seconds, product), key=lambda pair: pair[0])
    return best


def epoch_bound(config, N, batch_size, device):
    """One epoch's matrix products on their own, each in its fastest layout: per layer the forward
    product, the weight gradient and (all but the first layer) the input gradient, for every full batch
    plus the remainder. Returns run() (the products, called as any training loop must call them) and
    their FLOPs."""
    full, rest = divmod(N, batch_size)
    products, flops = [], 0.0
    for k, (fan_in, fan_out) in enumerate(zip(config[:-1], config[1:], strict=True)):
        for count, B in ((full, batch_size), (1 if rest else 0, rest)):
            if count == 0:
                continue
            shapes = [(B, fan_in, fan_out), (fan_in, B, fan_out)] + ([(B, fan_out, fan_in)] if k > 0 else [])
            for m, kk, n in shapes:
                products.append((count, fastest_product(m, kk, n, device)[1]))
                flops += count * 2 * m * kk * n

    def run():
        for count, product in products:
            for _ in range(count):
                product()

    return run, flops


def reference_epoch(train, model, optimizer, batch_size, generator):
    """The plain loop: nn.Linear layers, per-batch gather, F.cross_entropy, optimizer step."""
    order = torch.randperm(len(train), generator=generator).to(train.X.device)
    for start in range(0, len(train), batch_size):
        index = order[start:start + batch_size]
        loss = F.cross_entropy(model(train.X[index]), train.Y[index])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def reference_model(config, device):
    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(config[:-1], config[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out))
        if k < len(config) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers).to(device)


def dataloader_run(root, folder, batch_size, device):
    """run(): one epoch of the common approach, torchvision's MNIST (unpacked into folder) with ToTensor
    through a DataLoader, training [784,100,10] nn.Linear layers."""
    import torchvision
    from torch.utils.data import DataLoader

    raw = Path(folder) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in data.IDX_NAMES:  # torchvision wants them unpacked
        source = data.find_idx(Path(root) / "MNIST" / "raw", name)
        with (gzip.open(source) if source.suffix == ".gz" else open(source, "rb")) as f, \
                open(raw / name, "wb") as out:
            shutil.copyfileobj(f, out)
    dataset = torchvision.datasets.MNIST(folder, train=True, transform=torchvision.transforms.ToTensor())
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
    model = reference_model([784, 100, 10], device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

    def run():
        for x, y in loader:
            loss = F.cross_entropy(model(x.to(device).flatten(1)), y.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return run


def svm_seconds(sizes, root, stock=True):
    """Fit and predict seconds (10000 test images) of the shootout's SVCs with the engine fit_svc picks
    and, side by side, with stock scikit-learn (libsvm, one core): test accuracy and label agreement."""
    x_train, y_train, x_test, y_test = data.load_dataset("mnist", root)
    X = Split.from_numpy(x_train, y_train).X.numpy()  # the shootout's pixels, in [0, 1]
    X_test = Split.from_numpy(x_test, y_test).X.numpy()
    for n in sizes:
        for kernel in ("linear", "rbf"):
            labels = {}
            for accelerated in (True, False) if stock else (True,):
                start = time.perf_counter()
                svm, engine = fit_svc(kernel, "scale", X[:n], y_train[:n], accelerated=accelerated)
                fit = time.perf_counter() - start
                start = time.perf_counter()
                labels[accelerated] = svm.predict(X_test)
                predict = time.perf_counter() - start
                print(f"SVC {kernel:<6s} on {n:>5d} {engine:<28s}: fit {fit:7.1f} s  predict {predict:6.1f} s  "
                      f"test accuracy {np.mean(labels[accelerated] == y_test):.4f}  support vectors "
                      f"{len(svm.support_)}", flush=True)
            if len(labels) == 2:
                print(f"  labels agree on {np.sum(labels[True] == labels[False])} of {len(y_test)} test images")


def training_table(train, device, repeats, root, scratch=None):
    """Print the table: bound, train_mb, its autograd path and the reference loop, per config and batch
    size; with a scratch folder also the DataLoader route, beside [784,100,10] at batch 100. Returns
    {(config name, batch size): {run name: seconds}}."""
    print(f"{'config':<18s} {'batch':>6s} {'bound s':>8s} {'GFLOP/s':>8s} {'train_mb s':>10s} {'x bound':>8s} "
          f"{'autograd s':>10s} {'reference s':>11s} {'ref/ours':>8s}")
    generator = torch.Generator().manual_seed(0)
    N = len(train)
    table = {}
    for config in CONFIGS:
        for batch_size in (100, 1000, N):
            runs = {}
            runs["bound"], flops = epoch_bound(config, N, batch_size, device)
            for by_hand in (True, False):  # train_mb as the shootout runs it, and its autograd path
                model = PTDeep(config, seed=0).to(device)
                runs[by_hand] = partial(train_mb, model, train, Settings(epochs=1, batch_size=batch_size, lr=0.01,
                                                                              by_hand=by_hand))
            reference = reference_model(config, device)
            optimizer = torch.optim.SGD(reference.parameters(), lr=0.01)
            runs["reference"] = partial(reference_epoch, train, reference, optimizer, batch_size, generator)
            if scratch is not None and config == [784, 100, 10] and batch_size == 100:
                runs["DataLoader"] = dataloader_run(root, scratch, batch_size, device)
            seconds = table[config_name(config), batch_size] = side_by_side(runs, repeats, device)
            bound, ours = seconds["bound"], seconds[True]
            print(f"{config_name(config):<18s} {batch_size:>6d} {bound:8.3f} {flops / bound / 1e9:8.1f} "
                  f"{ours:10.3f} {ours / bound:8.2f} {seconds[False]:10.3f} {seconds['reference']:11.3f} "
                  f"{seconds['reference'] / ours:8.2f}", flush=True)
            if "DataLoader" in seconds:
                print(f"{'  torchvision + DataLoader':<34s} {seconds['DataLoader']:10.3f} s per epoch: "
                      f"{seconds['DataLoader'] / ours:.1f}x ours", flush=True)
    return table


def print_targets(table):
    """The issue's targets for this CPU, and how many rows of the table meet each."""
    def line(text, ratios, target, higher_is_better):
        met = sum(r >= target if higher_is_better else r <= target for r in ratios)
        worst = min(ratios) if higher_is_better else max(ratios)
        print(f"  {text}: {met} of {len(ratios)} (worst {worst:.2f}x)")

    print("targets:")
    line("batch >= 1000 within 1.5x of the bound", [t[True] / t["bound"] for (_, b), t in table.items() if b >= 1000],
         1.5, False)
    line("batch 100 at least 1.5x faster than the reference",
         [t["reference"] / t[True] for (_, b), t in table.items() if b == 100], 1.5, True)
    line("autograd (the lab's train_mb) within 1.1x of the reference",
         [t[False] / t["reference"] for t in table.values()], 1.1, False)
    loader = [t["DataLoader"] / t[True] for t in table.values() if "DataLoader" in t]
    if loader:
        line("batch 100 at least 10x faster than the DataLoader route", loader, 10, True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--repeats", type=int, default=7, help="timed epochs per figure (default: 7)")
    parser.add_argument("--data-root", default=None, help="MNIST root (default: $MNIST_ROOT or the cache)")
    parser.add_argument("--dataloader", action="store_true", help="also time torchvision + DataLoader")
    parser.add_argument("--svm", type=int, nargs="*", default=[], metavar="N",
                        help="also time the SVCs on these training-set sizes, e.g. 10000 60000")
    parser.add_argument("--no-table", action="store_true", help="skip the training table (e.g. to time the SVCs only)")
    parser.add_argument("--no-stock-svm", action="store_true",
                        help="time the SVCs with the engine fit_svc picks only, not also with stock scikit-learn")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    root = args.data_root or data.default_root()
    if not args.no_table:
        x_train, y_train, _, _ = data.load_dataset("mnist", root)
        train = Split.from_numpy(x_train, y_train, device)
        print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, N = {len(train)}")
        peak = 2 * 1000 * 784 * 100 / fastest_product(1000, 784, 100, device)[0] / 1e9
        print(f"torch.mm float32 (1000 x 784) @ (784 x 100): {peak:.1f} GFLOP/s")
        with tempfile.TemporaryDirectory() as scratch:
            table = training_table(train, device, args.repeats, root, scratch if args.dataloader else None)
        ours, minimal = time_fcann2(100_000, 3)
        print(f"fcann2: {ours:.2f} s per 1e5 iterations, minimal NumPy loop {minimal:.2f} s, ratio "
              f"{ours / minimal:.3f} (target: within 1.2x)")
        print_targets(table)
    if args.svm:
        svm_seconds(args.svm, root, stock=not args.no_stock_svm)


if __name__ == "__main__":
    main()
