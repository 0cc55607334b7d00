"""Marks carried into an LMS: a results folder written as the CSV file that Canvas or Moodle imports, or a plain one.

:func:`export` reads every ``<student>/<assignment>/<stem>.json`` of a results folder (as the report and the pages
read it) and gives the rows of one file, one column per assignment, each cell the final mark: the results'
``extra_data["late"]["final"]`` when grading applied a late penalty (:mod:`autograder.after.late`), else ``score``.

- ``canvas``: the Gradebook import CSV. A header ``Student, ID, SIS User ID, SIS Login ID, Section, <assignments>``,
  then the row ``Points Possible`` (each assignment's points), then one row per student. Canvas finds a student by
  ID (its user id), else SIS User ID, else SIS Login ID, else by name; a column by assignment title (or
  ``Title (id)``), creating an assignment, with the Points Possible row's points, for a title it does not know. A
  blank cell leaves a grade unchanged.
- ``moodle``: for *Grade import from CSV*. One identifier column (``email``, ``idnumber`` or ``username``: choose the
  same field under "Identify user by", "Map to"), then one column per grade item. Moodle reads an empty cell as "no
  grade" for an existing grade item, aborts the whole import on a row whose user it cannot find, and gives a row
  with an empty identifier the previous row's user: so no row is ever written without an identifier.
- ``csv``: ``student``, the assignments, ``total``, ``max_total`` (scores.csv's columns, with the final marks).

The roster (``roster=``) is a CSV file mapping the course's student ids (the folder names) to the LMS's, one row per
student; only ``student`` is required, a column may be left out or empty, other columns are ignored, and headers are
read without case, spaces, hyphens and underscores ("SIS User ID"; Moodle's "ID number" and "Email address")::

    student,name,canvas_id,sis_user_id,sis_login_id,section,email,idnumber,username
    alice,"Liddell, Alice",10423,S0001,aliddell,Section 1,alice@example.edu,S0001,aliddell

With a roster the file has its students, in its order: one without a result for an assignment gets 0 or a blank
(``missing``); a result of a student it lacks is not written, and listed in the report (never dropped silently).
Without one, every student with a result is written, identified by the course's id (Canvas's SIS Login ID,
Moodle's username). Every file is written by :mod:`autograder.outputs.csvsafe`: an id that a spreadsheet would run
as a formula gets an apostrophe, which the LMS will not match, so such a row is listed in the report too.
"""
from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from autograder.outputs.csvsafe import Cell, neutralised, write_csv

TARGETS = ("canvas", "moodle", "csv")
MISSING = ("zero", "blank")
ROSTER_COLUMNS = ("student", "name", "canvas_id", "sis_user_id", "sis_login_id", "section", "email", "idnumber",
                  "username")
CANVAS_HEADER = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_IDS = ("canvas_id", "sis_user_id", "sis_login_id")  # what Canvas finds a student by, in its order
MOODLE_IDS = ("email", "idnumber", "username")  # "Identify user by": useremail, useridnumber, username


class ExportError(ValueError):
    """The export cannot be made; the message is one line saying why."""


@dataclass
class Grades:
    """A results folder's final marks."""
    marks: dict[str, dict[str, float | None]]  # student -> assignment -> final mark (None: unusable, left blank)
    points: dict[str, float]  # assignment -> its points
    problems: list[str] = field(default_factory=list)


@dataclass
class ExportReport:
    target: str
    written: list[str] = field(default_factory=list)  # the course ids with a row, in order
    assignments: list[str] = field(default_factory=list)
    not_on_roster: list[str] = field(default_factory=list)  # results of students the roster lacks: not written
    no_result: list[str] = field(default_factory=list)  # "student: assignment" given 0 or a blank
    not_matched: list[str] = field(default_factory=list)  # rows the LMS cannot match to a student
    problems: list[str] = field(default_factory=list)  # results that could not be used
    notes: list[str] = field(default_factory=list)  # what to choose when importing

    def lines(self) -> list[str]:
        """The report for the instructor, one line each."""
        lines = [(f"{self.target}: students {len(self.written)}, assignments {len(self.assignments)} "
                  f"({', '.join(self.assignments) or 'none'})")]
        lines += [f"not on the roster, not in the file: {s}" for s in self.not_on_roster]
        lines += [f"no result: {s}" for s in self.no_result]
        lines += [f"not matched: {s}" for s in self.not_matched]
        lines += [f"problem: {s}" for s in self.problems]
        return lines + [f"note: {s}" for s in self.notes]


# -- reading ---------------------------------------------------------------------------------------------------------
def read_grades(graded_dir: Path) -> Grades:
    """Each (student, assignment)'s final mark: the late penalty's final where there is one, else the score."""
    from autograder.outputs.webpage import read_results

    results, unreadable = read_results(graded_dir)
    grades = Grades({}, {}, [f"{line}: not read" for line in unreadable])
    seen: dict[tuple[str, str], int] = {}
    for r in results:
        seen[(r.student, r.assignment)] = seen.get((r.student, r.assignment), 0) + 1
        grades.points[r.assignment] = max(grades.points.get(r.assignment, 0.0), r.max_score)
        grades.marks.setdefault(r.student, {})[r.assignment] = _final_mark(graded_dir / r.path, r.score, r.max_score,
                                                                           grades.problems)
    for (student, assignment), count in sorted(seen.items()):
        if count > 1:  # discovery writes one result per student and assignment: which one counts is not ours to guess
            grades.marks[student][assignment] = None
            grades.problems.append(f"{student}: {assignment} has {count} results: left blank (keep the one that "
                                   f"counts)")
    for assignment in sorted(grades.points):
        maxima = sorted({r.max_score for r in results if r.assignment == assignment})
        if len(maxima) > 1:
            grades.problems.append(f"{assignment}: results out of {', '.join(f'{m:g}' for m in maxima)} points: "
                                   f"exported as out of {maxima[-1]:g}")
    return grades


def _final_mark(path: Path, score: float, out_of: float, problems: list[str]) -> float | None:
    """The results' late final when present, else the score; None (and a problem said) when neither is a mark."""
    try:
        extra = json.loads(path.read_text(encoding="utf-8")).get("extra_data") or {}
        late = extra.get("late") if isinstance(extra, dict) else None
    except (OSError, ValueError, AttributeError):
        late = None
    mark, where = (late.get("final"), "its late final") if isinstance(late, dict) and "final" in late else \
        (score, "its score")
    if isinstance(mark, bool) or not isinstance(mark, (int, float)) or not math.isfinite(mark) \
            or not -1e-9 <= mark <= out_of + 1e-9:
        problems.append(f"{path.parent.parent.name}: {path.parent.name}: {where} {mark!r} is not a mark out of "
                        f"{out_of:g}: left blank")
        return None
    return round(float(mark), 6)


def read_roster(path: Path) -> dict[str, dict[str, str]]:
    """student id -> its LMS columns (ROSTER_COLUMNS, read by :func:`_column`), in the file's order."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a spreadsheet's UTF-8 starts with a BOM
    except (OSError, UnicodeDecodeError) as error:
        raise ExportError(f"roster {path}: cannot be read ({type(error).__name__})") from None
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = max(",;\t", key=first.count)  # a spreadsheet in a locale whose lists use ";" writes ";"
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [_column(cell) for cell in (rows[0] if rows else [])]
    if "student" not in header:
        raise ExportError(f"roster {path}: no 'student' column (the course's student ids); columns: "
                          f"{', '.join(ROSTER_COLUMNS)}")
    roster: dict[str, dict[str, str]] = {}
    for number, row in enumerate(rows[1:], start=2):
        values = {name: cell.strip() for name, cell in zip(header, row) if name in ROSTER_COLUMNS}
        student = values.get("student", "")
        if not student:
            continue  # an empty line, or a row for no student of the course
        if student in roster:
            raise ExportError(f"roster {path}: line {number}: {student!r} is on the roster twice")
        roster[student] = values
    for column in CANVAS_IDS + MOODLE_IDS:  # two students with one LMS id: the LMS would keep one grade of two
        owners: dict[str, list[str]] = {}
        for student, values in roster.items():
            if values.get(column):
                owners.setdefault(values[column], []).append(student)
        shared = next((names for names in owners.values() if len(names) > 1), None)
        if shared:
            raise ExportError(f"roster {path}: {' and '.join(map(repr, shared))} have the same {column}")
    return roster


def _column(header: str) -> str:
    """A roster header as its ROSTER_COLUMNS name: "SIS User ID", "sis-user-id" and Moodle's "ID number" and "Email
    address" are sis_user_id, idnumber and email."""
    squeezed = "".join(c for c in header.lower() if c.isalnum())
    names = {name.replace("_", ""): name for name in ROSTER_COLUMNS} | {"emailaddress": "email"}
    return names.get(squeezed, header)


# -- the export ------------------------------------------------------------------------------------------------------
def export(graded_dir: str | Path, to: str, roster: str | Path | None = None, missing: str = "zero",
           identify_by: str | None = None) -> tuple[list[list[Cell]], ExportReport]:
    """The rows of ``to``'s import file for the results in ``graded_dir``, and what the instructor must know.
    ``identify_by`` (Moodle): email, idnumber or username; by default the first of those the roster fills."""
    if to not in TARGETS:
        raise ExportError(f"--to {to!r}: expected one of {', '.join(TARGETS)}")
    if missing not in MISSING:
        raise ExportError(f"missing={missing!r}: expected zero or blank")
    graded = Path(graded_dir)
    if not graded.is_dir():
        raise ExportError(f"{graded}: no such results folder")
    grades = read_grades(graded)
    report = ExportReport(to, assignments=sorted(grades.points), problems=grades.problems)
    people = _people(grades, read_roster(Path(roster)) if roster is not None else None, report)
    table = {s: _marks(grades, s, report.assignments, missing, report) for s in people}
    if to == "canvas":
        rows = _canvas_rows(people, table, grades, report)
    elif to == "moodle":
        rows = _moodle_rows(people, table, _moodle_field(people, identify_by), grades, report)
    else:
        rows = _plain_rows(people, table, grades, report)
    return rows, report


def write_export(path: Path, rows: list[list[Cell]]) -> None:
    """Write the rows (spreadsheet-safe, atomically)."""
    write_csv(path, rows)


def _people(grades: Grades, roster: dict[str, dict[str, str]] | None,
            report: ExportReport) -> dict[str, dict[str, str]]:
    """Who gets a row, with their LMS columns: the roster's students, or every student with a result."""
    if roster is None:  # the course id as the LMS login, which nbgrader's and many courses' ids are
        report.notes.append("no roster: each student is identified by the course's id, as Canvas's SIS Login ID and "
                            "Moodle's username")
        return {s: {"student": s, "sis_login_id": s, "username": s} for s in sorted(grades.marks)}
    lowered = {s.lower(): s for s in roster}
    for student in sorted(set(grades.marks) - set(roster)):
        near = lowered.get(student.lower())
        report.not_on_roster.append(student + (f" (the roster has {near!r})" if near else ""))
    return roster


def _marks(grades: Grades, student: str, assignments: list[str], missing: str,
           report: ExportReport) -> list[Cell]:
    cells: list[Cell] = []
    for assignment in assignments:
        marks = grades.marks.get(student, {})
        if assignment not in marks:
            report.no_result.append(f"{student}: {assignment} ({'0' if missing == 'zero' else 'blank'})")
            cells.append(0 if missing == "zero" else "")
        else:
            mark = marks[assignment]
            cells.append("" if mark is None else mark)
    return cells


def _changed(value: str) -> bool:
    """Whether csvsafe writes ``value`` otherwise than as itself (an apostrophe that the LMS would keep)."""
    return neutralised(value) != value


def _formula_like(column: str) -> str:
    return f"a spreadsheet could run its {column} as a formula, so the file holds it with an apostrophe"


def _canvas_rows(people: dict[str, dict[str, str]], table: dict[str, list[Cell]], grades: Grades,
                 report: ExportReport) -> list[list[Cell]]:
    rows: list[list[Cell]] = [[*CANVAS_HEADER, *report.assignments],
                              ["Points Possible", "", "", "", "", *(grades.points[a] for a in report.assignments)]]
    for student, columns in people.items():
        ids = {k: columns.get(k, "") for k in CANVAS_IDS}
        given = [k for k in CANVAS_IDS if ids[k]]
        if not given:
            report.not_matched.append(f"{student}: no canvas_id, sis_user_id or sis_login_id on the roster: Canvas "
                                      f"can only match the name")
        elif all(_changed(ids[k]) for k in given):
            report.not_matched.append(f"{student}: {_formula_like(given[0])}: Canvas will not match it (match the "
                                      f"student by hand when importing)")
        rows.append([columns.get("name") or student, ids["canvas_id"], ids["sis_user_id"], ids["sis_login_id"],
                     columns.get("section", ""), *table[student]])
        report.written.append(student)
    report.notes.append("Canvas: Grades > Import; a column whose title is no assignment's creates one with the Points "
                        "Possible row's points")
    return rows


def _moodle_field(people: dict[str, dict[str, str]], identify_by: str | None) -> str:
    """The field Moodle identifies users by: the one asked for, else the first of MOODLE_IDS the roster fills."""
    if identify_by is not None:
        if identify_by not in MOODLE_IDS:
            raise ExportError(f"identify_by={identify_by!r}: expected one of {', '.join(MOODLE_IDS)}")
        return identify_by
    filled = [f for f in MOODLE_IDS if any(columns.get(f) for columns in people.values())]
    if not filled:
        raise ExportError(f"the roster fills none of {', '.join(MOODLE_IDS)}: Moodle cannot find the students")
    return filled[0]


def _moodle_rows(people: dict[str, dict[str, str]], table: dict[str, list[Cell]], id_field: str, grades: Grades,
                 report: ExportReport) -> list[list[Cell]]:
    rows: list[list[Cell]] = [[id_field, *report.assignments]]
    for student, columns in people.items():
        identifier = columns.get(id_field, "")
        if not identifier or _changed(identifier):
            # Moodle gives a row without an identifier the previous row's user, and stops at one it cannot find
            why = f"no {id_field} on the roster" if not identifier else _formula_like(id_field)
            report.not_matched.append(f"{student}: {why}: not in the file (enter the grades by hand)")
            continue
        rows.append([identifier, *table[student]])
        report.written.append(student)
    if any(cell == "" for student in report.written for cell in table[student]):
        report.notes.append("Moodle reads an empty cell as no grade for an existing grade item: map these columns "
                            "to existing grade items, not to new ones")
    report.notes.append(f"Moodle: Grade import from CSV; Identify user by: map from {id_field!r} to the same field; "
                        f"map each column to its grade item, whose maximum grade must be at least the points: " +
                        ", ".join(f"{a} {grades.points[a]:g}" for a in report.assignments))
    return rows


def _plain_rows(people: dict[str, dict[str, str]], table: dict[str, list[Cell]], grades: Grades,
                report: ExportReport) -> list[list[Cell]]:
    rows: list[list[Cell]] = [["student", *report.assignments, "total", "max_total"]]
    out_of = round(sum(grades.points.values()), 6)
    for student in people:
        marks = table[student]
        rows.append([student, *marks, round(sum(m for m in marks if isinstance(m, (int, float))), 6), out_of])
        report.written.append(student)
    return rows
