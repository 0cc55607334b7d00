"""Hidden tests for 05_multiclass: softmax, cross_entropy, binary_entropy.

Values are compared with the reference on fresh inputs of varied shapes: typical ones (2-D, 3-D and 4-D,
non-square, non-contiguous) in "value" tests; the edges the contract names (a size of 1: 1-D, one row, one class,
N = 1, K = 1; |z| up to 1000 for softmax, 50 for cross_entropy; p = 0 and 1 for the entropy) in "edge" tests;
inputs left unchanged in "property" tests; the ban on the built-ins in a "forbidden" test (autograder.grading.policy).
"""
from __future__ import annotations

import math
from typing import Callable

import pytest
import torch

from autograder.grading import hints
from autograder.grading.compare import Mismatch, expect, feedback, unchanged
from autograder.i18n import N_, course_text as _

ASSIGNMENT = "05_multiclass"

Hint = Callable[[torch.Tensor, torch.Tensor], "str | None"]


# ------------------------------------------------------------------------------------------- helpers


def close_to_one_of(alternatives: dict[str, torch.Tensor]) -> Hint:
    """A hint: the answer equals what a known mistake computes."""

    def hint(actual: torch.Tensor, expected: torch.Tensor) -> str | None:
        for text, value in alternatives.items():
            value = value.detach().double()
            if value.shape == actual.shape and bool(torch.isfinite(value).all()) and torch.allclose(
                    actual, value, rtol=1e-4, atol=1e-5):
                return text
        return None

    return hint


def make_input(rng: torch.Generator, shape: tuple[int, ...], layout: str = "contiguous",
               scale: float = 3.0) -> torch.Tensor:
    """Logits of ``shape``; "permuted" gives a non-contiguous tensor (a permute of another layout)."""
    if layout == "permuted":
        order = list(reversed(range(len(shape))))
        base = torch.randn([shape[i] for i in order], generator=rng) * scale
        return base.permute(*order)  # permute is its own inverse for a reversal
    return torch.randn(shape, generator=rng) * scale


def friendly(name: str) -> str:
    """'_VariableFunctionsClass.softmax' -> 'torch.softmax', as the student wrote it."""
    for prefix, to in (("_VariableFunctionsClass.", "torch."), ("torch._C._special.special_", "torch.special."),
                       ("torch._C._nn.", "torch.nn.functional."), ("torch._C._VariableFunctions.", "torch.")):
        if name.startswith(prefix):
            return to + name[len(prefix):]
    return name


def forbidden_used(torch_calls: list[str], banned: set[str]) -> list[str]:
    """The recorded calls whose function is one of ``banned`` (matched on the last name, any form)."""
    found = []
    for name in torch_calls:
        last = name.rsplit(".", 1)[-1].lstrip("_").removeprefix("special_")
        if last in banned:
            found.append(friendly(name))
    return sorted(set(found))


def fail(sentence: str, hint: str | None = None, details: str | None = None) -> None:
    """A failing test's feedback: what is wrong, the hint on its own line, the numbers last."""
    raise Mismatch(feedback(sentence, hint, details))


def zero_dim(value, name: str) -> None:
    if type(value) is float:
        fail(_("{name}: expected a 0-dim tensor, got a Python float.").format(name=name),
             _("return the tensor itself (no .item()), so that backward can be called on it."))
    expect(value, name).tensor(shape=())


# -------------------------------------------------------------------------------------------- softmax

SOFTMAX_CASES = {  # each judges a 2-D and a 3-D or 4-D input, one of them non-contiguous
    "(4, 7), (2, 3, 5) non-contiguous": [((4, 7), "contiguous"), ((2, 3, 5), "permuted")],
    "(7, 4) non-contiguous, (2, 2, 3, 4)": [((7, 4), "permuted"), ((2, 2, 3, 4), "contiguous")],
    "(5, 5) non-contiguous, (3, 2, 4)": [((5, 5), "permuted"), ((3, 2, 4), "contiguous")],
    "(6, 3), (2, 4, 3) non-contiguous": [((6, 3), "contiguous"), ((2, 4, 3), "permuted")],
}
SOFTMAX_EDGES = {
    "1-D (6,)": ((6,), "contiguous"),
    "one row (1, 9)": ((1, 9), "contiguous"),
    "one class (5, 1)": ((5, 1), "contiguous"),
}


def softmax_alternatives(z: torch.Tensor) -> dict[str, torch.Tensor]:
    def norm(e, dims):
        return e / e.sum(dim=dims, keepdim=True)

    out = {}
    e = torch.exp(z - z.max())
    if z.dim() >= 2:
        out[_("you normalised over dim 0; softmax is over the last dimension (dim=-1).")] = norm(e, 0)
    if z.dim() >= 3:
        out[_("you normalised over dim 1; softmax is over the last dimension (dim=-1), not a fixed dim.")] = norm(e, 1)
    out[_("you normalised over all elements at once: each slice along the last dimension must sum to 1.")] = \
        e / e.sum()
    if z.dim() == 2 and z.shape[0] == z.shape[1]:
        text = _("sum(dim=-1) without keepdim=True divides row i by the sum of row j (broadcasting): use "
                 "keepdim=True.")
        row = torch.exp(z - z.amax(dim=-1, keepdim=True))
        out[text] = e / e.sum(dim=-1)
        out[text + " "] = row / row.sum(dim=-1)
    return out


def softmax_case(sub, rng, ref, case: str, shape: tuple[int, ...], layout: str) -> None:
    z = make_input(rng, shape, layout, scale=20.0 if shape[-1] == 1 else 3.0)
    out = sub.call("softmax", z)
    expect(out, _("softmax of a {case} input").format(case=case)).tensor(shape=shape).close_to(
        ref.softmax(z), hints=[close_to_one_of(softmax_alternatives(z))])


@pytest.mark.blank("softmax", points=0.25)
@pytest.mark.parametrize("case", list(SOFTMAX_CASES))
def test_softmax_values(sub, rng, ref, case):
    """normalises over the last dimension, like the reference"""
    for shape, layout in SOFTMAX_CASES[case]:
        described = (_("{rank}-D {shape} non-contiguous") if layout == "permuted" else _("{rank}-D {shape}")).format(
            rank=len(shape), shape=shape)
        softmax_case(sub, rng, ref, described, shape, layout)


@pytest.mark.blank("softmax", points=0.125, kind="edge")
@pytest.mark.parametrize("case", list(SOFTMAX_EDGES))
def test_softmax_sizes_of_one(sub, rng, ref, case):
    """softmax over the last dimension of a 1-D input, one row or one class"""
    softmax_case(sub, rng, ref, _(case), *SOFTMAX_EDGES[case])


@pytest.mark.blank("softmax", points=0.5, kind="edge")
@pytest.mark.parametrize("case", ["(3, 6)", "3-D (2, 2, 4)"])
def test_softmax_large_logits(sub, rng, ref, case):
    """finite and correct for logits of magnitude up to 1000"""
    shape = {"(3, 6)": (3, 6), "3-D (2, 2, 4)": (2, 2, 4)}[case]
    z = (torch.rand(shape, generator=rng) * 2 - 1) * 1000
    flat = z.view(-1, shape[-1])
    flat[0] = 1000.0  # a row of equal, large logits
    flat[-1] = -1000.0 + torch.rand(shape[-1], generator=rng)  # a row far below the others
    out = sub.call("softmax", z)
    name = _("softmax of a {case} input with logits up to ±1000").format(case=_(case))
    if isinstance(out, torch.Tensor) and out.shape == z.shape and not bool(torch.isfinite(out).all()):
        fail(_("{name}: some values are NaN or infinite.").format(name=name),
             _("exp overflows, or every exp underflows to 0: subtract each row's maximum (keepdim=True) before exp."),
             _("{bad} of {total} values are NaN or infinite.").format(bad=int((~torch.isfinite(out)).sum()),
                                                                       total=out.numel()))
    expect(out, name).tensor(shape=shape).close_to(ref.softmax(z), hints=[close_to_one_of(softmax_alternatives(z))])


@pytest.mark.blank("softmax", points=0.5, kind="property")
def test_softmax_leaves_input(sub, rng):
    """does not modify its inputs"""
    z = make_input(rng, (4, 6))
    unchanged(z, sub.run("softmax", z).args[0], "z")


SOFTMAX_FORBIDDEN = N_("torch.softmax, Tensor.softmax, F.softmax, nn.Softmax, torch.special.softmax or log_softmax")


@pytest.mark.blank("softmax", points=0.125, kind="forbidden")
def test_softmax_no_builtin(sub, rng):
    """does not use torch.softmax, Tensor.softmax, F.softmax, nn.Softmax or log_softmax"""
    z = make_input(rng, (3, 5))
    used = forbidden_used(sub.run("softmax", z, watch=True).torch_calls, {"softmax", "log_softmax"})
    if used:
        fail(_("softmax uses {names}, which is forbidden here.").format(names=", ".join(used)),
             _("write softmax yourself from exp and sum (subtracting the maximum first); torch.logsumexp is allowed."),
             _("forbidden: {names}.").format(names=_(SOFTMAX_FORBIDDEN)))


# -------------------------------------------------------------------------------------- cross_entropy

CE_CASES = {"N=6, K=4": (6, 4), "N=3, K=8": (3, 8), "N=5, K=5": (5, 5), "N=8, K=3": (8, 3)}
CE_EDGES = {"N=1, K=5": (1, 5), "N=4, K=1": (4, 1)}


def ce_alternatives(logits: torch.Tensor, target: torch.Tensor) -> dict[str, torch.Tensor]:
    n = logits.shape[0]
    log_p = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    picked = log_p[torch.arange(n), target]
    p = torch.exp(log_p)
    out = {
        _("the sign is wrong: the loss is minus the mean log-probability of the target class."): picked.mean(),
        _("take the log of the target class's probability (you averaged the probabilities themselves)."):
            -p[torch.arange(n), target].mean(),
        _("logits[:, target] picks an N x N matrix, not one entry per row: index with [torch.arange(N), target]."):
            -log_p[:, target].mean(),
        _("the log-softmax is missing: subtract logsumexp(logits) (the log of the softmax's denominator)."):
            -logits[torch.arange(n), target].mean(),
        _("the log-softmax must be taken over the classes (dim=1), one row at a time, not over the batch."):
            -(logits - torch.logsumexp(logits, dim=0, keepdim=True))[torch.arange(n), target].mean(),
    }
    if n > 1:
        out[_("you summed over the batch of {n} instead of averaging (use .mean()).").format(n=n)] = -picked.sum()
    return out


def ce_case(sub, rng, ref, n: int, k: int) -> None:
    logits = make_input(rng, (n, k), "permuted" if n == 3 else "contiguous")
    target = torch.randint(0, k, (n,), generator=rng)
    out = sub.call("cross_entropy", logits, target)
    if n != 1:
        name = (_("cross_entropy for {n} rows of {k} classes") if k != 1 else
                _("cross_entropy for {n} rows of {k} class")).format(n=n, k=k)
    else:
        name = (_("cross_entropy for {n} row of {k} classes") if k != 1 else
                _("cross_entropy for {n} row of {k} class")).format(n=n, k=k)
    if isinstance(out, torch.Tensor) and tuple(out.shape) == (n,) and n > 1:
        fail(_("{name}: expected a 0-dim tensor, got shape ({n},), one loss per row.").format(name=name, n=n),
             _("take the mean over the batch (.mean())."))
    zero_dim(out, name)
    expect(out, name).close_to(ref.cross_entropy(logits, target),
                               hints=[close_to_one_of(ce_alternatives(logits, target))])


@pytest.mark.blank("cross_entropy", points=0.375)
@pytest.mark.parametrize("case", list(CE_CASES))
def test_cross_entropy_values(sub, rng, ref, case):
    """equals nn.CrossEntropyLoss() on random logits and targets"""
    ce_case(sub, rng, ref, *CE_CASES[case])


@pytest.mark.blank("cross_entropy", points=0.25, kind="edge")
@pytest.mark.parametrize("case", list(CE_EDGES))
def test_cross_entropy_sizes_of_one(sub, rng, ref, case):
    """equals nn.CrossEntropyLoss() for a batch of one row or a single class"""
    ce_case(sub, rng, ref, *CE_EDGES[case])


@pytest.mark.blank("cross_entropy", points=0.5, kind="edge")
def test_cross_entropy_large_logits(sub, rng, ref):
    """finite and correct for logits of magnitude up to 50"""
    n, k = 6, 5
    logits = (torch.rand(n, k, generator=rng) * 2 - 1) * 50
    target = torch.randint(0, k, (n,), generator=rng)
    logits[0] = 50.0
    logits[1, :] = -50.0
    logits[1, (int(target[1]) + 1) % k] = 50.0  # the target class far below the best one
    out = sub.call("cross_entropy", logits, target)
    name = _("cross_entropy for logits up to ±50")
    if isinstance(out, torch.Tensor) and out.dim() == 0 and not math.isfinite(float(out)):
        fail(_("{name}: the loss is {loss}: exp overflows or a probability underflows to 0 before the log.").format(
                 name=name, loss=float(out)),
             _("compute log-probabilities as logits - logsumexp(logits) instead."))
    zero_dim(out, name)
    # rtol 1e-3: log(softmax) is allowed, and a probability of e^-100 is a float32 denormal (2% precise): each
    # such row adds at most 0.02 to a sum it adds at least 87 to, a relative error below 2.5e-4
    expect(out, name).close_to(ref.cross_entropy(logits, target), rtol=1e-3, atol=1e-4,
                               hints=[close_to_one_of(ce_alternatives(logits, target))])


@pytest.mark.blank("cross_entropy", points=0.375, kind="property")
def test_cross_entropy_leaves_inputs(sub, rng):
    """does not modify its inputs"""
    logits = make_input(rng, (4, 3))
    target = torch.randint(0, 3, (4,), generator=rng)
    result = sub.run("cross_entropy", logits, target)
    unchanged(logits, result.args[0], "logits")
    unchanged(target, result.args[1], "target")


CE_FORBIDDEN = N_("cross_entropy, nll_loss or log_softmax (functional, tensor method or module forms)")


@pytest.mark.blank("cross_entropy", points=0.125, kind="forbidden")
def test_cross_entropy_no_builtin(sub, rng):
    """does not use F.cross_entropy, nn.CrossEntropyLoss, nll_loss or log_softmax"""
    logits = make_input(rng, (4, 3))
    target = torch.randint(0, 3, (4,), generator=rng)
    used = forbidden_used(sub.run("cross_entropy", logits, target, watch=True).torch_calls,
                          {"cross_entropy", "cross_entropy_loss", "nll_loss", "nll_loss_nd", "nll_loss2d",
                           "nll_loss_forward", "nll_loss2d_forward", "log_softmax"})
    if used:
        fail(_("cross_entropy uses {names}, which is forbidden here.").format(names=", ".join(used)),
             _("compute it yourself: logits minus logsumexp, pick the target column of each row, mean, minus sign."),
             _("forbidden: {names}.").format(names=_(CE_FORBIDDEN)))


# ------------------------------------------------------------------------------------- binary_entropy

NATS = hints.ratio({math.log(2): N_("nats (natural log): the entropy is in bits, use log2 or divide by log(2).")})


def entropy_alternatives(p: torch.Tensor) -> dict[str, torch.Tensor]:
    xlogy = torch.special.xlogy
    return {
        _("the (1 - p) log2 (1 - p) term is missing."): -xlogy(p, p) / math.log(2),
        _("the minus sign is missing: H(p) = -(p log2 p + (1 - p) log2 (1 - p)) is >= 0."):
            (xlogy(p, p) + xlogy(1 - p, 1 - p)) / math.log(2),
    }


ENTROPY_CASES = {"(7,)": ((7,), "contiguous"), "(3, 4)": ((3, 4), "contiguous"),
                 "(2, 3, 4) non-contiguous": ((2, 3, 4), "permuted")}


def entropy_case(sub, rng, ref, case: str, p: torch.Tensor) -> None:
    out = sub.call("binary_entropy", p)
    if isinstance(out, torch.Tensor) and out.dim() == 0 and p.numel() > 1:
        fail(_("binary_entropy of a {case} tensor returned a single value, not one per element.").format(case=_(case)),
             _("one entropy per element: do not sum or average."),
             _("expected shape {expected}, got ().").format(expected=tuple(p.shape)))
    expect(out, _("binary_entropy of a {case} tensor").format(case=_(case))).tensor(shape=tuple(p.shape)).close_to(
        ref.binary_entropy(p), hints=[NATS, close_to_one_of(entropy_alternatives(p))])


@pytest.mark.blank("binary_entropy", points=0.25)
@pytest.mark.parametrize("case", list(ENTROPY_CASES))
def test_entropy_values(sub, rng, ref, case):
    """elementwise entropy in bits: same values as the reference"""
    shape, layout = ENTROPY_CASES[case]
    p = torch.sigmoid(make_input(rng, shape, layout, scale=2.0)).clamp(1e-3, 1 - 1e-3)
    entropy_case(sub, rng, ref, case, p)


@pytest.mark.blank("binary_entropy", points=0.125)
def test_entropy_named_values(sub, rng, ref):
    """H(0.1) ≈ 0.469 and H(0.5) = 1, the values the spec names"""
    p = torch.cat([torch.tensor([0.1, 0.5, 0.9]), torch.rand(3, generator=rng) * 0.8 + 0.1])
    entropy_case(sub, rng, ref, "(6,)", p[torch.randperm(6, generator=rng)])


@pytest.mark.blank("binary_entropy", points=0.125, kind="edge")
def test_entropy_single_element(sub, rng, ref):
    """elementwise entropy of a tensor of one element"""
    p = torch.rand(1, generator=rng) * 0.9 + 0.05
    entropy_case(sub, rng, ref, "(1,)", p)


@pytest.mark.blank("binary_entropy", points=0.75, kind="edge")
def test_entropy_at_0_and_1(sub, rng, ref):
    """H(0) = H(1) = 0 without NaN"""
    p = torch.rand(8, generator=rng)
    p[:3] = torch.tensor([0.0, 1.0, 0.5])
    perm = torch.randperm(8, generator=rng)
    p = p[perm]
    out = sub.call("binary_entropy", p)
    name = _("binary_entropy of a tensor containing 0, 0.5 and 1")
    if isinstance(out, torch.Tensor) and out.shape == p.shape and not bool(torch.isfinite(out).all()):
        bad = [float(v) for v in p[~torch.isfinite(out)]]
        edges = sorted({v for v in bad if v in (0.0, 0.5, 1.0)})  # only the documented values, never a hidden one
        values = ", ".join(f"{v:g}" for v in edges)
        others = len(bad) - sum(v in (0.0, 0.5, 1.0) for v in bad)
        if not edges:
            sentence = _("{name}: the entropy is NaN or infinite at some p.")
        elif not others:
            sentence = _("{name}: the entropy is NaN or infinite at p = {values}.")
        elif others == 1:
            sentence = _("{name}: the entropy is NaN or infinite at p = {values} and at {others} other value.")
        else:
            sentence = _("{name}: the entropy is NaN or infinite at p = {values} and at {others} other values.")
        fail(sentence.format(name=name, values=values, others=others),
             _("0 * log(0) is NaN, yet H(0) = H(1) = 0: use torch.special.xlogy(p, p), or torch.where."))
    expect(out, name).tensor(shape=(8,)).close_to(ref.binary_entropy(p), hints=[NATS])


@pytest.mark.blank("binary_entropy", points=0.25, kind="property")
def test_entropy_leaves_input(sub, rng):
    """does not modify its inputs"""
    p = torch.rand(3, 5, generator=rng)
    p[0, 0], p[1, 1] = 0.0, 1.0
    unchanged(p, sub.run("binary_entropy", p).args[0], "p")
