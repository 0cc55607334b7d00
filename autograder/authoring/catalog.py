"""Catalogs of student answers, per blank: correct variants that must earn full marks, and real mistakes
that must lose marks with the intended hint. They live in ``catalog/<notebook stem>.py`` as two lists,
``CORRECT`` and ``MISTAKES``, of :class:`Variant`; the test suite and ``python -m autograder audit`` grade
every entry with the real grader.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from autograder.grading.course import Assignment, Course


@dataclass(frozen=True)
class Variant:
    """A way of writing ``blank``: ``code`` replaces the blank's whole cell (a def or class)."""

    blank: str
    name: str
    code: str
    hint: str | None = None  # for mistakes: a substring the feedback must contain (case-insensitive)


def load_catalog(course: Course, assignment: Assignment, folder: Path | None = None) -> ModuleType | None:
    """``catalog/<stem>.py`` of the course, or of another catalog ``folder`` laid out the same way."""
    path = course.catalog(assignment) if folder is None else folder / f"{assignment.stem}.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"_catalog_{assignment.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def reference_namespace(reference: ModuleType) -> dict[str, Any]:
    """The reference solutions as a notebook's globals would hold them."""
    namespace = {k: v for k, v in vars(reference).items() if not k.startswith("__")}
    namespace["__name__"] = "__main__"
    return namespace


def variant_namespace(reference: ModuleType, variant: Variant) -> dict[str, Any]:
    """The reference solutions with ``variant`` written over its blank, as a notebook's globals would be."""
    namespace = reference_namespace(reference)
    exec(compile(variant.code, f"<{variant.blank}: {variant.name}>", "exec"), namespace)
    return namespace
