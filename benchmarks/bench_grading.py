"""How fast is ``python -m autograder grade`` against the baseline, ``nbgrader autograde``, on the same notebooks?

    .venv/bin/python benchmarks/bench_grading.py [--students N] [--large-students M] [--overhead]

Builds two scratch classes, N students (default 4: 24 notebooks) and M students (default 40: 240 notebooks), who
each submit all six assignments solved with the reference code, then, in this one process on this machine, times:

1. ``python -m autograder grade submitted --jobs J --no-report`` (sandboxed; results files and scores.csv, as
   ``nbgrader autograde`` writes its gradebook, no feedback pages; the course secret in ``$AUTOGRADER_SECRET``, as
   a course's secret file gives it) with ``--jobs 1`` and ``--jobs 2`` on both classes, and its start-up: the time
   from the command to the first notebook graded (the grader prints a line per notebook as it is graded);
2. baseline: stock ``nbgrader autograde <assignment>`` for every assignment on the small class: nbgrader's own
   in-kernel execution (the scratch course's config puts nbgrader's ``Execute`` back in place of the course's
   sandboxed preprocessor, and lets the hidden cells grade there with ``AUTOGRADER_IN_KERNEL_BASELINE=1``), the
   hidden cells running the same hidden tests in nbgrader's kernels. nbgrader grades strictly one notebook after another,
   so its time for the large class is its measured time per notebook times the class size;
3. with ``--overhead`` (``make bench`` asks for it): the student code alone, every notebook's cells and hidden tests
   run in-process, without sandbox or pytest session start-up, to estimate the grader's overhead per notebook
   beyond the student's code; and the ratio no grader running these hidden tests could beat here even if
   isolation cost nothing and this machine's cores shared the in-process time perfectly (its ceiling).

It checks that both graders give full marks, and prints the ratios of wall time and of CPU time (user + system,
every process of each command, sandboxes and kernels included). Timings on shared 2-core machines are
noisy: compare the ratios, and rerun before drawing conclusions. The baseline runs the course's hidden tests with
this kit's comparison code in nbgrader's kernels, so it gets faster when that code does.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.grading.course import Course

REPO = Path(__file__).resolve().parents[1]
COURSE = Course.load(REPO)
ASSIGNMENTS = COURSE.assignments
from autograder.authoring.fill import filled_release, write

PYTHON = sys.executable
BIN = Path(PYTHON).parent


STOCK_AUTOGRADE = """
# The benchmark's baseline: stock nbgrader, which runs every cell, hidden tests included, in the student's kernel.
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, Execute, LimitOutput,
                                    SaveAutoGrades)
c.Autograde.autograde_preprocessors = [Execute, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
"""


def make_course(root: Path, students: int) -> None:
    config = (REPO / "nbgrader_config.py").read_text() + STOCK_AUTOGRADE
    (root / "nbgrader_config.py").write_text(config)
    shutil.copytree(REPO / "source", root / "source")
    shutil.copytree(REPO / "release", root / "release")
    for a in ASSIGNMENTS.values():
        nb = filled_release(COURSE, a)
        for s in range(students):
            write(nb, root / "submitted" / f"student{s:03d}" / a.name / a.notebook)
            for data in (REPO / "release" / a.name).iterdir():
                if data.suffix != ".ipynb":
                    shutil.copy(data, root / "submitted" / f"student{s:03d}" / a.name / data.name)


def children_cpu() -> float:
    """CPU seconds (user + system) of every process this one has waited for, with their own waited-for children
    (the grader's workers, zygote and sandboxes; nbgrader's kernels): steadier than wall time on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "AUTOGRADER_IN_KERNEL_BASELINE": "1"}
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def grade_timed(root: Path, jobs: int) -> tuple[float, float, float]:
    """``autograder grade`` on ``root``'s class: (seconds in all, seconds to the first notebook graded, CPU seconds).
    The grader prints a line per notebook graded, just after writing its results file."""
    out = f"graded-{jobs}"
    shutil.rmtree(root / out, ignore_errors=True)
    cmd = [PYTHON, "-m", "autograder", "grade", "submitted", "--out", out, "--jobs", str(jobs), "--no-report"]
    # The secret as a course gives it (its secret file, or $AUTOGRADER_SECRET): ``--secret`` on the command line costs
    # a start of Python more (the grader moves it out of sight of other users' ps)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "200",
           "AUTOGRADER_SECRET": "bench"}
    start, cpu = time.perf_counter(), children_cpu()
    first = None
    with subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as p:
        for line in p.stdout:
            if first is None and line.startswith("  student"):
                first = time.perf_counter() - start
        stderr = p.stderr.read()
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{stderr[-2000:]}")
    return seconds, first if first is not None else seconds, children_cpu() - cpu


def nbgrader_scores(root: Path) -> list[tuple[str, str, float, float]]:
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for a in ASSIGNMENTS.values():
            for submission in gradebook.assignment_submissions(a.name):
                rows.append((submission.student_id, a.name, submission.score, submission.max_score))
    return rows


def grader_scores(out: Path) -> list[tuple[str, str, float, float]]:
    rows = []
    for path in sorted(out.glob("*/*/*.json")):
        data = json.loads(path.read_text())
        rows.append((path.parent.parent.name, path.parent.name, data["score"], data["max_score"]))
    return rows


def in_process_seconds(root: Path) -> float:
    """The same hidden tests on the same notebooks, run in this process with no sandbox and no wire hop
    across processes: what grading costs without isolation (the student's code, the tests, pytest)."""
    from autograder.grading.discover import find_jobs
    from autograder.grading.runner import Settings, grade_shard
    from autograder.grading.submission import InProcess

    def in_release_folder(a):
        def open_transport():
            os.chdir(root / "release" / a.name)  # the scratch copy: notebooks write files there
            return InProcess()
        return open_transport

    import torch

    torch.set_num_threads(1)  # as in the sandbox
    cwd = os.getcwd()
    start = time.perf_counter()
    try:
        grade_shard(find_jobs(COURSE, [root / "submitted"]), Settings(course=COURSE, secret="bench"), lambda key, result: None,
                    open_factory=in_release_folder)
    finally:
        os.chdir(cwd)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=4, help="the small class (default 4: 24 notebooks)")
    parser.add_argument("--large-students", type=int, default=40, help="the large class (default 40: 240 notebooks)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-nbgrader", action="store_true", help="only time this grader")
    parser.add_argument("--overhead", action="store_true", help="also estimate the isolation overhead per notebook")
    args = parser.parse_args()
    n_small, n_large = args.students, args.large_students
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        small, large = Path(tmp, "small"), Path(tmp, "large")
        for root, n in ((small, n_small), (large, n_large)):
            root.mkdir()
            make_course(root, n)
        sizes = {small: n_small * len(ASSIGNMENTS), large: n_large * len(ASSIGNMENTS)}
        ours: dict[tuple[Path, int], float] = {}
        ours_cpu: dict[tuple[Path, int], float] = {}
        firsts: list[float] = []
        for root in (small, large):
            print(f"class of {sizes[root] // len(ASSIGNMENTS)} students x {len(ASSIGNMENTS)} assignments = "
                  f"{sizes[root]} notebooks", flush=True)
            for jobs in args.jobs:
                seconds, first, cpu = grade_timed(root, jobs)
                rows = grader_scores(root / f"graded-{jobs}")
                assert all(s == m for _, _, s, m in rows) and len(rows) == sizes[root], rows
                ours[root, jobs], ours_cpu[root, jobs] = seconds, cpu
                firsts.append(first)
                print(f"  autograder grade --jobs {jobs}: {seconds:.1f} s, {seconds / sizes[root] * 1000:.0f} ms per "
                      f"notebook (start-up included); first notebook graded {first:.2f} s after the command; "
                      f"{cpu:.1f} s of CPU", flush=True)
        print(f"start-up (command to first notebook graded): {min(firsts):.2f} s at best, {max(firsts):.2f} s at "
              f"worst over {len(firsts)} runs")
        in_process: dict[Path, float] = {}  # seconds per class, with no isolation (--overhead)
        if args.overhead:
            # Overhead beyond the student's code: the marginal cost of one more notebook (slope between the two
            # classes, one job), sandboxed, minus the same slope with everything in-process.
            extra = sizes[large] - sizes[small]
            sandboxed = (ours[large, args.jobs[0]] - ours[small, args.jobs[0]]) / extra
            in_process_seconds(small)  # once before: what the first run imports and loads (torch._dynamo...)
            bare_small, bare_large = in_process_seconds(small), in_process_seconds(large)
            bare = (bare_large - bare_small) / extra
            in_process = {small: bare_small, large: bare_large}
            print(f"per extra notebook, --jobs {args.jobs[0]}: {sandboxed * 1000:.0f} ms sandboxed, {bare * 1000:.0f} ms "
                  f"in-process (student code + hidden tests); overhead of isolation: {(sandboxed - bare) * 1000:.0f} "
                  f"ms per notebook")
            # What the hidden tests cost with no isolation at all, on one core: the floor of any grader running them
            print(f"in-process, no isolation, one core: {sizes[small]} notebooks in {bare_small:.1f} s, {sizes[large]} "
                  f"in {bare_large:.1f} s")
        if args.skip_nbgrader:
            return 0
        baseline = baseline_cpu = 0.0
        for a in ASSIGNMENTS.values():
            run([str(BIN / "nbgrader"), "generate_assignment", a.name, "--force"], small)
            cpu = children_cpu()
            baseline += run([str(BIN / "nbgrader"), "autograde", a.name, "--force"], small)
            baseline_cpu += children_cpu() - cpu
        rows = nbgrader_scores(small)
        assert len(rows) == sizes[small] and all(abs(s - m) < 1e-9 for _, _, s, m in rows), rows
        per_notebook = baseline / sizes[small]
        print(f"baseline nbgrader autograde (all six assignments, {sizes[small]} notebooks): {baseline:.1f} s "
              f"({per_notebook * 1000:.0f} ms per notebook, full marks on all); {baseline_cpu:.1f} s of CPU")
        print(f"nbgrader grades strictly one notebook after another: for {sizes[large]} notebooks, "
              f"{sizes[large]} x {per_notebook:.2f} s = {per_notebook * sizes[large]:.0f} s (estimated, not run)")
        for root in (small, large):
            theirs = per_notebook * sizes[root]
            for jobs in args.jobs:
                print(f"ratio, {sizes[root]} notebooks, --jobs {jobs}: nbgrader autograde / autograder grade = "
                      f"{theirs:.0f} s / {ours[root, jobs]:.1f} s = {theirs / ours[root, jobs]:.1f}x")
        for root, seconds in in_process.items():
            cores = os.cpu_count() or 1
            print(f"ceiling, {sizes[root]} notebooks: with no isolation at all and {cores} cores shared perfectly, "
                  f"{per_notebook * sizes[root]:.0f} s / ({seconds:.1f} s / {cores}) = "
                  f"{per_notebook * sizes[root] / (seconds / cores):.1f}x")
        for root in (small, large):  # CPU: the steadier figure on a shared machine
            theirs = baseline_cpu / sizes[small] * sizes[root]
            for jobs in args.jobs:
                print(f"CPU ratio, {sizes[root]} notebooks, --jobs {jobs}: {theirs:.0f} s / {ours_cpu[root, jobs]:.1f} s "
                      f"= {theirs / ours_cpu[root, jobs]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
