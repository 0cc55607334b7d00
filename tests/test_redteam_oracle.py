"""Red team: feedback as an oracle. A student who cannot derive the gradient submits a probe, reads the numbers
in its feedback, and resubmits a notebook that returns the expected values the feedback gave away.

The attack is real and generic: :class:`Attacker` parses every number the feedback on ``mse_grads`` holds (the
old exact differences, or the coarse ratios of today's feedback), keeps every observation, and each round
returns its best estimate of each expected dw and db, looked up by the problem size. Against a leaky oracle
(exact differences, the same inputs for every submission) it gets full marks within a few rounds: the control
below proves the attacker works. Against the real grader (run as the CLI, in a subprocess, with one secret) it
must get 0 on ``mse_grads`` in every round, an honest student in the same batches keeps full marks, the same
notebook graded twice gets byte-identical results, and no number in the probe's feedback is any hidden
expected value to 2 significant digits (the inputs re-derived on the trusted side, from the secret, the test's
name and the submission's digest).
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest
import torch

from autograder.grading import compare
from autograder.authoring.catalog import reference_namespace
from autograder.authoring.fill import filled_release, write
from autograder.grading.plugin import Entry, GradingPlugin, derive_seed, load_reference, run_pytest, submission_digest
from autograder.grading.runner import graded_cells
from autograder.grading.submission import Submission
from conftest import ASSIGNMENTS, COURSE

A = ASSIGNMENTS["02_linear_regression"]
SECRET = "oracle-secret-91d2"
BLANK = "mse_grads"
# The problem sizes of each mse_grads test's cases, in order (an attacker learns them with probes that raise
# x.shape); a test's feedback is about its first failing check: dw then db of its first case, then of the next.
CASES = {"[sizes=13 and 6]": [13, 6], "[sizes=25 and 4]": [25, 4], "N = 1": [1], "does not use backward": [6],
         "does not modify its inputs": [7]}
NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|-?inf|nan"


def cases_of(test_name: str) -> list[int]:
    return next(sizes for key, sizes in CASES.items() if key in test_name)


def size_of(test_name: str) -> int:
    """The size of a test's first case: the one a probe that fails every check hears about."""
    return cases_of(test_name)[0]


def cell(table: dict[int, tuple[float, float]]) -> str:
    """The mse_grads cell of a notebook that returns looked-up values (zeros: the probe)."""
    return textwrap.dedent(f"""
        import torch
        _TABLE = {table!r}
        def mse_grads(x, y, w, b):
            dw, db = _TABLE.get(x.shape[0], (0.0, 0.0))
            return torch.tensor([dw]), torch.tensor([db])
        """).strip() + "\n"


class Attacker:
    """Estimates each expected value (by problem size and name) from all the feedback seen so far."""

    def __init__(self):
        self.guess: dict[tuple[int, str], float] = {}
        self.seen: dict[tuple[int, str], list[tuple[float, float]]] = {}  # (guess, |guess - expected|)
        self.revealed = 0  # how many observations held a usable number
        self.at: dict[str, int] = {}  # per test, the check its feedback was last about

    def table(self) -> dict[int, tuple[float, float]]:
        sizes = sorted({n for n, _ in self.guess} | {n for cases in CASES.values() for n in cases})
        return {n: (self.guess.get((n, "dw"), 0.0), self.guess.get((n, "db"), 0.0)) for n in sizes}

    def learn(self, tests: list[dict]) -> None:
        for test in tests:
            if BLANK not in test["tags"]:
                continue
            said = re.match(r"(dw|db): ", test["output"])
            if not said:
                continue
            # The checks in order: (n, dw), (n, db) per case. Feedback about the other quantity than last time
            # means the check it was about now passes: move on to the next check that names this one.
            checks = [(n, name) for n in cases_of(test["name"]) for name in ("dw", "db")]
            at = self.at.get(test["name"], 0)
            while at < len(checks) - 1 and checks[at][1] != said.group(1):
                at += 1
            self.at[test["name"]] = at
            self._update(checks[at], test["output"])

    def _update(self, key: tuple[int, str], text: str) -> None:
        g = self.guess.get(key, 0.0)
        exact = re.search(rf"greatest absolute difference ({NUMBER})", text)
        if exact:  # the old feedback: |g - e| to 4 significant digits
            self.revealed += 1
            d = float(exact.group(1))
            self.seen.setdefault(key, []).append((g, d))
            candidates = [g + d, g - d] if g != 0 else [d, -d]

            def misfit(c: float) -> float:  # how badly a candidate explains every earlier observation
                return sum(abs(abs(gi - c) - di) / max(di, 1e-12) for gi, di in self.seen[key][:-1])

            tried = {gi for gi, _ in self.seen[key]}
            self.guess[key] = min(candidates, key=lambda c: (misfit(c) > 1e-2, c in tried, misfit(c)))
            return
        ratio = re.search(rf"about ({NUMBER})x the (?:size of the )?expected value", text)
        off = re.search(rf"off by about ({NUMBER})%", text)
        if ratio and float(ratio.group(1)) > 0 and g != 0:  # today's feedback: one digit of g / e
            self.revealed += 1
            self.guess[key] = g / float(ratio.group(1)) * (-1 if "wrong sign" in text else 1)
        elif off and g != 0:
            self.revealed += 1
            self.guess[key] = g / (1 + float(off.group(1)) / 100)
        elif "sign is flipped" in text:
            self.guess[key] = -g
        elif g == 0:
            self.guess[key] = 1.0  # ask for a ratio next time


def mse_grads_score(result: dict) -> float:
    return sum(t["score"] for t in result["tests"] if BLANK in t["tags"])


# ------------------------------------------------------------------------------------------------ the control
def leaky_difference(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 0, atol: float = 0) -> str:
    """What the grader printed before: the greatest absolute and relative difference, to 4 significant digits."""
    a, e = actual.detach().double(), expected.detach().double()
    diff = (a - e).abs()
    rel = diff / e.abs().clamp_min(1e-12)
    return (f"greatest absolute difference {diff.max().item():.4g}, "
            f"greatest relative difference {rel.max().item():.4g}")


def grade_mallory_in_process(code: str, digest: str) -> list[dict]:
    """Grade a notebook whose mse_grads cell is ``code`` (the other blanks solved) on mse_grads only."""
    namespace = reference_namespace(load_reference(COURSE, A))
    exec(compile(code, "<attack>", "exec"), namespace)
    entry = Entry("mallory", A.name, lambda: Submission.in_process(namespace), digest=digest)
    plugin = GradingPlugin(COURSE, [entry], SECRET, only_blank=BLANK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code_ = run_pytest([A], plugin)
    assert code_ in (0, 1) and not plugin.internal_errors, plugin.internal_errors
    return [{"name": t.name, "tags": [t.blank], "score": t.score, "max_score": t.max_score, "output": t.output}
            for t in plugin.final_results("mallory")]


def test_control_the_attack_works_against_a_leaky_oracle(monkeypatch):
    """Exact differences and the same inputs for every submission: a handful of resubmissions reveal everything."""
    monkeypatch.setattr(compare, "difference", leaky_difference)
    attacker = Attacker()
    scores = []
    for _ in range(12):
        tests = grade_mallory_in_process(cell(attacker.table()), digest="the same for everyone")
        scores.append(sum(t["score"] for t in tests))
        if scores[-1] == A.blanks[BLANK]:
            break
        attacker.learn(tests)
    assert scores[-1] == A.blanks[BLANK], scores
    assert scores[0] == 0


def test_control_coarse_feedback_alone_reveals_only_one_digit_per_round():
    """With today's coarse feedback but per-submission inputs (the real setting), the attacker never scores."""
    attacker = Attacker()
    for round_ in range(4):
        tests = grade_mallory_in_process(cell(attacker.table()), digest=f"submission {round_}")
        assert sum(t["score"] for t in tests) == 0, tests
        attacker.learn(tests)


# ------------------------------------------------------------------------------------------- the real grader
def grade(submitted: Path, out: Path) -> tuple[subprocess.CompletedProcess, dict[str, dict], dict[str, bytes]]:
    env = {**os.environ, "AUTOGRADER_SECRET": SECRET}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--out", str(out),
                           "--jobs", "2", "--quiet"], capture_output=True, text=True, env=env, timeout=600)
    files = {p.parent.parent.name: p for p in out.glob("*/*/*.json")}
    return done, {k: json.loads(p.read_text()) for k, p in files.items()}, {k: p.read_bytes() for k, p in files.items()}


ECHO = textwrap.dedent("""
    def mse_grads(x, y, w, b):
        raise RuntimeError(f"n={x.shape[0]} checksum={float(x.sum() + 2 * y.sum() + 3 * w.sum() + 5 * b.sum())!r}")
    """).strip() + "\n"


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """Round 0: mallory's probe (zeros), an honest student and an echo (raises its inputs' checksum). Rounds 1
    and 2: mallory resubmits what the attacker made of all the feedback so far, beside the same honest student."""
    root = tmp_path_factory.mktemp("oracle")
    attacker = Attacker()
    rounds = []
    for i in range(3):
        submitted = root / f"submitted{i}"
        write(filled_release(COURSE, A), submitted / "honest" / A.name / A.notebook)
        write(filled_release(COURSE, A, {BLANK: cell(attacker.table() if i else {})}),
              submitted / "mallory" / A.name / A.notebook)
        if i == 0:
            write(filled_release(COURSE, A, {BLANK: ECHO}), submitted / "echo" / A.name / A.notebook)
        done, results, raw = grade(submitted, root / f"graded{i}")
        rounds.append({"done": done, "results": results, "raw": raw, "submitted": submitted})
        if "mallory" in results:
            attacker.learn(results["mallory"]["tests"])
    return {"rounds": rounds, "attacker": attacker}


def test_every_run_completes(campaign):
    for r in campaign["rounds"]:
        assert r["done"].returncode == 0, r["done"].stderr[-3000:]
        assert len(r["results"]) == len(list(r["submitted"].iterdir()))


def test_the_attacker_gets_nothing_in_any_round(campaign):
    for i, r in enumerate(campaign["rounds"]):
        mallory = r["results"]["mallory"]
        assert mse_grads_score(mallory) == 0, (i, json.dumps(mallory, indent=1)[:3000])
        assert mallory["score"] == A.max_score - A.blanks[BLANK]  # the other blanks are solved


def test_honest_student_keeps_full_marks(campaign):
    for r in campaign["rounds"]:
        honest = r["results"]["honest"]
        assert honest["score"] == honest["max_score"] == A.max_score, honest


def test_same_notebook_graded_again_is_byte_identical(campaign):
    """The honest notebook is the same in every run, beside other notebooks: the same bytes every time."""
    raw = [r["raw"]["honest"] for r in campaign["rounds"]]
    assert raw[0] == raw[1] == raw[2]


def test_probe_regraded_alone_is_byte_identical(tmp_path, campaign):
    """The very same probe, same student, graded again alone with --jobs 1: the same bytes."""
    first = campaign["rounds"][0]["submitted"] / "mallory" / A.name / A.notebook
    (tmp_path / "submitted" / "mallory" / A.name).mkdir(parents=True)
    (tmp_path / "submitted" / "mallory" / A.name / A.notebook).write_bytes(first.read_bytes())
    env = {**os.environ, "AUTOGRADER_SECRET": SECRET}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(tmp_path / "submitted"), "--out",
                           str(tmp_path / "g"), "--jobs", "1", "--quiet"], capture_output=True, text=True, env=env,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    again = next((tmp_path / "g").glob("mallory/*/*.json")).read_bytes()
    assert again == campaign["rounds"][0]["raw"]["mallory"]


def hidden_inputs(notebook: Path, student: str, test_name: str):
    """The inputs of one mse_grads test, re-derived on the trusted side as the grader draws them."""
    spec = importlib.util.spec_from_file_location("_hidden_02", COURSE.hidden_tests(A))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    digest = submission_digest(student, graded_cells(COURSE, A, notebook))
    rng = torch.Generator().manual_seed(derive_seed(SECRET, test_name, digest))
    return module.problem(rng, size_of(test_name))


def test_inputs_are_rederived_as_the_grader_draws_them(campaign):
    """The echo's checksums of its inputs match the trusted side's derivation: the next test is not vacuous."""
    r = campaign["rounds"][0]
    echo = r["submitted"] / "echo" / A.name / A.notebook
    checked = 0
    for test in r["results"]["echo"]["tests"]:
        if BLANK in test["tags"]:
            x, y, w, b = hidden_inputs(echo, "echo", test["name"])
            want = float(x.sum() + 2 * y.sum() + 3 * w.sum() + 5 * b.sum())
            assert f"checksum={want!r}" in test["output"], test
            checked += 1
    assert checked == 5


def test_probe_feedback_reveals_no_expected_value(campaign):
    r = campaign["rounds"][0]
    notebook = r["submitted"] / "mallory" / A.name / A.notebook
    reference = load_reference(COURSE, A)
    failing = [t for t in r["results"]["mallory"]["tests"] if "values differ" in t["output"]]
    assert len(failing) == 3  # the two value tests and N = 1 (the others pass, and are not counted)
    for test in failing:
        text = test["output"]
        assert "the worst, at index (0,)" in text and "is 0 where the expected value is not" in text, text
        numbers = [float(m) for m in re.findall(NUMBER, re.sub(r"index \([0-9, ]*\)", "", text))]
        for m in re.findall(r"\d+\.\d+|\d*\.\d+e[-+]?\d+|\d+e[-+]?\d+", text):  # 3+ significant digits: none
            assert len(m.split("e")[0].replace(".", "").strip("0")) <= 2, (m, text)
        x, y, w, b = hidden_inputs(notebook, "mallory", test["name"])
        for expected in reference.mse_grads(x, y, w, b):
            e = float(expected)
            for number in numbers:
                assert not (math.isfinite(number) and number != 0 and f"{abs(number):.2g}" == f"{abs(e):.2g}"), \
                    (number, e, text)
