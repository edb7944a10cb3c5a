"""Task 6, ksvm_wrap.py: `KSVMWrap(X, Y_, param_svm_c=1, param_svm_gamma='auto')`, a thin wrapper of
sklearn.svm's RBF SVM, with the methods `predict(X)`, `get_scores(X)` and `support()`.

Each must give what sklearn.svm.SVC fitted with the same arguments gives. The lab lists `suport` among
the methods ("Metode: ... suport: Indices of data chosen as support vectors") without parentheses, so
support vectors are taken as a method (`support()`), a property or an attribute, under the name
`support` or the lab's spelling `suport`.
"""

import numpy as np
import pytest
from lab_check import call, check_first, check_names, expect, lab_fail, short, task_fixtures
from sklearn.svm import SVC

lab_task, ksvm_wrap = task_fixtures("ksvm_wrap", lambda task: check_names(task, ("KSVMWrap",)))


def test_imports(lab_task):
    check_first(lab_task)


def blobs(seed=0):
    """Six Gaussian blobs of two classes in [0, 10]^2, like sample_gmm_2d(6, 2, 10), made here."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 10, (6, 2))
    X = np.vstack([c + rng.standard_normal((10, 2)) for c in centres])
    return X, np.repeat([0, 1, 0, 1, 1, 0], 10)


def support_vectors(svm):
    """The indices of the support vectors, however the wrapper gives them (see the module's docstring)."""
    for name in ("support", "suport"):
        found = call("ksvm_wrap", f"svm.{name}", getattr, svm, name, None)
        if found is not None:
            return call("ksvm_wrap", f"{name}()", found) if callable(found) else found
    lab_fail(f"ksvm_wrap: the lab lists suport among the methods of KSVMWrap (the indices of the support vectors); "
             f"the wrapper has neither support nor suport (its names: {short(sorted(vars(type(svm))), 160)})")


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
    support = np.sort(np.asarray(support_vectors(svm)).ravel())
    expect(np.array_equal(support, np.sort(reference.support_)),
           f"ksvm_wrap: support() should return the indices of the support vectors (SVC's support_): "
           f"{np.sort(reference.support_).tolist()}; got {support.tolist()}")
