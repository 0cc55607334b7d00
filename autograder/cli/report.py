"""``python -m autograder report GRADED_DIR``: the class report and the students' feedback pages of a results folder
(``grade`` writes them too), and the class's ``scores.csv`` from the shards' ``scores-I-of-N.csv``.

Shards (``grade --shard I/N``) each leave ``scores-I-of-N.csv`` and no ``scores.csv``: ``report`` merges them into
``scores.csv`` when all N are there (a student's row comes whole from one shard), and otherwise says which are
missing (exit 1; the pages and the class report are still written from the results files present). Each shard
writes its file even when it had no student, so that a missing file means a shard that did not finish.

GRADED_DIR is positional only, and every option takes exactly one value or none: an option given before the
folder can never take it as its own value.
"""
from __future__ import annotations

import argparse
import csv
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.cli.grade import speak_language
from autograder.cli.common import LANG_HELP, console, course_option, errors, progress_bar
from autograder.grading.course import Course, locate
from autograder.grading.discover import InputError

if TYPE_CHECKING:
    from autograder.outputs.webpage import Result

SHARD_FILE = re.compile(r"scores-(\d+)-of-(\d+)\.csv")


def add_parser(commands: argparse._SubParsersAction) -> None:
    report = commands.add_parser(
        "report", help="write the class report and the students' feedback pages of a results folder (grade writes "
                       "them too); merge the shards' scores",
        description="Write report.html and every notebook's feedback page of a results folder, from its results "
                    "files alone. After `grade --shard I/N`, also merge every scores-I-of-N.csv into scores.csv once "
                    "all N shards are there.")
    report.set_defaults(run=run)
    report.add_argument("graded", type=Path, metavar="GRADED_DIR", help="the results folder grade wrote (its --out)")
    course_option(report)
    report.add_argument("--quiet", action="store_true", help="no progress bar and no summary lines, only problems")
    report.add_argument("--language", default=None, metavar="LANG", help=LANG_HELP)


def run(args: argparse.Namespace) -> int:
    return report(locate(args.course), args)


def report(course: Course, args: argparse.Namespace) -> int:
    """``report GRADED_DIR``: merge the shards' scores, then the feedback pages and the class report."""
    from autograder.outputs.pages import write_pages
    from autograder.outputs.report import similarity_or_note, write_class_report
    from autograder.outputs.webpage import read_results

    speak_language(course, args.language)
    graded = args.graded.resolve()
    if not graded.is_dir():
        raise InputError(f"{graded}: no such results folder")
    results = read_results(graded)[0]
    if not results:
        raise InputError(f"{graded}: no results file (<student>/<assignment>/<notebook>.json) to report on")
    complete = merge_shards(graded, course, results, say=lambda text: _say(text, args.quiet))
    with progress_bar("writing pages", args.quiet) as tick:
        pages = write_pages(graded, progress=tick, jobs=os.cpu_count() or 1)
    section = similarity_or_note(graded, course, say=lambda text: _say(text, args.quiet))
    target = write_class_report(graded, course, pages, section)
    _say(f"class report: {target}", args.quiet)
    _say(f"feedback pages: {graded}/<student>/<assignment>/<notebook>.html ({len(pages)} page(s))", args.quiet)
    return 0 if complete else 1


def _say(text: str, quiet: bool) -> None:
    if not quiet:
        console.print(text, markup=False, soft_wrap=True)


# -- the shards' scores -----------------------------------------------------------------------------------------------
def shard_files(graded: Path) -> dict[int, dict[int, Path]]:
    """N -> I -> ``scores-I-of-N.csv``, for every such file in ``graded`` (I between 1 and N)."""
    found: dict[int, dict[int, Path]] = {}
    for path in sorted(graded.glob("scores-*-of-*.csv")):
        match = SHARD_FILE.fullmatch(path.name)
        if match and path.is_file() and 1 <= int(match[1]) <= int(match[2]):
            found.setdefault(int(match[2]), {})[int(match[1])] = path
    return found


def merge_shards(graded: Path, course: Course, results: list[Result], say: Callable[[str], None]) -> bool:
    """Merge the shards' ``scores-I-of-N.csv`` in ``graded`` into ``scores.csv`` when all N are there; say what was
    done, and on stderr what could not be. False when something is missing, left over or inconsistent."""
    groups = shard_files(graded)
    if not groups:
        return True  # not a sharded run: grade wrote scores.csv itself
    complete = [count for count, files in sorted(groups.items()) if len(files) == count]
    if len(complete) > 1:
        return _problem(f"scores.csv not merged: {graded} holds complete sets of shards of "
                        f"{' and of '.join(map(str, complete))}: keep one set (remove the other's scores-*-of-N.csv) "
                        f"and run report again")
    if not complete:
        for count, files in sorted(groups.items()):
            missing = ", ".join(str(i) for i in range(1, count + 1) if i not in files)
            _problem(f"scores.csv not merged: no scores-I-of-{count}.csv yet from shard(s) {missing} of {count}; "
                     f"run report again once they are done")
        return False
    count = complete[0]
    try:
        students = merge_scores([groups[count][i] for i in range(1, count + 1)], graded / "scores.csv",
                                _maxima(course, results))
    except ValueError as error:
        return _problem(f"scores.csv not merged: {error}")
    say(f"scores.csv: the scores of all {count} shards merged ({students} student(s))")
    for other in sorted(set(groups) - {count}):
        _problem(f"scores-*-of-{other}.csv left out: an incomplete set beside the {count} shards' (left by an "
                 f"earlier run?)")
    return len(groups) == 1


def _problem(text: str) -> bool:
    errors.print(f"problem: {text}", markup=False, soft_wrap=True)
    return False


def _maxima(course: Course, results: list[Result]) -> dict[str, float]:
    """Each assignment's points: the course's, else the most any results file of it is out of."""
    maxima: dict[str, float] = {}
    for r in results:
        maxima[r.assignment] = max(maxima.get(r.assignment, 0.0), r.max_score)
    maxima.update({name: a.max_score for name, a in course.assignments.items()})
    return maxima


def merge_scores(files: list[Path], target: Path, maxima: dict[str, float]) -> int:
    """Write ``target`` (``scores.csv``) with the rows of every shard file, as ``grade`` writes it for a whole class:
    a column per assignment any shard graded (0 where a student had none), the total and the maximum total, then the
    late columns any shard has (blank where a student had none). The student cell is kept as its file has it
    (already made safe by autograder.outputs.csvsafe when written; the rule leaves such text unchanged). Returns the
    number of students; raises ValueError when two shards have the same student or a file is not a shard's scores."""
    from autograder.grading.results import LATE_COLUMNS
    from autograder.outputs.csvsafe import write_csv

    rows: dict[str, dict[str, float]] = {}
    late: dict[str, dict[str, str]] = {}
    late_columns: list[str] = []
    for path in files:
        with path.open(newline="", encoding="utf-8") as f:
            lines = list(csv.reader(f))
        header = lines[0] if lines else []
        end = header.index("total") if "total" in header else -1
        if header[:1] != ["student"] or header[end:end + 2] != ["total", "max_total"]:
            raise ValueError(f"{path.name} is not a shard's scores (its first line is not student,...,total,max_total)")
        assignments, extra = header[1:end], header[end + 2:]
        late_columns += [c for c in extra if c not in late_columns]
        for line in lines[1:]:
            if len(line) != len(header):
                raise ValueError(f"{path.name}: a line with {len(line)} cells, not {len(header)}")
            if line[0] in rows:
                raise ValueError(f"{line[0]!r} is in two shards' scores: were the shards run with different paths?")
            try:
                rows[line[0]] = {a: float(cell) for a, cell in zip(assignments, line[1:end])}
            except ValueError:
                raise ValueError(f"{path.name}: a score that is not a number in {line[0]!r}'s line") from None
            late[line[0]] = dict(zip(extra, line[end + 2:]))
    columns = sorted({a for marks in rows.values() for a in marks})
    unknown = [a for a in columns if a not in maxima]
    if unknown:
        raise ValueError(f"the points of {', '.join(unknown)} are unknown (not in the course, no results file)")
    max_total = round(sum(maxima[a] for a in columns), 6)
    late_columns = [f"{a} {c}" for a in columns for c in LATE_COLUMNS if f"{a} {c}" in late_columns]  # as grade
    lines_out: list[list[str | float]] = [["student", *columns, "total", "max_total", *late_columns]]
    for student in sorted(rows):
        scores = [rows[student].get(a, 0.0) for a in columns]
        lines_out.append([student, *scores, round(sum(scores), 6), max_total,
                          *(late[student].get(c, "") for c in late_columns)])
    write_csv(target, lines_out)
    return len(rows)
