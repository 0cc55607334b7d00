"""The proofs check-course runs (see :mod:`autograder.authoring.check_course` for what each one proves)."""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable

import nbformat

from autograder.authoring.answers import TRIVIAL, mutant_cell, trivial_cell
from autograder.authoring.check_course import MutationRow, canonical, environment, relative, scratch
from autograder.authoring.fill import filled_release, release_notebook, write
from autograder.authoring.markers import Finding
from autograder.grading.course import Assignment, Course


# -- the hidden tests, in this process --------------------------------------------------------------------------
def in_process(course: Course, a: Assignment, namespace: dict[str, Any], secret: str, only_blank: str | None = None,
               record: list | None = None) -> tuple[list[Any], list[str]]:
    """The hidden tests of ``a`` run on ``namespace`` in this process (the instructor's own code): their results
    and the internal errors; ``record`` gets every call's result and arguments after it, in order."""
    from autograder.grading.plugin import Entry, GradingPlugin, run_pytest
    from autograder.grading.submission import InProcess, Submission

    class Recording(Submission):
        def run(self, target, *args, **kwargs):  # type: ignore[no-untyped-def]
            result = super().run(target, *args, **kwargs)
            if record is not None:
                record.append((result.value, result.args, result.grads))
            return result

    entry = Entry("in-process", a.name, lambda: Recording(lambda: InProcess(namespace), cells=[]))
    plugin = GradingPlugin(course, [entry], secret, only_blank=only_blank)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code = run_pytest([a], plugin)
    errors = plugin.internal_errors + ([f"pytest exited with code {code}"] if code not in (0, 1) else [])
    return plugin.final_results("in-process"), errors


def reference_namespace(course: Course, a: Assignment) -> dict[str, Any]:
    from autograder.authoring.catalog import reference_namespace as namespace_of
    from autograder.grading.plugin import load_reference

    return namespace_of(load_reference(course, a))


def test_findings(course: Course, a: Assignment, secret: str) -> list[Finding]:
    """Every blank has a value test, its tests' points add up to its test cell's, and the tests judge blanks the
    notebook has (the hidden tests collected and run on the reference in this process)."""
    hidden = relative(course, course.hidden_tests(a))
    if not course.hidden_tests(a).is_file():
        return [Finding(hidden, "", "missing: the assignment has no hidden tests")]
    results, errors = in_process(course, a, reference_namespace(course, a), secret)
    found = [Finding(hidden, "", f"the hidden tests cannot run on the reference: {e}") for e in errors[:5]]
    points: dict[str, float] = {}
    kinds: dict[str, set[str]] = {}
    for r in results:
        points[r.blank] = points.get(r.blank, 0.0) + r.max_score
        kinds.setdefault(r.blank, set()).add(r.kind)
    for blank, declared in a.blanks.items():
        if "value" not in kinds.get(blank, set()):
            found.append(Finding(hidden, "", f"blank {blank!r} has no value test: nothing compares what it computes"))
        if abs(points.get(blank, 0.0) - declared) > 1e-6:
            found.append(Finding(hidden, "", f"the tests of {blank!r} give {points.get(blank, 0.0):g} points, its "
                                             f"test cell test_{blank} {declared:g}"))
    for blank in sorted(set(points) - set(a.blanks)):
        found.append(Finding(hidden, "", f"tests judge {blank!r}, which is not a blank of {a.notebook}"))
    return found


# -- the self-checks -----------------------------------------------------------------------------------------------
def release_stubs(course: Course, a: Assignment) -> dict[str, Any]:
    """The untouched release's blanks, defined as a student's kernel would define them."""
    import numpy as np
    import torch
    from torch import nn

    from autograder.authoring.fill import grade_id

    namespace: dict[str, Any] = {"torch": torch, "nn": nn, "np": np, "__name__": "__main__"}
    for cell in release_notebook(course, a).cells:
        if grade_id(cell) in a.blanks:
            exec(compile(cell.source, f"<release {grade_id(cell)}>", "exec"), namespace)
    return namespace


def selfcheck_findings(course: Course, a: Assignment) -> list[Finding]:
    """The self-checks, as students find them beside the release notebook: they pass the reference and fail the
    untouched release."""
    from autograder import selfcheck

    where = relative(course, course.release(a))
    reference, stubs = reference_namespace(course, a), release_stubs(course, a)
    found = []
    with environment(**{selfcheck.PATH_ENV: str(course.release(a))}):
        for blank in a.blanks:
            try:
                passing = selfcheck.run_checks(reference[blank], blank)
                untouched = selfcheck.run_checks(stubs[blank], blank)
            except (ValueError, KeyError) as error:
                found.append(Finding(where, "", f"no self-check for {blank!r} ({error})"))
                continue
            failing = [f"{what}: {why}" for ok, what, why in passing.lines if not ok]
            if failing:
                found.append(Finding(where, "", f"the self-check of {blank!r} fails the reference: {failing[0]}"))
            if untouched.passed:
                found.append(Finding(where, "", f"the self-check of {blank!r} passes the untouched release"))
    return found


def fresh_findings(course: Course, assignments: list[Assignment]) -> list[Finding]:
    """The self-check data and the release folders are what ``build`` makes from source/ now."""
    from autograder.authoring.build import generate_release, selfcheck_data, selfcheck_file

    found = []
    for a in assignments:
        data, path = selfcheck_data(course, a), selfcheck_file(course, a)
        import json

        written = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
        if data != written:
            found.append(Finding(relative(course, path), "", "is not what the declarations and the reference make "
                                                            f"now: run `python -m autograder build {a.name}`"))
    with scratch() as tmp:
        generate_release(course.root, [a.name for a in assignments], Path(tmp))
        for a in assignments:
            if _release_view(Path(tmp) / a.name) != _release_view(course.release(a)):
                found.append(Finding(relative(course, course.release(a)), "", "is not what nbgrader generates from "
                                     f"source/ now: run `python -m autograder build {a.name}`"))
    return found


def _release_view(folder: Path) -> dict[str, Any]:
    """What matters of a release folder: each notebook's cells (type, source, nbgrader metadata), other files' bytes."""
    view: dict[str, Any] = {}
    for path in sorted(folder.iterdir()) if folder.is_dir() else []:
        if path.suffix == ".ipynb":
            nb = nbformat.read(path, as_version=4)
            view[path.name] = [(c.cell_type, c.source, c.get("metadata", {}).get("nbgrader")) for c in nb.cells]
        elif path.is_file():
            view[path.name] = path.read_bytes()
    return view


# -- graded for real --------------------------------------------------------------------------------------------------
def grade(course: Course, notebooks: dict[str, tuple[Assignment, Any, str | None]], secret: str, jobs: int,
          reverse: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Grade notebooks (student -> (assignment, notebook, the one blank to test or None)) with the sandboxed grader;
    the results by student, and what could not be graded."""
    from autograder.grading.discover import find_jobs
    from autograder.grading.runner import Graded, Problem, Settings
    from autograder.grading.workers import grade_parallel

    with scratch() as tmp:
        root = Path(tmp) / "submitted"
        for student, (a, nb, _) in notebooks.items():
            write(nb, root / student / a.name / a.notebook)
        found = find_jobs(course, [root])
        only = {job.key: notebooks[job.student][2] for job in found if notebooks[job.student][2]}
        settings = Settings(course=course, secret=secret, hide=[Path(tmp), course.root], curves=False, only=only,
                            reverse=reverse)
        results, problems = {}, []
        for event in grade_parallel(found, settings, min(jobs, max(1, len(found)))):
            if isinstance(event, Graded):
                results[event.result.student] = event.result
            elif isinstance(event, Problem):
                problems.append(event.text.splitlines()[0] if event.text else "unknown problem")
    return results, problems


def graded_findings(course: Course, assignments: list[Assignment], secret: str, jobs: int) -> list[Finding]:
    notebooks: dict[str, tuple[Assignment, Any, str | None]] = {}
    for a in assignments:
        notebooks[f"reference-{a.name}"] = (a, filled_release(course, a), None)
        notebooks[f"untouched-{a.name}"] = (a, release_notebook(course, a), None)
        for blank in a.blanks:
            for i, kind in enumerate(TRIVIAL):
                cell = trivial_cell(course.solutions(a), blank, kind)
                notebooks[f"trivial{i}-{blank}"] = (a, filled_release(course, a, {blank: cell}), blank)
    first, problems = grade(course, notebooks, secret, jobs)
    again, more = grade(course, notebooks, secret, 1, reverse=True)
    found = [Finding("hidden/", "", f"the grader could not grade: {p}") for p in sorted(set(problems + more))[:5]]
    for student, (a, _, blank) in notebooks.items():
        where = relative(course, course.hidden_tests(a))
        result = first.get(student)
        if result is None:
            found.append(Finding(where, "", f"{student} was not graded"))
            continue
        marks = result.by_blank()
        if student.startswith("reference-"):
            short = [f"{b} {got:g}/{of:g}" for b, (got, of) in marks.items() if got < of]
            if short or set(marks) != set(a.blanks):
                failing = [f"{t.name}: {t.output.splitlines()[0]}" for t in result.tests if t.score < t.max_score]
                found.append(Finding(where, "", f"the reference does not earn full marks: {', '.join(short)}"
                                                + (f" ({failing[0]})" if failing else "")))
        elif student.startswith("untouched-") and result.score > 0:
            found.append(Finding(where, "", f"the untouched release earns {result.score:g}"))
        elif blank is not None and marks.get(blank, (0.0, 0.0))[0] > 0:
            kind = list(TRIVIAL)[int(student[len("trivial"):].split("-")[0])]
            passing = [t.name for t in result.tests if t.blank == blank and t.score > 0]
            found.append(Finding(where, "", f"an answer to {blank!r} that returns {kind} earns "
                                            f"{marks[blank][0]:g} of {marks[blank][1]:g} ({passing[0]})"))
        if student in again and canonical(again[student]) != canonical(result):
            found.append(Finding(where, "", f"{student}'s grades change with the order of the tests or --jobs"))
    return found


# -- the mutation audit -----------------------------------------------------------------------------------------------
def mutation_audit(course: Course, assignments: list[Assignment], secret: str, jobs: int, per_blank: int,
                   say: Callable[[str], None]) -> tuple[dict[str, MutationRow], list[Finding]]:
    from autograder.authoring.mutation import definition, mutants, sample

    notebooks, made = {}, {}
    for a in assignments:
        module = course.solutions(a).read_text(encoding="utf-8")
        for blank in a.blanks:
            ms = mutants(blank, definition(module, blank))
            for i, m in enumerate(sample(ms, per_blank) if per_blank else ms):
                student = f"mutant-{blank}-{i:03d}"
                made[student] = (a, m)
                notebooks[student] = (a, filled_release(course, a, {blank: mutant_cell(course.solutions(a), m.source)}),
                                      blank)
    say(f"the mutation audit: {len(notebooks)} mutants, graded for real")
    results, problems = grade(course, notebooks, secret, jobs)
    rows: dict[str, MutationRow] = {}
    found = [Finding("hidden/", "", f"the grader could not grade a mutant: {p}") for p in sorted(set(problems))[:5]]
    references: dict[str, list] = {}
    for student, (a, m) in made.items():
        row = rows.setdefault(m.blank, MutationRow(m.blank))
        result = results.get(student)
        if result is None:
            continue
        got, of = result.by_blank().get(m.blank, (0.0, 0.0))
        row.mutants += 1
        if got < of:
            row.killed += 1
            row.kept.append(got / of if of else 0.0)
            continue
        equivalent = equivalent_on_hidden_inputs(course, a, m, secret, references)
        row.survivors.append((m, equivalent))
        if not equivalent:
            original = definition(course.solutions(a).read_text(encoding="utf-8"), m.blank)
            found.append(Finding(relative(course, course.hidden_tests(a)), "",
                                 f"a mutant of {m.blank} keeps full marks ({m.what}):\n{m.diff(original)}"))
    return rows, found


def equivalent_on_hidden_inputs(course: Course, a: Assignment, mutant: Any, secret: str,
                                references: dict[str, list]) -> bool:
    """Whether the mutant gives exactly the reference's results (values, arguments after the call, gradients) on
    every call the blank's hidden tests make, run in this process on the same inputs."""
    from autograder.authoring.catalog import Variant, variant_namespace
    from autograder.grading.plugin import load_reference

    reference = load_reference(course, a)
    if mutant.blank not in references:
        references[mutant.blank] = []
        in_process(course, a, reference_namespace(course, a), secret, mutant.blank, references[mutant.blank])
    calls: list = []
    try:
        namespace = variant_namespace(reference, Variant(mutant.blank, mutant.what, mutant.source))
        in_process(course, a, namespace, secret, mutant.blank, calls)
    except Exception:  # noqa: BLE001 - a mutant that cannot even run here is not equivalent
        return False
    return len(calls) == len(references[mutant.blank]) and all(
        _same(x, y) for x, y in zip(calls, references[mutant.blank]))


def _same(a: Any, b: Any) -> bool:
    import torch

    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a, b))
    if type(a).__name__ == "ndarray" and type(b).__name__ == "ndarray":
        import numpy as np

        return a.dtype == b.dtype and bool(np.array_equal(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "state") and hasattr(b, "state"):  # a module as the sandbox described it
        return _same(a.state, b.state) and a.tree == b.tree
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001
        return False
