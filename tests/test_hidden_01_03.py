"""The hidden tests of 01_tensors_autograd, 02_linear_regression and 03_logistic_regression, graded against the
reference solutions and the catalog of student answers (catalog/<stem>.py).

- the reference gets full marks, for several course secrets;
- every CORRECT variant gets full marks on every blank, for several secrets;
- every MISTAKE loses marks on its blank (and only there, unless the blank it breaks calls it), and a failing
  test of that blank says its hint;
- the points of every blank's tests add up to its points in autograder/grading/course.py;
- answers that compute nothing (a constant, zeros, ones, the argument, random values, losses without training)
  earn 0 on every blank.

The variants of an assignment are graded together, in one pytest run of the hidden tests (the grading plugin
takes several notebooks at once), so that the whole file stays fast.
"""
from __future__ import annotations

import functools
from typing import Any

import pytest

from autograder.authoring.catalog import Variant, load_catalog, variant_namespace
from autograder.grading.compare import mentions
from conftest import ASSIGNMENTS, COURSE
from autograder.platforms.nbgrader_hidden import grade_in_process
from conftest import SECRET as DEFAULT_SECRET
from autograder.grading.results import TestResult
from catalog_support import by_blank, grade_many, key, reference, reference_namespace, variants

NAMES = ["01_tensors_autograd", "02_linear_regression", "03_logistic_regression"]
SECRETS = [DEFAULT_SECRET, "fall-2026", "spring-2027", "k3y-without-meaning", "0"]

# A blank whose code calls another blank: a mistake in the callee may cost the caller's points too.
CALLS = {"train_linear": {"linear_model", "mse_loss"}, "train_logistic": {"logistic_forward"}}


def catalog(name: str):
    module = load_catalog(COURSE, ASSIGNMENTS[name])
    assert module is not None, f"catalog/{ASSIGNMENTS[name].stem}.py is missing"
    return module


def namespaces(name: str, variants: list[Variant]) -> dict[str, dict[str, Any]]:
    ref = reference(name)
    out = {key(v): variant_namespace(ref, v) for v in variants}
    assert len(out) == len(variants), "two variants of a blank share a name"
    return out


# ------------------------------------------------------------------------------------------------ reference
@pytest.mark.parametrize("name", NAMES)
def test_points_add_up_to_the_course_table(name):
    results = grade_in_process(name, reference_namespace(name))
    totals = {b: t for b, (_, t) in by_blank(results).items()}
    assert totals == {b: float(p) for b, p in ASSIGNMENTS[name].blanks.items()}
    for r in results:  # every test judges one blank and has a name students can read
        assert r.name.startswith(f"{r.blank}: ") and len(r.name) > len(r.blank) + 10, r.name


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("name", NAMES)
def test_reference_gets_full_marks(name, secret):
    results = grade_in_process(name, reference_namespace(name), secret=secret)  # speed: see benchmarks/
    failed = [f"{r.name}: {r.output}" for r in results if r.score != r.max_score]
    assert not failed, "\n".join(failed)


@pytest.mark.parametrize("name", NAMES)
def test_catalog_covers_every_blank(name):
    cat = catalog(name)
    for blank in ASSIGNMENTS[name].blanks:
        assert sum(v.blank == blank for v in cat.CORRECT) >= 3, f"{blank}: fewer than 3 correct variants"
        assert sum(v.blank == blank for v in cat.MISTAKES) >= 2, f"{blank}: fewer than 2 mistakes"
    for v in cat.CORRECT + cat.MISTAKES:
        assert v.blank in ASSIGNMENTS[name].blanks, key(v)
    for v in cat.MISTAKES:
        assert v.hint, f"{key(v)}: a mistake needs the hint its feedback must contain"


# --------------------------------------------------------------------------------------------------- correct
@functools.lru_cache(maxsize=None)
def graded(name: str, which: str, secret: str = DEFAULT_SECRET) -> dict[str, list[TestResult]]:
    """The results of every variant in catalog list ``which`` of ``name``, graded in one run (cached).

    Mistakes are graded on every blank (they must cost marks only where they are); a correct variant only on its
    blank and the blanks that call it (the others are the reference's).
    """
    vs = variants(name, which)
    blanks = None if which == "MISTAKES" else {
        key(v): {v.blank} | {caller for caller, callees in CALLS.items() if v.blank in callees} for v in vs}
    return grade_many(name, namespaces(name, vs), secret, blanks)


def _correct_cases():
    return [pytest.param(name, v, id=f"{name}/{key(v)}") for name in NAMES for v in variants(name, "CORRECT")]


@pytest.mark.parametrize("name, variant", _correct_cases())
def test_correct_variant_gets_full_marks(name, variant):
    for secret in SECRETS:
        failed = [f"{r.name}: {r.output}" for r in graded(name, "CORRECT", secret)[key(variant)]
                  if r.score != r.max_score]
        assert not failed, f"secret {secret!r}:\n" + "\n".join(failed)


# -------------------------------------------------------------------------------------------------- mistakes
def _mistake_cases():
    return [pytest.param(name, v, id=f"{name}/{key(v)}") for name in NAMES for v in variants(name, "MISTAKES")]


@pytest.mark.parametrize("name, variant", _mistake_cases())
def test_mistake_loses_marks_with_its_hint(name, variant):
    results = graded(name, "MISTAKES")[key(variant)]
    marks = by_blank(results)
    score, total = marks[variant.blank]
    assert score < total, f"{key(variant)} got full marks"
    for blank, (s, t) in marks.items():
        if blank != variant.blank and variant.blank not in CALLS.get(blank, ()):
            assert s == t, f"{key(variant)} also lost marks on {blank}"
    outputs = [r.output for r in results if r.blank == variant.blank and r.score < r.max_score]
    assert any(mentions(out, variant.hint) for out in outputs), \
        f"{key(variant)}: no feedback contains {variant.hint!r}:\n" + "\n".join(outputs)


# ----------------------------------------------------------------------------------------- no free points
# Answers of the right type and shape that compute nothing earn 0 on their blank under the marking policy: a
# constant, zeros, ones, the argument returned unchanged, seeded random values, and for the training loops a loop
# that returns plausible losses (the first epoch's, repeated) without training. Every value test of their blank
# must fail, so that no edge, property or forbidden test counts (autograder.grading.policy).
_G = "    g = torch.Generator().manual_seed(0)\n"
TRIVIAL = {
    "01_tensors_autograd": {
        "row_max": {
            "constant": "def row_max(x):\n    n = x.shape[0]\n    return torch.full((n,), 0.5), torch.full((n,), 2)\n",
            "zeros": "def row_max(x):\n    return torch.zeros(x.shape[0]), torch.zeros(x.shape[0], dtype=torch.long)\n",
            "ones": "def row_max(x):\n    return torch.ones(x.shape[0]), torch.ones(x.shape[0], dtype=torch.long)\n",
            "argument": "def row_max(x):\n    return x\n",
            "random": "def row_max(x):\n" + _G + "    n, m = x.shape\n"
                      "    return torch.randn(n, generator=g), torch.randint(m, (n,), generator=g)\n",
        },
        "swap_and_flatten": {
            "constant": "def swap_and_flatten(x):\n    return torch.full((x.shape[1], x.shape[0] * x.shape[2]), 0.5)\n",
            "zeros": "def swap_and_flatten(x):\n    return torch.zeros(x.shape[1], x.shape[0] * x.shape[2])\n",
            "ones": "def swap_and_flatten(x):\n    return torch.ones(x.shape[1], x.shape[0] * x.shape[2])\n",
            "argument": "def swap_and_flatten(x):\n    return x\n",
            "random": "def swap_and_flatten(x):\n" + _G +
                      "    return torch.randn(x.shape[1], x.shape[0] * x.shape[2], generator=g)\n",
        },
        "drop_channel_dim": {
            "constant": "def drop_channel_dim(x):\n    return torch.full((x.shape[0], x.shape[2]), 0.5)\n",
            "zeros": "def drop_channel_dim(x):\n    return torch.zeros(x.shape[0], x.shape[2])\n",
            "ones": "def drop_channel_dim(x):\n    return torch.ones(x.shape[0], x.shape[2])\n",
            "argument": "def drop_channel_dim(x):\n    return x\n",
            "random": "def drop_channel_dim(x):\n" + _G + "    return torch.randn(x.shape[0], x.shape[2], generator=g)\n",
        },
        "double_backward": {
            "constant": "def double_backward(x):\n    return torch.full_like(x, 6.0)\n",
            "zeros": """
def double_backward(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf * 0).sum().backward()
    return leaf.grad
""",
            "ones": "def double_backward(x):\n    return torch.ones_like(x)\n",
            "argument": "def double_backward(x):\n    return x\n",
            "random": "def double_backward(x):\n" + _G + "    return torch.randn(x.shape, generator=g)\n",
        },
        "add_inplace": {
            "constant": "def add_inplace(x, y):\n    x.fill_(0.5)\n    return x\n",
            "zeros": "def add_inplace(x, y):\n    x.zero_()\n    return x\n",
            "ones": "def add_inplace(x, y):\n    x.fill_(1.0)\n    return x\n",
            "argument": "def add_inplace(x, y):\n    return x\n",
            "random": "def add_inplace(x, y):\n" + _G + "    x.copy_(torch.randn(x.shape, generator=g))\n    return x\n",
        },
    },
    "02_linear_regression": {
        "linear_model": {
            "constant": "def linear_model(x, w, b):\n    return x * 0 * w + 0 * b + 0.5\n",
            "zeros": "def linear_model(x, w, b):\n    return x * 0 * w + 0 * b\n",
            "ones": "def linear_model(x, w, b):\n    return x * 0 * w + 0 * b + 1\n",
            "argument": "def linear_model(x, w, b):\n    return x + 0 * (w + b)\n",
            "random": "def linear_model(x, w, b):\n" + _G +
                      "    return torch.randn(x.shape, generator=g) + 0 * (w + b)\n",
        },
        "mse_loss": {
            "constant": "def mse_loss(y_pred, y):\n    return ((y_pred - y) * 0).sum() + 1.5\n",
            "zeros": "def mse_loss(y_pred, y):\n    return ((y_pred - y) * 0).sum()\n",
            "ones": "def mse_loss(y_pred, y):\n    return ((y_pred - y) * 0).sum() + 1\n",
            "argument": "def mse_loss(y_pred, y):\n    return y_pred.reshape(-1)[0]\n",
            "random": "def mse_loss(y_pred, y):\n" + _G + "    return ((y_pred - y) * 0).sum() + torch.rand((), generator=g)\n",
        },
        "mse_grads": {
            "constant": "def mse_grads(x, y, w, b):\n    return torch.full((1,), 0.5), torch.full((1,), 0.5)\n",
            "zeros": "def mse_grads(x, y, w, b):\n    return torch.zeros(1), torch.zeros(1)\n",
            "ones": "def mse_grads(x, y, w, b):\n    return torch.ones(1), torch.ones(1)\n",
            "argument": "def mse_grads(x, y, w, b):\n    return w, b\n",
            "random": "def mse_grads(x, y, w, b):\n" + _G + "    return torch.randn(1, generator=g), torch.randn(1, generator=g)\n",
        },
        "train_linear": {
            "constant": "def train_linear(x, y, w, b, lr, epochs):\n    return [0.5] * epochs\n",
            "zeros": "def train_linear(x, y, w, b, lr, epochs):\n    return [0.0] * epochs\n",
            "ones": "def train_linear(x, y, w, b, lr, epochs):\n    return [1.0] * epochs\n",
            "argument": "def train_linear(x, y, w, b, lr, epochs):\n    return [float(lr)] * epochs\n",
            "random": "def train_linear(x, y, w, b, lr, epochs):\n" + _G +
                      "    return torch.rand(epochs, generator=g).tolist()\n",
            "losses without training": """
def train_linear(x, y, w, b, lr, epochs):
    loss = ((x * w + b - y) ** 2).mean().item()
    return [loss] * epochs
""",
        },
    },
    "03_logistic_regression": {
        "sigmoid": {
            "constant": "def sigmoid(z):\n    return torch.full_like(z, 0.5)\n",
            "zeros": "def sigmoid(z):\n    return torch.zeros_like(z)\n",
            "ones": "def sigmoid(z):\n    return torch.ones_like(z)\n",
            "argument": "def sigmoid(z):\n    return z\n",
            "random": "def sigmoid(z):\n" + _G + "    return torch.rand(z.shape, generator=g)\n",
        },
        "bce_loss": {
            "constant": "def bce_loss(p, y):\n    return (p * 0).sum() + 0.7\n",
            "zeros": "def bce_loss(p, y):\n    return (p * 0).sum()\n",
            "ones": "def bce_loss(p, y):\n    return (p * 0).sum() + 1\n",
            "argument": "def bce_loss(p, y):\n    return p.reshape(-1)[0]\n",
            "random": "def bce_loss(p, y):\n" + _G + "    return (p * 0).sum() + torch.rand((), generator=g)\n",
        },
        "logistic_forward": {
            "constant": "def logistic_forward(x, w, b):\n    return x[:, :1] * 0 + 0 * (w.sum() + b) + 0.5\n",
            "zeros": "def logistic_forward(x, w, b):\n    return x[:, :1] * 0 + 0 * (w.sum() + b)\n",
            "ones": "def logistic_forward(x, w, b):\n    return x[:, :1] * 0 + 0 * (w.sum() + b) + 1\n",
            "argument": "def logistic_forward(x, w, b):\n    return x[:, :1] + 0 * (w.sum() + b)\n",
            "random": "def logistic_forward(x, w, b):\n" + _G +
                      "    return torch.randn(x.shape[0], 1, generator=g) + 0 * (w.sum() + b)\n",
        },
        "train_logistic": {
            "constant": "def train_logistic(x, y, w, b, lr, epochs):\n    return [0.69] * epochs\n",
            "zeros": "def train_logistic(x, y, w, b, lr, epochs):\n    return [0.0] * epochs\n",
            "ones": "def train_logistic(x, y, w, b, lr, epochs):\n    return [1.0] * epochs\n",
            "argument": "def train_logistic(x, y, w, b, lr, epochs):\n    return [float(lr)] * epochs\n",
            "random": "def train_logistic(x, y, w, b, lr, epochs):\n" + _G +
                      "    return torch.rand(epochs, generator=g).tolist()\n",
            "losses without training": """
def train_logistic(x, y, w, b, lr, epochs):
    loss = nn.BCEWithLogitsLoss()(x @ w + b, y).item()
    return [loss] * epochs
""",
        },
        "accuracy": {
            "constant": "def accuracy(logits, y):\n    return 0.5\n",
            "zeros": "def accuracy(logits, y):\n    return 0.0\n",
            "ones": "def accuracy(logits, y):\n    return 1.0\n",
            "argument": "def accuracy(logits, y):\n    return logits\n",
            "random": "def accuracy(logits, y):\n" + _G + "    return torch.rand((), generator=g).item()\n",
        },
    },
}


@pytest.mark.parametrize("name", NAMES)
def test_trivial_answers_earn_nothing(name):
    assert set(TRIVIAL[name]) == set(ASSIGNMENTS[name].blanks)
    vs = [Variant(blank, kind, code) for blank, answers in TRIVIAL[name].items() for kind, code in answers.items()]
    for blank, answers in TRIVIAL[name].items():
        assert {"constant", "zeros", "ones", "argument", "random"} <= set(answers), blank
    results = grade_many(name, namespaces(name, vs), blanks={key(v): {v.blank} for v in vs})
    earned = []
    for v in vs:
        earned += [f"{key(v)}: {r.name}: {r.score:g}" for r in results[key(v)] if r.blank == v.blank and r.score > 0]
    assert not earned, "answers that compute nothing earned points:\n" + "\n".join(earned)
