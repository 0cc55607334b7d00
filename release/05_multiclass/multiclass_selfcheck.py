"""Self-checks of 05_multiclass: softmax, cross_entropy, binary_entropy.

Oracles: numbers on the checks' fixed inputs, computed once from the reference solutions by
``tools/selfcheck_numbers.py`` (which prints them; ``--check`` compares), the numbers from the course notes
(H(0.1) = 0.469 bits, H(0.5) = 1 bit) and properties (rows sum to 1, finite for large logits). No code here
computes a blank's answer, nor calls a built-in that does; the hints that recognise a known mistake compare with
the numbers that mistake gives.
"""
from __future__ import annotations

import math

import torch
from torch.overrides import TorchFunctionMode

from autograder.i18n import N_, course_text as _
from autograder.selfcheck import selfcheck

# Fixed inputs of the value checks (drawn once with torch.randn, written out).
SOFTMAX_1D_Z = [4.622988, -0.8802867, -6.5363684, 1.7052938, -3.2535672]
SOFTMAX_3D_Z = [[[-3.3775196, -3.4570806, -0.75173575, -1.3016365], [2.5461311, 2.0760274, -0.94803834, -6.3456583],
                 [1.4042892, -0.47313732, 4.3309803, 0.7981483]],
                [[0.49936604, 2.6231456, -0.43042153, -0.334828], [2.7954798, 3.7770276, 6.0149417, 0.16121072],
                 [1.85417, -1.2384067, -2.5231943, -6.948126]]]
CE_LOGITS = [[-4.576788, -2.2506955, -1.9619427, -4.8284545], [-0.30050153, -1.8275667, -2.9393167, -4.8272886],
             [1.3174248, 3.5136023, 5.302282, -0.28608564], [0.41811448, -4.735503, -0.9618625, -0.89803815],
             [-2.3953195, 1.0071915, 0.8260006, 5.1489077], [-0.168419, 2.732106, -4.1771574, 8.067261]]
CE_TARGET = [3, 3, 1, 2, 3, 3]
CE_LARGE_LOGITS = [[50.0, -50.0, 0.0], [-50.0, 50.0, 10.0]]
CE_LARGE_TARGET = [1, 0]
# Made by tools/selfcheck_numbers.py from solutions/multiclass.py on the inputs above.
SOFTMAX_1D = [0.9447105, 0.0038481927, 1.3454004e-05, 0.051069323, 0.00035855366]  # softmax(SOFTMAX_1D_Z)
# softmax(SOFTMAX_3D_Z)
SOFTMAX_3D = [[[0.0421754, 0.038949896, 0.58267003, 0.33620474], [0.6040658, 0.3775033, 0.018347872, 8.306712e-05],
               [0.049105786, 0.0075123645, 0.916597, 0.026784834]],
              [[0.09812053, 0.8205511, 0.038722042, 0.042606324], [0.03477655, 0.09280413, 0.8699234, 0.0024959615],
               [0.9450958, 0.04289305, 0.011868908, 0.00014213054]]]
CE_VALUE = 2.0141647  # cross_entropy(CE_LOGITS, CE_TARGET), which nn.CrossEntropyLoss() gives too
CE_LARGE_VALUE = 100.0  # cross_entropy(CE_LARGE_LOGITS, CE_LARGE_TARGET)
CE_MATRIX = 2.920849  # -log_softmax[:, target].mean(), an N x N matrix's mean (a known mistake)
CE_SUM = 12.084987  # summed over the batch (a known mistake)
CE_POSITIVE = -2.0141644  # without the minus sign (a known mistake)
CE_NO_LOG = -0.3850279  # probabilities instead of their log (a known mistake)


class _Recorder(TorchFunctionMode):
    """Records the name of every torch function and tensor method the code under it calls."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.names.add(getattr(func, "__name__", ""))
        return func(*args, **(kwargs or {}))


def _forbidden_used(fn, args, words) -> list[str]:
    """The names of the torch functions containing one of ``words`` that ``fn(*args)`` calls."""
    with _Recorder() as rec:
        fn(*args)
    return sorted(n for n in rec.names if any(w in n for w in words))


def _tensor(out, name: str) -> torch.Tensor:
    """``out`` if it is a tensor, else an AssertionError naming ``name``."""
    if not isinstance(out, torch.Tensor):
        raise AssertionError(_("{name} should return a tensor, got {type}.").format(name=name, type=type(out).__name__))
    return out


def _logits(*shape: int, scale: float = 3.0, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g) * scale


# ---------------------------------------------------------------------------------- softmax


def _probs(softmax, z: torch.Tensor) -> torch.Tensor:
    """softmax(z), asserted to be a tensor of z's shape."""
    try:
        out = _tensor(softmax(z), "softmax")
    except RuntimeError as error:
        if "must match the size" not in str(error):
            raise
        raise AssertionError(
            _("softmax of a tensor of shape {shape} failed to broadcast ({error}): keep the dimension "
              "you sum over (keepdim=True) so exp(z) / sum divides each row by its own sum.").format(
                shape=tuple(z.shape), error=error)
        ) from None
    assert out.shape == z.shape, (
        _("softmax of a tensor of shape {shape} should have the same shape, got {got}: "
          "keep the dimension you sum over (keepdim=True) so the division broadcasts.").format(
            shape=tuple(z.shape), got=tuple(out.shape))
    )
    return out


@selfcheck("softmax")
def softmax_returns_same_shape(softmax):
    """returns a tensor of the input's shape"""
    _probs(softmax, _logits(3, 5))


@selfcheck("softmax")
def softmax_is_float32(softmax):
    """returns float32 for float32 logits"""
    out = _probs(softmax, _logits(3, 5))
    assert out.dtype == torch.float32, _("softmax should return float32, got {dtype}.").format(dtype=out.dtype)


@selfcheck("softmax")
def softmax_is_finite_for_large_logits(softmax):
    """is finite for logits of magnitude 1000"""
    z = torch.tensor([[1000.0, 0.0, -1000.0], [-1000.0, -999.0, -1000.0]])
    out = _probs(softmax, z)
    assert torch.isfinite(out).all(), _(
        "softmax gives inf or NaN for logits of magnitude 1000: exp(1000) overflows, "
        "so subtract each row's maximum before exp (the result does not change)."
    )


@selfcheck("softmax")
def softmax_rows_sum_to_one(softmax):
    """sums to 1 over the last dimension of a non-square matrix"""
    out = _probs(softmax, _logits(3, 5))
    sums = out.sum(dim=-1)
    if torch.allclose(sums, torch.ones(3), atol=1e-5):
        return
    if torch.allclose(out.sum(dim=0), torch.ones(5), atol=1e-5):
        sentence = _("softmax of a (3, 5) tensor should sum to 1 along each row (the last dim), got row sums {sums}: "
                     "its columns sum to 1 instead: you normalised over dim 0, use the last dim (dim=-1).")
    else:
        sentence = _("softmax of a (3, 5) tensor should sum to 1 along each row (the last dim), got row sums {sums}: "
                     "divide exp(z - max) by its sum over the last dim (dim=-1, keepdim=True).")
    raise AssertionError(sentence.format(sums=[round(v, 4) for v in sums.tolist()]))


@selfcheck("softmax")
def softmax_works_for_any_rank(softmax):
    """works over the last dimension of 1-D and 3-D tensors"""
    for z, want in ((SOFTMAX_1D_Z, SOFTMAX_1D), (SOFTMAX_3D_Z, SOFTMAX_3D)):
        z = torch.tensor(z)
        try:
            out = _probs(softmax, z)
        except IndexError as error:
            raise AssertionError(
                _("softmax of a tensor of shape {shape} raised IndexError ({error}): normalise over dim=-1 "
                  "(the last dimension), not a fixed dim such as 1, so the same code works for any rank.").format(
                    shape=tuple(z.shape), error=error)
            ) from None
        assert torch.allclose(out, torch.tensor(want), atol=1e-6), (
            _("softmax of a tensor of shape {shape} is wrong: normalise over dim=-1 (the last dimension), "
              "not a fixed dim such as 1, so the same code works for any rank.").format(shape=tuple(z.shape))
        )


@selfcheck("softmax")
def softmax_matches_known_values(softmax):
    """gives the right probabilities"""
    z = torch.log(torch.tensor([[1.0, 2.0, 3.0, 2.0]]))
    out = _probs(softmax, z)
    want = torch.tensor([[0.125, 0.25, 0.375, 0.25]])
    assert torch.allclose(out, want, atol=1e-6), (
        _("softmax(log([1, 2, 3, 2])) should be [1, 2, 3, 2] / 8 = {want}, "
          "got {got}: divide exp(z) by its sum over the same row.").format(
            want=want.tolist()[0], got=[round(v, 4) for v in out.tolist()[0]])
    )


@selfcheck("softmax")
def softmax_leaves_input_alone(softmax):
    """does not modify its input"""
    z = _logits(3, 5)
    before = z.clone()
    softmax(z)
    assert torch.equal(z, before), _(
        "softmax changed its input tensor: an in-place operation (z -= ..., z.exp_()) modified the caller's logits; "
        "use out-of-place operations (z - m, torch.exp(z))."
    )


@selfcheck("softmax")
def softmax_is_written_by_hand(softmax):
    """is written by hand (no built-in softmax)"""
    used = _forbidden_used(softmax, (_logits(3, 5),), ("softmax",))
    assert not used, (
        _("softmax calls the built-in {names}: the point of this blank is to write it from exp and sum "
          "(torch.logsumexp is allowed).").format(names=", ".join(used))
    )


# ---------------------------------------------------------------------------------- cross_entropy


def _number(out) -> float:
    """The value of cross_entropy's result, or an AssertionError if it is not one number."""
    if isinstance(out, torch.Tensor) and out.numel() == 1:
        return float(out)
    raise AssertionError(_("cross_entropy should return one number, a 0-dim tensor: see the first check."))


def _ce_problem():
    return torch.tensor(CE_LOGITS), torch.tensor(CE_TARGET)


def _ce_large_problem():
    return torch.tensor(CE_LARGE_LOGITS), torch.tensor(CE_LARGE_TARGET)


@selfcheck("cross_entropy")
def cross_entropy_returns_scalar_tensor(cross_entropy):
    """returns a 0-dim tensor"""
    logits, target = _ce_problem()
    out = cross_entropy(logits, target)
    assert isinstance(out, torch.Tensor), (
        _("cross_entropy should return a 0-dim tensor, got {type}: keep it a tensor (no .item()).").format(
            type=type(out).__name__)
    )
    assert out.dim() == 0, (
        _("cross_entropy should return a 0-dim tensor (the mean over the batch), got shape {shape}: "
          "did you forget .mean() over the rows?").format(shape=tuple(out.shape))
    )


@selfcheck("cross_entropy")
def cross_entropy_is_float32(cross_entropy):
    """returns float32 for float32 logits"""
    out = cross_entropy(*_ce_problem())
    assert out.dtype == torch.float32, _("cross_entropy should return float32, got {dtype}.").format(dtype=out.dtype)


@selfcheck("cross_entropy")
def cross_entropy_is_finite_for_large_logits(cross_entropy):
    """is finite and right for logits of magnitude 50"""
    out = _number(cross_entropy(*_ce_large_problem()))
    want = CE_LARGE_VALUE
    assert math.isfinite(out), _(
        "cross_entropy is inf or NaN for logits of magnitude 50: log(softmax) underflows to log(0); "
        "compute log-probabilities as logits - logsumexp(logits) instead."
    )
    assert math.isclose(out, want, rel_tol=1e-3), (
        _("cross_entropy of logits of magnitude 50 should be {want}, got {got}: "
          "log(softmax) loses precision there; compute logits - logsumexp(logits) instead.").format(
            want=f"{want:.4f}", got=f"{out:.4f}")
    )


@selfcheck("cross_entropy")
def cross_entropy_matches_nn_cross_entropy(cross_entropy):
    """equals nn.CrossEntropyLoss() on a batch"""
    out = _number(cross_entropy(*_ce_problem()))
    want = CE_VALUE
    if math.isclose(out, want, abs_tol=1e-5):
        return
    sentences = [  # each known mistake's sentence, its hint included
        (CE_MATRIX, N_("cross_entropy should equal nn.CrossEntropyLoss()(logits, target) = {want}, got {got}: "
                       "logits[:, target] picks an N x N matrix, not one entry per row: "
                       "index with [torch.arange(N), target] (or use gather).")),
        (CE_SUM, N_("cross_entropy should equal nn.CrossEntropyLoss()(logits, target) = {want}, got {got}: "
                    "you summed over the batch: take the mean instead.")),
        (CE_POSITIVE, N_("cross_entropy should equal nn.CrossEntropyLoss()(logits, target) = {want}, got {got}: "
                         "the sign is wrong: cross-entropy is minus the mean log-probability.")),
        (CE_NO_LOG, N_("cross_entropy should equal nn.CrossEntropyLoss()(logits, target) = {want}, got {got}: "
                       "take the log of the probabilities.")),
    ]
    sentence = next((s for value, s in sentences if math.isclose(out, value, abs_tol=1e-5)),
                    N_("cross_entropy should equal nn.CrossEntropyLoss()(logits, target) = {want}, got {got}: "
                       "cross-entropy is the mean over rows of -log softmax(logits)[i, target[i]]."))
    raise AssertionError(_(sentence).format(want=f"{want:.5f}", got=f"{out:.5f}"))


@selfcheck("cross_entropy")
def cross_entropy_leaves_inputs_alone(cross_entropy):
    """does not modify its inputs"""
    logits, target = _ce_problem()
    before = logits.clone(), target.clone()
    cross_entropy(logits, target)
    assert torch.equal(logits, before[0]) and torch.equal(target, before[1]), _(
        "cross_entropy changed the logits or targets it was given: an in-place operation (-=, exp_) modified "
        "the caller's tensors; use out-of-place operations."
    )


@selfcheck("cross_entropy")
def cross_entropy_is_written_by_hand(cross_entropy):
    """is written by hand (no built-in cross_entropy, nll_loss or log_softmax)"""
    used = _forbidden_used(cross_entropy, _ce_problem(), ("cross_entropy", "nll_loss", "log_softmax"))
    assert not used, (
        _("cross_entropy calls the built-in {names}: write it from logits - torch.logsumexp(...) "
          "and indexing.").format(names=", ".join(used))
    )


# ---------------------------------------------------------------------------------- binary_entropy


@selfcheck("binary_entropy")
def binary_entropy_returns_same_shape(binary_entropy):
    """returns a tensor of the input's shape, elementwise"""
    p = torch.tensor([[0.1, 0.5, 0.9], [0.2, 0.3, 0.7]])
    out = _tensor(binary_entropy(p), "binary_entropy")
    assert out.shape == p.shape, (
        _("binary_entropy of a (2, 3) tensor should have shape (2, 3), one entropy per element, "
          "got {shape}: do not sum or average.").format(shape=tuple(out.shape))
    )


@selfcheck("binary_entropy")
def binary_entropy_is_float32(binary_entropy):
    """returns float32 for float32 input"""
    out = _tensor(binary_entropy(torch.tensor([0.1, 0.5])), "binary_entropy")
    assert out.dtype == torch.float32, _("binary_entropy should return float32, got {dtype}.").format(
        dtype=out.dtype)


@selfcheck("binary_entropy")
def binary_entropy_is_zero_at_0_and_1(binary_entropy):
    """is 0 (not NaN) at p = 0 and p = 1"""
    out = _tensor(binary_entropy(torch.tensor([0.0, 1.0])), "binary_entropy")
    assert torch.isfinite(out).all(), (
        _("binary_entropy at p = 0 and 1 gives {got}: 0 * log(0) is NaN in floating point; "
          "use torch.special.xlogy(p, p), which defines 0 * log 0 = 0.").format(got=out.tolist())
    )
    assert torch.allclose(out, torch.zeros(2), atol=1e-6), (
        _("binary_entropy at p = 0 and 1 should be 0 (a certain outcome carries no information), got {got}.").format(
            got=out.tolist())
    )


@selfcheck("binary_entropy")
def binary_entropy_of_fair_coin_is_one_bit(binary_entropy):
    """H(0.5) = 1 bit"""
    h = float(_tensor(binary_entropy(torch.tensor([0.5])), "binary_entropy").reshape(-1)[0])
    if abs(h - math.log(2)) < 1e-4:
        raise AssertionError(_("H(0.5) should be 1 bit, got {got}, which is ln 2: that is nats; "
                               "divide by ln 2 (or use log2) to get bits.").format(got=f"{h:.4f}"))
    if abs(h - 0.5) < 1e-4:
        raise AssertionError(_("H(0.5) should be 1 bit, got {got}, half of it: "
                               "did you leave out the (1 - p) log2 (1 - p) term?").format(got=f"{h:.4f}"))
    assert abs(h - 1.0) < 1e-5, _("H(0.5) should be 1 bit, got {got}: H(p) = -p log2 p - (1-p) log2 (1-p).").format(
        got=f"{h:.4f}")


@selfcheck("binary_entropy")
def binary_entropy_matches_known_values(binary_entropy):
    """H(0.1) = 0.469 bits, and H(p) = H(1 - p)"""
    out = _tensor(binary_entropy(torch.tensor([0.1, 0.9, 0.25, 0.75])), "binary_entropy").reshape(-1)
    assert torch.allclose(out[0::2], out[1::2], atol=1e-6), (
        _("H(p) should equal H(1 - p), got H(0.1) = {low}, H(0.9) = {high}: "
          "did you leave out the (1 - p) log2 (1 - p) term?").format(low=f"{float(out[0]):.4f}",
                                                                     high=f"{float(out[1]):.4f}")
    )
    assert abs(float(out[0]) - 0.469) < 1e-3, (
        _("H(0.1) should be 0.469 bits, got {got}: H(p) = -p log2 p - (1-p) log2 (1-p).").format(
            got=f"{float(out[0]):.4f}")
    )
    assert abs(float(out[2]) - 0.811278) < 1e-4, _("H(0.25) should be 0.8113 bits, got {got}.").format(
        got=f"{float(out[2]):.4f}")
