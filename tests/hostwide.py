"""Host-wide checks that judge one grading batch only, whatever else grades on the same machine.

Every batch on a host draws its sandboxes' uids from one shared range (``BASE_UID`` ...): the engine's
:class:`autograder.sandbox.isolation.UidAllocator` makes uid N a batch's while that batch holds an exclusive flock on
the file named N in its lock folder. So "a process under a sandbox uid", "a file a sandbox uid owns" or "a key of a
sandbox uid" may well belong to another batch running at the same time (another test run, an instructor grading):
a test that scans the host for what its batch left behind must not count those. Here it asks instead:

- which uids *its* batch held: :func:`run_batch` runs the batch's command and, while it runs, reads the uid locks
  from ``/proc/locks`` and keeps those held by a process descended from that command;
- which of them no other batch holds now (:func:`ours_now`): a uid another batch has taken since is that batch's,
  with whatever runs under it (its sandbox kills what its uid left before it starts).

Names a test gives what its notebooks leave (files, message queues, IPC keys, command lines) carry a token of
its own (:func:`token`), so that another run of the same test cannot be mistaken for this one either.
"""
from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Iterable, Sequence

from autograder.sandbox.zygote import BASE_UID, UID_COUNT

SANDBOX_UIDS = range(BASE_UID, BASE_UID + UID_COUNT)
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/run/shm", "/dev/mqueue")


def token(prefix: str) -> str:
    """A name no other test run uses: ``prefix`` and 12 random hex digits."""
    return f"{prefix}{uuid.uuid4().hex[:12]}"


# ------------------------------------------------------------------------------------------------ processes
def _status(pid: int | str) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def parent(pid: int) -> int | None:
    try:
        return int(_status(pid)["PPid"])
    except (OSError, KeyError, ValueError):
        return None


def descends_from(pid: int, root: int) -> bool:
    """Whether ``root`` is ``pid`` or one of its ancestors (now: an orphan's ancestors are gone)."""
    seen = 0
    while pid and seen < 64:
        if pid == root:
            return True
        pid, seen = parent(pid) or 0, seen + 1
    return False


def processes_of(uids: Iterable[int]) -> list[str]:
    """The host's processes running under one of ``uids`` ("pid uid command line")."""
    wanted, found = set(uids), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            uid = int(_status(entry)["Uid"].split()[0])
            if uid in wanted:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                found.append(f"{entry} {uid} {cmdline.strip()[:200]}")
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return found


# ------------------------------------------------------------------------------------------------- uid locks
def _lock_folders() -> list[str]:
    """Where UidAllocator keeps its lock files (its first choice, else its fallback for this user)."""
    return ["/run/autograder-uids", f"/tmp/autograder-uids-{os.geteuid()}"]


class _LockFiles:
    """(device, inode) of each sandbox uid's lock file -> the uid; read again when an unknown lock shows up (a
    batch made a new lock file), at most every ``refresh`` seconds."""

    def __init__(self, refresh: float = 0.2):
        self.refresh, self.read_at, self.by_inode = refresh, 0.0, {}

    def uid(self, device: tuple[int, int], inode: int) -> int | None:
        if (device, inode) not in self.by_inode and time.monotonic() - self.read_at > self.refresh:
            self._read()
        return self.by_inode.get((device, inode))

    def _read(self) -> None:
        self.read_at = time.monotonic()
        for folder in _lock_folders():
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if entry.name.isdigit() and int(entry.name) in SANDBOX_UIDS:
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    self.by_inode[(os.major(st.st_dev), os.minor(st.st_dev)), st.st_ino] = int(entry.name)


_LOCK_LINE = re.compile(r"^\d+:\s+FLOCK\s+\S+\s+WRITE\s+(\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s")


def uid_locks(files: _LockFiles | None = None) -> dict[int, int]:
    """Sandbox uid -> the pid holding its lock, for every uid some batch on this host holds now."""
    files = files or _LockFiles()
    held = {}
    for line in Path("/proc/locks").read_text().splitlines():
        found = _LOCK_LINE.match(line)  # "->" lines (waiters) never match
        if found:
            pid, major, minor, inode = found.groups()
            uid = files.uid((int(major, 16), int(minor, 16)), int(inode))
            if uid is not None:
                held[uid] = int(pid)
    return held


def held_elsewhere(uids: Iterable[int], ours: int | None = None) -> set[int]:
    """Those of ``uids`` that a batch holds now, other than the one run by process ``ours`` (or any, for None)."""
    wanted = set(uids)
    return {uid for uid, pid in uid_locks().items()
            if uid in wanted and (ours is None or not descends_from(pid, ours))}


def ours_now(uids: Iterable[int], ours: int | None = None) -> set[int]:
    """``uids`` less those another batch has taken since: whatever runs under the rest, or is owned by them, is
    what a batch that held them left."""
    uids = set(uids)
    return uids - held_elsewhere(uids, ours)


class UidWatch:
    """The sandbox uids held by the descendants of process ``root`` while it runs, read from /proc/locks every
    ``interval`` seconds on a thread (a sandbox holds its uid for its whole life: hundreds of milliseconds at the
    least, and a uid is kept once seen)."""

    def __init__(self, root: int, interval: float = 0.02):
        self.root, self.interval = root, interval
        self.uids: set[int] = set()
        self._files = _LockFiles()
        self._known: dict[int, bool] = {}  # holder pid -> whether it descends from root
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="uid watch", daemon=True)

    def __enter__(self) -> "UidWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def sample(self) -> None:
        for uid, pid in uid_locks(self._files).items():
            if pid not in self._known:
                self._known[pid] = descends_from(pid, self.root)
            if self._known[pid]:
                self.uids.add(uid)


def run_batch(command: Sequence[str], timeout: float, **popen: object) -> tuple[subprocess.CompletedProcess, set[int]]:
    """Run a grading batch's ``command`` (text output captured) and return it with the sandbox uids it held."""
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen) as process:
        with UidWatch(process.pid) as watch:
            try:
                out, err = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                out, err = process.communicate()
    return subprocess.CompletedProcess(command, process.returncode, out, err), watch.uids


# ---------------------------------------------------------------------------------- what a batch left behind
def keys_of(uids: Iterable[int]) -> list[str]:
    """Lines of /proc/key-users for those of ``uids`` that own kernel keys."""
    wanted, found = set(uids), []
    for line in Path("/proc/key-users").read_text().splitlines():
        uid, _, rest = line.partition(":")
        numbers = re.findall(r"(\d+)/(\d+)", rest)
        if uid.strip().isdigit() and int(uid) in wanted and numbers and int(numbers[0][0]) > 0:
            found.append(line)
    return found


def ipc_objects(uids: Iterable[int], key: int) -> list[str]:
    """System V shared memory, message queues and semaphores with ``key`` or owned or created by one of ``uids``."""
    wanted, found = set(uids), []
    for name in ("shm", "msg", "sem"):
        try:
            header, *lines = Path(f"/proc/sysvipc/{name}").read_text().splitlines()
        except (OSError, ValueError):
            continue
        columns = header.split()
        for line in lines:
            row = dict(zip(columns, line.split()))
            owners = {int(row[c]) for c in ("uid", "cuid") if row.get(c, "").isdigit()}
            if int(row["key"]) == key or owners & wanted:
                found.append(f"{name}: {line}")
    return found


def files_left(uids: Iterable[int], tag: str, folders: Sequence[str] = SHARED_FOLDERS, depth: int = 3) -> list[str]:
    """Files and folders in the world-writable ``folders`` (``depth`` levels down) named with ``tag`` or owned by
    one of ``uids``."""
    wanted, found = set(uids), []
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            if root.count("/") - folder.count("/") >= depth:
                dirs[:] = []
            for name in dirs + files:
                path = os.path.join(root, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if tag in name or st.st_uid in wanted:
                    found.append(path)
    return found
