"""Make submissions: a release notebook with some blanks filled in (reference code, or a catalog variant).

Used to build the demo's example submissions, the course tests, and the audit's graded catalog.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from autograder.grading.course import Assignment, Course

_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def grade_id(cell: nbformat.NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def solution_code(course: Course, assignment: Assignment) -> dict[str, str]:
    """Each blank's reference cell from the source notebook, solution markers removed."""
    nb = nbformat.read(course.source(assignment) / assignment.notebook, as_version=4)
    return {grade_id(c): _MARKER.sub("", c.source) for c in nb.cells if grade_id(c) in assignment.blanks}


def release_notebook(course: Course, assignment: Assignment) -> nbformat.NotebookNode:
    return nbformat.read(course.release(assignment) / assignment.notebook, as_version=4)


def fill(notebook: nbformat.NotebookNode, code: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``notebook`` whose cells with a grade_id in ``code`` hold that code instead."""
    filled = nbformat.from_dict(notebook)
    for cell in filled.cells:
        if grade_id(cell) in code:
            cell.source = code[grade_id(cell)]
    return filled


def filled_release(course: Course, assignment: Assignment,
                   overrides: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """The release notebook with every blank solved, except ``overrides`` (blank -> code) written instead."""
    return fill(release_notebook(course, assignment), {**solution_code(course, assignment), **(overrides or {})})


def write(notebook: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path
