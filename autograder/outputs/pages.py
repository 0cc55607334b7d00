"""Per-student feedback pages: for each results file ``<student>/<assignment>/<stem>.json``, a page
``<stem>.html`` beside it with the same content, readable by a student: the score, the notes about the notebook,
and per blank its mark and each test's feedback (the sentence, the hint, the numbers).

For the training blanks, the page also shows the student's loss curve against the reference's on the VISIBLE
training data, as grading recorded them in the results file (``extra_data.curves``; autograder.grading.curves): the
pages run no student code and cost no second pass over the class. When there is no curve of the student's (not
written, raised, returned something else, ran out of its notebook's share of time), the page says why.
"""
from __future__ import annotations

import functools
import math
import multiprocessing
import re
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Iterator

from autograder.grading import verdicts
from autograder.i18n import _
from autograder.outputs.webpage import (RecordedCurve, Result, Test, esc, figure, fmt, mark_class, name, page,
                                        plain_log_axis, read_results, split_feedback, svg)


def _finite(values: list[float]) -> list[tuple[int, float]]:
    return [(i + 1, v) for i, v in enumerate(values) if math.isfinite(v)]


def curve_plot(blank: str, title: str, reference: list[float], student: list[float] | None, salt: str) -> str:
    fig = figure(8, 3.6, margins=(1.0, 0.15, 0.35, 0.55))  # room for labels such as 0.0002 (a page per student)
    ax = fig.add_subplot()
    ref_points = _finite(reference)
    positive = all(v > 0 for _, v in ref_points)
    if student is not None:
        points = _finite(student)
        positive = positive and all(v > 0 for _, v in points)
        if points:
            ax.plot(*zip(*points), color="#0b5cad", linewidth=3.2, alpha=0.8, label=_("your losses"))
    ax.plot(*zip(*ref_points), color="#111111", linewidth=1.4, linestyle="--", label=_("reference"))
    if positive:
        ax.set_yscale("log")
        plain_log_axis(ax.yaxis)
    if student is not None and ref_points:  # a diverging curve must not flatten the reference's
        low = min(v for _, v in ref_points)
        high = max(v for _, v in ref_points)
        top = max([v for _, v in _finite(student)] + [high])
        if top > 1e3 * high:
            ax.set_ylim(top=1e3 * high if positive else high + 10 * (high - low + 1))
    ax.set_xlabel(_("epoch"))
    ax.set_ylabel(_("training loss (log scale)") if positive else _("training loss"))
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right", fontsize=9)
    return svg(fig, salt, _("loss curve of {blank}: yours against the reference's").format(blank=blank))


def curve_summary(blank: str, reference: list[float], student: list[float] | None) -> str:
    ref = _("The reference: first loss {first}, last {last}.").format(first=f"{reference[0]:.4f}",
                                                                      last=f"{reference[-1]:.4f}")
    if not student:
        return ref
    bad = [i + 1 for i, v in enumerate(student) if not math.isfinite(v)]
    parts = [_("Yours: first loss {first}, last {last}.").format(first=f"{student[0]:.4f}", last=f"{student[-1]:.4f}")]
    if bad:
        parts.append(_("Your loss is not a finite number from epoch {epoch} on.").format(epoch=bad[0]))
    elif len(student) == len(reference):
        gap = max(abs(a - b) for a, b in zip(student, reference))
        parts.append(_("Your curve follows the reference's.") if gap <= 1e-4 * max(1.0, max(map(abs, reference))) else
                     _("The largest difference from the reference's is {gap}.").format(gap=f"{gap:.3g}"))
    return " ".join([*parts, ref])


# -- the page ------------------------------------------------------------------------------------------------------
def _test_title(t: Test) -> str:
    return t.name[len(t.blank) + 2:] if t.name.startswith(f"{t.blank}: ") else t.name


def _feedback_html(output: str) -> str:
    fb = split_feedback(output)
    parts = []
    if fb.sentence:
        parts.append(f"<p class=\"sentence\">{esc(fb.sentence)}</p>")
    if fb.hint:
        parts.append(f"<p class=\"hint\"><strong>{esc(_('Hint:'))}</strong> {esc(fb.hint)}</p>")
    if fb.details:
        parts.append(f"<pre>{esc(fb.details)}</pre>")
    return "".join(parts)


def _verdict(t: Test) -> str:
    """&#10003; passed, &#10007; failed, with the verdict's words (autograder.grading.verdicts); a test that passed
    but does not count in full under the marking policy (its feedback says why) has a tick that says so."""
    if t.passed and not t.counted:
        return f"<span class=\"part\">&#10003; {esc(_('passed, not counted in full:'))}</span>"
    kind = verdicts.of_test(t)
    return (f"<span class=\"{'ok' if t.passed else 'bad'}\">{'&#10003;' if t.passed else '&#10007;'} "
            f"{esc(verdicts.words(kind))}</span>")


def _blank_verdict(tests: list[Test]) -> str:
    kind = verdicts.of_blank(tests)
    cls = {"accepted": "ok", "partial": "part"}.get(kind, "bad")
    return f"<span class=\"{cls}\">{esc(verdicts.words(kind))}</span>"


def _anchor(blank: str) -> str:
    return "blank-" + re.sub(r"[^A-Za-z0-9_-]", "-", blank)


def build_page(result: Result, curves: dict[str, str] | None = None) -> str:
    """A student's page: ``curves`` maps a training blank to its curve's HTML (plot and words)."""
    curves = curves or {}
    cls = mark_class(result.score, result.max_score)
    out = [f"<h1>{name(result.assignment)}</h1>",
           f"<p class=\"sub\">{name(result.student)} &middot; {name(result.stem)}.ipynb &middot; "
           f"<span class=\"badge {cls}\">{fmt(result.score)} / {fmt(result.max_score)}</span>"
           + (f" &middot; {esc(_('isolation: {level}').format(level=result.isolation))}" if result.isolation else "")
           + "</p>"]
    if result.late:
        out.append(f"<section class=\"card\" id=\"late\"><h2>{esc(_('Late work'))}</h2><p>{esc(result.late)}</p>"
                   "</section>")
    if result.output:
        out.append(f"<section class=\"card\" id=\"notebook\"><h2>{esc(_('About your notebook'))}</h2>"
                   f"<div class=\"notes\">{esc(result.output)}</div></section>")
    marks = result.blanks()
    out.append(f"<section class=\"card\" id=\"summary\"><h2>{esc(_('Your marks'))}</h2><div class=\"scroll\"><table>"
               f"<tr><th>{esc(_('blank'))}</th><th>{esc(_('verdict'))}</th>"
               f"<th class=\"num\">{esc(_('mark'))}</th></tr>")
    tests_of = {blank: [t for t in result.tests if t.blank == blank] for blank in marks}
    for blank, (got, of) in marks.items():
        out.append(f"<tr><td><a href=\"#{_anchor(blank)}\">{name(blank)}</a></td>"
                   f"<td>{_blank_verdict(tests_of[blank])}</td><td class=\"num\">"
                   f"<span class=\"badge {mark_class(got, of)}\">{fmt(got)} / {fmt(of)}</span></td></tr>")
    out.append("</table></div></section>")
    for blank, (got, of) in marks.items():
        out.append(f"<section class=\"card\" id=\"{_anchor(blank)}\"><h2>{name(blank)} "
                   f"<span class=\"badge {mark_class(got, of)}\">{fmt(got)} / {fmt(of)}</span> "
                   f"<small>{_blank_verdict(tests_of[blank])}</small></h2>")
        if blank in curves:
            out.append(curves[blank])
        groups: dict[str, list[Test]] = {}  # tests with the same feedback shown once, in the tests' order
        for t in result.tests:
            if t.blank == blank:
                groups.setdefault(t.output, []).append(t)
        for output, tests in groups.items():
            items = "".join(f"<li>{_verdict(t)} {esc(_test_title(t))} <span class=\"badge "
                            f"{mark_class(t.score, t.max_score)}\">{fmt(t.score)} / {fmt(t.max_score)}</span></li>"
                            for t in tests)
            out.append(f"<div class=\"feedback\"><ul class=\"tests\">{items}</ul>{_feedback_html(output)}</div>")
        out.append("</section>")
    return page(f"{result.assignment}: {result.student}", "\n".join(out))


def curve_html(result: Result, blank: str, curve: RecordedCurve) -> str:
    salt = _anchor(f"{result.student}-{blank}")
    plot = curve_plot(blank, curve.describe, curve.reference, curve.student, salt)
    words = curve_summary(blank, curve.reference, curve.student)
    note = (curve.note[0].upper() + curve.note[1:]) if curve.note else ""
    what = _("{what}: the notebook's own training run, not the grader's hidden inputs.").format(what=curve.describe)
    return (f"<h3>{esc(_('Your training on the visible data'))}</h3><p class=\"sub\">{esc(what)}</p>{plot}"
            + (f"<p class=\"hint\">{esc(note)}</p>" if note else "") + f"<p>{esc(words)}</p>")


def page_path(results_file: Path) -> Path:
    return results_file.with_suffix(".html")


def write_page(out: Path, result: Result) -> Path:
    """The page of one results file, beside it; returns its path relative to ``out``."""
    from autograder.grading.results import write_atomically

    graded = result.blanks()
    curves = {blank: curve_html(result, blank, curve) for blank, curve in result.curves.items() if blank in graded}
    target = page_path(result.path)
    write_atomically(out / target, build_page(result, curves))
    return target


PARALLEL_FROM = 8  # pages per process below which forking costs more than it saves


def write_pages(out: Path, say: Callable[[str], None] = print, progress: Callable[[int, int], None] | None = None,
                jobs: int = 1) -> dict[Path, Path]:
    """A page beside every results file under ``out``; returns results file -> page (relative to ``out``).
    ``progress(done, total)`` hears of each page (a class of hundreds takes a while). ``jobs`` > 1 draws them in
    that many forked processes, the same bytes in the same files: a page with a loss curve costs tens of ms of
    matplotlib, and the rest of the report leaves the other cores idle."""
    results, _unreadable = read_results(out)
    tick = progress or (lambda done, total: None)
    tick(0, len(results))
    written: dict[Path, Path] = {}
    for done, (result, target) in enumerate(zip(results, _drawn(out, results, jobs)), 1):
        written[result.path] = target
        tick(done, len(results))
    return written


def _drawn(out: Path, results: list[Result], jobs: int) -> Iterator[Path]:
    draw = functools.partial(write_page, out)
    jobs = min(jobs, len(results) // PARALLEL_FROM)
    if jobs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(draw, results)
        return
    # fork: the children start with this process's imports, language and course (spawning would import them again)
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        yield from pool.map(draw, results, chunksize=4)


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
        parts.append(f"**{_('Hint:')}** " + MARKDOWN_SPECIAL.sub(r"\\\1", fb.hint))
    if fb.details:
        parts.append("```\n" + fb.details.replace("```", "'''") + "\n```")
    return "\n\n".join(parts)


def gradescope_markdown(data: dict) -> dict:
    """A Gradescope results.json (autograder.platforms.gradescope.results_json) whose tests' outputs are markdown, and
    says so (``test_output_format``), so that Gradescope shows each test's feedback as the feedback page does: the
    verdict's words first (autograder.grading.verdicts)."""
    tests = []
    for t in data.get("tests", []):
        reason = (t.get("extra_data") or {}).get("reason")
        judged = Test(t.get("name", ""), "", float(t.get("score", 0)), float(t.get("max_score", 0)), "",
                      t.get("status"), reason if isinstance(reason, str) else None)
        verdict = f"**{verdicts.words(verdicts.of_test(judged))}**"
        tests.append({**t, "output": "\n\n".join(filter(None, [verdict, markdown_feedback(t.get("output", ""))]))})
    data = {**data, "tests": tests}
    data["test_output_format"] = "md"
    return data
