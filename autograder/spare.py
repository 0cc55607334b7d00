"""Sandboxes started one notebook ahead, and ended behind it.

Building a sandbox (two forks of the warm zygote, the namespaces, the mounts) and tearing one down take a few
tens of milliseconds each, most of it waiting on the kernel: as long as grading the rest of a small notebook.
:class:`SpareSandboxes` takes both off the grader's path: while notebook N is graded, a helper thread has the
zygote build the sandbox of notebook N+1 (for the assignment the batch's plan says comes next), and the sandbox
of N, once done with, is killed at once (SIGKILL, synchronously: nothing of it runs on) and waited for and
released on the same helper thread.

A spare is an empty sandbox holding only the assignment's data files: nothing of any student is in it until its
notebook's cells are sent, so starting it early changes nothing of what a notebook can see or do. A spare for
the wrong assignment (the plan was off: a restarted notebook) is closed and a fresh sandbox built.
"""
from __future__ import annotations

import collections
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, Iterable

from autograder.sandbox import Sandbox, SandboxError


class Retiring:
    """A transport that hands its sandbox back to the pool when closed (:meth:`SpareSandboxes.retire`)."""

    def __init__(self, sandbox: Sandbox, pool: "SpareSandboxes"):
        self.sandbox, self._pool = sandbox, pool

    def request(self, header: dict[str, Any], blobs: list[bytes], timeout: float | None) -> tuple[dict, memoryview]:
        return self.sandbox.request(header, blobs, timeout)

    def read_file(self, name: str, max_bytes: int) -> bytes:
        return self.sandbox.read_file(name, max_bytes)

    def close(self) -> None:
        self._pool.retire(self.sandbox)


class SpareSandboxes:
    """Opens sandboxes with ``spawn(assignment_name)`` (a blocking zygote call), one kept started ahead."""

    def __init__(self, spawn: Callable[[str], Sandbox]):
        self._spawn = spawn
        self._helper = ThreadPoolExecutor(max_workers=1, thread_name_prefix="spare sandboxes")
        self._lock = threading.Lock()
        self._spare: tuple[str, Future] | None = None
        self._plan: collections.deque[str] = collections.deque()
        self._closed = False

    def plan(self, names: Iterable[str]) -> None:
        """The assignments of the notebooks about to be opened, in order; starts a sandbox for the first."""
        with self._lock:
            self._plan = collections.deque(names)
        self._prepare()

    def open(self, name: str) -> Retiring:
        """A started sandbox for assignment ``name`` (the spare if it is for ``name``); starts the next spare."""
        with self._lock:
            spare, self._spare = self._spare, None
            if self._plan and self._plan[0] == name:
                self._plan.popleft()
        sandbox = None
        if spare is not None:
            spare_name, future = spare
            try:
                built = future.result()
            except SandboxError:
                built = None  # e.g. the zygote was restarted meanwhile: build one here, and say why if that fails
            if built is not None and spare_name == name:
                sandbox = built
            elif built is not None:
                self.retire(built)
        if sandbox is None:
            sandbox = self._spawn(name)
        self._prepare()
        return Retiring(sandbox, self)

    def retire(self, sandbox: Sandbox) -> None:
        """Kill ``sandbox`` now; wait for it and release it on the helper thread."""
        sandbox.kill("closed by the grader", wait=False)
        try:
            self._helper.submit(sandbox.close)
        except RuntimeError:  # the pool is shut down: close here
            sandbox.close()

    def close(self) -> None:
        """Close the spare and wait for every sandbox handed back. Idempotent."""
        with self._lock:
            self._closed, spare, self._spare = True, self._spare, None
        if spare is not None:
            try:
                spare[1].result().close()
            except SandboxError:
                pass
        self._helper.shutdown(wait=True)

    def _prepare(self) -> None:
        with self._lock:
            if self._closed or self._spare is not None or not self._plan:
                return
            name = self._plan[0]
            self._spare = (name, self._helper.submit(self._spawn, name))
