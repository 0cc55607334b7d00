"""The authoring guide (docs/authoring.md), followed literally on a copy of the course: a seventh assignment from
`new` to check-course, three students graded, a Gradescope bundle that grades inside, nbgrader's autograde. Adding
it touches no file under autograder/ and no list anywhere."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.slow
GUIDE = REPO / "docs" / "authoring.md"
BLOCK = re.compile(r"^```(sh|python)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def steps() -> list[tuple[str, str]]:
    """The guide's blocks in order: ("sh", commands) and ("file", path + contents)."""
    out = []
    for kind, body in BLOCK.findall(GUIDE.read_text()):
        if kind == "sh":
            out.append(("sh", body))
        elif body.startswith("# file: "):
            out.append(("file", body))
    return out


@pytest.fixture(scope="module")
def walked(tmp_path_factory):
    """The guide's steps run in a copy of the course; what each command printed."""
    course = tmp_path_factory.mktemp("guide") / "course"
    for part in ("release", "hidden", "solutions", "source", "catalog"):
        shutil.copytree(REPO / part, course / part)
    shutil.copy2(REPO / "nbgrader_config.py", course)
    (course / ".autograder-secret").write_text("guide-secret\n")
    engine_before = _tree(REPO / "autograder")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("AUTOGRADER_SELFCHECK_PATH", None)
    env.pop("AUTOGRADER_COURSE", None)
    ran = []
    for kind, body in steps():
        if kind == "file":
            first, rest = body.split("\n", 1)
            target = course / first.removeprefix("# file: ").strip()
            target.write_text(rest)
            continue
        for command in [line for line in body.splitlines() if line.strip()]:
            done = subprocess.run(command, shell=True, cwd=course, env=env, capture_output=True, text=True,
                                  timeout=900)
            ran.append((command, done))
            assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return {"course": course, "ran": ran, "engine_before": engine_before}


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.py"))}


def test_the_guide_runs_what_the_issue_asks():
    commands = [line for kind, body in steps() if kind == "sh" for line in body.splitlines() if line.strip()]
    heads = [" ".join(c.split()[:4]) for c in commands]
    for wanted in ("python -m autograder new", "python -m autograder check-course", "python -m autograder grade",
                   "python -m autograder gradescope", "nbgrader autograde 07_clipping"):
        assert any(h.startswith(wanted) for h in heads), wanted


def test_new_assignment_is_built_and_proved(walked):
    course = walked["course"]
    assert (course / "release" / "07_clipping" / "clipping.ipynb").is_file()
    data = json.loads((course / "release" / "07_clipping" / "clipping_selfcheck.json").read_text())
    assert set(data["blanks"]) == {"clip_below"}
    check = next(done for command, done in walked["ran"] if "check-course" in command)
    assert "check-course: 0 finding(s) in 07_clipping" in check.stdout
    row = re.search(r"clip_below\s+(\d+)\s+(\d+)\s+\d+%", check.stdout)
    assert row and int(row.group(1)) >= 5, check.stdout[-2000:]  # the mutants graded; every survivor equivalent
    survivors = int(row.group(1)) - int(row.group(2))
    assert check.stdout.count("equivalent (the reference's results on every hidden input): clip_below") == survivors


def test_three_students_graded(walked):
    graded = walked["course"] / "graded"
    scores = {s: json.loads((graded / s / "07_clipping" / "clipping.json").read_text())["score"]
              for s in ("ada", "ben", "cal")}
    assert scores == {"ada": 2.0, "ben": 0.0, "cal": 0.0}
    ben = json.loads((graded / "ben" / "07_clipping" / "clipping.json").read_text())
    assert "the comparison is the wrong way round" in " ".join(t["output"] for t in ben["tests"])
    assert (graded / "ada" / "07_clipping" / "clipping.html").is_file() and (graded / "report.html").is_file()


def test_gradescope_bundle_grades_inside(walked, tmp_path):
    course = walked["course"]
    bundle = tmp_path / "source"
    shutil.unpack_archive(course / "autograder.zip", bundle)
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy2(course / "submitted" / "ada" / "07_clipping" / "clipping.ipynb", submission)
    results = tmp_path / "results" / "results.json"
    done = subprocess.run([sys.executable, "-m", "autograder", "gradescope-run", "--bundle", str(bundle),
                           "--submission", str(submission), "--results", str(results)],
                          capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(results.read_text())["score"] == 2.0


def test_nbgrader_autograded_it(walked):
    course = walked["course"]
    autograded = course / "autograded" / "ada" / "07_clipping" / "clipping.ipynb"
    assert autograded.is_file()
    cells = json.loads(autograded.read_text())["cells"]
    test_cell = next(c for c in cells if c["metadata"].get("nbgrader", {}).get("grade_id") == "test_clip_below")
    assert test_cell["metadata"]["nbgrader"]["points"] == 2


def test_no_engine_file_changed(walked):
    assert _tree(REPO / "autograder") == walked["engine_before"]
