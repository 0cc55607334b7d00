"""Red team: a notebook's cost is bounded whatever it contains.

One batch, graded by the CLI with ``--jobs 2``, of honest notebooks and attackers that try to make grading slow or
heavy: hangs at top level and in every call (with SIGALRM ignored), a process killed in every call (restarts), a
cell of 5 MB of code, an expression nested 100,000 deep (IPython's transformer and the compiler, now inside the
sandbox), 100,000 cells, 1 GB of printed output. The batch's wall time stays within what the flags allow (each
notebook's budget is 4 x --notebook-timeout), honest students keep full marks, the grader's own memory stays small
and every results file is small.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.fill import filled_release, write
from autograder.sandbox.hostprobe import probe_host
from conftest import ASSIGNMENTS, COURSE

A = ASSIGNMENTS["02_linear_regression"]
BLANKS = ("linear_model", "mse_loss", "mse_grads", "train_linear")
NOTEBOOK_TIMEOUT, CELL_TIMEOUT, CALL_TIMEOUT = 8, 2, 1
BUDGET = 4 * NOTEBOOK_TIMEOUT  # runner.Settings.notebook_budget's default
JOBS = 2
START_UP = 90  # the CLI, two workers, two zygotes importing torch, pytest: generous on a loaded 2-core machine
PER_NOTEBOOK = 8  # beyond the budget: a spawn, the last request's kill, pytest's own work


def _every_blank(code: str) -> dict[str, str]:
    return {blank: textwrap.dedent(code).replace("NAME", blank) for blank in BLANKS}


ATTACKS = {
    "hang_at_top_level": _every_blank("""
        import signal
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        while True:
            pass
        """),
    "hang_in_every_call": _every_blank("""
        import signal
        def NAME(*args, **kwargs):
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            while True:
                pass
        """),
    "killed_in_every_call": _every_blank("""
        import os
        def NAME(*args, **kwargs):
            os.kill(os.getpid(), 9)
        """),
    "five_megabyte_cell": {"mse_grads": "x = 1\n" * 900_000},
    "deep_nesting": {"mse_grads": "(" * 100_000 + "\n", "mse_loss": "[" * 50_000 + "]" * 50_000 + "\n"},
    "print_a_gigabyte": {"mse_grads": textwrap.dedent("""
        import sys
        chunk = "x" * (1 << 20)
        for _ in range(1024):
            print(chunk)
            sys.stderr.write(chunk)
        def mse_grads(x, y, w, b):
            for _ in range(1024):
                print(chunk)
        """)},
}


def _hundred_thousand_cells(path: Path) -> None:
    nb = filled_release(COURSE, A)
    nb.cells += [nbformat.v4.new_code_cell("pass", id=f"flood-{i}") for i in range(100_000)]
    write(nb, path)


def _rss_watch(pid: int, peaks: dict[int, int], stop: threading.Event) -> None:
    """The peak resident memory (VmHWM) of the CLI and its grading workers: the trusted processes."""
    while not stop.is_set():
        trusted = {pid}
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            trusted |= {int(c) for c in children}
        except OSError:
            pass
        for p in trusted:
            try:
                cmdline = Path(f"/proc/{p}/cmdline").read_bytes()
                if b"_sandbox_entry" in cmdline:
                    continue  # the zygote: untrusted side
                for line in Path(f"/proc/{p}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[p] = max(peaks.get(p, 0), int(line.split()[1]) << 10)
            except OSError:
                pass
        stop.wait(0.2)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not probe_host().available("namespaces"):
        pytest.skip(probe_host().why_not("namespaces"))
    root = tmp_path_factory.mktemp("cost")
    out, submitted = root / "graded", root / "submitted"
    for student in ("honest1", "honest2"):
        write(filled_release(COURSE, A), submitted / student / A.name / A.notebook)
    for name, cells in ATTACKS.items():
        write(filled_release(COURSE, A, cells), submitted / f"attack_{name}" / A.name / A.notebook)
    _hundred_thousand_cells(submitted / "attack_hundred_thousand_cells" / A.name / A.notebook)
    # The grader's peak memory, measured from a wrapper whose only children are the CLI's process tree.
    wrapper = ("import resource, subprocess, sys, json; done = subprocess.run(sys.argv[1:]); "
               "print(json.dumps({'rc': done.returncode, "
               "'maxrss': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss << 10}))")
    command = [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "--jobs", str(JOBS),
               "--call-timeout", str(CALL_TIMEOUT), "--cell-timeout", str(CELL_TIMEOUT),
               "--notebook-timeout", str(NOTEBOOK_TIMEOUT), "--memory-gib", "1", "--quiet",
               "--exact-isolation", "namespaces"]
    peaks: dict[int, int] = {}
    stop = threading.Event()
    started = time.monotonic()
    process = subprocess.Popen([sys.executable, "-c", wrapper, *command], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "AUTOGRADER_SECRET": "cost"})
    watcher = None
    for _ in range(100):  # the CLI is the wrapper's child
        try:
            cli = int(Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()[0])
            watcher = threading.Thread(target=_rss_watch, args=(cli, peaks, stop), daemon=True)
            watcher.start()
            break
        except (OSError, IndexError, ValueError):
            time.sleep(0.05)
    stdout, stderr = process.communicate(timeout=900)
    seconds = time.monotonic() - started
    stop.set()
    if watcher is not None:
        watcher.join()
    measured = json.loads(stdout.strip().splitlines()[-1])
    results = {p.parent.parent.name: p for p in out.glob("*/*/*.json")}
    yield {"rc": measured["rc"], "stderr": stderr, "seconds": seconds, "tree_maxrss": measured["maxrss"],
           "trusted_peaks": peaks, "results": results}


def test_batch_completes(graded):
    # Exit 1: the notebook of 100,000 cells is refused as unreadable (its results file says why); all others graded.
    assert graded["rc"] == 1, graded["stderr"][-3000:]
    problems = [line for line in graded["stderr"].splitlines() if line.startswith(("problem:", "error:"))]
    assert len(problems) == 2 and "attack_hundred_thousand_cells" in problems[0] and "1 notebook(s)" in problems[1], \
        problems
    assert len(graded["results"]) == 2 + len(ATTACKS) + 1


def test_wall_time_is_bounded_by_the_flags(graded):
    notebooks = 2 + len(ATTACKS) + 1
    bound = START_UP + math.ceil(notebooks / JOBS) * (BUDGET + PER_NOTEBOOK)
    assert graded["seconds"] < bound, (graded["seconds"], bound)


@pytest.mark.parametrize("student", ["honest1", "honest2"])
def test_honest_students_keep_full_marks(graded, student):
    result = json.loads(graded["results"][student].read_text())
    assert result["score"] == result["max_score"] == A.max_score, result


def test_budget_spent_is_explained(graded):
    text = graded["results"]["attack_hang_in_every_call"].read_text()
    assert "grading time" in text or "did not finish within" in text, text[:3000]
    assert "could not be read" in graded["results"]["attack_hundred_thousand_cells"].read_text()


def test_results_files_are_small(graded):
    for name, path in graded["results"].items():
        assert path.stat().st_size < 200_000, (name, path.stat().st_size)


def test_grader_memory_is_bounded(graded):
    print(f"\nbatch {graded['seconds']:.1f} s; trusted peaks {sorted(v >> 20 for v in graded['trusted_peaks'].values())} MiB; "
          f"largest process of the tree {graded['tree_maxrss'] >> 20} MiB")
    # The trusted processes (the CLI and its workers: torch, pytest, the hidden tests) stay small, whatever the
    # notebooks print or contain; the whole tree's largest process (a sandbox included) stays within its limit.
    assert graded["trusted_peaks"], "no trusted process was measured"
    assert max(graded["trusted_peaks"].values()) < 700 << 20, graded["trusted_peaks"]
    assert graded["tree_maxrss"] < (1 << 30) + (700 << 20), graded["tree_maxrss"]


def test_budget_caps_all_runs_restarts_and_calls():
    """Without a sandbox: a transport that hangs every request until its timeout (then the process is lost).
    Whatever is asked, the notebook's requests together take no more than its budget, and once it is spent every
    later call fails at once, without opening a process again."""
    from autograder.grading.submission import Submission, SubmissionError
    from autograder.protocol.wire import Timeout

    opened = []

    class Hanging:
        def request(self, header, blobs, timeout):
            time.sleep(timeout)
            raise Timeout("no answer")

        def close(self):
            pass

    def open_transport():
        opened.append(time.monotonic())
        return Hanging()

    sub = Submission(open_transport, ["while True: pass"] * 3, cell_timeout=0.2, call_timeout=0.2,
                     notebook_timeout=1.0, budget=1.5)
    started = time.monotonic()
    failures = []
    for _ in range(30):
        try:
            sub.call("mse_grads", 1)
        except SubmissionError as error:
            failures.append(str(error))
    assert time.monotonic() - started < 1.5 + 0.5
    assert "grading time" in failures[-1]
    spawned = len(opened)
    began = time.monotonic()
    with pytest.raises(SubmissionError, match="grading time"):
        sub.call("mse_grads", 1)
    assert time.monotonic() - began < 0.05 and len(opened) == spawned
