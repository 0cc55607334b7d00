"""Self-checks of 04_modules: make_seq_net, TwoBranchNet, save_weights, load_weights.

Everything the student's code builds is built under ``torch.random.fork_rng``, so running a check does not
change the random numbers the rest of the notebook sees.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from unittest import mock

import torch
from torch import nn

from autograder.selfcheck import selfcheck

SEQ_KEYS = ["0.weight", "0.bias", "2.weight", "2.bias"]
TWO_BRANCH_KEYS = ["layer1.weight", "layer1.bias", "layer2.0.weight", "layer2.0.bias",
                   "layer2.2.weight", "layer2.2.bias"]


@contextmanager
def _seeded(seed: int = 0):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextmanager
def _tmp_path(name: str = "weights.pt"):
    with tempfile.TemporaryDirectory() as folder:
        yield os.path.join(folder, name)


def _describe(module: nn.Module) -> str:
    return ", ".join(repr(m) for m in module.children()) or repr(module)


# ---------------------------------------------------------------------------------- make_seq_net


def _seq_net(make_seq_net, *sizes: int) -> nn.Sequential:
    with _seeded():
        net = make_seq_net(*sizes)
    assert isinstance(net, nn.Sequential), (
        f"make_seq_net should return an nn.Sequential, got {type(net).__name__}: "
        "return nn.Sequential(nn.Linear(...), nn.Tanh(), nn.Linear(...))."
    )
    return net


@selfcheck("make_seq_net")
def seq_net_is_sequential(make_seq_net):
    """returns an nn.Sequential"""
    _seq_net(make_seq_net, 3, 5, 2)


@selfcheck("make_seq_net")
def seq_net_has_the_layers(make_seq_net):
    """holds Linear(n_in, n_hidden), Tanh(), Linear(n_hidden, n_out) in that order"""
    for n_in, n_hidden, n_out in ((3, 5, 2), (7, 11, 4)):
        net = _seq_net(make_seq_net, n_in, n_hidden, n_out)
        call, layers = f"make_seq_net({n_in}, {n_hidden}, {n_out})", list(net)
        ok = (len(layers) == 3 and isinstance(layers[0], nn.Linear) and isinstance(layers[1], nn.Tanh)
              and isinstance(layers[2], nn.Linear))
        assert ok, (
            f"{call} should hold Linear({n_in}, {n_hidden}), Tanh(), Linear({n_hidden}, {n_out}), "
            f"got [{_describe(net)}]: three layers, with Tanh (not ReLU or Sigmoid) in the middle."
        )
        sizes = (layers[0].in_features, layers[0].out_features, layers[2].in_features, layers[2].out_features)
        assert sizes == (n_in, n_hidden, n_hidden, n_out), (
            f"{call} should hold Linear({n_in}, {n_hidden}) and Linear({n_hidden}, {n_out}), got [{_describe(net)}]: "
            "build the layers from n_in, n_hidden and n_out, in that order, not from fixed numbers."
        )


@selfcheck("make_seq_net")
def seq_net_state_dict_keys(make_seq_net):
    """has state_dict keys 0.weight, 0.bias, 2.weight, 2.bias"""
    keys = list(_seq_net(make_seq_net, 3, 5, 2).state_dict())
    assert keys == SEQ_KEYS, (
        f"the state_dict keys should be {SEQ_KEYS}, got {keys}: pass the three layers straight to nn.Sequential "
        "(no OrderedDict names, no extra layers), so the Linear layers sit at index 0 and 2."
    )


@selfcheck("make_seq_net")
def seq_net_uses_its_arguments(make_seq_net):
    """maps (N, n_in) to (N, n_out) float32 for other sizes too"""
    net = _seq_net(make_seq_net, 7, 11, 4)
    out = net(torch.zeros(6, 7))
    assert tuple(out.shape) == (6, 4), (
        f"make_seq_net(7, 11, 4) applied to a (6, 7) batch should give shape (6, 4), got {tuple(out.shape)}."
    )
    assert out.dtype == torch.float32, f"the network's output should be float32, got {out.dtype}."


# ---------------------------------------------------------------------------------- TwoBranchNet


def _two_branch(TwoBranchNet, n_in=3, n_hidden=5, n_out=2) -> nn.Module:
    assert isinstance(TwoBranchNet, type) and issubclass(TwoBranchNet, nn.Module), (
        "check(TwoBranchNet) takes the class itself, which must subclass nn.Module."
    )
    with _seeded():
        return TwoBranchNet(n_in, n_hidden, n_out)


def _batch(n: int, d: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


@selfcheck("TwoBranchNet")
def two_branch_state_dict_keys(TwoBranchNet):
    """is an nn.Module with the given layer1 and layer2"""
    keys = list(_two_branch(TwoBranchNet).state_dict())
    assert keys == TWO_BRANCH_KEYS, (
        f"the state_dict keys should be {TWO_BRANCH_KEYS}, got {keys}: keep __init__ as it was given."
    )


@selfcheck("TwoBranchNet")
def two_branch_output_shape(TwoBranchNet):
    """forward maps (N, n_in) to one (N, n_out) float32 tensor"""
    out = _two_branch(TwoBranchNet)(_batch(4, 3))
    assert isinstance(out, torch.Tensor), (
        f"forward should return one tensor, got {type(out).__name__}: add the two branches' outputs."
    )
    assert tuple(out.shape) == (4, 2), (
        f"forward on a (4, 3) batch with n_out = 2 should give shape (4, 2), got {tuple(out.shape)}: "
        "add the branches elementwise (+), do not concatenate them."
    )
    assert out.dtype == torch.float32, f"forward should return float32, got {out.dtype}."


@selfcheck("TwoBranchNet")
def two_branch_adds_the_branches(TwoBranchNet):
    """forward returns layer1(x) + layer2(x)"""
    net = _two_branch(TwoBranchNet)
    x = _batch(4, 3)
    with torch.no_grad():
        out = net(x)
        one, two = net.layer1(x), net.layer2(x)
    assert isinstance(out, torch.Tensor) and out.shape == one.shape, (
        "forward(x) should return one tensor of the branches' shape: see the shape check."
    )
    if torch.allclose(out, one + two, atol=1e-6):
        return
    hints = [(one, "you returned layer1(x) only"), (two, "you returned layer2(x) only"),
             (one * two, "you multiplied the branches")]
    hint = next((h for value, h in hints if torch.allclose(out, value, atol=1e-6)),
                "both branches read the same input x")
    raise AssertionError(f"forward(x) should be layer1(x) + layer2(x): {hint}.")


@selfcheck("TwoBranchNet")
def two_branch_trains_every_parameter(TwoBranchNet):
    """gradients reach every parameter"""
    net = _two_branch(TwoBranchNet)
    net(_batch(4, 3)).sum().backward()
    missing = [name for name, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, (
        f"after backward, {', '.join(missing)} got no gradient: use both branches in forward and "
        "do not detach or wrap anything in torch.no_grad()."
    )


# ---------------------------------------------------------------------------------- save_weights


def _net() -> nn.Module:
    with _seeded(2):
        return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))


def _saved(save_weights, net: nn.Module, path: str):
    save_weights(net, path)
    assert os.path.exists(path), (
        "save_weights(net, path) wrote no file at path: call torch.save(net.state_dict(), path)."
    )
    try:
        return torch.load(path, weights_only=True)
    except Exception:
        raise AssertionError(
            "torch.load(path, weights_only=True) cannot read the file save_weights wrote: "
            "did you pickle the whole model with torch.save(net)? Save net.state_dict() instead."
        ) from None


@selfcheck("save_weights")
def save_weights_writes_a_loadable_file(save_weights):
    """writes a file that torch.load(path, weights_only=True) reads"""
    with _tmp_path() as path:
        _saved(save_weights, _net(), path)


@selfcheck("save_weights")
def save_weights_saves_the_state_dict(save_weights):
    """saves the state_dict: the same keys and values"""
    net = _net()
    with _tmp_path() as path:
        loaded = _saved(save_weights, net, path)
    want = net.state_dict()
    assert isinstance(loaded, dict) and list(loaded) == list(want), (
        f"the saved file should hold the state_dict, with keys {list(want)}, got "
        f"{list(loaded) if isinstance(loaded, dict) else type(loaded).__name__}: save net.state_dict()."
    )
    for key, value in want.items():
        assert isinstance(loaded[key], torch.Tensor) and torch.equal(loaded[key], value), (
            f"the saved {key} differs from the network's: save net.state_dict() as it is."
        )


@selfcheck("save_weights")
def save_weights_leaves_net_alone(save_weights):
    """does not change the network"""
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with _tmp_path() as path:
        save_weights(net, path)
    after = net.state_dict()
    assert list(after) == list(before) and all(torch.equal(after[k], v) for k, v in before.items()), (
        "save_weights changed the network's parameters: it should only write them to the file."
    )


# ---------------------------------------------------------------------------------- load_weights


def _load(load_weights):
    """(net, result, saved state_dict, params before, torch.load calls): net's weights loaded from another net's."""
    source = _net()
    with _seeded(3):
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    params = list(net.parameters())
    calls = []
    real_load = torch.load

    def recording_load(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    with _tmp_path() as path:
        torch.save(source.state_dict(), path)
        with mock.patch.object(torch, "load", recording_load), _seeded(3):
            result = load_weights(net, path)
    return net, result, source.state_dict(), params, calls


@selfcheck("load_weights")
def load_weights_returns_the_net(load_weights):
    """returns the network it was given"""
    net, result, *_ = _load(load_weights)
    assert result is net, (
        f"load_weights should return the network it loaded into, got {type(result).__name__}: "
        "load_state_dict returns a report of the keys, not the network, so end with `return net`."
    )


@selfcheck("load_weights")
def load_weights_loads_the_values(load_weights):
    """puts the saved values into the network"""
    net, _, saved, _, _ = _load(load_weights)
    got = net.state_dict()
    wrong = [k for k, v in saved.items() if k not in got or not torch.equal(got[k], v)]
    assert not wrong, (
        f"after load_weights the network's {', '.join(wrong)} differ from the saved ones: "
        "call net.load_state_dict(torch.load(path, weights_only=True))."
    )


@selfcheck("load_weights")
def load_weights_keeps_the_parameters(load_weights):
    """copies into the network's existing Parameters"""
    net, _, _, params, _ = _load(load_weights)
    assert all(a is b for a, b in zip(net.parameters(), params, strict=True)), (
        "after load_weights the network holds new Parameter objects, so an optimizer built earlier no longer "
        "sees them: use net.load_state_dict(...), which copies the values in place."
    )


@selfcheck("load_weights")
def load_weights_loads_safely(load_weights):
    """reads the file with torch.load(path, weights_only=True)"""
    *_, calls = _load(load_weights)
    assert calls, "load_weights should read the file with torch.load(path, weights_only=True)."
    assert all(kw.get("weights_only", True) is not False for kw in calls), (
        "load_weights calls torch.load with weights_only=False, which can run arbitrary code from the file: "
        "a state_dict loads with weights_only=True."
    )
