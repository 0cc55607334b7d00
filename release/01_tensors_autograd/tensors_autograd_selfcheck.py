"""Self-checks of 01_tensors_autograd.

The expected values are numbers on the checks' fixed inputs, computed once from the reference solutions by
``tools/selfcheck_numbers.py`` (which prints them; ``--check`` compares): no code here computes a blank's answer.
"""
from __future__ import annotations

import torch

from autograder.i18n import course_text as _
from autograder.selfcheck import selfcheck
from autograder.selfcheck._common import close, expect_dtype, expect_tensor, fmt, unchanged

# Made by tools/selfcheck_numbers.py from solutions/tensors_autograd.py on the inputs below.
ROW_MAX_VALUES = [9.0, 8.0, 11.0]  # row_max(_matrix())
ROW_MAX_INDICES = [1, 0, 2]
ROW_MIN_VALUES = [1.0, 0.0, -1.0]  # each row's minimum (a known mistake)
DROPPED = [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0], [8.0, 9.0, 10.0, 11.0]]  # drop_channel_dim(_channels(3, 4))
DOUBLE_BACKWARD = [8.0, 2.0, 14.0]  # double_backward(_vector())
ONE_BACKWARD = [4.0, 1.0, 7.0]  # the gradient of one backward pass (a known mistake)


# ---------------------------------------------------------------------------------------------------------- row_max
def _matrix() -> torch.Tensor:
    # 3 rows, 4 columns, so that a reduction over the wrong dimension has the wrong shape.
    return torch.tensor([[1.0, 9.0, 3.0, 2.0], [8.0, 0.0, 5.0, 7.0], [4.0, 6.0, 11.0, -1.0]])


def _row_max_pair(fn):
    result = fn(_matrix())
    if isinstance(result, torch.Tensor):
        raise AssertionError(_("row_max returned one tensor, expected the pair (values, indices): "
                               "torch.max(x, dim=1) returns both."))
    if not isinstance(result, tuple) or len(result) != 2:
        raise AssertionError(_("row_max should return a pair (values, indices), got {type}.").format(
            type=type(result).__name__))
    values, indices = result
    expect_tensor(values, "values")
    expect_tensor(indices, "indices")
    return values, indices


@selfcheck("row_max")
def _row_max_returns_pair(fn):
    """returns a pair (values, indices) of tensors"""
    _row_max_pair(fn)


@selfcheck("row_max")
def _row_max_shape(fn):
    """values and indices have shape (N,): one entry per row"""
    for name, t in zip(("values", "indices"), _row_max_pair(fn)):
        if t.shape == (3,):
            continue
        if t.shape == (4,):
            hint = _("that is one value per column: reduce over dim=1 (along each row), not dim=0.")
        elif t.shape == (3, 1):
            hint = _("drop keepdim=True.")
        elif t.dim() == 0:
            hint = _("torch.max(x) without dim gives the maximum of the whole tensor: pass dim=1.")
        else:
            hint = _("reduce over dim=1.")
        raise AssertionError(_("{name} has shape {shape} for a (3, 4) input, expected (3,): {hint}").format(
            name=name, shape=tuple(t.shape), hint=hint))


@selfcheck("row_max")
def _row_max_dtypes(fn):
    """values are float32 and indices int64"""
    values, indices = _row_max_pair(fn)
    expect_dtype(values, torch.float32, "values", _("they come from x, which is float32."))
    expect_dtype(indices, torch.int64, "indices", _("torch.max(x, dim=1) and argmax return int64 indices; "
                                                    "do not convert them."))


@selfcheck("row_max")
def _row_max_values(fn):
    """values are the maximum of each row"""
    values = _row_max_pair(fn)[0]
    expected = torch.tensor(ROW_MAX_VALUES)
    if close(values, expected):
        return
    message = (_("values should be the row maxima {expected}, got {got} (that is each row's minimum).")
               if close(values, torch.tensor(ROW_MIN_VALUES)) else
               _("values should be the row maxima {expected}, got {got}."))
    raise AssertionError(message.format(expected=fmt(expected), got=fmt(values)))


@selfcheck("row_max")
def _row_max_indices(fn):
    """indices are the column of each row's maximum"""
    indices = _row_max_pair(fn)[1]
    expected = torch.tensor(ROW_MAX_INDICES)
    if not torch.equal(indices.long(), expected):
        raise AssertionError(_("indices should be the column of each row's maximum, {expected} here, "
                               "got {got}.").format(expected=expected.tolist(), got=indices.tolist()))


@selfcheck("row_max")
def _row_max_input_unchanged(fn):
    """does not modify x"""
    x = _matrix()
    fn(x)
    unchanged([_matrix()], [x], "row_max")


# ------------------------------------------------------------------------------------------------- drop_channel_dim
def _channels(n: int, d: int) -> torch.Tensor:
    return torch.arange(float(n * d)).reshape(n, 1, d)


def _drop_shape(fn, n, d):
    out = expect_tensor(fn(_channels(n, d)), "drop_channel_dim(x)")
    if out.shape == (n, d):
        return out
    hint = (_("squeeze() without a dimension removes every size-1 dimension, this one too: use squeeze(1).")
            if out.numel() == n * d and out.dim() < 2 else _("remove only dimension 1: x.squeeze(1)."))
    raise AssertionError(_("for x of shape {shape} the result should have shape {expected}, "
                           "got {got}: {hint}").format(shape=(n, 1, d), expected=(n, d), got=tuple(out.shape),
                                                       hint=hint))


@selfcheck("drop_channel_dim")
def _drop_returns_tensor(fn):
    """returns a tensor"""
    expect_tensor(fn(torch.zeros(3, 1, 4)), "drop_channel_dim(x)")


@selfcheck("drop_channel_dim")
def _drop_shape_general(fn):
    """has shape (N, D) for x of shape (3, 1, 4)"""
    _drop_shape(fn, 3, 4)


@selfcheck("drop_channel_dim")
def _drop_shape_batch_of_one(fn):
    """keeps the batch dimension when N = 1"""
    _drop_shape(fn, 1, 4)


@selfcheck("drop_channel_dim")
def _drop_shape_one_feature(fn):
    """keeps the feature dimension when D = 1"""
    _drop_shape(fn, 3, 1)


@selfcheck("drop_channel_dim")
def _drop_shape_single(fn):
    """has shape (1, 1) when N = D = 1"""
    _drop_shape(fn, 1, 1)


@selfcheck("drop_channel_dim")
def _drop_dtype(fn):
    """keeps the dtype float32"""
    expect_dtype(_drop_shape(fn, 3, 4), torch.float32, _("the result"), _("keep x's dtype."))


@selfcheck("drop_channel_dim")
def _drop_values(fn):
    """the values are x[:, 0, :]"""
    out = _drop_shape(fn, 3, 4)
    expected = torch.tensor(DROPPED)
    if not close(out, expected):
        raise AssertionError(_("the values should be those of x[:, 0, :], {expected}, got {got}.").format(
            expected=fmt(expected), got=fmt(out)))


# ------------------------------------------------------------------------------------------------- double_backward
def _vector() -> torch.Tensor:
    return torch.tensor([0.5, -1.0, 2.0])


def _double(fn, x=None):
    x = _vector() if x is None else x
    try:
        out = fn(x)
    except RuntimeError as error:
        if isinstance(error, NotImplementedError):
            raise
        message = str(error)
        if "second time" in message:
            raise AssertionError(_("backward through the same graph a second time failed: keep the graph the "
                                   "first time with y.backward(retain_graph=True).")) from None
        if "does not require grad" in message:
            raise AssertionError(_("backward found nothing that requires grad: x does not require grad, so make a "
                                   "leaf copy with x.detach().clone().requires_grad_(True) and compute y from it.")) \
                from None
        raise
    if out is None:
        raise AssertionError(_("double_backward returned None: return the leaf copy's .grad "
                               "(backward itself returns None)."))
    return expect_tensor(out, "double_backward(x)")


@selfcheck("double_backward")
def _double_returns_tensor(fn):
    """returns a tensor"""
    _double(fn)


@selfcheck("double_backward")
def _double_shape(fn):
    """has the shape of x"""
    out = _double(fn)
    if out.shape != (3,):
        raise AssertionError(_("the gradient should have the shape of x, (3,), got {got}: "
                               "return the leaf's .grad.").format(got=tuple(out.shape)))


@selfcheck("double_backward")
def _double_dtype(fn):
    """is float32"""
    expect_dtype(_double(fn), torch.float32, _("the gradient"), _("keep x's dtype for the leaf copy."))


@selfcheck("double_backward")
def _double_values(fn):
    """equals 2 * (2x + 3): two backward passes accumulate"""
    x = _vector()
    out = _double(fn)
    expected = torch.tensor(DOUBLE_BACKWARD)
    if close(out, expected):
        return
    if close(out, torch.tensor(ONE_BACKWARD)):
        raise AssertionError(_("you got the gradient of one backward pass, 2x + 3: call backward twice on the "
                               "same graph so that the two gradients add up in .grad."))
    raise AssertionError(_("for x = {x} the accumulated gradient should be 2 * (2x + 3) = {expected}, "
                           "got {got}.").format(x=fmt(x), expected=fmt(expected), got=fmt(out)))


@selfcheck("double_backward")
def _double_leaves_x_alone(fn):
    """leaves x unchanged: no grad, not requiring grad"""
    x = _vector()
    _double(fn, x)
    if x.requires_grad or x.grad is not None:
        raise AssertionError(_("x itself now requires grad or has a .grad: work on a leaf copy, "
                               "x.detach().clone().requires_grad_(True), and leave x alone."))
    unchanged([_vector()], [x.detach()], "double_backward")


@selfcheck("double_backward")
def _double_repeatable(fn):
    """gives the same result when called twice"""
    first, second = _double(fn).clone(), _double(fn)
    if not close(first, second):
        raise AssertionError(_("a second call gave {second} instead of {first}: create a fresh leaf copy "
                               "in every call instead of reusing one whose .grad already holds values.").format(
            second=fmt(second), first=fmt(first)))


# ------------------------------------------------------------------------------------------------------ add_inplace
def _pair():
    return torch.tensor([1.0, 2.0, 3.0]), torch.tensor([10.0, 20.0, 30.0])


@selfcheck("add_inplace")
def _add_returns_x(fn):
    """returns x itself, the same tensor object"""
    x, y = _pair()
    out = fn(x, y)
    if out is None:
        raise AssertionError(_("add_inplace returned None: add in place, then `return x`."))
    if out is not x:
        raise AssertionError(_("add_inplace returned a different object than x: x + y (and x = x + y) make a new "
                               "tensor; use x.add_(y) or x += y and return x."))


@selfcheck("add_inplace")
def _add_changes_x(fn):
    """x holds x + y after the call"""
    x, y = _pair()
    fn(x, y)
    if not close(x, torch.tensor([11.0, 22.0, 33.0])):
        raise AssertionError(_("after add_inplace(x, y) x should be [11, 22, 33], it is {x}: "
                               "the addition must change x itself (x.add_(y)).").format(x=fmt(x)))


@selfcheck("add_inplace")
def _add_same_storage(fn):
    """x keeps its storage"""
    x, y = _pair()
    pointer = x.data_ptr()
    fn(x, y)
    if x.data_ptr() != pointer:
        raise AssertionError(_("x now uses a different storage (x.data = ... or x.set_(...) swaps it): "
                               "add in place with x.add_(y)."))


@selfcheck("add_inplace")
def _add_y_unchanged(fn):
    """leaves y unchanged"""
    x, y = _pair()
    fn(x, y)
    if not torch.equal(y, _pair()[1]):
        raise AssertionError(_("y changed to {y}: only x may be modified.").format(y=fmt(y)))


@selfcheck("add_inplace")
def _add_broadcast(fn):
    """adds a y that broadcasts over x's rows"""
    x = torch.zeros(2, 3)
    y = torch.tensor([1.0, 2.0, 3.0])
    out = fn(x, y)
    if out is not x or not close(x, torch.tensor([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])):
        raise AssertionError(_("for x of shape (2, 3) and y of shape (3,), x should become x + y row by row: "
                               "x.add_(y) broadcasts y."))
