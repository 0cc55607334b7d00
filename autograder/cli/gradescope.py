"""``python -m autograder gradescope ASSIGNMENT``: the Gradescope autograder bundle of an assignment, and
``gradescope-run``, which grades one submission inside it."""
from __future__ import annotations

import argparse
from pathlib import Path

from autograder.cli.common import console
from autograder.grading.course import locate
from autograder.grading.discover import InputError
from autograder.platforms.gradescope import VISIBILITIES


def add_parser(commands: argparse._SubParsersAction) -> None:
    bundle = commands.add_parser("gradescope", help="write the Gradescope autograder zip of one assignment")
    bundle.set_defaults(run=bundle_command)
    bundle.add_argument("assignment", help="the assignment (folder name or notebook stem)")
    bundle.add_argument("--out", type=Path, default=Path("autograder.zip"), help="the zip (default: autograder.zip)")
    bundle.add_argument("--course", type=Path, default=None, metavar="DIR")
    bundle.add_argument("--secret", default=None, help="course secret (default: as for grade)")
    bundle.add_argument("--visibility", default="visible", choices=VISIBILITIES,
                        help="when students see each test's feedback (Gradescope's visibility; default: visible)")
    run = commands.add_parser("gradescope-run", help="(inside Gradescope) grade /autograder/submission")
    run.set_defaults(run=run_command)
    run.add_argument("--bundle", type=Path, required=True, help="the unpacked bundle (/autograder/source)")
    run.add_argument("--submission", type=Path, default=Path("/autograder/submission"))
    run.add_argument("--results", type=Path, default=Path("/autograder/results/results.json"))
    run.add_argument("--check", action="store_true", help="only check that the bundle can grade here")


def bundle_command(args: argparse.Namespace) -> int:
    from autograder.platforms.gradescope import build_bundle

    course = locate(args.course)
    assignment = course.find(args.assignment)
    if assignment is None:
        raise InputError(f"unknown assignment {args.assignment!r}; the course has {', '.join(course.assignments)}")
    out = build_bundle(course, assignment, args.out.resolve(), args.visibility, args.secret)
    console.print(f"wrote {out}: upload it as the autograder of {assignment.name} on Gradescope", markup=False)
    return 0


def run_command(args: argparse.Namespace) -> int:
    from autograder.platforms.gradescope import check_bundle, grade_submission

    if args.check:
        check_bundle(args.bundle)
        return 0
    return grade_submission(args.bundle, args.submission, args.results)
