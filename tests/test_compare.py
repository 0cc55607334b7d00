"""Checks fail in a fixed order with one precise sentence, and hints recognise known mistakes."""
import pytest
import torch

from autograder import hints
from autograder.codec import Foreign
from autograder.compare import Mismatch, expect, unchanged


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


def test_value_mismatch_reports_where_and_how_much_but_not_the_expected_value():
    expected = torch.tensor([[1.0], [2.0], [4.0]])
    actual = expected.clone()
    actual[2, 0] = 5.0
    m = message(lambda: expect(actual, "y").close_to(expected))
    assert "1 of 3 values differ" in m and "greatest absolute difference 1 at index (2, 0)" in m
    assert "4.0" not in m and "tolerance" in m


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
