import json
import platform
import sys

import numpy as np
import pytest
import sklearn
import torch
from sklearn.svm import SVC

import data
import ksvm_wrap
from ksvm_wrap import KSVMWrap


@pytest.mark.parametrize("K, C", [(6, 2), (10, 3)])
def test_matches_sklearn_svc(K, C):
    X, Y_ = data.sample_gmm_2d(K, C, 20, rng=7)
    wrap = KSVMWrap(X, Y_, param_svm_c=2, param_svm_gamma="auto")
    reference = SVC(C=2, gamma="auto").fit(X, Y_)
    np.testing.assert_array_equal(wrap.support, reference.support_)
    np.testing.assert_array_equal(wrap.predict(X), reference.predict(X))
    np.testing.assert_allclose(wrap.get_scores(X), reference.decision_function(X))
    assert wrap.get_scores(X).shape == ((len(X),) if C == 2 else (len(X), C))


def test_support_is_called_as_the_lab_lists_it_and_read_as_an_attribute_too():
    # The lab lists `suport` under "Metode:" and its next task passes the support vectors to graph_data.
    import matplotlib.pyplot as plt

    np.random.seed(100)  # noqa: NPY002 (the lab programs' habit)
    X, Y_ = data.sample_gmm_2d(6, 2, 10)
    svm = KSVMWrap(X, Y_)
    reference = SVC(C=1, gamma="auto").fit(X, Y_).support_
    called = svm.support()
    assert type(called) is np.ndarray
    np.testing.assert_array_equal(called, reference)
    np.testing.assert_array_equal(svm.support, reference)  # the attribute form: the same indices
    assert len(svm.support) == len(reference) and X[svm.support].shape == (len(reference), 2)
    data.graph_data(X, Y_, svm.predict(X), special=svm.support())
    data.graph_data(X, Y_, svm.predict(X), special=svm.support)
    np.testing.assert_array_equal(svm.suport(), reference)  # the lab's own spelling
    np.testing.assert_array_equal(svm.suport, reference)
    plt.close("all")


def test_binary_scores_are_positive_for_class_1():
    X, Y_ = data.sample_gmm_2d(6, 2, 20, rng=7)
    wrap = KSVMWrap(X, Y_)
    np.testing.assert_array_equal(wrap.get_scores(X) > 0, wrap.predict(X) == 1)


def test_demo_writes_png(tmp_path):
    out = tmp_path / "svm.png"
    ksvm_wrap.main(["--out", str(out)])
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_compare_writes_table_and_json(tmp_path, capsys):
    table = tmp_path / "compare.md"
    ksvm_wrap.main(["compare", "--datasets", "2", "--niter", "200", "--table", str(table)])
    assert "| K=6 C=2 N=10 | KSVMWrap |" in table.read_text()
    results = json.loads(table.with_suffix(".json").read_text())
    accuracies = results["K=10 C=3 N=10"]["PTDeep"]["accuracy"]
    assert len(accuracies) == 2 and all(0 <= a <= 1 for a in accuracies)
    assert "±" in capsys.readouterr().out


@pytest.mark.parametrize("kwargs, argument", [
    ({"param_svm_c": 0}, "param_svm_c"),
    ({"param_svm_gamma": "wide"}, "param_svm_gamma"),
    ({"param_svm_gamma": -1.0}, "param_svm_gamma"),
])
def test_bad_hyper_parameters_name_the_argument(kwargs, argument):
    X, Y_ = data.sample_gauss_2d(2, 5, rng=0)
    with pytest.raises(ValueError, match=rf"^{argument}:"):
        KSVMWrap(X, Y_, **kwargs)


def test_bad_data_names_the_argument():
    X, Y_ = data.sample_gauss_2d(2, 5, rng=0)
    with pytest.raises(ValueError, match="^Y_:"):
        KSVMWrap(X, Y_[:-1])
    with pytest.raises(ValueError, match="^Y_:"):
        KSVMWrap(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="^X:"):
        KSVMWrap(X, Y_).predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="^X: a tensor on torch's 'meta' device"):  # no numbers to classify
        KSVMWrap(X, Y_).predict(torch.zeros(2, 2, device="meta"))


# --- the SVC engine of the MNIST shootout -------------------------------------------------------------


def test_the_accelerated_engine_is_used_where_it_installs():
    cls, engine = ksvm_wrap.svc_engine()
    assert issubclass(cls, SVC)
    if platform.machine().lower() in ("x86_64", "amd64"):  # requirements.txt installs it there
        from sklearnex.svm import SVC as FastSVC

        assert cls is FastSVC and engine.startswith("scikit-learn-intelex ")
    assert ksvm_wrap.svc_engine(accelerated=False) == (SVC, f"scikit-learn {sklearn.__version__}")


def test_without_the_accelerated_engine_stock_scikit_learn_fits(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearnex.svm", None)  # as if it were not installed: import fails
    X, Y_ = data.sample_gmm_2d(6, 3, 20, rng=5)
    svm, engine = ksvm_wrap.fit_svc("rbf", "scale", X, Y_)
    assert type(svm) is SVC and engine == f"scikit-learn {sklearn.__version__}"
    assert svm.decision_function_shape == "ovo" and np.mean(svm.predict(X) == Y_) > 0.5


@pytest.mark.parametrize("kernel, gamma, agree", [("rbf", "scale", 1.0), ("rbf", "auto", 1.0),
                                                  ("linear", "scale", 0.998)])
def test_the_engine_gives_stock_scikit_learns_labels_on_mnist(mnist_root, kernel, gamma, agree):
    """Both solvers stop at the same tolerance (1e-3), not at the same point: the linear machines differ
    on 2 near-ties of these 2000 test images, the RBF ones on none."""
    x_train, y_train, x_test, y_test = data.load_dataset("mnist", mnist_root, allow_download=False)
    X, X_test = x_train[:2000].reshape(2000, -1) / 255, x_test[:2000].reshape(2000, -1) / 255
    svm, _ = ksvm_wrap.fit_svc(kernel, gamma, X, y_train[:2000])
    stock, _ = ksvm_wrap.fit_svc(kernel, gamma, X, y_train[:2000], accelerated=False)
    ours, theirs = svm.predict(X_test), stock.predict(X_test)
    assert np.mean(ours == theirs) >= agree
    assert np.mean(ours == y_test[:2000]) == pytest.approx(np.mean(theirs == y_test[:2000]), abs=1e-3)
    assert abs(len(svm.support_) - len(stock.support_)) <= 0.01 * len(stock.support_)


def test_fit_and_score_checks_the_test_images_before_the_fit(monkeypatch):
    fitted = []
    monkeypatch.setattr(ksvm_wrap, "fit_svc", lambda *args, **kwargs: fitted.append(args))
    X, Y = np.random.default_rng(0).random((20, 4)), np.arange(20) % 2
    with pytest.raises(ValueError, match=r"^X_test: expected 4 columns"):
        ksvm_wrap.fit_and_score("rbf", "scale", X, Y, X[:, :3], Y)
    with pytest.raises(ValueError, match=r"^Y_test: expected 20 labels"):
        ksvm_wrap.fit_and_score("rbf", "scale", X, Y, X, Y[:5])
    assert fitted == []


def test_compare_needs_at_least_one_data_set():
    with pytest.raises(ValueError, match="^n_datasets:"):
        ksvm_wrap.compare(0)


def test_a_folder_where_the_json_goes_is_refused_when_the_command_line_is_read(tmp_path, capsys):
    (tmp_path / "t.json").mkdir()
    with pytest.raises(SystemExit):
        ksvm_wrap.main(["compare", "--table", str(tmp_path / "t.md"), "--datasets", "1"])
    assert "t.json is a folder" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs, argument", [({"n_test": 0}, "n_test"), ({"settings": ((6, 2),)}, "settings")])
def test_compare_names_a_bad_argument(kwargs, argument):
    with pytest.raises(ValueError, match=f"^{argument}: "):
        ksvm_wrap.compare(n_datasets=1, progress=False, **kwargs)


@pytest.mark.parametrize("scores, Y_, C, message", [
    ([0.1, 0.5, 0.9], [0, 1, 2], 3, r"^scores: expected one column per class, shape \(3, 3\)"),
    ([[0.1, 0.9]] * 3, [0, 1, 1], 0, r"^C: expected a whole number >= 2, got 0"),  # was nan, with a warning
    ([[0.1, 0.9]] * 3, [0, 1, 2], 2, r"^Y_: class indices must lie in 0..1, got range 0..2"),
], ids=["one column", "C=0", "label beyond C"])
def test_mean_ap_names_what_does_not_fit(scores, Y_, C, message):
    with pytest.raises(ValueError, match=message):
        ksvm_wrap.mean_ap(np.array(scores), np.array(Y_), C)
