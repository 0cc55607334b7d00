"""``python -m autograder audit``: a mutation-testing report for the course.

Every catalogued variant of a blank (``catalog/<stem>.py``) is written into a copy of the release notebook
with all other blanks solved, and the batch is graded by the real grader, sandbox and all. A correct
variant must earn the blank's full marks; a mistake must lose marks there, with its intended hint.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder.authoring.catalog import Variant, load_catalog
from autograder.grading.compare import mentions
from autograder.grading.course import Assignment, Course
from autograder.grading.discover import InputError, find_jobs
from autograder.authoring.fill import filled_release, write


@dataclass
class AuditRow:
    assignment: str
    variant: Variant
    correct: bool  # from CORRECT (must pass) or MISTAKES (must be caught)
    marks: tuple[float, float] = (0.0, 0.0)  # the blank's marks: got, out of
    failures: tuple[str, ...] = ()  # the outputs of the blank's failing tests

    @property
    def feedback(self) -> str:
        """The failing output that shows the intended hint, else the first one with a hint, else the first."""
        hint = self.variant.hint or ""
        for choice in ([f for f in self.failures if hint and mentions(f, hint)],
                       [f for f in self.failures if "Hint:" in f], list(self.failures)):
            if choice:
                return choice[0]
        return ""

    @property
    def kept(self) -> float:
        """The share of its blank this answer keeps (1.0 for full marks)."""
        got, out_of = self.marks
        return got / out_of if out_of else 0.0

    @property
    def ok(self) -> bool:
        got, out_of = self.marks
        if self.correct:
            return out_of > 0 and got == out_of
        hint = self.variant.hint or ""
        return got < out_of and (not hint or any(mentions(f, hint) for f in self.failures))

    @property
    def verdict(self) -> str:
        got, out_of = self.marks
        if self.correct:
            return "accepted" if self.ok else "REJECTED"
        if got >= out_of:
            return "MISSED"
        return "caught" if self.ok else "caught, other hint"


def audit(course: Course, assignments: list[Assignment], secret: str, jobs: int = 2,
          sandbox: bool = True, catalog: Path | None = None) -> list[AuditRow]:
    """Grade every catalogued variant of ``assignments`` with the real grader."""
    from autograder.grading.runner import Graded, Problem, Settings
    from autograder.grading.workers import grade_parallel

    rows: dict[str, AuditRow] = {}
    with tempfile.TemporaryDirectory(prefix="autograder-audit-") as tmp:
        root = Path(tmp) / "submitted"
        for a in assignments:
            entries = load_catalog(course, a, catalog)
            if entries is None:
                continue
            for correct, variants in ((True, entries.CORRECT), (False, entries.MISTAKES)):
                for i, v in enumerate(variants):
                    student = f"{'ok' if correct else 'bug'}-{v.blank}-{i:02d}"
                    write(filled_release(course, a, {v.blank: v.code}), root / student / a.name / a.notebook)
                    rows[f"{student}/{a.name}/{a.stem}"] = AuditRow(a.name, v, correct)
        if not rows:
            return []
        found = find_jobs(course, [root])
        settings = Settings(course=course, secret=secret, isolation="auto" if sandbox else "none",
                            hide=[Path(tmp), course.root])
        problems = []
        for event in grade_parallel(found, settings, jobs):
            if isinstance(event, Problem):
                problems.append(event.text.splitlines()[0] if event.text else "unknown problem")
            if not isinstance(event, Graded):
                continue
            row, result = rows[event.key], event.result
            row.marks = result.by_blank().get(row.variant.blank, (0.0, 0.0))
            row.failures = tuple(t.output for t in result.tests if t.blank == row.variant.blank and t.score < t.max_score)
    if problems:  # a hidden test that broke on some answer: the audit's figures would hide it
        raise AuditProblems(problems, list(rows.values()))
    return list(rows.values())


class AuditProblems(Exception):
    """Hidden tests that could not finish on some catalogued answers (internal errors of the grader)."""

    def __init__(self, problems: list[str], rows: list[AuditRow]):
        super().__init__(f"{len(problems)} hidden test(s) could not finish: {problems[0]}")
        self.problems, self.rows = problems, rows


def run_audit(course: Course, names: list[str], secret: str, catalog: Path | None = None) -> int:
    assignments = []
    for name in names or list(course.assignments):
        a = course.find(name)
        if a is None:
            raise InputError(f"unknown assignment {name!r}")
        assignments.append(a)
    problems: list[str] = []
    try:
        rows = audit(course, assignments, secret, catalog=catalog)
    except AuditProblems as error:
        rows, problems = error.rows, error.problems
    console = Console(highlight=False)
    table = Table(title="Catalogued answers graded by the hidden tests")
    for col in ("blank", "answer", "verdict", "marks", "kept", "what the student reads"):
        table.add_column(col, overflow="fold")
    for r in sorted(rows, key=lambda r: (r.assignment, r.variant.blank, not r.correct)):
        style = None if r.ok else "bold red"
        kind = "correct: " if r.correct else "mistake: "
        table.add_row(Text(r.variant.blank), Text(kind + r.variant.name), r.verdict, f"{r.marks[0]:g}/{r.marks[1]:g}",
                      f"{r.kept:.0%}", Text("" if r.correct else r.feedback[:240]), style=style)
    console.print(table)
    bad = [r for r in rows if not r.ok]
    console.print(summary(rows), markup=False)
    for problem in problems:
        console.print(f"internal error: {problem}", markup=False)
    return 1 if bad or problems else 0


def summary(rows: list[AuditRow]) -> str:
    """The audit in two lines: what was caught and accepted, and how much of its blank a mistake keeps."""
    mistakes = [r for r in rows if not r.correct]
    kept = [r.kept for r in mistakes]
    mean = sum(kept) / len(kept) if kept else 0.0
    return (f"{sum(r.ok for r in mistakes)}/{len(mistakes)} mistakes caught with their hint, "
            f"{sum(r.ok for r in rows if r.correct)}/{len(rows) - len(mistakes)} correct answers accepted\n"
            f"mistakes keep {mean:.1%} of their blank on average; {sum(k > 0.5 for k in kept)} keep more than half, "
            f"{sum(k > 0.25 for k in kept)} more than a quarter, {sum(k == 0 for k in kept)} nothing")
