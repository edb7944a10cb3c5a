"""A thin wrapper over scikit-learn's RBF kernel SVM, its comparison with PTDeep, and the SVC engine
that mnist_shootout fits its SVMs with.

    python ksvm_wrap.py            # demo: K=6, C=2, N=10 mixture, C=1, gamma='auto'
    python ksvm_wrap.py compare    # PTDeep vs KSVMWrap on many random mixtures, table + JSON

Scores come from `decision_function` (signed distances, enough for ranking and AP), not from
`probability=True`, which runs an extra internal cross-validation and is deprecated.
"""

import importlib.metadata
import json
import time

import numpy as np
import sklearn
import torch
from sklearn.svm import SVC
from tqdm import tqdm

import data
import pt_deep
from pt_logreg import eval, to_tensors, train


class KSVMWrap:
    """Train an RBF SVM on (X, Y_) in the constructor.

    Inputs:
    - X: data of shape (N, D); Y_: class indices of shape (N,)
    - param_svm_c: weight of the data (hinge) cost against the margin
    - param_svm_gamma: RBF kernel width, 1 / (2 sigma^2); 'auto' is 1/D, 'scale' 1/(D Var(X))
    """

    def __init__(self, X, Y_, param_svm_c=1, param_svm_gamma="auto"):
        X = data.check_data(X, "X")
        Y_ = data.check_labels(Y_, "Y_", n_rows=len(X))
        param_svm_c = data.check_number(param_svm_c, "param_svm_c")
        if not isinstance(param_svm_gamma, str):
            param_svm_gamma = data.check_number(param_svm_gamma, "param_svm_gamma")
        elif param_svm_gamma not in ("auto", "scale"):
            raise ValueError(f"param_svm_gamma: expected 'auto', 'scale' or a positive number, got {param_svm_gamma!r}")
        if len(np.unique(Y_)) < 2:
            raise ValueError("Y_: an SVM needs at least two classes in the training labels")
        self.n_inputs = X.shape[1]
        self.svm = SVC(C=param_svm_c, kernel="rbf", gamma=param_svm_gamma).fit(X, Y_)

    def predict(self, X):
        """Predicted class indices of shape (N,)."""
        return self.svm.predict(data.check_data(X, "X", n_cols=self.n_inputs))

    def get_scores(self, X):
        """decision_function: shape (N,) for two classes (positive = class 1), (N, C) for more."""
        return self.svm.decision_function(data.check_data(X, "X", n_cols=self.n_inputs))

    @property
    def support(self):
        """Indices of the training points that are support vectors, shape (n_SV,).

        The lab lists `suport` among the methods, so `svm.support()` is the call; a few students read it
        as an attribute instead. Both work: the attribute is the index array itself (a SupportIndices),
        and calling it returns the same indices as a plain int array. `svm.suport`, the lab's spelling,
        is the same.
        """
        return self.svm.support_.view(SupportIndices)

    suport = support  # the lab's spelling ("Metode: ... suport: Indices of data chosen as support vectors")


class SupportIndices(np.ndarray):
    """An int array of support-vector indices that can also be called: `svm.support()` returns it."""

    def __call__(self):
        return self.view(np.ndarray)


def svc_engine(accelerated=True):
    """The SVC class that large SVMs are fitted with, and its name with version, as (cls, engine).

    scikit-learn-intelex's `sklearnex.svm.SVC` where it is installed (its wheels exist for x86-64 only):
    a subclass of `sklearn.svm.SVC` with the same arguments and fitted attributes, whose oneDAL solver
    uses every core. Elsewhere, or with accelerated=False, scikit-learn's own (libsvm, one core).
    """
    if accelerated:
        try:
            from sklearnex.svm import SVC as FastSVC
        except ImportError:
            pass
        else:
            return FastSVC, f"scikit-learn-intelex {importlib.metadata.version('scikit-learn-intelex')}"
    return SVC, f"scikit-learn {sklearn.__version__}"


def fit_svc(kernel, gamma, X, Y, accelerated=True):
    """A one-vs-one SVC with the given kernel and gamma ('scale', 'auto' or a number), scikit-learn's
    defaults otherwise (C=1, tolerance 1e-3), fitted on X (N, D) and Y (N,) by svc_engine's class.
    Returns (svm, engine)."""
    cls, engine = svc_engine(accelerated)
    return cls(kernel=kernel, gamma=gamma, decision_function_shape="ovo").fit(X, Y), engine


def fit_and_score(kernel, gamma, X, Y, X_test, Y_test, train_sample=2000):
    """fit_svc on (X, Y), then its test accuracy, macro precision and recall (data.eval_perf_multi),
    train accuracy on the first `train_sample` training points (close to 1 for SVMs: a sample is
    cheaper), support vectors, seconds and settings, as a result row (a dict) named after the SVC.
    Every array is checked before the fit, which takes minutes on MNIST."""
    X = data.check_data(X, "X")
    Y = data.check_labels(Y, "Y", n_rows=len(X))
    X_test = data.check_data(X_test, "X_test", n_cols=X.shape[1])
    Y_test = data.check_labels(Y_test, "Y_test", n_rows=len(X_test))
    train_sample = data.check_positive_int(train_sample, "train_sample")
    start = time.perf_counter()
    svm, engine = fit_svc(kernel, gamma, X, Y)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    predicted = svm.predict(X_test)
    predict_seconds = time.perf_counter() - start
    accuracy, pr, _ = data.eval_perf_multi(predicted, Y_test, C=int(max(Y.max(), Y_test.max())) + 1)
    recall, precision = np.mean(pr, axis=0)
    seen = min(len(X), train_sample)
    name = f"SVC {kernel}" + (f" gamma='{gamma}'" if kernel == "rbf" else "") + f" on {len(X)}"
    print(f"  {name}: fit {fit_seconds:.1f} s, predict {predict_seconds:.1f} s ({engine})", flush=True)
    return {"model": name, "train_accuracy": float(np.mean(svm.predict(X[:seen]) == Y[:seen])),
            "test_accuracy": accuracy, "test_precision": float(precision), "test_recall": float(recall),
            "support_vectors": int(len(svm.support_)), "fit_seconds": fit_seconds, "predict_seconds": predict_seconds,
            "seconds": fit_seconds + predict_seconds,
            "training": {"engine": engine, "kernel": kernel, "gamma": gamma, "C": svm.C,
                         "decision_function_shape": svm.decision_function_shape, "images": len(X)}}


def mean_ap(scores, Y_, C):
    """AP for two classes; for more, the mean over classes of one-vs-rest AP (classes present only)."""
    C = data.check_positive_int(C, "C", minimum=2)
    Y_ = data.check_labels(Y_, "Y_", n_classes=C)
    scores = np.asarray(scores)
    if C > 2 and scores.shape != (len(Y_), C):
        raise ValueError(f"scores: expected one column per class, shape ({len(Y_)}, {C}), got {scores.shape}")
    if C == 2:
        return data.average_precision(scores if scores.ndim == 1 else scores[:, 1], Y_)
    aps = [data.average_precision(scores[:, c], (Y_ == c).astype(int)) for c in range(C) if np.any(Y_ == c)]
    return float(np.mean(aps))


def compare(n_datasets=50, settings=((6, 2, 10), (10, 3, 10)), n_test=100, param_niter=10_000, seed=0,
            progress=True):
    """PTDeep [2,10,10,2-or-3] (SGD steps by hand) vs KSVMWrap on `n_datasets` random mixtures per (K, C, N)
    setting.

    Each model trains on a sample of N points per component and is scored on a fresh sample of
    `n_test` points per component from the same mixture. Mixtures in which some class got no component
    are redrawn (a one-class problem says nothing). Returns {setting: {model: {metric: [values]}}}.
    """
    n_datasets = data.check_positive_int(n_datasets, "n_datasets")
    n_test = data.check_positive_int(n_test, "n_test")
    if not all(isinstance(s, (tuple, list)) and len(s) == 3 for s in settings):
        raise ValueError(f"settings: expected (K, C, N) triples, got {settings!r}")
    rng = np.random.default_rng(data.check_seed(seed))
    results = {}
    for K, C, N in settings:
        scores = {"PTDeep": {"accuracy": [], "AP": []}, "KSVMWrap": {"accuracy": [], "AP": []}}
        for _ in tqdm(range(n_datasets), desc=f"K={K} C={C} N={N}", disable=None if progress else True, leave=False):
            mixture = data.GaussianMixture2D(K, C, rng=rng)
            while len(np.unique(mixture.classes)) < C:
                mixture = data.GaussianMixture2D(K, C, rng=rng)
            X, Y_ = mixture.sample(N)
            X_test, Y_test = mixture.sample(n_test)

            model = pt_deep.PTDeep([2, 10, 10, C], "relu", seed=int(rng.integers(2**31)))
            # by hand (PTDeep.sgd_step): the lab's steps, faster; 100 nets of 10000 steps each
            train(model, *to_tensors(X, Y_, C), param_niter, 0.1, 1e-4, log_every=0, by_hand=True)
            probs = eval(model, X_test)
            svm = KSVMWrap(X, Y_, param_svm_c=1, param_svm_gamma="auto")
            for name, predicted, score in (("PTDeep", probs.argmax(axis=1), probs),
                                           ("KSVMWrap", svm.predict(X_test), svm.get_scores(X_test))):
                scores[name]["accuracy"].append(float(np.mean(predicted == Y_test)))
                scores[name]["AP"].append(mean_ap(score, Y_test, C))
        results[f"K={K} C={C} N={N}"] = scores
    return results


def comparison_table(results):
    """Markdown table of mean ± sample std (data.spread, as the shootout's) of every metric."""
    rows = []
    for setting, models in results.items():
        for name, metrics in models.items():
            spreads = [data.spread(values) for values in metrics.values()]
            rows.append([setting, name] + [f"{s['mean']:.3f} ± {s['std']:.3f}" for s in spreads])
    return data.markdown_table(["setting", "model", "accuracy", "AP"], rows)


def demo(args):
    import matplotlib.pyplot as plt

    X, Y_ = data.sample_gmm_2d(6, 2, 10, rng=args.seed)
    svm = KSVMWrap(X, Y_, param_svm_c=1, param_svm_gamma="auto")
    Y = svm.predict(X)
    accuracy, recall, precision = data.eval_perf_binary(Y, Y_)
    ap = data.average_precision(svm.get_scores(X), Y_)
    print(f"KSVMWrap C=1 gamma='auto': accuracy {accuracy:.3f}  recall {recall:.3f}  precision {precision:.3f}  "
          f"AP {ap:.3f}  support vectors {len(svm.support())} of {len(X)}")
    fig = plt.figure(figsize=(6, 5))
    data.graph_surface(svm.get_scores, data.data_rect(X), offset=0)
    data.graph_data(X, Y_, Y, special=svm.support())
    plt.title("KSVMWrap: decision function, support vectors enlarged")
    data.finish_figure(fig, args.out, args.show)


def main(argv=None):
    parser = data.demo_argparser("RBF SVM on a 2-D Gaussian mixture; `compare` pits it against PTDeep.",
                                 "results/ksvm_wrap.png")
    parser.add_argument("command", nargs="?", choices=("demo", "compare"), default="demo",
                        help="demo (default) or compare")
    parser.add_argument("--datasets", type=data.count_argument, default=50,
                        help="compare: mixtures per setting (default: 50)")
    parser.add_argument("--niter", type=data.count_argument, default=10_000,
                        help="compare: PTDeep steps (default: 10000)")
    parser.add_argument("--table", type=data.output_file(".md", beside=(".json",)), default="results/compare.md",
                        help="compare: where to write the table; JSON goes beside it (default: results/compare.md)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo(args)

    torch.set_num_threads(1)  # tiny tensors: a second thread only adds overhead (and stalls under load)
    data.check_positive_int(args.datasets, "--datasets")
    start = time.perf_counter()
    results = compare(args.datasets, param_niter=args.niter, seed=args.seed)
    table = comparison_table(results)
    header = (f"PTDeep [2,10,10,C] (ReLU, {args.niter} SGD steps by hand, delta 0.1, lambda 1e-4) vs KSVMWrap (C=1, "
              f"gamma='auto') on {args.datasets} random mixtures per setting, scored on 100 fresh points per "
              f"component; mean ± std over mixtures (seed {args.seed}, {time.perf_counter() - start:.0f} s).")
    print(header, table, sep="\n\n")
    data.write_text(args.table, header + "\n\n" + table + "\n")
    data.write_text(args.table.with_suffix(".json"), json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.table} and {args.table.with_suffix('.json')}")


if __name__ == "__main__":
    data.run_script(main)
