"""Red team: answers that make their objects lie about what they are, and answers with right values that break a
rule of the exercise, graded for real (the CLI, its sandbox) at every isolation level this host has.

Two classes of fault, each of which earned full marks before:

- **structure reported by the sandbox decided what was judged.** A notebook that swaps the class of the Linear
  layers it was given, or replaces ``nn.Module.named_modules`` / ``named_parameters`` / ``state_dict`` in its own
  process, made the hidden tests list no layer and no parameter to judge, so an initialiser that did nothing, or a
  loader that replaced every Parameter, passed. The trusted side now lists what it judges from the network it sent
  and fails a report that does not match it; the sandbox reads modules with torch's own methods.
- **rules of the spec that no test checked**: the caller's storage for an in-place add (``x.data = x + y`` keeps
  the object), backward called twice (one pass doubled by hand), gradients that reach every parameter a forward
  pass uses (a branch or an input detached), forbidden functions reached where torch functions are not recorded
  (``torch._C.DisableTorchFunction``, the mode stack emptied).

Each attack must lose marks on its blank, with feedback that says why; honest students in the same batch keep
full marks.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from autograder.authoring.fill import filled_release, write
from autograder.sandbox.hostprobe import ISOLATING
from conftest import ASSIGNMENTS, COURSE
import containerlike

pytestmark = pytest.mark.slow

# (assignment, blank, attack) -> (cell, a phrase its feedback must hold)
ATTACKS: dict[tuple[str, str, str], tuple[str, str]] = {
    # -- structure reported by the sandbox -----------------------------------------------------------------------
    ("06_initialization", "init_linear_normal", "linear_layers_disguised"): ("""
        from torch import nn
        class Disguised(nn.Linear):
            pass
        def init_linear_normal(net, std):
            for m in net.modules():
                if type(m) is nn.Linear:
                    m.__class__ = Disguised  # nothing initialised, and no layer says it is an nn.Linear
            return net
        """, "no longer has the same layers"),
    ("06_initialization", "init_xavier", "named_modules_emptied"): ("""
        from torch import nn
        def init_xavier(net):
            nn.Module.named_modules = lambda self, *args, **kwargs: iter([("", self)])
            return net
        """, "no longer has the same layers"),
    ("06_initialization", "init_linear_normal", "new_parameters_hidden"): ("""
        from torch import nn
        def init_linear_normal(net, std):
            for m in list(net.modules()):
                if isinstance(m, nn.Linear):  # right values, in new Parameter objects an optimizer never sees
                    m.weight = nn.Parameter(torch.randn(m.weight.shape) * std)
                    if m.bias is not None:
                        m.bias = nn.Parameter(torch.zeros(m.bias.shape))
            nn.Module.named_parameters = lambda self, *args, **kwargs: iter(())
            return net
        """, "new parameter objects"),
    ("04_modules", "load_weights", "new_parameters_hidden"): ("""
        from torch import nn
        def load_weights(net, path):
            net.load_state_dict(torch.load(path, weights_only=True), assign=True)
            nn.Module.named_parameters = lambda self, *args, **kwargs: iter(())
            return net
        """, "new parameter objects"),
    ("04_modules", "save_weights", "state_dict_forged"): ("""
        from torch import nn
        def save_weights(net, path):
            torch.save(net.state_dict(), path)
            with torch.no_grad():
                for p in net.parameters():
                    p.zero_()  # the caller's network is wiped; its state_dict is made to say otherwise
            kept = {k: v.clone() for k, v in torch.load(path, weights_only=True).items()}
            net.state_dict = lambda *args, **kwargs: kept
        """, "changed the network"),
    # -- rules of the spec ---------------------------------------------------------------------------------------
    ("01_tensors_autograd", "add_inplace", "storage_replaced"): ("""
        def add_inplace(x, y):
            x.data = x + y  # the same object, another storage
            return x
        """, "storage"),
    ("01_tensors_autograd", "double_backward", "one_pass_doubled"): ("""
        def double_backward(x):
            leaf = x.detach().clone().requires_grad_(True)
            (leaf ** 2 + 3 * leaf).sum().backward()
            return leaf.grad * 2
        """, "1 backward pass"),
    ("02_linear_regression", "linear_model", "w_detached"): ("""
        def linear_model(x, w, b):
            return x * w.detach() + b
        """, "no gradient reaches w"),
    ("02_linear_regression", "mse_loss", "gradient_cut"): ("""
        def mse_loss(y_pred, y):
            return ((y_pred.detach() - y) ** 2).mean() + 0 * y_pred.sum()
        """, "the gradient that reaches y_pred"),
    ("02_linear_regression", "mse_grads", "autograd_unrecorded"): ("""
        def mse_grads(x, y, w, b):
            with torch._C.DisableTorchFunction():
                w2, b2 = w.clone().requires_grad_(True), b.clone().requires_grad_(True)
                ((x * w2 + b2 - y) ** 2).mean().backward()
                return w2.grad.detach(), b2.grad.detach()
        """, "backward pass"),
    ("02_linear_regression", "train_linear", "gradients_by_hand"): ("""
        def train_linear(x, y, w, b, lr, epochs):
            losses = []
            for _ in range(epochs):  # the right trajectory, with the closed-form gradients instead of backward
                with torch.no_grad():
                    losses.append(mse_loss(linear_model(x, w, b), y).item())
                    dw, db = mse_grads(x, y, w, b)
                    w -= lr * dw
                    b -= lr * db
            return losses
        """, "0 backward passes"),
    ("03_logistic_regression", "logistic_forward", "w_detached"): ("""
        def logistic_forward(x, w, b):
            return x @ w.detach() + b
        """, "no gradient reaches w"),
    ("03_logistic_regression", "sigmoid", "mode_stack_emptied"): ("""
        def sigmoid(z):
            while torch._C._len_torch_function_stack():
                torch._C._pop_torch_function_stack()
            return torch.sigmoid(z)
        """, "sigmoid"),
    ("04_modules", "TwoBranchNet", "branch_detached"): ("""
        class TwoBranchNet(nn.Module):
            def __init__(self, n_in, n_hidden, n_out):
                super().__init__()
                self.layer1 = nn.Linear(n_in, n_out)
                self.layer2 = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))

            def forward(self, x):
                return self.layer1(x) + self.layer2(x).detach()
        """, "no gradient reaches self.layer2"),
    ("05_multiclass", "softmax", "torch_function_disabled"): ("""
        def softmax(z):
            with torch._C.DisableTorchFunction():
                return torch.softmax(z, dim=-1)
        """, "forbidden"),
}


def student(assignment: str, blank: str, attack: str) -> str:
    return f"attack_{blank}_{attack}"


@pytest.fixture(scope="module", params=ISOLATING)
def graded(request, tmp_path_factory):
    level = request.param
    launcher = containerlike.launcher_for(level)
    root = tmp_path_factory.mktemp("structure")
    submitted, out = root / "submitted", root / "graded"
    for name in {a for a, _, _ in ATTACKS}:
        a = ASSIGNMENTS[name]
        write(filled_release(COURSE, a), submitted / "honest" / a.name / a.notebook)
    for (name, blank, attack), (code, _) in ATTACKS.items():
        a = ASSIGNMENTS[name]
        cell = textwrap.dedent(code).strip() + "\n"
        write(filled_release(COURSE, a, {blank: cell}), submitted / student(name, blank, attack) / a.name / a.notebook)
    done = subprocess.run([*launcher, sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out),
                           "--jobs", "2", "--quiet", "--no-report", "--secret", "structure-secret",
                           "--exact-isolation", level], capture_output=True, text=True, timeout=900)
    results = {(p.parent.parent.name, p.parent.name): json.loads(p.read_text()) for p in out.glob("*/*/*.json")}
    return {"done": done, "results": results, "level": level}


def marks(result: dict, blank: str) -> tuple[float, float]:
    tests = [t for t in result["tests"] if blank in t["tags"]]
    return sum(t["score"] for t in tests), sum(t["max_score"] for t in tests)


def test_batch_completes_at_the_level(graded):
    assert graded["done"].returncode == 0, graded["done"].stderr[-3000:]
    assert {r["extra_data"]["isolation"] for r in graded["results"].values()} == {graded["level"]}


@pytest.mark.parametrize("name", sorted({a for a, _, _ in ATTACKS}))
def test_honest_student_keeps_full_marks(graded, name):
    result = graded["results"][("honest", name)]
    assert result["score"] == result["max_score"] == ASSIGNMENTS[name].max_score, json.dumps(result)[:3000]


@pytest.mark.parametrize("name, blank, attack", list(ATTACKS))
def test_attack_loses_marks_and_is_told_why(graded, name, blank, attack):
    result = graded["results"][(student(name, blank, attack), name)]
    got, out_of = marks(result, blank)
    assert got < out_of, json.dumps(result, indent=1)[:4000]
    phrase = ATTACKS[(name, blank, attack)][1]
    said = " ".join(" ".join(t["output"] for t in result["tests"] if blank in t["tags"]).lower().split())
    assert phrase.lower() in said, said[:3000]
