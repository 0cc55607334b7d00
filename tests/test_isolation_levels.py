"""Isolation levels: the host probe, the choice of a level, and the uid-seccomp level attacked for real inside a
simulated container (root without CAP_SYS_ADMIN and without user namespaces, see :mod:`containerlike`)."""
from __future__ import annotations

import os
import socket
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import containerlike  # noqa: E402

from autograder.sandbox import hostprobe, seccomp  # noqa: E402
from autograder.sandbox.zygote import Zygote  # noqa: E402

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")
REPO = Path(__file__).resolve().parents[1]
ENTRY = f"{REPO / 'tests' / 'test_sandbox.py'}:exec_serve"
PRELUDE = f"import json, os, sys\nsys.path.insert(0, {str(REPO)!r})\n"


def test_levels_in_one_place():
    assert hostprobe.LEVELS == ("namespaces", "userns", "uid-seccomp", "none")
    assert hostprobe.stronger("namespaces", "uid-seccomp") and not hostprobe.stronger("none", "userns")
    with pytest.raises(ValueError):
        Zygote(ENTRY, level="chroot")


def test_probe_here_is_fast_and_one_line():
    report = hostprobe.probe_host()
    assert report.seconds < 0.5
    assert report.available("none") or "\n" not in report.why_not("none")
    for level in hostprobe.LEVELS:
        assert report.available(level) == (report.why_not(level) == "")
        assert "\n" not in report.why_not(level)
        if not report.available(level):
            assert report.why_not(level).startswith(f"{level}: ")
    if os.geteuid() == 0 and hostprobe.in_initial_user_namespace():
        assert report.best() == "namespaces"


def test_filter_program_for_both_architectures():
    for machine in ("x86_64", "aarch64"):
        program = seccomp.program(machine)
        assert len(program) % 8 == 0 and len(program) // 8 < 255


def test_minimum_refuses_a_weaker_forced_level():
    with pytest.raises(ValueError):
        Zygote(ENTRY, level="uid-seccomp", minimum="namespaces")


# -- inside the simulated container ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def containerlike_host():
    containerlike.skip_unless_containerlike()


def test_probe_in_a_container(containerlike_host):
    """(a) namespaces and userns are unavailable, each for its one-line reason; uid-seccomp is the best."""
    result = containerlike.run_python(PRELUDE + textwrap.dedent("""
        from autograder.sandbox import hostprobe
        report = hostprobe.probe_host()
        print(json.dumps({"reasons": report.reasons, "best": report.best(), "seconds": report.seconds}))
        """))
    reasons = result["reasons"]
    assert "CAP_SYS_ADMIN" in reasons["namespaces"] and "--cap-add SYS_ADMIN" in reasons["namespaces"]
    assert "user.max_user_namespaces" in reasons["userns"]
    assert reasons["uid-seccomp"] is None, reasons
    assert result["best"] == "uid-seccomp" and result["seconds"] < 0.5
    assert all("\n" not in r for r in reasons.values() if r)


def test_asking_for_namespaces_in_a_container_refuses(containerlike_host):
    """(c) --isolation namespaces: one line naming CAP_SYS_ADMIN."""
    result = containerlike.run_python(PRELUDE + textwrap.dedent(f"""
        from autograder.sandbox.zygote import SandboxUnavailable, Zygote
        out = {{}}
        for kwargs in ({{"minimum": "namespaces"}}, {{"level": "namespaces"}}, {{"minimum": "userns"}}):
            try:
                Zygote({ENTRY!r}, preload=(), **kwargs).close()
                out[str(kwargs)] = "started"
            except SandboxUnavailable as error:
                out[str(kwargs)] = str(error)
        print(json.dumps(out))
        """))
    for key, message in result.items():
        assert message != "started" and "\n" not in message, key
        assert "CAP_SYS_ADMIN" in message or "userns" in key, message
    assert "user.max_user_namespaces" in result[str({"minimum": "userns"})]


def test_nothing_possible_refuses_in_one_line(containerlike_host):
    """(d) not root and no user namespaces: auto refuses, naming each cause and fix in one line."""
    result = containerlike.run_python(PRELUDE + textwrap.dedent(f"""
        from autograder.sandbox.zygote import SandboxUnavailable, Zygote
        os.setgroups([]); os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534)
        try:
            Zygote({ENTRY!r}, preload=()).close()
            print(json.dumps({{"message": "started"}}))
        except SandboxUnavailable as error:
            print(json.dumps({{"message": str(error)}}))
        """))
    message = result["message"]
    assert message != "started" and "\n" not in message
    for part in ("namespaces: the grader is not root", "user.max_user_namespaces", "uid-seccomp: not root",
                 "--no-sandbox"):
        assert part in message, message


ATTACKS = r'''
import ctypes, errno, os, signal, socket
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
NR = {"x86_64": {"add_key": 248, "keyctl": 250, "ptrace": 101},
      "aarch64": {"add_key": 217, "keyctl": 219, "ptrace": 117}}[os.uname().machine]
result = {}
def outcome(name, call):
    try:
        value = call()
        result[name] = "allowed: %r" % (value,)
    except OSError as error:
        result[name] = errno.errorcode.get(error.errno, str(error.errno))
def check(name, value):
    result[name] = "allowed: %r" % (value,) if value >= 0 else errno.errorcode.get(ctypes.get_errno(), "?")
outcome("socket_inet", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
outcome("socket_unix", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
outcome("connect_loopback", lambda: socket.create_connection(("127.0.0.1", PORT), timeout=1))
check("ptrace_attach", libc.syscall(NR["ptrace"], 16, GRADER, 0, 0))
outcome("grader_mem", lambda: open("/proc/%d/mem" % GRADER, "rb").read(16))
outcome("grader_environ", lambda: open("/proc/%d/environ" % GRADER, "rb").read())
outcome("hidden_file", lambda: open(HIDDEN_FILE).read())
outcome("hidden_list", lambda: os.listdir(HIDDEN))
outcome("results_file", lambda: open(RESULTS_FILE).read())
outcome("results_list", lambda: os.listdir(RESULTS))
outcome("results_write", lambda: open(RESULTS + "/forged.json", "w").write("{}"))
outcome("solutions", lambda: open(SOLUTIONS).read())
outcome("repo_list", lambda: os.listdir(REPO))
check("add_key", libc.syscall(NR["add_key"], b"user", b"k", b"v", 1, -3))
check("keyctl", libc.syscall(NR["keyctl"], 0, -3, 0, 0, 0))
check("unshare_user", libc.unshare(0x10000000))
check("unshare_net", libc.unshare(0x40000000))
check("mount", libc.mount(b"tmpfs", b"/tmp", b"tmpfs", 0, None))
outcome("memfd", lambda: os.memfd_create("x"))
outcome("kill_peer", lambda: os.kill(PEER, signal.SIGKILL))
outcome("setuid_root", lambda: os.setuid(0))
import torch
result["torch"] = float((torch.ones(3, 3) @ torch.ones(3)).sum())
result["uid"] = os.getuid()
result["environ"] = SECRET in " ".join(os.environ.values())
'''


def test_uid_seccomp_sandbox_in_a_container(containerlike_host):
    """(b) the attacks fail at the uid-seccomp level; the grader, results and other submissions stay private."""
    course = Path(tempfile.mkdtemp(prefix="agtest-course-", dir="/tmp"))
    try:
        hidden, results = course / "hidden", course / "results"
        hidden.mkdir()
        results.mkdir()
        (hidden / "test_02_solution.py").write_text("ANSWER = 42\n")
        (results / "alice.json").write_text('{"score": 10}\n')
        for path in (course, hidden, results):
            path.chmod(0o755)
        for path in (hidden / "test_02_solution.py", results / "alice.json"):
            path.chmod(0o644)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        secret = "agsecret" + os.urandom(8).hex()
        script = PRELUDE + textwrap.dedent(f"""
            from autograder.sandbox.zygote import Zygote, Limits
            from autograder.protocol import wire
            os.environ["AGTEST_SECRET"] = {secret!r}
            with Zygote({ENTRY!r}, hide=[{str(hidden)!r}, {str(results)!r}], preload=("numpy", "torch"),
                        limits=Limits(call_timeout=60)) as z:
                out = {{"level": z.level, "notes": z.notes}}
                with z.spawn() as peer, z.spawn() as sandbox:
                    peer.send({{"code": "import os\\nresult = os.getpid()"}})
                    peer_pid = peer.recv()[0]["result"]
                    consts = dict(PORT={listener.getsockname()[1]}, GRADER=os.getpid(), PEER=peer_pid,
                                  HIDDEN={str(hidden)!r}, HIDDEN_FILE={str(hidden / 'test_02_solution.py')!r},
                                  RESULTS={str(results)!r}, RESULTS_FILE={str(results / 'alice.json')!r},
                                  SOLUTIONS={str(REPO / 'solutions' / 'linear_regression.py')!r},
                                  REPO={str(REPO)!r}, SECRET={secret!r})
                    code = "".join(f"{{k}} = {{v!r}}\\n" for k, v in consts.items()) + {ATTACKS!r}
                    sandbox.send({{"code": code}})
                    reply = sandbox.recv(60)[0]
                    out["reply"] = reply
                    out["sandbox_uid"], out["peer_uid"] = sandbox.uid, peer.uid
                    peer.send({{"code": "result = 'alive'"}})
                    out["peer"] = peer.recv()[0]["result"]
                print(json.dumps(out))
            """)
        try:
            out = containerlike.run_python(script)
            import select
            assert select.select([listener], [], [], 0.1)[0] == []  # nobody knocked
        finally:
            listener.close()
    finally:
        import shutil
        shutil.rmtree(course, ignore_errors=True)
    assert out["level"] == "uid-seccomp", out
    reply = out["reply"]
    assert reply["ok"], reply
    r = reply["result"]
    denied = {k: v for k, v in r.items() if isinstance(v, str) and v.startswith("allowed")}
    assert denied == {}, denied
    for name in ("socket_inet", "socket_unix", "connect_loopback", "add_key", "keyctl", "unshare_user",
                 "unshare_net", "mount", "memfd", "ptrace_attach"):
        assert r[name] == "EPERM", (name, r[name])
    for name in ("grader_mem", "grader_environ", "hidden_file", "hidden_list", "results_file", "results_list",
                 "results_write", "solutions", "repo_list", "kill_peer"):
        assert r[name] in ("EACCES", "EPERM", "ENOENT"), (name, r[name])
    assert r["torch"] == 9.0 and r["uid"] >= 60001 and r["environ"] is False
    assert out["sandbox_uid"] != out["peer_uid"] and out["peer"] == "alive"
    # the hidden folders were tightened (and the grader said so)
    assert any(str(hidden) in note for note in out["notes"]), out["notes"]
