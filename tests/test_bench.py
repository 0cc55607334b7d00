"""`make bench` describes the course it measured and times `grade` as instructors run it beside `--no-report`.

The benchmark runs on a course of one assignment (02_linear_regression, copied apart with its source, release,
hidden tests, solution and nbgrader configuration, and no secret file, as a fresh course has none) with the
smallest classes it can compare, the nbgrader baseline included: what it prints names that one assignment and the
notebooks per class it really graded (nothing of the repository's six), and gives the ratio against
`nbgrader autograde` of both `grade` (pages and class report) and `grade --no-report`.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from conftest import COURSE, REPO

pytestmark = pytest.mark.slow
A = COURSE.find("02_linear_regression")


@pytest.fixture(scope="module")
def printed(tmp_path_factory) -> str:
    course = tmp_path_factory.mktemp("bench") / "course"
    for part in ("source", "release"):
        shutil.copytree(REPO / part / A.name, course / part / A.name)
    (course / "hidden").mkdir()
    shutil.copy(COURSE.hidden_tests(A), course / "hidden")
    (course / "solutions").mkdir()
    shutil.copy(COURSE.solutions(A), course / "solutions")
    shutil.copy(REPO / "nbgrader_config.py", course)
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_grading.py"), "--course", str(course),
                           "--students", "1", "--large-students", "2", "--jobs", "1"],
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done.stdout


def test_it_describes_the_course_it_measured(printed):
    assert "1 assignment (02_linear_regression)" in printed, printed
    assert "class of 1 student x 1 assignment = 1 notebook (02_linear_regression)" in printed, printed
    assert "class of 2 students x 1 assignment = 2 notebooks (02_linear_regression)" in printed, printed
    assert "baseline nbgrader autograde (1 assignment, 1 notebook)" in printed, printed
    for stale in ("six", "06_initialization", "01_tensors_autograd"):
        assert stale not in printed, stale


def test_it_times_grade_with_and_without_the_pages(printed):
    for notebooks in ("1 notebook", "2 notebooks"):
        for command in ("autograder grade (pages and class report)", "autograder grade --no-report"):
            found = re.search(rf"ratio, {notebooks}, --jobs 1: nbgrader autograde / {re.escape(command)} = "
                              rf"\d+ s / [\d.]+ s = [\d.]+x", printed)
            assert found, (notebooks, command, printed)
    assert re.search(r"autograder grade --jobs 1: [\d.]+ s, .*pages and class report included", printed), printed
    assert re.search(r"CPU ratio, 2 notebooks, --jobs 1, autograder grade: ", printed), printed
    assert re.search(r"CPU ratio, 2 notebooks, --jobs 1, autograder grade --no-report: ", printed), printed
