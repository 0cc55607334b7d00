"""Checks on what a submission returned, in a fixed order, one clear sentence per failure.

    expect(dw, "dw").tensor(shape=(1,)).close_to(ref_dw, hints=[hints.FACTOR_2, hints.SIGN])

The order is PrairieLearn's: present -> type -> dtype -> shape -> finite -> values, so a student reads the
first thing that is wrong. Value mismatches say how many values are wrong, where the worst one is, and how far
off it is in coarse words (one significant digit of the ratio to the expected value: "off by about 20%",
"about 3x the expected value", "the sign is flipped"). Feedback on hidden inputs never holds a number from which
an expected value follows: no exact differences, no expected values, no precise ratios (the student knows their
own value, so a precise ratio or difference would give the expected one away).
"""
from __future__ import annotations

import math
import textwrap
from typing import Any, Callable, Iterable, Sequence

import torch

from autograder.i18n import _
from autograder.protocol.codec import Foreign, ModuleInfo, RemoteTuple, TensorInfo

Hint = Callable[[torch.Tensor, torch.Tensor], "str | None"]


class Mismatch(AssertionError):
    """A check failed; ``str(mismatch)`` is the feedback the student reads."""


# How many values the running hidden test has judged. The grading plugin fails a value or edge test that passed
# having judged none: a check that looped over nothing (a list the sandbox reported empty) proves nothing.
_judged = [0]


def judged(n: int = 1) -> None:
    """Count ``n`` values judged by the running test (the checks below count themselves; a test that judges in its
    own way, e.g. a distribution by its statistics, calls this)."""
    _judged[0] += n


def judged_count(reset: bool = False) -> int:
    count = _judged[0]
    if reset:
        _judged[0] = 0
    return count


LINE_WIDTH = 100  # feedback lines are wrapped to this many characters, between words


def wrap(text: str, width: int = LINE_WIDTH) -> str:
    """``text`` with each of its lines wrapped between words (a word longer than ``width`` stays whole)."""
    return "\n".join(textwrap.fill(line, width, break_long_words=False, break_on_hyphens=False) or line
                     for line in text.splitlines())


def unwrap(text: str, width: int = LINE_WIDTH) -> str:
    """``text`` with the line breaks of :func:`wrap` taken out, so that a page can wrap it to its own width: a line
    continues the one before when its first word did not fit there ("Hint:" and indented lines always start one)."""
    lines: list[str] = []
    previous = None  # the last line as wrap wrote it
    for line in text.splitlines():
        first = line.split(" ", 1)[0]
        if (previous and line and not line[:1].isspace() and not line.startswith("Hint:")
                and len(previous) + 1 + len(first) > width >= len(previous)):
            lines[-1] += " " + line
        else:
            lines.append(line)
        previous = line
    return "\n".join(lines)


def mentions(text: str, phrase: str) -> bool:
    """Whether ``text`` says ``phrase``, whatever the case and however the lines were wrapped."""
    return " ".join(phrase.lower().split()) in " ".join(text.lower().split())


def feedback(sentence: str, hint: str | None = None, details: str | None = None) -> str:
    """A failing test's output in the order a student reads it: one sentence saying what is wrong, the hint when a
    mistake is recognised, then the numbers, each on its own line."""
    lines = [sentence.strip()]
    if hint:
        label = hint_label()
        text = hint.strip().removeprefix("Hint: ").removeprefix(label).strip()
        lines.append(f"{label}{'' if label.endswith('：') else ' '}{text}")  # no space after a full-width colon
    if details:
        lines.append(details.strip())
    return "\n".join(lines)


def hint_label() -> str:
    """The word that starts a hint's line ("Hint:"), in the current language (pages find hints by it)."""
    return _("Hint:")


def describe(value: Any) -> str:
    """A short, safe description of a returned value's kind (a noun phrase, in the current language)."""
    if isinstance(value, torch.Tensor):
        return _("a {dtype} tensor of shape {shape}").format(dtype=value.dtype, shape=tuple(value.shape))
    if isinstance(value, Foreign):
        return _("a {type}").format(type=value.cls)
    if isinstance(value, ModuleInfo):
        return _("a {type} module").format(type=value.class_name)
    if isinstance(value, RemoteTuple):
        if value.cls.endswith(".tuple"):
            return _("a tuple of {count}").format(count=len(value))
        return _("a {type} of {count}").format(type=value.cls, count=len(value))
    if value is None:
        return "None"
    return _("a Python {type}").format(type=type(value).__name__)


def _index(flat: int, shape: Sequence[int]) -> tuple[int, ...]:
    idx = []
    for size in reversed(shape):
        idx.append(flat % size if size else 0)
        flat //= max(size, 1)
    return tuple(reversed(idx))


def coarse(x: float) -> str:
    """``x`` to one significant digit, for feedback: 0.0312 -> '0.03', 4.6 -> '5', 1234 -> '1000'."""
    if not math.isfinite(x):
        return _("infinitely many")
    return f"{float(f'{x:.1g}'):g}"


def relation(actual: float, expected: float) -> str:
    """How ``actual`` relates to ``expected``, in words and at most one significant digit of their ratio; never a
    number from which ``expected`` could be recovered more precisely (its sign and rough size at most)."""
    if math.isnan(actual):
        return _("is NaN")
    if math.isinf(actual):
        return _("is infinite")
    if expected == 0 or abs(expected) < 1e-12:
        return _("is much larger in magnitude than the expected value")
    if actual == 0:
        return _("is 0 where the expected value is not")
    r = actual / expected
    if r < 0:
        if abs(-r - 1) < 0.05:
            return _("has the wrong sign (the sign is flipped)")
        if -r >= 1000 or -r <= 1e-3:
            return _("has the wrong sign and a very different size")
        return _("has the wrong sign and about {ratio}x the size of the expected value").format(ratio=coarse(-r))
    if r >= 1000:
        return _("is more than 1000x the expected value")
    if r <= 1e-3:
        return _("is less than 1/1000 of the expected value")
    if r >= 1.5 or r <= 0.67:
        return _("is about {ratio}x the expected value").format(ratio=coarse(r))
    off = abs(r - 1)
    if off < 1e-3:
        return _("is off by less than 0.1%")
    return _("is off by about {percent}%").format(percent=coarse(100 * off))


def difference(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-4, atol: float = 1e-5) -> str:
    """Where the worst value is and how far off, coarsely: 'the worst, at index (2, 0), is off by about 20%'.

    The worst value is the one furthest outside the tolerance. Nothing printed lets a student recover an expected
    value: only its index and one significant digit of the ratio of the student's value to it."""
    a, e = actual.detach().double(), expected.detach().double()
    if a.numel() == 0:
        return _("no elements")
    excess = (a - e).abs() / (atol + rtol * e.abs())
    excess = torch.where(torch.isnan(excess), torch.full_like(excess, math.inf), excess)
    worst = int(excess.reshape(-1).argmax())
    how = relation(float(a.reshape(-1)[worst]), float(e.reshape(-1)[worst]))
    if a.dim() == 0:
        return _("your value {how}").format(how=how)
    return _("the worst, at index {index}, {how}").format(index=_index(worst, a.shape), how=how)


class Expectation:
    """Fluent checks on one named quantity; each method raises :class:`Mismatch` or returns ``self``."""

    def __init__(self, value: Any, name: str):
        self.value, self.name = value, name

    def fail(self, sentence: str) -> None:
        raise Mismatch(_("{name}: {sentence}").format(name=self.name, sentence=sentence))

    # -- type ----------------------------------------------------------------------------------------
    def tensor(self, shape: Sequence[int] | None = None, dtype: torch.dtype | None = torch.float32,
               finite: bool = True) -> "Expectation":
        v = self.value
        if not isinstance(v, torch.Tensor):
            self.fail(_("expected a torch.Tensor, got {what}.").format(what=describe(v)))
        meta: TensorInfo | None = getattr(v, "remote", None)
        if meta is not None and meta.cls not in ("Tensor", "Parameter"):
            self.fail(_("expected a plain torch.Tensor, got a {type}.").format(type=meta.cls))
        if dtype is not None and v.dtype != dtype:
            if v.dtype == torch.float64 and dtype == torch.float32:
                self.fail(_("expected dtype {expected}, got {got} (torch.from_numpy keeps NumPy's float64: convert "
                            "with .float() or copy into a float32 tensor).").format(expected=dtype, got=v.dtype))
            self.fail(_("expected dtype {expected}, got {got}.").format(expected=dtype, got=v.dtype))
        if shape is not None and tuple(v.shape) != tuple(shape):
            why = _shape_hint(tuple(v.shape), tuple(shape))
            message = _("expected shape {expected}, got {got}: {why}.") if why else _("expected shape {expected}, got {got}.")
            self.fail(message.format(expected=tuple(shape), got=tuple(v.shape), why=why))
        if finite and v.is_floating_point() and not bool(torch.isfinite(v).all()):
            bad = int((~torch.isfinite(v)).sum())
            message = (_("{bad} of {count} values are NaN: the computation overflows or divides by zero somewhere "
                         "(e.g. exp of a large number, or log(0)).") if bool(torch.isnan(v).any()) else
                       _("{bad} of {count} values are infinite: the computation overflows or divides by zero "
                         "somewhere (e.g. exp of a large number, or log(0))."))
            self.fail(message.format(bad=bad, count=v.numel()))
        return self

    def python_float(self) -> "Expectation":
        if type(self.value) is not float:
            message = (_("expected a Python float, got {what} (call .item() on a 0-dim tensor).")
                       if isinstance(self.value, torch.Tensor) else _("expected a Python float, got {what}."))
            self.fail(message.format(what=describe(self.value)))
        if not math.isfinite(self.value):
            self.fail(_("expected a finite number, got {value}.").format(value=self.value))
        return self

    def float_list(self, length: int) -> "Expectation":
        v = self.value
        if type(v) is not list:
            self.fail(_("expected a list of {length} Python floats, got {what}.").format(length=length, what=describe(v)))
        if len(v) != length:
            self.fail(_("expected {length} entries (one per epoch), got {count}.").format(length=length, count=len(v)))
        for i, x in enumerate(v):
            if type(x) is not float:
                message = (_("entry {index} is {what}, expected a Python float (use loss.item() to record a Python "
                             "float).") if isinstance(x, torch.Tensor) else
                           _("entry {index} is {what}, expected a Python float."))
                self.fail(message.format(index=i, what=describe(x)))
        return self

    def is_module(self, cls: type | None = None) -> "Expectation":
        """A module; of exactly the torch class ``cls`` when given (a class of the notebook's with the same name is
        another class)."""
        if not isinstance(self.value, ModuleInfo):
            self.fail(_("expected an nn.Module, got {what}.").format(what=describe(self.value)))
        if cls is not None and self.value.cls != qualified_name(cls):
            self.fail(_("expected an nn.{expected}, got a {got}.").format(
                expected=cls.__name__, got=self.value.cls.removeprefix("__main__.")))
        return self

    def same_structure_as(self, sent: "torch.nn.Module") -> "Expectation":
        """The module the grader sent (``sent``, its trusted copy), as the sandbox reports it after the call: the same
        submodules by name and class, the same parameters and the same state_dict entries. What a test then judges
        is listed from ``sent``, never from the report, so a report that lost or renamed something fails here
        instead of leaving nothing to judge."""
        self.is_module()
        info: ModuleInfo = self.value
        modules = {n: qualified_name(type(m)) for n, m in sent.named_modules()}
        reported = {m["name"]: m["cls"] for m in info.tree}
        changed = sorted(f"net.{n}" if n else "net" for n, cls in modules.items() if reported.get(n) != cls)
        changed += sorted(f"net.{n}" for n in reported.keys() - modules.keys())
        if changed:
            self.fail(_("the network it was given no longer has the same layers (changed, added or removed: "
                        "{layers}): modify the values of its parameters only.").format(layers=", ".join(changed[:5])))
        params = [name for name, _parameter in sent.named_parameters()]
        if [p["name"] for p in info.params] != params or list(info.state) != list(sent.state_dict()):
            self.fail(_("the network it was given no longer has the same parameters and state_dict entries: modify "
                        "the values of its parameters only, in place."))
        return self

    def tuple_of(self, n: int) -> "Expectation":
        if not isinstance(self.value, (tuple, list)) or len(self.value) != n:
            self.fail(_("expected a tuple of {count} values, got {what}.").format(count=n, what=describe(self.value)))
        return self

    # -- values --------------------------------------------------------------------------------------
    def close_to(self, expected: torch.Tensor | float | Sequence[float], *, rtol: float = 1e-4,
                 atol: float = 1e-5, hints: Iterable[Hint] = (), what: str = "") -> "Expectation":
        actual = self.value
        exp_t = torch.as_tensor(expected, dtype=torch.float64)
        act_t = torch.as_tensor(actual, dtype=torch.float64) if not isinstance(actual, torch.Tensor) else actual
        if tuple(act_t.shape) != tuple(exp_t.shape):
            self.fail(_("expected shape {expected}, got {got}.").format(expected=tuple(exp_t.shape),
                                                                       got=tuple(act_t.shape)))
        # torch.testing.assert_close's test (|actual - expected| <= atol + rtol * |expected|, NaN never close),
        # without its cost: it imports torch.distributed.tensor on first use (about 0.8 s of a class's start-up)
        close = torch.isclose(act_t.detach().double(), exp_t, rtol=rtol, atol=atol, equal_nan=False)
        judged(exp_t.numel())
        if bool(close.all()):
            return self
        n_bad = int((~close).sum())
        found = next((h for h in (hint(act_t.detach().double(), exp_t) for hint in hints) if h), None)
        numbers = _("{bad} of {count} values differ; {where} (tolerance rtol={rtol}, atol={atol}).").format(
            bad=n_bad, count=exp_t.numel(), where=difference(act_t, exp_t, rtol, atol), rtol=f"{rtol:g}",
            atol=f"{atol:g}")
        self.fail(feedback(_sentence(_("the values are not the correct result."),
                                     _("the values are not the correct result ({what})."),
                                     _("the values are not the correct result {what}."), what), found, numbers))
        return self

    def equal_to(self, expected: torch.Tensor, what: str = "") -> "Expectation":
        actual = self.value
        judged(expected.numel())
        if not torch.equal(actual, expected):
            n_bad = int((actual != expected).sum()) if actual.shape == expected.shape else actual.numel()
            self.fail(_sentence(_("{bad} of {count} values are wrong."), _("{bad} of {count} values are wrong ({what})."),
                                _("{bad} of {count} values are wrong {what}."), what, bad=n_bad,
                                count=expected.numel()))
        return self

    def satisfies(self, ok: bool, sentence: str) -> "Expectation":
        judged()
        if not ok:
            self.fail(sentence)
        return self


def _sentence(plain: str, in_parentheses: str, continued: str, what: str, **values: Any) -> str:
    """``plain``, or the sentence with a test's qualifier ``what``: " (x + y)" in parentheses, or " of gradient
    descent from the same start" continuing it (the qualifier is the test's own words, translated by the course)."""
    inner = what.strip()
    if not inner:
        return plain.format(**values)
    if inner.startswith("(") and inner.endswith(")"):
        return in_parentheses.format(what=inner[1:-1], **values)
    return continued.format(what=inner, **values)


def _shape_hint(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """Why a shape is what it is, when it shows a usual mistake ("" when it does not)."""
    if got == () and want == (1,):
        return _("a 0-dim tensor; shape (1,) was asked for (reshape(1))")
    if sorted(got) == sorted(want) and got != want:
        return _("the right sizes in the wrong order (a missing transpose or permute?)")
    if got == (*want, 1) or got == (1, *want):
        return _("an extra dimension of size 1 (squeeze or index it away)")
    if (*got, 1) == want or (1, *got) == want:
        return _("a dimension of size 1 is missing (keepdim=True, or unsqueeze)")
    if len(got) == 2 and len(want) == 2 and got[0] == got[1] == want[0]:
        return _("(N, N) instead of (N, 1) usually comes from broadcasting an (N,) against an (N, 1)")
    return ""


def qualified_name(cls: type) -> str:
    """'torch.nn.modules.linear.Linear': a class's name as the sandbox reports module classes."""
    return f"{cls.__module__}.{cls.__qualname__}"


def expect(value: Any, name: str) -> Expectation:
    """Start checking ``value``, called ``name`` in the feedback."""
    return Expectation(value, name)


def gradients_reach(grads: dict[str, Any], vjp_error: str | None, expected: dict[str, torch.Tensor],
                    names: dict[str, str], what: str, hint: str) -> None:
    """The gradients a call sent back (``CallResult.grads`` for ``vjp=g``) against the reference's, input by input:
    ``expected`` maps each label ("arg1", "param:layer1.weight", ...) to the gradient the reference gives it for the
    same ``g``, ``names`` to what the student calls it. The inputs judged are those of ``expected`` (the trusted
    side's list), so a report that left one out fails. ``hint``: what usually cuts the graph."""
    if vjp_error is not None:
        raise Mismatch(feedback(_("{what}: no gradient flows back through it ({why}).").format(what=what, why=vjp_error),
                                hint))
    missing = [names[k] for k in expected if grads.get(k) is None]
    if missing:
        raise Mismatch(feedback(_("{what}: no gradient reaches {names}.").format(what=what, names=", ".join(missing)),
                                hint))
    for label, want in expected.items():
        expect(grads[label], _("the gradient that reaches {name}").format(name=names[label])).tensor(
            shape=tuple(want.shape), dtype=None).close_to(want, what=_(" (the reference's for the same output gradient)"))


def unchanged(before: Any, after: Any, name: str) -> None:
    """Fail if an input tensor was modified in place by the call."""
    if not isinstance(after, torch.Tensor):
        raise Mismatch(_("{name}: after the call the caller's {name} came back as {what}, not a tensor.").format(
            name=name, what=describe(after)))
    if isinstance(before, torch.Tensor):
        judged(before.numel())
        if before.shape != after.shape or not torch.equal(before.detach(), after.detach()):
            raise Mismatch(_("{name}: your function modified its input {name} in place; functions must leave their "
                             "inputs unchanged (work on a copy, or use out-of-place operations).").format(name=name))
