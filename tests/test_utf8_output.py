"""Every file the kit writes is valid UTF-8 (and its JSON valid JSON), whatever names and text it holds.

A folder whose name is not UTF-8 (b"caf\\xe9": Python names it "caf\\udce9", with a lone surrogate) and feedback
carrying lone surrogates (a sandbox's JSON may hold any "\\ud800") reach results.json, scores.csv and the HTML pages;
each is written with the surrogate as an escape ("caf\\\\xe9"), names that differ stay different, and the batch
completes (autograder.grading.results.valid_text).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from autograder import cli
from autograder.authoring.fill import filled_release, write
from autograder.sandbox.hostprobe import probe_host
from autograder.grading.results import NotebookResult, TestResult, write_results
from conftest import COURSE, REPO

LR = COURSE.find("02_linear_regression")
CAFE = os.fsdecode(b"caf\xe9")  # "caf\udce9"
CAFE_SHOWN = "caf\\xe9"  # how the files write it
RAISES = "def mse_loss(y_pred, y):\n    raise ValueError('bad \\udce9 and \\ud800 text')\n"


def strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(k) + strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


def read_strictly(path: Path) -> str:
    """The file's text, failing on anything that is not UTF-8, and on a JSON file holding a lone surrogate (which
    json.loads accepts as an escape, and a strict reader does not)."""
    text = path.read_bytes().decode("utf-8", errors="strict")
    if path.suffix == ".json":
        for s in strings(json.loads(text)):
            s.encode("utf-8")  # raises UnicodeEncodeError on a lone surrogate
    return text


def files_under(out: Path) -> dict[str, str]:
    return {os.fsdecode(p.relative_to(out)): read_strictly(p) for p in sorted(out.rglob("*")) if p.is_file()}


def test_valid_text_escapes_surrogates_and_keeps_names_apart():
    from autograder.grading.results import valid_text

    assert valid_text(CAFE) == CAFE_SHOWN and valid_text(os.fsdecode(b"caf\xe8")) == "caf\\xe8"
    assert valid_text("a\ud800b\udfffc") == "a\\ud800b\\udfffc"
    assert valid_text("café ✓ 名前 😀") == "café ✓ 名前 😀"  # valid text is left as it is


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if probe_host().best() is None:
        pytest.skip("no isolation level is available on this host")
    root = tmp_path_factory.mktemp("utf8")
    write(filled_release(COURSE, LR, {"mse_loss": RAISES}), root / "submitted" / "alice" / LR.name / LR.notebook)
    cafe = write(filled_release(COURSE, LR), root / CAFE / LR.name / LR.notebook)  # graded as one notebook
    out = root / "graded"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(root / "submitted"), str(cafe),
                           "--out", str(out), "--secret", "s", "--quiet"],
                          capture_output=True, text=True, errors="backslashreplace", timeout=600)
    return done, out


def test_the_batch_completes(graded):
    done, out = graded
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr


def test_every_file_written_is_valid_utf8(graded):
    _, out = graded
    files = files_under(out)
    assert {"scores.csv", "report.html", f"alice/{LR.name}/{LR.stem}.json", f"alice/{LR.name}/{LR.stem}.html",
            f"{LR.stem}/{LR.name}/{LR.stem}.json"} <= set(files), sorted(files)  # a lone notebook: a class layout
    # the lone notebook's folder is not a plain name: its student is named after the notebook (autograder.grading.discover)
    assert f"\r\n{LR.stem},{LR.max_score:g}," in files["scores.csv"] and CAFE_SHOWN not in files["scores.csv"]
    alice = json.loads(files[f"alice/{LR.name}/{LR.stem}.json"])
    feedback = "".join(t["output"] for t in alice["tests"] if t["tags"] == ["mse_loss"])
    assert "\\xe9" in feedback and "\\ud800" in feedback, feedback
    assert "\\xe9" in files[f"alice/{LR.name}/{LR.stem}.html"]


def test_report_and_pages_for_student_folders_that_are_not_utf8(tmp_path, capsys):
    """A results folder holding folders not named in UTF-8 (copied from elsewhere, or graded by an older kit):
    ``report`` writes valid pages, links each folder by its bytes, and keeps two such students apart."""
    out = tmp_path / "graded"
    for name, score in ((b"caf\xe9", 1.0), (b"caf\xe8", 0.0)):
        student = os.fsdecode(name)
        result = NotebookResult(student, "05_multiclass", "multiclass", [
            TestResult("test_softmax_values", "softmax", score, 1.0, f"{student} wrote \udce9 here.")])
        write_results(result, out / student / "05_multiclass" / "multiclass.json")
    assert cli.main(["report", str(out), "--course", str(REPO)]) == 0, capsys.readouterr()
    files = files_under(out)
    report = files["report.html"]
    assert "caf\\xe9" in report and "caf\\xe8" in report
    assert 'href="caf%E9/05_multiclass/multiclass.html"' in report
    assert 'href="caf%E8/05_multiclass/multiclass.html"' in report
    page = files[f"{CAFE}/05_multiclass/multiclass.html"]
    assert "caf\\xe9 wrote \\xe9 here." in page
