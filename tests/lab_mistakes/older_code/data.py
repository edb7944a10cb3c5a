"""Mistake (of the environment, named as such): graph_surface thickens its contour through
ContourSet.collections, which matplotlib 3.10 removed; the rest is right."""

import matplotlib.pyplot as plt
import numpy as np


class Random2DGaussian:
    def __init__(self):
        self.mean = np.random.random_sample(2) * 10
        eigvals = (np.random.random_sample(2) * 10 / 5) ** 2
        angle = np.random.random_sample() * 2 * np.pi
        R = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        self.cov = R.T @ np.diag(eigvals) @ R

    def get_sample(self, n):
        return np.random.multivariate_normal(self.mean, self.cov, n)


def sample_gauss_2d(C, N):
    X = np.vstack([Random2DGaussian().get_sample(N) for _ in range(C)])
    return X, np.hstack([[c] * N for c in range(C)])


def sample_gmm_2d(K, C, N):
    Ys = np.random.randint(C, size=K)
    X = np.vstack([Random2DGaussian().get_sample(N) for _ in range(K)])
    return X, np.hstack([[y] * N for y in Ys])


def graph_surface(function, rect, offset=0.5, width=256, height=256):
    xs = np.linspace(rect[0][0], rect[1][0], width)
    ys = np.linspace(rect[0][1], rect[1][1], height)
    xx, yy = np.meshgrid(xs, ys)
    zz = function(np.column_stack([xx.ravel(), yy.ravel()])).reshape(height, width)
    span = max(zz.max() - offset, offset - zz.min())
    plt.pcolormesh(xx, yy, zz, vmin=offset - span, vmax=offset + span, cmap="coolwarm")
    contour = plt.contour(xx, yy, zz, levels=[offset], colors="k")
    for line in contour.collections:
        line.set_linewidth(2)


def graph_data(X, Y_, Y, special=[]):
    size = np.where(np.isin(np.arange(len(X)), special), 40, 20)
    for correct, marker in ((True, "o"), (False, "s")):
        chosen = (Y_ == Y) == correct
        plt.scatter(X[chosen, 0], X[chosen, 1], c=Y_[chosen], cmap="gray", vmin=-1, vmax=2, s=size[chosen],
                    marker=marker, edgecolors="k")
