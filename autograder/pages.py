"""Per-student feedback pages: for each results file ``<student>/<assignment>/<stem>.json``, a page
``<stem>.html`` beside it with the same content, readable by a student: the score, the notes about the notebook,
and per blank its mark and each test's feedback (the sentence, the hint, the numbers).

For the training blanks (``CURVES``), the page also shows the student's loss curve against the reference's on the
VISIBLE training data: the release folder's data file, loaded as the notebook loads it, from the notebook's start
values and hyperparameters. Never a hidden input. The student's function runs where all student code runs: in a
sandbox (autograder.runner's factory, the same Submission API the hidden tests use), with the grader's limits and
within the notebook's own share of time (``CURVE_SHARE``), so that a slow notebook costs its own curves, never another
notebook's; the reference's runs here (trusted code). When the student's function cannot give a curve
(not written, raised, returned something else, ran out of its share of time), the page says so instead.
"""
from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable

from autograder.webpage import (Result, Test, esc, figure, fmt, mark_class, name, page, read_results, split_feedback,
                                svg)

if TYPE_CHECKING:
    from autograder.course import Assignment, Course


@dataclass(frozen=True)
class Curve:
    """How the notebook trains on its visible data (what its training cell does), for one training blank."""
    data: str  # the data file in the release folder
    skiprows: int  # header lines
    x: tuple[int, int]  # columns of the inputs
    y: tuple[int, int]  # columns of the targets
    scale_x: bool  # inputs divided by their column's maximum
    parameters: bool  # w and b are nn.Parameters (else leaf tensors that require grad)
    w: tuple[int, ...]
    b: tuple[int, ...]
    lr: float
    epochs: int

    def describe(self, blank: str, rows: int) -> str:
        start = "zero weights" if self.parameters else "w = b = 0"
        return f"{blank} on {self.data} ({rows} rows), from {start}, lr = {self.lr:g}, {self.epochs} epochs"


# The training blanks and their notebook's training cell (release/02_linear_regression, release/03_...).
CURVES: dict[str, Curve] = {
    "train_linear": Curve("linear_points.csv", 1, (0, 1), (1, 2), False, False, (1,), (1,), 0.01, 200),
    "train_logistic": Curve("exam_scores.csv", 0, (0, 2), (2, 3), True, True, (2, 1), (1,), 1.0, 1000),
}
# Seconds each notebook's reruns may take, all its curves together (the call timeout is capped by it): an honest
# notebook needs well under one (about 1.5 s for the first to use torch.optim), a slow one costs this at most.
CURVE_SHARE = 5.0
# Feedback that says the training function never ran when graded: rerunning it cannot draw a curve.
DID_NOT_RUN = ("is not written yet", "is not defined", "did not finish", "ended your notebook's process",
               "process was lost", "not run again", "used up the", "something unreadable", "could not be read")


def visible_data(course: "Course", assignment: "Assignment", curve: Curve):
    """(x, y) as the notebook loads them from the release folder."""
    import numpy as np
    import torch

    data = np.loadtxt(course.release(assignment) / curve.data, delimiter=",", skiprows=curve.skiprows,
                      dtype=np.float32, ndmin=2)
    x = data[:, curve.x[0]:curve.x[1]]
    if curve.scale_x:
        x = x / x.max(axis=0)
    return torch.tensor(x), torch.tensor(data[:, curve.y[0]:curve.y[1]])


def start_values(curve: Curve):
    import torch
    from torch import nn

    if curve.parameters:
        return nn.Parameter(torch.zeros(curve.w)), nn.Parameter(torch.zeros(curve.b))
    return torch.zeros(curve.w, requires_grad=True), torch.zeros(curve.b, requires_grad=True)


def as_losses(value: Any, epochs: int) -> tuple[list[float] | None, str]:
    """The losses a training function returned, as floats, or None and what was wrong with them."""
    import torch

    if not isinstance(value, (list, tuple)):
        kind = "None" if value is None else type(value).__name__
        return None, f"it returned {kind}, not a list of {epochs} losses"
    losses = []
    for v in value:
        if isinstance(v, bool):
            return None, "its list of losses holds booleans"
        if isinstance(v, (int, float)):
            losses.append(float(v))
        elif isinstance(v, torch.Tensor) and v.numel() == 1 and v.is_floating_point():
            losses.append(float(v.reshape(())))
        else:
            return None, f"its list of losses holds a {type(v).__name__}, not numbers"
    if not losses:
        return None, "it returned an empty list"
    note = "" if len(losses) == epochs else f"it returned {len(losses)} losses for {epochs} epochs"
    return losses, note


class CurveMaker:
    """Draws loss curves: the reference's (computed here, once per blank) and the students' (in sandboxes). Each
    notebook's reruns have their own share of time, started by :meth:`next_notebook`."""

    def __init__(self, course: "Course", settings: Any = None, budget: float | None = 60.0, notebooks: int = 1,
                 share: float = CURVE_SHARE):
        self.course, self.settings = course, settings
        self.share = share
        # ``budget``: seconds for all the reruns together (None: no bound but the shares), so that grading a large
        # class ends in bounded time. It is split evenly among the ``notebooks`` still to come: a notebook gets at
        # most its even part of what is left, so whatever it spends, each one after it gets at least as much.
        self.budget, self.notebooks = budget, notebooks
        self.spent = 0.0  # seconds the reruns took, all notebooks together (the sandbox's start not counted)
        self.allowed = self.left = 0.0  # the current notebook's share, and what is left of it
        self._reference: dict[str, list[float]] = {}
        self._factory = None
        self._unavailable: str | None = None if settings is not None else "the submissions were not given"
        self._scrub: Callable[[str], str] = lambda text: text

    def close(self) -> None:
        if self._factory is not None:
            self._factory.close()
            self._factory = None

    def next_notebook(self) -> None:
        """The next notebook's share starts: ``share`` seconds, or its even part of what is left of the budget."""
        self.allowed = self.share
        if self.budget is not None:
            self.allowed = min(self.share, max(0.0, self.budget - self.spent) / max(1, self.notebooks))
            self.notebooks -= 1
        self.left = self.allowed

    def reference(self, assignment: "Assignment", blank: str) -> list[float]:
        if blank not in self._reference:
            from autograder.plugin import load_reference

            curve = CURVES[blank]
            x, y = visible_data(self.course, assignment, curve)
            w, b = start_values(curve)
            ref = load_reference(self.course, assignment)
            self._reference[blank] = [float(v) for v in getattr(ref, blank)(x, y, w, b, curve.lr, curve.epochs)]
        return self._reference[blank]

    def student(self, assignment: "Assignment", blank: str, notebook: Path | None) -> tuple[list[float] | None, str]:
        """The student's losses on the visible data, or None and why there are none."""
        if notebook is None or self._unavailable:
            return None, (f"your loss curve was not drawn: {self._unavailable or 'the notebook was not given'}.")
        from autograder.notebook import NotebookError
        from autograder.runner import graded_cells
        from autograder.submission import Submission, SubmissionError

        if self._factory is None:
            from autograder.runner import _open_factory, host_scrubber
            from autograder.sandbox import SandboxUnavailable

            try:
                self._factory = _open_factory(self.settings)
            except SandboxUnavailable as error:
                self._unavailable = f"no sandbox to run it in ({str(error).splitlines()[0]})"
                return None, f"your loss curve was not drawn: {self._unavailable}."
            self._scrub = host_scrubber(self.settings)
        if self.left < 1:
            return None, self._out_of_time()
        try:
            cells = graded_cells(self.course, assignment, notebook)
        except NotebookError:
            return None, "your loss curve was not drawn: the notebook could not be read."
        s = self.settings
        curve = CURVES[blank]
        x, y = visible_data(self.course, assignment, curve)
        w, b = start_values(curve)
        started = time.monotonic()
        sub = Submission(self._factory(assignment), cells, cell_timeout=s.cell_timeout,
                         call_timeout=min(s.call_timeout, self.left), notebook_timeout=s.notebook_timeout,
                         budget=self.left)
        sub.MAX_RESTARTS = 1  # one run of the notebook: this is feedback, not grading
        try:
            value = sub.call(blank, x, y, w, b, curve.lr, curve.epochs)
        except SubmissionError as error:
            if time.monotonic() - started >= self.left:
                return None, self._out_of_time()
            text = self._scrub(str(error)).split("\nHint:")[0].strip().rstrip(".")
            return None, f"your loss curve is not drawn: on this data, {text}"
        finally:
            sub.close()
            took = time.monotonic() - started
            self.left -= took
            self.spent += took
        losses, note = as_losses(value, curve.epochs)
        if losses is None:
            return None, f"your loss curve is not drawn: {note}."
        return losses, note

    def _out_of_time(self) -> str:
        if self.allowed < 1:
            return ("your loss curve was not drawn: the time grading gives curves ran out "
                    "(`python -m autograder report --submissions` draws it).")
        return (f"your loss curve was not drawn: rerunning your notebook took more than the {self.allowed:.2g} s "
                "it is given for its curves.")


def _finite(values: list[float]) -> list[tuple[int, float]]:
    return [(i + 1, v) for i, v in enumerate(values) if math.isfinite(v)]


def curve_plot(blank: str, title: str, reference: list[float], student: list[float] | None, salt: str) -> str:
    fig = figure(8, 3.6)
    ax = fig.add_subplot()
    ref_points = _finite(reference)
    positive = all(v > 0 for _, v in ref_points)
    if student is not None:
        points = _finite(student)
        positive = positive and all(v > 0 for _, v in points)
        if points:
            ax.plot(*zip(*points), color="#0b5cad", linewidth=3.2, alpha=0.8, label="your losses")
    ax.plot(*zip(*ref_points), color="#111111", linewidth=1.4, linestyle="--", label="reference")
    if positive:
        ax.set_yscale("log")
    if student is not None and ref_points:  # a diverging curve must not flatten the reference's
        low = min(v for _, v in ref_points)
        high = max(v for _, v in ref_points)
        top = max([v for _, v in _finite(student)] + [high])
        if top > 1e3 * high:
            ax.set_ylim(top=1e3 * high if positive else high + 10 * (high - low + 1))
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss" + (" (log scale)" if positive else ""))
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=9)
    return svg(fig, salt, f"loss curve of {blank}: yours against the reference's")


def curve_summary(blank: str, reference: list[float], student: list[float] | None) -> str:
    ref = f"The reference: first loss {reference[0]:.4f}, last {reference[-1]:.4f}."
    if not student:
        return ref
    bad = [i + 1 for i, v in enumerate(student) if not math.isfinite(v)]
    mine = f"Yours: first loss {student[0]:.4f}, last {student[-1]:.4f}."
    if bad:
        mine += f" Your loss is not a finite number from epoch {bad[0]} on."
    elif len(student) == len(reference):
        gap = max(abs(a - b) for a, b in zip(student, reference))
        mine += (" Your curve follows the reference's." if gap <= 1e-4 * max(1.0, max(map(abs, reference))) else
                 f" The largest difference from the reference's is {gap:.3g}.")
    return f"{mine} {ref}"


# -- the page ------------------------------------------------------------------------------------------------------
def _test_title(t: Test) -> str:
    return t.name[len(t.blank) + 2:] if t.name.startswith(f"{t.blank}: ") else t.name


def _feedback_html(output: str) -> str:
    fb = split_feedback(output)
    parts = []
    if fb.sentence:
        parts.append(f"<p class=\"sentence\">{esc(fb.sentence)}</p>")
    if fb.hint:
        parts.append(f"<p class=\"hint\"><strong>Hint:</strong> {esc(fb.hint)}</p>")
    if fb.details:
        parts.append(f"<pre>{esc(fb.details)}</pre>")
    return "".join(parts)


def _anchor(blank: str) -> str:
    return "blank-" + re.sub(r"[^A-Za-z0-9_-]", "-", blank)


def build_page(result: Result, curves: dict[str, str] | None = None) -> str:
    """A student's page: ``curves`` maps a training blank to its curve's HTML (plot and words)."""
    curves = curves or {}
    cls = mark_class(result.score, result.max_score)
    out = [f"<h1>{name(result.assignment)}</h1>",
           f"<p class=\"sub\">{name(result.student)} &middot; {name(result.stem)}.ipynb &middot; "
           f"<span class=\"badge {cls}\">{fmt(result.score)} / {fmt(result.max_score)}</span>"
           + (f" &middot; isolation: {esc(result.isolation)}" if result.isolation else "") + "</p>"]
    if result.output:
        out.append(f"<section class=\"card\" id=\"notebook\"><h2>About your notebook</h2>"
                   f"<div class=\"notes\">{esc(result.output)}</div></section>")
    marks = result.blanks()
    out.append("<section class=\"card\" id=\"summary\"><h2>Your marks</h2><div class=\"scroll\"><table><tr><th>blank</th>"
               "<th class=\"num\">mark</th></tr>")
    for blank, (got, of) in marks.items():
        out.append(f"<tr><td><a href=\"#{_anchor(blank)}\">{name(blank)}</a></td><td class=\"num\">"
                   f"<span class=\"badge {mark_class(got, of)}\">{fmt(got)} / {fmt(of)}</span></td></tr>")
    out.append("</table></div></section>")
    for blank, (got, of) in marks.items():
        out.append(f"<section class=\"card\" id=\"{_anchor(blank)}\"><h2>{name(blank)} "
                   f"<span class=\"badge {mark_class(got, of)}\">{fmt(got)} / {fmt(of)}</span></h2>")
        if blank in curves:
            out.append(curves[blank])
        groups: dict[str, list[Test]] = {}  # tests with the same feedback shown once, in the tests' order
        for t in result.tests:
            if t.blank == blank:
                groups.setdefault(t.output, []).append(t)
        for output, tests in groups.items():
            items = "".join(f"<li><span class=\"{'ok' if t.passed else 'bad'}\">{'&#10003;' if t.passed else '&#10007;'}"
                            f"</span> {esc(_test_title(t))} <span class=\"badge {mark_class(t.score, t.max_score)}\">"
                            f"{fmt(t.score)} / {fmt(t.max_score)}</span></li>" for t in tests)
            out.append(f"<div class=\"feedback\"><ul class=\"tests\">{items}</ul>{_feedback_html(output)}</div>")
        out.append("</section>")
    return page(f"{result.assignment}: {result.student}", "\n".join(out))


def _did_not_run(result: Result, blank: str) -> str | None:
    """Why rerunning the student's function cannot give a curve, from what grading saw; None: worth a try."""
    failing = [t.output for t in result.tests if t.blank == blank and not t.passed]
    if result.not_graded() or result.problems() or any(n in result.output for n in ("was skipped", "did not finish")):
        return "your notebook was not graded in full (see the notes above)"
    if failing and all(any(n in o for n in DID_NOT_RUN) for o in failing):
        sentence = split_feedback(failing[0]).sentence.rstrip(".")
        return sentence if sentence.startswith(blank) else f"{blank} did not run when graded ({sentence})"
    return None


def curve_html(maker: CurveMaker | None, course: "Course", result: Result, blank: str, notebook: Path | None) -> str:
    assignment = course.assignments[result.assignment]
    curve = CURVES[blank]
    reference = maker.reference(assignment, blank) if maker else []
    rows = len(visible_data(course, assignment, curve)[0])
    title = curve.describe(blank, rows)
    why_not = _did_not_run(result, blank)
    if why_not:
        student, note = None, f"Your loss curve is not drawn: {why_not}."
    else:
        student, note = maker.student(assignment, blank, notebook)
        note = (note[0].upper() + note[1:] + ("" if note.endswith(".") else ".")) if note else ""
    salt = _anchor(f"{result.student}-{blank}")
    plot = curve_plot(blank, title, reference, student, salt)
    words = curve_summary(blank, reference, student)
    return (f"<h3>Your training on the visible data</h3><p class=\"sub\">{esc(title)}: the notebook's own training "
            f"run, not the grader's hidden inputs.</p>{plot}"
            + (f"<p class=\"hint\">{esc(note)}</p>" if note else "") + f"<p>{esc(words)}</p>")


def page_path(results_file: Path) -> Path:
    return results_file.with_suffix(".html")


def write_pages(out: Path, course: "Course | None" = None, jobs: Iterable[Any] = (), settings: Any = None,
                curve_budget: float | None = 60.0, say: Callable[[str], None] = print) -> dict[Path, Path]:
    """A page beside every results file under ``out``; returns results file -> page (relative to ``out``).
    ``jobs`` (autograder.discover.Job: ``path``, ``results``) name the notebooks whose training blanks get the
    student's curve; ``settings`` (autograder.runner.Settings) the sandbox they run in. Each notebook's reruns get
    ``CURVE_SHARE`` seconds, and all of them together at most ``curve_budget`` (None: no bound but the shares)."""
    from autograder.results import write_atomically

    results, _ = read_results(out)
    notebooks = {Path(job.results): Path(job.path) for job in jobs}
    assignments = course.assignments if course is not None else {}
    training = {r.path: [b for b in r.blanks() if b in CURVES and r.assignment in assignments
                         and b in assignments[r.assignment].blanks] for r in results}
    with_curves = sum(1 for blanks in training.values() if blanks)
    maker = CurveMaker(course, settings if notebooks else None, curve_budget, with_curves) if with_curves else None
    written: dict[Path, Path] = {}
    try:
        for result in results:
            curves = {}
            if training[result.path]:
                maker.next_notebook()
                for blank in training[result.path]:
                    curves[blank] = curve_html(maker, course, result, blank, notebooks.get(result.path))
            target = page_path(result.path)
            write_atomically(out / target, build_page(result, curves))
            written[result.path] = target
    finally:
        if maker is not None:
            maker.close()
    return written


# -- Gradescope: the same text, as markdown ---------------------------------------------------------------------------
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def markdown_feedback(output: str) -> str:
    """A test's feedback as the page shows it, in markdown for Gradescope (``output_format: "md"``): the sentence,
    the hint in bold after "Hint:", the numbers in a code block; every character that markdown reads is escaped."""
    fb = split_feedback(output)
    parts = []
    if fb.sentence:
        parts.append(MARKDOWN_SPECIAL.sub(r"\\\1", fb.sentence))
    if fb.hint:
        parts.append("**Hint:** " + MARKDOWN_SPECIAL.sub(r"\\\1", fb.hint))
    if fb.details:
        parts.append("```\n" + fb.details.replace("```", "'''") + "\n```")
    return "\n\n".join(parts)


def gradescope_markdown(data: dict) -> dict:
    """A Gradescope results.json (autograder.gradescope.results_json) whose tests' outputs are markdown, and says so
    (``test_output_format``), so that Gradescope shows each test's feedback as the feedback page does."""
    data = {**data, "tests": [{**t, "output": markdown_feedback(t.get("output", ""))} for t in data.get("tests", [])]}
    data["test_output_format"] = "md"
    return data
