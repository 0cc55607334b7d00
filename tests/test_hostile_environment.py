"""The environment the grader is started from is hostile: nothing in it changes a grade.

The same small batch (a correct and a wrong 02_linear_regression notebook) is graded by the real CLI, in a
subprocess, once in a clean environment and then with every hostile setting at once: PYTEST_ADDOPTS (-x,
-k nothing, --maxfail=1, -p of a plugin), PYTEST_PLUGINS naming a plugin that marks every test passed, the same
plugin autoloaded from an entry point of a distribution on PYTHONPATH, a pytest.ini and a conftest.py above the
course directory, FORCE_COLOR / PY_COLORS, PYTHONWARNINGS=error, PYTEST_DEBUG, CI, COLUMNS; and once with only
PYTEST_ADDOPTS=-x (which used to give a student 0/0.25 and exit 0). Every run exits 0 with byte-identical
results files, and no ANSI escape reaches any feedback.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from autograder.authoring.fill import filled_release, write
from conftest import ASSIGNMENTS, COURSE

A = ASSIGNMENTS["02_linear_regression"]
SECRET = "hostile-environment-secret"

# A plugin that would make every test pass (and a failing one fail): innermost wrapper, so it rewrites the report
# before anyone else reads it.
PLUGIN = textwrap.dedent("""
    import pytest

    @pytest.hookimpl(hookwrapper=True, trylast=True)
    def pytest_runtest_makereport(item, call):
        outcome = yield
        report = outcome.get_result()
        report.outcome = "passed"
        report.longrepr = None

    def pytest_collection_modifyitems(config, items):
        items.reverse()
    """)

WRONG_GRADS = textwrap.dedent("""
    def mse_grads(x, y, w, b):
        r = x * w + b - y
        return (1 / x.shape[0] * (x * r).sum()).reshape(1), (1 / x.shape[0] * r.sum()).reshape(1)
    """).strip() + "\n"

def clean_environment() -> dict[str, str]:
    bad = ("PY_COLORS", "FORCE_COLOR", "NO_COLOR", "CI", "BUILD_NUMBER", "COLUMNS", "PYTHONWARNINGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k not in bad}
    return {**env, "AUTOGRADER_SECRET": SECRET}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    # The course, copied below a folder with a hostile pytest.ini and conftest.py.
    above = root / "above"
    course = above / "course"
    shutil.copytree(COURSE.release(A), course / "release" / A.name)
    (course / "hidden").mkdir(parents=True)
    shutil.copy(COURSE.hidden_tests(A), course / "hidden")
    (course / "solutions").mkdir()
    shutil.copy(COURSE.solutions(A), course / "solutions")
    # The plugin as a module on PYTHONPATH, and as an autoloaded entry point of a distribution there.
    site = root / "site"
    site.mkdir()
    (site / "hostile_plugin.py").write_text(PLUGIN)
    (site / "hostile_autoload.py").write_text(PLUGIN)
    dist = site / "hostile_autoload-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hostile-autoload\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[pytest11]\nhostile = hostile_autoload\n")
    submitted = root / "submitted"
    write(filled_release(COURSE, A), submitted / "honest" / A.name / A.notebook)
    write(filled_release(COURSE, A, {"mse_grads": WRONG_GRADS}),
          submitted / "wrong" / A.name / A.notebook)
    return {"root": root, "course": course, "site": site, "submitted": submitted, "above": above}


def files_above(setup, present: bool) -> None:
    """A hostile pytest.ini and conftest.py in the folder above the course (and the grader started there)."""
    ini, conftest = setup["above"] / "pytest.ini", setup["above"] / "conftest.py"
    if present:
        ini.write_text("[pytest]\naddopts = -x -p hostile_plugin\nxfail_strict = true\n")
        conftest.write_text(PLUGIN)
    else:
        ini.unlink(missing_ok=True)
        conftest.unlink(missing_ok=True)


def grade(setup, name: str, extra: dict[str, str]) -> tuple[subprocess.CompletedProcess, dict[str, bytes]]:
    out = setup["root"] / f"graded_{name}"
    env = {**clean_environment(), **extra}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(setup["submitted"]), "--course",
                           str(setup["course"]), "--out", str(out), "--jobs", "2", "--quiet"],
                          capture_output=True, text=True, env=env, cwd=setup["course"].parent, timeout=600)
    return done, {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def runs(setup):
    site = str(setup["site"])
    pythonpath = os.pathsep.join([site, *filter(None, [os.environ.get("PYTHONPATH")])])
    hostile = {
        "PYTEST_ADDOPTS": "-x -k nothing --maxfail=1 -p hostile_plugin",
        "PYTEST_PLUGINS": "hostile_plugin",
        "PYTHONPATH": pythonpath,
        "FORCE_COLOR": "1",
        "PY_COLORS": "1",
        "PYTHONWARNINGS": "error",
        "PYTEST_DEBUG": "1",
        "PYTEST_THEME": "monokai",
        "CI": "1",
        "COLUMNS": "20",
    }
    done = {"clean": grade(setup, "clean", {})}
    files_above(setup, True)
    done["hostile"] = grade(setup, "hostile", hostile)
    files_above(setup, False)
    done["addopts_x"] = grade(setup, "addopts_x", {"PYTEST_ADDOPTS": "-x"})
    return done


def test_clean_run_grades_as_expected(runs):
    done, files = runs["clean"]
    assert done.returncode == 0, done.stderr[-3000:]
    wrong = json.loads(files["wrong/02_linear_regression/linear_regression.json"])
    honest = json.loads(files["honest/02_linear_regression/linear_regression.json"])
    assert honest["score"] == honest["max_score"] == A.max_score
    assert wrong["max_score"] == A.max_score
    assert wrong["score"] == A.max_score - A.blanks["mse_grads"], wrong
    assert sorted(f for f in files if not f.endswith(".html")) == [  # the report's similar code, where grade looked
        ".graded-from", "honest/02_linear_regression/linear_regression.json", "scores.csv", "similarity.csv",
        "wrong/02_linear_regression/linear_regression.json"]


@pytest.mark.parametrize("run", ["hostile", "addopts_x"])
def test_hostile_environment_changes_nothing(runs, run):
    done, files = runs[run]
    assert done.returncode == 0, done.stderr[-3000:]
    assert files == runs["clean"][1]


def test_no_ansi_escapes(runs):
    for _, files in runs.values():
        for data in files.values():
            assert b"\x1b[" not in data and b"\\u001b" not in data
