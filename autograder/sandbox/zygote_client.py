"""One warm zygote for several grading processes.

Each zygote imports torch (about a second of CPU) before it can fork a sandbox; with ``--jobs 2`` on a
2-core machine, a zygote per worker meant three torch imports (two zygotes and the grader) competing for two cores
before the first notebook could be graded. Instead the grader starts one zygote with ``Zygote(clients=N)`` and
imports the trusted side while it starts; then it forks its N workers, each of which spawns its sandboxes
through its own control socket (:class:`ZygoteClient`, made before the fork, :meth:`ZygoteClient.adopt`\\ ed
after it). The zygote answers each socket's requests on that socket, and tells nobody about the others.

A client whose zygote died (killed from outside, out of memory) starts a zygote of its own, with the same
settings, and goes on.
"""
from __future__ import annotations

import socket
import threading
import weakref
from typing import Any, Mapping

from autograder.sandbox.zygote import Sandbox, Zygote, _readable


class ZygoteClient(Zygote):
    """A grading process's handle on a zygote it shares: its own control socket; the zygote's level and notes.
    Spawns like a :class:`Zygote`; :meth:`close` closes only the socket (the owner stops the zygote)."""

    def __init__(self, owner: Zygote, sock: socket.socket, settings: dict[str, Any]):
        # Not Zygote.__init__: nothing is started. The attributes spawn() and the callers use:
        self.entry, self.limits, self.hide = owner.entry, owner.limits, owner.hide
        self.requested, self.minimum, self.isolate = owner.requested, owner.minimum, owner.isolate
        self.level, self.notes, self.memory = owner.level, list(owner.notes), owner.memory
        self.report, self.info, self.pid = owner.report, owner.info, owner.pid
        self.restarts = 0
        self._owner, self._settings = owner, settings
        self._ctrl = sock
        self._lock = threading.Lock()
        self._sandboxes: weakref.WeakSet[Sandbox] = weakref.WeakSet()
        self._closed = False
        self._own: Zygote | None = None  # the zygote of its own, once the shared one is gone
        self._state = {"client": sock}
        self._finalizer = weakref.finalize(self, ZygoteClient._shutdown_client, self._state, self._sandboxes)

    def adopt(self) -> None:
        """In the process that uses this client, just after the fork: close the other processes' sockets and
        the owner's (they stay open where they belong), and never stop the zygote from here."""
        owner = self._owner
        owner._finalizer.detach()
        for sock in [owner._state.get("ctrl"), *owner.client_sockets]:
            if sock is not None and sock is not self._ctrl:
                sock.close()

    @property
    def alive(self) -> bool:
        return not self._closed and (self._own.alive if self._own is not None else not _readable(self._ctrl, 0))

    def spawn(self, files: Mapping[str, bytes | str] | None = None, **kwargs: Any) -> Sandbox:
        with self._lock:
            # Nothing comes unasked on a client's socket: readable means the zygote hung up
            if self._own is None and not self._closed and _readable(self._ctrl, 0):
                self._own = Zygote(**self._settings, level=self.level)
                self.restarts += 1
        if self._own is not None:
            return self._own.spawn(files, **kwargs)
        return super().spawn(files, **kwargs)

    def _restart_if_dead(self) -> None:
        """See :meth:`spawn`: a client never restarts the zygote it shares."""

    def _exit_status(self) -> str:
        return "it stopped"

    def close(self) -> None:
        self._closed = True
        if self._own is not None:
            self._own.close()
        self._finalizer()

    @staticmethod
    def _shutdown_client(state: dict[str, Any], sandboxes: weakref.WeakSet) -> None:
        for sandbox in list(sandboxes):
            sandbox.close()
        sock = state.pop("client", None)
        if sock is not None:
            sock.close()


def shared_zygote(clients: int, **settings: Any) -> tuple[Zygote, list[ZygoteClient]]:
    """Start a zygote (``settings``: :class:`Zygote`'s keywords) for ``clients`` processes; its clients, to be
    :meth:`ZygoteClient.adopt`\\ ed after the fork, one per process. The caller owns (and closes) the zygote."""
    owner = Zygote(**settings, clients=clients)
    own = {k: v for k, v in settings.items() if k != "level"}
    return owner, [ZygoteClient(owner, sock, own) for sock in owner.client_sockets]
