"""Red team: real attacking submissions graded by the real grader in one batch with honest ones.

Each attack replaces the ``mse_grads`` cell (3 points) of an otherwise correct 02_linear_regression
notebook. Where an attack would *succeed* if its defence failed (it reads the solutions, asks a server on
loopback, finds expected values in memory), it returns the right answer only then, so a hole shows up as
marks. Every attacker must get 0 on ``mse_grads``; honest students in the same batch keep full marks; no
process or file of theirs outlives the run.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

import containerlike
import hostwide
from autograder.sandbox.hostprobe import ISOLATING

from conftest import ASSIGNMENTS, COURSE, REPO
from autograder.authoring.fill import filled_release, write

A = ASSIGNMENTS["02_linear_regression"]
SECRET = "red-team-secret-7f3a"
MARKER = hostwide.token("redteam-marker-")  # this run's: `pgrep -f` never finds another run's attackers

# Code that computes the right answer, which an attack uses only if it manages to cheat.
RIGHT = textwrap.dedent("""
    def _right(x, y, w, b):
        r = x * w + b - y
        return (2 / x.shape[0] * (x * r).sum()).reshape(1), (2 / x.shape[0] * r.sum()).reshape(1)
""")


def attacks(repo: Path, out: Path, port: int) -> dict[str, str]:
    solutions = repo / "solutions" / "linear_regression.py"
    return {
        "patch_allclose": """
            import torch, torch.testing
            torch.allclose = lambda *a, **k: True
            torch.testing.assert_close = lambda *a, **k: None
            torch.Tensor.__eq__ = lambda self, other: torch.ones((), dtype=torch.bool)
            def mse_grads(x, y, w, b):
                return torch.zeros(1), torch.zeros(1)
            """,
        "lying_subclass": """
            import torch
            class Liar(torch.Tensor):
                @classmethod
                def __torch_function__(cls, func, types, args=(), kwargs=None):
                    return True
            def mse_grads(x, y, w, b):
                return torch.zeros(1).as_subclass(Liar), torch.zeros(1).as_subclass(Liar)
            """,
        "sys_exit_in_call": """
            import sys
            def mse_grads(x, y, w, b):
                sys.exit(0)
            """,
        "os_exit_in_call": """
            import os
            def mse_grads(x, y, w, b):
                os._exit(0)
            """,
        "keyboard_interrupt": """
            def mse_grads(x, y, w, b):
                raise KeyboardInterrupt
            """,
        "custom_base_exception": """
            class Escape(BaseException):
                pass
            def mse_grads(x, y, w, b):
                raise Escape("out of the grader")
            """,
        "loop_ignoring_signals": """
            import signal
            def mse_grads(x, y, w, b):
                for s in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT):
                    signal.signal(s, signal.SIG_IGN)
                while True:
                    pass
            """,
        "sleep_forever_at_top_level": ("""
            import signal, time
            signal.signal(signal.SIGALRM, signal.SIG_IGN)
            time.sleep(10**6)
            """, RIGHT, "mse_grads = _right"),
        "huge_allocation": ("""
            import torch
            hog = torch.empty(3 * 10**9)
            """, RIGHT, "mse_grads = _right"),
        "new_session_children": f"""
            import subprocess
            for _ in range(3):
                subprocess.Popen(["sh", "-c", "sleep 1000; echo {MARKER}"], start_new_session=True)
            def mse_grads(x, y, w, b):
                raise RuntimeError("no answer")
            """,
        "double_forked_daemon": f"""
            import os, time, glob
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    os.execvp("sh", ["sh", "-c", "sleep 3; for f in {out}/*/*/*.json; do echo '{{\\"score\\": 999}}' > $f; done; touch {out}/{MARKER}"])
                os._exit(0)
            def mse_grads(x, y, w, b):
                raise RuntimeError("no answer")
            """,
        "flood_output": """
            import sys
            chunk = "x" * (1 << 20)
            for _ in range(300):
                print(chunk)
                sys.stderr.write(chunk)
            def mse_grads(x, y, w, b):
                for _ in range(300):
                    print(chunk)
                raise RuntimeError("no answer")
            """,
        "forge_json_everywhere": """
            import os, json
            forged = json.dumps({"score": 999, "max_score": 999, "ok": True}).encode()
            print(forged.decode())
            def mse_grads(x, y, w, b):
                for fd in range(1024):
                    try:
                        os.write(fd, forged)
                    except OSError:
                        pass
                raise RuntimeError("no answer")
            """,
        "caller_frames_and_memory": """
            import sys, gc, torch
            def _leaked(module):
                # what the grader's side holds: the reference solutions, by any name it might use
                return (getattr(module, "__name__", "") != "__main__" and callable(getattr(module, "mse_grads", None))
                        and type(module).__name__ == "module")
            def mse_grads(x, y, w, b):
                frame = sys._getframe(1)
                while frame is not None:
                    for value in list(frame.f_locals.values()) + list(frame.f_globals.values()):
                        if _leaked(value):
                            return value.mse_grads(x, y, w, b)
                    frame = frame.f_back
                for obj in gc.get_objects():
                    if _leaked(obj):
                        return obj.mse_grads(x, y, w, b)
                for module in list(sys.modules.values()):
                    if _leaked(module):
                        return module.mse_grads(x, y, w, b)
                return torch.zeros(1), torch.zeros(1)
            """,
        "read_solutions": f"""
            import torch
            def mse_grads(x, y, w, b):
                namespace = {{}}
                try:
                    exec(open("{solutions}").read(), namespace)
                    return namespace["mse_grads"](x, y, w, b)
                except Exception:
                    pass
                try:
                    import solutions.linear_regression as ref
                    return ref.mse_grads(x, y, w, b)
                except Exception:
                    return torch.zeros(1), torch.zeros(1)
            """,
        "write_into_repository": f"""
            import torch
            def mse_grads(x, y, w, b):
                for target in ("{repo}/solutions/linear_regression.py", "{repo}/{MARKER}", "{out}/{MARKER}"):
                    try:
                        with open(target, "w") as f:
                            f.write("hacked")
                    except OSError:
                        pass
                return torch.zeros(1), torch.zeros(1)
            """,
        "zero_inputs": """
            def mse_grads(x, y, w, b):
                for t in (x, y, w, b):
                    t.zero_()
                r = x * w + b - y
                return (2 / x.shape[0] * (x * r).sum()).reshape(1), (2 / x.shape[0] * r.sum()).reshape(1)
            """,
        "loopback_oracle": (RIGHT, f"""
            import socket, torch
            def mse_grads(x, y, w, b):
                try:
                    socket.create_connection(("127.0.0.1", {port}), timeout=1).close()
                    return _right(x, y, w, b)
                except OSError:
                    return torch.zeros(1), torch.zeros(1)
            """),
        "other_processes_environ": """
            import glob
            def mse_grads(x, y, w, b):
                found = []
                for path in glob.glob("/proc/*/environ"):
                    try:
                        found.append(open(path, "rb").read().decode(errors="replace"))
                    except OSError:
                        pass
                raise RuntimeError("seen: " + " ".join(found)[:1500])
            """,
        "pickle_bomb_return": f"""
            import os
            class Bomb:
                def __reduce__(self):
                    return (os.system, ("touch {out}/{MARKER}",))
            def mse_grads(x, y, w, b):
                return Bomb(), Bomb()
            """,
        "input_transformer": """
            ip = get_ipython()
            ip.input_transformers_post.append(lambda lines: [])
            def mse_grads(x, y, w, b):
                raise RuntimeError("no answer")
            """,
    }


@pytest.fixture(scope="module", params=ISOLATING)
def graded(request, tmp_path_factory):
    """The batch graded at one isolation level: namespaces and userns as root here, uid-seccomp in a simulated
    container (root without CAP_SYS_ADMIN or user namespaces)."""
    level = request.param
    launcher = containerlike.launcher_for(level)
    root = tmp_path_factory.mktemp("redteam")
    out = root / "graded"
    submitted = root / "submitted"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    connections = []
    threading.Thread(target=lambda: connections.append(listener.accept()), daemon=True).start()
    port = listener.getsockname()[1]
    honest = filled_release(COURSE, A)
    for student in ("honest1", "honest2"):
        write(honest, submitted / student / A.name / A.notebook)
    for name, code in attacks(REPO, out, port).items():
        parts = code if isinstance(code, tuple) else (code,)
        cell = "\n".join(textwrap.dedent(part).strip("\n") for part in parts) + "\n"
        write(filled_release(COURSE, A, {"mse_grads": cell}), submitted / f"attack_{name}" / A.name / A.notebook)
    (submitted / "attack_truncated" / A.name).mkdir(parents=True)
    text = (submitted / "honest1" / A.name / A.notebook).read_text()
    (submitted / "attack_truncated" / A.name / A.notebook).write_text(text[: len(text) // 2])
    solutions_before = (REPO / "solutions" / "linear_regression.py").read_text()
    env = {**os.environ, "AUTOGRADER_SECRET": SECRET}
    started = time.monotonic()
    done = subprocess.run(
        [*launcher, sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "--jobs", "2",
         "--call-timeout", "1", "--cell-timeout", "2", "--notebook-timeout", "8", "--memory-gib", "2", "--quiet",
         "--exact-isolation", level],
        capture_output=True, text=True, env=env, timeout=600,
    )
    seconds = time.monotonic() - started
    time.sleep(4)  # give any surviving daemon the time to strike
    listener.close()
    results = {p.parent.parent.name: json.loads(p.read_text()) for p in out.glob("*/*/*.json")}
    yield {"done": done, "results": results, "out": out, "connections": connections, "seconds": seconds,
           "solutions_before": solutions_before, "level": level}


def blank_score(result: dict, blank: str) -> float:
    return sum(t["score"] for t in result["tests"] if blank in t["tags"])


def test_batch_completes_and_only_the_unreadable_notebook_is_not_graded(graded):
    done = graded["done"]
    assert done.returncode == 1, done.stderr[-3000:]  # the truncated notebook could not be graded: said, exit 1
    problems = [line for line in done.stderr.splitlines() if line.startswith(("problem:", "error:"))]
    assert len(problems) == 2 and "attack_truncated" in problems[0] and "1 notebook(s)" in problems[1], problems
    assert len(graded["results"]) == 2 + len(attacks(REPO, Path("/x"), 1)) + 1
    assert {r["extra_data"]["isolation"] for r in graded["results"].values()} == {graded["level"]}


@pytest.mark.parametrize("student", ["honest1", "honest2"])
def test_honest_students_keep_full_marks(graded, student):
    result = graded["results"][student]
    assert result["score"] == result["max_score"] == A.max_score, result


@pytest.mark.parametrize("attack", [*attacks(REPO, Path("/x"), 1), "truncated"])
def test_attack_gets_nothing_on_its_blank(graded, attack):
    result = graded["results"][f"attack_{attack}"]
    assert blank_score(result, "mse_grads") == 0, json.dumps(result, indent=1)[:3000]
    for test in result["tests"]:
        assert test["score"] <= test["max_score"]
    assert result["score"] == sum(t["score"] for t in result["tests"])


@pytest.mark.parametrize("attack", ["huge_allocation", "new_session_children", "double_forked_daemon",
                                    "flood_output", "input_transformer", "sys_exit_in_call", "os_exit_in_call",
                                    "loop_ignoring_signals", "zero_inputs", "write_into_repository"])
def test_attack_costs_only_the_attacked_blank(graded, attack):
    result = graded["results"][f"attack_{attack}"]
    for blank in ("linear_model", "mse_loss", "train_linear"):
        assert blank_score(result, blank) == A.blanks[blank], (blank, json.dumps(result, indent=1)[:3000])


def test_failures_are_explained(graded):
    results = graded["results"]
    def text(name):
        return json.dumps(results[f"attack_{name}"])
    assert "did not finish within" in text("loop_ignoring_signals")
    assert "could not be read" in text("truncated") and "not valid JSON" in text("truncated")
    assert "expected a torch.Tensor, got a __main__.Liar" in text("lying_subclass")
    assert "raised KeyboardInterrupt" in text("keyboard_interrupt")
    assert "raised Escape" in text("custom_base_exception")
    assert "calling mse_grads ended your notebook's process" in text("os_exit_in_call")
    assert "did not finish within" in text("sleep_forever_at_top_level")


def test_nothing_outlives_the_run(graded):
    survivors = subprocess.run(["pgrep", "-f", MARKER], capture_output=True, text=True).stdout.split()
    assert not survivors
    assert not (graded["out"] / MARKER).exists()
    assert not (REPO / MARKER).exists()
    for result in graded["results"].values():
        assert result["max_score"] == A.max_score


def test_repository_and_solutions_untouched(graded):
    assert (REPO / "solutions" / "linear_regression.py").read_text() == graded["solutions_before"]


def test_loopback_unreachable(graded):
    assert graded["connections"] == []


def test_no_secret_from_other_processes(graded):
    assert SECRET not in json.dumps(graded["results"])
