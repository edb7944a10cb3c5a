"""Shared test set-up: headless plotting, and one torch thread for the tiny 2-D problems.

On a 2-core machine two intra-op threads make tiny tensor ops many times slower whenever another
process is busy; one thread is as fast for these sizes and steady under load.
"""

import matplotlib

matplotlib.use("Agg")

import torch  # noqa: E402

torch.set_num_threads(1)
