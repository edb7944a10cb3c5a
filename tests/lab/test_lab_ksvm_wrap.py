"""Task 6, ksvm_wrap.py: `KSVMWrap(X, Y_, param_svm_c=1, param_svm_gamma='auto')`, a thin wrapper of
sklearn.svm's RBF SVM, with the methods `predict(X)`, `get_scores(X)` and `support()`.

Each must give what sklearn.svm.SVC fitted with the same arguments gives. The lab lists `suport` among
the methods ("Metode:"), so `support()` is called.
"""

import numpy as np
import pytest
from lab_check import call, check_imports, expect, module_fixture
from sklearn.svm import SVC

ksvm_wrap = module_fixture("ksvm_wrap")


def test_imports(lab_modules):
    check_imports(lab_modules, "ksvm_wrap", ("KSVMWrap",))


def blobs(seed=0):
    """Six Gaussian blobs of two classes in [0, 10]^2, like sample_gmm_2d(6, 2, 10), made here."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 10, (6, 2))
    X = np.vstack([c + rng.standard_normal((10, 2)) for c in centres])
    return X, np.repeat([0, 1, 0, 1, 1, 0], 10)


@pytest.mark.parametrize("c, gamma", [(1, "auto"), (10, 0.5)])
def test_wrapper_agrees_with_sklearn_svc(ksvm_wrap, c, gamma):
    X, Y_ = blobs()
    reference = SVC(C=c, kernel="rbf", gamma=gamma).fit(X, Y_)
    svm = call("ksvm_wrap", f"KSVMWrap(X, Y_, param_svm_c={c}, param_svm_gamma={gamma!r})", ksvm_wrap.KSVMWrap, X, Y_,
               param_svm_c=c, param_svm_gamma=gamma)
    X_new = np.random.default_rng(1).uniform(0, 10, (50, 2))
    predicted = np.asarray(call("ksvm_wrap", "predict(X)", svm.predict, X_new)).ravel()
    expect(np.array_equal(predicted, reference.predict(X_new)),
           f"ksvm_wrap: predict(X) should return the class indices of an RBF SVC with C={c}, gamma={gamma!r} trained "
           f"in the constructor; {np.sum(predicted != reference.predict(X_new))} of 50 differ from sklearn's")
    scores = np.asarray(call("ksvm_wrap", "get_scores(X)", svm.get_scores, X_new), dtype=float)
    expected = reference.decision_function(X_new)
    ok = scores.size == 50 and np.allclose(scores.ravel(), expected, atol=1e-6)
    ok = ok or (scores.shape == (50, 2) and np.allclose(scores[:, 1], expected, atol=1e-6))  # two columns is fine
    probabilities = scores.shape == (50, 2) and np.allclose(scores.sum(axis=1), 1)
    expect(ok or probabilities, "ksvm_wrap: get_scores(X) should return the classification scores (for average "
                                "precision): the SVM's decision_function, positive for class 1; they differ")
    support = call("ksvm_wrap", "support()", svm.support) if callable(svm.support) else svm.support  # see below
    support = np.sort(np.asarray(support).ravel())
    expect(np.array_equal(support, np.sort(reference.support_)),
           f"ksvm_wrap: support() should return the indices of the support vectors (SVC's support_): "
           f"{np.sort(reference.support_).tolist()}; got {support.tolist()}")


def test_support_is_a_method_as_the_lab_lists_it(ksvm_wrap):
    X, Y_ = blobs()
    svm = call("ksvm_wrap", "KSVMWrap(X, Y_)", ksvm_wrap.KSVMWrap, X, Y_)
    expect(callable(getattr(svm, "support", None)),
           "ksvm_wrap: the lab lists suport among the methods of KSVMWrap (\"Metode:\"), and its next task calls it "
           f"to emphasize the support vectors: svm.support() should work; svm.support is a "
           f"{type(getattr(svm, 'support', None)).__name__}, not callable (a property or an attribute?)")
