"""Checks fail in a fixed order with one precise sentence, and hints recognise known mistakes; value mismatches
are described coarsely, never with a number from which the expected value follows."""
import re

import pytest
import torch

from autograder.grading import hints
from autograder.protocol.codec import Foreign
from autograder.grading.compare import Mismatch, expect, unchanged


def message(fn) -> str:
    with pytest.raises(Mismatch) as failure:
        fn()
    return str(failure.value)


def test_type_is_checked_before_dtype_shape_and_values():
    assert "expected a torch.Tensor, got a Python float" in message(lambda: expect(1.0, "dw").tensor())
    assert "got a mypkg.Lying" in message(lambda: expect(Foreign("mypkg.Lying"), "dw").tensor())
    m = message(lambda: expect(torch.zeros(1, dtype=torch.float64), "dw").tensor(shape=(1,)))
    assert "expected dtype torch.float32, got torch.float64" in m and "from_numpy" in m


@pytest.mark.parametrize("got, want, hint", [
    ((3, 1, 1), (3, 1), "extra dimension of size 1"),
    ((3, 3), (3, 1), "broadcasting"),
    ((), (1,), "0-dim"),
    ((4, 3), (3, 4), "wrong order"),
])
def test_shape_mismatches_say_why(got, want, hint):
    m = message(lambda: expect(torch.zeros(got), "y").tensor(shape=want))
    assert f"expected shape {want}" in m and hint in m


def test_non_finite_values_are_named():
    m = message(lambda: expect(torch.tensor([1.0, float("nan")]), "p").tensor())
    assert "1 of 2 values are NaN" in m


def numbers(text: str) -> list[str]:
    """The numbers in a message, tolerances and index excluded."""
    text = re.sub(r"rtol=\S+, atol=\S+\)", "", text)
    text = re.sub(r"index \([0-9, ]*\)", "", text)
    return re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)


def test_value_mismatch_reports_where_and_how_much_but_not_the_expected_value():
    expected = torch.tensor([[1.0], [2.0], [4.0]])
    actual = expected.clone()
    actual[2, 0] = 5.0
    m = message(lambda: expect(actual, "y").close_to(expected))
    assert "1 of 3 values differ" in m and "the worst, at index (2, 0), is off by about 20%" in m
    assert "4.0" not in m and numbers(m) == ["1", "3", "20"] and "tolerance" in m  # counts and 20%, nothing else


@pytest.mark.parametrize("actual, words", [
    (0.0, "is 0 where the expected value is not"),
    (-2.4681, "has the wrong sign (the sign is flipped)"),
    (-7.3, "has the wrong sign and about 3x the size"),
    (7.3, "is about 3x the expected value"),
    (0.8, "is about 0.3x the expected value"),
    (2.0, "is off by about 20%"),
    (2.4731, "is off by about 0.2%"),
    (2.46815, "is off by less than 0.1%"),
    (1e6, "is more than 1000x the expected value"),
    (float("nan"), "is NaN"),
])
def test_differences_are_coarse(actual, words):
    """One significant digit of the ratio at most: nothing from which the expected value (2.4681) follows."""
    expected = torch.tensor([1.0, 2.4681, -1.0])
    got = expected.clone().double()
    got[1] = actual
    m = message(lambda: expect(got, "y").close_to(expected.double(), rtol=1e-6, atol=1e-8))
    assert f"the worst, at index (1,), {words}" in m, m
    for number in numbers(m):
        assert len(number.lstrip("-0.").replace(".", "").rstrip("0")) <= 1, (number, m)
    assert "2.468" not in m and "2.47" not in m


def test_difference_at_an_expected_zero_says_not_zero():
    m = message(lambda: expect(torch.tensor([0.5]), "db").close_to(torch.tensor([0.0])))
    assert "much larger in magnitude than the expected value" in m and "0.5" not in m


def test_zero_dim_values_are_described_without_an_index():
    m = message(lambda: expect(torch.tensor(3.1), "loss").close_to(torch.tensor(1.234)))
    assert "your value is about 3x the expected value" in m and "1.23" not in m and "index" not in m


def test_constant_ratio_hint_gives_one_significant_digit():
    expected = torch.tensor([0.3, -1.2, 2.5]).double()
    m = message(lambda: expect(expected * 3.14159, "w").close_to(expected, hints=[hints.any_constant_ratio]))
    assert "about 3 times the correct ones" in m and "3.14" not in m
    m = message(lambda: expect(expected * -2.2, "w").close_to(expected, hints=[hints.any_constant_ratio]))
    assert "about 2 times the correct ones, with the wrong sign" in m and "2.2" not in m


@pytest.mark.parametrize("scale, words", [(0.5, "factor 2"), (-1.0, "sign is flipped")])
def test_ratio_fingerprints(scale, words):
    expected = torch.tensor([0.3, -1.2, 2.5])
    m = message(lambda: expect(expected * scale, "dw").close_to(expected, hints=[hints.SIGN, hints.FACTOR_2]))
    assert words in m and "Hint:" in m


def test_no_hint_when_no_fingerprint_matches():
    m = message(lambda: expect(torch.tensor([1.0, 5.0]), "x").close_to(torch.tensor([2.0, 3.0]),
                                                                        hints=hints.DEFAULT))
    assert "Hint" not in m


def test_python_float_is_not_a_tensor():
    assert "call .item()" in message(lambda: expect(torch.tensor(0.5), "accuracy").python_float())
    expect(0.5, "accuracy").python_float()


def test_float_list_names_the_bad_entry():
    m = message(lambda: expect([1.0, torch.tensor(2.0)], "losses").float_list(2))
    assert "entry 1" in m and "loss.item()" in m
    assert "expected 3 entries" in message(lambda: expect([1.0], "losses").float_list(3))


def test_unchanged_catches_in_place_edits():
    x = torch.ones(3)
    unchanged(x, x.clone(), "x")
    assert "modified its input x" in message(lambda: unchanged(x, torch.zeros(3), "x"))
