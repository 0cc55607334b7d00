"""Every boundary of the spec is a hidden test: the tables in tests/boundaries_*.py list, per blank, the
boundaries of ../shared/spec/exercises.md (sizes at 1, thresholds at the threshold, both ends of a range, ranks
1 and 3+) and the hidden test that covers each; this checks every blank has its table and every test exists and
judges that blank."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from conftest import ASSIGNMENTS, COURSE

TABLES = sorted(Path(__file__).parent.glob("boundaries_*.py"))


def _table() -> dict[str, list[tuple[str, str]]]:
    merged: dict[str, list[tuple[str, str]]] = {}
    for path in TABLES:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # type: ignore[union-attr]
        for blank, rows in module.BOUNDARIES.items():
            merged.setdefault(blank, []).extend(rows)
    return merged


def _hidden_tests(assignment) -> dict[str, str]:
    """test function name -> the blank its blank marker names, from the hidden module as pytest collects it (plain
    tests and those a declaration made)."""
    path = COURSE.hidden_tests(assignment)
    spec = importlib.util.spec_from_file_location(f"_boundaries_{assignment.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    found = {}
    for name, test in vars(module).items():
        if not name.startswith("test") or not callable(test):
            continue
        marks = list(getattr(test, "pytestmark", []))
        marks += [m for mark in marks if mark.name == "parametrize" for p in mark.args[1]
                  for m in getattr(p, "marks", ())]
        blanks = [m.args[0] for m in marks if m.name == "blank" and m.args]
        if blanks:
            found[name] = blanks[0]
    return found


BOUNDARIES = _table()
ROWS = [(blank, words, test) for blank, rows in BOUNDARIES.items() for words, test in rows]


def test_every_blank_has_a_table_of_its_boundaries():
    blanks = {b for a in ASSIGNMENTS.values() for b in a.blanks}
    assert blanks <= set(BOUNDARIES), f"no boundary table for {sorted(blanks - set(BOUNDARIES))}"
    assert all(BOUNDARIES[b] for b in blanks)


@pytest.mark.parametrize("blank, boundary, test", ROWS, ids=[f"{b}: {w}" for b, w, _ in ROWS])
def test_each_boundary_is_a_hidden_test_of_its_blank(blank, boundary, test):
    tests = _hidden_tests(COURSE.of_blank(blank))
    assert test in tests, f"{blank}: no hidden test {test} (for {boundary})"
    assert tests[test] == blank, f"{test} judges {tests[test]}, not {blank}"
