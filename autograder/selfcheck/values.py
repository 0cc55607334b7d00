"""Values as JSON, for the self-check data a course ships to students (``<stem>_selfcheck.json``): tensors, NumPy
arrays, numbers, None and containers; nothing that runs."""
from __future__ import annotations

import math
from typing import Any

import torch


def encode(value: Any) -> Any:
    """A JSON-able form of ``value`` (finite numbers only: a self-check's examples are chosen to stay finite)."""
    if isinstance(value, torch.Tensor):
        data = value.detach().reshape(-1).tolist()
        return {"tensor": data, "dtype": str(value.dtype).removeprefix("torch."), "shape": list(value.shape),
                "parameter": isinstance(value, torch.nn.Parameter), "requires_grad": bool(value.requires_grad)}
    if type(value).__module__ == "numpy" and type(value).__name__ == "ndarray":
        return {"ndarray": value.reshape(-1).tolist(), "dtype": str(value.dtype), "shape": list(value.shape)}
    if value is None:
        return {"none": True}
    if type(value) is bool:
        return {"bool": value}
    if type(value) is int:
        return {"int": value}
    if type(value) is float:
        if not math.isfinite(value):
            raise ValueError("a self-check example must have finite values")
        return {"float": value}
    if type(value) is str:
        return {"str": value}
    if isinstance(value, (list, tuple)):
        return {"list" if isinstance(value, list) else "tuple": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"dict": [[str(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"a self-check cannot carry a {type(value).__name__}")


def decode(node: Any) -> Any:
    """The value :func:`encode` described (tensors as float32 etc. as they were, Parameters as Parameters)."""
    if "tensor" in node:
        t = torch.tensor(node["tensor"], dtype=getattr(torch, node["dtype"])).reshape(node["shape"])
        if node.get("parameter"):
            return torch.nn.Parameter(t, requires_grad=node.get("requires_grad", True))
        return t.requires_grad_(True) if node.get("requires_grad") and t.is_floating_point() else t
    if "ndarray" in node:
        import numpy as np

        return np.array(node["ndarray"], dtype=node["dtype"]).reshape(node["shape"])
    if "none" in node:
        return None
    for kind in ("bool", "int", "float", "str"):
        if kind in node:
            return node[kind]
    if "list" in node:
        return [decode(v) for v in node["list"]]
    if "tuple" in node:
        return tuple(decode(v) for v in node["tuple"])
    if "dict" in node:
        return {k: decode(v) for k, v in node["dict"]}
    raise ValueError(f"not a self-check value: {sorted(node)}")
