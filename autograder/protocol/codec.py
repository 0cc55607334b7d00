"""Values <-> wire: how arguments reach a submission and what comes back, as data only.

Both sides use this module. The trusted side encodes inputs (tensors, numbers, NumPy arrays, modules as an
architecture plus weights) and decodes answers; the sandbox side decodes inputs into real objects and
encodes whatever the student's code returned. Only exact, known types are sent as values: anything else
(a tensor subclass, a NumPy scalar, a custom object) comes back as :class:`Foreign`, naming its type, so
the trusted side can say "expected a torch.Tensor, got MyTensor" without ever touching the object.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from autograder.protocol.wire import MAX_DEPTH, MAX_FRAME, WireError

MAX_DIMS = 32  # torch's own limit is 64; no blank returns more than a few

# dtypes that may cross, by name; anything else is described, not sent.
DTYPES = {
    "float32": np.float32, "float64": np.float64, "float16": np.float16,
    "int64": np.int64, "int32": np.int32, "int16": np.int16, "int8": np.int8, "uint8": np.uint8, "bool": np.bool_,
}

# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Handle:
    """An object that lives in the sandbox (a module the submission built); pass it back to call it."""

    id: int


@dataclass(frozen=True)
class Foreign:
    """A returned object that is not plain data; only its type's name crossed."""

    cls: str

    def __repr__(self) -> str:
        return f"<{self.cls} object>"


@dataclass
class TensorInfo:
    """What the sandbox saw of a tensor besides its values."""

    cls: str  # "Tensor" or "Parameter"
    requires_grad: bool
    is_leaf: bool
    grad_fn: str | None
    grad: torch.Tensor | None
    contiguous: bool
    base: torch.Tensor | None = None  # for an argument sent as a View: the whole storage after the call


@dataclass(frozen=True)
class View:
    """An argument sent as a strided view into a larger tensor ``base`` (``base.as_strided(size, stride, offset)``
    in the sandbox). After the call the whole of ``base`` comes back with the argument (``TensorInfo.base``), so
    the trusted side sees from values alone whether the call wrote into the caller's storage or replaced it."""

    base: torch.Tensor
    size: tuple[int, ...]
    stride: tuple[int, ...]
    offset: int = 0

    def tensor(self) -> torch.Tensor:
        """The view itself, as the callee receives it."""
        return self.base.as_strided(self.size, self.stride, self.offset)


@dataclass
class ModuleInfo:
    """A module as the sandbox saw it: structure, parameters and weights (``state``)."""

    handle: Handle
    cls: str  # qualified class name
    tree: list[dict[str, str]]  # named_modules(): name, cls, extra_repr
    params: list[dict[str, Any]]  # named_parameters(): name, cls, dtype, requires_grad, same (object kept)
    state: dict[str, torch.Tensor]

    @property
    def class_name(self) -> str:
        return self.cls.rsplit(".", 1)[-1]

    def modules_of(self, cls: str) -> list[str]:
        return [m["name"] for m in self.tree if m["cls"].rsplit(".", 1)[-1] == cls]


class RemoteTuple(tuple):
    """A tuple from the sandbox; ``cls`` names its type (a plain tuple or a named tuple such as torch's)."""

    cls: str = "tuple"


def info(t: torch.Tensor) -> TensorInfo:
    """The sandbox-side facts of a decoded tensor (set by :class:`Decoder`)."""
    return t.remote  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------ encoding

# What the sandbox reports of an object is read with torch's own code, never with what the object says of itself:
# student code runs in the same process and may replace methods and properties of torch.Tensor and nn.Module (or
# override them in its own classes). TensorBase is immutable; nn.Module's methods are taken before any cell runs.
_T = torch._C.TensorBase
_REQUIRES_GRAD, _IS_LEAF, _GRAD_FN, _GRAD = (_T.requires_grad.__get__, _T.is_leaf.__get__, _T.grad_fn.__get__,
                                             _T.grad.__get__)
_NAMED_MODULES = nn.Module.named_modules


def requires_grad(t: torch.Tensor) -> bool:
    """Whether ``t`` requires grad, as torch knows it (not as a replaced property says)."""
    return bool(_REQUIRES_GRAD(t))


def named_modules(m: nn.Module) -> list[tuple[str, nn.Module]]:
    """``m.named_modules()`` as torch defines it, whatever ``m``'s class or a cell made of the method."""
    return list(_NAMED_MODULES(m))


def named_parameters(m: nn.Module) -> list[tuple[str, nn.Parameter]]:
    """Every parameter of ``m`` by its state_dict name (shared ones once), from the modules' own tables."""
    out, seen = [], set()
    for prefix, module in named_modules(m):
        for name, p in dict.items(module.__dict__.get("_parameters", {})):
            if p is not None and id(p) not in seen:
                seen.add(id(p))
                out.append((f"{prefix}.{name}" if prefix else name, p))
    return out


def state_of(m: nn.Module) -> dict[str, torch.Tensor]:
    """What ``m.state_dict()`` holds (parameters, then persistent buffers, module by module), read from the modules'
    own tables: no state_dict hook or override of the student's can change it."""
    state: dict[str, torch.Tensor] = {}
    for prefix, module in _NAMED_MODULES(m, remove_duplicate=False):  # as state_dict: a shared module under each name
        table = module.__dict__
        dot = f"{prefix}." if prefix else ""
        for name, p in dict.items(table.get("_parameters", {})):
            if p is not None:
                state[dot + name] = p
        skip = table.get("_non_persistent_buffers_set", set())
        for name, b in dict.items(table.get("_buffers", {})):
            if b is not None and name not in skip:
                state[dot + name] = b
    return state

_MODULE_KWARGS = {  # constructor arguments of the module types that may cross into a sandbox
    "Linear": ("in_features", "out_features", "bias"),
    "Conv1d": ("in_channels", "out_channels", "kernel_size", "bias"),
    "BatchNorm1d": ("num_features",),
    "LayerNorm": ("normalized_shape",),
    "Embedding": ("num_embeddings", "embedding_dim"),
    "Dropout": ("p",),
    "Tanh": (), "ReLU": (), "Sigmoid": (), "Identity": (), "Flatten": (),
}
_CONTAINERS = ("Sequential", "ModuleList")


def _extra_repr(m: nn.Module) -> str:
    try:
        return str(m.extra_repr())[:200]
    except Exception:  # noqa: BLE001 - a student's module whose extra_repr fails: described without it
        return ""


def _qualname(obj: Any) -> str:
    cls = type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _module_arch(m: nn.Module) -> dict[str, Any]:
    name = type(m).__name__
    children = [[n, _module_arch(c)] for n, c in m.named_children()]
    if name in _MODULE_KWARGS and type(m).__module__.startswith("torch.nn"):
        kwargs = {}
        for k in _MODULE_KWARGS[name]:
            v = getattr(m, k)
            if k == "bias":
                v = v is not None if isinstance(v, (torch.Tensor, type(None))) else bool(v)
            kwargs[k] = list(v) if isinstance(v, tuple) else v
        return {"cls": name, "kw": kwargs}
    if name in _CONTAINERS and type(m).__module__.startswith("torch.nn"):
        return {"cls": name, "children": children}
    return {"cls": "Tree", "children": children}


class Encoder:
    """Turns a value into a JSON-able node, appending raw bytes to ``blobs``."""

    def __init__(self, register: Callable[[nn.Module], int] | None = None):
        self.blobs: list[bytes] = []
        self._register = register  # sandbox side: gives modules a handle

    def _blob(self, data: bytes) -> int:
        self.blobs.append(data)
        return len(self.blobs) - 1

    def tensor(self, t: torch.Tensor) -> dict[str, Any]:
        with torch._C.DisableTorchFunction():
            grad_fn = _GRAD_FN(t)
            grad = _GRAD(t) if _IS_LEAF(t) else None  # a non-leaf's .grad is never filled (and torch warns)
            node: dict[str, Any] = {
                "t": "tensor", "cls": "Parameter" if type(t) is nn.Parameter else "Tensor",
                "dtype": str(t.dtype).removeprefix("torch."), "shape": list(_T.size(t)),
                "rg": bool(_REQUIRES_GRAD(t)), "leaf": bool(_IS_LEAF(t)),
                "grad_fn": type(grad_fn).__name__ if grad_fn is not None else None,
                "contig": bool(_T.is_contiguous(t)), "grad": None,
            }
            if node["dtype"] in DTYPES and t.layout == torch.strided and t.device.type == "cpu":
                data = _T.detach(t)
                if not node["contig"]:  # a permuted view (permute, transpose, .T) crosses as one
                    perm = sorted(range(data.dim()), key=lambda d: -_T.stride(data, d))
                    if _T.is_contiguous(_T.permute(data, perm)):
                        node["perm"], data = perm, _T.permute(data, perm)
                node["blob"] = self._blob(_T.numpy(_T.contiguous(data)).tobytes())
            if node["leaf"] and grad is not None and type(grad) is torch.Tensor:
                node["grad"] = self.tensor(grad)
        return node

    def module(self, m: nn.Module, handle: int, before: dict[str, int] | None = None) -> dict[str, Any]:
        tree = [{"name": n, "cls": _qualname(c), "extra": _extra_repr(c)} for n, c in named_modules(m)]
        params = [
            {"name": n, "cls": type(p).__name__, "dtype": str(p.dtype).removeprefix("torch."),
             "rg": bool(_REQUIRES_GRAD(p)), "same": None if before is None else before.get(n) == id(p)}
            for n, p in named_parameters(m)
        ]
        state = {k: self.encode(v) for k, v in state_of(m).items()}
        return {"t": "module", "handle": handle, "cls": _qualname(m), "tree": tree, "params": params, "state": state}

    def encode(self, v: Any, depth: int = 0) -> dict[str, Any]:
        if depth > MAX_DEPTH:
            return {"t": "foreign", "cls": "too deeply nested value"}
        kind = type(v)
        if v is None:
            return {"t": "none"}
        if kind in (bool, int, float, str):
            if kind is int and abs(v) > 2**62:
                return {"t": "foreign", "cls": "int too large"}
            return {"t": kind.__name__, "v": v if kind is not str else v[:10_000]}
        if kind in (torch.Tensor, nn.Parameter):
            return self.tensor(v)
        if kind is np.ndarray and v.dtype.name in DTYPES:
            return {"t": "ndarray", "dtype": v.dtype.name, "shape": list(v.shape),
                    "blob": self._blob(np.ascontiguousarray(v).tobytes())}
        if isinstance(v, tuple) and (kind is tuple or kind.__module__ in ("torch.return_types", "torch")):
            return {"t": "tuple", "cls": _qualname(v), "items": [self.encode(x, depth + 1) for x in v]}
        if kind is list:
            return {"t": "list", "items": [self.encode(x, depth + 1) for x in v]}
        if kind in (dict, OrderedDict) and all(type(k) is str for k in v):  # a state_dict is an OrderedDict
            return {"t": "dict", "items": [[k, self.encode(x, depth + 1)] for k, x in v.items()]}
        if kind is Handle:
            return {"t": "handle", "id": v.id}
        if kind is View:
            return {"t": "view", "base": self.tensor(v.base), "size": list(v.size), "stride": list(v.stride),
                    "offset": v.offset}
        if isinstance(v, nn.Module):
            if self._register is not None:  # sandbox side: describe it, keep it by handle
                return self.module(v, self._register(v))
            return {"t": "newmodule", "arch": _module_arch(v), "state": self.encode(dict(v.state_dict()))}
        return {"t": "foreign", "cls": _qualname(v)}


# ------------------------------------------------------------------------------------------ decoding


class _Tree(nn.Module):
    """A container rebuilt in the sandbox for a module type that cannot cross by name."""

    def forward(self, x):
        for child in self.children():
            x = child(x)
        return x


def _build_module(arch: dict[str, Any]) -> nn.Module:
    cls = arch.get("cls")
    if cls in _MODULE_KWARGS:
        return getattr(nn, cls)(**arch.get("kw", {}))
    if cls in (*_CONTAINERS, "Tree"):
        m = {"Sequential": nn.Sequential, "ModuleList": nn.ModuleList, "Tree": _Tree}[cls]()
        for name, child in arch.get("children", []):
            m.add_module(str(name), _build_module(child))
        return m
    raise WireError(f"unknown module type {cls!r}")


class Decoder:
    """Turns a node back into a value. ``resolve`` maps handles to sandbox objects (sandbox side only)."""

    def __init__(self, blobs: memoryview, resolve: Callable[[int], Any] | None = None):
        self.blobs = blobs
        self._offsets: list[tuple[int, int]] | None = None
        self._resolve = resolve
        self.sizes: list[int] = []
        self.bases: dict[int, torch.Tensor] = {}  # sandbox side: id of a view argument -> the tensor it views

    def with_sizes(self, sizes: list[int]) -> "Decoder":
        self._offsets, start = [], 0
        for n in sizes:
            self._offsets.append((start, start + n))
            start += n
        if start != len(self.blobs):
            raise WireError("blob sizes do not add up")
        return self

    def _bytes(self, i: int) -> memoryview:
        if self._offsets is None or not 0 <= i < len(self._offsets):
            raise WireError("bad blob index")
        a, b = self._offsets[i]
        return self.blobs[a:b]

    def _array(self, node: dict[str, Any], perm: list[int] | None = None) -> np.ndarray:
        if node.get("dtype") not in DTYPES:
            raise WireError("unknown dtype")
        dtype = np.dtype(DTYPES[node["dtype"]])
        shape = _shape(node.get("shape"))
        if perm is not None:
            shape = tuple(shape[p] for p in perm)
        data = self._bytes(node["blob"])
        if len(data) != dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
            raise WireError("tensor bytes do not match its shape")
        return np.frombuffer(data, dtype=dtype).reshape(shape).copy()

    def tensor(self, node: dict[str, Any]) -> torch.Tensor | Foreign:
        if "blob" not in node:
            return Foreign(f"torch.Tensor of dtype {_text(node.get('dtype'), 40)}")
        perm = node.get("perm")
        if perm is not None and (not isinstance(perm, list) or not all(type(p) is int for p in perm)
                                 or sorted(perm) != list(range(len(_shape(node.get("shape")))))):
            raise WireError("bad permutation")
        t = torch.from_numpy(self._array(node, perm))
        if perm is not None:  # rebuild the permuted (non-contiguous) view the sender had
            t = t.permute([perm.index(d) for d in range(len(perm))])
        if self._resolve is not None:  # sandbox side: a live tensor, as the caller of a blank would pass it
            if node["cls"] == "Parameter":
                return nn.Parameter(t, requires_grad=bool(node["rg"]))
            return t.requires_grad_(bool(node["rg"])) if t.is_floating_point() else t
        grad = node.get("grad")
        if grad is not None and not (isinstance(grad, dict) and grad.get("grad") is None):
            raise WireError("malformed gradient")  # a tensor's .grad, which has no .grad of its own
        grad_fn = node.get("grad_fn")
        t.remote = TensorInfo(  # type: ignore[attr-defined]
            cls=_text(node.get("cls"), 40), requires_grad=node.get("rg") is True, is_leaf=node.get("leaf") is True,
            grad_fn=None if grad_fn is None else _text(grad_fn, 80),
            grad=self.tensor(grad) if isinstance(grad, dict) else None,
            contiguous=node.get("contig", True) is True,
        )
        return t

    def _view(self, node: dict[str, Any]) -> torch.Tensor:
        """Sandbox side: the strided view a :class:`View` describes, into a base tensor of its own."""
        if self._resolve is None:
            raise WireError("views only travel into the sandbox")
        base = self.tensor(node.get("base") or {})
        size, stride, offset = _shape(node.get("size")), _shape(node.get("stride")), node.get("offset")
        if not isinstance(base, torch.Tensor) or len(size) != len(stride) or type(offset) is not int or offset < 0:
            raise WireError("malformed view")
        view = base.detach().as_strided(size, stride, offset)  # as_strided checks it stays inside base
        self.bases[id(view)] = base
        return view

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH or not isinstance(node, dict):
            raise WireError("malformed value")
        t = node.get("t")
        if t == "none":
            return None
        if t in ("bool", "int", "float", "str"):
            v = node["v"]
            if type(v) is not {"bool": bool, "int": int, "float": (int, float), "str": str}[t] and not (
                t == "float" and type(v) in (int, float)
            ):
                raise WireError("scalar of the wrong type")
            return {"bool": bool, "int": int, "float": float, "str": str}[t](v)
        if t == "tensor":
            return self.tensor(node)
        if t == "view":
            return self._view(node)
        if t == "viewed":  # trusted side: an argument sent as a View, and its whole base, after the call
            value, base = self.decode(node.get("value"), depth + 1), self.decode(node.get("base"), depth + 1)
            if not isinstance(value, torch.Tensor) or not isinstance(base, torch.Tensor):
                raise WireError("malformed view")
            value.remote.base = base  # type: ignore[attr-defined]
            return value
        if t == "ndarray":
            return self._array(node)
        if t == "tuple":
            out = RemoteTuple(self.decode(x, depth + 1) for x in _items(node))
            out.cls = _text(node.get("cls", "tuple"), 200)
            return out
        if t == "list":
            return [self.decode(x, depth + 1) for x in _items(node)]
        if t == "dict":
            pairs = _items(node)
            if not all(isinstance(p, list) and len(p) == 2 and type(p[0]) is str for p in pairs):
                raise WireError("malformed dict")
            return {k[:200]: self.decode(x, depth + 1) for k, x in pairs}
        if t == "foreign":
            return Foreign(_text(node.get("cls", "?"), 200))
        if t == "handle":
            if self._resolve is None:
                raise WireError("handles only travel into the sandbox")
            return self._resolve(int(node["id"]))
        if t == "newmodule":
            if self._resolve is None:
                raise WireError("modules are only built inside the sandbox")
            m = _build_module(node["arch"])
            m.load_state_dict(self.decode(node["state"], depth + 1))
            return m
        if t == "module":
            state = node.get("state")
            if type(node.get("handle")) is not int or not isinstance(state, dict):
                raise WireError("malformed module")
            return ModuleInfo(
                handle=Handle(node["handle"]), cls=_text(node.get("cls"), 200), tree=_records(node.get("tree"), _TREE),
                params=_records(node.get("params"), _PARAM),
                state={_text(k, 200): self.decode(v, depth + 1) for k, v in state.items()},
            )
        raise WireError(f"unknown value kind {t!r}")


_TREE = {"name": str, "cls": str, "extra": str}
_PARAM = {"name": str, "cls": str, "dtype": str, "rg": bool, "same": (bool, type(None))}
MAX_ITEMS = 100_000


def _text(value: Any, cap: int) -> str:
    if type(value) is not str:
        raise WireError("expected text")
    return value[:cap]


def _shape(value: Any) -> tuple[int, ...]:
    """A tensor's shape as sent: a short list of plain non-negative ints whose product fits in a frame."""
    if not isinstance(value, list) or len(value) > MAX_DIMS or not all(type(s) is int and s >= 0 for s in value):
        raise WireError("malformed shape")
    total = 1
    for s in value:
        total *= s
    if total > MAX_FRAME or any(s > MAX_FRAME for s in value):
        raise WireError("shape too large")
    return tuple(value)


def _items(node: dict[str, Any]) -> list[Any]:
    items = node.get("items")
    if not isinstance(items, list) or len(items) > MAX_ITEMS:
        raise WireError("malformed sequence")
    return items


def _records(value: Any, fields: dict[str, type | tuple[type, ...]]) -> list[dict[str, Any]]:
    """A list of flat records (a module's tree or parameters), every field of its expected type."""
    if not isinstance(value, list) or len(value) > 10_000:
        raise WireError("malformed module description")
    records = []
    for r in value:
        if not isinstance(r, dict) or any(type(r.get(k)) not in (t if isinstance(t, tuple) else (t,))
                                          for k, t in fields.items()):
            raise WireError("malformed module description")
        records.append({k: r[k][:200] if type(r[k]) is str else r[k] for k in fields})
    return records


def encode(value: Any, register: Callable[[nn.Module], int] | None = None) -> tuple[dict[str, Any], list[bytes]]:
    """One value as a node plus blobs; the node records the blob sizes so the receiver can split them."""
    enc = Encoder(register)
    node = enc.encode(value)
    return {"value": node, "sizes": [len(b) for b in enc.blobs]}, enc.blobs


def decoder(payload: dict[str, Any], blobs: memoryview, resolve: Callable[[int], Any] | None = None) -> Decoder:
    sizes = payload.get("sizes", [])
    if not isinstance(sizes, list) or not all(type(n) is int and n >= 0 for n in sizes):
        raise WireError("bad blob sizes")
    return Decoder(blobs, resolve).with_sizes(sizes)


def decode(payload: dict[str, Any], blobs: memoryview, resolve: Callable[[int], Any] | None = None) -> Any:
    return decoder(payload, blobs, resolve).decode(payload.get("value"))
