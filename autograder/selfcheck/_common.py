"""Small helpers for the self-check modules: one-sentence assertions and a recorder of the torch calls a blank makes."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import torch
from torch.overrides import TorchFunctionMode

from autograder.i18n import _


def fmt(value: Any) -> str:
    """A short, readable rendering of a tensor or number for a hint: nested lists when small."""
    if isinstance(value, torch.Tensor):
        value = value.detach()
        if value.dim() == 0:
            return f"{value.item():.4g}"
        if value.numel() <= 8:
            return _nested(value.tolist())
        flat = ", ".join(f"{v:.4g}" for v in value.flatten()[:6].tolist())
        return _("[{values}, ...] (shape {shape})").format(values=flat, shape=tuple(value.shape))
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)


def _nested(values: Any) -> str:
    if isinstance(values, list):
        return "[" + ", ".join(_nested(v) for v in values) + "]"
    return f"{values:.4g}" if isinstance(values, float) else str(values)


def expect_tensor(value: Any, what: str) -> torch.Tensor:
    if value is None:
        raise AssertionError(_("{what} is None: did you forget the `return`?").format(what=what))
    if not isinstance(value, torch.Tensor):
        raise AssertionError(_("{what} should be a torch.Tensor, got {type}.").format(what=what,
                                                                                     type=type(value).__name__))
    return value


def number(value: Any, what: str | None = None) -> float:
    """``value`` as a float when it is a single number (a float or a one-element tensor), else a failed check."""
    if isinstance(value, (int, float)) or isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value)
    what = _("the loss") if what is None else what
    raise AssertionError(_("{what} should be a single number, got {value}.").format(what=what, value=fmt(value)))


def expect_dtype(value: torch.Tensor, dtype: torch.dtype, what: str, hint: str = "") -> None:
    if value.dtype != dtype:
        if hint:
            raise AssertionError(_("{what} has dtype {got}, expected {expected}: {hint}").format(
                what=what, got=value.dtype, expected=dtype, hint=hint))
        raise AssertionError(_("{what} has dtype {got}, expected {expected}.").format(what=what, got=value.dtype,
                                                                                     expected=dtype))


def close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-4, atol: float = 1e-5) -> bool:
    actual = torch.as_tensor(actual).detach()
    expected = torch.as_tensor(expected).detach()
    return actual.shape == expected.shape and torch.allclose(actual.double(), expected.double(), rtol=rtol, atol=atol)


def ratio(actual: torch.Tensor, expected: torch.Tensor) -> float | None:
    """actual / expected when actual is a constant multiple of expected (expected non-zero), else None."""
    actual, expected = actual.detach().double().flatten(), expected.detach().double().flatten()
    if actual.shape != expected.shape or not bool((expected.abs() > 1e-6).all()):
        return None
    r = actual / expected
    return float(r[0]) if torch.allclose(r, r[0].expand_as(r), rtol=1e-3, atol=1e-6) else None


def unchanged(before: Iterable[torch.Tensor], after: Iterable[torch.Tensor], what: str) -> None:
    for i, (b, a) in enumerate(zip(before, after)):
        if not torch.equal(b, a):
            raise AssertionError(_("argument {index} of {what} was modified: work on new tensors, not in place.").format(
                index=i + 1, what=what))


class _Recorder(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
        self.names.append(name.rsplit(".", 1)[-1].lower())
        return func(*args, **(kwargs or {}))


def call_recording(fn: Callable, *args: Any) -> tuple[Any, list[str]]:
    """``fn(*args)`` and the (lower-case, unqualified) names of the torch functions it called."""
    recorder = _Recorder()
    with recorder:
        result = fn(*args)
    return result, recorder.names


def forbidden_calls(names: Iterable[str], *, contains: Iterable[str] = (), exact: Iterable[str] = ()) -> list[str]:
    contains, exact = tuple(contains), set(exact)
    return sorted({n for n in names if n in exact or any(c in n for c in contains)})
