"""Regenerate release/ from source/ with the real ``nbgrader generate_assignment``.

    .venv/bin/python tools/build_release.py                          # every assignment that has a source notebook
    .venv/bin/python tools/build_release.py 02_linear_regression     # only these
    .venv/bin/python tools/build_release.py --out /tmp/release       # somewhere else (tests compare with release/)

nbgrader runs in a scratch copy of the course (the repository's nbgrader_config.py and the source folders), so its
gradebook.db and logs never land in the repository. Each generated assignment folder replaces the one in the output
directory. The assignments are the folders of source/ that hold one notebook.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

IGNORE = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc", "*.pt")


def nbgrader_env(**extra: str) -> dict[str, str]:
    """The environment for an nbgrader subprocess: this interpreter's bin/ first on PATH (nbgrader runs `alembic`)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.update(extra)
    return env


def with_source(source: Path = REPO / "source") -> list[str]:
    """The assignments (in course order): the folders of source/ holding one notebook."""
    return sorted(p.name for p in source.iterdir() if p.is_dir() and len(list(p.glob("*.ipynb"))) == 1)


def build(assignments: list[str] | None = None, out: Path = REPO / "release") -> list[str]:
    """Generate the release folders of ``assignments`` (default: all with a source notebook) into ``out``."""
    names = with_source() if assignments is None else list(assignments)
    for name in names:
        if name not in with_source():
            raise SystemExit(f"unknown assignment {name!r}: no source/{name}/ with one notebook; "
                             f"known: {', '.join(with_source())}")
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="build-release-") as tmp:
        course = Path(tmp)
        shutil.copy2(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
        for name in names:
            shutil.copytree(REPO / "source" / name, course / "source" / name, ignore=IGNORE)
        if names:  # one nbgrader run for all of them: "*" matches every assignment copied into the scratch course
            done = subprocess.run(
                [sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--force"],
                cwd=course, env=nbgrader_env(), capture_output=True, text=True,
            )
            missing = [name for name in names if not list((course / "release" / name).glob("*.ipynb"))]
            if done.returncode != 0 or missing:
                raise SystemExit(f"nbgrader generate_assignment failed ({', '.join(missing) or 'see log'}):\n"
                                 f"{done.stdout}{done.stderr}")
        for name in names:
            target = out / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(course / "release" / name, target, ignore=IGNORE)
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="assignment folders (default: all with a source notebook)")
    parser.add_argument("--out", type=Path, default=REPO / "release", help="output directory (default: release/)")
    args = parser.parse_args(argv)
    names = build(args.assignments or None, args.out)
    print(f"generated {', '.join(names) or 'nothing'} into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
