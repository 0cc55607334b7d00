"""Bad input gets one line saying what is wrong, exit code 2, and no traceback."""
import subprocess
import sys

import pytest

from autograder.discover import InputError, find_jobs
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
    assert str(single[0].results) == "multiclass.json" and single[0].assignment.name == "05_multiclass"


def test_the_same_results_file_twice_is_refused(tmp_path):
    for folder in ("a", "b"):
        nb = tmp_path / folder / "linear_regression.ipynb"
        nb.parent.mkdir()
        nb.write_text("{}")
    with pytest.raises(InputError, match="would both write"):
        find_jobs(COURSE, [tmp_path / "a" / "linear_regression.ipynb", tmp_path / "b" / "linear_regression.ipynb"])


def test_scores_csv_counts_the_better_of_two_notebooks_whatever_the_order(tmp_path):
    from autograder.results import NotebookResult, TestResult, write_scores_csv

    def result(score):
        return NotebookResult("alice", "02_linear_regression", "x", [TestResult("t", "mse_grads", score, 3.0, "")])

    for order in ([result(1.0), result(3.0)], [result(3.0), result(1.0)]):
        write_scores_csv(order, tmp_path / "scores.csv")
        assert (tmp_path / "scores.csv").read_text().splitlines()[1] == "alice,3,3,3"
