"""``python -m autograder report GRADED_DIR``: the class report and the students' feedback pages of a results folder
(``grade`` writes them too)."""
from __future__ import annotations

import argparse
from pathlib import Path

from autograder.cli.common import console
from autograder.grading.course import Course, locate
from autograder.grading.discover import InputError


def add_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser("report", help="write the class report and the students' feedback pages of a "
                                                "results folder (grade writes them too)")
    report.set_defaults(run=run)
    report.add_argument("graded", type=Path, metavar="GRADED_DIR", help="the results folder grade wrote (--out)")
    report.add_argument("--course", type=Path, default=None, metavar="DIR")


def run(args: argparse.Namespace) -> int:
    return report(locate(args.course), args)


def report(course: Course, args: argparse.Namespace) -> int:
    """``report GRADED_DIR``: the class report and the feedback pages, from the results files alone."""
    from autograder.outputs.pages import write_pages
    from autograder.outputs.report import write_class_report
    from autograder.outputs.webpage import read_results

    graded = args.graded.resolve()
    if not graded.is_dir():
        raise InputError(f"{graded}: no such results folder")
    if not read_results(graded)[0]:
        raise InputError(f"{graded}: no results file (<student>/<assignment>/<notebook>.json) to report on")
    pages = write_pages(graded, say=lambda text: console.print(text, markup=False, soft_wrap=True))
    target = write_class_report(graded, course, pages)
    console.print(f"class report: {target}", markup=False, soft_wrap=True)
    console.print(f"feedback pages: {graded}/<student>/<assignment>/<notebook>.html ({len(pages)} page(s))",
                  markup=False, soft_wrap=True)
    return 0
