"""The self-check stays a self-check: a time limit per check, and the student's own line when their code raises."""
from __future__ import annotations

import signal
import time

from autograder import selfcheck
from autograder.selfcheck import run_checks


def test_an_endless_loop_is_stopped_and_said(monkeypatch):
    monkeypatch.setattr(selfcheck, "CHECK_SECONDS", 0.3)

    def row_max(x):
        while True:
            pass

    started = time.monotonic()
    report = run_checks(row_max)
    assert time.monotonic() - started < 0.3 * len(report.lines) + 2
    assert not report.passed and "did not finish within 0.3 s" in str(report)


def test_the_line_that_raised_is_named():
    namespace: dict = {}
    exec(compile("def sigmoid(z):\n    scale = 2\n    return 1 / (1 + torch.exp(-z)) @ scale\n", "<cell 7>", "exec"),
         {"torch": __import__("torch")}, namespace)
    text = str(run_checks(namespace["sigmoid"]))
    assert "raised" in text and "line 3" in text and "in sigmoid" in text


def test_an_outer_time_limit_still_fires_after_the_checks():
    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *a: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 30)
        run_checks(lambda x: x.max(dim=1), "row_max")
        left, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < left <= 30  # the grader's cell limit is still running, not reset nor extended
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
