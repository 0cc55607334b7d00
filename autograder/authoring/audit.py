"""``python -m autograder audit``: a mutation-testing report for the course.

Every catalogued variant of a blank (``catalog/<stem>.py``) is written into a copy of the release notebook
with all other blanks solved, and the batch is graded by the real grader, sandbox and all. A correct
variant must earn the blank's full marks; a mistake must lose marks there, with its intended hint.

What it prints is short: a summary per assignment and overall (mistakes caught with their hint, correct answers
accepted, the mean share of its blank a mistake keeps), then one line per answer not graded as intended. The table
of every answer (hundreds of rows, with the feedback a student reads) goes to a file, ``--detail`` (audit.txt).
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from autograder.authoring.catalog import Variant, load_catalog
from autograder.authoring.check_course import select
from autograder.grading.compare import mentions
from autograder.grading.course import Assignment, Course
from autograder.grading.discover import find_jobs
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
          sandbox: bool = True, catalog: Path | None = None,
          progress: Callable[[int, int], None] | None = None) -> list[AuditRow]:
    """Grade every catalogued variant of ``assignments`` with the real grader; ``progress(done, total)`` hears of
    each answer graded."""
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
        done = 0
        if progress is not None:
            progress(done, len(found))
        for event in grade_parallel(found, settings, jobs):
            if isinstance(event, Problem):
                problems.append(event.text.splitlines()[0] if event.text else "unknown problem")
            if not isinstance(event, Graded):
                continue
            done += 1
            if progress is not None:
                progress(done, len(found))
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


SHOWN = 20  # answers not graded as intended (and internal errors) printed before "... and N more"


def audit_all(course: Course, names: list[str], secret: str, catalog: Path | None = None, jobs: int = 2,
              progress: Callable[[int, int], None] | None = None) -> tuple[list[AuditRow], list[str]]:
    """The audit's rows, and the hidden tests that broke on some answers (their first lines)."""
    try:
        return audit(course, select(course, names), secret, jobs=jobs, catalog=catalog, progress=progress), []
    except AuditProblems as error:
        return error.rows, error.problems


def run_audit(course: Course, names: list[str], secret: str, catalog: Path | None = None,
              detail: Path | None = Path("audit.txt"), jobs: int = 2) -> int:
    """``audit``: grade, print the summary, write the detail. Exit status 1 when an answer is not graded as
    intended or a hidden test broke."""
    rows, problems = audit_all(course, names, secret, catalog, jobs)
    return print_audit(rows, problems, detail)


def print_audit(rows: list[AuditRow], problems: list[str], detail: Path | None,
                console: Console | None = None) -> int:
    """The summary tables and the answers not graded as intended on the terminal; every answer's row in ``detail``
    (None: on the terminal too). Exit status 1 when an answer is not graded as intended or a hidden test broke."""
    console = console or Console(highlight=False)
    console.print(summary_table(rows))
    console.print(summary(rows), markup=False)
    bad = [r for r in _ordered(rows) if not r.ok]
    for r in bad[:SHOWN]:
        kind = "correct answer" if r.correct else "mistake"
        console.print(Text(f"{r.verdict}: {r.assignment} {r.variant.blank}, {kind} {r.variant.name!r}: "
                           f"{r.marks[0]:g}/{r.marks[1]:g}", style="bold red"))
    if len(bad) > SHOWN:
        console.print(f"... and {len(bad) - SHOWN} more answers not graded as intended (see the detail)", markup=False)
    distinct = list(dict.fromkeys(problems))  # one broken hidden test breaks it for every answer alike
    for problem in distinct[:SHOWN]:
        console.print(f"internal error: {problem}", markup=False)
    if len(distinct) > SHOWN:
        console.print(f"... and {len(distinct) - SHOWN} more internal errors", markup=False)
    if detail is None:
        console.print(detail_table(rows))
    else:
        with detail.open("w", encoding="utf-8") as f:
            Console(file=f, width=200, highlight=False, color_system=None).print(detail_table(rows))
        console.print(f"every answer's verdict, marks and feedback: {detail} ({len(rows)} answers)", markup=False)
    return 1 if bad or problems else 0


def _ordered(rows: list[AuditRow]) -> list[AuditRow]:
    return sorted(rows, key=lambda r: (r.assignment, r.variant.blank, not r.correct))


def _figures(rows: list[AuditRow]) -> tuple[str, str, str]:
    """Mistakes caught (with their hint), correct answers accepted, and the mean share a mistake keeps."""
    mistakes = [r for r in rows if not r.correct]
    correct = [r for r in rows if r.correct]
    kept = sum(r.kept for r in mistakes) / len(mistakes) if mistakes else 0.0
    return (f"{sum(r.ok for r in mistakes)}/{len(mistakes)}", f"{sum(r.ok for r in correct)}/{len(correct)}",
            f"{kept:.1%}")


def summary_table(rows: list[AuditRow]) -> Table:
    """Per assignment, then overall: what was caught, what was accepted, what mistakes keep."""
    names = sorted({r.assignment for r in rows})
    table = Table(title="Catalogued answers graded by the hidden tests")
    table.add_column("assignment", no_wrap=True, min_width=max(map(len, names), default=3))
    for col in ("mistakes caught", "correct accepted", "kept by mistakes"):
        table.add_column(col, justify="right")
    for name in names:
        table.add_row(Text(name), *_figures([r for r in rows if r.assignment == name]))
    table.add_section()
    table.add_row(Text("all", style="bold"), *_figures(rows))
    return table


def detail_table(rows: list[AuditRow]) -> Table:
    """Every answer: its verdict, the blank's marks it earned, and the feedback a student reads (cut at 240)."""
    table = Table(title="Catalogued answers graded by the hidden tests, one per row")
    for col in ("assignment", "blank", "answer", "verdict", "marks", "kept", "what the student reads"):
        table.add_column(col, overflow="fold")
    for r in _ordered(rows):
        style = None if r.ok else "bold red"
        kind = "correct: " if r.correct else "mistake: "
        table.add_row(Text(r.assignment), Text(r.variant.blank), Text(kind + r.variant.name), r.verdict,
                      f"{r.marks[0]:g}/{r.marks[1]:g}", f"{r.kept:.0%}",
                      Text("" if r.correct else r.feedback[:240]), style=style)
    return table


def summary(rows: list[AuditRow]) -> str:
    """The audit in two lines: what was caught and accepted, and how much of its blank a mistake keeps."""
    mistakes = [r for r in rows if not r.correct]
    kept = [r.kept for r in mistakes]
    mean = sum(kept) / len(kept) if kept else 0.0
    return (f"{sum(r.ok for r in mistakes)}/{len(mistakes)} mistakes caught with their hint, "
            f"{sum(r.ok for r in rows if r.correct)}/{len(rows) - len(mistakes)} correct answers accepted\n"
            f"mistakes keep {mean:.1%} of their blank on average; {sum(k > 0.5 for k in kept)} keep more than half, "
            f"{sum(k > 0.25 for k in kept)} more than a quarter, {sum(k == 0 for k in kept)} nothing")
