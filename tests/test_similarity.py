"""Similarity across a class (autograder.after.similarity) and its pages (autograder.outputs.similarity_pages).

The main test grades the detector on a generated class (tests/similarity_class.py): 30 students on each of three
assignments, answers drawn from the catalogs, and planted copies disguised (names, layout, order, comments, prints).
"""
from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import pytest
from browser import render, require_browser
from conftest import COURSE
from similarity_class import disguise, make_class, variants

from autograder.after import similarity as sim
from autograder.after.similarity import BlankMatch, Pair, compare, find_similar, fingerprint, write_similarity_csv
from autograder.outputs.similarity_pages import page_name, pair_key, pair_page, similarity_section, write_pair_pages

ASSIGNMENTS = ["02_linear_regression", "03_logistic_regression", "06_initialization"]
STUB = "def linear_model(x, w, b):\n    # YOUR CODE HERE\n    raise NotImplementedError()"


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    made = make_class(COURSE, tmp_path_factory.mktemp("class"), ASSIGNMENTS, students=30, seed=0)
    return made, find_similar(COURSE, made.root)


# -- the class ------------------------------------------------------------------------------------------------
def test_planted_copies_are_found_and_honest_students_are_not(generated):
    made, pairs = generated
    flagged = {(p.assignment, frozenset(p.students)) for p in pairs}
    planted = {(a, pair) for a, pairs_of in made.planted.items() for pair in pairs_of}
    found = flagged & planted
    precision, recall = len(found) / len(flagged), len(found) / len(planted)
    print(f"\nflagged {len(flagged)}, planted {len(planted)}: precision {precision:.3f}, recall {recall:.3f}")
    for a in ASSIGNMENTS:  # per assignment, for the record
        mine = {p for p in flagged if p[0] == a}
        print(f"  {a}: flagged {len(mine)}, of them planted {len(mine & planted)}, planted {len(made.planted[a])}")
    assert precision >= 0.9 and recall >= 0.9, sorted((a, sorted(p)) for a, p in flagged ^ planted)
    assert all(p.flagged for p in pairs)
    assert [p.score for p in pairs] == sorted((p.score for p in pairs), reverse=True)


def test_students_who_share_only_the_release_or_one_line_answers_are_not_flagged(generated):
    made, pairs = generated
    # the generator's last two hand in the stubs, the course notes' one-liners and the same unusual one-line answer;
    # the two before them left blanks as released
    assert not [p for p in pairs if {"student28", "student29"} & set(p.students)]
    assert ("student26", "student27") not in [p.students for p in pairs]
    for a in ("02_linear_regression", "03_logistic_regression"):  # what they share is there to be found
        code, stubs = made.code[a], sim.release_code(COURSE, COURSE.assignments[a])
        assert any(code["student28"][b] == code["student29"][b] != stubs[b] for b in stubs)


def test_each_flagged_pair_says_where(generated):
    _, pairs = generated
    for p in pairs:
        assert p.blanks and all(m.score >= sim.BLANK_SCORE for m in p.blanks)
        for m in p.blanks:
            for code, spans in zip(m.code, m.spans):
                lines = code.count("\n") + 1
                assert all(1 <= first <= last <= lines for first, last in spans)
        assert any(m.spans[0] and m.spans[1] for m in p.blanks)


def test_the_same_class_gives_the_same_result(generated, tmp_path):
    made, pairs = generated
    again = find_similar(COURSE, made.root)
    assert again == pairs
    write_similarity_csv(pairs, tmp_path / "a.csv")
    write_similarity_csv(again, tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


# -- rarity ---------------------------------------------------------------------------------------------------
def _class(answers: dict[str, str], blank: str = "linear_model", stub: str = STUB) -> list[Pair]:
    return compare("02_linear_regression", {s: {blank: code} for s, code in answers.items()}, {blank: stub})


def test_weight_is_the_inverse_of_how_many_others_have_it():
    assert sim.weight(1) == sim.weight(2) == 1.0
    assert sim.weight(5) == 0.25
    assert sim.weight(30) == pytest.approx(1 / 29)


def test_a_one_line_answer_everyone_writes_is_no_evidence():
    same = "def linear_model(x, w, b):\n    return w * x + b\n"
    answers = {f"s{i:02d}": same for i in range(30)}
    across = sim._Blank.of(answers, STUB)
    assert all(w == pytest.approx(1 / 29) for w in across.weights.values())  # everyone has every fingerprint
    assert _class(answers) == []  # no pair: nothing rare in common


def test_an_unusual_one_line_answer_two_share_is_not_enough():
    answers = {f"s{i:02d}": f"def linear_model(x, w, b):\n    return w * x + b + {i}\n" for i in range(28)}
    rare = "def linear_model(x, w, b):\n    return torch.addcmul(b, x, w).clamp(min=-1e6)\n"
    answers["a"], answers["b"] = rare, rare.replace("x, w, b", "inp, weight, bias").replace("(b, x, w)",
                                                                                         "(bias, inp, weight)")
    pairs = _class(answers)
    assert [p.students for p in pairs] == [("a", "b")] and pairs[0].score == pytest.approx(1.0)
    assert not pairs[0].flagged  # one statement: a one-line answer, however unusual, is never enough


def test_the_release_stub_is_boilerplate():
    answers = {f"s{i}": STUB for i in range(5)}
    assert _class(answers) == []
    assert fingerprint(STUB).hashes  # the stub has fingerprints: they are subtracted, not absent


def test_a_disguised_copy_reads_the_same_and_is_flagged():
    import random

    a = COURSE.assignments["02_linear_regression"]
    answers = {f"s{i}": v.code for i, v in enumerate(variants(COURSE, a)["train_linear"][:10])}
    source = answers["s3"]
    answers["copy"] = copied = disguise(source, "train_linear", random.Random(3))
    assert copied != source and "print(" in copied
    pairs = compare(a.name, {s: {"train_linear": c} for s, c in answers.items()}, sim.release_code(COURSE, a))
    top = pairs[0]
    assert top.students == ("copy", "s3") and top.flagged and top.score > 0.8
    match = top.blanks[0]
    for code, spans in zip(match.code, match.spans):  # marked: the code few others wrote, in each student's code
        marked = [line for i, line in enumerate(code.split("\n"), 1) if any(a <= i <= b for a, b in spans)]
        assert any("torch.autograd.grad(" in line for line in marked)
        assert not any("mse_loss(linear_model(" in line or "def " in line for line in marked)


def test_names_the_student_chose_are_erased_and_the_library_s_are_not():
    a = fingerprint("def f(x, lr):\n    opt = torch.optim.SGD([x], lr=lr)  # note\n    return opt\n")
    renamed = fingerprint("def g(param,\n      rate):\n    o = torch.optim.SGD( [param],lr = rate )\n\n    return o")
    assert a.hashes == renamed.hashes
    assert a.hashes != fingerprint("def f(x, lr):\n    opt = torch.optim.Adam([x], lr=lr)\n    return opt\n").hashes
    assert a.hashes != fingerprint("def f(x, lr):\n    opt = torch.optim.SGD([x], momentum=lr)\n"
                                   "    return opt\n").hashes
    # statements in another order, and a print added: every statement's fingerprints are still there
    b = fingerprint("def f(x, y):\n    u = x + 1\n    v = y * 2\n    return u, v\n")
    c = fingerprint("def f(x, y):\n    v = y * 2\n    print(v)\n    u = x + 1\n    return u, v\n")
    assert b.hashes <= c.hashes


# -- reading notebooks ------------------------------------------------------------------------------------------
def _notebook(path: Path, cells: list[tuple[dict | None, str]]) -> Path:
    raw = {"cells": [{"cell_type": "code", "metadata": {"nbgrader": meta} if meta else {}, "source": src,
                      "outputs": [], "execution_count": None} for meta, src in cells],
           "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_a_blank_s_code_is_its_cell_and_the_student_s_own_cells_that_define_it(tmp_path):
    path = _notebook(tmp_path / "nb.ipynb", [
        ({"grade_id": "linear_model", "solution": True}, STUB),
        ({"grade_id": "check_linear_model"}, "check(linear_model)"),
        (None, "import torch\n\ndef linear_model(x, w, b):\n    return x * w + b\n"),
        (None, "print(linear_model(1, 2, 3))"),
        ({"grade_id": "mse_loss", "solution": True}, ["def mse_loss(a, b):\n", "    return ((a - b) ** 2).mean()"]),
    ])
    code = sim.blank_code(path, ["linear_model", "mse_loss", "train_linear"])
    assert code["linear_model"].startswith(STUB) and "return x * w + b" in code["linear_model"]
    assert "check(" not in code["linear_model"] and "print(" not in code["linear_model"]
    assert code["mse_loss"] == "def mse_loss(a, b):\n    return ((a - b) ** 2).mean()"
    assert code["train_linear"] == ""


@pytest.mark.parametrize("text", ["", "{", "[]", '{"cells": 3}', '{"cells": [{"cell_type": "code", "source": 7}]}'])
def test_an_unreadable_notebook_has_no_code(tmp_path, text):
    path = tmp_path / "nb.ipynb"
    path.write_text(text, encoding="utf-8")
    assert sim.blank_code(path, ["linear_model"]) == {"linear_model": ""}


# -- outputs ----------------------------------------------------------------------------------------------------
HOSTILE = "<script>alert('x')</script>"


def _pair(students: tuple[str, str] = ("alice", HOSTILE), score: float = 0.9) -> Pair:
    code_a = "def f(x):\n    y = x * 2  # </div><b>bold</b>\n    return y\n"
    code_b = "def f(q):\n    print('<!--')\n    z = q * 2\n    return z\n"
    match = BlankMatch("f_<blank>", score, 9.0, 2, 10.0, (code_a, code_b), (((2, 3),), ((3, 4),)))
    return Pair("02_<i>x</i>", students, score, 9.0, 2, (match,))


def test_the_pair_page_escapes_every_string_and_marks_the_matching_lines():
    text = pair_page(_pair())
    assert "<script>" not in text and "<b>bold</b>" not in text and "<i>x</i>" not in text and "<!--" not in text
    assert html.escape(HOSTILE, quote=True) in text
    marked = re.findall(r'<div class="ln m"><span class="no">(\d+)</span><span class="tx"><mark>', text)
    assert marked == ["2", "3", "3", "4"]  # alice's lines 2-3, the other's 3-4
    assert text.count('<div class="ln">') == 5  # the unmarked lines: 1 and 4 (empty) of one, 1, 2 and 5 of the other
    assert text.count('class="sbs"') == 1


def test_the_class_report_section_ranks_the_pairs_and_links_to_their_pages(tmp_path):
    low, high = _pair(("bob", "carol"), 0.7), _pair(("alice", "dan?#x"), 0.95)
    links = write_pair_pages([low, high], tmp_path)
    assert sorted(links) == sorted([pair_key(low), pair_key(high)])
    for link in links.values():
        assert (tmp_path / link).is_file() and re.fullmatch(r"similarity/[A-Za-z0-9_.-]+\.html", link)
    section = similarity_section([low, high], links)
    assert section.index("alice") < section.index("bob")  # highest score first
    assert "f_<wbr>&lt;blank&gt;" in section
    assert all(f'href="{link}"' in section for link in links.values())
    assert "No pair" in similarity_section([], {})
    assert page_name(low) != page_name(_pair(("bob", "carol!"), 0.7))


def test_the_csv_has_a_line_per_pair_and_no_formula(tmp_path):
    path = tmp_path / "similarity.csv"
    write_similarity_csv([_pair(("=HYPERLINK(\"http://x\")", "bob"), 0.8123)], path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows[0] == ["assignment", "student", "student", "score", "shared blanks"]
    assert rows[1] == ["02_<i>x</i>", "'=HYPERLINK(\"http://x\")", "bob", "0.812", "f_<blank>"]


def test_the_pair_page_reads_side_by_side_in_a_browser(generated, tmp_path):
    require_browser()
    _, pairs = generated
    pair = max(pairs, key=lambda p: (len(p.blanks), p.score))
    page = tmp_path / "pair.html"
    page.write_text(pair_page(pair), encoding="utf-8")
    for width in (1200, 600):
        seen = render(page, tmp_path / f"pair-{width}.png", width=width)
        assert seen["scrollWidth"] <= seen["clientWidth"], seen["wide"]
        assert all(student in seen["text"] for student in pair.students)
