"""Two audiences, two contents: what `pip install .` gives students, and grading from a regular install.

The distribution (wheel and sdist) holds the engine and the self-checks, and none of the course: no hidden test,
solution, catalog, source or release notebook, no course secret. Installed non-editable in a fresh virtual
environment, the kit runs a release notebook's self-checks, and grades with `--course DIR` exactly as the
checkout does.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.grading.course import Course
from autograder.authoring.fill import filled_release, write
from conftest import COURSE, REPO, bare_venv
from dist_support import SECRET, built_dist, wheel

pytestmark = pytest.mark.slow

COURSE_CONTENT = ("hidden/", "solutions/", "catalog/", "source/", "release/", "examples/", "tests/", "tools/")
SITE = Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    return built_dist(tmp_path_factory)  # one build per session, shared with tests/test_no_answers.py


def _wheel(dist: Path) -> Path:
    return wheel(dist)


def _members(dist: Path) -> dict[str, list[str]]:
    (sdist,) = dist.glob("*.tar.gz")
    with zipfile.ZipFile(_wheel(dist)) as z:
        wheel = z.namelist()
    with tarfile.open(sdist) as t:
        source = [name.split("/", 1)[1] for name in t.getnames() if "/" in name]
    return {"wheel": wheel, "sdist": source}


@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_distribution_holds_the_engine_only(dist, kind):
    """The engine and the self-checks' runtime, and no module, string or data of any assignment: the self-checks
    of a course reach students with its release folder (a new assignment never needs a new wheel)."""
    names = _members(dist)[kind]
    assert "autograder/cli/__init__.py" in names and "autograder/sandbox/zygote.py" in names
    assert "autograder/selfcheck/__init__.py" in names and "autograder/selfcheck/declared.py" in names
    per_assignment = [n for n in names for a in COURSE.assignments.values()
                      if Path(n).stem in (a.stem, f"{a.stem}_selfcheck", a.name) or a.name in n]
    assert not per_assignment, f"per-assignment modules in the {kind}: {per_assignment}"
    leaked = [n for n in names if n.startswith(COURSE_CONTENT) or "/hidden/" in n or n.endswith(".ipynb")
              or ".autograder-secret" in n or Path(n).name.startswith("test_")]
    assert not leaked, f"course content in the {kind}: {leaked}"
    strings = {s for text in _texts(dist, kind) for s in _string_constants(text)}
    blanks = [b for a in COURSE.assignments.values() for b in (a.name, *a.blanks) if b in strings]
    assert not blanks, f"the {kind}'s engine names assignments or blanks of the course: {blanks}"


def _texts(dist: Path, kind: str) -> list[str]:
    """The text of every Python file of the wheel or the sdist."""
    if kind == "wheel":
        with zipfile.ZipFile(_wheel(dist)) as z:
            return [z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".py")]
    (archive,) = dist.glob("*.tar.gz")
    with tarfile.open(archive) as t:
        return [t.extractfile(m).read().decode("utf-8", "replace") for m in t.getmembers()
                if m.isfile() and m.name.endswith(".py") and "/autograder/" in m.name]


def _string_constants(source: str) -> set[str]:
    """The strings a module's code uses (its docstrings, which may give an example, left out)."""
    import ast

    tree = ast.parse(source)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings}


def test_no_course_secret_and_no_reference_code_inside(dist):
    secret = SECRET
    with zipfile.ZipFile(_wheel(dist)) as z:
        texts = {n: z.read(n).decode("utf-8", "replace") for n in z.namelist()}
    assert not [n for n, t in texts.items() if secret in t]
    # Words that only hidden tests and solutions contain: the reference's and the tests' own definitions.
    for a in COURSE.assignments.values():
        hidden = COURSE.hidden_tests(a).read_text()
        names = [line.split("(")[0][4:] for line in hidden.splitlines() if line.startswith("def test_")]
        assert names and not [n for n, t in texts.items() if any(f"def {name}(" in t for name in names)]


def test_engine_has_no_default_secret(tmp_path, monkeypatch):
    """Without --secret or $AUTOGRADER_SECRET a course makes its own random secret, once, readable only by its owner."""
    monkeypatch.delenv("AUTOGRADER_SECRET", raising=False)
    for course in (tmp_path / "a", tmp_path / "b"):
        shutil.copytree(REPO / "release", course / "release")
    one, two = Course.load(tmp_path / "a"), Course.load(tmp_path / "b")
    first = one.secret()
    assert first == one.secret() != two.secret() and len(first) >= 32
    assert (tmp_path / "a" / ".autograder-secret").stat().st_mode & 0o077 == 0
    assert one.secret("given") == "given"
    monkeypatch.setenv("AUTOGRADER_SECRET", "from-env")
    assert one.secret() == "from-env"


# -- a student's and an instructor's regular install ------------------------------------------------------------
@pytest.fixture(scope="module")
def fresh(dist, tmp_path_factory) -> Path:
    """A fresh virtual environment with the kit's wheel installed (not editable). Its dependencies (torch, ...)
    come from this environment's site-packages by a .pth line, which also keeps the checkout off its path."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    bare_venv(venv)
    site = venv / "lib" / SITE.parent.name / "site-packages"
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                           "--quiet", "--no-deps", "--no-index", str(_wheel(dist))],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    where = subprocess.run([str(venv / "bin" / "python"), "-c", "import autograder; print(autograder.__file__)"],
                           capture_output=True, text=True, cwd=venv, check=True).stdout.strip()
    assert where.startswith(str(site)), f"the fresh venv imports the kit from {where}, not from its install"
    return venv


def test_student_runs_the_self_checks_in_a_release_notebook(fresh, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    spec = tmp_path / "jupyter" / "kernels" / "fresh"
    spec.mkdir(parents=True)
    argv = [str(fresh / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "fresh", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    a = COURSE.find("02_linear_regression")
    folder = tmp_path / "student"
    shutil.copytree(COURSE.release(a), folder)
    nb = filled_release(COURSE, a)
    NotebookClient(nb, kernel_name="fresh", timeout=120, resources={"metadata": {"path": str(folder)}}).execute()
    checks = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith("from autograder.selfcheck")]
    outputs = ["".join(o.get("text", "") for o in c.outputs) for c in checks]
    assert len(outputs) == len(a.blanks)
    assert all("all self-checks pass" in text for text in outputs), outputs


def _grade(python: Path, course: Path, submitted: Path, out: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), "-m", "autograder", "grade", str(submitted), "--course", str(course),
                           "--out", str(out), "--jobs", "2", "--quiet"],
                          capture_output=True, text=True, cwd=cwd, timeout=600)


def test_regular_install_grades_like_the_checkout(fresh, tmp_path):
    course = tmp_path / "course"  # a course directory apart from the checkout, as an unpacked bundle is
    for part in ("release", "hidden", "solutions"):
        shutil.copytree(REPO / part, course / part)
    (course / ".autograder-secret").write_text("same-secret-for-both\n")
    submitted = tmp_path / "submitted"
    shutil.copytree(REPO / "examples" / "submitted", submitted)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    installed = _grade(fresh / "bin" / "python", course, submitted, tmp_path / "installed", elsewhere)
    assert installed.returncode == 0, installed.stderr[-3000:]
    checkout = _grade(Path(sys.executable), course, submitted, tmp_path / "checkout", elsewhere)
    assert checkout.returncode == 0, checkout.stderr[-3000:]
    files = sorted(p.relative_to(tmp_path / "checkout") for p in (tmp_path / "checkout").rglob("*.json"))
    assert len(files) == 3 * len(COURSE.assignments)
    for rel in files:
        assert (tmp_path / "installed" / rel).read_text() == (tmp_path / "checkout" / rel).read_text(), rel
    alice = [json.loads((tmp_path / "installed" / rel).read_text()) for rel in files if rel.parts[0] == "alice"]
    assert all(r["score"] == r["max_score"] > 0 for r in alice)


def test_grading_without_a_course_says_so_in_one_line(fresh, tmp_path):
    notebook = tmp_path / "linear_regression.ipynb"
    write(nbformat.v4.new_notebook(), notebook)
    done = subprocess.run([str(fresh / "bin" / "python"), "-m", "autograder", "grade", str(notebook)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--course" in done.stderr, done.stderr
