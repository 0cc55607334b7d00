"""The verdict beside each test and blank (autograder.grading.verdicts), decided from what grading recorded, in the
words online judges use: Accepted, Partially accepted, Wrong answer, Time limit exceeded, Memory limit exceeded (答案正确,
部分正确, 答案错误, 运行超时, 内存超限), on the feedback page, nbgrader's feedback cell and Gradescope's markdown."""
from __future__ import annotations

from pathlib import Path

import pytest

from autograder.grading import verdicts
from autograder.grading.results import TestResult
from autograder.i18n import use_language
from conftest import REPO


def t(score: float, max_score: float = 1.0, passed: bool | None = None, reason: str | None = None) -> TestResult:
    return TestResult("b: t", "b", score, max_score, "", passed=passed, reason=reason)


@pytest.mark.parametrize("test, kind", [
    (t(1), "accepted"), (t(0), "wrong"), (t(0.25), "partial"), (t(0, passed=True), "partial"),
    (t(0, reason="timeout"), "timeout"), (t(0, reason="memory"), "memory"), (t(0, reason="raised"), "wrong"),
    (t(0.5, reason="timeout"), "timeout"),
])
def test_a_tests_verdict(test, kind):
    assert verdicts.of_test(test) == kind


@pytest.mark.parametrize("tests, kind", [
    ([t(1), t(2, 2)], "accepted"), ([t(1), t(0)], "partial"), ([t(0), t(0, passed=True)], "wrong"),
    ([t(0), t(0, reason="timeout")], "timeout"), ([t(0, reason="memory"), t(0)], "memory"), ([t(0), t(0)], "wrong"),
    ([], "wrong"),
])
def test_a_blanks_verdict(tests, kind):
    assert verdicts.of_blank(tests) == kind


def test_the_words_are_the_online_judges_in_chinese():
    with use_language("zh_CN", REPO):
        assert [verdicts.words(k) for k in verdicts.KINDS] == ["答案正确", "部分正确", "答案错误", "运行超时", "内存超限"]
    assert verdicts.words("timeout") == "Time limit exceeded"


def test_the_page_and_nbgrader_show_the_verdicts(tmp_path: Path):
    from autograder.outputs.pages import build_page
    from autograder.outputs.webpage import Result, Test
    from autograder.platforms.nbgrader_preprocessor import blank_feedback

    tests = [Test("b: values", "b", 0.0, 2.0, "b did not finish within 5 s.", "failed", "timeout"),
             Test("c: values", "c", 1.0, 1.0, "", "passed")]
    result = Result("alice", "a1", "nb", Path("alice/a1/nb.json"), 1.0, 3.0, tests)
    with use_language("zh_CN", REPO):
        page = build_page(result)
        text, _html = blank_feedback("b", 0.0, 2.0, [t(0, 2, reason="timeout")])
    assert "运行超时" in page and "答案正确" in page
    assert text.splitlines()[0] == "b：0 / 2 分（运行超时）"


@pytest.mark.parametrize("kind, message, memory", [
    ("MemoryError", "", True), ("RuntimeError", "DefaultCPUAllocator: can't allocate memory: you tried to allocate "
                                                "80000000000 bytes.", True),
    ("RuntimeError", "shape mismatch", False), ("ValueError", "can't allocate memory", False)])
def test_running_out_of_memory_is_told_from_other_errors(kind, message, memory):
    from autograder.grading.submission import out_of_memory

    assert out_of_memory(kind, message) is memory
