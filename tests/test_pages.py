"""The students' feedback pages (autograder.outputs.pages): the same content as the results file, readable; for the
training blanks, the student's loss curve against the reference's on the visible training data, recorded while the
notebook was graded (autograder.grading.curves: no second pass, each notebook within its own share of time)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.fill import filled_release, release_notebook, write
from autograder.grading.compare import feedback
from autograder.grading.curves import SHARE, as_losses
from autograder.grading.results import NotebookResult, TestResult, write_results
from autograder.outputs.pages import page_path, write_pages
from autograder.outputs.webpage import read_result
from autograder.sandbox.hostprobe import probe_host
from browser import render, require_browser
from conftest import ASSIGNMENTS, COURSE, REPO

LINEAR = ASSIGNMENTS["02_linear_regression"]
LOGISTIC = ASSIGNMENTS["03_logistic_regression"]
LONG = "y" * 2500  # one unbroken line: must wrap

SUBMISSIONS = {  # student -> (assignment, code of its training blank; None: as released)
    "right": (LINEAR, {}),
    "ascent": (LINEAR, {"train_linear": "def train_linear(x, y, w, b, lr, epochs):\n    losses = []\n"
                                         "    for _ in range(epochs):\n"
                                         "        loss = mse_loss(linear_model(x, w, b), y)\n"
                                         "        losses.append(loss.item())\n        loss.backward()\n"
                                         "        with torch.no_grad():\n            w += lr * w.grad\n"
                                         "            b += lr * b.grad\n        w.grad.zero_()\n"
                                         "        b.grad.zero_()\n    return losses\n"}),
    "rebinds": (LINEAR, {"train_linear": "def train_linear(x, y, w, b, lr, epochs):\n    losses = []\n"
                                          "    for _ in range(epochs):\n"
                                          "        loss = mse_loss(linear_model(x, w, b), y)\n"
                                          "        losses.append(loss.item())\n        loss.backward()\n"
                                          "        w = w - lr * w.grad\n        b = b - lr * b.grad\n"
                                          "    return losses\n"}),
    "untouched": (LINEAR, None),
    "logistic": (LOGISTIC, {}),
    # slow on the visible data only (so it passed grading): it spends its own share of time, never the others'
    "a-slow": (LINEAR, {"train_linear": "def train_linear(x, y, w, b, lr, epochs):\n    import time\n"
                                         "    if abs(float(x[0, 0]) - 3.3) < 1e-6:\n        time.sleep(600)\n"
                                         "    return train_linear_ref(x, y, w, b, lr, epochs)\n"}),
}


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The class graded for real (sandboxes and all); grade writes the pages from what it recorded."""
    if probe_host().best() is None:
        pytest.skip("no sandbox on this host: the students' curves cannot be run")
    root = tmp_path_factory.mktemp("pages")
    for student, (assignment, code) in SUBMISSIONS.items():
        if student == "a-slow":  # the reference under another name, for the hidden inputs
            nb = filled_release(COURSE, assignment, {})
            nb.cells.append(nbformat.v4.new_code_cell("train_linear_ref = train_linear\n" + code["train_linear"]))
        else:
            nb = release_notebook(COURSE, assignment) if code is None else filled_release(COURSE, assignment, code)
        write(nb, root / "submitted" / student / assignment.name / assignment.notebook)
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(root / "submitted"), "--out",
                           str(root / "graded"), "--jobs", "2", "--quiet", "--secret", "pages"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return {student: root / "graded" / student / a.name / f"{a.stem}.html" for student, (a, _) in SUBMISSIONS.items()}


def test_returned_losses_are_checked():
    assert as_losses([1, 2.5]) == ([1.0, 2.5], "")
    assert as_losses(None)[0] is None and "returned None" in as_losses(None)[1]
    assert as_losses(["a"])[0] is None


def test_a_log_axis_is_labelled_in_plain_numbers_inside_the_plot():
    import re

    from autograder.outputs.pages import curve_plot

    plot = curve_plot("train_linear", "a title", [10 ** (-i / 10) for i in range(41)], [2.0, 1.0, 0.5], "salt")
    labels = re.findall(r"<text[^>]*>([^<]*)</text>", plot)
    assert ["0.0001", "0.001", "0.01", "0.1", "1"] == [t for t in labels if t.startswith(("0.", "1"))][-5:]
    assert not any("$" in t or "mathdefault" in t or "10^" in t for t in labels)  # no mathtext: it costs a plot 4x
    box = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', plot)
    assert box and (float(box[1]), float(box[2])) == (576.0, 259.2)  # 8 x 3.6 in: the fixed margins hold it


def test_page_has_the_results_content(pages):
    text = pages["rebinds"].read_text()
    data = json.loads(pages["rebinds"].with_suffix(".json").read_text())
    assert f"{data['score']:g} / {data['max_score']:g}" in text
    for test in data["tests"]:
        assert test["name"].split(": ", 1)[1].replace("'", "&#x27;") in text
    assert "<strong>Hint:</strong> w.grad is None" in text
    assert text.count("<svg") == 1  # the one training blank's curve


def test_the_right_student_follows_the_reference(pages):
    text = pages["right"].read_text()
    # the visible data from w = b = 0: the first loss the notebook announces ("about 5.9467")
    assert "Yours: first loss 5.9467" in text and "The reference: first loss 5.9467" in text
    assert "Your curve follows the reference&#x27;s." in text
    assert "train_logistic on exam_scores.csv (100 rows)" in pages["logistic"].read_text()
    assert "Yours: first loss 0.6931" in pages["logistic"].read_text()


def test_a_wrong_curve_is_drawn_against_the_reference(pages):
    text = pages["ascent"].read_text()
    assert "Yours: first loss 5.9467" in text and "follows the reference" not in text
    assert "your losses" in text and "reference" in text


def test_no_curve_when_the_function_fails_and_the_page_says_why(pages):
    text = pages["rebinds"].read_text()
    assert "Your loss curve is not drawn: on the visible data, train_linear raised TypeError" in text
    assert "Yours:" not in text and "The reference: first loss 5.9467" in text
    untouched = pages["untouched"].read_text()
    assert "Your loss curve was not drawn: the function did not run when it was graded" in untouched


def test_a_slow_notebook_costs_only_its_own_share_of_the_curves_time(pages):
    """A notebook sorted first whose training function is slow on the visible data (it passed grading) spends its
    own share of the time: the honest notebooks graded after it still get their curves (red team, issue 16 item 4)."""
    slow = pages["a-slow"].read_text()
    assert f"more than the {SHARE:.2g} s left for its curve" in slow and "Yours:" not in slow
    for student in ("right", "ascent"):
        assert "Yours: first loss 5.9467" in pages[student].read_text()


def test_pages_show_nothing_of_the_grader(pages, tmp_path_factory):
    for page in pages.values():
        text = page.read_text()
        for where in (str(page.parent.parent.parent), str(REPO), sys.prefix, "/tmp/", "/root"):
            assert where not in text
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)|@import|<script|<img|<link""", text)


def results_of(student: str, assignment) -> NotebookResult:
    """Results written by hand: a long unbroken line and a hint, no curves."""
    tests = []
    for blank, points in assignment.blanks.items():
        output, score = "Passed.", points
        if blank == "train_linear":
            output, score = feedback("the losses: the values are not the correct result.",
                                     "the loss goes up: subtract lr * grad.", "3 of 6 values differ " + LONG), 0.0
        tests.append(TestResult(f"{blank}: the values", blank, score, points, output))
    return NotebookResult(student, assignment.name, assignment.stem, tests, isolation="namespaces")


def test_pages_come_from_the_results_alone(tmp_path):
    """No curve recorded (grade --no-report, an older results file): the page has the rest, and runs nothing."""
    out = tmp_path / "graded"
    rel = Path("long", LINEAR.name, f"{LINEAR.stem}.json")
    write_results(results_of("long", LINEAR), out / rel)
    written = write_pages(out)
    text = (out / written[rel]).read_text()
    assert "<svg" not in text and "3 of 6 values differ" in text
    assert page_path(Path("a/b/c.json")) == Path("a/b/c.html")
    result = read_result(out, out / rel)
    assert result.student == "long" and result.blanks()["train_linear"] == (0.0, 4.0)


@pytest.mark.parametrize("student", ["ascent", "rebinds", "logistic", "long"])
def test_pages_render_in_a_browser(pages, student, tmp_path):
    require_browser()
    if student == "long":
        rel = Path("long", LINEAR.name, f"{LINEAR.stem}.json")
        write_results(results_of("long", LINEAR), tmp_path / "graded" / rel)
        target = tmp_path / "graded" / write_pages(tmp_path / "graded")[rel]
    else:
        target = pages[student]
    seen = render(target, tmp_path / f"{student}.png", width=1000)
    assert seen["scrollWidth"] <= seen["clientWidth"], seen["wide"]
    assert seen["svg"] == (0 if student == "long" else 1) and seen["img"] == 0
    assert "Your marks" in seen["text"] and "Hint:" in seen["text"] or student == "logistic"
    for where in (str(REPO), "/tmp/", "/root", sys.prefix):
        assert where not in seen["text"]
    narrow = render(target, tmp_path / f"{student}-narrow.png", width=400)
    assert narrow["scrollWidth"] <= narrow["clientWidth"], narrow["wide"]


def test_gradescope_gets_the_same_text_as_markdown():
    from autograder.outputs.pages import gradescope_markdown, markdown_feedback

    text = markdown_feedback("dw: wrong *values* <b>.\nHint: the factor 2 in 2/n.\n1 of 1 values differ ```")
    assert text == ("dw: wrong \\*values\\* \\<b\\>\\.\n\n**Hint:** the factor 2 in 2/n\\.\n\n"
                    "```\n1 of 1 values differ '''\n```")
    data = gradescope_markdown({"score": 1, "tests": [
        {"name": "t", "output": "Passed.", "score": 1, "max_score": 1, "status": "passed"},
        {"name": "u", "output": "wrong", "score": 0, "max_score": 2, "status": "failed"},
        {"name": "v", "output": "slow", "score": 0, "max_score": 2, "status": "failed",
         "extra_data": {"reason": "timeout"}},
        {"name": "w", "output": "kept", "score": 0.5, "max_score": 2, "status": "passed"}]})
    assert data["test_output_format"] == "md"
    assert [t["output"] for t in data["tests"]] == ["**Accepted**\n\nPassed\\.", "**Wrong answer**\n\nwrong",
                                                    "**Time limit exceeded**\n\nslow",
                                                    "**Partially accepted**\n\nkept"]
