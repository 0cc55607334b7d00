"""`nbgrader autograde` on a clean class prints no warning; a student who edited a test cell still gets nbgrader's.

nbgrader stores each source cell in the gradebook before it removes the hidden tests from the release, so its
OverwriteCells found every untouched test cell "changed" (nbgrader issue #1961: one warning per test cell per
student), and SQLAlchemy warned about nbgrader's gradebook sessions three times per student. The course's
`nbgrader_config.py` replaces OverwriteCells by `RestoreHiddenTests` and filters that one SQLAlchemy warning.

The slow tests run the README's nbgrader commands verbatim (`generate_assignment`, `autograde` of
02_linear_regression) on a fresh copy of the repository with a correct, a wrong and an untouched student, then
again once a fourth student, who edited the visible part of a test cell, has submitted.
"""
from __future__ import annotations

import re
import warnings

import nbformat
import pytest

from autograder.authoring.fill import write
from autograder.platforms.nbgrader_preprocessor import RestoreHiddenTests
from conftest import REPO
from test_nbgrader import LR, copy_tracked, environment, readme_commands, shell, student_notebook

CLEAN = ("correct", "wrong", "untouched")
NOISE = re.compile(r"warn|checksum", re.IGNORECASE)  # nbgrader's WARNING lines, Python's SAWarning, UserWarning...


def edited_test_cell(blank: str) -> nbformat.NotebookNode:
    """The untouched release notebook, with one line added to ``blank``'s test cell."""
    nb = student_notebook(LR, "untouched")
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == f"test_{blank}"]
    cell.source += "\nprint('my own test')"
    return nb


@pytest.fixture(scope="module")
def autograded(tmp_path_factory):
    root = tmp_path_factory.mktemp("nbgrader-clean-class") / "course"
    copy_tracked(root)
    env, log = environment(root), []
    one, _ = readme_commands()
    generate, autograde = one[0], one[1]
    assert generate.startswith("nbgrader generate_assignment 02_linear_regression")
    assert autograde.startswith("nbgrader autograde 02_linear_regression")
    for kind in CLEAN:
        write(student_notebook(LR, kind), root / "submitted" / kind / LR.name / LR.notebook)
    shell(generate, root, env, log)
    clean = shell(autograde, root, env, log)
    write(edited_test_cell("mse_grads"), root / "submitted" / "edited" / LR.name / LR.notebook)
    edited = shell(autograde, root, env, log)  # nbgrader autogrades the new submission only
    return {"root": root, "clean": clean, "edited": edited}


@pytest.mark.slow
def test_a_clean_class_autogrades_without_a_warning(autograded):
    out = autograded["clean"]
    assert "Autograding" in out and out.count("Writing") >= len(CLEAN), out[-3000:]
    noise = [line for line in out.splitlines() if NOISE.search(line)]
    assert noise == [], "\n".join(noise)


@pytest.mark.slow
def test_an_edited_test_cell_still_gets_nbgraders_warning(autograded):
    out = autograded["edited"]
    noise = [line for line in out.splitlines() if NOISE.search(line)]
    assert len(noise) == 1 and "Attribute 'checksum' for cell test_mse_grads has changed" in noise[0], noise
    assert "SAWarning" not in out
    graded = nbformat.read(autograded["root"] / "autograded" / "edited" / LR.name / LR.notebook, as_version=4)
    (cell,) = [c for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_mse_grads"]
    assert "my own test" not in cell.source  # nbgrader put the course's cell back, as ever


# ------------------------------------------------------------------------------------------ in isolation, fast
class _SourceCell:
    def __init__(self, source: str, locked: bool = True, cell_type: str = "code"):
        self.source, self.locked, self.cell_type = source, locked, cell_type


class _Gradebook:
    def __init__(self, cells: dict[str, _SourceCell]):
        self.cells = cells

    def find_source_cell(self, grade_id: str, notebook: str, assignment: str) -> _SourceCell:
        return self.cells[grade_id]


SOURCE = ("# visible\nrequire(f)\n### BEGIN HIDDEN TESTS\n"
          "from autograder.platforms.nbgrader_hidden import grade_blank\ngrade_blank('f', globals())\n"
          "### END HIDDEN TESTS")


def restore(source: str, cells: dict[str, _SourceCell]) -> str | None:
    step = RestoreHiddenTests()
    step.gradebook, step.notebook_id, step.assignment_id = _Gradebook(cells), "nb", "a1"
    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade_id": "test_f", "grade": True,
                                                                    "locked": True, "points": 1}})
    return step._source_if_released_as_is(cell)


def test_the_released_cell_gets_its_hidden_part_back():
    assert restore("# visible\nrequire(f)", {"test_f": _SourceCell(SOURCE)}) == SOURCE


@pytest.mark.parametrize("submitted", ["# visible\nrequire(f)\nprint('mine')", "require(f)", SOURCE + "\n"])
def test_an_edited_cell_is_left_to_nbgraders_comparison(submitted):
    assert restore(submitted, {"test_f": _SourceCell(SOURCE)}) is None


def test_cells_without_hidden_tests_or_unlocked_are_left_alone():
    assert restore("require(f)", {"test_f": _SourceCell("require(f)")}) is None
    assert restore("# visible\nrequire(f)", {"test_f": _SourceCell(SOURCE, locked=False)}) is None


def _config_filters() -> list:
    """The warning filters ``nbgrader_config.py`` adds, read as nbgrader reads the file."""
    from traitlets.config import Config

    with warnings.catch_warnings():
        before = list(warnings.filters)
        exec(compile((REPO / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"),
             {"get_config": Config, "__file__": str(REPO / "nbgrader_config.py")})
        return [f for f in warnings.filters if f not in before]


def test_only_sqlalchemys_session_warning_from_nbgrader_is_silenced():
    from sqlalchemy.exc import SAWarning

    (added,) = _config_filters()
    action, message, category, module, _ = added
    assert action == "ignore" and category is SAWarning and module.pattern == r"nbgrader\.api"
    noise = "Object of type <SubmittedAssignment> not in session, add operation along 'Student.submissions' will not"
    assert message.match(noise)
    assert not message.match("This declarative base already contains a class with the same class name")
