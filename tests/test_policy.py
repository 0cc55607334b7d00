"""The marking policy, rule by rule (autograder/grading/policy.py), and a course's own numbers (marking.toml)."""
from __future__ import annotations

import pytest

from autograder.grading.policy import Policy, PolicyError
from autograder.grading.results import TestResult


def t(kind: str, passed: bool, points: float = 1.0, blank: str = "b") -> TestResult:
    return TestResult(name=f"{blank}: {kind}", blank=blank, score=points if passed else 0.0, max_score=points,
                      output="Passed." if passed else "wrong", kind=kind)


def marks(tests: list[TestResult], policy: Policy = Policy()) -> float:
    return round(sum(x.score for x in policy.apply(tests)), 6)


def test_right_on_typical_inputs_keeps_every_passed_test():
    tests = [t("value", True), t("value", True), t("edge", False), t("property", True)]
    assert marks(tests) == 3.0
    assert Policy().apply(tests) == tests


def test_a_forbidden_function_costs_the_whole_blank():
    tests = [t("value", True), t("value", True), t("edge", True), t("forbidden", False)]
    marked = Policy().apply(tests)
    assert sum(x.score for x in marked) == 0
    assert all("forbids" in x.output for x in marked[:3])


def test_no_right_value_earns_nothing_whatever_the_edges_and_properties():
    tests = [t("value", False), t("value", False), t("edge", True, 2.0), t("property", True, 2.0)]
    assert marks(tests) == 0
    assert "no right value" in Policy().apply(tests)[2].output


def test_wrong_on_typical_inputs_keeps_at_most_a_quarter_and_no_property():
    tests = [t("value", True, 2.0), t("value", False, 1.0), t("edge", True, 1.0), t("property", True, 4.0)]
    marked = Policy().apply(tests)
    assert sum(x.score for x in marked) == pytest.approx(0.25 * 8)
    assert marked[3].score == 0 and "Not counted yet" in marked[3].output
    assert "Counted at" in marked[0].output


def test_a_small_wrong_answer_is_not_scaled_up():
    tests = [t("value", True, 0.5), t("value", False, 3.0), t("value", False, 4.5)]
    assert marks(tests) == 0.5


def test_blanks_are_marked_apart():
    tests = [t("value", False, blank="a"), t("edge", True, blank="a"), t("value", True, blank="b")]
    assert [x.score for x in Policy().apply(tests)] == [0.0, 0.0, 1.0]


def test_a_course_sets_its_own_numbers(tmp_path):
    (tmp_path / "marking.toml").write_text("[marking]\nwrong_share = 0.5\nproperties_need_values = false\n")
    policy = Policy.of_course(tmp_path)
    assert policy == Policy(0.5, False)
    tests = [t("value", True, 2.0), t("value", False, 2.0), t("property", True, 4.0)]
    assert marks(tests, policy) == 4.0  # half of 8; the property still counted
    assert Policy.of_course(tmp_path / "nowhere") == Policy()


@pytest.mark.parametrize("text, words", [
    ("[marking]\nwrong_share = 2\n", "from 0 to 1"),
    ("[marking]\nshare = 0.1\n", "unknown setting"),
    ("[marking\n", "not readable TOML"),
    ("[marking]\nproperties_need_values = 1\n", "true or false"),
])
def test_a_bad_marking_file_is_one_line(tmp_path, text, words):
    (tmp_path / "marking.toml").write_text(text)
    with pytest.raises(PolicyError, match=words) as error:
        Policy.of_course(tmp_path)
    assert "\n" not in str(error.value)


def test_a_broken_rule_keeps_only_the_value_and_edge_points():
    """Right values, one rule broken (a property test fails): the other rules' points do not count either, so
    splitting a blank's rules into more tests never lets a broken rule keep more."""
    tests = [t("value", True, 1.0), t("edge", True, 0.5), t("property", False, 0.5), t("property", True, 0.5, "b")]
    marked = Policy().apply(tests)
    assert [x.score for x in marked] == [1.0, 0.5, 0.0, 0.0]
    assert "breaks a rule" in marked[3].output and "property" in marked[3].output
    assert marks(tests, Policy(properties_need_values=False)) == 2.0  # a course that counts rules one by one
