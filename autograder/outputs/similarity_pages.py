"""The instructor's view of similar code (:mod:`autograder.after.similarity`): a page per flagged pair, the two
students' code of each blank they share side by side with the matching lines marked, and the class report's section
that ranks the pairs and links to those pages.

Only for the instructor: nothing here is linked from a student's page, Gradescope's results or nbgrader's feedback.
Like every page of the kit (:mod:`autograder.outputs.webpage`), a page is self-contained and deterministic, and every
string from the submissions (student ids, code) is escaped.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from autograder.after.similarity import BlankMatch, Pair, Span
from autograder.grading.results import write_atomically
from autograder.i18n import _
from autograder.outputs.report import separator, words
from autograder.outputs.webpage import esc, name, page

FOLDER = "similarity"  # where write_pair_pages puts the pages, beside the class report

# Two columns that each shrink to half the width (minmax(0, 1fr): a long line wraps instead of widening the page),
# one column on a narrow screen; a marked line has a yellow background and a bar on its left, as in a diff viewer.
STYLE = """<style>
main { max-width: 1400px; }
.sbs { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 12px; }
@media (max-width: 760px) { .sbs { grid-template-columns: minmax(0, 1fr); } }
section.card > h2:first-child { margin-top: 0.3rem; }
.sbs h3 { margin: 0.2rem 0 0.2rem; }
.sbs .sub { margin: 0 0 0.4rem; }
.code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.82rem;
        border: 1px solid #dde2ea; border-radius: 6px; background: #fbfcfd; padding: 4px 0; }
.ln { display: grid; grid-template-columns: 3em minmax(0, 1fr); }
.ln .no { color: #8a94a3; text-align: right; padding-right: 10px; user-select: none; }
.ln .tx { white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word; padding-right: 6px; }
.ln.m { background: #fff1b8; box-shadow: inset 3px 0 0 #d49b00; }
mark { background: transparent; color: inherit; }
.key { display: inline-block; width: 1.4em; height: 0.9em; vertical-align: middle; background: #fff1b8;
       box-shadow: inset 3px 0 0 #d49b00; }
</style>"""


def pair_key(pair: Pair) -> tuple[str, str, str]:
    """What names a pair in ``links``: (assignment, student, student)."""
    return (pair.assignment, *pair.students)


def page_name(pair: Pair) -> str:
    """The pair page's file name: plain ASCII whatever the student ids are, and a different one for each pair."""
    key = "\0".join(pair_key(pair))
    slug = "--".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", part)[:40] for part in pair_key(pair))
    return f"{slug}-{hashlib.blake2b(key.encode('utf-8', 'surrogatepass'), digest_size=4).hexdigest()}.html"


def score(x: float) -> str:
    return f"{x:.2f}"


def _marked(spans: Iterable[Span]) -> set[int]:
    return {line for first, last in spans for line in range(first, last + 1)}


def code_listing(code: str, spans: Iterable[Span], label: str) -> str:
    """``code`` with line numbers, the lines in ``spans`` marked."""
    marked = _marked(spans)
    lines = []
    for number, line in enumerate(code.split("\n"), start=1):
        text = esc(line) or " "
        if number in marked:
            lines.append(f"<div class=\"ln m\"><span class=\"no\">{number}</span><span class=\"tx\"><mark>{text}</mark>"
                         f"</span></div>")
        else:
            lines.append(f"<div class=\"ln\"><span class=\"no\">{number}</span><span class=\"tx\">{text}</span></div>")
    return f"<div class=\"code\" role=\"group\" aria-label=\"{esc(label)}\">{''.join(lines)}</div>"


def blank_section(match: BlankMatch, students: tuple[str, str]) -> str:
    """One blank: its score, then each student's code of it, side by side."""
    columns = []
    for student, code, spans in zip(students, match.code, match.spans):
        count = len(_marked(spans))
        marked = words(_("{count} line(s) marked")).format(count=count)
        columns.append(f"<div><h3>{name(student)}</h3><p class=\"sub\">{marked}</p>"
                       f"{code_listing(code, spans, f'{student}: {match.blank}')}</div>")
    badge = words(_("score {score}")).format(score=score(match.score))
    return (f"<section class=\"card\"><h2>{name(match.blank)} <span class=\"badge part\">{badge}"
            f"</span></h2><div class=\"sbs\">{''.join(columns)}</div></section>")


def pair_page(pair: Pair) -> str:
    """The whole page of one pair: who, the score, and each blank they share side by side."""
    a, b = pair.students
    blanks = separator().join(name(m.blank) for m in pair.blanks)
    about = words(_("{assignment}: score {score} over the blank(s) they share ({blanks}). For the instructor only: a "
                    "reason to look at the two notebooks, not a verdict.")).format(
        assignment=name(pair.assignment), score=score(pair.score), blanks=blanks)
    body = [STYLE,
            f"<h1>{words(_('{student} and {other}')).format(student=name(a), other=name(b))}</h1>",
            f"<p class=\"sub\">{about}</p>",
            "<p>" + words(_("{key} marks the lines holding code that at most five students of the class wrote, the "
                            "release's own code left out; names, layout and comments do not count."))
            .format(key="<span class=\"key\"></span>") + "</p>",
            *(blank_section(m, pair.students) for m in pair.blanks)]
    return page(_("Similar code: {student} and {other} ({assignment})").format(student=a, other=b,
                                                                               assignment=pair.assignment),
                "\n".join(body))


def _href(link: str) -> str:
    return "/".join(quote(part) for part in link.split("/"))


def similarity_section(pairs: Iterable[Pair], links: Mapping[tuple[str, str, str], str]) -> str:
    """The class report's section: the flagged pairs, highest score first, each with the blanks they share and a
    link to its page (``links``: :func:`pair_key` -> the page's path relative to the report)."""
    pairs = sorted(pairs, key=lambda p: (-p.score, p.assignment, p.students))
    out = [f"<section class=\"card\" id=\"similarity\"><h2>{words(_('Similar code'))}</h2>",
           "<p class=\"sub\">" + words(_("Pairs of students whose code for the same blanks is alike beyond what the "
                                          "class writes alike (renamed, re-laid, reordered or commented code counts as "
                                          "alike). For the instructor only: a reason to look at two notebooks side by "
                                          "side, not a verdict.")) + "</p>"]
    if not pairs:
        out.append(f"<p>{words(_('No pair of students shares code beyond what the class writes alike.'))}</p>"
                   "</section>")
        return "\n".join(out)
    out.append(f"<div class=\"scroll\"><table><tr><th>{words(_('assignment'))}</th><th>{words(_('students'))}</th>"
               f"<th class=\"num\">{words(_('score'))}</th><th>{words(_('blanks they share'))}</th>"
               f"<th>{words(_('side by side'))}</th></tr>")
    for p in pairs:
        link = links.get(pair_key(p))
        view = f"<a href=\"{esc(_href(link))}\">{words(_('view'))}</a>" if link else "-"
        who = words(_("{student} and {other}")).format(student=name(p.students[0]), other=name(p.students[1]))
        out.append(f"<tr><td>{name(p.assignment)}</td><td>{who}</td>"
                   f"<td class=\"num\">{score(p.score)}</td><td>{separator().join(name(m.blank) for m in p.blanks)}"
                   f"</td><td>{view}</td></tr>")
    out.append("</table></div></section>")
    return "\n".join(out)


def write_pair_pages(pairs: Iterable[Pair], out: Path) -> dict[tuple[str, str, str], str]:
    """Write each pair's page in ``out/similarity/``; returns the links for :func:`similarity_section` (relative
    to ``out``, where the class report is)."""
    links = {}
    for pair in pairs:
        target = f"{FOLDER}/{page_name(pair)}"
        write_atomically(Path(out) / target, pair_page(pair))
        links[pair_key(pair)] = target
    return links
