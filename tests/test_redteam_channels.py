"""Red team: channels between sandboxes that namespaces do not cover, attacked for real at every isolation level.

A "writer" notebook leaves the source code of a correct ``mse_grads`` in every channel it can think of: a key in
the kernel keyrings, System V shared memory and message queues, a POSIX message queue, an abstract unix socket,
files in the world-writable folders (/tmp, /var/tmp, /dev/shm, /run/lock and those inside them), its home and
scratch folders and the scratch folders it guesses the next sandboxes will get; it keeps its process alive a
while, so that a sandbox running beside it (``--jobs 2``) could read them too. "Reader" notebooks look in every
channel and use that code if they find it, else return zeros: each reader must get 0 on ``mse_grads``, honest
students keep full marks, and nothing is left on the host afterwards (keys, IPC objects, files, processes).

Other grading batches may run on the same host meanwhile (another test run, an instructor's grading): what is
left is judged for this batch only (tests/hostwide.py): under the sandbox uids it held, and no other batch holds
since, and by names (file, queue, socket, IPC key) unique to this run.
"""
from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

import containerlike
import hostwide
from autograder.authoring.fill import filled_release, write
from autograder.sandbox.hostprobe import ISOLATING
from conftest import ASSIGNMENTS, COURSE

A = ASSIGNMENTS["02_linear_regression"]
SECRET = "red-team-channels-5d1e"
TAG = hostwide.token("agchannel")  # names what the writer leaves: this run's, never another run's
KEY = 0x10000 + int(TAG[-6:], 16)  # its System V IPC key, as unique

COMMON = textwrap.dedent('''
    import ctypes, os, socket, stat, torch
    TAG = "__TAG__"
    KEY = __KEY__
    FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/run/shm")
    _libc = ctypes.CDLL(None, use_errno=True)
    _libc.syscall.restype = ctypes.c_long
    _libc.shmat.restype = ctypes.c_void_p
    _libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    _libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]

    def _places():
        """Every folder a file could be left in for another sandbox."""
        places = [os.path.expanduser("~"), os.getcwd(), os.environ.get("TMPDIR", "/tmp")]
        parent, name = os.path.split(os.getcwd())
        uid, _, serial = name.partition("-")
        if uid.isdigit() and serial.isdigit():  # a scratch folder named <uid>-<serial>: guess the next ones
            places += [os.path.join(parent, f"{u}-{int(serial) + k}") for u in range(int(uid) - 2, int(uid) + 3)
                       for k in range(1, 6)]
        for folder in FOLDERS:
            places.append(folder)
            try:
                for entry in os.scandir(folder):
                    if entry.is_dir(follow_symlinks=False) and entry.stat().st_mode & 0o002:
                        places.append(entry.path)
            except OSError:
                pass
        return places
''').replace("__TAG__", TAG).replace("__KEY__", str(KEY))

WRITER = COMMON + textwrap.dedent('''
    SRC = """
    def mse_grads(x, y, w, b):
        r = x * w + b - y
        return (2 / x.shape[0] * (x * r).sum()).reshape(1), (2 / x.shape[0] * r.sum()).reshape(1)
    """
    PAYLOAD = (TAG + SRC).encode()
    left = []

    def _try(name, fn):
        try:
            fn()
            left.append(name)
        except Exception as error:
            pass

    def _keys():
        for ring in (-4, -5, -3, -2, -1):  # user, user session, session, process, thread keyrings
            if _libc.syscall(248, b"user", TAG.encode(), PAYLOAD, len(PAYLOAD), ring) < 0:
                raise OSError(ctypes.get_errno(), "add_key")

    def _shm():
        shm = _libc.shmget(KEY, 65536, 0o1000 | 0o666)
        if shm < 0:
            raise OSError(ctypes.get_errno(), "shmget")
        where = _libc.shmat(shm, None, 0)
        if where in (None, ctypes.c_void_p(-1).value):
            raise OSError(ctypes.get_errno(), "shmat")
        ctypes.memmove(where, PAYLOAD + b"\\0", len(PAYLOAD) + 1)

    def _msg():
        queue = _libc.msgget(KEY, 0o1000 | 0o666)
        if queue < 0:
            raise OSError(ctypes.get_errno(), "msgget")
        message = (1).to_bytes(8, "little") + PAYLOAD
        if _libc.msgsnd(queue, message, len(PAYLOAD), 0o4000) < 0:
            raise OSError(ctypes.get_errno(), "msgsnd")

    def _mq():
        queue = _libc.mq_open(b"/" + TAG.encode(), 0o100 | 0o2, 0o666, None)
        if queue < 0:
            raise OSError(ctypes.get_errno(), "mq_open")
        if _libc.mq_send(queue, PAYLOAD, len(PAYLOAD), 0) < 0:
            raise OSError(ctypes.get_errno(), "mq_send")

    def _abstract():
        import threading
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind("\\0" + TAG)
        server.listen(8)
        def serve():
            while True:
                connection, _ = server.accept()
                connection.sendall(PAYLOAD)
                connection.close()
        threading.Thread(target=serve, daemon=True).start()

    def _files():
        for folder in _places():
            for make in (lambda: None, lambda: os.makedirs(folder, exist_ok=True)):
                try:
                    make()
                    path = os.path.join(folder, TAG + ".py")
                    with open(path, "wb") as f:
                        f.write(PAYLOAD)
                    left.append(path)
                    for mode in (0o666, 0o644, 0o604):
                        try:
                            os.chmod(path, mode)
                            os.chmod(folder, 0o777)
                        except OSError:
                            pass
                    os.umask(0)
                    break
                except OSError:
                    pass

    for name, fn in (("keys", _keys), ("shm", _shm), ("msg", _msg), ("mq", _mq), ("abstract", _abstract),
                     ("files", _files)):
        _try(name, fn)
    print("left in:", left)
    import time
    time.sleep(1.5)  # alive while a sandbox beside it runs
    exec(SRC)
''')

READER = COMMON + textwrap.dedent('''
    def _found():
        """The code left in some channel, or None."""
        readers = []
        def keys():
            for ring in (0, -4, -5, -3):
                key = _libc.syscall(249, b"user", TAG.encode(), None, ring)
                if key >= 0:
                    buffer = ctypes.create_string_buffer(65536)
                    size = _libc.syscall(250, 11, ctypes.c_long(key), buffer, 65536)
                    if size > 0:
                        return buffer.raw[:size]
        def shm():
            shm = _libc.shmget(KEY, 0, 0)
            if shm >= 0:
                where = _libc.shmat(shm, None, 0o10000)
                if where not in (None, ctypes.c_void_p(-1).value):
                    return ctypes.string_at(where)
        def msg():
            queue = _libc.msgget(KEY, 0)
            if queue >= 0:
                buffer = ctypes.create_string_buffer(65536)
                size = _libc.msgrcv(queue, buffer, 65528, 0, 0o4000 | 0o20000)
                if size > 0:
                    return buffer.raw[8:8 + size]
        def mq():
            queue = _libc.mq_open(b"/" + TAG.encode(), 0o4000, 0, None)
            if queue >= 0:
                buffer = ctypes.create_string_buffer(65536)
                size = _libc.mq_receive(queue, buffer, 65536, None)
                if size > 0:
                    return buffer.raw[:size]
        def abstract():
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            client.settimeout(1)
            client.connect("\\0" + TAG)
            return client.recv(65536)
        def files():
            for folder in _places():
                try:
                    return open(os.path.join(folder, TAG + ".py"), "rb").read()
                except OSError:
                    pass
        for channel in (keys, shm, msg, mq, abstract, files):
            try:
                data = channel()
            except Exception:
                data = None
            if data and data.startswith(TAG.encode()):
                return channel.__name__, data[len(TAG):].decode()
        return None

    def mse_grads(x, y, w, b):
        found = _found()
        if found is None:
            return torch.zeros(1), torch.zeros(1)
        namespace = {}
        exec(found[1], namespace)
        print("found it in", found[0])
        return namespace["mse_grads"](x, y, w, b)
''')

READERS = ("b_reader", "c_reader", "d_reader", "e_reader", "f_reader")


@pytest.fixture(scope="module", params=ISOLATING)
def graded(request, tmp_path_factory):
    level = request.param
    if os.geteuid() != 0:
        pytest.skip("checking what is left on the host (keys, IPC, files of other uids) needs root")
    launcher = containerlike.launcher_for(level)
    everyone = hostwide.SANDBOX_UIDS  # what any batch left before this one is not this one's
    before = {"files": set(hostwide.files_left(everyone, TAG)), "ipc": set(hostwide.ipc_objects(everyone, KEY))}
    root = tmp_path_factory.mktemp("channels")
    out, submitted = root / "graded", root / "submitted"
    write(filled_release(COURSE, A, {"mse_grads": WRITER}), submitted / "a_writer" / A.name / A.notebook)
    for reader in READERS:
        write(filled_release(COURSE, A, {"mse_grads": READER}), submitted / reader / A.name / A.notebook)
    for honest in ("honest1", "honest2"):
        write(filled_release(COURSE, A), submitted / honest / A.name / A.notebook)
    done, held = hostwide.run_batch(
        [*launcher, sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "--jobs", "2",
         "--call-timeout", "2", "--cell-timeout", "5", "--notebook-timeout", "20", "--memory-gib", "2", "--quiet",
         "--exact-isolation", level],
        timeout=600, env={**os.environ, "AUTOGRADER_SECRET": SECRET})
    results = {p.parent.parent.name: json.loads(p.read_text()) for p in out.glob("*/*/*.json")}
    ours = hostwide.ours_now(held)  # the uids this batch held, less those another batch has taken since
    yield {"done": done, "results": results, "level": level, "uids": held,
           "files": sorted(set(hostwide.files_left(ours, TAG)) - before["files"]),
           "ipc": sorted(set(hostwide.ipc_objects(ours, KEY)) - before["ipc"]),
           "keys": hostwide.keys_of(ours), "processes": hostwide.processes_of(ours)}


def mse_grads_score(result: dict) -> float:
    return sum(t["score"] for t in result["tests"] if "mse_grads" in t["tags"])


def test_batch_completes(graded):
    assert graded["done"].returncode == 0, graded["done"].stderr[-3000:]
    assert len(graded["results"]) == 1 + len(READERS) + 2
    assert {r["extra_data"]["isolation"] for r in graded["results"].values()} == {graded["level"]}
    assert len(graded["uids"]) >= 2, graded["uids"]  # the batch's own sandbox uids were seen: what is left is judged


def test_writer_ran(graded):
    """The writer's own notebook works (its code is right): the attack really ran."""
    assert mse_grads_score(graded["results"]["a_writer"]) == A.blanks["mse_grads"], graded["results"]["a_writer"]


@pytest.mark.parametrize("reader", READERS)
def test_readers_find_nothing(graded, reader):
    result = graded["results"][reader]
    assert mse_grads_score(result) == 0, json.dumps(result, indent=1)[:3000]
    assert "found it in" not in json.dumps(result)


@pytest.mark.parametrize("student", ["honest1", "honest2"])
def test_honest_students_keep_full_marks(graded, student):
    result = graded["results"][student]
    assert result["score"] == result["max_score"] == A.max_score, result


def test_nothing_left_on_the_host(graded):
    assert graded["keys"] == [], graded["keys"]
    assert graded["ipc"] == [], graded["ipc"]
    assert graded["files"] == [], graded["files"]
    assert graded["processes"] == [], graded["processes"]
