"""``python -m autograder check-course [ASSIGNMENT...]``: prove a course before it is released.

One line per finding, naming the file and the cell as JupyterLab shows it; exit 0 only when there is none:

1. **the source** (autograder.authoring.markers): malformed or misspelled markers, a test cell without points, a
   blank without a test cell; the self-check data and the release folder are what ``build`` makes from it now;
2. **the hidden tests**: every blank has a value test, and its tests' points add up to its test cell's;
3. **the self-checks** pass the reference and fail the untouched release;
4. **graded for real** (the sandboxed grader, as ``grade`` runs it): the reference earns full marks on every blank,
   the untouched release 0, and answers that compute nothing (zeros, ones, a constant, random values of the right
   shape, the argument) 0 on their blank; the same grades again with the tests in reverse order and ``--jobs 1``;
5. **the mutation audit** (autograder.authoring.mutation): every mutant of each blank's reference graded for real,
   only that blank's tests; per blank the share of mutants that lose marks and their mean kept share. A mutant that
   keeps full marks is a finding, printed as a diff, unless it is equivalent: the same results as the reference on
   every input the hidden tests draw (compared in this process, on the trusted side).
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from autograder.authoring.markers import Finding, source_findings
from autograder.grading.course import Assignment, Course
from autograder.grading.discover import InputError


@dataclass
class MutationRow:
    blank: str
    mutants: int = 0
    killed: int = 0
    kept: list[float] = field(default_factory=list)  # each mutant's share of the blank, for those that lose marks
    survivors: list[tuple[Any, bool]] = field(default_factory=list)  # (mutant, equivalent on every hidden input)

    @property
    def score(self) -> float:
        return self.killed / self.mutants if self.mutants else 1.0

    @property
    def mean_kept(self) -> float:
        """The mean share of the blank a mutant that loses marks keeps."""
        return sum(self.kept) / len(self.kept) if self.kept else 0.0


@dataclass
class Proof:
    findings: list[Finding] = field(default_factory=list)
    mutation: dict[str, MutationRow] = field(default_factory=dict)

    def add(self, path: str, where: str, message: str) -> None:
        self.findings.append(Finding(path, where, message))


def run_check_course(course: Course, names: list[str], secret: str, jobs: int = 2, mutants: int | None = 0,
                     say: Callable[[str], None] = print) -> int:
    """Prove ``names`` (default: every assignment); ``mutants``: per blank, 0 all, N a sample, None none."""
    assignments = select(course, names)
    proof = prove(course, assignments, secret, jobs, mutants, say)
    for finding in proof.findings:
        say(str(finding))
    if proof.mutation:
        say(mutation_table(proof.mutation))
        for row in proof.mutation.values():
            for mutant, equivalent in row.survivors:
                if equivalent:
                    say(f"equivalent (the reference's results on every hidden input): {mutant.blank}: {mutant.what}")
    say(f"check-course: {len(proof.findings)} finding(s) in {', '.join(a.name for a in assignments)}")
    return 1 if proof.findings else 0


def select(course: Course, names: list[str]) -> list[Assignment]:
    """The assignments named (all of them when none is), or InputError for a name the course does not have."""
    out = []
    for name in names or list(course.assignments):
        a = course.find(name)
        if a is None:
            raise InputError(f"unknown assignment {name!r}; the course has {', '.join(course.assignments)}")
        out.append(a)
    return out


def prove(course: Course, assignments: list[Assignment], secret: str, jobs: int = 2, mutants: int | None = 0,
          say: Callable[[str], None] = print) -> Proof:
    from autograder.authoring.proofs import (fresh_findings, graded_findings, mutation_audit, selfcheck_findings,
                                             test_findings)

    proof = Proof()
    for a in assignments:
        notebook = course.source(a) / a.notebook
        shown = str(notebook.relative_to(course.root))
        if not notebook.is_file():
            proof.add(shown, "", "no source notebook: the assignment cannot be rebuilt or checked")
            continue
        found, blanks = source_findings(notebook, shown)
        proof.findings += found
        if sorted(blanks) != sorted(a.blanks):
            proof.add(str(course.release(a).relative_to(course.root)), "",
                      f"the release's blanks {sorted(a.blanks)} are not the source's {sorted(blanks)}: run "
                      f"`python -m autograder build {a.name}`")
        say(f"{a.name}: the hidden tests and the self-checks")
        proof.findings += test_findings(course, a, secret)
        proof.findings += selfcheck_findings(course, a)
    say("the release folders and self-check data against a fresh build")
    proof.findings += fresh_findings(course, assignments)
    say("grading the reference, the untouched release and answers that compute nothing, twice")
    proof.findings += graded_findings(course, assignments, secret, jobs)
    if mutants is not None:
        rows, findings = mutation_audit(course, assignments, secret, jobs, mutants, say)
        proof.mutation, proof.findings = rows, proof.findings + findings
    return proof


def mutation_table(rows: dict[str, MutationRow]) -> str:
    lines = [f"{'blank':<24} {'mutants':>7} {'killed':>7} {'score':>6} {'kept by the killed':>19}"]
    for blank, row in rows.items():
        lines.append(f"{blank:<24} {row.mutants:>7} {row.killed:>7} {row.score:>6.0%} {row.mean_kept:>19.1%}")
    total = sum(r.mutants for r in rows.values())
    killed = sum(r.killed for r in rows.values())
    equivalent = sum(eq for r in rows.values() for _, eq in r.survivors)
    lines.append(f"{total} mutants, {killed} lose marks ({killed / total if total else 1:.0%}); "
                 f"{equivalent} of the {total - killed} that keep full marks are equivalent to the reference")
    return "\n".join(lines)


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def scratch() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="autograder-check-course-")


def canonical(result: Any) -> str:
    """A notebook's results as JSON with its tests in name order: what must not depend on order or --jobs."""
    data = result.to_json()
    data["tests"] = sorted(data["tests"], key=lambda t: t["name"])
    data.pop("extra_data", None)
    return json.dumps(data, sort_keys=True)


def relative(course: Course, path: Path) -> str:
    try:
        return str(path.relative_to(course.root))
    except ValueError:
        return str(path)
