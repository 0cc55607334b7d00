"""What the tests of the hidden tests share: the reference, the catalogued variants, and grading many
in-process notebooks in one pytest run of an assignment's hidden tests."""
from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch

from autograder.authoring.catalog import Variant, load_catalog, reference_namespace as _reference_namespace
from conftest import ASSIGNMENTS, COURSE
from conftest import SECRET as DEFAULT_SECRET
from autograder.grading.plugin import Entry, GradingPlugin, load_reference, run_pytest
from autograder.grading.results import TestResult
from autograder.grading.submission import Submission


def reference(name: str):
    return load_reference(COURSE, ASSIGNMENTS[name])


def reference_namespace(name: str) -> dict[str, Any]:
    return _reference_namespace(reference(name))


def variants(name: str, which: str) -> list[Variant]:
    module = load_catalog(COURSE, ASSIGNMENTS[name])
    return list(getattr(module, which)) if module is not None else []


def key(v: Variant) -> str:
    return f"{v.blank}: {v.name}"


def by_blank(results: list[TestResult]) -> dict[str, tuple[float, float]]:
    marks: dict[str, list[float]] = {}
    for r in results:
        m = marks.setdefault(r.blank, [0.0, 0.0])
        m[0] += r.score
        m[1] += r.max_score
    return {b: (round(s, 9), round(t, 9)) for b, (s, t) in marks.items()}


class OwnBlanks(GradingPlugin):
    """Runs, for each notebook, only the tests of the blanks it is meant for (``blanks[entry key]``)."""

    def __init__(self, entries: list[Entry], secret: str, blanks: dict[str, set[str]]):
        super().__init__(COURSE, entries, secret)
        self.blanks = blanks

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        keep = [i for i in items if i.get_closest_marker("blank").args[0] in self.blanks[i.callspec.params["sub"].key]]
        config.hook.pytest_deselected(items=[i for i in items if i not in keep])
        items[:] = keep


def grade_many(name: str, namespaces: dict[str, dict[str, Any]], secret: str = DEFAULT_SECRET,
               blanks: dict[str, set[str]] | None = None) -> dict[str, list[TestResult]]:
    """grade_in_process for several notebooks in one pytest run; with ``blanks``, notebook ``key`` is graded
    only on ``blanks[key]``."""
    entries = [Entry(key=k, assignment=name, open=lambda ns=ns: Submission.in_process(ns))
               for k, ns in namespaces.items()]
    plugin = GradingPlugin(COURSE, entries, secret) if blanks is None else OwnBlanks(entries, secret, blanks)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: waking a thread pool costs more than the work
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = run_pytest([ASSIGNMENTS[name]], plugin)
    finally:
        torch.set_num_threads(threads)
    assert not plugin.internal_errors and code in (0, 1), plugin.internal_errors or code
    return {k: plugin.final_results(k) for k in plugin.results}
