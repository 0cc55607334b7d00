"""Build examples/submitted/: per assignment, three students in nbgrader's submitted layout.

- alice: every blank solved with the reference code;
- bob: every other blank replaced by a mistake from the catalog (so his marks are partial, with hints);
- carol: the untouched release notebook.
"""
from __future__ import annotations

import shutil
import sys

from autograder.authoring.catalog import load_catalog
from autograder.grading.course import locate
from autograder.authoring.fill import filled_release, release_notebook, write

COURSE = locate()
OUT = COURSE.root / "examples" / "submitted"


def bob_overrides(assignment) -> dict[str, str]:
    catalog = load_catalog(COURSE, assignment)
    if catalog is None:
        return {}
    blanks = list(assignment.blanks)[::2]
    first = {}
    for mistake in catalog.MISTAKES:
        if mistake.blank in blanks and mistake.blank not in first:
            first[mistake.blank] = mistake.code
    return first


def main() -> int:
    if OUT.exists():
        shutil.rmtree(OUT)
    for a in COURSE.assignments.values():
        write(filled_release(COURSE, a), OUT / "alice" / a.name / a.notebook)
        write(filled_release(COURSE, a, bob_overrides(a)), OUT / "bob" / a.name / a.notebook)
        write(release_notebook(COURSE, a), OUT / "carol" / a.name / a.notebook)
    print(f"wrote {OUT.relative_to(COURSE.root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
