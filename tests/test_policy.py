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


def test_a_passed_test_that_does_not_count_says_so_everywhere(tmp_path):
    """Tests that passed but do not count under the policy keep their status (passed) and say why, in the results
    file (Gradescope's status), the student's page and nbgrader's feedback, instead of showing as failures."""
    from autograder.grading.results import NotebookResult, write_results
    from autograder.outputs.pages import write_pages
    from autograder.platforms.nbgrader_preprocessor import blank_feedback

    tests = [t("value", False, 1.0), t("value", True, 1.0), t("property", True, 1.0)]
    marked = Policy().apply(tests)
    assert [m.passed for m in marked] == [False, True, True]
    assert marked[2].score == 0 and marked[2].output.startswith("Passed, but not counted in full: Not counted yet")
    assert marked[1].output.startswith("Passed, but not counted in full: Counted at")
    data = marked[2].to_json()
    assert data["status"] == "passed" and data["score"] == 0
    write_results(NotebookResult("s", "a", "nb", marked), tmp_path / "s" / "a" / "nb.json")
    page = (tmp_path / write_pages(tmp_path)[tmp_path.joinpath("s/a/nb.json").relative_to(tmp_path)]).read_text()
    assert page.count("passed, not counted in full:") == 2 and page.count("&#10007;") == 1
    text, _ = blank_feedback("b", sum(m.score for m in marked), 3.0, marked)
    assert text.count("✓") == 2 and "(passed, not counted in full)" in text and text.count("✗") == 1


def test_the_gradescope_bundle_carries_the_courses_numbers(tmp_path):
    """Gradescope grades with the course's marking.toml too (as grade, Dask and nbgrader do); a bad one stops the
    bundle in one line."""
    import shutil
    import zipfile

    from autograder.grading.course import Course
    from autograder.platforms.gradescope import BundleError, build_bundle
    from conftest import REPO

    root = tmp_path / "course"
    for part in ("release", "hidden", "solutions"):
        shutil.copytree(REPO / part, root / part)
    (root / "marking.toml").write_text("[marking]\nwrong_share = 0.5\n")
    course = Course.load(root, fresh=True)
    a = course.find("02_linear_regression")
    bundle = build_bundle(course, a, tmp_path / "autograder.zip", secret="s")
    with zipfile.ZipFile(bundle) as z:
        assert z.read("course/marking.toml") == b"[marking]\nwrong_share = 0.5\n"
    (root / "marking.toml").write_text("[marking]\nwrong_share = 5\n")
    with pytest.raises(BundleError, match="from 0 to 1"):
        build_bundle(course, a, tmp_path / "again.zip", secret="s")
