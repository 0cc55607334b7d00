"""The student path, from what a student receives: the assignment's release folder and the kit's wheel.

The README's Students block runs here verbatim: its `pip install` line (in a fresh virtual environment, with
`--dry-run --report` added: it resolves what a student's install would bring, torch built for the CPU among it,
without installing 1.3 GB), its `cd` into the release folder and `jupyter lab`, as a user and as root (`jupyter lab
--allow-root`, which the block gives for root; plain `jupyter lab` refuses root). `make lab`, the instructor's way
to open release/, starts as a user and as root too.

In a notebook, a blank that fails its self-checks no longer stops Run All at its test cell (`require(...)`): a
wrong notebook run by a kernel (nbclient, as JupyterLab runs it) reaches its last cell, every check cell shows
its verdict and the failing test cell shows the failure on stderr; `nbgrader validate` of the same notebook still
fails, naming the blank, and `require` still raises outside a kernel.
"""
from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.fill import filled_release, write
from conftest import COURSE, REPO, stop_group

A = COURSE.find("02_linear_regression")
WRONG_GRADS = textwrap.dedent("""
    def mse_grads(x, y, w, b):
        r = x * w + b - y
        return (1 / x.shape[0] * (x * r).sum()).reshape(1), (1 / x.shape[0] * r.sum()).reshape(1)
    """).strip() + "\n"
NOBODY = 65534
VENV_BIN = Path(sys.executable).parent
as_root_too = pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"),
                                 reason="running a command as another user (nobody) needs root and setpriv")


# ------------------------------------------------------------------------------------------- the README's block
def student_block() -> list[str]:
    """The commands of the README's Students block, in order (comments kept: the root variant is in one)."""
    section = (REPO / "README.md").read_text().split("\n## Students\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    return [line.strip() for line in block.splitlines() if line.strip()]


def command(line: str) -> str:
    return line.split("#", 1)[0].strip()


def root_variant(line: str) -> str:
    """The command a comment gives for root ("# as root (...): jupyter lab --allow-root")."""
    found = re.search(r"#\s*as root[^:]*:\s*(.+)$", line)
    assert found, line
    return found.group(1).strip()


def test_the_block_is_what_these_tests_run():
    pip, cd, lab = student_block()
    assert command(pip).startswith("pip install ") and command(pip).endswith(".whl")
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip
    assert command(cd) == f"cd {A.name}"
    assert command(lab) == "jupyter lab" and root_variant(lab) == "jupyter lab --allow-root"


# ------------------------------------------------------------------------------------------------- the install
@pytest.mark.slow
def test_the_pip_line_brings_torch_for_the_cpu(tmp_path, tmp_path_factory):
    from dist_support import built_dist, wheel

    dist = built_dist(tmp_path_factory)  # the session's build, when tests/test_distribution.py made one already
    pip = command(student_block()[0])
    assert pip.split()[-1] == wheel(dist).name, "the README names another wheel than the one the kit builds"
    venv = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    report = tmp_path / "report.json"
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "PIP_RETRIES": "0"}
    done = subprocess.run(["bash", "-c", f"{pip} --dry-run --quiet --report {report}"], cwd=dist, env=env,
                          capture_output=True, text=True, timeout=900)
    if done.returncode != 0 and "No matching distribution" in done.stderr:
        pytest.skip(f"no package index reachable here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr[-3000:]
    brought = {item["metadata"]["name"].lower(): item["metadata"]["version"]
               for item in json.loads(report.read_text())["install"]}
    assert brought["torch"] == "2.13.0+cpu", brought["torch"]
    assert {"jupyterlab", "nbgrader", "numpy", "matplotlib", "torch-course-autograder"} <= set(brought)
    assert 115 <= len(brought) <= 155, len(brought)  # the README says about 135


# ------------------------------------------------------------------------------------------------- JupyterLab
def owned_by(folder: Path, uid: int | None) -> None:
    """Make ``folder`` (and what it holds) the user's, as their own files are."""
    if uid is None:
        return
    for path in [folder, *folder.rglob("*")]:
        os.chown(path, uid, uid, follow_symlinks=False)


def scratch(uid: int | None) -> Path:
    """A fresh folder the user can use (pytest's own are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="student-path-"))
    folder.chmod(0o755)
    owned_by(folder, uid)
    return folder


def starts(line: str, cwd: Path, uid: int | None = None, timeout: float = 120) -> tuple[bool, str]:
    """Run ``line`` with bash in ``cwd`` (as ``uid``, else as this process's user), the kit's environment
    active; whether a Jupyter server came up (it prints its URL), and what it printed. The server is stopped."""
    home = scratch(uid)
    env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", "HOME": str(home), "BROWSER": "true"}
    for inherited in ("AUTOGRADER_SELFCHECK_PATH", "MAKELEVEL", "MAKEFLAGS", "MFLAGS"):  # as from a shell, not
        env.pop(inherited, None)  # from within `make test` (a nested make prints "Entering directory" first)
    user = [] if uid is None else ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    process = subprocess.Popen([*user, "bash", "-c", line], cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    out = b""
    up = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not up:
            if not select.select([process.stdout], [], [], 0.5)[0]:
                continue
            chunk = os.read(process.stdout.fileno(), 1 << 16)
            if not chunk:  # the command ended
                break
            out += chunk
            up = bool(re.search(rb"http://(localhost|127\.0\.0\.1):\d+/lab", out))
    finally:
        stop_group(process)
        process.stdout.close()
        shutil.rmtree(home, ignore_errors=True)
    return up, out.decode(errors="replace")


def received_folder(uid: int | None) -> Path:
    """Where a student keeps what they received: the assignment's release folder (notebook, data, self-checks)."""
    where = scratch(uid)
    shutil.copytree(COURSE.release(A), where / A.name)
    owned_by(where, uid)
    return where


@pytest.mark.slow
def test_jupyter_lab_as_the_student_user():
    _, cd, lab = student_block()
    uid = NOBODY if os.geteuid() == 0 else None
    if uid is not None and not shutil.which("setpriv"):
        pytest.skip("running a command as nobody needs setpriv")
    where = received_folder(uid)
    try:
        up, out = starts(f"{command(cd)} && {command(lab)}", where, uid)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    assert up, out[-3000:]


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="as root")
def test_jupyter_lab_as_root_with_the_readmes_flag():
    _, cd, lab = student_block()
    where = received_folder(None)
    try:
        refused, said = starts(f"{command(cd)} && {command(lab)}", where)
        up, out = starts(f"{command(cd)} && {root_variant(lab)}", where)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    assert not refused and "--allow-root" in said, said[-2000:]  # why the README gives root its own command
    assert up, out[-3000:]


def checkout_for_make(uid: int | None) -> Path:
    """What `make lab` needs of a checkout set up by `make setup`: the Makefile, pyproject.toml, release/ and .venv
    (its bin/ this environment's, its stamp newer than pyproject.toml, so that make installs nothing)."""
    where = scratch(uid)
    shutil.copy(REPO / "Makefile", where)
    shutil.copy(REPO / "pyproject.toml", where)
    shutil.copytree(REPO / "release", where / "release")
    (where / ".venv").mkdir()
    (where / ".venv" / "bin").symlink_to(VENV_BIN)
    (where / ".venv" / ".installed-stamp").touch()
    owned_by(where, uid)
    return where


@pytest.mark.slow
@pytest.mark.parametrize("who", ["user", "root"])
def test_make_lab(who):
    if who == "root" and os.geteuid() != 0:
        pytest.skip("as root")
    uid = NOBODY if who == "user" and os.geteuid() == 0 else None
    if uid is not None and not shutil.which("setpriv"):
        pytest.skip("running a command as nobody needs setpriv")
    where = checkout_for_make(uid)
    try:
        up, out = starts("make lab", where, uid)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    assert up, out[-3000:]
    assert ("--allow-root" in out.split("\n", 1)[0]) == (who == "root" and os.geteuid() == 0)


# ------------------------------------------------------------------------------------------------ Run All
@pytest.fixture(scope="module")
def wrong_notebook(tmp_path_factory) -> Path:
    """A student's folder with the release notebook, mse_grads wrong (half the gradient), the rest solved."""
    folder = tmp_path_factory.mktemp("student") / A.name
    shutil.copytree(COURSE.release(A), folder)
    write(filled_release(COURSE, A, {"mse_grads": WRONG_GRADS}), folder / A.notebook)
    return folder


def code_cells_with(nb: nbformat.NotebookNode, start: str) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.lstrip().startswith(start)]


def text_of(cell: nbformat.NotebookNode, stream: str | None = None) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream" and (stream is None or o.get("name") == stream))


@pytest.mark.slow
def test_run_all_reaches_the_last_cell_and_every_verdict_shows(wrong_notebook, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.delenv("AUTOGRADER_SELFCHECK_PATH", raising=False)  # as a student's kernel: its own folder only
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    nb = nbformat.read(wrong_notebook / A.notebook, as_version=4)
    NotebookClient(nb, timeout=180, resources={"metadata": {"path": str(wrong_notebook)}}).execute()  # raises on error
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[-1].execution_count is not None, "Run All stopped before the last cell"
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    checks = code_cells_with(nb, "from autograder.selfcheck import check")
    assert len(checks) == len(A.blanks)
    verdicts = {re.match(r"(\w+): ", text_of(c)).group(1): text_of(c) for c in checks}
    assert set(verdicts) == set(A.blanks), verdicts
    assert "some self-checks fail" in verdicts["mse_grads"], verdicts["mse_grads"]
    assert all("all self-checks pass" in verdicts[b] for b in A.blanks if b != "mse_grads"), verdicts
    (failing,) = [c for c in code if "require(mse_grads)" in c.source]
    shown = text_of(failing, "stderr")
    assert "SelfCheckFailed" in shown and "\x1b[0;31m" in shown and "mse_grads fails" in shown, shown
    assert "Validate fails" in shown, shown


@pytest.mark.slow
def test_nbgrader_validate_still_fails(wrong_notebook):
    env = {k: v for k, v in os.environ.items() if k not in ("AUTOGRADER_SELFCHECK_PATH", "NBGRADER_EXECUTION")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env['PATH']}"
    done = subprocess.run(["bash", "-c", f"nbgrader validate {A.notebook}"], cwd=wrong_notebook, env=env,
                          capture_output=True, text=True, timeout=600)
    said = done.stdout + done.stderr
    assert "VALIDATION FAILED" in said and "Success!" not in said, said[-3000:]
    assert re.search(r"mse_grads fails \d+ of its \d+ self-checks", said), said[-3000:]


def test_require_still_raises_outside_a_kernel(monkeypatch):
    from autograder.selfcheck import SelfCheckFailed, require

    namespace: dict = {}
    exec(WRONG_GRADS, namespace)
    with pytest.raises(SelfCheckFailed, match="mse_grads fails"):
        require(namespace["mse_grads"])
