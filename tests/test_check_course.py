"""check-course proves a course before release: malformed markers found in a seeded source notebook, named by the
cell as JupyterLab shows it; a weak hidden test found by the trivial answers and the mutation audit; the course
itself passes (with a sample of the mutation audit; `python -m autograder check-course` grades every mutant)."""
from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.check_course import prove
from autograder.authoring.markers import source_findings
from autograder.grading.course import Course
from conftest import ASSIGNMENTS, COURSE, REPO

LR = ASSIGNMENTS["02_linear_regression"]


def seeded(tmp_path: Path, change) -> list[str]:
    """The findings in a copy of 02's source notebook after ``change(cells)``."""
    nb = nbformat.read(REPO / "source" / LR.name / LR.notebook, as_version=4)
    change(nb.cells)
    path = tmp_path / LR.notebook
    nbformat.write(nb, path)
    return [str(f) for f in source_findings(path, f"source/{LR.name}/{LR.notebook}")[0]]


def cell_of(cells, grade_id: str):
    return next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def code_prompt(cells, grade_id: str) -> str:
    code = [c for c in cells if c.cell_type == "code"]
    return f"cell [{code.index(cell_of(cells, grade_id)) + 1}]"


def test_the_course_notebooks_have_no_marker_finding():
    for a in ASSIGNMENTS.values():
        found, blanks = source_findings(REPO / "source" / a.name / a.notebook, a.name)
        assert not found and sorted(blanks) == sorted(a.blanks), found


def test_a_solution_cell_without_its_markers(tmp_path):
    def change(cells):
        cell = cell_of(cells, "mse_loss")
        cell.source = cell.source.replace("    ### BEGIN SOLUTION\n", "").replace("    ### END SOLUTION\n", "")
    nb = nbformat.read(REPO / "source" / LR.name / LR.notebook, as_version=4)
    found = seeded(tmp_path, change)
    assert len(found) == 1 and f"{code_prompt(nb.cells, 'mse_loss')}: solution cell 'mse_loss' has 0" in found[0]
    assert found[0].startswith(f"source/{LR.name}/{LR.notebook}: cell [")


def test_a_test_cell_without_points_and_a_blank_without_a_test(tmp_path):
    def change(cells):
        del cell_of(cells, "test_mse_loss").metadata["nbgrader"]["points"]
        cell_of(cells, "test_mse_grads").metadata["nbgrader"]["grade_id"] = "test_of_nothing"
    found = seeded(tmp_path, change)
    assert any("test cell 'test_mse_loss' has no points" in f for f in found)
    assert any("blank 'mse_grads' has no test cell test_mse_grads" in f for f in found)
    assert any("test cell 'test_of_nothing' is for no blank" in f for f in found)


def test_a_misspelled_marker_and_markers_outside_a_solution_cell(tmp_path):
    def change(cells):
        cell = cell_of(cells, "linear_model")
        cell.source = cell.source.replace("### END SOLUTION", "### END SOLUTOIN")
        cell_of(cells, "check_linear_model").source += "\n### BEGIN SOLUTION\n### END SOLUTION\n"
    found = seeded(tmp_path, change)
    assert any("`### END SOLUTOIN` looks like the marker `### END SOLUTION` misspelled" in f for f in found)
    assert any("has solution markers but is not a solution cell" in f for f in found)


def test_a_grade_id_that_is_not_the_name_defined(tmp_path):
    def change(cells):
        cell_of(cells, "linear_model").source = cell_of(cells, "linear_model").source.replace(
            "def linear_model(", "def predict(")
    assert any("solution cell 'linear_model' does not define linear_model" in f for f in seeded(tmp_path, change))


@pytest.mark.slow
def test_a_weak_hidden_test_is_found(tmp_path):
    """A course whose linear_model tests only check the shape: the trivial answers earn points, mutants survive,
    and check-course says so, file by file."""
    for part in ("release", "hidden", "solutions", "source"):
        shutil.copytree(REPO / part, tmp_path / part)
    shutil.copy2(REPO / "nbgrader_config.py", tmp_path)
    weak = '''


@pytest.mark.blank("linear_model", points=1)
def test_shape(sub, rng):
    """returns a tensor of shape (N, 1)"""
    from autograder.grading.compare import expect, judged
    out = sub.call("linear_model", torch.randn(5, 1, generator=rng), torch.randn(1, generator=rng),
                   torch.randn(1, generator=rng))
    expect(out, "predictions").tensor(shape=(5, 1))
    judged()
'''
    hidden = tmp_path / "hidden" / "test_02_linear_regression.py"
    text = hidden.read_text()
    for name in ("test_linear_model_values", "test_linear_model_one_point", "test_linear_model_gradients",
                 "test_linear_model_leaves_inputs"):  # no longer collected: only the weak test judges linear_model
        text = text.replace(f"def {name}(", f"def unused_{name}(")
    hidden.write_text(text + weak)
    course = Course.load(tmp_path, fresh=True)
    proof = prove(course, [course.assignments[LR.name]], "weak-secret", jobs=2, mutants=3, say=lambda text: None)
    said = [str(f) for f in proof.findings]
    assert any("an answer to 'linear_model' that returns zeros earns" in f for f in said), said
    assert any("a mutant of linear_model keeps full marks" in f for f in said), said
    assert proof.mutation["linear_model"].score < 1


@pytest.mark.slow
def test_the_course_passes_with_a_sample_of_mutants():
    proof = prove(COURSE, list(ASSIGNMENTS.values()), "check-course-secret", jobs=2, mutants=2, say=lambda t: None)
    assert not proof.findings, "\n".join(map(str, proof.findings))
    assert set(proof.mutation) == {b for a in ASSIGNMENTS.values() for b in a.blanks}
