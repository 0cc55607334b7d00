"""Gradescope: the autograder bundle an instructor uploads, and grading one submission inside it.

``python -m autograder gradescope ASSIGNMENT --out autograder.zip`` writes, following Gradescope's documented
layout (the zip is unpacked into ``/autograder/source``; ``run_autograder`` is run for every submission, which
lies in ``/autograder/submission``; results go to ``/autograder/results/results.json``)::

    setup.sh           installs Python 3.11, the CPU build of torch (pinned) and the kit's wheel in /autograder/venv
    run_autograder     grades the submission; writes results.json whatever happens
    wheels/*.whl       the kit (the engine and the self-checks), as installed here
    course/            the course content this assignment needs: release/, hidden/, solutions/, the secret
    settings.json      the assignment, and the visibility of the tests' details

``python -m autograder gradescope-run`` is what ``run_autograder`` calls: it finds the notebook in the submission
(none, several, renamed or unreadable notebooks all get a results.json saying what happened) and grades it with
the same engine and isolation as ``python -m autograder grade``.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import tempfile
import zipfile
from pathlib import Path

import autograder
from autograder.grading.course import SECRET_FILE, Assignment, Course
from autograder.grading.discover import Job
from autograder.i18n import _
from autograder.grading.results import NotebookResult, TestResult, write_json

DISTRIBUTION = "torch-course-autograder"
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
TORCH = "torch==2.13.0"

SETUP = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when the autograder is built: Python 3.11, torch (CPU build) and the kit.
# $AUTOGRADER_PYTHON: an interpreter to use instead of /autograder/venv (it must be Python 3.11).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
python="${AUTOGRADER_PYTHON:-}"
if [ -z "$python" ]; then
    base="$(command -v python3.11 || true)"
    if [ -z "$base" ]; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        if ! apt-get install -y -qq python3.11 python3.11-venv; then   # Ubuntu 24.04: not in the archive
            apt-get install -y -qq software-properties-common
            add-apt-repository -y ppa:deadsnakes/ppa
            apt-get update -qq
            apt-get install -y -qq python3.11 python3.11-venv
        fi
        base="$(command -v python3.11)"
    fi
    "$base" -m venv /autograder/venv
    python=/autograder/venv/bin/python
fi
if ! "$python" -c 'import sys, torch; sys.exit(torch.__version__.split("+")[0] != "__TORCH_VERSION__")' 2>/dev/null; then
    "$python" -m pip install --quiet --disable-pip-version-check "__TORCH__" \
        --index-url https://download.pytorch.org/whl/cpu
fi
"$python" -m pip install --quiet --disable-pip-version-check "$here"/wheels/*.whl
echo "$python" > "$here/python"
"$python" -m autograder gradescope-run --check --bundle "$here"
"""

RUN = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission. Whatever happens, /autograder/results/results.json is written.
here=/autograder/source
python="$(cat "$here/python" 2>/dev/null || echo python3)"
"$python" -m autograder gradescope-run --bundle "$here" --submission /autograder/submission \
    --results /autograder/results/results.json
status=$?
if [ ! -s /autograder/results/results.json ]; then
    mkdir -p /autograder/results
    printf '%s\n' '{"score": 0, "output": "The autograder could not run (exit status '"$status"'); this is not your fault: please tell your instructor.", "tests": []}' \
        > /autograder/results/results.json
fi
exit 0
"""


class BundleError(Exception):
    """The bundle cannot be made; one line saying why."""


# -- making the bundle ---------------------------------------------------------------------------------------------
def build_bundle(course: Course, assignment: Assignment, out: Path, visibility: str = "visible",
                 secret: str | None = None, language: str | None = None) -> Path:
    """Write the Gradescope autograder zip for ``assignment`` to ``out``."""
    if visibility not in VISIBILITIES:
        raise BundleError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}")
    for needed in (course.hidden_tests(assignment), course.solutions(assignment)):
        if not needed.is_file():
            raise BundleError(f"{needed} is missing: the bundle needs the hidden tests and solutions of "
                              f"{assignment.name}")
    files: dict[str, bytes] = {
        "setup.sh": SETUP.replace("__TORCH_VERSION__", TORCH.split("==")[1]).replace("__TORCH__", TORCH).encode(),
        "run_autograder": RUN.encode(),
        "settings.json": json.dumps({"assignment": assignment.name, "visibility": visibility}, indent=2).encode(),
        f"course/{SECRET_FILE}": (course.secret(secret) + "\n").encode(),
        f"course/hidden/{course.hidden_tests(assignment).name}": course.hidden_tests(assignment).read_bytes(),
        f"course/solutions/{course.solutions(assignment).name}": course.solutions(assignment).read_bytes(),
    }
    for path in sorted(course.release(assignment).rglob("*")):
        rel = path.relative_to(course.release(assignment))
        if path.is_file() and not any(part.startswith(".") for part in rel.parts):
            files[f"course/release/{assignment.name}/{rel.as_posix()}"] = path.read_bytes()
    for path in sorted((course.root / "locale").rglob("*.po")) if (course.root / "locale").is_dir() else []:
        files[f"course/{path.relative_to(course.root).as_posix()}"] = path.read_bytes()  # what its feedback says
    from autograder.i18n import course_language

    files["course/course.toml"] = f'[course]\nlanguage = "{language or course_language(course.root)}"\n'.encode()
    files.update(_late_rules(course))
    files.update(_marking(course))
    name, wheel = kit_wheel()
    files[f"wheels/{name}"] = wheel
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", delete=False) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for arcname, data in files.items():
                info = zipfile.ZipInfo(arcname, date_time=(2026, 1, 1, 0, 0, 0))
                executable = arcname in ("setup.sh", "run_autograder")
                info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
    os.replace(tmp.name, out)
    return out


def _marking(course: Course) -> dict[str, bytes]:
    """The course's marking.toml (its own numbers of the marking policy), checked now."""
    from autograder.grading.policy import Policy, PolicyError

    path = course.root / "marking.toml"
    if not path.is_file():
        return {}
    try:
        Policy.of_course(course.root)
    except PolicyError as error:
        raise BundleError(str(error)) from None
    return {"course/marking.toml": path.read_bytes()}


def _late_rules(course: Course) -> dict[str, bytes]:
    """The course's late.toml, checked now (a rule that cannot be read is the instructor's error, not a student's)."""
    from autograder.after.late_rules import RULES_FILE, LateRulesError, load_rules

    try:
        rules = load_rules(course.root)
    except LateRulesError as error:
        raise BundleError(str(error)) from None
    return {} if rules is None else {f"course/{RULES_FILE}": rules.path.read_bytes()}


def kit_wheel() -> tuple[str, bytes]:
    """A wheel of the kit as it is installed here (the engine and the self-checks, nothing of the course)."""
    import importlib.metadata  # here: every command imports this module, only bundling needs it (25 ms)

    meta = importlib.metadata.distribution(DISTRIBUTION)
    version = meta.version
    tag = f"{DISTRIBUTION.replace('-', '_')}-{version}"
    package = Path(autograder.__file__).resolve().parent
    entries: dict[str, bytes] = {}
    for path in sorted([*package.rglob("*.py"), *package.rglob("*.po")]):  # the code and its message catalogues
        rel = path.relative_to(package.parent)
        if "__pycache__" not in rel.parts:
            entries[rel.as_posix()] = path.read_bytes()
    info = f"{tag}.dist-info"
    metadata = meta.read_text("METADATA") or meta.read_text("PKG-INFO")  # a wheel's, or a source tree's egg-info
    if not metadata:
        raise BundleError(f"cannot find the installed metadata of {DISTRIBUTION}: reinstall the kit")
    entries[f"{info}/METADATA"] = metadata.encode()
    entries[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: autograder\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries[f"{info}/entry_points.txt"] = (meta.read_text("entry_points.txt") or "").encode()
    entries[f"{info}/top_level.txt"] = b"autograder\n"
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in entries.items()]
    entries[f"{info}/RECORD"] = ("\n".join(record + [f"{info}/RECORD,,"]) + "\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            entry = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(entry, data)
    return f"{tag}-py3-none-any.whl", buffer.getvalue()


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


# -- grading one submission ------------------------------------------------------------------------------------------
def _notebooks(folder: Path) -> list[Path]:
    """The notebooks under ``folder``, shallowest first; symbolic links and hidden folders are not entered."""
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(top, f) for f in sorted(files) if f.endswith(".ipynb") and not f.startswith(".")
                  and not Path(top, f).is_symlink() and Path(top, f).is_file()]
    return sorted(found, key=lambda p: (len(p.relative_to(folder).parts), str(p)))


def find_notebook(submission: Path, assignment: Assignment) -> tuple[Path | None, str]:
    """The notebook to grade in a Gradescope submission folder, and a note for the student about the choice.
    Notebooks at the top of the submission come first (a zip may hold a folder); of several, the one named like
    the release notebook counts, and two of those at the same depth are ambiguous: none is graded."""
    found = _notebooks(submission)
    if not found:
        return None, _("No notebook was found in your submission: upload {notebook} (the release notebook with "
                       "your answers).").format(notebook=assignment.notebook)
    depth = len(found[0].relative_to(submission).parts)
    candidates = [p for p in found if len(p.relative_to(submission).parts) == depth]
    named = [p for p in candidates if p.name == assignment.notebook] or \
        [p for p in found if p.name == assignment.notebook]
    shown = ", ".join(str(p.relative_to(submission)) for p in found[:10])
    if len(found) == 1:
        note = "" if named else _("Your notebook {found} was graded as {notebook}; name it {notebook} next "
                                  "time.").format(found=shown, notebook=assignment.notebook)
        return found[0], note
    if named:
        same_depth = [p for p in named if len(p.relative_to(submission).parts) == len(named[0].relative_to(
            submission).parts)]
        if len(same_depth) > 1:
            return None, _("Your submission has {count} notebooks named {notebook} ({found}): upload only "
                           "one.").format(count=len(same_depth), notebook=assignment.notebook,
                                          found=", ".join(str(p.relative_to(submission)) for p in same_depth))
        others = [str(p.relative_to(submission)) for p in found if p != named[0]]
        return named[0], _("Only {graded} was graded; also found and not graded: {others}.").format(
            graded=named[0].relative_to(submission), others=", ".join(others[:10]))
    return None, _("Your submission has {count} notebooks ({found}) and none is named {notebook}: upload only "
                   "{notebook}.").format(count=len(found), found=shown, notebook=assignment.notebook)


def results_json(result: NotebookResult, visibility: str, note: str = "") -> dict:
    data = result.to_json()
    data["visibility"] = visibility
    for test in data["tests"]:
        test["visibility"] = visibility
    late = (data.get("extra_data") or {}).get("late") or {}
    output = "\n".join(part for part in (late.get("sentence", ""), note, data.get("output", "")) if part)
    if output:
        data["output"] = output
    from autograder.outputs.pages import gradescope_markdown  # the feedback page's text, as Gradescope renders markdown

    return gradescope_markdown(data)


def ungraded(assignment: Assignment, why: str) -> NotebookResult:
    """Results for a submission that could not be graded: every blank's test at 0, with the reason."""
    tests = [TestResult(name=_("{blank}: not graded").format(blank=blank), blank=blank, score=0.0, max_score=points,
                        output=why, reason="not-graded") for blank, points in assignment.blanks.items()]
    return NotebookResult("submission", assignment.name, assignment.stem, tests, output=why, graded="no")


def grade_submission(bundle: Path, submission: Path, results: Path) -> int:
    """Grade the notebook in ``submission`` with the bundle's course; always write ``results``."""
    settings = json.loads((bundle / "settings.json").read_text())
    course = Course.load(bundle / "course")
    from autograder.i18n import course_language, use

    use(course_language(course.root), course.root)  # what the student reads, the ungraded notes included
    assignment = course.assignments[settings["assignment"]]
    visibility = settings.get("visibility", "visible")
    notebook, note = find_notebook(submission, assignment)
    if notebook is None:
        write_json(results, results_json(ungraded(assignment, note), visibility))
        return 0
    from autograder.grading.runner import Graded, Problem, Settings
    from autograder.grading.workers import grade_parallel

    job = Job(notebook, "submission", assignment, Path(f"{assignment.stem}.json"))
    grading = Settings(course=course, secret=course.secret(), hide=[course.root, submission.resolve(),
                                                                    results.resolve().parent],
                       curves=False)  # Gradescope shows the tests' feedback, not the feedback page
    graded = None
    problems = []
    for event in grade_parallel([job], grading, 1):
        if isinstance(event, Graded):
            graded = event.result
        elif isinstance(event, Problem):
            problems.append(event.text)
    if graded is None:
        why = _("The autograder could not grade your notebook; this is not your fault: please tell your "
                "instructor.")
        write_json(results, results_json(ungraded(assignment, why), visibility))
        print("\n".join(problems))
        return 1
    write_json(results, results_json(_late(course, graded, submission.parent / METADATA), visibility, note))
    return 0


METADATA = "submission_metadata.json"  # Gradescope's, beside the submission folder: /autograder/submission_metadata.json


def _late(course: Course, result: NotebookResult, metadata: Path) -> NotebookResult:
    """``result`` with the course's late rules applied to the time Gradescope gives (autograder.after.late): the
    score Gradescope records is the final mark. Extensions are looked up by the submitters' e-mails."""
    from autograder.after.late import apply_late, gradescope_student, gradescope_time, load_rules

    rules = load_rules(course.root)  # checked when the bundle was made
    if rules is None:
        return result
    when = gradescope_time(metadata)
    return apply_late(result, rules, when, gradescope_student(rules, when))


def check_bundle(bundle: Path) -> None:
    """What setup.sh runs last: the bundle's course loads and the host can isolate submissions."""
    settings = json.loads((bundle / "settings.json").read_text())
    course = Course.load(bundle / "course")
    if settings["assignment"] not in course.assignments:
        raise BundleError(f"{bundle}: settings name {settings['assignment']!r}, which the course does not have")
    from autograder.sandbox.hostprobe import ISOLATING, probe_host

    report = probe_host()
    best = report.best()
    if best is None:
        raise BundleError("cannot isolate submissions here: " + "; ".join(report.why_not(lv) for lv in ISOLATING))
    print(f"autograder ready: {settings['assignment']}, isolation {best}")
