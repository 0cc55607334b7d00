"""Red team on the submissions tree itself: the folder is input, not truth.

One real batch of the grader (``--jobs 2``) on a tree where honest students sit beside layouts that try to
change a score without writing a correct notebook of one's own: a correct notebook hidden in a deeper folder
under another student's name, two notebooks for one assignment (a correct copy beside an untouched
release-named one), a folder named with rich markup, a notebook symlinked to a correct one outside the tree,
an unknown assignment folder and a stray correct notebook at the top. Only
``<student>/<assignment>/<notebook>.ipynb`` counts; everything else is reported and skipped; the batch
completes with exit code 0.
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.authoring.fill import filled_release, release_notebook, write
from autograder.sandbox.hostprobe import probe_host
from conftest import COURSE

A = COURSE.find("02_linear_regression")
LAYOUT = "<student>/<assignment>/<notebook>.ipynb"
BOSS = "[bold red]boss"  # a plain name that is rich markup: graded, and printed as it is


def tree(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``root`` (links not followed) with its size and mtime."""
    listing = {}
    for parent, dirs, files in os.walk(root):
        for name in dirs + files:
            st = os.lstat(Path(parent, name))
            listing[str(Path(parent, name).relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return listing


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if probe_host().best() is None:
        pytest.skip("no isolation level is available on this host")
    root = tmp_path_factory.mktemp("layout")
    submitted, out, outside = root / "submitted", root / "graded", root / "outside"
    correct, untouched = filled_release(COURSE, A), release_notebook(COURSE, A)
    for student in ("honest1", "honest2", BOSS):
        write(correct, submitted / student / A.name / A.notebook)
    write(untouched, submitted / "eve" / A.name / A.notebook)  # eve's own work: 0 points, and it stays 0
    # mallory: a correct notebook for "eve" in a deeper folder (nbgrader collect copies such folders) ...
    write(correct, submitted / "mallory" / A.name / "extra" / "eve" / A.name / A.notebook)
    write(correct, submitted / "mallory" / A.name / "extra" / "ghost" / A.name / A.notebook)
    # ... and two notebooks for one assignment: the release-named one counts, never the better one
    write(untouched, submitted / "mallory" / A.name / A.notebook)
    write(correct, submitted / "mallory" / A.name / "copy.ipynb")
    # a folder "[bold red]boss[/bold red]": the slash makes it two folders, an unknown assignment "bold red]"
    write(correct, submitted / "[bold red]boss[" / "bold red]" / A.notebook)
    # trudy: her notebook is a link to a correct notebook outside the tree
    answers = write(correct, outside / "answers.ipynb")
    (submitted / "trudy" / A.name).mkdir(parents=True)
    (submitted / "trudy" / A.name / A.notebook).symlink_to(answers)
    write(correct, submitted / "honest1" / "99_bonus" / A.notebook)  # an unknown assignment folder
    write(correct, submitted / A.notebook)  # a stray notebook at the top
    before = tree(root)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "--jobs", "2",
         "--call-timeout", "1", "--cell-timeout", "2", "--notebook-timeout", "8", "--memory-gib", "2", "--quiet"],
        capture_output=True, text=True, env={**os.environ, "AUTOGRADER_SECRET": "layout-secret"}, timeout=600)
    seconds = time.monotonic() - started
    results = {str(p.relative_to(out)): json.loads(p.read_text()) for p in out.rglob("*.json")}
    after = tree(root)
    yield {"done": done, "seconds": seconds, "results": results, "out": out, "root": root,
           "submitted": submitted, "before": before, "after": after}


def score(graded, student: str) -> float:
    return graded["results"][f"{student}/{A.name}/{A.stem}.json"]["score"]


def test_batch_completes_and_exits_zero_in_bounded_time(graded):
    assert graded["done"].returncode == 0, graded["done"].stderr[-3000:]
    assert graded["seconds"] < 120


def test_only_real_students_get_results(graded):
    assert sorted(graded["results"]) == sorted(f"{s}/{A.name}/{A.stem}.json"
                                               for s in ("honest1", "honest2", BOSS, "eve", "mallory"))


@pytest.mark.parametrize("student", ["honest1", "honest2", BOSS])
def test_honest_students_keep_full_marks(graded, student):
    assert score(graded, student) == A.max_score > 0


def test_a_notebook_in_a_deeper_folder_does_not_change_eves_score(graded):
    assert score(graded, "eve") == 0


def test_the_release_named_notebook_counts_not_the_best(graded):
    assert score(graded, "mallory") == 0


def test_skips_are_reported_on_stderr(graded):
    top = graded["submitted"]
    lines = [line for line in graded["done"].stderr.splitlines() if line.startswith("skipped: ")]
    expected = [
        f"{top}/[bold red]boss[/bold red]/: not an assignment of the course (not graded)",
        f"{top}/honest1/99_bonus/: not an assignment of the course (not graded)",
        f"{top}/{A.notebook}: a notebook outside any student folder (only {LAYOUT} is graded)",
        f"{top}/mallory/{A.name}/extra/eve/{A.name}/{A.notebook}: deeper than {LAYOUT} (not graded)",
        f"{top}/mallory/{A.name}/extra/ghost/{A.name}/{A.notebook}: deeper than {LAYOUT} (not graded)",
        f"{top}/mallory/{A.name}/copy.ipynb: not graded: mallory has {A.notebook} for {A.name}",
        f"{top}/trudy/{A.name}/{A.notebook}: a symbolic link (not followed, not graded)",
    ]
    assert sorted(lines) == sorted(f"skipped: {line}" for line in expected), graded["done"].stderr[-3000:]
    assert "Traceback" not in graded["done"].stderr


def test_markup_in_names_prints_as_it_is(graded):
    assert BOSS in graded["done"].stdout  # the final table: the name itself, not bold red "boss"
    assert f"{len(graded['results'])} notebook(s) graded" in graded["done"].stdout
    assert "7 path(s) skipped" in graded["done"].stdout


def test_scores_csv_has_exactly_the_graded_notebooks(graded):
    with (graded["out"] / "scores.csv").open(newline="") as f:
        rows = list(csv.reader(f))
    full = f"{A.max_score:g}"
    assert rows == [["student", A.name, "total", "max_total"],
                    [BOSS, full, full, full], ["eve", "0", "0", full], ["honest1", full, full, full],
                    ["honest2", full, full, full], ["mallory", "0", "0", full]]


def test_nothing_written_outside_out_and_submissions_untouched(graded):
    outside_out = {path: stat for path, stat in graded["after"].items()
                   if path != "graded" and not path.startswith("graded/")}
    assert outside_out == graded["before"]
    files = {str(p.relative_to(graded["out"])) for p in graded["out"].rglob("*") if p.is_file()}
    pages = {str(Path(r).with_suffix(".html")) for r in graded["results"]}  # each notebook's feedback page
    assert files == {*graded["results"], "scores.csv", "report.html", "similarity.csv", ".graded-from", *pages}
