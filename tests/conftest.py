"""What every test module shares: the course this repository is (its assignments learned from release/)."""
from __future__ import annotations

import os
from pathlib import Path

from autograder.grading.course import Course

REPO = Path(__file__).resolve().parents[1]
COURSE = Course.load(REPO)
ASSIGNMENTS = COURSE.assignments
SECRET = "torch-basics-test-secret"  # the default secret of the tests that do not care which


def bare_venv(where: Path) -> Path:
    """A fresh virtual environment without the kit; its dependencies (torch, ...) come from this environment's
    site-packages by a .pth line (which, unlike site-packages itself, does not bring the kit's editable install)."""
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, timeout=120)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = where / "lib" / version / "site-packages"
    (site / "_dependencies.pth").write_text(f"{Path(sys.prefix) / 'lib' / version / 'site-packages'}\n")
    return where / "bin" / "python"


def stop_group(process, grace: float = 15.0) -> None:
    """End a command started in a session of its own, and everything it started, by its process group: SIGTERM,
    then SIGKILL if it is still there after ``grace`` seconds."""
    import signal
    import subprocess

    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace / 3)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue

# The hand-written and declared self-checks are course content, released beside each notebook: the tests that run
# them in this process find them there (a notebook's kernel finds them in its own folder).
os.environ.setdefault("AUTOGRADER_SELFCHECK_PATH", os.pathsep.join(str(COURSE.release(a)) for a in ASSIGNMENTS.values()))
