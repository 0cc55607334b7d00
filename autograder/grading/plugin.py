"""The pytest plugin that turns hidden tests into grades.

Hidden tests are plain pytest (``hidden/test_<assignment>.py`` in the course directory). This plugin supplies:

- ``sub``: a :class:`~autograder.grading.submission.Submission`, parametrised over the notebooks being graded
  (module scope, so a notebook runs once and all its tests reuse it);
- ``rng``: a ``torch.Generator`` seeded from the course secret, the test's name and the submission's digest
  (:func:`submission_digest`: its student and the code of its cells): the same notebook always gets the same
  inputs, so grading is deterministic, while any change to it, or another student, draws new ones; so feedback
  on one submission's inputs says nothing about the next one's expected values, and nobody without the secret
  can predict them;
- ``ref``: the reference solutions of the module's assignment (trusted side only);
- the ``blank(name, points=..., kind=...)`` marker, which tags a test with the blank it judges, its points and
  what it judges (:mod:`autograder.grading.policy` turns a blank's results into its mark),

and collects every test's outcome into :class:`~autograder.grading.results.TestResult` records.

:func:`run_pytest` runs the hidden tests in a controlled environment: whatever the grader was started with
(``PYTEST_ADDOPTS``, ``PYTEST_PLUGINS``, plugin autoloading, an ini file or conftest.py above the course,
``PYTHONWARNINGS``, colour variables) cannot change which tests run or what they report.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

import pytest
import torch

from autograder.grading.compare import Mismatch, judged_count
from autograder.i18n import _, any_text
from autograder.grading.course import Assignment, Course
from autograder.grading.policy import KINDS, Policy
from autograder.grading.results import TestResult
from autograder.grading.submission import Submission, SubmissionError


def load_reference(course: Course, assignment: Assignment) -> ModuleType:
    """The reference solutions, loaded by path so that nothing else needs ``solutions`` importable."""
    path = course.solutions(assignment)
    spec = importlib.util.spec_from_file_location(f"_reference_{assignment.stem}", path)
    if spec is None or spec.loader is None or not path.exists():
        raise FileNotFoundError(f"reference solutions not found: {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def derive_seed(secret: str, *parts: str) -> int:
    digest = hashlib.sha256("\x1f".join((secret, *parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


def submission_digest(student: str, cells: list[str]) -> str:
    """What a submission's hidden inputs depend on besides the secret: its student and the code the grader runs
    (the code cells as :func:`autograder.grading.notebook.read_code_cells` reads them), unambiguously encoded."""
    return hashlib.sha256(json.dumps([student, list(cells)]).encode()).hexdigest()


@dataclass(frozen=True)
class Entry:
    """One notebook to grade: a key for the results, how to open its submission, and its digest
    (:func:`submission_digest`), which the hidden inputs are drawn from. In-process grading (stock nbgrader,
    the project's tests) has no cells to digest and keeps the empty digest: the same inputs for every notebook."""

    key: str
    assignment: str
    open: Callable[[], Submission]
    digest: str | Callable[[], str] = ""  # or how to compute it (when the notebook is first read)
    only_blank: str | None = None  # run only this blank's tests on this notebook (check-course's mutants)

    def seed_digest(self) -> str:
        return self.digest() if callable(self.digest) else self.digest


class GradingPlugin:
    """Parametrises ``sub`` over ``entries`` and records each test's points and feedback."""

    def __init__(self, course: Course, entries: list[Entry], secret: str, *, only_blank: str | None = None,
                 on_done: Callable[[str, list[TestResult], Submission | None], None] | None = None,
                 curves: bool = False, reverse: bool = False):
        self.course = course
        self.policy = Policy.of_course(course.root)
        self.by_assignment: dict[str, list[Entry]] = {}
        for e in entries:
            self.by_assignment.setdefault(e.assignment, []).append(e)
        self.secret = secret
        self.only_blank = only_blank
        self.results: dict[str, list[TestResult]] = {e.key: [] for e in entries}
        self.internal_errors: list[str] = []
        self._on_done = on_done
        self._references: dict[str, ModuleType] = {}
        self._pending: dict[str, str] = {}  # nodeid -> entry key, of the tests collected but not yet reported
        self.record_curves = curves  # the training blanks' loss curves (autograder.grading.curves), for the pages
        self.reverse = reverse  # run the tests in reverse order (a check that grades do not depend on it)
        self.curves: dict[str, dict[str, dict[str, Any]]] = {}  # entry key -> blank -> what the page draws
        self._reference_curves: dict[tuple[str, str], list[float]] = {}

    # -- collection ----------------------------------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[PLUGIN] = self
        config.addinivalue_line("markers", "blank(name, points, kind='value'): the blank a hidden test judges, its "
                                           "points, and what it judges: value, edge, property or forbidden "
                                           "(autograder.grading.policy)")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "sub" in metafunc.fixturenames:
            entries = self.by_assignment.get(self.assignment_of(metafunc.module).name, [])
            metafunc.parametrize("sub", entries, ids=[e.key for e in entries], indirect=True, scope="module")

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        def wanted(item: pytest.Item) -> bool:
            blank = _blank_marker(item)[0]
            entry = item.callspec.params.get("sub") if hasattr(item, "callspec") else None
            only = getattr(entry, "only_blank", None)
            return (self.only_blank is None or blank == self.only_blank) and (only is None or blank == only)

        if self.reverse:  # check-course: grades must not depend on the order the tests run in
            items.reverse()
        if self.only_blank is None and not any(e.only_blank for es in self.by_assignment.values() for e in es):
            return
        keep = [i for i in items if wanted(i)]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            if hasattr(item, "callspec") and "sub" in item.callspec.params:
                self._pending[item.nodeid] = item.callspec.params["sub"].key

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        for nodeid, key in self._pending.items():  # e.g. -x, a skip, or an interrupted run: never a silent 0/0
            self.internal_errors.append(f"{nodeid}: the hidden test was collected but not run for {key}")

    # -- results -------------------------------------------------------------------------------------
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        judged_count(reset=True)
        yield

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
        outcome = yield
        report = outcome.get_result()
        if not hasattr(item, "callspec") or "sub" not in item.callspec.params:
            return
        entry: Entry = item.callspec.params["sub"]
        if report.when == "call" or (report.when == "setup" and report.failed):
            blank, points = _blank_marker(item)
            passed = report.passed
            output = "" if passed else self._feedback(item, call)
            if passed and report.when == "call" and _kind(item) in ("value", "edge") and judged_count() == 0:
                passed, output = False, judged_nothing()
            error = call.excinfo.value if call.excinfo is not None else None
            self._pending.pop(item.nodeid, None)
            self.results[entry.key].append(TestResult(
                name=_test_name(item, shown=True), blank=blank, score=points if passed else 0.0, max_score=points,
                output=output or _("Passed."), kind=_kind(item), passed=passed,
                reason=None if passed else getattr(error, "reason", None),
            ))

    def final_results(self, key: str) -> list[TestResult]:
        """The results of one notebook, with property tests gated on right values."""
        return self.policy.apply(self.results[key])

    def reference(self, assignment: Assignment) -> ModuleType:
        if assignment.name not in self._references:
            self._references[assignment.name] = load_reference(self.course, assignment)
        return self._references[assignment.name]

    def curves_of(self, module: ModuleType, key: str, submission: Submission) -> None:
        """Record the loss curves of the module's training blanks (its ``CURVES``) for notebook ``key``: the
        student's function and the reference's on the visible data, within the notebook's own share of time."""
        from autograder.grading.curves import SHARE, describe, reference_curve, student_curve

        assignment = self.assignment_of(module)
        left = SHARE
        for blank, curve in getattr(module, "CURVES", {}).items():
            if blank not in assignment.blanks or (self.only_blank and blank != self.only_blank):
                continue
            try:
                if (assignment.name, blank) not in self._reference_curves:
                    self._reference_curves[(assignment.name, blank)] = reference_curve(
                        curve, getattr(self.reference(assignment), blank), self.course.release(assignment))
            except Exception as error:  # noqa: BLE001 - the course's curve is broken: the instructor's to fix
                self.internal_errors.append(f"{module.__name__}: the curve of {blank}: {type(error).__name__}: {error}")
                continue
            reasons = [t.reason for t in self.results[key] if t.blank == blank and not t.passed]
            losses, note, took = student_curve(submission, blank, curve, self.course.release(assignment), left,
                                               reasons)
            left -= took
            self.curves.setdefault(key, {})[blank] = {
                "describe": describe(curve), "reference": self._reference_curves[(assignment.name, blank)],
                "student": losses, "note": note}

    def assignment_of(self, module: ModuleType) -> Assignment:
        name = getattr(module, "ASSIGNMENT", None)
        if name not in self.course.assignments:
            raise pytest.UsageError(f"{module.__file__}: set ASSIGNMENT to one of {sorted(self.course.assignments)}")
        return self.course.assignments[name]

    def _feedback(self, item: pytest.Item, call: pytest.CallInfo) -> str:
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, (Mismatch, SubmissionError)):
            return str(error)
        if isinstance(error, AssertionError):  # a plain assert in a hidden test: its message only, never its values
            text = str(error).split("\nassert ")[0]
            return "This check failed." if not text or text.startswith("assert ") else text
        self.internal_errors.append(f"{item.nodeid}: {type(error).__name__}: {error}")
        return _("The grader could not finish this test ({error}); this is not your fault: please tell your "
                 "instructor.").format(error=type(error).__name__)


PLUGIN = pytest.StashKey[GradingPlugin]()

def judged_nothing() -> str:
    """The feedback of a value test that compared no value (autograder.grading.compare.judged): it proves nothing,
    so it fails, whatever made it so."""
    return _("This test found nothing of your answer to compare with the correct result (what your code returned or "
             "left behind did not have the parts it checks), so it cannot pass.")


# The fixtures live at module level (this module is registered as a plugin beside the GradingPlugin).
@pytest.fixture(scope="module")
def sub(request: pytest.FixtureRequest) -> Iterator[Submission]:
    """The submission being graded (one per notebook; its cells run once, before its first test)."""
    plugin = request.config.stash[PLUGIN]
    entry: Entry = request.param
    submission = entry.open()
    submission.error_hints = list(getattr(request.module, "ERROR_HINTS", ()))
    try:
        yield submission
        if plugin.record_curves:  # while the notebook's sandbox still runs: no second pass for the pages
            plugin.curves_of(request.module, entry.key, submission)
    finally:
        submission.close()
        if plugin._on_done is not None:
            plugin._on_done(entry.key, plugin.final_results(entry.key), submission)


@pytest.fixture
def rng(request: pytest.FixtureRequest, sub: Submission) -> torch.Generator:
    """A generator seeded from the course secret, the test's name and the submission's digest: the same notebook
    always gets the same inputs; another notebook, or another student, other ones. The submission's own torch
    seed for the test comes from the same parts by another derivation, so it tells nothing about this one."""
    entry: Entry = request.node.callspec.params["sub"]
    secret, name = request.config.stash[PLUGIN].secret, _test_name(request.node)
    digest = entry.seed_digest()
    sub.seed = derive_seed(secret, name, digest, "submission") % (1 << 31)
    return torch.Generator().manual_seed(derive_seed(secret, name, digest))


@pytest.fixture(scope="module")
def ref(request: pytest.FixtureRequest) -> ModuleType:
    """The reference solutions of the module's assignment."""
    plugin = request.config.stash[PLUGIN]
    return plugin.reference(plugin.assignment_of(request.module))


def _kind(item: pytest.Item) -> str:
    """What a hidden test judges (autograder.grading.policy.KINDS); ``property=True`` is the older spelling."""
    marker = item.get_closest_marker("blank")
    kind = marker.kwargs.get("kind", "property" if marker.kwargs.get("property") else "value")
    if kind not in KINDS:
        raise pytest.UsageError(f"{item.nodeid}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    return kind


def _blank_marker(item: pytest.Item) -> tuple[str, float]:
    marker = item.get_closest_marker("blank")
    if marker is None or not marker.args:
        raise pytest.UsageError(f"{item.nodeid}: every hidden test needs @pytest.mark.blank(name, points=...)")
    return str(marker.args[0]), float(marker.kwargs.get("points", 1))


def _test_name(item: Any, shown: bool = False) -> str:
    """The test's name without the submission: its blank, the first line of its docstring and its parameters. The
    English name draws its inputs (the seed never depends on the language); ``shown``: the name students read, its
    title and parameters translated by the course's catalogue (or the engine's, for a declaration's)."""
    name = item.originalname if hasattr(item, "originalname") else item.name
    words = any_text if shown else (lambda text: text)
    params = [f"{k}={words(str(v)) if isinstance(v, str) else v}"
              for k, v in getattr(getattr(item, "callspec", None), "params", {}).items() if k != "sub"]
    doc = (item.function.__doc__ or "").strip().splitlines() if hasattr(item, "function") else []
    title = words(doc[0].rstrip(".")) if doc else name
    blank = _blank_marker(item)[0] if item.get_closest_marker("blank") else ""
    suffix = f" [{', '.join(params)}]" if params else ""
    return f"{blank}: {title}{suffix}" if blank else f"{title}{suffix}"


# Variables that change what pytest does (docs: "Environment variables", and _pytest's source): every PYTEST_*
# one (PYTEST_ADDOPTS, PYTEST_PLUGINS, PYTEST_DEBUG, PYTEST_THEME, PYTEST_DEBUG_TEMPROOT, ...) and these.
_HOSTILE = ("PY_COLORS", "FORCE_COLOR", "NO_COLOR", "CI", "BUILD_NUMBER", "COLUMNS", "LINES", "TOX_ENV_DIR",
            "PY_IGNORE_IMPORTMISMATCH", "_ARGCOMPLETE", "PYTHONWARNINGS", "PYTHONBREAKPOINT")
_CONTROLLED = {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PY_COLORS": "0"}


def _controlled_environment() -> dict[str, str | None]:
    """Set os.environ for the inner pytest run; returns what to restore (None: the variable was not set)."""
    saved: dict[str, str | None] = {}
    for name in list(os.environ):
        if name.startswith("PYTEST_") or name in _HOSTILE:
            saved[name] = os.environ.pop(name)
    for name, value in _CONTROLLED.items():
        saved.setdefault(name, os.environ.get(name))
        os.environ[name] = value
    return saved


def _restore_environment(saved: dict[str, str | None]) -> None:
    for name in [n for n in os.environ if n.startswith("PYTEST_") or n in _HOSTILE or n in _CONTROLLED]:
        if name not in saved:  # set by the inner run (PYTEST_CURRENT_TEST, PYTEST_VERSION) or ours
            del os.environ[name]
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


# pytest's built-in plugins that grading does without: each wraps every test phase (the logging plugin alone
# cost a tenth of a class's grading time), and none is something a hidden test uses (warnings are ignored below).
UNUSED_PLUGINS = ("cacheprovider", "stepwise", "logging", "warnings", "junitxml", "doctest", "pastebin",
                  "faulthandler", "unraisableexception", "threadexception", "setuponly", "setupplan")


def run_pytest(assignments: list[Assignment], plugin: GradingPlugin, quiet: bool = True) -> int:
    """Run the hidden tests of ``assignments`` with ``plugin``; returns pytest's exit code.

    Nothing from the environment the grader was started in reaches the run: PYTEST_* variables (PYTEST_ADDOPTS,
    PYTEST_PLUGINS, ...) and colour variables are removed for its duration (and restored after), plugins are not
    autoloaded from entry points, the ini file is empty (``-c`` the null device, so none is searched for above the
    course), conftest.py files are looked for no higher than the hidden tests' folder, assertions are plain (no
    values in their messages), and every warning is ignored whatever PYTHONWARNINGS or -W said; pytest's
    plugins that grading does not use are off (:data:`UNUSED_PLUGINS`)."""
    course = plugin.course
    hidden = course.root / "hidden"
    args = [str(course.hidden_tests(a)) for a in assignments]
    args += ["-c", os.devnull, f"--rootdir={hidden}", f"--confcutdir={hidden}", "-o", "addopts=",
             "-o", "python_files=test_*.py", "--import-mode=importlib", "--assert=plain",
             "--capture=sys"]  # what a hidden test prints stays out of the grader's output; no dup2s per test
    for name in UNUSED_PLUGINS:
        args += ["-p", f"no:{name}"]
    if quiet:
        args += ["-p", "no:terminal"]
    for a in assignments:  # another course's module of the same name, imported before in this process, goes
        wanted = course.hidden_tests(a).resolve()
        for name, module in list(sys.modules.items()):
            path = getattr(module, "__file__", None)
            if path and Path(path).name == wanted.name and Path(path).resolve() != wanted:
                del sys.modules[name]
    saved = _controlled_environment()
    try:
        with warnings.catch_warnings():
            warnings.resetwarnings()
            warnings.simplefilter("ignore")
            return pytest.main(args, plugins=[plugin, sys.modules[__name__]])
    finally:
        _restore_environment(saved)
