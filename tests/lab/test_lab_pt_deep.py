"""Task 5, pt_deep.py: `PTDeep(config, activation)`, weights and biases in nn.ParameterList, `count_params`,
the same train/eval interface as PTLogreg.

The lab's train and eval are taken from pt_deep.py when it has them, else from pt_logreg.py. PTDeep's
forward returns probabilities, as PTLogreg's does (the lab: probs = softmax(h * W_2 + b_2)). The lab
leaves open the initialization (the checks train from several starts where one could be unlucky), the
dtype, and where param_lambda goes (as for PTLogreg). PTDeep([2, 3]) is checked against the optimum an
independent logistic regression finds, not against the solution's PTLogreg, so that a fault in one
task does not show up in the other.
"""

import contextlib
import io

import numpy as np
import pytest
import torch
import torch.nn as nn
from lab_check import (
    call,
    check_first,
    check_loss_is_the_mean_nll,
    check_names,
    check_reaches_the_optimum,
    check_regularized_training,
    expect,
    forward_probabilities,
    lab_fail,
    loss_penalty,
    make_model,
    overlapping_classes,
    run_eval,
    run_train,
    same_start,
    short,
    task_fixtures,
    tensors,
)


def lab_function(task, name):
    """pt_deep's train or eval, else pt_logreg's (the lab: the same interface as PTLogreg), else None."""
    for module in (task.module("pt_deep"), task.module("pt_logreg")):
        if module is not None and callable(getattr(module, name, None)):
            return getattr(module, name)
    return None


def first_check(task):
    check_names(task, ("PTDeep",))
    for name in ("train", "eval"):
        expect(lab_function(task, name), f"pt_deep: PTDeep trains and evaluates with the lab's {name}(model, ...), as "
                                         "PTLogreg does; neither pt_deep.py nor pt_logreg.py has one that imports")
    model = make_model("pt_deep", task.module().PTDeep, ([2, 5, 3], torch.relu))
    X, Y_ = overlapping_classes(5)
    forward_probabilities("pt_deep", model, tensors(model, X, Y_, 3)[0])
    run_train("pt_deep", lab_function(task, "train"), model, *tensors(model, X, Y_, 3), 1, 0.1)
    run_eval("pt_deep", lab_function(task, "eval"), model, X, 3)


lab_task, pt_deep = task_fixtures("pt_deep", first_check)


@pytest.fixture
def train_eval(lab_task, pt_deep):
    return lab_function(lab_task, "train"), lab_function(lab_task, "eval")


def test_imports(lab_task):
    check_first(lab_task)


def make(pt_deep, config, activation=torch.relu):
    return make_model("pt_deep", pt_deep.PTDeep, (config, activation))


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
    if not callable(getattr(type(model), "count_params", None)):
        elsewhere = " (pt_deep.py has a function count_params(model); the lab asks for a method)" if callable(
            getattr(pt_deep.module, "count_params", None)) else ""
        lab_fail(f"pt_deep: the lab asks for a count_params method of PTDeep that prints every parameter's name and "
                 f"shape and counts them; PTDeep has none{elsewhere}")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = call("pt_deep", "count_params()", model.count_params)
    numbers = [int(n) for n in "".join(c if c.isdigit() else " " for c in printed.getvalue()).split()]
    returned = result if isinstance(result, (tuple, list)) else [result]
    counted = total in returned or (result is None and total in numbers)
    expect(counted, f"pt_deep: count_params() of PTDeep({config}) should count {total} parameters (the lab: [2, 3] "
                    f"gives 9); it returned {short(result, 120)}" + ("" if result is not None else
                                                                     f" and printed the numbers {short(numbers, 120)}"))
    expect(printed.getvalue().strip(), f"pt_deep: count_params() counts the {total} parameters of PTDeep({config}) "
                                       "right, and should also print the name and shape of every parameter (the lab: "
                                       "named_parameters()); it printed nothing")


def test_forward_gives_probabilities_and_get_loss_is_their_mean_nll(pt_deep):
    model = make(pt_deep, [2, 5, 3])
    if not callable(getattr(model, "get_loss", None)):
        pytest.skip("PTDeep has no get_loss (its train computes the loss): checked through training")
    check_loss_is_the_mean_nll("pt_deep", model)


def test_config_2_3_is_logistic_regression(pt_deep, train_eval):
    # The lab: "try out configuration [2,3] on the same data ... Make sure the results are the same as
    # before": the one optimum of multinomial logistic regression, reached through pt_deep's own eval.
    check_no_activation_on_the_scores(make(pt_deep, [2, 3]))
    torch.manual_seed(0)
    check_reaches_the_optimum("pt_deep", make(pt_deep, [2, 3]), *train_eval, "PTDeep([2, 3])")


def check_no_activation_on_the_scores(model):
    """PTDeep([2, 3], relu) has no hidden layer: its forward is softmax(X W + b). When it is instead the
    softmax of relu(X W + b), fail naming the activation applied to the output layer."""
    same_start([model])
    X = tensors(model, *overlapping_classes(5), 3)[0]
    probs = forward_probabilities("pt_deep", model, X).detach().double()
    weights = [p.detach().double() for p in model.parameters() if p.dim() == 2 and min(p.shape) > 1]
    biases = [p.detach().double().reshape(-1) for p in model.parameters() if p.dim() < 2 or min(p.shape) == 1]
    if len(weights) != 1 or len(biases) != 1:
        return
    W = weights[0] if weights[0].shape == (2, 3) else weights[0].T
    S = X.double() @ W + biases[0]
    expect(torch.allclose(probs, torch.softmax(S, dim=1), atol=1e-5)
           or not torch.allclose(probs, torch.softmax(torch.relu(S), dim=1), atol=1e-5),
           "pt_deep: PTDeep([2, 3], torch.relu) has no hidden layer, so its forward should be softmax(X W + b) "
           "(multi-class logistic regression, the lab's [2,3]); it is softmax(relu(X W + b)): the activation is "
           "applied to the output layer's scores too (the lab: probs = softmax(h * W_2 + b_2), no activation)")


def test_param_lambda_is_an_l2_penalty_for_config_2_3(pt_deep, train_eval):
    reported = None
    if callable(getattr(make(pt_deep, [2, 3]), "get_loss", None)):
        reported = loss_penalty("pt_deep", pt_deep.PTDeep, ([2, 3], torch.relu))
    check_regularized_training("pt_deep", pt_deep.PTDeep, ([2, 3], torch.relu), *train_eval, reported)


def xor_blobs(n=20, seed=0):
    rng = np.random.default_rng(seed)
    centres = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    X = np.vstack([c + 0.3 * rng.standard_normal((n, 2)) for c in centres])
    return X, np.repeat([0, 0, 1, 1], n)


@pytest.mark.parametrize("activation", [torch.relu, torch.sigmoid, torch.tanh], ids=["relu", "sigmoid", "tanh"])
def test_hidden_layers_learn_with_each_activation(pt_deep, train_eval, activation):
    X, Y_ = xor_blobs()
    train, eval = train_eval
    # sigmoid units learn slowly from a small start: fitting the XOR blobs is asked of ReLU and tanh, and of
    # sigmoid only that it learns something
    needed = 0.6 if activation is torch.sigmoid else 0.95
    results = []
    for seed in range(3):  # the best of three starts: an unlucky initialization is not the check's business
        torch.manual_seed(seed)
        model = make(pt_deep, [2, 10, 10, 2], activation)
        run_train("pt_deep", train, model, *tensors(model, X, Y_, 2), 3000, 0.1)
        results.append(np.mean(run_eval("pt_deep", eval, model, X, 2).argmax(axis=1) == Y_))
        if results[-1] >= needed:
            break
    expect(max(results) >= needed, f"pt_deep: PTDeep([2, 10, 10, 2], {activation.__name__}) should learn four blobs "
                                   f"that no line separates (XOR) in 3000 steps of 0.1; best training accuracy of "
                                   f"three starts {max(results):.3f} (is the activation applied to every hidden layer? "
                                   "The loss and [2, 3] checks show whether the loss and its training are right)")
