"""The hidden part of a source notebook's test cells: the same pytest tests the grader runs, in-process.

A source notebook's test cell for a blank reads::

    # Self-checks of mse_grads, for Validate (it fails while one fails).
    # Hidden tests run when your submission is graded.
    from autograder.selfcheck import require
    require(mse_grads)
    ### BEGIN HIDDEN TESTS
    from autograder.platforms.nbgrader_hidden import grade_blank
    grade_blank("mse_grads", globals())
    ### END HIDDEN TESTS

The release notebook keeps only the visible part (Validate runs it). Submissions are graded by ``nbgrader
autograde`` with the course's ``nbgrader_config.py``, whose :class:`autograder.platforms.nbgrader_preprocessor.SandboxedGrading`
grades the submitted file with the sandboxed engine and never runs these cells. :func:`grade_blank` is for the
instructor running a source notebook top to bottom: it grades the blank in that kernel (no sandbox; the hidden tests
call the notebook's functions through the data-only codec), prints the feedback and returns the points, raising
``AssertionError`` when none are earned. Inside a stock ``nbgrader autograde`` (nbgrader's ``Execute`` running the
cells in the student's kernel, ``NBGRADER_EXECUTION=autograde``) it refuses to grade: code the student wrote runs
before it in that kernel and could decide the outcome, so the notebook must be autograded with the course's
configuration. (Only the benchmark's baseline, which measures stock nbgrader, sets ``AUTOGRADER_IN_KERNEL_BASELINE``;
the guard makes a misconfigured course visible, it is no defence: in-kernel grading never is.)
"""
from __future__ import annotations

import os
import warnings
from typing import Any

from autograder.grading.course import locate
from autograder.grading.plugin import Entry, GradingPlugin, run_pytest
from autograder.grading.results import TestResult
from autograder.grading.submission import Submission


class InKernelGradingRefused(RuntimeError):
    """A hidden cell run by stock ``nbgrader autograde`` in the student's kernel: not a grade to trust."""


def grade_in_process(assignment: str, namespace: dict[str, Any], *, only_blank: str | None = None,
                     secret: str | None = None) -> list[TestResult]:
    """Run the hidden tests of ``assignment`` against the functions in ``namespace`` (no sandbox). The course is
    found as the grader finds it ($AUTOGRADER_COURSE, the working folder or one above it, this checkout)."""
    course = locate()
    a = course.find(assignment)
    if a is None:
        raise ValueError(f"unknown assignment {assignment!r}")
    entry = Entry(key="notebook", assignment=a.name, open=lambda: Submission.in_process(namespace))
    plugin = GradingPlugin(course, [entry], course.secret(secret), only_blank=only_blank)
    with warnings.catch_warnings():  # nbgrader scores a cell 0 if anything reaches stderr
        warnings.simplefilter("ignore")
        code = run_pytest([a], plugin)
    if plugin.internal_errors or code not in (0, 1):
        raise RuntimeError("hidden tests could not run: " + "; ".join(plugin.internal_errors or [f"pytest exit {code}"]))
    return plugin.final_results("notebook")


def grade_blank(blank: str, namespace: dict[str, Any]) -> float:
    """Grade one blank in a notebook's kernel; return its points or raise AssertionError with the feedback."""
    if os.environ.get("NBGRADER_EXECUTION") == "autograde" and not os.environ.get("AUTOGRADER_IN_KERNEL_BASELINE"):
        raise InKernelGradingRefused(
            f"{blank}: not graded here. nbgrader ran this hidden cell in the student's kernel, after code the student "
            f"controls; autograde with the course's nbgrader_config.py (autograder.platforms.nbgrader_preprocessor."
            f"SandboxedGrading grades in the sandbox).")
    results = grade_in_process(locate().of_blank(blank).name, namespace, only_blank=blank)
    score, max_score = sum(t.score for t in results), sum(t.max_score for t in results)
    lines = [f"{blank}: {score:g} / {max_score:g} points"]
    lines += [f"  {'✓' if t.score == t.max_score else '✗'} {t.name}" +
              ("" if t.score == t.max_score else f"\n      {t.output}") for t in results]
    feedback = "\n".join(lines)
    if score <= 0:
        raise AssertionError(feedback)
    print(feedback)
    return score
