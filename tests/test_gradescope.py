"""The Gradescope bundle, run as Gradescope runs it: unpacked into an /autograder of its own (a tmpfs in a private
mount namespace), setup.sh then run_autograder per submission, inside a simulated container (root without
CAP_SYS_ADMIN and without user namespaces, tests/containerlike.py). Every submission gets a results.json that
says what happened: a correct, a wrong, a missing, a hostile, a renamed, an unreadable one, and several notebooks.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import zipfile
from pathlib import Path

import pytest

from autograder.authoring.fill import filled_release, write
from conftest import COURSE, REPO, bare_venv
from containerlike import why_not

pytestmark = pytest.mark.slow

A = COURSE.find("02_linear_regression")
SOLUTIONS = "/autograder/source/course/solutions/linear_regression.py"

HOSTILE = textwrap.dedent(f"""
    import torch, torch.testing
    torch.allclose = lambda *a, **k: True
    torch.testing.assert_close = lambda *a, **k: None
    def mse_grads(x, y, w, b):
        try:  # the reference solutions sit in the bundle: use them if they can be read
            namespace = {{}}
            exec(open({SOLUTIONS!r}).read(), namespace)
            return namespace["mse_grads"](x, y, w, b)
        except Exception:
            return torch.zeros(1), torch.zeros(1)
    """)
WRONG = textwrap.dedent("""
    def mse_grads(x, y, w, b):
        r = x * w + b - y
        return (x * r).mean().reshape(1), r.mean().reshape(1)
    """)


def _submissions(root: Path) -> dict[str, Path]:
    correct = filled_release(COURSE, A)
    made = {}
    for name in ("correct", "wrong", "missing", "hostile", "renamed", "several", "unreadable", "none_named"):
        made[name] = root / name
        made[name].mkdir(parents=True)
    write(correct, made["correct"] / A.notebook)
    write(filled_release(COURSE, A, {"mse_grads": WRONG}), made["wrong"] / A.notebook)
    (made["missing"] / "answers.py").write_text("print('I forgot the notebook')\n")
    write(filled_release(COURSE, A, {"mse_grads": HOSTILE}), made["hostile"] / A.notebook)
    write(correct, made["renamed"] / "linear_regression (1).ipynb")
    write(correct, made["several"] / A.notebook)
    write(filled_release(COURSE, A, {"mse_grads": WRONG}), made["several"] / "old" / "draft.ipynb")
    text = (made["correct"] / A.notebook).read_text()
    (made["unreadable"] / A.notebook).write_text(text[: len(text) // 2])
    write(correct, made["none_named"] / "a.ipynb")
    write(correct, made["none_named"] / "b.ipynb")
    return made


def in_container_with_autograder(command: list[str]) -> list[str]:
    """``command`` in the simulated container (tests/containerlike.py), with a tmpfs of its own on /autograder."""
    return ["unshare", "--user", "--map-users=0,0,65536", "--map-groups=0,0,65536", "--mount", "sh", "-c",
            "mount -t tmpfs -o mode=0755 tmpfs /autograder && echo 0 > /proc/sys/user/max_user_namespaces && "
            'exec setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "$@"', "sh", *command]


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    reason = why_not()
    if reason:
        pytest.skip(reason)
    work = Path(tempfile.mkdtemp(prefix="gradescope-test-", dir="/tmp"))
    os.chmod(work, 0o711)  # the sandbox uids must reach the venv's Python, as in a container
    created_mountpoint = not Path("/autograder").exists()
    try:
        bundle = work / "autograder.zip"
        done = subprocess.run([sys.executable, "-m", "autograder", "gradescope", A.name, "--out", str(bundle),
                               "--course", str(REPO), "--secret", "gradescope-test-secret"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        python = bare_venv(work / "venv")
        subs = _submissions(work / "subs")
        out = work / "out"
        out.mkdir()
        if created_mountpoint:
            Path("/autograder").mkdir()
        loop = " ".join(subs)
        script = textwrap.dedent(f"""
            set -e
            mkdir -p /autograder/source /autograder/submission /autograder/results
            {sys.executable} -m zipfile -e {bundle} /autograder/source
            chmod +x /autograder/source/setup.sh /autograder/source/run_autograder
            cd /autograder/source
            AUTOGRADER_PYTHON={python} bash setup.sh > {out}/setup.log 2>&1
            cp /autograder/source/run_autograder /autograder/run_autograder
            for s in {loop}; do
                rm -rf /autograder/submission/* /autograder/results/*
                cp -r {work}/subs/$s/. /autograder/submission/
                /autograder/run_autograder > {out}/$s.log 2>&1
                cp /autograder/results/results.json {out}/$s.json
            done
            """)
        done = subprocess.run(in_container_with_autograder(["bash", "-c", script]),
                              capture_output=True, text=True, timeout=900)
        logs = "\n".join(f"{p.name}: {p.read_text()[-1500:]}" for p in sorted(out.glob("*.log")))
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:] + logs
        results = {name: json.loads((out / f"{name}.json").read_text()) for name in subs}
        results["_setup"] = (out / "setup.log").read_text()
        return results
    finally:
        if created_mountpoint:
            Path("/autograder").rmdir()
        shutil.rmtree(work, ignore_errors=True)


def _blanks(result: dict) -> dict[str, float]:
    marks: dict[str, float] = {}
    for t in result["tests"]:
        marks[t["tags"][0]] = marks.get(t["tags"][0], 0.0) + t["score"]
    return marks


def test_setup_installs_the_kit_and_checks_the_host(graded):
    assert "autograder ready: 02_linear_regression, isolation uid-seccomp" in graded["_setup"], graded["_setup"]


def test_results_follow_gradescope_format(graded):
    for name in ("correct", "wrong", "missing", "unreadable"):
        data = graded[name]
        assert {"score", "tests", "visibility"} <= set(data), name
        for t in data["tests"]:
            assert {"name", "score", "max_score", "output", "tags", "visibility"} <= set(t)
        assert sum(t["max_score"] for t in data["tests"]) == A.max_score


def test_correct_submission_gets_full_marks_at_the_container_level(graded):
    data = graded["correct"]
    assert data["score"] == A.max_score
    assert data["extra_data"] == {"isolation": "uid-seccomp"}


def test_wrong_submission_loses_marks_on_its_blank_only(graded):
    marks = _blanks(graded["wrong"])
    assert marks["mse_grads"] < A.blanks["mse_grads"]
    assert all(marks[b] == A.blanks[b] for b in A.blanks if b != "mse_grads")


def test_hostile_submission_gets_nothing_on_the_attacked_blank(graded):
    marks = _blanks(graded["hostile"])
    assert marks["mse_grads"] == 0
    assert all(marks[b] == A.blanks[b] for b in A.blanks if b != "mse_grads")


@pytest.mark.parametrize("name, words", [
    ("missing", "No notebook was found"),
    ("none_named", "none is named linear_regression.ipynb"),
    ("unreadable", "could not be read"),
])
def test_ungradable_submissions_get_a_clear_message(graded, name, words):
    data = graded[name]
    assert data["score"] == 0 and words in data["output"], data.get("output")


@pytest.mark.parametrize("name, words", [
    ("renamed", "was graded as linear_regression.ipynb"),
    ("several", "also found and not graded: old/draft.ipynb"),
])
def test_renamed_or_extra_notebooks_are_graded_with_a_note(graded, name, words):
    data = graded[name]
    assert data["score"] == A.max_score and words in data["output"], data.get("output")


def test_bundle_holds_only_this_assignment(tmp_path):
    bundle = tmp_path / "a.zip"
    done = subprocess.run([sys.executable, "-m", "autograder", "gradescope", A.stem, "--out", str(bundle),
                           "--course", str(REPO), "--visibility", "after_due_date"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    names = zipfile.ZipFile(bundle).namelist()
    assert {"setup.sh", "run_autograder", "settings.json"} <= set(names)
    others = [a for a in COURSE.assignments.values() if a != A]
    assert not [n for n in names if any(o.name in n or f"/{o.stem}." in n for o in others)]
    assert json.loads(zipfile.ZipFile(bundle).read("settings.json"))["visibility"] == "after_due_date"
    bad = subprocess.run([sys.executable, "-m", "autograder", "gradescope", "no_such", "--out", str(bundle),
                          "--course", str(REPO)], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "unknown assignment" in bad.stderr


def test_visibility_setting_reaches_every_test(tmp_path):
    from autograder.platforms.gradescope import results_json, ungraded

    data = results_json(ungraded(A, "why"), "after_due_date")
    assert data["visibility"] == "after_due_date" and {t["visibility"] for t in data["tests"]} == {"after_due_date"}


def test_notebook_choice_prefers_the_top_and_refuses_ambiguity(tmp_path):
    from autograder.platforms.gradescope import find_notebook

    (tmp_path / "old").mkdir()
    write(filled_release(COURSE, A), tmp_path / A.notebook)
    write(filled_release(COURSE, A), tmp_path / "old" / A.notebook)
    chosen, note = find_notebook(tmp_path, A)
    assert chosen == tmp_path / A.notebook and "old/linear_regression.ipynb" in note
    (tmp_path / A.notebook).unlink()
    (tmp_path / "new").mkdir()
    write(filled_release(COURSE, A), tmp_path / "new" / A.notebook)
    chosen, note = find_notebook(tmp_path, A)
    assert chosen is None and "upload only one" in note
    (tmp_path / "link.ipynb").symlink_to(tmp_path / "new" / A.notebook)
    assert "link.ipynb" not in find_notebook(tmp_path, A)[1]  # a symbolic link is never a submission
