"""Hidden tests for 06_initialization: set_weight_from_numpy, init_linear_normal, init_xavier.

The networks passed in are nested (Linear layers inside Sequential and ModuleList, a Linear without bias,
LayerNorm and Conv1d layers that must stay as they are), with every value first set from ``rng`` so that an
untouched layer is recognised. Distributions are judged on large layers (400 x 300 and the like) with
tolerances many standard errors wide: a correct initialisation passes for every seed (tests/ checks that over
many seeds), while the variance passed as std, a uniform instead of a normal (or the reverse), a bound from
fan_in only or a gain are far outside them.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from autograder.codec import ModuleInfo
from autograder.compare import Mismatch, describe, expect
from autograder.submission import SubmissionError

ASSIGNMENT = "06_initialization"


# ------------------------------------------------------------------------------------------- helpers


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


def linear_names(info: ModuleInfo) -> list[str]:
    return [m["name"] for m in info.tree if m["cls"] == "torch.nn.modules.linear.Linear"]


def other_param_keys(net: nn.Module) -> dict[str, str]:
    """state_dict keys of the parameters of modules that are not Linear -> the module's type name."""
    out = {}
    for name, module in net.named_modules():
        if not isinstance(module, nn.Linear):
            for pname, _ in module.named_parameters(recurse=False):
                out[f"{name}.{pname}" if name else pname] = type(module).__name__
    return out


def excess_kurtosis(w: torch.Tensor) -> float:
    """0 for a normal distribution, -1.2 for a uniform one."""
    x = w.detach().reshape(-1)
    x2 = (x - x.mean()).square_()
    var = float(x2.mean())
    return float(x2.square_().mean()) / (var * var) - 3.0 if var > 0 else math.nan


def where(name: str) -> str:
    return f"the Linear layer at net.{name}" if name else "the Linear layer"


def init_call(sub, blank: str, net: nn.Module, *args: Any):
    """Run an initialiser; a crash on a layer without bias gets its hint."""
    try:
        return sub.run(blank, net, *args)
    except SubmissionError as error:
        text = str(error)
        if "NoneType" in text:
            raise Mismatch(f"{text} Hint: a Linear layer built with bias=False has bias None: only set the bias "
                           f"`if module.bias is not None`.") from None
        raise


def normal_problem(w: torch.Tensor, std: float, before: torch.Tensor | None = None) -> str | None:
    """Why ``w`` does not look like samples of N(0, std^2) (mean and standard deviation), or None."""
    x = w.detach().reshape(-1)
    n = x.numel()
    mean, sd = float(x.mean()), float(x.std())
    if before is not None and torch.equal(w, before):
        return ("its weight was not changed. Hint: a nested layer is reached by net.modules(), which yields every "
                "module at any depth; net.children() only yields the direct children.")
    tol_mean = 6 * std / math.sqrt(n) + 1e-12
    tol_sd = 6 / math.sqrt(2 * n)  # relative: ~6 standard errors of a sample standard deviation
    if abs(mean) > tol_mean or abs(sd / std - 1) > tol_sd:
        text = f"its weights have mean {mean:.4g} and standard deviation {sd:.4g}, expected mean 0 and std = {std:g}."
        if abs(mean - std) < tol_mean + 6 / math.sqrt(n) and abs(sd - 1) < tol_sd:
            return (f"{text} Hint: normal_(w, std) passes std as the mean (the second argument) with std 1: "
                    f"write nn.init.normal_(w, mean=0.0, std=std).")
        for value, hint in ((std * std, "you passed the variance std**2 as the standard deviation (normal_ takes std)."),
                            (std / math.sqrt(3), "uniform samples on [-std, std] have std/sqrt(3): draw from a normal "
                                                 "distribution (nn.init.normal_)."),
                            (math.sqrt(std), "you passed sqrt(std): normal_(w, mean, std) takes the std itself.")):
            if abs(sd / value - 1) < tol_sd:
                return f"{text} Hint: {hint}"
        return text
    return None


def normal_shape_problem(w: torch.Tensor) -> str | None:
    """Why ``w`` does not look normally distributed (its kurtosis), or None."""
    k = excess_kurtosis(w)
    tol = 8 * math.sqrt(24 / w.numel()) + 0.05
    if abs(k) > tol:
        kind = " (a uniform distribution has -1.2): draw with nn.init.normal_ or tensor.normal_, not uniform_" \
            if abs(k + 1.2) < tol else ""
        return f"its weights do not look normally distributed: excess kurtosis {k:.3f}, expected about 0{kind}."
    return None


def xavier_bound(fan_in: int, fan_out: int) -> float:
    return math.sqrt(6.0 / (fan_in + fan_out))


def uniform_bound_problem(w: torch.Tensor, fan_in: int, fan_out: int,
                          before: torch.Tensor | None = None) -> str | None:
    """Why ``w`` does not fill [-a, a], a = sqrt(6 / (fan_in + fan_out)), or None."""
    a = xavier_bound(fan_in, fan_out)
    if before is not None and torch.equal(w, before):
        return ("its weight was not changed. Hint: a nested layer is reached by net.modules(), which yields every "
                "module at any depth; net.children() only yields the direct children.")
    low, high = float(w.detach().min()), float(w.detach().max())
    top = max(high, -low)
    n = w.numel()
    # n samples of U(-a, a) leave gaps of about 2a / n at either end; one wider than 30 a / n has chance ~e^-15
    if top <= a * (1 + 1e-5) and min(high, -low) >= a * (1 - 30 / n) - 1e-7:
        return None
    text = (f"its weights range over [{low:.4g}, {high:.4g}], expected values filling [-a, a] with "
            f"a = sqrt(6 / (fan_in + fan_out))"
            f" = {a:.4g} (fan_in = {fan_in}, fan_out = {fan_out}).")
    one_fan = "the bound uses only fan_in (or only fan_out): a = sqrt(6 / (fan_in + fan_out)) uses both."
    known = {
        math.sqrt(6.0 / (2 * fan_in)): one_fan,
        math.sqrt(6.0 / fan_in): one_fan,
        1 / math.sqrt(fan_in): "the bound uses only fan_in (this is PyTorch's default init): a = sqrt(6 / (fan_in + "
                               "fan_out)).",
        math.sqrt(6.0 / (2 * fan_out)): one_fan,
        math.sqrt(6.0 / fan_out): one_fan,
        math.sqrt(2) * a: "a gain of sqrt(2) (ReLU's) is applied: Xavier here has gain 1.",
        math.sqrt(2.0 / (fan_in + fan_out)): "sqrt(2 / (fan_in + fan_out)) is the std of Xavier normal, not the bound "
                                             "of Xavier uniform.",
    }
    if low >= 0:
        return (f"{text} Hint: all the weights are >= 0: draw from [-a, a] (uniform_(w, -a, a) takes both ends; "
                f"uniform_(w, a) draws from [a, 1]).")
    if top > a * (1 + 1e-5) and excess_kurtosis(w) > -0.6:
        return f"{text} Hint: values beyond the bound: draw from a uniform distribution on [-a, a], not a normal one."
    for bound, hint in known.items():
        if abs(top / bound - 1) < 0.01:
            return f"{text} Hint: {hint}"
    return text


def uniform_shape_problem(w: torch.Tensor) -> str | None:
    """Why ``w`` does not look uniformly distributed (its kurtosis), or None."""
    k = excess_kurtosis(w)
    tol = 8 * math.sqrt(2 / w.numel()) + 0.05  # the kurtosis of uniform samples varies less than a normal's
    if abs(k + 1.2) > tol:
        kind = " (a normal distribution has 0): Xavier uniform draws from U(-a, a), not xavier_normal_ or normal_" \
            if abs(k) < 0.3 else ""
        return f"its weights do not look uniformly distributed: excess kurtosis {k:.3f}, expected -1.2{kind}."
    return None


def initialised(result, blank: str, before: dict[str, torch.Tensor]) -> ModuleInfo:
    """The network passed in, as it is after the call; a clear failure if none of its Linear weights changed."""
    info = result.args[0]
    names = linear_names(info)
    if names and all(torch.equal(info.state[f"{n}.weight"], before[f"{n}.weight"]) for n in names):
        extra = (" It returned another network: initialise the network it is given, in place, and return that one."
                 if isinstance(result.value, ModuleInfo) and result.returned_arg != 0 else "")
        raise Mismatch(f"{blank} left every Linear weight of the network it was given unchanged.{extra}")
    return info


def first_problem(info: ModuleInfo, check, names: list[str] | None = None) -> None:
    for name in names if names is not None else linear_names(info):
        problem = check(name, info.state[f"{name}.weight" if name else "weight"])
        if problem:
            raise Mismatch(f"{where(name)}: {problem}")


# -------------------------------------------------------------------------------- set_weight_from_numpy

NUMPY_CASES = {"Linear(5, 3)": (5, 3), "Linear(1, 4)": (1, 4)}


def numpy_case(sub, rng, n_in: int = 5, n_out: int = 3):
    layer = randomise(nn.Linear(n_in, n_out), rng)
    array = torch.randn(n_out, n_in, dtype=torch.float64, generator=rng).numpy()
    try:
        result = sub.run("set_weight_from_numpy", layer, array)
    except SubmissionError as error:
        if "leaf Variable" in str(error):
            raise Mismatch(f"{error} Hint: copy into a Parameter inside `with torch.no_grad():` (autograd does not "
                           f"allow in-place changes of a leaf that requires grad).") from None
        raise
    return layer, array, result


@pytest.mark.blank("set_weight_from_numpy", points=0.25)
@pytest.mark.parametrize("case", list(NUMPY_CASES))
def test_numpy_values(sub, rng, case):
    """the layer's weight holds the array's values"""
    layer, array, result = numpy_case(sub, rng, *NUMPY_CASES[case])
    after = result.args[0]
    weight = after.state["weight"]
    want = torch.from_numpy(array)
    if weight.shape == want.T.shape and weight.shape != want.shape:
        raise Mismatch(f"{case}.weight: expected shape {tuple(want.shape)}, got {tuple(weight.shape)}: the array "
                       f"already has the weight's shape (out_features, in_features); do not transpose it.")

    def transposed(actual, expected):
        if actual.dim() == 2 and actual.shape[0] == actual.shape[1] and torch.allclose(actual, expected.T):
            return "the values are transposed."
        if torch.allclose(actual.reshape(-1).sort().values, expected.reshape(-1).sort().values, atol=1e-6):
            return "the right values in the wrong places (a transpose or reshape?): copy the array as it is."
        return None

    expect(weight, f"{case}.weight after the call").tensor(shape=tuple(want.shape), dtype=None).close_to(
        want.float(), rtol=1e-6, atol=1e-7, hints=[transposed])


@pytest.mark.blank("set_weight_from_numpy", points=0.5, property=True)
def test_numpy_same_parameter(sub, rng):
    """the weight stays the same Parameter object (an optimizer built earlier still sees it)"""
    _, _, result = numpy_case(sub, rng)
    params = {p["name"]: p for p in result.args[0].params}
    if "weight" not in params or not params["weight"]["same"]:
        raise Mismatch("layer.weight is a new object after the call, so an optimizer built earlier still holds the "
                       "old one: copy the values in place, e.g. `with torch.no_grad(): layer.weight.copy_(...)`, "
                       "instead of assigning a new nn.Parameter.")


@pytest.mark.blank("set_weight_from_numpy", points=0.5, property=True)
def test_numpy_float32(sub, rng):
    """the weight stays a float32 Parameter that requires grad"""
    _, _, result = numpy_case(sub, rng)
    params = {p["name"]: p for p in result.args[0].params}
    p = params.get("weight")
    if p is None:
        raise Mismatch("layer.weight is no longer a Parameter of the layer.")
    if p["dtype"] != "float32":
        extra = (" torch.from_numpy keeps NumPy's float64: copy_ converts into the existing float32 tensor, or call "
                 ".float() first." if p["dtype"] == "float64" else "")
        raise Mismatch(f"layer.weight has dtype {p['dtype']} after the call, expected float32.{extra}")
    if not p["rg"]:
        raise Mismatch("layer.weight no longer requires grad after the call: keep it a trainable Parameter.")


@pytest.mark.blank("set_weight_from_numpy", points=0.25, property=True)
def test_numpy_returns_layer(sub, rng):
    """returns the layer it was given"""
    _, _, result = numpy_case(sub, rng)
    if result.returned_arg != 0:
        raise Mismatch(f"set_weight_from_numpy should return the layer it was given, got {describe(result.value)}"
                       f"{' (another module)' if isinstance(result.value, ModuleInfo) else ''}: end with `return layer`.")


@pytest.mark.blank("set_weight_from_numpy", points=0.25, property=True)
def test_numpy_leaves_bias(sub, rng):
    """leaves layer.bias and the NumPy array unchanged"""
    layer, array, result = numpy_case(sub, rng)
    if not torch.equal(result.args[0].state.get("bias", torch.empty(0)), layer.bias.detach()):
        raise Mismatch("set_weight_from_numpy changed layer.bias: only the weight is to be set.")
    after = result.args[1]
    if not isinstance(after, np.ndarray) or after.dtype != array.dtype or not np.array_equal(after, array):
        raise Mismatch("set_weight_from_numpy modified the NumPy array it was given: it should only read it.")


# ---------------------------------------------------------------------------------- init_linear_normal

STD_CASES = {"small std": (0.1, 0.5), "large std": (2.0, 4.0)}


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


@pytest.mark.blank("init_linear_normal", points=0.5)
@pytest.mark.parametrize("case", list(STD_CASES))
def test_normal_std(sub, rng, case):
    """every Linear weight, nested ones included, has mean 0 and standard deviation std"""
    net, std = normal_net(rng, big=True), std_of(rng, case)
    before = net.state_dict()
    info = initialised(init_call(sub, "init_linear_normal", net, std), "init_linear_normal", before)
    first_problem(info, lambda name, w: normal_problem(w, std, before[f"{name}.weight"]))


@pytest.mark.blank("init_linear_normal", points=0.5)
def test_normal_distribution(sub, rng):
    """the weights are normally distributed (not uniform)"""
    net, std = normal_net(rng, big=True), std_of(rng)
    info = init_call(sub, "init_linear_normal", net, std).args[0]
    first_problem(info, lambda name, w: normal_shape_problem(w), names=["0"])


@pytest.mark.blank("init_linear_normal", points=0.5)
def test_normal_bias_zero(sub, rng):
    """every Linear bias is set to 0"""
    net, std = normal_net(rng), std_of(rng)
    info = init_call(sub, "init_linear_normal", net, std).args[0]
    for name in linear_names(info):
        bias = info.state[f"{name}.bias"]
        if bool((bias != 0).any()):
            raise Mismatch(f"{where(name)}: {int((bias != 0).sum())} of {bias.numel()} bias values are not 0: set "
                           f"each Linear's bias to 0 (nn.init.zeros_(module.bias)).")


@pytest.mark.blank("init_linear_normal", points=0.25, property=True)
def test_normal_without_bias(sub, rng):
    """works on Linear layers built with bias=False (and leaves them without bias)"""
    net, std = no_bias_net(rng), std_of(rng)
    before = net.state_dict()
    info = init_call(sub, "init_linear_normal", net, std).args[0]
    if "0.0.bias" in info.state:
        raise Mismatch("the Linear layer at net.0.0 was built with bias=False and now has a bias: leave it without one.")
    first_problem(info, lambda name, w: normal_problem(w, std, before[f"{name}.weight"]), names=["0.0"])


@pytest.mark.blank("init_linear_normal", points=0.25, property=True)
def test_normal_others_untouched(sub, rng):
    """leaves the parameters of other module types (LayerNorm, Conv1d) as they were"""
    net, std = normal_net(rng), std_of(rng)
    before, others = net.state_dict(), other_param_keys(net)
    info = init_call(sub, "init_linear_normal", net, std).args[0]
    changed = [f"{key} ({kind})" for key, kind in others.items() if not torch.equal(info.state[key], before[key])]
    if changed:
        raise Mismatch(f"init_linear_normal changed {', '.join(changed)}: only nn.Linear layers are to be "
                       f"initialised (check isinstance(module, nn.Linear)).")


def parameters_kept(info, in_place_apis: str) -> None:
    """The network's Parameter objects survived the call, still float32 and requiring grad."""
    replaced = [p["name"] for p in info.params if not p["same"]]
    if replaced:
        raise Mismatch(f"after the call {', '.join(replaced)} are new Parameter objects, so an optimizer built earlier "
                       f"no longer sees them: fill the existing ones in place ({in_place_apis}).")
    wrong = [f"{p['name']} ({p['dtype']})" for p in info.params if p["dtype"] != "float32" or not p["rg"]]
    if wrong:
        raise Mismatch(f"after the call {', '.join(wrong)} are not float32 Parameters that require grad.")


@pytest.mark.blank("init_linear_normal", points=0.25, property=True)
def test_normal_in_place(sub, rng):
    """keeps the Parameter objects, float32"""
    net, std = normal_net(rng), std_of(rng)
    parameters_kept(init_call(sub, "init_linear_normal", net, std).args[0], "nn.init.normal_, tensor.normal_")


@pytest.mark.blank("init_linear_normal", points=0.25, property=True)
def test_normal_returns_net(sub, rng):
    """returns the network it was given"""
    net, std = normal_net(rng), std_of(rng)
    result = init_call(sub, "init_linear_normal", net, std)
    if result.returned_arg != 0:
        raise Mismatch(f"init_linear_normal should return the network it was given, got {describe(result.value)}: "
                       f"end with `return net`.")


# ----------------------------------------------------------------------------------------- init_xavier

XAVIER_CASES = {"wide and tall layers": 0, "other sizes": 1}


def xavier_net(rng: torch.Generator, case: int = 0, big: bool = True) -> nn.Module:
    """Square-ish, wide (fan_in >> fan_out) and tall (fan_out >> fan_in) Linear layers, nested, plus others;
    small layers where no distribution is judged (faster)."""
    j = randint(rng, 0, 20)
    if not big:
        sizes = [(12, 9), (9, 7), (7, 5)]
    elif case == 0:
        sizes = [(400 + j, 300), (600, 30 + j), (30 + j, 400)]
    else:
        sizes = [(300, 400 + j), (30 + j, 500), (700, 20 + j)]
    (a, b), (c, d), (e, f) = sizes
    return randomise(nn.Sequential(
        nn.Linear(a, b), nn.ReLU(),
        nn.Sequential(nn.Linear(c, d), nn.LayerNorm(d)),
        nn.ModuleList([nn.Linear(e, f)]),
        nn.Conv1d(2, 4, 3),
    ), rng)


def fans(info: ModuleInfo, name: str) -> tuple[int, int]:
    fan_out, fan_in = info.state[f"{name}.weight" if name else "weight"].shape
    return int(fan_in), int(fan_out)


@pytest.mark.blank("init_xavier", points=0.5)
@pytest.mark.parametrize("case", list(XAVIER_CASES))
def test_xavier_bound(sub, rng, case):
    """every Linear weight, nested ones included, fills [-a, a] with a = sqrt(6 / (fan_in + fan_out))"""
    net = xavier_net(rng, XAVIER_CASES[case])
    before = net.state_dict()
    info = initialised(init_call(sub, "init_xavier", net), "init_xavier", before)
    first_problem(info, lambda name, w: uniform_bound_problem(w, *fans(info, name), before[f"{name}.weight"]))


@pytest.mark.blank("init_xavier", points=0.5)
def test_xavier_distribution(sub, rng):
    """the weights are uniformly distributed (not normal)"""
    net = xavier_net(rng)
    info = init_call(sub, "init_xavier", net).args[0]
    first_problem(info, lambda name, w: uniform_shape_problem(w), names=["0"])


@pytest.mark.blank("init_xavier", points=0.5)
def test_xavier_bias_zero(sub, rng):
    """every Linear bias is set to 0"""
    info = init_call(sub, "init_xavier", xavier_net(rng, big=False)).args[0]
    for name in linear_names(info):
        bias = info.state[f"{name}.bias"]
        if bool((bias != 0).any()):
            raise Mismatch(f"{where(name)}: {int((bias != 0).sum())} of {bias.numel()} bias values are not 0: set "
                           f"each Linear's bias to 0 (nn.init.zeros_(module.bias)).")


@pytest.mark.blank("init_xavier", points=0.25, property=True)
def test_xavier_without_bias(sub, rng):
    """works on Linear layers built with bias=False (and leaves them without bias)"""
    net = no_bias_net(rng)
    before = net.state_dict()
    info = init_call(sub, "init_xavier", net).args[0]
    if "0.0.bias" in info.state:
        raise Mismatch("the Linear layer at net.0.0 was built with bias=False and now has a bias: leave it without one.")
    first_problem(info, lambda name, w: uniform_bound_problem(w, *fans(info, name), before[f"{name}.weight"]),
                  names=["0.0"])


@pytest.mark.blank("init_xavier", points=0.25, property=True)
def test_xavier_others_untouched(sub, rng):
    """leaves the parameters of other module types (LayerNorm, Conv1d) as they were"""
    net = xavier_net(rng, big=False)
    before, others = net.state_dict(), other_param_keys(net)
    info = init_call(sub, "init_xavier", net).args[0]
    changed = [f"{key} ({kind})" for key, kind in others.items() if not torch.equal(info.state[key], before[key])]
    if changed:
        raise Mismatch(f"init_xavier changed {', '.join(changed)}: only nn.Linear layers are to be initialised "
                       f"(check isinstance(module, nn.Linear)).")


@pytest.mark.blank("init_xavier", points=0.25, property=True)
def test_xavier_in_place(sub, rng):
    """keeps the Parameter objects, float32"""
    parameters_kept(init_call(sub, "init_xavier", xavier_net(rng, big=False)).args[0], "nn.init.uniform_, tensor.uniform_")


@pytest.mark.blank("init_xavier", points=0.25, property=True)
def test_xavier_returns_net(sub, rng):
    """returns the network it was given"""
    result = init_call(sub, "init_xavier", xavier_net(rng, big=False))
    if result.returned_arg != 0:
        raise Mismatch(f"init_xavier should return the network it was given, got {describe(result.value)}: "
                       f"end with `return net`.")
