"""The grading command end to end, sandbox included, on all six assignments."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.sandbox.hostprobe import ISOLATING
from conftest import ASSIGNMENTS, COURSE
from autograder.authoring.fill import filled_release, release_notebook, write

pytestmark = pytest.mark.slow


def run_grader(paths: list[Path], out: Path, jobs: int, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *map(str, paths), "--out", str(out),
                           "--jobs", str(jobs), "--secret", "test-secret", *extra],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("grade") / "submitted"
    for a in ASSIGNMENTS.values():
        write(filled_release(COURSE, a), root / "alice" / a.name / a.notebook)
        write(release_notebook(COURSE, a), root / "carol" / a.name / a.notebook)
    return root


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory) -> dict[int, Path]:
    outs = {}
    for jobs in (1, 2):
        out = tmp_path_factory.mktemp(f"out{jobs}")
        done = run_grader([course], out, jobs)
        assert done.returncode == 0, done.stderr[-3000:]
        outs[jobs] = out
    return outs


def load(out: Path, student: str, a) -> dict:
    return json.loads((out / student / a.name / f"{a.stem}.json").read_text())


@pytest.mark.parametrize("a", ASSIGNMENTS.values(), ids=list(ASSIGNMENTS))
def test_solved_notebook_gets_every_point_and_untouched_none(graded, a):
    alice, carol = load(graded[2], "alice", a), load(graded[2], "carol", a)
    assert alice["score"] == alice["max_score"] == a.max_score, [t for t in alice["tests"] if t["score"] < t["max_score"]]
    assert carol["score"] == 0 and carol["max_score"] == a.max_score
    assert any("not written yet" in t["output"] for t in carol["tests"])


@pytest.mark.parametrize("a", ASSIGNMENTS.values(), ids=list(ASSIGNMENTS))
def test_results_follow_gradescope_format_and_tag_blanks(graded, a):
    data = load(graded[2], "alice", a)
    assert set(data) >= {"score", "max_score", "tests", "extra_data"}
    assert data["extra_data"]["isolation"] in ISOLATING  # the level its code ran under
    marks: dict[str, float] = {}
    for t in data["tests"]:
        assert set(t) - {"extra_data"} == {"name", "score", "max_score", "output", "tags", "visibility", "status"}
        assert t["status"] in ("passed", "failed")
        assert len(t["tags"]) == 1 and t["tags"][0] in a.blanks
        assert t["visibility"] == "visible" and isinstance(t["output"], str) and t["name"]
        marks[t["tags"][0]] = marks.get(t["tags"][0], 0) + t["max_score"]
    assert marks == pytest.approx(a.blanks)


def test_same_results_whatever_the_number_of_jobs(graded):
    one = sorted(p.relative_to(graded[1]) for p in graded[1].rglob("*.json"))
    two = sorted(p.relative_to(graded[2]) for p in graded[2].rglob("*.json"))
    assert one == two and len(one) == 2 * len(ASSIGNMENTS)
    for rel in one:
        assert (graded[1] / rel).read_text() == (graded[2] / rel).read_text(), rel


def test_scores_csv_has_one_row_per_student(graded):
    rows = list(csv.DictReader((graded[2] / "scores.csv").open()))
    assert [r["student"] for r in rows] == ["alice", "carol"]
    total = sum(a.max_score for a in ASSIGNMENTS.values())
    assert float(rows[0]["total"]) == float(rows[0]["max_total"]) == total
    assert float(rows[1]["total"]) == 0
    assert all(float(rows[0][a]) == ASSIGNMENTS[a].max_score for a in ASSIGNMENTS)


def test_single_notebook_gets_the_layout_of_a_class(course, tmp_path):
    a = ASSIGNMENTS["05_multiclass"]
    done = run_grader([course / "alice" / a.name / a.notebook], tmp_path, 1)
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "alice" / a.name / f"{a.stem}.json").read_text())
    assert data["score"] == a.max_score
    assert (tmp_path / "alice" / a.name / f"{a.stem}.html").is_file()  # its page, as in a class
    assert (tmp_path / "scores.csv").exists()


def test_a_different_secret_draws_different_inputs_but_the_same_marks(course, tmp_path):
    a = ASSIGNMENTS["02_linear_regression"]
    path = course / "alice" / a.name / a.notebook
    done = run_grader([path], tmp_path, 1, "--secret", "another-secret")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "alice" / a.name / f"{a.stem}.json").read_text())["score"] == a.max_score


def test_refuses_without_sandbox_unless_asked(course, tmp_path, monkeypatch):
    from autograder.sandbox import zygote as sandbox

    monkeypatch.setattr(sandbox.Zygote, "_probe", lambda self, level: (_ for _ in ()).throw(
        sandbox.SandboxUnavailable(f"{level}: not permitted here")))
    from autograder import cli

    code = cli.main(["grade", str(course / "alice" / "05_multiclass"), "--out", str(tmp_path), "--jobs", "1",
                     "--quiet"])
    assert code == 1
    assert not list(tmp_path.rglob("*.json"))


def test_magics_outputs_and_metadata_do_not_matter(tmp_path):
    import nbformat

    a = ASSIGNMENTS["02_linear_regression"]
    nb = filled_release(COURSE, a)
    nb.cells.insert(0, nbformat.v4.new_code_cell("%matplotlib inline\n!pip install nothing-at-all\n%load_ext autoreload"))
    nb.cells.insert(1, nbformat.v4.new_code_cell("%%time\nimport math\n"))
    for cell in nb.cells:
        if cell.cell_type == "code":  # stale outputs and tampered metadata are ignored
            cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "{'score': 999}"})]
            cell.metadata["nbgrader"] = {"grade": True, "points": 999, "grade_id": "forged"}
    path = write(nb, tmp_path / "submitted" / "dave" / a.name / a.notebook)
    done = run_grader([path.parent.parent.parent], tmp_path / "out", 1)
    assert done.returncode == 0, done.stderr
    data = json.loads((tmp_path / "out" / "dave" / a.name / f"{a.stem}.json").read_text())
    assert data["score"] == data["max_score"] == a.max_score, data


@pytest.mark.parametrize("content", ["", "{\"cells\": [", "not json at all", "[1, 2, 3]"],
                         ids=["empty", "truncated", "not-json", "json-not-a-notebook"])
def test_an_unreadable_notebook_gets_its_reason_and_exit_1(tmp_path, content):
    a = ASSIGNMENTS["05_multiclass"]
    good = write(filled_release(COURSE, a), tmp_path / "submitted" / "alice" / a.name / a.notebook)
    bad = tmp_path / "submitted" / "bob" / a.name / a.notebook
    bad.parent.mkdir(parents=True)
    bad.write_text(content)
    done = run_grader([tmp_path / "submitted"], tmp_path / "out", 1)
    assert done.returncode == 1, done.stderr
    assert "bob" in done.stderr and "not graded" in done.stderr and "1 notebook(s) could not be graded" in done.stderr
    data = json.loads((tmp_path / "out" / "bob" / a.name / f"{a.stem}.json").read_text())
    assert data["score"] == 0 and "could not be read" in data["output"]
    assert json.loads((tmp_path / "out" / "alice" / a.name / f"{a.stem}.json").read_text())["score"] == a.max_score
    assert good.exists()


@pytest.mark.parametrize("kind", ["file", "read-only"])
def test_a_bad_out_stops_before_grading(tmp_path, kind):
    a = ASSIGNMENTS["05_multiclass"]
    write(filled_release(COURSE, a), tmp_path / "alice" / a.name / a.notebook)
    if kind == "file":
        out = tmp_path / "out"
        out.write_text("a file")
    else:
        out = Path("/proc/autograder-results")  # read-only even for root
    done = run_grader([tmp_path / "alice"], out, 1)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "error:" in done.stderr, done.stderr
    assert "results folder" in done.stderr or "is a file" in done.stderr
