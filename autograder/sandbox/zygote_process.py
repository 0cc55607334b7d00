"""The zygote: a warm process that forks one isolated sandbox per submission.

Started by :class:`autograder.sandbox.zygote.Zygote` with ``subprocess`` and a cleared environment -- never forked from
the trusted grader, whose memory holds reference solutions. It imports torch, numpy and the entry module once,
then waits on a control socket (SOCK_SEQPACKET, one JSON message per request) for ``spawn`` requests. Each
request carries two file descriptors (SCM_RIGHTS): the sandbox's end of the submission socket and the write end
of a status channel back to the grader.

Per submission::

    zygote Z --fork--> C1 (relay, trusted, outside the namespaces)
                          unshare(PID|NET|NS|IPC|UTS [|USER]) --fork--> C2 = PID 1 of a new PID namespace
                                                                   private root, rlimits, unprivileged uid,
                                                                   no_new_privs, then entry(sock)

At the uid-seccomp level (and at "none" when the grader is root) C1 makes no namespace: C2 switches to a uid
of its own, first kills whatever still runs under that uid, and works in a private scratch folder; when C2 ends,
C1 (a child subreaper) switches to that uid too and kills and removes everything it left. Every level ends with
the seccomp filter of :mod:`autograder.sandbox.seccomp`, installed just before the entry point.

C1 reports C2's pidfd and, when C2 is gone, its exit status on the status channel. When C2 (PID 1) dies the
kernel kills everything else in its PID namespace, daemons included. C2 dies with C1 (PR_SET_PDEATHSIG) and C1
dies with the zygote, which dies when the grader closes the control socket.

This module must not import the grader's secrets: :data:`BLOCKED` modules cannot be imported here at all.
"""
from __future__ import annotations

import fcntl
import gc
import importlib
import importlib.abc
import importlib.util
import io
import json
import os
import resource
import select
import signal
import socket
import sys
import time
import traceback
from typing import Any

from autograder.sandbox import hostprobe, seccomp

from autograder.protocol import wire
from autograder.sandbox.isolation import (CLONE_NEWUSER, NAMESPACES, Cgroups, PR_SET_CHILD_SUBREAPER, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS,
                                  PR_SET_PDEATHSIG, UidAllocator, build_root, drop_privileges, kill_uid,
                                  needed_paths, prctl, readable, remove_owned, set_hostname, set_limits,
                                  shared_folders, switch_uid, tighten, unshare, view_plan, write_text)

BLOCKED = ("solutions", "autograder.hidden")
_CTRL: list[socket.socket] = []  # the control sockets; forked children drop them at once


# -- file descriptors and imports --------------------------------------------------------------------------
def _close_all_except(keep: set[int]) -> None:
    low = 0
    for fd in sorted(keep) + [1 << 30]:
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1


def _move_fd(fd: int, low: int = 10) -> int:
    new = fcntl.fcntl(fd, fcntl.F_DUPFD, low)
    os.close(fd)
    return new


def _hup(fd: int) -> bool:
    """True when the other end of pipe ``fd`` is closed (its only writer died)."""
    return _ready([fd], 0) != []


def _ready(fds: list[int], timeout: float | None) -> list[int]:
    """The fds of ``fds`` that are readable within ``timeout`` s (poll: fds may pass 1023)."""
    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN)
    return [fd for fd, _ in poller.poll(None if timeout is None else int(timeout * 1000))]


class _Blocker(importlib.abc.MetaPathFinder):
    """Refuses to import the grader's secrets into the zygote (and so into any sandbox)."""

    def __init__(self, names: list[str]):
        self.names = tuple(names)

    def find_spec(self, name, path=None, target=None):  # noqa: ANN001
        if any(name == n or name.startswith(n + ".") for n in self.names):
            raise ImportError(f"{name} may not be imported by the sandbox zygote")
        return None


# -- files into the sandbox ---------------------------------------------------------------------------------
def write_files(folder: str, header: dict, blobs: memoryview, owner: int | None) -> None:
    offset = 0
    for name, size in header.get("files", []):
        parts = name.split("/")
        if not name or name.startswith("/") or any(p in ("", ".", "..") for p in parts) or "\0" in name:
            raise ValueError(f"bad file name {name!r}")
        path = os.path.join(folder, *parts)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(blobs[offset:offset + size])
        offset += size
        if owner is not None:
            for p in [path] + [os.path.join(folder, *parts[:i]) for i in range(1, len(parts))]:
                os.chown(p, owner, owner)


# -- the sandbox (C2) and its relay (C1) ------------------------------------------------------------------
def _report(status: socket.socket, message: dict, fds: list[int] = ()) -> None:
    try:
        socket.send_fds(status, [json.dumps(message).encode()], list(fds))
    except OSError:
        pass


def _sandbox(job: dict, status: socket.socket, lifeline: int) -> None:
    """C2: build the sandbox around this process, then hand it to the entry point. Never returns."""
    started = time.monotonic()
    try:
        os.setsid()
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if _hup(lifeline):
            os._exit(0)
        sock = socket.socket(fileno=3)
        setup, blobs = wire.recv_frame(sock, timeout=60, max_bytes=1 << 30)
        with open("/proc/self/statm") as f:
            base_vm = int(f.read().split()[0]) * resource.getpagesize()
        level, uid = job["level"], job["uid"]
        limits = job["limits"]
        home = "/tmp"
        if level in ("namespaces", "userns"):
            owner = uid if level == "namespaces" else 0
            build_root(job["plan"], job.get("hide", []), job["scratch"], owner, limits["disk_bytes"])
            set_hostname("sandbox")
            folder = job["scratch"]
            write_files(folder, setup, blobs, owner)
            os.chdir(folder)
            set_limits(limits, base_vm)
            drop_privileges(level, uid)
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # a change of credentials cleared it
        elif uid is not None:  # uid-seccomp, or none as root: a uid of its own, and nothing left of its past
            folder = home = job["scratch_dir"]
            switch_uid(uid)
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            try:
                os.kill(-1, signal.SIGKILL)  # anything left under this uid by a grader that crashed
            except OSError:
                pass
            write_files(folder, setup, blobs, None)
            os.chdir(folder)
            set_limits(limits, base_vm)
        else:  # none, run by an unprivileged grader
            folder = home = job["scratch_dir"]
            write_files(folder, setup, blobs, None)
            os.chdir(folder)
            set_limits(limits, base_vm)
            prctl(PR_SET_NO_NEW_PRIVS, 1)
        os.environ.update({"HOME": home, "TMPDIR": home, "PWD": folder})
        if "tempfile" in sys.modules:
            sys.modules["tempfile"].tempdir = None  # found again from TMPDIR: the zygote's choice was /tmp
        if level in ("uid-seccomp", "none"):
            os.umask(0o077)  # what it writes in a shared /tmp or /dev/shm is its own
        if job.get("filter") is not None:
            seccomp.install(job["filter"])
        if _hup(lifeline):
            os._exit(0)
        checks = {}
        if job.get("probe"):  # what this sandbox can reach, checked from inside it
            checks["leaks"] = [p for p in job.get("verify", []) if readable(p)]
            checks["unreachable"] = [p for p in job.get("needed", []) if not os.access(p, os.R_OK | os.X_OK)]
        _reseed()
        _report(status, {"ready": round(time.monotonic() - started, 4), **checks})
        if job.get("probe"):
            os._exit(0)
    except BaseException as error:  # noqa: BLE001 - tell the grader why, then die
        _report(status, {"setup_error": f"{type(error).__name__}: {error}",
                         "trace": traceback.format_exc(limit=6)[-2000:]})
        os._exit(70)
    os.close(lifeline)
    status.close()
    _close_all_except({0, 1, 2, 3})
    code = 0
    try:
        job["entry"](sock)
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except BaseException:  # noqa: BLE001
        code = 1
    os._exit(code & 0xFF)


def _reseed() -> None:
    """Every sandbox starts from the same random state, whatever ran in the zygote before."""
    import random
    random.seed(0)
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed(0)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(0)


def _relay(job: dict, sock_fd: int, status_fd: int, zygote_pid: int) -> None:
    """C1: enter new namespaces, fork the sandbox, report how it ended. Never returns."""
    global _CTRL
    for ctrl in _CTRL:
        ctrl.detach()
    _CTRL = []
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != zygote_pid:
            os._exit(0)
        os.setsid()
        status_fd = _move_fd(status_fd, 10)
        if sock_fd != 3:
            os.dup2(sock_fd, 3)
            os.close(sock_fd)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        _close_all_except({0, 1, 2, 3, status_fd})
        status = socket.socket(fileno=status_fd)
    except BaseException:  # noqa: BLE001
        os._exit(71)
    try:
        Cgroups.enter(job.get("cgroups") or [])  # before the fork: the sandbox and all it starts are counted
        oom_files = _oom_counters(job.get("cgroups") or [])  # opened now: the sandbox's root will be ours too
    except BaseException as error:  # noqa: BLE001
        _report(status, {"setup_error": f"cannot enter the sandbox's cgroup: {error}"})
        os._exit(72)
    try:
        if job["level"] == "namespaces":
            unshare(NAMESPACES)
        elif job["level"] == "userns":
            if os.geteuid() == 0 and job["uid"] is not None:
                # A grader run as root: the user namespace's root is the sandbox's own host uid, not root (whose
                # processes RLIMIT_NPROC does not count). It stays dumpable to write its own uid map.
                try:
                    switch_uid(job["uid"])
                    prctl(PR_SET_DUMPABLE, 1)
                except OSError:
                    pass  # uid not mapped here (a user namespace of the launcher): stay who we are
            uid, gid = os.geteuid(), os.getegid()
            unshare(NAMESPACES | CLONE_NEWUSER)
            write_text("/proc/self/setgroups", "deny")
            write_text("/proc/self/uid_map", f"0 {uid} 1")
            write_text("/proc/self/gid_map", f"0 {gid} 1")
        elif job["uid"] is not None:
            prctl(PR_SET_CHILD_SUBREAPER, 1)  # what the sandbox leaves behind comes back here to be killed
        lifeline_r, lifeline_w = os.pipe()
        child = os.fork()
    except BaseException as error:  # noqa: BLE001
        _report(status, {"setup_error": f"cannot create the sandbox's namespaces: {error}"})
        os._exit(72)
    if child == 0:
        os.close(lifeline_w)
        _sandbox(job, status, _move_fd(lifeline_r, 10))
        os._exit(70)
    os.close(lifeline_r)
    os.close(3)  # only the sandbox holds the submission socket now: its death closes it for the grader
    if job.get("cgroups"):
        try:  # the sandbox shares our memory cgroup: when it runs out, the kernel must kill it, not its relay
            write_text("/proc/self/oom_score_adj", "-1000")
        except OSError:
            pass
    pidfd = os.pidfd_open(child)
    _report(status, {"c2": child}, [pidfd])
    wall = job["limits"].get("wall_timeout")
    timed_out = False
    grace = None if wall is None else wall + min(5.0, 0.5 + wall / 2)  # the grader enforces ``wall`` itself
    if not _ready([pidfd], grace):
        timed_out = True
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    _, wait_status, usage = os.wait4(child, 0)
    if job["level"] in ("uid-seccomp", "none") and job["uid"] is not None:
        # No PID namespace, but a uid of its own: become it, kill all it runs, remove what it left in /tmp.
        try:
            switch_uid(job["uid"])
            kill_uid()
            remove_owned(job["uid"], job.get("shared") or ())
        except OSError:
            pass
    elif job["level"] == "none":  # no PID namespace: at least end what is left of its session
        try:
            os.killpg(child, signal.SIGKILL)
        except OSError:
            pass
    report = {"wall": timed_out, "cpu": round(usage.ru_utime + usage.ru_stime, 3), "max_rss": usage.ru_maxrss}
    if _oom_killed(oom_files):
        report["oom"] = True
    if os.WIFSIGNALED(wait_status):
        number = os.WTERMSIG(wait_status)
        report.update({"signal": number, "name": signal.Signals(number).name})
    else:
        report["exit"] = os.waitstatus_to_exitcode(wait_status)
    _report(status, report)
    os._exit(0)


def _oom_counters(cgroups: list[str]) -> list[int]:
    fds = []
    for folder in cgroups:
        for name in ("memory.events", "memory.oom_control"):
            try:
                fds.append(os.open(os.path.join(folder, name), os.O_RDONLY | os.O_CLOEXEC))
            except OSError:
                continue
    return fds


def _oom_killed(counters: list[int]) -> bool:
    """Whether the kernel killed a process of the sandbox's memory cgroup for going over its limit."""
    for fd in counters:
        try:
            for line in os.pread(fd, 4096, 0).decode().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        except (OSError, ValueError):
            continue
    return False


# -- the zygote ---------------------------------------------------------------------------------------------
def _load_entry(spec: str):
    module_name, _, func = spec.rpartition(":")
    if module_name.endswith(".py"):
        loader_spec = importlib.util.spec_from_file_location("_sandbox_entry_module", module_name)
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules["_sandbox_entry_module"] = module
        loader_spec.loader.exec_module(module)
    else:
        module = importlib.import_module(module_name)
    return getattr(module, func)


def _preload(name: str) -> None:
    """Import ``name`` ("package.*": a package and all its submodules) so that sandboxes find it in memory."""
    import pkgutil
    if not name.endswith(".*"):
        importlib.import_module(name)
        return
    package = importlib.import_module(name[:-2])
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
        importlib.import_module(info.name)


def _warm_up(defer: bool = False) -> None:
    """Import and run once what every notebook uses, so that no sandbox pays for it; ``defer``: all but the
    optimizers (:data:`DEFERRED_STEPS`), which the zygote warms up step by step once it has forked its first
    sandbox, whenever it has no request to answer."""
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            pass
        x = torch.linspace(0, 1, 8, requires_grad=True)
        layer = torch.nn.Linear(8, 2)
        loss = torch.nn.functional.mse_loss(layer(x), torch.zeros(2))
        loss.backward()
        if not defer:
            for step in DEFERRED_STEPS:
                _warm_up_step(step)
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.normal_(layer.weight, 0.0, 1.0)
        torch.nn.BCEWithLogitsLoss()(torch.zeros(2), torch.ones(2))
        torch.nn.CrossEntropyLoss()(torch.zeros(2, 3), torch.tensor([0, 1]))
        torch.special.xlogy(torch.zeros(2), torch.zeros(2))
        buffer = io.BytesIO()
        torch.save({"weight": layer.weight.detach()}, buffer)  # what loading a saved state_dict imports
        buffer.seek(0)
        torch.load(buffer, weights_only=True)


# The deferred warm-up, in steps of a few tenths of a second each, taken one at a time: after each sandbox forked
# and whenever no request waits (so that it is done within the first few sandboxes even when requests never stop,
# and no sandbox waits for more than a step): the first optimizer imports torch._dynamo (about 1 s on a 2-core
# machine), sympy first (a third of that). A sandbox forked before the end imports what it needs itself.
DEFERRED_STEPS = ("IPython.core.inputtransformer2", "sympy", "torch.fx.experimental.symbolic_shapes", "torch._dynamo",
                  "optimizers")
IDLE_BEFORE_STEP = 0.05  # s without a request before the zygote takes a step


def _warm_up_step(step: str) -> None:
    try:
        if step == "optimizers":
            _warm_up_optimizers()
        else:
            importlib.import_module(step)
    except Exception:  # noqa: BLE001 - a sandbox imports what it needs anyway
        pass
    gc.freeze()


def _warm_up_optimizers() -> None:
    """Run the optimizers once (their first step imports torch._dynamo)."""
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        layer = torch.nn.Linear(2, 1)
        layer(torch.ones(2)).sum().backward()
        torch.optim.SGD(layer.parameters(), lr=0.1).step()
        torch.optim.Adam(layer.parameters()).step()


class _Levels:
    """The zygote's side of the isolation level: what each sandbox gets, prepared once."""

    def __init__(self, config: dict, report: hostprobe.HostReport):
        self.config, self.report = config, report
        self.level: str | None = None
        self.plan = None
        self.scratch_parent: str | None = None
        self.filter: bytes | None = None
        self.uses_uid = False
        self.allocator: UidAllocator | None = None
        self.counter = -1
        self.serial = 0
        self.needed: list[str] = []
        self.cgroups: Cgroups | None = None
        self.shared: list[str] = []
        self.busy_cgroups: list[str] = []  # cgroups of ended sandboxes not yet removable

    def set(self, level: str) -> dict:
        hostprobe.check_level(level)
        hide = self.config["hide"]
        notes, verify = [], []
        try:
            # Without a mount namespace, /tmp and /dev/shm are shared with the sandboxes running beside: what a
            # sandbox writes there stays its own (modes without group or other bits)
            self.filter = seccomp.program(private=level in ("uid-seccomp", "none"))
        except OSError as error:
            if level == "uid-seccomp":
                raise
            self.filter = None
            notes.append(f"no seccomp filter for the sandboxes ({error})")
        self.plan = view_plan(hide) if level in ("namespaces", "userns") else None
        root = os.geteuid() == 0
        self.uses_uid = level in ("namespaces", "uid-seccomp") or (level in ("none", "userns") and root)
        self.needed = needed_paths(hide) if level in ("uid-seccomp", "none") and self.uses_uid else []
        if level == "uid-seccomp":
            changed, verify = tighten(hide, self.needed)
            if changed:
                notes.append(_tightened_note(changed))
        if self.uses_uid and level in ("uid-seccomp", "none") and self.scratch_parent is None:
            import tempfile
            self.scratch_parent = tempfile.mkdtemp(prefix="autograder-sandboxes-")
            os.chmod(self.scratch_parent, 0o711)
        if self.uses_uid and root and self.allocator is None:
            self.allocator = UidAllocator(self.config["base_uid"], self.config["uid_count"])
        if self.cgroups is None:
            self.cgroups = Cgroups()
            self.cgroups.sweep()
        memory = self.cgroups.describe()
        notes.append(memory)
        # What a sandbox with no namespace of its own could leave for the next one under its uid
        self.shared = shared_folders((self.scratch_parent,) if self.scratch_parent else ()) if self.uses_uid else []
        self.level = level
        self.verify = verify
        return {"ok": True, "level": level, "notes": notes, "verify": verify, "needed": self.needed,
                "memory": memory}

    def make_cgroups(self, limits: dict) -> list[str]:
        return self.cgroups.create(limits) if self.cgroups is not None else []

    def drop_cgroups(self, folders: list[str]) -> None:
        self.busy_cgroups = Cgroups.remove(self.busy_cgroups + list(folders))

    def uid(self, used: set[int]) -> int | None:
        if self.level == "none" and not self.uses_uid:
            return None
        if self.allocator is not None:
            return self.allocator.acquire()
        count = self.config["uid_count"]
        for _ in range(count):
            self.counter = (self.counter + 1) % count
            if self.config["base_uid"] + self.counter not in used:
                break
        return self.config["base_uid"] + self.counter

    def release(self, uid: int | None) -> None:
        if self.allocator is not None and uid is not None:
            self.allocator.release(uid)

    def scratch(self, uid: int | None) -> str | None:
        import tempfile
        if self.level in ("namespaces", "userns"):
            return None
        if uid is None:
            return tempfile.mkdtemp(prefix="autograder-sandbox-")
        self.serial += 1
        folder = os.path.join(self.scratch_parent, f"{uid}-{self.serial}")
        os.mkdir(folder, 0o700)
        os.chown(folder, uid, uid)
        return folder

    def close(self) -> None:
        self.drop_cgroups([])
        if self.scratch_parent:
            import shutil
            shutil.rmtree(self.scratch_parent, ignore_errors=True)


def _tightened_note(changed: list[str]) -> str:
    shown = ", ".join(changed[:6]) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")
    return f"uid-seccomp: removed the permissions of other users on {shown}, so that sandboxes cannot read them"


def main(ctrl_fd: int) -> None:
    global _CTRL
    ctrl = socket.socket(fileno=ctrl_fd)
    _CTRL = [ctrl]
    data = ctrl.recv(1 << 20)
    if not data:
        return
    config = json.loads(data)
    # More control sockets, one per grading process that shares this zygote (Zygote.clients): each sends
    # requests and gets its answers on its own socket; the zygote stops when the first one closes.
    clients = [socket.socket(fileno=fd) for fd in config.get("clients", [])]
    _CTRL.extend(clients)
    sys.meta_path.insert(0, _Blocker(config.get("block", list(BLOCKED))))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        report = hostprobe.probe_host(config["base_uid"])  # while this process is small: forks are cheap
        prctl(PR_SET_CHILD_SUBREAPER, 1)  # orphans of a killed relay come back here to be reaped
        for name in config.get("preload", []):
            _preload(name)
        deferred = bool(config.get("defer_warm_up"))  # the optimizers: after the first sandbox is forked
        _warm_up(defer=deferred)
        entry = _load_entry(config["entry"])
        # Every object so far is shared with the sandboxes copy-on-write: keep the garbage collector from
        # touching them (and so copying their pages) in every sandbox.
        gc.freeze()
    except BaseException as error:  # noqa: BLE001
        ctrl.send(json.dumps({"ready": False, "error": f"{type(error).__name__}: {error}"}).encode())
        os._exit(1)
    with open("/proc/self/statm") as f:
        vm = int(f.read().split()[0]) * resource.getpagesize()
    ctrl.send(json.dumps({"ready": True, "pid": os.getpid(), "vm_bytes": vm, "report": report.to_json(),
                          "threads": len(os.listdir("/proc/self/task"))}).encode())
    server = _Server(config, entry, _Levels(config, report), deferred)
    listening = {sock.fileno(): sock for sock in (ctrl, *clients)}
    try:
        while True:
            warming = server.warming()
            ready = _ready([*listening, *server.children], IDLE_BEFORE_STEP if warming else 1.0)
            if warming and not ready:
                _warm_up_step(server.steps.pop(0))
                continue
            _reap(server.children, server.levels)
            for fd in ready:
                sock = listening.get(fd)
                if sock is None:
                    continue
                data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
                if not data and sock is not ctrl:  # a client is gone; the others go on
                    del listening[fd]
                    continue
                if not data or not server.serve(sock, data, fds):
                    return  # the grader is gone, or asked to stop
    finally:
        server.stop()


class _Server:
    """The zygote's requests: set the level, spawn a sandbox, list what it imported, stop."""

    def __init__(self, config: dict, entry: Any, levels: _Levels, deferred: bool):
        self.config, self.entry, self.levels = config, entry, levels
        self.steps = list(DEFERRED_STEPS) if deferred else []  # the warm-up left to do
        self.spawned = False  # a sandbox (not a probe) was forked: the warm-up may go on
        # pidfd -> (pid, uid, host scratch folder, cgroup folders)
        self.children: dict[int, tuple[int, int | None, str | None, list[str]]] = {}

    def serve(self, sock: socket.socket, data: bytes, fds: list[int]) -> bool:
        """Answer one request on ``sock``; False for "stop"."""
        levels = self.levels
        try:
            request = json.loads(data)
            op = request.get("op")
            if op == "level":
                sock.send(json.dumps(levels.set(request["level"])).encode())
            elif op == "spawn" and len(fds) == 2:
                self._spawn(sock, request, fds)
            elif op == "modules":
                sock.send(json.dumps({"ok": True, "modules": sorted(sys.modules),
                                      "environ": dict(os.environ)}).encode())
            elif op == "stop":
                return False
            else:
                sock.send(json.dumps({"ok": False, "error": f"bad request {op!r}"}).encode())
        except Exception as error:  # noqa: BLE001 - the zygote outlives a bad request
            sock.send(json.dumps({"ok": False, "error": f"{type(error).__name__}: {error}"}).encode())
        finally:
            for fd in fds:
                os.close(fd)
        return True

    def _spawn(self, sock: socket.socket, request: dict, fds: list[int]) -> None:
        levels, children, config = self.levels, self.children, self.config
        if levels.level is None:
            raise ValueError("no isolation level was set")
        hide = request.get("hide", [])
        tightened = []
        if levels.level == "uid-seccomp" and hide:
            tightened = tighten(hide, levels.needed)[0]
        uid = levels.uid({u for _, u, _, _ in children.values()})
        try:
            scratch_dir = levels.scratch(uid)
            cgroups = levels.make_cgroups(request["limits"])
        except BaseException:
            levels.release(uid)
            raise
        job = {"level": levels.level, "uid": uid, "limits": request["limits"], "hide": hide,
               "plan": levels.plan, "scratch": config["scratch"], "entry": self.entry,
               "scratch_dir": scratch_dir, "filter": levels.filter, "cgroups": cgroups,
               "shared": levels.shared, "probe": bool(request.get("probe"))}
        if job["probe"]:
            job.update(verify=levels.verify + hide if levels.level == "uid-seccomp" else [], needed=levels.needed)
        zygote_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            try:
                _relay(job, fds[0], fds[1], zygote_pid)
            finally:
                os._exit(71)
        pidfd = os.pidfd_open(pid)
        children[pidfd] = (pid, uid, scratch_dir, cgroups)
        reply = {"ok": True, "pid": pid, "uid": uid, "scratch": scratch_dir}
        if tightened:
            reply["notes"] = [_tightened_note(tightened)]
        socket.send_fds(sock, [json.dumps(reply).encode()], [pidfd])
        if not job["probe"]:
            self.spawned = True
            if self.steps:
                _warm_up_step(self.steps.pop(0))

    def warming(self) -> bool:
        """Whether warm-up steps are left and may be taken now (the first sandbox was forked without them)."""
        return self.spawned and bool(self.steps)

    def stop(self) -> None:
        """Kill every sandbox, wait for them (5 s at most), release what they held, and exit."""
        children, levels = self.children, self.levels
        for pidfd in list(children):
            try:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while children and time.monotonic() < deadline:
            _ready(list(children), 0.1)
            _reap(children, levels)
        levels.close()
        os._exit(0)


def _reap(children: dict[int, tuple[int, int | None, str | None, list[str]]], levels: _Levels) -> None:
    """Collect every exited child (relays, and sandboxes orphaned by a killed relay)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        for pidfd, (known, uid, scratch, cgroups) in list(children.items()):
            if known == pid:
                del children[pidfd]
                os.close(pidfd)
                if scratch:
                    import shutil
                    shutil.rmtree(scratch, ignore_errors=True)
                levels.drop_cgroups(cgroups)
                levels.release(uid)
    if levels.busy_cgroups:  # their last processes had not quite ended at the relay's exit
        levels.drop_cgroups([])


if __name__ == "__main__":
    main(int(sys.argv[1]))
