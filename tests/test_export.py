"""Marks carried into an LMS (autograder.after.export): each file read back as its LMS's importer reads it (Canvas's
GradebookImporter: the header's student columns, the Points Possible row, the delimiter it guesses; Moodle's
gradeimport_csv: one identifier column, then grade items), late finals used, the roster's mismatches reported both
ways, and hostile student ids kept out of formulas."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from autograder.after.export import CANVAS_HEADER, ExportError, export, read_roster, write_export

FORMULA_STARTS = "=+-@\t\r"
# folder names (no "/"), each a formula at one of its starts
HOSTILE = ['=HYPERLINK("http:x","click")', "+1+2", "-2+3", "@SUM(1,2)", 'ab;=cmd|" -C calc"!A0', "x,=1+1"]


def result(graded: Path, student: str, assignment: str, score: float, out_of: float = 10.0,
           late: dict | None = None, stem: str = "nb") -> None:
    folder = graded / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    data = {"score": score, "max_score": out_of, "tests": [{"name": "t", "score": score, "max_score": out_of,
                                                            "output": "", "tags": ["b"], "status": "passed"}]}
    if late is not None:
        data["extra_data"] = {"late": late}
    (folder / f"{stem}.json").write_text(json.dumps(data), encoding="utf-8")


@pytest.fixture
def graded(tmp_path) -> Path:
    graded = tmp_path / "graded"
    result(graded, "alice", "02_linear_regression", 9.5)
    result(graded, "alice", "03_logistic_regression", 8.0, out_of=12.0, late={"raw": 8.0, "penalty": 1.6, "final": 6.4})
    result(graded, "bob", "02_linear_regression", 7.25)
    result(graded, "zoe", "02_linear_regression", 10.0)  # on no roster
    return graded


@pytest.fixture
def roster(tmp_path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text("\ufeffStudent,Name,Canvas ID,SIS User ID,SIS Login ID,Section,Email,ID number\r\n"
                    'alice,"Liddell, Alice",10423,S0001,aliddell,Section 1,alice@example.edu,S0001\r\n'
                    "bob,Bob Smith,10424,S0002,bsmith,Section 2,bob@example.edu,S0002\r\n"
                    "carol,Carol Jones,10425,S0003,cjones,Section 1,carol@example.edu,S0003\r\n", encoding="utf-8")
    return path


def written(tmp_path: Path, rows) -> str:
    write_export(tmp_path / "out.csv", rows)
    return (tmp_path / "out.csv").read_bytes().decode("utf-8")


def read_back(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


# -- Canvas ----------------------------------------------------------------------------------------------------------
def canvas_reads(text: str) -> dict:
    """What Canvas's GradebookImporter (app/models/gradebook_importer.rb) takes from the file: the delimiter from
    the first three lines (the one that splits them all into the same number of fields, ";" only when it gives more),
    the header (row[0] holds "Student", row[1] "ID", the last student column "Section"), the Points Possible row
    (row[0] holds "Points Possible"), then the students."""
    lines = text.split("\r\n")[:3]
    counts = {}
    for separator in ";,":
        sizes = {len(next(csv.reader([line], delimiter=separator))) for line in lines}
        counts[separator] = sizes.pop() if len(sizes) == 1 else 0
    delimiter = ";" if counts[";"] > counts[","] else ","
    rows = read_back(text, delimiter)
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1]
    student_columns = 3
    if re.match(r"SIS\s+User\s+ID", header[2]) and re.match(r"SIS\s+Login\s+ID", header[3]):
        student_columns += 2
    assert "Section" in header[student_columns - 1]
    assert "Points Possible" in rows[1][0]
    assignments = header[student_columns:]
    return {"delimiter": delimiter, "assignments": assignments,
            "points": dict(zip(assignments, rows[1][student_columns:])),
            "students": [dict(zip(header, row)) for row in rows[2:]]}


def test_canvas_file_is_what_its_importer_reads(tmp_path, graded, roster):
    rows, report = export(graded, "canvas", roster)
    seen = canvas_reads(written(tmp_path, rows))
    assert seen["delimiter"] == ","
    assert rows[0][:5] == list(CANVAS_HEADER) == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert seen["assignments"] == ["02_linear_regression", "03_logistic_regression"]
    assert seen["points"] == {"02_linear_regression": "10", "03_logistic_regression": "12"}
    alice, bob, carol = seen["students"]
    assert (alice["Student"], alice["ID"], alice["SIS User ID"], alice["SIS Login ID"], alice["Section"]) == \
        ("Liddell, Alice", "10423", "S0001", "aliddell", "Section 1")
    assert (alice["02_linear_regression"], alice["03_logistic_regression"]) == ("9.5", "6.4")  # the late final
    assert (bob["02_linear_regression"], bob["03_logistic_regression"]) == ("7.25", "0")
    assert (carol["02_linear_regression"], carol["03_logistic_regression"]) == ("0", "0")
    assert report.written == ["alice", "bob", "carol"]


def test_canvas_blank_leaves_missing_grades_unset(tmp_path, graded, roster):
    rows, report = export(graded, "canvas", roster, missing="blank")
    carol = canvas_reads(written(tmp_path, rows))["students"][2]
    assert (carol["02_linear_regression"], carol["03_logistic_regression"]) == ("", "")
    assert "carol: 02_linear_regression (blank)" in report.no_result


def test_canvas_without_roster_identifies_by_course_id(tmp_path, graded):
    rows, report = export(graded, "canvas")
    students = canvas_reads(written(tmp_path, rows))["students"]
    assert [(s["Student"], s["ID"], s["SIS Login ID"]) for s in students] == \
        [("alice", "", "alice"), ("bob", "", "bob"), ("zoe", "", "zoe")]
    assert any("no roster" in note for note in report.notes) and not report.not_on_roster


# -- Moodle ----------------------------------------------------------------------------------------------------------
def moodle_reads(text: str, identify_by: str) -> dict[str, dict[str, float | None]]:
    """What Moodle's gradeimport_csv (grade/import/csv/classes/load_data.php) imports, the identifier column mapped
    to ``identify_by`` and each other column to its grade item: a line of one field is skipped; an empty identifier
    would keep the previous user, so none may be empty; a grade is a number, or "" / "-" for no grade."""
    rows = read_back(text)
    header = rows[0]
    assert header[0] == identify_by and len(header) >= 2
    imported = {}
    for row in rows[1:]:
        if len(row) <= 1:
            continue
        assert row[0].strip(), "an empty identifier: Moodle would give these grades to the previous row's user"
        imported[row[0]] = {item: (None if value.strip() in ("", "-") else float(value))
                            for item, value in zip(header[1:], row[1:])}
    return imported


def test_moodle_file_is_what_its_importer_reads(tmp_path, graded, roster):
    rows, report = export(graded, "moodle", roster)
    assert rows[0] == ["email", "02_linear_regression", "03_logistic_regression"]
    assert moodle_reads(written(tmp_path, rows), "email") == {
        "alice@example.edu": {"02_linear_regression": 9.5, "03_logistic_regression": 6.4},
        "bob@example.edu": {"02_linear_regression": 7.25, "03_logistic_regression": 0.0},
        "carol@example.edu": {"02_linear_regression": 0.0, "03_logistic_regression": 0.0}}
    assert any("02_linear_regression 10, 03_logistic_regression 12" in note for note in report.notes)


def test_moodle_by_idnumber_and_blank(tmp_path, graded, roster):
    rows, _report = export(graded, "moodle", roster, missing="blank", identify_by="idnumber")
    imported = moodle_reads(written(tmp_path, rows), "idnumber")
    assert imported["S0003"] == {"02_linear_regression": None, "03_logistic_regression": None}


def test_moodle_never_writes_a_row_without_an_identifier(tmp_path, graded):
    (tmp_path / "partial.csv").write_text("student,email\nalice,alice@example.edu\nbob,\n", encoding="utf-8")
    rows, report = export(graded, "moodle", tmp_path / "partial.csv")
    assert set(moodle_reads(written(tmp_path, rows), "email")) == {"alice@example.edu"}
    assert report.not_matched == ["bob: no email on the roster: not in the file (enter the grades by hand)"]


# -- plain CSV -------------------------------------------------------------------------------------------------------
def test_plain_csv_has_scores_csv_columns_with_final_marks(tmp_path, graded):
    rows, _report = export(graded, "csv")
    assert read_back(written(tmp_path, rows)) == [
        ["student", "02_linear_regression", "03_logistic_regression", "total", "max_total"],
        ["alice", "9.5", "6.4", "15.9", "22"], ["bob", "7.25", "0", "7.25", "22"], ["zoe", "10", "0", "10", "22"]]


# -- the roster ------------------------------------------------------------------------------------------------------
def test_roster_mismatches_are_reported_both_ways(graded, roster):
    for target in ("canvas", "moodle", "csv"):
        rows, report = export(graded, target, roster)
        assert report.not_on_roster == ["zoe"]  # a result, no roster row: listed, not written
        assert report.no_result == ["bob: 03_logistic_regression (0)", "carol: 02_linear_regression (0)",
                                    "carol: 03_logistic_regression (0)"]
        assert "zoe" not in report.written and "zoe" not in str(rows)
        lines = report.lines()
        assert "not on the roster, not in the file: zoe" in lines
        assert "no result: carol: 02_linear_regression (0)" in lines


def test_a_near_miss_on_the_roster_is_named(tmp_path, graded):
    (tmp_path / "r.csv").write_text("student;email\nAlice;a@x\nBob;b@x\n", encoding="utf-8")  # a ";" spreadsheet
    _rows, report = export(graded, "moodle", tmp_path / "r.csv")
    assert report.not_on_roster == ["alice (the roster has 'Alice')", "bob (the roster has 'Bob')", "zoe"]


@pytest.mark.parametrize("text, says", [("name,email\nx,y\n", "no 'student' column"),
                                        ("student\nalice\nalice\n", "'alice' is on the roster twice"),
                                        ("student,email\na,x@y\nb,x@y\n", "'a' and 'b' have the same email")])
def test_a_bad_roster_is_one_line(tmp_path, graded, text, says):
    (tmp_path / "r.csv").write_text(text, encoding="utf-8")
    with pytest.raises(ExportError) as caught:
        export(graded, "canvas", tmp_path / "r.csv")
    assert says in str(caught.value) and "\n" not in str(caught.value)


def test_roster_columns_are_documented_names(roster):
    assert read_roster(roster)["alice"] == {
        "student": "alice", "name": "Liddell, Alice", "canvas_id": "10423", "sis_user_id": "S0001",
        "sis_login_id": "aliddell", "section": "Section 1", "email": "alice@example.edu", "idnumber": "S0001"}


# -- what cannot be exported -----------------------------------------------------------------------------------------
def test_unusable_results_are_blank_and_reported(tmp_path):
    graded = tmp_path / "graded"
    result(graded, "amy", "a1", 5.0, late={"raw": 5.0, "penalty": 1.0, "final": "4"})
    result(graded, "ben", "a1", 5.0)
    result(graded, "ben", "a1", 6.0, stem="other")  # two results for one assignment
    (graded / "cat" / "a1").mkdir(parents=True)
    (graded / "cat" / "a1" / "nb.json").write_text("{not json", encoding="utf-8")
    rows, report = export(graded, "csv")
    assert rows[1:] == [["amy", "", 0, 10.0], ["ben", "", 0, 10.0]]
    assert report.problems == ["cat/a1/nb.json: JSONDecodeError: not read",
                               "amy: a1: its late final '4' is not a mark out of 10: left blank",
                               "ben: a1 has 2 results: left blank (keep the one that counts)"]


def test_bad_arguments(graded, tmp_path):
    for call, says in [(lambda: export(graded, "blackboard"), "--to 'blackboard'"),
                       (lambda: export(graded, "csv", missing="na"), "missing='na'"),
                       (lambda: export(tmp_path / "nothing", "csv"), "no such results folder"),
                       (lambda: export(graded, "moodle", identify_by="phone"), "identify_by='phone'")]:
        with pytest.raises(ExportError, match=re.escape(says)):
            call()


# -- hostile ids -----------------------------------------------------------------------------------------------------
def starts_a_formula(cell: str) -> bool:
    return cell.lstrip('" ')[:1] in set(FORMULA_STARTS)


@pytest.mark.parametrize("target", ["canvas", "moodle", "csv"])
def test_hostile_student_ids_stay_text_and_are_reported(tmp_path, target):
    graded = tmp_path / "graded"
    for student in HOSTILE + ["alice"]:
        result(graded, student, "a1", 5.0)
    rows, report = export(graded, target)
    text = written(tmp_path, rows)
    for separator in (",", ";", "\t", "|"):  # however a spreadsheet splits the lines, no cell is a formula
        for line in text.split("\r\n"):
            assert not any(starts_a_formula(cell) for cell in line.split(separator)), (separator, line)
        for row in read_back(text, separator):
            assert not any(starts_a_formula(cell) for cell in row), (separator, row)
    if target == "csv":
        assert len(read_back(text)) == len(HOSTILE) + 2 and not report.not_matched
        return
    assert sorted(line.split(": ")[0] for line in report.not_matched) == sorted(HOSTILE)
    if target == "moodle":  # rows Moodle could not match are left out, the others kept
        assert set(moodle_reads(text, "username")) == {"alice"}
    else:
        assert len(canvas_reads(text)["students"]) == len(HOSTILE) + 1


# -- the command -----------------------------------------------------------------------------------------------------
def run_export(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "autograder", "export", *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def test_the_export_command_writes_the_file_and_lists_the_mismatches(tmp_path, graded, roster):
    done = run_export(graded, "--to", "canvas", "--roster", roster)
    assert done.returncode == 0, done.stderr
    assert canvas_reads((graded / "export-canvas.csv").read_bytes().decode("utf-8"))
    assert "canvas: students 3, assignments 2" in done.stdout and "wrote " in done.stdout
    assert "not on the roster, not in the file: zoe" in done.stderr
    done = run_export(graded, "--to", "moodle", "--roster", roster, "--identify-by", "idnumber", "--missing", "blank",
                      "--out", tmp_path / "moodle.csv")
    assert done.returncode == 0, done.stderr
    assert moodle_reads((tmp_path / "moodle.csv").read_bytes().decode("utf-8"), "idnumber")["S0002"] == {
        "02_linear_regression": 7.25, "03_logistic_regression": None}


@pytest.mark.parametrize("args, says", [(["--to", "canvas", "--roster", "nowhere.csv"], "nowhere.csv"),
                                        (["--to", "csv", "--identify-by", "email"], "--identify-by is for --to moodle"),
                                        (["--to", "csv"], "no such results folder")])
def test_the_export_command_says_what_is_wrong_in_one_line(tmp_path, graded, args, says):
    target = tmp_path / "absent" if "no such" in says else graded
    done = run_export(target, *args)
    assert done.returncode == 2 and says in done.stderr and done.stderr.strip().count("\n") == 0, done.stderr
