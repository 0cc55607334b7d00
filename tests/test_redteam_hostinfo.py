"""Red team: feedback shows nothing of the grader's machine.

Attacking notebooks put what they can learn of the host into the feedback they will read: their working folder,
Python's installation, the grader's command line (which names the course and results folders), their uid, a
file that is not valid JSON (whose error names the submission's path). The results must hold none of the
grader's folders, the repository's location or the sandbox uids, at every isolation level this machine has.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import containerlike
from autograder.authoring.fill import filled_release, write
from autograder.sandbox.zygote import BASE_UID, UID_COUNT
from conftest import COURSE, REPO

pytestmark = pytest.mark.slow
A = COURSE.find("02_linear_regression")

LEAKS = {
    "working_folder": "raise RuntimeError('cwd=' + os.getcwd() + ' home=' + os.environ.get('HOME', ''))",
    "python_installation": "raise RuntimeError(sys.prefix + ' ' + torch.__file__ + ' ' + sys.executable)",
    "grader_command_lines": textwrap.dedent("""
        seen = []
        for pid in os.listdir('/proc'):
            try:
                seen.append(open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\\0', b' ').decode())
            except OSError:
                pass
        raise RuntimeError(' | '.join(seen)[:3000])"""),
    "uid": "raise RuntimeError(f'uid {os.getuid()} gid {os.getgid()} groups {os.getgroups()}')",
}


@pytest.fixture(scope="module", params=["namespaces", "uid-seccomp"])
def graded(request, tmp_path_factory):
    level = request.param
    launcher = containerlike.launcher_for(level)
    root = tmp_path_factory.mktemp("hostinfo")
    submitted, out = root / "submitted", root / "graded"
    write(filled_release(COURSE, A), submitted / "honest" / A.name / A.notebook)
    for name, body in LEAKS.items():
        cell = "import os, sys, torch\ndef mse_grads(x, y, w, b):\n" + textwrap.indent(body.strip(), "    ") + "\n"
        write(filled_release(COURSE, A, {"mse_grads": cell}), submitted / f"attack_{name}" / A.name / A.notebook)
    (submitted / "attack_not_json" / A.name).mkdir(parents=True)
    (submitted / "attack_not_json" / A.name / A.notebook).write_text("{ not json")
    done = subprocess.run([*launcher, sys.executable, "-m", "autograder", "grade", str(submitted), "--course",
                           str(REPO), "--out", str(out), "--jobs", "2", "--quiet", "--secret", "hostinfo-secret",
                           "--exact-isolation", level], capture_output=True, text=True, timeout=900)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return {"root": root, "out": out, "texts": {p.parent.parent.name: p.read_text() for p in out.glob("*/*/*.json")}}


def test_every_notebook_has_results(graded):
    assert len(graded["texts"]) == 2 + len(LEAKS)
    assert json.loads(graded["texts"]["honest"])["score"] == A.max_score


@pytest.mark.parametrize("attack", [*LEAKS, "not_json"])
def test_feedback_holds_no_host_detail(graded, attack):
    text = graded["texts"][f"attack_{attack}"]
    for detail in (str(REPO), str(graded["root"]), sys.prefix, sys.base_prefix, "autograder-sandboxes",
                   "/tmp/pytest-of", "hostinfo-secret"):
        assert detail not in text, (detail, text[:2000])
    numbers = {int(n) for n in __import__("re").findall(r"\d+", text)}
    assert not numbers & set(range(BASE_UID, BASE_UID + UID_COUNT)), text[:2000]


def test_feedback_still_says_what_happened(graded):
    data = json.loads(graded["texts"]["attack_working_folder"])
    outputs = " ".join(t["output"] for t in data["tests"] if "mse_grads" in t["tags"])
    assert "raised RuntimeError: cwd=" in outputs
    assert "not valid JSON" in graded["texts"]["attack_not_json"]
