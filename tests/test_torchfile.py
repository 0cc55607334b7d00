"""A file a submission wrote cannot exhaust the grader: ``Submission.load`` refuses, quickly and within a few MiB,
every small file that torch.load (weights_only=True) would turn into gigabytes, and still loads what torch.save
writes (autograder.grading.torchfile).

Each bomb is loaded in a fresh process, through the same transport method a sandbox has (``read_file``), and that
process reports its peak memory (``ru_maxrss``) beyond what importing torch and the grader took.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import torch_bombs
from autograder.sandbox.zygote import read_regular_file
from autograder.grading.submission import Submission, SubmissionError

GROWTH_BOUND_MIB = 300  # what loading one file may add to the process's peak memory (the bombs: 1 to 2 GiB)
SECONDS_BOUND = 10.0

LOADER = r"""
import io, json, os, resource, sys, time
import torch
from autograder.sandbox.zygote import read_regular_file
from autograder.grading.submission import Submission, SubmissionError

class Folder:  # the transport's read_file, as a sandbox's: a plain name in its working folder
    def read_file(self, name, max_bytes):
        return read_regular_file(os.path.join(sys.argv[1], name), max_bytes)
    def close(self):
        pass

sub = Submission(Folder, cells=[])
sub.start()
warm = io.BytesIO()
torch.save({"w": torch.ones(2)}, warm)
torch.load(io.BytesIO(warm.getvalue()), weights_only=True)  # torch.load's own lazy imports, before the baseline
# a safety net for this machine if a bomb ever goes off: far above the bound the test asserts
soft, hard = resource.getrlimit(resource.RLIMIT_AS)
with open("/proc/self/statm") as f:
    virtual = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
resource.setrlimit(resource.RLIMIT_AS, (virtual + (6 << 30), hard))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.monotonic()
try:
    value = sub.load(sys.argv[2])
    outcome = {"refused": False, "message": f"loaded a {type(value).__name__} of {len(value)} items"}
except SubmissionError as error:
    outcome = {"refused": True, "message": str(error)}
outcome["seconds"] = time.monotonic() - started
outcome["grew_mib"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps(outcome))
"""


def load_in_a_fresh_process(folder: Path, name: str) -> dict:
    done = subprocess.run([sys.executable, "-c", LOADER, str(folder), name], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


BOMBS = {
    "deflate-compressed storage record (2 GiB of zeros)": (torch_bombs.deflate_bomb, "compressed"),
    "900 directory entries pointing at one 2 MiB record": (torch_bombs.overlapping_bomb, "more than 4 MiB"),
    "pickle calling bytearray(2**31 - 1)": (lambda: torch_bombs.torch_zip(torch_bombs.bytearray_pickle()),
                                            "builtins.bytearray"),
    "legacy-format pickle calling bytearray(2**31 - 1)": (
        lambda: torch_bombs.legacy_file(torch_bombs.bytearray_pickle()), "builtins.bytearray"),
    "pickle of lists sharing references (100 ** 4 when copied)": (
        lambda: torch_bombs.torch_zip(torch_bombs.shared_lists_pickle(100, 4)), "more than 10000 values"),
    "legacy-format pickle of lists sharing references": (
        lambda: torch_bombs.legacy_file(torch_bombs.shared_lists_pickle(100, 4)), "more than 10000 values"),
    "stride-0 view of 2**28 elements over 4 bytes": (torch_bombs.huge_view, "tensors hold more than 4 MiB"),
}


@pytest.mark.parametrize("bomb", list(BOMBS))
def test_a_bomb_is_refused_quickly_within_bounded_memory(tmp_path, bomb):
    make, words = BOMBS[bomb]
    data = make()
    assert len(data) < 4 << 20  # small enough to pass any file-size cap: the bound must be on what it unpacks to
    (tmp_path / "weights.pt").write_bytes(data)
    outcome = load_in_a_fresh_process(tmp_path, "weights.pt")
    assert outcome["refused"], outcome
    assert outcome["message"].startswith("the file at weights.pt was not loaded: ") and words in outcome["message"], \
        outcome
    assert outcome["message"].endswith("save the weights with torch.save(net.state_dict(), path).")
    assert outcome["seconds"] < SECONDS_BOUND, outcome
    assert outcome["grew_mib"] < GROWTH_BOUND_MIB, outcome


# -- what torch.save writes still loads (in this process: no bomb here) -------------------------------------------
class Folder:
    def __init__(self, folder: Path):
        self.folder = folder

    def read_file(self, name: str, max_bytes: int) -> bytes:
        return read_regular_file(os.path.join(self.folder, name), max_bytes)

    def close(self) -> None:
        pass


def loaded(tmp_path: Path, obj, **save_options):
    torch.save(obj, tmp_path / "w.pt", **save_options)
    sub = Submission(lambda: Folder(tmp_path), cells=[])
    return sub.load("w.pt")


def networks():
    torch.manual_seed(0)
    return {
        "linear": nn.Linear(1, 1),
        "sequential": nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2)),
        "nested with batch norm": nn.Sequential(nn.Linear(4, 16), nn.BatchNorm1d(16),
                                                nn.Sequential(nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))),
        "a few thousand parameters": nn.Sequential(nn.Linear(64, 64), nn.Linear(64, 10)),
    }


@pytest.mark.parametrize("kind", list(networks()))
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy format"])
def test_a_state_dict_saved_by_torch_loads_unchanged(tmp_path, kind, legacy):
    state = networks()[kind].state_dict()
    data = loaded(tmp_path, state, _use_new_zipfile_serialization=not legacy)
    assert type(data) is dict and list(data) == list(state)
    for key, value in state.items():
        assert type(data[key]) is torch.Tensor and data[key].dtype == value.dtype and torch.equal(data[key], value)


def test_parameters_lists_and_plain_values_load_as_before(tmp_path):
    net = networks()["sequential"]
    named = loaded(tmp_path, dict(net.named_parameters()))
    assert list(named) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(type(v) is torch.Tensor and not v.requires_grad for v in named.values())  # Parameters made plain
    values = loaded(tmp_path, {"xs": [torch.arange(3), (1, 2.5)], "name": "net", "n": None, "flag": True})
    assert torch.equal(values["xs"][0], torch.arange(3)) and values["xs"][1] == (1, 2.5)
    assert (values["name"], values["n"], values["flag"]) == ("net", None, True)


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path):
    with pytest.raises(SubmissionError, match=r"^the file at w.pt was not loaded: it is larger than 4 MiB; save"):
        loaded(tmp_path, {"w": torch.zeros(2 << 20)})  # 8 MiB of float32, stored


def test_a_file_that_is_not_torch_format_says_so(tmp_path):
    (tmp_path / "w.pt").write_bytes(b"nothing to see here")
    with pytest.raises(SubmissionError, match="was not loaded: it is not a pickle torch.save writes"):
        Submission(lambda: Folder(tmp_path), cells=[]).load("w.pt")


def test_a_rebuilt_archive_is_what_torch_reads():
    """torch's zip reader is given the archive rebuilt from the records Python's zipfile read, never the file."""
    from autograder.grading import torchfile

    buffer = io.BytesIO()
    torch.save({"w": torch.arange(4.0)}, buffer)
    data = buffer.getvalue()
    rebuilt = torchfile._rebuilt_zip(torchfile._zip_records(data))
    assert rebuilt != data and torch.equal(torch.load(io.BytesIO(rebuilt), weights_only=True)["w"], torch.arange(4.0))
