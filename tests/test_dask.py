"""``grade --executor dask://HOST:PORT`` on a LocalCluster of 2 worker processes: the same bytes as ``--jobs 2``
here, a worker killed mid-run costs no result and duplicates none, a cluster that cannot isolate says so."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.authoring.fill import filled_release, release_notebook, write
from conftest import ASSIGNMENTS, COURSE

distributed = pytest.importorskip("distributed")

pytestmark = pytest.mark.slow
SECRET = "dask-test-secret"


def run_grader(paths: list[Path], out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", "grade", *map(str, paths), "--out", str(out),
                           "--secret", SECRET, "--quiet", "--no-report", *extra],
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  silence_logs=40) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def submitted(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("dask") / "submitted"
    for a in ASSIGNMENTS.values():
        write(filled_release(COURSE, a), root / "alice" / a.name / a.notebook)
    for name in ("01_tensors_autograd", "05_multiclass"):
        a = ASSIGNMENTS[name]
        write(release_notebook(COURSE, a), root / "carol" / a.name / a.notebook)
    a = ASSIGNMENTS["05_multiclass"]
    (root / "bob" / a.name).mkdir(parents=True)
    (root / "bob" / a.name / a.notebook).write_text('{"cells": [')  # unreadable: its results file says why
    return root


@pytest.fixture(scope="module")
def local(submitted, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local")
    done = run_grader([submitted], out, "--jobs", "2")
    assert done.returncode == 1 and "1 notebook(s) could not be graded" in done.stderr, done.stderr[-3000:]
    return out


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_results_are_byte_identical_to_local_jobs_2(cluster, submitted, local, tmp_path):
    address = cluster.scheduler_address.replace("tcp://", "dask://")
    done = run_grader([submitted], tmp_path / "out", "--executor", address)
    assert done.returncode == 1, done.stderr[-3000:]
    assert f"{submitted}/bob/05_multiclass" in done.stderr  # the client's path, not the worker's copy
    ours, theirs = files(tmp_path / "out"), files(local)
    assert sorted(ours) == sorted(theirs) and len(ours) == 11  # 9 results files, scores.csv and .graded-from
    for name in ours:
        assert ours[name] == theirs[name], name
    isolation = {json.loads(ours[n])["extra_data"]["isolation"] for n in ours if n.endswith(".json")}
    assert len(isolation) == 1 and isolation <= {"namespaces", "userns", "uid-seccomp"}


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(cluster, submitted, local):
    from autograder.grading.course import Course
    from autograder.platforms.dask_executor import grade_dask
    from autograder.grading.discover import discover
    from autograder.grading.results import write_results
    from autograder.grading.runner import Graded, Settings

    course = Course.load(COURSE.root)
    jobs = discover(course, [submitted]).jobs
    settings = Settings(course=course, secret=SECRET, hide=sorted({course.root, local, submitted}),
                        curves=False)  # as `local` was graded (--no-report)
    client = distributed.Client(cluster)
    killed = []
    seen: list[str] = []
    try:
        for event in grade_dask(jobs, settings, cluster.scheduler_address, batch_size=1, client=client):
            if not isinstance(event, Graded):
                continue
            seen.append(event.key)
            target = local.parent / "killed" / f"{event.key}.json"
            write_results(event.result, target)
            assert target.read_bytes() == (local / f"{event.key}.json").read_bytes(), event.key
            if not killed:  # a worker that is grading right now dies, with its zygote and sandboxes
                deadline = time.monotonic() + 30
                while not killed and time.monotonic() < deadline:
                    busy = [w for w, keys in client.processing().items() if keys]
                    if busy:
                        pid = client.run(os.getpid, workers=busy[:1])[busy[0]]
                        os.kill(pid, signal.SIGKILL)
                        killed.append(busy[0])
                    else:
                        time.sleep(0.05)
    finally:
        client.close()
    assert killed, "no worker was busy to kill"
    assert sorted(seen) == sorted(j.key for j in jobs)  # every notebook once: none lost, none twice


def test_a_cluster_that_cannot_isolate_says_so(submitted, monkeypatch):
    from autograder.sandbox import zygote as sandbox
    from autograder.grading.course import Course
    from autograder.platforms.dask_executor import grade_dask
    from autograder.grading.discover import discover
    from autograder.grading.runner import Settings

    monkeypatch.setattr(sandbox.Zygote, "_probe", lambda self, level: (_ for _ in ()).throw(
        sandbox.SandboxUnavailable(f"{level}: not permitted here")))
    course = Course.load(COURSE.root)
    jobs = discover(course, [submitted / "alice"]).jobs[:1]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0",
                                  silence_logs=40) as cluster, distributed.Client(cluster) as client:
        with pytest.raises(sandbox.SandboxUnavailable, match="cannot isolate submissions here.*not permitted"):
            list(grade_dask(jobs, Settings(course=course, secret=SECRET), cluster.scheduler_address, client=client))


def test_a_bad_executor_is_bad_input(submitted, tmp_path, capsys):
    from autograder.cli import main

    assert main(["grade", str(submitted / "alice"), "--out", str(tmp_path), "--executor", "spark://x"]) == 2
    assert "--executor" in capsys.readouterr().err
