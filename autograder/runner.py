"""Grade a batch: shard the notebooks over ``--jobs`` worker processes, each with its own warm sandbox
zygote and one pytest session over its shard; stream every finished notebook back to the parent, which
writes its results file at once (no lost work) and drives the progress display.

Start-up is what a small class waits for, so it is overlapped: the parent forks its workers before importing
anything heavy (no torch in the parent); each worker starts its zygote first (a separate process, importing
torch beside it) and only then imports the trusted side (torch, pytest, nbformat; :func:`prepare_imports`);
what the first hidden tests would import on the way (``torch.testing``'s DTensor check, the optimizers'
``torch._dynamo``) is imported while the zygote still starts, if it does (:func:`warm_trusted`).
:class:`Grader` is one such warm grader, reused for batch after batch (:mod:`autograder.dask_executor`).
"""
from __future__ import annotations

import gc
import hashlib
import multiprocessing
import queue
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from autograder.course import Assignment, Course
from autograder.discover import Job
from autograder.results import HostScrubber, NotebookResult, TestResult

if TYPE_CHECKING:  # imported when grading starts: they bring torch and pytest
    from autograder.submission import Submission, Transport


def prepare_imports() -> None:
    """Import the trusted side (torch, pytest, the plugin, nbformat). jsonschema, under nbformat, builds a grammar
    for RFC 3987 IRIs when it is imported and ``rfc3987_syntax`` is installed (1.5-2 s on a 2-core machine);
    nbformat's schema checks no IRI format, so it is kept out of that one import (and importable afterwards)."""
    if "autograder.plugin" in sys.modules and "autograder.notebook" in sys.modules:
        return
    blocked = "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
    try:
        import autograder.notebook  # noqa: F401
    finally:
        if blocked and "rfc3987_syntax" in sys.modules and sys.modules["rfc3987_syntax"] is None:
            del sys.modules["rfc3987_syntax"]
    import autograder.plugin  # noqa: F401
    import autograder.submission  # noqa: F401


def warm_trusted(enough: Callable[[], bool] = lambda: False) -> None:
    """Import now what the hidden tests would import on their first run: torch.testing.assert_close imports
    torch.distributed.tensor (about 0.8 s), an optimizer torch._dynamo (about 1 s); each step only while
    ``enough()`` is false (e.g. while the zygote still starts: never at the cost of the first notebook). Then freeze
    what is in memory, so that the garbage collector (pytest runs it after each session) does not walk it again.
    Never in a thread beside grading: two threads importing torch's modules at once break them."""
    import torch

    steps = (lambda: torch.testing.assert_close(torch.zeros(2), torch.zeros(2)),
             lambda: torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1))
    for step in steps:
        if enough():
            break
        try:
            step()
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
    isolation: str = "auto"  # a level of autograder.hostprobe.LEVELS, or "auto": the strongest the host allows
    minimum: str | None = None  # refuse to grade with a level weaker than this (--isolation)
    memory_bytes: int = 4 << 30
    cell_timeout: float = 30.0
    call_timeout: float = 10.0
    notebook_timeout: float = 120.0
    notebook_budget: float | None = None  # wall time of a notebook, all runs and calls; None: 4 x notebook_timeout
    hide: list[Path] = field(default_factory=list)  # folders the submissions must not see


NOTES_SHOWN = 20  # cells that raised, named one by one in the notebook's feedback; the rest are counted


def notebook_notes(submission: Submission | None) -> str:
    """What a student should know about the notebook as a whole: which cells raised (the first few). A cell is named
    by the prompt JupyterLab shows beside it after Restart Kernel and Run All ("Cell [16]": its place among the
    code cells)."""
    if submission is None:
        return ""
    notes: list[str] = []
    failed = [r for r in submission.cell_reports if not r.ok and r.error]
    if len(failed) > NOTES_SHOWN:
        notes.append(f"{len(failed)} cells raised an error; the first {NOTES_SHOWN}:")
    for report in failed[:NOTES_SHOWN]:
        e = report.error
        where = f" ({e['where']})" if e.get("where") else ""
        if e["type"] == "Stopped":
            notes.append(f"Cell [{report.cell + 1}] was skipped: {e['message'][:300]}.")
        else:
            notes.append(f"Cell [{report.cell + 1}] raised {e['type']}: {e['message'][:300]}{where}.")
    if submission.unusable:
        notes.append(submission.unusable)
    if submission.lost:
        notes.append(f"Your notebook's process was stopped: {submission.lost}.")
    return "\n".join(notes)


def graded_cells(course: Course, assignment: Assignment, path: Path) -> list[str]:
    """The code cells of a notebook as the grader runs them: a copy of one of the release's own checking cells
    (test and self-check cells) becomes an empty cell, so it costs nothing and the numbering is kept.
    Raises :class:`autograder.notebook.NotebookError` for a file that is not a readable notebook."""
    from autograder.notebook import read_code_cells

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
    from autograder.sandbox import BASE_UID, UID_COUNT

    return HostScrubber(folders, uids=range(BASE_UID, BASE_UID + UID_COUNT))


def _open_factory(settings: Settings) -> Callable[[Assignment], Callable[[], Transport]]:
    from autograder.sandbox import Limits, Zygote  # imported late: only graders need it

    limits = Limits(memory_bytes=settings.memory_bytes, call_timeout=settings.call_timeout)
    # defer_warm_up: the zygote is ready once torch is in; it warms the optimizers up after forking the first sandbox
    zygote = Zygote(limits=limits, level=settings.isolation, minimum=settings.minimum, hide=settings.hide,
                    defer_warm_up=True)
    from autograder.spare import SpareSandboxes

    files: dict[str, dict[str, bytes]] = {}

    def spawn(name: str) -> Transport:
        if name not in files:
            files[name] = settings.course.data_files(settings.course.assignments[name])
        return zygote.spawn(files=files[name])

    spares = SpareSandboxes(spawn)

    def for_assignment(assignment: Assignment) -> Callable[[], Transport]:
        return lambda: spares.open(assignment.name)

    def close() -> None:
        spares.close()
        zygote.close()

    for_assignment.plan = spares.plan  # type: ignore[attr-defined]
    for_assignment.close = close  # type: ignore[attr-defined]
    for_assignment.level = zygote.level  # type: ignore[attr-defined]
    for_assignment.notes = zygote.notes  # type: ignore[attr-defined]
    return for_assignment


class Grader:
    """A warm grader for batch after batch: its sandbox zygote starts at once, in the background (a separate
    process: it imports torch while this one imports the trusted side), and every :meth:`grade` is one pytest
    session over a batch. Not for two batches at a time (pytest is not re-entrant): callers take turns."""

    def __init__(self, settings: Settings, open_factory: Callable[[Assignment], Callable[[], Transport]] | None = None):
        self.settings = settings
        self._factory = open_factory
        self._error: BaseException | None = None
        self._started = threading.Thread(target=self._start, name="zygote start-up", daemon=True)
        if open_factory is None:
            import autograder.sandbox  # noqa: F401 - here, so that the thread imports nothing beside the caller's imports
            self._started.start()

    def _start(self) -> None:
        try:
            self._factory = _open_factory(self.settings)
        except BaseException as error:  # noqa: BLE001 - raised again by ready(), in the caller's thread
            self._error = error

    def started(self) -> bool:
        """Whether the zygote's start-up is over (ready, or failed)."""
        return not self._started.is_alive()

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
        from autograder.notebook import NotebookError, read_code_cells
        from autograder.plugin import Entry, GradingPlugin, run_pytest, submission_digest

        settings = self.settings
        by_key = {job.key: job for job in jobs}
        unreadable: dict[str, str] = {}  # job key -> why its file is not a notebook
        cells_of = {}
        for job in jobs:
            try:
                cells_of[job.key] = graded_cells(settings.course, job.assignment, job.path)
            except NotebookError as error:
                cells_of[job.key] = []
                unreadable[job.key] = str(error)
        factory = self.ready()
        level = getattr(factory, "level", None)
        for text in getattr(factory, "notes", []):
            note(text)
        entries = []
        for job in jobs:
            cells = cells_of[job.key]
            unusable = (f"Your notebook could not be read, so nothing in it was graded: {unreadable[job.key]}."
                        if job.key in unreadable else None)
            entries.append(Entry(job.key, job.assignment.name,
                                 _submission_opener(factory(job.assignment), cells, unusable, settings),
                                 digest=submission_digest(job.student, cells)))
        scrubber = host_scrubber(settings, scrub)
        plan = getattr(factory, "plan", None)
        if plan is not None:  # the order pytest opens them in: by hidden test module, then as given
            plan([job.assignment.name for job in sorted(jobs, key=lambda job: job.assignment.name)])

        def done(key: str, tests: list[TestResult], submission: Submission | None) -> None:
            job = by_key[key]
            report(key, scrubber.result(NotebookResult(job.student, job.assignment.name, job.path.stem, list(tests),
                                                       output=notebook_notes(submission), isolation=level,
                                                       error=unreadable.get(key))))

        plugin = GradingPlugin(settings.course, entries, settings.secret, on_done=done)
        assignments = sorted({job.assignment.name: job.assignment for job in jobs}.values(), key=lambda a: a.name)
        code = run_pytest(assignments, plugin)
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


def _submission_opener(opener: Callable[[], Transport], cells: list[str], unusable: str | None,
                       settings: Settings) -> Callable[[], Submission]:
    from autograder.submission import Submission

    def open_submission() -> Submission:
        budget = settings.notebook_budget if settings.notebook_budget is not None else 4 * settings.notebook_timeout
        return Submission(opener, cells, cell_timeout=settings.cell_timeout, call_timeout=settings.call_timeout,
                          notebook_timeout=settings.notebook_timeout, unusable=unusable, budget=budget)
    return open_submission


def shard(jobs: list[Job], n: int) -> list[list[Job]]:
    """Round-robin shards: each worker gets a mix of assignments, in a fixed order."""
    return [s for s in (jobs[i::n] for i in range(n)) if s]


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


def _worker(jobs: list[Job], settings: Settings, out: multiprocessing.Queue) -> None:
    from autograder.sandbox import SandboxError

    try:
        grader = Grader(settings)  # its zygote imports torch beside this process's imports
        try:
            prepare_imports()
            warm_trusted(enough=grader.started)  # what the first tests would import, while the zygote starts
            errors = grader.grade(jobs, lambda key, r: out.put(("result", (key, r))),
                                  note=lambda text: out.put(("note", text)))
        finally:
            grader.close()
        out.put(("done", errors))
    except SandboxError as error:  # e.g. namespaces not permitted: nothing can be graded safely
        out.put(("unavailable", str(error)))
    except BaseException as error:  # noqa: BLE001 - the parent must hear about it, whatever it was
        out.put(("failed", f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}"))


def grade_parallel(jobs: list[Job], settings: Settings, n_jobs: int) -> Iterator[Graded | Problem | Note]:
    """Yield :class:`Graded` for each notebook as workers finish it, a :class:`Problem` per problem and each
    distinct :class:`Note` once."""
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue = context.Queue()
    shards = shard(jobs, max(1, n_jobs))
    workers = [context.Process(target=_worker, args=(s, settings, results), daemon=True) for s in shards]
    for w in workers:
        w.start()
    running = len(workers)
    noted: set[str] = set()
    while running:
        try:
            kind, payload = results.get(timeout=1.0)
        except queue.Empty:
            dead = [w for w in workers if not w.is_alive() and w.exitcode not in (0, None)]
            if dead and results.empty():
                for w in dead:
                    workers.remove(w)
                    running -= 1
                    yield Problem(f"a grading worker died (exit code {w.exitcode})")
            continue
        if kind == "result":
            yield Graded(*payload)
        elif kind == "note":
            if payload not in noted:
                noted.add(payload)
                yield Note(payload)
        elif kind == "unavailable":
            from autograder.sandbox import SandboxUnavailable

            for w in workers:
                w.kill()
            raise SandboxUnavailable(payload)
        elif kind == "done":
            running -= 1
            for e in payload:
                yield Problem(e)
        else:
            running -= 1
            yield Problem(payload)
    for w in workers:
        w.join(timeout=5)
