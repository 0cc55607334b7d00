"""Grade notebooks with the hidden tests: :class:`Grader` is one warm grader (a sandbox zygote, the trusted side's
imports), which grades a batch in one pytest session and hands each notebook's results over as soon as they are
known; :func:`grade_shard` grades a batch in this process. :mod:`autograder.grading.workers` spreads a class over
``--jobs`` processes on this machine, :mod:`autograder.platforms.dask_executor` over a cluster; both yield the events below
(:class:`Graded`, :class:`Problem`, :class:`Note`).
"""
from __future__ import annotations

import functools
import gc
import hashlib
import sys
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from autograder.grading.course import Assignment, Course
from autograder.i18n import _
from autograder.grading.discover import Job
from autograder.grading.results import HostScrubber, NotebookResult, TestResult

if TYPE_CHECKING:  # imported when grading starts: they bring torch and pytest
    from autograder.sandbox.zygote import Zygote
    from autograder.grading.submission import Submission, Transport


# What jsonschema (under nbformat) imports, if installed, to check string formats when it is itself imported:
# rfc3987_syntax builds a grammar for RFC 3987 IRIs (1.5-2 s on a 2-core machine), the others cost another
# 0.1-0.15 s together. nbformat validates with fastjsonschema and its schema has no format to check.
FORMAT_CHECKERS = ("rfc3987_syntax", "rfc3987", "rfc3986_validator", "rfc3339_validator", "isoduration", "fqdn",
                   "idna", "webcolors", "jsonpointer", "uri_template")


def prepare_imports() -> None:
    """Import the trusted side (torch, pytest, the plugin, nbformat). jsonschema's format checkers
    (:data:`FORMAT_CHECKERS`) are kept out of its import, and stay importable afterwards."""
    if "autograder.grading.notebook" not in sys.modules:
        blocked = [] if "jsonschema" in sys.modules else [m for m in FORMAT_CHECKERS if m not in sys.modules]
        for name in blocked:
            sys.modules[name] = None  # type: ignore[assignment]
        try:
            import autograder.grading.notebook  # noqa: F401
        finally:
            for name in blocked:
                if name in sys.modules and sys.modules[name] is None:
                    del sys.modules[name]
    import autograder.grading.plugin  # noqa: F401
    import autograder.grading.submission  # noqa: F401
    import torch

    # One thread: the workers are the parallelism, and OpenMP's idle threads spin (a core's worth of CPU per worker
    # went to that). Set before any parallel region: no thread pool is ever made, so forking stays safe.
    torch.set_num_threads(1)


def warm_trusted() -> None:
    """Import now what the hidden tests would import on their first run (an optimizer imports torch._dynamo: about
    1 s), then freeze what is in memory, so that the garbage collector (pytest runs it after each session) does not
    walk it again. Never in a thread beside grading: two threads importing torch's modules at once break them."""
    import torch

    try:
        torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    except Exception:  # noqa: BLE001 - only a warm-up: the tests import what they need anyway
        pass
    gc.freeze()


def in_shard(student: str, index: int, count: int) -> bool:
    """Whether ``student``'s notebooks belong to shard ``index`` (1-based) of ``count`` (``--shard I/N``): decided
    by a hash of the student's name alone, so it depends neither on the order of the paths nor on the rest of the
    class, and a student's notebooks (a row of scores.csv) stay together."""
    digest = hashlib.sha256(student.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1


@dataclass
class Settings:
    course: Course
    secret: str
    isolation: str = "auto"  # a level of autograder.sandbox.hostprobe.LEVELS, or "auto": the strongest the host allows
    minimum: str | None = None  # refuse to grade with a level weaker than this (--isolation)
    memory_bytes: int = 4 << 30
    cell_timeout: float = 30.0
    call_timeout: float = 10.0
    notebook_timeout: float = 120.0
    notebook_budget: float | None = None  # wall time of a notebook, all runs and calls; None: 4 x notebook_timeout
    hide: list[Path] = field(default_factory=list)  # folders the submissions must not see
    curves: bool = True  # record the training blanks' loss curves for the feedback pages (grade --no-report: off)
    only: dict[str, str] = field(default_factory=dict)  # job key -> the one blank whose tests it gets (check-course)
    reverse: bool = False  # run the hidden tests in reverse order (check-course: grades must not depend on it)
    language: str | None = None  # what students read is written in (None: the course's, autograder.i18n)


NOTES_SHOWN = 20  # cells that raised, named one by one in the notebook's feedback; the rest are counted


def notebook_notes(submission: Submission | None) -> str:
    """What a student should know about the notebook as a whole: which cells raised (the first few). A cell is named
    by the prompt JupyterLab shows beside it after Restart Kernel and Run All ("Cell [16]": its place among the
    code cells)."""
    if submission is None:
        return ""
    from autograder.grading.submission import where_words

    notes: list[str] = []
    failed = [r for r in submission.cell_reports if not r.ok and r.error]
    if len(failed) > NOTES_SHOWN:
        notes.append(_("{count} cells raised an error; the first {shown}:").format(count=len(failed), shown=NOTES_SHOWN))
    for report in failed[:NOTES_SHOWN]:
        e = report.error
        if e["type"] == "Stopped":
            notes.append(_("Cell [{number}] was skipped: {why}.").format(number=report.cell + 1, why=e["message"][:300]))
        elif e.get("where"):
            notes.append(_("Cell [{number}] raised {error}: {message} ({where}).").format(
                number=report.cell + 1, error=e["type"], message=e["message"][:300], where=where_words(e["where"])))
        else:
            notes.append(_("Cell [{number}] raised {error}: {message}.").format(
                number=report.cell + 1, error=e["type"], message=e["message"][:300]))
    if submission.unusable:
        notes.append(submission.unusable)
    if submission.lost:
        notes.append(_("Your notebook's process was stopped: {why}.").format(why=submission.lost))
    return "\n".join(notes)


def how_graded(notebook: "_Notebook", submission: Submission | None) -> str:
    """"no" (not readable: nothing graded), "in part" (a process lost, a time budget spent, a cell skipped), or
    "in full": what the pages and the report decide from, whatever the language of the notes."""
    if notebook.unreadable is not None:
        return "no"
    if submission is not None and (submission.unusable or submission.lost or submission.skipped):
        return "in part"
    return "in full"


def graded_cells(course: Course, assignment: Assignment, path: Path) -> list[str]:
    """The code cells of a notebook as the grader runs them: a copy of one of the release's own checking cells
    (test and self-check cells) becomes an empty cell, so it costs nothing and the numbering is kept.
    Raises :class:`autograder.grading.notebook.NotebookError` for a file that is not a readable notebook."""
    from autograder.grading.notebook import read_code_cells

    checking = course.instructor_cells(assignment)
    return ["" if cell.strip() in checking else cell for cell in read_code_cells(path)]


def host_scrubber(settings: Settings, extra: dict[str, str] | None = None) -> HostScrubber:
    """What of the grader's machine feedback must not show: the course, the results and submission folders, the
    Python installation (a virtual environment inside the course would show where the course is). ``extra``: more
    folders and their placeholders (a Dask worker's copy of a notebook stands where the client's notebook was)."""
    folders = {str(settings.course.root): "<course>"}
    folders.update({str(h): "<grader folder>" for h in settings.hide})
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        folders[prefix] = "<python>"
    folders.update(extra or {})
    from autograder.sandbox.zygote import BASE_UID, UID_COUNT

    return HostScrubber(folders, uids=range(BASE_UID, BASE_UID + UID_COUNT))


def speak(settings: Settings) -> str:
    """Make this process write feedback in the run's language: ``settings.language``, else the course's."""
    from autograder.i18n import course_language, use

    return use(settings.language or course_language(settings.course.root), settings.course.root)


def zygote_settings(settings: Settings) -> dict[str, Any]:
    """The keywords of :class:`autograder.sandbox.zygote.Zygote` for ``settings``."""
    from autograder.sandbox.zygote import Limits  # imported late: only graders need it

    # defer_warm_up: the zygote is ready once torch is in; it warms the optimizers up after forking the first sandbox
    return {"limits": Limits(memory_bytes=settings.memory_bytes, call_timeout=settings.call_timeout),
            "level": settings.isolation, "minimum": settings.minimum, "hide": settings.hide, "defer_warm_up": True}


def _open_factory(settings: Settings, zygote: Zygote | None = None) -> Callable[[Assignment], Callable[[], Transport]]:
    """Sandboxes from ``zygote`` (by default, a zygote of its own), each ended on a helper thread, which also starts
    notebooks ahead (:mod:`autograder.grading.ahead`)."""
    from concurrent.futures import ThreadPoolExecutor

    from autograder.grading.ahead import Retiring
    from autograder.sandbox.zygote import Zygote

    if zygote is None:
        zygote = Zygote(**zygote_settings(settings))
    helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grading helper")
    files: dict[str, dict[str, bytes]] = {}

    def for_assignment(assignment: Assignment) -> Callable[[], Transport]:
        def spawn() -> Transport:
            if assignment.name not in files:
                files[assignment.name] = settings.course.data_files(assignment)
            return Retiring(zygote.spawn(files=files[assignment.name]), helper)
        return spawn

    def close() -> None:
        helper.shutdown(wait=True)
        zygote.close()

    for_assignment.helper = helper  # type: ignore[attr-defined]
    for_assignment.close = close  # type: ignore[attr-defined]
    for_assignment.level = zygote.level  # type: ignore[attr-defined]
    for_assignment.notes = zygote.notes  # type: ignore[attr-defined]
    return for_assignment


class _Notebook:
    """A job's notebook as the grader runs it, read when first needed (not a whole class before the first is
    graded; possibly on the helper thread that starts it ahead)."""

    def __init__(self, course: Course, job: Job):
        self.course, self.job = course, job

    @cached_property
    def _read(self) -> tuple[list[str], str | None]:
        """(its cells, None), or ([], why its file is not a notebook)."""
        from autograder.grading.notebook import NotebookError

        try:
            return graded_cells(self.course, self.job.assignment, self.job.path), None
        except NotebookError as error:
            return [], str(error)

    @property
    def cells(self) -> list[str]:
        return self._read[0]

    @property
    def unreadable(self) -> str | None:
        return self._read[1]

    def digest(self) -> str:
        from autograder.grading.plugin import submission_digest

        return submission_digest(self.job.student, self.cells)

    def unusable(self) -> str | None:
        if self.unreadable is None:
            return None
        return _("Your notebook could not be read, so nothing in it was graded: {why}.").format(why=self.unreadable)


class Grader:
    """A warm grader for batch after batch: its sandbox zygote starts at once, in the background (a separate
    process: it imports torch while this one imports the trusted side), and every :meth:`grade` is one pytest
    session over a batch. Not for two batches at a time (pytest is not re-entrant): callers take turns."""

    def __init__(self, settings: Settings, open_factory: Callable[[Assignment], Callable[[], Transport]] | None = None,
                 zygote: Zygote | None = None):
        self.settings = settings
        self._factory = open_factory if zygote is None else _open_factory(settings, zygote)
        self._error: BaseException | None = None
        self._started = threading.Thread(target=self._start, name="zygote start-up", daemon=True)
        if self._factory is None:
            import autograder.sandbox.zygote  # noqa: F401 - here, so that the thread imports nothing beside the caller's imports
            self._started.start()

    def _start(self) -> None:
        try:
            self._factory = _open_factory(self.settings)
        except BaseException as error:  # noqa: BLE001 - raised again by ready(), in the caller's thread
            self._error = error

    def ready(self) -> Callable[[Assignment], Callable[[], Transport]]:
        """The sandbox factory, once the zygote is up; raises what stopped it (SandboxUnavailable...)."""
        if self._started.ident is not None:
            self._started.join()
        if self._error is not None:
            raise self._error
        assert self._factory is not None
        return self._factory

    @property
    def level(self) -> str | None:
        return getattr(self.ready(), "level", None)

    @property
    def notes(self) -> list[str]:
        return list(getattr(self.ready(), "notes", []))

    def grade(self, jobs: list[Job], report: Callable[[str, NotebookResult], None],
              note: Callable[[str], None] = lambda text: None, scrub: dict[str, str] | None = None) -> list[str]:
        """Grade ``jobs`` in one pytest session; ``report`` gets each notebook's results as soon as they are known,
        ``note`` what the instructor should know about the isolation. Returns internal errors of the hidden tests."""
        prepare_imports()
        speak(self.settings)
        from autograder.grading.ahead import Ahead
        from autograder.grading.plugin import Entry, GradingPlugin, run_pytest

        settings = self.settings
        notebooks = {job.key: _Notebook(settings.course, job) for job in jobs}
        factory = self.ready()
        level = getattr(factory, "level", None)
        for text in getattr(factory, "notes", []):
            note(text)

        def make(key: str) -> Submission:
            notebook = notebooks[key]
            return _submission(factory(notebook.job.assignment), notebook.cells, notebook.unusable(), settings)

        # the order pytest opens them in: by hidden test module, then as given
        # while the first wait for a sandbox lasts: what the hidden tests would import later (torch._dynamo)
        ahead = Ahead(getattr(factory, "helper", None), [j.key for j in sorted(jobs, key=lambda j: j.assignment.name)],
                      make, while_waiting=warm_trusted)
        entries = [Entry(job.key, job.assignment.name, functools.partial(ahead.take, job.key),
                         digest=notebooks[job.key].digest, only_blank=settings.only.get(job.key)) for job in jobs]
        scrubber = host_scrubber(settings, scrub)

        def done(key: str, tests: list[TestResult], submission: Submission | None) -> None:
            job = notebooks[key].job
            report(key, scrubber.result(NotebookResult(job.student, job.assignment.name, job.path.stem, list(tests),
                                                       output=notebook_notes(submission), isolation=level,
                                                       error=notebooks[key].unreadable,
                                                       curves=plugin.curves.pop(key, None),
                                                       graded=how_graded(notebooks[key], submission))))

        plugin = GradingPlugin(settings.course, entries, settings.secret, on_done=done, curves=settings.curves,
                               reverse=settings.reverse)
        assignments = sorted({job.assignment.name: job.assignment for job in jobs}.values(), key=lambda a: a.name)
        try:
            code = run_pytest(assignments, plugin)
        finally:
            ahead.close()
        if code not in (0, 1):
            plugin.internal_errors.append(f"pytest exited with code {code}")
        return plugin.internal_errors

    def close(self) -> None:
        try:
            factory = self.ready()
        except BaseException:  # noqa: BLE001 - nothing was started
            return
        close = getattr(factory, "close", None)
        if close is not None:
            close()


def grade_shard(jobs: list[Job], settings: Settings, report: Callable[[str, NotebookResult], None],
                open_factory: Callable[[Assignment], Callable[[], Transport]] | None = None,
                note: Callable[[str], None] = lambda text: None) -> list[str]:
    """Grade ``jobs`` in this process; ``report`` gets each notebook's results as soon as they are known, ``note``
    what the instructor should know about the isolation. Returns internal errors of the hidden tests."""
    grader = Grader(settings, open_factory)  # the zygote starts now, beside the imports
    try:
        prepare_imports()
        return grader.grade(jobs, report, note)
    finally:
        grader.close()


def _submission(opener: Callable[[], Transport], cells: list[str], unusable: str | None,
                settings: Settings) -> Submission:
    from autograder.grading.submission import Submission

    budget = settings.notebook_budget if settings.notebook_budget is not None else 4 * settings.notebook_timeout
    return Submission(opener, cells, cell_timeout=settings.cell_timeout, call_timeout=settings.call_timeout,
                      notebook_timeout=settings.notebook_timeout, unusable=unusable, budget=budget)


@dataclass(frozen=True)
class Graded:
    key: str
    result: NotebookResult


@dataclass(frozen=True)
class Problem:
    """Something the instructor must hear about: a notebook or a whole shard could not be graded."""
    text: str


@dataclass(frozen=True)
class Note:
    """Something the instructor should know (e.g. why a weaker isolation level is used)."""
    text: str
