"""Training speed against this machine's limits, measured side by side in one run.

For [784,10], [784,100,10], [784,100,100,10] and batch sizes 100, 1000 and the full training set:

- bound: the epoch's matrix products (forward, and the weight and input gradients of the backward
  pass) timed alone with torch.mm at the same shapes: no training loop can beat it;
- train_mb: mnist_shootout.train_mb with PTDeep;
- reference: a plain loop, nn.Linear layers + F.cross_entropy, a per-batch index gather, optimizer step;
- DataLoader: the common approach, torchvision's MNIST with ToTensor through a DataLoader (batch 100
  only, and only with --dataloader: it is slow by a factor that needs no repeated proof);

then fcann2's 1e5 demo iterations against a minimal NumPy loop, and the shootout's SVCs (--svm).
Every figure is the median of --repeats epochs after one warm-up epoch.

    python benchmarks/bench_train.py [--device cpu|cuda] [--repeats 5] [--dataloader] [--svm 10000 60000]
"""

import argparse
import gzip
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

import mnist_shootout as ms  # noqa: E402
from pt_deep import PTDeep  # noqa: E402

CONFIGS = ([784, 10], [784, 100, 10], [784, 100, 100, 10])


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def median_seconds(run, repeats, device):
    """Median wall time of run() over `repeats` calls, after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        run()
        sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mm_seconds(m, k, n, device, repeats=20):
    """Median seconds of one float32 (m, k) @ (k, n) product."""
    a = torch.randn(m, k, device=device)
    b = torch.randn(k, n, device=device)
    out = torch.empty(m, n, device=device)

    def run():
        for _ in range(10):
            torch.mm(a, b, out=out)

    return median_seconds(run, repeats, device) / 10


def epoch_bound(config, N, batch_size, device):
    """Seconds one epoch's matrix products take on their own: per layer the forward product, the weight
    gradient and (all but the first layer) the input gradient, for every full batch plus the remainder."""
    full, rest = divmod(N, batch_size)
    total, flops = 0.0, 0.0
    for k, (fan_in, fan_out) in enumerate(zip(config[:-1], config[1:], strict=True)):
        for count, B in ((full, batch_size), (1 if rest else 0, rest)):
            if count == 0:
                continue
            shapes = [(B, fan_in, fan_out), (fan_in, B, fan_out)] + ([(B, fan_out, fan_in)] if k > 0 else [])
            for m, kk, n in shapes:
                total += count * mm_seconds(m, kk, n, device)
                flops += count * 2 * m * kk * n
    return total, flops


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


def dataloader_epoch_seconds(root, batch_size, repeats, device):
    """torchvision MNIST + ToTensor + DataLoader, [784,100,10], one epoch over the 60000 images."""
    import torchvision
    from torch.utils.data import DataLoader

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "MNIST" / "raw"
        raw.mkdir(parents=True)
        for name in (n for pair in ms.IDX_FILES.values() for n in pair):  # torchvision wants them unpacked
            source = ms.find_idx(Path(root) / "MNIST" / "raw", name)
            with (gzip.open(source) if source.suffix == ".gz" else open(source, "rb")) as f, \
                    open(raw / name, "wb") as out:
                shutil.copyfileobj(f, out)
        dataset = torchvision.datasets.MNIST(tmp, train=True, transform=torchvision.transforms.ToTensor())
        loader = DataLoader(dataset, batch_size=batch_size, shuffle=True)
        model = reference_model([784, 100, 10], device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)

        def run():
            for x, y in loader:
                loss = F.cross_entropy(model(x.to(device).flatten(1)), y.to(device))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

        return median_seconds(run, repeats, device)


def svm_seconds(sizes, root):
    """Fit and predict (10000 test images) seconds of the shootout's SVCs."""
    from sklearn.svm import SVC

    x_train, y_train, x_test, y_test = ms.load_dataset("mnist", root)
    X = x_train.reshape(len(x_train), -1).astype(np.float32) / 255
    X_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255
    for n in sizes:
        for kernel in ("linear", "rbf"):
            svm = SVC(kernel=kernel, decision_function_shape="ovo", cache_size=2000)
            start = time.perf_counter()
            svm.fit(X[:n], y_train[:n])
            fit = time.perf_counter() - start
            start = time.perf_counter()
            accuracy = np.mean(svm.predict(X_test) == y_test)
            predict = time.perf_counter() - start
            print(f"SVC {kernel:<6s} on {n:>5d}: fit {fit:7.1f} s  predict {predict:6.1f} s  "
                  f"total {fit + predict:7.1f} s  test accuracy {accuracy:.4f}", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per figure (default: 5)")
    parser.add_argument("--data-root", default=None, help="MNIST root (default: $MNIST_ROOT or the cache)")
    parser.add_argument("--dataloader", action="store_true", help="also time torchvision + DataLoader")
    parser.add_argument("--svm", type=int, nargs="*", default=[], metavar="N",
                        help="also time the SVCs on these training-set sizes, e.g. 10000 60000")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    root = args.data_root or ms.default_root()
    x_train, y_train, _, _ = ms.load_dataset("mnist", root)
    train = ms.Split.from_numpy(x_train, y_train, device)
    N = len(train)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} threads, N = {N}")
    peak = 2 * 1000 * 784 * 100 / mm_seconds(1000, 784, 100, device) / 1e9
    print(f"torch.mm float32 (1000 x 784) @ (784 x 100): {peak:.1f} GFLOP/s")
    print(f"{'config':<18s} {'batch':>6s} {'bound s':>8s} {'GFLOP/s':>8s} {'train_mb s':>10s} {'x bound':>8s} "
          f"{'reference s':>11s} {'ref/ours':>8s}")
    generator = torch.Generator().manual_seed(0)
    for config in CONFIGS:
        for batch_size in (100, 1000, N):
            bound, flops = epoch_bound(config, N, batch_size, device)
            model = PTDeep(config, seed=0).to(device)
            ours = median_seconds(partial(ms.train_mb, model, train, 1, batch_size=batch_size, lr=0.01),
                                  args.repeats, device)
            reference = reference_model(config, device)
            optimizer = torch.optim.SGD(reference.parameters(), lr=0.01)
            plain = median_seconds(partial(reference_epoch, train, reference, optimizer, batch_size, generator),
                                   args.repeats, device)
            print(f"{ms.config_name(config):<18s} {batch_size:>6d} {bound:8.3f} {flops / bound / 1e9:8.1f} "
                  f"{ours:10.3f} {ours / bound:8.2f} {plain:11.3f} {plain / ours:8.2f}", flush=True)
            if args.dataloader and config == [784, 100, 10] and batch_size == 100:
                loader = dataloader_epoch_seconds(root, 100, max(1, args.repeats // 2), device)
                print(f"{'  torchvision + DataLoader':<34s} {loader:10.3f} s per epoch: {loader / ours:.1f}x ours",
                      flush=True)
    ours, minimal = time_fcann2(100_000, 3)
    print(f"fcann2: {ours:.2f} s per 1e5 iterations, minimal NumPy loop {minimal:.2f} s, ratio {ours / minimal:.3f}")
    if args.svm:
        svm_seconds(args.svm, root)


if __name__ == "__main__":
    main()
