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
    bundle = commands.add_parser(
        "gradescope", help="write the Gradescope autograder zip of one assignment",
        description="Write the autograder zip of one assignment for Gradescope: setup.sh, run_autograder, the kit's "
                    "wheel and what the assignment's grading needs of the course (the secret included).")
    bundle.set_defaults(run=bundle_command)
    bundle.add_argument("assignment", help="the assignment (folder name or notebook stem)")
    bundle.add_argument("--out", type=Path, default=Path("autograder.zip"), metavar="ZIP",
                        help="the zip to write (default: autograder.zip)")
    bundle.add_argument("--course", type=Path, default=None, metavar="DIR",
                        help="the course directory (default: as for grade)")
    bundle.add_argument("--secret", default=None, help="course secret (default: as for grade)")
    bundle.add_argument("--language", default=None, metavar="LANG",
                        help="what the bundle's feedback is written in, e.g. zh_CN (default: the course's language, "
                             "from its course.toml, else English)")
    bundle.add_argument("--visibility", default="visible", choices=VISIBILITIES,
                        help="when students see each test's feedback (Gradescope's visibility; default: visible)")
    run = commands.add_parser(
        "gradescope-run", help="(inside Gradescope) grade /autograder/submission",
        description="What the bundle's run_autograder calls inside Gradescope: grade the notebook of one submission "
                    "and write its results.json, whatever the submission holds.")
    run.set_defaults(run=run_command)
    run.add_argument("--bundle", type=Path, required=True, metavar="DIR",
                     help="the unpacked bundle (/autograder/source)")
    run.add_argument("--submission", type=Path, default=Path("/autograder/submission"), metavar="DIR",
                     help="the folder of the student's submission (default: %(default)s)")
    run.add_argument("--results", type=Path, default=Path("/autograder/results/results.json"), metavar="FILE",
                     help="the results file to write (default: %(default)s)")
    run.add_argument("--check", action="store_true", help="only check that the bundle can grade here")


def bundle_command(args: argparse.Namespace) -> int:
    from autograder.platforms.gradescope import build_bundle

    course = locate(args.course)
    assignment = course.find(args.assignment)
    if assignment is None:
        raise InputError(f"unknown assignment {args.assignment!r}; the course has {', '.join(course.assignments)}")
    out = build_bundle(course, assignment, args.out.resolve(), args.visibility, args.secret, args.language)
    console.print(f"wrote {out}: upload it as the autograder of {assignment.name} on Gradescope", markup=False)
    return 0


def run_command(args: argparse.Namespace) -> int:
    from autograder.platforms.gradescope import check_bundle, grade_submission

    if not (args.bundle / "settings.json").is_file():
        raise InputError(f"--bundle {args.bundle}: not an unpacked autograder bundle (it has no settings.json)")
    if args.check:
        check_bundle(args.bundle)
        return 0
    # checked before grading: a results path that cannot be written would only fail once the work is done
    if args.results.is_dir():
        raise InputError(f"--results {args.results}: a folder; give the results file to write, e.g. "
                         f"{args.results / 'results.json'}")
    if any(folder.exists() and not folder.is_dir() for folder in args.results.parents):
        raise InputError(f"--results {args.results}: cannot be written (a folder of its path is a file)")
    return grade_submission(args.bundle, args.submission, args.results)
