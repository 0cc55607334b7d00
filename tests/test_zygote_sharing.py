"""One zygote for several grading processes (autograder.sandbox.zygote_client), and its warm-up after the first sandbox.

Each client is a process of its own, forked as the grader forks its workers: its sandboxes are its own, it cannot
speak for another, its end does not stop the zygote, and when the zygote dies it goes on with one of its own.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time

import pytest

from autograder.sandbox.zygote import SandboxUnavailable, Zygote
from autograder.sandbox.zygote_client import shared_zygote
from test_sandbox import ENTRY, LIMITS, run

pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux"),
              pytest.mark.skipif(os.geteuid() != 0, reason="these tests build sandboxes as root")]

FORK = multiprocessing.get_context("fork")


def _use_client(clients, index: int, out) -> None:
    """A worker: adopt client ``index``, spawn two sandboxes through it, report what they saw."""
    client = clients[index]
    client.adopt()
    try:
        seen = []
        for _ in range(2):
            with client.spawn(files={"who.txt": str(index)}) as sandbox:
                seen.append(run(sandbox, "import os; result = [open('who.txt').read(), os.getpid()]"))
        out.put((index, client.level, client.pid, seen, sorted(_open_sockets())))
    finally:
        client.close()


def _open_sockets() -> set[int]:
    fds = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                fds.add(int(fd))
        except OSError:
            pass
    return fds


@pytest.fixture
def shared():
    try:
        owner, clients = shared_zygote(2, entry=ENTRY, preload=(), limits=LIMITS)
    except SandboxUnavailable as error:
        pytest.skip(str(error))
    try:
        yield owner, clients
    finally:
        for client in clients:
            client.close()
        owner.close()


def test_two_processes_spawn_their_own_sandboxes_from_one_zygote(shared):
    owner, clients = shared
    out = FORK.Queue()
    workers = [FORK.Process(target=_use_client, args=(clients, i, out)) for i in range(2)]
    for w in workers:
        w.start()
    reports = sorted(out.get(timeout=60) for _ in workers)
    for w in workers:
        w.join(10)
        assert w.exitcode == 0
    for index, level, pid, seen, sockets in reports:
        assert level == owner.level and pid == owner.pid  # the same zygote, at the same level
        assert [who for who, _ in seen] == [str(index)] * 2  # each sandbox got its own process's files
        # it kept its own control socket and closed the other's and the owner's
        assert clients[index]._ctrl.fileno() in sockets
        assert clients[1 - index]._ctrl.fileno() not in sockets and owner._ctrl.fileno() not in sockets
    assert owner.alive  # the workers' ends did not stop it
    with owner.spawn() as sandbox:
        assert run(sandbox, "result = 3") == 3


def test_a_client_whose_zygote_died_starts_one_of_its_own(shared):
    owner, clients = shared
    client = clients[0]
    with client.spawn() as sandbox:
        assert run(sandbox, "result = 1") == 1
    os.kill(owner.pid, signal.SIGKILL)
    owner._process.wait(10)
    with client.spawn() as sandbox:  # not "the sandbox zygote is gone"
        assert run(sandbox, "result = 2") == 2
    assert client.restarts == 1 and client.level == owner.level


def test_the_deferred_warm_up_is_done_once_a_sandbox_was_forked():
    try:
        z = Zygote(limits=LIMITS, defer_warm_up=True)
    except SandboxUnavailable as error:
        pytest.skip(str(error))
    with z:
        assert "torch._dynamo" not in z.modules()  # ready before it
        z.spawn().close()
        deadline = time.monotonic() + 60
        while "torch._dynamo" not in z.modules():  # taken in steps, whenever the zygote has nothing to answer
            assert time.monotonic() < deadline, "the zygote never finished its warm-up"
            time.sleep(0.5)
        assert "sympy" in z.modules()
