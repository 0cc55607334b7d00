"""Hidden tests for 01_tensors_autograd."""
import pytest
import torch

from autograder import hints
from autograder.compare import Mismatch, describe, expect, unchanged

ASSIGNMENT = "01_tensors_autograd"

# Errors that the classic mistakes raise, and what to say about them.
ERROR_HINTS = [
    ("view size is not compatible", "view() cannot reorder a non-contiguous tensor (such as the result of permute "
                                    "or transpose): use reshape, or .contiguous().view(...)."),
    ("backward through the graph a second time", "the first backward frees the graph: keep it with "
                                                 "y.backward(retain_graph=True)."),
    ("does not require grad", "the leaf copy must require grad: x.detach().clone().requires_grad_(True)."),
    ("a leaf variable that requires grad", "do not modify the leaf in place (leaf += ..., leaf.mul_(...)): build y "
                                           "from it with out-of-place operations."),
]




def randn(rng, *shape):
    return torch.randn(*shape, generator=rng)


# --------------------------------------------------------------------------------------------------- row_max
ROW_MAX_CASES = {"5x8": (5, 8), "1x6": (1, 6), "7x1": (7, 1), "4x4": (4, 4), "6x4 transposed": (4, 6)}


def _row_max_input(rng, case):
    x = randn(rng, *ROW_MAX_CASES[case])
    x = x.T if "transposed" in case else x  # a non-contiguous (6, 4) view
    if x.shape[1] > 1:  # the first row's maximum is never in column 0, so that all-zero indices are wrong
        x[0, 0] = x[0].min() - 1
    return x


def _row_max_result(sub, x):
    call = sub.run("row_max", x)
    unchanged(x, call.args[0], "x")
    result = call.value
    expect(result, "row_max(x)").tuple_of(2)
    values, indices = result
    if isinstance(values, torch.Tensor) and isinstance(indices, torch.Tensor) \
            and values.dtype == torch.int64 and indices.is_floating_point():
        raise Mismatch("row_max(x): the first element is int64 and the second is float: the order is "
                       "(values, indices), as torch.max(x, dim=1) returns them.")
    return values, indices


@pytest.mark.blank("row_max", points=0.25)
@pytest.mark.parametrize("case", ["5x8", "1x6", "7x1", "6x4 transposed"])
def test_row_max_values(sub, rng, ref, case):
    """values are the maximum of each row"""
    x = _row_max_input(rng, case)
    values, _ = _row_max_result(sub, x)
    n, m = x.shape
    if isinstance(values, torch.Tensor) and tuple(values.shape) == (m,) and n != m:
        raise Mismatch(f"values: expected shape ({n},), one per row, got ({m},), one per column: the maximum was "
                       f"taken over dim=0; a row's maximum is taken along dim=1.")
    by_column = x.max(dim=0).values

    def column_hint(actual, expected):
        if actual.shape == by_column.shape and torch.allclose(actual, by_column.double()):
            return "these are the maxima of the columns (dim=0); a row's maximum is taken along dim=1."
        return None

    expect(values, "values").tensor(shape=(n,)).close_to(ref.row_max(x)[0], rtol=0, atol=0, hints=[column_hint])


@pytest.mark.blank("row_max", points=0.25)
@pytest.mark.parametrize("case", ["5x8", "1x6", "4x4", "6x4 transposed"])
def test_row_max_indices(sub, rng, ref, case):
    """indices are the int64 column index of each row's maximum"""
    x = _row_max_input(rng, case)
    _, indices = _row_max_result(sub, x)
    n, m = x.shape
    if isinstance(indices, torch.Tensor) and tuple(indices.shape) == (m,) and n != m:
        raise Mismatch(f"indices: expected shape ({n},), one per row, got ({m},), one per column: the maximum was "
                       f"taken over dim=0; a row's maximum is taken along dim=1.")
    exp = expect(indices, "indices").tensor(shape=(n,), dtype=None)
    if indices.dtype != torch.int64:
        exp.fail(f"expected dtype torch.int64 (integer positions, as torch.max and argmax return them), "
                 f"got {indices.dtype}.")
    exp.equal_to(ref.row_max(x)[1], what=" (the column of each row's maximum)")


# ------------------------------------------------------------------------------------------ swap_and_flatten
def _swap_check(sub, ref, x):
    a, b, c = x.shape
    call = sub.run("swap_and_flatten", x)
    unchanged(x, call.args[0], "x")
    out = call.value
    expect(out, "swap_and_flatten(x)").tensor(shape=(b, a * c)).close_to(
        ref.swap_and_flatten(x), rtol=0, atol=0, hints=[hints.sorted_same],
        what=" (row j must be x[:, j, :] flattened)")


@pytest.mark.blank("swap_and_flatten", points=0.25)
@pytest.mark.parametrize("shape", [(2, 3, 4), (4, 2, 5), (1, 4, 3), (3, 5, 1)])
def test_swap_contiguous(sub, rng, ref, shape):
    """row j is x[:, j, :] flattened (contiguous x)"""
    _swap_check(sub, ref, randn(rng, *shape))


@pytest.mark.blank("swap_and_flatten", points=0.5)
@pytest.mark.parametrize("made_by", ["transpose", "permute"])
def test_swap_non_contiguous(sub, rng, ref, made_by):
    """works on a non-contiguous x (made with transpose or permute)"""
    a, b, c = 3, 4, 2
    if made_by == "transpose":
        x = randn(rng, b, a, c).transpose(0, 1)  # shape (3, 4, 2), not contiguous
    else:
        x = randn(rng, c, a, b).permute(1, 2, 0)  # shape (3, 4, 2), not contiguous
    assert not x.is_contiguous()
    _swap_check(sub, ref, x)


# ------------------------------------------------------------------------------------------ drop_channel_dim
def _drop_check(sub, ref, x):
    n, _, d = x.shape
    call = sub.run("drop_channel_dim", x)
    if call.args[0].shape != x.shape:
        raise Mismatch(f"x: the caller's x changed shape from {tuple(x.shape)} to {tuple(call.args[0].shape)}: an "
                       f"in-place squeeze_ changes the caller's tensor; use squeeze(1), which returns a new view.")
    out = call.value
    if isinstance(out, torch.Tensor) and tuple(out.shape) != (n, d) and tuple(out.shape) == tuple(x.squeeze().shape):
        raise Mismatch(f"drop_channel_dim(x): for x of shape {tuple(x.shape)} expected shape {(n, d)}, got "
                       f"{tuple(out.shape)}. Hint: squeeze() without an argument removes every dimension of size 1, "
                       f"the batch dimension too when N = 1 (and the features when D = 1): use squeeze(1).")
    expect(out, "drop_channel_dim(x)").tensor(shape=(n, d)).close_to(ref.drop_channel_dim(x), rtol=0, atol=0)


@pytest.mark.blank("drop_channel_dim", points=0.375)
@pytest.mark.parametrize("shape", [(5, 1, 3), (1, 1, 4), (6, 1, 1), (1, 1, 1)])
def test_drop_shapes(sub, rng, ref, shape):
    """(N, 1, D) becomes (N, D), N = 1 and D = 1 included"""
    _drop_check(sub, ref, randn(rng, *shape))


@pytest.mark.blank("drop_channel_dim", points=0.5)
def test_drop_non_contiguous(sub, rng, ref):
    """works on a non-contiguous x"""
    x = randn(rng, 3, 1, 4).permute(2, 1, 0)  # shape (4, 1, 3), not contiguous
    _drop_check(sub, ref, x)


# ------------------------------------------------------------------------------------------- double_backward
def _half(actual, expected):
    c = hints.constant_ratio(actual, expected)
    if c is not None and abs(c - 0.5) < 1e-3:
        return ("this is the gradient of ONE backward pass (2x + 3): call backward twice on the same graph "
                "(retain_graph=True the first time) without zeroing in between, so that the gradients accumulate.")
    return None


def _check_gradient(out, x, ref):
    if out is None:
        raise Mismatch("double_backward(x) returned None: return the .grad of the leaf copy that requires grad "
                       "(the .grad of a tensor that is not a leaf stays None).")
    expect(out, "the gradient").tensor(shape=x.shape).close_to(ref.double_backward(x), hints=[_half, hints.FACTOR_2])


@pytest.mark.blank("double_backward", points=0.5)
@pytest.mark.parametrize("n", [1, 6])
def test_double_backward_values(sub, rng, ref, n):
    """returns the accumulated gradient 2 (2x + 3)"""
    x = randn(rng, n) * 2
    _check_gradient(sub.run("double_backward", x).value, x, ref)


@pytest.mark.blank("double_backward", points=0.5)
def test_double_backward_leaves_x(sub, rng, ref):
    """leaves x unchanged (x still does not require grad)"""
    x = randn(rng, 5)
    result = sub.run("double_backward", x)
    after = result.args[0]
    unchanged(x, after, "x")
    if after.remote.requires_grad or after.remote.grad is not None:
        raise Mismatch("x: your function made the caller's x require grad (or gave it a .grad); x must stay as it "
                       "was. Make a leaf copy: x.detach().clone().requires_grad_(True).")
    _check_gradient(result.value, x, ref)  # only a working answer earns this


@pytest.mark.blank("double_backward", points=0.5)
def test_double_backward_uses_autograd(sub, rng, ref):
    """computes the gradient with autograd (backward), not from the formula"""
    x = randn(rng, 4)
    result = sub.run("double_backward", x, watch=True)
    _check_gradient(result.value, x, ref)  # only a working answer earns this
    calls = result.torch_calls
    if not any(c.rsplit(".", 1)[-1] == "backward" or c.endswith("autograd.grad") for c in calls):
        raise Mismatch("double_backward: backward was never called; the exercise is to let autograd compute the "
                       "gradient (y.backward twice), not to write 2 * (2x + 3) yourself.")


# ----------------------------------------------------------------------------------------------- add_inplace
ADD_CASES = {"5": (5,), "3x4": (3, 4), "4x3 transposed": (3, 4)}  # the last is a non-contiguous view


def _add_inputs(rng, case):
    x = randn(rng, *ADD_CASES[case])
    if "transposed" in case:
        x = x.T  # updating it in place keeps its strides; x.data = ... would not
    return x, randn(rng, *x.shape)


def _check_added(result, x, y):
    after = result.args[0]
    if after.shape == x.shape and torch.equal(after, x):
        raise Mismatch("x: the caller's x did not change. Hint: x = x + y creates a new tensor and only rebinds "
                       "the name inside your function; add in place with x.add_(y) or x += y.")
    expect(after, "x after the call").tensor(shape=x.shape).close_to(x + y, what=" (x + y)")


@pytest.mark.blank("add_inplace", points=0.5)
@pytest.mark.parametrize("case", ["5", "4x3 transposed"])
def test_add_changes_callers_x(sub, rng, case):
    """the caller's x holds x + y afterwards"""
    x, y = _add_inputs(rng, case)
    _check_added(sub.run("add_inplace", x, y), x, y)


@pytest.mark.blank("add_inplace", points=0.5)
def test_add_returns_x_itself(sub, rng):
    """returns x itself (the same tensor object, same storage)"""
    x, y = _add_inputs(rng, "4x3 transposed")
    result = sub.run("add_inplace", x, y)
    _check_added(result, x, y)  # only a working answer earns this
    if result.returned_arg != 0:
        raise Mismatch(f"the returned value is not x itself (got {describe(result.value)}): return the same "
                       f"tensor object you modified in place (x.add_(y) returns it), not a new tensor.")
    if result.value.remote.contiguous:
        raise Mismatch("x: x is the same object but its storage was replaced (x.data = ... or x.set_(...)): modify "
                       "the existing storage in place with x.add_(y) or x += y.")


@pytest.mark.blank("add_inplace", points=0.5)
def test_add_leaves_y(sub, rng):
    """leaves y unchanged"""
    x, y = _add_inputs(rng, "3x4")
    result = sub.run("add_inplace", x, y)
    unchanged(y, result.args[1], "y")
    _check_added(result, x, y)  # only a working answer earns this


