"""The trusted side's handle on one submission: ``sub.call("mse_grads", x, y, w, b)``.

A :class:`Submission` talks to a *transport* that answers :mod:`autograder.sandbox.child` requests: a sandboxed
process (:mod:`autograder.sandbox.zygote`) when grading, or a :class:`~autograder.sandbox.child.Servant` in this process
for nbgrader's hidden cells and for tests. Either way every value crosses as data through the same codec,
so a test sees exactly the same thing in both modes.
"""
from __future__ import annotations

import errno
import os
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import torch

from autograder.i18n import _
from autograder.protocol import codec

from autograder.grading import torchfile
from autograder.protocol.codec import Handle
from autograder.protocol.wire import Closed, Timeout, WireError, pack, unpack


class Transport(Protocol):
    def request(self, header: dict[str, Any], blobs: list[bytes], timeout: float | None) -> tuple[dict, memoryview]:
        ...

    def read_file(self, name: str, max_bytes: int) -> bytes:
        """A file of the submission's working folder, read by the trusted side."""
        ...

    def close(self) -> None:
        ...


class SubmissionError(AssertionError):
    """A call into the submission failed; the message is written for the student, ``reason`` for the engine (what
    the pages and the report decide from, whatever the language): "undefined", "not-written", "timeout", "memory",
    "lost", "budget", "raised", "unreadable" or "not-watched"."""

    def __init__(self, message: str, reason: str = "raised"):
        super().__init__(message)
        self.reason = reason


def out_of_memory(kind: str, message: str) -> bool:
    """Whether an exception the student's code raised says memory ran out (Python's, or torch's allocator's)."""
    return kind == "MemoryError" or (kind == "RuntimeError" and "can't allocate memory" in message)


class ProcessLost(SubmissionError):
    """The submission's process died or hung; later calls start it again."""

    def __init__(self, message: str, reason: str = "lost"):
        super().__init__(message, reason)


@dataclass
class CallResult:
    value: Any
    args: list[Any]  # the arguments as they were after the call (to spot inputs modified in place)
    returned_arg: int | None  # index of the argument the call returned itself, if it did
    torch_calls: list[str] = field(default_factory=list)  # torch functions and ATen operators seen (watch=True)
    files: list[dict[str, Any]] = field(default_factory=list)  # torch.save / torch.load calls seen
    output: str = ""
    seconds: float = 0.0
    backward_passes: int = 0  # backward passes autograd's engine ran during the call (watch=True)
    # with vjp=...: the gradient that reached each input ("arg<i>", "arg<i>:<param>", "param:<name>"), None where
    # none did; vjp_error says why there is none at all (e.g. the result does not require grad)
    grads: dict[str, Any] = field(default_factory=dict)
    vjp_error: str | None = None


@dataclass
class CellReport:
    cell: int
    ok: bool
    output: str
    error: dict[str, str] | None = None


class InProcess:
    """A transport that serves requests in this process, through the same bytes a sandbox would get."""

    def __init__(self, namespace: dict[str, Any] | None = None):
        from autograder.sandbox.child import Servant  # the sandbox's side (IPython): not for the grader, which never needs it

        self.servant = Servant()
        if namespace is not None:
            self.servant.namespace = namespace

    def request(self, header: dict[str, Any], blobs: list[bytes], timeout: float | None) -> tuple[dict, memoryview]:
        sent, sent_blobs = unpack(pack(header, blobs)[4:])
        reply, reply_blobs = self.servant.handle(sent, sent_blobs)
        return unpack(pack(reply, reply_blobs)[4:])

    def read_file(self, name: str, max_bytes: int) -> bytes:
        from autograder.sandbox.zygote import read_regular_file

        return read_regular_file(os.path.join(os.getcwd(), name), max_bytes)

    def close(self) -> None:
        pass


def where_words(where: str) -> str:
    """Where the student's code raised ("in mse_grads, cell [16], line 3"), in the current language."""
    import re

    found = re.fullmatch(r"(?:in (?P<fn>.+?), )?(?:cell \[(?P<cell>\d+)\], )?line (?P<line>\d+)", where)
    if not found:
        return where
    parts = {k: v for k, v in found.groupdict().items() if v}
    if "fn" in parts and "cell" in parts:
        return _("in {function}, cell [{cell}], line {line}").format(function=parts["fn"], cell=parts["cell"],
                                                                    line=parts["line"])
    if "fn" in parts:
        return _("in {function}, line {line}").format(function=parts["fn"], line=parts["line"])
    if "cell" in parts:
        return _("cell [{cell}], line {line}").format(cell=parts["cell"], line=parts["line"])
    return _("line {line}").format(line=parts["line"])


def _refused(path: str, why: str, names_a_class: bool = False) -> SubmissionError:
    """The sentence a student reads when the grader will not load the file at ``path``: what is wrong, and the fix.
    The error keeps ``why`` (the clause, translated) and ``names_a_class`` (torchfile.UnsafeFile's) for a hidden test
    that words its own feedback."""
    error = SubmissionError(_("the file at {path} was not loaded: {why}; save the weights with "
                              "torch.save(net.state_dict(), path).").format(path=path, why=why), "unreadable")
    error.why, error.names_a_class = why, names_a_class
    return error


# -- what a sandbox sends back: data from a hostile process, checked field by field ------------------------------
TEXT_CAP = 4_000  # characters kept of any text a sandbox sends (output, error messages)


class Malformed(WireError):
    """A reply that is valid JSON but not what the protocol says."""


def _text(value: Any, cap: int = TEXT_CAP) -> str:
    if type(value) is not str:
        raise Malformed("a text field is not text")
    return value if len(value) <= cap else value[:cap] + f"... [{len(value) - cap} more characters not kept]"


def _error(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise Malformed("an error is not an object")
    return {"type": _text(value.get("type", "Error"), 100), "message": _text(value.get("message", "")),
            "where": _text(value.get("where", ""), 300)}


def _list(value: Any, cap: int) -> list[Any]:
    if not isinstance(value, list) or len(value) > cap:
        raise Malformed("a list field is not a short list")
    return value


def _cell_report(cell: int, value: Any) -> CellReport:
    if not isinstance(value, dict) or type(value.get("ok")) is not bool:
        raise Malformed("a cell report is not an object")
    error = value.get("error")
    return CellReport(cell, value["ok"], _text(value.get("output", "")), None if error is None else _error(error))


def _file_event(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(type(k) is str and (v is None or type(v) in (str, bool))
                                              for k, v in value.items()):
        raise Malformed("a file event is not a flat object")
    return {k[:40]: v[:100] if type(v) is str else v for k, v in list(value.items())[:8]}


class Submission:
    """Runs a notebook's cells once, then answers calls; reopens the process if a call killed it."""

    MAX_RESTARTS = 10  # each costs at most one call timeout: a loop in one blank must not cost the others

    def __init__(self, open_transport: Callable[[], Transport], cells: list[str], *, label: str = "",
                 cell_timeout: float = 30.0, call_timeout: float = 10.0, notebook_timeout: float = 120.0,
                 unusable: str | None = None, budget: float | None = None):
        self._open = open_transport
        self.cells = cells
        self.label = label
        self.cell_timeout, self.call_timeout, self.notebook_timeout = cell_timeout, call_timeout, notebook_timeout
        self.seed = 0
        self._transport: Transport | None = None
        self._restarts = 0
        self.cell_reports: list[CellReport] = []
        self.lost: str | None = None  # why the process was last lost, for feedback
        self.skipped: dict[int, str] = {}  # cells that killed or hung the process -> why
        # (words all found in a failed call's message, hint): set from a hidden test module's ERROR_HINTS
        self.error_hints: list[tuple[str | tuple[str, ...], str]] = []
        self.unusable = unusable  # set when the notebook cannot be run at all (e.g. unreadable file)
        # All the wall time this notebook may cost (every run of its cells, every restart, every call), from its
        # first start; None: no cap. Once spent, every remaining request fails at once.
        self.budget = budget
        self._first_start: float | None = None

    @classmethod
    def in_process(cls, namespace: dict[str, Any]) -> "Submission":
        """A submission whose cells already ran: calls go straight to ``namespace`` (nbgrader, self-tests)."""
        sub = cls(lambda: InProcess(namespace), cells=[])
        return sub

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the process and run the notebook's cells, once; again after a call lost the process."""
        if self._first_start is None:
            self._first_start = time.monotonic()
        while self._transport is None:
            if self.unusable:
                raise SubmissionError(self.unusable, "lost")
            if self._budget_left() <= 0:
                self._budget_spent()
            if self._restarts > self.MAX_RESTARTS:
                raise ProcessLost(_("not run again: your notebook's process was lost {count} times ({why})").format(
                    count=self._restarts, why=self.lost))
            self._restarts += 1
            self._transport = self._open()
            self._run_cells()

    def _run_cells(self) -> None:
        """Run the cells one request each, like "Run All" with errors allowed. A cell that kills or hangs the
        process is skipped from then on, and the notebook is run again without it (by :meth:`start`)."""
        reports, started = [], time.monotonic()
        for i, cell in enumerate(self.cells):
            if i in self.skipped:
                reports.append(CellReport(i, False, "", {"type": "Stopped", "message": self.skipped[i], "where": ""}))
                continue
            left = self.notebook_timeout - (time.monotonic() - started)
            if left <= 0:
                self.unusable = _("running your notebook took more than {seconds} s").format(
                    seconds=f"{self.notebook_timeout:g}")
                self.close()
                raise ProcessLost(_("{why}.").format(why=self.unusable), "timeout")
            running = _("running cell {number}").format(number=i + 1)
            try:
                reply, _blobs = self._request({"op": "run", "cells": [cell], "first": i,
                                               "cell_timeout": self.cell_timeout},
                                              [], min(self.cell_timeout + 2, left), what=running)
                reports.append(self._checked(lambda: _cell_report(i, _list(reply.get("cells"), 1)[0]), running))
            except ProcessLost:
                self.skipped[i] = _("{why}; the notebook was run again without it").format(why=self.lost)
                return
        self.cell_reports = reports

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def __enter__(self) -> "Submission":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _checked(self, read: Callable[[], Any], what: str) -> Any:
        """``read()`` of a reply, or, for a reply that breaks the protocol, the process lost (as for bad frames)."""
        try:
            return read()
        except (Malformed, KeyError, IndexError, TypeError, ValueError) as error:
            self.lost = _("{what} made your notebook's process send something unreadable ({error})").format(
                what=what, error=error)
            self.close()
            raise ProcessLost(_("{why}.").format(why=self.lost)) from None

    def not_counting(self, seconds: float) -> None:
        """Leave ``seconds`` of waiting out of the notebook's budget (started ahead, then waiting to be tested)."""
        if self._first_start is not None:
            self._first_start += max(0.0, seconds)

    def _budget_left(self) -> float:
        if self.budget is None or self._first_start is None:
            return float("inf")
        return self.budget - (time.monotonic() - self._first_start)

    def _budget_spent(self) -> None:
        self.unusable = _("Your notebook used up the {seconds} s of grading time it may take (all its runs, "
                          "restarts and calls together), so the tests left were not run.").format(
            seconds=f"{self.budget:g}")
        self.close()
        raise SubmissionError(self.unusable, "budget")

    def _request(self, header: dict, blobs: list[bytes], timeout: float, what: str) -> tuple[dict, memoryview]:
        assert self._transport is not None
        left = self._budget_left()
        if left <= 0:
            self._budget_spent()
        capped = timeout > left
        try:
            return self._transport.request(header, blobs, min(timeout, left))
        except Timeout:
            if capped:
                self._budget_spent()
            self.lost = _("{what} did not finish within {seconds} s").format(what=what, seconds=f"{timeout:g}")
            self.close()
            raise ProcessLost(_("{why}.").format(why=self.lost), "timeout") from None
        except Closed:
            self.lost = _("{what} ended your notebook's process (sys.exit, os._exit, a crash, or out of memory)").format(
                what=what)
        except WireError as error:
            self.lost = _("{what} made your notebook's process send something unreadable ({error})").format(
                what=what, error=error)
        self.close()
        raise ProcessLost(_("{why}.").format(why=self.lost))

    # -- calls ---------------------------------------------------------------------------------------
    def defines(self, name: str) -> str | None:
        """What kind of object ``name`` is in the notebook ("function", "class", ...), None if undefined."""
        self.start()
        what = _("looking up {name}").format(name=name)
        reply, _blobs = self._request({"op": "defines", "names": [name]}, [], self.call_timeout, what)
        kind = self._checked(lambda: reply["defined"][name], what)
        return None if kind is None else self._checked(lambda: _text(kind, 100), what)

    def run(self, target: str | Handle, *args: Any, method: str | None = None, watch: bool = False,
            timeout: float | None = None, vjp: torch.Tensor | None = None, **kwargs: Any) -> CallResult:
        """Call ``target`` (a name the notebook defines, or a handle) and return everything seen of the call.
        ``watch``: record the torch functions, ATen operators, backward passes and torch.save / torch.load calls it
        makes; ``vjp``: the gradient of the result to send back through the call's graph (``CallResult.grads``).
        A failed call raises :class:`SubmissionError`, with a hint when its message shows a known mistake."""
        try:
            return self._run(target, *args, method=method, watch=watch, timeout=timeout, vjp=vjp, **kwargs)
        except SubmissionError as error:
            text = str(error)
            for needles, hint in self.error_hints:  # a course's hints: translated by its catalogue
                if all(n in text.lower() for n in ((needles,) if isinstance(needles, str) else needles)):
                    from autograder.grading.compare import feedback
                    from autograder.i18n import course_text

                    raise type(error)(feedback(text, course_text(hint)), error.reason) from None
            raise

    def _run(self, target: str | Handle, *args: Any, method: str | None, watch: bool, timeout: float | None,
             vjp: torch.Tensor | None, **kwargs: Any) -> CallResult:
        self.start()
        label = target if isinstance(target, str) else (method or _("the module"))
        calling = _("calling {name}").format(name=label)
        payload, blobs = codec.encode({"args": list(args), "kwargs": kwargs, "vjp": vjp})
        header = {"op": "call", "target": target if isinstance(target, str) else {"handle": target.id},
                  "method": method, "payload": payload, "watch": watch, "seed": self.seed,
                  "timeout": timeout or self.call_timeout}
        # The sandbox interrupts a slow call itself; the grader kills it if that was ignored (SIGALRM blocked).
        reply, reply_blobs = self._request(header, blobs, (timeout or self.call_timeout) + 2, calling)
        if reply.get("ok") is not True:
            error = self._checked(lambda: _error(reply.get("error") or {}), calling)
            kind, message = error["type"], error["message"]
            if kind == "Undefined":
                raise SubmissionError(_("{name} is not defined: did the cell that defines it run without errors?")
                                      .format(name=label), "undefined")
            if kind == "NotImplementedError":
                raise SubmissionError(_("{name} is not written yet (it raises NotImplementedError).").format(name=label),
                                      "not-written")
            if kind == "Interrupted":
                raise SubmissionError(_("{name} did not finish within {seconds} s (an endless loop, or far too many "
                                        "steps?).").format(name=label, seconds=f"{timeout or self.call_timeout:g}"),
                                      "timeout")
            reason = "memory" if out_of_memory(kind, message) else "raised"
            if error.get("where"):
                raise SubmissionError(_("{name} raised {error}: {message} ({where})").format(
                    name=label, error=kind, message=message, where=where_words(error["where"])), reason)
            raise SubmissionError(_("{name} raised {error}: {message}").format(name=label, error=kind, message=message),
                                  reason)
        try:
            data = codec.decode(reply.get("payload"), reply_blobs)
            if not isinstance(data, dict) or not isinstance(data.get("args"), list) or "result" not in data \
                    or len(data["args"]) != len(args) or not isinstance(data.get("grads", {}), dict):
                raise Malformed("not a result and its arguments")
        except (WireError, KeyError, TypeError, ValueError, OverflowError, AttributeError) as error:
            raise SubmissionError(_("{name} returned something that could not be read back ({error}).").format(
                name=label, error=error)) from None
        if watch and reply.get("watched") is not True:
            raise SubmissionError(_("the grader could not watch which torch functions {name} calls: the recording was "
                                    "switched off during the call (torch's function or dispatch modes were changed), "
                                    "so this check cannot pass.").format(name=label), "not-watched")
        returned, seconds, passes = reply.get("returned_arg"), reply.get("seconds", 0.0), reply.get("backward_passes", 0)
        vjp_error = reply.get("vjp_error")
        return self._checked(lambda: CallResult(
            value=data["result"], args=data["args"],
            returned_arg=returned if type(returned) is int and 0 <= returned < len(args) else None,
            torch_calls=[_text(n, 200) for n in _list(reply.get("torch_calls", []), 5_000)],
            files=[_file_event(f) for f in _list(reply.get("files", []), 100)],
            output=_text(reply.get("output", "")),
            seconds=float(seconds) if type(seconds) in (int, float) else 0.0,
            backward_passes=passes if type(passes) is int and passes >= 0 else 0,
            grads=data.get("grads") or {} if vjp is not None else {},
            vjp_error=None if vjp_error is None else _("the result does not require grad")
            if vjp_error == "the result does not require grad" else _text(vjp_error, 300),
        ), calling)

    def call(self, target: str | Handle, *args: Any, **kwargs: Any) -> Any:
        """Call ``target`` and return just its result."""
        return self.run(target, *args, **kwargs).value

    def load(self, path: str) -> Any:
        """The file ``path`` (a plain name in the submission's working folder) read by the trusted side, from its
        bytes, with ``torch.load(weights_only=True)``, which builds tensors and containers and runs no code from
        the file; the submission cannot forge what is read. Tensors come back plain (a Parameter as a Tensor).
        The file is checked before torch.load reads it, so that it cannot make the grader build more than a few MiB
        (a compressed or oversized file, a pickle naming bytearray, ...: :mod:`autograder.grading.torchfile`)."""
        self.start()
        assert self._transport is not None
        try:
            data = self._transport.read_file(path, torchfile.MAX_FILE_BYTES)
        except (OSError, ValueError) as error:
            if getattr(error, "errno", None) == errno.EFBIG:
                raise _refused(path, _("it is larger than {size} MiB").format(
                    size=torchfile.MAX_FILE_BYTES // torchfile.MiB)) from None
            kind = "FileNotFoundError" if isinstance(error, FileNotFoundError) else type(error).__name__
            raise SubmissionError(_("reading {path} raised {error}: {message}").format(
                path=path, error=kind, message=getattr(error, "strerror", None) or error),
                "undefined" if kind == "FileNotFoundError" else "raised") from None
        try:
            return torchfile.load(data)
        except torchfile.UnsafeFile as why:
            raise _refused(path, str(why), why.names_a_class) from None
        except Exception as error:  # noqa: BLE001 - any malformed file: the student's, and said so
            raise SubmissionError(_("torch.load of {path} raised {error}: {message}").format(
                path=path, error=type(error).__name__,
                message=str(error).splitlines()[0][:300] if str(error) else "")) from None

    def save(self, obj: Any, path: str) -> None:
        """``torch.save(obj, path)`` inside the submission's process (``obj`` crosses as data)."""
        self.call("__save__", obj, path)

    def remove(self, path: str) -> None:
        """Delete the file at ``path`` inside the submission's process, if there is one."""
        self.call("__remove__", path)
