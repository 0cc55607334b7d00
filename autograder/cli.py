"""``python -m autograder grade PATH [PATH ...] [--course DIR] [--out DIR] [--jobs N]``: arguments, progress,
exit codes.

Exit codes: 0 every notebook was graded (whatever the scores); 1 something could not be graded (the
sandbox could not be built, a hidden test broke); 2 bad input (a missing path, not a notebook, an
unknown assignment, not a course directory, bad options).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from autograder.course import Course, CourseError, locate
from autograder.discover import InputError, find_jobs
from autograder.gradescope import VISIBILITIES, BundleError
from autograder.hostprobe import ISOLATING
from autograder.results import NotebookResult, write_results, write_scores_csv

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade notebooks or folders of submissions")
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
    grade.add_argument("--isolation", default=None, metavar="LEVEL", choices=ISOLATING,
                       help="refuse to grade unless at least this isolation level can be had: "
                            f"{', '.join(ISOLATING)} (strongest first; default: the strongest available)")
    grade.add_argument("--exact-isolation", default=None, metavar="LEVEL", choices=ISOLATING,
                       help="use exactly this level, even where a stronger one is available (to test a platform's)")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run student code without namespaces or seccomp, still under an unprivileged uid "
                            "(only if you trust every submission)")
    grade.add_argument("--quiet", action="store_true", help="print only the final table")
    bundle = commands.add_parser("gradescope", help="write the Gradescope autograder zip of one assignment")
    bundle.add_argument("assignment", help="the assignment (folder name or notebook stem)")
    bundle.add_argument("--out", type=Path, default=Path("autograder.zip"), help="the zip (default: autograder.zip)")
    bundle.add_argument("--course", type=Path, default=None, metavar="DIR")
    bundle.add_argument("--secret", default=None, help="course secret (default: as for grade)")
    bundle.add_argument("--visibility", default="visible", choices=VISIBILITIES,
                        help="when students see each test's feedback (Gradescope's visibility; default: visible)")
    run = commands.add_parser("gradescope-run", help="(inside Gradescope) grade /autograder/submission")
    run.add_argument("--bundle", type=Path, required=True, help="the unpacked bundle (/autograder/source)")
    run.add_argument("--submission", type=Path, default=Path("/autograder/submission"))
    run.add_argument("--results", type=Path, default=Path("/autograder/results/results.json"))
    run.add_argument("--check", action="store_true", help="only check that the bundle can grade here")
    audit = commands.add_parser("audit", help="report, per blank, which catalogued mistakes the hidden tests catch")
    audit.add_argument("assignments", nargs="*", help="assignments to audit (default: all)")
    audit.add_argument("--course", type=Path, default=None, metavar="DIR")
    audit.add_argument("--secret", default=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "gradescope-run":
            from autograder.gradescope import check_bundle, grade_submission

            if args.check:
                check_bundle(args.bundle)
                return 0
            return grade_submission(args.bundle, args.submission, args.results)
        course = locate(args.course)
        if args.command == "gradescope":
            from autograder.gradescope import build_bundle

            assignment = course.find(args.assignment)
            if assignment is None:
                raise InputError(f"unknown assignment {args.assignment!r}; the course has "
                                 f"{', '.join(course.assignments)}")
            out = build_bundle(course, assignment, args.out.resolve(), args.visibility, args.secret)
            console.print(f"wrote {out}: upload it as the autograder of {assignment.name} on Gradescope")
            return 0
        if args.command == "audit":
            from autograder.audit import run_audit  # noqa: I001 - imports torch: only when asked

            return run_audit(course, args.assignments, course.secret(args.secret))
        return grade(course, args)
    except (InputError, CourseError, BundleError) as error:
        errors.print(f"error: {error}")
        return 2
    except KeyboardInterrupt:
        errors.print("interrupted: results written so far are complete files; rerun to grade the rest")
        return 130


def grade(course: Course, args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise InputError("--jobs must be at least 1")
    jobs = find_jobs(course, args.paths)
    for assignment in {job.assignment.name: job.assignment for job in jobs}.values():
        for needed in (course.hidden_tests(assignment), course.solutions(assignment)):
            if not needed.is_file():
                raise InputError(f"{needed}: missing from the course directory {course.root}, so "
                                 f"{assignment.name} cannot be graded")
    if sum(map(bool, (args.no_sandbox, args.isolation, args.exact_isolation))) > 1:
        raise InputError("--no-sandbox, --isolation and --exact-isolation exclude each other: choose one")
    secret = course.secret(args.secret)
    out = _output_folder(args.out)
    from autograder.runner import Graded, Note, Settings, grade_parallel  # torch is imported once input is valid
    from autograder.sandbox import SandboxUnavailable
    hide = sorted({course.root, out, *(p.resolve() if p.is_dir() else p.resolve().parent for p in args.paths)})
    settings = Settings(course=course, secret=secret, isolation="none" if args.no_sandbox else args.exact_isolation or "auto",
                        minimum=args.isolation, memory_bytes=int(args.memory_gib * (1 << 30)),
                        cell_timeout=args.cell_timeout, call_timeout=args.call_timeout,
                        notebook_timeout=args.notebook_timeout, hide=list(hide))
    started = time.perf_counter()
    results: list[NotebookResult] = []
    problems: list[str] = []
    by_key = {j.key: j for j in jobs}
    progress = Progress(TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                        console=console, transient=True, disable=args.quiet or not console.is_terminal)
    try:
        with progress:
            task = progress.add_task("grading", total=len(jobs))
            for event in grade_parallel(jobs, settings, min(args.jobs, len(jobs))):
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
                    progress.console.print(f"  {item.student:<20} {item.assignment:<24} "
                                           f"{item.score:g}/{item.max_score:g}")
    except SandboxUnavailable as error:
        errors.print(f"error: {error}")
        return 1
    if results:
        write_scores_csv(results, out / "scores.csv")
    _print_table(results, time.perf_counter() - started)
    missing = len(jobs) - len(results)
    for p in problems:
        errors.print(f"problem: {p.splitlines()[0]}")
    if missing:
        errors.print(f"error: {missing} notebook(s) could not be graded")
    console.print(f"results in {out}")
    return 1 if missing or problems else 0


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


def _print_table(results: list[NotebookResult], seconds: float) -> None:
    table = Table(title=f"{len(results)} notebook(s) graded in {seconds:.1f} s")
    table.add_column("student")
    table.add_column("assignment")
    table.add_column("score", justify="right")
    table.add_column("blanks short of full marks")
    for r in sorted(results, key=lambda r: (r.student, r.assignment)):
        short = [f"{b} {got:g}/{of:g}" for b, (got, of) in r.by_blank().items() if got < of]
        table.add_row(r.student, r.assignment, f"{r.score:g}/{r.max_score:g}", ", ".join(short) or "-")
    console.print(table)


if __name__ == "__main__":
    sys.exit(main())
