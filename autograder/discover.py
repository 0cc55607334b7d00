"""Command-line paths -> the notebooks to grade, each with its student, assignment and results path.

A path is a notebook file, or a folder in nbgrader's submitted layout
``<student_id>/<assignment>/<notebook>.ipynb`` (the folder given may be the top, a student, or an
assignment folder). The assignment comes from the notebook's folder name, or else its file name.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.course import Assignment, Course


class InputError(Exception):
    """A path the grader cannot use; the message is one line."""


@dataclass(frozen=True)
class Job:
    path: Path
    student: str
    assignment: Assignment
    results: Path  # relative to the output folder

    @property
    def key(self) -> str:
        return str(self.results.with_suffix(""))


def _single_file(course: Course, path: Path) -> Job:
    folder = course.find(path.parent.name)
    assignment = folder or course.find(path.stem)
    if assignment is None:
        raise InputError(f"{path}: unknown assignment (neither the folder {path.parent.name!r} nor the file name "
                         f"{path.stem!r} names one of the course's assignments)")
    student = path.parent.parent.name if folder is not None and path.parent.parent.name else path.stem
    return Job(path, student, assignment, Path(f"{path.stem}.json"))


def _in_folder(course: Course, root: Path, path: Path) -> Job:
    rel = path.relative_to(root)
    parts = [root.name, *rel.parts] if len(rel.parts) < 3 else list(rel.parts)
    assignment = course.find(parts[-2]) or course.find(path.stem)
    if assignment is None:
        raise InputError(f"{path}: unknown assignment {parts[-2]!r} (expected <student>/<assignment>/<notebook>.ipynb)")
    if len(parts) < 3:  # an assignment folder given directly: its parent is the student
        parts = [root.parent.name, *parts]
    student = parts[-3]
    return Job(path, student, assignment, Path(student, assignment.name, f"{path.stem}.json"))


def find_jobs(course: Course, paths: list[Path]) -> list[Job]:
    """All notebooks under ``paths``, sorted; raises :class:`InputError` for a path it cannot use."""
    jobs: list[Job] = []
    for given in paths:
        if not given.exists():
            raise InputError(f"{given}: no such file or folder")
        if given.is_file():
            if given.suffix != ".ipynb":
                raise InputError(f"{given}: not a notebook (expected a .ipynb file or a folder of submissions)")
            jobs.append(_single_file(course, given))
            continue
        root = given.resolve()
        found = sorted(p for p in root.rglob("*.ipynb")
                       if ".ipynb_checkpoints" not in p.parts and p.is_file())
        if not found:
            raise InputError(f"{given}: no notebooks found (expected <student>/<assignment>/<notebook>.ipynb)")
        jobs.extend(_in_folder(course, root, p) for p in found)
    seen: dict[Path, Path] = {}
    for job in jobs:
        if job.results in seen:
            raise InputError(f"{job.path} and {seen[job.results]} would both write {job.results}")
        seen[job.results] = job.path
    return sorted(jobs, key=lambda j: (j.assignment.name, j.student, j.path.name))
