"""``python -m autograder grade PATH [PATH ...] [--course DIR] [--out DIR] [--jobs N]``: grade notebooks; progress,
the table of scores, exit codes.

What is graded: only ``<student>/<assignment>/<notebook>.ipynb`` (see autograder.grading.discover). Everything else
in a folder given (a notebook in a deeper folder, an unknown assignment folder, a stray notebook, a symbolic
link, a name that is not plain) is printed on stderr as ``skipped: <path>: <why>`` before grading, and counted
in the summary; skipping is not a failure. A student with several notebooks for one assignment: the one
named like the release notebook is graded, the others are skipped; when none is named like it, none is
graded (never the best of several) and the student's results file gives 0 with a message to submit only
the release notebook, so scores.csv shows 0 for that assignment.

Exit codes: 0 every notebook found was graded (whatever the scores, whatever was skipped); 1 something
could not be graded (the sandbox could not be built, a hidden test broke); 2 bad input (a missing path, not
a notebook, an unknown assignment given directly, nothing to grade at all, not a course directory, bad
options).

Names of files and folders are printed as they are: never read as rich markup.
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from autograder.cli.common import console, errors
from autograder.grading.course import Course, locate
from autograder.grading.discover import Discovery, InputError, discover, nothing_found, shown
from autograder.grading.results import NotebookResult, write_results, write_scores_csv
from autograder.platforms.gradescope import ungraded
from autograder.sandbox.hostprobe import ISOLATING

SHOWN_SKIPS = 20  # skipped paths printed before "... and N more"


def add_parser(commands: argparse._SubParsersAction) -> None:
    grade = commands.add_parser("grade", help="grade notebooks or folders of submissions")
    grade.set_defaults(run=run)
    grade.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                       help="a notebook, or a folder laid out as <student>/<assignment>/<notebook>.ipynb")
    grade.add_argument("--course", type=Path, default=None, metavar="DIR",
                       help="the course directory: release/, hidden/, solutions/ (default: $AUTOGRADER_COURSE, "
                            "else the working folder or one above it, else this checkout)")
    grade.add_argument("--out", type=Path, default=Path("graded"), help="where results go (default: graded/)")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="notebooks graded in parallel")
    grade.add_argument("--secret", default=None,
                       help="course secret the hidden inputs are drawn from (default: $AUTOGRADER_SECRET, else "
                            "the course's .autograder-secret file)")
    grade.add_argument("--memory-gib", type=float, default=4.0, help="memory limit per submission (GiB)")
    grade.add_argument("--call-timeout", type=float, default=10.0, help="seconds one call may take")
    grade.add_argument("--cell-timeout", type=float, default=30.0, help="seconds one notebook cell may take")
    grade.add_argument("--notebook-timeout", type=float, default=120.0,
                       help="seconds a whole notebook may take to run before its tests")
    grade.add_argument("--notebook-budget", type=float, default=None, metavar="SECONDS",
                       help="wall time one notebook may cost in all, reruns and every test's calls included "
                            "(default: 4 x --notebook-timeout)")
    grade.add_argument("--isolation", default=None, metavar="LEVEL", choices=ISOLATING,
                       help="refuse to grade unless at least this isolation level can be had: "
                            f"{', '.join(ISOLATING)} (strongest first; default: the strongest available)")
    grade.add_argument("--exact-isolation", default=None, metavar="LEVEL", choices=ISOLATING,
                       help="use exactly this level, even where a stronger one is available (to test a platform's)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run student code without namespaces or seccomp, still under an unprivileged uid "
                            "(only if you trust every submission)")
    grade.add_argument("--quiet", action="store_true", help="print only the final table")
    grade.add_argument("--executor", default="local", metavar="WHERE",
                       help="where notebooks are graded: local (default: --jobs worker processes here) or "
                            "dask://HOST:PORT (the Dask scheduler of a cluster; see README, Grading on a cluster)")
    grade.add_argument("--shard", default=None, metavar="I/N",
                       help="grade only shard I of N (1 <= I <= N): the students whose name hashes to it, whatever "
                            "the order of the paths (Slurm array jobs, Kubernetes indexed Jobs); writes "
                            "scores-I-of-N.csv and no class report")
    grade.add_argument("--no-report", action="store_true",
                       help="write the results files and scores.csv only, not the class report and feedback pages")


def run(args: argparse.Namespace) -> int:
    return grade(locate(args.course), args)


def _shard(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise InputError(f"--shard {text!r}: expected I/N, e.g. 2/8") from None
    if not 1 <= index <= count:
        raise InputError(f"--shard {text!r}: I must be between 1 and N")
    return index, count


def _executor(text: str) -> str | None:
    """None for local grading, else the Dask scheduler's address."""
    if text == "local":
        return None
    if text.startswith(("dask://", "tcp://", "tls://")) and len(text.split("://", 1)[1]) > 0:
        return text
    raise InputError(f"--executor {text!r}: expected local or dask://HOST:PORT")


def grade(course: Course, args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise InputError("--jobs must be at least 1")
    shard, executor = _shard(args.shard), _executor(args.executor)
    if sum(map(bool, (args.no_sandbox, args.isolation, args.exact_isolation))) > 1:
        raise InputError("--no-sandbox, --isolation and --exact-isolation exclude each other: choose one")
    found = discover(course, args.paths)
    _print_skipped(found.skipped)
    if not found.jobs and not found.ungraded:
        raise InputError(nothing_found(args.paths, found))
    if shard is not None:
        from autograder.grading.runner import in_shard

        found.jobs = [j for j in found.jobs if in_shard(j.student, *shard)]
        found.ungraded = [u for u in found.ungraded if in_shard(u.student, *shard)]
    jobs = found.jobs
    assignments = [*(j.assignment for j in jobs), *(u.assignment for u in found.ungraded)]
    for assignment in {a.name: a for a in assignments}.values():
        for needed in (course.hidden_tests(assignment), course.solutions(assignment)):
            if not needed.is_file():
                raise InputError(f"{needed}: missing from the course directory {course.root}, so "
                                 f"{assignment.name} cannot be graded")
    secret = course.secret(args.secret)
    out = _output_folder(args.out)
    from autograder.grading.runner import Graded, Note, Settings  # torch is imported once input is valid
    from autograder.grading.workers import grade_parallel
    from autograder.sandbox.zygote import SandboxUnavailable
    hide = sorted({course.root, out, *(p.resolve() if p.is_dir() else p.resolve().parent for p in args.paths)})
    settings = Settings(course=course, secret=secret, isolation="none" if args.no_sandbox else args.exact_isolation or "auto",
                        minimum=args.isolation, memory_bytes=int(args.memory_gib * (1 << 30)),
                        cell_timeout=args.cell_timeout, call_timeout=args.call_timeout,
                        notebook_timeout=args.notebook_timeout, notebook_budget=args.notebook_budget,
                        hide=list(hide), curves=not args.no_report)
    started = time.perf_counter()
    results: list[NotebookResult] = []
    problems: list[str] = []
    by_key = {j.key: j for j in jobs}
    for target in [*(j.results for j in jobs), *(u.results for u in found.ungraded)]:
        if target.is_absolute() or ".." in target.parts:  # discover() rejects such names; never write outside out
            raise InputError(f"{shown(str(target))}: a results path outside {out}")
    not_graded = [replace(ungraded(u.assignment, u.why), student=u.student) for u in found.ungraded]
    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True, disable=args.quiet or not console.is_terminal)
    try:
        with progress:
            task = progress.add_task("grading", total=len(jobs))
            if not jobs:
                events = iter(())
            elif executor is not None:
                from autograder.platforms.dask_executor import grade_dask

                events = grade_dask(jobs, settings, executor)
            else:
                events = grade_parallel(jobs, settings, min(args.jobs, len(jobs)))
            for event in events:
                if isinstance(event, Note):
                    progress.console.print(f"note: {event.text}", markup=False, highlight=False)
                    continue
                if not isinstance(event, Graded):
                    problems.append(event.text)
                    continue
                key, item = event.key, event.result
                write_results(item, out / by_key[key].results)
                results.append(item)
                progress.advance(task)
                if not args.quiet:
                    progress.console.print(f"  {shown(item.student):<20} {item.assignment:<24} "
                                           f"{item.score:g}/{item.max_score:g}", markup=False)
    except SandboxUnavailable as error:
        errors.print(f"error: {error}", markup=False)
        return 1
    for u, item in zip(found.ungraded, not_graded):
        write_results(item, out / u.results)
    if results or not_graded:
        write_scores_csv(results + not_graded, out / ("scores.csv" if shard is None else "scores-%d-of-%d.csv" % shard))
    _print_table(results, not_graded, found, time.perf_counter() - started)
    unreadable = [r for r in results if r.error]
    for r in unreadable:  # its results file says why (0 points); it still was not graded
        errors.print(f"problem: {shown(r.student)}/{r.assignment}: not graded: {shown(r.error or '')}",
                     markup=False)
    missing = len(jobs) - len(results) + len(unreadable)
    for p in problems:
        errors.print(f"problem: {shown(p.splitlines()[0] if p else '')}", markup=False)
    if missing:
        errors.print(f"error: {missing} notebook(s) could not be graded", markup=False)
    if shard is not None and not args.quiet:
        console.print(f"shard {shard[0]}/{shard[1]}: {len(jobs)} notebook(s); once every shard is done, "
                      f"`python -m autograder report {out}` writes the class report", markup=False)
    if shard is None and not args.no_report:
        _write_reports(out, course, args.quiet)  # never changes the exit code
    console.print(f"results in {out}", markup=False)
    return 1 if missing or problems else 0


def _write_reports(out: Path, course: Course, quiet: bool) -> None:
    """The class report and the students' feedback pages (autograder.outputs.report): a failure is a note on stderr,
    never grading's outcome."""
    try:
        from autograder.outputs.report import write_reports

        def say(text: str) -> None:
            if not quiet:
                console.print(text, markup=False, soft_wrap=True)

        write_reports(out, course, say=say)
    except Exception as error:  # noqa: BLE001 - grading is done and its results are written
        errors.print(f"note: no class report ({type(error).__name__}: {error})", markup=False)


def _print_skipped(skipped: list[str]) -> None:
    """What discovery skipped, one line each (already printable: see autograder.grading.discover.shown)."""
    for line in skipped[:SHOWN_SKIPS]:
        errors.print(f"skipped: {line}", markup=False, emoji=False)
    if len(skipped) > SHOWN_SKIPS:
        errors.print(f"skipped: ... and {len(skipped) - SHOWN_SKIPS} more", markup=False)


def _output_folder(out: Path) -> Path:
    """The results folder, made now (readable by its owner only) so that a bad --out stops before any grading."""
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: --out must be a folder, and this is a file")
    try:
        out.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as error:
        raise InputError(f"{out}: cannot create the results folder ({error.strerror})") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputError(f"{out}: the results folder is not writable")
    return out


def _print_table(results: list[NotebookResult], not_graded: list[NotebookResult], found: Discovery,
                 seconds: float) -> None:
    title = f"{len(results)} notebook(s) graded in {seconds:.1f} s"
    if not_graded:
        title += f", {len(not_graded)} assignment(s) not graded (several notebooks, none named like the release)"
    if found.skipped:
        title += f", {len(found.skipped)} path(s) skipped"
    table = Table(title=Text(title))
    table.add_column("student")
    table.add_column("assignment")
    table.add_column("score", justify="right")
    table.add_column("blanks short of full marks")
    for r in sorted(results + not_graded, key=lambda r: (r.student, r.assignment)):
        short = [f"{b} {got:g}/{of:g}" for b, (got, of) in r.by_blank().items() if got < of]
        if any(r is n for n in not_graded):
            short = ["not graded: several notebooks, none named like the release"]
        table.add_row(Text(shown(r.student)), Text(shown(r.assignment)), Text(f"{r.score:g}/{r.max_score:g}"),
                      Text(", ".join(short) or "-"))
    console.print(table)


