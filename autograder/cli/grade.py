"""``python -m autograder grade PATH [PATH ...] [--course DIR] [--out DIR] [--jobs N]``: grade notebooks; progress,
the table of scores, exit codes.

What is graded: only ``<student>/<assignment>/<notebook>.ipynb`` (see autograder.grading.discover). Everything else
in a folder given (a notebook in a deeper folder, an unknown assignment folder, a stray notebook, a symbolic
link, a name that is not plain) is printed on stderr as ``skipped: <path>: <why>`` before grading, and counted
in the summary; skipping is not a failure. A student with several notebooks for one assignment: the one
named like the release notebook is graded, the others are skipped; when none is named like it, none is
graded (never the best of several) and the student's results file gives 0 with a message to submit only
the release notebook, so scores.csv shows 0 for that assignment.

A notebook of another assignment (a student's 03 notebook in their 02 folder) is not graded either: the student
gets 0 for the folder's assignment and one sentence naming the notebook's assignment (autograder.grading.discover).

A single notebook gets the same layout as a class: ``<out>/<student>/<assignment>/<stem>.json`` and its page. The
default results folder is ``graded/`` in the working folder, unless that would be inside the submissions being
graded (``cd submitted && grade alice/02_x/x.ipynb``): then ``graded/`` beside the top folder of the submissions,
and when that is inside them too, the command stops and asks for ``--out``.

What the terminal says: first the isolation level the notebooks' code runs under and why that one (one line),
then a line per notebook graded and ``note:`` lines (both off with ``--quiet``), then the table; problems and
errors go to stderr whatever ``--quiet`` says.

Exit codes: 0 every notebook found was graded (whatever the scores, whatever was skipped); 1 something
could not be graded (the sandbox could not be built, a hidden test broke); 2 bad input (a missing path, not
a notebook, an unknown assignment given directly, nothing to grade at all, not a course directory, bad
options, a Dask scheduler that does not answer).

Names of files and folders are printed as they are: never read as rich markup.
"""
from __future__ import annotations

import argparse
import os
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from autograder.cli.common import LANG_HELP, console, errors, progress_bar
from autograder.cli.grade_notes import Isolation, Lateness, late_rules
from autograder.grading.course import Course, locate
from autograder.grading.discover import Discovery, InputError, discover, nothing_found, shown, submissions_top
from autograder.grading.results import NotebookResult, write_results, write_scores_csv
from autograder.platforms.gradescope import ungraded
from autograder.sandbox.hostprobe import ISOLATING

if TYPE_CHECKING:
    from distributed import Client

    from autograder.after.late_rules import LateRules

SHOWN_SKIPS = 20  # skipped paths printed before "... and N more"


def add_parser(commands: argparse._SubParsersAction) -> None:
    grade = commands.add_parser(
        "grade", help="grade notebooks or folders of submissions",
        description="Grade notebooks, or folders laid out as <student>/<assignment>/<notebook>.ipynb, each in a "
                    "sandbox of its own. Writes <out>/<student>/<assignment>/<notebook>.json (Gradescope's "
                    "results.json format) and its feedback page, scores.csv, and the class report report.html.")
    grade.set_defaults(run=run)
    grade.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                       help="a notebook, or a folder laid out as <student>/<assignment>/<notebook>.ipynb (the top "
                            "folder, a student's folder or an assignment folder)")
    grade.add_argument("--course", type=Path, default=None, metavar="DIR",
                       help="the course directory: release/, hidden/, solutions/ (default: $AUTOGRADER_COURSE, "
                            "else the working folder or one above it, else this checkout)")
    grade.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="where results go (default: graded/ in the working folder; when that would be inside "
                            "the submissions being graded, graded/ beside their top folder)")
    grade.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                       help="notebooks graded in parallel (default: the number of CPUs, %(default)s here)")
    grade.add_argument("--secret", default=None,
                       help="course secret the hidden inputs are drawn from (default: $AUTOGRADER_SECRET, else "
                            "the course's .autograder-secret file, made the first time)")
    grade.add_argument("--memory-gib", type=float, default=4.0, metavar="GIB",
                       help="memory limit per submission, in GiB (default: %(default)g)")
    grade.add_argument("--call-timeout", type=float, default=10.0, metavar="SECONDS",
                       help="seconds one call of a student's function may take (default: %(default)g)")
    grade.add_argument("--cell-timeout", type=float, default=30.0, metavar="SECONDS",
                       help="seconds one notebook cell may take (default: %(default)g)")
    grade.add_argument("--notebook-timeout", type=float, default=120.0, metavar="SECONDS",
                       help="seconds a whole notebook may take to run before its tests (default: %(default)g)")
    grade.add_argument("--notebook-budget", type=float, default=None, metavar="SECONDS",
                       help="wall time one notebook may cost in all, reruns and every test's calls included "
                            "(default: 4 x --notebook-timeout)")
    grade.add_argument("--isolation", default=None, metavar="LEVEL", choices=ISOLATING,
                       help="refuse to grade unless at least this isolation level can be had: "
                            f"{', '.join(ISOLATING)} (strongest first; default: the strongest available)")
    grade.add_argument("--exact-isolation", default=None, metavar="LEVEL", choices=ISOLATING,
                       help="use exactly this level, even where a stronger one is available, to test a platform's "
                            "(default: the strongest available)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run student code without namespaces or seccomp, still under an unprivileged uid "
                            "(only if you trust every submission)")
    grade.add_argument("--quiet", action="store_true",
                       help="print only the final table, problems and errors: no progress, no line per notebook, "
                            "no notes")
    grade.add_argument("--executor", default="local", metavar="WHERE",
                       help="where notebooks are graded: local, by --jobs worker processes here (the default), or "
                            "dask://HOST:PORT, the Dask scheduler of a cluster (README: Grading on a cluster)")
    grade.add_argument("--connect-timeout", type=float, default=5.0, metavar="SECONDS",
                       help="with --executor dask://...: how long to wait for the scheduler to answer "
                            "(default: %(default)g)")
    grade.add_argument("--shard", default=None, metavar="I/N",
                       help="grade only shard I of N (1 <= I <= N): the students whose name hashes to it, whatever "
                            "the order of the paths (Slurm array jobs, Kubernetes indexed Jobs); writes "
                            "scores-I-of-N.csv and no class report: `report` merges the shards' (default: the whole "
                            "class)")
    grade.add_argument("--no-report", action="store_true",
                       help="write the results files and scores.csv only, not the class report and feedback pages")
    grade.add_argument("--language", default=None, metavar="LANG", help=LANG_HELP)


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
    """Check the options and the input, then grade; every user error is an InputError (one line, exit 2) raised
    before the results folder is made."""
    shard, executor = _check_options(args)
    speak_language(course, args.language)  # discovery words the notes of notebooks not graded, the parent the pages
    found = _found(course, args, shard)
    rules = late_rules(course, args.quiet)
    secret = course.secret(args.secret)
    client = None
    if executor is not None and found.jobs:  # before --out is made: a wrong address costs seconds, not a folder
        from autograder.platforms.dask_executor import connect

        client = connect(executor, args.connect_timeout)
    try:
        out = _output_folder(args.out if args.out is not None else default_out(course, args.paths))
        return _grade(course, args, found, shard, out, secret, client, rules)
    finally:
        if client is not None:
            client.close()


def _check_options(args: argparse.Namespace) -> tuple[tuple[int, int] | None, str | None]:
    """The shard (I, N) and the Dask scheduler's address, after checking the options that need it."""
    if args.jobs < 1:
        raise InputError("--jobs must be at least 1")
    if args.connect_timeout <= 0:
        raise InputError("--connect-timeout must be more than 0 seconds")
    if sum(map(bool, (args.no_sandbox, args.isolation, args.exact_isolation))) > 1:
        raise InputError("--no-sandbox, --isolation and --exact-isolation exclude each other: choose one")
    return _shard(args.shard), _executor(args.executor)


def _found(course: Course, args: argparse.Namespace, shard: tuple[int, int] | None) -> Discovery:
    """What to grade (this shard's part of it), once the skipped paths are printed; the course must have the hidden
    tests and solutions of every assignment in it."""
    found = discover(course, args.paths)
    _print_skipped(found.skipped)
    if not found.jobs and not found.ungraded:
        raise InputError(nothing_found(args.paths, found))
    if shard is not None:
        from autograder.grading.runner import in_shard

        found.jobs = [j for j in found.jobs if in_shard(j.student, *shard)]
        found.ungraded = [u for u in found.ungraded if in_shard(u.student, *shard)]
    assignments = [*(j.assignment for j in found.jobs), *(u.assignment for u in found.ungraded)]
    for assignment in {a.name: a for a in assignments}.values():
        for needed in (course.hidden_tests(assignment), course.solutions(assignment)):
            if not needed.is_file():
                raise InputError(f"{needed}: missing from the course directory {course.root}, so "
                                 f"{assignment.name} cannot be graded")
    for target in [*(j.results for j in found.jobs), *(u.results for u in found.ungraded)]:
        if target.is_absolute() or ".." in target.parts:  # discover() rejects such names; never write outside out
            raise InputError(f"{shown(str(target))}: a results path outside the results folder")
    return found


def _grade(course: Course, args: argparse.Namespace, found: Discovery, shard: tuple[int, int] | None, out: Path,
           secret: str, client: Client | None, rules: LateRules | None = None) -> int:
    """Grade what was found into ``out``: the results files as they come, then scores, the table, what went wrong,
    and the pages. ``client``: a Dask client to grade on, else local workers; ``rules``: the course's late rules."""
    from autograder.grading.runner import Graded, Note, Settings  # torch is imported once input is valid
    from autograder.grading.workers import grade_parallel
    from autograder.sandbox.zygote import SandboxUnavailable
    jobs = found.jobs
    hide = sorted({course.root, out, *(p.resolve() if p.is_dir() else p.resolve().parent for p in args.paths)})
    settings = Settings(course=course, secret=secret, language=args.language, isolation="none" if args.no_sandbox else args.exact_isolation or "auto",
                        minimum=args.isolation, memory_bytes=int(args.memory_gib * (1 << 30)),
                        cell_timeout=args.cell_timeout, call_timeout=args.call_timeout,
                        notebook_timeout=args.notebook_timeout, notebook_budget=args.notebook_budget,
                        hide=list(hide), curves=not args.no_report)
    started = time.perf_counter()
    results: list[NotebookResult] = []
    problems: list[str] = []
    by_key = {j.key: j for j in jobs}
    not_graded = [replace(ungraded(u.assignment, u.why), student=u.student) for u in found.ungraded]
    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True, disable=args.quiet or not console.is_terminal)
    isolation = Isolation(args, progress, cluster=client is not None)
    lateness = Lateness(rules)
    try:
        with progress:
            task = progress.add_task("grading", total=len(jobs))
            if not jobs:
                events = iter(())
            elif client is not None:
                from autograder.platforms.dask_executor import grade_dask

                events = grade_dask(jobs, settings, args.executor, client=client)
            else:
                events = grade_parallel(jobs, settings, min(args.jobs, len(jobs)))
            for event in events:
                if isinstance(event, Note):
                    isolation.note(event.text)
                    continue
                if not isinstance(event, Graded):
                    problems.append(event.text)
                    continue
                key, item = event.key, lateness(event.result, by_key[event.key])
                isolation.graded(item.isolation)
                write_results(item, out / by_key[key].results)
                results.append(item)
                progress.advance(task)
                if not args.quiet:
                    progress.console.print(f"  {shown(item.student):<20} {item.assignment:<24} "
                                           f"{item.score:g}/{item.max_score:g}", markup=False)
        isolation.flush()
    except SandboxUnavailable as error:
        errors.print(f"error: {error}", markup=False)
        return 1
    for u, item in zip(found.ungraded, not_graded):
        write_results(item, out / u.results)
    from autograder.outputs.report import record_submissions

    record_submissions(out, args.paths)  # for the similar code, which report and similarity compare
    if results or not_graded or shard is not None:  # a shard always leaves its file: `report` counts them
        write_scores_csv(results + not_graded, out / ("scores.csv" if shard is None else "scores-%d-of-%d.csv" % shard))
    _print_table(results, not_graded, found, time.perf_counter() - started)
    lateness.report()
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
                      f"`python -m autograder report {out}` merges the shards' scores into scores.csv and writes "
                      f"the class report", markup=False, soft_wrap=True)
    if shard is None and not args.no_report:
        _write_reports(out, course, args.quiet, args.jobs)  # never changes the exit code
    if not args.quiet:
        console.print(f"results in {out}", markup=False, soft_wrap=True)
    return 1 if missing or problems else 0


def default_out(course: Course, paths: list[Path]) -> Path:
    """``graded/`` in the working folder, unless that is inside the submissions being graded (whose later runs
    would walk it, and whose sandboxes must not see it): then ``graded/`` beside their top folder. Raises
    InputError when both are inside them."""
    tops = sorted({submissions_top(course, p) for p in paths})
    candidates = [Path.cwd().resolve() / "graded", *(top.parent / "graded" for top in tops)]
    for candidate in candidates:
        if not any(candidate == top or top in candidate.parents for top in tops):
            return candidate
    raise InputError(f"graded/ here would be inside the submissions being graded ({shown(str(tops[0]))}): pass "
                     f"--out DIR, a folder outside them")


def speak_language(course: Course, language: str | None) -> str:
    """This process's language for what students read: ``--language``, else the course's (autograder.i18n)."""
    from autograder.i18n import course_language, use

    return use(language or course_language(course.root), course.root)


def _write_reports(out: Path, course: Course, quiet: bool, jobs: int = 1) -> None:
    """The class report and the students' feedback pages (autograder.outputs.report), with a progress bar: a failure
    is a problem on stderr, never grading's outcome."""
    try:
        from autograder.outputs.report import write_reports

        said: list[str] = []
        with progress_bar("writing pages", quiet) as tick:
            written = write_reports(out, course, say=said.append, progress=tick, jobs=jobs)
    except Exception as error:  # noqa: BLE001 - grading is done and its results are written
        errors.print(f"problem: no class report ({type(error).__name__}: {error})", markup=False)
        return
    if written is None:  # write_reports said why, as its last line
        errors.print(f"problem: {said[-1].removeprefix('note: ')}", markup=False, soft_wrap=True)
    elif not quiet:
        for line in said:
            console.print(line, markup=False, soft_wrap=True)


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
        title += f", {len(not_graded)} assignment(s) not graded (why: in the table)"
    if found.skipped:
        title += f", {len(found.skipped)} path(s) skipped"
    table = Table(title=Text(title))
    table.add_column("student")
    table.add_column("assignment")
    table.add_column("score", justify="right")
    table.add_column("blanks short of full marks")
    why = {(u.student, u.assignment.name): u.summary for u in found.ungraded}
    for r in sorted(results + not_graded, key=lambda r: (r.student, r.assignment)):
        short = [f"{b} {got:g}/{of:g}" for b, (got, of) in r.by_blank().items() if got < of]
        if any(r is n for n in not_graded):
            short = [f"not graded: {why.get((r.student, r.assignment), 'see its results file')}"]
        table.add_row(Text(shown(r.student)), Text(shown(r.assignment)), Text(f"{r.score:g}/{r.max_score:g}"),
                      Text(", ".join(short) or "-"))
    console.print(table)


