"""Self-checks of 04_modules: make_seq_net, TwoBranchNet, save_weights, load_weights.

Everything the student's code builds is built under ``torch.random.fork_rng``, so running a check does not
change the random numbers the rest of the notebook sees. The networks the checks run get fixed parameters (below),
and the expected outputs are numbers computed once from the reference solutions by ``tools/selfcheck_numbers.py``
(which prints them; ``--check`` compares): no code here computes a blank's answer.
"""
from __future__ import annotations

import os
import tempfile
from collections import OrderedDict
from contextlib import contextmanager
from unittest import mock

import torch
from torch import nn
from autograder.i18n import N_, course_text as _
from autograder.selfcheck import selfcheck

SEQ_KEYS = ["0.weight", "0.bias", "2.weight", "2.bias"]
TWO_BRANCH_KEYS = ["layer1.weight", "layer1.bias", "layer2.0.weight", "layer2.0.bias",
                   "layer2.2.weight", "layer2.2.bias"]
TWO_BRANCH_SIZES = (3, 5, 2)  # n_in, n_hidden, n_out

# The parameters the forward check gives a TwoBranchNet(3, 5, 2) (those torch.manual_seed(0) draws for the given
# __init__), and the batch it runs on (torch.randn(4, 3) of a generator seeded with 1), written out.
TWO_BRANCH_PARAMETERS = {
    "layer1.weight": [[-0.0043225177, 0.30971584, -0.47518533], [-0.4248946, -0.22236897, 0.15482073]],
    "layer1.bias": [-0.011439145, 0.45777494],
    "layer2.0.weight": [[-0.0512364, 0.15277413, -0.1744828], [-0.11348708, -0.5515707, -0.38236874],
                        [-0.23799711, 0.021387115, 0.22824688], [0.34642333, -0.39140946, -0.25141457],
                        [0.20970349, 0.4794247, -0.11881878]],
    "layer2.0.bias": [0.43203798, -0.09305926, 0.0610918, 0.5227769, -0.5355907],
    "layer2.2.weight": [[-0.28153792, -0.11321894, -0.17432384, 0.3863929, -0.28987476],
                        [-0.20586711, -0.3124415, -0.4188428, -0.26105666, 0.3844239]],
    "layer2.2.bias": [0.19955492, 0.21675216],
}
TWO_BRANCH_X = [[0.66135216, 0.2669241, 0.06167726], [0.6213173, -0.45190597, -0.16613023],
                [-1.5227685, 0.38168392, -1.0276086], [-0.5630528, -0.89229053, -0.058250178]]
# Made by tools/selfcheck_numbers.py from solutions/modules.py on the parameters and batch above.
# TwoBranchNet's forward
TWO_BRANCH_OUT = [[0.36223567, 0.09060715], [0.37576866, 0.11479603], [0.56694275, 0.7319756], [0.031561583, 0.6339298]]
# layer1(x) alone (a known mistake)
TWO_BRANCH_LAYER1 = [[0.039064642, 0.12696326], [-0.07514458, 0.26855004], [0.60166115, 0.86082125],
                     [-0.25768223, 0.8864124]]
# layer2(x) alone (a known mistake)
TWO_BRANCH_LAYER2 = [[0.32317102, -0.036356106], [0.45091325, -0.15375401], [-0.034718394, -0.12884562],
                     [0.28924382, -0.2524826]]
# layer1(x) * layer2(x) (a known mistake)
TWO_BRANCH_PRODUCT = [[0.01262456, -0.00461589], [-0.033883687, -0.041290645], [-0.020888709, -0.110913046],
                      [-0.07453299, -0.2238037]]

# The parameters of the network that save_weights saves and load_weights loads (Linear(3, 4), Tanh, Linear(4, 2)).
WEIGHTS = {
    "0.weight": [[0.27, 1.07, -0.44], [-1.04, 0.92, -0.28], [0.52, -0.63, 0.21], [-0.65, 0.22, -0.57]],
    "0.bias": [-0.41, -0.46, -0.04, 0.55],
    "2.weight": [[-0.43, -0.07, -0.34, 0.5], [-0.08, 0.34, -0.43, 1.25]],
    "2.bias": [-0.28, 0.58],
}


@contextmanager
def _seeded(seed: int = 0):
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextmanager
def _tmp_path(name: str = "weights.pt"):
    with tempfile.TemporaryDirectory() as folder:
        yield os.path.join(folder, name)


def _set_parameters(net: nn.Module, values: dict) -> None:
    """Give ``net``'s parameters the fixed ``values`` (by name, in place: its Parameter objects are kept)."""
    params = dict(net.named_parameters())
    shapes = {k: tuple(torch.tensor(v).shape) for k, v in values.items()}
    assert list(params) == list(values) and all(tuple(p.shape) == shapes[k] for k, p in params.items()), (
        _("the parameters should be {expected}, got {got}: keep __init__ as it was given.").format(
            expected=", ".join(f"{k} {shapes[k]}" for k in values),
            got=", ".join(f"{k} {tuple(p.shape)}" for k, p in params.items())))
    flat = torch.cat([torch.tensor(v).flatten() for v in values.values()])
    nn.utils.vector_to_parameters(flat, params.values())


def _describe(module: nn.Module) -> str:
    return ", ".join(repr(m) for m in module.children()) or repr(module)


# ---------------------------------------------------------------------------------- make_seq_net


def _seq_net(make_seq_net, *sizes: int) -> nn.Sequential:
    with _seeded():
        net = make_seq_net(*sizes)
    assert isinstance(net, nn.Sequential), (
        _("make_seq_net should return an nn.Sequential, got {type}: return nn.Sequential(nn.Linear(...), nn.Tanh(), "
          "nn.Linear(...)).").format(type=type(net).__name__)
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
            _("{call} should hold Linear({n_in}, {n_hidden}), Tanh(), Linear({n_hidden}, {n_out}), got [{got}]: three "
              "layers, with Tanh (not ReLU or Sigmoid) in the middle.").format(
                call=call, n_in=n_in, n_hidden=n_hidden, n_out=n_out, got=_describe(net)))
        sizes = (layers[0].in_features, layers[0].out_features, layers[2].in_features, layers[2].out_features)
        assert sizes == (n_in, n_hidden, n_hidden, n_out), (
            _("{call} should hold Linear({n_in}, {n_hidden}) and Linear({n_hidden}, {n_out}), got [{got}]: build the "
              "layers from n_in, n_hidden and n_out, in that order, not from fixed numbers.").format(
                call=call, n_in=n_in, n_hidden=n_hidden, n_out=n_out, got=_describe(net)))


@selfcheck("make_seq_net")
def seq_net_state_dict_keys(make_seq_net):
    """has state_dict keys 0.weight, 0.bias, 2.weight, 2.bias"""
    keys = list(_seq_net(make_seq_net, 3, 5, 2).state_dict())
    assert keys == SEQ_KEYS, (
        _("the state_dict keys should be {expected}, got {got}: pass the three layers straight to nn.Sequential "
          "(no OrderedDict names, no extra layers), so the Linear layers sit at index 0 and 2.").format(
            expected=SEQ_KEYS, got=keys))


@selfcheck("make_seq_net")
def seq_net_uses_its_arguments(make_seq_net):
    """maps (N, n_in) to (N, n_out) float32 for other sizes too"""
    net = _seq_net(make_seq_net, 7, 11, 4)
    out = net(torch.zeros(6, 7))
    assert tuple(out.shape) == (6, 4), _("make_seq_net(7, 11, 4) applied to a (6, 7) batch should give shape (6, 4), "
                                         "got {got}.").format(got=tuple(out.shape))
    assert out.dtype == torch.float32, _("the network's output should be float32, got {dtype}.").format(
        dtype=out.dtype)


# ---------------------------------------------------------------------------------- TwoBranchNet


def _two_branch(TwoBranchNet) -> nn.Module:
    assert isinstance(TwoBranchNet, type) and issubclass(TwoBranchNet, nn.Module), (
        _("check(TwoBranchNet) takes the class itself, which must subclass nn.Module.")
    )
    with _seeded():
        return TwoBranchNet(*TWO_BRANCH_SIZES)


def _batch(n: int, d: int, seed: int = 1) -> torch.Tensor:
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


@selfcheck("TwoBranchNet")
def two_branch_state_dict_keys(TwoBranchNet):
    """is an nn.Module with the given layer1 and layer2"""
    keys = list(_two_branch(TwoBranchNet).state_dict())
    assert keys == TWO_BRANCH_KEYS, (
        _("the state_dict keys should be {expected}, got {got}: keep __init__ as it was given.").format(
            expected=TWO_BRANCH_KEYS, got=keys))


@selfcheck("TwoBranchNet")
def two_branch_output_shape(TwoBranchNet):
    """forward maps (N, n_in) to one (N, n_out) float32 tensor"""
    out = _two_branch(TwoBranchNet)(_batch(4, 3))
    assert isinstance(out, torch.Tensor), (
        _("forward should return one tensor, got {type}: add the two branches' outputs.").format(
            type=type(out).__name__))
    assert tuple(out.shape) == (4, 2), (
        _("forward on a (4, 3) batch with n_out = 2 should give shape (4, 2), got {got}: add the branches "
          "elementwise (+), do not concatenate them.").format(got=tuple(out.shape))
    )
    assert out.dtype == torch.float32, _("forward should return float32, got {dtype}.").format(dtype=out.dtype)


@selfcheck("TwoBranchNet")
def two_branch_adds_the_branches(TwoBranchNet):
    """forward returns layer1(x) + layer2(x)"""
    net = _two_branch(TwoBranchNet)
    if not _given_layers(net):
        return  # the numbers are those of the given layers: an edited __init__ is the first check's (and hidden tests')
    _set_parameters(net, TWO_BRANCH_PARAMETERS)
    with torch.no_grad():
        out = net(torch.tensor(TWO_BRANCH_X))
    want = torch.tensor(TWO_BRANCH_OUT)
    assert isinstance(out, torch.Tensor) and out.shape == want.shape, (
        _("forward(x) should return one tensor of the branches' shape: see the shape check.")
    )
    if torch.allclose(out, want, atol=1e-6):
        return
    hints = [(TWO_BRANCH_LAYER1, "layer1(x) only"), (TWO_BRANCH_LAYER2, "layer2(x) only"),
             (TWO_BRANCH_PRODUCT, "multiplied")]
    hint = next((h for value, h in hints if torch.allclose(out, torch.tensor(value), atol=1e-6)),
                "same input")
    raise AssertionError(_(NOT_THE_SUM[hint]))


def _given_layers(net: nn.Module) -> bool:
    """Whether ``net`` holds the layers TwoBranchNet's __init__ was given, with the shapes of TWO_BRANCH_PARAMETERS."""
    types = [type(m) for m in net.modules()][1:]
    shapes = {k: tuple(torch.tensor(v).shape) for k, v in TWO_BRANCH_PARAMETERS.items()}
    return types == [nn.Linear, nn.Sequential, nn.Linear, nn.ReLU, nn.Linear] and \
        {k: tuple(p.shape) for k, p in net.named_parameters()} == shapes


@selfcheck("TwoBranchNet")
def two_branch_trains_every_parameter(TwoBranchNet):
    """gradients reach every parameter"""
    net = _two_branch(TwoBranchNet)
    net(_batch(4, 3)).sum().backward()
    missing = [name for name, p in net.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing, (
        _("after backward, {names} got no gradient: use both branches in forward and do not detach or wrap "
          "anything in torch.no_grad().").format(names=", ".join(missing))
    )


# ---------------------------------------------------------------------------------- save_weights


def _net() -> nn.Module:
    """The network the save and load checks use, with the parameters WEIGHTS."""
    with _seeded(2):
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    _set_parameters(net, WEIGHTS)
    return net


def _weights() -> OrderedDict[str, torch.Tensor]:
    """WEIGHTS as tensors, in an OrderedDict as a state_dict is."""
    return OrderedDict((k, torch.tensor(v)) for k, v in WEIGHTS.items())


def _saved(save_weights, net: nn.Module, path: str):
    save_weights(net, path)
    assert os.path.exists(path), (
        _("save_weights(net, path) wrote no file at path: call torch.save(net.state_dict(), path).")
    )
    try:
        return torch.load(path, weights_only=True)
    except Exception:
        raise AssertionError(
            _("torch.load(path, weights_only=True) cannot read the file save_weights wrote: did you pickle the whole "
              "model with torch.save(net)? Save net.state_dict() instead.")
        ) from None


@selfcheck("save_weights")
def save_weights_writes_a_loadable_file(save_weights):
    """writes a file that torch.load(path, weights_only=True) reads"""
    with _tmp_path() as path:
        _saved(save_weights, _net(), path)


@selfcheck("save_weights")
def save_weights_saves_the_state_dict(save_weights):
    """saves the state_dict: the same keys and values"""
    with _tmp_path() as path:
        loaded = _saved(save_weights, _net(), path)
    want = _weights()
    assert isinstance(loaded, dict) and list(loaded) == list(want), (
        _("the saved file should hold the state_dict, with keys {expected}, got {got}: save net.state_dict().").format(
            expected=list(want), got=list(loaded) if isinstance(loaded, dict) else type(loaded).__name__)
    )
    for key, value in want.items():
        assert isinstance(loaded[key], torch.Tensor) and torch.equal(loaded[key], value), (
            _("the saved {key} differs from the network's: save net.state_dict() as it is.").format(key=key)
        )


@selfcheck("save_weights")
def save_weights_leaves_net_alone(save_weights):
    """does not change the network"""
    net = _net()
    before = _weights()
    with _tmp_path() as path:
        save_weights(net, path)
    after = net.state_dict()
    assert list(after) == list(before) and all(torch.equal(after[k], v) for k, v in before.items()), (
        _("save_weights changed the network's parameters: it should only write them to the file.")
    )


# ---------------------------------------------------------------------------------- load_weights


def _load(load_weights):
    """(net, result, saved state_dict, params before, torch.load calls): net's weights loaded from a file that holds
    WEIGHTS, as a state_dict of another network would."""
    saved = _weights()
    with _seeded(3):
        net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    params = list(net.parameters())
    calls = []
    real_load = torch.load

    def recording_load(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    with _tmp_path() as path:
        torch.save(saved, path)
        with mock.patch.object(torch, "load", recording_load), _seeded(3):
            result = load_weights(net, path)
    return net, result, saved, params, calls


@selfcheck("load_weights")
def load_weights_returns_the_net(load_weights):
    """returns the network it was given"""
    net, result, *_rest = _load(load_weights)
    assert result is net, (
        _("load_weights should return the network it loaded into, got {type}: load_state_dict returns a report of "
          "the keys, not the network, so end with `return net`.").format(type=type(result).__name__)
    )


@selfcheck("load_weights")
def load_weights_loads_the_values(load_weights):
    """puts the saved values into the network"""
    net, _result, saved, _params, _calls = _load(load_weights)
    got = net.state_dict()
    wrong = [k for k, v in saved.items() if k not in got or not torch.equal(got[k], v)]
    assert not wrong, (
        _("after load_weights the network's {keys} differ from the saved ones: call "
          "net.load_state_dict(torch.load(path, weights_only=True)).").format(keys=", ".join(wrong))
    )


@selfcheck("load_weights")
def load_weights_keeps_the_parameters(load_weights):
    """copies into the network's existing Parameters"""
    net, _result, _saved, params, _calls = _load(load_weights)
    assert all(a is b for a, b in zip(net.parameters(), params, strict=True)), (
        _("after load_weights the network holds new Parameter objects, so an optimizer built earlier no longer "
          "sees them: use net.load_state_dict(...), which copies the values in place.")
    )


@selfcheck("load_weights")
def load_weights_loads_safely(load_weights):
    """reads the file with torch.load(path, weights_only=True)"""
    *_rest, calls = _load(load_weights)
    assert calls, _("load_weights should read the file with torch.load(path, weights_only=True).")
    assert all(kw.get("weights_only", True) is not False for kw in calls), (
        _("load_weights calls torch.load with weights_only=False, which can run arbitrary code from the file: a "
          "state_dict loads with weights_only=True.")
    )


# What two_branch_adds_the_branches says of a forward that is not layer1(x) + layer2(x), by the known mistake its
# output matches: whole sentences for the translators, kept at the end of the file so that the checks above keep their
# line numbers (which the report of an error raised in a check quotes).
NOT_THE_SUM = {
    "layer1(x) only": N_("forward(x) should be layer1(x) + layer2(x): you returned layer1(x) only."),
    "layer2(x) only": N_("forward(x) should be layer1(x) + layer2(x): you returned layer2(x) only."),
    "multiplied": N_("forward(x) should be layer1(x) + layer2(x): you multiplied the branches."),
    "same input": N_("forward(x) should be layer1(x) + layer2(x): both branches read the same input x."),
}
