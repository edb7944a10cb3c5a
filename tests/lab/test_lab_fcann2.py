"""Task 2, fcann2.py: a two-layer net in NumPy, organised like lab 0's logreg.

`W1, b1, W2, b2 = fcann2_train(X, Y_, param_niter=..., param_delta=..., param_lambda=...)` and
`probs = fcann2_classify(X, W1, b1, W2, b2)`. The lab leaves open: the names of the hyper-parameters
(`niter`, `lr` ... are matched to the lab's) and whether they are arguments or module-level globals (lab
0's template); the hidden size's argument (the lab's 5 is given where it is required); the order of the
four arrays fcann2_train returns (matched to the layers by their shapes and by what the module's own
fcann2_classify takes: the lab fixes the functions' names, not the order); whether W1 is [H x D] or
[D x H]; and whether the loss is the sum of the NLLs (the lab's fcann2 text: "the sum of
negative log-likelihoods of the model across all data") or their mean (lab 0, and pt_logreg's text),
and the L2 penalty lambda ||W||^2 or lambda/2 ||W||^2. Each is accepted; the checks say which they found.
The data here are made by the check itself, so that a fault in data.py does not show up in fcann2.py.
"""

from dataclasses import dataclass

import numpy as np
import pytest
from lab_check import (
    call,
    check_first,
    check_names,
    expect,
    lab_call,
    lab_fail,
    note,
    numbers_in,
    place,
    printed_by,
    task_fixtures,
)


def xor_blobs(n=20, seed=0):
    """Four blobs at the corners of a square, opposite corners in the same class: no line separates them."""
    rng = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [4.0, 4.0], [0.0, 4.0], [4.0, 0.0]])
    X = np.vstack([c + 0.6 * rng.standard_normal((n, 2)) for c in centres])
    return X, np.repeat([0, 0, 1, 1], n)


@dataclass
class Trained:
    """What fcann2_train returned, float64: `returned`, in its order (the one the same module's
    fcann2_classify takes), and `layers`, the same arrays as the lab's (W1, b1, W2, b2)."""

    returned: list
    layers: list


def train(fcann2, X, Y_, **lab_values):
    """fcann2_train with the lab's hyper-parameters, checked to return four arrays (W1, b1, W2, b2 in some
    order): a Trained."""
    description = f"fcann2_train(X, Y_, {', '.join(f'{k}={v:g}' for k, v in lab_values.items())})"
    result = lab_call("fcann2", description, fcann2.fcann2_train, (X, Y_), lab_values, hidden=5)
    expect(isinstance(result, (tuple, list)) and len(result) == 4,
           f"fcann2: fcann2_train should return the tuple (W1, b1, W2, b2), as lab 0's logreg_train returns (W, b); "
           f"it returned {type(result).__name__}" + (f" of length {len(result)}" if hasattr(result, "__len__") else ""))
    returned = [np.array(p, dtype=np.float64) for p in result]
    return Trained(returned, as_layers(fcann2, X, returned))


def forward(X, W1, b1, W2, b2, w1_rows_are_units, w2_rows_are_units):
    """The lab's forward pass, in the layouts given: S1 (N, H), H1 (N, H), P (N, C)."""
    W1u = W1 if w1_rows_are_units else W1.T  # (H, D)
    W2u = W2 if w2_rows_are_units else W2.T  # (C, H)
    S1 = X @ W1u.T + b1.reshape(-1)
    H1 = np.maximum(S1, 0)
    S2 = H1 @ W2u.T + b2.reshape(-1)
    P = np.exp(S2 - S2.max(axis=1, keepdims=True))
    return S1, H1, P / P.sum(axis=1, keepdims=True)


def layouts(W1, b1, W2, b2, D=2, C=2):
    """Which of [H x D] / [D x H] for W1 and [C x H] / [H x C] for W2 the shapes allow, H the size of b1:
    [(w1_rows_are_units, w2_rows_are_units)]."""
    H = b1.size
    w1 = [rows for rows, shape in ((True, (H, D)), (False, (D, H))) if W1.shape == shape]
    w2 = [rows for rows, shape in ((True, (C, H)), (False, (H, C))) if W2.shape == shape]
    return [(l1, l2) for l1 in w1 for l2 in w2 if b2.size == C]


def as_layers(fcann2, X, returned):
    """The four arrays fcann2_train returned, as the lab's (W1, b1, W2, b2). The lab fixes the functions'
    names, not the order of what they return: of the orders the shapes allow (two matrices, two vectors),
    the one whose forward pass gives what the module's own fcann2_classify(X, *returned) gives. The
    returned order when none does (the checks then say what is wrong)."""
    matrices = [i for i, p in enumerate(returned) if p.ndim == 2 and min(p.shape) > 1]
    vectors = [i for i in range(4) if i not in matrices]
    if len(matrices) != 2:
        return returned
    probs = np.asarray(call("fcann2", "fcann2_classify(X, *fcann2_train(X, Y_))", fcann2.fcann2_classify, X,
                            *returned), dtype=np.float64)
    for w1, w2 in (matrices, matrices[::-1]):
        for b1, b2 in (vectors, vectors[::-1]):
            layers = [returned[i] for i in (w1, b1, w2, b2)]
            for layout in layouts(*layers):
                if probs.shape == (len(X), 2) and np.allclose(forward(X, *layers, *layout)[2], probs, atol=1e-5):
                    return layers
    return returned


def classify(fcann2, X, trained):
    probs = np.asarray(call("fcann2", "fcann2_classify(X, W1, b1, W2, b2)", fcann2.fcann2_classify, X,
                            *trained.returned))
    expect(probs.shape == (len(X), 2) and np.allclose(probs.sum(axis=1), 1) and np.all(probs >= 0),
           f"fcann2: fcann2_classify(X, W1, b1, W2, b2) should return class probabilities [N x C] = ({len(X)}, 2), "
           f"rows summing to 1; got shape {probs.shape}")
    return probs


def first_check(task):
    check_names(task, ("fcann2_train", "fcann2_classify"))
    X, Y_ = xor_blobs(5)
    printed_by(lambda: classify(task.module(), X, train(task.module(), X, Y_, param_niter=10, param_delta=0.05,
                                                        param_lambda=1e-3)))


lab_task, fcann2 = task_fixtures("fcann2", first_check)


def test_imports(lab_task):
    check_first(lab_task)


def mean_nll(probs, Y_):
    return float(-np.mean(np.log(np.maximum(probs[np.arange(len(Y_)), Y_], 1e-300))))


def lab_gradients(X, Yoh_, W1, b1, W2, b2, w1_rows_are_units, w2_rows_are_units):
    """The lab's backward pass for the mean NLL (no penalty) at W1, b1, W2, b2 (in the layouts given), up to
    the first layer's ReLU: grad W2 (C, H), grad b2 (C,), Gh1 (N, H), the mask [s1 > 0] (N, H) and where s1
    is 0 up to rounding (N, H), where a ReLU may pass the gradient or not."""
    N = len(X)
    S1, H1, P = forward(X, W1, b1, W2, b2, w1_rows_are_units, w2_rows_are_units)
    W2u = W2 if w2_rows_are_units else W2.T  # (C, H)
    Gs2 = (P - Yoh_) / N  # (N, C)
    Gh1 = Gs2 @ W2u  # (N, H)
    at_kink = np.abs(S1) < 1e-8 * (1 + np.abs(S1).max())
    return Gs2.T @ H1, Gs2.sum(axis=0), Gh1, S1 > 0, at_kink


def gradient_errors(X, Yoh_, start, g, w1_rows_are_units, w2_rows_are_units):
    """Relative errors of the measured step g (W1, b1, W2, b2) against the lab's gradients at `start`, and
    g's projection on them. A unit whose kink passes through data points (an initialization may put it
    there) is compared with whichever choice of [s1 > 0] at those points agrees best."""
    W1, b1, W2, b2 = start
    gW2, gb2, Gh1, on, at_kink = lab_gradients(X, Yoh_, W1, b1, W2, b2, w1_rows_are_units, w2_rows_are_units)
    measured_W1 = g[0] if w1_rows_are_units else g[0].T  # (H, D)
    gW1, gb1 = np.zeros_like(measured_W1), np.zeros(on.shape[1])
    for j in range(on.shape[1]):  # per unit: the points at its kink on or off, whichever agrees
        kink = np.flatnonzero(at_kink[:, j])[:4]
        options = []
        for flips in range(2 ** len(kink)):
            mask = on[:, j].copy()
            for k, i in enumerate(kink):
                mask[i] = bool((flips >> k) & 1)
            column = Gh1[:, j] * mask
            w, b = column @ X, column.sum()
            options.append((np.abs(w - measured_W1[j]).max() + abs(b - g[1].ravel()[j]), w, b))
        _, gW1[j], gb1[j] = min(options, key=lambda o: o[0])
    expected = [gW1, gb1, gW2 if w2_rows_are_units else gW2.T, gb2]
    measured = [measured_W1, g[1].ravel(), g[2], g[3].ravel()]
    errors = [float(np.max(np.abs(m.reshape(e.shape) - e)) / max(1e-8, float(np.max(np.abs(e)))))
              for m, e in zip(measured, expected, strict=True)]
    ratios = [float(np.sum(m.reshape(e.shape) * e) / max(1e-300, np.sum(e * e)))
              for m, e in zip(measured, expected, strict=True)]
    return max(errors), errors, ratios


STEPS, DELTA = 1000, 1e-10  # so small a step that 2000 of them stay where the gradient is constant


class Step:
    """What one step of fcann2_train does, measured from outside: runs from the same np.random.seed with
    (STEPS, DELTA), (STEPS, 2 DELTA) and (2 STEPS, DELTA) return W0 - k DELTA g for the same start W0,
    with k the number of steps taken. From them: `extra` (steps taken beyond param_niter), the start
    W0, the step direction g, and what the runs printed."""

    def __init__(self, fcann2, X, Y_, param_lambda):
        runs, self.printed = [], ""
        for niter, delta in ((STEPS, DELTA), (STEPS, 2 * DELTA), (2 * STEPS, DELTA), (STEPS, DELTA)):
            np.random.seed(7)  # noqa: NPY002
            params, printed = printed_by(train, fcann2, X, Y_, param_niter=niter, param_delta=delta,
                                         param_lambda=param_lambda)
            runs.append(params.layers)
            self.printed += printed
        if not all(np.array_equal(a, b) for a, b in zip(runs[0], runs[3], strict=True)):
            pytest.skip("fcann2_train's start does not follow np.random.seed, so one step cannot be measured")
        u = np.concatenate([(a - b).ravel() for a, b in zip(runs[0], runs[1], strict=True)])  # k1 DELTA g
        v = np.concatenate([(a - c).ravel() for a, c in zip(runs[0], runs[2], strict=True)])  # (k2 - k1) DELTA g
        expect(np.any(u != 0), f"fcann2: fcann2_train(X, Y_, param_niter={STEPS}, ...) returned the same parameters "
                               f"for two step sizes: it takes no step (does the loop start at 1, or stop early?)")
        extra = STEPS * np.dot(u, u) / np.dot(u, v) - STEPS  # k(n) = n + extra
        expect(abs(extra - round(extra)) < 0.05 and np.dot(u, v) > 0,
               "fcann2: the number of steps fcann2_train takes should grow with param_niter, one step each: "
               f"param_niter={2 * STEPS} moved the parameters {np.dot(u, v) / np.dot(u, u):.3f} times as far "
               f"beyond param_niter={STEPS} as param_niter={STEPS} moved them")
        self.extra = int(round(extra))
        steps = STEPS + self.extra
        self.g = [(a - b) / (steps * DELTA) for a, b in zip(runs[0], runs[1], strict=True)]
        self.start = [a + steps * DELTA * g for a, g in zip(runs[0], self.g, strict=True)]

    def check_count(self):
        expect(self.extra == 0, f"fcann2: fcann2_train(param_niter={STEPS}) should take {STEPS} steps; it takes "
                                f"{STEPS + self.extra} (param_niter {self.extra:+d}): look at the loop's range. "
                                "The step itself is checked apart from this count.")

    def layouts(self):
        """Which of [H x D] / [D x H] for W1 and [C x H] / [H x C] for W2 the returned shapes allow."""
        W1, b1, W2, b2 = self.start
        found = layouts(W1, b1, W2, b2)
        expect(found, f"fcann2: with D = 2 inputs, C = 2 classes and H = {b1.size} hidden units (the size of b1), W1 "
                      f"should be [H x D] or [D x H], W2 [C x H] or [H x C] and b2 [C]; got {W1.shape}, {W2.shape} "
                      f"and {b2.shape}")
        return found


def fit(step, X, Y_):
    """(relative error, per parameter, ratios, 'mean' or 'sum'): the step against the lab's gradient of the
    mean NLL and N times it (the sum), in each layout; the better."""
    Yoh_ = np.eye(2)[Y_]
    return min((gradient_errors(X, Yoh_, step.start, [p / scale for p in step.g], *layout) + (kind,)
                for scale, kind in ((1, "mean"), (len(X), "sum")) for layout in step.layouts()), key=lambda c: c[0])


def test_the_step_follows_the_gradient_of_the_loss(fcann2):
    # param_lambda 0: the data loss alone. Its gradient is the lab's backward pass of the mean NLL, or N
    # times it for the sum (the lab's fcann2 text); either is accepted, and named in the summary.
    X, Y_ = xor_blobs(5)
    step = Step(fcann2, X, Y_, 0.0)
    step.check_count()
    error, _, _, kind = fit(step, X, Y_)
    if error < 1e-3:
        note("fcann2", f"loss: the {kind} of the NLLs" + (" (the lab's fcann2 text)" if kind == "sum" else ""))
        return
    Yoh_ = np.eye(2)[Y_]
    _, errors, ratios = min((gradient_errors(X, Yoh_, step.start, step.g, *layout) for layout in step.layouts()),
                            key=lambda c: c[0])
    hint = ""
    if len({round(r) for r in ratios}) == 1 and all(abs(r - round(r)) < 0.05 for r in ratios):
        hint = (f" Your step is {round(ratios[0])} times the gradient of the mean NLL (the mean is 1x, the sum "
                f"{len(X)}x).")
    else:
        hint = scaled_parameters(errors, ratios, len(X))
    lab_fail("fcann2: one step of fcann2_train should move the parameters by param_delta times the gradient of the "
             "loss, the mean NLL or the sum of the NLLs (lab: Gs2 = (P - Y')/N, grad W2 = Gs2^T H1, grad b2 = column "
             "sums, Gh1 = Gs2 W2, Gs1 = Gh1 * [s1 > 0], grad W1 = Gs1^T X). Relative error per parameter (W1, b1, W2, "
             f"b2) against the mean's gradient: {', '.join(f'{e:.1e}' for e in errors)}." + hint)


def scaled_parameters(errors, ratios, N):
    """' The steps of b1, b2 are 1/N times ...' for the parameters (of a step that is wrong) whose step is a
    simple multiple of the lab's gradient while the others' are right, else ''."""
    multiples = {1 / N: "1/N", float(N): "N", 2.0: "2", 0.5: "1/2", -1.0: "-1"}
    right = [e < 1e-3 for e in errors]
    found = {}
    for name, ok, r in zip(("W1", "b1", "W2", "b2"), right, ratios, strict=True):
        factor = next((v for v in multiples if abs(r - v) < 0.02 * abs(v)), None)
        if not ok and factor is not None:
            found.setdefault(factor, []).append(name)
    if not any(right) or len(found) != 1:
        return ""
    (factor, names), = found.items()
    why = {1 / N: ": a mean over the data where the lab sums the columns (Gs2 is already divided by N)?",
           float(N): ": a sum over the data where the lab divides Gs2 by N?"}.get(factor, "")
    return (f" The step{'s' if len(names) > 1 else ''} of {', '.join(names)} {'are' if len(names) > 1 else 'is'} "
            f"{multiples[factor]} times the gradient (N = {N}), the others' right{why}")


def test_the_loss_falls_and_the_net_separates_what_no_line_separates(fcann2):
    # 5000 steps of 0.05 on the mean NLL; for a loss that is the sum (the step check tells), 0.05 / N, the
    # same steps.
    X, Y_ = xor_blobs()
    kind = fit(Step(fcann2, *xor_blobs(5), 0.0), *xor_blobs(5))[3]
    delta = 0.05 / (len(X) if kind == "sum" else 1)
    results = []
    for seed in (100, 1, 2):  # a two-layer ReLU net can get stuck from a bad start: the best of three counts
        np.random.seed(seed)  # noqa: NPY002
        trained, _ = printed_by(train, fcann2, X, Y_, param_niter=5000, param_delta=delta, param_lambda=1e-3)
        probs = classify(fcann2, X, trained)
        results.append((np.mean(probs.argmax(axis=1) == Y_), mean_nll(probs, Y_)))
        if results[-1][0] >= 0.95:
            break
    accuracy, loss = max(results)
    expect(loss < np.log(2), f"fcann2: after 5000 steps of param_delta {delta:g} the mean loss should fall below the "
                             f"untrained ln 2 = 0.693; got {loss:.4f} (are the gradients' signs right?)")
    expect(accuracy >= 0.95, f"fcann2: on four blobs that no line separates (XOR), 5000 steps should fit the "
                             f"training data; best accuracy of three starts {accuracy:.3f} (the one-step check shows "
                             "whether the gradients are right)")


def penalty_factors(printed, start, X, Y_, param_lambda):
    """The penalties (factor f of lambda ||W||^2: 0, 1/2 or 1) of the losses fcann2_train printed at its
    start, for the mean and for the sum of the NLLs: {(kind, f), ...} matching a printed number."""
    W1, b1, W2, b2 = start
    norm = float(np.sum(W1 ** 2) + np.sum(W2 ** 2))
    numbers = numbers_in(printed)
    found = set()
    for l1, l2 in ((True, True), (False, False), (True, False), (False, True)):
        if (W1.shape[0] == b1.size) != l1 or (W2.shape[0] == b2.size) != l2:
            continue
        W1u, W2u = (W1 if l1 else W1.T), (W2 if l2 else W2.T)
        S2 = np.maximum(X @ W1u.T + b1.ravel(), 0) @ W2u.T + b2.ravel()
        log_p = S2 - S2.max(axis=1, keepdims=True)
        log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
        nll = -log_p[np.arange(len(Y_)), Y_]
        for kind, data in (("mean", nll.mean()), ("sum", nll.sum())):
            for f in (0.0, 0.5, 1.0):
                value = data + f * param_lambda * norm
                if any(abs(value - x) <= tolerance for x, tolerance in numbers):
                    found.add((kind, f))
    return found


def test_param_lambda_adds_the_gradient_of_an_l2_penalty_on_the_weights(fcann2):
    # The lab gives fcann2 param_lambda=1e-3 (regularization coefficient). Measured here at 0.1, where it
    # matters: the step with the penalty is the data loss's gradient (mean or sum) plus k lambda W for the
    # weights, k = 2 for lambda ||W||^2 and k = 1 for lambda/2 ||W||^2 (the biases: nothing, or the same).
    # Where the loss fcann2_train prints can be told apart, k must be the one of the printed loss.
    X, Y_ = xor_blobs(5)
    lam = 0.1
    if "param_lambda" not in place(fcann2.fcann2_train, 2, {"param_lambda": lam}).where:
        lab_fail("fcann2: fcann2_train should take the lab's param_lambda (the regularization coefficient, "
                 "param_lambda=1e-3 in the lab), as an argument or a module-level global; it has no place for it")
    step = Step(fcann2, X, Y_, lam)
    step.check_count()
    Yoh_ = np.eye(2)[Y_]
    fits = []
    for k in (0, 1, 2, 3, 4):  # 3 and 4: a penalty applied twice (in the loss and again as a decay)
        for biases in (False, True):
            for scale in (1, len(X)):
                g = [(gp - k * lam * p * (biases or i % 2 == 0)) / scale
                     for i, (gp, p) in enumerate(zip(step.g, step.start, strict=True))]
                for layout in step.layouts():
                    fits.append((gradient_errors(X, Yoh_, step.start, g, *layout)[0], k, biases))
    error, k, _ = min(fits)
    expect(error < 1e-3, f"fcann2: with param_lambda={lam} one step should follow the gradient of the loss plus an L2 "
                         "penalty on the weights: 2 lambda W for lambda ||W||^2, or lambda W for lambda/2 ||W||^2; it "
                         f"follows neither (closest: {k} lambda W, relative error {error:.1e})")
    expect(k != 0, f"fcann2: fcann2_train(..., param_lambda={lam}) takes the step of the unpenalized loss: the penalty "
                   "is ignored (the gradient of lambda ||W||^2, 2 lambda W, is missing from the step)")
    expect(k in (1, 2), f"fcann2: with param_lambda the step adds {k} lambda W: the penalty is applied twice (the "
                        "gradient of lambda ||W||^2 is 2 lambda W, of lambda/2 ||W||^2 lambda W)")
    loss = "lambda ||W||^2" if k == 2 else "lambda/2 ||W||^2"
    factors = {f for _, f in penalty_factors(step.printed, step.start, X, Y_, lam) if f > 0}
    if len(factors) == 1:
        f = factors.pop()
        expect(2 * f == k, f"fcann2: the loss fcann2_train prints has the penalty {'lambda' if f == 1 else 'lambda/2'} "
                           f"||W||^2, whose gradient is {2 * f:g} lambda W; its step adds {k} lambda W (the gradient "
                           f"of {loss}): the step and the loss disagree")
    note("fcann2", f"penalty: {loss}")
