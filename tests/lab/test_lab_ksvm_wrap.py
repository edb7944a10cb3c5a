"""Task 6, ksvm_wrap.py: `KSVMWrap(X, Y_, param_svm_c=1, param_svm_gamma='auto')`, a thin wrapper of
sklearn.svm's RBF SVM, with the methods `predict(X)`, `get_scores(X)` and `support()`.

Each must give what sklearn.svm.SVC fitted with the same arguments gives. The hyper-parameters are given
as for every other call (lab_call): by the lab's names, the student's (`C`, `param_c`, `gamma`), a near
spelling, or the lab's order. A program that follows the lab also calls `KSVMWrap(X, Y_)` and
`KSVMWrap(X, Y_, 1, 'auto')`: the lab's defaults and order must hold, whatever the names. The lab lists
`suport` among the methods ("Metode: ... suport: Indices of data chosen as support vectors") without
parentheses, so support vectors are taken as a method (`support()`), a property or an attribute, under
the name `support` or the lab's spelling `suport`.
"""

import numpy as np
import pytest
from lab_check import (
    call,
    check_first,
    check_names,
    describe,
    expect,
    lab_call,
    lab_fail,
    parameters_of,
    place,
    short,
    task_fixtures,
)
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


def scores_agree(scores, expected):
    """Whether get_scores' scores are the SVM's decision_function `expected` (a column, or the second of
    two), or class probabilities (two columns summing to 1: not the lab's scores, but not checked here)."""
    if scores.size == len(expected) and np.allclose(scores.ravel(), expected, atol=1e-6):
        return True
    return scores.shape == (len(expected), 2) and (np.allclose(scores[:, 1], expected, atol=1e-6)
                                                   or np.allclose(scores.sum(axis=1), 1))


def ignored_hyper_parameter(X, Y_, X_new, c, gamma, predicted, scores):
    """' (...: param_svm_gamma is not passed to the SVM?)' when the wrapper's predictions and scores are those
    of an SVC given only one of the two (the other at scikit-learn's default), else ''."""
    for name, given in (("param_svm_gamma", {"C": c}), ("param_svm_c", {"gamma": gamma})):
        alone = SVC(kernel="rbf", **given).fit(X, Y_)
        if np.array_equal(predicted, alone.predict(X_new)) and scores_agree(scores, alone.decision_function(X_new)):
            default = SVC().get_params()["gamma" if name == "param_svm_gamma" else "C"]
            return (f" (they are those of an SVC without {name}, at scikit-learn's default {default!r}: is {name} "
                    "passed to the SVM?)")
    return ""


@pytest.mark.parametrize("c, gamma", [(1, "auto"), (10, 0.5)])
def test_wrapper_agrees_with_sklearn_svc(ksvm_wrap, c, gamma):
    X, Y_ = blobs()
    reference = SVC(C=c, kernel="rbf", gamma=gamma).fit(X, Y_)
    lab_values = {"param_svm_c": c, "param_svm_gamma": gamma}
    if len(place(ksvm_wrap.KSVMWrap, 2, lab_values).where) == 2:
        svm = lab_call("ksvm_wrap", f"KSVMWrap(X, Y_, param_svm_c={c}, param_svm_gamma={gamma!r})",
                       ksvm_wrap.KSVMWrap, (X, Y_), lab_values, optional=())
    else:  # names that say nothing (a, b): the lab's order
        svm = call("ksvm_wrap", f"KSVMWrap(X, Y_, {c}, {gamma!r})", ksvm_wrap.KSVMWrap, X, Y_, c, gamma)
    X_new = np.random.default_rng(1).uniform(0, 10, (50, 2))
    predicted = np.asarray(call("ksvm_wrap", "predict(X)", svm.predict, X_new)).ravel()
    scores = np.asarray(call("ksvm_wrap", "get_scores(X)", svm.get_scores, X_new), dtype=float)
    ignored = ignored_hyper_parameter(X, Y_, X_new, c, gamma, predicted, scores)
    expect(np.array_equal(predicted, reference.predict(X_new)),
           f"ksvm_wrap: predict(X) should return the class indices of an RBF SVC with C={c}, gamma={gamma!r} trained "
           f"in the constructor; {np.sum(predicted != reference.predict(X_new))} of 50 differ from sklearn's"
           + ignored)
    expect(scores_agree(scores, reference.decision_function(X_new)),
           "ksvm_wrap: get_scores(X) should return the classification scores (for average precision): the SVM's "
           "decision_function, positive for class 1; they differ" + ignored)
    support = np.sort(np.asarray(support_vectors(svm)).ravel())
    expect(np.array_equal(support, np.sort(reference.support_)),
           f"ksvm_wrap: support() should return the indices of the support vectors (SVC's support_): "
           f"{np.sort(reference.support_).tolist()}; got {support.tolist()}")


@pytest.mark.parametrize("args", [(), (1, "auto")], ids=["defaults", "lab-order"])
def test_the_labs_calls_train_the_labs_svm(ksvm_wrap, args):
    # The lab's interface: __init__(self, X, Y_, param_svm_c=1, param_svm_gamma='auto'). A program that
    # follows it calls KSVMWrap(X, Y_) or KSVMWrap(X, Y_, 1, 'auto'), whatever the parameters are named:
    # both must run, and the second must give C=1 and gamma='auto' (the lab's order). Defaults of other
    # values are not held against the wrapper (the lab's demo gives its values).
    X, Y_ = blobs()
    described = f"KSVMWrap(X, Y_{''.join(f', {a!r}' for a in args)})"
    order = f"(its parameters: {', '.join(p.name for p in parameters_of(ksvm_wrap.KSVMWrap))})"
    try:
        svm = ksvm_wrap.KSVMWrap(X, Y_, *args)
    except Exception as error:  # a student's code may raise anything
        problem = describe(error)
    else:
        problem = None
    expect(problem is None, f"ksvm_wrap: the lab's call {described} raised {problem}: the lab's constructor is "
                            f"KSVMWrap(X, Y_, param_svm_c=1, param_svm_gamma='auto'), the hyper-parameters in that "
                            f"order and with defaults {order}")
    if not args:
        return
    X_new = np.random.default_rng(1).uniform(0, 10, (50, 2))
    scores = np.asarray(call("ksvm_wrap", "get_scores(X)", svm.get_scores, X_new), dtype=float)
    predicted = np.asarray(call("ksvm_wrap", "predict(X)", svm.predict, X_new)).ravel()
    expect(scores_agree(scores, SVC(C=1, kernel="rbf", gamma="auto").fit(X, Y_).decision_function(X_new)),
           f"ksvm_wrap: the lab's call {described} should train an RBF SVM with C=1 and gamma='auto' (the lab's "
           "order); its scores differ from sklearn's"
           + (ignored_hyper_parameter(X, Y_, X_new, 1, "auto", predicted, scores) or f" {order}"))
