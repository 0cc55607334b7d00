"""Bad input gets one line saying what is wrong, exit code 2, and no traceback."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.grading.discover import InputError, discover, find_jobs, not_plain
from conftest import COURSE


def grade(*args, cwd):
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.mark.parametrize("make, words", [
    (lambda d: d / "missing.ipynb", "no such file or folder"),
    (lambda d: (d / "notes.txt").write_text("hi") and d / "notes.txt", "not a notebook"),
    (lambda d: (d / "homework.ipynb").write_text("{}") and d / "homework.ipynb", "unknown assignment"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "no notebooks found"),
])
def test_bad_paths_get_one_line(tmp_path, make, words):
    path = make(tmp_path)
    done = grade(path, "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 2
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_bad_jobs_value(tmp_path):
    nb = tmp_path / "alice" / "02_linear_regression" / "linear_regression.ipynb"
    nb.parent.mkdir(parents=True)
    nb.write_text("{}")
    done = grade(tmp_path, "--jobs", "0", cwd=tmp_path)
    assert done.returncode == 2 and "--jobs must be at least 1" in done.stderr


def test_layouts_name_student_assignment_and_results(tmp_path):
    for student in ("alice", "bob"):
        nb = tmp_path / "submitted" / student / "05_multiclass" / "multiclass.ipynb"
        nb.parent.mkdir(parents=True)
        nb.write_text("{}")
    top = find_jobs(COURSE, [tmp_path / "submitted"])
    assert [(j.student, j.assignment.name, str(j.results)) for j in top] == [
        ("alice", "05_multiclass", "alice/05_multiclass/multiclass.json"),
        ("bob", "05_multiclass", "bob/05_multiclass/multiclass.json"),
    ]
    one_student = find_jobs(COURSE, [tmp_path / "submitted" / "bob"])
    one_folder = find_jobs(COURSE, [tmp_path / "submitted" / "bob" / "05_multiclass"])
    assert [j.results for j in one_student] == [j.results for j in one_folder] == [top[1].results]
    single = find_jobs(COURSE, [tmp_path / "submitted" / "bob" / "05_multiclass" / "multiclass.ipynb"])
    assert [(j.student, j.assignment.name, str(j.results)) for j in single] == [  # the same layout as a class
        ("bob", "05_multiclass", "bob/05_multiclass/multiclass.json")]


def test_the_same_results_file_twice_is_refused(tmp_path):
    for folder in ("a", "b"):
        nb = tmp_path / folder / "linear_regression.ipynb"
        nb.parent.mkdir()
        nb.write_text("{}")
    with pytest.raises(InputError, match="would both write"):
        find_jobs(COURSE, [tmp_path / "a" / "linear_regression.ipynb", tmp_path / "b" / "linear_regression.ipynb"])


def test_scores_csv_counts_exactly_the_graded_notebook(tmp_path):
    from autograder.grading.results import NotebookResult, TestResult, write_scores_csv

    def result(student, assignment, score):
        return NotebookResult(student, assignment, "x", [TestResult("t", "b", score, 3.0, "")])

    write_scores_csv([result("bob", "02_linear_regression", 1.0), result("alice", "05_multiclass", 2.0),
                      result("alice", "02_linear_regression", 0.0)], tmp_path / "scores.csv")
    assert (tmp_path / "scores.csv").read_text().splitlines() == [
        "student,02_linear_regression,05_multiclass,total,max_total", "alice,0,2,2,6", "bob,1,0,1,6"]
    with pytest.raises(ValueError, match="only one notebook may count"):  # never the better of two
        write_scores_csv([result("alice", "02_linear_regression", 1.0), result("alice", "02_linear_regression", 3.0)],
                         tmp_path / "scores.csv")


# -- discovery: only <student>/<assignment>/<notebook>.ipynb is a submission --------------------------------------
LR = COURSE.assignments["02_linear_regression"]


def notebook(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def jobs_of(found):
    return [(j.student, j.assignment.name, str(j.results)) for j in found.jobs]


def test_deeper_notebooks_are_never_graded_nor_anyone_else(tmp_path):
    top = tmp_path / "submitted"
    notebook(top / "alice" / LR.name / LR.notebook)
    notebook(top / "eve" / LR.name / LR.notebook)
    fake = notebook(top / "alice" / LR.name / "extra" / "eve" / LR.name / LR.notebook)
    notebook(top / "alice" / LR.name / "extra" / "mallory" / LR.name / LR.notebook)
    notebook(top / "alice" / LR.name / "sub" / "copy.ipynb")
    (top / "alice" / LR.name / "data" / "train.csv").parent.mkdir()
    (top / "alice" / LR.name / "data" / "train.csv").write_text("1,2\n")  # data files: silently ignored
    expected = [("alice", LR.name, f"alice/{LR.name}/linear_regression.json"),
                ("eve", LR.name, f"eve/{LR.name}/linear_regression.json")]
    found = discover(COURSE, [top])
    assert jobs_of(found) == expected
    assert fake not in [j.path for j in found.jobs]
    assert found.skipped == [f"{top}/alice/{LR.name}/extra/eve/{LR.name}/{LR.notebook}: deeper than "
                             f"<student>/<assignment>/<notebook>.ipynb (not graded)",
                             f"{top}/alice/{LR.name}/extra/mallory/{LR.name}/{LR.notebook}: deeper than "
                             f"<student>/<assignment>/<notebook>.ipynb (not graded)",
                             f"{top}/alice/{LR.name}/sub/copy.ipynb: deeper than "
                             f"<student>/<assignment>/<notebook>.ipynb (not graded)"]
    for given in (top / "alice", top / "alice" / LR.name):  # a student folder, an assignment folder
        found = discover(COURSE, [given])
        assert jobs_of(found) == expected[:1] and len(found.skipped) == 3, found
    assert find_jobs(COURSE, [top]) == discover(COURSE, [top]).jobs


def test_unknown_folders_and_stray_notebooks_are_reported_and_skipped(tmp_path):
    top = tmp_path / "submitted"
    notebook(top / "alice" / LR.name / LR.notebook)
    notebook(top / "stray.ipynb")
    notebook(top / "alice" / "stray.ipynb")
    notebook(top / "alice" / "99_unknown" / LR.notebook)
    notebook(top / "alice" / "linear_regression" / LR.notebook)  # a stem is not an assignment folder
    (top / "alice" / "99_empty").mkdir()
    (top / "gradebook.db").write_text("")
    (top / "alice" / "notes.txt").write_text("")
    found = discover(COURSE, [top])
    assert jobs_of(found) == [("alice", LR.name, f"alice/{LR.name}/linear_regression.json")]
    assert found.skipped == [
        f"{top}/alice/99_empty/: not an assignment of the course (not graded)",
        f"{top}/alice/99_unknown/: not an assignment of the course (not graded)",
        f"{top}/alice/linear_regression/: not an assignment of the course (not graded); the closest is "
        f"{LR.name}: rename the folder if it is that one",
        f"{top}/alice/stray.ipynb: a notebook outside any assignment folder (only "
        f"<student>/<assignment>/<notebook>.ipynb is graded)",
        f"{top}/stray.ipynb: a notebook outside any student folder (only <student>/<assignment>/<notebook>.ipynb "
        f"is graded)",
    ]


def test_nothing_gradable_is_one_error_after_the_skips(tmp_path):
    top = tmp_path / "submitted"
    notebook(top / "alice" / "stray.ipynb")
    with pytest.raises(InputError, match="no notebooks found .*1 skipped"):
        find_jobs(COURSE, [top])
    done = grade(top, "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"skipped: {top}/alice/stray.ipynb: a notebook outside any assignment folder (only "
        f"<student>/<assignment>/<notebook>.ipynb is graded)",
        f"error: {top}: no notebooks found (expected <student>/<assignment>/<notebook>.ipynb; 1 skipped)"]


def test_the_notebook_named_like_the_release_counts_never_the_best(tmp_path):
    top = tmp_path / "submitted"
    notebook(top / "alice" / LR.name / LR.notebook)
    notebook(top / "alice" / LR.name / "copy.ipynb")
    notebook(top / "bob" / LR.name / "renamed.ipynb")  # alone: graded, whatever its name
    found = discover(COURSE, [top])
    assert [(j.student, j.path.name, str(j.results)) for j in found.jobs] == [
        ("alice", LR.notebook, f"alice/{LR.name}/linear_regression.json"),
        ("bob", "renamed.ipynb", f"bob/{LR.name}/renamed.json")]
    assert found.skipped == [f"{top}/alice/{LR.name}/copy.ipynb: not graded: alice has {LR.notebook} for {LR.name}"]
    assert found.ungraded == []


def test_several_notebooks_none_named_like_the_release_grades_none(tmp_path):
    top = tmp_path / "submitted"
    notebook(top / "alice" / LR.name / "a.ipynb")
    notebook(top / "alice" / LR.name / "b.ipynb")
    found = discover(COURSE, [top])
    assert found.jobs == []
    [u] = found.ungraded
    assert (u.student, u.assignment, str(u.results)) == ("alice", LR, f"alice/{LR.name}/linear_regression.json")
    assert "Submit only linear_regression.ipynb" in u.why and "a.ipynb, b.ipynb" in u.why
    assert [line.split(": ")[0] for line in found.skipped] == [f"{top}/alice/{LR.name}/a.ipynb",
                                                               f"{top}/alice/{LR.name}/b.ipynb"]
    assert all("none is named linear_regression.ipynb" in line for line in found.skipped)
    # the grader writes a results file with 0 and the message, and 0 in scores.csv; nothing is graded
    done = grade(top, "--out", tmp_path / "out", "--quiet", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "out" / "alice" / LR.name / "linear_regression.json").read_text())
    assert data["score"] == 0 and data["max_score"] == LR.max_score and "Submit only" in data["output"]
    assert (tmp_path / "out" / "scores.csv").read_text().splitlines()[1] == f"alice,0,0,{LR.max_score:g}"
    assert done.stderr.count("skipped: ") == 2


def test_symbolic_links_are_never_followed(tmp_path):
    outside = tmp_path / "outside"
    secret = notebook(outside / "secret.ipynb")
    notebook(outside / LR.name / LR.notebook)
    notebook(outside / "mallory" / LR.name / LR.notebook)
    top = tmp_path / "submitted"
    notebook(top / "alice" / LR.name / LR.notebook)
    (top / "bob" / LR.name).mkdir(parents=True)
    (top / "bob" / LR.name / LR.notebook).symlink_to(secret)  # a notebook pointing out of the tree
    (top / "carol").mkdir()
    (top / "carol" / LR.name).symlink_to(outside / LR.name, target_is_directory=True)  # an assignment folder
    (top / "mallory").symlink_to(outside / "mallory", target_is_directory=True)  # a student folder
    (top / "alice" / LR.name / "deep").symlink_to(outside, target_is_directory=True)
    found = discover(COURSE, [top])
    assert jobs_of(found) == [("alice", LR.name, f"alice/{LR.name}/linear_regression.json")]
    link = "a symbolic link (not followed, not graded)"
    assert found.skipped == [f"{top}/alice/{LR.name}/deep: {link}", f"{top}/bob/{LR.name}/{LR.notebook}: {link}",
                             f"{top}/carol/{LR.name}: {link}", f"{top}/mallory: {link}"]
    linked = tmp_path / "linked"  # the folder given may itself be a link: resolved once
    linked.symlink_to(top, target_is_directory=True)
    assert [j.path for j in discover(COURSE, [linked]).jobs] == [top / "alice" / LR.name / LR.notebook]


def test_names_that_are_not_plain_are_skipped_and_shown_escaped(tmp_path):
    top = tmp_path / "submitted"
    notebook(top / "[bold red]boss" / LR.name / LR.notebook)  # plain, if odd: graded under that very name
    notebook(top / "evil\x1b[2J" / LR.name / LR.notebook)
    notebook(top / "bob" / LR.name / "line\nbreak.ipynb")
    notebook(top / "carol\u00a0" / LR.name / LR.notebook)
    os.mkfifo(top / "bob" / LR.name / "pipe.ipynb")  # would hang whoever reads it
    found = discover(COURSE, [top])
    assert jobs_of(found) == [("[bold red]boss", LR.name, f"[bold red]boss/{LR.name}/linear_regression.json")]
    assert found.skipped == [
        f"{top}/bob/{LR.name}/line\\nbreak.ipynb: a notebook with a name with control or unprintable characters "
        f"(not graded)",
        f"{top}/bob/{LR.name}/pipe.ipynb: not a regular file (not graded)",
        f"{top}/carol\\xa0/: not a student folder (a name with control or unprintable characters)",
        f"{top}/evil\\x1b[2J/: not a student folder (a name with control or unprintable characters)",
    ]
    assert all(line.isprintable() for line in found.skipped)
    for name in ("", ".", "..", "a/b", "a\\b", "x\0y", "tab\there"):
        assert not_plain(name), name
    for name in ("alice", "[red]x", "José Ñ", "a b", "o'brien", ":smile:"):
        assert not_plain(name) is None, name


def test_hidden_files_and_folders_are_ignored(tmp_path):
    top = tmp_path / "submitted"
    notebook(top / "alice" / LR.name / LR.notebook)
    notebook(top / "alice" / LR.name / ".ipynb_checkpoints" / "linear_regression-checkpoint.ipynb")
    notebook(top / "alice" / LR.name / ".hidden.ipynb")
    notebook(top / "alice" / LR.name / "deep" / ".ipynb_checkpoints" / "x.ipynb")
    notebook(top / ".git" / "alice" / LR.name / LR.notebook)
    notebook(top / "alice" / ".trash" / LR.notebook)
    (top / ".DS_Store").write_text("")
    found = discover(COURSE, [top])
    assert jobs_of(found) == [("alice", LR.name, f"alice/{LR.name}/linear_regression.json")]
    assert found.skipped == []


def test_overlapping_paths_grade_each_notebook_once(tmp_path):
    top = tmp_path / "submitted"
    nb = notebook(top / "alice" / LR.name / LR.notebook)
    notebook(top / "bob" / LR.name / LR.notebook)
    found = discover(COURSE, [top, top / "alice", top / "alice" / LR.name, nb])
    assert [j.student for j in found.jobs] == ["alice", "bob"] and found.skipped == []
    other = notebook(tmp_path / "again" / "alice" / LR.name / LR.notebook)  # alice twice: the command is wrong
    with pytest.raises(InputError, match="are both alice's 02_linear_regression"):
        discover(COURSE, [top, other.parent.parent.parent])


def test_markup_in_names_prints_as_it_is(tmp_path):
    top = tmp_path / "submitted"
    notebook(top / "[link=mailto:boss@evil.example]boss" / "[blink]:smile:.ipynb")
    notebook(top / "[bold red]x[" / "bold red]" / LR.notebook)  # "[bold red]x[/bold red]" as two folders
    done = grade(top, "--out", tmp_path / "out", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[:2] == [
        f"skipped: {top}/[bold red]x[/bold red]/: not an assignment of the course (not graded)",
        f"skipped: {top}/[link=mailto:boss@evil.example]boss/[blink]:smile:.ipynb: a notebook outside any assignment "
        f"folder (only <student>/<assignment>/<notebook>.ipynb is graded)"]


def test_scores_csv_never_holds_a_formula(tmp_path):
    from autograder.grading.results import NotebookResult, TestResult, write_scores_csv

    evil = '=HYPERLINK("http://x","click")'
    write_scores_csv([NotebookResult(evil, "02_linear_regression", "x", [TestResult("t", "b", 1.0, 1.0, "")])],
                     tmp_path / "scores.csv")
    row = (tmp_path / "scores.csv").read_text().splitlines()[1]
    assert row.startswith("\"'=HYPERLINK(")
