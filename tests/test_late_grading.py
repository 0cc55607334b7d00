"""Late rules where grading runs: ``grade`` on nbgrader's submitted layout (timestamp.txt), shards merged by
``report``, and ``gradescope-run`` (Gradescope's submission_metadata.json). The rules themselves are tested rule by
rule in tests/test_late.py; here, what the instructor and the student get: the results' raw, penalty and final
marks, scores.csv's columns, the sentence on the student's page, and a time a student planted never counting."""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.authoring.fill import filled_release, write
from conftest import COURSE, REPO

pytestmark = pytest.mark.slow
A = COURSE.find("02_linear_regression")
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
RULES = f"""
[late]
grace = "10m"
per = "day"
share = 0.1
cap = 0.5
cutoff = "7d"

[assignments."{A.name}"]
due = 2025-03-07T23:59:00Z

[extensions."bob"]
"{A.name}" = {{ extra = "48h" }}
"""
# student -> (timestamp.txt, final share of the full mark)
CLASS = {
    "alice": ("2025-03-07 23:00:00.000000 UTC", 1.0),  # on time
    "bob": ("2025-03-09 23:00:00.000000 UTC", 1.0),  # two days late, within his 48 h extension
    "carol": ("2025-03-10 12:00:00.000000 UTC", 0.7),  # 2 d 12 h late: three started days at 10 %
    "dave": (None, 1.0),  # no timestamp: no rule applied, and said
    "erin": ("2025-03-15 00:00:00.000000 UTC", 0.0),  # after the cut-off
    "frank": ("2025-03-08 00:05:00.000000 UTC", 1.0),  # within the grace period
}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("late") / "course"
    for part in ("release", "hidden", "solutions", "locale"):
        shutil.copytree(REPO / part, root / part)
    (root / "late.toml").write_text(RULES, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def submitted(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("submitted") / "submitted"
    right = filled_release(COURSE, A)
    for student, (stamp, _final) in CLASS.items():
        folder = root / student / A.name
        write(right, folder / A.notebook)
        if stamp is not None:
            (folder / "timestamp.txt").write_text(stamp + "\n", encoding="utf-8")
    return root


def autograder(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, env=ENV,
                          timeout=900)


def scores(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def graded(course, submitted, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    out = tmp_path_factory.mktemp("graded") / "graded"
    done = autograder("grade", str(submitted), "--course", str(course), "--out", str(out), "--jobs", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done


def test_results_and_scores_carry_raw_penalty_and_final(graded):
    out, done = graded
    full = A.max_score
    rows = {row["student"]: row for row in scores(out / "scores.csv")}
    for student, (_stamp, share) in CLASS.items():
        data = json.loads((out / student / A.name / f"{A.stem}.json").read_text())
        late = data["extra_data"]["late"]
        assert late["raw"] == pytest.approx(full) and late["final"] == pytest.approx(full * share), student
        assert data["score"] == pytest.approx(full * share)  # the mark that counts, as Gradescope reads it
        assert sum(t["score"] for t in data["tests"]) == pytest.approx(full)  # the tests keep what they found
        row = rows[student]
        assert float(row[A.name]) == pytest.approx(full * share)
        assert float(row[f"{A.name} raw"]) == pytest.approx(full)
        assert float(row[f"{A.name} late penalty"]) == pytest.approx(full * (1 - share))
        assert float(row["total"]) == pytest.approx(full * share)
    assert "1 notebook(s) have no readable timestamp.txt" in done.stderr and "dave/" in done.stderr


def test_the_students_page_says_how_the_penalty_was_computed(graded):
    out, _done = graded
    carol = (out / "carol" / A.name / f"{A.stem}.html").read_text(encoding="utf-8")
    assert "Late work" in carol
    assert ("Submitted 2 d 12 h 1 min 0 s after the due date (2025-03-07 23:59:00 UTC): 10% of the mark is lost per "
            "started day late, 3 × 10% = 30%") in carol
    bob = (out / "bob" / A.name / f"{A.stem}.html").read_text(encoding="utf-8")
    assert "Your due date for this assignment was extended to 2025-03-09 23:59:00 UTC." in bob
    assert "no submission time: no late rule applied" in (out / "dave" / A.name / f"{A.stem}.html").read_text()


def test_shards_merge_the_late_columns_as_one_run_writes_them(course, submitted, graded, tmp_path):
    out = tmp_path / "sharded"
    for index in (1, 2):
        done = autograder("grade", str(submitted), "--course", str(course), "--out", str(out), "--shard",
                          f"{index}/2", "--quiet")
        assert done.returncode == 0, done.stderr[-2000:]
    done = autograder("report", str(out), "--course", str(course), "--quiet")
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "scores.csv").read_text() == (graded[0] / "scores.csv").read_text()


def test_late_rules_that_cannot_be_used_stop_grading_in_one_line(course, submitted, tmp_path):
    broken = tmp_path / "course"
    shutil.copytree(course, broken)
    (broken / "late.toml").write_text(RULES.replace('share = 0.1', 'share = 10'), encoding="utf-8")
    done = autograder("grade", str(submitted), "--course", str(broken), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and not (tmp_path / "out").exists()
    assert done.stderr.strip().count("\n") == 0 and "late.toml" in done.stderr and "[late] share" in done.stderr
    done = autograder("gradescope", A.name, "--course", str(broken), "--out", str(tmp_path / "autograder.zip"))
    assert done.returncode != 0 and "[late] share" in done.stderr and "Traceback" not in done.stderr


def test_gradescope_takes_its_own_time_and_never_the_students(course, tmp_path):
    done = autograder("gradescope", A.name, "--course", str(course), "--out", str(tmp_path / "autograder.zip"))
    assert done.returncode == 0, done.stderr[-2000:]
    shutil.unpack_archive(tmp_path / "autograder.zip", tmp_path / "source")
    assert (tmp_path / "source" / "course" / "late.toml").read_text() == RULES
    submission = tmp_path / "submission"
    write(filled_release(COURSE, A), submission / A.notebook)
    # what a student hands in cannot move their time: both files are theirs, not the platform's
    (submission / "timestamp.txt").write_text("2025-03-01 00:00:00.000000 UTC\n")
    (submission / "submission_metadata.json").write_text(json.dumps({"created_at": "2025-03-01T00:00:00+00:00"}))
    (tmp_path / "submission_metadata.json").write_text(json.dumps({
        "created_at": "2025-03-09T12:00:00+00:00", "assignment": {"due_date": None, "late_due_date": None},
        "users": [{"email": "carol@example.com"}]}))
    results = tmp_path / "results.json"
    done = autograder("gradescope-run", "--bundle", str(tmp_path / "source"), "--submission", str(submission),
                      "--results", str(results))
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(results.read_text())
    assert data["extra_data"]["late"]["final"] == pytest.approx(A.max_score * 0.8)  # 1 d 12 h: two started days
    assert data["score"] == pytest.approx(A.max_score * 0.8)
    assert "10% of the mark is lost per started day late, 2 × 10% = 20%" in data["output"]
