"""The class report (autograder.outputs.report): what it says about a class, from results files alone, and that it renders
in a real browser as one self-contained page."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from autograder import cli
from autograder.cli import grade as cli_grade
from autograder.grading.compare import feedback
from autograder.platforms.gradescope import ungraded
from autograder.outputs.report import REPORT, build_report, mistakes, write_class_report, write_reports
from autograder.grading.results import NotebookResult, TestResult, write_results
from autograder.outputs.webpage import read_results, split_feedback
from browser import render, require_browser
from conftest import ASSIGNMENTS, COURSE, REPO

LINEAR = ASSIGNMENTS["02_linear_regression"]
FACTOR_2 = "your values are 0.5 times the correct ones: is the factor 2 from the derivative of the square missing?"
NO_BIAS = "the bias b is missing: x * w + b."
HOSTILE = '<img src=x onerror=alert(1)>&amp;"\'' 


def notebook(student: str, marks: dict[str, tuple[float, str]], output: str = "",
             isolation: str = "namespaces", graded: str = "in full") -> NotebookResult:
    """Results of 02_linear_regression: blank -> (share of its points, feedback when short of them)."""
    tests = []
    for blank, points in LINEAR.blanks.items():
        share, text = marks.get(blank, (1.0, "Passed."))
        tests.append(TestResult(f"{blank}: first test", blank, points / 2 * share, points / 2, text))
        tests.append(TestResult(f"{blank}: second test", blank, points / 2 * share, points / 2, text))
    return NotebookResult(student, LINEAR.name, LINEAR.stem, tests, output=output, isolation=isolation, graded=graded)


def factor_2(n: int = 1) -> tuple[float, str]:
    return 0.0, feedback("dw: the values are not the correct result.", FACTOR_2.replace("0.5", str(0.5 * n)),
                         "1 of 1 values differ; the worst, at index (0,), is about 0.5x the expected value")


def class_folder(root: Path) -> Path:
    """13 students: 4 forgot the factor 2, 2 forgot the bias, 1 left mse_grads unwritten, one notebook was not a
    notebook, and one student's name and feedback try to inject HTML."""
    out = root / "graded"
    results = []
    for i in range(13):
        marks = {}
        if i < 4:
            marks["mse_grads"] = factor_2()
        if 4 <= i < 6:
            marks["linear_model"] = (0.0, feedback("predictions: the values are not the correct result.", NO_BIAS))
        if i == 6:
            marks["mse_grads"] = (0.0, "mse_grads is not written yet (it raises NotImplementedError).")
        results.append(notebook(f"student{i:02d}", marks))
    results.append(notebook(HOSTILE, {"mse_loss": (0.0, feedback(HOSTILE + " is wrong", HOSTILE + " " + "x" * 3000))}))
    results.append(notebook("unreadable", {b: (0.0, "Your notebook could not be read, so nothing in it was graded: "
                                                     "not JSON.") for b in LINEAR.blanks},
                            output="Your notebook could not be read, so nothing in it was graded: not JSON.",
                            graded="no"))  # as the grader records an unreadable notebook
    several = ungraded(LINEAR, "Your submission has 2 notebooks and none is named linear_regression.ipynb.")
    several.student = "twice"
    results.append(several)
    for r in results:
        write_results(r, out / r.student / r.assignment / f"{r.notebook}.json")
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    out = class_folder(tmp_path_factory.mktemp("report"))
    write_class_report(out, COURSE)
    return out


def test_feedback_is_split_into_sentence_hint_and_numbers():
    own_line = split_feedback("dw: wrong.\nHint: the factor 2.\n1 of 1 values differ")
    assert (own_line.sentence, own_line.hint, own_line.details) == ("dw: wrong.", "the factor 2.", "1 of 1 values differ")
    inline = split_feedback("x: the caller's x did not change. Hint: add in place with x.add_(y).")
    assert (inline.sentence, inline.hint) == ("x: the caller's x did not change.", "add in place with x.add_(y).")
    assert split_feedback("Passed.").hint == ""


def test_mistakes_are_ranked_by_students_who_made_them(graded):
    results, _ = read_results(graded)
    found = mistakes(results)
    assert [(m.blank, len(m.students)) for m in found[:2]] == [("mse_grads", 4), ("linear_model", 2)]
    assert found[0].hint == FACTOR_2  # each student counted once, though two tests gave the hint


def test_hints_that_differ_only_in_numbers_are_one_mistake(tmp_path):
    out = tmp_path / "graded"
    for i, factor in enumerate((1, 1, 3)):
        r = notebook(f"s{i}", {"mse_grads": factor_2(factor)})
        write_results(r, out / r.student / r.assignment / f"{r.notebook}.json")
    found = mistakes(read_results(out)[0])
    assert len(found) == 1 and len(found[0].students) == 3
    assert found[0].hint == FACTOR_2  # the wording most students got


def test_the_report_says_what_the_class_did(graded):
    text = (graded / REPORT).read_text()
    # 4 of the 14 students graded on 02_linear_regression forgot the factor 2: the most frequent mistake
    assert "29%</strong> (4 of 14)" in text
    assert re.search(r"Most frequent: 29% of the class made this mistake in mse_grads: your values are 0\.5 "
                     r"times", text)
    assert "14%</strong> (2 of 14)" in text and "the bias b is missing" in text
    assert "namespaces</strong> (14 notebook(s))" in text  # the isolation level used
    # who could not be graded, and why
    section = text[text.index('id="not-graded"'):text.index('id="students"')]
    assert "unreadable" in section and "could not be read, so nothing in it was graded: not JSON." in section
    assert "twice" in section and "none is named linear_regression.ipynb" in section
    # per blank: mean and pass rate; the unwritten blank counted apart
    blanks = text[text.index('id="blanks"'):text.index('id="not-graded"')]
    assert re.search(r"mse_<wbr>grads</td><td class=\"num\">3</td><td class=\"num\">[\d.]+</td>"
                     r"<td class=\"num\">64%</td><td class=\"num\">1</td>", blanks)
    assert text.count("<svg") == 2  # the score distribution and the blanks of the one assignment


def test_strings_from_results_are_escaped(graded):
    text = (graded / REPORT).read_text()
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;&amp;amp;&quot;&#x27;" in text


def test_the_page_is_self_contained_and_deterministic(graded, tmp_path):
    text = (graded / REPORT).read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)|@import|url\(\s*["']?(https?:|//)""", text)
    assert "<img" not in text and "<link" not in text and "<script" not in text
    results, unreadable = read_results(graded)
    assert build_report(results, COURSE, unreadable) == build_report(results, COURSE, unreadable)
    for where in (str(graded), str(tmp_path.parent), str(REPO), sys.prefix):
        assert where not in text


def test_report_renders_in_a_browser(graded, tmp_path):
    require_browser()
    seen = render(graded / REPORT, tmp_path / "report.png", width=1000)
    assert seen["scrollWidth"] <= seen["clientWidth"], seen["wide"]  # a 3000-character hint wraps
    assert seen["svg"] == 2 and seen["img"] == 0
    assert "Class report" in seen["text"] and "Diagnosed mistakes" in seen["text"]
    assert HOSTILE in seen["text"]  # shown as text, not run
    for where in (str(graded), str(REPO), "/tmp/", "/root", sys.prefix):
        assert where not in seen["text"]
    narrow = render(graded / REPORT, tmp_path / "narrow.png", width=420)  # a phone
    assert narrow["scrollWidth"] <= narrow["clientWidth"], narrow["wide"]


def test_report_command(tmp_path, capsys):
    out = class_folder(tmp_path)
    assert cli.main(["report", str(out), "--course", str(REPO)]) == 0
    said = capsys.readouterr().out
    assert f"class report: {out / REPORT}" in said
    assert (out / REPORT).is_file()
    assert (out / "student00" / LINEAR.name / f"{LINEAR.stem}.html").is_file()
    assert cli.main(["report", str(tmp_path / "missing"), "--course", str(REPO)]) == 2
    (tmp_path / "empty").mkdir()
    assert cli.main(["report", str(tmp_path / "empty"), "--course", str(REPO)]) == 2
    assert "no results file" in capsys.readouterr().err


def test_a_failing_report_never_fails_grading(tmp_path, monkeypatch, capsys):
    out = class_folder(tmp_path)
    (out / REPORT).mkdir()  # the report cannot be written
    said: list[str] = []
    assert write_reports(out, COURSE, say=said.append) is None
    assert len(said) == 1 and said[0].startswith("note: the class report and feedback pages could not be written")
    import autograder.outputs.report

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(autograder.outputs.report, "write_reports", broken)
    cli_grade._write_reports(tmp_path, COURSE, quiet=True)  # says so, even with --quiet, and raises nothing
    assert "problem: no class report (RuntimeError: disk full)" in capsys.readouterr().err
