"""Mistake: eval_perf_binary returns precision and recall swapped."""

import numpy as np


def eval_perf_binary(Y, Y_):
    Y, Y_ = np.asarray(Y), np.asarray(Y_)
    tp, fp, fn = np.sum(Y & Y_), np.sum(Y & ~Y_), np.sum(~Y & Y_)
    accuracy = np.mean(Y == Y_)
    return accuracy, tp / (tp + fp), tp / (tp + fn)  # (accuracy, precision, recall): the wrong order
