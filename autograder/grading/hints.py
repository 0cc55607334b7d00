"""Fingerprints of known mistakes: (actual, expected) -> a one-line hint, or None.

A hint is a small function, so a hidden test lists the ones that fit its blank. The fingerprints look at
how the answer relates to the correct one (a constant ratio, a transpose, a sign), never at the code. A hint is
words: a number in it is a known constant of the mistake (0.5, n) or one significant digit, never a precise ratio
from which the expected values would follow.
"""
from __future__ import annotations

from typing import Callable

import torch

from autograder.grading.compare import coarse
from autograder.i18n import N_, _, any_text

Hint = Callable[[torch.Tensor, torch.Tensor], "str | None"]


def constant_ratio(actual: torch.Tensor, expected: torch.Tensor, tol: float = 1e-3) -> float | None:
    """The c with actual == c * expected everywhere, if there is one."""
    mask = expected.abs() > 1e-6
    if actual.shape != expected.shape or not bool(mask.any()):
        return None
    ratios = actual[mask] / expected[mask]
    c = float(ratios.median())
    if not torch.allclose(actual, c * expected, rtol=tol, atol=1e-6 + tol * float(expected.abs().max())):
        return None
    return c


def ratio(table: dict[float, str], tol: float = 1e-3) -> Hint:
    """A hint for each constant ratio in ``table``: ``ratio({0.5: "the factor 2 is missing"})``."""

    def hint(actual: torch.Tensor, expected: torch.Tensor) -> str | None:
        c = constant_ratio(actual, expected, tol)
        if c is None:
            return None
        for value, text in table.items():
            if abs(c - value) <= tol * max(1.0, abs(value)):
                return _("your values are {ratio} times the correct ones: {why}").format(ratio=f"{value:g}",
                                                                                          why=any_text(text))
        return None

    return hint


def any_constant_ratio(actual: torch.Tensor, expected: torch.Tensor) -> str | None:
    c = constant_ratio(actual, expected)
    if c is None or abs(c - 1) < 1e-3:
        return None
    if 1e-3 < abs(c) < 1e3:
        message = (_("your values are all about {ratio} times the correct ones, with the wrong sign: a constant "
                     "factor is off (a scale, a 1/n, a sign).") if c < 0 else
                   _("your values are all about {ratio} times the correct ones: a constant factor is off (a scale, a "
                     "1/n, a sign)."))
        return message.format(ratio=coarse(abs(c)))
    return (_("your values are all a constant multiple, far from 1, of the correct ones, with the wrong sign: a "
              "constant factor is off (a scale, a 1/n, a sign).") if c < 0 else
            _("your values are all a constant multiple, far from 1, of the correct ones: a constant factor is off (a "
              "scale, a 1/n, a sign)."))


FACTOR_2 = ratio({0.5: N_("is the factor 2 from the derivative of the square missing?"),
                  2.0: N_("is there an extra factor 2?")})
SIGN = ratio({-1.0: N_("the sign is flipped (prediction minus target, or the minus in front of the sum).")})


def sum_vs_mean(n: int) -> Hint:
    return ratio({float(n): _("you summed over the {n} examples instead of averaging (divide by n, or use mean).")
                  .format(n=n), 1.0 / n: _("you divided by n = {n} once too often.").format(n=n)})


def transposed(actual: torch.Tensor, expected: torch.Tensor) -> str | None:
    if actual.dim() == 2 and actual.shape == expected.shape[::-1] and torch.allclose(actual.T, expected, atol=1e-5):
        return _("your result is the transpose of the correct one.")
    return None


def sorted_same(actual: torch.Tensor, expected: torch.Tensor) -> str | None:
    if actual.shape == expected.shape and torch.allclose(actual.reshape(-1).sort().values,
                                                         expected.reshape(-1).sort().values, atol=1e-5):
        return _("you have the right values in the wrong order (check the order of the dimensions, e.g. view vs "
                 "permute).")
    return None


def _trajectories_close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape == b.shape and torch.allclose(a.double(), b.double(), rtol=1e-4, atol=1e-5)


def replayed_training(args: tuple, losses: object, simulate: Callable[..., tuple], mistakes: dict[str, str],
                      learning_rates: list[float], rising: str) -> Hint:
    """A hint from the losses a training loop returned: the known mistake (or other learning rate) whose
    replay from the same start reproduces them. ``simulate(x, y, w0, b0, lr, epochs, mistake)`` replays the
    loop (mistake None: the right one) and returns (losses, ...). Candidates are tried on the first epochs,
    and only those that match there are run to the end; the diagnosis runs once, when a hint is asked for."""
    x, y, w0, b0, lr, epochs = args
    found: list[str | None] = []

    def diagnose() -> str | None:
        if type(losses) is not list or len(losses) != epochs or any(type(v) is not float for v in losses):
            return None
        actual = torch.tensor(losses, dtype=torch.float64)
        k = min(epochs, 3)

        def reproduces(mistake: str | None = None, rate: float = lr) -> bool:
            return _trajectories_close(actual[:k], simulate(x, y, w0, b0, rate, k, mistake)[0]) and (
                k == epochs or _trajectories_close(actual, simulate(x, y, w0, b0, rate, epochs, mistake)[0]))

        for mistake, text in mistakes.items():
            if reproduces(mistake):
                return any_text(text)
        for other in learning_rates:
            if abs(other - lr) > 1e-9 and reproduces(rate=other):
                return _("this is what a learning rate of {other} gives, not the lr argument ({lr}): use the lr you "
                         "are given (is it hard-coded?).").format(other=f"{other:g}", lr=f"{lr:g}")
        if len(actual) > 1 and bool(torch.isfinite(actual).all()) and actual[-1] > actual[0]:
            return any_text(rising)
        return None

    def hint(actual: torch.Tensor, expected: torch.Tensor) -> str | None:
        if not found:
            found.append(diagnose())
        return found[0]

    return hint


DEFAULT: tuple[Hint, ...] = (SIGN, FACTOR_2, transposed, sorted_same, any_constant_ratio)
