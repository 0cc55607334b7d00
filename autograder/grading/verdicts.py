"""The verdict a student reads beside a test and a blank, in the words online judges use (答案正确, 部分正确, 答案错误,
运行超时, 内存超限 in Chinese): decided from what grading recorded (scores, what a test found, why it failed), never
from the text of the feedback, so that it is the same in every language."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from autograder.i18n import N_, _

WORDS = {
    "accepted": N_("Accepted"),
    "partial": N_("Partially accepted"),
    "wrong": N_("Wrong answer"),
    "timeout": N_("Time limit exceeded"),
    "memory": N_("Memory limit exceeded"),
}
KINDS = tuple(WORDS)


class Judged(Protocol):
    """A test as grading recorded it (autograder.grading.results.TestResult, autograder.outputs.webpage.Test)."""
    score: float
    max_score: float
    reason: str | None

    @property
    def passed(self) -> bool | None: ...


def of_test(test: Judged) -> str:
    """accepted (its points in full), partial (passed but not counted in full, or some points), timeout, memory, or
    wrong."""
    if test.score >= test.max_score - 1e-9:
        return "accepted"
    if test.reason in ("timeout", "memory"):
        return str(test.reason)
    return "partial" if test.passed or test.score > 0 else "wrong"


def of_blank(tests: Iterable[Judged]) -> str:
    """A blank's verdict: accepted when every test is; partial when it earned points; else the time or memory limit
    its tests ran into; else wrong (0 points is a wrong answer, whatever tests passed without counting)."""
    tests = list(tests)
    verdicts = [of_test(t) for t in tests]
    if verdicts and all(v == "accepted" for v in verdicts):
        return "accepted"
    if sum(t.score for t in tests) > 0:
        return "partial"
    return next((v for v in verdicts if v in ("timeout", "memory")), "wrong")


def words(kind: str) -> str:
    """The verdict in the current language."""
    return _(WORDS[kind])
