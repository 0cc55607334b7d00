"""The class report: one self-contained HTML page (``report.html`` in the results folder) that says what a class
did, from the results files alone.

``python -m autograder report GRADED_DIR`` writes it (with the students' feedback pages, autograder.outputs.pages), and
``python -m autograder grade`` writes both at its end. The page holds, per assignment, the distribution of the
scores and, per blank, the mean mark and the pass rate (the share of students with the blank's full marks); the
mistakes the grader diagnosed (the hints it gave), ranked by how many students made them; the students who could not
be graded and why; and the isolation level the notebooks ran under. Plots are matplotlib figures inlined as SVG.
"""
from __future__ import annotations

import html
import os
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable
from urllib.parse import quote

from autograder.i18n import SOURCE_LANGUAGE, _, current
from autograder.outputs.webpage import Result, esc, figure, fmt, name, page, read_results, split_feedback, svg

if TYPE_CHECKING:
    from autograder.grading.course import Course

REPORT = "report.html"
NOT_WRITTEN = ("is not written yet", "is not defined")  # a blank left as released: not a mistake, not attempted
NOT_WRITTEN_REASONS = ("not-written", "undefined")  # the same, as grading records it (autograder.grading.submission)
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")


def words(translated: str) -> str:
    """Words of the page (an engine message, translated: ``words(_("..."))``) as HTML; their placeholders are filled
    after, with HTML already."""
    return html.escape(translated, quote=False)


def separator() -> str:
    """What a list of names is joined with, in the course's language."""
    return _(", ")


# Outside English, the headers of number columns and links keep their words whole: Chinese may break between any
# two characters, and a narrow column (a phone) would stack 学/生/数 or 查/看; a wide table scrolls in its box
# instead. A no-op on English words, and left out of English pages, which stay as they were.
HEADER_STYLE = "<style>th.num, td > a { word-break: keep-all; }</style>"


def header_style() -> str:
    return "" if current() == SOURCE_LANGUAGE else HEADER_STYLE


@dataclass
class Mistake:
    assignment: str
    blank: str
    hint: str  # the wording most students got
    students: set[str] = field(default_factory=set)
    wordings: Counter = field(default_factory=Counter)


def _mistake_key(hint: str) -> str:
    """Hints of one mistake differ only in their numbers (the factor found, the learning rate): one key."""
    return NUMBER.sub("#", hint.strip().rstrip("."))


def mistakes(results: Iterable[Result]) -> list[Mistake]:
    """Every diagnosed mistake (a hint of a failing test) with the students who made it, most frequent first."""
    found: dict[tuple[str, str, str], Mistake] = {}
    for r in results:
        if r.not_graded():
            continue
        for t in r.tests:
            if t.passed:
                continue
            hint = split_feedback(t.output).hint
            if not hint:
                continue
            key = (r.assignment, t.blank, _mistake_key(hint))
            m = found.setdefault(key, Mistake(r.assignment, t.blank, hint))
            if r.student not in m.students:
                m.wordings[hint] += 1
            m.students.add(r.student)
    for m in found.values():
        m.hint = sorted(m.wordings.items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
    return sorted(found.values(), key=lambda m: (-len(m.students), m.assignment, m.blank, m.hint))


@dataclass
class BlankStats:
    blank: str
    points: float
    marks: list[float]  # one per graded student
    not_written: int

    @property
    def mean(self) -> float:
        return statistics.fmean(self.marks) if self.marks else 0.0

    @property
    def pass_rate(self) -> float:
        return sum(m >= self.points - 1e-9 for m in self.marks) / len(self.marks) if self.marks else 0.0


def blank_stats(results: list[Result], blanks: list[str]) -> list[BlankStats]:
    stats = []
    for blank in blanks:
        marks, points, not_written = [], 0.0, 0
        for r in results:
            got, out_of = r.blanks().get(blank, (0.0, 0.0))
            points = max(points, out_of)
            marks.append(got)
            failed = [t for t in r.tests if t.blank == blank and not t.counted]
            if failed and all(t.reason in NOT_WRITTEN_REASONS if t.reason else any(n in t.output for n in NOT_WRITTEN)
                              for t in failed):
                not_written += 1
        stats.append(BlankStats(blank, points, marks, not_written))
    return stats


# -- plots ---------------------------------------------------------------------------------------------------------
def distribution_plot(by_assignment: dict[str, list[Result]]) -> str:
    """Each assignment's scores (as a share of its maximum): a box over the students' dots."""
    names = list(by_assignment)
    fig = figure(9, 0.55 * len(names) + 1.1)
    ax = fig.add_subplot()
    data = [[100 * r.score / r.max_score if r.max_score else 0.0 for r in by_assignment[a]] for a in names]
    positions = list(range(len(names), 0, -1))
    ax.boxplot(data, positions=positions, orientation="horizontal", widths=0.55, showfliers=False,
               medianprops={"color": "#b42318"}, boxprops={"color": "#56606d"}, whiskerprops={"color": "#56606d"},
               capprops={"color": "#56606d"})
    for pos, scores in zip(positions, data):
        counts: Counter = Counter()
        for s in scores:  # students with the same score are stacked a little, deterministically
            offset = 0.08 * ((counts[round(s, 3)] + 1) // 2) * (1 if counts[round(s, 3)] % 2 else -1)
            counts[round(s, 3)] += 1
            ax.plot([s], [pos + offset], "o", color="#0b5cad", alpha=0.75, markersize=6)
    ax.set_yticks(positions, [f"{a} ({len(by_assignment[a])})" for a in names])
    ax.set_xlim(-3, 103)
    ax.set_xlabel(_("score, % of the assignment's points (each dot a student; the box: quartiles, red: median)"))
    ax.grid(axis="x", alpha=0.3)
    return svg(fig, "distribution", _("score distribution per assignment"))


def blanks_plot(assignment: str, stats: list[BlankStats]) -> str:
    """Per blank: the mean mark and the pass rate, as % (horizontal bars)."""
    fig = figure(9, 0.42 * len(stats) + 1.0)
    ax = fig.add_subplot()
    ys = list(range(len(stats), 0, -1))
    mean = [100 * s.mean / s.points if s.points else 0.0 for s in stats]
    passed = [100 * s.pass_rate for s in stats]
    ax.barh([y + 0.18 for y in ys], mean, height=0.34, color="#0b5cad", label=_("mean mark"))
    ax.barh([y - 0.18 for y in ys], passed, height=0.34, color="#1a7f37", label=_("pass rate (full marks)"))
    ax.set_yticks(ys, [s.blank for s in stats])
    ax.set_xlim(0, 100)
    ax.set_xlabel(_("% of the blank's points (mean) / % of students (pass rate)"))
    ax.legend(loc="lower right", fontsize=8, framealpha=0.9)
    ax.grid(axis="x", alpha=0.3)
    return svg(fig, f"blanks-{re.sub(r'[^A-Za-z0-9]', '-', assignment)}",
               _("mean mark and pass rate per blank of {assignment}").format(assignment=assignment))


# -- the page ------------------------------------------------------------------------------------------------------
def _href(path: Path) -> str:
    """A relative link to ``path``, each part percent-encoded from its bytes on disk: a folder whose name is not
    UTF-8 (b"caf\\xe9", which Python names "caf\\udce9") is linked as "caf%E9", the very folder."""
    return "/".join(quote(os.fsencode(part)) for part in path.parts)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def build_report(results: list[Result], course: "Course | None" = None, unreadable: Iterable[str] = (),
                 pages: dict[Path, Path] | None = None, similarity: str = "") -> str:
    """The class report's HTML. ``pages``: results file -> its feedback page (both relative to the folder);
    ``similarity``: the section of similar code (autograder.outputs.similarity_pages), after the mistakes."""
    pages = pages or {}
    graded = [r for r in results if not r.not_graded()]
    by_assignment: dict[str, list[Result]] = defaultdict(list)
    for r in sorted(graded, key=lambda r: (r.assignment, r.student)):
        by_assignment[r.assignment].append(r)
    order = list(course.assignments) if course is not None else []
    by_assignment = {a: by_assignment[a] for a in sorted(by_assignment, key=lambda a: (a not in order, order.index(a)
                                                                                       if a in order else 0, a))}
    students = sorted({r.student for r in results})
    out: list[str] = [header_style() + f"<h1>{words(_('Class report'))}</h1>",
                      "<p class=\"sub\">"
                      + words(_("{students} student(s), {notebooks} notebook(s): {graded} graded, {not_graded} not "
                              "graded.")).format(students=len(students), notebooks=len(results), graded=len(graded),
                                                not_graded=len(results) - len(graded)) + "</p>"]

    # the isolation level(s)
    levels = Counter(r.isolation or _("not recorded") for r in graded)
    level_text = separator().join(words(_("{level} ({n} notebook(s))")).format(level=f"<strong>{esc(level)}</strong>",
                                                                                n=n)
                                  for level, n in sorted(levels.items()))
    level_text = level_text or words(_("no notebook was graded"))
    out.append(f"<section class=\"card\" id=\"isolation\"><h2>{words(_('Isolation'))}</h2><p>"
               + words(_("Student code ran under: {levels}.")).format(levels=level_text) + "</p></section>")

    # scores
    out.append(f"<section class=\"card\" id=\"scores\"><h2>{words(_('Score distribution per assignment'))}</h2>")
    if by_assignment:
        out.append(distribution_plot(by_assignment))
        out.append(f"<div class=\"scroll\"><table><tr><th>{words(_('assignment'))}</th>"
                   f"<th class=\"num\">{words(_('students'))}</th><th class=\"num\">{words(_('points'))}</th>"
                   f"<th class=\"num\">{words(_('mean'))}</th><th class=\"num\">{words(_('median'))}</th>"
                   f"<th class=\"num\">{words(_('min'))}</th><th class=\"num\">{words(_('max'))}</th>"
                   f"<th class=\"num\">{words(_('full marks'))}</th></tr>")
        for a, rs in by_assignment.items():
            scores = [r.score for r in rs]
            top = max(r.max_score for r in rs)
            full = sum(r.score >= r.max_score - 1e-9 for r in rs)
            out.append(f"<tr><td>{name(a)}</td><td class=\"num\">{len(rs)}</td><td class=\"num\">{fmt(top)}</td>"
                       f"<td class=\"num\">{fmt(statistics.fmean(scores))}</td>"
                       f"<td class=\"num\">{fmt(statistics.median(scores))}</td><td class=\"num\">{fmt(min(scores))}"
                       f"</td><td class=\"num\">{fmt(max(scores))}</td><td class=\"num\">{full} "
                       f"({_pct(full / len(rs))})</td></tr>")
        out.append("</table></div>")
    else:
        out.append(f"<p>{words(_('No notebook was graded.'))}</p>")
    out.append("</section>")

    # mistakes
    found = mistakes(results)
    out.append(f"<section class=\"card\" id=\"mistakes\"><h2>{words(_('Diagnosed mistakes, most frequent first'))}"
               "</h2>")
    if found:
        how = words(_("From the hints the grader gave: a student counts once per mistake, out of the students graded "
                      "on that assignment."))
        out.append(f"<p class=\"sub\">{how}</p>"
                   f"<div class=\"scroll\"><table><tr><th class=\"num\">{words(_('students'))}</th>"
                   f"<th>{words(_('blank'))}</th><th>{words(_('mistake (the hint students got)'))}</th></tr>")
        for m in found:
            n, of = len(m.students), len(by_assignment.get(m.assignment, [])) or len(m.students)
            share = words(_("{share} ({n} of {total})")).format(share=f"<strong>{_pct(n / of)}</strong>", n=n, total=of)
            out.append(f"<tr><td class=\"num\">{share}</td>"
                       f"<td>{name(m.blank)}<br><span class=\"sub\">{name(m.assignment)}</span></td>"
                       f"<td class=\"sentence\">{esc(m.hint)}</td></tr>")
        out.append("</table></div>")
        top = found[0]
        of = len(by_assignment.get(top.assignment, [])) or len(top.students)
        out.append("<p>" + words(_("Most frequent: {share} of the class made this mistake in {blank}: {hint}")).format(
            share=_pct(len(top.students) / of), blank=esc(top.blank), hint=esc(top.hint)) + "</p>")
    else:
        out.append(f"<p>{words(_('No known mistake was diagnosed.'))}</p>")
    out.append("</section>")

    if similarity:
        out.append(similarity)

    # blanks
    out.append(f"<section class=\"card\" id=\"blanks\"><h2>{words(_('Per blank: mean mark and pass rate'))}</h2>")
    for a, rs in by_assignment.items():
        blanks = list(course.assignments[a].blanks) if course is not None and a in course.assignments else []
        for r in rs:
            blanks += [b for b in r.blanks() if b not in blanks]
        stats = blank_stats(rs, blanks)
        out.append(f"<h3>{esc(a)}</h3>")
        out.append(blanks_plot(a, stats))
        out.append(f"<div class=\"scroll\"><table><tr><th>{words(_('blank'))}</th>"
                   f"<th class=\"num\">{words(_('points'))}</th><th class=\"num\">{words(_('mean'))}</th>"
                   f"<th class=\"num\">{words(_('pass rate'))}</th>"
                   f"<th class=\"num\">{words(_('not written'))}</th></tr>")
        for s in stats:
            out.append(f"<tr><td>{name(s.blank)}</td><td class=\"num\">{fmt(s.points)}</td>"
                       f"<td class=\"num\">{fmt(s.mean)}</td><td class=\"num\">{_pct(s.pass_rate)}</td>"
                       f"<td class=\"num\">{s.not_written}</td></tr>")
        out.append("</table></div>")
    out.append("</section>")

    # not graded
    out.append(f"<section class=\"card\" id=\"not-graded\"><h2>{words(_('Could not be graded'))}</h2>")
    missing = [(r, r.not_graded()) for r in results if r.not_graded()]
    partial = [(r, "\n".join(r.problems())) for r in graded if r.problems()]
    if missing or partial or unreadable:
        out.append(f"<div class=\"scroll\"><table><tr><th>{words(_('student'))}</th><th>{words(_('assignment'))}</th>"
                   f"<th>{words(_('why'))}</th></tr>")
        for r, why in missing:
            out.append(f"<tr><td>{name(r.student)}</td><td>{name(r.assignment)}</td>"
                       f"<td class=\"sentence\">{esc(why)}</td></tr>")
        for r, why in partial:
            out.append(f"<tr><td>{name(r.student)}</td><td>{name(r.assignment)}</td>"
                       f"<td class=\"sentence\">{words(_('graded in part: {why}')).format(why=esc(why))}</td></tr>")
        for line in unreadable:
            out.append(f"<tr><td colspan=\"2\">{words(_('(a results file)'))}</td><td class=\"sentence\">"
                       f"{words(_('unreadable: {what}')).format(what=esc(line))}</td></tr>")
        out.append("</table></div>")
    else:
        out.append(f"<p>{words(_('Every notebook was graded.'))}</p>")
    out.append("</section>")

    # students
    out.append(f"<section class=\"card\" id=\"students\"><h2>{words(_('Students'))}</h2><div class=\"scroll\"><table>"
               f"<tr><th>{words(_('student'))}</th>")
    columns = list(by_assignment) + sorted({r.assignment for r in results} - set(by_assignment))
    out += [f"<th class=\"num\">{name(a)}</th>" for a in columns]
    out.append("</tr>")
    by_student = {(r.student, r.assignment): r for r in results}
    for s in students:
        cells = []
        for a in columns:
            r = by_student.get((s, a))
            if r is None:
                cells.append("<td class=\"num\">-</td>")
                continue
            text = words(_("not graded")) if r.not_graded() else f"{fmt(r.score)}/{fmt(r.max_score)}"
            link = pages.get(r.path)
            cells.append(f"<td class=\"num\"><a href=\"{esc(_href(link))}\">{text}</a></td>" if link else
                         f"<td class=\"num\">{text}</td>")
        out.append(f"<tr><td>{name(s)}</td>{''.join(cells)}</tr>")
    out.append("</table></div></section>")
    return page(_("Class report"), "\n".join(out))


# -- writing -------------------------------------------------------------------------------------------------------
def write_class_report(folder: Path, course: "Course | None" = None,
                       pages: dict[Path, Path] | None = None, similarity: str = "") -> Path:
    from autograder.grading.results import write_atomically

    results, unreadable = read_results(folder)
    target = folder / REPORT
    write_atomically(target, build_report(results, course, unreadable, pages, similarity))
    return target


# -- similar code (autograder.after.similarity): from the submissions grade recorded --------------------------------
SUBMISSIONS = ".graded-from"  # in a results folder: the paths grade was given, one a line (hidden: not a result)


def record_submissions(out: Path, paths: list[Path]) -> None:
    """Remember where the graded notebooks are, so that ``report`` and ``similarity`` can compare them later."""
    from autograder.grading.results import write_atomically

    write_atomically(out / SUBMISSIONS, "".join(f"{p.resolve()}\n" for p in paths))


def recorded_submissions(out: Path) -> list[Path]:
    """The paths :func:`record_submissions` kept for ``out`` that still exist (none: an older results folder)."""
    try:
        lines = (out / SUBMISSIONS).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []
    return [Path(line) for line in lines if line and Path(line).exists()]


def write_similarity(out: Path, course: "Course", submissions: list[Path]) -> tuple[str, int]:
    """Compare the class's code (autograder.after.similarity), write ``similarity.csv`` and a page per flagged pair
    in ``out/similarity/`` (the pages of an earlier run removed); the class report's section and the pairs' count."""
    from autograder.after.similarity import find_similar, write_similarity_csv
    from autograder.outputs.similarity_pages import FOLDER, similarity_section, write_pair_pages

    pairs = find_similar(course, submissions)
    write_similarity_csv(pairs, out / "similarity.csv")
    for old in (out / FOLDER).glob("*.html") if (out / FOLDER).is_dir() else []:
        old.unlink()
    return similarity_section(pairs, write_pair_pages(pairs, out)), len(pairs)


def write_reports(out: Path, course: "Course | None" = None, say: Callable[[str], None] = print,
                  progress: Callable[[int, int], None] | None = None, jobs: int = 1) -> Path | None:
    """The class report and every notebook's feedback page in the results folder ``out``, from its results files
    alone (the loss curves were recorded while grading), and the similar code of the submissions grade recorded;
    ``progress(done, total)`` hears of each page, drawn by ``jobs`` processes. Never raises: a failure is said with
    ``say`` and grading's outcome stays what it was."""
    try:
        from autograder.outputs.pages import write_pages

        pages = write_pages(out, say=say, progress=progress, jobs=jobs)
        section = similarity_or_note(out, course, say)
        target = write_class_report(out, course, pages, section)
    except Exception as error:  # noqa: BLE001 - a report must never change what grading did
        say(f"note: the class report and feedback pages could not be written ({type(error).__name__}: {error})")
        return None
    say(f"class report: {target}")
    say(f"feedback pages: {out}/<student>/<assignment>/<notebook>.html ({len(pages)} page(s))")
    return target


def similarity_or_note(out: Path, course: "Course | None", say: Callable[[str], None]) -> str:
    """The class report's section of similar code, when grade recorded where the submissions are and they are still
    there (files written by :func:`write_similarity`); "" otherwise, or with a note when it could not be made."""
    submissions = recorded_submissions(out)
    if course is None or not submissions:
        return ""
    try:
        section, flagged = write_similarity(out, course, submissions)
    except Exception as error:  # noqa: BLE001 - the report is written without it
        say(f"note: similar code not compared ({type(error).__name__}: {error})")
        return ""
    say(f"similar code: {flagged} flagged pair(s), in the class report and {out / 'similarity.csv'}")
    return section
