"""The trusted side's handle on one submission: ``sub.call("mse_grads", x, y, w, b)``.

A :class:`Submission` talks to a *transport* that answers :mod:`autograder.child` requests: a sandboxed
process (:mod:`autograder.sandbox`) when grading, or a :class:`~autograder.child.Servant` in this process
for nbgrader's hidden cells and for tests. Either way every value crosses as data through the same codec,
so a test sees exactly the same thing in both modes.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from autograder import codec
from autograder.child import Servant
from autograder.codec import Handle
from autograder.wire import Closed, Timeout, WireError, pack, unpack


class Transport(Protocol):
    def request(self, header: dict[str, Any], blobs: list[bytes], timeout: float | None) -> tuple[dict, memoryview]:
        ...

    def close(self) -> None:
        ...


class SubmissionError(AssertionError):
    """A call into the submission failed; the message is written for the student."""


class ProcessLost(SubmissionError):
    """The submission's process died or hung; later calls start it again."""


@dataclass
class CallResult:
    value: Any
    args: list[Any]  # the arguments as they were after the call (to spot inputs modified in place)
    returned_arg: int | None  # index of the argument the call returned itself, if it did
    torch_calls: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)  # torch.save / torch.load calls seen
    output: str = ""
    seconds: float = 0.0


@dataclass
class CellReport:
    cell: int
    ok: bool
    output: str
    error: dict[str, str] | None = None


class InProcess:
    """A transport that serves requests in this process, through the same bytes a sandbox would get."""

    def __init__(self, namespace: dict[str, Any] | None = None):
        self.servant = Servant()
        if namespace is not None:
            self.servant.namespace = namespace

    def request(self, header: dict[str, Any], blobs: list[bytes], timeout: float | None) -> tuple[dict, memoryview]:
        sent, sent_blobs = unpack(pack(header, blobs)[4:])
        reply, reply_blobs = self.servant.handle(sent, sent_blobs)
        return unpack(pack(reply, reply_blobs)[4:])

    def close(self) -> None:
        pass


def _where(error: dict[str, str]) -> str:
    return f" ({error['where']})" if error.get("where") else ""


class Submission:
    """Runs a notebook's cells once, then answers calls; reopens the process if a call killed it."""

    MAX_RESTARTS = 10  # each costs at most one call timeout: a loop in one blank must not cost the others

    def __init__(self, open_transport: Callable[[], Transport], cells: list[str], *, label: str = "",
                 cell_timeout: float = 30.0, call_timeout: float = 10.0, notebook_timeout: float = 120.0,
                 unusable: str | None = None):
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

    @classmethod
    def in_process(cls, namespace: dict[str, Any]) -> "Submission":
        """A submission whose cells already ran: calls go straight to ``namespace`` (nbgrader, self-tests)."""
        sub = cls(lambda: InProcess(namespace), cells=[])
        return sub

    # -- lifecycle -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the process and run the notebook's cells, once; again after a call lost the process."""
        while self._transport is None:
            if self.unusable:
                raise SubmissionError(self.unusable)
            if self._restarts > self.MAX_RESTARTS:
                raise ProcessLost(f"not run again: your notebook's process was lost {self._restarts} times "
                                  f"({self.lost})")
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
                self.unusable = f"running your notebook took more than {self.notebook_timeout:g} s"
                self.close()
                raise ProcessLost(self.unusable + ".")
            try:
                reply, _ = self._request({"op": "run", "cells": [cell], "first": i, "cell_timeout": self.cell_timeout},
                                         [], min(self.cell_timeout + 2, left), what=f"running cell {i + 1}")
            except ProcessLost:
                self.skipped[i] = f"{self.lost}; the notebook was run again without it"
                return
            r = reply["cells"][0]
            reports.append(CellReport(i, bool(r["ok"]), r.get("output", ""), r.get("error")))
        self.cell_reports = reports

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None

    def __enter__(self) -> "Submission":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, header: dict, blobs: list[bytes], timeout: float, what: str) -> tuple[dict, memoryview]:
        assert self._transport is not None
        try:
            return self._transport.request(header, blobs, timeout)
        except Timeout:
            self.lost = f"{what} did not finish within {timeout:g} s"
        except Closed:
            self.lost = f"{what} ended your notebook's process (sys.exit, os._exit, a crash, or out of memory)"
        except WireError as error:
            self.lost = f"{what} made your notebook's process send something unreadable ({error})"
        self.close()
        raise ProcessLost(self.lost + ".")

    # -- calls ---------------------------------------------------------------------------------------
    def defines(self, name: str) -> str | None:
        """What kind of object ``name`` is in the notebook ("function", "class", ...), None if undefined."""
        self.start()
        reply, _ = self._request({"op": "defines", "names": [name]}, [], self.call_timeout, f"looking up {name}")
        return reply["defined"][name]

    def run(self, target: str | Handle, *args: Any, method: str | None = None, watch: bool = False,
            timeout: float | None = None, **kwargs: Any) -> CallResult:
        """Call ``target`` (a name the notebook defines, or a handle) and return everything seen of the call.
        A failed call raises :class:`SubmissionError`, with a hint when its message shows a known mistake."""
        try:
            return self._run(target, *args, method=method, watch=watch, timeout=timeout, **kwargs)
        except SubmissionError as error:
            text = str(error)
            for needles, hint in self.error_hints:
                if all(n in text.lower() for n in ((needles,) if isinstance(needles, str) else needles)):
                    raise type(error)(f"{text} Hint: {hint}") from None
            raise

    def _run(self, target: str | Handle, *args: Any, method: str | None, watch: bool, timeout: float | None,
             **kwargs: Any) -> CallResult:
        self.start()
        label = target if isinstance(target, str) else (method or "the module")
        payload, blobs = codec.encode({"args": list(args), "kwargs": kwargs})
        header = {"op": "call", "target": target if isinstance(target, str) else {"handle": target.id},
                  "method": method, "payload": payload, "watch": watch, "seed": self.seed,
                  "timeout": timeout or self.call_timeout}
        # The sandbox interrupts a slow call itself; the grader kills it if that was ignored (SIGALRM blocked).
        reply, reply_blobs = self._request(header, blobs, (timeout or self.call_timeout) + 2, f"calling {label}")
        if not reply.get("ok"):
            error = reply.get("error") or {}
            kind, message = error.get("type", "Error"), error.get("message", "")
            if kind == "Undefined":
                raise SubmissionError(f"{label} is not defined: did the cell that defines it run without errors?")
            if kind == "NotImplementedError":
                raise SubmissionError(f"{label} is not written yet (it raises NotImplementedError).")
            if kind == "Interrupted":
                raise SubmissionError(f"{label} did not finish within {timeout or self.call_timeout:g} s "
                                      f"(an endless loop, or far too many steps?).")
            raise SubmissionError(f"{label} raised {kind}: {message}{_where(error)}")
        try:
            data = codec.decode(reply["payload"], reply_blobs)
        except (WireError, KeyError, TypeError, ValueError) as error:
            raise SubmissionError(f"{label} returned something that could not be read back ({error}).") from None
        returned = reply.get("returned_arg")
        return CallResult(
            value=data["result"], args=data["args"],
            returned_arg=returned if type(returned) is int else None,
            torch_calls=[str(n) for n in reply.get("torch_calls", [])],
            files=list(reply.get("files", [])), output=str(reply.get("output", "")),
            seconds=float(reply.get("seconds", 0.0)),
        )

    def call(self, target: str | Handle, *args: Any, **kwargs: Any) -> Any:
        """Call ``target`` and return just its result."""
        return self.run(target, *args, **kwargs).value

    def load(self, path: str) -> Any:
        """``torch.load(path, weights_only=True)`` inside the submission's process, returned as data."""
        return self.call("__load__", path)

    def save(self, obj: Any, path: str) -> None:
        """``torch.save(obj, path)`` inside the submission's process (``obj`` crosses as data)."""
        self.call("__save__", obj, path)

    def remove(self, path: str) -> None:
        """Delete the file at ``path`` inside the submission's process, if there is one."""
        self.call("__remove__", path)
