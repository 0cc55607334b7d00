"""Hidden tests for 04_modules: make_seq_net, TwoBranchNet, save_weights, load_weights.

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

from autograder.codec import Foreign, ModuleInfo
from autograder.compare import Mismatch, describe, expect
from autograder.submission import SubmissionError

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


def state_keys_hint(keys: list[str], want: list[str]) -> str:
    """Why a state_dict has the keys it has, in the words of the mistake that usually causes it."""
    missing = [k for k in want if k not in keys]
    if missing and all(k.endswith(".bias") for k in missing) and all(k in want for k in keys):
        return f" Hint: {', '.join(missing)} missing: a Linear layer was built without its bias (bias=False)."
    if any(not k.split(".")[0].isdigit() for k in keys) and want[0][0].isdigit():
        return (" Hint: the layers have names instead of positions: pass the three layers straight to "
                "nn.Sequential (no OrderedDict names).")
    return ""


def loaded(sub, info: ModuleInfo, state: dict[str, torch.Tensor], what: str) -> None:
    """Load the reference weights ``state`` into the submission's module ``info`` (inside the sandbox)."""
    keys = list(info.state)
    if sorted(keys) != sorted(state):
        raise Mismatch(f"{what}: its state_dict keys should be {list(state)}, got {keys}, so the reference "
                       f"weights cannot be loaded to compare outputs.{state_keys_hint(keys, list(state))}")
    for key, value in state.items():
        if tuple(info.state[key].shape) != tuple(value.shape):
            raise Mismatch(f"{what}: {key} has shape {tuple(info.state[key].shape)}, expected "
                           f"{tuple(value.shape)}: build the layers from the sizes passed in.")
    sub.run(info.handle, state, method="load_state_dict")


def two_branch_loaded(sub, info: ModuleInfo, state: dict[str, torch.Tensor], sizes) -> None:
    """The reference weights in the submission's TwoBranchNet; its __init__ (given) must be as it was."""
    keys = list(info.state)
    if keys != TWO_BRANCH_KEYS:
        raise Mismatch(f"TwoBranchNet{sizes}: its state_dict keys should be {TWO_BRANCH_KEYS}, got {keys}: keep "
                       f"__init__ as it was given.{state_keys_hint(keys, TWO_BRANCH_KEYS)}")
    loaded(sub, info, state, f"TwoBranchNet{sizes}")


def net_for_files(rng: torch.Generator, kind: str) -> nn.Module:
    """A network to save or load: plain, or nested with a Linear without bias and BatchNorm buffers."""
    if kind == "seq":
        net = nn.Sequential(nn.Linear(randint(rng, 2, 6), 5), nn.Tanh(), nn.Linear(5, randint(rng, 1, 4)))
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

SEQ_SIZES = {"sizes 3-7-2": (3, 7, 2), "sizes 1-4-1": (1, 4, 1), "sizes 6-2-5": (6, 2, 5)}


def seq_sizes(rng: torch.Generator, case: str) -> tuple[int, int, int]:
    n_in, n_hidden, n_out = SEQ_SIZES[case]
    jitter = randint(rng, 0, 2)  # fresh sizes per secret, keeping each case's shape (e.g. n_in = 1)
    return (n_in + jitter if n_in > 1 else 1), n_hidden + jitter, (n_out + jitter if n_out > 1 else 1)


def seq_structure(value: Any, sizes: tuple[int, int, int]) -> ModuleInfo:
    n_in, n_hidden, n_out = sizes
    call = f"make_seq_net({n_in}, {n_hidden}, {n_out})"
    if isinstance(value, (list, tuple)):
        raise Mismatch(f"{call}: expected an nn.Sequential, got {describe(value)}: wrap the layers in "
                       f"nn.Sequential(...).")
    expect(value, call).is_module("Sequential")
    keys = list(value.state)
    if keys != SEQ_KEYS:
        top = [m["cls"].rsplit(".", 1)[-1] for m in value.tree if m["name"] and "." not in m["name"]]
        extra = ""
        if keys == ["0.weight", "0.bias", "1.weight", "1.bias"]:
            extra = " Hint: the activation between the two Linear layers is missing (Tanh at index 1)."
        raise Mismatch(f"{call}: its state_dict keys should be {SEQ_KEYS}, got {keys} (layers: {top})."
                       f"{extra or state_keys_hint(keys, SEQ_KEYS)}")
    return value


@pytest.mark.blank("make_seq_net", points=0.5)
@pytest.mark.parametrize("case", ["sizes 3-7-2", "sizes 1-4-1"])
def test_seq_net_layers(sub, rng, case):
    """returns nn.Sequential(Linear(n_in, n_hidden), Tanh(), Linear(n_hidden, n_out))"""
    sizes = seq_sizes(rng, case)
    n_in, n_hidden, n_out = sizes
    info = seq_structure(sub.call("make_seq_net", *sizes), sizes)
    call = f"make_seq_net({n_in}, {n_hidden}, {n_out})"
    top = {m["name"]: m["cls"].rsplit(".", 1)[-1] for m in info.tree if m["name"] and "." not in m["name"]}
    got = [top.get(str(i)) for i in range(3)]
    if got != ["Linear", "Tanh", "Linear"] or len(top) != 3:
        extra = " Hint: the activation must be Tanh (not ReLU or Sigmoid)." if got[1] in ("ReLU", "Sigmoid") else ""
        raise Mismatch(f"{call}: its layers should be [Linear, Tanh, Linear], got {list(top.values())}.{extra}")
    shapes = {k: tuple(v.shape) for k, v in info.state.items()}
    want = {"0.weight": (n_hidden, n_in), "0.bias": (n_hidden,), "2.weight": (n_out, n_hidden), "2.bias": (n_out,)}
    wrong = [f"{k} {shapes[k]} instead of {want[k]}" for k in SEQ_KEYS if shapes[k] != want[k]]
    if wrong:
        raise Mismatch(f"{call}: the layers have the wrong sizes ({'; '.join(wrong)}): build Linear(n_in, "
                       f"n_hidden) and Linear(n_hidden, n_out) from the arguments, not from fixed numbers.")


@pytest.mark.blank("make_seq_net", points=0.5)
@pytest.mark.parametrize("case", ["sizes 6-2-5", "sizes 1-4-1"])
def test_seq_net_outputs(sub, rng, ref, case):
    """with the reference weights it computes the same outputs as Linear -> Tanh -> Linear"""
    sizes = seq_sizes(rng, case)
    info = seq_structure(sub.call("make_seq_net", *sizes), sizes)
    reference = ref.make_seq_net(*sizes)
    state = random_state(reference, rng)
    loaded(sub, info, state, f"make_seq_net{sizes}")
    n = 1 if sizes[0] == 1 else 5
    x = batch(rng, (n, sizes[0]), non_contiguous=n > 1)
    out = sub.call(info.handle, x)
    with torch.no_grad():
        want = reference(x)
        lin1, lin2 = reference[0], reference[2]
        alternatives = {
            "the activation is not Tanh (this is ReLU).": lin2(torch.relu(lin1(x))),
            "the activation is not Tanh (this is Sigmoid).": lin2(torch.sigmoid(lin1(x))),
            "there is no activation between the Linear layers.": lin2(lin1(x)),
        }
    expect(out, f"the output of make_seq_net{sizes} on a ({n}, {sizes[0]}) batch").tensor(
        shape=tuple(want.shape)).close_to(want, hints=[close_to_one_of(alternatives)])


# -------------------------------------------------------------------------------------- TwoBranchNet

TWO_SIZES = {"batch of 7": ((7,), False), "batch of 1": ((1,), False), "3-D input": ((2, 3), False),
             "non-contiguous batch": ((6,), True)}


def two_branch(sub, rng, ref, sizes: tuple[int, int, int] | None = None):
    sizes = sizes or (randint(rng, 2, 6), randint(rng, 3, 8), randint(rng, 1, 4))
    info = sub.call("TwoBranchNet", *sizes)
    expect(info, f"TwoBranchNet{sizes}").is_module()
    reference = ref.TwoBranchNet(*sizes)
    state = random_state(reference, rng)
    return sizes, info, reference, state


@pytest.mark.blank("TwoBranchNet", points=0.625)
@pytest.mark.parametrize("case", list(TWO_SIZES))
def test_two_branch_forward(sub, rng, ref, case):
    """forward(x) returns layer1(x) + layer2(x) (same outputs as the reference with the same weights)"""
    sizes, info, reference, state = two_branch(sub, rng, ref)
    two_branch_loaded(sub, info, state, sizes)
    lead, non_contiguous = TWO_SIZES[case]
    x = batch(rng, (*lead, sizes[0]), non_contiguous=non_contiguous)
    out = sub.call(info.handle, x)
    with torch.no_grad():
        want = reference(x)
        one, two = reference.layer1(x), reference.layer2(x)
        l2a, l2b = reference.layer2[0], reference.layer2[2]
        alternatives = {
            "you returned layer1(x) only: add layer2(x).": one,
            "you returned layer2(x) only: add layer1(x).": two,
            "you multiplied the branches: forward returns layer1(x) + layer2(x).": one * two,
            "you subtracted the branches: forward returns layer1(x) + layer2(x).": one - two,
            "layer2's ReLU is missing: call self.layer2(x), which applies Linear, ReLU, Linear.": one + l2b(l2a(x)),
            "the activation inside layer2 is not ReLU (this is Tanh).": one + l2b(torch.tanh(l2a(x))),
        }
    name = f"TwoBranchNet{sizes}'s output on an input of shape {tuple(x.shape)}"
    if isinstance(out, torch.Tensor) and tuple(out.shape) == (*want.shape[:-1], 2 * want.shape[-1]):
        raise Mismatch(f"{name}: expected shape {tuple(want.shape)}, got {tuple(out.shape)}: you concatenated "
                       f"the branches; add them elementwise (+).")
    expect(out, name).tensor(shape=tuple(want.shape)).close_to(want, hints=[close_to_one_of(alternatives)])


@pytest.mark.blank("TwoBranchNet", points=0.5, property=True)
def test_two_branch_differentiable(sub, rng, ref):
    """forward keeps the computation graph (its output requires grad)"""
    sizes, info, _, _ = two_branch(sub, rng, ref)
    out = sub.call(info.handle, batch(rng, (4, sizes[0])))
    expect(out, "TwoBranchNet's output").tensor()
    meta = out.remote
    if not meta.requires_grad or meta.grad_fn is None:
        raise Mismatch("TwoBranchNet's output does not require grad, so no gradient can reach the parameters: "
                       "do not detach the result, use .data, or compute it under torch.no_grad().")


# -------------------------------------------------------------------------------------- save_weights


PLACEHOLDER = "grader placeholder: save_weights wrote nothing here"


def save_call(sub, net: nn.Module, path: str):
    """save_weights(net, path) after the grader put a placeholder at ``path``, so a file left from an earlier
    run is never mistaken for the one save_weights writes."""
    sub.save({PLACEHOLDER: torch.zeros(1)}, path)
    return sub.run("save_weights", net, path, watch=True)


def read_back(sub, result, path: str, what: str = "save_weights") -> Any:
    """The file at ``path`` read with torch.load(weights_only=True) in the sandbox, or a clear Mismatch."""
    try:
        data = sub.load(path)
        if isinstance(data, dict) and PLACEHOLDER in data:
            raise Mismatch(f"{what}: no file was written at the path it was given ({path!r}): save to the "
                           f"argument path, not to a fixed file name.")
        return data
    except SubmissionError as error:
        text = str(error)
        saved = [f.get("saved") for f in result.files if f.get("fn") == "torch.save"]
        if "FileNotFoundError" in text or "No such file" in text:
            raise Mismatch(f"{what}: no file was written at the path it was given ({path!r}): save to the "
                           f"argument path, not to a fixed file name.") from None
        whole = [s for s in saved if s not in ("dict", "OrderedDict")]
        hint = (" Hint: you saved the method net.state_dict itself: call it, torch.save(net.state_dict(), path)."
                if whole and whole[0] == "method" else
                f" Hint: you saved a whole {whole[0]} object; save net.state_dict() instead." if whole else
                " Hint: did you save the whole module with torch.save(net, path)? Save net.state_dict() instead.")
        raise Mismatch(f"{what}: torch.load(path, weights_only=True) cannot read the file it wrote.{hint}") from None


@pytest.mark.blank("save_weights", points=0.5)
def test_save_weights_loadable(sub, rng, scratch):
    """writes a file at path that torch.load(path, weights_only=True) reads"""
    net = net_for_files(rng, "seq")
    path = scratch("hidden_save")
    result = save_call(sub, net, path)
    read_back(sub, result, path)


@pytest.mark.blank("save_weights", points=0.5)
@pytest.mark.parametrize("kind", ["seq", "nested"])
def test_save_weights_state_dict(sub, rng, scratch, kind):
    """the file holds the state_dict: the same keys (buffers included) and values"""
    net = net_for_files(rng, kind)
    path = scratch("hidden_save")
    result = save_call(sub, net, path)
    data = read_back(sub, result, path)
    want = net.state_dict()
    if not isinstance(data, dict):
        extra = " (a list of the parameters has no names)" if isinstance(data, (list, tuple)) else ""
        raise Mismatch(f"save_weights: the file should hold the state_dict (a dict of tensors), got "
                       f"{describe(data)}{extra}: save net.state_dict().")
    if list(data) != list(want):
        missing = [k for k in want if k not in data]
        extra = (" Hint: the buffers (e.g. BatchNorm's running_mean) are missing: named_parameters() has only "
                 "the parameters; net.state_dict() has both." if missing and all(
                     k.endswith(("running_mean", "running_var", "num_batches_tracked")) for k in missing) else "")
        raise Mismatch(f"save_weights: the saved keys should be {list(want)}, got {list(data)}: save "
                       f"net.state_dict().{extra}")
    for key, value in want.items():
        expect(data[key], f"the saved {key}").tensor(shape=tuple(value.shape), dtype=value.dtype).close_to(
            value, rtol=0, atol=0)


@pytest.mark.blank("save_weights", points=0.5, property=True)
def test_save_weights_leaves_net(sub, rng, scratch):
    """leaves the network's values and Parameter objects as they were"""
    net = net_for_files(rng, "nested")
    before = {k: v.clone() for k, v in net.state_dict().items()}
    result = sub.run("save_weights", net, scratch("hidden_save"))
    after = result.args[0]
    if not isinstance(after, ModuleInfo) or list(after.state) != list(before) or not all(
            torch.equal(after.state[k], v) for k, v in before.items()):
        raise Mismatch("save_weights changed the network it saved: it should only write its state_dict to the file.")
    if not all(p["same"] for p in after.params):
        raise Mismatch("save_weights replaced Parameter objects of the network: it should only write them to the file.")


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
    return result, saved


@pytest.mark.blank("load_weights", points=0.5)
@pytest.mark.parametrize("kind", ["seq", "nested"])
def test_load_weights_values(sub, rng, scratch, kind):
    """puts the saved values into the network it was given"""
    result, saved = load_case(sub, rng, scratch, kind)
    after = result.args[0]
    wrong = [k for k, v in saved.items() if k not in after.state or not torch.equal(after.state[k], v)]
    if wrong:
        extra = ""
        if isinstance(result.value, ModuleInfo) and result.returned_arg != 0:
            extra = " (it seems to have loaded them into another network: load into net itself)"
        raise Mismatch(f"load_weights: after the call the network's {', '.join(wrong)} differ from the saved "
                       f"values{extra}: call net.load_state_dict(torch.load(path, weights_only=True)).")


@pytest.mark.blank("load_weights", points=0.5, property=True)
def test_load_weights_returns_net(sub, rng, scratch):
    """returns the network it was given"""
    result, _ = load_case(sub, rng, scratch)
    if result.returned_arg == 0:
        return
    value = result.value
    if value is None:
        raise Mismatch("load_weights returned None: end with `return net`.")
    if isinstance(value, Foreign) and "IncompatibleKeys" in value.cls:
        raise Mismatch("load_weights returned what load_state_dict returns (a report of missing and unexpected "
                       "keys), not the network: call net.load_state_dict(...) and then `return net`.")
    if isinstance(value, ModuleInfo):
        raise Mismatch("load_weights returned another module, not the network it was given: load into net "
                       "and `return net`.")
    raise Mismatch(f"load_weights should return the network it was given, got {describe(value)}: end with `return net`.")


@pytest.mark.blank("load_weights", points=0.25, property=True)
def test_load_weights_safely(sub, rng, scratch):
    """reads the file with torch.load(path, weights_only=True)"""
    result, _ = load_case(sub, rng, scratch)
    loads = [f for f in result.files if f.get("fn") == "torch.load"]
    if not loads:
        raise Mismatch("load_weights should read the file with torch.load(path, weights_only=True); "
                       "no call of torch.load was seen.")
    if any(f.get("weights_only") is False for f in loads):
        raise Mismatch("load_weights calls torch.load with weights_only=False, which can run arbitrary code "
                       "hidden in the file: a state_dict loads with weights_only=True.")


@pytest.mark.blank("load_weights", points=0.25, property=True)
def test_load_weights_in_place(sub, rng, scratch):
    """copies into the network's existing Parameter objects (an optimizer built earlier still sees them)"""
    result, _ = load_case(sub, rng, scratch)
    after = result.args[0]
    replaced = [p["name"] for p in after.params if not p["same"]]
    if replaced:
        raise Mismatch(f"load_weights: after the call the network holds new Parameter objects ({', '.join(replaced)}), "
                       f"so an optimizer built earlier no longer sees them: use net.load_state_dict(...) "
                       f"(without assign=True), which copies the values in place.")
    wrong = [p["name"] for p in after.params if p["dtype"] != "float32" or not p["rg"]]
    if wrong:
        raise Mismatch(f"load_weights: {', '.join(wrong)} should stay float32 Parameters that require grad.")
