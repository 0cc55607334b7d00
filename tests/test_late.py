"""Late work (autograder.after.late): the rules file, the submission times nbgrader and Gradescope give, the penalty
rule by rule, and nbgrader's own late-penalty columns agreeing with the kit's.

nbgrader runs twice: its AssignLatePenalties preprocessor with the kit's plugin on a gradebook made here (seconds),
and, marked slow, ``nbgrader autograde`` and ``nbgrader export`` on a one-notebook course."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from autograder.after.late import (LateRulesError, Penalty, SubmissionTime, gradescope_time, load_rules, nbgrader_time, penalty,
                                   submission_time)

PARIS_WINTER = timezone(timedelta(hours=1))
DUE = datetime(2025, 3, 7, 23, 59, tzinfo=PARIS_WINTER)
RULES = """
[late]
grace = "15m"
per = "day"
share = 0.1
cap = 0.5
cutoff = "7d"

[assignments."a1"]
due = 2025-03-07T23:59:00+01:00

[assignments."hourly"]
due = "2025-03-30 23:59 Europe/Paris"
per = "hour"
share = 0.02
grace = "0s"

[assignments."fixed_cutoff"]
due = 2025-03-07T23:59:00+01:00
cutoff = 2025-03-09T12:00:00Z

[assignments."gradescope"]
share = 0.25
cutoff = false

[extensions."alice"]
"a1" = { extra = "48h" }
"fixed_cutoff" = { due = 2025-03-10T23:59:00+01:00 }
"""


@pytest.fixture
def rules(tmp_path):
    (tmp_path / "late.toml").write_text(RULES, encoding="utf-8")
    return load_rules(tmp_path)


def late_by(rules, delta, assignment="a1", student="bob", raw=8.0) -> Penalty:
    return penalty(rules, assignment, student, DUE + delta, raw)


# -- the rules file --------------------------------------------------------------------------------------------------
def test_no_rules_file_means_no_rule(tmp_path):
    assert load_rules(tmp_path) is None
    result = penalty(None, "a1", "bob", DUE + timedelta(days=3), 8.0)
    assert (result.final, result.share, result.sentence, result.applied) == (8.0, 0.0, "", False)


@pytest.mark.parametrize("text, names", [
    ("[late\nshare = 0.1", "not readable TOML"),
    ("[late]\nshares = 0.1", "unknown key 'shares'"),
    ("[late]\nshare = 10", "share between 0 and 1"),
    ("[late]\nper = \"week\"", "not \"day\" or \"hour\""),
    ("[late]\ngrace = \"15 minutes\"", "not a duration"),
    ("[late]\ndue = 2025-03-07T23:59:00Z", "unknown key 'due'"),
    ("[assignments.a1]\ndue = 2025-03-07T23:59:00", "has no time zone"),
    ("[assignments.a1]\ndue = 2025-03-07", "has no time zone"),
    ("[assignments.a1]\ndue = \"next friday\"", "not an ISO 8601 date-time"),
    ("[assignments.a1]\ndue = \"2025-03-07 23:59 Mars/Olympus\"", "not an ISO 8601 date-time"),
    ("[assignments.a1]\ndue = 2025-03-07T23:59:00Z\ncutoff = 2025-03-01T00:00:00Z", "not after the due date"),
    ("[extensions.alice]\na1 = { extra = \"1d\", due = 2025-03-07T23:59:00Z }", "either due"),
    ("[extensions.alice]\na1 = \"1d\"", "is not a table"),
])
def test_a_malformed_file_is_one_clear_line(tmp_path, text, names):
    (tmp_path / "late.toml").write_text(text, encoding="utf-8")
    with pytest.raises(LateRulesError) as caught:
        load_rules(tmp_path)
    message = str(caught.value)
    assert "\n" not in message and names in message and str(tmp_path / "late.toml") in message


def test_misspelt_assignments_are_found(rules):
    assert rules.unknown_assignments(["a1", "hourly", "fixed_cutoff"]) == ["gradescope"]


# -- the penalty, rule by rule ---------------------------------------------------------------------------------------
def test_on_time(rules):
    for delta in (timedelta(hours=-5), timedelta(0)):
        result = late_by(rules, delta)
        assert (result.share, result.final, result.points, result.applied) == (0.0, 8.0, 0.0, True)
        assert result.sentence.startswith("Submitted on time (")


def test_grace_period(rules):
    result = late_by(rules, timedelta(minutes=15))
    assert result.share == 0.0 and "within the grace period of 15 min 0 s" in result.sentence
    # beyond the grace period, lateness counts from the due date: 16 minutes is one started day
    assert late_by(rules, timedelta(minutes=16)).share == pytest.approx(0.1)


def test_per_started_day(rules):
    assert late_by(rules, timedelta(days=1)).share == pytest.approx(0.1)  # exactly 24 h: one day
    result = late_by(rules, timedelta(days=1, seconds=1))
    assert (result.share, result.final, result.points) == (pytest.approx(0.2), pytest.approx(6.4), pytest.approx(1.6))
    assert result.sentence == ("Submitted 1 d 0 h 0 min 1 s after the due date (2025-03-07 23:59:00 UTC+01:00): 10% "
                               "of the mark is lost per started day late, 2 × 10% = 20%, so 8 becomes 6.4.")


def test_per_started_hour_across_summer_time(rules):
    # due 23:59 in Paris on the day clocks went forward (UTC+02:00); 01:30 UTC is 03:30 there: 3 h 31 min late
    result = penalty(rules, "hourly", "bob", datetime(2025, 3, 31, 1, 30, tzinfo=timezone.utc), 10)
    assert result.share == pytest.approx(0.08) and result.final == pytest.approx(9.2)
    assert "3 h 31 min 0 s after the due date (2025-03-30 23:59:00 UTC+02:00)" in result.sentence
    assert "per started hour late, 4 × 2% = 8%" in result.sentence


def test_cap(rules):
    result = late_by(rules, timedelta(days=6, hours=1))
    assert result.share == 0.5 and result.final == 4.0
    assert "7 × 10%, capped at 50%, so 8 becomes 4." in result.sentence


def test_cut_off_relative_and_absolute(rules):
    assert late_by(rules, timedelta(days=7)).share == 0.5  # at the cut-off: capped, not yet 0
    result = late_by(rules, timedelta(days=7, seconds=1))
    assert (result.share, result.final, result.points) == (1.0, 0.0, 8.0)
    assert "after the cut-off (2025-03-14 23:59:00 UTC+01:00): the mark is 0 instead of 8." in result.sentence
    absolute = penalty(rules, "fixed_cutoff", "bob", datetime(2025, 3, 9, 12, 0, 1, tzinfo=timezone.utc), 8.0)
    assert absolute.final == 0.0 and "(2025-03-09 13:00:00 UTC+01:00)" in absolute.sentence


def test_extensions_move_the_due_date_and_the_cut_off(rules):
    extra = late_by(rules, timedelta(days=1), student="alice")
    assert extra.share == 0.0 and extra.due == DUE + timedelta(days=2)
    assert extra.sentence.startswith("Your due date for this assignment was extended to 2025-03-09 23:59:00 UTC+01:00.")
    assert late_by(rules, timedelta(days=2, hours=1), student="alice").share == pytest.approx(0.1)
    # a new due date three days on moves the absolute cut-off three days too
    moved = penalty(rules, "fixed_cutoff", "alice", datetime(2025, 3, 12, 11, 0, tzinfo=timezone.utc), 8.0)
    assert moved.share == pytest.approx(0.2) and moved.final == pytest.approx(6.4)


def test_no_due_date_and_no_timestamp(rules):
    undated = penalty(rules, "other", "bob", DUE, 8.0)
    assert undated.final == 8.0 and not undated.applied
    assert undated.sentence == "No due date is set for other: no late rule applied."
    untimed = penalty(rules, "a1", "bob", None, 8.0)
    assert untimed.final == 8.0 and untimed.sentence == "no submission time: no late rule applied"


def test_time_zones_compare_instants_and_a_naive_time_is_utc(rules):
    same_instant = datetime(2025, 3, 8, 6, 59, tzinfo=timezone(timedelta(hours=8)))  # 23:59 in Paris
    assert late_by(rules, timedelta(0)).final == penalty(rules, "a1", "bob", same_instant, 8.0).final == 8.0
    naive = datetime(2025, 3, 7, 23, 30)  # nbgrader's gradebook: UTC, 31 minutes late in Paris time
    assert penalty(rules, "a1", "bob", naive, 8.0).share == pytest.approx(0.1)


def test_the_results_block_is_what_export_reads(rules):
    block = late_by(rules, timedelta(days=2)).to_json()
    assert (block["raw"], block["penalty"], block["final"]) == (8.0, pytest.approx(1.6), pytest.approx(6.4))
    assert json.loads(json.dumps(block)) == block


def test_the_sentence_comes_from_the_catalogue(rules, monkeypatch):
    import autograder.after.late as late

    monkeypatch.setattr(late, "_", lambda message: message.replace("Submitted", "SUBMITTED"))
    assert late_by(rules, timedelta(days=2)).sentence.startswith("SUBMITTED 2 d 0 h 0 min 0 s after")


# -- the submission time -----------------------------------------------------------------------------------------------
def write_submission(tmp_path: Path, timestamp: str | None = None, metadata: dict | None = None) -> Path:
    folder = tmp_path / "submitted" / "bob" / "a1"
    folder.mkdir(parents=True)
    (folder / "nb.ipynb").write_text("{}", encoding="utf-8")
    if timestamp is not None:
        (folder / "timestamp.txt").write_text(timestamp, encoding="utf-8")
    if metadata is not None:
        (folder / "submission_metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    return folder


@pytest.mark.parametrize("text", [
    "2025-03-08 00:30:00.123456 UTC",  # nbgrader's default format and time zone
    "2025-03-07 16:30:00.123456 America/Los_Angeles",  # nbgrader's documented example form
    "2025-03-08 01:30:00.123456 CET",
    "2025-03-08T01:30:00.123456+01:00",
    "2025-03-08 00:30:00.123456",  # no zone: UTC, as nbgrader reads it
])
def test_nbgrader_timestamps_are_read_as_nbgrader_reads_them(tmp_path, text):
    from nbgrader.utils import parse_utc

    time = submission_time(write_submission(tmp_path, text + "\n"))
    assert time.source == "timestamp.txt" and time.note == ""
    assert time.at == datetime(2025, 3, 8, 0, 30, 0, 123456, tzinfo=timezone.utc)
    assert time.at.replace(tzinfo=None) == parse_utc(text)


@pytest.mark.parametrize("text, zone", [("2025-07-08 12:00:00.000000 CEST", "CEST"),
                                        ("2025-03-08 12:00:00 -0800", "-0800")])
def test_what_nbgrader_misreads_is_read_as_it_does_and_said(tmp_path, text, zone):
    from nbgrader.utils import parse_utc

    time = nbgrader_time(write_submission(tmp_path, text) / "timestamp.txt")
    assert time.at.replace(tzinfo=None) == parse_utc(text)  # agreeing with nbgrader's gradebook
    assert zone in time.note and "nbgrader reads" in time.note


def test_empty_or_unreadable_timestamps_give_no_time_and_say_so(tmp_path):
    assert submission_time(write_submission(tmp_path / "1", "  \n")).note == "no submission time: no late rule applied"
    unreadable = submission_time(write_submission(tmp_path / "2", "yesterday-ish"))
    assert unreadable.at is None and "timestamp.txt does not give a readable submission time" in unreadable.note
    nothing = submission_time(write_submission(tmp_path / "3"))
    assert nothing.at is None and nothing.note == "no submission time: no late rule applied"


GRADESCOPE = {"id": 123456, "created_at": "2025-03-09T16:00:00.365935-07:00",
              "assignment": {"due_date": "2025-03-08T23:00:00.000000-07:00", "late_due_date": None,
                             "release_date": "2025-03-01T00:00:00.000000-07:00", "title": "A1", "total_points": "10.0"},
              "users": [{"email": "student@example.com", "id": 1234, "name": "Student User"}],
              "previous_submissions": []}


def test_gradescope_metadata_gives_the_time_and_its_due_dates(tmp_path, rules):
    elsewhere = tmp_path / "autograder"
    elsewhere.mkdir()
    (elsewhere / "submission_metadata.json").write_text(json.dumps(GRADESCOPE), encoding="utf-8")
    folder = write_submission(tmp_path)
    time = gradescope_time(elsewhere / "submission_metadata.json")
    assert time.source == "submission_metadata.json"
    assert time.at == datetime(2025, 3, 9, 23, 0, 0, 365935, tzinfo=timezone.utc)
    assert time.due == datetime(2025, 3, 9, 6, 0, tzinfo=timezone.utc) and time.late_due is None
    # late.toml gives "gradescope" no due date: Gradescope's counts; 17 h late is one started day at 25 %
    result = penalty(rules, "gradescope", "student@example.com", time, 10)
    assert result.final == 7.5 and "2025-03-08 23:00:00 UTC-07:00" in result.sentence
    # its late due date is the cut-off when late.toml sets none
    late_due = {**GRADESCOPE, "assignment": {**GRADESCOPE["assignment"], "late_due_date": "2025-03-09T12:00:00-07:00"}}
    (elsewhere / "submission_metadata.json").write_text(json.dumps(late_due), encoding="utf-8")
    cut_off = gradescope_time(elsewhere / "submission_metadata.json")
    assert penalty(rules, "gradescope", "x", cut_off, 10).final == 0
    # late.toml's due date wins over Gradescope's
    assert penalty(rules, "a1", "x", time, 10).final == pytest.approx(7.0)  # 2 d 0 h 1 min late: 3 days


def test_only_the_platforms_own_files_give_the_time(tmp_path):
    # a student's own submission_metadata.json in the folder is not Gradescope's: it gives no time
    planted = submission_time(write_submission(tmp_path / "1", None, GRADESCOPE))
    assert planted.at is None and planted.note == "no submission time: no late rule applied"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"assignment": {}}), encoding="utf-8")
    unreadable = gradescope_time(broken)
    assert unreadable.at is None
    assert "does not give a readable submission time" in unreadable.note
    assert isinstance(unreadable, SubmissionTime)


@pytest.mark.parametrize("attack", ["link to a secret", "fifo", "huge", "folder"])
def test_a_hostile_timestamp_is_unreadable_not_followed_or_waited_for(tmp_path, attack):
    """timestamp.txt is in a student's folder: a link to a file the grader may read, a FIFO that never answers, a
    file of gigabytes. Each gives no time and says why; none is read through or blocks the grader."""
    folder = write_submission(tmp_path)
    stamp = folder / "timestamp.txt"
    if attack == "link to a secret":
        secret = tmp_path / "secret.txt"
        secret.write_text("2000-01-01 00:00:00 UTC", encoding="utf-8")
        stamp.symlink_to(secret)
    elif attack == "fifo":
        os.mkfifo(stamp)
    elif attack == "huge":
        with stamp.open("wb") as f:
            f.write(b"2025-03-08 00:30:00 UTC" + b" " * (1 << 20))
    else:
        stamp.mkdir()
    time = submission_time(folder)
    assert time.at is None and "timestamp.txt does not give a readable submission time" in time.note
# -- nbgrader ----------------------------------------------------------------------------------------------------------
def nbgrader_environment(monkeypatch) -> None:
    """nbgrader's gradebook runs ``alembic`` from PATH: this environment's."""
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")


SUBMISSIONS = {  # student: (timestamp.txt, kit's final for 8 points)
    "alice": ("2025-03-09 22:30:00.000000 UTC", 8.0),  # 1 d 23 h 31 min late, with an extension of 48 h
    "bob": ("2025-03-07 20:00:00.000000 UTC", 8.0),  # on time
    "carol": ("2025-03-08 00:30:00.000000 UTC", 7.2),  # 1 h 31 min late: one started day
    "dave": ("2025-03-13 00:00:00.000000 UTC", 4.0),  # 6 started days: capped at 50 %
    "erin": ("2025-03-20 00:00:00.000000 UTC", 0.0),  # after the cut-off
    "frank": (None, 8.0),  # no timestamp
}


# nbgrader's gradebook and SQLAlchemy 2 (as nbgrader_config.py says): a warning on autoflush, the rows written anyway
@pytest.mark.filterwarnings(r"ignore:Object of type <\w+> not in session")
def test_the_plugin_gives_nbgrader_the_kits_penalty(tmp_path, monkeypatch, rules):
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.plugins.export import CsvExportPlugin
    from nbgrader.preprocessors import AssignLatePenalties
    from nbgrader.utils import parse_utc
    from traitlets.config import Config

    nbgrader_environment(monkeypatch)
    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(db) as gradebook:
        gradebook.add_assignment("a1", duedate=parse_utc("2025-03-01 00:00:00 UTC"))  # late.toml's replaces it
        gradebook.add_notebook("nb", "a1")
        gradebook.add_grade_cell("test_x", "nb", "a1", max_score=10, cell_type="code")
        for student, (timestamp, _final) in SUBMISSIONS.items():
            gradebook.add_student(student)
            gradebook.add_submission("a1", student, timestamp=parse_utc(timestamp) if timestamp else None)
            gradebook.find_grade("test_x", "nb", "a1", student).auto_score = 8.0
        gradebook.db.commit()
    config = Config()
    config.AssignLatePenalties.plugin_class = "autograder.after.late.LatePenaltyPlugin"
    config.LatePenaltyPlugin.rules_file = str(rules.path)
    for student in SUBMISSIONS:
        resources = {"nbgrader": {"notebook": "nb", "assignment": "a1", "student": student, "db_url": db}}
        AssignLatePenalties(config=config).preprocess(nbformat.v4.new_notebook(), resources)
    with Gradebook(db) as gradebook:
        exporter = CsvExportPlugin()
        exporter.to = str(tmp_path / "grades.csv")
        exporter.export(gradebook)
    assert_export_agrees(tmp_path / "grades.csv", rules)


def assert_export_agrees(grades_csv: Path, rules) -> None:
    import csv

    rows = {row["student_id"]: row for row in csv.DictReader(grades_csv.open(encoding="utf-8"))}
    assert set(rows) >= set(SUBMISSIONS)
    for student, (timestamp, expected) in SUBMISSIONS.items():
        row = rows[student]
        when = datetime.fromisoformat(timestamp.replace(" UTC", "+00:00")) if timestamp else None
        kit = penalty(rules, "a1", student, when, float(row["raw_score"]))
        assert kit.final == pytest.approx(expected), student
        assert float(row["late_submission_penalty"] or 0) == pytest.approx(kit.points), student
        assert float(row["score"]) == pytest.approx(kit.final), student
    assert rows["bob"]["duedate"] == "2025-03-07 22:59:00"  # late.toml's due date, in the gradebook's UTC


SOURCE_NOTEBOOK = {
    "cells": [
        {"cell_type": "code", "execution_count": None, "id": "answer", "outputs": [], "source": "answer = 1",
         "metadata": {"nbgrader": {"grade": False, "solution": True, "locked": False, "grade_id": "answer",
                                   "schema_version": 3}}},
        {"cell_type": "code", "execution_count": None, "id": "test", "outputs": [], "source": "assert answer == 1",
         "metadata": {"nbgrader": {"grade": True, "solution": False, "locked": True, "grade_id": "test_answer",
                                   "points": 8, "schema_version": 3}}},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                 "language_info": {"name": "python"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.mark.slow
def test_nbgrader_autograde_and_export_agree_with_the_kit(tmp_path, rules):
    """A one-notebook course graded by nbgrader itself (its Execute, not the kit's engine) with the plugin."""
    course = tmp_path / "course"
    (course / "source" / "a1").mkdir(parents=True)
    (course / "source" / "a1" / "nb.ipynb").write_text(json.dumps(SOURCE_NOTEBOOK), encoding="utf-8")
    (course / "late.toml").write_text(RULES, encoding="utf-8")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
        "c.AssignLatePenalties.plugin_class = 'autograder.after.late.LatePenaltyPlugin'\n", encoding="utf-8")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def nbgrader(*args: str) -> None:
        done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                              text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stderr[-3000:]

    nbgrader("generate_assignment", "a1")
    for student, (timestamp, _final) in SUBMISSIONS.items():
        folder = course / "submitted" / student / "a1"
        folder.mkdir(parents=True)
        notebook = json.loads((course / "release" / "a1" / "nb.ipynb").read_text(encoding="utf-8"))
        for cell in notebook["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == "answer":
                cell["source"] = "answer = 1"  # the right answer: 8 points before any penalty
        (folder / "nb.ipynb").write_text(json.dumps(notebook), encoding="utf-8")
        if timestamp:
            (folder / "timestamp.txt").write_text(timestamp, encoding="utf-8")
        assert submission_time(folder).at == (datetime.fromisoformat(timestamp.replace(" UTC", "+00:00"))
                                              if timestamp else None)
    nbgrader("autograde", "a1", "--create")
    nbgrader("export", "--to", str(tmp_path / "grades.csv"))
    assert_export_agrees(tmp_path / "grades.csv", rules)
