"""Hidden tests for 01_tensors_autograd.

Each test says what it judges (autograder.grading.policy): ``value`` tests use typical inputs (several per test), ``edge``
tests the edge cases exercises.md names (a size of 1, a non-contiguous x), ``property`` tests what a correct answer
also does (leaves its inputs unchanged, returns x itself, calls backward).
"""
import pytest
import torch

from autograder.authoring import Blank, Mistake, Unchanged, declare
from autograder.grading import hints
from autograder.protocol.codec import View
from autograder.grading.compare import Mismatch, describe, expect, feedback, judged, unchanged
from autograder.i18n import N_, course_text as _

ASSIGNMENT = "01_tensors_autograd"

# Errors that the classic mistakes raise, and what to say about them.
ERROR_HINTS = [
    ("view size is not compatible", N_("view() cannot reorder a non-contiguous tensor (such as the result of permute "
                                       "or transpose): use reshape, or .contiguous().view(...).")),
    ("backward through the graph a second time", N_("the first backward frees the graph: keep it with "
                                                    "y.backward(retain_graph=True).")),
    ("does not require grad", N_("the leaf copy must require grad: x.detach().clone().requires_grad_(True).")),
    ("a leaf variable that requires grad", N_("do not modify the leaf in place (leaf += ..., leaf.mul_(...)): build y "
                                              "from it with out-of-place operations.")),
]


def randn(rng, *shape):
    return torch.randn(*shape, generator=rng)


# --------------------------------------------------------------------------------------------------- row_max
def _row_max_input(rng, n, m, transposed=False):
    x = randn(rng, m, n).T if transposed else randn(rng, n, m)  # transposed: a non-contiguous (n, m) view
    if m > 1:  # no row's maximum is in column 0 or 1, so that constant indices are wrong
        x[:, :2] = x.min() - 1 - torch.rand(n, 2, generator=rng)
    return x


def _check_row_max(sub, ref, x):
    result = sub.run("row_max", x).value
    expect(result, "row_max(x)").tuple_of(2)
    values, indices = result
    if isinstance(values, torch.Tensor) and isinstance(indices, torch.Tensor) \
            and values.dtype == torch.int64 and indices.is_floating_point():
        raise Mismatch(_("row_max(x): the first element is int64 and the second is float: the order is "
                         "(values, indices), as torch.max(x, dim=1) returns them."))
    n, m = x.shape
    for name, got in (("values", values), ("indices", indices)):
        if isinstance(got, torch.Tensor) and tuple(got.shape) == (m,) and n != m:
            raise Mismatch(feedback(_("{name}: there is one per column, not one per row.").format(name=name),
                                    _("the maximum was taken over dim=0; a row's maximum is taken along dim=1."),
                                    _("Expected shape {expected}, got {got}.").format(expected=(n,), got=(m,))))
    by_column = x.max(dim=0).values

    def column_hint(actual, expected):
        if actual.shape == by_column.shape and torch.allclose(actual, by_column.double()):
            return _("these are the maxima of the columns (dim=0); a row's maximum is taken along dim=1.")
        return None

    ref_values, ref_indices = ref.row_max(x)
    expect(values, "values").tensor(shape=(n,)).close_to(ref_values, rtol=0, atol=0, hints=[column_hint])
    exp = expect(indices, "indices").tensor(shape=(n,), dtype=None)
    if indices.dtype != torch.int64:
        exp.fail(_("expected dtype torch.int64 (integer positions, as torch.max and argmax return them), "
                   "got {dtype}.").format(dtype=indices.dtype))
    exp.equal_to(ref_indices, what=_(" (the column of each row's maximum)"))


@pytest.mark.blank("row_max", points=0.25)
@pytest.mark.parametrize("shapes", ["5x8 and 4x4", "3x6 and 6x4 transposed"])
def test_row_max_values(sub, rng, ref, shapes):
    """returns each row's maximum and its int64 column index"""
    cases = [(5, 8, False), (4, 4, False)] if shapes == "5x8 and 4x4" else [(3, 6, False), (6, 4, True)]
    for n, m, transposed in cases:
        _check_row_max(sub, ref, _row_max_input(rng, n, m, transposed))


@pytest.mark.blank("row_max", points=0.25, kind="edge")
def test_row_max_one_row(sub, rng, ref):
    """works for N = 1 (one row)"""
    _check_row_max(sub, ref, _row_max_input(rng, 1, 7))


@pytest.mark.blank("row_max", points=0.25, kind="edge")
def test_row_max_one_column(sub, rng, ref):
    """works for M = 1 (one column)"""
    _check_row_max(sub, ref, _row_max_input(rng, 6, 1))


@pytest.mark.blank("row_max", points=1.0, kind="property")
def test_row_max_leaves_x(sub, rng):
    """does not modify its inputs"""
    x = _row_max_input(rng, 5, 6)
    unchanged(x, sub.run("row_max", x).args[0], "x")


# ------------------------------------------------------------------------------------------ swap_and_flatten
# Declared (autograder.authoring): each case one shape; the value tests draw contiguous tensors, the edge tests a
# non-contiguous x (made with transpose or with permute) and a size of 1. Its self-check is made from this too.
swap_and_flatten = Blank(
    "swap_and_flatten", points=2,
    typical={"shape (2, 3, 4)": lambda g: [g.randn(2, 3, 4)], "shape (4, 2, 5)": lambda g: [g.randn(4, 2, 5)],
             "shape (3, 5, 2)": lambda g: [g.randn(3, 5, 2)], "shape (2, 4, 3)": lambda g: [g.randn(2, 4, 3)]},
    edges={"a transposed x": lambda g: [g.randn(4, 3, 2).transpose(0, 1)],
           "a permuted x": lambda g: [g.randn(2, 3, 4).permute(1, 2, 0)],
           "A = 1": lambda g: [g.randn(1, 4, 3)], "B = 1": lambda g: [g.randn(3, 1, 4)],
           "C = 1": lambda g: [g.randn(3, 5, 1)]},
    properties=[Unchanged(0)],
    hints=[hints.sorted_same],
    mistakes=[
        Mistake("the rows mix different j: reshape alone keeps x's memory order, so permute(1, 0, 2) before "
                "reshaping.", lambda x: x.reshape(x.shape[1], -1)),
        Mistake("flatten gives a 1-D tensor: reshape to (B, A*C) instead.", lambda x: x.transpose(0, 1).flatten()),
        Mistake("that is (A, B*C): bring B to the front with permute(1, 0, 2) first.",
                lambda x: x.reshape(x.shape[0], -1)),
    ],
    errors={"view size is not compatible": "view() fails on a non-contiguous tensor (such as the result of "
                                           "permute): use reshape, or .contiguous().view(...)."},
    examples=[[torch.arange(24.0).reshape(2, 3, 4)], [torch.arange(24.0).reshape(4, 3, 2).permute(2, 1, 0)]],
    rtol=0, atol=0,
    shares={"edge": 0.25, "property": 0.5},
)
declare(globals(), swap_and_flatten)


# ------------------------------------------------------------------------------------------ drop_channel_dim
def _drop_check(sub, ref, x):
    n, d = x.shape[0], x.shape[2]
    out = sub.run("drop_channel_dim", x).value
    if isinstance(out, torch.Tensor) and tuple(out.shape) != (n, d) and tuple(out.shape) == tuple(x.squeeze().shape):
        raise Mismatch(feedback(
            _("drop_channel_dim(x): the result has the wrong shape for x of shape {shape}.").format(
                shape=tuple(x.shape)),
            _("squeeze() without an argument removes every dimension of size 1, the batch dimension too when N = 1 "
              "(and the features when D = 1): use squeeze(1)."),
            _("Expected shape {expected}, got {got}.").format(expected=(n, d), got=tuple(out.shape))))
    expect(out, "drop_channel_dim(x)").tensor(shape=(n, d)).close_to(ref.drop_channel_dim(x), rtol=0, atol=0)


@pytest.mark.blank("drop_channel_dim", points=0.25)
@pytest.mark.parametrize("shapes", ["(5, 1, 3) and (2, 1, 7)", "(4, 1, 4) and non-contiguous (4, 1, 3)"])
def test_drop_values(sub, rng, ref, shapes):
    """(N, 1, D) becomes (N, D)"""
    if shapes.startswith("(5"):
        xs = [randn(rng, 5, 1, 3), randn(rng, 2, 1, 7)]
    else:
        xs = [randn(rng, 4, 1, 4), randn(rng, 3, 1, 4).permute(2, 1, 0)]  # the second is (4, 1, 3), not contiguous
    for x in xs:
        _drop_check(sub, ref, x)


@pytest.mark.blank("drop_channel_dim", points=0.25, kind="edge")
def test_drop_batch_of_one(sub, rng, ref):
    """works for N = 1 (one example)"""
    for shape in [(1, 1, 4), (1, 1, 1)]:
        _drop_check(sub, ref, randn(rng, *shape))


@pytest.mark.blank("drop_channel_dim", points=0.25, kind="edge")
def test_drop_one_feature(sub, rng, ref):
    """works for D = 1 (one feature)"""
    for shape in [(6, 1, 1), (1, 1, 1)]:
        _drop_check(sub, ref, randn(rng, *shape))


@pytest.mark.blank("drop_channel_dim", points=1.0, kind="property")
def test_drop_leaves_x(sub, rng):
    """does not modify its inputs"""
    x = randn(rng, 3, 1, 5)
    after = sub.run("drop_channel_dim", x).args[0]
    if after.shape != x.shape:
        raise Mismatch(feedback(_("x: your function changed the shape of the caller's x."),
                                _("an in-place squeeze_ changes the caller's tensor; use squeeze(1), which returns a "
                                  "new view."),
                                _("x had shape {before}, and {after} after the call.").format(
                                    before=tuple(x.shape), after=tuple(after.shape))))
    unchanged(x, after, "x")


# ------------------------------------------------------------------------------------------- double_backward
def _half(actual, expected):
    c = hints.constant_ratio(actual, expected)
    if c is not None and abs(c - 0.5) < 1e-3:
        return _("this is the gradient of ONE backward pass (2x + 3): call backward twice on the same graph "
                 "(retain_graph=True the first time) without zeroing in between, so that the gradients accumulate.")
    return None


def _check_gradient(out, x, ref):
    if out is None:
        raise Mismatch(feedback(_("double_backward(x) returned None."),
                                _("return the .grad of the leaf copy that requires grad (the .grad of a tensor that "
                                  "is not a leaf stays None).")))
    expect(out, _("the gradient")).tensor(shape=x.shape).close_to(ref.double_backward(x), hints=[_half, hints.FACTOR_2])


@pytest.mark.blank("double_backward", points=0.375)
@pytest.mark.parametrize("sizes", ["6 and 3", "10 and 4"])
def test_double_backward_values(sub, rng, ref, sizes):
    """returns the gradient that two backward calls accumulate, 2 (2x + 3)"""
    for n in map(int, sizes.split(" and ")):
        x = randn(rng, n) * 2
        result = sub.run("double_backward", x, watch=True)
        _check_gradient(result.value, x, ref)
        if result.backward_passes == 0:
            raise Mismatch(feedback(_("double_backward: backward was never called."),
                                    _("the exercise is to let autograd compute the gradient (y.backward twice), not "
                                      "to write 2 * (2x + 3) yourself.")))


@pytest.mark.blank("double_backward", points=0.25, kind="edge")
def test_double_backward_one_element(sub, rng, ref):
    """works for an x of one element"""
    x = randn(rng, 1) * 2
    _check_gradient(sub.run("double_backward", x).value, x, ref)


@pytest.mark.blank("double_backward", points=0.5, kind="property")
def test_double_backward_twice(sub, rng):
    """calls backward twice on the same graph (autograd's engine runs two backward passes)"""
    x = randn(rng, 4) * 2
    passes = sub.run("double_backward", x, watch=True).backward_passes
    judged()
    if passes != 2:
        ran = (_("double_backward: autograd ran {passes} backward pass, not 2.") if passes == 1 else
               _("double_backward: autograd ran {passes} backward passes, not 2."))
        raise Mismatch(feedback(ran.format(passes=passes),
                                _("call backward twice on the same y (retain_graph=True the first time), so that the "
                                  "leaf's .grad accumulates both; do not double one pass's gradient by hand.")
                                if passes == 1 else None))


@pytest.mark.blank("double_backward", points=0.5, kind="property")
def test_double_backward_leaves_x(sub, rng):
    """does not modify its inputs (x still does not require grad)"""
    x = randn(rng, 5)
    after = sub.run("double_backward", x).args[0]
    unchanged(x, after, "x")
    if after.remote.requires_grad or after.remote.grad is not None:
        raise Mismatch(feedback(_("x: your function made the caller's x require grad (or gave it a .grad)."),
                                _("x must stay as it was: make a leaf copy, x.detach().clone().requires_grad_(True).")))


# ----------------------------------------------------------------------------------------------- add_inplace
def _add_inputs(rng, shape, transposed=False):
    x = randn(rng, *shape)
    if transposed:
        x = x.T  # updating it in place keeps its strides; x.data = ... would not
    return x, randn(rng, *x.shape)


def _check_added(result, x, y):
    after = result.args[0]
    if after.shape == x.shape and torch.equal(after, x):
        raise Mismatch(feedback(_("x: the caller's x did not change."),
                                _("x = x + y creates a new tensor and only rebinds the name inside your function; add "
                                  "in place with x.add_(y) or x += y.")))
    expect(after, _("x after the call")).tensor(shape=x.shape).close_to(x + y, what=" (x + y)")


def _check_returned_x(result):
    if result.returned_arg != 0:
        raise Mismatch(feedback(_("the returned value is not x itself (got {got}).").format(got=describe(result.value)),
                                _("return the same tensor object you modified in place (x.add_(y) returns it), not "
                                  "a new tensor.")))


@pytest.mark.blank("add_inplace", points=0.5)
@pytest.mark.parametrize("shapes", ["5 and 3x4", "2x3x2 and 4x3 transposed"])
def test_add_values(sub, rng, shapes):
    """adds y to the caller's x in place and returns x itself"""
    cases = [((5,), False), ((3, 4), False)] if shapes == "5 and 3x4" else [((2, 3, 2), False), ((3, 4), True)]
    for shape, transposed in cases:
        x, y = _add_inputs(rng, shape, transposed)
        result = sub.run("add_inplace", x, y)
        _check_added(result, x, y)
        _check_returned_x(result)
        if transposed and result.args[0].remote.contiguous:
            raise Mismatch(feedback(_("x: the caller's x holds x + y, but its storage was replaced (x.data = ... "
                                      "or x.set_(...))."), _("modify the existing storage in place with x.add_(y) or "
                                                             "x += y.")))


@pytest.mark.blank("add_inplace", points=0.25, kind="property")
@pytest.mark.parametrize("layout", ["a row of a larger tensor", "every other column of a larger tensor"])
def test_add_keeps_storage(sub, rng, layout):
    """writes into the caller's storage (x is a view into a larger tensor, which must see the sum)"""
    base = randn(rng, 5, 8)
    view = View(base, (3, 4), (8, 2), 9) if layout.startswith("every") else View(base, (8,), (1,), 16)
    y = randn(rng, *view.size)
    after = sub.run("add_inplace", view, y).args[0]
    want = base.clone()
    want.as_strided(view.size, view.stride, view.offset).add_(y)
    storage = after.remote.base if isinstance(after, torch.Tensor) else None
    if storage is None:
        raise Mismatch(_("x: the caller's tensor did not come back from the call."))
    expect(storage, _("the tensor x is a view of")).tensor(shape=tuple(base.shape))
    if torch.equal(storage, base):
        raise Mismatch(feedback(_("x: the storage the caller's x views did not change: the sum was written somewhere "
                                  "else (x.data = ..., x.set_(...), or a new tensor)."),
                                _("modify x's own storage in place: x.add_(y), or x += y.")))
    expect(storage, _("the tensor x is a view of")).close_to(want, what=_(" (x + y where x lies, unchanged elsewhere)"))


@pytest.mark.blank("add_inplace", points=0.5, kind="property")
def test_add_leaves_y(sub, rng):
    """does not modify its inputs other than x (y is unchanged)"""
    x, y = _add_inputs(rng, (3, 4))
    unchanged(y, sub.run("add_inplace", x, y).args[1], "y")
