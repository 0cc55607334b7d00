"""Sandboxes started one notebook ahead (autograder.spare): each notebook gets a sandbox of its own assignment,
a wrong guess costs a sandbox but never hands over the wrong one, and a sandbox handed back stops at once."""
from __future__ import annotations

import os
import sys
import threading

import pytest

from autograder.sandbox import Sandbox, SandboxUnavailable, Zygote
from autograder.spare import SpareSandboxes
from test_sandbox import ENTRY, LIMITS, run

pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux"),
              pytest.mark.skipif(os.geteuid() != 0, reason="these tests build sandboxes as root")]


@pytest.fixture(scope="module")
def zygote():
    try:
        z = Zygote(ENTRY, limits=LIMITS)
    except SandboxUnavailable as error:
        pytest.skip(str(error))
    with z:
        yield z


class Recording:
    """A spawn function: a sandbox whose folder holds ``assignment.txt`` naming what it was built for."""

    def __init__(self, zygote: Zygote):
        self.zygote, self.built, self.threads = zygote, [], set()
        self.sandboxes: list[Sandbox] = []

    def __call__(self, name: str) -> Sandbox:
        self.built.append(name)
        self.threads.add(threading.current_thread().name)
        sandbox = self.zygote.spawn(files={"assignment.txt": name})
        self.sandboxes.append(sandbox)
        return sandbox


def built_for(transport) -> str:
    return run(transport.sandbox, "result = open('assignment.txt').read()")


def test_each_notebook_gets_a_sandbox_of_its_assignment_built_ahead_by_the_helper(zygote):
    spawn = Recording(zygote)
    pool = SpareSandboxes(spawn)
    try:
        pool.plan(["a", "a", "b"])
        opened = [pool.open(name) for name in ("a", "a", "b")]
        assert [built_for(t) for t in opened] == ["a", "a", "b"]
        assert spawn.built == ["a", "a", "b"]  # nothing built twice or in vain
        assert all(name.startswith("spare sandboxes") for name in spawn.threads)  # never on the grader's thread
        for t in opened:
            t.close()
    finally:
        pool.close()
    assert not any(s.alive for s in spawn.sandboxes)


def test_a_spare_of_another_assignment_is_closed_and_never_handed_over(zygote):
    spawn = Recording(zygote)
    pool = SpareSandboxes(spawn)
    try:
        pool.plan(["a"])
        transport = pool.open("b")  # the plan was wrong (a notebook started again)
        assert built_for(transport) == "b"
        wasted = next(s for s in spawn.sandboxes if s is not transport.sandbox)
        assert wasted.killed_because == "closed by the grader"
        transport.close()
    finally:
        pool.close()
    assert not any(s.alive for s in spawn.sandboxes)


def test_a_sandbox_handed_back_is_killed_before_close_returns(zygote):
    spawn = Recording(zygote)
    pool = SpareSandboxes(spawn)
    try:
        transport = pool.open("a")
        run(transport.sandbox, "import threading, time\n"
                               "threading.Thread(target=lambda: time.sleep(60), daemon=True).start()\nresult = 1")
        transport.close()
        assert transport.sandbox.killed_because == "closed by the grader"  # the signal went at once
    finally:
        pool.close()  # and the helper waited for it
    assert not transport.sandbox.alive


def test_closing_the_pool_closes_its_spare(zygote):
    spawn = Recording(zygote)
    pool = SpareSandboxes(spawn)
    pool.plan(["a", "b"])
    pool.close()
    assert spawn.built == ["a"] and not spawn.sandboxes[0].alive
    assert spawn.sandboxes[0].sock.fileno() < 0  # released, not only killed
