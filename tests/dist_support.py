"""The kit's wheel and sdist, built once per test session from a copy of the tracked files (what a fresh clone has).

``tests/test_distribution.py`` (what the distribution holds, installing it) and ``tests/test_no_answers.py`` (no
blank's answer in it) both read the same build: :func:`built_dist` builds on its first call and returns the same
folder after.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO

SECRET = "an-instructors-secret-4b1d"  # written into the copy, so that a leak of it would show in the build
_BUILT: dict[str, Path] = {}


def tracked_copy(dest: Path) -> Path:
    """The repository as a fresh clone has it (tracked files only), plus an instructor's course secret."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in filter(None, files.split("\0")):
        if (REPO / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, dest / name)
    (dest / ".autograder-secret").write_text(SECRET + "\n")
    return dest


def built_dist(tmp_path_factory) -> Path:
    """The folder holding the kit's wheel and sdist (``python -m build``), built on the session's first call."""
    if "dist" not in _BUILT:
        tree = tracked_copy(tmp_path_factory.mktemp("tree"))
        out = tmp_path_factory.mktemp("dist")
        done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(tree)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        _BUILT["dist"] = out
    return _BUILT["dist"]


def wheel(dist: Path) -> Path:
    (found,) = dist.glob("*.whl")
    return found


def sdist(dist: Path) -> Path:
    (found,) = dist.glob("*.tar.gz")
    return found
