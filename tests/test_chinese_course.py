"""The course in Chinese, end to end: a copy of the course set to zh_CN (course.toml), its release built from the same
source/ and the catalogue with nbgrader's generate_assignment, graded by the same hidden tests: the same marks as the
English course for the same code, Chinese feedback, nbgrader's Validate and autograde, and a Gradescope bundle that
answers in Chinese."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.fill import filled_release, release_notebook, write
from autograder.grading.course import Course
from conftest import ASSIGNMENTS, REPO

pytestmark = pytest.mark.slow
CJK = re.compile(r"[\u3400-\u9fff]")
ENV = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "OMP_NUM_THREADS": "1"}
ENV.pop("AUTOGRADER_SELFCHECK_PATH", None)


def course_in(language: str, root: Path, secret: str, *assignments: str) -> Course:
    """A copy of this course at ``root`` set to ``language`` (course.toml), its release built in that language (every
    assignment, or those named)."""
    for part in ("release", "hidden", "solutions", "source", "locale"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy2(REPO / "nbgrader_config.py", root)
    (root / "course.toml").write_text(f'[course]\nlanguage = "{language}"\n')
    (root / ".autograder-secret").write_text(f"{secret}\n")
    done = subprocess.run([sys.executable, "-m", "autograder", "build", "--course", str(root), *assignments],
                          capture_output=True, text=True, env=ENV, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return Course.load(root, fresh=True)


@pytest.fixture(scope="module")
def chinese(tmp_path_factory) -> Course:
    return course_in("zh_CN", tmp_path_factory.mktemp("zh") / "course", "same-secret")


def markdown(nb: nbformat.NotebookNode) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def test_the_release_is_built_in_chinese(chinese):
    for a in ASSIGNMENTS.values():
        zh = release_notebook(chinese, a)
        en = nbformat.read(REPO / "release" / a.name / a.notebook, as_version=4)
        assert len(zh.cells) == len(en.cells)
        assert all(CJK.search(text) for text in markdown(zh)), a.name
        for z, e in zip(zh.cells, en.cells):
            unsummed = lambda cell: {**cell.metadata, "nbgrader": {  # noqa: E731  (a translated comment, a new sum)
                k: v for k, v in cell.metadata.get("nbgrader", {}).items() if k != "checksum"}}
            assert z.cell_type == e.cell_type and unsummed(z) == unsummed(e)
            if z.cell_type == "code":  # the code as it is; only its comments translated
                strip = lambda s: [line.split("#")[0].rstrip() for line in s.splitlines()]  # noqa: E731
                assert strip(z.source) == strip(e.source), (a.name, e.source[:200])
        assert (chinese.release(a) / "locale" / "zh_CN" / "LC_MESSAGES" / "course.po").is_file()


def grade(course_root: Path, submitted: Path, out: Path) -> dict[tuple[str, str], dict]:
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--course", str(course_root),
                           "--out", str(out), "--jobs", "2", "--quiet", "--no-report", "--secret", "same-secret"],
                          capture_output=True, text=True, env=ENV, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return {(p.parent.parent.name, p.parent.name): json.loads(p.read_text()) for p in out.glob("*/*/*.json")}


def students(course: Course, root: Path) -> Path:
    """In ``course``'s own release: a right student, one with a known mistake in every other blank, an untouched."""
    from autograder.authoring.catalog import load_catalog

    for a in course.assignments.values():
        mistakes = {}
        for m in load_catalog(course, a, REPO / "catalog").MISTAKES:
            if m.blank in list(a.blanks)[::2]:
                mistakes.setdefault(m.blank, m.code)
        write(filled_release(course, a), root / "right" / a.name / a.notebook)
        write(filled_release(course, a, mistakes), root / "wrong" / a.name / a.notebook)
        write(release_notebook(course, a), root / "untouched" / a.name / a.notebook)
    return root


def test_same_marks_as_the_english_course_and_chinese_feedback(chinese, tmp_path):
    english = Course.load(REPO)
    en = grade(REPO, students(english, tmp_path / "en"), tmp_path / "graded-en")
    zh = grade(chinese.root, students(chinese, tmp_path / "zh"), tmp_path / "graded-zh")
    assert sorted(en) == sorted(zh)
    for key in en:
        marks = lambda d: {t["name"].split(":")[0]: 0 for t in d["tests"]} | {  # noqa: E731
            b: sum(t["score"] for t in d["tests"] if b in t["tags"]) for b in {t["tags"][0] for t in d["tests"]}}
        assert marks(en[key]) == marks(zh[key]), key
        failing = [t["output"] for t in zh[key]["tests"] if t["score"] < t["max_score"]]
        assert all(CJK.search(o) for o in failing), [o for o in failing if not CJK.search(o)][:3]


def test_nbgrader_validates_and_autogrades_the_chinese_release(chinese, tmp_path):
    a = ASSIGNMENTS["02_linear_regression"]
    right = write(filled_release(chinese, a), tmp_path / "right" / a.notebook)
    shutil.copytree(chinese.release(a), tmp_path / "right", dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.ipynb"))
    write(filled_release(chinese, a), right)
    done = subprocess.run(["nbgrader", "validate", str(right)], capture_output=True, text=True, env=ENV, timeout=600,
                          cwd=right.parent)
    assert "Success! Your notebook passes all the tests." in done.stdout, done.stdout[-2000:]
    untouched = write(release_notebook(chinese, a), tmp_path / "right" / "untouched.ipynb")
    done = subprocess.run(["nbgrader", "validate", str(untouched)], capture_output=True, text=True, env=ENV,
                          timeout=600, cwd=untouched.parent)
    assert "Success!" not in done.stdout and CJK.search(done.stdout), done.stdout[-2000:]


def test_the_gradescope_bundle_answers_in_chinese(chinese, tmp_path):
    a = ASSIGNMENTS["05_multiclass"]
    done = subprocess.run([sys.executable, "-m", "autograder", "gradescope", a.name, "--course", str(chinese.root),
                           "--out", str(tmp_path / "autograder.zip")], capture_output=True, text=True, env=ENV,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    shutil.unpack_archive(tmp_path / "autograder.zip", tmp_path / "source")
    (tmp_path / "submission").mkdir()
    from autograder.authoring.catalog import load_catalog

    wrong = next(m for m in load_catalog(chinese, a, REPO / "catalog").MISTAKES if m.blank == "softmax")
    write(filled_release(chinese, a, {"softmax": wrong.code}), tmp_path / "submission" / a.notebook)
    results = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "autograder", "gradescope-run", "--bundle", str(tmp_path / "source"),
                           "--submission", str(tmp_path / "submission"), "--results", str(results)],
                          capture_output=True, text=True, env=ENV, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(results.read_text())
    failing = [t["output"] for t in data["tests"] if t["score"] < t["max_score"]]
    assert failing and all(CJK.search(o) for o in failing), failing[:3]


def test_a_chinese_students_self_checks_speak_chinese(chinese):
    """In the Chinese release folder (its notebook's working folder), check() and require() read the catalogue
    beside the notebook: the verdict, every check's title and every hint in Chinese; the code and numbers as they
    are."""
    a = ASSIGNMENTS["02_linear_regression"]
    script = ("import torch\n"
              "from autograder.selfcheck import check, require\n"
              "def mse_grads(x, y, w, b):\n"
              "    r = x * w + b - y\n"
              "    return (x * r).mean().reshape(1), r.mean().reshape(1)\n"
              "check(mse_grads)\n"
              "require(mse_grads)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=chinese.release(a), capture_output=True, text=True,
                          env=ENV, timeout=300)
    assert done.returncode != 0 and "SelfCheckFailed" in done.stderr, done.stderr[-2000:]
    verdicts = [line for line in done.stdout.splitlines() if line.strip()]  # check(): the verdict, titles, hints
    assert len(verdicts) > 3 and all(CJK.search(line) for line in verdicts), verdicts
    failure = done.stderr.split("SelfCheckFailed: ", 1)[1].splitlines()  # require(): what nbgrader's Validate shows
    assert failure and all(CJK.search(line) for line in failure) and "：" in failure[1], failure
    english = subprocess.run([sys.executable, "-c", script], cwd=REPO / "release" / a.name, capture_output=True,
                             text=True, env=ENV, timeout=300)
    assert not CJK.search(english.stdout + english.stderr) and "some self-checks fail" in english.stdout


def test_one_command_makes_a_chinese_release_of_an_english_course(chinese, tmp_path):
    """`build --language zh_CN --out DIR` on the English course: the same Chinese notebooks as the Chinese course's
    release, the English release/ left as it is."""
    root = tmp_path / "course"
    for part in ("release", "hidden", "solutions", "source", "locale"):
        shutil.copytree(REPO / part, root / part)
    shutil.copy2(REPO / "nbgrader_config.py", root)
    before = {p: p.read_bytes() for p in (root / "release").rglob("*") if p.is_file()}
    done = subprocess.run([sys.executable, "-m", "autograder", "build", "--course", str(root), "--language", "zh_CN",
                           "--out", str(tmp_path / "release-zh_CN")], capture_output=True, text=True, env=ENV,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {p: p.read_bytes() for p in (root / "release").rglob("*") if p.is_file()} == before
    for a in ASSIGNMENTS.values():
        made = nbformat.read(tmp_path / "release-zh_CN" / a.name / a.notebook, as_version=4)
        assert [c.source for c in made.cells] == [c.source for c in release_notebook(chinese, a).cells], a.name
