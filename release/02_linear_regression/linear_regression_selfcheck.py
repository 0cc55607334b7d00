"""Self-checks of 02_linear_regression.

The expected values are numbers on the checks' fixed inputs, computed once from the reference solutions by
``tools/selfcheck_numbers.py`` (which prints them; ``--check`` compares): no code here computes a blank's answer,
and the hints that recognise a known mistake compare with the numbers that mistake gives.
"""
from __future__ import annotations

import torch

from autograder.i18n import course_text as _
from autograder.selfcheck import selfcheck
from autograder.selfcheck._common import (
    call_recording, close, expect_dtype, expect_tensor, fmt, forbidden_calls, number, ratio, unchanged,
)

# The 15 points of linear_points.csv (the notebook's x_train, y_train), so that the checks know the course's numbers.
_X = [3.3, 4.4, 5.5, 6.71, 6.93, 4.168, 9.779, 6.182, 7.59, 2.167, 7.042, 10.791, 5.313, 7.997, 3.1]
_Y = [1.7, 2.76, 2.09, 3.19, 1.694, 1.573, 3.366, 2.596, 2.53, 1.221, 2.827, 3.465, 1.65, 2.904, 1.3]
MSE_AT_ZERO = 5.9467  # mse of w = b = 0 on the 15 points, from the course notes
LR, EPOCHS = 0.01, 5  # train_linear's check: 5 epochs from w = b = 0

# Made by tools/selfcheck_numbers.py from solutions/linear_regression.py on the inputs below.
MODEL_VALUES = [[1.5], [3.5], [-2.5], [0.5], [5.5]]  # linear_model(*_small())
MODEL_NO_BIAS = [[2.0], [4.0], [-2.0], [1.0], [6.0]]  # x * w alone (a known mistake)
MODEL_MINUS_B = [[2.5], [4.5], [-1.5], [1.5], [6.5]]  # b subtracted (a known mistake)
LOSS_GRAD = [[0.6666667], [-1.3333334], [-0.33333334]]  # d mse_loss / d y_pred on _loss_grad_problem()
GRAD_DW = [-16.54759]  # autograd's gradient of mse_loss(linear_model(x, w, b), y) at _grad_problem()
GRAD_DB = [-2.4358802]
TRAIN_LOSSES = [5.946703, 0.33781806, 0.23369804, 0.2314549, 0.23109871]  # train_linear on _train_problem()
TRAIN_W = [0.3587122]  # the caller's w and b after it
TRAIN_B = [0.060627513]
# gradients never zeroed (a known mistake)
TRAIN_ACCUMULATING_LOSSES = [5.946703, 0.33781806, 4.3159623, 7.100945, 1.1444929]


def _data():
    return torch.tensor(_X).reshape(-1, 1), torch.tensor(_Y).reshape(-1, 1)


def _fifteen_rows(shape) -> bool:
    """A result of 15 rows: the function may use the notebook's x_train / y_train instead of its arguments."""
    return bool(len(shape)) and shape[0] == 15


# ----------------------------------------------------------------------------------------------------- linear_model
def _small():
    x = torch.tensor([[1.0], [2.0], [-1.0], [0.5], [3.0]])
    return x, torch.tensor([2.0]), torch.tensor([-0.5])


def _predict(fn, *args):
    return expect_tensor(fn(*(args or _small())), "linear_model(x, w, b)")


@selfcheck("linear_model")
def _model_returns_tensor(fn):
    """returns a tensor"""
    _predict(fn)


@selfcheck("linear_model")
def _model_shape(fn):
    """has shape (N, 1)"""
    out = _predict(fn)
    if out.shape == (5, 1):
        return
    if out.shape == (5,):
        hint = _("x @ w gives shape (N,): use x * w + b, which broadcasts to (N, 1).")
    elif _fifteen_rows(out.shape):
        hint = _("compute x * w + b with x of shape (N, 1) and w, b of shape (1,). (15 rows: does it use the "
                 "notebook's x_train / y_train instead of its arguments?)")
    else:
        hint = _("compute x * w + b with x of shape (N, 1) and w, b of shape (1,).")
    raise AssertionError(_("for x of shape (5, 1) the predictions should have shape (5, 1), got {got}: "
                           "{hint}").format(got=tuple(out.shape), hint=hint))


@selfcheck("linear_model")
def _model_dtype(fn):
    """is float32"""
    expect_dtype(_predict(fn), torch.float32, _("the predictions"), _("build them from x, w and b only."))


@selfcheck("linear_model")
def _model_values(fn):
    """equals x * w + b"""
    out = _predict(fn)
    expected = torch.tensor(MODEL_VALUES)
    if close(out, expected):
        return
    if close(out, torch.tensor(MODEL_NO_BIAS)):
        message = _("for w = 2, b = -0.5 the predictions should be {expected}, got {got}: the bias b is missing.")
    elif close(out, torch.tensor(MODEL_MINUS_B)):
        message = _("for w = 2, b = -0.5 the predictions should be {expected}, got {got}: b is subtracted instead "
                    "of added.")
    else:
        message = _("for w = 2, b = -0.5 the predictions should be {expected}, got {got}.")
    raise AssertionError(message.format(expected=fmt(expected), got=fmt(out)))


@selfcheck("linear_model")
def _model_differentiable(fn):
    """is differentiable in w and b"""
    x, w, b = _small()
    w.requires_grad_(True)
    b.requires_grad_(True)
    out = _predict(fn, x, w, b)
    if not out.requires_grad:
        raise AssertionError(_("the predictions do not depend on w and b in autograd's graph: do not use "
                               ".detach(), .data, .item() or torch.tensor(...) on them."))


# --------------------------------------------------------------------------------------------------------- mse_loss
def _loss(fn, y_pred, y):
    try:
        return fn(y_pred, y)
    except RuntimeError as error:
        if not isinstance(error, NotImplementedError) and "15" in str(error):
            raise AssertionError(_("mse_loss failed for inputs of 2 rows against 15: it must use its arguments "
                                   "y_pred and y, never the notebook's y_train.")) from None
        raise


def _zero_model_loss(fn):
    y = _data()[1]
    return _loss(fn, torch.zeros(15, 1), y)


@selfcheck("mse_loss")
def _loss_zero_dim(fn):
    """returns a 0-dim tensor"""
    out = _zero_model_loss(fn)
    if isinstance(out, float):
        raise AssertionError(_("mse_loss returned a Python float: return the tensor (no .item()) so that backward "
                               "works on it."))
    out = expect_tensor(out, "mse_loss(y_pred, y)")
    if out.dim() != 0:
        hint = _("take the mean over all elements: ((y_pred - y) ** 2).mean().") if out.numel() > 1 else \
            _("use .mean(), which returns a 0-dim tensor.")
        raise AssertionError(_("the loss should be a 0-dim tensor, got shape {shape}: {hint}").format(
            shape=tuple(out.shape), hint=hint))


@selfcheck("mse_loss")
def _loss_dtype(fn):
    """is float32"""
    expect_dtype(expect_tensor(_zero_model_loss(fn), "mse_loss(y_pred, y)"), torch.float32, _("the loss"))


@selfcheck("mse_loss")
def _loss_course_value(fn):
    """is about 5.9467 on the 15 points with w = b = 0"""
    out = number(_zero_model_loss(fn))
    if abs(out - MSE_AT_ZERO) < 1e-3:
        return
    if abs(out - 15 * MSE_AT_ZERO) < 1e-2:
        hint = _("that is the sum of the squared errors: take the mean.")
    elif abs(out - MSE_AT_ZERO**0.5) < 1e-3:
        hint = _("that is its square root (RMSE): do not take the square root.")
    elif abs(out - MSE_AT_ZERO / 2) < 1e-3:
        hint = _("that is half the MSE: no factor 1/2.")
    else:
        hint = _("square the errors, then take their mean.")
    raise AssertionError(_("with all predictions 0 the loss on the 15 points should be about {expected}, "
                           "got {got}: {hint}").format(expected=MSE_AT_ZERO, got=f"{out:.4f}", hint=hint))


@selfcheck("mse_loss")
def _loss_uses_arguments(fn):
    """uses its arguments, not notebook globals"""
    out = number(_loss(fn, torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [4.0]])))
    if abs(out - 2.5) > 1e-5:
        hint = _("does it read the notebook's y_train instead of its argument y?") \
            if abs(out - MSE_AT_ZERO) < 0.5 else _("it should be the mean of (y_pred - y) ** 2.")
        raise AssertionError(_("mse_loss([[1], [2]], [[0], [4]]) should be (1 + 4) / 2 = 2.5, got {got}: "
                               "{hint}").format(got=f"{out:.4g}", hint=hint))


def _loss_grad_problem():
    return torch.tensor([[1.0], [2.0], [0.5]]), torch.tensor([[0.0], [4.0], [1.0]])


@selfcheck("mse_loss")
def _loss_differentiable(fn):
    """is differentiable: backward gives 2/n (y_pred - y)"""
    y_pred, y = _loss_grad_problem()
    y_pred.requires_grad_(True)
    out = _loss(fn, y_pred, y)
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        raise AssertionError(_("the loss is not connected to autograd's graph: compute it with tensor operations, "
                               "without .item(), .detach(), .data or torch.tensor(...)."))
    out.backward()
    expected = torch.tensor(LOSS_GRAD)
    if not close(y_pred.grad, expected):
        raise AssertionError(_("backward gave d loss / d y_pred = {got}, expected 2/n (y_pred - y) = "
                               "{expected}.").format(got=fmt(y_pred.grad), expected=fmt(expected)))


@selfcheck("mse_loss")
def _loss_inputs_unchanged(fn):
    """does not modify its inputs"""
    y_pred, y = torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [4.0]])
    _loss(fn, y_pred, y)
    unchanged([torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [4.0]])], [y_pred, y], "mse_loss")


# -------------------------------------------------------------------------------------------------------- mse_grads
def _grad_problem():
    x, y = _data()
    return x, y, torch.tensor([0.1]), torch.tensor([0.5])  # away from the optimum (w ~ 0.25, b ~ 0.8)


def _autograd_oracle():
    """The gradient autograd gives at _grad_problem(), computed once (GRAD_DW, GRAD_DB)."""
    return torch.tensor(GRAD_DW), torch.tensor(GRAD_DB)


def _grads(fn):
    result = fn(*_grad_problem())
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(_("mse_grads should return a pair (dw, db), got {type}.").format(
            type=type(result).__name__))
    return expect_tensor(result[0], "dw"), expect_tensor(result[1], "db")


@selfcheck("mse_grads")
def _grads_returns_pair(fn):
    """returns a pair (dw, db) of tensors"""
    _grads(fn)


@selfcheck("mse_grads")
def _grads_shape(fn):
    """dw and db have shape (1,), like w and b"""
    for name, g in zip(("dw", "db"), _grads(fn)):
        if g.shape == (1,):
            continue
        if g.dim() == 0:
            hint = _("reshape the sum to (1,) with .reshape(1).")
        elif g.numel() > 1 and _fifteen_rows(g.shape):
            hint = _("sum over the examples. (15 rows: does it use the notebook's x_train / y_train instead of its "
                     "arguments?)")
        elif g.numel() > 1:
            hint = _("sum over the examples.")
        else:
            hint = _("reshape it to (1,).")
        raise AssertionError(_("{name} has shape {shape}, expected (1,): {hint}").format(
            name=name, shape=tuple(g.shape), hint=hint))


@selfcheck("mse_grads")
def _grads_dtype(fn):
    """dw and db are float32"""
    for name, g in zip(("dw", "db"), _grads(fn)):
        expect_dtype(g, torch.float32, name, _("compute with torch operations on the float32 inputs (no NumPy, no "
                                               "float64)."))


@selfcheck("mse_grads")
def _grads_no_autograd(fn):
    """does not use autograd"""
    names = call_recording(fn, *_grad_problem())[1]
    used = forbidden_calls(names, exact={"backward", "grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian"})
    if used:
        raise AssertionError(_("mse_grads calls {calls}: autograd is forbidden here, compute dw and db from "
                               "the formulas.").format(calls=", ".join(used)))


def _compare_grad(name, got, expected, other):
    if close(got, expected):
        return
    r = ratio(got, expected)
    if r is not None and abs(r - 0.5) < 1e-3:
        hint = _("did you forget the factor 2 in 2/n?")
    elif r is not None and abs(r + 1) < 1e-3:
        hint = _("the sign is flipped: the residual is w x + b - y (prediction minus target).")
    elif r is not None and abs(r - 15) < 1e-2:
        hint = _("it lacks the 1/n: divide the sum by the number of examples.")
    elif r is not None and abs(r - 7.5) < 1e-2:
        hint = _("it lacks the 1/n and the factor 2 is missing too.")
    elif close(got, other):
        hint = _("that is the other parameter's gradient: are dw and db swapped?")
    else:
        hint = _("check the formula {formula}.").format(
            formula="2/n Σ x_i (w x_i + b - y_i)" if name == "dw" else "2/n Σ (w x_i + b - y_i)")
    if r is not None:
        message = _("{name} = {got} ({ratio}x the autograd gradient), but autograd gives {expected} at w = 0.1, "
                    "b = 0.5: {hint}")
    else:
        message = _("{name} = {got}, but autograd gives {expected} at w = 0.1, b = 0.5: {hint}")
    raise AssertionError(message.format(name=name, got=fmt(got), ratio=f"{r:.3g}" if r is not None else "",
                                        expected=fmt(expected), hint=hint))


@selfcheck("mse_grads")
def _grads_dw(fn):
    """dw matches the gradient from autograd"""
    dw, db = _grads(fn)
    true_dw, true_db = _autograd_oracle()
    _compare_grad("dw", dw, true_dw, true_db)


@selfcheck("mse_grads")
def _grads_db(fn):
    """db matches the gradient from autograd"""
    dw, db = _grads(fn)
    true_dw, true_db = _autograd_oracle()
    _compare_grad("db", db, true_db, true_dw)


@selfcheck("mse_grads")
def _grads_inputs_unchanged(fn):
    """does not modify its inputs"""
    args = _grad_problem()
    fn(*args)
    unchanged(_grad_problem(), args, "mse_grads")


# ----------------------------------------------------------------------------------------------------- train_linear
def _train_problem():
    """The 15 points, and w = b = 0 as leaves that require grad."""
    x, y = _data()
    return x, y, torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)


def _train(fn):
    """Run the student's train_linear from w = b = 0; return (losses, w, b) with w, b the caller's tensors."""
    x, y, w, b = _train_problem()
    try:
        losses = fn(x, y, w, b, LR, EPOCHS)
    except (AttributeError, TypeError, RuntimeError) as error:
        if isinstance(error, NotImplementedError):
            raise
        message = str(error)
        backward_reached_caller = w.grad is not None or b.grad is not None
        if "NoneType" in message and "zero_" in message and not backward_reached_caller:
            raise AssertionError(_("w.grad is None before the first backward, so w.grad.zero_() fails there: zero "
                                   "the gradients after the update (or set w.grad = None).")) from None
        if "NoneType" in message or "does not require grad" in message:
            raise AssertionError(_("w = w - lr * w.grad makes a new tensor (not a leaf that requires grad, so its "
                                   ".grad is None) and leaves the caller's w as it was: update in place with "
                                   "w -= lr * w.grad inside torch.no_grad().")) from None
        if "leaf Variable" in message:
            raise AssertionError(_("an in-place update of a leaf that requires grad must not be recorded in the "
                                   "graph: do it inside `with torch.no_grad():`.")) from None
        raise
    if not isinstance(losses, list):
        raise AssertionError(_("train_linear should return a list of losses, got {type}.").format(
            type=type(losses).__name__))
    if len(losses) != EPOCHS:
        raise AssertionError(_("for epochs={epochs} the list should hold {epochs} losses, it holds {count}.").format(
            epochs=EPOCHS, count=len(losses)))
    return losses, w, b


@selfcheck("train_linear")
def _train_returns_floats(fn):
    """returns a list of Python floats, one per epoch"""
    losses = _train(fn)[0]
    if not all(type(v) is float for v in losses):
        kinds = sorted({type(v).__name__ for v in losses})
        raise AssertionError(_("the losses should be Python floats, got {types}: append loss.item().").format(
            types=", ".join(kinds)))


@selfcheck("train_linear")
def _train_keeps_leaves(fn):
    """w and b are still leaf tensors that require grad"""
    w, b = _train(fn)[1:]
    for name, t in (("w", w), ("b", b)):
        if not (t.is_leaf and t.requires_grad):
            raise AssertionError(_("after training, the caller's {name} is no longer a leaf that requires grad: "
                                   "update it in place under torch.no_grad(), without requires_grad_(False).").format(
                name=name))


@selfcheck("train_linear")
def _train_first_loss(fn):
    """the first loss is measured before any update (about 5.9467 from w = b = 0)"""
    losses = _train(fn)[0]
    first = number(losses[0])
    if abs(first - MSE_AT_ZERO) > 1e-3:
        raise AssertionError(_("the first loss from w = b = 0 should be about {expected}, got {got}: record "
                               "each epoch's loss before its update, with mse_loss(linear_model(x, w, b), y).").format(
            expected=MSE_AT_ZERO, got=f"{first:.4f}"))


@selfcheck("train_linear")
def _train_losses(fn):
    """the losses follow gradient descent with gradients zeroed every epoch"""
    losses = [number(v) for v in _train(fn)[0]]
    expected = TRAIN_LOSSES
    if close(torch.tensor(losses), torch.tensor(expected), rtol=1e-3):
        return
    if close(torch.tensor(losses), torch.tensor(TRAIN_ACCUMULATING_LOSSES), rtol=1e-3):
        raise AssertionError(_("the gradients accumulate across epochs: zero them after each update "
                               "(w.grad.zero_() or w.grad = None)."))
    got = ", ".join(f"{v:.4f}" for v in losses[:3])
    want = ", ".join(f"{v:.4f}" for v in expected[:3])
    raise AssertionError(_("with lr={lr} from w = b = 0 the losses should start {expected}, got {got}: each epoch, "
                           "update w -= lr * w.grad and b -= lr * b.grad.").format(lr=LR, expected=want, got=got))


@selfcheck("train_linear")
def _train_updates_caller(fn):
    """the caller's w and b hold the trained values"""
    w, b = _train(fn)[1:]
    w_end, b_end = torch.tensor(TRAIN_W), torch.tensor(TRAIN_B)
    if float(w.detach()) == 0.0 and float(b.detach()) == 0.0:
        raise AssertionError(_("the caller's w and b are still 0: update them in place (w -= lr * w.grad), not by "
                               "rebinding the name (w = w - ...)."))
    if not (close(w, w_end, rtol=1e-3) and close(b, b_end, rtol=1e-3)):
        raise AssertionError(_("after {epochs} epochs w, b should be about {w_expected}, {b_expected}, "
                               "got {w_got}, {b_got}.").format(
            epochs=EPOCHS, w_expected=f"{float(w_end):.4f}", b_expected=f"{float(b_end):.4f}",
            w_got=f"{float(w.detach()):.4f}", b_got=f"{float(b.detach()):.4f}"))
