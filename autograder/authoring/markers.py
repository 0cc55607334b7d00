"""The nbgrader markers of a source notebook, read the way an instructor would want them checked: each finding names
the file and the cell as JupyterLab shows it (``cell [7]``: the prompt beside the 7th code cell after Restart Kernel
and Run All), and says what nbgrader would do with the mistake.

Caught here: solution markers in a cell that is not a solution cell (nbgrader would ship the answer); a solution
cell without its markers (nbgrader would replace the whole cell, its ``def`` line included); misspelled markers;
a solution cell whose ``grade_id`` is not the name it defines; a test cell without points; a blank with no test cell;
a test cell for no blank; a hidden-tests region left open; the same ``grade_id`` twice.
"""
from __future__ import annotations

import ast
import difflib
import json
import re
from dataclasses import dataclass
from pathlib import Path

MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")
_MARKER_LIKE = re.compile(r"^\s*#{2,4}\s*(BEG\w*|EN\w*|STA\w*)\s+\w+(\s+\w+)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a course: where (the file, the cell or line) and what, in one sentence."""

    path: str
    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.message}" if self.where else f"{self.path}: {self.message}"


def cell_names(cells: list[dict]) -> list[str]:
    """Each cell as JupyterLab shows it: ``cell [n]`` for the n-th code cell, ``the markdown cell after cell [n]``."""
    names, code = [], 0
    for cell in cells:
        if cell.get("cell_type") == "code":
            code += 1
            names.append(f"cell [{code}]")
        else:
            names.append(f"the {cell.get('cell_type', 'markdown')} cell after cell [{code}]" if code else
                         f"the {cell.get('cell_type', 'markdown')} cell before cell [1]")
    return names


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _defines(source: str) -> set[str]:
    try:
        tree = ast.parse(re.sub(r"^\s*### .*$", "", source, flags=re.MULTILINE))
    except SyntaxError:
        return set()
    return {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))} | {
        t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)}


def source_findings(notebook: Path, shown_as: str) -> tuple[list[Finding], list[str]]:
    """What is wrong with the markers of a source notebook, and its blanks (the solution cells' grade_ids)."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [Finding(shown_as, "", f"not a readable notebook ({error})")], []
    names = cell_names(cells)
    found: list[Finding] = []
    blanks: list[str] = []
    tests: dict[str, str] = {}  # grade_id -> cell name
    seen: dict[str, str] = {}

    def say(i: int, message: str) -> None:
        found.append(Finding(shown_as, names[i], message))

    for i, cell in enumerate(cells):
        meta = cell.get("metadata", {}).get("nbgrader", {}) or {}
        source = _source(cell)
        lines = [line.strip() for line in source.splitlines()]
        grade_id = meta.get("grade_id")
        if grade_id:
            if grade_id in seen:
                say(i, f"grade_id {grade_id!r} is used again (first by {seen[grade_id]}): nbgrader needs each once")
            seen.setdefault(grade_id, names[i])
        for line in lines:
            if line.startswith("#") and line not in MARKERS and _MARKER_LIKE.match(line):
                close = difflib.get_close_matches(line.upper(), MARKERS, n=1, cutoff=0.75)
                if close:
                    say(i, f"`{line}` looks like the marker `{close[0]}` misspelled: nbgrader ignores it")
        begin, end = lines.count(MARKERS[0]), lines.count(MARKERS[1])
        if meta.get("solution"):
            blanks.append(grade_id or "?")
            if cell.get("cell_type") == "code" and (begin, end) != (1, 1):
                say(i, f"solution cell {grade_id!r} has {begin} `{MARKERS[0]}` and {end} `{MARKERS[1]}` (one of "
                       f"each is needed): nbgrader would replace the whole cell, its def line included, or keep "
                       f"part of the answer")
            elif cell.get("cell_type") == "code" and lines.index(MARKERS[0]) > lines.index(MARKERS[1]):
                say(i, f"solution cell {grade_id!r}: `{MARKERS[1]}` comes before `{MARKERS[0]}`")
            if cell.get("cell_type") == "code" and grade_id and grade_id not in _defines(source):
                say(i, f"solution cell {grade_id!r} does not define {grade_id}: the grade_id must be the name of the "
                       f"function or class the cell defines (the hidden tests call it by that name)")
        elif begin or end:
            say(i, "has solution markers but is not a solution cell (mark it 'Autograded answer' in nbgrader's "
                   "Create Assignment): nbgrader would leave the answer in the students' notebook")
        if meta.get("grade") and not meta.get("solution"):
            points = meta.get("points")
            if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
                say(i, f"test cell {grade_id!r} has no points (got {points!r}): its blank would be worth nothing")
            tests[str(grade_id)] = names[i]
            hidden_begin, hidden_end = lines.count(MARKERS[2]), lines.count(MARKERS[3])
            if hidden_begin != hidden_end:
                say(i, f"test cell {grade_id!r} opens {hidden_begin} and closes {hidden_end} hidden-tests regions: "
                       f"nbgrader would show the hidden tests to students or drop the cell's end")
    for blank in blanks:
        if f"test_{blank}" not in tests:
            found.append(Finding(shown_as, "", f"blank {blank!r} has no test cell test_{blank} with its points: it "
                                               f"would be worth nothing, and the engine cannot learn it"))
    for test_id, where in tests.items():
        if test_id.startswith("test_") and test_id[5:] not in blanks:
            found.append(Finding(shown_as, where, f"test cell {test_id!r} is for no blank (no solution cell "
                                                  f"{test_id[5:]!r})"))
    return found, blanks
