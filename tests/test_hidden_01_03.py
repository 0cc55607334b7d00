"""The hidden tests of 01_tensors_autograd, 02_linear_regression and 03_logistic_regression, graded against the
reference solutions and the catalog of student answers (catalog/<stem>.py).

- the reference gets full marks, for several course secrets, quickly;
- every CORRECT variant gets full marks on every blank, for several secrets;
- every MISTAKE loses marks on its blank (and only there, unless the blank it breaks calls it), and a failing
  test of that blank says its hint;
- the points of every blank's tests add up to its points in autograder/course.py.

The variants of an assignment are graded together, in one pytest run of the hidden tests (the grading plugin
takes several notebooks at once), so that the whole file stays fast.
"""
from __future__ import annotations

import functools
import time
from typing import Any

import pytest

from autograder.catalog import Variant, load_catalog, variant_namespace
from conftest import ASSIGNMENTS, COURSE
from autograder.nbgrader_hidden import grade_in_process
from conftest import SECRET as DEFAULT_SECRET
from autograder.results import TestResult
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
    start = time.perf_counter()
    results = grade_in_process(name, reference_namespace(name), secret=secret)
    seconds = time.perf_counter() - start
    failed = [f"{r.name}: {r.output}" for r in results if r.score != r.max_score]
    assert not failed, "\n".join(failed)
    assert seconds < 3.0, f"grading the reference took {seconds:.2f} s"  # about 0.2-0.6 s on an idle machine


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
    assert any(variant.hint.lower() in out.lower() for out in outputs), \
        f"{key(variant)}: no feedback contains {variant.hint!r}:\n" + "\n".join(outputs)


# ----------------------------------------------------------------------------------------- no free points
# Answers of the right type and shape that compute nothing: every test of their blank must fail, also the ones
# that judge a side property (no forbidden API, inputs left alone, a Python float), which only a working answer earns.
TRIVIAL = {
    "01_tensors_autograd": {
        "row_max": "def row_max(x):\n    return torch.zeros(x.shape[0]), torch.zeros(x.shape[0], dtype=torch.long)\n",
        "swap_and_flatten": "def swap_and_flatten(x):\n    return torch.zeros(x.shape[1], x.shape[0] * x.shape[2])\n",
        "drop_channel_dim": "def drop_channel_dim(x):\n    return torch.zeros(x.shape[0], x.shape[2])\n",
        "double_backward": """
def double_backward(x):
    leaf = x.detach().clone().requires_grad_(True)
    (leaf * 0).sum().backward()
    return leaf.grad
""",
        "add_inplace": "def add_inplace(x, y):\n    return x\n",
    },
    "02_linear_regression": {
        "linear_model": "def linear_model(x, w, b):\n    return x * 0 * w + 0 * b\n",
        "mse_loss": "def mse_loss(y_pred, y):\n    return ((y_pred - y) * 0).sum()\n",
        "mse_grads": "def mse_grads(x, y, w, b):\n    return torch.zeros(1), torch.zeros(1)\n",
        "train_linear": "def train_linear(x, y, w, b, lr, epochs):\n    return [0.0] * epochs\n",
    },
    "03_logistic_regression": {
        "sigmoid": "def sigmoid(z):\n    return torch.full_like(z, 0.5)\n",
        "bce_loss": "def bce_loss(p, y):\n    return (p * 0).sum()\n",
        "logistic_forward": "def logistic_forward(x, w, b):\n    return x[:, :1] * 0 + 0 * (w.sum() + b)\n",
        "train_logistic": "def train_logistic(x, y, w, b, lr, epochs):\n    return [0.0] * epochs\n",
        "accuracy": "def accuracy(logits, y):\n    return 0.5\n",
    },
}


@pytest.mark.parametrize("name", NAMES)
def test_trivial_answers_earn_nothing(name):
    assert set(TRIVIAL[name]) == set(ASSIGNMENTS[name].blanks)
    vs = [Variant(blank, "trivial", code) for blank, code in TRIVIAL[name].items()]
    results = grade_many(name, namespaces(name, vs), blanks={key(v): {v.blank} for v in vs})
    for v in vs:
        earned = [f"{r.name}: {r.score:g}" for r in results[key(v)] if r.blank == v.blank and r.score > 0]
        assert not earned, f"{v.blank}: an answer that computes nothing earned points: {earned}"
