"""Results: one Gradescope ``results.json`` per notebook, one CSV of scores per batch.

Write a file with :func:`write_atomically` (text) or :func:`write_json` (data): both make every string valid
Unicode first (:func:`valid_text`), so that the file is valid UTF-8, and valid JSON, whatever names and text it
holds (results, scores.csv through :mod:`autograder.outputs.csvsafe`, and the HTML pages are written so).
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable


def marks_by_blank(tests: Iterable[Any]) -> dict[str, tuple[float, float]]:
    """Per blank, (points earned, points possible) over ``tests`` (each with ``blank``, ``score`` and ``max_score``),
    in the order the blanks first appear."""
    marks: dict[str, tuple[float, float]] = {}
    for t in tests:
        got, out_of = marks.get(t.blank, (0.0, 0.0))
        marks[t.blank] = (got + t.score, out_of + t.max_score)
    return marks


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class, despite the name
    name: str
    blank: str
    score: float
    max_score: float
    output: str
    visibility: str = "visible"
    kind: str = "value"  # what the test judges: autograder.grading.policy.KINDS (value, edge, property, forbidden)
    passed: bool | None = None  # what the test found, before the marking policy counted it (None: as its score says)
    reason: str | None = None  # why it failed, for the engine (a SubmissionError's reason: "not-written", "timeout"...)

    def __post_init__(self) -> None:
        if self.passed is None:
            self.passed = self.score >= self.max_score

    def to_json(self) -> dict[str, Any]:
        """Gradescope's test object; ``status`` is what the test found, so a test that passed but does not count
        under the marking policy shows as passed, with a score of 0 and the reason in its output."""
        data = {"name": self.name, "score": self.score, "max_score": self.max_score, "output": self.output,
                "tags": [self.blank], "visibility": self.visibility, "status": "passed" if self.passed else "failed"}
        if self.reason:
            data["extra_data"] = {"reason": self.reason}
        return data


@dataclass
class NotebookResult:
    student: str
    assignment: str
    notebook: str  # stem
    tests: list[TestResult] = field(default_factory=list)
    output: str = ""  # notes about the whole notebook (cells that failed, a lost process)
    error: str | None = None  # set when the notebook could not be graded at all (e.g. not a notebook)
    isolation: str | None = None  # the isolation level its code ran under (autograder.sandbox.hostprobe.LEVELS)
    curves: dict[str, dict[str, Any]] | None = None  # training blank -> its loss curves (autograder.grading.curves)
    graded: str = "in full"  # or "in part" (a process lost, a budget spent, a cell skipped), or "no" (not at all)
    late: dict[str, Any] | None = None  # the course's late rule applied (autograder.after.late.Penalty.to_json())

    @property
    def raw_score(self) -> float:
        """What the work earned: the sum of its tests' scores."""
        return round(sum(t.score for t in self.tests), 6)

    @property
    def score(self) -> float:
        """The mark that counts: the raw score, less the late penalty where the course has late rules."""
        return float(self.late["final"]) if self.late else self.raw_score

    @property
    def max_score(self) -> float:
        return round(sum(t.max_score for t in self.tests), 6)

    def by_blank(self) -> dict[str, tuple[float, float]]:
        return marks_by_blank(self.tests)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"score": self.score, "max_score": self.max_score,
                                "tests": [t.to_json() for t in self.tests]}
        if self.output:
            data["output"] = self.output
        extra: dict[str, Any] = {}
        if self.isolation is not None:
            extra["isolation"] = self.isolation
        if self.curves:
            extra["curves"] = self.curves
        if self.graded != "in full":
            extra["graded"] = self.graded
        if self.late:
            extra["late"] = self.late
        if extra:
            data["extra_data"] = extra
        return data


class HostScrubber:
    """Takes the grader machine's details out of feedback: its folders (the course, the results, the submissions,
    Python's installation) become placeholders, and a sandbox's host working folder becomes "<your folder>"."""

    SANDBOX_FOLDER = re.compile(r"/[\w./-]*autograder-sandboxes-[^/\s'\"]+(/[^/\s'\"]+)?")
    NUMBER = re.compile(r"(?<![\w.])\d{4,6}(?![\w.])")

    def __init__(self, folders: dict[str, str], uids: range = range(0)):
        self.folders = sorted(((os.path.realpath(f), name) for f, name in folders.items() if f and f != "/"),
                              key=lambda item: -len(item[0]))
        self.uids = uids  # the sandboxes' uids: how the grader numbers them is its own business

    def __call__(self, text: str) -> str:
        text = self.SANDBOX_FOLDER.sub("<your folder>", text)
        if self.uids:
            text = self.NUMBER.sub(lambda m: "<uid>" if int(m.group()) in self.uids else m.group(), text)
        for folder, name in self.folders:
            text = text.replace(folder, name)
        return text

    def result(self, result: "NotebookResult") -> "NotebookResult":
        """The result without host details, each test's feedback then wrapped to short lines (after the scrubbing,
        so that where lines break never depends on the grader's folders)."""
        from autograder.grading.compare import wrap

        curves = {blank: {**c, "note": self(c.get("note", ""))} for blank, c in (result.curves or {}).items()}
        return replace(result, output=self(result.output), curves=curves or None,
                       tests=[replace(t, output=wrap(self(t.output)), name=self(t.name)) for t in result.tests])


# -- text that is valid Unicode ---------------------------------------------------------------------------------------
_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(text: str) -> str:
    """``text`` with every lone surrogate written as an escape, so that it encodes to UTF-8.

    A name that is not UTF-8 comes from ``os.fsdecode`` with a surrogate for each undecodable byte (b"caf\\xe9" is
    "caf\\udce9"), and a sandbox's JSON may carry any surrogate ("\\ud800"); json.dumps would write them as escapes
    that a strict JSON reader rejects, and UTF-8 cannot encode them at all. Each becomes the escape Python writes
    for it: the byte "\\xe9" for a byte os.fsdecode could not decode, else "\\ud800". So names that differ in the
    bytes that are not UTF-8 stay different, and text that is valid is returned as it is."""
    return _SURROGATE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    point = ord(match.group())
    return f"\\x{point - 0xDC00:02x}" if 0xDC80 <= point <= 0xDCFF else f"\\u{point:04x}"


def valid_strings(value: Any) -> Any:
    """``value`` (data for JSON: dicts, lists, strings, numbers) with :func:`valid_text` applied to every string,
    keys included."""
    if isinstance(value, str):
        return valid_text(value)
    if isinstance(value, dict):
        return {valid_strings(k): valid_strings(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [valid_strings(v) for v in value]
    return value


# -- writing --------------------------------------------------------------------------------------------------------
def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a reader sees the old file or the new one, never half of one. The file is
    UTF-8, with :func:`valid_text` applied first: no name or feedback can make writing it fail."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(valid_text(text))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as JSON (indented) to ``path``, every string made valid first: json.dumps would otherwise
    escape a lone surrogate as "\\udce9", which write_atomically cannot see and a strict JSON reader rejects."""
    write_atomically(path, json.dumps(valid_strings(data), indent=2) + "\n")


def write_results(result: NotebookResult, path: Path) -> None:
    write_json(path, result.to_json())


def write_scores_csv(results: list[NotebookResult], path: Path) -> None:
    """One row per student, one column per assignment graded (the mark that counts), the total and the maximum total;
    where the course has late rules, then for each assignment "<assignment> raw" and "<assignment> late penalty".
    Each (student, assignment) has exactly the one result that counts (discovery chose it); a second one is a bug,
    never "the better of two". Written by :func:`autograder.outputs.csvsafe.write_csv`: no student id is ever a
    formula in a spreadsheet."""
    from autograder.outputs.csvsafe import write_csv  # which imports this module for write_atomically

    assignments = sorted({r.assignment for r in results})
    rows: dict[str, dict[str, NotebookResult]] = {}
    for r in results:
        mine = rows.setdefault(r.student, {})
        if r.assignment in mine:
            raise ValueError(f"two results for {r.student!r}'s {r.assignment}: only one notebook may count")
        mine[r.assignment] = r
    maxima = {a: max(r.max_score for r in results if r.assignment == a) for a in assignments}
    late = [a for a in assignments if any(r.late for r in results if r.assignment == a)]
    lines: list[list[str | float]] = [["student", *assignments, "total", "max_total",
                                       *(f"{a} {column}" for a in late for column in LATE_COLUMNS)]]
    for student in sorted(rows):
        mine = rows[student]
        scores = [mine[a].score if a in mine else 0.0 for a in assignments]
        penalties: list[str | float] = []
        for a in late:
            penalties += [mine[a].raw_score, round(mine[a].raw_score - mine[a].score, 6)] if a in mine else ["", ""]
        # rounded as each notebook's score is: a sum of floats must not print as 2.3000000000000003
        lines.append([student, *scores, round(sum(scores), 6), round(sum(maxima.values()), 6), *penalties])
    write_csv(path, lines)


LATE_COLUMNS = ("raw", "late penalty")  # scores.csv's columns after max_total, per assignment with late rules
