"""``grade --shard I/N``: a deterministic 1/N of the class, whatever the order of the paths."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest

from autograder.cli import main
from autograder.grading.discover import discover
from autograder.authoring.fill import filled_release, write
from autograder.grading.runner import in_shard
from conftest import ASSIGNMENTS, COURSE

STUDENTS = [f"student{i:03d}" for i in range(40)] + ["zoë", "o'brien", "=cmd", "x" * 200]


@pytest.mark.parametrize("count", [1, 2, 3, 7])
def test_shards_partition_the_class(count):
    owners = {s: [i for i in range(1, count + 1) if in_shard(s, i, count)] for s in STUDENTS}
    assert all(len(shards) == 1 for shards in owners.values()), owners  # each student in exactly one shard
    if count > 1:
        assert len({shards[0] for shards in owners.values()}) == count  # and none left empty on 44 students


def test_a_students_shard_depends_on_nothing_else():
    before = {s: in_shard(s, 2, 3) for s in STUDENTS}
    shuffled = STUDENTS[:]
    random.Random(1).shuffle(shuffled)
    assert {s: in_shard(s, 2, 3) for s in shuffled} == before


def test_discovered_jobs_split_the_same_whatever_the_order_of_paths(tmp_path):
    a = ASSIGNMENTS["05_multiclass"]
    nb = filled_release(COURSE, a)
    for s in STUDENTS[:12]:
        write(nb, tmp_path / "sub" / s / a.name / a.notebook)
    folders = sorted((tmp_path / "sub").iterdir())
    forward = discover(COURSE, folders).jobs
    backward = discover(COURSE, folders[::-1]).jobs
    for i in (1, 2, 3):
        assert {j.key for j in forward if in_shard(j.student, i, 3)} == \
               {j.key for j in backward if in_shard(j.student, i, 3)}


@pytest.mark.parametrize("bad", ["0/3", "4/3", "1/0", "x", "1/2/3", "-1/-3"])
def test_a_bad_shard_is_bad_input(tmp_path, bad, capsys):
    a = ASSIGNMENTS["05_multiclass"]
    write(filled_release(COURSE, a), tmp_path / "sub" / "alice" / a.name / a.notebook)
    assert main(["grade", str(tmp_path / "sub"), "--out", str(tmp_path / "out"), f"--shard={bad}"]) == 2
    assert "--shard" in capsys.readouterr().err


def report(cwd, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "report", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


@pytest.mark.slow
def test_shards_1_2_3_of_3_grade_exactly_the_class_and_report_merges_them(tmp_path):
    a = ASSIGNMENTS["05_multiclass"]
    nb = filled_release(COURSE, a)
    students = STUDENTS[:6]
    for s in students:
        write(nb, tmp_path / "sub" / s / a.name / a.notebook)
    out = tmp_path / "graded"
    rows = []
    for i in (1, 2, 3):  # the same --out, as array jobs on a shared file system would
        if i == 3:  # the README's command, verbatim, before the last shard is done: it says which is missing
            assert not (out / "scores.csv").exists() and not (out / "report.html").exists()
            early = report(tmp_path, "graded/")
            assert early.returncode == 1 and "no scores-I-of-3.csv yet from shard(s) 3 of 3" in early.stderr
            assert not (out / "scores.csv").exists()  # the report of the shards done so far, not their scores
        done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "sub"), "--out", str(out),
                               "--jobs", "1", "--secret", "s", "--shard", f"{i}/3", "--quiet"],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        mine = {s for s in students if in_shard(s, i, 3)}
        lines = (out / f"scores-{i}-of-3.csv").read_text().splitlines()  # even a shard with no student writes it
        assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(mine)
        rows += lines[1:]
    graded = sorted(str(p.relative_to(out)) for p in out.rglob("*.json"))
    assert graded == sorted(f"{s}/{a.name}/{a.stem}.json" for s in students)  # all, once each
    assert len(rows) == len(students)
    assert not (out / "scores.csv").exists()
    for path in out.rglob("*.json"):
        assert json.loads(path.read_text())["score"] == a.max_score
    done = report(tmp_path, "graded/")  # the README's command, verbatim
    assert done.returncode == 0, done.stderr
    assert "scores.csv: the scores of all 3 shards merged (6 student(s))" in done.stdout
    merged = (out / "scores.csv").read_text().splitlines()
    assert merged[0] == f"student,{a.name},total,max_total" and sorted(merged[1:]) == sorted(rows)
    assert (out / "report.html").is_file()
