"""``python -m autograder build [ASSIGNMENT...]``: what students receive, made from the course's source.

For each assignment: the self-check data of its declared blanks (``source/<assignment>/<stem>_selfcheck.json``: the
reference's results on fixed examples as numbers, see :mod:`autograder.selfcheck.declared`), then the release folder
with the real ``nbgrader generate_assignment`` (run in a scratch copy of the course, so its gradebook and logs never
land in the course), which copies the source folder's files (data, self-checks) beside the student notebook.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import torch

from autograder.authoring.declarations import (
    BackwardPasses, Blank, Draw, Gradients, InPlace, Leaves, PythonFloat, ReturnsArgument, Unchanged,
)
from autograder.authoring.generate import _copy, declared, random_state, reference_signature
from autograder.grading.course import Assignment, Course
from autograder.selfcheck.values import encode

PUBLIC_SEED = 20240601  # the self-check's examples: the same for every student, and shown to them
IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", "*.pt")


class BuildError(Exception):
    """The course cannot be built; one line saying why."""


def load_module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None or not path.exists():
        raise BuildError(f"{path}: not found")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def hidden_module(course: Course, assignment: Assignment) -> ModuleType:
    return load_module(course.hidden_tests(assignment), f"_hidden_{assignment.stem}")


def source_dir(course: Course, assignment: Assignment) -> Path:
    return course.root / "source" / assignment.name


def selfcheck_file(course: Course, assignment: Assignment) -> Path:
    return source_dir(course, assignment) / f"{assignment.stem}_selfcheck.json"


# -- the self-check data ---------------------------------------------------------------------------------------

def selfcheck_data(course: Course, assignment: Assignment) -> dict[str, Any] | None:
    """The self-check data of the assignment's declared blanks, or None when it declares none."""
    module = hidden_module(course, assignment)
    blanks = declared(module)
    if not blanks:
        return None
    reference = load_module(course.solutions(assignment), f"_reference_{assignment.stem}")
    return {"assignment": assignment.name, "made_by": "python -m autograder build",
            "blanks": {b.name: blank_data(b, reference, reference_signature(module.__file__, assignment.name, b))
                       for b in blanks}}


def blank_data(blank: Blank, ref: ModuleType, names: list[str]) -> dict[str, Any]:
    g = Draw(torch.Generator().manual_seed(PUBLIC_SEED))
    data: dict[str, Any] = {"name": blank.name, "arguments": names, "rtol": blank.rtol, "atol": blank.atol,
                            "forbidden": list(blank.forbidden), "errors": [list(e) for e in blank.errors.items()]}
    target: Callable[..., Any] = getattr(ref, blank.name)
    if blank.is_class:
        ctor = list(blank.build(g))
        module = target(*ctor)
        state = random_state(module, g)
        data["class"] = {"build": encode(ctor), "state": encode(state)}
        target = module
        arguments = [list(gen(g, *ctor)) for gen in blank.typical.values()]
    else:
        arguments = [list(a) for a in blank.examples] if blank.examples else \
            [list(gen(g)) for gen in blank.typical.values()]
    data["examples"] = [example(blank, target, args) for args in arguments]
    data["properties"] = [rule_data(blank, target, prop, arguments[0], g, names) for prop in blank.properties]
    return data


def example(blank: Blank, target: Callable[..., Any], args: list[Any]) -> dict[str, Any]:
    copies = [_copy(a) for a in args]
    with torch.no_grad() if blank.is_class else _nothing():
        expected = target(*copies)
    mistakes = []
    for m in blank.mistakes:
        try:
            value = m.computes(target, *[_copy(a) for a in args]) if blank.is_class else \
                m.computes(*[_copy(a) for a in args])
            mistakes.append([m.hint, encode(value)])
        except (TypeError, ValueError, RuntimeError):  # a mistake that cannot run on this example: no hint here
            continue
    in_place = [p.index for p in blank.properties if isinstance(p, InPlace)]
    return {"args": encode(args), "expected": encode(expected), "mistakes": mistakes,
            "after": {str(i): encode(copies[i]) for i in (*blank.trains, *in_place)}}


def rule_data(blank: Blank, target: Callable[..., Any], prop: Any, args: list[Any], g: Draw,
              names: list[str]) -> dict[str, Any]:
    title = prop.title(names).data()  # translated by the student's engine catalogue
    tensors = [i for i, a in enumerate(args) if isinstance(a, torch.Tensor)]
    if isinstance(prop, Unchanged):
        return {"kind": "unchanged", "indexes": list(prop.indexes or tensors), "title": title}
    if isinstance(prop, ReturnsArgument):
        return {"kind": "returns", "index": prop.index, "title": title}
    if isinstance(prop, InPlace):
        return {"kind": "inplace", "index": prop.index, "title": title}
    if isinstance(prop, BackwardPasses):
        return {"kind": "backward", "count": prop.expected(args), "title": title}
    if isinstance(prop, PythonFloat):
        return {"kind": "float", "title": title}
    if isinstance(prop, Leaves):
        return {"kind": "leaves", "indexes": list(prop.indexes), "title": title}
    if isinstance(prop, Gradients):
        if blank.is_class:
            params = dict(target.named_parameters())
            output = target(*[_copy(a) for a in args])
            inputs = params
        else:
            copies = [a.detach().clone().requires_grad_(True) if i in prop.indexes else _copy(a)
                      for i, a in enumerate(args)]
            output = target(*copies)
            inputs = {str(i): copies[i] for i in prop.indexes}
        upstream = g.randn(*output.shape) + (2.0 if output.dim() == 0 else 0.0)
        grads = torch.autograd.grad(output, list(inputs.values()), grad_outputs=upstream)
        return {"kind": "gradients", "upstream": encode(upstream), "title": title,
                "expected": {k: encode(v) for k, v in zip(inputs, grads)}}
    raise BuildError(f"{blank.name}: the self-check cannot check {type(prop).__name__}")


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def write_selfcheck(course: Course, assignment: Assignment) -> Path | None:
    """Write (or remove, when nothing is declared) the assignment's ``<stem>_selfcheck.json`` in source/."""
    data = selfcheck_data(course, assignment)
    path = selfcheck_file(course, assignment)
    if data is None:
        path.unlink(missing_ok=True)
        return None
    path.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


# -- the release -----------------------------------------------------------------------------------------------

def with_source(course: Course) -> list[str]:
    """The assignments (in course order) that have a source folder holding one notebook."""
    source = course.root / "source"
    return sorted(p.name for p in source.iterdir() if p.is_dir() and len(list(p.glob("*.ipynb"))) == 1) \
        if source.is_dir() else []


def nbgrader_env() -> dict[str, str]:
    """This interpreter's bin/ first on PATH (nbgrader runs `alembic`)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate_release(course_root: Path, names: list[str], out: Path, language: str = "en") -> None:
    """``nbgrader generate_assignment`` of ``names`` from ``course_root/source`` into ``out/<name>``; in another
    ``language`` than English, from the source notebooks translated by the course's catalogue (their text; the
    code, the names and the blanks as they are), with the catalogue beside each notebook (for its self-checks)."""
    with tempfile.TemporaryDirectory(prefix="autograder-build-") as tmp:
        scratch = Path(tmp)
        shutil.copy2(course_root / "nbgrader_config.py", scratch / "nbgrader_config.py")
        for name in names:
            shutil.copytree(course_root / "source" / name, scratch / "source" / name, ignore=IGNORE)
            if language != "en":
                translated(course_root, scratch / "source" / name, language)
        done = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--force"],
                              cwd=scratch, env=nbgrader_env(), capture_output=True, text=True)
        missing = [n for n in names if not list((scratch / "release" / n).glob("*.ipynb"))]
        if done.returncode != 0 or missing:
            log = (done.stdout + done.stderr).strip().splitlines()
            raise BuildError(f"nbgrader generate_assignment failed for {', '.join(missing) or 'the course'}: "
                             f"{log[-1] if log else 'no output'}")
        for name in names:
            target = out / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(scratch / "release" / name, target, ignore=IGNORE)


def translated(course_root: Path, folder: Path, language: str) -> None:
    """The source folder (a scratch copy) in ``language``: its notebook's text through the course's catalogue, and
    the catalogue itself beside it."""
    from autograder.authoring.catalogues import translate_notebook
    from autograder.i18n import course_text, use_language

    catalogue = course_root / "locale" / language / "LC_MESSAGES" / "course.po"
    if not catalogue.is_file():
        raise BuildError(f"{catalogue} is missing: run `python -m autograder i18n extract --language {language}` and "
                         f"translate it")
    (folder / "locale" / language / "LC_MESSAGES").mkdir(parents=True, exist_ok=True)
    shutil.copy2(catalogue, folder / "locale" / language / "LC_MESSAGES" / "course.po")
    for notebook in folder.glob("*.ipynb"):
        data = json.loads(notebook.read_text(encoding="utf-8"))
        with use_language(language, course_root):
            data["cells"] = translate_notebook(data["cells"], course_text)
        notebook.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def build(course: Course, names: list[str] | None = None, out: Path | None = None,
          say: Callable[[str], None] = print, language: str | None = None) -> list[str]:
    """Self-check data, then release folders, of ``names`` (default: every assignment with a source notebook), in
    ``language`` (default: the course's)."""
    from autograder.i18n import course_language

    language = language or course_language(course.root)
    known = with_source(course)
    names = known if not names else names
    unknown = [n for n in names if n not in known]
    if unknown:
        raise BuildError(f"no source/{unknown[0]}/ with one notebook; assignments with a source: "
                         f"{', '.join(known) or 'none'}")
    for name in names:
        assignment = course.assignments.get(name) or _from_source(course, name)
        written = write_selfcheck(course, assignment)
        if written:
            say(f"{name}: self-check data {written.relative_to(course.root)}")
    generate_release(course.root, names, out or course.root / "release", language)
    say(f"{len(names)} release folder(s) generated in {out or course.root / 'release'}")
    return names


def _from_source(course: Course, name: str) -> Assignment:
    """An assignment that has no release folder yet (its first build): read from its source notebook."""
    from autograder.grading.course import read_assignment

    return read_assignment(course.root / "source" / name)
