"""What a course directory must never commit nor share is git-ignored in it (this repository is one).

Asked of git itself (`git check-ignore`), for files where the README's commands write them: the course secret,
the Gradescope bundle (the secret, hidden tests and solutions), the grader's results, and nbgrader's students'
work and grades. The course's own content and the demo's committed submissions stay visible to git.
"""
from __future__ import annotations

import subprocess

import pytest

from conftest import REPO

NEVER_COMMITTED = [
    ".autograder-secret",
    "autograder.zip",
    "graded/scores.csv",
    "graded/alice/02_linear_regression/linear_regression.json",
    "graded/report.html",
    "grades.csv",
    "gradebook.db",
    "submitted/alice/02_linear_regression/linear_regression.ipynb",
    "autograded/alice/02_linear_regression/linear_regression.ipynb",
    "feedback/alice/02_linear_regression/linear_regression.html",
]
COURSE_CONTENT = [
    "release/02_linear_regression/linear_regression.ipynb",
    "hidden/test_02_linear_regression.py",
    "solutions/linear_regression.py",
    "source/02_linear_regression/linear_regression.ipynb",
    "nbgrader_config.py",
    "examples/submitted/alice/02_linear_regression/linear_regression.ipynb",  # the demo's, committed
    "examples/submitted/new_student/02_linear_regression/linear_regression.ipynb",  # and one added to it
]


def ignored(path: str) -> bool:
    """Whether git ignores ``path`` (relative to the repository) by its ignore rules, tracked or not."""
    done = subprocess.run(["git", "check-ignore", "--no-index", "-q", path], cwd=REPO, capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    return done.returncode == 0


@pytest.mark.parametrize("path", NEVER_COMMITTED)
def test_course_secrets_and_students_work_are_ignored(path):
    assert ignored(path), f"{path} could be committed: add it to .gitignore"


@pytest.mark.parametrize("path", COURSE_CONTENT)
def test_course_content_is_not_ignored(path):
    assert not ignored(path), f"{path} is ignored by .gitignore"
