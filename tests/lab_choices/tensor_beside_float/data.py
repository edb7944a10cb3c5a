"""Not a mistake: at import it picks an interactive backend and sets up its figure window (pyplot calls
at import), as a student's script run from an IDE does; graph_data shows what it drew."""

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

matplotlib.use("TkAgg")
figure = plt.figure(figsize=(8, 6))
plt.get_current_fig_manager().set_window_title("lab 1")


class Random2DGaussian:
    def __init__(self):
        self.mean = np.random.uniform(0, 10, 2)
        eigvals = (np.random.random_sample(2) * 10 / 5) ** 2
        phi = np.random.uniform(0, 2 * np.pi)
        R = np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])
        self.cov = R.T @ np.diag(eigvals) @ R

    def get_sample(self, n):
        return np.random.multivariate_normal(self.mean, self.cov, n)


def sample_gauss_2d(C, N):
    X = np.concatenate([Random2DGaussian().get_sample(N) for _ in range(C)])
    return X, np.repeat(np.arange(C), N)


def sample_gmm_2d(K, C, N):
    classes = np.random.randint(C, size=K)
    X = np.concatenate([Random2DGaussian().get_sample(N) for _ in range(K)])
    return X, np.repeat(classes, N)


def graph_surface(function, rect, offset=0.5, width=256, height=256):
    (xmin, ymin), (xmax, ymax) = rect
    xx, yy = np.meshgrid(np.linspace(xmin, xmax, width), np.linspace(ymin, ymax, height))
    values = function(np.stack([xx.ravel(), yy.ravel()], axis=1)).reshape(xx.shape)
    delta = max(np.max(values) - offset, offset - np.min(values))
    plt.pcolormesh(xx, yy, values, vmin=offset - delta, vmax=offset + delta)
    plt.contour(xx, yy, values, levels=[offset], colors="black")


def graph_data(X, Y_, Y, special=[]):
    sizes = np.full(len(X), 20.0)
    sizes[special] = 40.0
    right = Y_ == Y
    colors = np.where(Y_ == 0, "white", "gray")
    plt.scatter(X[right, 0], X[right, 1], c=colors[right], s=sizes[right], marker="o", edgecolors="black")
    plt.scatter(X[~right, 0], X[~right, 1], c=colors[~right], s=sizes[~right], marker="s", edgecolors="black")
    plt.show()
