"""The numbers the students' self-checks compare with, computed once from the reference solutions.

    .venv/bin/python tools/selfcheck_numbers.py            # print every module's numbers as Python literals
    .venv/bin/python tools/selfcheck_numbers.py --check    # compare them with those written in the self-checks
    .venv/bin/python tools/selfcheck_numbers.py --write    # write them there (each NAME = ... line, comments kept)

The hand-written self-checks of the six assignments (``source/<assignment>/<stem>_selfcheck.py``, released beside
each notebook) reach every student, so they hold no code
that answers a blank (``tests/test_no_answers.py``): where a check needs an expected value it carries the number,
computed here on the check's own fixed inputs (its input helpers, ``_cube()``, ``_train_problem()``..., and its
written-out inputs, imported from the module) by the reference in ``solutions/<stem>.py``, or, for a hint that
recognises a known mistake, by that mistake written out here. Run ``--write`` when an input or a reference changes;
``tests/test_no_answers.py`` runs the comparison (:func:`check`).
"""
from __future__ import annotations

import ast
import math
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import solutions.initialization as ref_init  # noqa: E402
import solutions.linear_regression as ref_lin  # noqa: E402
import solutions.logistic_regression as ref_log  # noqa: E402
import solutions.modules as ref_mod  # noqa: E402
import solutions.multiclass as ref_mc  # noqa: E402
import solutions.tensors_autograd as ref_ten  # noqa: E402
from autograder.selfcheck import load_module  # noqa: E402


def selfcheck_path(stem: str) -> Path:
    """The hand-written self-check of the assignment whose notebook is ``<stem>.ipynb``, in its source folder."""
    return next((REPO / "source").glob(f"*/{stem}_selfcheck.py"))


sc_init, sc_lin, sc_log, sc_mod, sc_mc, sc_ten = (load_module(selfcheck_path(stem)) for stem in (
    "initialization", "linear_regression", "logistic_regression", "modules", "multiclass", "tensors_autograd"))


# ------------------------------------------------------------------------------------------- 01_tensors_autograd
def tensors_autograd() -> dict[str, Any]:
    x = sc_ten._matrix()
    values, indices = ref_ten.row_max(x)
    leaf = sc_ten._vector().clone().requires_grad_(True)
    (leaf**2 + 3 * leaf).sum().backward()  # the mistake: one backward pass
    return {
        "ROW_MAX_VALUES": values,
        "ROW_MAX_INDICES": indices,
        "ROW_MIN_VALUES": x.min(dim=1).values,  # the mistake: each row's minimum
        "DROPPED": ref_ten.drop_channel_dim(sc_ten._channels(3, 4)),
        "DOUBLE_BACKWARD": ref_ten.double_backward(sc_ten._vector()),
        "ONE_BACKWARD": leaf.grad,
    }


# ------------------------------------------------------------------------------------------ 02_linear_regression
def _train_linear_accumulating(x, y, w, b, lr, epochs):
    """The mistake: train_linear without zeroing the gradients."""
    losses = []
    for _ in range(epochs):
        loss = ref_lin.mse_loss(ref_lin.linear_model(x, w, b), y)
        losses.append(loss.item())
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
    return losses


def linear_regression() -> dict[str, Any]:
    x, w, b = sc_lin._small()
    y_pred, y = sc_lin._loss_grad_problem()
    y_pred.requires_grad_(True)
    ref_lin.mse_loss(y_pred, y).backward()
    gx, gy, gw, gb = sc_lin._grad_problem()
    gw.requires_grad_(True)
    gb.requires_grad_(True)
    ref_lin.mse_loss(ref_lin.linear_model(gx, gw, gb), gy).backward()  # autograd, the oracle of mse_grads
    out = {
        "MODEL_VALUES": ref_lin.linear_model(x, w, b),
        "MODEL_NO_BIAS": ref_lin.linear_model(x, w, torch.zeros(1)),  # the mistake: no bias
        "MODEL_MINUS_B": ref_lin.linear_model(x, w, -b),  # the mistake: b subtracted
        "LOSS_GRAD": y_pred.grad,
        "GRAD_DW": gw.grad,
        "GRAD_DB": gb.grad,
    }
    for name, train in (("TRAIN", ref_lin.train_linear), ("TRAIN_ACCUMULATING", _train_linear_accumulating)):
        tx, ty, tw, tb = sc_lin._train_problem()
        out[f"{name}_LOSSES"] = train(tx, ty, tw, tb, sc_lin.LR, sc_lin.EPOCHS)
        if name == "TRAIN":
            out["TRAIN_W"], out["TRAIN_B"] = tw.detach(), tb.detach()
    return out


# ---------------------------------------------------------------------------------------- 03_logistic_regression
def _train_logistic_variant(variant: str) -> Callable:
    """The mistakes: gradients never zeroed, or a sigmoid before BCEWithLogitsLoss."""

    def train_logistic(x, y, w, b, lr, epochs):
        criterion = nn.BCEWithLogitsLoss()
        optimizer = torch.optim.SGD([w, b], lr=lr)
        losses = []
        for _ in range(epochs):
            logits = ref_log.logistic_forward(x, w, b)
            # torch.sigmoid, as a student would: the reference's sigmoid has no gradient at exactly z = 0
            loss = criterion(torch.sigmoid(logits) if variant == "double_sigmoid" else logits, y)
            losses.append(loss.item())
            if variant != "no_zero_grad":
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return losses

    return train_logistic


def logistic_regression() -> dict[str, Any]:
    z = sc_log._z()
    p, y = sc_log._pp()
    x, w, b = sc_log._lin()
    logits = ref_log.logistic_forward(x, w, b)
    out = {
        "SIGMOID_VALUES": ref_log.sigmoid(z),
        "SIGMOID_OF_MINUS_Z": ref_log.sigmoid(-z),  # the mistake: e^z for e^(-z)
        "BCE_VALUE": ref_log.bce_loss(p, y),
        "BCE_SWAPPED": ref_log.bce_loss(p, 1 - y),  # the mistake: the two terms swapped
        "LOGITS": logits,
        "LOGITS_NO_BIAS": ref_log.logistic_forward(x, w, torch.zeros(1)),  # the mistake: no bias
        "PROBABILITIES": ref_log.sigmoid(logits),  # the mistake: a sigmoid applied
    }
    for name, train in (("TRAIN", ref_log.train_logistic),
                        ("TRAIN_ACCUMULATING", _train_logistic_variant("no_zero_grad")),
                        ("TRAIN_DOUBLE_SIGMOID", _train_logistic_variant("double_sigmoid"))):
        tx, ty, tw, tb = sc_log._train_problem()
        out[f"{name}_LOSSES"] = train(tx, ty, tw, tb, sc_log.LR, sc_log.EPOCHS)
        if name == "TRAIN":
            out["TRAIN_W"], out["TRAIN_B"] = tw.detach(), tb.detach()
    return out


# ------------------------------------------------------------------------------------------------------ 04_modules
def modules() -> dict[str, Any]:
    net = ref_mod.TwoBranchNet(*sc_mod.TWO_BRANCH_SIZES)
    sc_mod._set_parameters(net, sc_mod.TWO_BRANCH_PARAMETERS)
    x = torch.tensor(sc_mod.TWO_BRANCH_X)
    with torch.no_grad():
        one, two = net.layer1(x), net.layer2(x)
        return {
            "TWO_BRANCH_OUT": net(x),
            "TWO_BRANCH_LAYER1": one,  # the mistakes: one branch only, or their product
            "TWO_BRANCH_LAYER2": two,
            "TWO_BRANCH_PRODUCT": one * two,
        }


# --------------------------------------------------------------------------------------------------- 05_multiclass
def multiclass() -> dict[str, Any]:
    logits, target = sc_mc._ce_problem()
    large_logits, large_target = sc_mc._ce_large_problem()
    log_p = torch.log_softmax(logits, dim=1)
    n = logits.shape[0]
    return {
        "SOFTMAX_1D": ref_mc.softmax(torch.tensor(sc_mc.SOFTMAX_1D_Z)),
        "SOFTMAX_3D": ref_mc.softmax(torch.tensor(sc_mc.SOFTMAX_3D_Z)),
        "CE_VALUE": ref_mc.cross_entropy(logits, target),
        "CE_LARGE_VALUE": ref_mc.cross_entropy(large_logits, large_target),
        # the mistakes
        "CE_MATRIX": -log_p[:, target].mean(),
        "CE_SUM": -log_p[torch.arange(n), target].sum(),
        "CE_POSITIVE": log_p[torch.arange(n), target].mean(),
        "CE_NO_LOG": -ref_mc.softmax(logits)[torch.arange(n), target].mean(),
    }


# ---------------------------------------------------------------------------------------------- 06_initialization
def initialization() -> dict[str, Any]:
    """Per Linear layer of the checks' network, (in, out) -> [a, fan_in + fan_out], a = sqrt(6 / (fan_in + fan_out))
    the bound of Xavier's U(-a, a) as the spec defines it, checked against the reference: the weights init_xavier
    draws for that layer lie within (-a, a) and reach past 0.95 a."""
    bounds = {}
    for layer in (m for m in sc_init._Mixed().modules() if isinstance(m, nn.Linear)):
        fans = layer.in_features + layer.out_features
        big = nn.Linear(layer.in_features, layer.out_features)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            ref_init.init_xavier(nn.Sequential(big))
        bound = math.sqrt(6.0 / fans)
        top = big.weight.abs().max().item()
        assert 0.95 * bound < top <= bound * (1 + 1e-6), "the reference's Xavier bound is not sqrt(6 / fans)"
        bounds[(layer.in_features, layer.out_features)] = [bound, fans]
    return {"XAVIER_BOUNDS": bounds}


NUMBERS = {
    "tensors_autograd": (tensors_autograd, sc_ten),
    "linear_regression": (linear_regression, sc_lin),
    "logistic_regression": (logistic_regression, sc_log),
    "modules": (modules, sc_mod),
    "multiclass": (multiclass, sc_mc),
    "initialization": (initialization, sc_init),
}


# ----------------------------------------------------------------------------------------------------- output
def plain(value: Any) -> Any:
    """Tensors as nested lists of Python numbers; a float that a float32 holds exactly (a float32 tensor's value,
    a loss from ``.item()``) as its shortest float32 repr, other floats (computed in float64) as they are."""
    if isinstance(value, torch.Tensor):
        return plain(value.detach().tolist())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and float(np.float32(value)) == value:
        return float(str(np.float32(value)))
    return value


def _close(written: Any, computed: Any) -> bool:
    if isinstance(written, dict) or isinstance(computed, dict):
        return isinstance(written, dict) and isinstance(computed, dict) and written.keys() == computed.keys() and \
            all(_close(written[k], computed[k]) for k in written)
    try:
        a, b = torch.tensor(written, dtype=torch.float64), torch.tensor(computed, dtype=torch.float64)
    except (TypeError, ValueError):
        return written == computed
    return a.shape == b.shape and torch.allclose(a, b, rtol=1e-6, atol=1e-9)


def check() -> list[str]:
    """The numbers written in the self-check modules that differ from those computed now (empty: all agree)."""
    problems = []
    for stem, (compute, module) in NUMBERS.items():
        with torch.random.fork_rng(devices=[]):
            computed = {name: plain(value) for name, value in compute().items()}
        for name, value in computed.items():
            if not hasattr(module, name):
                problems.append(f"{selfcheck_path(stem).relative_to(REPO)} has no {name} (= {value!r})")
            elif not _close(getattr(module, name), value):
                problems.append(f"{selfcheck_path(stem).relative_to(REPO)}: {name} = {getattr(module, name)!r}, "
                                f"but the reference gives {value!r}")
    return problems


def _format(name: str, value: Any, comment: str, width: int = 120) -> list[str]:
    """``NAME = value  # comment`` on one line, or when too long the comment on a line above and the value wrapped
    to ``width`` (its items packed on lines, nested lists wrapped the same way)."""
    line = f"{name} = {value!r}" + (f"  # {comment}" if comment else "")
    if len(line) <= width:
        return [line]
    lines = _wrap(value, f"{name} = ", len(name) + 3, width)
    return ([f"# {comment}"] if comment else []) + lines


def _wrap(value: Any, prefix: str, indent: int, width: int) -> list[str]:
    """``prefix`` + ``value``'s repr on as many lines as needed, continuation lines indented to ``indent``."""
    if len(prefix) + len(repr(value)) <= width or not isinstance(value, (list, dict)) or not value:
        return [prefix + repr(value)]
    opening, closing = ("[", "]") if isinstance(value, list) else ("{", "}")
    entries = [("", v) for v in value] if isinstance(value, list) else [(f"{k!r}: ", v) for k, v in value.items()]
    inner = indent + 1
    lines, current = [], prefix + opening
    for k, (key, v) in enumerate(entries):
        end = ", " if k < len(entries) - 1 else closing
        piece = key + repr(v) + end
        start = current if current.strip() else " " * inner
        if len(start) + len(piece.rstrip()) <= width:
            current = start + piece
            continue
        if current.strip() and current != prefix + opening:
            lines.append(current.rstrip())
            current = " " * inner
        if len(current) + len(piece.rstrip()) <= width:
            current += piece
            continue
        sub = _wrap(v, current + key, inner + len(key), width)
        lines += sub[:-1]
        current = sub[-1] + end
    return lines + [current.rstrip()]


def write() -> list[str]:
    """Write the computed numbers over the ``NAME = ...`` assignments of each self-check module; the names done."""
    done = []
    for stem, (compute, _) in NUMBERS.items():
        path = selfcheck_path(stem)
        lines = path.read_text(encoding="utf-8").splitlines()
        with torch.random.fork_rng(devices=[]):
            computed = {name: plain(value) for name, value in compute().items()}
        spans = {}
        for node in ast.parse("\n".join(lines)).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) \
                    and node.targets[0].id in computed:
                last = lines[node.end_lineno - 1]
                comment = last[node.end_col_offset:].strip().lstrip("#").strip()
                spans[node.targets[0].id] = (node.lineno, node.end_lineno, comment)
        for name, (first, last, comment) in sorted(spans.items(), key=lambda kv: -kv[1][0]):
            lines[first - 1:last] = _format(name, computed[name], comment)
            done.append(f"{stem}.{name}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return done


def main(argv: list[str]) -> int:
    if "--write" in argv:
        print("written:", ", ".join(write()))
        return 0
    if "--check" in argv:
        problems = check()
        print("\n".join(problems) or "every self-check number agrees with the references")
        return 1 if problems else 0
    for stem, (compute, _) in NUMBERS.items():
        print(f"# {selfcheck_path(stem).relative_to(REPO)}")
        with torch.random.fork_rng(devices=[]):
            for name, value in compute().items():
                print(f"{name} = {plain(value)!r}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
