"""A seccomp filter for sandboxes: a small classic-BPF program of our own, installed with prctl (no dependency).

The same filter is installed at every isolation level, as the last step before student code runs. It answers
EPERM to the system calls a notebook never needs and that reach past what namespaces, a uid and rlimits guard:

* network sockets of every family (``socket``; ``socketpair`` stays allowed: multiprocessing needs it);
* looking into other processes: ``ptrace``, ``process_vm_readv``/``writev``, ``pidfd_getfd``, ``process_madvise``;
* mounts and namespaces: ``mount``, ``umount2``, ``pivot_root``, ``chroot``, ``unshare``, ``setns``, the new
  mount API, and ``clone`` with any ``CLONE_NEW*`` flag (``clone3``, whose flags live in memory a filter cannot
  read, answers ENOSYS so that the C library falls back to ``clone``);
* kernel keyrings (not namespaced), ``bpf``, ``perf_event_open``, ``userfaultfd``, ``io_uring``, modules, kexec,
  reboot, swap, file handles, accounting, quotas, the clock, ``personality`` other than the default;
* ``memfd_create`` (memfd pages escape RLIMIT_AS);
* System V IPC (shared memory, semaphores, message queues) and POSIX message queues: not covered by the IPC
  namespace at the uid-seccomp level, and outliving the sandbox that made them.

Another architecture than the one the filter was built for (i386 on x86_64, arm32 on aarch64) and the x32 ABI
kill the process.
"""
from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_SYSCALL_BIT = 0x40000000

# name: (x86_64, aarch64)
SYSCALLS: dict[str, tuple[int, int]] = {
    "socket": (41, 198), "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "pidfd_getfd": (438, 438), "process_madvise": (440, 440),
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "unshare": (272, 97), "setns": (308, 268), "open_tree": (428, 428), "move_mount": (429, 429),
    "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "bpf": (321, 280), "perf_event_open": (298, 241), "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "reboot": (169, 142), "swapon": (167, 224), "swapoff": (168, 225),
    "open_by_handle_at": (304, 265), "name_to_handle_at": (303, 264),
    "acct": (163, 89), "quotactl": (179, 60), "quotactl_fd": (443, 443),
    "settimeofday": (164, 170), "clock_settime": (227, 112), "clock_adjtime": (305, 266), "adjtimex": (159, 171),
    "memfd_create": (319, 279), "memfd_secret": (447, 447),
    "syslog": (103, 116), "vhangup": (153, 58),
    # System V IPC and POSIX message queues: at the uid-seccomp level there is no IPC namespace, and an object
    # made by one sandbox outlives it (a channel to the next student); torch and numpy use neither
    "shmget": (29, 194), "shmat": (30, 196), "shmctl": (31, 195), "shmdt": (67, 197),
    "semget": (64, 190), "semop": (65, 193), "semctl": (66, 191), "semtimedop": (220, 192),
    "msgget": (68, 186), "msgsnd": (69, 189), "msgrcv": (70, 188), "msgctl": (71, 187),
    "mq_open": (240, 180), "mq_unlink": (241, 181), "mq_timedsend": (242, 182), "mq_timedreceive": (243, 183),
    "mq_notify": (244, 184), "mq_getsetattr": (245, 185),
    # checked on their arguments
    "clone": (56, 220), "clone3": (435, 435), "personality": (135, 92),
}
X86_ONLY = {"iopl": 172, "ioperm": 173}
# With ``private=True`` (levels without a mount namespace, where /tmp and /dev/shm are the host's): a file's mode
# may not give anything to group or others, and the umask must keep them out, so that nothing a sandbox writes
# there can be read by a sandbox running beside it. name: ((x86_64, aarch64), index of the mode argument)
MODE_CALLS: dict[str, tuple[tuple[int | None, int | None], int]] = {
    "chmod": ((90, None), 1), "fchmod": ((91, 52), 1), "fchmodat": ((268, 53), 2), "fchmodat2": ((452, 452), 2),
    "umask": ((95, 166), 0),
}
XATTR_SETTERS = {"setxattr": (188, 5), "lsetxattr": (189, 6), "fsetxattr": (190, 7)}  # ACLs would open files too
DENIED = tuple(n for n in SYSCALLS if n not in ("clone", "clone3", "personality"))

# CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET.
# (CLONE_NEWTIME, 0x80, shares its bit with clone()'s exit signal: only clone3 and unshare take it.)
CLONE_NEW_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
PER_LINUX, PER_QUERY = 0, 0xFFFFFFFF

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2

# classic BPF
_LD_W_ABS, _JEQ_K, _JGE_K, _JSET_K, _RET_K, _AND_K = 0x20, 0x15, 0x35, 0x45, 0x06, 0x54
_OFF_NR, _OFF_ARCH, _OFF_ARG0 = 0, 4, 16  # struct seccomp_data; args are little-endian u64 on both arches


class SeccompUnavailable(OSError):
    """No filter can be built or installed here."""


def arch() -> str | None:
    machine = platform.machine()
    return machine if machine in AUDIT_ARCH else None


def program(machine: str | None = None, private: bool = False) -> bytes:
    """The filter for ``machine`` (default: this one) as an array of ``struct sock_filter``; ``private`` keeps
    every file the sandbox makes to itself (see :data:`MODE_CALLS`)."""
    machine = machine or arch()
    if machine not in AUDIT_ARCH:
        raise SeccompUnavailable(errno.ENOSYS, f"no seccomp filter for the {platform.machine()} architecture")
    column = 0 if machine == "x86_64" else 1
    deny = sorted({SYSCALLS[n][column] for n in DENIED} | (set(X86_ONLY.values()) if column == 0 else set())
                  | ({numbers[column] for numbers in XATTR_SETTERS.values()} if private else set()))
    nr = {name: numbers[column] for name, numbers in SYSCALLS.items()}

    code: list[tuple[int, object, object, int]] = []  # (op, jump-if-true label, jump-if-false label, k)
    labels: dict[str, int] = {}

    def op(kind: int, k: int, true: object = 0, false: object = 0) -> None:
        code.append((kind, true, false, k))

    def label(name: str) -> None:
        labels[name] = len(code)

    op(_LD_W_ABS, _OFF_ARCH)
    op(_JEQ_K, AUDIT_ARCH[machine], 0, "kill")
    op(_LD_W_ABS, _OFF_NR)
    if machine == "x86_64":
        op(_JGE_K, X32_SYSCALL_BIT, "kill", 0)
    for number in deny:
        op(_JEQ_K, number, "eperm", 0)
    op(_JEQ_K, nr["clone"], "clone", 0)
    op(_JEQ_K, nr["clone3"], "enosys", 0)
    op(_JEQ_K, nr["personality"], "personality", 0)
    modes = [(name, numbers[column], arg) for name, (numbers, arg) in MODE_CALLS.items()
             if private and numbers[column] is not None]
    for name, number, _ in modes:
        op(_JEQ_K, number, name, 0)
    label("allow")
    op(_RET_K, SECCOMP_RET_ALLOW)
    label("eperm")
    op(_RET_K, SECCOMP_RET_ERRNO | errno.EPERM)
    label("enosys")
    op(_RET_K, SECCOMP_RET_ERRNO | errno.ENOSYS)
    label("kill")
    op(_RET_K, SECCOMP_RET_KILL_PROCESS)
    # BPF jumps only forward: each argument check ends in returns of its own
    label("clone")
    op(_LD_W_ABS, _OFF_ARG0)
    op(_JSET_K, CLONE_NEW_FLAGS, 0, 1)
    op(_RET_K, SECCOMP_RET_ERRNO | errno.EPERM)
    op(_RET_K, SECCOMP_RET_ALLOW)
    for name, _, arg in modes:  # umask must cover 077; a mode must not have any of 077
        label(name)
        op(_LD_W_ABS, _OFF_ARG0 + 8 * arg)
        op(_AND_K, 0o077)
        op(_JEQ_K, 0o077 if name == "umask" else 0, 1, 0)
        op(_RET_K, SECCOMP_RET_ERRNO | errno.EPERM)
        op(_RET_K, SECCOMP_RET_ALLOW)
    label("personality")
    op(_LD_W_ABS, _OFF_ARG0)
    op(_JEQ_K, PER_LINUX, 2, 0)
    op(_JEQ_K, PER_QUERY, 1, 0)
    op(_RET_K, SECCOMP_RET_ERRNO | errno.EPERM)
    op(_RET_K, SECCOMP_RET_ALLOW)

    out = bytearray()
    for index, (kind, true, false, k) in enumerate(code):
        jumps = []
        for target in (true, false):
            offset = labels[target] - index - 1 if isinstance(target, str) else target
            if not 0 <= offset <= 255:
                raise AssertionError(f"BPF jump out of range at {index}")
            jumps.append(offset)
        out += struct.pack("=HBBI", kind, jumps[0], jumps[1], k)
    return bytes(out)


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]


def install(filter_program: bytes | None = None) -> None:
    """Set no_new_privs and install the filter on this (single-threaded) process, for good."""
    filter_program = program() if filter_program is None else filter_program
    buffer = ctypes.create_string_buffer(filter_program, len(filter_program))
    prog = _SockFprog(len(filter_program) // 8, ctypes.addressof(buffer))
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0:
        code = ctypes.get_errno()
        raise SeccompUnavailable(code, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(code)}")
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0) < 0:
        code = ctypes.get_errno()
        raise SeccompUnavailable(code, f"prctl(PR_SET_SECCOMP): {os.strerror(code)}")


def selftest() -> str | None:
    """In a process about to exit: install the filter and check that it bites. None if it does, else why not."""
    try:
        install()
    except OSError as error:
        return str(error)
    import socket
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        return None
    except OSError as error:
        return f"the filter did not deny socket() ({error})"
    return "the filter did not deny socket()"
