"""Self-checks of 03_logistic_regression.

The expected values are numbers on the checks' fixed inputs, computed once from the reference solutions by
``tools/selfcheck_numbers.py`` (which prints them; ``--check`` compares): no code here computes a blank's answer,
and the hints that recognise a known mistake compare with the numbers that mistake gives.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from autograder.i18n import N_, course_text as _
from autograder.selfcheck import selfcheck
from autograder.selfcheck._common import (call_recording, close, expect_dtype, expect_tensor, fmt, forbidden_calls,
                                          number, ratio, unchanged)

LR, EPOCHS = 0.5, 5  # train_logistic's check: 5 epochs of SGD from w = b = 0

# Made by tools/selfcheck_numbers.py from solutions/logistic_regression.py on the inputs below.
SIGMOID_VALUES = [[0.047425874, 0.37754068, 0.5], [0.62245935, 0.880797, 0.95257413]]  # sigmoid(_z())
# sigmoid(-z): e^z for e^(-z) (a known mistake)
SIGMOID_OF_MINUS_Z = [[0.95257413, 0.62245935, 0.5], [0.37754068, 0.11920292, 0.047425874]]
BCE_VALUE = 0.6121919  # bce_loss(*_pp())
BCE_SWAPPED = 1.1948808  # the two terms swapped (a known mistake)
LOGITS = [[0.5], [2.25], [-0.75], [-2.25]]  # logistic_forward(*_lin())
LOGITS_NO_BIAS = [[0.25], [2.0], [-1.0], [-2.5]]  # x @ w alone (a known mistake)
PROBABILITIES = [[0.62245935], [0.9046505], [0.3208213], [0.09534946]]  # the sigmoid of the logits (a known mistake)
TRAIN_LOSSES = [0.6931472, 0.6833424, 0.67476207, 0.66700566, 0.6598144]  # train_logistic on _train_problem()
TRAIN_W = [[0.2805742], [0.14011693]]  # the caller's w and b after it
TRAIN_B = [-0.050527763]
# gradients never zeroed (a known mistake)
TRAIN_ACCUMULATING_LOSSES = [0.6931472, 0.6833424, 0.66630155, 0.64535636, 0.6223507]
# a sigmoid before BCEWithLogitsLoss (a known mistake)
TRAIN_DOUBLE_SIGMOID_LOSSES = [0.724077, 0.72348195, 0.72289085, 0.7223035, 0.72172016]


# ---------------------------------------------------------------------------------------------------------- sigmoid
def _z():
    return torch.tensor([[-3.0, -0.5, 0.0], [0.5, 2.0, 3.0]])


def _sig(fn, z=None):
    return expect_tensor(fn(_z() if z is None else z), "sigmoid(z)")


@selfcheck("sigmoid")
def _sigmoid_shape(fn):
    """returns a tensor of the same shape as z"""
    out = _sig(fn)
    if out.shape != (2, 3):
        raise AssertionError(_("for z of shape (2, 3) the result should have shape (2, 3), got {got}: the sigmoid "
                               "works elementwise.").format(got=tuple(out.shape)))


@selfcheck("sigmoid")
def _sigmoid_dtype(fn):
    """is float32"""
    expect_dtype(_sig(fn), torch.float32, _("the result"), _(MESSAGES["sigmoid dtype"]))


@selfcheck("sigmoid")
def _sigmoid_not_forbidden(fn):
    """does not use a built-in sigmoid"""
    _result, names = call_recording(fn, _z())
    used = forbidden_calls(names, contains=("sigmoid", "expit"))
    if used:
        raise AssertionError(_("sigmoid calls {names}, which is forbidden here: write 1 / (1 + e^(-z)) with "
                               "torch.exp.").format(names=", ".join(used)))


@selfcheck("sigmoid")
def _sigmoid_finite(fn):
    """is finite and within [0, 1] for |z| up to 1000"""
    z = torch.tensor([-1000.0, -100.0, -89.0, 89.0, 100.0, 1000.0])
    out = _sig(fn, z)
    if not bool(torch.isfinite(out).all()):
        raise AssertionError(_("for z = {z} you return {got}: e^z / (1 + e^z) gives inf / inf = nan for large z; use "
                               "e = exp(-|z|), which never overflows, and pick 1 / (1 + e) for z >= 0, e / (1 + e) "
                               "for z < 0.").format(z=fmt(z), got=fmt(out)))
    if bool((out < 0).any() or (out > 1).any()):
        raise AssertionError(_("for z = {z} you return {got}, outside [0, 1].").format(z=fmt(z), got=fmt(out)))


@selfcheck("sigmoid")
def _sigmoid_values(fn):
    """equals 1 / (1 + e^(-z))"""
    z = _z()
    out = _sig(fn, z)
    expected = torch.tensor(SIGMOID_VALUES)
    if close(out, expected, atol=1e-6):
        return
    hint = "sigmoid: minus sign" \
        if close(out, torch.tensor(SIGMOID_OF_MINUS_Z), atol=1e-6) else \
        "sigmoid"
    raise AssertionError(_(MESSAGES[hint]).format(z=fmt(z), expected=fmt(expected), got=fmt(out)))


@selfcheck("sigmoid")
def _sigmoid_extremes(fn):
    """gives 1 at z = 1000 and 0 at z = -1000"""
    out = _sig(fn, torch.tensor([1000.0, -1000.0, 20.0, -20.0]))
    expected = torch.tensor([1.0, 0.0, 1.0, math.exp(-20.0)])
    if not close(out, expected, rtol=1e-3, atol=1e-7):
        raise AssertionError(_(MESSAGES["sigmoid extremes"]).format(expected=fmt(expected), got=fmt(out)))


@selfcheck("sigmoid")
def _sigmoid_input_unchanged(fn):
    """does not modify z"""
    z = _z()
    _sig(fn, z)
    unchanged([_z()], [z], "sigmoid")


# --------------------------------------------------------------------------------------------------------- bce_loss
def _pp():
    return torch.tensor([[0.9], [0.2], [0.7], [0.4]]), torch.tensor([[1.0], [0.0], [0.0], [1.0]])


def _bce(fn, p=None, y=None):
    p0, y0 = _pp()
    out = fn(p0 if p is None else p, y0 if y is None else y)
    if isinstance(out, float):
        raise AssertionError(_("bce_loss returned a Python float: return the tensor (no .item()) so that backward "
                               "works on it."))
    return expect_tensor(out, "bce_loss(p, y)")


@selfcheck("bce_loss")
def _bce_zero_dim(fn):
    """returns a 0-dim tensor"""
    out = _bce(fn)
    if out.dim() != 0:
        hint = "0-dim: mean over all" if out.numel() > 1 else "0-dim: .mean()"
        raise AssertionError(_(MESSAGES[hint]).format(shape=tuple(out.shape)))


@selfcheck("bce_loss")
def _bce_dtype(fn):
    """is float32"""
    expect_dtype(_bce(fn), torch.float32, _("the loss"), _("compute with torch operations (torch.log, not math.log)."))


@selfcheck("bce_loss")
def _bce_not_forbidden(fn):
    """does not use a built-in binary cross-entropy"""
    _result, names = call_recording(fn, *_pp())
    used = forbidden_calls(names, contains=("binary_cross_entropy",))
    if used:
        raise AssertionError(_("bce_loss calls {names}, which is forbidden here: write the formula with "
                               "torch.log.").format(names=", ".join(used)))


@selfcheck("bce_loss")
def _bce_half(fn):
    """is log 2 ≈ 0.6931 when every p is 0.5"""
    out = number(_bce(fn, torch.full((4, 1), 0.5)), _("the loss"))
    if abs(out - math.log(2)) < 1e-4:
        return
    if abs(out - 1.0) < 1e-4:
        hint = "log 2: base 2"
    elif abs(out + math.log(2)) < 1e-4:
        hint = "log 2: minus sign"
    elif abs(out - 4 * math.log(2)) < 1e-4:
        hint = "log 2: sum"
    else:
        hint = "log 2"
    raise AssertionError(_(MESSAGES[hint]).format(got=f"{out:.4f}"))


@selfcheck("bce_loss")
def _bce_values(fn):
    """equals -mean(y log p + (1 - y) log(1 - p))"""
    p, y = _pp()
    out = _bce(fn)
    expected = torch.tensor(BCE_VALUE)
    if close(out, expected):
        return
    r = ratio(out.reshape(1), expected.reshape(1)) if out.numel() == 1 else None
    if close(out, torch.tensor(BCE_SWAPPED)):
        hint = "bce: swapped"
    elif r is not None and abs(r - 4) < 1e-3:
        hint = "bce: sum"
    elif r is not None and abs(r + 1) < 1e-3:
        hint = "bce: minus sign"
    else:
        hint = "bce"
    raise AssertionError(_(MESSAGES[hint]).format(p=fmt(p), y=fmt(y), expected=fmt(expected), got=fmt(out)))


@selfcheck("bce_loss")
def _bce_differentiable(fn):
    """is differentiable in p"""
    p, y = _pp()
    p.requires_grad_(True)
    out = _bce(fn, p, y)
    if not out.requires_grad:
        raise AssertionError(_("the loss is not connected to autograd's graph: compute it with tensor operations, "
                               "without .item(), .detach(), .data or torch.tensor(...)."))


@selfcheck("bce_loss")
def _bce_inputs_unchanged(fn):
    """does not modify its inputs"""
    p, y = _pp()
    _bce(fn, p, y)
    unchanged(_pp(), (p, y), "bce_loss")


# ------------------------------------------------------------------------------------------------- logistic_forward
def _lin():
    x = torch.tensor([[0.5, 1.0], [1.0, -1.0], [0.0, 2.0], [-1.5, 0.5]])
    return x, torch.tensor([[1.5], [-0.5]]), torch.tensor([0.25])


def _forward(fn, *args):
    return expect_tensor(fn(*(args or _lin())), "logistic_forward(x, w, b)")


@selfcheck("logistic_forward")
def _forward_shape(fn):
    """returns logits of shape (N, 1)"""
    out = _forward(fn)
    if out.shape != (4, 1):
        hint = "logits shape: x_data" \
            if out.dim() and out.shape[0] == 100 else "logits shape"
        raise AssertionError(_(MESSAGES[hint]).format(
            got=tuple(out.shape)))


@selfcheck("logistic_forward")
def _forward_dtype(fn):
    """is float32"""
    expect_dtype(_forward(fn), torch.float32, _("the logits"))


@selfcheck("logistic_forward")
def _forward_values(fn):
    """equals x @ w + b, without a sigmoid"""
    out = _forward(fn)
    expected = torch.tensor(LOGITS)
    if close(out, expected):
        return
    if close(out, torch.tensor(PROBABILITIES)):
        hint = "logits: probabilities"
    elif close(out, torch.tensor(LOGITS_NO_BIAS)):
        hint = "logits: no bias"
    else:
        hint = "logits"
    raise AssertionError(_(MESSAGES[hint]).format(expected=fmt(expected), got=fmt(out)))


@selfcheck("logistic_forward")
def _forward_differentiable(fn):
    """is differentiable in the parameters w and b"""
    x, w, b = _lin()
    out = _forward(fn, x, nn.Parameter(w), nn.Parameter(b))
    if not out.requires_grad:
        raise AssertionError(_("the logits do not depend on w and b in autograd's graph: do not use .detach(), "
                               ".data or torch.tensor(...) on them."))


# ------------------------------------------------------------------------------------------------- train_logistic
def _classes():
    x = torch.tensor([[0.9, 0.8], [0.7, 0.9], [0.2, 0.3], [0.4, 0.1], [0.8, 0.4], [0.3, 0.7], [0.6, 0.6],
                      [0.1, 0.5]])
    y = torch.tensor([[1.0], [1.0], [0.0], [0.0], [1.0], [0.0], [1.0], [0.0]])
    return x, y


def _train_problem():
    """Eight points of two classes, and w = b = 0 as nn.Parameters."""
    x, y = _classes()
    return x, y, nn.Parameter(torch.zeros(2, 1)), nn.Parameter(torch.zeros(1))


def _train(fn):
    x, y, w, b = _train_problem()
    losses = fn(x, y, w, b, LR, EPOCHS)
    if not isinstance(losses, list):
        raise AssertionError(_(MESSAGES["not a list"]).format(type=type(losses).__name__))
    if len(losses) != EPOCHS:
        raise AssertionError(_(MESSAGES["list length"]).format(epochs=EPOCHS, count=len(losses)))
    return [number(v, _("each loss")) for v in losses], losses, w, b


@selfcheck("train_logistic")
def _train_returns_floats(fn):
    """returns a list of Python floats, one per epoch"""
    _losses, raw, _w, _b = _train(fn)
    if not all(type(v) is float for v in raw):
        kinds = sorted({type(v).__name__ for v in raw})
        raise AssertionError(_(MESSAGES["not floats"]).format(types=", ".join(kinds)))


@selfcheck("train_logistic")
def _train_first_loss(fn):
    """the first loss is log 2 ≈ 0.6931 from w = b = 0"""
    losses, _raw, _w, _b = _train(fn)
    if abs(losses[0] - math.log(2)) < 1e-4:
        return
    if abs(losses[0] - TRAIN_DOUBLE_SIGMOID_LOSSES[0]) < 1e-4:
        # a sigmoid before nn.BCEWithLogitsLoss, which applies one itself
        hint = "first loss: double sigmoid"
    else:
        hint = "first loss"
    raise AssertionError(_(MESSAGES[hint]).format(
        got=f"{losses[0]:.4f}"))


@selfcheck("train_logistic")
def _train_losses(fn):
    """the losses follow SGD on BCEWithLogitsLoss"""
    losses = torch.tensor(_train(fn)[0])
    if close(losses, torch.tensor(TRAIN_LOSSES), rtol=1e-3):
        return
    if close(losses, torch.tensor(TRAIN_ACCUMULATING_LOSSES), rtol=1e-3):
        hint = "losses: accumulated gradients"
    elif close(losses, torch.tensor(TRAIN_DOUBLE_SIGMOID_LOSSES), rtol=1e-3):
        hint = "losses: double sigmoid"
    else:
        # no known mistake: the exercise's recipe
        hint = "losses"
    want = ", ".join(f"{v:.4f}" for v in TRAIN_LOSSES[:3])
    got = ", ".join(f"{v:.4f}" for v in losses[:3].tolist())
    raise AssertionError(_(MESSAGES[hint]).format(lr=LR, expected=want, got=got))


@selfcheck("train_logistic")
def _train_updates_caller(fn):
    """trains the caller's w and b in place"""
    _losses, _raw, w, b = _train(fn)
    if not bool(w.detach().any()) and not bool(b.detach().any()):
        raise AssertionError(_("the caller's w and b are still 0: give the optimizer the parameters you were "
                               "passed, torch.optim.SGD([w, b], lr=lr), instead of new ones."))
    w_end, b_end = torch.tensor(TRAIN_W), torch.tensor(TRAIN_B)
    if not (close(w, w_end, rtol=1e-3) and close(b, b_end, rtol=1e-3)):
        raise AssertionError(_(MESSAGES["trained w and b"]).format(
            epochs=EPOCHS, w=fmt(w_end), b=fmt(b_end), got_w=fmt(w), got_b=fmt(b)))


# --------------------------------------------------------------------------------------------------------- accuracy
def _acc(fn, logits, labels):
    out = fn(torch.tensor(logits).reshape(-1, 1), torch.tensor(labels).reshape(-1, 1))
    if isinstance(out, torch.Tensor):
        raise AssertionError(_("accuracy returned a tensor: return a Python float with .item()."))
    if type(out) is not float:
        raise AssertionError(_("accuracy should return a Python float, got {type}.").format(type=type(out).__name__))
    return out


@selfcheck("accuracy")
def _accuracy_float(fn):
    """returns a Python float"""
    _acc(fn, [2.0, -1.0, 3.0, -0.2], [1.0, 0.0, 0.0, 0.0])


@selfcheck("accuracy")
def _accuracy_value(fn):
    """is the fraction of rows predicted right"""
    out = _acc(fn, [2.0, -1.0, 3.0, -0.2], [1.0, 0.0, 0.0, 0.0])
    if abs(out - 0.75) < 1e-6:
        return
    # 0.5: every prediction compared with every label, an (N,) tensor against an (N, 1) one
    hint = "accuracy: broadcast" if abs(out - 0.5) < 1e-6 else \
        "accuracy"
    raise AssertionError(_(MESSAGES[hint]).format(
        got=f"{out:.4g}"))


@selfcheck("accuracy")
def _accuracy_threshold(fn):
    """thresholds logits at 0, not at 0.5"""
    out = _acc(fn, [0.2, 0.4, -0.3, 0.7], [1.0, 1.0, 0.0, 1.0])
    if abs(out - 1.0) < 1e-6:
        return
    # 0.5: the logits thresholded at 0.5, as for probabilities
    hint = "threshold: 0.5" if abs(out - 0.5) < 1e-6 else \
        "threshold"
    raise AssertionError(_(MESSAGES[hint]).format(
        got=f"{out:.4g}"))


@selfcheck("accuracy")
def _accuracy_zero_logit(fn):
    """a logit of exactly 0 predicts 0"""
    out = _acc(fn, [0.0, 1.0], [0.0, 1.0])
    if abs(out - 1.0) > 1e-6:
        raise AssertionError(_(MESSAGES["logit of 0"]).format(
            got=f"{out:.4g}"))


@selfcheck("accuracy")
def _accuracy_inputs_unchanged(fn):
    """does not modify its inputs"""
    logits, labels = torch.tensor([[2.0], [-1.0]]), torch.tensor([[1.0], [1.0]])
    fn(logits, labels)
    unchanged([torch.tensor([[2.0], [-1.0]]), torch.tensor([[1.0], [1.0]])], [logits, labels], "accuracy")


# The checks' sentences that name a known mistake (or are too long to fit where they are used), each a whole sentence
# for the translators: marked here, translated where a check raises. They are kept at the end of the file so that the
# checks above keep their line numbers, which the report of an error raised in a check quotes.
MESSAGES = {
    "sigmoid dtype": N_("compute with torch operations on z (no NumPy, no math.exp)."),
    "sigmoid: minus sign": N_("for z = {z} the sigmoid is {expected}, got {got}: that is sigmoid(-z): mind the minus "
                              "sign in e^(-z)."),
    "sigmoid": N_("for z = {z} the sigmoid is {expected}, got {got}: check the formula 1 / (1 + e^(-z))."),
    "sigmoid extremes": N_("for z = [1000, -1000, 20, -20] the sigmoid is {expected}, got {got}."),
    "0-dim: mean over all": N_("the loss should be a 0-dim tensor, got shape {shape}: take the mean over all "
                               "elements."),
    "0-dim: .mean()": N_("the loss should be a 0-dim tensor, got shape {shape}: use .mean(), which returns a 0-dim "
                         "tensor."),
    "log 2: base 2": N_("with p = 0.5 everywhere the loss should be log 2 ≈ 0.6931, got {got}: that is log base 2: "
                        "use the natural logarithm, torch.log."),
    "log 2: minus sign": N_("with p = 0.5 everywhere the loss should be log 2 ≈ 0.6931, got {got}: the leading minus "
                            "sign is missing."),
    "log 2: sum": N_("with p = 0.5 everywhere the loss should be log 2 ≈ 0.6931, got {got}: that is the sum over the "
                     "examples: take the mean."),
    "log 2": N_("with p = 0.5 everywhere the loss should be log 2 ≈ 0.6931, got {got}: check "
                "-mean(y log p + (1 - y) log(1 - p))."),
    "bce: swapped": N_("for p = {p} and y = {y} the loss is {expected}, got {got}: the two terms are swapped: y "
                       "multiplies log p, (1 - y) multiplies log(1 - p)."),
    "bce: sum": N_("for p = {p} and y = {y} the loss is {expected}, got {got}: that is the sum over the examples: "
                   "take the mean."),
    "bce: minus sign": N_("for p = {p} and y = {y} the loss is {expected}, got {got}: the leading minus sign is "
                          "missing."),
    "bce": N_("for p = {p} and y = {y} the loss is {expected}, got {got}: check -mean(y log p + (1 - y) log(1 - p))."),
    "logits shape: x_data": N_("for x of shape (4, 2) and w of shape (2, 1) the logits should have shape (4, 1), got "
                               "{got} (100 rows: does it use the notebook's x_data instead of its argument x?)"),
    "logits shape": N_("for x of shape (4, 2) and w of shape (2, 1) the logits should have shape (4, 1), got {got}: "
                       "use the matrix product x @ w + b."),
    "logits: probabilities": N_("the logits should be {expected}, got {got}: those are probabilities: "
                                "logistic_forward returns the logits, without a sigmoid."),
    "logits: no bias": N_("the logits should be {expected}, got {got}: the bias b is missing."),
    "logits": N_("the logits should be {expected}, got {got}: compute x @ w + b."),
    "not a list": N_("train_logistic should return a list of losses, got {type}."),
    "list length": N_("for epochs={epochs} the list should hold {epochs} losses, it holds {count}."),
    "not floats": N_("the losses should be Python floats, got {types}: append loss.item()."),
    "first loss: double sigmoid": N_("with w = b = 0 every logit is 0, so the first loss should be log 2 ≈ 0.6931, "
                                     "got {got}: double sigmoid: nn.BCEWithLogitsLoss applies the sigmoid itself, so "
                                     "give it the logits from logistic_forward directly."),
    "first loss": N_("with w = b = 0 every logit is 0, so the first loss should be log 2 ≈ 0.6931, got {got}: use "
                     "nn.BCEWithLogitsLoss() on logistic_forward(x, w, b) and y, and record the loss before the step."),
    "losses: accumulated gradients": N_("with lr={lr} the losses should start {expected}, got {got}: the gradients "
                                        "accumulate across epochs: call optimizer.zero_grad() every epoch, before "
                                        "backward."),
    "losses: double sigmoid": N_("with lr={lr} the losses should start {expected}, got {got}: double sigmoid: "
                                 "nn.BCEWithLogitsLoss takes logits, do not apply a sigmoid first."),
    "losses": N_("with lr={lr} the losses should start {expected}, got {got}: use torch.optim.SGD([w, b], lr=lr) "
                 "without momentum and, every epoch, forward, loss, zero_grad, backward, step."),
    "trained w and b": N_("after {epochs} epochs w should be about {w} and b {b}, got {got_w} and {got_b}."),
    "accuracy: broadcast": N_("for logits [2, -1, 3, -0.2] and labels [1, 0, 0, 0] the accuracy is 0.75, got {got}: "
                              "that comes from comparing every prediction with every label: a (N,) tensor against a "
                              "(N, 1) one broadcasts to (N, N); keep both (N, 1)."),
    "accuracy": N_("for logits [2, -1, 3, -0.2] and labels [1, 0, 0, 0] the accuracy is 0.75, got {got}: predict 1 "
                   "where the logit is > 0, compare with y row by row, and average."),
    "threshold: 0.5": N_("for logits [0.2, 0.4, -0.3, 0.7] and labels [1, 1, 0, 1] the accuracy is 1.0, got {got}: "
                         "you thresholded the logits at 0.5: a logit of 0 is a probability of 0.5, so a positive logit "
                         "such as 0.2 predicts 1; threshold logits at 0."),
    "threshold": N_("for logits [0.2, 0.4, -0.3, 0.7] and labels [1, 1, 0, 1] the accuracy is 1.0, got {got}: predict "
                    "1 where the logit is > 0."),
    "logit of 0": N_("for logits [0, 1] and labels [0, 1] the accuracy is 1.0, got {got}: the label is 1 only where "
                     "the logit is > 0 (strictly), so use > 0, not >= 0."),
}
