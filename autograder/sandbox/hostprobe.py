"""What isolation this host allows: the levels, strongest first, and for each one that cannot be had, why not.

    namespaces   root with CAP_SYS_ADMIN: PID, network, mount, IPC and UTS namespaces, a private root, a fresh
                 /proc, an unprivileged uid of its own, rlimits, no_new_privs, the seccomp filter
    userns       the same through a user namespace (as a non-root user, or as root where that is allowed)
    uid-seccomp  for containers that give neither: a separate process under an unprivileged uid of its own,
                 rlimits, no_new_privs, the seccomp filter, a private scratch folder, and the course, results and
                 other submissions made unreadable to other uids
    none         trusted notebooks only (--no-sandbox): a separate process with rlimits; never root

:func:`probe_host` forks a few short-lived children that try each ingredient (unshare, mounting a fresh /proc,
switching uid, installing a seccomp filter) and reads the effective capabilities, so the answer is what this
process can do here, not what the kernel would allow in general. Each reason is one line naming the cause and
the fix.
"""
from __future__ import annotations

import json
import os
import select
import time
from dataclasses import dataclass, field

from autograder.sandbox.isolation import in_initial_user_namespace, write_text as _write

LEVELS = ("namespaces", "userns", "uid-seccomp", "none")
ISOLATING = LEVELS[:-1]

CAP_CHOWN, CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN = 0, 6, 7, 21
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
NAMESPACES = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS


def stronger(a: str, b: str) -> bool:
    """Whether level ``a`` isolates more than level ``b``."""
    return LEVELS.index(a) < LEVELS.index(b)


def check_level(name: str) -> str:
    if name not in LEVELS:
        raise ValueError(f"unknown isolation level {name!r}: choose one of {', '.join(LEVELS)}")
    return name


@dataclass
class HostReport:
    """For each level of :data:`LEVELS`: None when available, else one line saying why not and what to do."""

    reasons: dict[str, str | None]
    facts: dict = field(default_factory=dict)
    seconds: float = 0.0

    def available(self, level: str) -> bool:
        return self.reasons.get(check_level(level), "unknown") is None

    def why_not(self, level: str) -> str:
        """One line, "level: cause: fix"; empty when the level is available."""
        return self.reasons.get(check_level(level)) or ""

    def best(self) -> str | None:
        """The strongest level that isolates (not "none"), or None."""
        return next((level for level in ISOLATING if self.available(level)), None)

    def to_json(self) -> dict:
        return {"reasons": self.reasons, "facts": self.facts, "seconds": self.seconds}

    @classmethod
    def from_json(cls, data: dict) -> "HostReport":
        return cls(dict(data["reasons"]), dict(data.get("facts", {})), data.get("seconds", 0.0))


def _read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def capabilities() -> int:
    status = _read("/proc/self/status") or ""
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16)
    return 0


def python_paths() -> list[str]:
    """The folders any process running this Python must be able to read (real paths)."""
    import sys
    paths = {os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)}
    paths.add(os.path.dirname(os.path.realpath(sys.executable)))
    return sorted(p for p in paths if os.path.isdir(p))


def blocking_folder(path: str) -> str | None:
    """The first folder above or at ``path`` that other users may not search (o+x), as seen by root."""
    parts = os.path.realpath(path).split("/")
    for i in range(2, len(parts) + 1):
        folder = "/".join(parts[:i])
        try:
            if not os.stat(folder).st_mode & 0o001:
                return folder
        except OSError:
            return folder
    return None


def unreachable_python(uid: int, unreachable: list[str], level: str) -> str:
    """One line: the sandbox uid cannot read this Python."""
    path = unreachable[0]
    folder = blocking_folder(path)
    cause = f"{folder} is not searchable by other users" if folder else "its permissions"
    fix = f"`chmod o+x {folder}`, or install" if folder else "Install"
    return (f"{level}: uid {uid} cannot read Python at {path} ({cause}): {fix} Python where every user can read "
            "it (e.g. /usr/local)")


# -- the children that try things ----------------------------------------------------------------------------
def _in_child(trial, *args) -> dict:
    """Run ``trial(*args)`` in a forked child; its dict (or the error it raised), within 5 s."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.close(read)
            try:
                result = trial(*args)
            except OSError as error:
                result = {"ok": False, "step": getattr(error, "step", "?"), "errno": error.errno,
                          "error": str(error)}
            except BaseException as error:  # noqa: BLE001
                result = {"ok": False, "step": "?", "errno": None, "error": f"{type(error).__name__}: {error}"}
            os.write(write, json.dumps(result).encode())
        finally:
            os._exit(0)
    os.close(write)
    return {"pid": pid, "fd": read}


def _collect(started: dict, deadline: float) -> dict:
    chunks = []
    fd = started["fd"]
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            result = {"ok": False, "step": "?", "errno": None, "error": "the probe did not answer"}
            break
        data = os.read(fd, 65536)
        if not data:
            try:
                result = json.loads(b"".join(chunks)) if chunks else {"ok": False, "step": "?", "errno": None,
                                                                     "error": "the probe died"}
            except ValueError:
                result = {"ok": False, "step": "?", "errno": None, "error": "the probe answered garbage"}
            break
        chunks.append(data)
    os.close(fd)
    try:
        os.kill(started["pid"], 9)
    except OSError:
        pass
    try:
        os.waitpid(started["pid"], 0)
    except ChildProcessError:
        pass
    return result


def _step(name: str, call, *args):
    try:
        return call(*args)
    except OSError as error:
        error.step = name
        raise


def _libc():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    return libc, ctypes


def _call(name: str, result: int) -> None:
    if result < 0:
        import ctypes
        code = ctypes.get_errno()
        error = OSError(code, f"{name}: {os.strerror(code)}")
        error.step = name
        raise error


def _mount_proc_and_switch(uid: int | None) -> dict:
    """In fresh namespaces: fork PID 1, mount a fresh /proc (on a private /proc), optionally switch uid."""
    libc, _ = _libc()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        result = {"ok": True}
        try:
            _call("make / private", libc.mount(None, b"/", None, 16384 | (1 << 18), None))
            _call("mount proc", libc.mount(b"proc", b"/proc", b"proc", 2 | 4 | 8, None))
            if uid is not None:
                _step("setgroups", os.setgroups, [])
                _step("setresgid", os.setresgid, uid, uid, uid)
                _step("setresuid", os.setresuid, uid, uid, uid)
        except OSError as error:
            result = {"ok": False, "step": getattr(error, "step", "?"), "errno": error.errno, "error": str(error)}
        os.write(write, json.dumps(result).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    return json.loads(data) if data else {"ok": False, "step": "?", "errno": None, "error": "PID 1 died"}


def _try_namespaces(uid: int) -> dict:
    libc, _ = _libc()
    _call("unshare", libc.unshare(NAMESPACES))
    return _mount_proc_and_switch(uid)


def _try_userns() -> dict:
    libc, _ = _libc()
    uid, gid = os.geteuid(), os.getegid()
    _call("unshare", libc.unshare(NAMESPACES | CLONE_NEWUSER))
    for path, text in (("/proc/self/setgroups", "deny"), ("/proc/self/uid_map", f"0 {uid} 1"),
                       ("/proc/self/gid_map", f"0 {gid} 1")):
        _step(f"write {path}", _write, path, text)
    result = _mount_proc_and_switch(None)
    if result.get("ok"):
        _call("nested unshare", libc.unshare(CLONE_NEWUSER))  # the sandbox nests one to drop its capabilities
    return result


def _try_uid_seccomp(uid: int) -> dict:
    import socket
    from autograder.sandbox import seccomp  # before the switch: Python itself may be out of that uid's reach
    needed = python_paths()
    os.setgroups([])
    _step("setresgid", os.setresgid, uid, uid, uid)
    _step("setresuid", os.setresuid, uid, uid, uid)
    unreachable = [p for p in needed if not os.access(p, os.R_OK | os.X_OK)]
    try:
        seccomp.install()
    except OSError as error:
        error.step = "seccomp"
        raise
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        return {"ok": True, "unreachable": unreachable}
    return {"ok": False, "step": "seccomp check", "errno": None, "error": "the filter did not deny socket()"}


# -- reasons -------------------------------------------------------------------------------------------------
def _why_namespaces(facts: dict, result: dict, uid: int) -> str | None:
    if result.get("ok"):
        return None
    step, number = result.get("step"), result.get("errno")
    if not facts["cap_sys_admin"]:
        who = "the grader is not root" if facts["euid"] != 0 else \
            "no CAP_SYS_ADMIN (a container's default profile drops it)"
        fix = "run it as root, or use the userns level" if facts["euid"] != 0 else \
            "run the container with --cap-add SYS_ADMIN, or use the uid-seccomp level"
        return f"namespaces: {who}: {fix}"
    if step == "unshare":
        return (f"namespaces: unshare() is refused although CAP_SYS_ADMIN is held ({os.strerror(number or 1)}: a "
                "seccomp or AppArmor profile): run the container with --security-opt seccomp=unconfined "
                "--security-opt apparmor=unconfined, or use the uid-seccomp level")
    if step in ("mount proc", "make / private"):
        return (f"namespaces: /proc cannot be mounted ({os.strerror(number or 1)}: a masked /proc or a "
                "read-only mount policy): run the container with --security-opt systempaths=unconfined, "
                "or use the uid-seccomp level")
    if step in ("setresuid", "setresgid"):
        return (f"namespaces: uid {uid} is not mapped in this user namespace: map a range of uids that includes "
                f"{uid} (e.g. /etc/subuid), or use the userns level")
    return f"namespaces: the probe failed ({result.get('error')}): use the userns or uid-seccomp level"


def _why_userns(facts: dict, result: dict) -> str | None:
    if result.get("ok"):
        return None
    step, number = result.get("step"), result.get("errno")
    limit = facts.get("max_user_namespaces")
    if limit == "0" or (step == "unshare" and number == 28):
        return (f"userns: user namespaces are disabled (user.max_user_namespaces = {limit}): "
                "`sysctl -w user.max_user_namespaces=15000`")
    if facts.get("apparmor_restrict_unprivileged_userns") == "1" and facts["euid"] != 0:
        return ("userns: AppArmor restricts unprivileged user namespaces "
                "(kernel.apparmor_restrict_unprivileged_userns = 1): "
                "`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, or grade as root")
    if facts.get("unprivileged_userns_clone") == "0" and facts["euid"] != 0:
        return ("userns: unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0): "
                "`sudo sysctl -w kernel.unprivileged_userns_clone=1`, or grade as root")
    if step == "unshare" or step == "nested unshare":
        where = "a container's seccomp profile" if not facts["initial_userns"] else "a security policy"
        return (f"userns: user namespaces cannot be created here ({os.strerror(number or 1)}: {where}): run the "
                "container with --security-opt seccomp=unconfined, or use the uid-seccomp level")
    if step and step.startswith("write "):
        return (f"userns: a new user namespace gets no uid map ({os.strerror(number or 1)}: an AppArmor or "
                "LSM policy): `sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`, or grade as root")
    if step in ("mount proc", "make / private"):
        return (f"userns: /proc cannot be mounted ({os.strerror(number or 1)}: a masked /proc): run the container "
                "with --security-opt systempaths=unconfined, or use the uid-seccomp level")
    return f"userns: the probe failed ({result.get('error')}): use the uid-seccomp level"


def _why_uid_seccomp(facts: dict, result: dict | None, uid: int) -> str | None:
    if result is None:
        return ("uid-seccomp: not root, so the grader cannot switch student code to another uid: run the grader "
                "as root (root may setuid even in a container)")
    if result.get("ok"):
        if result.get("unreachable"):
            return unreachable_python(uid, result["unreachable"], "uid-seccomp")
        return None
    step, number = result.get("step"), result.get("errno")
    if step in ("setresuid", "setresgid"):
        return (f"uid-seccomp: cannot switch to uid {uid} ({os.strerror(number or 1)}: not mapped in this user "
                f"namespace, or no CAP_SETUID): map a range of uids that includes {uid}, or run as real root")
    if step == "seccomp":
        if number == 22:
            return ("uid-seccomp: this kernel has no seccomp filters (CONFIG_SECCOMP_FILTER): use a kernel built "
                    "with them, or the namespaces level")
        if number == 38:
            return f"uid-seccomp: {result.get('error')}: use the namespaces or userns level"
        return (f"uid-seccomp: seccomp filters are not allowed here ({os.strerror(number or 1)}: a seccomp "
                "profile denies prctl/seccomp): run the container with the default seccomp profile or "
                "--security-opt seccomp=unconfined")
    return f"uid-seccomp: the probe failed ({result.get('error')}): use the namespaces or userns level"


def probe_host(uid: int = 60001) -> HostReport:
    """Try each level's ingredients here, in forked children (a few ms); ``uid`` is the first sandbox uid."""
    started = time.monotonic()
    caps = capabilities()
    euid = os.geteuid()
    facts = {
        "euid": euid, "cap_eff": f"{caps:016x}", "cap_sys_admin": bool(caps >> CAP_SYS_ADMIN & 1),
        "can_setuid": all(caps >> c & 1 for c in (CAP_SETUID, CAP_SETGID, CAP_CHOWN)),
        "initial_userns": in_initial_user_namespace(),
        "max_user_namespaces": _read("/proc/sys/user/max_user_namespaces"),
        "apparmor_restrict_unprivileged_userns": _read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"),
        "unprivileged_userns_clone": _read("/proc/sys/kernel/unprivileged_userns_clone"),
        "seccomp": (_read("/proc/self/status") or "").split("Seccomp:")[-1].split()[0:1],
    }
    children = {"namespaces": _in_child(_try_namespaces, uid), "userns": _in_child(_try_userns)}
    if facts["can_setuid"]:
        children["uid-seccomp"] = _in_child(_try_uid_seccomp, uid)
    deadline = time.monotonic() + 5
    results = {name: _collect(child, deadline) for name, child in children.items()}
    facts["trials"] = results
    reasons = {
        "namespaces": _why_namespaces(facts, results["namespaces"], uid),
        "userns": _why_userns(facts, results["userns"]),
        "uid-seccomp": _why_uid_seccomp(facts, results.get("uid-seccomp"), uid),
        "none": None,
    }
    trial = results.get("uid-seccomp") or {}
    if euid == 0 and trial.get("unreachable"):  # even --no-sandbox never runs student code as root
        reasons["none"] = unreachable_python(uid, trial["unreachable"], "none")
    return HostReport(reasons, facts, round(time.monotonic() - started, 4))


if __name__ == "__main__":
    report = probe_host()
    for level in LEVELS:
        print(f"{level:12} {'available' if report.available(level) else report.why_not(level)}")
    print(f"best: {report.best()}  ({report.seconds * 1000:.0f} ms)")
