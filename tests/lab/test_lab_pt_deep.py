"""Task 5, pt_deep.py: `PTDeep(config, activation)`, weights and biases in nn.ParameterList, `count_params`,
the same train/eval interface as PTLogreg.

The lab's train and eval are taken from pt_deep.py when it has them, else from pt_logreg.py. The lab
leaves open the initialization: the checks train from several starts where one could be unlucky.
"""

import contextlib
import io

import numpy as np
import pytest
import torch
import torch.nn as nn
from lab_check import call, check_imports, expect, module_fixture

pt_deep = module_fixture("pt_deep")


def test_imports(lab_modules):
    check_imports(lab_modules, "pt_deep", ("PTDeep",))
    for name in ("train", "eval"):
        expect(lab_function(lab_modules, name), f"pt_deep: PTDeep trains and evaluates with the lab's {name}(model, "
                                                "...), as PTLogreg does; neither pt_deep.py nor pt_logreg.py has one "
                                                "that imports")


def make(pt_deep, config, activation=torch.relu):
    model = call("pt_deep", f"PTDeep({config}, {getattr(activation, '__name__', activation)})", pt_deep.PTDeep,
                 config, activation)
    expect(isinstance(model, nn.Module), "pt_deep: PTDeep should inherit from torch.nn.Module, as PTLogreg does")
    return model


def lab_function(lab_modules, name):
    """pt_deep's train or eval, else pt_logreg's (the lab: the same interface as PTLogreg), else None."""
    for module in (lab_modules["pt_deep"], lab_modules["pt_logreg"]):
        if not isinstance(module, str) and callable(getattr(module, name, None)):
            return getattr(module, name)
    return None


def lab_functions(lab_modules):
    """The lab's (train, eval) for PTDeep; the check skips without them (test_imports fails for that)."""
    train, eval = lab_function(lab_modules, "train"), lab_function(lab_modules, "eval")
    if train is None or eval is None:
        pytest.skip("no train or eval to train PTDeep with (see test_imports)")
    return train, eval


def test_weights_and_biases_are_parameter_lists(pt_deep):
    model = make(pt_deep, [2, 5, 3])
    lists = [m for m in model.modules() if isinstance(m, nn.ParameterList)]
    expect(lists, "pt_deep: the lab asks for the weight matrices and bias vectors in lists of type "
                  "torch.nn.ParameterList (self.weights, self.biases), so that model.parameters() finds them; "
                  "PTDeep([2, 5, 3]) has no ParameterList")
    listed = {id(p) for m in lists for p in m.parameters()}
    outside = [name for name, p in model.named_parameters() if id(p) not in listed]
    expect(not outside, f"pt_deep: every weight and bias should sit in a ParameterList; outside them: {outside}")
    shapes = sorted(tuple(sorted(d for d in p.shape if d != 1)) for p in model.parameters())  # either layout
    expect(shapes == sorted([(2, 5), (5,), (3, 5), (3,)]),
           "pt_deep: PTDeep([2, 5, 3]) should hold W_1 [2 x 5], b_1 [5], W_2 [5 x 3], b_2 [3] (the lab's list of "
           f"shapes); got {[tuple(p.shape) for p in model.parameters()]}")
    expect(not any(isinstance(m, (nn.Linear, nn.Sequential)) for m in model.modules()),
           "pt_deep: the lab builds the layers from nn.Parameter matrices, not nn.Linear / nn.Sequential")


@pytest.mark.parametrize("config, total", [([2, 3], 9), ([2, 5, 3], 33), ([784, 100, 10], 79510)])
def test_count_params(pt_deep, config, total):
    model = make(pt_deep, config)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = call("pt_deep", "count_params()", model.count_params)
    numbers = [int(n) for n in "".join(c if c.isdigit() else " " for c in printed.getvalue()).split()]
    expect(result == total or (result is None and total in numbers),
           f"pt_deep: count_params() of PTDeep({config}) should count {total} parameters (the lab: [2, 3] gives 9); "
           f"it returned {result!r}" + ("" if result is not None else f" and printed the numbers {numbers}"))
    expect(printed.getvalue().strip(), "pt_deep: count_params() should print the name and shape of every parameter "
                                       "(named_parameters()); it printed nothing")


def xor_blobs(n=20, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    X = np.vstack([c + 0.3 * rng.standard_normal((n, 2)) for c in centres])
    return X, np.repeat([0, 0, 1, 1], n)


def test_config_2_3_is_logistic_regression_like_ptlogreg(pt_deep, lab_modules):
    # Both trained to the unique optimum of the same convex loss: the lab's "make sure the results are the
    # same as before", whatever each starts from.
    rng = np.random.default_rng(0)
    X = np.vstack([c + rng.standard_normal((60, 2)) for c in ([0.0, 0.0], [1.5, 0.5], [0.5, 1.5])])
    X -= X.mean(axis=0)
    Yoh_ = torch.tensor(np.eye(3)[np.repeat([0, 1, 2], 60)], dtype=torch.float32)
    train, eval = lab_functions(lab_modules)
    if isinstance(lab_modules["pt_logreg"], str):
        pytest.skip("pt_logreg.py did not import: nothing to compare with")
    torch.manual_seed(0)
    deep, logreg = make(pt_deep, [2, 3]), call("pt_logreg", "PTLogreg(2, 3)", lab_modules["pt_logreg"].PTLogreg, 2, 3)
    for name, model in (("PTDeep([2, 3])", deep), ("PTLogreg(2, 3)", logreg)):
        call("pt_deep", f"train({name}, X, Yoh_, 3000, 0.5)", train, model, torch.tensor(X, dtype=torch.float32),
             Yoh_, 3000, 0.5)
    difference = np.abs(np.asarray(eval(deep, X)) - np.asarray(eval(logreg, X))).max()
    expect(difference < 0.01, "pt_deep: PTDeep([2, 3]) is logistic regression: trained like PTLogreg(2, 3) on the "
                              "same data it should give the same probabilities (3000 steps of 0.5 reach the one "
                              f"optimum); they differ by up to {difference:.3f}")


@pytest.mark.parametrize("activation", [torch.relu, torch.sigmoid, torch.tanh], ids=["relu", "sigmoid", "tanh"])
def test_hidden_layers_learn_with_each_activation(pt_deep, lab_modules, activation):
    X, Y_ = xor_blobs()
    Yoh_ = torch.tensor(np.eye(2)[Y_], dtype=torch.float32)
    train, eval = lab_functions(lab_modules)
    results = []
    for seed in range(3):  # the best of three starts: an unlucky initialization is not the check's business
        torch.manual_seed(seed)
        model = make(pt_deep, [2, 10, 10, 2], activation)
        call("pt_deep", f"train(PTDeep([2, 10, 10, 2], {activation.__name__}), X, Yoh_, 3000, 0.1)", train, model,
             torch.tensor(X, dtype=torch.float32), Yoh_, 3000, 0.1)
        probs = np.asarray(eval(model, X))
        results.append(np.mean(probs.argmax(axis=1) == Y_))
        if results[-1] >= 0.95:
            break
    # sigmoid units learn slowly from a small start: fitting the XOR blobs is asked of ReLU and tanh, and of
    # sigmoid only that it learns something
    needed = 0.6 if activation is torch.sigmoid else 0.95
    expect(max(results) >= needed, f"pt_deep: PTDeep([2, 10, 10, 2], {activation.__name__}) should learn four blobs "
                                   f"that no line separates (XOR) in 3000 steps of 0.1; best training accuracy of "
                                   f"three starts {max(results):.3f} (is the activation applied to every hidden layer, "
                                   f"and not to the output scores?)")
