"""What ``grade`` says beside the scores, and the late rules it applies as results come in: the isolation line
(first, once, with why no stronger level), the grader's notes, and what the late rules could not do.

Names of files and folders are printed as they are: never read as rich markup.
"""
from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from rich.progress import Progress

from autograder.cli.common import console, errors
from autograder.grading.course import Course
from autograder.grading.discover import InputError, Job, shown
from autograder.grading.results import NotebookResult

if TYPE_CHECKING:
    from autograder.after.late_rules import LateRules


def late_rules(course: Course, quiet: bool) -> LateRules | None:
    """The course's late.toml (None: no late rules); a file that cannot be used is an InputError, one line."""
    from autograder.after.late_rules import LateRulesError, load_rules

    try:
        rules = load_rules(course.root)
    except LateRulesError as error:
        raise InputError(str(error)) from None
    if rules is not None:
        for name in rules.unknown_assignments(course.assignments):
            errors.print(f"note: {rules.path.name} names {shown(name)}, which the course does not have: no late rule "
                         f"applies to it", markup=False)
        if not quiet:
            console.print(f"late rules: {rules.path}", markup=False, soft_wrap=True)
    return rules


class Lateness:
    """Applies the late rules to each notebook graded (autograder.after.late) and says once what it could not do:
    how many notebooks had no submission time, and each doubt about a timestamp's time zone."""

    def __init__(self, rules: LateRules | None):
        self.rules = rules
        self.untimed: list[str] = []
        self.doubts: set[str] = set()

    def __call__(self, item: NotebookResult, job: Job) -> NotebookResult:
        from autograder.after.late import apply_late, submission_time

        if self.rules is None:
            return item
        when = submission_time(job.path.parent)
        if when.at is None:
            self.untimed.append(f"{shown(job.student)}/{job.assignment.name}")
        elif when.note:
            self.doubts.add(when.note)
        return apply_late(item, self.rules, when, job.student)

    def report(self) -> None:
        if self.untimed:
            errors.print(f"note: {len(self.untimed)} notebook(s) have no readable timestamp.txt, so no late rule was "
                         f"applied to them (e.g. {', '.join(self.untimed[:3])})", markup=False)
        for doubt in sorted(self.doubts):
            errors.print(f"note: {doubt}", markup=False)



# "isolation: userns, not stronger because namespaces: ..." (autograder.sandbox.zygote): the isolation line says it
NOT_STRONGER = re.compile(r"isolation: (\S+), not stronger because (.*)", re.DOTALL)


def isolation_line(level: str, args: argparse.Namespace, not_stronger: str | None = None,
                   cluster: bool = False) -> str:
    """The one line that says which isolation level the notebooks' code runs under, and why that one."""
    if args.no_sandbox:
        return ("isolation: none, as asked (--no-sandbox): student code runs without namespaces or seccomp, "
                "under an unprivileged uid")
    if args.exact_isolation:
        return f"isolation: {level}, as asked (--exact-isolation {args.exact_isolation})"
    where = "the cluster's workers allow" if cluster else "this host allows"
    line = f"isolation: {level}, the strongest {where}"
    if args.isolation:
        line += f" (at least {args.isolation} was asked with --isolation)"
    if not_stronger:
        line += f"; not stronger because {not_stronger}"
    return line


class Isolation:
    """Says the isolation line first, once: from the grader's note when a stronger level could not be had (it says
    why), else from the first results (each records the level its notebook ran under). The grader's other notes
    follow it as ``note:`` lines (those that come before it wait for it). Nothing of this with --quiet."""

    def __init__(self, args: argparse.Namespace, progress: Progress, cluster: bool):
        self.args, self.progress, self.cluster = args, progress, cluster
        self.levels: set[str] = set()
        self.waiting: list[str] = []  # notes that came before the level was known

    def _say(self, text: str) -> None:
        if not self.args.quiet:
            self.progress.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def note(self, text: str) -> None:
        found = NOT_STRONGER.fullmatch(text)
        if found:
            self._announce(found.group(1), found.group(2))
        elif self.levels:
            self._say(f"note: {text}")
        else:
            self.waiting.append(text)

    def graded(self, level: str | None) -> None:
        if level:
            self._announce(level)

    def flush(self) -> None:
        """The notes still waiting (no notebook was graded)."""
        for text in self.waiting:
            self._say(f"note: {text}")
        self.waiting = []

    def _announce(self, level: str, not_stronger: str | None = None) -> None:
        if level in self.levels:
            return
        if self.levels:  # a cluster's workers need not all allow the same level
            self._say(f"note: some notebooks ran under isolation {level} (their worker's host allows no stronger)")
        else:
            self._say(isolation_line(level, self.args, not_stronger, self.cluster))
        self.levels.add(level)
        self.flush()
