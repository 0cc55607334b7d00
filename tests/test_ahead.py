"""Notebooks started one ahead (autograder.grading.ahead): each submission is started on the helper thread while the one
before it is tested, exactly as it would have been started later (same cells, same outcome, its wait not
counted in its budget), and every sandbox handed back stops at once."""
from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from autograder.grading.ahead import Ahead, Retiring
from autograder.sandbox.zygote import SandboxUnavailable, Zygote
from autograder.grading.submission import Submission

pytestmark = [pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux"),
              pytest.mark.skipif(os.geteuid() != 0, reason="these tests build sandboxes as root")]

CELLS = ["KEY = open('key.txt').read()", "def key():\n    return KEY"]


@pytest.fixture(scope="module")
def zygote():
    try:
        z = Zygote()
    except SandboxUnavailable as error:
        pytest.skip(str(error))
    with z:
        yield z


@pytest.fixture
def helper():
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="grading helper")
    yield pool
    pool.shutdown(wait=True)


class Maker:
    """``make(key)``: a submission whose sandbox holds key.txt; records the thread it was made on and its sandboxes."""

    def __init__(self, zygote: Zygote, helper, cells=CELLS, budget=None):
        self.zygote, self.helper, self.cells, self.budget = zygote, helper, cells, budget
        self.threads: dict[str, str] = {}
        self.transports: list[Retiring] = []

    def __call__(self, key: str) -> Submission:
        self.threads[key] = threading.current_thread().name

        def spawn():
            transport = Retiring(self.zygote.spawn(files={"key.txt": key}), self.helper)
            self.transports.append(transport)
            return transport
        return Submission(spawn, list(self.cells), budget=self.budget)


def test_each_submission_is_started_ahead_on_the_helper_thread_and_is_its_own(zygote, helper):
    make = Maker(zygote, helper)
    ahead = Ahead(helper, ["a", "b", "c"], make)
    try:
        for key in ("a", "b", "c"):
            sub = ahead.take(key)
            assert sub.cell_reports and all(r.ok for r in sub.cell_reports)  # its cells ran before it was taken
            assert sub.call("key") == key
            sub.close()
    finally:
        ahead.close()
    assert set(make.threads) == {"a", "b", "c"}
    assert all(name.startswith("grading helper") for name in make.threads.values())


def test_the_wait_to_be_tested_is_not_counted_in_the_budget(zygote, helper):
    make = Maker(zygote, helper, budget=1.0)
    ahead = Ahead(helper, ["a"], make)
    try:
        time.sleep(1.5)  # the notebook before it took long to test
        sub = ahead.take("a")
        assert sub.call("key") == "a"  # not "used up the 1 s of grading time"
        sub.close()
    finally:
        ahead.close()


def test_a_start_that_failed_ahead_fails_the_same_way_when_taken(zygote, helper):
    cells = ["x = 1", "import os; os._exit(3)", "def key():\n    return x"]
    make = Maker(zygote, helper, cells=cells)
    ahead = Ahead(helper, ["a"], make)
    try:
        started_ahead = ahead.take("a")
        assert started_ahead.call("key") == 1
    finally:
        ahead.close()
    here = make("b")
    assert here.call("key") == 1
    assert started_ahead.skipped.keys() == here.skipped.keys() == {1}
    assert [(r.cell, r.ok) for r in started_ahead.cell_reports] == [(r.cell, r.ok) for r in here.cell_reports]
    started_ahead.close()
    here.close()


def test_closing_closes_what_was_started_and_never_taken(zygote, helper):
    make = Maker(zygote, helper)
    ahead = Ahead(helper, ["a", "b"], make)
    ahead.take("a").close()  # starts b
    ahead.close()
    helper.shutdown(wait=True)
    assert len(make.transports) == 2 and not any(t.sandbox.alive for t in make.transports)


def test_a_sandbox_handed_back_is_killed_before_close_returns(zygote, helper):
    transport = Retiring(zygote.spawn(), helper)
    transport.close()
    assert transport.sandbox.killed_because == "closed by the grader"  # the signal went at once
    helper.shutdown(wait=True)  # and the helper waited for it and released it
    assert not transport.sandbox.alive and transport.sandbox.sock.fileno() < 0


def test_without_a_helper_submissions_are_handed_out_unstarted(zygote, helper):
    make = Maker(zygote, helper)
    ahead = Ahead(None, ["a", "b"], make)
    sub = ahead.take("a")
    assert not sub.cell_reports and make.transports == []
    assert sub.call("key") == "a"
    sub.close()
    ahead.close()


def test_the_first_wait_for_a_submission_is_used_once(zygote, helper):
    """While a submission asked for (not the first) is still starting, ``while_waiting`` runs (once: a warm-up)."""
    release = threading.Event()
    calls = []

    def warm():
        calls.append(threading.current_thread().name)
        release.set()  # the start it waited for can go on

    class Blocking(Maker):
        def __call__(self, key):
            sub = super().__call__(key)
            opener = sub._open
            if key == "a":
                return sub

            def slow_open():
                release.wait(30)
                return opener()
            sub._open = slow_open
            return sub

    make = Blocking(zygote, helper)
    ahead = Ahead(helper, ["a", "b", "c"], make, while_waiting=warm)
    try:
        first = ahead.take("a")  # never while the first notebook waits: that is the class's start-up
        assert calls == [] and first.call("key") == "a"
        first.close()
        for key in ("b", "c"):
            sub = ahead.take(key)
            assert sub.call("key") == key
            sub.close()
    finally:
        ahead.close()
    assert calls == [threading.main_thread().name]  # once, on the grader's thread
