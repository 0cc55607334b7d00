"""The suite's host-wide checks judge their own batch while another grading batch runs on the same machine.

An unrelated `python -m autograder grade` batch runs in the background, its one notebook asleep in a cell, so
that its sandbox (a process under a sandbox uid) is alive throughout. Meanwhile a batch of this test grades an
honest notebook; then the checks of tests/hostwide.py (processes, kernel keys, System V IPC, files in the shared
folders), as tests/test_redteam_channels.py runs them, find nothing of this batch, although the other batch's
sandbox is running right then under a uid of the same range: the old check, every process of a sandbox uid, finds
it. A uid the other batch holds is never this batch's, even if this batch held it before.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import hostwide
from autograder.authoring.fill import filled_release, write
from conftest import COURSE, stop_group

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids (and their locks) are root's to give")]
A = COURSE.find("02_linear_regression")
SLEEPER = "import time\ntime.sleep(180)\n"  # the other batch's notebook: its sandbox stays alive while this test runs


def grade(submitted, out, *more: str) -> list[str]:
    return [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "--jobs", "1", "--quiet",
            "--no-report", *more]


def running_sandboxes(pid: int) -> set[int]:
    """The sandbox uids the batch run by ``pid`` holds now and runs a process under."""
    uids = {uid for uid, holder in hostwide.uid_locks().items() if hostwide.descends_from(holder, pid)}
    return {uid for uid in uids if hostwide.processes_of({uid})}


def wait_for_its_notebook(pid: int, timeout: float = 120) -> None:
    """Return once the batch run by ``pid`` has run one sandbox for 3 s (its notebook's, asleep; not the sandbox
    that probes the host before grading)."""
    deadline, since = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        now = time.monotonic()
        for uid in running_sandboxes(pid):
            if now - since.setdefault(uid, now) >= 3:
                return
        time.sleep(0.2)
    raise AssertionError("the background batch never ran its notebook")


def test_host_checks_see_only_their_own_batch(tmp_path):
    other_notebook = tmp_path / "other" / "submitted" / "sleeper" / A.name / A.notebook
    write(filled_release(COURSE, A, {"linear_model": SLEEPER}), other_notebook)
    write(filled_release(COURSE, A), tmp_path / "ours" / "submitted" / "honest" / A.name / A.notebook)
    env = {**os.environ, "AUTOGRADER_SECRET": "concurrent-batches"}
    other = subprocess.Popen(grade(tmp_path / "other" / "submitted", tmp_path / "other" / "graded",
                                   "--cell-timeout", "240", "--notebook-timeout", "300"),
                             env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_its_notebook(other.pid)
        tag, key = hostwide.token("agconcurrent"), 0x10000 + int(hostwide.token("")[:6], 16)
        done, held = hostwide.run_batch(grade(tmp_path / "ours" / "submitted", tmp_path / "ours" / "graded"),
                                        timeout=600, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        ours = hostwide.ours_now(held)
        # the other batch is grading right now, in a sandbox under a uid of the same range
        theirs = running_sandboxes(other.pid)
        assert other.poll() is None and theirs, "the background batch ended too early"
        assert held and not held & theirs, (held, theirs)
        assert hostwide.processes_of(hostwide.SANDBOX_UIDS), "the old check would have found the other batch"
        # the checks of this batch find nothing of the other
        assert hostwide.processes_of(ours) == []
        assert hostwide.keys_of(ours) == []
        assert hostwide.ipc_objects(ours, key) == []
        assert hostwide.files_left(ours, tag) == []
        # a uid another batch holds is that batch's, whoever held it before
        assert hostwide.ours_now(theirs) == set() and hostwide.ours_now(theirs, other.pid) == theirs
    finally:
        stop_group(other, grace=30)  # the grader and its workers, which take their zygote and sandboxes with them
