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
  the student gets a results file with 0 and a message to submit only the release notebook;
- a notebook of another assignment (a student's 03 notebook in their 02 folder, renamed or not) is not graded
  against the folder's tests: the student gets a results file with 0 for the folder's assignment and one
  sentence naming the assignment the notebook belongs to (:class:`Fingerprints` says which, from the release
  notebooks' own cells and their nbgrader grade_ids; a notebook with any of the folder's own is graded as usual);
- an unknown assignment folder is skipped, and its line names the closest assignment (a misspelled folder).

A folder given is an assignment folder when it is named like an assignment, a student folder when it holds
an assignment folder, else the top of the layout (so a student folder with no assignment folder in it reads
as a top folder: grade the class's top folder rather than one student's). The folder given may itself be a
symbolic link (it is resolved once). A notebook file given directly is graded whatever its name: its
assignment comes from its folder's name, else its file name, else its cells; its student from the folder above
the assignment folder when it follows the layout, else the file name; its results go where a class's would
(``<student>/<assignment>/<stem>.json``). :func:`submissions_top` says which folder is the top of the submissions
a path belongs to (the grader never makes its default results folder inside it).
"""
from __future__ import annotations

import difflib
import json
import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from autograder.grading.course import Assignment, Course
from autograder.i18n import _

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
    """A student's assignment that is not graded on purpose (several notebooks, none named like the release; a
    notebook of another assignment): its results file says why and gives 0."""
    student: str
    assignment: Assignment
    results: Path  # relative to the output folder
    why: str  # for the student
    summary: str = "several notebooks, none named like the release"  # for the instructor's table


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


# -- which assignment a notebook is ---------------------------------------------------------------------------------
MAX_NOTEBOOK_BYTES = 20 << 20  # autograder.grading.notebook's cap: a larger file is not read here either
MIN_CELL_CHARS = 12  # shorter cells ("x = 1") say nothing about which notebook this is
MIN_EVIDENCE = 2  # an assignment's own marks a notebook must hold to be called that assignment's


def _cell_marks(cells: object) -> frozenset[str]:
    """What identifies a notebook by its cells: each cell's nbgrader ``grade_id`` and its source (whitespace at the
    ends of lines dropped: an editor may change it). Whatever is malformed is passed over: this is a student's file."""
    marks: set[str] = set()
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict):
            continue
        meta = cell.get("metadata")
        nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
        grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
        if isinstance(grade_id, str) and grade_id:
            marks.add("id:" + grade_id)
        source = cell.get("source")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if isinstance(source, str):
            text = "\n".join(line.rstrip() for line in source.strip().splitlines())
            if len(text) >= MIN_CELL_CHARS:
                marks.add("cell:" + text)
    return frozenset(marks)


def notebook_marks(path: Path, follow_links: bool = False) -> frozenset[str]:
    """The marks of the notebook file at ``path`` (see :func:`_cell_marks`); empty when it is not a readable notebook
    (it is then graded as its folder says, and its results file says why it cannot be read). Never raises, never
    blocks (a FIFO put in its place is not read) and reads at most :data:`MAX_NOTEBOOK_BYTES`."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_NOTEBOOK_BYTES:
                return frozenset()
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read(MAX_NOTEBOOK_BYTES + 1)
        finally:
            os.close(fd)
        notebook = json.loads(data)
    except (OSError, ValueError, RecursionError):  # ValueError: not JSON, not UTF-8; RecursionError: [[[[...]]]]
        return frozenset()
    return _cell_marks(notebook.get("cells") if isinstance(notebook, dict) else None)


class Fingerprints:
    """Which assignment a notebook is, from the course's release notebooks: each one's *own* marks (the grade_ids
    and cell sources no other release notebook has). A student's notebook keeps most of its release's (the
    instructions, the given code, nbgrader's metadata) whatever it is named, and none of another's."""

    def __init__(self, course: Course):
        self.course = course

    @cached_property
    def own(self) -> dict[str, frozenset[str]]:
        """Assignment name -> the marks only its release notebook has (read once, when first needed)."""
        marks = {name: notebook_marks(self.course.release(a) / a.notebook, follow_links=True)
                 for name, a in self.course.assignments.items()}
        seen = Counter(m for ms in marks.values() for m in ms)
        return {name: frozenset(m for m in ms if seen[m] == 1) for name, ms in marks.items()}

    def identify(self, marks: frozenset[str]) -> Assignment | None:
        """The assignment whose own marks the notebook holds most of (at least :data:`MIN_EVIDENCE`, and strictly
        more than any other's), else None."""
        ranked = sorted(((len(marks & own), name) for name, own in self.own.items()), reverse=True)
        if not ranked or ranked[0][0] < MIN_EVIDENCE or (len(ranked) > 1 and ranked[1][0] == ranked[0][0]):
            return None
        return self.course.assignments[ranked[0][1]]

    def elsewhere(self, marks: frozenset[str], assignment: Assignment) -> Assignment | None:
        """The assignment a notebook found for ``assignment`` is instead, or None. Only a notebook with none of
        ``assignment``'s own marks and clearly another's is called another's: a wrong call costs a student a grade,
        so a doubtful notebook (edited beyond recognition, unreadable, empty) is graded as its folder says."""
        if marks & self.own.get(assignment.name, frozenset()):
            return None
        other = self.identify(marks)
        return other if other is not None and other.name != assignment.name else None


def closest(course: Course, name: str) -> Assignment | None:
    """The assignment a folder name was probably meant to be (``02_linear_regresion``, ``linear_regression``)."""
    names = {**{a.stem: a for a in course.assignments.values()}, **{a.name: a for a in course.assignments.values()}}
    match = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return names[match[0]] if match else None


def _add(discovery: Discovery, prints: Fingerprints, job: Job, shown_path: str, marks: frozenset[str]) -> None:
    """``job`` to grade, unless its notebook (whose marks are ``marks``) is another assignment's: then 0 for the
    folder's assignment, with one sentence for the student naming the notebook's assignment, and a skipped line for
    the instructor."""
    other = prints.elsewhere(marks, job.assignment)
    if other is None:
        discovery.jobs.append(job)
        return
    a = job.assignment
    discovery.ungraded.append(Ungraded(
        job.student, a, job.results,
        _("Not graded: this is a notebook of {other} ({other_notebook}), not of {assignment}, so it earns 0 for "
          "{assignment}; submit your {notebook} for {assignment}.").format(
            other=other.name, other_notebook=other.notebook, assignment=a.name, notebook=a.notebook),
        summary=f"a notebook of {other.name}, not of {a.name}"))
    discovery.skipped.append(f"{shown_path}: not graded: a notebook of {other.name}, not of {a.name} "
                             f"({shown(job.student)} gets 0 for {a.name} and a message)")


# -- the layout -----------------------------------------------------------------------------------------------------
def _single_file(course: Course, path: Path, prints: Fingerprints, discovery: Discovery) -> None:
    """A notebook given directly: its assignment from its folder, else its name, else its cells; its student from
    the layout's student folder, else its name; its results where a class's go."""
    real = path.resolve()  # "../x.ipynb" and links: the folders it really is in
    folder = course.find(real.parent.name)
    marks = notebook_marks(real)
    assignment = folder or course.find(real.stem) or prints.identify(marks)
    if assignment is None:
        raise InputError(f"{shown(str(path))}: unknown assignment (neither the folder {real.parent.name!r} nor the "
                         f"file name {real.stem!r} names one of the course's assignments, nor are its cells one of "
                         f"theirs)")
    student = real.parent.parent.name if folder is not None else ""
    if not_plain(student):
        student = real.stem
    why = not_plain(student)
    if why:
        raise InputError(f"{shown(str(path))}: cannot name its student or results file after it ({why})")
    _add(discovery, prints, Job(path, student, assignment, Path(student, assignment.name, f"{real.stem}.json")),
         shown(str(path)), marks)


def _level(course: Course, root: Path, entries: Callable[[Path], list[os.DirEntry]]) -> str:
    """What a folder given is: an ``assignment`` folder (named like one), a ``student`` folder (holding one), else
    the ``top`` of the layout. ``entries`` lists a folder (read only when the name does not tell)."""
    if root.name in course.assignments:
        return "assignment"
    if any(e.is_dir(follow_symlinks=False) and e.name in course.assignments for e in entries(root)):
        return "student"
    return "top"


def submissions_top(course: Course, path: Path) -> Path:
    """The top folder of the submissions ``path`` belongs to (resolved): the folder holding the student folders, or
    the folder of a notebook outside the layout. Nothing of the grader's belongs inside it."""
    real = path.resolve()
    if not real.is_dir():  # a notebook: in an assignment folder of the layout, or loose in a folder
        return real.parent.parent.parent if course.find(real.parent.name) else real.parent
    level = _level(course, real, _entries_or_none)
    return real.parent.parent if level == "assignment" else real.parent if level == "student" else real


def _entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def _entries_or_none(folder: Path) -> list[os.DirEntry]:
    try:
        return _entries(folder)
    except OSError:
        return []


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
                    meant = closest(self.course, e.name)
                    hint = f"; the closest is {meant.name}: rename the folder if it is that one" if meant else ""
                    self.skip(Path(e.path), f"not an assignment of the course (not graded){hint}", folder=True)
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
            found_in: dict[Path, int], discovery: Discovery, prints: Fingerprints) -> None:
    """One job per (student, assignment): the only notebook, else the one named like the release notebook (unless
    it is another assignment's notebook: :func:`_add`)."""

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
            _add(discovery, prints, Job(paths[0], student, assignment, Path(student, name, f"{paths[0].stem}.json")),
                 where(paths[0]), notebook_marks(paths[0]))
            continue
        named = [p for p in paths if p.name == assignment.notebook]
        if len(named) > 1:
            raise InputError(f"{where(named[0])} and {where(named[1])} are both {shown(student)}'s {name}: "
                             f"grade these folders in separate runs")
        if named:
            _add(discovery, prints, Job(named[0], student, assignment, Path(student, name, f"{assignment.stem}.json")),
                 where(named[0]), notebook_marks(named[0]))
            discovery.skipped.extend(f"{where(p)}: not graded: {shown(student)} has {assignment.notebook} for {name}"
                                     for p in paths if p != named[0])
            continue
        names = ", ".join(sorted(p.name for p in paths)[:10])
        discovery.ungraded.append(Ungraded(
            student, assignment, Path(student, name, f"{assignment.stem}.json"),
            _("Not graded: your {assignment} folder has {count} notebooks ({names}) and none is named {notebook}. "
              "Submit only {notebook}, the release notebook with your answers.").format(
                assignment=name, count=len(paths), names=names, notebook=assignment.notebook)))
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
        level = _level(course, root, walk.entries)
        if level == "assignment":  # its parent is the student
            why = not_plain(root.parent.name)
            if why:
                raise InputError(f"{shown(str(given))}: cannot tell whose submission this is (its parent folder has "
                                 f"{why})")
            walk.assignment(root, root.parent.name, course.assignments[root.name])
        elif level == "student":
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
    prints = Fingerprints(course)
    _choose(course, found, given_folders, roots, found_in, discovery, prints)
    in_folders = {_identity(j.path) for j in discovery.jobs} | {_identity(p) for ps in found.values() for p in ps}
    for path in files:
        if _identity(path.resolve()) not in in_folders:  # also in a folder given: graded as part of it
            _single_file(course, path, prints, discovery)
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
