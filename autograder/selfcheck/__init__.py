"""Students' self-check: ``check(mse_grads)`` in a release notebook prints a verdict and a hint per property.

The checks need no reference solutions: known values from the course notes, autograd as the oracle for
hand-written gradients, shapes, dtypes and properties. One module per assignment registers its checks
with :func:`selfcheck`; a check raises ``AssertionError`` with one clear sentence when its property fails.
"""
from __future__ import annotations

import importlib
import pkgutil
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

CheckFn = Callable[[Any], None]
_CHECKS: dict[str, list[CheckFn]] = {}


def selfcheck(blank: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn(candidate)`` as a check of ``blank``; its docstring's first line says what it checks."""

    def register(fn: CheckFn) -> CheckFn:
        _CHECKS.setdefault(blank, []).append(fn)
        return fn

    return register


def _load_all() -> None:
    """Every assignment's checks: one module per notebook stem in this package."""
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


@dataclass
class Report:
    blank: str
    lines: list[tuple[bool, str, str]] = field(default_factory=list)  # (passed, what, why)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.lines) and all(ok for ok, _, _ in self.lines)

    def __str__(self) -> str:
        out = []
        for ok, what, why in self.lines:
            out.append(f"  {'✓' if ok else '✗'} {what}" + ("" if ok else f"\n      {why}"))
        verdict = "all self-checks pass" if self.passed else "some self-checks fail"
        head = f"{self.blank}: {verdict} ({sum(ok for ok, _, _ in self.lines)}/{len(self.lines)})"
        return "\n".join([head, *out])


def check(candidate: Any, blank: str | None = None) -> None:
    """Run the self-checks of ``candidate`` (a function or class you wrote) and print what passes and why not."""
    print(run_checks(candidate, blank))


def run_checks(candidate: Any, blank: str | None = None) -> Report:
    """The self-checks of ``candidate``, as a :class:`Report`."""
    _load_all()
    name = blank or getattr(candidate, "__name__", None)
    if name not in _CHECKS:
        raise ValueError(f"no self-checks for {name!r}; pass the function itself, e.g. check(mse_grads)")
    report = Report(name)
    start = time.perf_counter()
    for fn in _CHECKS[name]:
        what = (fn.__doc__ or fn.__name__).strip().splitlines()[0]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fn(candidate)
        except NotImplementedError:
            report.lines.append((False, what, "not written yet: the cell still raises NotImplementedError."))
            break
        except AssertionError as failure:
            report.lines.append((False, what, str(failure)))
        except Exception as error:  # the student's code raised: say where, not a traceback
            report.lines.append((False, what, f"your code raised {type(error).__name__}: {error}"))
        else:
            report.lines.append((True, what, ""))
    report.seconds = time.perf_counter() - start
    return report
