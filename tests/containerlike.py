"""Run a command as if in a container with Docker's default profile, without Docker: root (of a user namespace
mapping uids 0-65535 onto the host's), without CAP_SYS_ADMIN and unable to create user namespaces, yet able to
switch to another uid. Needs newuidmap (Debian's uidmap) and a root:0:100000 line in /etc/subuid and /etc/subgid:
tools/container_sim_setup.sh installs them.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

SIMULATION = ["unshare", "--user", "--map-users=0,0,65536", "--map-groups=0,0,65536", "--mount", "sh", "-c",
              'echo 0 > /proc/sys/user/max_user_namespaces; '
              'exec setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin "$@"', "sh"]


def wrap(command: list[str], uid: int | None = None) -> list[str]:
    """``command`` inside the simulated container (as its root, or as ``uid``)."""
    user = [] if uid is None else ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    return [*SIMULATION, *user, *command]


def why_not() -> str | None:
    """Why the simulation cannot run here, or None."""
    if sys.platform != "linux":
        return "Linux only"
    if os.geteuid() != 0:
        return "the container simulation needs root"
    if not shutil.which("newuidmap") or not shutil.which("setpriv"):
        return "no newuidmap/setpriv: run tools/container_sim_setup.sh"
    try:
        done = subprocess.run(wrap(["true"]), capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"the container simulation does not start ({error})"
    if done.returncode != 0:
        return f"the container simulation does not start: {done.stderr.decode(errors='replace').strip()[:200]}"
    return None


def skip_unless_containerlike() -> None:
    reason = why_not()
    if reason:
        pytest.skip(reason)


def run_python(script: str, uid: int | None = None, timeout: float = 300, env: dict | None = None) -> dict:
    """Run ``script`` with this Python inside the simulation; the JSON it prints on its last line."""
    done = subprocess.run(wrap([sys.executable, "-c", script], uid), capture_output=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd="/")
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        raise AssertionError(f"exit {done.returncode}: {done.stderr.decode(errors='replace')[-3000:]}")
    return json.loads(lines[-1])


def launcher_for(level: str) -> list[str]:
    """The command prefix that grades at ``level`` on this machine (uid-seccomp: inside the simulation), or a
    pytest skip saying why the level cannot be had here."""
    if level == "uid-seccomp":
        reason = why_not()
        if reason:
            pytest.skip(reason)
        return list(SIMULATION)
    from autograder.sandbox.hostprobe import probe_host

    report = probe_host()
    if not report.available(level):
        pytest.skip(report.why_not(level))
    return []
