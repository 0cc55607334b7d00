"""The course directory: everything the engine grades with, and nothing the students' kit ships.

A course is a folder (this repository, or an unpacked Gradescope bundle) laid out as::

    release/<assignment>/<stem>.ipynb     the student notebook (and its data files): which blanks exist, their points
    hidden/test_<assignment>.py           the hidden pytest tests of the assignment
    solutions/<stem>.py                   the reference solutions
    catalog/<stem>.py                     correct variants and known mistakes (the audit; optional)
    source/<assignment>/<stem>.ipynb      nbgrader's source notebook (optional for grading)

The engine learns the assignments from ``release/``: every folder there holding one notebook is an assignment,
its blanks are the notebook's nbgrader solution cells (``grade_id`` = the name the cell defines) and each blank's
points are those of its hidden test cell ``test_<blank>``. So a new assignment is one file (or folder) named after
it in each folder above, and nothing in the engine lists them.

The course secret, from which hidden inputs are drawn, is ``--secret``, else ``$AUTOGRADER_SECRET``, else the
file ``.autograder-secret`` in the course directory (made with a random value the first time it is needed, which
is said once on stderr, with the file's path).
"""
from __future__ import annotations

import functools
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

COURSE_ENV = "AUTOGRADER_COURSE"
SECRET_ENV = "AUTOGRADER_SECRET"
SECRET_FILE = ".autograder-secret"
PRIVATE = ("hidden", "solutions", "catalog", "source", SECRET_FILE)  # never shown to a submission


class CourseError(Exception):
    """The course directory cannot be used; the message is one line saying why and what to do."""


@dataclass(frozen=True)
class Assignment:
    name: str  # folder name, e.g. "02_linear_regression"
    stem: str  # notebook stem and solutions module, e.g. "linear_regression"
    blanks: dict[str, float]  # grade_id -> points, in notebook order

    @property
    def notebook(self) -> str:
        return f"{self.stem}.ipynb"

    @property
    def max_score(self) -> float:
        return sum(self.blanks.values())


@dataclass(frozen=True)
class Course:
    root: Path
    assignments: dict[str, Assignment]  # by folder name, sorted

    # -- where things are -------------------------------------------------------------------------------
    def hidden_tests(self, a: Assignment) -> Path:
        return self.root / "hidden" / f"test_{a.name}.py"

    def solutions(self, a: Assignment) -> Path:
        return self.root / "solutions" / f"{a.stem}.py"

    def catalog(self, a: Assignment) -> Path:
        return self.root / "catalog" / f"{a.stem}.py"

    def release(self, a: Assignment) -> Path:
        return self.root / "release" / a.name

    def source(self, a: Assignment) -> Path:
        return self.root / "source" / a.name

    def private_paths(self) -> list[Path]:
        """What a submission must never see or touch (the release folder is public)."""
        return [self.root / name for name in PRIVATE if (self.root / name).exists()]

    # -- looking up ---------------------------------------------------------------------------------------
    def find(self, name: str) -> Assignment | None:
        """An assignment by folder name (``02_linear_regression``), notebook stem or notebook file name."""
        for a in self.assignments.values():
            if name in (a.name, a.stem, a.notebook):
                return a
        return None

    def of_blank(self, blank: str) -> Assignment:
        for a in self.assignments.values():
            if blank in a.blanks:
                return a
        raise KeyError(f"no assignment of the course in {self.root} has a blank named {blank!r}")

    def instructor_cells(self, a: Assignment) -> frozenset[str]:
        """The sources of the release notebook's own checking cells (nbgrader test cells, self-check cells): a
        submission's copy of one is not run when grading (it would only check the student's work again)."""
        return _instructor_cells(self.release(a) / a.notebook)

    def data_files(self, a: Assignment, max_bytes: int = 16 << 20) -> dict[str, bytes]:
        """The files released beside the notebook (data sets), which every submission's folder gets."""
        folder = self.release(a)
        return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
                if p.is_file() and p.suffix != ".ipynb" and not p.name.startswith(".")
                and p.stat().st_size < max_bytes}

    # -- the secret -----------------------------------------------------------------------------------------
    def secret(self, given: str | None = None) -> str:
        """The course secret: ``given``, else $AUTOGRADER_SECRET, else the course's own secret file."""
        if given:
            return given
        if os.environ.get(SECRET_ENV):
            return os.environ[SECRET_ENV]
        path = self.root / SECRET_FILE
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            value = path.read_text(encoding="utf-8").strip()
            if not value:
                raise CourseError(f"{path} is empty: delete it (a new secret is made) or write the course secret "
                                  f"in it") from None
            return value
        except OSError as error:
            raise CourseError(f"cannot create the course secret {path} ({error.strerror}): set "
                              f"{SECRET_ENV} or pass --secret") from None
        value = secrets.token_urlsafe(32)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(value + "\n")
        # said once, when made (the file exists from now on): losing it silently would change every later grade
        print(f"created the course secret {path}: every hidden input is drawn from it, so keep it (and back it up); "
              f"grades drawn later with another secret use other inputs", file=sys.stderr, flush=True)
        return value

    @classmethod
    def load(cls, root: str | os.PathLike, fresh: bool = False) -> "Course":
        """The course at ``root`` (cached: a course does not change while it is graded; ``fresh`` reads it again,
        after an assignment was added or rebuilt)."""
        if fresh:
            _load.cache_clear()
            _instructor_cells.cache_clear()
        return _load(Path(root).resolve())


@functools.lru_cache(maxsize=8)
def _load(root: Path) -> Course:
    release = root / "release"
    if not release.is_dir():
        raise CourseError(f"{root} is not a course directory (it has no release/ folder); pass --course DIR "
                          f"or set {COURSE_ENV}")
    assignments = {}
    for folder in sorted(p for p in release.iterdir() if p.is_dir() and not p.name.startswith(".")):
        notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
        if len(notebooks) != 1:
            continue  # not an assignment folder
        assignments[folder.name] = Assignment(folder.name, notebooks[0].stem, _blanks(notebooks[0]))
    if not assignments:
        raise CourseError(f"{root}: release/ holds no assignment (a folder with one notebook)")
    return Course(root, assignments)


def read_assignment(folder: Path) -> Assignment:
    """The assignment whose notebook is the only one in ``folder`` (a release or a source folder)."""
    notebooks = sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("."))
    if len(notebooks) != 1:
        raise CourseError(f"{folder}: expected one notebook, found {len(notebooks)}")
    return Assignment(folder.name, notebooks[0].stem, _blanks(notebooks[0]))


def _blanks(notebook: Path) -> dict[str, float]:
    """A release notebook's blanks: its nbgrader solution cells, each worth the points of its ``test_<blank>``."""
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CourseError(f"{notebook}: not a readable notebook ({error})") from None
    meta = [c.get("metadata", {}).get("nbgrader", {}) for c in cells if isinstance(c, dict)]
    points = {m["grade_id"]: float(m.get("points", 0)) for m in meta if m.get("grade") and m.get("grade_id")}
    blanks = {}
    for m in meta:
        if m.get("solution") and m.get("grade_id"):
            blank = m["grade_id"]
            if f"test_{blank}" not in points:
                raise CourseError(f"{notebook}: blank {blank!r} has no hidden test cell test_{blank} with its points")
            blanks[blank] = points[f"test_{blank}"]
    return blanks


@functools.lru_cache(maxsize=64)
def _instructor_cells(notebook: Path) -> frozenset[str]:
    try:
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()
    found = set()
    for cell in cells:
        meta = cell.get("metadata", {}).get("nbgrader", {}) if isinstance(cell, dict) else {}
        if cell.get("cell_type") == "code" and not meta.get("solution") and (
                meta.get("grade") or str(meta.get("grade_id", "")).startswith("check_")):
            source = cell.get("source", "")
            found.add(("".join(source) if isinstance(source, list) else str(source)).strip())
    return frozenset(found)


def _is_course(folder: Path) -> bool:
    return (folder / "release").is_dir() and (folder / "hidden").is_dir()


def locate(given: str | os.PathLike | None = None) -> Course:
    """The course to grade with: ``given`` (``--course``), else $AUTOGRADER_COURSE, else the working folder or
    one above it, else the checkout this package was installed from (``pip install -e``)."""
    if given is not None or os.environ.get(COURSE_ENV):
        root = Path(given if given is not None else os.environ[COURSE_ENV])
        if not root.is_dir():
            raise CourseError(f"{root}: no such course directory")
        if not _is_course(root):
            raise CourseError(f"{root} is not a course directory (expected release/ and hidden/ in it)")
        return Course.load(root)
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if _is_course(folder):
            return Course.load(folder)
    checkout = Path(__file__).resolve().parents[2]  # autograder/grading/course.py -> the checkout
    if _is_course(checkout):
        return Course.load(checkout)
    raise CourseError(f"no course directory here: pass --course DIR (a folder with release/ and hidden/) "
                      f"or set {COURSE_ENV}")
