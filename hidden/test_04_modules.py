"""Hidden tests for 04_modules: make_seq_net, TwoBranchNet, save_weights, load_weights.

Each test says what it judges (autograder.grading.policy): "value" on typical sizes and networks, "edge" on a size of 1,
"property" for the structure, the computation graph, the file format, the Parameter objects and what is
returned.

Modules are judged by behaviour: the reference weights (drawn from ``rng``) are loaded into the module the
submission built, inside the sandbox, and its outputs are compared with the reference module's. Files are
written in the sandbox's scratch folder under relative names and read back there with
``torch.load(path, weights_only=True)`` (``sub.load``); the file ``load_weights`` reads is written by the
grader itself (``sub.save``), so load_weights is judged independently of save_weights.
"""
from __future__ import annotations

import copy
from typing import Any, Callable, Iterator

import pytest
import torch
from torch import nn

from autograder.protocol.codec import Foreign, ModuleInfo
from autograder.grading.compare import Mismatch, describe, expect, feedback, gradients_reach, judged, qualified_name
from autograder.grading.submission import SubmissionError
from autograder.i18n import course_text as _

ASSIGNMENT = "04_modules"

SEQ_KEYS = ["0.weight", "0.bias", "2.weight", "2.bias"]
TWO_BRANCH_KEYS = ["layer1.weight", "layer1.bias", "layer2.0.weight", "layer2.0.bias",
                   "layer2.2.weight", "layer2.2.bias"]


# ------------------------------------------------------------------------------------------- helpers


def randint(rng: torch.Generator, lo: int, hi: int) -> int:
    """An int in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (1,), generator=rng))


def random_state(net: nn.Module, rng: torch.Generator) -> dict[str, torch.Tensor]:
    """Fresh values for every entry of ``net``'s state_dict, loaded into ``net`` too; a plain dict."""
    state = {}
    for key, value in net.state_dict().items():
        if value.is_floating_point():
            new = torch.randn(value.shape, generator=rng)
            if key.endswith("running_var"):
                new = new.abs() + 0.5
        else:
            new = torch.randint(0, 50, value.shape, generator=rng, dtype=value.dtype)
        state[key] = new
    net.load_state_dict(state)
    return state


def batch(rng: torch.Generator, shape: tuple[int, ...], non_contiguous: bool = False) -> torch.Tensor:
    """A float32 input of ``shape``; made as a transpose (non-contiguous) when asked."""
    if non_contiguous:
        return torch.randn(tuple(reversed(shape)), generator=rng).permute(*reversed(range(len(shape))))
    return torch.randn(shape, generator=rng)


def close_to_one_of(alternatives: dict[str, torch.Tensor]) -> Callable[[torch.Tensor, torch.Tensor], str | None]:
    """A hint: the answer equals one of the ``alternatives`` (what a known mistake computes)."""

    def hint(actual: torch.Tensor, expected: torch.Tensor) -> str | None:
        for text, value in alternatives.items():
            if value.shape == actual.shape and torch.allclose(actual, value.double(), rtol=1e-4, atol=1e-5):
                return text
        return None

    return hint


def short(cls: str) -> str:
    """A class as a student names it: 'torch.nn.modules.linear.Linear' -> 'nn.Linear', '__main__.Net' -> 'Net'."""
    return f"nn.{cls.rsplit('.', 1)[-1]}" if cls.startswith("torch.nn.") else cls.removeprefix("__main__.")


def fail(sentence: str, hint: str | None = None, details: str | None = None) -> None:
    """A failing test's feedback: what is wrong, the hint on its own line, the numbers last."""
    raise Mismatch(feedback(sentence, hint, details))


def state_keys_hint(keys: list[str], want: list[str]) -> str | None:
    """Why a state_dict has the keys it has, in the words of the mistake that usually causes it."""
    missing = [k for k in want if k not in keys]
    if missing and all(k.endswith(".bias") for k in missing) and all(k in want for k in keys):
        return _("{keys} missing: a Linear layer was built without its bias (bias=False).").format(
            keys=", ".join(missing))
    if any(not k.split(".")[0].isdigit() for k in keys) and want[0][0].isdigit():
        return _("the layers have names, not positions: pass the layers straight to nn.Sequential (no OrderedDict "
                 "names).")
    return None


def loaded(sub, info: ModuleInfo, state: dict[str, torch.Tensor], what: str) -> None:
    """Load the reference weights ``state`` into the submission's module ``info`` (inside the sandbox)."""
    keys = list(info.state)
    if sorted(keys) != sorted(state):
        fail(_("{what}: its state_dict keys are not the expected ones, so the reference weights cannot be "
               "loaded.").format(what=what),
             state_keys_hint(keys, list(state)),
             _("expected {expected}, got {got}").format(expected=list(state), got=keys))
    for key, value in state.items():
        if not isinstance(info.state[key], torch.Tensor):
            fail(_("{what}: its {key} is {got}, not a tensor of weights: build each layer with its sizes (a lazy "
                   "layer has no weights until it is first called).").format(
                       what=what, key=key, got=describe(info.state[key])))
        if tuple(info.state[key].shape) != tuple(value.shape):
            fail(_("{what}: {key} has the wrong shape: build the layers from the sizes passed in.").format(
                     what=what, key=key), None,
                 _("expected {expected}, got {got}").format(expected=tuple(value.shape),
                                                            got=tuple(info.state[key].shape)))
    sub.run(info.handle, state, method="load_state_dict")


def two_branch_loaded(sub, info: ModuleInfo, state: dict[str, torch.Tensor], sizes) -> None:
    """The reference weights in the submission's TwoBranchNet; its __init__ (given) must be as it was."""
    keys = list(info.state)
    if keys != TWO_BRANCH_KEYS:
        fail(_("TwoBranchNet{sizes}: its state_dict keys are not the expected ones: keep __init__ as it was "
               "given.").format(sizes=sizes),
             state_keys_hint(keys, TWO_BRANCH_KEYS),
             _("expected {expected}, got {got}").format(expected=TWO_BRANCH_KEYS, got=keys))
    loaded(sub, info, state, f"TwoBranchNet{sizes}")


def net_for_files(rng: torch.Generator, kind: str) -> nn.Module:
    """A network to save or load: plain ("seq"), nested with a Linear without bias and BatchNorm buffers
    ("nested"), or a single Linear(1, 1) ("one")."""
    if kind == "seq":
        net = nn.Sequential(nn.Linear(randint(rng, 2, 6), 5), nn.Tanh(), nn.Linear(5, randint(rng, 1, 4)))
    elif kind == "one":
        net = nn.Linear(1, 1)
    else:
        net = nn.Sequential(nn.Linear(4, 6), nn.Sequential(nn.Linear(6, 3, bias=False), nn.BatchNorm1d(3)),
                            nn.ReLU(), nn.Linear(3, 2))
    random_state(net, rng)
    return net


@pytest.fixture
def scratch(sub, rng) -> Iterator[Callable[[str], str]]:
    """Makes relative file names in the submission's working folder (the sandbox's scratch folder; the notebook's
    folder under nbgrader), and deletes those files after the test."""
    made: list[str] = []

    def new(stem: str) -> str:
        made.append(f"{stem}_{randint(rng, 10**5, 10**6 - 1)}.pt")
        return made[-1]

    yield new
    for path in made:
        try:
            sub.remove(path)
        except SubmissionError:  # the process was lost: its scratch folder goes with it
            pass


# --------------------------------------------------------------------------------------- make_seq_net

SEQ_SIZES = {"sizes 3-7-2": (3, 7, 2), "sizes 6-2-5": (6, 2, 5), "sizes 2-5-3": (2, 5, 3),
             "n_in = 1 and n_out = 1": (1, 4, 1), "n_hidden = 1": (4, 1, 3), "batch of 1": (5, 6, 2)}


def seq_sizes(rng: torch.Generator, case: str) -> tuple[int, int, int]:
    jitter = randint(rng, 0, 2)  # fresh sizes per secret, keeping each case's shape (a size of 1 stays 1)
    return tuple(n if n == 1 else n + jitter for n in SEQ_SIZES[case])  # type: ignore[return-value]


def seq_structure(value: Any, sizes: tuple[int, int, int]) -> ModuleInfo:
    n_in, n_hidden, n_out = sizes
    call = f"make_seq_net({n_in}, {n_hidden}, {n_out})"
    if isinstance(value, (list, tuple)):
        fail(_("{call}: expected an nn.Sequential, got {what}: wrap the layers in nn.Sequential(...).").format(
            call=call, what=describe(value)))
    expect(value, call).is_module(nn.Sequential)
    keys = list(value.state)
    if keys != SEQ_KEYS:
        top = [short(m["cls"]) for m in value.tree if m["name"] and "." not in m["name"]]
        hint = (_("the activation between the two Linear layers is missing (Tanh at index 1).")
                if keys == ["0.weight", "0.bias", "1.weight", "1.bias"] else state_keys_hint(keys, SEQ_KEYS))
        fail(_("{call}: its state_dict keys are not {keys}.").format(call=call, keys=", ".join(SEQ_KEYS)), hint,
             _("got keys {keys} (layers: {layers})").format(keys=keys, layers=top))
    return value


@pytest.mark.blank("make_seq_net", points=0.25, kind="property")
@pytest.mark.parametrize("case", ["sizes 3-7-2", "n_in = 1 and n_out = 1"])
def test_seq_net_layers(sub, rng, case):
    """has the layers Linear, Tanh, Linear with the sizes given"""
    sizes = seq_sizes(rng, case)
    n_in, n_hidden, n_out = sizes
    info = seq_structure(sub.call("make_seq_net", *sizes), sizes)
    call = f"make_seq_net({n_in}, {n_hidden}, {n_out})"
    top = {m["name"]: m["cls"] for m in info.tree if m["name"] and "." not in m["name"]}
    got = [top.get(str(i)) for i in range(3)]
    judged()
    if got != [qualified_name(c) for c in (nn.Linear, nn.Tanh, nn.Linear)] or len(top) != 3:
        fail(_("{call}: its layers are not [nn.Linear, nn.Tanh, nn.Linear].").format(call=call),
             _("the activation must be Tanh (not ReLU or Sigmoid).")
             if got[1] and short(got[1]) in ("nn.ReLU", "nn.Sigmoid") else None,
             _("got {layers}").format(layers=[short(c) for c in top.values()]))
    shapes = {k: tuple(v.shape) for k, v in info.state.items()}
    want = {"0.weight": (n_hidden, n_in), "0.bias": (n_hidden,), "2.weight": (n_out, n_hidden), "2.bias": (n_out,)}
    wrong = [_("{key} {got} instead of {expected}").format(key=k, got=shapes[k], expected=want[k])
             for k in SEQ_KEYS if shapes[k] != want[k]]
    if wrong:
        fail(_("{call}: the layers have the wrong sizes.").format(call=call),
             _("build Linear(n_in, n_hidden) and Linear(n_hidden, n_out) from the arguments, not from fixed numbers."),
             "; ".join(wrong))


def seq_outputs(sub, rng, ref, case: str) -> None:
    """make_seq_net's network, with the reference weights, against the reference network on a batch."""
    sizes = seq_sizes(rng, case)
    info = seq_structure(sub.call("make_seq_net", *sizes), sizes)
    reference = ref.make_seq_net(*sizes)
    state = random_state(reference, rng)
    loaded(sub, info, state, f"make_seq_net{sizes}")
    n = 1 if case == "batch of 1" else randint(rng, 4, 7)
    x = batch(rng, (n, sizes[0]), non_contiguous=n > 1)
    out = sub.call(info.handle, x)
    with torch.no_grad():
        want = reference(x)
        lin1, lin2 = reference[0], reference[2]
        alternatives = {
            _("the activation is not Tanh (this is ReLU)."): lin2(torch.relu(lin1(x))),
            _("the activation is not Tanh (this is Sigmoid)."): lin2(torch.sigmoid(lin1(x))),
            _("there is no activation between the Linear layers."): lin2(lin1(x)),
        }
    expect(out, _("the output of make_seq_net{sizes} on a ({n}, {n_in}) batch").format(
        sizes=sizes, n=n, n_in=sizes[0])).tensor(shape=tuple(want.shape)).close_to(
        want, hints=[close_to_one_of(alternatives)])


@pytest.mark.blank("make_seq_net", points=0.25)
@pytest.mark.parametrize("case", ["sizes 6-2-5", "sizes 3-7-2", "sizes 2-5-3"])
def test_seq_net_outputs(sub, rng, ref, case):
    """computes Linear -> Tanh -> Linear (the reference's outputs)"""
    seq_outputs(sub, rng, ref, case)


@pytest.mark.blank("make_seq_net", points=0.25, kind="edge")
@pytest.mark.parametrize("case", ["n_in = 1 and n_out = 1", "n_hidden = 1", "batch of 1"])
def test_seq_net_sizes_of_one(sub, rng, ref, case):
    """computes Linear -> Tanh -> Linear with a size of 1"""
    seq_outputs(sub, rng, ref, case)


# -------------------------------------------------------------------------------------- TwoBranchNet

TWO_CASES = {  # sizes (None: drawn), the input's leading dimensions, non-contiguous
    "batch of 7": (None, (7,), False), "3-D input": (None, (2, 3), False), "non-contiguous batch": (None, (6,), True),
    "batch of 1": (None, (1,), False), "n_in = 1": ((1, 5, 3), (5,), False), "n_hidden = 1": ((4, 1, 3), (5,), False),
    "n_out = 1": ((4, 6, 1), (5,), False),
}


def two_branch(sub, rng, ref, sizes: tuple[int, int, int] | None = None):
    sizes = sizes or (randint(rng, 2, 6), randint(rng, 3, 8), randint(rng, 2, 4))
    info = sub.call("TwoBranchNet", *sizes)
    expect(info, f"TwoBranchNet{sizes}").is_module()
    reference = ref.TwoBranchNet(*sizes)
    state = random_state(reference, rng)
    return sizes, info, reference, state


def two_branch_outputs(sub, rng, ref, case: str) -> None:
    """TwoBranchNet with the reference weights against the reference on one input."""
    fixed, lead, non_contiguous = TWO_CASES[case]
    sizes, info, reference, state = two_branch(sub, rng, ref, fixed)
    two_branch_loaded(sub, info, state, sizes)
    x = batch(rng, (*lead, sizes[0]), non_contiguous=non_contiguous)
    out = sub.call(info.handle, x)
    with torch.no_grad():
        want = reference(x)
        one, two = reference.layer1(x), reference.layer2(x)
        l2a, l2b = reference.layer2[0], reference.layer2[2]
        alternatives = {
            _("you returned layer1(x) only: add layer2(x)."): one,
            _("you returned layer2(x) only: add layer1(x)."): two,
            _("you multiplied the branches: forward returns layer1(x) + layer2(x)."): one * two,
            _("you subtracted the branches: forward returns layer1(x) + layer2(x)."): one - two,
            _("layer2's ReLU is missing: call self.layer2(x), which applies Linear, ReLU, Linear."):
                one + l2b(l2a(x)),
            _("the activation inside layer2 is not ReLU (this is Tanh)."): one + l2b(torch.tanh(l2a(x))),
        }
    name = _("TwoBranchNet{sizes}'s output on an input of shape {shape}").format(sizes=sizes, shape=tuple(x.shape))
    if isinstance(out, torch.Tensor) and tuple(out.shape) == (*want.shape[:-1], 2 * want.shape[-1]):
        fail(_("{name}: the output has the wrong shape.").format(name=name),
             _("you concatenated the branches; add them elementwise (+)."),
             _("expected shape {expected}, got {got}").format(expected=tuple(want.shape), got=tuple(out.shape)))
    expect(out, name).tensor(shape=tuple(want.shape)).close_to(want, hints=[close_to_one_of(alternatives)])


@pytest.mark.blank("TwoBranchNet", points=0.5)
@pytest.mark.parametrize("case", ["batch of 7", "3-D input", "non-contiguous batch"])
def test_two_branch_forward(sub, rng, ref, case):
    """forward(x) returns layer1(x) + layer2(x) (the reference's outputs)"""
    two_branch_outputs(sub, rng, ref, case)


@pytest.mark.blank("TwoBranchNet", points=0.25, kind="edge")
@pytest.mark.parametrize("case", ["batch of 1", "n_in = 1", "n_hidden = 1", "n_out = 1"])
def test_two_branch_sizes_of_one(sub, rng, ref, case):
    """forward(x) returns layer1(x) + layer2(x) with a size of 1"""
    two_branch_outputs(sub, rng, ref, case)


@pytest.mark.blank("TwoBranchNet", points=0.5, kind="property")
def test_two_branch_gradients(sub, rng, ref):
    """lets the gradient reach every parameter of both branches (the reference's gradients)"""
    sizes, info, reference, state = two_branch(sub, rng, ref)
    two_branch_loaded(sub, info, state, sizes)
    x = batch(rng, (5, sizes[0]))
    g = torch.randn(5, sizes[2], generator=rng)
    result = sub.run(info.handle, x, vjp=g)
    expect(result.value, _("TwoBranchNet's output")).tensor(shape=(5, sizes[2]))
    names = [n for n, _p in reference.named_parameters()]
    want = dict(zip(names, torch.autograd.grad(reference(x), list(reference.parameters()), grad_outputs=g)))
    gradients_reach(result.grads, result.vjp_error, {f"param:{n}": w for n, w in want.items()},
                    {f"param:{n}": f"self.{n}" for n in names}, _("TwoBranchNet's output"),
                    _("forward must use both branches on the graph: no .detach(), .data or torch.no_grad() in it."))


# -------------------------------------------------------------------------------------- save_weights


PLACEHOLDER = "grader placeholder: save_weights wrote nothing here"


def save_call(sub, net: nn.Module, path: str):
    """save_weights(net, path) after the grader put a placeholder at ``path``, so a file left from an earlier
    run is never mistaken for the one save_weights writes."""
    sub.save({PLACEHOLDER: torch.zeros(1)}, path)
    return sub.run("save_weights", net, path, watch=True)


def read_back(sub, result, path: str, what: str = "save_weights") -> Any:
    """The file at ``path`` read with torch.load(weights_only=True) by the trusted side, or a clear Mismatch."""
    nothing = _("{what} wrote no file at the path it was given: save to path, not to a fixed file name.").format(
        what=what)
    try:
        data = sub.load(path)
        if isinstance(data, dict) and PLACEHOLDER in data:
            fail(nothing)
        return data
    except SubmissionError as error:
        saved = [f.get("saved") for f in result.files if f.get("fn") == "torch.save"]
        if error.reason == "undefined":  # no such file
            fail(nothing)
        whole = [s for s in saved if s not in ("dict", "OrderedDict")]
        why = getattr(error, "why", None)
        if why is not None and not whole and not getattr(error, "names_a_class", False):
            # refused before loading (autograder.grading.torchfile: compressed, too large...): its clause says why
            fail(_("{what}: {reason}; save the weights with torch.save(net.state_dict(), path).").format(
                what=what, reason=why))
        hint = (_("you saved the method net.state_dict itself: call it, torch.save(net.state_dict(), path).")
                if whole and whole[0] == "method" else
                _("you saved a whole {type} object; save net.state_dict() instead.").format(type=whole[0]) if whole else
                _("did you save the whole module with torch.save(net, path)? Save net.state_dict() instead."))
        fail(_("{what}: torch.load(path, weights_only=True) cannot read the file it wrote.").format(what=what), hint)


def saved_state(sub, rng, scratch, kind: str) -> None:
    """save_weights on a network of ``kind``; the file must hold its state_dict, exactly."""
    net = net_for_files(rng, kind)
    path = scratch("hidden_save")
    result = save_call(sub, net, path)
    data = read_back(sub, result, path)
    want = net.state_dict()
    if not isinstance(data, dict):
        fail(_("save_weights: the file should hold the state_dict (a dict of tensors), got {what}.").format(
            what=describe(data)),
             _("a list of the parameters has no names: save net.state_dict().") if isinstance(data, (list, tuple))
             else _("save net.state_dict()."))
    if list(data) != list(want):
        missing = [k for k in want if k not in data]
        buffers = missing and all(k.endswith(("running_mean", "running_var", "num_batches_tracked")) for k in missing)
        fail(_("save_weights: the saved keys are not those of the network's state_dict: save net.state_dict()."),
             _("the buffers (BatchNorm's running_mean, ...) are missing: save net.state_dict(), not "
               "named_parameters().") if buffers else None,
             _("expected {expected}, got {got}").format(expected=list(want), got=list(data)))
    for key, value in want.items():
        expect(data[key], _("the saved {key}").format(key=key)).tensor(shape=tuple(value.shape),
                                                                       dtype=value.dtype).close_to(
            value, rtol=0, atol=0)


@pytest.mark.blank("save_weights", points=0.5)
@pytest.mark.parametrize("case", ["plain and nested", "two nested"])
def test_save_weights_state_dict(sub, rng, scratch, case):
    """the file holds the state_dict: its keys (buffers too) and values"""
    for kind in (("seq", "nested") if case == "plain and nested" else ("nested", "nested")):
        saved_state(sub, rng, scratch, kind)


@pytest.mark.blank("save_weights", points=0.25, kind="edge")
def test_save_weights_single_layer(sub, rng, scratch):
    """the file holds the state_dict of a single Linear(1, 1)"""
    saved_state(sub, rng, scratch, "one")


@pytest.mark.blank("save_weights", points=0.25, kind="property")
def test_save_weights_loadable(sub, rng, scratch):
    """writes a file at path that torch.load(path, weights_only=True) reads"""
    net = net_for_files(rng, "seq")
    path = scratch("hidden_save")
    result = save_call(sub, net, path)
    read_back(sub, result, path)


@pytest.mark.blank("save_weights", points=0.5, kind="property")
def test_save_weights_leaves_net(sub, rng, scratch):
    """does not modify its inputs (the network's values and Parameter objects)"""
    net = net_for_files(rng, "nested")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    result = sub.run("save_weights", net, scratch("hidden_save"))
    after = expect(result.args[0], "save_weights").same_structure_as(net).value
    judged(len(before))
    if not all(torch.equal(after.state[k], v) for k, v in before.items()):
        fail(_("save_weights changed the network it saved: it should only write its state_dict to the file."))
    if not all(p["same"] for p in after.params):
        fail(_("save_weights replaced Parameter objects of the network: it should only write them to the file."))


# -------------------------------------------------------------------------------------- load_weights


def load_case(sub, rng, scratch, kind: str = "nested"):
    """(result of load_weights(net, path), the saved state_dict); the file is written by the grader itself and net
    has the same architecture with other values."""
    source = net_for_files(rng, kind)
    saved = {k: v.clone() for k, v in source.state_dict().items()}
    net = copy.deepcopy(source)  # same architecture, other values
    random_state(net, rng)
    path = scratch("hidden_load")
    sub.save(saved, path)
    result = sub.run("load_weights", net, path, watch=True)
    expect(result.args[0], "load_weights").same_structure_as(net)
    return result, saved


def not_net(value: Any) -> str:
    """Why load_weights' return value is not the network, as a hint."""
    if value is None:
        return _("load_weights returned None: end with `return net`.")
    if isinstance(value, Foreign) and "IncompatibleKeys" in value.cls:
        return _("it returned what load_state_dict returns (a report of keys): call it, then `return net`.")
    return _("load_weights returned {what}, not the network: end with `return net`.").format(what=describe(value))


def loaded_values(sub, rng, scratch, kind: str) -> None:
    """load_weights puts the saved values into the network it is given, and returns a network with them."""
    result, saved = load_case(sub, rng, scratch, kind)
    after = result.args[0]
    judged(len(saved))
    wrong = [k for k, v in saved.items() if not torch.equal(after.state[k], v)]
    if wrong:
        other = isinstance(result.value, ModuleInfo) and result.returned_arg != 0
        fail(_("load_weights: after the call the network's values differ from the saved values."),
             _("it seems to have loaded them into another network: load into net itself.") if other else
             _("call net.load_state_dict(torch.load(path, weights_only=True))."),
             _("differ: {keys}").format(keys=", ".join(wrong)))
    value = result.value
    if not isinstance(value, ModuleInfo):
        fail(_("load_weights loaded the values but did not return the network."), not_net(value))


@pytest.mark.blank("load_weights", points=0.375)
@pytest.mark.parametrize("kind", ["seq", "nested"])
def test_load_weights_values(sub, rng, scratch, kind):
    """puts the saved values into the network it was given, and returns it"""
    loaded_values(sub, rng, scratch, kind)


@pytest.mark.blank("load_weights", points=0.25, kind="edge")
def test_load_weights_single_layer(sub, rng, scratch):
    """puts the saved values into a single Linear(1, 1), and returns it"""
    loaded_values(sub, rng, scratch, "one")


@pytest.mark.blank("load_weights", points=0.25, kind="property")
def test_load_weights_returns_net(sub, rng, scratch):
    """returns the network it was given (the same object)"""
    result, _saved = load_case(sub, rng, scratch)
    if result.returned_arg == 0:
        return
    value = result.value
    if isinstance(value, ModuleInfo):
        fail(_("load_weights returned another module, not the network it was given: load into net and "
               "`return net`."))
    fail(_("load_weights did not return the network it was given."), not_net(value))


@pytest.mark.blank("load_weights", points=0.375, kind="property")
def test_load_weights_safely(sub, rng, scratch):
    """reads the file with torch.load(path, weights_only=True)"""
    result, _saved = load_case(sub, rng, scratch)
    loads = [f for f in result.files if f.get("fn") == "torch.load"]
    if not loads:
        fail(_("load_weights should read the file with torch.load(path, weights_only=True); no call of torch.load "
               "was seen."))
    if any(f.get("weights_only") is False for f in loads):
        fail(_("load_weights calls torch.load with weights_only=False, which can run any code hidden in the file."),
             _("a state_dict loads with weights_only=True."))


@pytest.mark.blank("load_weights", points=0.375, kind="property")
def test_load_weights_in_place(sub, rng, scratch):
    """keeps the Parameter objects (an optimizer built earlier still sees them)"""
    result, _saved = load_case(sub, rng, scratch)
    after = result.args[0]
    replaced = [p["name"] for p in after.params if not p["same"]]
    if replaced:
        fail(_("load_weights: the network holds new Parameter objects, which an optimizer built earlier does not "
               "see."),
             _("net.load_state_dict(...) without assign=True copies the values in place."),
             _("new: {names}").format(names=", ".join(replaced)))
    wrong = [p["name"] for p in after.params if p["dtype"] != "float32" or not p["rg"]]
    if wrong:
        fail(_("load_weights: the parameters should stay float32 Parameters that require grad."), None,
             _("not so: {names}").format(names=", ".join(wrong)))
