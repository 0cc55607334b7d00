"""Self-checks of 06_initialization: set_weight_from_numpy, init_linear_normal, init_xavier.

The initialisers are run on a network with a nested nn.Linear, a LayerNorm and a Conv1d (which must stay as they
were), under ``torch.random.fork_rng`` with a fixed seed: the checks are deterministic and leave the notebook's
random numbers alone. Distributions are judged by sample statistics of a few thousand weights, against the Xavier
bounds of the network's layers written below as numbers (made by ``tools/selfcheck_numbers.py``, which prints them;
``--check`` compares): no code here computes a blank's answer.
"""
from __future__ import annotations

import math
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from autograder.i18n import N_, course_text as _
from autograder.selfcheck import selfcheck

# Made by tools/selfcheck_numbers.py: per nn.Linear(in, out) of the checks' network, [a, fan_in + fan_out] with a the
# bound of Xavier's uniform distribution U(-a, a) (the reference init_xavier's).
XAVIER_BOUNDS = {(40, 60): [0.2449489742783178, 100], (60, 80): [0.20701966780270625, 140],
                 (80, 10): [0.2581988897471611, 90]}


@contextmanager
def _seeded(seed: int = 0):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


# ---------------------------------------------------------------------------------- set_weight_from_numpy


def _layer_and_array():
    with _seeded():
        layer = nn.Linear(3, 2)
    array = np.arange(6, dtype=np.float64).reshape(2, 3) / 7.0 - 0.25
    return layer, array


def _set(set_weight_from_numpy):
    """(layer, result, array, weight Parameter before, bias before) after the call."""
    layer, array = _layer_and_array()
    weight, bias = layer.weight, layer.bias.detach().clone()
    try:
        result = set_weight_from_numpy(layer, array)
    except RuntimeError as error:
        if "leaf Variable" in str(error) or "requires grad" in str(error):
            raise AssertionError(_(
                "copying into layer.weight raised 'a leaf Variable that requires grad is being used in an in-place "
                "operation': do the copy inside `with torch.no_grad():`."
            )) from None
        raise
    return layer, result, array, weight, bias


@selfcheck("set_weight_from_numpy")
def numpy_returns_the_layer(set_weight_from_numpy):
    """returns the layer it was given"""
    layer, result = _set(set_weight_from_numpy)[:2]
    assert result is layer, (
        _("set_weight_from_numpy should return the layer it changed, got {type}: "
          "end with `return layer`.").format(type=type(result).__name__)
    )


@selfcheck("set_weight_from_numpy")
def numpy_keeps_the_parameter(set_weight_from_numpy):
    """keeps layer.weight the same Parameter object"""
    layer, _result, _array, weight, _bias = _set(set_weight_from_numpy)
    assert layer.weight is weight, _(
        "layer.weight is a new object after the call, so an optimizer built earlier still updates the old one: "
        "copy the values into the existing Parameter (layer.weight.copy_(...) under torch.no_grad())."
    )
    assert isinstance(layer.weight, nn.Parameter) and layer.weight.requires_grad, _(
        "layer.weight should stay a Parameter that requires grad."
    )


@selfcheck("set_weight_from_numpy")
def numpy_keeps_float32(set_weight_from_numpy):
    """keeps the weight float32"""
    layer = _set(set_weight_from_numpy)[0]
    assert layer.weight.dtype == torch.float32, (
        _("layer.weight is {dtype} after the call, but the layer computes in float32: "
          "torch.from_numpy keeps NumPy's float64; copy_ into the existing weight converts it.").format(
            dtype=layer.weight.dtype)
    )


@selfcheck("set_weight_from_numpy")
def numpy_copies_the_values(set_weight_from_numpy):
    """puts the array's values into the weight and leaves the bias alone"""
    layer, _result, array, _weight, bias = _set(set_weight_from_numpy)
    got = layer.weight.detach().double().numpy()
    assert got.shape == array.shape and np.allclose(got, array, atol=1e-6), (
        _("layer.weight should hold the array's values {want}, got {got}.").format(
            want=array.round(4).tolist(), got=got.round(4).tolist())
    )
    assert torch.equal(layer.bias.detach(), bias), _(
        "set_weight_from_numpy changed layer.bias: only the weight changes.")


# ---------------------------------------------------------------------------------- initialisers


class _Mixed(nn.Module):
    """Linear layers at the top and nested one level down, beside modules an initialiser must leave alone."""

    def __init__(self, nested_bias: bool = True):
        super().__init__()
        self.inp = nn.Linear(40, 60)
        self.body = nn.Sequential(nn.Tanh(), nn.Sequential(nn.Linear(60, 80, bias=nested_bias), nn.LayerNorm(80)))
        self.conv = nn.Conv1d(2, 3, 3)
        self.out = nn.Linear(80, 10)
        with torch.no_grad():  # values no initialiser would produce
            self.body[1][1].weight.fill_(0.7)
            self.body[1][1].bias.fill_(0.3)
            self.conv.bias.fill_(0.2)

    @property
    def nested(self) -> nn.Linear:
        return self.body[1][0]


def _run(init, *args, nested_bias: bool = True):
    """(net, result, parameters before as {name: (Parameter, copy)}) after ``init(net, *args)``."""
    with _seeded(1):
        net = _Mixed(nested_bias)
    before = {name: (p, p.detach().clone()) for name, p in net.named_parameters()}
    with _seeded(2):
        try:
            result = init(net, *args)
        except (AttributeError, TypeError) as error:
            if "NoneType" in str(error) and not nested_bias:
                raise AssertionError(
                    _("a Linear built with bias=False has module.bias = None, and your code failed on it "
                      "({type}: {error}): skip it with `if module.bias is not None`.").format(
                        type=type(error).__name__, error=error)
                ) from None
            raise
    return net, result, before


def _returns_net(init, *args):
    net, result, _before = _run(init, *args)
    assert result is net, (
        _("{name} should return the network it changed, got {type}: end with `return net`.").format(
            name=init.__name__, type=type(result).__name__)
    )


def _keeps_parameters(init, *args):
    net, _result, before = _run(init, *args)
    new = [name for name, p in net.named_parameters() if name not in before or before[name][0] is not p]
    assert not new, (
        _("{names} are new Parameter objects after {name}, so an optimizer built earlier would not "
          "see them: fill the existing ones in place (nn.init.normal_, nn.init.zeros_, ... under no_grad).").format(
            names=", ".join(new), name=init.__name__)
    )
    wrong = [f"{n} ({p.dtype})" for n, p in net.named_parameters() if p.dtype != torch.float32]
    assert not wrong, _("every parameter should stay float32, got {names}.").format(names=", ".join(wrong))


def _changed(net, before, name) -> bool:
    return not torch.equal(dict(net.named_parameters())[name].detach(), before[name][1])


def _changed_layers(net, before, names=("inp", "nested")) -> list[nn.Linear]:
    """The Linear layers among ``names`` whose weight changed (the others fail the nested-Linear check)."""
    weights = {"inp": "inp.weight", "nested": "body.1.0.weight", "out": "out.weight"}
    return [getattr(net, n) for n in names if _changed(net, before, weights[n])]


def _nested_reached(init, *args):
    net, _result, before = _run(init, *args)
    assert _changed(net, before, "inp.weight"), (
        _("{name} did not change the weight of a top-level nn.Linear: fill module.weight of every nn.Linear.").format(
            name=init.__name__)
    )
    assert _changed(net, before, "body.1.0.weight"), (
        _("{name} did not reach an nn.Linear nested inside an nn.Sequential: net.children() only yields "
          "direct submodules; loop over net.modules(), which walks the whole tree.").format(name=init.__name__)
    )


def _biases_zeroed(init, *args):
    net, _result, _before = _run(init, *args)
    for name, module in net.named_modules():
        if isinstance(module, nn.Linear):
            assert torch.count_nonzero(module.bias) == 0, (
                _("the bias of the nn.Linear {layer} is not 0 after {name}: set it with nn.init.zeros_.").format(
                    layer=repr(name), name=init.__name__)
            )


def _bias_free_layers_survive(init, *args):
    net, _result, _before = _run(init, *args, nested_bias=False)
    assert net.nested.bias is None, _(
        "a Linear built with bias=False should still have no bias afterwards: skip it instead of giving it one."
    )


def _others_untouched(init, *args):
    net, _result, before = _run(init, *args)
    touched = [name for name in ("body.1.1.weight", "body.1.1.bias", "conv.weight", "conv.bias")
               if _changed(net, before, name)]
    assert not touched, (
        _("{name} changed {names}, which belong to a LayerNorm and a Conv1d: "
          "only initialise modules that are nn.Linear (isinstance(module, nn.Linear)).").format(
            name=init.__name__, names=", ".join(touched))
    )


# ---------------------------------------------------------------------------------- init_linear_normal

STD = 0.5


@selfcheck("init_linear_normal")
def normal_returns_the_net(init_linear_normal):
    """returns the network it was given"""
    _returns_net(init_linear_normal, STD)


@selfcheck("init_linear_normal")
def normal_keeps_the_parameters(init_linear_normal):
    """keeps the same float32 Parameter objects"""
    _keeps_parameters(init_linear_normal, STD)


@selfcheck("init_linear_normal")
def normal_reaches_nested_linears(init_linear_normal):
    """reaches every nn.Linear, nested ones included"""
    _nested_reached(init_linear_normal, STD)


@selfcheck("init_linear_normal")
def normal_has_the_requested_std(init_linear_normal):
    """draws weights with mean 0 and the requested standard deviation"""
    for std in (STD, 2.0):
        net, _result, before = _run(init_linear_normal, std)
        for layer in _changed_layers(net, before):
            w = layer.weight.detach()
            got_std, got_mean = w.std().item(), w.mean().item()
            if abs(got_std / std - 1) < 0.1 and abs(got_mean) < 0.1 * std:
                continue
            if abs(got_std / std**2 - 1) < 0.1:
                sentence = N_("with std = {std} the weights of a {shape} Linear should have standard deviation {std}, "
                              "got mean {mean} and std {got}: you passed the variance std**2, but "
                              "normal_(w, mean, std) takes the standard deviation.")
            elif abs(got_std / math.sqrt(std) - 1) < 0.1:
                sentence = N_("with std = {std} the weights of a {shape} Linear should have standard deviation {std}, "
                              "got mean {mean} and std {got}: you passed sqrt(std), but normal_(w, mean, std) takes "
                              "the standard deviation itself.")
            elif abs(got_mean) >= 0.1 * std:
                sentence = N_("with std = {std} the weights of a {shape} Linear should have standard deviation {std}, "
                              "got mean {mean} and std {got}: the mean should be 0: "
                              "nn.init.normal_(w, mean=0.0, std=std).")
            else:
                sentence = N_("with std = {std} the weights of a {shape} Linear should have standard deviation {std}, "
                              "got mean {mean} and std {got}: fill it with "
                              "nn.init.normal_(module.weight, mean=0.0, std=std).")
            raise AssertionError(_(sentence).format(std=std, shape=tuple(w.shape), mean=f"{got_mean:.3f}",
                                                    got=f"{got_std:.3f}"))


@selfcheck("init_linear_normal")
def normal_zeroes_the_biases(init_linear_normal):
    """sets every nn.Linear's bias to 0"""
    _biases_zeroed(init_linear_normal, STD)


@selfcheck("init_linear_normal")
def normal_handles_bias_free_layers(init_linear_normal):
    """leaves a bias=False layer without a bias"""
    _bias_free_layers_survive(init_linear_normal, STD)


@selfcheck("init_linear_normal")
def normal_leaves_other_modules_alone(init_linear_normal):
    """leaves modules that are not nn.Linear untouched"""
    _others_untouched(init_linear_normal, STD)


# ---------------------------------------------------------------------------------- init_xavier


def _bound(layer: nn.Linear) -> float:
    return XAVIER_BOUNDS[(layer.in_features, layer.out_features)][0]


def _fans(layer: nn.Linear) -> int:
    return XAVIER_BOUNDS[(layer.in_features, layer.out_features)][1]


@selfcheck("init_xavier")
def xavier_returns_the_net(init_xavier):
    """returns the network it was given"""
    _returns_net(init_xavier)


@selfcheck("init_xavier")
def xavier_keeps_the_parameters(init_xavier):
    """keeps the same float32 Parameter objects"""
    _keeps_parameters(init_xavier)


@selfcheck("init_xavier")
def xavier_reaches_nested_linears(init_xavier):
    """reaches every nn.Linear, nested ones included"""
    _nested_reached(init_xavier)


@selfcheck("init_xavier")
def xavier_respects_the_bound(init_xavier):
    """keeps every weight inside (-a, a), a = sqrt(6 / (fan_in + fan_out))"""
    net, _result, _before = _run(init_xavier)
    for name in ("inp", "nested", "out"):
        layer = getattr(net, name)
        a, top = _bound(layer), layer.weight.detach().abs().max().item()
        assert top <= a * (1 + 1e-6), (
            _("a {shape} Linear's weights should lie in (-{a}, {a}), the largest is "
              "{top}: draw from U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), gain 1 and not a normal "
              "distribution (nn.init.xavier_uniform_).").format(shape=tuple(layer.weight.shape), a=f"{a:.4f}",
                                                                top=f"{top:.4f}")
        )


@selfcheck("init_xavier")
def xavier_fills_the_whole_range(init_xavier):
    """spreads the weights over the whole of (-a, a)"""
    net, _result, before = _run(init_xavier)
    for layer in _changed_layers(net, before):
        a, top = _bound(layer), layer.weight.detach().abs().max().item()
        assert top > 0.95 * a, (
            _("a {shape} Linear's weights should fill (-{a}, {a}), the largest is only "
              "{top}: the bound is a = sqrt(6 / (fan_in + fan_out)), with fan_in + fan_out = "
              "{fans}.").format(shape=tuple(layer.weight.shape), a=f"{a:.4f}", top=f"{top:.4f}", fans=_fans(layer))
        )


@selfcheck("init_xavier")
def xavier_is_uniform(init_xavier):
    """draws from a uniform, not a normal, distribution"""
    net, _result, before = _run(init_xavier)
    for layer in _changed_layers(net, before):
        w = layer.weight.detach()
        inner = (w.abs() < _bound(layer) / 2).float().mean().item()
        assert abs(inner - 0.5) < 0.06, (
            _("{share} of a {shape} Linear's weights lie within half the bound, where a uniform "
              "U(-a, a) puts 50%: use the uniform version, nn.init.xavier_uniform_, not xavier_normal_.").format(
                share=f"{inner:.0%}", shape=tuple(w.shape))
        )


@selfcheck("init_xavier")
def xavier_zeroes_the_biases(init_xavier):
    """sets every nn.Linear's bias to 0"""
    _biases_zeroed(init_xavier)


@selfcheck("init_xavier")
def xavier_handles_bias_free_layers(init_xavier):
    """leaves a bias=False layer without a bias"""
    _bias_free_layers_survive(init_xavier)


@selfcheck("init_xavier")
def xavier_leaves_other_modules_alone(init_xavier):
    """leaves modules that are not nn.Linear untouched"""
    _others_untouched(init_xavier)
