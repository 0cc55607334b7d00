"""Self-checks of assignments 01-03: the reference passes every check, known mistakes get their hint."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import solutions.linear_regression as lin
import solutions.logistic_regression as log
import solutions.tensors_autograd as ten
from conftest import ASSIGNMENTS
from autograder.selfcheck import run_checks

STEMS = {"01_tensors_autograd": ten, "02_linear_regression": lin, "03_logistic_regression": log}
BLANKS = [(module, blank) for name, module in STEMS.items() for blank in ASSIGNMENTS[name].blanks]


@pytest.mark.parametrize("module, blank", BLANKS, ids=[b for _, b in BLANKS])
def test_reference_passes_every_check(module, blank):
    fn = getattr(module, blank)
    run_checks(fn)  # warm-up: a kernel's first optimizer costs a second of imports, paid once
    report = run_checks(fn)
    assert report.passed, str(report)
    assert len(report.lines) >= 4, f"{blank} should have several checks"
    assert report.seconds < 0.5, f"{blank}: self-check took {report.seconds:.2f} s"


# ---------------------------------------------------------------------------------------------------------- mistakes
X_TRAIN = torch.tensor([3.3, 4.4, 5.5, 6.71, 6.93, 4.168, 9.779, 6.182, 7.59, 2.167, 7.042, 10.791, 5.313, 7.997,
                        3.1]).reshape(-1, 1)
Y_TRAIN = torch.tensor([1.7, 2.76, 2.09, 3.19, 1.694, 1.573, 3.366, 2.596, 2.53, 1.221, 2.827, 3.465, 1.65, 2.904,
                        1.3]).reshape(-1, 1)


def _double_backward_no_retain(x):
    leaf = x.detach().clone().requires_grad_(True)
    y = (leaf**2 + 3 * leaf).sum()
    y.backward()
    y.backward()
    return leaf.grad


def _double_backward_once(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf**2 + 3 * leaf).sum().backward()
    return leaf.grad


def _double_backward_on_x(x):
    x.requires_grad_(True)
    y = (x**2 + 3 * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    return x.grad


def _double_backward_returns_backward(x):
    leaf = x.detach().clone().requires_grad_(True)
    y = (leaf**2 + 3 * leaf).sum()
    y.backward(retain_graph=True)
    return y.backward()


def _add_data(x, y):
    x.data = x + y
    return x


def _grads_with(scale_w=2.0, scale_b=2.0, sign=1.0, mean=True, shape=(1,)):
    def mse_grads(x, y, w, b):
        residual = sign * (x * w + b - y)
        n = x.shape[0] if mean else 1
        return (scale_w / n * (x * residual).sum()).reshape(shape), (scale_b / n * residual.sum()).reshape(shape)
    return mse_grads


def _grads_autograd(x, y, w, b):
    w = w.clone().requires_grad_(True)
    b = b.clone().requires_grad_(True)
    ((x * w + b - y) ** 2).mean().backward()
    return w.grad, b.grad


def _train_linear_variant(zero="after", rebind=False, items=True, no_grad=True):
    def train_linear(x, y, w, b, lr, epochs):
        losses = []
        for _ in range(epochs):
            if zero == "before":
                w.grad.zero_()
                b.grad.zero_()
            loss = lin.mse_loss(lin.linear_model(x, w, b), y)
            losses.append(loss.item() if items else loss)
            loss.backward()
            if rebind:
                with torch.no_grad():
                    w = w - lr * w.grad
                    b = b - lr * b.grad
            elif no_grad:
                with torch.no_grad():
                    w -= lr * w.grad
                    b -= lr * b.grad
            else:
                w -= lr * w.grad
                b -= lr * b.grad
            if zero == "after":
                w.grad.zero_()
                b.grad.zero_()
        return losses
    return train_linear


def _train_logistic_variant(double_sigmoid=False, zero_grad=True, fresh_parameters=False):
    def train_logistic(x, y, w, b, lr, epochs):
        if fresh_parameters:
            w, b = nn.Parameter(w.detach().clone()), nn.Parameter(b.detach().clone())
        criterion = nn.BCEWithLogitsLoss()
        optimizer = torch.optim.SGD([w, b], lr=lr)
        losses = []
        for _ in range(epochs):
            out = log.logistic_forward(x, w, b)
            loss = criterion(torch.sigmoid(out) if double_sigmoid else out, y)
            losses.append(loss.item())
            if zero_grad:
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return losses
    return train_logistic


def _sigmoid_in_place(z):
    return z.neg_().exp_().add_(1).reciprocal_()


MISTAKES = [
    # blank, wrong implementation, a piece of the expected hint
    ("row_max", lambda x: torch.max(x, dim=0), "not dim=0"),
    ("row_max", lambda x: torch.max(x), "returned one tensor"),
    ("row_max", lambda x: x.max(dim=1, keepdim=True), "drop keepdim=True"),
    ("row_max", lambda x: (x.max(dim=1).values, x.max(dim=1).indices.float()), "int64"),
    ("swap_and_flatten", lambda x: x.reshape(x.shape[1], -1), "reshape alone keeps x's memory order"),
    ("swap_and_flatten", lambda x: x.permute(1, 0, 2).view(x.shape[1], -1), "view() fails on a non-contiguous"),
    ("swap_and_flatten", lambda x: x.transpose(0, 1).flatten(), "flatten gives a 1-D tensor"),
    ("drop_channel_dim", lambda x: x.squeeze(), "squeeze() without a dimension removes every size-1 dimension"),
    ("drop_channel_dim", lambda x: x.squeeze(0), "x.squeeze(1)"),
    ("double_backward", _double_backward_no_retain, "retain_graph=True"),
    ("double_backward", _double_backward_once, "one backward pass"),
    ("double_backward", _double_backward_on_x, "x itself now requires grad"),
    ("double_backward", _double_backward_returns_backward, "backward itself returns None"),
    ("add_inplace", lambda x, y: x + y, "make a new tensor"),
    ("add_inplace", _add_data, "different storage"),
    ("linear_model", lambda x, w, b: x * w, "the bias b is missing"),
    ("linear_model", lambda x, w, b: x @ w + b, "x @ w gives shape (N,)"),
    ("linear_model", lambda x, w, b: X_TRAIN * w + b, "notebook's x_train"),
    ("mse_loss", lambda y_pred, y: ((y_pred - y) ** 2).sum(), "the sum of the squared errors"),
    ("mse_loss", lambda y_pred, y: ((y_pred - y) ** 2).mean().item(), "returned a Python float"),
    ("mse_loss", lambda y_pred, y: ((y_pred - Y_TRAIN) ** 2).mean(), "never the notebook's y_train"),
    ("mse_loss", lambda y_pred, y: ((y_pred - y) ** 2).mean().sqrt(), "square root (RMSE)"),
    ("mse_grads", _grads_with(scale_w=1.0), "did you forget the factor 2 in 2/n?"),
    ("mse_grads", _grads_with(sign=-1.0), "the sign is flipped"),
    ("mse_grads", _grads_with(mean=False), "lacks the 1/n"),
    ("mse_grads", _grads_with(shape=()), "reshape the sum to (1,)"),
    ("mse_grads", _grads_autograd, "autograd is forbidden"),
    ("train_linear", _train_linear_variant(zero="never"), "the gradients accumulate"),
    ("train_linear", _train_linear_variant(zero="before"), "w.grad is None before the first backward"),
    ("train_linear", _train_linear_variant(rebind=True), "update in place"),
    ("train_linear", _train_linear_variant(no_grad=False), "torch.no_grad()"),
    ("train_linear", _train_linear_variant(items=False), "loss.item()"),
    ("sigmoid", torch.sigmoid, "forbidden"),
    ("sigmoid", lambda z: torch.exp(z) / (1 + torch.exp(z)), "inf / inf = nan"),
    ("sigmoid", lambda z: 1 / (1 + torch.exp(z)), "that is sigmoid(-z)"),
    ("sigmoid", _sigmoid_in_place, "was modified"),
    ("bce_loss", lambda p, y: F.binary_cross_entropy(p, y), "forbidden"),
    ("bce_loss", lambda p, y: -(y * torch.log2(p) + (1 - y) * torch.log2(1 - p)).mean(), "log base 2"),
    ("bce_loss", lambda p, y: -((1 - y) * torch.log(p) + y * torch.log(1 - p)).mean(), "the two terms are swapped"),
    ("bce_loss", lambda p, y: -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).sum(), "the sum over the examples"),
    ("logistic_forward", lambda x, w, b: torch.sigmoid(x @ w + b), "those are probabilities"),
    ("logistic_forward", lambda x, w, b: x @ w, "the bias b is missing"),
    ("train_logistic", _train_logistic_variant(double_sigmoid=True), "double sigmoid"),
    ("train_logistic", _train_logistic_variant(zero_grad=False), "the gradients accumulate"),
    ("train_logistic", _train_logistic_variant(fresh_parameters=True), "give the optimizer the parameters"),
    ("accuracy", lambda logits, y: ((logits > 0.5).float() == y).float().mean().item(), "thresholded the logits at 0.5"),
    ("accuracy", lambda logits, y: ((logits > 0).float() == y).float().mean(), "with .item()"),
    ("accuracy", lambda logits, y: ((logits > 0).float().squeeze(1) == y).float().mean().item(), "(N, N)"),
    ("accuracy", lambda logits, y: ((logits >= 0).float() == y).float().mean().item(), "not >= 0"),
]


@pytest.mark.parametrize("blank, wrong, hint", MISTAKES, ids=[f"{b}-{i}" for i, (b, _, _) in enumerate(MISTAKES)])
def test_known_mistake_gets_its_hint(blank, wrong, hint):
    report = run_checks(wrong, blank)
    assert not report.passed, str(report)
    failures = [why for ok, _, why in report.lines if not ok]
    assert any(hint in why for why in failures), str(report)
    assert all(why and "\n" not in why for why in failures), str(report)


def test_every_blank_has_at_least_two_mistakes():
    for _, blank in BLANKS:
        assert sum(b == blank for b, _, _ in MISTAKES) >= 2, blank


def test_unwritten_blank_says_so():
    def row_max(x):
        raise NotImplementedError()

    report = run_checks(row_max)
    assert not report.passed
    assert "not written yet" in str(report)
