"""Start, limit, talk to and kill the untrusted process that runs one submission.

Student code never runs in the grader's process. A :class:`Zygote` is a warm helper process, started once per
grading run with ``subprocess`` and a cleared environment (never forked from the grader, which holds the reference
solutions); it imports torch once and forks one sandbox per submission (:mod:`autograder.sandbox.zygote_process`):

* a fresh PID namespace whose PID 1 is the submission: when it ends or is killed, everything it started dies;
* no network (a fresh network namespace), private IPC and hostname;
* a private root: read-only system folders and Python, a fresh /proc, /dev (null, zero, full, random, urandom),
  writable /tmp and scratch folder (the working directory, with the data files given to :meth:`Zygote.spawn`),
  and nothing of the repository (``solutions/``, ``autograder/hidden``), of other submissions or of results;
* rlimits (:class:`Limits`), ``no_new_privs``, an unprivileged uid of its own, no inherited file descriptors but
  the submission socket (fd 3); stdin, stdout and stderr are /dev/null;
* a seccomp filter (:mod:`autograder.sandbox.seccomp`): no sockets, ptrace, mounts, namespaces, keyrings, memfd, System V
  IPC, POSIX message queues...;
* where the host lets the grader write a cgroup (v2 with the memory controller delegated, or v1), a cgroup of its
  own: all its memory (tmpfs and shared memory included), its processes and its CPU share counted together;
  otherwise RLIMIT_AS per process (``Zygote.memory`` and ``notes`` say which);
* the same niceness for every sandbox, which it can only lower.

That is the "namespaces" level (root with CAP_SYS_ADMIN), or "userns" (the same through a user namespace).
Where neither can be had (a container's default profile), "uid-seccomp" keeps the uid, rlimits, no_new_privs and
seccomp filter, a private scratch folder, and makes the hidden paths unreadable to other users; "none" (trusted
notebooks only) keeps the process, rlimits and, when the grader is root, the uid. See
:mod:`autograder.sandbox.hostprobe`; ``Zygote(level="auto")`` takes the strongest level available.

    with Zygote(entry="autograder.sandbox.child:serve", limits=Limits(memory_bytes=2 << 30)) as zygote:
        with zygote.spawn(files={"points.csv": data}) as sandbox:
            header, blobs = sandbox.request({"op": "run", ...}, [], timeout=30)

A :class:`Sandbox` speaks :mod:`autograder.protocol.wire` frames. A request that times out, a sandbox that dies, or a
frame that breaks the protocol kill the sandbox and raise :class:`SandboxTimeout`, :class:`SandboxDied` or
:class:`SandboxProtocolError` -- subclasses of :class:`wire.Timeout`, :class:`wire.Closed` and
:class:`wire.WireError`.
"""
from __future__ import annotations

import errno
import json
import os
import select
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import autograder
from autograder.protocol import wire
from autograder.sandbox.hostprobe import ISOLATING, HostReport, check_level, stronger

PACKAGE_DIR = Path(autograder.__file__).resolve().parent
REPO = PACKAGE_DIR.parent  # a checkout (autograder/ beside the course), or site-packages for a regular install
# A checkout holds the course (hidden tests, solutions): never visible in a sandbox. site-packages stays visible.
CHECKOUT = REPO if (REPO / "pyproject.toml").is_file() else None
DEFAULT_ENTRY = "autograder.sandbox.child:serve"
# Imported once in the zygote. The repository is invisible from a sandbox, so what a notebook may import from the
# kit (the students' self-check) must already be in memory; "pkg.*" means the package and all its submodules.
DEFAULT_PRELOAD = ("numpy", "torch", "autograder.selfcheck.*")
SCRATCH = "/scratch"  # the sandbox's working directory
BASE_UID, UID_COUNT = 60001, 1000  # the host uids sandboxes run under (each unique on the host while it runs)


class SandboxError(Exception):
    """Something went wrong with a sandbox (not with the code inside it)."""


class SandboxUnavailable(SandboxError):
    """Submissions cannot be isolated here as asked; the message is one line naming the causes and the fixes."""


class SandboxTimeout(SandboxError, wire.Timeout):
    """The sandbox did not answer in time; it has been killed."""


class SandboxDied(SandboxError, wire.Closed):
    """The sandbox ended (exit, crash, kill, limit); ``reason`` says how."""

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = reason


class SandboxProtocolError(SandboxError, wire.WireError):
    """The sandbox sent something that is not a valid frame; it has been killed."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use. ``None`` means no limit."""

    memory_bytes: int | None = 4 << 30  # address space on top of what the warm zygote already maps
    cpu_seconds: int | None = 300  # CPU time of each process
    file_bytes: int | None = 64 << 20  # the largest file it may write
    disk_bytes: int = 256 << 20  # size of each of its tmpfs (scratch folder, /tmp)
    open_files: int | None = 256
    processes: int | None = 64  # processes and threads of its uid (and of its cgroup, where it has one)
    nice: int | None = 5  # the niceness every sandbox runs at; it may lower its priority, never raise it
    call_timeout: float = 10.0  # default wait for one answer
    wall_timeout: float | None = 600.0  # the whole life of the sandbox


def _python_env() -> dict[str, str]:
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


_BOOT = ("import sys; sys.path.insert(0, sys.argv[2]); "
         "from autograder.sandbox.zygote_process import main; main(int(sys.argv[1]))")


def _readable(fd: int | socket.socket, timeout: float | None) -> bool:
    """Whether ``fd`` is readable (or at its end) within ``timeout`` s. poll, not select: fds may pass 1023."""
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(None if timeout is None else max(0, int(timeout * 1000 + 0.999))))
    except (OSError, ValueError):
        return True  # closed: nothing left to wait for


class Zygote:
    """The warm process that forks sandboxes. Start one per grading run; it is safe to share between threads.

    ``entry`` ("module:function" or "/path/file.py:function") is imported once in the zygote and called as
    ``entry(sock)`` inside every sandbox; it should import everything it needs at import time (the repository
    is not visible from a sandbox). ``level`` is "auto" (the strongest level this host allows) or one of
    :data:`autograder.sandbox.hostprobe.LEVELS`; ``minimum`` refuses (:class:`SandboxUnavailable`) a level weaker than
    it. ``isolate=False`` is the old spelling of ``level="none"`` (the instructor's ``--no-sandbox``). ``hide``
    adds folders a sandbox must not see (submissions, results); the repository is always hidden. ``launcher``
    prefixes the zygote's command line (e.g. ``["unshare", "--user", "--map-root-user"]``); ``log`` receives the
    zygote's stderr. ``defer_warm_up``: the zygote says it is ready once its imports are done, and runs the rest
    of its warm-up (the optimizers, which import torch._dynamo: about 2 s) just after forking the first sandbox,
    while that one runs; a sandbox started before it imports what it needs itself. ``clients``: that many more
    control sockets (``client_sockets``), for other processes to share this zygote (:mod:`autograder.sandbox.zygote_client`).

    After start: ``level`` (the level in use), ``report`` (the :class:`HostReport` of the zygote's host) and
    ``notes`` (lines for the instructor: why a stronger level was not used, which permissions were tightened).
    """

    def __init__(self, entry: str = DEFAULT_ENTRY, *, limits: Limits | None = None, isolate: bool = True,
                 level: str = "auto", minimum: str | None = None,
                 hide: Iterable[str | os.PathLike] = (), preload: Sequence[str] = DEFAULT_PRELOAD,
                 launcher: Sequence[str] = (), log: Any = None, base_uid: int = BASE_UID, uid_count: int = UID_COUNT,
                 start_timeout: float = 120.0, defer_warm_up: bool = False, clients: int = 0):
        if not isolate:
            level = "none"
        if level != "auto":
            check_level(level)
        if minimum is not None:
            check_level(minimum)
            if level != "auto" and stronger(minimum, level):
                raise ValueError(f"isolation level {level!r} is weaker than the minimum {minimum!r}")
        self.entry = entry
        self.limits = limits or Limits()
        self.requested, self.minimum = level, minimum
        self.isolate = level != "none"
        self.hide = sorted({str(Path(h).resolve()) for h in hide} | ({str(CHECKOUT)} if CHECKOUT else set()))
        self.restarts = 0
        self.level: str | None = None
        self.notes: list[str] = []
        self.memory: str | None = None  # which memory accounting the sandboxes get (also in ``notes``)
        self._config = {"entry": entry, "hide": self.hide, "preload": list(preload),
                        "base_uid": base_uid, "uid_count": uid_count, "scratch": SCRATCH,
                        "defer_warm_up": bool(defer_warm_up)}
        self._launcher, self._log, self._start_timeout = list(launcher), log, start_timeout
        self._clients_wanted = clients
        self.client_sockets: list[socket.socket] = []  # see autograder.sandbox.zygote_client
        self._lock = threading.Lock()
        self._sandboxes: weakref.WeakSet[Sandbox] = weakref.WeakSet()
        self._closed = False
        self._state: dict[str, Any] = {}  # the zygote's control socket and process, shared with the finalizer
        self._finalizer = weakref.finalize(self, Zygote._shutdown, self._state, self._sandboxes)
        try:
            if not self._launcher and level != "none":
                self._refuse_early(base_uid)
            self._start()
            self._choose()
        except BaseException:
            self.close()
            raise

    @property
    def mode(self) -> str | None:
        """The old name of :attr:`level`."""
        return self.level

    # -- lifecycle ---------------------------------------------------------------------------------------
    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # The control sockets of the processes that will share this zygote (the first start only)
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
                 for _ in range(0 if self.restarts else self._clients_wanted)]
        command = [*self._launcher, sys.executable, "-s", "-B", "-c", _BOOT, str(theirs.fileno()), str(REPO)]
        client_fds = [far.fileno() for _, far in pairs]  # the same numbers in the zygote (pass_fds)
        try:
            process = subprocess.Popen(
                command, env=_python_env(), cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self._log, pass_fds=[theirs.fileno(), *client_fds], start_new_session=True)
        except BaseException:
            ours.close()
            for near, _ in pairs:
                near.close()
            raise
        finally:
            theirs.close()
            for _, far in pairs:
                far.close()
        self._state.update(ctrl=ours, process=process)
        self._ctrl, self._process = ours, process
        self.client_sockets = [near for near, _ in pairs]
        ours.send(json.dumps({**self._config, "clients": client_fds}).encode())
        if not _readable(ours, self._start_timeout):
            raise SandboxError(f"the sandbox zygote did not start within {self._start_timeout:g} s")
        data = ours.recv(1 << 20)
        hello = json.loads(data) if data else {"ready": False, "error": f"it exited ({process.wait()})"}
        if not hello.get("ready"):
            raise SandboxError(f"the sandbox zygote could not start: {hello.get('error')}")
        self.pid: int = hello["pid"]
        self.report = HostReport.from_json(hello["report"])
        self.info = hello
        if self.level is not None:  # a restart: the same level as before
            self._set_level(self.level)

    def _set_level(self, level: str) -> list[str]:
        reply, _ = self._call_locked({"op": "level", "level": level})
        self.memory = reply.get("memory")
        return reply.get("notes", [])

    def _choose(self) -> None:
        """Take the requested level, or the strongest available one, and prove it by building a sandbox."""
        report = self.report
        if self.requested == "auto":
            candidates = [lv for lv in ISOLATING if self.minimum is None or not stronger(self.minimum, lv)]
        else:
            candidates = [self.requested]
        failed: list[str] = []
        for level in candidates:
            if not report.available(level):
                failed.append(report.why_not(level))
                continue
            try:
                notes = self._set_level(level)
                self._probe(level)
            except SandboxError as error:
                why = str(error) if str(error).startswith(f"{level}: ") else f"{level}: {error}"
                report.reasons[level] = why
                failed.append(why)
                continue
            self.level = level
            if self.requested == "auto":
                skipped = [r for lv, r in report.reasons.items() if r and stronger(lv, level)]
                if skipped:
                    self.notes.append(f"isolation: {level}, not stronger because " + "; ".join(skipped))
            self.notes.extend(notes)
            return
        raise SandboxUnavailable(self._unavailable(failed))

    def _refuse_early(self, base_uid: int) -> None:
        """The zygote would run as this process does: when no wanted level is possible here, say so before
        starting it (and importing torch)."""
        from autograder.sandbox.hostprobe import probe_host
        report = probe_host(base_uid)
        wanted = [self.requested] if self.requested != "auto" else [
            lv for lv in ISOLATING if self.minimum is None or not stronger(self.minimum, lv)]
        if not any(report.available(lv) for lv in wanted):
            self.report = report
            raise SandboxUnavailable(self._unavailable([report.why_not(lv) for lv in wanted]))

    def _unavailable(self, failed: list[str]) -> str:
        why = "; ".join(f.replace("\n", " ") for f in failed)
        if self.requested == "none":
            return f"cannot run even trusted notebooks here: {why}"
        if self.minimum is not None and self.minimum != "none":
            return (f"isolation {self.minimum} or stronger is not available here: {why}; or ask for a weaker "
                    "--isolation")
        if self.requested != "auto":
            return f"isolation {self.requested} is not available here: {why}; or ask for --isolation auto"
        return f"cannot isolate submissions here: {why}; or grade only trusted notebooks with --no-sandbox"

    def _restart_if_dead(self) -> None:
        """A zygote that died (killed from outside, out of memory) is replaced, once per call."""
        if self._closed or self._process.poll() is None:
            return
        with self._lock:
            if self._process.poll() is None:
                return
            Zygote._stop(self._state)
            self.restarts += 1
            self._start()

    def _probe(self, level: str) -> None:
        """Build one sandbox and throw it away: a level that does not work here says so at once, and at the
        uid-seccomp level the sandbox checks from inside that it can read Python but none of the hidden paths."""
        try:
            sandbox = self.spawn(probe=True, _level=level)
        except SandboxError as error:
            raise SandboxError(str(error)) from None
        with sandbox:
            sandbox.wait(30)
            if "ready" not in sandbox.status:
                raise SandboxError(sandbox.exit_reason or "the probe sandbox did not answer")
            unreachable = sandbox.status.get("unreachable") or []
            if unreachable:
                from autograder.sandbox.hostprobe import unreachable_python
                raise SandboxError(unreachable_python(sandbox.uid, unreachable, level))
            leaks = sandbox.status.get("leaks") or []
            if leaks:
                more = f" (and {len(leaks) - 1} more)" if len(leaks) > 1 else ""
                raise SandboxError(
                    f"{level}: the sandbox uid can still read {leaks[0]}{more} after its permissions were tightened "
                    "(an ACL, a group, or a read-only file system): make it unreadable to other users "
                    "(`chmod -R o-rwx`, `setfacl -b`), or use the namespaces level")

    @property
    def alive(self) -> bool:
        return not self._closed and "process" in self._state and self._process.poll() is None

    def close(self) -> None:
        """Kill every sandbox and stop the zygote. Idempotent."""
        self._closed = True
        self._finalizer()

    @staticmethod
    def _stop(state: dict[str, Any]) -> None:
        ctrl, process = state.pop("ctrl", None), state.pop("process", None)
        if ctrl is not None:
            try:
                ctrl.send(b'{"op": "stop"}')
            except OSError:
                pass
            ctrl.close()
        if process is not None:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    @staticmethod
    def _shutdown(state: dict[str, Any], sandboxes: weakref.WeakSet) -> None:
        for sandbox in list(sandboxes):
            sandbox.close()
        Zygote._stop(state)

    def __enter__(self) -> "Zygote":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- talking to the zygote -----------------------------------------------------------------------------
    def _call(self, message: dict, fds: Sequence[int] = (), timeout: float = 30.0) -> tuple[dict, list[int]]:
        if self._closed:
            raise SandboxError("the sandbox zygote is closed")
        with self._lock:
            return self._call_locked(message, fds, timeout)

    def _call_locked(self, message: dict, fds: Sequence[int] = (), timeout: float = 30.0) -> tuple[dict, list[int]]:
        """:meth:`_call`, for a caller that holds the lock (or is alone: the constructor)."""
        try:
            socket.send_fds(self._ctrl, [json.dumps(message).encode()], list(fds))
            if not _readable(self._ctrl, timeout):
                raise SandboxError(f"the sandbox zygote did not answer within {timeout:g} s")
            data, got, _, _ = socket.recv_fds(self._ctrl, 1 << 22, 2)
        except OSError as error:
            raise SandboxError(f"the sandbox zygote is gone ({error})") from None
        if not data:
            raise SandboxError(f"the sandbox zygote is gone ({self._exit_status()})")
        reply = json.loads(data)
        if not reply.get("ok"):
            for fd in got:
                os.close(fd)
            raise SandboxError(f"the sandbox zygote refused: {reply.get('error')}")
        return reply, got

    def _exit_status(self) -> str:
        return f"exit status {self._process.poll()}"

    def modules(self) -> list[str]:
        """The modules imported in the zygote (every sandbox starts with them)."""
        return self._call({"op": "modules"})[0]["modules"]

    def environ(self) -> dict[str, str]:
        return self._call({"op": "modules"})[0]["environ"]

    def spawn(self, files: Mapping[str, bytes | str] | None = None, *, limits: Limits | None = None,
              hide: Iterable[str | os.PathLike] = (), probe: bool = False, _level: str | None = None) -> "Sandbox":
        """Start a sandbox for one submission, with ``files`` (relative name -> content) in its working folder."""
        if self.level is None and _level is None and not self._closed:
            raise SandboxError("the sandbox zygote has no isolation level")
        limits = limits or self.limits
        self._restart_if_dead()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        status, status_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        message = {"op": "spawn", "limits": asdict(limits), "probe": probe, "level": _level,
                   "hide": sorted(str(Path(h).resolve()) for h in hide)}
        try:
            reply, fds = self._call(message, [theirs.fileno(), status_theirs.fileno()])
        except BaseException:
            for s in (ours, theirs, status, status_theirs):
                s.close()
            raise
        finally:
            theirs.close()
            status_theirs.close()
        for note in reply.get("notes", []):
            if note not in self.notes:
                self.notes.append(note)
        sandbox = Sandbox(ours, status, fds[0], reply["pid"], reply["uid"], limits, scratch=reply.get("scratch"))
        self._sandboxes.add(sandbox)
        try:
            names, blobs = [], []
            for name, content in (files or {}).items():
                parts = str(name).split("/")
                if any(p in ("", ".", "..") for p in parts) or "\0" in str(name):
                    raise ValueError(f"a sandbox file needs a plain relative name, not {name!r}")
                data = content.encode() if isinstance(content, str) else bytes(content)
                names.append([str(name), len(data)])
                blobs.append(data)
            try:
                ours.settimeout(30)
                wire.send_frame(ours, {"files": names}, blobs)
            except OSError:
                pass  # it died already: the status says why
            sandbox._await_start(30.0)
        except BaseException:
            sandbox.close()
            raise
        return sandbox


def read_regular_file(path: str, max_bytes: int) -> bytes:
    """A regular file's bytes, not following a symbolic link at its last step, at most ``max_bytes``."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if info.st_size > max_bytes:
            raise OSError(errno.EFBIG, f"the file has {info.st_size} bytes, more than the {max_bytes} allowed")
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > max_bytes:
            raise OSError(errno.EFBIG, f"the file has more than the {max_bytes} bytes allowed")
        return b"".join(chunks)
    finally:
        os.close(fd)


class Sandbox:
    """The grader's handle on one running submission: ``request``, ``kill``, ``alive``; a context manager."""

    def __init__(self, sock: socket.socket, status: socket.socket, pidfd: int, pid: int, uid: int, limits: Limits,
                 scratch: str | None = None):
        self.sock = sock
        self.pid = pid  # the relay outside the namespaces (C1)
        self.scratch = scratch  # its working folder on the host, where it has one (uid-seccomp, none)
        self.uid = uid
        self.limits = limits
        self.started = time.monotonic()
        self.status: dict[str, Any] = {}  # what the relay and the sandbox reported
        self.killed_because: str | None = None
        self._status = status
        self._pidfd: int | None = pidfd  # C1
        self._pidfd2: int | None = None  # C2, PID 1 of the sandbox
        self._lock = threading.RLock()

    # -- status -------------------------------------------------------------------------------------------
    def _pump(self, timeout: float | None = 0) -> str:
        """Read one status message within ``timeout`` s: "message", "idle" or "closed" (the relay is gone)."""
        with self._lock:
            if self._status.fileno() < 0:
                return "closed"
            if not _readable(self._status, timeout):
                return "idle"
            try:
                data, fds, _, _ = socket.recv_fds(self._status, 1 << 16, 2)
            except OSError:
                data, fds = b"", []
            if not data:
                self._status.close()
                return "closed"
            try:
                message = json.loads(data)
            except ValueError:
                message = {}
            if "c2" in message and fds and self._pidfd2 is None:
                self._pidfd2 = fds.pop(0)
            for fd in fds:
                os.close(fd)
            if isinstance(message, dict):
                self.status.update(message)
            return "message"

    def _await_start(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while "c2" not in self.status:
            if "setup_error" in self.status:
                raise SandboxError(f"the sandbox could not be built: {self.status['setup_error']}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise SandboxError(f"the sandbox did not start within {timeout:g} s")
            if self._pump(left) == "closed":
                raise SandboxError(f"the sandbox could not be built: {self.exit_reason}")

    @property
    def alive(self) -> bool:
        """True while the sandbox's PID 1 runs."""
        for fd in (self._pidfd2, self._pidfd):
            if fd is not None:
                return not _readable(fd, 0)
        return False

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the sandbox has ended and its relay has reported; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            if self._pump(left) == "closed":  # the relay is gone; so is the sandbox, or it is dying with it
                if self._pidfd2 is None:
                    return True
                left = None if deadline is None else max(deadline - time.monotonic(), 0.0)
                return _readable(self._pidfd2, left)

    @property
    def exit_reason(self) -> str | None:
        """How the sandbox ended, in words (None while it runs)."""
        while self._pump(0) == "message":
            pass
        s = self.status
        if "setup_error" in s:
            return f"the sandbox could not be built: {s['setup_error']}"
        why = f" ({self.killed_because})" if self.killed_because else ""
        if s.get("wall"):
            return f"killed after its wall-clock limit of {self.limits.wall_timeout:g} s"
        if s.get("oom") and self.limits.memory_bytes is not None:
            return f"killed after its memory limit of {self.limits.memory_bytes / (1 << 30):.3g} GiB"
        cpu = self.limits.cpu_seconds
        if "signal" in s and cpu is not None and s.get("cpu", 0) >= cpu - 0.05:
            return f"killed after its CPU time limit of {cpu:g} s"  # PID 1 gets no SIGXCPU, only the SIGKILL
        if "signal" in s:
            name = s.get("name", str(s["signal"]))
            hint = {"SIGXCPU": " (CPU time limit)", "SIGSEGV": " (segmentation fault)", "SIGBUS": " (bus error)",
                    "SIGABRT": " (aborted)", "SIGXFSZ": " (file size limit)"}.get(name, "")
            return f"killed by {name}{hint}{why}"
        if "exit" in s:
            return f"exited with status {s['exit']}{why}"
        if not self.alive:
            return f"ended{why}"
        return None

    # -- talking ------------------------------------------------------------------------------------------
    def _budget(self, timeout: float | None) -> tuple[float, str]:
        wanted = self.limits.call_timeout if timeout is None else timeout
        if self.limits.wall_timeout is not None:
            left = self.limits.wall_timeout - (time.monotonic() - self.started)
            if left < wanted:
                return left, f"its wall-clock limit of {self.limits.wall_timeout:g} s ran out"
        return wanted, f"no answer within {wanted:g} s"

    def send(self, header: dict[str, Any], blobs: Sequence[bytes] = (), timeout: float | None = None) -> None:
        """Send one frame (waiting at most ``timeout`` s for room in the socket)."""
        budget, why = self._budget(timeout)
        self._check_usable(why, budget)
        try:
            self.sock.settimeout(budget)
            wire.send_frame(self.sock, header, list(blobs))
        except (TimeoutError, socket.timeout):
            self._fail(SandboxTimeout, why)
        except OSError:
            self._fail(SandboxDied, "it ended")

    def recv(self, timeout: float | None = None, max_bytes: int = wire.MAX_FRAME) -> tuple[dict, memoryview]:
        """Wait for one frame (``timeout`` defaults to ``limits.call_timeout``)."""
        budget, why = self._budget(timeout)
        self._check_usable(why, budget)
        try:
            return wire.recv_frame(self.sock, timeout=budget, max_bytes=max_bytes)
        except wire.Timeout:
            self._fail(SandboxTimeout, why)
        except (wire.Closed, ConnectionError):
            self._fail(SandboxDied, "it ended")
        except wire.WireError as error:
            self._fail(SandboxProtocolError, f"it broke the protocol ({error})")
        except OSError as error:
            self._fail(SandboxDied, f"its connection failed ({error})")
        raise AssertionError("unreachable")

    def request(self, header: dict[str, Any], blobs: Sequence[bytes] = (), timeout: float | None = None,
                max_bytes: int = wire.MAX_FRAME) -> tuple[dict, memoryview]:
        """Send one frame and wait for the answer, all within ``timeout`` s (default ``limits.call_timeout``,
        never past the wall-clock limit). Raises SandboxTimeout, SandboxDied or SandboxProtocolError, after
        which the sandbox is dead."""
        budget, _ = self._budget(timeout)
        deadline = time.monotonic() + budget
        self.send(header, blobs, budget)
        return self.recv(max(deadline - time.monotonic(), 1e-3), max_bytes)

    def _check_usable(self, why: str, budget: float) -> None:
        if self.sock.fileno() < 0 or self.killed_because:
            reason = self.exit_reason
            raise SandboxDied(f"the sandbox is gone: {reason}", reason)
        if budget <= 0:
            self._fail(SandboxTimeout, why)

    def _fail(self, kind: type[SandboxError], why: str) -> None:
        if kind is SandboxDied:
            self.wait(2)  # let the relay say how it ended
            reason = self.exit_reason
            self.kill(why)
            raise SandboxDied(f"the sandbox ended: {reason}", reason)
        self.kill(why)
        raise kind(f"{why}; the sandbox was killed")

    def read_file(self, name: str, max_bytes: int) -> bytes:
        """The bytes of file ``name`` in the sandbox's working folder, read from outside the sandbox (its code
        cannot forge them): through /proc/<PID 1>/root where it has a root of its own. A symbolic link, a
        non-regular file or one over ``max_bytes`` is refused with an OSError."""
        if not name or "/" in name or "\0" in name or name in (".", ".."):
            raise ValueError(f"a sandbox file needs a plain name, not {name!r}")
        c2 = self.status.get("c2")
        folder = self.scratch or (f"/proc/{c2}/root{SCRATCH}" if type(c2) is int and self.alive else None)
        if folder is None:
            raise OSError(errno.ESRCH, "the sandbox has ended")
        return read_regular_file(os.path.join(folder, name), max_bytes)

    # -- ending -------------------------------------------------------------------------------------------
    def kill(self, why: str = "killed by the grader", wait: bool = True) -> None:
        """SIGKILL the sandbox's PID 1 (and with it everything in its namespace); wait until all are gone
        (``wait=False``: only the signal, nothing of the sandbox runs on; :meth:`close` waits). Idempotent;
        never raises."""
        try:
            with self._lock:
                if self.killed_because is None and self.alive:
                    self.killed_because = why
                for fd in (self._pidfd2, self._pidfd):
                    if fd is not None:
                        try:
                            signal.pidfd_send_signal(fd, signal.SIGKILL)
                        except OSError:
                            pass
                        break
                if not wait:
                    return
                if not self.wait(5) and self._pidfd is not None:
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                for fd in (self._pidfd, self._pidfd2):
                    if fd is not None:
                        _readable(fd, 5)
        except Exception:  # noqa: BLE001 - kill must never fail
            pass

    def close(self) -> None:
        """Kill the sandbox and release its descriptors. Idempotent."""
        self.kill("closed by the grader")
        with self._lock:
            for fd in (self._pidfd, self._pidfd2):
                if fd is not None:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            self._pidfd = self._pidfd2 = None
            self.sock.close()
            self._status.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001
            pass
