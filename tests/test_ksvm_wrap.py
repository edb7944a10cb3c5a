import json

import numpy as np
import pytest
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
