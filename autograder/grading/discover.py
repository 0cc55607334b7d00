"""Command-line paths -> the notebooks to grade, each with its student, assignment and results path.

A path is a notebook file, or a folder in nbgrader's submitted layout
``<student_id>/<assignment>/<notebook>.ipynb`` (the folder given may be the top, a student, or an
assignment folder). The submissions tree is input, not truth:

- only notebooks at exactly that depth are submissions: a notebook in a deeper folder (``nbgrader submit``
  and ``collect`` copy whatever a student had there) is never graded, so it can neither pass as another
  student's work nor change anyone's score;
- an assignment folder must be named exactly like one of the course's assignments; an unknown folder, a
  notebook at the wrong depth, a folder or file name that is not plain (empty, ``..``, a path separator,
  control or unprintable characters) and any symbolic link inside the tree are reported and skipped, never
  followed and never a reason to stop the batch; hidden files and folders (``.ipynb_checkpoints``) and data
  files are ignored;
- a student with several notebooks for one assignment: the one named like the release notebook is graded
  and the others are reported; when none is named like it, none is graded (never "the best of several"):
  the student gets a results file with 0 and a message to submit only the release notebook.

A folder given is an assignment folder when it is named like an assignment, a student folder when it holds
an assignment folder, else the top of the layout (so a student folder with no assignment folder in it reads
as a top folder: grade the class's top folder rather than one student's). The folder given may itself be a
symbolic link (it is resolved once). A notebook file given directly is graded whatever its name: its
assignment comes from its folder's name, or else its file name.
"""
from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.grading.course import Assignment, Course

LAYOUT = "<student>/<assignment>/<notebook>.ipynb"


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


@dataclass(frozen=True)
class Ungraded:
    """A student's assignment that is not graded on purpose (several notebooks, none named like the release):
    its results file says why and gives 0."""
    student: str
    assignment: Assignment
    results: Path  # relative to the output folder
    why: str  # for the student


@dataclass
class Discovery:
    jobs: list[Job] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "<path>: <why>", one line each, printable
    ungraded: list[Ungraded] = field(default_factory=list)


def shown(text: str) -> str:
    """``text`` with control and unprintable characters escaped, so a file name prints on one line as itself."""
    return "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)


def not_plain(name: str) -> str | None:
    """Why a folder or file name cannot name a student, an assignment or a results file (None: it can)."""
    if not name:
        return "an empty name"
    if name in (".", ".."):
        return f"the name {name!r}"
    if "/" in name or "\\" in name or "\0" in name:
        return "a name with a path separator"
    if not name.isprintable():
        return "a name with control or unprintable characters"
    return None


def _single_file(course: Course, path: Path) -> Job:
    folder = course.find(path.parent.name)
    assignment = folder or course.find(path.stem)
    if assignment is None:
        raise InputError(f"{shown(str(path))}: unknown assignment (neither the folder {path.parent.name!r} nor the "
                         f"file name {path.stem!r} names one of the course's assignments)")
    student = path.parent.parent.name if folder is not None and path.parent.parent.name else path.stem
    return Job(path, student, assignment, Path(f"{path.stem}.json"))


def _entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def _hidden(name: str) -> bool:
    return name.startswith(".")


class _Walk:
    """One folder given on the command line, walked without following any symbolic link."""

    def __init__(self, course: Course, given: Path, root: Path, found: dict[tuple[str, str], list[Path]],
                 skipped: list[str]):
        self.course, self.given, self.root, self.found, self.skipped = course, given, root, found, skipped

    def skip(self, path: Path, why: str, folder: bool = False) -> None:
        shown_path = shown(str(self.given / path.relative_to(self.root))) + ("/" if folder else "")
        self.skipped.append(f"{shown_path}: {why}")

    def entries(self, folder: Path) -> list[os.DirEntry]:
        try:
            return _entries(folder)
        except OSError as error:
            self.skip(folder, f"cannot be read ({error.strerror})", folder=True)
            return []

    def other(self, entry: os.DirEntry, where: str) -> None:
        """An entry that is not what this level holds: symbolic links and notebooks are reported, the rest ignored."""
        path = Path(entry.path)
        if entry.is_symlink():
            self.skip(path, "a symbolic link (not followed, not graded)")
        elif entry.name.endswith(".ipynb"):
            self.skip(path, f"a notebook {where} (only {LAYOUT} is graded)")

    def top(self, folder: Path) -> None:
        for e in self.entries(folder):
            if _hidden(e.name):
                continue
            if e.is_dir(follow_symlinks=False):
                why = not_plain(e.name)
                if why:
                    self.skip(Path(e.path), f"not a student folder ({why})", folder=True)
                else:
                    self.student(Path(e.path), e.name)
            else:
                self.other(e, "outside any student folder")

    def student(self, folder: Path, student: str) -> None:
        for e in self.entries(folder):
            if _hidden(e.name):
                continue
            if e.is_dir(follow_symlinks=False):
                assignment = self.course.assignments.get(e.name)
                if assignment is None:
                    self.skip(Path(e.path), "not an assignment of the course (not graded)", folder=True)
                else:
                    self.assignment(Path(e.path), student, assignment)
            else:
                self.other(e, "outside any assignment folder")

    def assignment(self, folder: Path, student: str, assignment: Assignment) -> None:
        for e in self.entries(folder):
            if _hidden(e.name):
                continue
            path = Path(e.path)
            if e.is_dir(follow_symlinks=False):
                self.deeper(path)
            elif e.name.endswith(".ipynb") and not e.is_symlink():
                why = not_plain(e.name)
                if not e.is_file(follow_symlinks=False):
                    self.skip(path, "not a regular file (not graded)")
                elif why:
                    self.skip(path, f"a notebook with {why} (not graded)")
                else:
                    self.found.setdefault((student, assignment.name), []).append(path)
            else:
                self.other(e, "")

    def deeper(self, folder: Path) -> None:
        """A folder inside an assignment folder: every notebook in it, at any depth, is reported and skipped."""
        for parent, dirs, files in os.walk(folder, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not _hidden(d))
            for name in sorted(files + dirs):
                if name.endswith(".ipynb") and not _hidden(name):
                    self.skip(Path(parent, name), f"deeper than {LAYOUT} (not graded)")


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path, follow_symlinks=False)
    return st.st_dev, st.st_ino


def _choose(course: Course, found: dict[tuple[str, str], list[Path]], given: list[Path], roots: list[Path],
            found_in: dict[Path, int], discovery: Discovery) -> None:
    """One job per (student, assignment): the only notebook, else the one named like the release notebook."""

    def where(path: Path) -> str:
        i = found_in[path]
        return shown(str(given[i] / path.relative_to(roots[i])))

    for (student, name), paths in sorted(found.items()):
        assignment = course.assignments[name]
        unique: dict[tuple[int, int], Path] = {}
        for p in paths:  # the same file reached through two of the paths given
            unique.setdefault(_identity(p), p)
        paths = list(unique.values())
        if len(paths) == 1:
            discovery.jobs.append(Job(paths[0], student, assignment, Path(student, name, f"{paths[0].stem}.json")))
            continue
        named = [p for p in paths if p.name == assignment.notebook]
        if len(named) > 1:
            raise InputError(f"{where(named[0])} and {where(named[1])} are both {shown(student)}'s {name}: "
                             f"grade these folders in separate runs")
        if named:
            discovery.jobs.append(Job(named[0], student, assignment, Path(student, name, f"{assignment.stem}.json")))
            discovery.skipped.extend(f"{where(p)}: not graded: {shown(student)} has {assignment.notebook} for {name}"
                                     for p in paths if p != named[0])
            continue
        names = ", ".join(sorted(p.name for p in paths)[:10])
        discovery.ungraded.append(Ungraded(
            student, assignment, Path(student, name, f"{assignment.stem}.json"),
            f"Not graded: your {name} folder has {len(paths)} notebooks ({names}) and none is named "
            f"{assignment.notebook}. Submit only {assignment.notebook}, the release notebook with your answers."))
        discovery.skipped.extend(f"{where(p)}: not graded: {shown(student)} has {len(paths)} notebooks for {name} "
                                 f"and none is named {assignment.notebook} (the student gets 0 and a message)"
                                 for p in paths)


def discover(course: Course, paths: Iterable[Path]) -> Discovery:
    """The notebooks under ``paths`` to grade (sorted), what was skipped and why, and the assignments not graded
    on purpose. Raises :class:`InputError` only for the paths themselves (missing, not a notebook, a notebook
    of no assignment, two of them writing the same results); what lies inside a folder never raises."""
    paths = list(paths)
    discovery = Discovery()
    found: dict[tuple[str, str], list[Path]] = {}
    given_folders: list[Path] = []
    roots: list[Path] = []
    found_in: dict[Path, int] = {}
    files: list[Path] = []
    for given in paths:
        if not given.exists():
            raise InputError(f"{shown(str(given))}: no such file or folder")
        if not given.is_dir():
            if given.suffix != ".ipynb" or not given.is_file():
                raise InputError(f"{shown(str(given))}: not a notebook (expected a .ipynb file or a folder of "
                                 f"submissions)")
            files.append(given)
            continue
        root = given.resolve()
        before = {p for ps in found.values() for p in ps}
        walk = _Walk(course, given, root, found, discovery.skipped)
        if root.name in course.assignments:  # an assignment folder: its parent is the student
            why = not_plain(root.parent.name)
            if why:
                raise InputError(f"{shown(str(given))}: cannot tell whose submission this is (its parent folder has "
                                 f"{why})")
            walk.assignment(root, root.parent.name, course.assignments[root.name])
        elif any(e.is_dir(follow_symlinks=False) and e.name in course.assignments for e in walk.entries(root)):
            why = not_plain(root.name)
            if why:
                raise InputError(f"{shown(str(given))}: cannot tell whose submissions these are (the folder has {why})")
            walk.student(root, root.name)
        else:
            walk.top(root)
        given_folders.append(given)
        roots.append(root)
        for p in {p for ps in found.values() for p in ps} - before:
            found_in[p] = len(roots) - 1
    _choose(course, found, given_folders, roots, found_in, discovery)
    in_folders = {_identity(j.path) for j in discovery.jobs} | {_identity(p) for ps in found.values() for p in ps}
    for path in files:
        if _identity(path.resolve()) not in in_folders:  # also in a folder given: graded as part of it
            discovery.jobs.append(_single_file(course, path))
    _check_unique(discovery)
    discovery.jobs.sort(key=lambda j: (j.assignment.name, j.student, j.path.name))
    return discovery


def _check_unique(discovery: Discovery) -> None:
    results: dict[Path, str] = {}
    owners: dict[tuple[str, str], str] = {}
    items = [(j.results, j.student, j.assignment.name, str(j.path)) for j in discovery.jobs]
    items += [(u.results, u.student, u.assignment.name, f"{u.student}/{u.assignment.name}") for u in discovery.ungraded]
    for result, student, assignment, path in items:
        if result in results:
            raise InputError(f"{shown(path)} and {shown(results[result])} would both write {shown(str(result))}")
        results[result] = path
        if (student, assignment) in owners:
            raise InputError(f"{shown(path)} and {shown(owners[student, assignment])} are both {shown(student)}'s "
                             f"{assignment}: grade them in separate runs")
        owners[student, assignment] = path


def find_jobs(course: Course, paths: list[Path]) -> list[Job]:
    """The notebooks to grade under ``paths``, sorted (what :func:`discover` skips is left out silently); raises
    :class:`InputError` for a path it cannot use, or when there is nothing to grade."""
    found = discover(course, paths)
    if not found.jobs:
        raise InputError(nothing_found(paths, found))
    return found.jobs


def nothing_found(paths: list[Path], found: Discovery) -> str:
    where = shown(str(paths[0])) if len(paths) == 1 else "the paths given"
    skipped = f"; {len(found.skipped)} skipped" if found.skipped else ""
    return f"{where}: no notebooks found (expected {LAYOUT}{skipped})"
