"""``python -m autograder new NAME``: a new assignment in the course directory that builds, grades and proves itself.

It writes three files, each the instructor's to rewrite:

    source/NAME/<stem>.ipynb     the notebook, with one blank in nbgrader's format (solution cell with its markers,
                                 the student's self-check cell, the test cell with its points)
    solutions/<stem>.py          the reference solution of the blank
    hidden/test_NAME.py          the blank's declaration (autograder.authoring.declarations): inputs, edge cases, rules,
                                 banned functions, a known mistake

then builds it (``python -m autograder build NAME``: the self-check data and the release folder), so that
``python -m autograder check-course NAME`` passes at once. ``<stem>`` is NAME without a leading number
(``07_activations`` -> ``activations``).
"""
from __future__ import annotations

import keyword
import re
import textwrap
from pathlib import Path
from typing import Callable

import nbformat

from autograder.authoring.build import BuildError, build
from autograder.grading.course import Course

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
BLANK = "clip_below"
POINTS = 2


def stem_of(name: str) -> str:
    stem = re.sub(r"^\d+[_-]+", "", name).replace("-", "_").lower()
    if not stem.isidentifier() or keyword.iskeyword(stem):
        raise BuildError(f"{name!r}: the notebook and solution module are named after it without its number, and "
                         f"{stem!r} is not a Python name; choose a name like 07_activations")
    return stem


def _cell(kind: str, source: str, **nbgrader: object) -> nbformat.NotebookNode:
    make = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
    cell = make(textwrap.dedent(source).strip("\n"))
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "grade": False, "solution": False, "locked": False,
                                     **nbgrader}
    return cell


def notebook(name: str, blank: str = BLANK) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python", "version": "3.11"}
    nb.cells = [
        _cell("markdown", f"""
            # {name}

            Replace this introduction. Each exercise is a cell marked `# YOUR CODE HERE`; the cell under it checks
            your answer (`check(...)`) and says what is wrong. The hidden tests decide the marks when you submit.
            """),
        _cell("code", """
            import torch

            torch.manual_seed(0)
            """),
        _cell("markdown", f"""
            ### Exercise 1: `{blank}`

            Write `{blank}(x, floor)`: a tensor of the shape of `x` in which every value below `floor` is replaced by
            `floor` (the others are kept). Write it with `torch.where`; `clamp`, `clip` and `maximum` are not allowed.
            """),
        _cell("code", f"""
            def {blank}(x, floor):
                ### BEGIN SOLUTION
                return torch.where(x < floor, torch.full_like(x, floor), x)
                ### END SOLUTION
            """, grade_id=blank, solution=True),
        _cell("code", f"""
            from autograder.selfcheck import check
            check({blank})
            """, grade_id=f"check_{blank}", locked=True),
        _cell("code", f"""
            # Self-checks of {blank}, for Validate (it fails while one fails).
            # Hidden tests run when your submission is graded.
            from autograder.selfcheck import require
            require({blank})
            ### BEGIN HIDDEN TESTS
            from autograder.platforms.nbgrader_hidden import grade_blank
            grade_blank("{blank}", globals())
            ### END HIDDEN TESTS
            """, grade_id=f"test_{blank}", grade=True, locked=True, points=POINTS),
    ]
    return nb


def solution(name: str, blank: str = BLANK) -> str:
    return textwrap.dedent(f'''\
        """Reference solutions for {name}."""
        import torch


        def {blank}(x, floor):
            return torch.where(x < floor, torch.full_like(x, floor), x)
        ''')


def declaration(name: str, blank: str = BLANK) -> str:
    return textwrap.dedent(f'''\
        """Hidden tests of {name}: what each blank is checked on (the authoring guide: docs/authoring.md).

        Each blank is declared once; `declare` makes its hidden tests (fresh inputs from the course secret, compared
        with solutions/) and `python -m autograder build` its self-check. Plain pytest tests may follow.
        """
        import torch

        from autograder.authoring import Blank, Gradients, Mistake, Unchanged, declare

        ASSIGNMENT = "{name}"

        {blank} = Blank(
            "{blank}", points={POINTS},
            typical={{
                "a matrix": lambda g: [g.randn(4, 5), g.uniform(-0.5, 0.5)],
                "a 3-D tensor": lambda g: [g.randn(2, 3, 4, scale=2.0), g.uniform(-1.0, 1.0)],
            }},
            edges={{
                "every value below the floor": lambda g: [g.randn(6) - 10.0, g.uniform(-1.0, 1.0)],
                "one element": lambda g: [g.randn(1), 0.0],
            }},
            properties=[Unchanged(0), Gradients(0)],
            forbidden=["clamp", "clip", "clamp_min", "maximum"],
            mistakes=[
                Mistake("the values above the floor changed too: only values below it are replaced.",
                        lambda x, floor: torch.full_like(x, floor)),
                Mistake("the comparison is the wrong way round: values *below* the floor are replaced.",
                        lambda x, floor: torch.where(x > floor, torch.full_like(x, floor), x)),
            ],
        )

        declare(globals(), {blank})
        ''')


def scaffold(root: Path, name: str, say: Callable[[str], None] = print) -> list[Path]:
    """Write the new assignment's three files into the course at ``root``, build it, and return the paths."""
    if not NAME.match(name):
        raise BuildError(f"{name!r} is not a plain folder name (letters, digits, _ and -, e.g. 07_activations)")
    stem = stem_of(name)
    course = Course.load(root, fresh=True)
    taken = [p for p in (root / "source" / name, root / "release" / name, root / "hidden" / f"test_{name}.py",
                         root / "solutions" / f"{stem}.py") if p.exists()]
    if taken:
        raise BuildError(f"{taken[0]} already exists: choose another name, or remove it first")
    if any(a.stem == stem for a in course.assignments.values()):
        raise BuildError(f"an assignment with notebook {stem}.ipynb exists already: choose another name")
    files = {
        root / "source" / name / f"{stem}.ipynb": nbformat.writes(notebook(name)) + "\n",
        root / "solutions" / f"{stem}.py": solution(name),
        root / "hidden" / f"test_{name}.py": declaration(name),
    }
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        say(f"wrote {path.relative_to(root)}")
    build(Course.load(root, fresh=True), [name], say=say)
    Course.load(root, fresh=True)
    return list(files)
