"""The course as a whole: notebooks agree with course.py and solutions/, release/ is fresh, the source notebooks run.

(a) every blank has its solution cell (AST-identical to solutions/), its self-check cell and its hidden cell with
    course.py's points; (b) release/ equals what `python -m autograder build` generates now; (c) every source notebook runs
    top to bottom. Assignments whose source notebook does not exist yet are skipped. Real nbgrader (autograde on the
    sandboxed engine, validate, feedback, export) is tests/test_nbgrader.py.
"""
from __future__ import annotations

import ast
import importlib
import importlib.util
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.authoring import build
from conftest import ASSIGNMENTS, COURSE, REPO


PRESENT = build.with_source(COURSE)
PER_ASSIGNMENT = [
    pytest.param(name, marks=pytest.mark.skipif(name not in PRESENT, reason=f"no source notebook for {name} yet"))
    for name in ASSIGNMENTS
]
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def source_notebook(name: str) -> nbformat.NotebookNode:
    return nbformat.read(REPO / "source" / name / ASSIGNMENTS[name].notebook, as_version=4)


def graded_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    """The cells that carry nbgrader metadata, by grade_id."""
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if "nbgrader" in c.metadata}


def without_markers(source: str) -> str:
    """A solution cell as a student would write it: the solution markers removed."""
    return "\n".join(line for line in source.splitlines() if line.strip() not in MARKERS)


def definition(code: str, name: str) -> ast.AST | None:
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return node
    return None


def kernel_env(monkeypatch) -> None:
    """Kernels and nbgrader started from here import the repository's autograder and find nbgrader's `alembic`."""
    for key, value in build.nbgrader_env().items():
        if key == "PATH":
            monkeypatch.setenv(key, value)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p] + [str(REPO)]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))


# ------------------------------------------------------------------------------------------ (a) notebook structure
@pytest.mark.parametrize("name", PER_ASSIGNMENT)
def test_solution_cells_define_the_reference_code(name):
    a = ASSIGNMENTS[name]
    cells = graded_cells(source_notebook(name))
    reference = Path(importlib.import_module(f"solutions.{a.stem}").__file__).read_text()
    for blank in a.blanks:
        assert blank in cells, f"{name}: no cell with grade_id {blank}"
        meta = cells[blank].metadata["nbgrader"]
        assert (meta.get("solution"), meta.get("grade"), meta.get("locked")) == (True, False, False), \
            f"{name}: cell {blank} is not an unlocked nbgrader solution cell"
        assert all(m in cells[blank].source for m in MARKERS), f"{name}: cell {blank} has no solution markers"
        mine = definition(without_markers(cells[blank].source), blank)
        assert mine is not None, f"{name}: cell {blank} does not define {blank}"
        theirs = definition(reference, blank)
        assert theirs is not None, f"solutions/{a.stem}.py does not define {blank}"
        assert ast.dump(mine) == ast.dump(theirs), \
            f"{name}: the solution cell {blank} has drifted from solutions/{a.stem}.py"


@pytest.mark.parametrize("name", PER_ASSIGNMENT)
def test_self_check_and_hidden_cells(name):
    a = ASSIGNMENTS[name]
    cells = graded_cells(source_notebook(name))
    for blank, points in a.blanks.items():
        check = cells.get(f"check_{blank}")
        assert check is not None, f"{name}: no self-check cell check_{blank}"
        assert check.metadata["nbgrader"].get("locked") and not check.metadata["nbgrader"].get("grade")
        assert check.source == f"from autograder.selfcheck import check\ncheck({blank})"

        test = cells.get(f"test_{blank}")
        assert test is not None, f"{name}: no hidden test cell test_{blank}"
        meta = test.metadata["nbgrader"]
        assert meta.get("grade") and meta.get("locked") and not meta.get("solution"), f"{name}: test_{blank} metadata"
        assert meta.get("points") == points, f"{name}: test_{blank} has {meta.get('points')} points, course.py {points}"
        assert test.source == (
            f"# Self-checks of {blank}, for Validate (it fails while one fails).\n"
            "# Hidden tests run when your submission is graded.\n"
            f"from autograder.selfcheck import require\nrequire({blank})\n### BEGIN HIDDEN TESTS\n"
            f"from autograder.platforms.nbgrader_hidden import grade_blank\ngrade_blank(\"{blank}\", globals())\n"
            "### END HIDDEN TESTS"
        )
    graded = {gid for gid, c in cells.items() if c.metadata["nbgrader"].get("grade")}
    assert graded == {f"test_{b}" for b in a.blanks}, f"{name}: graded cells other than the blanks' hidden tests"


# ---------------------------------------------------------------------------------------------- (b) release fresh
@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("release")
    build.generate_release(REPO, PRESENT, out)
    return out


def _cells(path: Path) -> list[tuple]:
    nb = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, c.metadata) for c in nb.cells]


@pytest.mark.slow
@pytest.mark.parametrize("name", PER_ASSIGNMENT)
def test_release_is_not_stale(name, fresh_release):
    committed, fresh = REPO / "release" / name, fresh_release / name
    assert committed.is_dir(), f"release/{name} is missing: run python -m autograder build"
    files = sorted(p.relative_to(fresh) for p in fresh.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(committed) for p in committed.rglob("*") if p.is_file()), \
        f"release/{name} has other files than a fresh build: run python -m autograder build {name}"
    for rel in files:
        if rel.suffix == ".ipynb":
            assert _cells(committed / rel) == _cells(fresh / rel), \
                f"release/{name}/{rel} is stale: run python -m autograder build {name}"
        else:
            assert (committed / rel).read_bytes() == (fresh / rel).read_bytes(), f"release/{name}/{rel} is stale"


# ----------------------------------------------------------------------------------------- (c) notebooks run
@pytest.mark.slow
@pytest.mark.parametrize("name", PER_ASSIGNMENT)
def test_source_notebook_runs(name, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    kernel_env(monkeypatch)
    folder = tmp_path / name
    shutil.copytree(REPO / "source" / name, folder, ignore=build.IGNORE)  # the notebook may write files
    nb = source_notebook(name)
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(folder)}}).execute()
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            stderr = [o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
            assert not stderr, f"{name}: hidden cell {meta['grade_id']} wrote to stderr (nbgrader scores it 0): {stderr}"
