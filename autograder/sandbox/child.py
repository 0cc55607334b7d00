"""The sandbox side: run a notebook's cells like "Run All", then answer calls into what they defined.

Everything here runs next to untrusted code, so nothing here is trusted by the grader: it only turns
requests into calls and results into data (:mod:`autograder.protocol.codec`). It imports no solutions and no tests.

Cells arrive as written in the notebook: IPython syntax (``%matplotlib inline``, ``!pip install x``, ``%%time``) is
turned into Python here, by a fresh IPython ``TransformerManager`` per cell (unless the cell is plain Python that
it would leave as it is), within the cell's time limit -- so the trusted side never parses untrusted code, and
nothing a cell registers changes how a later cell is read.

Requests (one frame each, answered by one frame):
    {"op": "run", "cells": [code, ...], "first": i, "cell_timeout": s} -> {"ok": true, "cells": [report, ...]}
    {"op": "call", "target": name | {"handle": id}, "method": name | null,
     "payload": encoded {"args": [...], "kwargs": {...}}, "watch": bool, "seed": int, "timeout": s}
        -> {"ok": true, "payload": encoded {"result": v, "args": [v after the call, ...]},
            "returned_arg": index | null, "torch_calls": [name, ...], "output": str, "seconds": s}
        or {"ok": false, "error": {"type": .., "message": .., "where": ..}, "output": str}
    {"op": "defines", "names": [...]}                       -> {"ok": true, "defined": {name: kind | null}}
    {"op": "load", "path": p}  torch.load(p, weights_only=True) in here -> a call-like answer
"""
from __future__ import annotations

import io
import os
import re
import signal
import socket
import time
import traceback
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from autograder.protocol import codec
from autograder.protocol.wire import Closed, WireError, recv_frame, send_frame

_KIT = str(Path(__file__).resolve().parents[1])  # the autograder package
OUTPUT_CAP = 20_000  # characters of a cell's or call's printed output kept for feedback


class Interrupted(BaseException):
    """Raised into student code when its cell or call runs out of time."""


class CappedText(io.TextIOBase):
    """A stdout that keeps the first ``cap`` characters and counts the rest."""

    def __init__(self, cap: int = OUTPUT_CAP):
        self.cap, self.parts, self.kept, self.total = cap, [], 0, 0

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        s = str(s)
        self.total += len(s)
        if self.kept < self.cap:
            self.parts.append(s[: self.cap - self.kept])
            self.kept += len(self.parts[-1])
        return len(s)

    def text(self) -> str:
        out = "".join(self.parts)
        if self.total > self.kept:
            out += f"\n... [{self.total - self.kept} more characters of output not kept]"
        return out


class _Recorder(TorchFunctionMode):
    """Notes the name of every torch function a call uses (to detect forbidden APIs)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.probing, self.heard = False, 0  # the grader's own probe (_Watch.still_on): counted, not named

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if self.probing:
            self.heard += 1
        else:
            self.names.add(_func_name(func))
        return func(*args, **(kwargs or {}))


class _OpRecorder(TorchDispatchMode):
    """Notes every ATen operator a call runs, and each backward pass of autograd's engine (a graph task) that runs
    one. It sits below torch functions, so it sees what a call does even where torch functions are hidden
    (``torch._C.DisableTorchFunction``), and it counts backward passes however they were started."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: set[str] = set()
        self.graph_tasks: set[int] = set()
        self.probing, self.heard = False, 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if self.probing:
            self.heard += 1
            return func(*args, **(kwargs or {}))
        self.ops.add(str(func.overloadpacket))
        task = torch._C._current_graph_task_id()
        if task != -1:
            self.graph_tasks.add(task)
        return func(*args, **(kwargs or {}))


class _Watch:
    """Both recorders and the torch.save / torch.load calls of one call into the submission; :meth:`still_on` tells
    whether the recorders were still listening when the call returned (a cell may pop torch's mode stacks)."""

    def __init__(self) -> None:
        self.functions, self.ops, self.files = _Recorder(), _OpRecorder(), []

    @contextmanager
    def on(self) -> Iterator["_Watch"]:
        self.broken = False
        with _watch_files() as self.files:
            self.functions.__enter__()
            self.ops.__enter__()
            try:
                yield self
            finally:  # a call that rearranged torch's mode stacks: not watched (and its own error, if any, stands)
                for recorder in (self.ops, self.functions):
                    try:
                        recorder.__exit__(None, None, None)
                    except Exception:  # noqa: BLE001
                        self.broken = True

    def still_on(self) -> bool:
        recorders = (self.functions, self.ops)
        heard = [r.heard for r in recorders]
        for r in recorders:
            r.probing = True
        try:
            torch.zeros(1).neg()
        finally:
            for r in recorders:
                r.probing = False
        return all(r.heard > h for r, h in zip(recorders, heard))

    def report(self) -> dict[str, Any]:
        return {"torch_calls": sorted(self.functions.names | self.ops.ops), "files": self.files,
                "backward_passes": len(self.ops.graph_tasks)}


def _func_name(func: Any) -> str:
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None) or repr(func)
    module = getattr(func, "__module__", None) or ""
    if name.startswith("TensorBase.") or name.startswith("_TensorBase."):
        name = "Tensor." + name.split(".", 1)[1]
    if "." in name:
        return name
    return f"{module}.{name}" if module else name


@contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    if not seconds:
        yield
        return

    def expire(signum, frame):
        raise Interrupted(f"ran for more than {seconds:g} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


@contextmanager
def _watch_files() -> Iterator[list[dict[str, Any]]]:
    """Records how torch.save / torch.load are called (e.g. whether weights_only=True is passed)."""
    seen: list[dict[str, Any]] = []
    real_load, real_save = torch.load, torch.save

    def load(*args, **kwargs):
        seen.append({"fn": "torch.load", "weights_only": kwargs.get("weights_only")})
        return real_load(*args, **kwargs)

    def save(obj, *args, **kwargs):
        seen.append({"fn": "torch.save", "saved": type(obj).__name__})
        return real_save(obj, *args, **kwargs)

    torch.load, torch.save = load, save
    try:
        yield seen
    finally:
        torch.load, torch.save = real_load, real_save


def _remove_file(path: str) -> None:
    if os.path.isfile(path):
        os.remove(path)


def _python(source: str) -> str:
    """A cell's source as plain Python, as IPython would run it; left as written when IPython cannot read it
    (the cell then fails like it would in Jupyter)."""
    from IPython.core.inputtransformer2 import TransformerManager  # only for cells that need it: see _compile_cell

    try:
        return TransformerManager().transform_cell(source)
    except Exception:  # noqa: BLE001
        return source


# IPython's own syntax (magics, shell escapes, help) never compiles as Python; but IPython also cleans up pasted
# code, and that can change code that compiles: leading blank lines and common indentation go, lines of spaces and
# tabs are emptied (even inside a string), ">>>", "...:" and "In [n]: " prompts are stripped. A cell showing none
# of these is compiled as written, without IPython's transformer (imported late in the zygote, so that it starts
# sooner) and without tokenizing the cell twice. tests/test_cells.py compares the two on tricky cells.
_SPACES_ONLY_LINE = re.compile(r"^[ \t]+$", re.MULTILINE)
_PROMPTS = (">>>", "...", "In [", "[nav]", "[ins]")


def _as_written(source: str) -> bool:
    """Whether IPython's clean-up would leave ``source`` as it is (a superset of what it changes is ruled out)."""
    lines = source.splitlines()
    if not lines:
        return True
    first = lines[0]
    if not first or first[0] in " \t" or first.isspace() or _SPACES_ONLY_LINE.search(source) or ">>>" in source:
        return False
    return not any(line.lstrip().startswith(_PROMPTS) for line in lines[:2])


def _compile_cell(source: str, filename: str) -> Any:
    """A cell's code object, as Jupyter would run the cell."""
    if _as_written(source):
        try:
            return compile(source, filename, "exec")
        except (SyntaxError, ValueError):
            pass  # IPython syntax, or a genuine error, which IPython's reading reports the same way
    return compile(_python(source), filename, "exec")


def _describe_error(error: BaseException) -> dict[str, Any]:
    frames = traceback.extract_tb(error.__traceback__)
    # The student's frames: cells here, or the kernel's cell files under nbgrader; not the kit or libraries.
    user = [f for f in frames if f.filename.startswith("<cell")
            or not (f.filename.startswith(_KIT) or "site-packages" in f.filename or f.filename.startswith("<frozen"))]
    where = ""
    if user:
        f = user[-1]
        inside = f"in {f.name}, " if f.name != "<module>" else ""
        # "<cell 13>" -> "cell [13]": the prompt JupyterLab shows beside it after Restart Kernel and Run All
        cell = f"cell [{f.filename.strip('<>').split()[-1]}], " if f.filename.startswith("<cell ") else ""
        where = f"{inside}{cell}line {f.lineno}"
    return {"type": type(error).__name__, "message": str(error)[:2000], "where": where}


class _Shell:
    """Stands in for ``get_ipython()``: magics and shell commands do nothing, cell magics that only
    measure (``%%time``, ``%%capture``...) run their body, so a notebook behaves as under "Run All"."""

    RUN_BODY = {"time", "timeit", "capture", "prun"}

    def __init__(self, namespace: dict[str, Any]):
        self._namespace = namespace

    def run_line_magic(self, name: str, line: str, *args: Any) -> None:
        return None

    def run_cell_magic(self, name: str, line: str, body: str) -> None:
        if name in self.RUN_BODY:
            exec(compile(body, "<cell magic>", "exec"), self._namespace)

    def system(self, command: str) -> None:
        return None

    def getoutput(self, command: str) -> list[str]:
        return []


class Servant:
    """Holds the notebook's namespace and the objects handed out by handle."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
        shell = _Shell(self.namespace)
        self.namespace["get_ipython"] = lambda: shell
        self.handles: dict[int, Any] = {}

    # -- handles -------------------------------------------------------------------------------------
    def register(self, obj: Any) -> int:
        for h, o in self.handles.items():
            if o is obj:
                return h
        h = len(self.handles) + 1
        self.handles[h] = obj
        return h

    def resolve(self, h: int) -> Any:
        if h not in self.handles:
            raise WireError(f"no object with handle {h}")
        return self.handles[h]

    # -- requests ------------------------------------------------------------------------------------
    def handle(self, header: dict[str, Any], blobs: memoryview) -> tuple[dict[str, Any], list[bytes]]:
        op = header.get("op")
        if op == "run":
            return {"ok": True, "cells": self.run_cells(header["cells"], header.get("cell_timeout"),
                                                         int(header.get("first", 0)))}, []
        if op == "call":
            return self.call(header, blobs)
        if op == "defines":
            found = {}
            for name in header["names"]:
                obj = self.namespace.get(name)
                found[name] = None if obj is None else ("class" if isinstance(obj, type) else type(obj).__name__)
            return {"ok": True, "defined": found}, []
        if op == "load":
            return self.call({**header, "target": "__load__"}, blobs)
        return {"ok": False, "error": {"type": "ProtocolError", "message": f"unknown op {op!r}", "where": ""}}, []

    def run_cells(self, cells: list[str], cell_timeout: float | None, first: int = 0) -> list[dict[str, Any]]:
        reports = []
        for i, source in enumerate(cells, start=first):
            out = CappedText()
            report: dict[str, Any] = {"cell": i, "ok": True}
            try:
                with redirect_stdout(out), redirect_stderr(out), _time_limit(cell_timeout):
                    code = _compile_cell(source, f"<cell {i + 1}>")
                    exec(code, self.namespace)
            except BaseException as error:  # noqa: BLE001 - a cell may raise anything, even SystemExit
                report.update(ok=False, error=_describe_error(error))
            report["output"] = out.text()
            reports.append(report)
        return reports

    def _target(self, header: dict[str, Any]) -> Any:
        target = header["target"]
        if target == "__load__":
            return lambda path: torch.load(path, weights_only=True)
        if target == "__save__":  # the grader's own file, e.g. a state_dict for load_weights to read
            return lambda obj, path: torch.save(obj, path)
        if target == "__remove__":  # the grader cleans up the files it had written (a notebook's folder in nbgrader)
            return _remove_file
        obj = self.resolve(int(target["handle"])) if isinstance(target, dict) else self.namespace[target]
        if header.get("method"):
            obj = getattr(obj, header["method"])
        return obj

    def call(self, header: dict[str, Any], blobs: memoryview) -> tuple[dict[str, Any], list[bytes]]:
        out = CappedText()
        try:
            fn = self._target(header)
            decoder = codec.decoder(header["payload"], blobs, resolve=self.resolve)
            request = decoder.decode(header["payload"].get("value"))
        except KeyError as missing:  # the notebook never defined what the grader calls
            return {"ok": False, "error": {"type": "Undefined", "message": f"{missing} is not defined",
                                           "where": ""}, "output": ""}, []
        args, kwargs = list(request["args"]), dict(request["kwargs"])
        param_ids = [
            {n: id(p) for n, p in codec.named_parameters(a)} if isinstance(a, nn.Module) else None for a in args
        ]
        watch = _Watch() if header.get("watch") else None
        # The CPU generator alone: torch.manual_seed also queues a seed for every lazily initialised accelerator,
        # with a formatted stack trace each time (half a millisecond a call, and a list that only grows)
        torch.default_generator.manual_seed(int(header.get("seed", 0)))
        start = time.perf_counter()
        watched = True
        try:
            with redirect_stdout(out), redirect_stderr(out), _time_limit(header.get("timeout")):
                if watch is not None:
                    with watch.on():
                        result = fn(*args, **kwargs)
                        watched = watch.still_on()
                    watched = watched and not watch.broken
                else:
                    result = fn(*args, **kwargs)
                seconds = time.perf_counter() - start
                grads, vjp_error = _gradients(fn, args, result, request.get("vjp"))
        except BaseException as error:  # noqa: BLE001 - student code may raise SystemExit, KeyboardInterrupt...
            return {"ok": False, "error": _describe_error(error), "output": out.text(),
                    **(watch.report() if watch is not None else {})}, []
        returned_arg = next((i for i, a in enumerate(args) if a is result and result is not None), None)
        enc = codec.Encoder(self.register)
        after = []
        for a, ids in zip(args, param_ids):
            if ids is not None:
                after.append(enc.module(a, self.register(a), ids))
            elif id(a) in decoder.bases:  # sent as a view: the whole storage it views comes back with it
                after.append({"t": "viewed", "value": enc.encode(a), "base": enc.encode(decoder.bases[id(a)])})
            else:
                after.append(enc.encode(a))
        items = [["result", enc.encode(result)], ["args", {"t": "list", "items": after}]]
        if grads is not None:
            items.append(["grads", enc.encode(grads)])
        return {
            "ok": True, "payload": {"value": {"t": "dict", "items": items}, "sizes": [len(b) for b in enc.blobs]},
            "returned_arg": returned_arg, "output": out.text(), "seconds": seconds, "watched": watched,
            "vjp_error": vjp_error, **(watch.report() if watch is not None else {}),
        }, enc.blobs


NOT_DIFFERENTIABLE = "the result does not require grad"  # the trusted side says it in the student's language


def _gradients(fn: Any, args: list[Any], result: Any, upstream: Any) -> tuple[dict[str, Any] | None, str | None]:
    """The vector-Jacobian product of a call, when the grader asked for one (``upstream``: the gradient of the
    result): the gradient that reaches each input that requires grad (``arg<i>``), each parameter of a module
    argument (``arg<i>:<name>``) and of the module called (``param:<name>``); None where none reaches it."""
    if upstream is None:
        return None, None
    inputs: dict[str, torch.Tensor] = {}
    for i, a in enumerate(args):
        if isinstance(a, torch.Tensor) and codec.requires_grad(a):
            inputs[f"arg{i}"] = a
        elif isinstance(a, nn.Module):
            inputs.update({f"arg{i}:{n}": p for n, p in codec.named_parameters(a) if codec.requires_grad(p)})
    if isinstance(fn, nn.Module):
        inputs.update({f"param:{n}": p for n, p in codec.named_parameters(fn) if codec.requires_grad(p)})
    if type(result) not in (torch.Tensor, nn.Parameter) or not codec.requires_grad(result):
        return {name: None for name in inputs}, NOT_DIFFERENTIABLE
    if not inputs:
        return {}, None
    try:
        found = torch.autograd.grad(result, list(inputs.values()), grad_outputs=upstream, allow_unused=True)
    except RuntimeError as error:
        return {name: None for name in inputs}, str(error)[:300]
    return {name: None if g is None else g.detach() for name, g in zip(inputs, found)}, None


def serve(sock: socket.socket) -> None:
    """Answer requests on ``sock`` until the grader closes it."""
    servant = Servant()
    while True:
        try:
            header, blobs = recv_frame(sock)
        except (Closed, OSError):
            return
        try:
            reply, reply_blobs = servant.handle(header, blobs)
        except BaseException as error:  # noqa: BLE001 - report and carry on; the grader decides
            reply, reply_blobs = {"ok": False, "error": _describe_error(error), "output": ""}, []
        try:
            send_frame(sock, reply, reply_blobs)
        except (OSError, ValueError) as error:  # e.g. a value that JSON cannot hold
            send_frame(sock, {"ok": False, "error": {"type": "ProtocolError", "message": str(error)[:500],
                                                     "where": ""}, "output": ""})
