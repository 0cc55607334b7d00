"""How fast is ``python -m autograder grade`` against the baseline, ``nbgrader autograde``, on the same notebooks?

    .venv/bin/python benchmarks/bench_grading.py [--students N] [--jobs J]

Builds a scratch course with N students who each submit all six assignments solved with the reference
code, then, in this one process on this machine, times:

1. baseline: ``nbgrader autograde <assignment>`` for every assignment (the notebooks' hidden cells run the
   same hidden tests in nbgrader's kernels), and
2. ``python -m autograder grade submitted --jobs J`` (sandboxed), and the same on a second, larger class,
   so the slope gives the grader's marginal cost per notebook, and
3. the student code alone: every notebook's cells and hidden tests run in-process, without sandbox or
   pytest session start-up, to estimate the grader's overhead per notebook beyond the student's own code.

It checks that both graders give full marks, and prints the ratios. Timings on shared 2-core machines are
noisy: compare the ratios, and rerun before drawing conclusions.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder.course import Course

REPO = Path(__file__).resolve().parents[1]
COURSE = Course.load(REPO)
ASSIGNMENTS = COURSE.assignments
from autograder.fill import filled_release, write

PYTHON = sys.executable
BIN = Path(PYTHON).parent


def make_course(root: Path, students: int) -> None:
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(REPO / "source", root / "source")
    shutil.copytree(REPO / "release", root / "release")
    for a in ASSIGNMENTS.values():
        nb = filled_release(COURSE, a)
        for s in range(students):
            write(nb, root / "submitted" / f"student{s:03d}" / a.name / a.notebook)
            for data in (REPO / "release" / a.name).iterdir():
                if data.suffix != ".ipynb":
                    shutil.copy(data, root / "submitted" / f"student{s:03d}" / a.name / data.name)


def run(cmd: list[str], cwd: Path) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


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
    from autograder.discover import find_jobs
    from autograder.runner import Settings, grade_shard
    from autograder.submission import InProcess

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
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--skip-nbgrader", action="store_true", help="only time this grader")
    args = parser.parse_args()
    n_small, n_large = args.students, args.students * 3
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        small, large = Path(tmp, "small"), Path(tmp, "large")
        for root, n in ((small, n_small), (large, n_large)):
            root.mkdir()
            make_course(root, n)
        notebooks_small = n_small * len(ASSIGNMENTS)
        notebooks_large = n_large * len(ASSIGNMENTS)
        print(f"class of {n_small} students x {len(ASSIGNMENTS)} assignments = {notebooks_small} notebooks")

        def grade(root: Path, jobs: int) -> float:
            return run([PYTHON, "-m", "autograder", "grade", "submitted", "--out", f"graded-{jobs}", "--jobs",
                        str(jobs), "--quiet", "--secret", "bench"], root)

        ours = grade(small, args.jobs)
        ours_rows = grader_scores(small / f"graded-{args.jobs}")
        assert all(s == m for _, _, s, m in ours_rows) and len(ours_rows) == notebooks_small, ours_rows
        print(f"autograder grade --jobs {args.jobs}: {ours:.1f} s, {ours / notebooks_small * 1000:.0f} ms per "
              f"notebook (start-up included)")
        # Overhead beyond the student's code: the marginal cost of one more notebook (slope between the two
        # classes, one job), sandboxed, minus the same slope with everything in-process.
        extra = notebooks_large - notebooks_small
        sandboxed = (grade(large, 1) - grade(small, 1)) / extra
        bare = (in_process_seconds(large) - in_process_seconds(small)) / extra
        print(f"per extra notebook, one job: {sandboxed * 1000:.0f} ms sandboxed, {bare * 1000:.0f} ms in-process "
              f"(student code + hidden tests); overhead of isolation: {(sandboxed - bare) * 1000:.0f} ms per notebook")
        if args.skip_nbgrader:
            return 0
        baseline = 0.0
        for a in ASSIGNMENTS.values():
            run([str(BIN / "nbgrader"), "generate_assignment", a.name, "--force"], small)
            baseline += run([str(BIN / "nbgrader"), "autograde", a.name, "--force"], small)
        rows = nbgrader_scores(small)
        assert len(rows) == notebooks_small and all(abs(s - m) < 1e-9 for _, _, s, m in rows), rows
        print(f"baseline nbgrader autograde (all six assignments): {baseline:.1f} s "
              f"({baseline / notebooks_small * 1000:.0f} ms per notebook)")
        print(f"ratio: nbgrader autograde / autograder grade = {baseline / ours:.1f}x "
              f"(both with full marks on all {notebooks_small} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
