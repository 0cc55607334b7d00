"""Grade a batch: shard the notebooks over ``--jobs`` worker processes, each with its own warm sandbox
zygote and one pytest session over its shard; stream every finished notebook back to the parent, which
writes its results file at once (no lost work) and drives the progress display.
"""
from __future__ import annotations

import multiprocessing
import queue
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from autograder.course import Assignment, Course
from autograder.discover import Job
from autograder.notebook import NotebookError, read_code_cells
from autograder.plugin import Entry, GradingPlugin, run_pytest, submission_digest
from autograder.results import HostScrubber, NotebookResult, TestResult
from autograder.submission import Submission, Transport


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
    """What a student should know about the notebook as a whole: which cells raised (the first few)."""
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
            notes.append(f"Cell {report.cell + 1} was skipped: {e['message'][:300]}.")
        else:
            notes.append(f"Cell {report.cell + 1} raised {e['type']}: {e['message'][:300]}{where}.")
    if submission.unusable:
        notes.append(submission.unusable)
    if submission.lost:
        notes.append(f"Your notebook's process was stopped: {submission.lost}.")
    return "\n".join(notes)


def host_scrubber(settings: Settings) -> HostScrubber:
    """What of the grader's machine feedback must not show: the course, the results and submission folders, the
    Python installation (a virtual environment inside the course would show where the course is)."""
    folders = {str(settings.course.root): "<course>"}
    folders.update({str(h): "<grader folder>" for h in settings.hide})
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        folders[prefix] = "<python>"
    from autograder.sandbox import BASE_UID, UID_COUNT

    return HostScrubber(folders, uids=range(BASE_UID, BASE_UID + UID_COUNT))


def _open_factory(settings: Settings) -> Callable[[Assignment], Callable[[], Transport]]:
    from autograder.sandbox import Limits, Zygote  # imported late: only graders need it

    limits = Limits(memory_bytes=settings.memory_bytes, call_timeout=settings.call_timeout)
    zygote = Zygote(limits=limits, level=settings.isolation, minimum=settings.minimum, hide=settings.hide)
    files = {}

    def for_assignment(assignment: Assignment) -> Callable[[], Transport]:
        if assignment.name not in files:
            files[assignment.name] = settings.course.data_files(assignment)
        return lambda: zygote.spawn(files=files[assignment.name])

    for_assignment.close = zygote.close  # type: ignore[attr-defined]
    for_assignment.level = zygote.level  # type: ignore[attr-defined]
    for_assignment.notes = zygote.notes  # type: ignore[attr-defined]
    return for_assignment


def grade_shard(jobs: list[Job], settings: Settings, report: Callable[[str, NotebookResult], None],
                open_factory: Callable[[Assignment], Callable[[], Transport]] | None = None,
                note: Callable[[str], None] = lambda text: None) -> list[str]:
    """Grade ``jobs`` in this process; ``report`` gets each notebook's results as soon as they are known, ``note``
    what the instructor should know about the isolation. Returns internal errors of the hidden tests."""
    factory = open_factory or _open_factory(settings)
    level = getattr(factory, "level", None)
    for text in getattr(factory, "notes", []):
        note(text)
    by_key = {job.key: job for job in jobs}
    unreadable: dict[str, str] = {}  # job key -> why its file is not a notebook
    entries = []
    for job in jobs:
        try:
            cells = read_code_cells(job.path)
            unusable = None
        except NotebookError as error:
            cells, unusable = [], f"Your notebook could not be read, so nothing in it was graded: {error}."
            unreadable[job.key] = str(error)
        opener = factory(job.assignment)
        entries.append(Entry(job.key, job.assignment.name, _submission_opener(opener, cells, unusable, settings),
                             digest=submission_digest(job.student, cells)))

    scrub = host_scrubber(settings)

    def done(key: str, tests: list[TestResult], submission: Submission | None) -> None:
        job = by_key[key]
        report(key, scrub.result(NotebookResult(job.student, job.assignment.name, job.path.stem, list(tests),
                                                output=notebook_notes(submission), isolation=level,
                                                error=unreadable.get(key))))

    plugin = GradingPlugin(settings.course, entries, settings.secret, on_done=done)
    try:
        assignments = sorted({job.assignment.name: job.assignment for job in jobs}.values(), key=lambda a: a.name)
        code = run_pytest(assignments, plugin)
        if code not in (0, 1):
            plugin.internal_errors.append(f"pytest exited with code {code}")
    finally:
        close = getattr(factory, "close", None)
        if close is not None:
            close()
    return plugin.internal_errors


def _submission_opener(opener: Callable[[], Transport], cells: list[str], unusable: str | None,
                       settings: Settings) -> Callable[[], Submission]:
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
        errors = grade_shard(jobs, settings, lambda key, r: out.put(("result", (key, r))),
                             note=lambda text: out.put(("note", text)))
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
