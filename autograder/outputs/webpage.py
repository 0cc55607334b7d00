"""What the class report (autograder.outputs.report) and the students' feedback pages (autograder.outputs.pages) share: reading a
results folder back, splitting a test's feedback into its parts, and writing one self-contained HTML page.

A page needs nothing at view time: the style is inline, every plot is an inline SVG made with matplotlib (no
script, no font, no image is fetched), and every string that came from results (student names, feedback) is
escaped. Pages are deterministic: the same results give the same bytes (no date, fixed SVG ids).
"""
from __future__ import annotations

import html
import io
import json
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.grading.results import marks_by_blank

CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")  # terminal colours, control characters


def clean(text: Any) -> str:
    """Text from results, without terminal escapes and control characters (tabs and newlines kept)."""
    return CONTROL.sub("", str(text))


def esc(text: Any) -> str:
    return html.escape(clean(text), quote=True)


def name(text: Any) -> str:
    """A name (student, assignment, blank) escaped, with a line break allowed after each underscore."""
    return esc(text).replace("_", "_<wbr>")


# -- results read back --------------------------------------------------------------------------------------------
@dataclass
class Test:
    name: str
    blank: str
    score: float
    max_score: float
    output: str
    status: str | None = None  # "passed" or "failed": what the test found, before the marking policy counted it
    reason: str | None = None  # why it failed, for the engine ("not-written", "timeout", ...; autograder.grading)

    @property
    def passed(self) -> bool:
        return self.status == "passed" if self.status in ("passed", "failed") else self.counted

    @property
    def counted(self) -> bool:
        """Its full points count (a test that passed may not count under the marking policy)."""
        return self.score >= self.max_score - 1e-9


@dataclass
class Result:
    """One notebook's results file, as read back from a results folder."""
    student: str
    assignment: str
    stem: str
    path: Path  # relative to the results folder: <student>/<assignment>/<stem>.json
    score: float
    max_score: float
    tests: list[Test] = field(default_factory=list)
    output: str = ""
    isolation: str | None = None
    curves: dict[str, "RecordedCurve"] = field(default_factory=dict)  # training blank -> its loss curves
    graded: str | None = None  # "in full", "in part" or "no", as grading recorded it (None: an older results file)
    late: str = ""  # how the late rule counted (the sentence grading wrote, in the student's language), or ""

    def blanks(self) -> dict[str, tuple[float, float]]:
        return marks_by_blank(self.tests)

    def not_graded(self) -> str | None:
        """Why this notebook could not be graded at all (None when it was graded, whatever its score)."""
        if self.graded is not None:
            if self.graded != "no":
                return None
            return self.output or (self.tests[0].output if self.tests else "") or "-"
        if self.tests and all(t.name.endswith(": not graded") for t in self.tests):  # a results file from before
            return self.output or (self.tests[0].output if self.tests else "") or "not graded"
        for line in self.output.splitlines():
            if "could not be read, so nothing in it was graded" in line:
                return line
        return None

    def problems(self) -> list[str]:
        """What stopped part of the grading (a lost process, a spent time budget): graded, but not in full."""
        if self.graded is not None:
            return self.output.splitlines() if self.graded == "in part" else []
        return [line for line in self.output.splitlines()
                if "process was stopped" in line or "used up the" in line or "took more than" in line]


@dataclass
class RecordedCurve:
    """A training blank's loss curves as grading recorded them (autograder.grading.curves)."""
    describe: str
    reference: list[float]
    student: list[float] | None
    note: str


def _losses(value: Any) -> list[float] | None:
    if not isinstance(value, list) or not value or len(value) > 100_000:
        return None
    return [float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else math.nan for v in value]


def _curves(extra: dict[str, Any]) -> dict[str, RecordedCurve]:
    curves = extra.get("curves") if isinstance(extra.get("curves"), dict) else {}
    out = {}
    for blank, c in curves.items():
        if isinstance(c, dict) and _losses(c.get("reference")):
            out[clean(str(blank))] = RecordedCurve(clean(str(c.get("describe", ""))), _losses(c["reference"]),
                                                   _losses(c.get("student")), clean(str(c.get("note", ""))))
    return out


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("not a number")
    return float(value)


def read_result(root: Path, path: Path) -> Result:
    data = json.loads(path.read_text(encoding="utf-8"))
    rel = path.relative_to(root)
    tests = []
    for t in data.get("tests", []):
        tags = t.get("tags") or ["?"]
        reason = (t.get("extra_data") or {}).get("reason") if isinstance(t.get("extra_data"), dict) else None
        tests.append(Test(clean(t.get("name", "")), clean(tags[0]), _number(t.get("score", 0.0)),
                          _number(t.get("max_score", 0.0)), clean(t.get("output", "")),
                          t.get("status") if t.get("status") in ("passed", "failed") else None,
                          reason if isinstance(reason, str) else None))
    extra = data.get("extra_data") if isinstance(data.get("extra_data"), dict) else {}
    recorded = any("status" in t for t in data.get("tests", []) if isinstance(t, dict))  # a file that says how graded
    graded = extra.get("graded", "in full") if recorded else None
    return Result(rel.parts[0], rel.parts[1], path.stem, rel, _number(data.get("score", 0.0)),
                  _number(data.get("max_score", 0.0)), tests, clean(data.get("output", "")), extra.get("isolation"),
                  _curves(extra), graded if graded in ("in full", "in part", "no") else None, _late_sentence(extra))


def _late_sentence(extra: dict[str, Any]) -> str:
    late = extra.get("late")
    return clean(str(late.get("sentence") or "")) if isinstance(late, dict) else ""


def read_results(root: Path) -> tuple[list[Result], list[str]]:
    """Every ``<student>/<assignment>/<stem>.json`` under ``root`` (sorted), and the files that could not be read."""
    results, unreadable = [], []
    for path in sorted(root.glob("*/*/*.json")):
        if any(part.startswith(".") for part in path.relative_to(root).parts) or not path.is_file():
            continue
        try:
            results.append(read_result(root, path))
        except (OSError, ValueError, TypeError, AttributeError, KeyError, IndexError) as error:
            unreadable.append(f"{path.relative_to(root)}: {type(error).__name__}")
    return results, unreadable


# -- feedback split into its parts ----------------------------------------------------------------------------------
def _hint_labels() -> tuple[str, ...]:
    """The words a hint's line starts with: English's and the current language's."""
    from autograder.grading.compare import hint_label

    return tuple(dict.fromkeys(("Hint:", hint_label())))


@dataclass(frozen=True)
class Feedback:
    sentence: str
    hint: str
    details: str


def split_feedback(output: str) -> Feedback:
    """A test's output as autograder.grading.compare.feedback writes it: a sentence, "Hint: ..." (on its own line, or
    after the sentence on the same line), then the numbers."""
    from autograder.grading.compare import unwrap

    lines = clean(unwrap(output)).strip().splitlines()  # the engine's own wrapping undone: the page wraps it
    if not lines:
        return Feedback("", "", "")
    labels = _hint_labels()
    for i, line in enumerate(lines):
        label = next((lb for lb in labels if line.startswith(lb)), None)
        if label:
            return Feedback("\n".join(lines[:i]).strip(), line[len(label):].strip(), "\n".join(lines[i + 1:]).strip())
    first, rest = lines[0], "\n".join(lines[1:]).strip()
    match = re.search("(?:^|\\s)(?:" + "|".join(re.escape(lb) for lb in labels) + ")\\s*", first)
    if match and match.start() > 0:
        return Feedback(first[:match.start()].strip(), first[match.end():].strip(), rest)
    return Feedback(first, "", rest)


# -- plots ---------------------------------------------------------------------------------------------------------
def figure(width: float, height: float, margins: tuple[float, float, float, float] | None = None):
    """A matplotlib Figure that belongs to no pyplot state (safe in any thread, no display needed). ``margins``
    (left, right, top, bottom, in inches) fix where its one plot sits; without them matplotlib's constrained layout
    measures every label to place it, which costs more than drawing a plot drawn once per student."""
    from matplotlib.figure import Figure

    if margins is None:
        return Figure(figsize=(width, height), layout="constrained")
    fig = Figure(figsize=(width, height))
    left, right, top, bottom = margins
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height)
    return fig


def plain_log_axis(axis) -> None:
    """Label a log-scaled axis with plain numbers (0.3, 10, 1e+04) where matplotlib would write 3x10^-1 as mathtext,
    whose parser costs more than the rest of a plot; the same ticks are labelled (the decades, and the ticks between
    them when the axis spans few decades)."""
    from matplotlib.ticker import LogFormatter

    class PlainLogFormatter(LogFormatter):
        def __call__(self, x, pos=None):
            return f"{x:.3g}" if super().__call__(x, pos) else ""

    axis.set_major_formatter(PlainLogFormatter())
    axis.set_minor_formatter(PlainLogFormatter(labelOnlyBase=False))


def svg(fig, salt: str, label: str) -> str:
    """``fig`` as an inline ``<svg>`` that scales down with the page: text kept as text, no date, ids fixed by
    ``salt`` (unique per page) so that two plots on one page never share an id and the bytes never change."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt, "svg.id": salt}), \
            warnings.catch_warnings():
        # matplotlib's font lacks Chinese glyphs; the SVG keeps its text as text, drawn by the page's CJK font
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = buffer.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.S)  # who made it: not needed
    head_end = text.index(">")
    head = text[:head_end]
    width = re.search(r'width="([\d.]+)pt"', head)
    head = re.sub(r'\s(width|height)="[^"]*"', "", head)
    style = f' style="max-width:{width.group(1)}pt"' if width else ""
    head += f' class="plot" role="img" aria-label="{esc(label)}"{style}'
    return head + text[head_end:]


# -- the page ------------------------------------------------------------------------------------------------------
STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", "Noto Sans CJK SC", "Noto Sans SC",
  "PingFang SC", "Microsoft YaHei", sans-serif; margin: 0;
       background: #f6f7f9; color: #1d232b; line-height: 1.45; }
main { max-width: 980px; margin: 0 auto; padding: 16px 20px 48px; }
h1 { font-size: 1.6rem; margin: 0.6rem 0 0.2rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.6rem; border-bottom: 2px solid #d8dde5; padding-bottom: 0.2rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 0.4rem; overflow-wrap: anywhere; }
p, li, dd, dt { overflow-wrap: anywhere; }
td, th { overflow-wrap: break-word; }
.sub { color: #56606d; margin: 0 0 1rem; }
section.card { background: #fff; border: 1px solid #dde2ea; border-radius: 8px; padding: 12px 16px; margin: 12px 0; }
table { border-collapse: collapse; width: 100%; table-layout: auto; margin: 0.4rem 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e5e8ee; vertical-align: top; }
th { background: #f0f2f5; font-weight: 600; }
td.num { text-align: right; white-space: nowrap; }
th.num { text-align: right; }
.scroll { overflow-x: auto; max-width: 100%; }
.pre, pre { white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word; font-family: ui-monospace,
       "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.86rem; margin: 0.3rem 0; }
.sentence { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0.3rem 0; }
.hint { white-space: pre-wrap; overflow-wrap: anywhere; background: #fff7e0; border-left: 4px solid #e0a800;
        padding: 6px 10px; margin: 0.4rem 0; border-radius: 0 4px 4px 0; }
.notes { white-space: pre-wrap; overflow-wrap: anywhere; background: #fdecec; border-left: 4px solid #c9302c;
         padding: 6px 10px; border-radius: 0 4px 4px 0; }
.ok { color: #1a7f37; } .bad { color: #b42318; } .part { color: #9a6700; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 0.85rem; font-weight: 600;
         background: #eef1f5; white-space: nowrap; }
.badge.ok { background: #dff5e3; } .badge.bad { background: #fde2e0; } .badge.part { background: #fff1cc; }
svg.plot { display: block; width: 100%; height: auto; margin: 0.5rem 0; }
ul.tests { list-style: none; padding-left: 0; margin: 0.3rem 0; }
ul.tests li { margin: 0.15rem 0; }
.feedback { border-top: 1px dashed #dde2ea; padding-top: 0.4rem; margin-top: 0.4rem; }
a { color: #0b5cad; }
footer { color: #56606d; font-size: 0.85rem; margin-top: 2rem; }
"""


def page(title: str, body: str) -> str:
    """A whole HTML document: ``title`` is escaped here, ``body`` is HTML already escaped by its writer."""
    from autograder.i18n import current

    return (f"<!DOCTYPE html>\n<html lang=\"{current().replace('_', '-')}\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n{body}\n</main>\n"
            "</body>\n</html>\n")


def fmt(x: float) -> str:
    return f"{round(x, 4):g}"


def mark_class(got: float, out_of: float) -> str:
    if out_of <= 0 or got >= out_of - 1e-9:
        return "ok"
    return "bad" if got <= 1e-9 else "part"
