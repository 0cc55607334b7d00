"""Every catalogued answer, graded by the real grader (sandbox and all) through ``audit``:
correct variants earn their blank's full marks, mistakes lose marks there and show their hint."""
from __future__ import annotations

import re

import pytest

from autograder.authoring.audit import audit
from autograder.authoring.catalog import load_catalog
from conftest import ASSIGNMENTS, COURSE

pytestmark = pytest.mark.slow


def catalogued():
    for a in ASSIGNMENTS.values():
        catalog = load_catalog(COURSE, a)
        for kind in ("CORRECT", "MISTAKES"):
            for i, v in enumerate(getattr(catalog, kind, []) if catalog else []):
                yield pytest.param(a.name, kind, i, id=f"{a.name}-{kind.lower()}-{v.blank}-{v.name}")


@pytest.fixture(scope="module")
def rows():
    found = audit(COURSE, list(ASSIGNMENTS.values()), secret="catalog-secret", jobs=2)
    return {(r.assignment, r.correct, r.variant.blank, r.variant.name): r for r in found}


def test_every_blank_has_correct_variants_and_mistakes():
    for a in ASSIGNMENTS.values():
        catalog = load_catalog(COURSE, a)
        assert catalog is not None, a.name
        for blank in a.blanks:
            assert any(v.blank == blank for v in catalog.CORRECT), (a.name, blank, "no correct variant")
            assert any(v.blank == blank for v in catalog.MISTAKES), (a.name, blank, "no mistake")


@pytest.mark.parametrize("assignment, kind, index", list(catalogued()))
def test_graded_as_intended(rows, assignment, kind, index):
    variant = getattr(load_catalog(COURSE, ASSIGNMENTS[assignment]), kind)[index]
    row = rows[(assignment, kind == "CORRECT", variant.blank, variant.name)]
    got, out_of = row.marks
    if kind == "CORRECT":
        assert got == out_of > 0, f"a correct answer lost marks: {row.feedback}"
    else:
        assert got < out_of, "the hidden tests did not catch this mistake"
        assert row.ok, f"expected the hint {variant.hint!r}, the student reads: {row.failures}"


def test_feedback_leads_with_the_sentence_and_the_hint(rows):
    """Every caught mistake's feedback, as the student reads it: the sentence saying what is wrong first, then its
    hint, and only then the numbers; no line is longer than a page is wide, no ANSI code, no word cut."""
    out_of_order = []
    for row in rows.values():
        if row.correct or not row.variant.hint:
            continue
        text = row.feedback
        flat = " ".join(text.lower().split())
        hint_at = flat.find(" ".join(row.variant.hint.lower().split()))
        numbers = re.search(r"\d+ of \d+ values differ", flat)  # compare's line of numbers
        numbers_at = numbers.start() if numbers else len(flat)
        too_long = [line for line in text.splitlines() if len(line) > 100 and " " in line.strip()]
        first = text.splitlines()[0] if text else ""
        if hint_at < 0 or hint_at > numbers_at or "\x1b[" in text or too_long or re.search(r"\d+ of \d+ values", first):
            out_of_order.append(f"{row.variant.blank}: {row.variant.name}: {text!r}")
    assert not out_of_order, "\n".join(out_of_order[:10])


def test_mistakes_keep_little_of_their_blank(rows):
    """The marking policy at work on the catalogue: wrong answers keep at most 10% of their blank on average."""
    kept = [r.kept for r in rows.values() if not r.correct]
    assert sum(kept) / len(kept) <= 0.10, f"mean kept share {sum(kept) / len(kept):.1%}"
