"""Shared test set-up: headless plotting, and one torch thread for the tiny 2-D problems.

On a 2-core machine two intra-op threads make tiny tensor ops many times slower whenever another
process is busy; one thread is as fast for these sizes and steady under load.
"""

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

torch.set_num_threads(1)


import os  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mnist_root():
    """The folder with MNIST/raw/ and FashionMNIST/raw/: $MNIST_ROOT. Tests that use it are skipped when
    it is unset, and fail (they do not skip) when it is set and the files are missing."""
    if not os.environ.get("MNIST_ROOT"):
        pytest.skip("MNIST_ROOT is not set")
    return Path(os.environ["MNIST_ROOT"])


def pytest_addoption(parser):
    parser.addoption("--impl", default=None, metavar="DIR",
                     help="tests/lab: the folder whose data.py, fcann2.py, ... the lab's checks run against "
                          "(default: this project)")
    parser.addoption("--lab-time-limit", type=float, default=60.0, metavar="SECONDS",
                     help="tests/lab: stop a check that runs longer than this (default: 60)")
