"""The hidden tests of 04_modules, 05_multiclass and 06_initialization, judged on the catalogs of answers
(catalog/<stem>.py) and the reference solutions.

- the reference earns full marks, for several course secrets, quickly;
- every CORRECT variant earns its blank's full marks, for several secrets;
- every MISTAKE loses marks on its blank and only there (for two secrets), and a failing test of that blank
  says its hint, with "Hint:" at the start of its own line; one that uses a forbidden function earns 0;
- answers that compute nothing (a constant, zeros, ones, the argument returned unchanged, random values, a module
  whose forward returns zeros) earn exactly 0 on every blank under the marking policy;
- the points of every blank's tests add up to autograder/grading/course.py, every blank has value tests, and each test
  says what it judges (kind);
- every boundary of the spec named in tests/boundaries_04_06.py is a hidden test of that blank;
- the statistical checks of 06 accept correct initialisations for many seeds and reject the wrong
  distributions (these checks are called directly, on many samples, without the grader).

The variants of an assignment are graded together in one pytest run of the hidden tests (the grading plugin
takes several notebooks at once), so that the whole file stays fast.
"""
from __future__ import annotations

import functools
import importlib.util
import math
import tempfile
import time

import pytest
import torch
from torch import nn

from autograder.authoring.catalog import Variant, variant_namespace
from autograder.grading.compare import mentions
from conftest import ASSIGNMENTS, COURSE
from autograder.platforms.nbgrader_hidden import grade_in_process
from conftest import SECRET as DEFAULT_SECRET
from autograder.grading.results import TestResult as Result
from boundaries_04_06 import BOUNDARIES
from catalog_support import by_blank, grade_many, key, reference, reference_namespace, variants

NAMES = ["04_modules", "05_multiclass", "06_initialization"]
SECRETS = [DEFAULT_SECRET, "fall-2026", "spring-2027", "k3y-without-meaning", "0"]
SCRATCH = tempfile.mkdtemp(prefix="hidden_04_06_")  # save_weights / load_weights write relative paths


@pytest.fixture(autouse=True)
def in_scratch(monkeypatch):
    monkeypatch.chdir(SCRATCH)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small tensors: waking torch's thread pool costs more than the work (and 3x the time on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def failed(results: list[Result], blank: str | None = None) -> list[str]:
    return [f"{r.name}: {r.output}" for r in results if r.score != r.max_score and blank in (None, r.blank)]


@functools.lru_cache(maxsize=None)
def graded(name: str, which: str, secret: str = DEFAULT_SECRET) -> dict[str, list[Result]]:
    """Every variant of catalog list ``which`` graded in one run (cached): mistakes with the first secret on
    every blank (they must cost marks only on their own), otherwise each variant on its blank only."""
    vs = variants(name, which)
    namespaces = {key(v): variant_namespace(reference(name), v) for v in vs}
    assert len(namespaces) == len(vs), "two variants of a blank share a name"
    blanks = None if which == "MISTAKES" and secret == DEFAULT_SECRET else {key(v): {v.blank} for v in vs}
    return grade_many(name, namespaces, secret, blanks)


# ------------------------------------------------------------------------------------------------ reference


@pytest.mark.parametrize("name", NAMES)
def test_points_add_up_to_the_course_table(name):
    results = grade_in_process(name, reference_namespace(name))
    totals = {b: t for b, (_, t) in by_blank(results).items()}
    assert totals == {b: float(p) for b, p in ASSIGNMENTS[name].blanks.items()}
    names = [r.name for r in results]
    assert len(set(names)) == len(names), "two tests have the same name"
    for r in results:  # every test judges one blank and has a name students can read
        assert r.name.startswith(f"{r.blank}: ") and len(r.name) > len(r.blank) + 10, r.name


FORBIDDEN = {"softmax", "cross_entropy"}  # the blanks whose exercise forbids functions (exercises.md)


@pytest.mark.parametrize("name", NAMES)
def test_every_test_says_what_it_judges(name):
    results = grade_in_process(name, reference_namespace(name))
    for blank in ASSIGNMENTS[name].blanks:
        kinds = [r.kind for r in results if r.blank == blank]
        assert kinds.count("value") >= 2, f"{blank}: fewer than two value tests"
        assert kinds.count("edge") >= 1, f"{blank}: no edge test"
        assert ("forbidden" in kinds) == (blank in FORBIDDEN), f"{blank}: forbidden test {kinds}"
    for r in results:
        assert len(r.name) <= 110, f"a long test name: {r.name}"


@pytest.mark.parametrize("name", NAMES)
def test_every_boundary_is_a_hidden_test(name):
    module = hidden(name)
    for blank in ASSIGNMENTS[name].blanks:
        assert BOUNDARIES.get(blank), f"{blank}: no boundaries listed"
        for words, test in BOUNDARIES[blank]:
            function = getattr(module, test, None)
            assert function is not None, f"{blank}: {words!r} names {test}, which is not a test of {name}"
            assert any(m.name == "blank" and m.args[0] == blank for m in getattr(function, "pytestmark", [])), \
                f"{blank}: {test} judges another blank"


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("name", NAMES)
def test_reference_gets_full_marks(name, secret):
    ns = reference_namespace(name)
    start = time.perf_counter()
    results = grade_in_process(name, ns, secret=secret)
    seconds = time.perf_counter() - start
    assert not failed(results), "\n".join(failed(results))
    assert seconds < 2.0, f"grading the reference took {seconds:.2f} s"


def test_grading_leaves_no_files_behind(tmp_path, monkeypatch):
    """Under nbgrader the hidden tests run in the notebook's folder: the files they write must not stay there."""
    monkeypatch.chdir(tmp_path)
    failing_load = next(v for v in variants("04_modules", "MISTAKES") if v.name == "returns nothing")
    for name in NAMES:
        grade_in_process(name, reference_namespace(name))
    grade_in_process("04_modules", variant_namespace(reference("04_modules"), failing_load))
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", NAMES)
def test_catalog_covers_every_blank(name):
    correct, mistakes = variants(name, "CORRECT"), variants(name, "MISTAKES")
    for blank in ASSIGNMENTS[name].blanks:
        assert sum(v.blank == blank for v in correct) >= 3, f"{blank}: fewer than 3 correct variants"
        assert sum(v.blank == blank for v in mistakes) >= 3, f"{blank}: fewer than 3 mistakes"
    for v in correct + mistakes:
        assert v.blank in ASSIGNMENTS[name].blanks, key(v)
    for v in mistakes:
        assert v.hint, f"{key(v)}: a mistake needs the hint its feedback must contain"


def test_unwritten_blanks_say_so():
    for name in NAMES:
        ns = reference_namespace(name)
        for blank in ASSIGNMENTS[name].blanks:
            exec(f"def {blank}(*args, **kwargs):\n    raise NotImplementedError()\n", ns)
        results = grade_in_process(name, ns)
        assert all(r.score == 0 for r in results)
        assert all("not written yet" in r.output or "raise" in r.output or "NotImplementedError" in r.output
                   for r in results), [r.output for r in results]


# --------------------------------------------------------------------------------------------------- correct


def _correct_cases():
    return [pytest.param(name, v, id=f"{name}/{key(v)}") for name in NAMES for v in variants(name, "CORRECT")]


@pytest.mark.parametrize("name, variant", _correct_cases())
def test_correct_variant_gets_full_marks(name, variant):
    for secret in SECRETS:
        results = graded(name, "CORRECT", secret)[key(variant)]
        assert results, f"{key(variant)} was not graded"
        assert not failed(results), f"secret {secret!r}:\n" + "\n".join(failed(results))


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
        if blank != variant.blank:
            assert s == t, f"{key(variant)} also lost marks on {blank}: {failed(results, blank)}"
    outputs = [r.output for r in results if r.blank == variant.blank and r.score < r.max_score]
    assert any(mentions(out, variant.hint) for out in outputs), \
        f"{key(variant)}: no feedback contains {variant.hint!r}:\n" + "\n".join(outputs)
    for out in outputs:  # one sentence first, the hint on its own line
        lines = out.splitlines()
        assert lines and "Hint:" not in lines[0] and all("Hint:" not in line[1:] for line in lines), out
    if any(r.kind == "forbidden" and r.score == 0 and "forbidden here" in r.output
           for r in results if r.blank == variant.blank):
        assert score == 0, f"{key(variant)} uses a forbidden function and kept {score:g}"
    other = by_blank(graded(name, "MISTAKES", SECRETS[1])[key(variant)])[variant.blank]
    assert other[0] < other[1], f"{key(variant)} got full marks for secret {SECRETS[1]!r}"


# ----------------------------------------------------------------------------------------- no free points
# Answers of the right type and shape that compute nothing, several per blank: each earns exactly 0 on its blank
# under the marking policy (whatever edge and property tests they pass).
SEEDED = "torch.Generator().manual_seed(0)"
MODULE_FORWARD = """
class Sequential(nn.Sequential):
    def forward(self, x):
        return {out}

def make_seq_net(n_in, n_hidden, n_out):
    return Sequential(nn.Linear(n_in, n_hidden), nn.Tanh(), nn.Linear(n_hidden, n_out))
"""
TWO_FORWARD = """
class TwoBranchNet(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.layer1 = nn.Linear(n_in, n_out)
        self.layer2 = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Linear(n_hidden, n_out))

    def forward(self, x):
        return {out}
"""
SAVE = "def save_weights(net, path):\n    torch.save({state}, path)\n"
FILL_LOAD = """
def load_weights(net, path):
    with torch.no_grad():
        for p in net.parameters():
            {fill}
    return net
"""
SET_WEIGHT = """
def set_weight_from_numpy(layer, array):
    with torch.no_grad():
        {fill}
    return layer
"""
INIT = """
def {blank}(net, *args):
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Linear):
                {fill}
                if m.bias is not None:
                    m.bias.zero_()
    return net
"""
SHAPE = "x.shape[0], self[2].out_features"
LEAD = "*x.shape[:-1], self.layer1.out_features"
TRIVIAL = {
    "04_modules": {
        "make_seq_net": {
            "constant": "def make_seq_net(n_in, n_hidden, n_out):\n    return nn.Sequential()\n",
            "zeros": MODULE_FORWARD.format(out=f"torch.zeros({SHAPE})"),
            "ones": MODULE_FORWARD.format(out=f"torch.ones({SHAPE})"),
            "argument": "def make_seq_net(n_in, n_hidden, n_out):\n    return n_in\n",
            "random": MODULE_FORWARD.format(out=f"torch.rand({SHAPE}, generator={SEEDED})"),
            "forward returns its input": MODULE_FORWARD.format(out="x"),
        },
        "TwoBranchNet": {
            "constant": TWO_FORWARD.format(out="torch.tensor(0.5)"),
            "zeros": TWO_FORWARD.format(out=f"torch.zeros({LEAD})"),
            "ones": TWO_FORWARD.format(out=f"torch.ones({LEAD})"),
            "argument": TWO_FORWARD.format(out="x"),
            "random": TWO_FORWARD.format(out=f"torch.rand({LEAD}, generator={SEEDED})"),
        },
        "save_weights": {
            "constant": SAVE.format(state="{}"),
            "zeros": SAVE.format(state="{k: torch.zeros_like(v) for k, v in net.state_dict().items()}"),
            "ones": SAVE.format(state="{k: torch.ones_like(v) for k, v in net.state_dict().items()}"),
            "argument (writes nothing)": "def save_weights(net, path):\n    return net\n",
            "random": SAVE.format(state="{k: torch.rand(v.shape, generator=" + SEEDED + ") "
                                        "for k, v in net.state_dict().items()}"),
        },
        "load_weights": {
            "constant": "def load_weights(net, path):\n    return None\n",
            "zeros": FILL_LOAD.format(fill="p.zero_()"),
            "ones": FILL_LOAD.format(fill="p.fill_(1.0)"),
            "argument (never loads)": "def load_weights(net, path):\n    return net\n",
            "random": FILL_LOAD.format(fill=f"p.copy_(torch.rand(p.shape, generator={SEEDED}))"),
        },
    },
    "05_multiclass": {
        "softmax": {
            "constant": "def softmax(z):\n    return torch.full_like(z, 0.5)\n",
            "uniform 1/K": "def softmax(z):\n    return torch.full_like(z, 1.0 / z.shape[-1])\n",
            "zeros": "def softmax(z):\n    return torch.zeros_like(z)\n",
            "ones": "def softmax(z):\n    return torch.ones_like(z)\n",
            "argument": "def softmax(z):\n    return z\n",
            "random": f"def softmax(z):\n    return torch.rand(z.shape, generator={SEEDED})\n",
        },
        "cross_entropy": {
            "constant": "def cross_entropy(logits, target):\n    return torch.tensor(0.7)\n",
            "log K": "def cross_entropy(logits, target):\n    return torch.log(torch.tensor(float(logits.shape[1])))\n",
            "zeros": "def cross_entropy(logits, target):\n    return torch.zeros(())\n",
            "ones": "def cross_entropy(logits, target):\n    return torch.ones(())\n",
            "argument": "def cross_entropy(logits, target):\n    return logits\n",
            "random": f"def cross_entropy(logits, target):\n    return torch.rand((), generator={SEEDED})\n",
        },
        "binary_entropy": {
            "constant": "def binary_entropy(p):\n    return torch.full_like(p, 0.5)\n",
            "zeros": "def binary_entropy(p):\n    return torch.zeros_like(p)\n",
            "ones": "def binary_entropy(p):\n    return torch.ones_like(p)\n",
            "argument": "def binary_entropy(p):\n    return p\n",
            "random": f"def binary_entropy(p):\n    return torch.rand(p.shape, generator={SEEDED})\n",
        },
    },
    "06_initialization": {
        "set_weight_from_numpy": {
            "constant": "def set_weight_from_numpy(layer, array):\n    return None\n",
            "zeros": SET_WEIGHT.format(fill="layer.weight.zero_()"),
            "ones": SET_WEIGHT.format(fill="layer.weight.fill_(1.0)"),
            "argument": "def set_weight_from_numpy(layer, array):\n    return layer\n",
            "random": SET_WEIGHT.format(fill=f"layer.weight.copy_(torch.rand(layer.weight.shape, generator={SEEDED}))"),
        },
        **{blank: {
            "constant": INIT.format(blank=blank, fill="m.weight.fill_(0.1)"),
            "zeros": INIT.format(blank=blank, fill="m.weight.zero_()"),
            "ones": INIT.format(blank=blank, fill="m.weight.fill_(1.0)"),
            "argument": f"def {blank}(net, *args):\n    return net\n",
            "random": INIT.format(blank=blank, fill=f"m.weight.copy_(torch.randn(m.weight.shape, generator={SEEDED}))"),
            "random uniform": INIT.format(blank=blank, fill="m.weight.uniform_(-1.0, 1.0)"),
        } for blank in ("init_linear_normal", "init_xavier")},
    },
}


@pytest.mark.parametrize("name", NAMES)
def test_trivial_answers_earn_nothing(name):
    assert set(TRIVIAL[name]) == set(ASSIGNMENTS[name].blanks)
    vs = [Variant(blank, what, code) for blank, answers in TRIVIAL[name].items() for what, code in answers.items()]
    namespaces = {key(v): variant_namespace(reference(name), v) for v in vs}
    results = grade_many(name, namespaces, blanks={key(v): {v.blank} for v in vs})
    earned = {key(v): by_blank(results[key(v)])[v.blank][0] for v in vs}
    assert all(score == 0 for score in earned.values()), {k: s for k, s in earned.items() if s}


# ---------------------------------------------------------------------------------------- 06 statistics


@functools.lru_cache(maxsize=None)
def hidden(name: str):
    spec = importlib.util.spec_from_file_location(f"_hidden_{name}", COURSE.hidden_tests(ASSIGNMENTS[name]))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SEEDS = range(300)
SHAPES_NORMAL = [(300, 400), (100, 300), (50, 100), (100, 200)]  # as in the hidden tests' networks
SHAPES_XAVIER = [(300, 420), (50, 600), (420, 50), (400, 300), (700, 50), (40, 700), (100, 200),
                 (350, 370), (80, 350), (250, 80), (120, 250), (80, 150)]


def test_normal_checks_accept_normal_samples_for_every_seed():
    h = hidden("06_initialization")
    g = torch.Generator().manual_seed(1)
    for seed in SEEDS:
        torch.manual_seed(seed)
        for shape in SHAPES_NORMAL:
            std = float(torch.empty(1).uniform_(0.1, 4.0, generator=g))
            w = nn.init.normal_(torch.empty(shape), 0.0, std)
            assert h.normal_problem(w, std) is None, (seed, shape, std, h.normal_problem(w, std))
            assert h.normal_shape_problem(w) is None, (seed, shape, h.normal_shape_problem(w))


def test_normal_checks_reject_wrong_distributions():
    h = hidden("06_initialization")
    for seed in range(20):
        torch.manual_seed(seed)
        for shape in SHAPES_NORMAL:
            for std in (0.1, 0.5, 2.0, 4.0):
                variance = nn.init.normal_(torch.empty(shape), 0.0, std * std)
                assert "variance" in h.normal_problem(variance, std)
                small_uniform = nn.init.uniform_(torch.empty(shape), -std, std)
                assert "uniform samples on [-std, std]" in h.normal_problem(small_uniform, std)
            uniform = nn.init.uniform_(torch.empty(shape), -math.sqrt(3), math.sqrt(3))
            assert h.normal_problem(uniform, 1.0) is None  # the right std ...
            assert "not uniform_" in h.normal_shape_problem(uniform)  # ... but not a normal distribution


def test_xavier_checks_accept_xavier_samples_for_every_seed():
    h = hidden("06_initialization")
    for seed in SEEDS:
        torch.manual_seed(seed)
        for fan_out, fan_in in SHAPES_XAVIER:
            w = nn.init.xavier_uniform_(torch.empty(fan_out, fan_in))
            assert h.uniform_bound_problem(w, fan_in, fan_out) is None, (seed, fan_out, fan_in)
            if w.numel() >= 100_000:
                assert h.uniform_shape_problem(w) is None, (seed, fan_out, fan_in, h.uniform_shape_problem(w))


def test_xavier_checks_reject_wrong_bounds_and_shapes():
    h = hidden("06_initialization")
    for seed in range(20):
        torch.manual_seed(seed)
        for fan_out, fan_in in [(50, 600), (420, 50), (40, 700)]:
            w = torch.empty(fan_out, fan_in)
            for bound, hint in ((math.sqrt(3 / fan_in), "only fan_in"), (math.sqrt(6 / fan_in), "only fan_in"),
                                (math.sqrt(2 / (fan_in + fan_out)), "std of Xavier normal"),
                                (math.sqrt(12 / (fan_in + fan_out)), "gain")):
                nn.init.uniform_(w, -bound, bound)
                assert hint in h.uniform_bound_problem(w, fan_in, fan_out), (fan_out, fan_in, hint)
            nn.init.xavier_normal_(w)
            assert "not a normal one" in h.uniform_bound_problem(w, fan_in, fan_out)
        w = nn.init.normal_(torch.empty(300, 420))
        assert "xavier_normal_" in h.uniform_shape_problem(w)
