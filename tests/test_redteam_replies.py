"""Red team: nothing a sandbox sends can hurt the trusted side.

Each attacker's ``mse_grads`` (or a top-level cell) writes a forged reply straight onto the submission socket
(fd 3) and ends its process, so the grader reads the forgery as the answer: an error that is not an object, a
tensor of shape 1e300, JSON nested 100,000 deep, strings with console markup and HTML, out-of-range fields.
Every attacker gets a clear 0 on the blank, never an internal error, a traceback or a lost results file; the
honest students graded in the same batch keep full marks, and text from a submission is kept as text.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from autograder.authoring.fill import filled_release, write
from conftest import COURSE

pytestmark = pytest.mark.slow
A = COURSE.find("02_linear_regression")

FORGE = textwrap.dedent("""
    import json, os, struct
    def _forge(header, blobs=b"", raw=None):
        head = raw if raw is not None else json.dumps(header).encode()
        body = struct.pack(">I", len(head)) + head + blobs
        os.write(3, struct.pack(">I", len(body)) + body)
        os._exit(0)
    """)


def _result(node: str) -> str:
    """A call reply whose payload is {"result": <node>, "args": []}."""
    return ('{"ok": True, "payload": {"value": {"t": "dict", "items": [["result", ' + node + '], '
            '["args", {"t": "list", "items": []}]]}, "sizes": []}}')


FORGERIES = {
    "error_not_an_object": '{"ok": False, "error": ["not", "a", "dict"]}',
    "error_fields_not_text": '{"ok": False, "error": {"type": 12, "message": {"m": 1}, "where": None}}',
    "ok_not_bool": '{"ok": "yes", "payload": 1}',
    "shape_1e300": _result('{"t": "tensor", "cls": "Tensor", "dtype": "float32", "shape": [0, 1e300], '
                           '"rg": False, "leaf": True, "grad_fn": None, "contig": True, "grad": None, "blob": 0}'),
    "shape_huge_int": _result('{"t": "tensor", "cls": "Tensor", "dtype": "float32", "shape": [0, 10**30], '
                              '"rg": False, "leaf": True, "grad_fn": None, "contig": True, "grad": None, "blob": 0}'),
    "negative_shape": _result('{"t": "tensor", "cls": "Tensor", "dtype": "float32", "shape": [-1, -4], '
                              '"rg": False, "leaf": True, "grad_fn": None, "contig": True, "grad": None, "blob": 0}'),
    "bad_dtype_and_perm": _result('{"t": "tensor", "cls": "Tensor", "dtype": "complex128", "shape": [1], '
                                  '"perm": ["x"], "blob": 0}'),
    "grad_chain": _result('{"t": "tensor", "cls": "Tensor", "dtype": "float32", "shape": [0], "blob": 0, '
                          '"grad": {"t": "tensor", "grad": {"t": "tensor", "grad": {}}}}'),
    "tuple_items_not_a_list": _result('{"t": "tuple", "items": 7}'),
    "dict_with_bad_pairs": _result('{"t": "dict", "items": [[1, 2, 3]]}'),
    "module_description_forged": _result('{"t": "module", "handle": "h", "tree": [1], "params": {}, "state": []}'),
    "out_of_range_fields": ('{"ok": True, "returned_arg": 99, "seconds": "NaN", "torch_calls": {"a": 1}, '
                            '"files": [[1]], "payload": {"value": {"t": "none"}, "sizes": []}}'),
    "markup_and_html": ('{"ok": False, "error": {"type": "[bold red]FullMarks[/]", '
                        '"message": "<script>alert(1)</script> [link=http://x]click[/link]", "where": "\\x1b[31m"}}'),
}


def _attacks() -> dict[str, str]:
    cells = {name: FORGE + f"def mse_grads(x, y, w, b):\n    _forge({header})\n" for name, header in FORGERIES.items()}
    cells["json_nested_100000_deep"] = FORGE + (
        "def mse_grads(x, y, w, b):\n    _forge(None, raw=b'[' * 100000 + b']' * 100000)\n")
    cells["frame_header_not_json"] = FORGE + "def mse_grads(x, y, w, b):\n    _forge(None, raw=b'\\xff\\xfe{')\n"
    return cells


RUN_FORGERY = FORGE + '_forge({"ok": True, "cells": "not a list"})\n'


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("replies")
    submitted, out = root / "submitted", root / "graded"
    honest = filled_release(COURSE, A)
    for student in ("honest1", "honest2"):
        write(honest, submitted / student / A.name / A.notebook)
    for name, cell in _attacks().items():
        write(filled_release(COURSE, A, {"mse_grads": cell}), submitted / f"attack_{name}" / A.name / A.notebook)
    write(filled_release(COURSE, A, {"linear_model": RUN_FORGERY}),
          submitted / "attack_run_reply_forged" / A.name / A.notebook)
    done = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out), "--jobs", "2",
         "--call-timeout", "2", "--cell-timeout", "3", "--notebook-timeout", "10", "--quiet",
         "--secret", "replies-secret"], capture_output=True, text=True, timeout=900)
    results = {p.parent.parent.name: json.loads(p.read_text()) for p in out.glob("*/*/*.json")}
    return {"done": done, "results": results, "raw": {p.parent.parent.name: p.read_text()
                                                       for p in out.glob("*/*/*.json")}}


def blank(result: dict, name: str) -> float:
    return sum(t["score"] for t in result["tests"] if name in t["tags"])


def test_batch_completes_without_internal_errors(graded):
    done = graded["done"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "problem:" not in done.stderr, done.stderr[-3000:]
    assert len(graded["results"]) == 2 + len(_attacks()) + 1
    for name, raw in graded["raw"].items():
        assert "could not finish this test" not in raw, name
        assert "Traceback" not in raw and "File \"/" not in raw, name


@pytest.mark.parametrize("student", ["honest1", "honest2"])
def test_honest_students_keep_full_marks(graded, student):
    assert graded["results"][student]["score"] == A.max_score


@pytest.mark.parametrize("attack", list(_attacks()))
def test_forged_reply_earns_nothing_on_its_blank(graded, attack):
    result = graded["results"][f"attack_{attack}"]
    assert blank(result, "mse_grads") == 0, json.dumps(result, indent=1)[:2000]
    assert blank(result, "linear_model") == A.blanks["linear_model"]  # the rest of the notebook still counts


def test_forged_cell_report_costs_only_that_notebook(graded):
    result = graded["results"]["attack_run_reply_forged"]
    assert result["score"] < A.max_score and result["max_score"] == A.max_score


def test_text_from_a_submission_stays_text(graded):
    raw = graded["raw"]["attack_markup_and_html"]
    data = json.loads(raw)
    outputs = " ".join(t["output"] for t in data["tests"])
    assert "[bold red]FullMarks[/]" in outputs and "<script>alert(1)</script>" in outputs
