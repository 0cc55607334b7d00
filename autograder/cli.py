"""``python -m autograder grade PATH [PATH ...] [--course DIR] [--out DIR] [--jobs N]``: arguments, progress,
exit codes.

What is graded: only ``<student>/<assignment>/<notebook>.ipynb`` (see autograder.discover). Everything else
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
import sys
import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from autograder.course import Course, CourseError, locate
from autograder.discover import Discovery, InputError, discover, nothing_found, shown
from autograder.gradescope import VISIBILITIES, BundleError, ungraded
from autograder.hostprobe import ISOLATING
from autograder.results import NotebookResult, write_results, write_scores_csv

# markup and emoji off: file and folder names (a student folder "[red]x" or ":smile:") print as they are
console = Console(highlight=False, markup=False, emoji=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)
SHOWN_SKIPS = 20  # skipped paths printed before "... and N more"


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
    audit.add_argument("--catalog", type=Path, default=None, metavar="DIR",
                       help="another catalog folder laid out like catalog/ (e.g. catalog_external/)")
    report = commands.add_parser("report", help="write the class report and the students' feedback pages of a "
                                                "results folder (grade writes them too)")
    report.add_argument("graded", type=Path, metavar="GRADED_DIR", help="the results folder grade wrote (--out)")
    report.add_argument("--submissions", nargs="+", type=Path, default=[], metavar="PATH",
                        help="the notebooks graded (the paths given to grade): the training blanks' pages get the "
                             "student's loss curve on the visible data, run in a sandbox")
    report.add_argument("--course", type=Path, default=None, metavar="DIR")
    return parser


def _secret_off_the_command_line() -> None:
    """A command line is readable by every process of the host (/proc/PID/cmdline), a sandbox's included where
    it has no PID namespace: start again with ``--secret`` moved into the environment, which is not."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--secret" and i + 1 < len(argv):
            rest, secret = argv[:i] + argv[i + 2:], argv[i + 1]
        elif arg.startswith("--secret="):
            rest, secret = argv[:i] + argv[i + 1:], arg.split("=", 1)[1]
        else:
            continue
        os.environ["AUTOGRADER_SECRET"] = secret
        os.execv(sys.executable, [sys.executable, "-m", "autograder", *rest])


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[0].endswith(("__main__.py", "torch-autograder")):
        _secret_off_the_command_line()
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
            console.print(f"wrote {out}: upload it as the autograder of {assignment.name} on Gradescope", markup=False)
            return 0
        if args.command == "audit":
            from autograder.audit import run_audit  # noqa: I001 - imports torch: only when asked

            return run_audit(course, args.assignments, course.secret(args.secret), args.catalog)
        if args.command == "report":
            return report(course, args)
        return grade(course, args)
    except (InputError, CourseError, BundleError) as error:
        errors.print(f"error: {error}", markup=False)
        return 2
    except KeyboardInterrupt:
        errors.print("interrupted: results written so far are complete files; rerun to grade the rest")
        return 130


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
        from autograder.runner import in_shard

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
    from autograder.runner import Graded, Note, Settings  # torch is imported once input is valid
    from autograder.workers import grade_parallel
    from autograder.sandbox import SandboxUnavailable
    hide = sorted({course.root, out, *(p.resolve() if p.is_dir() else p.resolve().parent for p in args.paths)})
    settings = Settings(course=course, secret=secret, isolation="none" if args.no_sandbox else args.exact_isolation or "auto",
                        minimum=args.isolation, memory_bytes=int(args.memory_gib * (1 << 30)),
                        cell_timeout=args.cell_timeout, call_timeout=args.call_timeout,
                        notebook_timeout=args.notebook_timeout, notebook_budget=args.notebook_budget,
                        hide=list(hide))
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
                from autograder.dask_executor import grade_dask

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
        _write_reports(out, course, jobs, settings, args.quiet)  # never changes the exit code
    console.print(f"results in {out}", markup=False)
    return 1 if missing or problems else 0


def _write_reports(out: Path, course: Course, jobs: list, settings: object, quiet: bool) -> None:
    """The class report and the students' feedback pages (autograder.report): a failure is a note on stderr,
    never grading's outcome."""
    try:
        from autograder.report import write_reports

        def say(text: str) -> None:
            if not quiet:
                console.print(text, markup=False, soft_wrap=True)

        write_reports(out, course, jobs=jobs, settings=settings, say=say)
    except Exception as error:  # noqa: BLE001 - grading is done and its results are written
        errors.print(f"note: no class report ({type(error).__name__}: {error})", markup=False)


def report(course: Course, args: argparse.Namespace) -> int:
    """``report GRADED_DIR [--submissions PATH ...]``: the class report and the feedback pages, from results."""
    from autograder.report import write_class_report
    from autograder.webpage import read_results

    graded = args.graded.resolve()
    if not graded.is_dir():
        raise InputError(f"{graded}: no such results folder")
    if not read_results(graded)[0]:
        raise InputError(f"{graded}: no results file (<student>/<assignment>/<notebook>.json) to report on")
    jobs, settings = [], None
    if args.submissions:
        from autograder.runner import Settings

        jobs = discover(course, args.submissions).jobs
        hide = sorted({course.root, graded, *(p.resolve() if p.is_dir() else p.resolve().parent
                                              for p in args.submissions)})
        settings = Settings(course=course, secret="", hide=list(hide))
    from autograder.pages import write_pages

    pages = write_pages(graded, course, jobs=jobs, settings=settings, curve_budget=None,
                        say=lambda text: console.print(text, markup=False, soft_wrap=True))
    target = write_class_report(graded, course, pages)
    console.print(f"class report: {target}", markup=False, soft_wrap=True)
    console.print(f"feedback pages: {graded}/<student>/<assignment>/<notebook>.html ({len(pages)} page(s))",
                  markup=False, soft_wrap=True)
    if not args.submissions:
        console.print("(the students' loss curves are drawn only with --submissions PATH)", markup=False)
    return 0


def _print_skipped(skipped: list[str]) -> None:
    """What discovery skipped, one line each (already printable: see autograder.discover.shown)."""
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


if __name__ == "__main__":
    sys.exit(main())
