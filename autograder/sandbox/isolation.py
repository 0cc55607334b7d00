"""Linux isolation for one sandbox: namespaces, a private root, resource limits, an unprivileged uid.

Where no namespace can be made (the uid-seccomp level), a uid of its own (:class:`UidAllocator`), whatever it
leaves behind killed and removed (:func:`kill_uid`, :func:`remove_owned`), and hidden paths made unreadable to
other users (:func:`tighten`). The seccomp filter lives in :mod:`autograder.sandbox.seccomp`.

Thin ctypes wrappers over the kernel's own calls (unshare, mount, pivot_root, prctl, setrlimit), used by the
zygote (:mod:`autograder.sandbox.zygote_process`) in the child it forks for each submission.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import resource
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
NAMESPACES = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME = 16384, 1 << 18, 1 << 21
MNT_DETACH = 2

PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 36, 38, 47, 4

SYSCALLS = {"x86_64": {"pivot_root": 155, "capset": 126}, "aarch64": {"pivot_root": 41, "capset": 91}}

SYSTEM_DIRS = ("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
DEVICES = ("null", "zero", "full", "random", "urandom")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_libc.syscall.restype = ctypes.c_long

def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result



def _b(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)



def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")



def prctl(option: int, arg: int = 0) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), f"prctl({option})")



def set_hostname(name: str) -> None:
    """Best effort: a sandbox's name is cosmetic."""
    _libc.sethostname(name.encode(), len(name.encode()))


def unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")



def _syscall(name: str, *args: object) -> int:
    number = SYSCALLS.get(platform.machine(), {}).get(name)
    if number is None:
        raise OSError(errno.ENOSYS, f"{name}: unknown syscall number on {platform.machine()}")
    return _check(_libc.syscall(ctypes.c_long(number), *args), name)



def in_initial_user_namespace() -> bool:
    try:
        with open("/proc/self/uid_map") as f:
            return f.read().split() == ["0", "0", "4294967295"]
    except OSError:
        return False



def write_text(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)



def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")



def view_plan(hide: list[str], repo_markers: tuple[str, ...] = ("autograder", "solutions")) -> dict:
    """What a sandbox sees: read-only binds of the system and of Python, nothing of ``hide``.

    Returns {"binds": [[path, essential], ...], "links": [[path, target], ...], "masks": [path, ...]} with real
    (symlink-free) absolute paths. Essential binds (the system, the Python prefixes) stay visible even inside a
    hidden folder (a virtual environment inside the repository); other sys.path folders near a hidden one are
    left out."""
    hide = sorted({os.path.realpath(h) for h in hide})
    binds: dict[str, bool] = {}
    links: dict[str, str] = {}
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)}
    candidates = [(d, True) for d in SYSTEM_DIRS] + [(p, True) for p in sorted(prefixes)]
    candidates += [(p, False) for p in sys.path if p and os.path.isabs(p)]
    for path, essential in candidates:
        if os.path.islink(path) and os.path.dirname(path) == "/":
            links[path] = os.readlink(path)  # /bin -> usr/bin
            continue
        real = os.path.realpath(path)
        if not os.path.isdir(real) or real == "/":
            continue
        if not essential and any(_inside(h, real) or _inside(real, h) for h in hide):
            continue  # e.g. the repository itself on sys.path
        if any(_inside(real, b) and not any(_inside(real, h) and not _inside(b, h) for h in hide) for b in binds):
            continue  # already visible through a wider bind
        binds[real] = essential
        if os.path.abspath(path) != real and os.path.dirname(os.path.abspath(path)) != "/":
            links[os.path.abspath(path)] = real
    masks = set()
    for h in hide:
        if any(_inside(h, b) and not _inside(b, h) for b in binds) and os.path.exists(h):
            masks.add(h)
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and any(_inside(real, b) for b in binds) and not any(_inside(real, h) for h in hide):
            for name in repo_markers:
                if os.path.isdir(os.path.join(real, name)):
                    masks.add(os.path.join(real, name))
    return {"binds": sorted([b, e] for b, e in binds.items()), "links": sorted([p, t] for p, t in links.items()),
            "masks": sorted(masks)}



def _remount_flags(fd: int) -> int:
    """Flags to remount a bind of ``fd`` read-only, keeping the flags a user namespace may not clear."""
    f = os.statvfs(fd).f_flag
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
    if f & os.ST_NOEXEC:
        flags |= MS_NOEXEC
    if f & os.ST_NOATIME:
        flags |= MS_NOATIME
    if f & os.ST_NODIRATIME:
        flags |= MS_NODIRATIME
    if f & os.ST_RELATIME:
        flags |= MS_RELATIME
    return flags



def _mkdirs(root: str, path: str, mounted: dict[str, str]) -> str:
    """Create ``path`` under ``root`` on one of our own tmpfs, never inside a bind of the host."""
    full = root + path
    if os.path.lexists(full):
        return full
    cover = max((m for m in mounted if _inside(path, m)), key=len, default=None)
    if cover is not None and mounted[cover] == "bind":
        raise OSError(errno.EPERM, f"will not create {path} inside a bind of the host")
    _mkdirs(root, os.path.dirname(path), mounted)
    os.mkdir(full, 0o755)
    return full



def build_root(plan: dict, extra_hide: list[str], scratch: str, owner: int, disk_bytes: int) -> None:
    """Make a private root: binds of ``plan`` read-only, fresh /dev, /proc, /tmp and scratch; pivot into it."""
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    masks = list(plan["masks"])
    extra = [os.path.realpath(h) for h in extra_hide]
    binds = [(path, essential) for path, essential in plan["binds"]
             if essential or not any(_inside(path, h) or _inside(h, path) for h in extra)]
    for h in extra:
        if any(_inside(h, b) and not _inside(b, h) for b, _ in binds) and os.path.exists(h):
            masks.append(h)
    sources = {path: os.open(path, os.O_PATH | os.O_CLOEXEC) for path, _ in binds}
    devices = [(name, os.open(f"/dev/{name}", os.O_PATH | os.O_CLOEXEC)) for name in DEVICES
               if os.path.exists(f"/dev/{name}")]
    new = "/tmp"  # any directory will do: this mount namespace is ours
    mount("tmpfs", new, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    mounted: dict[str, str] = {}
    readonly = []
    # The private /tmp first: a repository (and its venv) may live under the host's /tmp, and its binds must
    # end up inside this tmpfs, not under it.
    mount("tmpfs", _mkdirs(new, "/tmp", mounted), "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={disk_bytes}")
    mounted["/tmp"] = "tmpfs"
    ops = [(path, "bind") for path in sources] + [(m, "mask") for m in masks]
    for target, kind in sorted(ops, key=lambda o: (o[0], o[1] == "mask")):
        where = _mkdirs(new, target, mounted)
        if kind == "bind":
            mount(f"/proc/self/fd/{sources[target]}", where, None, MS_BIND)
            readonly.append((where, _remount_flags(sources[target])))
        else:
            mount("tmpfs", where, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k")
            readonly.append((where, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))
        mounted[target] = kind
    # Folders made on the private /tmp to hold binds of a repository that lives under the host's /tmp (its venv)
    # become read-only, so that the sandbox cannot write beside those binds, whoever owns them in its namespace.
    tops = {"/".join(t.split("/")[:3]) for t, _ in ops if t.startswith("/tmp/") and t.count("/") > 2}
    for top in sorted(t for t in tops if t not in mounted):
        mount(new + top, new + top, None, MS_BIND | MS_REC)
        readonly.insert(0, (new + top, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV))
    for path, target in plan["links"]:
        if not os.path.lexists(new + path):
            try:
                _mkdirs(new, os.path.dirname(path), mounted)
                os.symlink(target, new + path)
            except OSError:
                pass
    dev = _mkdirs(new, "/dev", mounted)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k")
    for name, fd in devices:
        os.close(os.open(f"{dev}/{name}", os.O_CREAT | os.O_WRONLY, 0o666))
        mount(f"/proc/self/fd/{fd}", f"{dev}/{name}", None, MS_BIND)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
                         ("stderr", "/proc/self/fd/2"), ("shm", "/tmp")):
        os.symlink(target, f"{dev}/{name}")
    readonly.append((dev, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))
    mount("proc", _mkdirs(new, "/proc", mounted), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    mount("tmpfs", _mkdirs(new, scratch, mounted), "tmpfs", MS_NOSUID | MS_NODEV,
          f"mode=0755,uid={owner},gid={owner},size={disk_bytes}")
    for path, flags in readonly:
        mount(None, path, None, flags)
    for fd in sources.values():
        os.close(fd)
    for _, fd in devices:
        os.close(fd)
    os.chdir(new)
    try:
        _syscall("pivot_root", b".", b".")
        _check(_libc.umount2(b".", MNT_DETACH), "umount old root")
    except OSError:  # e.g. an unknown architecture: chroot, from which an unprivileged process cannot climb
        os.chroot(".")
    os.chdir("/")
    mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)



def set_limits(limits: dict, base_vm: int) -> None:
    def cap(which: int, value: int | None) -> None:
        if value is not None:
            resource.setrlimit(which, (value, value))

    memory = limits.get("memory_bytes")
    cap(resource.RLIMIT_AS, None if memory is None else base_vm + memory)
    cpu = limits.get("cpu_seconds")
    if cpu is not None:
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu), int(cpu) + 1))
    cap(resource.RLIMIT_FSIZE, limits.get("file_bytes"))
    cap(resource.RLIMIT_NOFILE, limits.get("open_files"))
    cap(resource.RLIMIT_NPROC, limits.get("processes"))
    cap(resource.RLIMIT_CORE, 0)
    # Every sandbox runs at the same niceness and can only lower its priority, never raise it (nor take a
    # real-time policy): a hog gets no more CPU than its neighbour on the same host.
    nice = limits.get("nice")
    if nice is not None:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, int(nice))
        except OSError:
            pass
    cap(resource.RLIMIT_NICE, 0)
    cap(resource.RLIMIT_RTPRIO, 0)



def drop_privileges(level: str, uid: int) -> None:
    """For the namespaces and userns levels, inside the sandbox's namespaces."""
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if level == "namespaces":
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
    elif level == "userns":
        # We are root of our own user namespace: nest another one where we are ``uid`` and hold no capability
        # over any mount, then drop the capabilities it gave us.
        unshare(CLONE_NEWUSER)
        write_text("/proc/self/setgroups", "deny")
        write_text("/proc/self/uid_map", f"{uid} 0 1")
        write_text("/proc/self/gid_map", f"{uid} 0 1")
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        for cap in range(64):
            if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0:
                break
        _libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
        header = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        _syscall("capset", header, data)



# -- the uid-seccomp level: no namespaces, a uid of its own --------------------------------------------------
def switch_uid(uid: int) -> None:
    """Become ``uid`` for good (real, effective and saved ids; no groups; no_new_privs)."""
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)


def kill_uid(deadline: float = 5.0) -> None:
    """Run as the sandbox's uid, in a child subreaper: SIGKILL every other process of this uid, then reap until
    none is left (they all descend from the sandbox, so their orphans come back here), at most ``deadline`` s.

    One kill(-1) reaches every process of this uid at once, including one being forked meanwhile (the kernel
    restarts a fork that a signal interrupts); the repeats are cheap insurance."""
    import time
    end = time.monotonic() + deadline
    while True:
        try:
            os.kill(-1, 9)
        except OSError:
            pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            return
        if time.monotonic() > end:
            return
        time.sleep(0.0005)


# Folders any uid may write in, where a sandbox could leave something for the next one under the same uid.
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue", "/run/shm")


def shared_folders(extra: tuple[str, ...] = ()) -> list[str]:
    """The world-writable folders of this host among :data:`SHARED_FOLDERS` (and ``extra``), symlinks resolved."""
    found = []
    for folder in (*SHARED_FOLDERS, *extra):
        try:
            real = os.path.realpath(folder)
            if os.stat(real).st_mode & 0o002 and real not in found:
                found.append(real)
        except OSError:
            continue
    return found


def remove_owned(uid: int, folders: tuple[str, ...] | list[str] = SHARED_FOLDERS, depth: int = 4) -> None:
    """Run as the sandbox's uid: remove what it left in the world-writable folders, and in the world-writable
    folders inside them (/tmp/.X11-unix, a lock folder...), ``depth`` levels down."""
    import shutil
    import stat

    def sweep(folder: str, level: int) -> None:
        try:
            entries = os.scandir(folder)
        except OSError:
            return
        with entries:
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                    if st.st_uid == uid:
                        if stat.S_ISDIR(st.st_mode):
                            shutil.rmtree(entry.path, ignore_errors=True)
                        else:
                            os.unlink(entry.path)
                    elif stat.S_ISDIR(st.st_mode) and st.st_mode & 0o002 and level < depth:
                        sweep(entry.path, level + 1)
                except OSError:
                    pass

    seen = set()
    for folder in folders:
        real = os.path.realpath(folder)
        if real not in seen:
            seen.add(real)
            sweep(real, 0)


def needed_paths(hide: list[str]) -> list[str]:
    """What a sandbox's Python must read: the prefixes, the interpreter's folder, sys.path outside ``hide``."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)}
    needed = set(prefixes) | {os.path.dirname(os.path.realpath(sys.executable))}
    hide = [os.path.realpath(h) for h in hide]
    for entry in sys.path:
        if entry and os.path.isabs(entry) and os.path.isdir(entry):
            real = os.path.realpath(entry)
            if any(_inside(real, p) for p in prefixes) or not any(_inside(real, h) for h in hide):
                needed.add(real)
    return sorted(needed)


def tighten(hide: list[str], needed: list[str]) -> tuple[list[str], list[str]]:
    """Make each hidden path unreadable to other users, without cutting a sandbox off from what it ``needed``.

    A hidden path holding nothing needed loses every permission of "others" (o-rwx). One that holds a needed
    path (a virtual environment inside the repository) keeps only o+x, so that the path can be walked through
    but not listed, and its children are treated the same way. Returns (paths whose mode changed, paths a
    sandbox must not be able to open or list)."""
    changed: list[str] = []
    sealed: list[str] = []

    def visit(path: str) -> None:
        try:
            st = os.lstat(path)
        except OSError:
            return
        if os.path.islink(path):
            return  # the target is what matters, and is visited where it lives if hidden
        inner = [n for n in needed if _inside(n, path)]
        if not inner:
            if st.st_mode & 0o007:
                os.chmod(path, st.st_mode & 0o7770)
                changed.append(path)
            sealed.append(path)
            return
        if path in needed:
            return
        if st.st_mode & 0o006:
            os.chmod(path, st.st_mode & 0o7771)
            changed.append(path)
        sealed.append(path)
        try:
            children = sorted(os.listdir(path))
        except OSError:
            return
        for child in children:
            visit(os.path.join(path, child))

    for h in sorted({os.path.realpath(h) for h in hide}):
        visit(h)
    return changed, sealed


def readable(path: str) -> bool:
    """Whether this process can list (a folder) or open (anything else) ``path``."""
    try:
        if os.path.isdir(path):
            os.listdir(path)
        else:
            os.close(os.open(path, os.O_RDONLY | os.O_NONBLOCK))
        return True
    except OSError:
        return False


class UidAllocator:
    """Sandbox uids unique on this host: uid N is ours while we hold an exclusive flock on a file named N.

    Several zygotes (``--jobs``) and several grading runs draw from the same range; a lock dies with its holder,
    so a crashed grader frees its uids (a sandbox kills what runs under its uid before it starts)."""

    def __init__(self, base: int, count: int):
        import fcntl
        self._fcntl = fcntl
        self.base, self.count = base, count
        self.folder = self._folder()
        self._next = (os.getpid() * 7919) % count
        self.held: dict[int, int] = {}  # uid -> fd holding its lock

    @staticmethod
    def _folder() -> str:
        euid = os.geteuid()
        for folder in ("/run/autograder-uids", f"/tmp/autograder-uids-{euid}"):
            try:
                os.makedirs(folder, mode=0o700, exist_ok=True)
                st = os.lstat(folder)
                if st.st_uid == euid and not os.path.islink(folder) and not st.st_mode & 0o022:
                    return folder
            except OSError:
                continue
        raise OSError(errno.EACCES, "no private folder for the sandbox uid locks (/run or /tmp)")

    def acquire(self) -> int:
        for _ in range(self.count):
            uid = self.base + self._next
            self._next = (self._next + 1) % self.count
            if uid in self.held:
                continue
            fd = os.open(os.path.join(self.folder, str(uid)), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW,
                         0o600)
            try:
                self._fcntl.flock(fd, self._fcntl.LOCK_EX | self._fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue
            self.held[uid] = fd
            return uid
        raise OSError(errno.EAGAIN, f"all {self.count} sandbox uids from {self.base} are in use")

    def release(self, uid: int) -> None:
        fd = self.held.pop(uid, None)
        if fd is not None:
            os.close(fd)


# -- cgroups: all of a sandbox's memory, its processes and its CPU share, counted together -------------------
CGROUP_PREFIX = "autograder-"


class Cgroups:
    """One cgroup per sandbox, under the zygote's own, where the host lets us write one.

    cgroup v2 when this process's cgroup already delegates the memory controller to its children
    (``cgroup.subtree_control``); otherwise cgroup v1's memory, pids and cpu hierarchies, each where it is
    mounted and writable. ``memory.max`` (v1: ``memory.limit_in_bytes``) counts every page the sandbox charges:
    heap, page tables, tmpfs and /dev/shm files, memfd, pipes -- what RLIMIT_AS misses. ``pids.max`` bounds its
    processes and threads whatever their uid; a cgroup of its own gives it one share of the CPU however many
    threads it runs. :attr:`kind` says what was found ("v2", "v1" or None) and :attr:`why` why not."""

    def __init__(self) -> None:
        self.kind: str | None = None
        self.why = ""
        self.parents: dict[str, str] = {}  # controller -> the folder our sandboxes' cgroups go in
        self.serial = 0
        try:
            self._find()
        except OSError as error:
            self.parents, self.kind = {}, None
            self.why = f"cgroups unreadable ({error})"

    @staticmethod
    def _own() -> dict[str, str]:
        own = {}
        with open("/proc/self/cgroup") as f:
            for line in f:
                number, controllers, path = line.rstrip("\n").split(":", 2)
                for name in (controllers.split(",") if controllers else ["unified"]):
                    own[name] = path
        return own

    @staticmethod
    def _mounts() -> dict[str, str]:
        mounts = {}
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split()
                dash = fields.index("-")
                fstype, options = fields[dash + 1], fields[dash + 3].split(",")
                point = fields[4].replace("\\040", " ")
                if fstype == "cgroup2":
                    mounts.setdefault("unified", point)
                elif fstype == "cgroup":
                    for name in ("memory", "pids", "cpu"):
                        if name in options:
                            mounts.setdefault(name, point)
        return mounts

    def _usable(self, folder: str) -> bool:
        probe = os.path.join(folder, f"{CGROUP_PREFIX}probe-{os.getpid()}")
        try:
            os.mkdir(probe)
        except FileExistsError:
            pass
        except OSError:
            return False
        try:
            os.rmdir(probe)
        except OSError:
            pass
        return True

    def _find(self) -> None:
        own, mounts = self._own(), self._mounts()
        if "unified" in mounts and "unified" in own:
            folder = mounts["unified"] + own["unified"].rstrip("/")
            try:
                with open(os.path.join(folder, "cgroup.subtree_control")) as f:
                    delegated = f.read().split()
            except OSError:
                delegated = []
            if "memory" in delegated and self._usable(folder):
                self.kind, self.parents = "v2", {"unified": folder}
                return
        for name in ("memory", "pids", "cpu"):
            if name in mounts and name in own:
                folder = mounts[name] + own[name].rstrip("/")
                if self._usable(folder):
                    self.parents[name] = folder
        if "memory" in self.parents:
            self.kind = "v1"
            return
        self.parents = {}
        if "unified" in mounts:
            self.why = ("cgroup v2 without the memory controller delegated to the grader's cgroup (run it in a "
                        "cgroup of its own with memory in cgroup.subtree_control, e.g. systemd-run --scope -p "
                        "Delegate=yes)")
        elif "memory" in mounts:
            self.why = "the cgroup v1 memory hierarchy is not writable here"
        else:
            self.why = "no cgroup memory controller is mounted"

    def describe(self) -> str:
        """One line for the instructor: which memory accounting the sandboxes get."""
        if self.kind is None:
            return (f"memory: each sandbox process is limited by RLIMIT_AS, not the sandbox as a whole ({self.why}); "
                    "memfd and System V shared memory are denied, files in tmpfs are bounded by the tmpfs size "
                    "(namespaces levels) or RLIMIT_FSIZE per file (uid-seccomp)")
        controllers = ", ".join(sorted(self.parents)) if self.kind == "v1" else "memory, pids"
        return (f"memory: each sandbox in a cgroup {self.kind} of its own ({controllers}): all its memory (heap, "
                "tmpfs, shared memory) within the memory limit, its processes within the process limit")

    def create(self, limits: dict) -> list[str]:
        """Make a sandbox's cgroups with ``limits``; returns their folders (empty when cgroups are not used)."""
        if self.kind is None:
            return []
        self.serial += 1
        name = f"{CGROUP_PREFIX}{os.getpid()}-{self.serial}"
        made: list[str] = []
        memory, processes = limits.get("memory_bytes"), limits.get("processes")
        try:
            for controller, parent in sorted(self.parents.items()):
                folder = os.path.join(parent, name)
                os.mkdir(folder)
                made.append(folder)
                if self.kind == "v2":
                    if memory is not None:
                        write_text(os.path.join(folder, "memory.max"), str(memory))
                        _try_write(os.path.join(folder, "memory.swap.max"), "0")
                        _try_write(os.path.join(folder, "memory.oom.group"), "1")
                    if processes is not None:
                        _try_write(os.path.join(folder, "pids.max"), str(processes))
                elif controller == "memory" and memory is not None:
                    write_text(os.path.join(folder, "memory.limit_in_bytes"), str(memory))
                    _try_write(os.path.join(folder, "memory.memsw.limit_in_bytes"), str(memory))
                    _try_write(os.path.join(folder, "memory.swappiness"), "0")
                elif controller == "pids" and processes is not None:
                    write_text(os.path.join(folder, "pids.max"), str(processes))
        except OSError:
            self.remove(made)
            raise
        return made

    @staticmethod
    def enter(folders: list[str]) -> None:
        """Move this process (before it forks the sandbox) into ``folders``."""
        for folder in folders:
            write_text(os.path.join(folder, "cgroup.procs"), str(os.getpid()))

    @staticmethod
    def remove(folders: list[str]) -> list[str]:
        """Remove the cgroups; returns those still busy (a process in them has not been reaped yet)."""
        left = []
        for folder in folders:
            try:
                os.rmdir(folder)
            except FileNotFoundError:
                pass
            except OSError:
                left.append(folder)
        return left

    def sweep(self) -> None:
        """Remove the empty cgroups of zygotes that are gone (killed before they could clean up)."""
        for parent in self.parents.values():
            try:
                names = os.listdir(parent)
            except OSError:
                continue
            for name in names:
                if not name.startswith(CGROUP_PREFIX):
                    continue
                pid = name[len(CGROUP_PREFIX):].split("-")[0]
                if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
                    try:
                        os.rmdir(os.path.join(parent, name))
                    except OSError:
                        pass


def _try_write(path: str, text: str) -> None:
    try:
        write_text(path, text)
    except OSError:
        pass
