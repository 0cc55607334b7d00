"""Hidden test cells for stock nbgrader: the same pytest tests the grader runs, run in the notebook's kernel.

A source notebook's hidden cell for a blank reads::

    from autograder.nbgrader_hidden import grade_blank
    grade_blank("mse_grads", globals())

nbgrader gives a test cell the value of its last expression as partial credit, and 0 for an error or any
output on stderr. So :func:`grade_blank` prints the feedback, returns the points earned, and raises
``AssertionError`` (with the feedback) when none are. Stock nbgrader has no sandbox: the hidden tests call
the notebook's functions in-process, but still only through the data-only codec.
"""
from __future__ import annotations

import warnings
from typing import Any

from autograder.course import locate
from autograder.plugin import Entry, GradingPlugin, run_pytest
from autograder.results import TestResult
from autograder.submission import Submission


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
