"""The authoring commands: ``new NAME`` (scaffold an assignment), ``build [ASSIGNMENT...]`` (self-check data and
release folders from source/), ``check-course [ASSIGNMENT...]`` (prove a course before release) and ``audit``
(which catalogued answers the hidden tests grade as intended)."""
from __future__ import annotations

import argparse
from pathlib import Path

from autograder.cli.common import CommandError, console, course_option, progress_bar
from autograder.grading.course import locate


def add_parser(commands: argparse._SubParsersAction) -> None:
    new = commands.add_parser(
        "new", help="scaffold a new assignment (source notebook, solution, declaration) and build it",
        description="Scaffold a new assignment: its source notebook, reference solution and declared hidden tests, "
                    "then build its release folder (see docs/authoring.md).")
    new.set_defaults(run=new_command)
    new.add_argument("name", metavar="NAME", help="the assignment's folder name, e.g. 07_activations")
    course_option(new)

    build = commands.add_parser(
        "build", help="make the self-check data and the release folders from source/ (nbgrader generate_assignment)",
        description="Make each assignment's self-check data and release folder from source/ (with nbgrader "
                    "generate_assignment).")
    build.set_defaults(run=build_command)
    build.add_argument("assignments", nargs="*", metavar="ASSIGNMENT",
                       help="the assignments to build (default: every assignment with a source)")
    course_option(build)
    build.add_argument("--language", default=None, metavar="LANG",
                       help="the release's language, e.g. zh_CN: its notebooks' text through the course's catalogue "
                            "(default: the course's language, from its course.toml, else English)")
    build.add_argument("--out", type=Path, default=None, metavar="DIR",
                       help="where the release folders go (default: the course's release/; a release in another "
                            "language than the course's is best written elsewhere, e.g. release-zh_CN/)")

    check = commands.add_parser(
        "check-course", help="prove a course before release: markers, points, reference full marks, trivial answers "
                             "0, self-checks, mutation audit",
        description="Prove a course before release: the source's markers, points and value tests, the reference "
                    "earning full marks, trivial answers earning 0, the self-checks, and the mutation audit. Exit 0 "
                    "only when nothing is found.")
    check.set_defaults(run=check_command)
    check.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="the assignments to check (default: all)")
    course_option(check)
    check.add_argument("--secret", default=None, help="course secret (default: as for grade)")
    check.add_argument("--jobs", type=int, default=2, metavar="N", help="notebooks graded in parallel (default: 2)")
    check.add_argument("--mutants", default="all", metavar="N|all",
                       help="mutants graded per blank (default: all of them)")
    check.add_argument("--no-mutants", action="store_true", help="skip the mutation audit")

    audit = commands.add_parser(
        "audit", help="report, per blank, which catalogued mistakes the hidden tests catch",
        description="Grade every catalogued answer (catalog/<notebook>.py) with the real grader and print a "
                    "summary per assignment: the mistakes caught with their hint, the correct answers accepted, and "
                    "the share of its blank a mistake keeps; the table of every answer goes to --detail.")
    audit.set_defaults(run=audit_command)
    audit.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="assignments to audit (default: all)")
    course_option(audit)
    audit.add_argument("--secret", default=None, help="course secret (default: as for grade)")
    audit.add_argument("--catalog", type=Path, default=None, metavar="DIR",
                       help="another catalog folder laid out like catalog/, e.g. catalog_external/ (default: the "
                            "course's catalog/)")
    audit.add_argument("--jobs", type=int, default=2, metavar="N", help="answers graded in parallel (default: 2)")
    audit.add_argument("--detail", default="audit.txt", metavar="FILE",
                       help="where the table of every answer (verdict, marks, what the student reads) goes; - prints "
                            "it here (default: audit.txt)")
    audit.add_argument("--quiet", action="store_true", help="no progress bar")


def new_command(args: argparse.Namespace) -> int:
    from autograder.authoring.new import scaffold

    course = locate(args.course)
    scaffold(course.root, args.name, say=lambda text: console.print(text, markup=False))
    console.print(f"next: edit source/{args.name}/ and hidden/test_{args.name}.py, then run "
                  f"`python -m autograder build {args.name}` and `python -m autograder check-course {args.name}`",
                  markup=False, soft_wrap=True)
    return 0


def build_command(args: argparse.Namespace) -> int:
    from autograder.authoring.build import build

    build(locate(args.course), args.assignments, out=args.out.resolve() if args.out else None,
          say=lambda text: console.print(text, markup=False), language=args.language)
    return 0


def check_command(args: argparse.Namespace) -> int:
    from autograder.authoring.check_course import run_check_course

    course = locate(args.course)
    mutants = None if args.no_mutants else (0 if args.mutants == "all" else int(args.mutants))
    return run_check_course(course, args.assignments, course.secret(args.secret), jobs=args.jobs, mutants=mutants)


def audit_command(args: argparse.Namespace) -> int:
    from autograder.authoring.audit import audit_all, print_audit, select  # imports torch: only when asked

    if args.jobs < 1:
        raise CommandError("--jobs must be at least 1")
    course = locate(args.course)
    select(course, args.assignments)  # an unknown name stops here, before any grading
    detail = None if args.detail == "-" else Path(args.detail)
    if detail is not None and (detail.is_dir() or not detail.resolve().parent.is_dir()):
        raise CommandError(f"--detail {detail}: cannot write a file there (give a file in an existing folder, or -)")
    secret = course.secret(args.secret)
    with progress_bar("grading catalogued answers", args.quiet) as tick:
        rows, problems = audit_all(course, args.assignments, secret, args.catalog, jobs=args.jobs, progress=tick)
    return print_audit(rows, problems, detail, console=console)
