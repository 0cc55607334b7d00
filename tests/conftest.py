"""What every test module shares: the course this repository is (its assignments learned from release/)."""
from __future__ import annotations

from pathlib import Path

from autograder.course import Course

REPO = Path(__file__).resolve().parents[1]
COURSE = Course.load(REPO)
ASSIGNMENTS = COURSE.assignments
SECRET = "torch-basics-test-secret"  # the default secret of the tests that do not care which
