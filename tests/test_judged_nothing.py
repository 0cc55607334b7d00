"""The engine fails a value or edge test that judged nothing (autograder.grading.compare.judged): a check that looped over
an empty list the sandbox reported proves nothing, whatever made the list empty, and so it never passes."""
from __future__ import annotations

import shutil
import textwrap

from autograder.grading.course import Course
from autograder.grading.plugin import Entry, GradingPlugin, judged_nothing, run_pytest
from autograder.grading.submission import Submission
from conftest import REPO

HIDDEN = '''
import pytest
import torch
from autograder.grading.compare import expect, judged

ASSIGNMENT = "01_tensors_autograd"


@pytest.mark.blank("row_max", points=0.5)
def test_loops_over_what_the_sandbox_reported(sub):
    """a value test whose loop runs zero times"""
    for layer in sub.call("row_max", torch.zeros(2, 2))[2:]:
        expect(layer, "a layer").close_to(torch.zeros(1))


@pytest.mark.blank("row_max", points=0.5, kind="edge")
def test_judges_by_hand(sub):
    """an edge test that judges in its own way and says so"""
    values, _ = sub.call("row_max", torch.ones(2, 3))
    judged(values.numel())
    assert bool((values == 1).all())


@pytest.mark.blank("row_max", points=0.5, kind="property")
def test_a_property_judges_nothing(sub):
    """a property test needs no value"""


@pytest.mark.blank("row_max", points=0.5)
def test_compares(sub):
    """a value test that compares"""
    expect(sub.call("row_max", torch.eye(3))[0], "values").close_to(torch.ones(3))
'''


def test_a_value_test_that_compared_nothing_fails(tmp_path):
    for folder in ("release", "solutions"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "hidden").mkdir()
    (tmp_path / "hidden" / "test_01_tensors_autograd.py").write_text(textwrap.dedent(HIDDEN))
    course = Course.load(tmp_path)
    namespace = {"row_max": lambda x: x.max(dim=1)}
    entry = Entry(key="nb", assignment="01_tensors_autograd", open=lambda: Submission.in_process(namespace))
    plugin = GradingPlugin(course, [entry], "s")
    assert run_pytest([course.assignments["01_tensors_autograd"]], plugin) in (0, 1)
    assert not plugin.internal_errors
    outcome = {r.name.split(": ", 1)[1]: (r.score, r.output) for r in plugin.results["nb"]}
    assert outcome["a value test whose loop runs zero times"] == (0.0, judged_nothing())
    assert outcome["an edge test that judges in its own way and says so"] == (0.5, "Passed.")
    assert outcome["a property test needs no value"] == (0.5, "Passed.")
    assert outcome["a value test that compares"] == (0.5, "Passed.")
