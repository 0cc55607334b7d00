"""Nothing a student receives holds a blank's answer.

Students get the kit's wheel (or sdist), the engine and the self-checks, and the release folders. None of it may
hold code that answers a blank: the self-checks compare with numbers precomputed from the references
(``tools/selfcheck_numbers.py``), or check properties. Every file is scanned for every blank's reference code,
normalised, by the rule of ``tests/answer_scan.py`` (its docstring): the whole body of the blank, or one of its
statements or expressions of at least ``MIN_NODES`` nodes equal but for one place, or a torch built-in that
computes the blank by itself. A finding is reported as ``file:line: answers <blank> (<rule>): `code```.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from answer_scan import MIN_NODES, Scanner
from conftest import COURSE, REPO
from dist_support import built_dist, sdist, wheel

# Findings in files this test does not own, left as they are and reported; each (file, blank, line of code) with
# why. A new finding anywhere, these files included, fails the test.
KNOWN = {
    ("autograder/sandbox/zygote_process.py", "mse_loss", "loss = torch.nn.functional.mse_loss(layer(x), torch.zeros(2))"):
        "the zygote's warm-up calls torch's built-in MSE",
    ("autograder/sandbox/zygote_process.py", "init_xavier", "torch.nn.init.xavier_uniform_(layer.weight)"):
        "the zygote's warm-up calls torch's built-in Xavier initialiser",
    ("autograder/sandbox/zygote_process.py", "bce_loss", "torch.nn.BCEWithLogitsLoss()(torch.zeros(2), torch.ones(2))"):
        "the zygote's warm-up calls torch's built-in binary cross-entropy",
    ("autograder/sandbox/zygote_process.py", "cross_entropy",
     "torch.nn.CrossEntropyLoss()(torch.zeros(2, 3), torch.tensor([0, 1]))"):
        "the zygote's warm-up calls torch's built-in cross-entropy",
    ("release/04_modules/modules.ipynb", "make_seq_net",
     "self.layer2 = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))"):
        "TwoBranchNet's given __init__ (part of the exercise) is make_seq_net's answer with ReLU for Tanh",
    ("release/05_multiclass/multiclass.ipynb", "cross_entropy",
     "print(logp[torch.arange(2), target])   # one entry per row: tensor([-0.1000, -0.3000])"):
        "a demo cell before the blank shows its indexing step, logp[torch.arange(N), target]",
    ("release/05_multiclass/multiclass.ipynb", "cross_entropy",
     "print(cross_entropy(logits, target).item(), nn.CrossEntropyLoss()(logits, target).item())"):
        "the demo cell after the blank compares the student's cross_entropy with the built-in",
}


@pytest.fixture(scope="module")
def scanner() -> Scanner:
    return Scanner(COURSE)


def unexpected(hits) -> list[str]:
    return [str(h) for h in hits if (h.path, h.blank, h.code) not in KNOWN]


def assert_no_answer(hits) -> None:
    found = unexpected(hits)
    if found:
        pytest.fail(f"{len(found)} shipped lines answer a blank:\n" + "\n".join(found), pytrace=False)


# ------------------------------------------------------------------------------------------------------ the rule
ANSWERS = [  # (code, the blank it answers): each must be found
    ("expected = x * w + b", "linear_model"),
    ("def _oracle(x, y, w, b):\n    ((x * w + b - y) ** 2).mean().backward()", "mse_loss"),
    ("expected = 1 / (1 + torch.exp(-z))", "sigmoid"),
    ("e = torch.exp(z - z.max(dim=1, keepdim=True).values)", "softmax"),
    ("want = torch.softmax(z, dim=-1)", "softmax"),
    ("want = nn.CrossEntropyLoss()(logits, target)", "cross_entropy"),
    ("for _ in range(EPOCHS):\n    loss = ((x * w + b - y) ** 2).mean()\n    loss.backward()\n"
     "    with torch.no_grad():\n        w -= LR * w.grad\n        b -= LR * b.grad", "train_linear"),
    ("opt = torch.optim.SGD([w, b], lr=LR)", "train_logistic"),
    ("torch.save(source.state_dict(), path)", "save_weights"),
    ("net.load_state_dict(torch.load(path, weights_only=True))", "load_weights"),
    ("a = math.sqrt(6.0 / (fan_in + fan_out))", "init_xavier"),
    ("expected = x.permute(1, 0, 2).reshape(3, 8)", "swap_and_flatten"),
    ("def helper(t):\n    return t.squeeze(1)", "drop_channel_dim"),  # a whole body, however small
    ("h = -(torch.special.xlogy(p, p) + torch.special.xlogy(1 - p, 1 - p)) / math.log(2)", "binary_entropy"),
]
NOT_ANSWERS = [  # code that answers nothing: imports, returns, plain calls, numbers, the student's own functions
    "import torch\nfrom torch import nn",
    "def f(net):\n    return net",
    "out = fn(x)",
    "out = x.squeeze(1)",
    "state = torch.load(path, weights_only=True)",
    "a = math.sqrt(6 / (300 + 100))",
    "expected = torch.tensor([[1.5], [3.5], [-2.5], [0.5], [5.5]])",
    "print(mse_loss(linear_model(x_train, w, b), y_train))",
    "expected = x * x + b",  # not x * w + b: placeholders are positional
    "args = [a.detach().clone().requires_grad_(True) if i in wanted else a for i, a in enumerate(args)]",
    "for name, module in net.named_modules():\n"
    "    if isinstance(module, nn.Linear):\n        assert module.bias is None",
]


@pytest.mark.parametrize("code, blank", ANSWERS, ids=[b for _, b in ANSWERS])
def test_the_rule_finds_an_answer(scanner, code, blank):
    hits = scanner.scan_source(code, "example.py")
    assert blank in {h.blank for h in hits}, f"{code!r} should be found to answer {blank}: {hits}"
    assert all(h.where.startswith("example.py:") for h in hits)


@pytest.mark.parametrize("code", NOT_ANSWERS)
def test_the_rule_leaves_trivial_code_alone(scanner, code):
    assert scanner.scan_source(code, "example.py") == []


def test_every_blank_has_a_reference_to_look_for(scanner):
    refs = {r.blank: r for r in scanner.refs}
    assert set(refs) == {b for a in COURSE.assignments.values() for b in a.blanks}
    for blank, ref in refs.items():
        assert ref.bodies and all(ref.bodies), f"{blank}: no body to look for"
        assert all(f.node.size >= MIN_NODES for f in ref.fragments)
    # TwoBranchNet's __init__ is given by its release cell: only its forward is an answer
    assert all("__init__" not in f.text and "nn.Linear(n_in, n_out)" not in f.text
               for f in refs["TwoBranchNet"].fragments)


# ----------------------------------------------------------------------------------------- what students receive
def _kit_sources() -> list[str]:
    """The tracked Python files of the packages the kit ships (pyproject.toml's [tool.setuptools] packages)."""
    found = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    tops = {p.split(".")[0] for p in found["include"]}
    tracked = subprocess.run(["git", "ls-files", "-z", "--", *tops], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.split("\0")
    return sorted(t for t in tracked if t.endswith(".py"))


def test_the_kit_in_the_checkout_holds_no_answer(scanner):
    """The kit's sources as they are in the checkout (fast; the wheel and sdist below are what ships)."""
    sources = _kit_sources()
    assert "autograder/selfcheck/declared.py" in sources and "autograder/cli/__init__.py" in sources
    assert_no_answer([h for name in sources for h in scanner.scan_file(name, (REPO / name).read_bytes())])


def test_the_release_folders_hold_no_answer(scanner):
    """release/*/: the notebooks' code cells and any Python or text file beside them."""
    assert_no_answer(scanner.scan_folder(REPO / "release", REPO))


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_the_distribution_holds_no_answer(scanner, tmp_path_factory, kind):
    dist = built_dist(tmp_path_factory)
    archive = wheel(dist) if kind == "wheel" else sdist(dist)
    assert_no_answer(scanner.scan_archive(archive))
    scanned = [n for n in _names(archive) if n.endswith("autograder/selfcheck/declared.py")]
    assert scanned, "the self-check runtime is not in the archive: nothing was scanned"


def _names(archive: Path) -> list[str]:
    import tarfile
    import zipfile

    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as z:
            return z.namelist()
    with tarfile.open(archive) as t:
        return t.getnames()


# ------------------------------------------------------------------------------------- the numbers that replaced code
def _numbers_tool():
    spec = importlib.util.spec_from_file_location("selfcheck_numbers", REPO / "tools" / "selfcheck_numbers.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("selfcheck_numbers", module)
    spec.loader.exec_module(module)
    return module


def test_the_self_checks_numbers_are_the_references():
    """Every number a self-check compares with is what the reference solution (or, for a hint, the mistake it names)
    computes on the check's fixed inputs: ``tools/selfcheck_numbers.py --check``."""
    problems = _numbers_tool().check()
    assert not problems, "\n".join(problems)

