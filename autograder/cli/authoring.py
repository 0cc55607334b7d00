"""The authoring commands: ``new NAME`` (scaffold an assignment), ``build [ASSIGNMENT...]`` (self-check data and
release folders from source/), ``check-course [ASSIGNMENT...]`` (prove a course before release) and ``audit``
(which catalogued answers the hidden tests grade as intended)."""
from __future__ import annotations

import argparse
from pathlib import Path

from autograder.cli.common import console
from autograder.grading.course import locate

COURSE_HELP = ("the course directory (default: $AUTOGRADER_COURSE, else the working folder or one above it, else "
               "this checkout)")


def add_parser(commands: argparse._SubParsersAction) -> None:
    new = commands.add_parser("new", help="scaffold a new assignment (source notebook, solution, declaration) and "
                                          "build it")
    new.set_defaults(run=new_command)
    new.add_argument("name", metavar="NAME", help="the assignment's folder name, e.g. 07_activations")
    new.add_argument("--course", type=Path, default=None, metavar="DIR", help=COURSE_HELP)

    build = commands.add_parser("build", help="make the self-check data and the release folders from source/ "
                                              "(nbgrader generate_assignment)")
    build.set_defaults(run=build_command)
    build.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: every assignment with a source")
    build.add_argument("--course", type=Path, default=None, metavar="DIR", help=COURSE_HELP)

    check = commands.add_parser("check-course", help="prove a course before release: markers, points, reference "
                                                     "full marks, trivial answers 0, self-checks, mutation audit")
    check.set_defaults(run=check_command)
    check.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    check.add_argument("--course", type=Path, default=None, metavar="DIR", help=COURSE_HELP)
    check.add_argument("--secret", default=None, help="course secret (default: as for grade)")
    check.add_argument("--jobs", type=int, default=2, help="notebooks graded in parallel (default: 2)")
    check.add_argument("--mutants", default="all", metavar="N|all",
                       help="mutants graded per blank (default: all of them)")
    check.add_argument("--no-mutants", action="store_true", help="skip the mutation audit")

    audit = commands.add_parser("audit", help="report, per blank, which catalogued mistakes the hidden tests catch")
    audit.set_defaults(run=audit_command)
    audit.add_argument("assignments", nargs="*", help="assignments to audit (default: all)")
    audit.add_argument("--course", type=Path, default=None, metavar="DIR", help=COURSE_HELP)
    audit.add_argument("--secret", default=None)
    audit.add_argument("--catalog", type=Path, default=None, metavar="DIR",
                       help="another catalog folder laid out like catalog/ (e.g. catalog_external/)")


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

    build(locate(args.course), args.assignments, say=lambda text: console.print(text, markup=False))
    return 0


def check_command(args: argparse.Namespace) -> int:
    from autograder.authoring.check_course import run_check_course

    course = locate(args.course)
    mutants = None if args.no_mutants else (0 if args.mutants == "all" else int(args.mutants))
    return run_check_course(course, args.assignments, course.secret(args.secret), jobs=args.jobs, mutants=mutants)


def audit_command(args: argparse.Namespace) -> int:
    from autograder.authoring.audit import run_audit  # imports torch: only when asked

    course = locate(args.course)
    return run_audit(course, args.assignments, course.secret(args.secret), args.catalog)
