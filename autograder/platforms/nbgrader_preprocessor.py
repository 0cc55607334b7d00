"""``nbgrader autograde`` on the kit's engine: student code in the sandbox, hidden tests on the trusted side.

The course's ``nbgrader_config.py`` puts :class:`SandboxedGrading` first in ``Autograde.autograde_preprocessors``,
in place of nbgrader's ``Execute``, which would run the hidden test cells in the student's own kernel after the
student's cells (where one cell that replaces ``torch.testing.assert_close`` decides the grade)::

    c.Autograde.autograde_preprocessors = [
        "autograder.platforms.nbgrader_preprocessor.SandboxedGrading", LimitOutput, SaveAutoGrades, AssignLatePenalties,
        CheckCellMetadata]

For each notebook nbgrader autogrades, it grades the student's submitted file (``submitted/<student>/<assignment>/
<notebook>.ipynb``, exactly what ``python -m autograder grade submitted/`` grades, with the same student id, so
the same hidden inputs and the same marks) with :func:`autograder.grading.workers.grade_parallel`, and writes each
``test_<blank>`` cell's outputs: the blank's feedback (a display_data, HTML wrapped to the page and plain text)
and the blank's points as the ``execute_result`` that nbgrader's ``determine_grade`` reads as partial credit, so
``SaveAutoGrades`` records the engine's mark per blank. Nothing of the notebook runs in nbgrader's process or in
a kernel. The test cells keep only their visible part (the hidden part is not shown in the feedback), and code
cells are numbered like the cells the feedback names ("Cell 16 raised ...").

Speed: the first notebook of an ``nbgrader autograde`` run grades, in one batch over ``jobs`` workers (warm
zygotes, as the CLI), every submission that run will autograde; later notebooks read their results. A notebook
outside that plan (or any use outside ``nbgrader autograde``) is graded on its own.

A notebook the engine could not grade (the sandbox cannot be built, a hidden test broke, a worker died) raises:
nbgrader then records no grade for that submission and says so, rather than a wrong one.

:class:`RestoreHiddenTests` replaces nbgrader's ``OverwriteCells`` in ``Autograde.sanitize_preprocessors``: it puts
the hidden part back into a test cell that is exactly as released without a warning, where nbgrader warns that its
checksum "has changed" for every test cell of every student (nbgrader issue #1961: the gradebook holds the source
cell, hidden tests included, the release the cell without them). A cell the student really edited still gets
nbgrader's warning, and is overwritten all the same.
"""
from __future__ import annotations

import html
import os
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading import verdicts
from autograder.i18n import N_, _
from typing import Any

from nbconvert.exporters.exporter import ResourcesDict
from nbformat.notebooknode import NotebookNode, from_dict
from traitlets import Float, Integer, Unicode

from nbgrader import utils
from nbgrader.api import MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor, OverwriteCells

WIDTH = 88  # columns of the plain-text feedback (the HTML wraps to the page)
HIDDEN = ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


class GradingFailed(Exception):
    """The engine could not grade a notebook; the message says why (nbgrader logs it and records no grade)."""


# ------------------------------------------------------------------------------------------ the sanitizing side
class RestoreHiddenTests(OverwriteCells):
    """nbgrader's ``OverwriteCells``, which knows that a released test cell lacks its hidden part.

    nbgrader saves each source cell in the gradebook (checksum included) before ``ClearHiddenTests`` removes the
    hidden region from the release. ``OverwriteCells`` then compares every submitted test cell with the *source*
    cell, finds a different checksum even when the student never touched it, warns, and overwrites it with the
    source. Here a locked cell whose source is exactly the released one (the source cell less its hidden region,
    removed by nbgrader's own ``ClearHiddenTests``) gets its hidden part back first, so nbgrader finds nothing
    changed; any other difference still reaches nbgrader's comparison and its warning."""

    def preprocess_cell(self, cell: NotebookNode, resources: ResourcesDict,
                        cell_index: int) -> tuple[NotebookNode, ResourcesDict]:
        released_as_is = self._source_if_released_as_is(cell)
        if released_as_is is not None:
            cell.source = released_as_is
        return super().preprocess_cell(cell, resources, cell_index)

    def _source_if_released_as_is(self, cell: NotebookNode) -> str | None:
        """The source cell (hidden tests included) when ``cell`` is its released version, untouched; else None."""
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id is None:
            return None
        try:
            source_cell = self.gradebook.find_source_cell(grade_id, self.notebook_id, self.assignment_id)
        except MissingEntry:
            return None  # nbgrader's own preprocess_cell says so
        if not source_cell.locked or source_cell.cell_type != cell.cell_type:
            return None
        released = from_dict({"cell_type": source_cell.cell_type, "metadata": {}, "source": source_cell.source})
        # the same removal as generate_assignment's (its delimiters, as this course configures them)
        if not ClearHiddenTests(config=self.config)._remove_hidden_test_region(released):
            return None  # no hidden part: nbgrader's comparison is right as it is
        return source_cell.source if cell.source == released.source else None


# ---------------------------------------------------------------------------------------------- the engine's side
@dataclass
class _Batch:
    """One process's grader: the course, its settings and the results graded so far, by notebook."""

    course: Any
    settings: Any
    jobs: int
    results: dict[tuple[str, str, str], Any] = field(default_factory=dict)  # (student, assignment, path) -> result
    failed: dict[tuple[str, str, str], str] = field(default_factory=dict)  # -> why not graded

    def grade(self, wanted: list[tuple[str, str, Path]], log: Any) -> None:
        """Grade ``wanted`` (student, assignment name, notebook path) in one batch, as ``python -m autograder
        grade`` would; every notebook ends up in :attr:`results` or :attr:`failed`."""
        from autograder.grading.discover import Job
        from autograder.grading.runner import Graded, Note
        from autograder.grading.workers import grade_parallel
        from autograder.sandbox.zygote import SandboxUnavailable

        jobs = []
        for student, name, path in wanted:
            a = self.course.assignments[name]
            jobs.append(Job(path, student, a, Path(student, name, f"{path.stem}.json")))
        by_key = {job.key: job for job in jobs}
        problems: list[str] = []
        try:
            for event in grade_parallel(jobs, self.settings, max(1, min(self.jobs, len(jobs)))):
                if isinstance(event, Graded):
                    job = by_key[event.key]
                    self.results[_key(job.student, job.assignment.name, job.path)] = event.result
                elif isinstance(event, Note):
                    log.info("autograder: %s", event.text)
                else:
                    problems.append(event.text)
        except SandboxUnavailable as error:
            problems.append(f"the sandbox cannot be built on this host: {error}")
        for text in problems:
            log.error("autograder: %s", text)
        why = "; ".join(p.splitlines()[0] for p in problems if p) or "the engine returned no result for it"
        for job in jobs:
            key = _key(job.student, job.assignment.name, job.path)
            if problems:  # a broken hidden test or a dead worker: no mark of this batch can be trusted
                self.results.pop(key, None)
            if key not in self.results:
                self.failed[key] = why


_BATCHES: dict[tuple, _Batch] = {}


def _key(student: str, assignment: str, path: Path) -> tuple[str, str, str]:
    return student, assignment, os.path.realpath(path)


# ------------------------------------------------------------------------------------------------ the feedback
def _wrap(text: str, indent: str) -> list[str]:
    lines = []
    for line in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(line, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ",
                                   break_on_hyphens=False, replace_whitespace=False) or [indent.rstrip()])
    return lines


def _groups(blank: str, tests: list[Any]) -> tuple[list[tuple[list[str], str]], list[str]]:
    """The failed tests grouped by their feedback (the same message once, under every test it concerns), in order,
    and the names of the passed ones."""
    from autograder.grading.compare import unwrap  # the engine's wrapping undone: the page wraps to its own width

    failed: list[tuple[list[str], str]] = []
    passed: list[str] = []
    for t in tests:
        name = t.name[len(blank) + 2:] if t.name.startswith(f"{blank}: ") else t.name
        if t.score >= t.max_score:
            passed.append(name)
            continue
        if getattr(t, "passed", False):  # passed, but the marking policy does not count it in full: said why
            name = _("{test} (passed, not counted in full)").format(test=name)
        output = unwrap(t.output)
        for names, said in failed:
            if said == output:
                names.append(name)
                break
        else:
            failed.append(([name], output))
    return failed, passed


def _lines_html(text: str) -> str:
    """Feedback text as HTML (inside a pre-wrap block): escaped, the hint lines in bold."""
    return "\n".join(f'<b class="autograder-hint">{html.escape(line)}</b>' if line.startswith("Hint:") else html.escape(line)
                     for line in text.splitlines())


def _points(x: float) -> str:
    return f"{round(x, 4):g}"


def blank_feedback(blank: str, score: float, max_score: float, tests: list[Any]) -> tuple[str, str]:
    """A blank's feedback for the student, as plain text (wrapped to :data:`WIDTH` columns) and as HTML (wrapped
    to the page): the points, then each failed check with what is wrong, the hint and the numbers (in the
    engine's order), then the checks passed."""
    failed, passed = _groups(blank, tests)
    head = _("{blank}: {score} / {points} points ({verdict})").format(
        blank=blank, score=_points(score), points=_points(max_score), verdict=verdicts.words(verdicts.of_blank(tests)))
    text = [head]
    parts = [f'<p style="margin:0 0 .4em 0"><b>{html.escape(head)}</b></p>']
    if not tests:
        text.append(_("No test of this blank could be run."))
        parts.append(f"<p>{html.escape(_('No test of this blank could be run.'))}</p>")
    kept = {_("{test} (passed, not counted in full)").format(test=n) for t in tests
            for n in [t.name[len(blank) + 2:] if t.name.startswith(f"{blank}: ") else t.name]}

    def mark(name: str) -> str:
        return "✓" if name in kept else "✗"

    for names, output in failed:
        for name in names:
            text.extend(_wrap(f"{mark(name)} {name}", "  "))
        text.extend(_wrap(output, "      "))
        parts.append('<div style="margin:.3em 0">'
                     + "".join(f"<div>{mark(n)} {html.escape(n)}</div>" for n in names)
                     + '<div style="margin-left:1.6em;white-space:pre-wrap;overflow-wrap:anywhere;'
                       f'font-family:monospace">{_lines_html(output)}</div></div>')
    if passed:
        for name in passed:
            text.extend(_wrap(f"✓ {name}", "  "))
        parts.append('<div style="margin:.3em 0">' + "".join(f"<div>✓ {html.escape(n)}</div>" for n in passed)
                     + "</div>")
    page = ('<div class="autograder-feedback" style="max-width:100%;overflow-wrap:anywhere;white-space:normal">'
            + "".join(parts) + "</div>")
    return "\n".join(text), page


def notes_feedback(notes: str) -> tuple[str, str]:
    head = _("About your notebook as a whole:")
    text = "\n".join([head, *[w for line in notes.splitlines() for w in _wrap(line, "  ")]])
    page = (f'<div class="autograder-notes" style="margin-top:.6em"><b>{html.escape(head)}</b>'
            '<div style="white-space:pre-wrap;overflow-wrap:anywhere;font-family:monospace">'
            f"{html.escape(notes)}</div></div>")
    return text, page


def without_self_checks(notes: str) -> str:
    """The engine's notes on the notebook without those on test cells that raised SelfCheckFailed (the visible part of
    a test cell runs the blank's self-checks; the blank's own feedback says what is wrong, with the hidden tests'
    numbers). A note is a line that is not indented, with the indented lines under it."""
    kept: list[list[str]] = []
    for line in notes.splitlines():
        if kept and line[:1].isspace():
            kept[-1].append(line)
        else:
            kept.append([line])
    raised = [_template(template) for template in (N_("Cell [{number}] raised {error}: {message} ({where})."),
                                                   N_("Cell [{number}] raised {error}: {message}."))]
    return "\n".join("\n".join(note) for note in kept if not any(r.match(note[0]) for r in raised))


def _template(message: str) -> re.Pattern[str]:
    """A pattern matching the start of ``message`` (translated) as the runner fills it, for an error
    SelfCheckFailed: up to what follows the error's name (the message after it may run over several lines)."""
    parts = re.split(r"(\{\w+\})", _(message))
    parts = parts[:parts.index("{error}") + 2]
    pattern = "".join(r"\d+" if p == "{number}" else "SelfCheckFailed" if p == "{error}" else ".*" if p.startswith("{")
                      else re.escape(p) for p in parts)
    return re.compile(pattern, re.DOTALL)


def visible_part(source: str) -> str:
    """A test cell's source without its hidden region (what the release notebook shows)."""
    kept, hidden = [], False
    for line in source.split("\n"):
        if HIDDEN[0] in line:
            hidden = True
        elif HIDDEN[1] in line:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept).rstrip("\n")


def cell_outputs(blank: str, score: float, max_score: float, tests: list[Any],
                 notes: str = "") -> list[NotebookNode]:
    """A test cell's outputs: the feedback (display_data) and the points (execute_result, the partial credit
    nbgrader's determine_grade reads; never an error or stderr, which would read as 0)."""
    text, page = blank_feedback(blank, score, max_score, tests)
    if notes:
        more_text, more_page = notes_feedback(notes)
        text, page = f"{text}\n\n{more_text}", page + more_page
    points = min(max(round(score, 6), 0.0), max_score)
    return [
        from_dict({"output_type": "display_data", "metadata": {},
                   "data": {"text/plain": text, "text/html": page}}),
        from_dict({"output_type": "execute_result", "execution_count": None, "metadata": {},
                   "data": {"text/plain": repr(float(points)),
                            "text/html": f'<span style="color:#555">recorded for {html.escape(blank)}: '
                                         f"{_points(points)} / {_points(max_score)} points</span>"}}),
    ]


# --------------------------------------------------------------------------------------------- the preprocessor
class SandboxedGrading(NbGraderPreprocessor):
    """Grade the submission with the kit's engine and write each ``test_<blank>`` cell's feedback and points."""

    jobs = Integer(0, help="notebooks graded in parallel (0: one per CPU)").tag(config=True)
    course = Unicode("", help="the kit's course directory (release/, hidden/, solutions/); default: as the "
                              "grader finds it from nbgrader's course root ($AUTOGRADER_COURSE, the folder or "
                              "one above it)").tag(config=True)
    isolation = Unicode("", help="refuse to grade below this isolation level (as --isolation)").tag(config=True)
    memory_gib = Float(4.0, help="memory limit per submission (GiB)").tag(config=True)
    call_timeout = Float(10.0, help="seconds one call may take").tag(config=True)
    cell_timeout = Float(30.0, help="seconds one notebook cell may take").tag(config=True)
    notebook_timeout = Float(120.0, help="seconds a whole notebook may take to run before its tests").tag(config=True)

    # -- where things are
    def _converter(self) -> Any:
        parent = self.parent
        while parent is not None and not hasattr(parent, "coursedir"):
            parent = getattr(parent, "parent", None)
        return parent

    def _coursedir(self) -> Any:
        converter = self._converter()
        if converter is not None and converter.coursedir is not None:
            return converter.coursedir
        from nbgrader.coursedir import CourseDirectory

        return CourseDirectory(config=self.config)

    def _batch(self, coursedir: Any) -> _Batch:
        from autograder.grading.course import locate
        from autograder.grading.runner import Settings

        root = Path(coursedir.root).resolve()
        cwd = os.getcwd()
        try:
            os.chdir(root)  # the grader finds the course from nbgrader's course root
            course = locate(self.course or None)
        finally:
            os.chdir(cwd)
        secret = course.secret()
        submitted = Path(coursedir.format_path(coursedir.submitted_directory, ".", ".")).resolve()
        key = (str(course.root), secret, self.jobs, self.isolation, self.memory_gib, self.call_timeout,
               self.cell_timeout, self.notebook_timeout, str(root), str(submitted))
        if key not in _BATCHES:
            hide = sorted({course.root, root, submitted})
            settings = Settings(course=course, secret=secret, minimum=self.isolation or None,
                                memory_bytes=int(self.memory_gib * (1 << 30)), cell_timeout=self.cell_timeout,
                                call_timeout=self.call_timeout, notebook_timeout=self.notebook_timeout,
                                hide=list(hide), curves=False)  # nbgrader writes its own feedback
            _BATCHES[key] = _Batch(course, settings, self.jobs or os.cpu_count() or 1)
            from autograder.grading.runner import speak

            speak(settings)  # the feedback cells in the course's language
        return _BATCHES[key]

    def _planned(self, coursedir: Any, batch: _Batch) -> list[tuple[str, str, Path]]:
        """Every submission this ``nbgrader autograde`` run will autograde and the engine has not graded yet
        (what nbgrader's init_destination would process: no autograded folder yet, --force, or a newer one)."""
        converter = self._converter()
        plan: list[tuple[str, str, Path]] = []
        if converter is None or not isinstance(getattr(converter, "assignments", None), dict):
            return plan
        for folder, notebooks in sorted(converter.assignments.items()):
            assignment, student = Path(folder).name, Path(folder).parent.name
            if assignment not in batch.course.assignments:
                continue
            excluded = (coursedir.student_id_exclude or "").split(",")
            if student in excluded:
                continue
            dest = coursedir.format_path(coursedir.autograded_directory, student, assignment)
            if os.path.exists(dest) and not getattr(converter, "force", False):
                new = coursedir.get_existing_timestamp(folder)
                old = coursedir.get_existing_timestamp(dest)
                if new is None or old is None or new <= old:
                    continue
            for notebook in notebooks:
                path = Path(notebook)
                if path.name == batch.course.assignments[assignment].notebook:
                    plan.append((student, assignment, path))
        return plan

    # -- the work
    def preprocess(self, nb: NotebookNode, resources: ResourcesDict) -> tuple[NotebookNode, ResourcesDict]:
        ids = resources["nbgrader"]
        student, name, notebook = ids["student"], ids["assignment"], ids["notebook"]
        coursedir = self._coursedir()
        batch = self._batch(coursedir)
        if name not in batch.course.assignments:
            raise GradingFailed(f"{name} is not an assignment of the course in {batch.course.root} (its release/ "
                                f"has {', '.join(batch.course.assignments)})")
        path = Path(coursedir.format_path(coursedir.submitted_directory, student, name)) / f"{notebook}.ipynb"
        key = _key(student, name, path)
        if key not in batch.results and key not in batch.failed:
            others = [p for p in self._planned(coursedir, batch)
                      if _key(*p) != key and _key(*p) not in batch.results and _key(*p) not in batch.failed]
            plan = [(student, name, path), *others]
            self.log.info("autograder: grading %d notebook(s) in the sandbox", len(plan))
            batch.grade(plan, self.log)
        if key in batch.failed:
            raise GradingFailed(f"{student}/{name}/{notebook}.ipynb could not be graded: {batch.failed[key]}")
        result = batch.results[key]
        self._write(nb, result, path)
        return nb, resources

    def _write(self, nb: NotebookNode, result: Any, path: Path) -> None:
        marks = result.by_blank()
        notes = without_self_checks(result.output or "")
        if result.error:
            notes = "\n".join(filter(None, [notes, _("Your notebook could not be read: {error}").format(
                error=result.error)]))
        first = True
        for cell in nb.cells:
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
            if not (utils.is_grade(cell) and cell.cell_type == "code" and grade_id.startswith("test_")):
                continue
            blank = grade_id[len("test_"):]
            points = float(cell.metadata.nbgrader["points"])
            got, out_of = marks.get(blank, (0.0, points))
            if out_of and abs(out_of - points) > 1e-9:  # the gradebook's points rule; the engine's share of them
                self.log.warning("autograder: %s is worth %g points in the gradebook and %g in the course's "
                                 "release/; recording its share of the gradebook's", blank, points, out_of)
                got = got / out_of * points
            tests = [t for t in result.tests if t.blank == blank]
            cell.source = visible_part(cell.source)
            cell.outputs = cell_outputs(blank, got, points, tests, notes if first else "")
            first = False
        self._number_cells(nb, path)
        nb.metadata["autograder"] = {"isolation": result.isolation, "score": result.score,
                                     "max_score": result.max_score}

    @staticmethod
    def _number_cells(nb: NotebookNode, path: Path) -> None:
        """Number code cells 1, 2, ... like the feedback's "Cell N" (the submitted notebook's code cells), when the
        autograded notebook has the same code cells as the submission."""
        from autograder.grading.notebook import NotebookError, read_code_cells

        code = [c for c in nb.cells if c.cell_type == "code"]
        try:
            submitted = read_code_cells(path)
        except NotebookError:
            return
        if len(submitted) != len(code):
            return
        for i, cell in enumerate(code, start=1):
            cell.execution_count = i
            for output in cell.get("outputs", []):
                if output.get("output_type") == "execute_result":
                    output["execution_count"] = i
