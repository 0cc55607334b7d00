"""Hidden tests for 06_initialization: set_weight_from_numpy, init_linear_normal, init_xavier.

The networks passed in are nested (Linear layers inside Sequential and ModuleList, a Linear without bias,
LayerNorm and Conv1d layers that must stay as they are), with every value first set from ``rng`` so that an
untouched layer is recognised. Distributions are judged on large layers (400 x 300 and the like) with
tolerances many standard errors wide: a correct initialisation passes for every seed (tests/ checks that over
many seeds), while the variance passed as std, a uniform instead of a normal (or the reverse), a bound from
fan_in only or a gain are far outside them.

Each test says what it judges (autograder.grading.policy): a "value" test judges the whole network after the call (every
Linear weight, every bias, the other modules, a network returned) on typical networks; "edge" tests a Linear
built with bias=False, a network that is one Linear, a size of 1; "property" the Parameter objects and what is
returned.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from autograder.protocol.codec import ModuleInfo
from autograder.grading.compare import Mismatch, describe, expect, feedback, hint_label, judged
from autograder.grading.submission import SubmissionError
from autograder.i18n import course_text as _

ASSIGNMENT = "06_initialization"


# ------------------------------------------------------------------------------------------- helpers


def fail(sentence: str, hint: str | None = None, details: str | None = None) -> None:
    """A failing test's feedback: what is wrong, the hint on its own line, the numbers last."""
    raise Mismatch(feedback(sentence, hint, details))


def randint(rng: torch.Generator, lo: int, hi: int) -> int:
    return int(torch.randint(lo, hi + 1, (1,), generator=rng))


def uniform(rng: torch.Generator, lo: float, hi: float) -> float:
    return lo + (hi - lo) * float(torch.rand(1, generator=rng))


def randomise(net: nn.Module, rng: torch.Generator) -> nn.Module:
    """Every parameter set from ``rng`` (standard normal), so that a layer left alone is recognised."""
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=rng))
    return net


def linear_names(net: nn.Module) -> list[str]:
    """The Linear layers of the network the grader sent (its trusted copy: never what the sandbox reports)."""
    return [name for name, m in net.named_modules() if type(m) is nn.Linear]


def other_param_keys(net: nn.Module) -> dict[str, str]:
    """state_dict keys of the parameters of modules that are not Linear -> the module's type name."""
    out = {}
    for name, module in net.named_modules():
        if not isinstance(module, nn.Linear):
            for pname, _param in module.named_parameters(recurse=False):
                out[f"{name}.{pname}" if name else pname] = type(module).__name__
    return out


def excess_kurtosis(w: torch.Tensor) -> float:
    """0 for a normal distribution, -1.2 for a uniform one."""
    x = w.detach().reshape(-1)
    x2 = (x - x.mean()).square_()
    var = float(x2.mean())
    return float(x2.square_().mean()) / (var * var) - 3.0 if var > 0 else math.nan


def where(name: str) -> str:
    return _("the Linear layer at net.{name}").format(name=name) if name else _("the Linear layer")


def init_call(sub, blank: str, net: nn.Module, *args: Any):
    """Run an initialiser; a crash on a layer without bias gets its hint."""
    try:
        return sub.run(blank, net, *args)
    except SubmissionError as error:
        text = str(error)
        if "NoneType" in text:
            fail(_("{blank} raised an error on a Linear layer built with bias=False.").format(blank=blank),
                 _("a Linear layer built with bias=False has bias None: only set the bias "
                   "`if module.bias is not None`."),
                 text.split(f"\n{hint_label()}")[0])
        raise


def unchanged_weight() -> str:
    """The feedback on a weight left as it was."""
    return feedback(_("its weight was not changed."),
                    _("net.modules() yields every module at any depth; net.children() only yields the direct "
                      "children."))


def normal_problem(w: torch.Tensor, std: float, before: torch.Tensor | None = None) -> str | None:
    """Why ``w`` does not look like samples of N(0, std^2) (mean and standard deviation), or None."""
    x = w.detach().reshape(-1)
    n = x.numel()
    mean, sd = float(x.mean()), float(x.std())
    if before is not None and torch.equal(w, before):
        return unchanged_weight()
    tol_mean = 6 * std / math.sqrt(n) + 1e-12
    tol_sd = 6 / math.sqrt(2 * n)  # relative: ~6 standard errors of a sample standard deviation
    if abs(mean) > tol_mean or abs(sd / std - 1) > tol_sd:
        text = _("its weights do not have mean 0 and standard deviation std = {std}.").format(std=f"{std:g}")
        numbers = _("mean {mean}, standard deviation {sd}.").format(mean=f"{mean:.4g}", sd=f"{sd:.4g}")
        if abs(mean - std) < tol_mean + 6 / math.sqrt(n) and abs(sd - 1) < tol_sd:
            return feedback(text, _("normal_(w, std) passes std as the mean: write nn.init.normal_(w, mean=0.0, "
                                    "std=std)."), numbers)
        for value, hint in ((std * std, _("you passed the variance std**2 as the standard deviation (normal_ takes "
                                          "std).")),
                            (std / math.sqrt(3), _("uniform samples on [-std, std] have std/sqrt(3): draw from a "
                                                   "normal distribution (nn.init.normal_).")),
                            (math.sqrt(std), _("you passed sqrt(std): normal_(w, mean, std) takes the std itself."))):
            if abs(sd / value - 1) < tol_sd:
                return feedback(text, hint, numbers)
        return feedback(text, None, numbers)
    return None


def normal_shape_problem(w: torch.Tensor) -> str | None:
    """Why ``w`` does not look normally distributed (its kurtosis), or None."""
    k = excess_kurtosis(w)
    tol = 8 * math.sqrt(24 / w.numel()) + 0.05
    if abs(k) > tol:
        hint = (_("a uniform distribution has excess kurtosis -1.2: draw with normal_, not uniform_.")
                if abs(k + 1.2) < tol else None)
        return feedback(_("its weights do not look normally distributed."), hint,
                        _("excess kurtosis {k}, expected about 0.").format(k=f"{k:.3f}"))
    return None


def xavier_bound(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


def uniform_bound_problem(w: torch.Tensor, fan_in: int, fan_out: int,
                          before: torch.Tensor | None = None) -> str | None:
    """Why ``w`` does not fill [-a, a], a = sqrt(6 / (fan_in + fan_out)), or None."""
    a = xavier_bound(fan_in, fan_out)
    if before is not None and torch.equal(w, before):
        return unchanged_weight()
    low, high = float(w.detach().min()), float(w.detach().max())
    top = max(high, -low)
    n = w.numel()
    # n samples of U(-a, a) leave gaps of about 2a / n at either end; one wider than 30 a / n has chance ~e^-15
    if top <= a * (1 + 1e-5) and min(high, -low) >= a * (1 - 30 / n) - 1e-7:
        return None
    text = _("its weights do not fill [-a, a] with a = sqrt(6 / (fan_in + fan_out)).")
    numbers = _("range [{low}, {high}]; a = {a} (fan_in = {fan_in}, fan_out = {fan_out}).").format(
        low=f"{low:.4g}", high=f"{high:.4g}", a=f"{a:.4g}", fan_in=fan_in, fan_out=fan_out)
    one_fan = _("the bound uses only fan_in (or only fan_out): a = sqrt(6 / (fan_in + fan_out)) uses both.")
    known = {
        math.sqrt(6.0 / (2 * fan_in)): one_fan,
        math.sqrt(6.0 / fan_in): one_fan,
        1 / math.sqrt(fan_in): _("the bound uses only fan_in (this is PyTorch's default init): a = sqrt(6 / (fan_in "
                                 "+ fan_out))."),
        math.sqrt(6.0 / (2 * fan_out)): one_fan,
        math.sqrt(6.0 / fan_out): one_fan,
        math.sqrt(2) * a: _("a gain of sqrt(2) (ReLU's) is applied: Xavier here has gain 1."),
        math.sqrt(2.0 / (fan_in + fan_out)): _("sqrt(2 / (fan_in + fan_out)) is the std of Xavier normal, not the "
                                               "bound of Xavier uniform."),
    }
    if low >= 0:
        return feedback(text, _("all the weights are >= 0: uniform_(w, -a, a) takes both ends; uniform_(w, a) draws "
                                "from [a, 1]."), numbers)
    if top > a * (1 + 1e-5) and excess_kurtosis(w) > -0.6:
        return feedback(text, _("values beyond the bound: draw from a uniform distribution on [-a, a], not a normal "
                                "one."), numbers)
    for bound, hint in known.items():
        if abs(top / bound - 1) < 0.01:
            return feedback(text, hint, numbers)
    return feedback(text, None, numbers)


def uniform_shape_problem(w: torch.Tensor) -> str | None:
    """Why ``w`` does not look uniformly distributed (its kurtosis), or None."""
    k = excess_kurtosis(w)
    tol = 8 * math.sqrt(2 / w.numel()) + 0.05  # the kurtosis of uniform samples varies less than a normal's
    if abs(k + 1.2) > tol:
        hint = (_("a normal distribution has excess kurtosis 0: Xavier uniform draws from U(-a, a), not "
                  "xavier_normal_ or normal_.") if abs(k) < 0.3 else None)
        return feedback(_("its weights do not look uniformly distributed."), hint,
                        _("excess kurtosis {k}, expected -1.2.").format(k=f"{k:.3f}"))
    return None


def initialised(result, blank: str, net: nn.Module, before: dict[str, torch.Tensor]) -> ModuleInfo:
    """The network passed in (``net``, the grader's copy), as it is after the call: the same layers and parameters,
    and a clear failure if none of its Linear weights changed."""
    info = expect(result.args[0], blank).same_structure_as(net).value
    names = linear_names(net)
    if all(torch.equal(info.state[weight(n)], before[weight(n)]) for n in names):
        other = isinstance(result.value, ModuleInfo) and result.returned_arg != 0
        fail(_("{blank} left every Linear weight of the network it was given unchanged.").format(blank=blank),
             _("it returned another network: initialise the network it is given, in place, and return that one.")
             if other else None)
    return info


def weight(name: str) -> str:
    return f"{name}.weight" if name else "weight"


def first_problem(info: ModuleInfo, check, names: list[str]) -> None:
    """The first of the Linear layers ``names`` (listed from the grader's network) whose weight ``check`` rejects."""
    for name in names:
        judged(info.state[weight(name)].numel())
        problem = check(name, info.state[weight(name)])
        if problem:
            raise Mismatch(_("{where}: {problem}").format(where=where(name), problem=problem))


def returned_a_network(result, blank: str, arg: str = "net") -> None:
    """The call returned a module (``return net``): a value check, as ``net = blank(net, ...)`` is how it is used."""
    if not isinstance(result.value, ModuleInfo):
        fail((_("{blank} returned {value}, not the layer.") if arg == "layer" else
              _("{blank} returned {value}, not the network.")).format(blank=blank, value=describe(result.value)),
             _("end with `return {arg}`.").format(arg=arg))


def biases_zero(info: ModuleInfo, net: nn.Module) -> None:
    for name, module in net.named_modules():
        if type(module) is not nn.Linear or module.bias is None:
            continue
        bias = info.state[f"{name}.bias" if name else "bias"]
        judged(bias.numel())
        if bool((bias != 0).any()):
            fail(_("{where}: its bias values are not 0.").format(where=where(name)),
                 _("set each Linear's bias to 0 (nn.init.zeros_(module.bias))."),
                 _("{bad} of {total} bias values are not 0.").format(bad=int((bias != 0).sum()), total=bias.numel()))


def others_untouched(blank: str, info: ModuleInfo, before: dict[str, torch.Tensor], others: dict[str, str]) -> None:
    changed = [f"{key} ({kind})" for key, kind in others.items() if not torch.equal(info.state[key], before[key])]
    if changed:
        fail(_("{blank} changed parameters of modules that are not Linear layers.").format(blank=blank),
             _("only nn.Linear layers are to be initialised (check isinstance(module, nn.Linear))."),
             _("changed: {names}").format(names=", ".join(changed)))


def parameters_kept(result, blank: str, net: nn.Module, in_place_apis: str) -> None:
    """The network's Parameter objects survived the call, still float32 and requiring grad."""
    info = expect(result.args[0], blank).same_structure_as(net).value
    replaced = [p["name"] for p in info.params if not p["same"]]
    if replaced:
        fail(_("after the call the network holds new Parameter objects, so an optimizer built earlier no longer "
               "sees them."), _("fill the existing ones in place ({apis}).").format(apis=in_place_apis),
             _("new: {names}").format(names=", ".join(replaced)))
    wrong = [f"{p['name']} ({p['dtype']})" for p in info.params if p["dtype"] != "float32" or not p["rg"]]
    if wrong:
        fail(_("after the call some parameters are not float32 Parameters that require grad."), None,
             _("not so: {names}").format(names=", ".join(wrong)))


# -------------------------------------------------------------------------------- set_weight_from_numpy

NUMPY_CASES = {"Linear(5, 3)": (5, 3), "Linear(6, 4)": (6, 4)}
NUMPY_EDGES = {"Linear(1, 4)": (1, 4), "Linear(4, 1)": (4, 1)}


def numpy_case(sub, rng, n_in: int = 5, n_out: int = 3):
    layer = randomise(nn.Linear(n_in, n_out), rng)
    array = torch.randn(n_out, n_in, dtype=torch.float64, generator=rng).numpy()
    try:
        result = sub.run("set_weight_from_numpy", layer, array)
    except SubmissionError as error:
        if "leaf Variable" in str(error):
            fail(_("set_weight_from_numpy changed a Parameter in place while autograd records it."),
                 _("copy into a Parameter inside `with torch.no_grad():` (autograd forbids changing such a leaf)."),
                 str(error).split(f"\n{hint_label()}")[0])
        raise
    expect(result.args[0], "set_weight_from_numpy").same_structure_as(layer)
    return layer, array, result


def numpy_values(sub, rng, case: str, n_in: int, n_out: int) -> None:
    """The layer's weight holds the array's values after the call, and the layer is returned."""
    layer, array, result = numpy_case(sub, rng, n_in, n_out)
    after = result.args[0]
    weight = after.state["weight"]
    want = torch.from_numpy(array)
    if weight.shape == want.T.shape and weight.shape != want.shape:
        fail(_("{case}.weight has the wrong shape after the call.").format(case=case),
             _("the array already has the weight's shape (out_features, in_features); do not transpose it."),
             _("expected {expected}, got {got}").format(expected=tuple(want.shape), got=tuple(weight.shape)))

    def transposed(actual, expected):
        if actual.dim() == 2 and actual.shape[0] == actual.shape[1] and torch.allclose(actual, expected.T):
            return _("the values are transposed.")
        if torch.allclose(actual.reshape(-1).sort().values, expected.reshape(-1).sort().values, atol=1e-6):
            return _("the right values in the wrong places (a transpose or reshape?): copy the array as it is.")
        return None

    expect(weight, _("{case}.weight after the call").format(case=case)).tensor(
        shape=tuple(want.shape), dtype=None).close_to(
        want.float(), rtol=1e-6, atol=1e-7, hints=[transposed])
    returned_a_network(result, "set_weight_from_numpy", "layer")


@pytest.mark.blank("set_weight_from_numpy", points=0.25)
@pytest.mark.parametrize("case", list(NUMPY_CASES))
def test_numpy_values(sub, rng, case):
    """copies the array's values into the weight and returns the layer"""
    n_in, n_out = NUMPY_CASES[case]
    jitter = randint(rng, 0, 3)
    numpy_values(sub, rng, f"Linear({n_in + jitter}, {n_out + jitter})", n_in + jitter, n_out + jitter)


@pytest.mark.blank("set_weight_from_numpy", points=0.125, kind="edge")
@pytest.mark.parametrize("case", list(NUMPY_EDGES))
def test_numpy_sizes_of_one(sub, rng, case):
    """copies the array into a layer with one input or one output"""
    numpy_values(sub, rng, case, *NUMPY_EDGES[case])


@pytest.mark.blank("set_weight_from_numpy", points=1.0, kind="property")
def test_numpy_same_parameter(sub, rng):
    """keeps the Parameter objects (float32, requiring grad)"""
    result = numpy_case(sub, rng)[2]
    params = {p["name"]: p for p in result.args[0].params}
    p = params.get("weight")
    if p is None:
        fail(_("layer.weight is no longer a Parameter of the layer."))
    if p["dtype"] != "float32":
        fail(_("layer.weight has dtype {dtype} after the call, expected float32.").format(dtype=p["dtype"]),
             _("torch.from_numpy keeps NumPy's float64: copy_ into the float32 weight, or call .float() first.")
             if p["dtype"] == "float64" else None)
    if not p["same"]:
        fail(_("layer.weight is a new object after the call, so an optimizer built earlier still holds the old one."),
             _("copy in place, `with torch.no_grad(): layer.weight.copy_(...)`, not a new nn.Parameter."))
    if not p["rg"]:
        fail(_("layer.weight no longer requires grad after the call: keep it a trainable Parameter."))


@pytest.mark.blank("set_weight_from_numpy", points=0.125, kind="property")
def test_numpy_returns_layer(sub, rng):
    """returns the layer it was given (the same object)"""
    result = numpy_case(sub, rng)[2]
    if result.returned_arg != 0:
        fail((_("set_weight_from_numpy should return the layer it was given, got {value} (another module).")
              if isinstance(result.value, ModuleInfo) else
              _("set_weight_from_numpy should return the layer it was given, got {value}.")).format(
                 value=describe(result.value)), _("end with `return layer`."))


@pytest.mark.blank("set_weight_from_numpy", points=0.125, kind="property")
def test_numpy_leaves_bias(sub, rng):
    """does not modify its inputs (layer.bias and the NumPy array)"""
    layer, array, result = numpy_case(sub, rng)
    if not torch.equal(result.args[0].state.get("bias", torch.empty(0)), layer.bias.detach()):
        fail(_("set_weight_from_numpy changed layer.bias: only the weight is to be set."))
    after = result.args[1]
    if not isinstance(after, np.ndarray) or after.dtype != array.dtype or not np.array_equal(after, array):
        fail(_("set_weight_from_numpy modified the NumPy array it was given: it should only read it."))


# ---------------------------------------------------------------------------------- init_linear_normal

STD_CASES = {"small std": (0.05, 0.5), "large std": (2.0, 5.0), "medium std": (0.6, 0.9)}


def normal_net(rng: torch.Generator, big: bool = False) -> nn.Module:
    """Linear layers at three depths (one inside a ModuleList), plus LayerNorm and Conv1d to be left alone;
    large layers where a distribution is judged, small ones elsewhere (faster)."""
    a, b, c, d = (400, 300, 100, 100) if big else (12, 9, 7, 5)
    return randomise(nn.Sequential(
        nn.Linear(a, b), nn.Tanh(),
        nn.Sequential(nn.Linear(b, c), nn.LayerNorm(c)),
        nn.ModuleList([nn.Linear(c, d)]),
        nn.Conv1d(2, 4, 3),
    ), rng)


def no_bias_net(rng: torch.Generator) -> nn.Module:
    return randomise(nn.Sequential(nn.Sequential(nn.Linear(200, 100, bias=False), nn.Tanh()), nn.Linear(100, 50)), rng)


def std_of(rng: torch.Generator, case: str = "small std") -> float:
    return round(uniform(rng, *STD_CASES[case]), 3)


def normal_result(sub, net: nn.Module, std: float) -> ModuleInfo:
    """init_linear_normal(net, std) judged as a whole: every Linear weight N(0, std^2), every bias 0, the other
    modules as they were, a network returned. The network after the call."""
    before, others = net.state_dict(), other_param_keys(net)
    result = init_call(sub, "init_linear_normal", net, std)
    info = initialised(result, "init_linear_normal", net, before)
    first_problem(info, lambda name, w: normal_problem(w, std, before[weight(name)]), linear_names(net))
    biases_zero(info, net)
    others_untouched("init_linear_normal", info, before, others)
    returned_a_network(result, "init_linear_normal")
    return info


@pytest.mark.blank("init_linear_normal", points=0.5)
@pytest.mark.parametrize("case", list(STD_CASES))
def test_normal_std(sub, rng, case):
    """Linear weights drawn from N(0, std²), biases 0, nothing else changed"""
    info = normal_result(sub, normal_net(rng, big=True), std_of(rng, case))
    first_problem(info, lambda name, w: normal_shape_problem(w), names=["0"])  # a normal distribution, not uniform


@pytest.mark.blank("init_linear_normal", points=0.5, kind="edge")
def test_normal_without_bias(sub, rng):
    """works on Linear layers built with bias=False (and leaves them without bias)"""
    net = no_bias_net(rng)
    info = normal_result(sub, net, std_of(rng))
    if "0.0.bias" in info.state:
        fail(_("the Linear layer at net.0.0 was built with bias=False and now has a bias: leave it without one."))


@pytest.mark.blank("init_linear_normal", points=0.25, kind="edge")
def test_normal_single_linear(sub, rng):
    """initialises a network that is a single nn.Linear"""
    normal_result(sub, randomise(nn.Linear(200, 100), rng), std_of(rng, "large std"))


@pytest.mark.blank("init_linear_normal", points=0.5, kind="property")
def test_normal_in_place(sub, rng):
    """keeps the Parameter objects (float32)"""
    net, std = normal_net(rng), std_of(rng)
    parameters_kept(init_call(sub, "init_linear_normal", net, std), "init_linear_normal", net,
                    "nn.init.normal_, tensor.normal_")


@pytest.mark.blank("init_linear_normal", points=0.25, kind="property")
def test_normal_returns_net(sub, rng):
    """returns the network it was given (the same object)"""
    net, std = normal_net(rng), std_of(rng)
    result = init_call(sub, "init_linear_normal", net, std)
    if result.returned_arg != 0:
        fail(_("init_linear_normal should return the network it was given, got {value}.").format(
                 value=describe(result.value)), _("end with `return net`."))


# ----------------------------------------------------------------------------------------- init_xavier

XAVIER_CASES = {"wide and tall": 0, "other sizes": 1, "more sizes": 2}


def xavier_net(rng: torch.Generator, case: int = 0, big: bool = True) -> nn.Module:
    """Square-ish, wide (fan_in >> fan_out) and tall (fan_out >> fan_in) Linear layers, nested, plus others;
    small layers where no distribution is judged (faster)."""
    j = randint(rng, 0, 20)
    if not big:
        sizes = [(12, 9), (9, 7), (7, 5)]
    elif case == 0:
        sizes = [(400 + j, 300), (600, 30 + j), (30 + j, 400)]
    elif case == 1:
        sizes = [(300, 400 + j), (30 + j, 500), (700, 20 + j)]
    else:
        sizes = [(350 + j, 350), (350, 60 + j), (60 + j, 250)]
    (a, b), (c, d), (e, f) = sizes
    return randomise(nn.Sequential(
        nn.Linear(a, b), nn.ReLU(),
        nn.Sequential(nn.Linear(c, d), nn.LayerNorm(d)),
        nn.ModuleList([nn.Linear(e, f)]),
        nn.Conv1d(2, 4, 3),
    ), rng)


def fans(net: nn.Module, name: str) -> tuple[int, int]:
    layer = net.get_submodule(name)
    return layer.in_features, layer.out_features


def xavier_result(sub, net: nn.Module) -> ModuleInfo:
    """init_xavier(net) judged as a whole: every Linear weight fills [-a, a], every bias 0, the other modules as
    they were, a network returned. The network after the call."""
    before, others = net.state_dict(), other_param_keys(net)
    result = init_call(sub, "init_xavier", net)
    info = initialised(result, "init_xavier", net, before)
    first_problem(info, lambda name, w: uniform_bound_problem(w, *fans(net, name), before[weight(name)]),
                  linear_names(net))
    biases_zero(info, net)
    others_untouched("init_xavier", info, before, others)
    returned_a_network(result, "init_xavier")
    return info


@pytest.mark.blank("init_xavier", points=0.5)
@pytest.mark.parametrize("case", list(XAVIER_CASES))
def test_xavier_bound(sub, rng, case):
    """Linear weights drawn from U(-a, a), biases 0, nothing else changed"""
    info = xavier_result(sub, xavier_net(rng, XAVIER_CASES[case]))
    first_problem(info, lambda name, w: uniform_shape_problem(w), names=["0"])  # a uniform distribution, not normal


@pytest.mark.blank("init_xavier", points=0.5, kind="edge")
def test_xavier_without_bias(sub, rng):
    """works on Linear layers built with bias=False (and leaves them without bias)"""
    info = xavier_result(sub, no_bias_net(rng))
    if "0.0.bias" in info.state:
        fail(_("the Linear layer at net.0.0 was built with bias=False and now has a bias: leave it without one."))


@pytest.mark.blank("init_xavier", points=0.25, kind="edge")
def test_xavier_single_linear(sub, rng):
    """initialises a network that is a single nn.Linear"""
    xavier_result(sub, randomise(nn.Linear(randint(rng, 150, 250), randint(rng, 80, 120)), rng))


@pytest.mark.blank("init_xavier", points=0.5, kind="property")
def test_xavier_in_place(sub, rng):
    """keeps the Parameter objects (float32)"""
    net = xavier_net(rng, big=False)
    parameters_kept(init_call(sub, "init_xavier", net), "init_xavier", net, "nn.init.uniform_, tensor.uniform_")


@pytest.mark.blank("init_xavier", points=0.25, kind="property")
def test_xavier_returns_net(sub, rng):
    """returns the network it was given (the same object)"""
    result = init_call(sub, "init_xavier", xavier_net(rng, big=False))
    if result.returned_arg != 0:
        fail(_("init_xavier should return the network it was given, got {value}.").format(
                 value=describe(result.value)), _("end with `return net`."))
