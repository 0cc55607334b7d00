"""Loss curves of training blanks, recorded while a notebook is graded: the student's function and the reference's,
run on the notebook's VISIBLE training data (never a hidden input), for the student's feedback page.

A course names its training blanks in the hidden test module::

    CURVES = {"train_linear": Curve(visible_run, "train_linear on linear_points.csv (15 rows), from w = b = 0, ...")}

``visible_run(release_folder)`` returns the arguments of the training call as the notebook makes them (its data
file, start values and hyperparameters). After a notebook's hidden tests, while its sandbox still runs, the grader
calls the student's function once with them, within the notebook's own share of time (:data:`SHARE`), so a slow
notebook costs its own curve and never another's, and there is no second pass over the class. The results file
carries both curves (``extra_data.curves``); the feedback page draws them.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from autograder.i18n import _, any_text

SHARE = 5.0  # seconds a notebook's curves may take in all (the call timeout is capped by it)
# Why a failed test says the training function never ran when graded (SubmissionError.reason): calling it again
# cannot draw a curve.
DID_NOT_RUN = {"undefined", "not-written", "timeout", "lost", "budget"}


@dataclass(frozen=True)
class Curve:
    """A training blank's curve: ``arguments(release_folder)`` gives the training call's arguments on the visible
    data, ``describe`` says what the curve is, under the plot."""

    arguments: Callable[[Path], Sequence[Any]]
    describe: str


def as_losses(value: Any) -> tuple[list[float] | None, str]:
    """The losses a training function returned, as floats (6 significant digits), or None and what was wrong."""
    import torch

    if not isinstance(value, (list, tuple)):
        kind = "None" if value is None else type(value).__name__
        return None, _("it returned {type}, not a list of losses").format(type=kind)
    losses = []
    for v in value:
        if isinstance(v, bool):
            return None, _("its list of losses holds booleans")
        if isinstance(v, (int, float)):
            losses.append(float(v))
        elif isinstance(v, torch.Tensor) and v.numel() == 1 and v.is_floating_point():
            losses.append(float(v.reshape(())))
        else:
            return None, _("its list of losses holds a {type}, not numbers").format(type=type(v).__name__)
    if not losses:
        return None, _("it returned an empty list")
    return [float(f"{v:.6g}") if math.isfinite(v) else v for v in losses], ""


def reference_curve(curve: Curve, reference: Callable[..., Any], release: Path) -> list[float]:
    losses, why = as_losses(reference(*curve.arguments(release)))
    if losses is None:
        raise ValueError(f"the reference's training function: {why}")
    return losses


def describe(curve: Curve) -> str:
    """What the curve is, in the current language (a course's words)."""
    return any_text(curve.describe)


def student_curve(sub: Any, blank: str, curve: Curve, release: Path, left: float,
                  reasons: list[str | None]) -> tuple[list[float] | None, str, float]:
    """The student's losses (or None), the note for the page, and the seconds it took. ``reasons``: why the blank's
    tests failed, which say when its function never ran (then it is not called again)."""
    if left < 0.5:
        return None, _("your loss curve was not drawn: the {seconds} s your notebook is given for its curves ran "
                       "out.").format(seconds=f"{SHARE:g}"), 0.0
    if any(reason in DID_NOT_RUN for reason in reasons):
        return None, _("your loss curve was not drawn: the function did not run when it was graded (see its "
                       "tests)."), 0.0
    started = time.monotonic()
    try:
        value = sub.call(blank, *curve.arguments(release), timeout=min(sub.call_timeout, left))
    except AssertionError as error:  # SubmissionError: the student's function failed on the visible data
        took = time.monotonic() - started
        if took >= left:
            return None, _("your loss curve was not drawn: on the visible data your function took more than the "
                           "{seconds} s left for its curve.").format(seconds=f"{left:.2g}"), took
        text = str(error).splitlines()[0].strip().rstrip(".").rstrip("。")
        return None, _("your loss curve is not drawn: on the visible data, {why}.").format(why=text), took
    losses, why = as_losses(value)
    note = "" if losses is not None else _("your loss curve is not drawn: {why}.").format(why=why)
    return losses, note, time.monotonic() - started
