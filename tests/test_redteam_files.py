"""Red team: what ``save_weights`` wrote is judged on the trusted side, from the file's bytes.

The grader reads the file from outside the sandbox (through the sandbox's own root, never following a symbolic
link) and loads it with ``torch.load(weights_only=True)``, which runs no code from the file, once the file is
checked (autograder.grading.torchfile). So a notebook that replaces ``torch.load`` in its own process, links the file to
somewhere else, writes a pickle that runs code, or writes a small file that torch.load would turn into gigabytes
(tests/torch_bombs.py) gets nothing for ``save_weights``, and the grader's memory stays bounded; honest students
graded in the same batch keep full marks.
"""
from __future__ import annotations

import inspect
import json
import subprocess
import sys
import textwrap

import pytest

import torch_bombs
from autograder.authoring.fill import filled_release, write
from conftest import COURSE

pytestmark = pytest.mark.slow
A = COURSE.find("04_modules")
MARKER = "redteam-files-marker-8d2e"
# the largest process of the batch (grader, workers, zygote, sandboxes): about 300 MiB; with a bomb loaded, 2 GiB more
GRADER_PEAK_BOUND_MIB = 1000


def bomb_cell(make: str) -> str:
    """A save_weights that writes the bomb ``make`` builds (tests/torch_bombs.py's source, carried in the cell,
    builds it once when the cell runs) at the grader's paths, and an honest file at others: the notebook's own
    self-check loads the file inside the sandbox, where a bomb would only cost the attacker, and would count in the
    batch's peak memory measured here."""
    source = inspect.getsource(torch_bombs).replace("from __future__ import annotations\n", "")
    return source + textwrap.dedent(f"""
        import os
        import torch

        _BOMB = {make}


        def save_weights(net, path):
            if os.path.basename(path).startswith("hidden_"):
                with open(path, "wb") as f:
                    f.write(_BOMB)
            else:
                torch.save(net.state_dict(), path)
        """)

ATTACKS = {
    # save_weights writes nothing useful, and torch.load (as the sandbox would call it) hands back the real weights.
    "replaced_torch_load": """
        import torch
        _kept = {}
        def save_weights(net, path):
            _kept[path] = {k: v.detach().clone() for k, v in net.state_dict().items()}
            with open(path, "wb") as f:
                f.write(b"nothing to see here")
        _real_load = torch.load
        def _forged_load(path, *args, **kwargs):
            return _kept[path] if path in _kept else _real_load(path, *args, **kwargs)
        torch.load = _forged_load
        """,
    # the file is a link to a file of the host (the grader must not follow it).
    "symlink_to_host_file": """
        import os
        def save_weights(net, path):
            os.symlink("/etc/hostname", path)
        """,
    # a pickle that would run a command when loaded without weights_only.
    "code_running_pickle": f"""
        import os, pickle
        class _Payload:
            def __reduce__(self):
                return (os.system, ("touch /tmp/{MARKER}",))
        def save_weights(net, path):
            with open(path, "wb") as f:
                pickle.dump({{"0.weight": _Payload()}}, f)
        """,
    # a 2 MB zip whose storage record is deflate-compressed: 2 GiB of zeros once inflated.
    "deflate_bomb": bomb_cell("deflate_bomb()"),
    # a 2 MiB record that 900 entries of the zip's directory point at: torch would read it 900 times.
    "overlapping_entries_bomb": bomb_cell("overlapping_bomb()"),
    # a pickle that calls bytearray(2**31 - 1), which weights_only allows.
    "bytearray_pickle_bomb": bomb_cell("torch_zip(bytearray_pickle())"),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("files")
    submitted, out = root / "submitted", root / "graded"
    for student in ("honest1", "honest2"):
        write(filled_release(COURSE, A), submitted / student / A.name / A.notebook)
    for name, code in ATTACKS.items():
        cell = textwrap.dedent(code).strip() + "\n"
        write(filled_release(COURSE, A, {"save_weights": cell}), submitted / f"attack_{name}" / A.name / A.notebook)
    # The batch runs under a small parent that reports the peak memory of its descendants (RUSAGE_CHILDREN:
    # the largest of the grader, its workers, the zygote and the sandboxes, each reaped by its parent).
    peak = root / "peak-kib"
    measure = ("import resource, subprocess, sys; rc = subprocess.call(sys.argv[2:]); "
               "open(sys.argv[1], 'w').write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)); "
               "sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", measure, str(peak), sys.executable, "-m", "autograder", "grade",
                           str(submitted), "--out", str(out), "--jobs", "2", "--quiet", "--secret", "files-secret"],
                          capture_output=True, text=True, timeout=900)
    peak_mib = int(peak.read_text()) / 1024 if peak.exists() else None
    return done, {p.parent.parent.name: json.loads(p.read_text()) for p in out.glob("*/*/*.json")}, peak_mib


def blank(result: dict, name: str) -> float:
    return sum(t["score"] for t in result["tests"] if name in t["tags"])


def test_batch_completes(graded):
    done, results, _ = graded
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(results) == 2 + len(ATTACKS)


@pytest.mark.parametrize("student", ["honest1", "honest2"])
def test_honest_students_keep_full_marks(graded, student):
    assert graded[1][student]["score"] == A.max_score


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_attack_gets_nothing_for_save_weights(graded, attack):
    result = graded[1][f"attack_{attack}"]
    assert blank(result, "save_weights") == 0, json.dumps(result, indent=1)[:3000]
    assert blank(result, "make_seq_net") == A.blanks["make_seq_net"]


def test_no_file_made_the_grader_build_gigabytes(graded):
    _, results, peak_mib = graded
    assert peak_mib is not None and peak_mib < GRADER_PEAK_BOUND_MIB, peak_mib
    for attack in ("deflate_bomb", "overlapping_entries_bomb", "bytearray_pickle_bomb"):
        outputs = [t["output"] for t in results[f"attack_{attack}"]["tests"] if "save_weights" in t["tags"]]
        said = [" ".join(o.split()) for o in outputs]
        assert any("cannot read the file it wrote" in o or "save the weights with torch.save(net.state_dict(), "
                   "path)" in o for o in said), outputs


def test_no_code_from_a_file_ran_on_the_grader(graded):
    from pathlib import Path

    assert not Path("/tmp", MARKER).exists()
