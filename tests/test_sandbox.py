"""Attacks on the sandbox, each run for real inside one: the defence must hold, and the grader and the zygote
must survive and go on spawning. The attacks run at every isolation level this host allows, forced: namespaces,
userns (also as root) and uid-seccomp (root without namespaces, as in a container).

The zygote serves :func:`exec_serve` from this file: it executes the Python code of each request frame inside
the sandbox and answers with the JSON of ``result`` -- a stand-in for a hostile notebook.
"""
from __future__ import annotations

import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from pathlib import Path

import pytest

from autograder.protocol import wire

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")
pytestmark = linux_only

REPO = Path(__file__).resolve().parents[1]
ENTRY = f"{Path(__file__).resolve()}:exec_serve"
SECRET_NAME = "AUTOGRADER_TEST_SECRET"
SECRET = "s3cret-" + uuid.uuid4().hex


def exec_serve(sock: socket.socket) -> None:
    """The sandbox side of these tests: run the code of each request, answer with its ``result``."""
    while True:
        try:
            header, _ = wire.recv_frame(sock)
        except (wire.Closed, OSError):
            return
        namespace = {"sock": sock}
        try:
            exec(header["code"], namespace)  # noqa: S102 - attacker code, on purpose
            reply = {"ok": True, "result": namespace.get("result")}
        except Exception as error:  # noqa: BLE001 - SystemExit and friends end the sandbox, on purpose
            reply = {"ok": False, "error": type(error).__name__, "message": str(error)[:2000],
                     "trace": traceback.format_exc()[-2000:]}
        wire.send_frame(sock, reply)


# -- fixtures and helpers ------------------------------------------------------------------------------------
from autograder.sandbox.zygote import (  # noqa: E402 - exec_serve above must not depend on these
    Limits, Sandbox, SandboxDied, SandboxError, SandboxProtocolError, SandboxTimeout, SandboxUnavailable, Zygote)

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="these tests build sandboxes as root")
LIMITS = Limits(call_timeout=10, cpu_seconds=30, processes=32, wall_timeout=120)


@pytest.fixture(scope="module")
def zlog(tmp_path_factory):
    return tmp_path_factory.mktemp("zygote") / "zygote.log"


LEVELS = ("namespaces", "userns", "uid-seccomp")


@pytest.fixture(scope="module", params=LEVELS)
def zygote(zlog, request):
    if os.geteuid() != 0:
        pytest.skip("these tests build sandboxes as root")
    os.environ[SECRET_NAME] = SECRET  # the grader's environment; no sandbox may see it
    try:
        with open(zlog, "ab") as log:
            try:
                z = Zygote(ENTRY, limits=LIMITS, log=log, level=request.param)
            except SandboxUnavailable as error:
                pytest.skip(str(error))
            with z:
                assert z.level == request.param
                yield z
    finally:
        os.environ.pop(SECRET_NAME, None)


def namespaced(zygote: Zygote) -> bool:
    """Whether the sandboxes of ``zygote`` have namespaces (PID 1, /scratch, a private /tmp and network)."""
    return zygote.level in ("namespaces", "userns")


def run(sandbox: Sandbox, code: str, timeout: float | None = None):
    """Run ``code`` in the sandbox; its ``result``, or an AssertionError with the sandbox's traceback."""
    reply, _ = sandbox.request({"code": code}, [], timeout)
    assert reply["ok"], reply
    return reply["result"]


def attempt(sandbox: Sandbox, code: str, timeout: float | None = None) -> dict:
    return sandbox.request({"code": code}, [], timeout)[0]


def healthy(zygote: Zygote) -> None:
    """The zygote is alive and a fresh sandbox answers."""
    assert zygote.alive
    with zygote.spawn() as sandbox:
        pid = run(sandbox, "import os; result = os.getpid()")
        assert pid == 1 if namespaced(zygote) else pid > 1


def host_processes(predicate) -> list[int]:
    """Host pids whose (cmdline, uid) satisfy ``predicate``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            uid = int(Path(f"/proc/{entry}/status").read_text().split("\nUid:")[1].split()[0])
        except (OSError, IndexError, ValueError):
            continue
        if predicate(cmdline, uid):
            found.append(int(entry))
    return found


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# -- basics --------------------------------------------------------------------------------------------------
def test_spawn_latency_and_view(zygote):
    """A sandbox answers within milliseconds, as PID 1 of its own namespace, unprivileged, in its scratch dir."""
    times = []
    mounts = Path("/proc/self/mountinfo").read_text()
    for _ in range(5):
        start = time.monotonic()
        with zygote.spawn(files={"linear_points.csv": b"x,y\n1,2\n", "data/more.txt": "hi"}) as sandbox:
            result = run(sandbox, "import os, sys, torch\n"
                                  "result = [os.getpid(), os.getuid(), os.getgid(), os.getgroups(), os.getcwd(),\n"
                                  "          open('linear_points.csv').read(), open('data/more.txt').read(),\n"
                                  "          sorted(os.listdir('/')), torch.get_num_threads(), sys.executable]")
            times.append(time.monotonic() - start)
    pid, uid, gid, groups, cwd, csv, more, root, threads, executable = result
    assert uid >= 60001 and gid == uid and groups == []
    assert csv == "x,y\n1,2\n" and more == "hi" and threads == 1 and executable == sys.executable
    if namespaced(zygote):
        assert pid == 1 and cwd == "/scratch" and "scratch" in root
    else:  # a private folder of its own, under a folder others may walk through but not list
        assert pid != 1 and cwd.startswith("/tmp/autograder-sandboxes-")
        assert os.stat(cwd).st_uid == uid and os.stat(cwd).st_mode & 0o777 == 0o700
        assert os.stat(os.path.dirname(cwd)).st_mode & 0o777 == 0o711
    print(f"\nspawn -> first answer: best {min(times) * 1000:.1f} ms, worst {max(times) * 1000:.1f} ms")
    assert min(times) < 0.5
    assert Path("/proc/self/mountinfo").read_text() == mounts  # nothing of the sandboxes' mounts leaks out
    for bad in ("../escape", "/etc/passwd", "a/../../b"):
        with pytest.raises(ValueError):
            zygote.spawn(files={bad: b"x"})


def test_limits_and_privileges_inside(zygote):
    """rlimits are set and cannot be raised; no capabilities; no_new_privs; no inherited descriptors."""
    result = run(zygote.spawn(), (
        "import os, resource\n"
        "status = open('/proc/self/status').read()\n"
        "field = lambda k: status.split(k + ':')[1].split()[0]\n"
        "raised = []\n"
        "for which in (resource.RLIMIT_AS, resource.RLIMIT_NPROC, resource.RLIMIT_CPU):\n"
        "    soft, hard = resource.getrlimit(which)\n"
        "    try:\n"
        "        resource.setrlimit(which, (hard + 1, hard + 1)); raised.append(which)\n"
        "    except (ValueError, OSError):\n"
        "        pass\n"
        "result = [field('CapEff'), field('CapPrm'), field('NoNewPrivs'), sorted(os.listdir('/proc/self/fd')) if\n"
        "          os.access('/proc/self/fd', os.R_OK) else [os.fstat(fd).st_mode for fd in range(4)],\n"
        "          resource.getrlimit(resource.RLIMIT_CORE), resource.getrlimit(resource.RLIMIT_NPROC), raised]"))
    cap_eff, cap_prm, nnp, fds, core, nproc, raised = result
    assert cap_eff == cap_prm == "0000000000000000" and nnp == "1"
    assert len(fds) <= 5  # 0, 1, 2, the socket (and listdir's own descriptor)
    assert core == [0, 0] and nproc == [32, 32] and raised == []


# -- runaway code --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", [
    "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass",
    "import time\ntime.sleep(10**6)",
], ids=["busy-loop-ignoring-sigterm", "sleep-forever"])
def test_hang_is_killed_at_the_timeout(zygote, code):
    sandbox = zygote.spawn()
    start = time.monotonic()
    with pytest.raises(SandboxTimeout):
        attempt(sandbox, code, timeout=1.0)
    assert time.monotonic() - start < 3
    assert not sandbox.alive and "killed by SIGKILL" in sandbox.exit_reason
    with pytest.raises(SandboxDied):  # a dead sandbox says so at once
        attempt(sandbox, "result = 1")
    sandbox.kill()  # idempotent, never raises
    sandbox.close()
    sandbox.close()
    healthy(zygote)


@pytest.mark.parametrize("code, reason", [
    ("import os\nos._exit(3)", "exited with status 3"),
    ("import sys\nsys.exit(5)", "exited with status 5"),
    ("import ctypes\nctypes.string_at(0)", "SIGSEGV"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\nresult = 'still here'", None),
], ids=["os._exit", "sys.exit", "segfault", "self-SIGKILL"])
def test_exit_or_crash_ends_only_that_sandbox(zygote, code, reason):
    bystander = zygote.spawn()
    with zygote.spawn() as sandbox:
        try:
            reply = attempt(sandbox, code)
        except SandboxDied as died:
            assert (reason is not None and reason in str(died) and reason in died.reason) or (
                reason is None and not namespaced(zygote) and "SIGKILL" in died.reason)
            assert not sandbox.alive
        else:  # PID 1 of a namespace ignores signals it has no handler for, even its own SIGKILL
            assert reason is None and reply["result"] == "still here" and namespaced(zygote)
    assert run(bystander, "result = 'fine'") == "fine"
    bystander.close()
    healthy(zygote)


def test_memory_limit(zygote):
    """A 12 GB tensor (or array) fails inside the sandbox, which goes on answering."""
    with zygote.spawn() as sandbox:
        for code in ("import torch\nx = torch.empty(3 * 10**9)\nx.fill_(1)",
                     "import numpy as np\nx = np.ones(3 * 10**9, dtype=np.float32)",
                     "x = bytearray(12 * 2**30)"):
            reply = attempt(sandbox, code, timeout=10)
            assert not reply["ok"] and reply["error"] in ("MemoryError", "RuntimeError"), reply
        assert run(sandbox, "import torch\nresult = float(torch.ones(1000, 1000).sum())") == 1e6
    healthy(zygote)


FILL = "fill-" + uuid.uuid4().hex[:12]  # the files this run's sandboxes write in /dev/shm, not another run's


def test_memory_outside_the_address_space_is_counted(zygote):
    """memfd, System V and POSIX shared memory escape RLIMIT_AS: the first two are denied, and files in a tmpfs
    (/dev/shm, the private /tmp) count against the sandbox's memory cgroup where the host gives one."""
    from dataclasses import replace
    limits = replace(LIMITS, memory_bytes=256 << 20, disk_bytes=1 << 30)
    with zygote.spawn(limits=limits) as sandbox:
        denied = run(sandbox, (
            "import ctypes, os\n"
            "libc = ctypes.CDLL(None, use_errno=True)\n"
            "result = []\n"
            "try:\n"
            "    os.memfd_create('x'); result.append('memfd')\n"
            "except OSError:\n"
            "    pass\n"
            "if libc.shmget(0, 1 << 20, 0o1000 | 0o600) >= 0: result.append('shmget')\n"
            "if libc.msgget(0, 0o1000 | 0o600) >= 0: result.append('msgget')\n"
            "if libc.semget(0, 1, 0o1000 | 0o600) >= 0: result.append('semget')\n"))
        assert denied == [], denied
        fill = ("import os\n"
                "for i in range(10):\n"
                f"    with open(f'/dev/shm/{FILL}-{{os.getpid()}}-{{i}}', 'wb') as f:\n"
                "        for _ in range(60):\n"
                "            f.write(b'x' * (1 << 20))\n"
                "result = 'wrote 600 MB'")
        if zygote.memory and "cgroup" in zygote.memory:
            with pytest.raises(SandboxDied, match="memory limit"):
                attempt(sandbox, fill, timeout=30)
        else:
            reply = attempt(sandbox, fill, timeout=30)  # bounded by the tmpfs size or RLIMIT_FSIZE per file
            assert not reply["ok"] or not namespaced(zygote), reply
    assert not [p for p in Path("/dev/shm").iterdir() if p.name.startswith(FILL)]
    healthy(zygote)


def test_cpu_file_and_disk_limits(zygote):
    limits = Limits(cpu_seconds=1, file_bytes=1 << 20, disk_bytes=8 << 20, call_timeout=10)
    with zygote.spawn(limits=limits) as sandbox:
        big = attempt(sandbox, "open('big', 'wb').write(b'x' * (2 << 20))")
        assert not big["ok"] and "too large" in big["message"].lower(), big
        if namespaced(zygote):  # without a mount namespace there is no tmpfs of its own to bound the disk
            full = attempt(sandbox, "for i in range(12):\n    open(f'/tmp/f{i}', 'wb').write(b'x' * (1 << 20))")
            assert not full["ok"] and "space" in full["message"].lower(), full
        with pytest.raises(SandboxDied, match="CPU time limit"):
            attempt(sandbox, "while True:\n    pass")
    healthy(zygote)


def test_wall_clock_limit(zygote):
    """The whole life of a sandbox is bounded: by the grader on each request, and by its relay if idle."""
    with zygote.spawn(limits=Limits(wall_timeout=1.0, call_timeout=30)) as sandbox:
        assert run(sandbox, "result = 1") == 1
        start = time.monotonic()
        with pytest.raises(SandboxTimeout, match="wall-clock"):
            attempt(sandbox, "import time\ntime.sleep(60)")
        assert time.monotonic() - start < 2
    idle = zygote.spawn(limits=Limits(wall_timeout=1.0))
    assert idle.wait(5) and idle.status.get("wall") is True  # killed by the relay with nobody asking
    idle.close()


def test_fork_bomb_is_limited_and_leaves_nothing(zygote):
    with zygote.spawn() as sandbox:
        forks = run(sandbox, (
            "import os, time\n"
            "made = 0\n"
            "try:\n"
            "    for _ in range(1000):\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(600)\n"
            "            os._exit(0)\n"
            "        made += 1\n"
            "except OSError:\n"
            "    pass\n"
            "result = made"))
        assert forks < 32
    uid_bomb = zygote.spawn()
    with pytest.raises(SandboxTimeout):
        attempt(uid_bomb, "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
                timeout=1.5)
    # (a relay that ran under the sandbox's uid may be a zombie for an instant, until the zygote reaps it; once the
    # uid is released, another batch on the host may take it, and what runs under it then is that batch's)
    import hostwide  # here: the zygote loads this module, without tests/ on its path

    assert wait_for(lambda: hostwide.processes_of(hostwide.ours_now({uid_bomb.uid}, os.getpid())) == [], 2)
    uid_bomb.close()
    healthy(zygote)


@pytest.mark.parametrize("how", ["kill", "exit"])
def test_daemons_die_with_the_sandbox(zygote, tmp_path, how):
    """A setsid'd, double-forked daemon that wants to write outside later is dead as soon as the sandbox is."""
    marker = "agdaemon" + uuid.uuid4().hex
    target = tmp_path / "escaped.txt"
    daemon = (f"import time\nwhile True:\n    time.sleep(0.05)\n    try:\n        open({str(target)!r}, 'w').write('x')\n"
              f"    except OSError:\n        pass\n")
    sandbox = zygote.spawn()
    run(sandbox, (
        "import os, sys\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv(sys.executable, [sys.executable, '-c', {daemon!r}, {marker!r}])\n"
        "    os._exit(0)\n"
        "os.waitpid(pid, 0)\n"
        "result = True"))
    assert wait_for(lambda: host_processes(lambda cmd, uid: marker in cmd), 10), "the daemon never ran"
    if how == "kill":
        sandbox.kill()
        assert host_processes(lambda cmd, uid: marker in cmd) == []  # kill() returns once all is gone
    else:
        with pytest.raises(SandboxDied, match="status 0"):
            attempt(sandbox, "import os\nos._exit(0)")
        assert wait_for(lambda: not host_processes(lambda cmd, uid: marker in cmd), 5)
    sandbox.close()
    time.sleep(0.3)
    assert not target.exists()
    assert host_processes(lambda cmd, uid: marker in cmd) == []
    healthy(zygote)


# -- what a sandbox may see and touch ------------------------------------------------------------------------
def test_repository_is_read_only_and_invisible(zygote):
    venv_site = next(p for p in sys.path if p.endswith("site-packages"))
    targets = [REPO / "autograder" / "pwned.py", REPO / "pwned.txt", REPO / "solutions" / "pwned.py",
               Path(venv_site) / "pwned.pth", Path(sys.prefix) / "pwned.txt", Path("/etc/pwned"),
               Path("/usr/pwned"), Path("/pwned"), Path("/dev/pwned"), Path("/proc/pwned")]
    with zygote.spawn() as sandbox:
        scratch, tmp = run(sandbox, "import os, tempfile\nresult = [os.getcwd(), tempfile.gettempdir()]")
        result = run(sandbox, (
            f"targets = {[str(t) for t in targets]!r}\n"
            "result = {}\n"
            "for t in targets:\n"
            "    try:\n"
            "        open(t, 'w').write('pwned'); result[t] = 'written'\n"
            "    except OSError as e:\n"
            "        result[t] = type(e).__name__\n"
            f"for t in ({scratch + '/ok'!r}, {tmp + '/ok2'!r}):\n"
            "    open(t, 'w').write('ok'); result[t] = open(t).read()"))
    for t in targets:
        assert result[str(t)] != "written", t
        assert not t.exists(), t
    assert result[scratch + "/ok"] == result[tmp + "/ok2"] == "ok"


def test_solutions_and_hidden_tests_are_unreadable(zygote):
    solution = REPO / "solutions" / "linear_regression.py"
    assert solution.exists()
    hidden = tempfile.mkdtemp(prefix="agtest-hidden-", dir=sys.prefix)  # a hidden folder inside a visible one
    Path(hidden, "answers.txt").write_text(SECRET)
    try:
        with zygote.spawn(hide=[hidden]) as sandbox:
            result = run(sandbox, (
                "import os, sys, importlib\n"
                "result = {}\n"
                f"for path in ({str(solution)!r}, {str(REPO / 'autograder' / 'hidden')!r}, {hidden + '/answers.txt'!r}):\n"
                "    try:\n"
                "        result[path] = open(path).read()[:50]\n"
                "    except OSError as e:\n"
                "        result[path] = type(e).__name__\n"
                "for name in ('solutions', 'solutions.linear_regression', 'autograder.hidden'):\n"
                "    sys.modules.pop(name, None)\n"
                "    try:\n"
                "        importlib.import_module(name); result[name] = 'imported'\n"
                "    except ImportError as e:\n"
                "        result[name] = type(e).__name__\n"
                "def listing(path):\n"
                "    try:\n"
                "        return sorted(os.listdir(path))\n"
                "    except OSError as e:\n"
                "        return []\n"
                f"result['repo'] = listing({str(REPO)!r})\n"
                f"result['hidden'] = listing({hidden!r})\n"
                f"result['hidden_file'] = os.path.exists({hidden + '/answers.txt'!r})\n"
                "found = []\n"
                # without namespaces the host's /tmp is shared: what other programs leave there is not ours to judge
                f"for top in {('/scratch', '/tmp', '/work', '/root', '/etc', '/dev') if namespaced(zygote) else ('/work', '/root', '/etc', '/dev')!r} + (os.getcwd(),):\n"
                "    for folder, dirs, files in os.walk(top):\n"
                "        found += [os.path.join(folder, f) for f in files if f.endswith('linear_regression.py')]\n"
                "result['found'] = found"))
    finally:
        Path(hidden, "answers.txt").unlink()
        os.rmdir(hidden)
    assert result[str(solution)] in ("FileNotFoundError", "PermissionError")
    assert result[str(REPO / "autograder" / "hidden")] in ("FileNotFoundError", "PermissionError")
    assert result[hidden + "/answers.txt"] in ("FileNotFoundError", "PermissionError")
    assert result["solutions"] == result["solutions.linear_regression"] == result["autograder.hidden"] == "ImportError"
    assert set(result["repo"]) <= {".venv"} and result["hidden"] == [] and result["found"] == []


def test_no_network(zygote):
    """No socket can be opened (seccomp); loopback TCP and abstract unix sockets of the host are unreachable."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen()
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    name = "\0agtest-" + uuid.uuid4().hex
    abstract.bind(name)
    abstract.listen()
    port = server.getsockname()[1]
    try:
        with zygote.spawn() as sandbox:
            result = run(sandbox, (
                "import socket\n"
                "result = {}\n"
                "for family, address in ((socket.AF_INET, ('127.0.0.1', %d)), (socket.AF_UNIX, %r),\n"
                "                        (socket.AF_INET6, ('::1', %d))):\n"
                "    try:\n"
                "        s = socket.socket(family, socket.SOCK_STREAM)\n"
                "        s.settimeout(2)\n"
                "        s.connect(address); result[family.name] = 'connected'\n"
                "    except OSError as e:\n"
                "        result[family.name] = type(e).__name__\n"
                "a, b = socket.socketpair()\n"
                "a.sendall(b'pair'); result['pair'] = b.recv(4).decode()" % (port, name, port)))
        assert "connected" not in result.values(), result
        assert result["AF_INET"] == result["AF_UNIX"] == result["AF_INET6"] == "PermissionError", result
        assert result["pair"] == "pair"
        import select
        assert select.select([server, abstract], [], [], 0.2)[0] == []  # nobody knocked
    finally:
        server.close()
        abstract.close()


def test_grader_environment_is_invisible(zygote):
    assert os.environ.get(SECRET_NAME) == SECRET
    assert SECRET_NAME not in zygote.environ()
    with zygote.spawn() as sandbox:
        result = run(sandbox, (
            "import os\n"
            "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
            "seen = ' '.join(f'{k}={v}' for k, v in os.environ.items())\n"
            "for pid in pids:\n"
            "    for what in ('environ', 'cmdline'):\n"
            "        try:\n"
            "            seen += open(f'/proc/{pid}/{what}', 'rb').read().decode(errors='replace')\n"
            "        except OSError:\n"
            "            pass\n"
            "result = [pids, seen]"))
    pids, seen = result
    assert pids == [1] or not namespaced(zygote)
    assert SECRET not in seen and SECRET_NAME not in seen


def test_output_floods_do_not_reach_the_grader(zygote, zlog, capfd):
    """300 MB on stdout and stderr go nowhere; garbage written to every descriptor is a clean failure."""
    with zygote.spawn() as sandbox:
        assert run(sandbox, (
            "import os, sys\n"
            "chunk = b'FLOOD' * (1 << 18)\n"
            "for _ in range(240):\n"
            "    os.write(1, chunk); os.write(2, chunk)\n"
            "print('FLOOD' * 1000); print('FLOOD', file=sys.stderr)\n"
            "result = 'answered'"), timeout=30) == "answered"
        assert run(sandbox, "result = 2 + 2") == 4
        start = time.monotonic()
        try:
            reply = attempt(sandbox, (
                "import os\n"
                "for fd in range(1024):\n"
                "    try:\n"
                "        os.set_blocking(fd, False)\n"
                "        os.write(fd, b'FLOOD' * (1 << 18))\n"
                "    except OSError:\n"
                "        pass\n"
                "result = 'answered'"), timeout=5)
        except (SandboxProtocolError, SandboxTimeout, SandboxDied):
            assert not sandbox.alive
        else:
            assert reply == {"ok": True, "result": "answered"}
        assert time.monotonic() - start < 6
    out, err = capfd.readouterr()
    assert "FLOOD" not in out and "FLOOD" not in err
    assert b"FLOOD" not in zlog.read_bytes()
    healthy(zygote)


def test_concurrent_sandboxes_cannot_see_each_other(zygote):
    marker = "agpeer" + uuid.uuid4().hex
    a, b = zygote.spawn(), zygote.spawn()
    try:
        assert a.uid != b.uid
        run(a, (
            "import os, sys, subprocess, tempfile\n"
            f"open('{marker}', 'w').write('a'); open(tempfile.gettempdir() + '/{marker}', 'w').write('a')\n"
            f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', {marker!r}])\n"
            "result = True"))
        assert wait_for(lambda: host_processes(lambda cmd, uid: marker in cmd), 10)
        scratch = run(a, "import os\nresult = os.getcwd()")
        seen = run(b, (
            "import os, signal\n"
            "seen, signalled = [], []\n"
            f"for top in ('/scratch', '/tmp', '/dev/shm', {scratch!r}):\n"
            "    for folder, dirs, files in os.walk(top):\n"
            f"        seen += [f for f in files if {marker!r} in f]\n"
            "for pid in os.listdir('/proc'):\n"
            "    if pid.isdigit():\n"
            "        try:\n"
            f"            if {marker!r}.encode() in open(f'/proc/{{pid}}/cmdline', 'rb').read():\n"
            "                seen.append('process')\n"
            "                os.kill(int(pid), signal.SIGKILL); signalled.append(pid)\n"
            "        except OSError:\n"
            "            pass\n"
            "result = [seen, signalled, os.getpid()]"))
        if namespaced(zygote):
            assert seen == [[], [], 1]
        else:  # the other's files stay out of reach, and its processes out of reach of signals (their
            assert seen[0] in ([], ["process"]) and seen[1] == []  # command lines show in the host's /proc)
        assert wait_for(lambda: host_processes(lambda cmd, uid: marker in cmd), 1)
    finally:
        a.close()
        b.close()
    assert host_processes(lambda cmd, uid: marker in cmd) == []


def test_concurrent_spawns_from_threads(zygote):
    answers, errors = [], []

    def worker(n: int) -> None:
        try:
            for i in range(3):
                with zygote.spawn(files={"n.txt": f"{n}-{i}"}) as sandbox:
                    answers.append(run(sandbox, "import os\nresult = [open('n.txt').read(), os.getuid()]"))
        except Exception as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(a[0] for a in answers) == sorted(f"{n}-{i}" for n in range(4) for i in range(3))


def test_zygote_never_imports_secrets(zygote):
    modules = zygote.modules()
    assert "torch" in modules and "numpy" in modules
    assert not [m for m in modules if m == "solutions" or m.startswith(("solutions.", "autograder.hidden"))]
    with zygote.spawn() as sandbox:
        inside = run(sandbox, "import sys\nresult = sorted(sys.modules)")
    assert "solutions" not in inside and not [m for m in inside if m.startswith("autograder.hidden")]


def test_zygote_refuses_to_import_solutions():
    with pytest.raises(SandboxError, match="may not be imported"):
        Zygote("solutions.linear_regression:mse_grads", preload=(), isolate=False)


def test_no_zombies_and_close_stops_everything(zlog):
    if os.geteuid() != 0:
        pytest.skip("these tests build sandboxes as root")
    z = Zygote(ENTRY, preload=(), limits=LIMITS)
    for _ in range(6):
        s = z.spawn()
        run(s, "result = 1")
        s.kill()
    time.sleep(1.2)  # the zygote reaps at least once a second

    def children_of(pid: int) -> list[tuple[int, str]]:
        found = []
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append((int(entry), fields[0]))
        return found

    assert children_of(z.pid) == []
    live = [z.spawn() for _ in range(3)]
    assert len(children_of(z.pid)) == 3
    z.close()
    z.close()
    assert not z.alive
    assert all(not s.alive for s in live)
    with pytest.raises(SandboxError):
        z.spawn()


def test_zygote_death_kills_its_sandboxes_and_is_replaced():
    if os.geteuid() != 0:
        pytest.skip("these tests build sandboxes as root")
    with Zygote(ENTRY, preload=(), limits=LIMITS) as z:
        live = [z.spawn() for _ in range(2)]
        for s in live:
            run(s, "result = 1")
        old = z.pid
        os.kill(old, signal.SIGKILL)
        assert all(s.wait(5) for s in live)  # relays die with the zygote, sandboxes with their relay
        assert not any(s.alive for s in live)
        with z.spawn() as s:
            assert run(s, "result = 2") == 2
        assert z.pid != old and z.restarts == 1


def test_without_isolation_still_limits(tmp_path):
    """--no-sandbox: still one fork per submission with rlimits, in a scratch folder removed afterwards."""
    with Zygote(ENTRY, preload=(), isolate=False, limits=LIMITS) as z:
        assert z.mode == z.level == "none"
        with z.spawn(files={"f.txt": b"data"}) as sandbox:
            cwd, data, memory, uid = run(sandbox, (
                "import os\n"
                "try:\n"
                "    bytearray(12 * 2**30); memory = 'allocated'\n"
                "except MemoryError:\n"
                "    memory = 'MemoryError'\n"
                "result = [os.getcwd(), open('f.txt').read(), memory, os.getuid()]"))
        assert data == "data" and memory == "MemoryError"
        assert uid != 0 and (uid >= 60001 or os.geteuid() != 0)  # trusted code, yet never root
        assert wait_for(lambda: not os.path.exists(cwd), 3)
        marker = "agnoiso" + uuid.uuid4().hex
        with z.spawn() as sandbox:  # what stays in its session dies with it (no PID namespace here)
            run(sandbox, f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; "
                         f"time.sleep(60)', {marker!r}])")
            assert wait_for(lambda: host_processes(lambda cmd, uid: marker in cmd), 10)
        assert wait_for(lambda: not host_processes(lambda cmd, uid: marker in cmd), 3)


@needs_root
def test_user_namespace_mode(tmp_path):
    """Inside a user namespace (root there, not on the host) the same defences hold."""
    with Zygote(ENTRY, preload=(), limits=LIMITS, launcher=["unshare", "--user", "--map-root-user"]) as z:
        assert z.mode == "userns"
        marker = "aguserns" + uuid.uuid4().hex
        with z.spawn() as sandbox:
            result = run(sandbox, (
                "import os, sys, socket, subprocess\n"
                f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', {marker!r}],\n"
                "                 start_new_session=True)\n"
                "status = open('/proc/self/status').read()\n"
                "result = {'pid': os.getpid(), 'uid': os.getuid(), 'cap': status.split('CapEff:')[1].split()[0]}\n"
                "for path in (" + repr(str(REPO / "solutions" / "linear_regression.py")) + ", '/etc/pwned'):\n"
                "    try:\n"
                "        open(path, 'a'); result[path] = 'opened'\n"
                "    except OSError as e:\n"
                "        result[path] = type(e).__name__\n"
                "try:\n"
                "    socket.create_connection(('127.0.0.1', 22), timeout=1); result['net'] = 'connected'\n"
                "except OSError as e:\n"
                "    result['net'] = type(e).__name__\n"
                "try:\n"
                "    import ctypes\n"
                "    result['umount'] = ctypes.CDLL(None, use_errno=True).umount2(b'/scratch', 2)\n"
                "except Exception as e:\n"
                "    result['umount'] = type(e).__name__\n"))
            assert wait_for(lambda: host_processes(lambda cmd, uid: marker in cmd), 10)
        assert host_processes(lambda cmd, uid: marker in cmd) == []
    assert result["pid"] == 1 and result["uid"] >= 60001 and result["cap"] == "0000000000000000"
    assert result[str(REPO / "solutions" / "linear_regression.py")] != "opened"
    assert result["/etc/pwned"] != "opened" and result["net"] != "connected" and result["umount"] == -1


def test_unavailable_without_namespaces():
    """Where no namespace can be made, the Zygote says so in one line instead of grading unprotected."""
    no_userns = ["unshare", "--user", "--map-root-user", "sh", "-c",
                 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"', "sh"]
    try:
        import subprocess
        subprocess.run(no_userns + ["true"], check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("cannot simulate a machine without user namespaces here")
    with pytest.raises(SandboxUnavailable) as error:
        Zygote(ENTRY, preload=(), launcher=no_userns)
    message = str(error.value)
    assert "\n" not in message and "--no-sandbox" in message
    assert "user.max_user_namespaces" in message and "uid-seccomp" in message
