"""Notebooks started one ahead, sandboxes ended behind.

Grading a notebook alternates between the two sides: the sandbox runs the student's cells while the grader waits,
then the grader runs the hidden tests while the sandbox mostly waits. So while notebook N is tested,
:class:`Ahead` has a helper thread start notebook N+1: build its sandbox (two forks of the warm zygote, the
namespaces, the mounts) and run its cells there, on the other core. And a sandbox done with is killed at once
(SIGKILL, synchronously: nothing of it runs on) and waited for and released on the same helper thread
(:class:`Retiring`).

Starting early changes nothing of what a notebook can see or do, or of its grade: its cells run in its own fresh
sandbox exactly as they would have a moment later, and the time it waits to be tested is not counted in its
budget. Whatever the start met (a cell that killed the process, an unreadable notebook) is met again, in the
grader's thread, on the first call, as without starting ahead.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import Executor, Future
from typing import TYPE_CHECKING, Any, Callable, Sequence

if TYPE_CHECKING:
    from autograder.sandbox.zygote import Sandbox
    from autograder.grading.submission import Submission


class Retiring:
    """A sandbox's transport that, when closed, kills it now and has ``helper`` wait for it and release it."""

    def __init__(self, sandbox: Sandbox, helper: Executor):
        self.sandbox, self._helper = sandbox, helper

    def request(self, header: dict[str, Any], blobs: list[bytes], timeout: float | None) -> tuple[dict, memoryview]:
        return self.sandbox.request(header, blobs, timeout)

    def read_file(self, name: str, max_bytes: int) -> bytes:
        return self.sandbox.read_file(name, max_bytes)

    def close(self) -> None:
        self.sandbox.kill("closed by the grader", wait=False)
        try:
            self._helper.submit(self.sandbox.close)
        except RuntimeError:  # the helper is shut down: close here
            self.sandbox.close()


def _started(make: Callable[[str], Submission], key: str) -> tuple[Submission, float]:
    """``key``'s submission, started (its sandbox, its cells), and when that was done. What starting raised is
    raised again, in the grader's thread, by the submission's next start."""
    submission = make(key)
    try:
        submission.start()
    except Exception:  # noqa: BLE001 - see above
        pass
    return submission, time.monotonic()


class Ahead:
    """Hands out the submissions of a batch (``make(key)``: a submission not yet started), each started while the
    one before it in ``order`` was tested; ``helper`` (a one-thread executor) does the starting. Without a helper,
    submissions are handed out unstarted. ``while_waiting`` is called once, the first time a submission asked for
    after the first one is not started yet (e.g. a warm-up that would otherwise cost a later notebook its time;
    never the first notebook, whose time is the class's start-up)."""

    def __init__(self, helper: Executor | None, order: Sequence[str], make: Callable[[str], Submission],
                 while_waiting: Callable[[], None] | None = None):
        self._helper, self._make, self._while_waiting = helper, make, while_waiting
        self._after = {key: order[i + 1] for i, key in enumerate(order[:-1])}
        self._lock = threading.Lock()
        self._pending: dict[str, Future[tuple[Submission, float]]] = {}
        self._taken: set[str] = set()
        self._closed = False
        if order:
            self._start_ahead(order[0])

    def take(self, key: str) -> Submission:
        """``key``'s submission (started, if it was started ahead); starts the one after it."""
        with self._lock:
            pending = self._pending.pop(key, None)
            first = not self._taken
            self._taken.add(key)
        if pending is None:
            submission = self._make(key)
        else:
            if self._while_waiting is not None and not first and not pending.done():
                warm, self._while_waiting = self._while_waiting, None
                warm()
            submission, done = pending.result()
            submission.not_counting(time.monotonic() - done)  # its wait to be tested
        nxt = self._after.get(key)
        if nxt is not None:
            self._start_ahead(nxt)
        return submission

    def close(self) -> None:
        """Close what was started and never taken (e.g. a batch stopped early). Idempotent."""
        with self._lock:
            self._closed, pending, self._pending = True, self._pending, {}
        for future in pending.values():
            future.result()[0].close()

    def _start_ahead(self, key: str) -> None:
        if self._helper is None:
            return
        with self._lock:
            if self._closed or key in self._pending or key in self._taken:
                return
            self._pending[key] = self._helper.submit(_started, self._make, key)
