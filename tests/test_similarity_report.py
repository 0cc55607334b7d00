"""Similar code where the instructor reads it: ``report`` (and ``grade``, which records where the submissions are)
compares the class and puts the flagged pairs in the class report, ``similarity.csv`` and a side-by-side page per
pair; ``similarity GRADED_DIR [--submissions DIR]`` does it alone. Never on a student's page. The class is generated
with planted copies (tests/similarity_class.py); its results files are written here, since what is compared is the
submitted code, not the marks. The report's section and a pair page are looked at in headless Chromium."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.outputs.report import record_submissions
from browser import render, require_browser
from conftest import COURSE
from similarity_class import make_class

A = COURSE.find("02_linear_regression")


def autograder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], capture_output=True, text=True,
                          timeout=600)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A generated class of 30 with 8 planted pairs, results files for each, and `report` run on them."""
    root = tmp_path_factory.mktemp("similar")
    made = make_class(COURSE, root / "submitted", [A.name], students=30, seed=3)
    out = root / "graded"
    for student in sorted(p.name for p in (root / "submitted").iterdir()):
        folder = out / student / A.name
        folder.mkdir(parents=True)
        tests = [{"name": f"{b}: values", "score": points, "max_score": points, "output": "", "tags": [b],
                  "status": "passed"} for b, points in A.blanks.items()]
        (folder / f"{A.stem}.json").write_text(json.dumps({"score": A.max_score, "max_score": A.max_score,
                                                           "tests": tests}))
    record_submissions(out, [root / "submitted"])
    done = autograder("report", out)
    assert done.returncode == 0, done.stderr[-3000:]
    return out, made.planted[A.name], done


def flagged(out: Path) -> set[frozenset[str]]:
    with (out / "similarity.csv").open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["assignment", "student", "student", "score", "shared blanks"]
    return {frozenset(row[1:3]) for row in rows[1:]}


def test_report_flags_the_planted_copies_in_the_csv_the_report_and_a_page_each(graded):
    out, planted, done = graded
    found = flagged(out)
    assert len(found & planted) >= 0.75 * len(planted) and len(found - planted) <= 1, (found, planted)
    assert "flagged pair(s)" in done.stdout
    report = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="similarity"' in report
    pages = sorted((out / "similarity").glob("*.html"))
    assert len(pages) == len(found) and all(f'href="similarity/{p.name}"' in report for p in pages)


def test_no_student_page_mentions_the_comparison(graded):
    out, _planted, _done = graded
    for page in out.glob("*/*/*.html"):
        text = page.read_text(encoding="utf-8")
        assert "similar" not in text.lower() and "similarity/" not in text, page


def test_the_report_section_and_a_pair_page_in_a_browser(graded, tmp_path):
    require_browser()
    out, _planted, _done = graded
    seen = render(out / "report.html", tmp_path / "report.png", width=1100)
    assert seen["scrollWidth"] <= seen["clientWidth"], seen["wide"]
    section = seen["text"].split("Similar code", 1)
    assert len(section) == 2 and "view" in section[1], seen["text"][:2000]
    pair = sorted((out / "similarity").glob("*.html"))[0]
    for width in (1200, 600):
        shown = render(pair, tmp_path / f"pair-{width}.png", width=width)
        assert shown["scrollWidth"] <= shown["clientWidth"], shown["wide"]
        assert A.name in shown["text"]
    assert (tmp_path / "report.png").stat().st_size > 20_000 and (tmp_path / "pair-1200.png").stat().st_size > 10_000


def test_the_similarity_command_alone(graded, tmp_path):
    out, planted, _done = graded
    (out / "similarity.csv").unlink()
    done = autograder("similarity", out)  # where grade recorded the submissions
    assert done.returncode == 0, done.stderr
    assert flagged(out) & planted and "flagged pair(s)" in done.stdout
    elsewhere = tmp_path / "graded"
    elsewhere.mkdir()
    done = autograder("similarity", elsewhere)
    assert done.returncode == 2 and "--submissions" in done.stderr and done.stderr.strip().count("\n") == 0
    done = autograder("similarity", elsewhere, "--submissions", tmp_path / "nowhere")
    assert done.returncode == 2 and "no such file or folder" in done.stderr
    done = autograder("similarity", elsewhere, "--submissions", out.parent / "submitted")
    assert done.returncode == 0 and flagged(elsewhere) == flagged(out)
