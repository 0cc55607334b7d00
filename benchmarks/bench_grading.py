"""How fast is ``python -m autograder grade`` against the baseline, ``nbgrader autograde``, on the same notebooks?

    .venv/bin/python benchmarks/bench_grading.py [--course DIR] [--students N] [--large-students M] [--overhead]

Builds two scratch classes of the course (default: this repository; it says which assignments it found), N students
(default 4) and M students (default 40), who each submit every assignment solved with the reference code, then, in
this one process on this machine, times:

1. ``python -m autograder grade submitted --jobs J`` (sandboxed; the course secret in ``$AUTOGRADER_SECRET``, as a
   course's secret file gives it) with ``--jobs 1`` and ``--jobs 2`` on both classes, twice: as instructors run it
   (results files, scores.csv, every student's feedback page with its loss curves, recorded while grading, and the
   class report) and with ``--no-report`` (results files and scores.csv only, as ``nbgrader autograde`` writes its
   gradebook and no page); and its start-up: the time from the command to the first notebook graded (the grader
   prints a line per notebook as it is graded);
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
every process of each command, sandboxes and kernels included), for ``grade`` and for ``grade --no-report``.
Timings on shared 2-core machines are noisy: compare the ratios, and rerun before drawing conclusions. The baseline
runs the course's hidden tests with this kit's comparison code in nbgrader's kernels, so it gets faster when that
code does.
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

from autograder.authoring.fill import filled_release, write
from autograder.grading.course import Course

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
SECRET = "bench"  # every grader here draws the same hidden inputs
MODES = ("report", "no-report")  # grade as instructors run it (pages and class report), and with --no-report


STOCK_AUTOGRADE = """
# The benchmark's baseline: stock nbgrader, which runs every cell, hidden tests included, in the student's kernel.
from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, Execute, LimitOutput,
                                    SaveAutoGrades)
c.Autograde.autograde_preprocessors = [Execute, LimitOutput, SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
"""


def count(n: int, thing: str) -> str:
    """``n`` things, in words ("1 notebook", "24 notebooks")."""
    return f"{n} {thing}{'s' * (n != 1)}"


def describe(course: Course, students: int) -> str:
    """What a class of ``students`` of ``course`` is, in words: its size and the assignments it submits."""
    n = len(course.assignments)
    return (f"class of {count(students, 'student')} x {count(n, 'assignment')} = {count(students * n, 'notebook')} "
            f"({', '.join(course.assignments)})")


def make_class(course: Course, root: Path, students: int) -> None:
    """A scratch nbgrader course at ``root`` whose ``students`` each submit every assignment of ``course``, solved."""
    config = (course.root / "nbgrader_config.py").read_text() + STOCK_AUTOGRADE
    (root / "nbgrader_config.py").write_text(config)
    shutil.copytree(course.root / "source", root / "source")
    shutil.copytree(course.root / "release", root / "release")
    for a in course.assignments.values():
        nb = filled_release(course, a)
        for s in range(students):
            write(nb, root / "submitted" / f"student{s:03d}" / a.name / a.notebook)
            for data in course.release(a).iterdir():
                if data.suffix != ".ipynb":
                    shutil.copy(data, root / "submitted" / f"student{s:03d}" / a.name / data.name)


def children_cpu() -> float:
    """CPU seconds (user + system) of every process this one has waited for, with their own waited-for children
    (the grader's workers, zygote and sandboxes; nbgrader's kernels): steadier than wall time on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], cwd: Path, course: Course) -> float:
    # The kernels' hidden cells grade the course measured, with the grader's secret (a course without a secret file
    # would otherwise get one made by the first hidden cell, whose note on stderr nbgrader scores as a failure)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "AUTOGRADER_IN_KERNEL_BASELINE": "1",
           "AUTOGRADER_COURSE": str(course.root), "AUTOGRADER_SECRET": SECRET}
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def grade_timed(course: Course, root: Path, jobs: int, mode: str) -> tuple[float, float, float]:
    """``autograder grade`` on ``root``'s class, with the pages and the class report (``mode`` "report", the default
    command) or without (``--no-report``): (seconds in all, seconds to the first notebook graded, CPU seconds).
    The grader prints a line per notebook graded, just after writing its results file."""
    out = f"graded-{jobs}-{mode}"
    shutil.rmtree(root / out, ignore_errors=True)
    cmd = [PYTHON, "-m", "autograder", "grade", "submitted", "--course", str(course.root), "--out", out,
           "--jobs", str(jobs), *(["--no-report"] if mode == "no-report" else [])]
    # The secret as a course gives it (its secret file, or $AUTOGRADER_SECRET): ``--secret`` on the command line costs
    # a start of Python more (the grader moves it out of sight of other users' ps)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "200",
           "AUTOGRADER_SECRET": SECRET}
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
    if mode == "report" and not (root / out / "report.html").is_file():
        raise SystemExit(f"{' '.join(cmd)} wrote no class report")
    return seconds, first if first is not None else seconds, children_cpu() - cpu


def nbgrader_scores(course: Course, root: Path) -> list[tuple[str, str, float, float]]:
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        for a in course.assignments.values():
            for submission in gradebook.assignment_submissions(a.name):
                rows.append((submission.student_id, a.name, submission.score, submission.max_score))
    return rows


def grader_scores(out: Path) -> list[tuple[str, str, float, float]]:
    rows = []
    for path in sorted(out.glob("*/*/*.json")):
        data = json.loads(path.read_text())
        rows.append((path.parent.parent.name, path.parent.name, data["score"], data["max_score"]))
    return rows


def in_process_seconds(course: Course, root: Path) -> float:
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
        grade_shard(find_jobs(course, [root / "submitted"]), Settings(course=course, secret=SECRET),
                    lambda key, result: None, open_factory=in_release_folder)
    finally:
        os.chdir(cwd)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=REPO,
                        help="the course to measure (an nbgrader course directory; default: this repository)")
    parser.add_argument("--students", type=int, default=4, help="students in the small class (default 4)")
    parser.add_argument("--large-students", type=int, default=40, help="students in the large class (default 40)")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--skip-nbgrader", action="store_true", help="only time this grader")
    parser.add_argument("--overhead", action="store_true", help="also estimate the isolation overhead per notebook")
    args = parser.parse_args()
    course = Course.load(args.course.resolve())
    n_small, n_large = args.students, args.large_students
    print(f"course {course.root}: {count(len(course.assignments), 'assignment')} ({', '.join(course.assignments)})",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        small, large = Path(tmp, "small"), Path(tmp, "large")
        for root, n in ((small, n_small), (large, n_large)):
            root.mkdir()
            make_class(course, root, n)
        students = {small: n_small, large: n_large}
        sizes = {root: n * len(course.assignments) for root, n in students.items()}
        ours: dict[tuple[Path, int, str], float] = {}
        ours_cpu: dict[tuple[Path, int, str], float] = {}
        firsts: list[float] = []
        for root in (small, large):
            print(describe(course, students[root]), flush=True)
            for jobs in args.jobs:
                for mode in MODES:
                    seconds, first, cpu = grade_timed(course, root, jobs, mode)
                    rows = grader_scores(root / f"graded-{jobs}-{mode}")
                    assert all(s == m for _, _, s, m in rows) and len(rows) == sizes[root], rows
                    ours[root, jobs, mode], ours_cpu[root, jobs, mode] = seconds, cpu
                    firsts.append(first)
                    print(f"  autograder grade --jobs {jobs}{' --no-report' if mode == 'no-report' else ''}: "
                          f"{seconds:.1f} s, {seconds / sizes[root] * 1000:.0f} ms per notebook (start-up included"
                          f"{'; pages and class report included' if mode == 'report' else ''}); first notebook "
                          f"graded {first:.2f} s after the command; {cpu:.1f} s of CPU", flush=True)
        print(f"start-up (command to first notebook graded): {min(firsts):.2f} s at best, {max(firsts):.2f} s at "
              f"worst over {len(firsts)} runs")
        in_process: dict[Path, float] = {}  # seconds per class, with no isolation (--overhead)
        if args.overhead:
            # Overhead beyond the student's code: the marginal cost of one more notebook (slope between the two
            # classes, one job, --no-report), sandboxed, minus the same slope with everything in-process.
            extra = sizes[large] - sizes[small]
            sandboxed = (ours[large, args.jobs[0], "no-report"] - ours[small, args.jobs[0], "no-report"]) / extra
            in_process_seconds(course, small)  # once before: what the first run imports and loads (torch._dynamo...)
            bare_small, bare_large = in_process_seconds(course, small), in_process_seconds(course, large)
            bare = (bare_large - bare_small) / extra
            in_process = {small: bare_small, large: bare_large}
            print(f"per extra notebook, --jobs {args.jobs[0]} --no-report: {sandboxed * 1000:.0f} ms sandboxed, "
                  f"{bare * 1000:.0f} ms in-process (student code + hidden tests); overhead of isolation: "
                  f"{(sandboxed - bare) * 1000:.0f} ms per notebook")
            # What the hidden tests cost with no isolation at all, on one core: the floor of any grader running them
            print(f"in-process, no isolation, one core: {count(sizes[small], 'notebook')} in {bare_small:.1f} s, "
                  f"{sizes[large]} in {bare_large:.1f} s")
        if args.skip_nbgrader:
            return 0
        baseline = baseline_cpu = 0.0
        for a in course.assignments.values():
            run([str(BIN / "nbgrader"), "generate_assignment", a.name, "--force"], small, course)
            cpu = children_cpu()
            baseline += run([str(BIN / "nbgrader"), "autograde", a.name, "--force"], small, course)
            baseline_cpu += children_cpu() - cpu
        rows = nbgrader_scores(course, small)
        assert len(rows) == sizes[small] and all(abs(s - m) < 1e-9 for _, _, s, m in rows), rows
        per_notebook = baseline / sizes[small]
        print(f"baseline nbgrader autograde ({count(len(course.assignments), 'assignment')}, "
              f"{count(sizes[small], 'notebook')}): "
              f"{baseline:.1f} s ({per_notebook * 1000:.0f} ms per notebook, full marks on all); "
              f"{baseline_cpu:.1f} s of CPU")
        print(f"nbgrader grades strictly one notebook after another: for {count(sizes[large], 'notebook')}, "
              f"{sizes[large]} x {per_notebook:.2f} s = {per_notebook * sizes[large]:.0f} s (estimated, not run)")
        for mode in MODES:
            command = "autograder grade" + (" --no-report" if mode == "no-report" else " (pages and class report)")
            for root in (small, large):
                theirs = per_notebook * sizes[root]
                for jobs in args.jobs:
                    print(f"ratio, {count(sizes[root], 'notebook')}, --jobs {jobs}: nbgrader autograde / {command} = "
                          f"{theirs:.0f} s / {ours[root, jobs, mode]:.1f} s = {theirs / ours[root, jobs, mode]:.1f}x")
        for root, seconds in in_process.items():
            cores = os.cpu_count() or 1
            print(f"ceiling, {count(sizes[root], 'notebook')}: with no isolation at all and {cores} cores shared "
                  f"perfectly, {per_notebook * sizes[root]:.0f} s / ({seconds:.1f} s / {cores}) = "
                  f"{per_notebook * sizes[root] / (seconds / cores):.1f}x")
        for mode in MODES:  # CPU: the steadier figure on a shared machine
            command = "autograder grade" + (" --no-report" if mode == "no-report" else "")
            for root in (small, large):
                theirs = baseline_cpu / sizes[small] * sizes[root]
                for jobs in args.jobs:
                    print(f"CPU ratio, {count(sizes[root], 'notebook')}, --jobs {jobs}, {command}: {theirs:.0f} s / "
                          f"{ours_cpu[root, jobs, mode]:.1f} s = {theirs / ours_cpu[root, jobs, mode]:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
