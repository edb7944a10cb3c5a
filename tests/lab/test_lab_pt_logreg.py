"""Task 4, pt_logreg.py: `class PTLogreg(nn.Module)` with `forward` and `get_loss`, `train(model, X, Yoh_,
param_niter, param_delta)` and `eval(model, X)`, from the lab's template.

The lab leaves open the parameters' names ("potential names: self.W, self.b"), their layout and dtype
(float32, or float64 from `torch.tensor` of NumPy data: the checks give data in the model's dtype), how
much train prints, and where param_lambda goes: an argument of get_loss or train, of the constructor, a
module-level global, or the optimizer's weight_decay (the lab's PyTorch section shows it), and its form:
lambda ||W||^2, lambda/2 ||W||^2 and lambda ||W|| (the norm, not squared) are all accepted; a penalty
ignored, doing nothing to the model, doubled, or other than the one get_loss reports is not. The data
are made here (three overlapping Gaussian classes), so that a fault in data.py does not show up in
pt_logreg.py.
"""

import torch
from lab_check import (
    check_first,
    check_loss_is_the_mean_nll,
    check_names,
    check_reaches_the_optimum,
    check_regularized_training,
    expect,
    forward_probabilities,
    get_loss,
    loss_penalty,
    make_model,
    overlapping_classes,
    run_eval,
    run_train,
    task_fixtures,
    tensors,
)


def first_check(task):
    check_names(task, ("PTLogreg", "train", "eval"))
    module = task.module()
    model = make_model("pt_logreg", module.PTLogreg, (2, 3))
    X, Y_ = overlapping_classes(5)
    forward_probabilities("pt_logreg", model, tensors(model, X, Y_, 3)[0])
    get_loss("pt_logreg", model, *tensors(model, X, Y_, 3))
    run_train("pt_logreg", module.train, model, *tensors(model, X, Y_, 3), 1, 0.1)
    run_eval("pt_logreg", module.eval, model, X, 3)


lab_task, pt_logreg = task_fixtures("pt_logreg", first_check)


def test_imports(lab_task):
    check_first(lab_task)


def test_ptlogreg_holds_its_parameters_as_nn_parameters(pt_logreg):
    model = make_model("pt_logreg", pt_logreg.PTLogreg, (2, 3))
    sizes = sorted(p.numel() for p in model.parameters())
    expect(sum(sizes) == 2 * 3 + 3, f"pt_logreg: PTLogreg(2, 3) should hold a weight matrix of 2 x 3 and a bias of "
                                    f"3 as nn.Parameter (9 numbers); model.parameters() holds {sizes}")


def test_forward_gives_probabilities_and_get_loss_is_their_mean_nll(pt_logreg):
    check_loss_is_the_mean_nll("pt_logreg", make_model("pt_logreg", pt_logreg.PTLogreg, (2, 3)))


def test_train_reaches_the_optimum_that_scikit_learn_finds(pt_logreg):
    torch.manual_seed(0)
    model = make_model("pt_logreg", pt_logreg.PTLogreg, (2, 3))
    check_reaches_the_optimum("pt_logreg", model, pt_logreg.train, pt_logreg.eval, "model")


def test_param_lambda_is_an_l2_penalty_in_get_loss_and_in_train(pt_logreg):
    reported = loss_penalty("pt_logreg", pt_logreg.PTLogreg, (2, 3))
    check_regularized_training("pt_logreg", pt_logreg.PTLogreg, (2, 3), pt_logreg.train, pt_logreg.eval, reported)


def test_eval_takes_and_returns_numpy(pt_logreg):
    model = make_model("pt_logreg", pt_logreg.PTLogreg, (2, 3))
    run_eval("pt_logreg", pt_logreg.eval, model, overlapping_classes(10)[0], 3)
