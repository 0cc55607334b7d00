"""No cell of a CSV the kit writes is a formula in a spreadsheet, whatever separator the spreadsheet splits on
(autograder.outputs.csvsafe): student ids chosen to be formulas are written to scores.csv, then the file is split naively
and read quote-aware by each of ``,`` ``;`` tab ``|``; ordinary ids and numbers read back unchanged."""
from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

import pytest

from autograder.outputs.csvsafe import csv_text, field, neutralised
from autograder.grading.results import NotebookResult, TestResult, write_scores_csv

SEPARATORS = [",", ";", "\t", "|"]
FORMULA_STARTS = "=+-@\t\r"

HOSTILE = [
    'ab;=HYPERLINK("http://x","click")',
    '=HYPERLINK("http://x")',
    "=cmd|' /C calc'!A0",
    "+1+2",
    "-2+3",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
    "x,=1+1",
    "x|=1+1",
    "x\t@y",
    "x\n=1+1",
    "x\r\n+1",
    'a;"=1+1"',
    "a; =1+1",
    'a,"  -1+1',
    "a;;=1",
    "a;\t=1",
    '"=1+1',
    "=",
]
ORDINARY = ["alice", "bob-smith", "o'brien", "jean luc", "名前", "a,b", 'say "hi"', "x;y", "1e3", "  padded  "]


def starts_a_formula(cell: str) -> bool:
    """Whether a spreadsheet could take ``cell`` for a formula: it starts with a formula character, once quotes and
    spaces are passed over (a reader may drop them)."""
    return cell.lstrip('" ')[:1] in set(FORMULA_STARTS)


def scores_csv(tmp_path: Path, students: list[str]) -> str:
    results = [NotebookResult(s, "02_linear_regression", "x", [TestResult("t", "b", 1.5, 2.0, "")]) for s in students]
    write_scores_csv(results, tmp_path / "scores.csv")
    return (tmp_path / "scores.csv").read_bytes().decode("utf-8")


@pytest.mark.parametrize("separator", SEPARATORS, ids=repr)
def test_split_naively_no_cell_is_a_formula(tmp_path, separator):
    text = scores_csv(tmp_path, HOSTILE + ORDINARY)
    for line in re.split(r"\r\n|\r|\n", text):
        for cell in line.split(separator):
            assert not starts_a_formula(cell), (separator, line, cell)


@pytest.mark.parametrize("separator", SEPARATORS, ids=repr)
def test_read_quote_aware_no_cell_is_a_formula(tmp_path, separator):
    text = scores_csv(tmp_path, HOSTILE + ORDINARY)
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=separator):
        for cell in row:
            for piece in re.split(r"\r\n|\r|\n", cell):
                assert not starts_a_formula(piece), (separator, row, piece)


def test_ids_and_numbers_read_back(tmp_path):
    rows = list(csv.reader(io.StringIO(scores_csv(tmp_path, HOSTILE + ORDINARY), newline="")))
    assert rows[0] == ["student", "02_linear_regression", "total", "max_total"]
    students = {row[0]: row[1:] for row in rows[1:]}
    for student in ORDINARY:  # unchanged
        assert students[student] == ["1.5", "1.5", "2"], student
    for student in HOSTILE:  # only apostrophes inserted, at the starts of formulas
        written = neutralised(student)
        assert written in students and written != student
        assert written.replace("'", "") == student.replace("'", "")
    assert len(students) == len(HOSTILE) + len(ORDINARY)


def test_the_rule_cell_by_cell():
    assert neutralised('ab;=HYPERLINK("x")') == "ab;'=HYPERLINK(\"x\")"
    assert neutralised("=1") == "'=1" and neutralised("-1") == "'-1" and neutralised("\t=1") == "'\t'=1"
    assert neutralised('a,"=1') == "a,\"'=1" and neutralised("a; @x") == "a; '@x"
    assert neutralised("jean-luc") == "jean-luc" and neutralised("a=b") == "a=b"
    assert field("alice") == "alice" and field("a;b") == '"a;b"' and field('a"b') == '"a""b"'
    assert field(" a") == '" a"' and field("a|b") == '"a|b"' and field("a\tb") == '"a\tb"'
    # numbers stay numbers, in their shortest exact form; what is not a finite number is text
    assert [field(x) for x in (3, 2.0, 0.25, 1 / 3, 12345678.0, -1.5, 0)] == \
        ["3", "2", "0.25", "0.3333333333333333", "12345678", "-1.5", "0"]
    assert [field(x) for x in (math.nan, -math.inf, True)] == ["nan", "'-inf", "True"]
    assert csv_text([["a", 1], ["=b", 2.5]]) == "a,1\r\n'=b,2.5\r\n"


def test_no_module_writes_a_csv_itself():
    """Every CSV goes through autograder.outputs.csvsafe: no other module of the kit uses the csv module's writers."""
    package = Path(__file__).resolve().parents[1] / "autograder"
    for path in package.rglob("*.py"):
        if path.name != "csvsafe.py":
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"csv\.(writer|DictWriter)\b", text), path
