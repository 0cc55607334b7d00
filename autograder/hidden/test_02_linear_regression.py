"""Hidden tests for 02_linear_regression."""
import pytest
import torch

from autograder import hints
from autograder.compare import expect, unchanged

ASSIGNMENT = "02_linear_regression"


def linear_problem(rng, n):
    x = torch.randn(n, 1, generator=rng) * 2
    y = 1.7 * x - 0.4 + 0.3 * torch.randn(n, 1, generator=rng)
    w = torch.randn(1, generator=rng)
    b = torch.randn(1, generator=rng)
    return x, y, w, b


@pytest.mark.blank("mse_grads", points=2)
@pytest.mark.parametrize("n", [1, 11])
def test_grads_match_closed_form(sub, rng, ref, n):
    """dw and db match the closed-form gradients away from the optimum"""
    x, y, w, b = linear_problem(rng, n)
    dw, db = sub.call("mse_grads", x, y, w, b)
    ref_dw, ref_db = ref.mse_grads(x, y, w, b)
    expect(dw, "dw").tensor(shape=(1,)).close_to(ref_dw, hints=[hints.FACTOR_2, hints.SIGN, hints.sum_vs_mean(n)])
    expect(db, "db").tensor(shape=(1,)).close_to(ref_db, hints=[hints.FACTOR_2, hints.SIGN, hints.sum_vs_mean(n)])


@pytest.mark.blank("mse_grads", points=1)
def test_grads_leave_inputs(sub, rng):
    """mse_grads leaves its inputs unchanged"""
    x, y, w, b = linear_problem(rng, 7)
    result = sub.run("mse_grads", x, y, w, b)
    for name, before, after in zip("xywb", (x, y, w, b), result.args):
        unchanged(before, after, name)
