"""The commands for after the grades (autograder.after): ``export``, the marks as an LMS imports them, and
``similarity``, the pairs of students who handed in the same code."""
from __future__ import annotations

import argparse
from pathlib import Path

from autograder.cli.common import console, course_option, errors


def add_parser(commands: argparse._SubParsersAction) -> None:
    from autograder.after.export import MISSING, MOODLE_IDS, TARGETS

    add_similarity_parser(commands)

    export = commands.add_parser(
        "export", help="the marks of a results folder as Canvas's or Moodle's grade import CSV, or a plain CSV",
        description="Write the final marks (late penalties applied) of GRADED_DIR as the CSV file an LMS imports: "
                    "Canvas's gradebook import, Moodle's grade import, or a plain one; one column per assignment. "
                    "A roster maps the course's student ids to the LMS's; who is on one side only is listed.")
    export.set_defaults(run=export_command)
    export.add_argument("graded", type=Path, metavar="GRADED_DIR", help="the results folder grade wrote")
    export.add_argument("--to", required=True, choices=TARGETS, help="the file's format")
    export.add_argument("--roster", type=Path, default=None, metavar="FILE",
                        help="CSV: student (the course's id), and the LMS's ids: canvas_id, sis_user_id, sis_login_id, "
                             "section, name, email, idnumber, username (default: no roster; every student with a "
                             "result, by the course's id)")
    export.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="the file to write (default: GRADED_DIR/export-<format>.csv)")
    export.add_argument("--missing", choices=MISSING, default="zero",
                        help="what a student on the roster without a result gets (default: zero)")
    export.add_argument("--identify-by", choices=MOODLE_IDS, default=None,
                        help="Moodle: the roster column that identifies users, as chosen under 'Identify user by' "
                             "(default: the first of email, idnumber, username that the roster fills)")


def add_similarity_parser(commands: argparse._SubParsersAction) -> None:
    similarity = commands.add_parser(
        "similarity", help="the pairs of students who handed in the same code (for the instructor only)",
        description="Compare, per assignment and blank, the code each student wrote (the release's own code left out, "
                    "names, layout, comments and order not counting, code most of the class writes alike weighing "
                    "little); write the flagged pairs to GRADED_DIR/similarity.csv, a side-by-side page per pair in "
                    "GRADED_DIR/similarity/, and the section of the class report.")
    similarity.set_defaults(run=similarity_command)
    similarity.add_argument("graded", type=Path, metavar="GRADED_DIR", help="the results folder grade wrote")
    similarity.add_argument("--submissions", type=Path, nargs="+", default=None, metavar="DIR",
                            help="the submitted notebooks (default: the paths grade was given, as it recorded them)")
    course_option(similarity)


def similarity_command(args: argparse.Namespace) -> int:
    from autograder.grading.course import locate
    from autograder.grading.discover import InputError
    from autograder.outputs.report import recorded_submissions, write_class_report, write_similarity
    from autograder.outputs.pages import page_path
    from autograder.outputs.webpage import read_results

    course = locate(args.course)
    graded = args.graded.resolve()
    if not graded.is_dir():
        raise InputError(f"{graded}: no such results folder")
    submissions = args.submissions or recorded_submissions(graded)
    if not submissions:
        raise InputError(f"{graded} does not say where its submissions are (graded by an older version?): give them "
                         f"with --submissions DIR")
    for path in submissions:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
    section, flagged = write_similarity(graded, course, submissions)
    pages = {r.path: page_path(r.path) for r in read_results(graded)[0] if (graded / page_path(r.path)).is_file()}
    report = write_class_report(graded, course, pages, section)
    console.print(f"{flagged} flagged pair(s): {graded / 'similarity.csv'}, the pages in {graded / 'similarity'}, "
                  f"and the class report {report}", markup=False, soft_wrap=True)
    return 0


def export_command(args: argparse.Namespace) -> int:
    from autograder.after.export import ExportError, export, write_export
    from autograder.grading.discover import InputError

    if args.identify_by and args.to != "moodle":
        raise InputError("--identify-by is for --to moodle only")
    out = (args.out or args.graded / f"export-{args.to}.csv").resolve()
    try:
        rows, report = export(args.graded, args.to, roster=args.roster, missing=args.missing,
                              identify_by=args.identify_by)
        write_export(out, rows)
    except (ExportError, OSError) as error:
        raise InputError(str(error).splitlines()[0] if str(error) else type(error).__name__) from None
    lines = report.lines()
    console.print(lines[0], markup=False, soft_wrap=True)
    for line in lines[1:]:
        errors.print(line, markup=False, soft_wrap=True)
    console.print(f"wrote {out}", markup=False, soft_wrap=True)
    return 0
