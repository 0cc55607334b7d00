"""Similarity across a class, for the instructor only: pairs of students who handed in the same code.

What is compared: per assignment and per blank, the code each student wrote for it (the code cells whose nbgrader
``grade_id`` is the blank, and cells the student added that define the blank's name), less what the release
notebook's own cell holds (the stub: signature, ``# YOUR CODE HERE``, ``raise NotImplementedError()``). Only the
notebooks the grader grades are read (:func:`autograder.grading.discover.discover`), within its bounds.

Fingerprints: Pygments' Python lexer cuts the code into tokens (it never runs nor parses the code, so IPython syntax
and code with errors read too); comments and layout are dropped and every string literal reads ``S``. The names the
student chose (functions and classes defined, parameters, the targets of ``=``, ``for``, ``as``, ``lambda``, and
``self.`` attributes) read ``V``; the names a copier cannot change stay as written: ``torch.optim.SGD`` is not
``torch.optim.Adam``, a keyword argument ``dim=1`` is not ``dim=0``. The code is cut into statements, and each
statement's pieces of ``K`` tokens (a shorter statement whole) are hashed: pieces never cross a statement's edge, so
reordered statements and added ones (a ``print``) leave the others' fingerprints as they were. Imports are left out.

Rarity: code most of the class writes alike (a one-line answer, the course notes' loop) is no evidence. In each
blank, a fingerprint that ``n`` students have weighs ``1 / (n - 1)``: 1 when only the two students have it (or one
student alone), about 0 when everyone has it (1/29 in a class of 30). A pair's score on a blank is the weighted share
of their code that they have in common, ``2 W(A & B) / (W(A) + W(B))`` (Dice's coefficient with those weights); over
an assignment it is pooled over the blanks they share: ``sum W(A & B) / sum (W(A) + W(B)) / 2``.

Thresholds, chosen on generated classes (tests/similarity_class.py, five seeds, then checked on five others):

- a fingerprint is *rare* when at most 5 students have it (weight at least ``RARE``, 1/4): only rare fingerprints make
  a blank evidence and are marked on the pair's page;
- a blank is one they *share* when they have rare code in common there and its score is at least ``BLANK_SCORE`` (0.2):
  below, a piece in common by chance in code otherwise their own;
- a pair is *flagged* when, over the blanks they share, rare shared code lies in ``STATEMENTS`` (2) statements or
  more of each (so a one-line answer alone, however unusual, is never enough), they share ``SHARED`` (3) weighted
  fingerprints or more, and their pooled score is at least ``SCORE`` (0.6).

On ten generated classes of 30 per assignment with planted disguised copies (names, layout, order, comments, prints
changed), 02, 03 and 06 together: precision 0.92 to 1, recall 0.96 to 1. On 04, whose blanks admit few ways of
writing them, recall is about 0.7 (precision 1): a copy of code much of the class writes is no evidence.

Why not copydetect (tried first): it erases every name, the library's included (``torch.optim.SGD`` reads as
``torch.optim.Adam``), its pieces cross statements (a reordered line or an added print breaks them), it has no
notion of what the class writes alike, and its hashes change with each process; on the same classes its own
comparison (one document per student, the stubs as boilerplate) told copies from the rest at best at precision and
recall 0.15.

The result is for the instructor's eyes only: a flag is a reason to look at two notebooks side by side
(:mod:`autograder.outputs.similarity_pages`), never a verdict; nothing of it goes on a student's page, in Gradescope's
results or in nbgrader's feedback.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pygments import token
from pygments.lexers import PythonLexer

from autograder.grading.course import Assignment, Course
from autograder.grading.notebook import MAX_CELL_CHARS, MAX_CELLS, MAX_NOTEBOOK_BYTES
from autograder.outputs.csvsafe import write_csv

K = 8  # tokens per fingerprint (a shorter statement is one fingerprint)
RARE = 0.25  # the weight from which a fingerprint is rare: at most 5 students have it
BLANK_SCORE = 0.2  # the score on a blank from which it is one the pair shares
STATEMENTS = 2  # statements holding rare shared code, over the blanks they share, that a flagged pair has at least
SHARED = 3.0  # weighted fingerprints that a flagged pair shares at least
SCORE = 0.6  # the pooled score from which a pair is flagged
MAX_BLANK_CHARS = 20_000  # a blank's code beyond this is not compared (an answer is a few dozen lines)
CSV_HEADER = ("assignment", "student", "student", "score", "shared blanks")

Span = tuple[int, int]  # first and last line, 1-based, of a matching region in one student's code of a blank


@dataclass(frozen=True)
class BlankMatch:
    """What two students share on one blank."""
    blank: str
    score: float  # the weighted share of their code on this blank that they have in common, 0 to 1
    shared: float  # what they have in common, in weighted fingerprints
    statements: int  # statements holding rare shared code (the fewer of the two students')
    size: float  # their code, in weighted fingerprints (the mean of the two)
    code: tuple[str, str]  # each student's code of the blank, as compared
    spans: tuple[tuple[Span, ...], tuple[Span, ...]]  # the regions with rare shared code, in each student's code


@dataclass(frozen=True)
class Pair:
    """Two students of one assignment, with the blanks they share."""
    assignment: str
    students: tuple[str, str]  # sorted
    score: float  # pooled over ``blanks``
    shared: float  # over ``blanks``, in weighted fingerprints
    statements: int  # over ``blanks``
    blanks: tuple[BlankMatch, ...]  # most shared first

    @property
    def shared_blanks(self) -> tuple[str, ...]:
        return tuple(b.blank for b in self.blanks)

    @property
    def flagged(self) -> bool:
        return self.statements >= STATEMENTS and self.shared >= SHARED and self.score >= SCORE


# -- a blank's code in a notebook -------------------------------------------------------------------------------
def _code_cells(path: Path) -> list[tuple[dict, str]]:
    """A notebook's code cells as (nbgrader metadata, source), within the grader's bounds; [] when unreadable."""
    try:
        if path.stat().st_size > MAX_NOTEBOOK_BYTES:
            return []
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells")
    except (OSError, UnicodeDecodeError, ValueError, AttributeError):
        return []
    if not isinstance(cells, list):
        return []
    found = []
    for cell in cells[:4 * MAX_CELLS]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        meta = cell.get("metadata")
        nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
        if isinstance(source, str) and len(source) <= MAX_CELL_CHARS:
            found.append((nbgrader if isinstance(nbgrader, dict) else {}, source))
    return found[:MAX_CELLS]


def _defines(name: str) -> re.Pattern[str]:
    """A top-level ``def name``, ``class name`` or ``name = ...``."""
    n = re.escape(name)
    return re.compile(rf"^(?:(?:async\s+)?def\s+{n}\b|class\s+{n}\b|{n}\s*(?::[^=\n]*)?=(?!=))", re.MULTILINE)


def blank_code(path: Path, blanks: Iterable[str]) -> dict[str, str]:
    """Each blank's code in the notebook ``path``: its graded cell(s) and the cells the student added (no nbgrader
    metadata) that define its name, in notebook order; "" for a blank with neither."""
    cells = _code_cells(path)
    code = {}
    for blank in blanks:
        defines = _defines(blank)
        parts = [src for meta, src in cells if meta.get("grade_id") == blank or (not meta and defines.search(src))]
        code[blank] = "\n".join(parts)[:MAX_BLANK_CHARS]
    return code


# -- tokens -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Token:
    text: str  # as written, but any string literal is "S"
    kind: Any  # Pygments' token type
    line: int  # 1-based


def lexed(code: str) -> list[Token]:
    """``code``'s tokens, without layout and comments; the pieces of one string literal are one "S"."""
    found: list[Token] = []
    line = 1
    for _, kind, text in PythonLexer(stripnl=False, ensurenl=False).get_tokens_unprocessed(code):
        here, line = line, line + text.count("\n")
        if kind in token.String:
            if not (found and found[-1].text == "S" and found[-1].line == here):
                found.append(Token("S", kind, here))
        elif text.strip() and kind not in token.Comment and kind not in token.Text:
            found.append(Token(text.strip(), kind, here))
    return found


def _depth(depth: int, t: Token) -> int:
    return max(0, depth + (t.text in ("(", "[", "{")) - (t.text in (")", "]", "}")))


def split(tokens: list[Token]) -> list[list[Token]]:
    """The tokens cut into statements: at each line end outside brackets, and after ``;``."""
    statements: list[list[Token]] = [[]]
    depth = 0
    for t in tokens:
        current = statements[-1]
        if current and depth == 0 and (t.line != current[-1].line or current[-1].text == ";"):
            statements.append([])
        statements[-1].append(t)
        depth = _depth(depth, t)
    return [s for s in statements if s]


def _is_name(t: Token) -> bool:
    return t.kind is token.Name or t.kind in token.Name.Function or t.kind in token.Name.Class


def bound(statements: list[list[Token]]) -> set[str]:
    """The names the code binds, which its author chose (and a copier renames): functions and classes defined,
    parameters, and the targets of ``=``, ``for``, ``as`` and ``lambda``."""
    names: set[str] = set()
    for statement in statements:
        depth, binding = 0, False
        for i, t in enumerate(statement):
            before = statement[i - 1].text if i else ""
            if t.text in ("for", "as", "lambda"):
                binding = True
            elif t.text in ("in", ":", "=") or t.kind in token.Keyword:
                binding = False
            defined = t.kind in token.Name.Function or t.kind in token.Name.Class
            parameter = statement[0].text == "def" and depth == 1 and before in ("(", ",", "*", "**")
            if _is_name(t) and before != "." and (binding or defined or parameter):
                names.add(t.text)
            depth = _depth(depth, t)
            if (t.text == "=" and depth == 0) or t.text == ":=":  # the names before it are assigned
                names |= {u.text for j, u in enumerate(statement[:i])
                          if u.kind is token.Name and (j == 0 or statement[j - 1].text != ".")}
    return names - {"self", "__init__"}


def normalised(statement: list[Token], names: set[str]) -> list[str]:
    """A statement as compared: each name in ``names`` and each ``self.`` attribute is "V"; the names of the
    language and of libraries, keyword arguments and numbers stay as written."""
    out = []
    depth = 0
    for i, t in enumerate(statement):
        before = statement[i - 1].text if i else ""
        after = statement[i + 1].text if i + 1 < len(statement) else ""
        if _is_name(t):
            keyword = depth > 0 and after == "=" and statement[0].text != "def"
            own_attribute = before == "." and i >= 2 and statement[i - 2].text == "self"
            out.append("V" if own_attribute or (before != "." and not keyword and t.text in names) else t.text)
        else:
            out.append(t.text)
        depth = _depth(depth, t)
    return out


# -- fingerprints and their weights ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Prints:
    """One student's fingerprints of one blank, and where each one is."""
    code: str  # the code as compared: line ends "\n", blank lines at either end dropped
    places: dict[int, list[tuple[int, int, int]]]  # fingerprint -> (statement, first line, last line) of each place

    @property
    def hashes(self) -> frozenset[int]:
        return frozenset(self.places)


def _hash(piece: Sequence[str]) -> int:
    # a stable hash (Python's own changes with each process): the same class gives the same result on every run
    return int.from_bytes(hashlib.blake2b("\x1f".join(piece).encode(), digest_size=8).digest(), "big")


def fingerprint(code: str) -> Prints:
    """Each statement's pieces of K normalised tokens (a shorter statement whole), hashed; imports left out (they
    say which library, not how the student wrote)."""
    code = code.replace("\r\n", "\n").replace("\r", "\n").strip("\n")
    statements = [s for s in split(lexed(code)) if s[0].text not in ("import", "from")]
    names = bound(statements)
    places: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for number, statement in enumerate(statements):
        text = normalised(statement, names)
        for i in range(max(1, len(text) - K + 1)):
            end = min(i + K, len(text))
            places[_hash(text[i:end])].append((number, statement[i].line, statement[end - 1].line))
    return Prints(code, dict(places))


def weight(holders: int) -> float:
    """What a fingerprint that ``holders`` students have weighs: 1 when one or two have it, ~0 when all do."""
    return 1.0 / max(holders - 1, 1)


def rarity(hashes: Mapping[str, frozenset[int]]) -> dict[int, float]:
    """Each fingerprint's weight in one blank across the class (student -> their fingerprints of it)."""
    holders: dict[int, int] = defaultdict(int)
    for own in hashes.values():
        for h in own:
            holders[h] += 1
    return {h: weight(n) for h, n in holders.items()}


# -- a class on one blank -----------------------------------------------------------------------------------------
def shared_weights(hashes: Mapping[str, frozenset[int]], weights: Mapping[int, float]) -> dict[tuple[str, str], float]:
    """Every pair of students with a rare fingerprint in common on one blank -> the weight of all they share."""
    students_of: dict[int, list[str]] = defaultdict(list)
    for student in sorted(hashes):
        for h in hashes[student]:
            students_of[h].append(student)
    shared: dict[tuple[str, str], float] = defaultdict(float)
    rare: set[tuple[str, str]] = set()
    for h, students in students_of.items():
        # more than half the class: near 0, and most of the work (a class of n has n^2/2 pairs)
        if 2 <= len(students) <= max(2, len(hashes) // 2):
            for pair in itertools.combinations(students, 2):
                shared[pair] += weights[h]
                if weights[h] >= RARE:
                    rare.add(pair)
    return {pair: shared[pair] for pair in sorted(rare)}


def matching_spans(prints: Prints, marked: set[int]) -> tuple[Span, ...]:
    """The lines of ``prints``' code where the fingerprints in ``marked`` are, merged where they touch."""
    spans: list[Span] = []
    for _, first, last in sorted(place for h in marked for place in prints.places.get(h, ())):
        if spans and first <= spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], max(spans[-1][1], last))
        else:
            spans.append((first, last))
    return tuple(spans)


def statements_with(prints: Prints, marked: set[int]) -> int:
    """How many of ``prints``' statements hold a fingerprint in ``marked``."""
    return len({statement for h in marked for statement, _, _ in prints.places.get(h, ())})


@dataclass
class _Blank:
    """One blank across the class: each student's fingerprints, those that are not the stub's, and the weights."""
    prints: dict[str, Prints]
    hashes: dict[str, frozenset[int]]
    weights: dict[int, float]
    sizes: dict[str, float]  # student -> the weight of their code

    @classmethod
    def of(cls, codes: Mapping[str, str], stub: str) -> _Blank:
        boilerplate = fingerprint(stub).hashes
        prints = {s: fingerprint(c) for s, c in codes.items()}
        hashes = {s: p.hashes - boilerplate for s, p in prints.items()}
        weights = rarity(hashes)
        return cls(prints, hashes, weights, {s: sum(weights[h] for h in own) for s, own in hashes.items()})

    def match(self, blank: str, a: str, b: str, shared: float) -> BlankMatch:
        rare = {h for h in self.hashes[a] & self.hashes[b] if self.weights[h] >= RARE}
        size = (self.sizes[a] + self.sizes[b]) / 2
        statements = min(statements_with(self.prints[a], rare), statements_with(self.prints[b], rare))
        spans = (matching_spans(self.prints[a], rare), matching_spans(self.prints[b], rare))
        return BlankMatch(blank, shared / size if size else 0.0, shared, statements, size,
                          (self.prints[a].code, self.prints[b].code), spans)


def compare(assignment: str, code: Mapping[str, Mapping[str, str]], stubs: Mapping[str, str]) -> list[Pair]:
    """Every pair of one assignment that shares a blank (flagged or not), highest score first. ``code``: student ->
    blank -> their code of it; ``stubs``: blank -> the release's code of its cell."""
    shares: dict[tuple[str, str], list[BlankMatch]] = defaultdict(list)
    for blank, stub in stubs.items():
        across = _Blank.of({s: c.get(blank, "") for s, c in code.items()}, stub)
        for (a, b), shared in shared_weights(across.hashes, across.weights).items():
            match = across.match(blank, a, b, shared)
            if match.score >= BLANK_SCORE:
                shares[a, b].append(match)
    pairs = [_pair(assignment, students, matches) for students, matches in shares.items()]
    return sorted(pairs, key=lambda p: (-p.score, -p.shared, p.students))


def _pair(assignment: str, students: tuple[str, str], matches: list[BlankMatch]) -> Pair:
    shared = sum(m.shared for m in matches)
    size = sum(m.size for m in matches)
    matches = sorted(matches, key=lambda m: (-m.shared, m.blank))
    return Pair(assignment, students, shared / size if size else 0.0, shared, sum(m.statements for m in matches),
                tuple(matches))


# -- a class's submissions ------------------------------------------------------------------------------------
def release_code(course: Course, a: Assignment) -> dict[str, str]:
    """Each blank's code in the release notebook: the stub every student starts from."""
    return blank_code(course.release(a) / a.notebook, a.blanks)


def read_class(course: Course, submissions: Path | Sequence[Path]) -> dict[str, dict[str, dict[str, str]]]:
    """assignment -> student -> blank -> code, for the notebooks the grader grades under ``submissions`` (a path, or
    the paths grade was given)."""
    from autograder.grading.discover import discover

    paths = [Path(submissions)] if isinstance(submissions, (str, Path)) else [Path(p) for p in submissions]
    code: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for job in discover(course, paths).jobs:
        code[job.assignment.name][job.student] = blank_code(job.path, job.assignment.blanks)
    return dict(code)


def find_similar(course: Course, submissions: Path | Sequence[Path], every: bool = False) -> list[Pair]:
    """The flagged pairs of every assignment under ``submissions``, highest score first (``every``: every pair that
    shares a blank, flagged or not)."""
    pairs = []
    for name, code in sorted(read_class(course, submissions).items()):
        found = compare(name, code, release_code(course, course.assignments[name]))
        pairs += [p for p in found if every or p.flagged]
    return sorted(pairs, key=lambda p: (-p.score, -p.shared, p.assignment, p.students))


def csv_rows(pairs: Iterable[Pair]) -> list[tuple[str | float, ...]]:
    rows: list[tuple[str | float, ...]] = [CSV_HEADER]
    for p in pairs:
        rows.append((p.assignment, p.students[0], p.students[1], round(p.score, 3), " ".join(p.shared_blanks)))
    return rows


def write_similarity_csv(pairs: Iterable[Pair], path: Path) -> None:
    """``similarity.csv``: a line per pair (assignment, student, student, score, the blanks they share, by a space),
    written by :mod:`autograder.outputs.csvsafe` (student ids are folder names the students chose)."""
    write_csv(Path(path), csv_rows(pairs))
