"""Not a mistake: at import it seeds NumPy and picks an interactive backend, as a student's
notebook does."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

np.random.seed(1)
matplotlib.use("TkAgg")


class Random2DGaussian:
    minx, maxx, miny, maxy = 0, 10, 0, 10

    def __init__(self):
        dx, dy = self.maxx - self.minx, self.maxy - self.miny
        self.mean = (self.minx, self.miny) + np.random.random_sample(2) * (dx, dy)
        eigvals = (np.random.random_sample(2) * (dx / 5, dy / 5)) ** 2
        theta = np.random.random_sample() * np.pi * 2
        R = [[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]]
        self.cov = np.dot(np.dot(np.transpose(R), np.diag(eigvals)), R)

    def get_sample(self, n):
        return np.random.multivariate_normal(self.mean, self.cov, n)


def sample_gauss_2d(C, N):
    X = np.vstack([Random2DGaussian().get_sample(N) for _ in range(C)])
    Y_ = np.hstack([[i] * N for i in range(C)])
    return X, Y_


def sample_gmm_2d(K, C, N):
    Gs = [Random2DGaussian() for _ in range(K)]
    Ys = [np.random.randint(C) for _ in range(K)]
    X = np.vstack([G.get_sample(N) for G in Gs])
    Y_ = np.hstack([[Y] * N for Y in Ys])
    return X, Y_


def eval_perf_binary(Y, Y_):
    tp = sum(np.logical_and(Y == Y_, Y_ == True))  # noqa
    fn = sum(np.logical_and(Y != Y_, Y_ == True))  # noqa
    tn = sum(np.logical_and(Y == Y_, Y_ == False))  # noqa
    fp = sum(np.logical_and(Y != Y_, Y_ == False))  # noqa
    recall = tp / (tp + fn)
    precision = tp / (tp + fp)
    accuracy = (tp + tn) / (tp + fn + tn + fp)
    return accuracy, recall, precision


def eval_perf_multi(Y, Y_):
    pr = []
    n = max(Y_) + 1
    M = np.bincount(n * Y_ + Y, minlength=n * n).reshape(n, n)
    for i in range(n):
        tp_i = M[i, i]
        fn_i = np.sum(M[i, :]) - tp_i
        fp_i = np.sum(M[:, i]) - tp_i
        recall_i = tp_i / (tp_i + fn_i)
        precision_i = tp_i / (tp_i + fp_i)
        pr.append((recall_i, precision_i))
    accuracy = np.trace(M) / np.sum(M)
    return accuracy, pr, M


def eval_AP(Yr):
    n = len(Yr)
    pos = sum(Yr)
    neg = n - pos
    tp, tn, fn, fp = pos, 0, 0, neg
    sumprec = 0
    for x in Yr:
        precision = tp / (tp + fp)
        if x:
            sumprec += precision
        tp -= x
        fn += x
        fp -= not x
        tn += not x
    return sumprec / pos


def class_to_onehot(Y):
    Yoh = np.zeros((len(Y), max(Y) + 1))
    Yoh[range(len(Y)), Y] = 1
    return Yoh


def graph_surface(function, rect, offset=0.5, width=256, height=256):
    lsw = np.linspace(rect[0][1], rect[1][1], width)
    lsh = np.linspace(rect[0][0], rect[1][0], height)
    xx0, xx1 = np.meshgrid(lsh, lsw)
    grid = np.stack((xx0.flatten(), xx1.flatten()), axis=1)
    values = function(grid).reshape((width, height))
    delta = offset if offset else 0
    maxval = max(np.max(values) - delta, -(np.min(values) - delta))
    plt.pcolormesh(xx0, xx1, values, vmin=delta - maxval, vmax=delta + maxval)
    if offset is not None:
        plt.contour(xx0, xx1, values, colors="black", levels=[offset])


def graph_data(X, Y_, Y, special=[]):  # noqa: B006 (lab 0's signature)
    palette = ([0.5, 0.5, 0.5], [1, 1, 1], [0.2, 0.2, 0.2])
    colors = np.tile([0.0, 0.0, 0.0], (Y_.shape[0], 1))
    for i in range(len(palette)):
        colors[Y_ == i] = palette[i]
    sizes = np.repeat(20, len(Y_))
    sizes[special] = 40
    good = Y_ == Y
    plt.scatter(X[good, 0], X[good, 1], c=colors[good], s=sizes[good], marker="o", edgecolors="black")
    bad = Y_ != Y
    plt.scatter(X[bad, 0], X[bad, 1], c=colors[bad], s=sizes[bad], marker="s", edgecolors="black")
