"""nbgrader on the trusted engine, as an instructor following the README uses it.

One scratch course, a copy of the repository's tracked files (as a fresh clone has them), where the README's
"With nbgrader" commands run verbatim: first the one-assignment commands for 02_linear_regression, then the
all-six line for the rest. Every assignment has a correct, a wrong (catalogued mistakes in every other blank), an
untouched and a hostile student (comparisons monkeypatched, the first blank answered with zeros); 02 also has the
red-team suite's attackers that would fool an in-kernel grader (tests/test_redteam.py: see ATTACKS). Checked: the gradebook (full marks, partial, 0, 0 on the attacked blank), grades equal to
`python -m autograder grade` on the same notebooks with the same secret, grades.csv from `nbgrader export`,
`nbgrader validate` on an untouched, a wrong and a correct notebook, and the wrong student's feedback pages, read as
text and looked at in headless Chromium (every hint on screen, no horizontal overflow, no path, no traceback).
"""
from __future__ import annotations

import csv
import html
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.catalog import load_catalog
from autograder.authoring.fill import filled_release, release_notebook, write
from autograder.platforms.nbgrader_preprocessor import blank_feedback, cell_outputs, visible_part, without_self_checks
from autograder.grading.results import TestResult
from conftest import ASSIGNMENTS, COURSE, REPO

SECRET = "nbgrader-test-secret-41"
LR = ASSIGNMENTS["02_linear_regression"]
KINDS = ("correct", "wrong", "untouched", "hostile")
# The red-team attacks graded here: those that fool an in-kernel grader (monkeypatching, lying tensors, reading the
# grader's memory or files, changing inputs, transforming cells, forged output). The rest test the sandbox's limits
# (hangs, floods, huge allocations, daemons, exits), the same engine path as here: test_redteam*.py, not repeated.
ATTACKS = ("patch_allclose", "lying_subclass", "caller_frames_and_memory", "read_solutions", "write_into_repository",
           "zero_inputs", "pickle_bomb_return", "forge_json_everywhere", "input_transformer")
# late.toml in the scratch course: 02's "correct" student hands in 1 d 12 h late (two started days at 10 %), the others
# on time; nbgrader's late penalty (the kit's plugin, nbgrader_config.py) must be the one `grade` applies.
LATE_RULES = f'[late]\nshare = 0.1\n\n[assignments."{LR.name}"]\ndue = 2025-03-07T23:59:00Z\n'
TIMESTAMPS = {"correct": "2025-03-09 12:00:00.000000 UTC"}
ON_TIME = "2025-03-07 12:00:00.000000 UTC"
LATE_SHARE = {("correct", LR.name): 0.2}
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)


# ------------------------------------------------------------------------------------------- the README's commands
def readme_commands() -> tuple[list[str], list[str]]:
    """The README's nbgrader block: (the one-assignment commands, the all-six commands), comments dropped."""
    text = (REPO / "README.md").read_text()
    section = text.split("### With nbgrader", 1)[1].split("\n### ", 1)[0]
    block = section.split("```", 2)[1]
    one, six = block.split("# all six assignments at once")
    def commands(part: str) -> list[str]:
        return [line.strip() for line in part.splitlines() if line.strip() and not line.strip().startswith("#")]
    return commands(one), commands(six)


def test_readme_commands_are_what_this_test_runs():
    one, six = readme_commands()
    assert [c.split("#")[0].split()[:2] for c in one] == [["nbgrader", "generate_assignment"], ["nbgrader", "autograde"],
                                                          ["nbgrader", "generate_feedback"], ["nbgrader", "export"]]
    assert all("02_linear_regression" in c for c in one[:3]) and "--force" not in " ".join(one + six)
    assert six == ['nbgrader generate_assignment "*" && nbgrader autograde "*" && nbgrader generate_feedback "*" '
                   '&& nbgrader export']


# ------------------------------------------------------------------------------------------------ the students
def hostile_cell(blank: str) -> str:
    return textwrap.dedent(f"""\
        import torch, torch.testing
        torch.allclose = lambda *a, **k: True
        torch.equal = lambda *a, **k: True
        torch.testing.assert_close = lambda *a, **k: None
        torch.Tensor.__eq__ = lambda self, other: torch.ones((), dtype=torch.bool)
        def {blank}(*args, **kwargs):
            return torch.zeros(1)
        """)


def wrong_overrides(a) -> dict[str, str]:
    """Catalogued mistakes in every other blank (as the demo's bob)."""
    catalog = load_catalog(COURSE, a)
    chosen: dict[str, str] = {}
    for mistake in catalog.MISTAKES:
        if mistake.blank in list(a.blanks)[::2] and mistake.blank not in chosen:
            chosen[mistake.blank] = mistake.code
    return chosen


def attack_cells(root: Path) -> dict[str, str]:
    from test_redteam import attacks

    cells = {}
    for name, code in attacks(root, root / "autograded", 9).items():
        if name in ATTACKS:
            parts = code if isinstance(code, tuple) else (code,)
            cells[name] = "\n".join(textwrap.dedent(part).strip("\n") for part in parts) + "\n"
    return cells


def student_notebook(a, kind: str) -> nbformat.NotebookNode:
    if kind == "correct":
        return filled_release(COURSE, a)
    if kind == "wrong":
        return filled_release(COURSE, a, wrong_overrides(a))
    if kind == "untouched":
        return release_notebook(COURSE, a)
    first = next(iter(a.blanks))
    return filled_release(COURSE, a, {first: hostile_cell(first)})


def collect(root: Path, a, attacks: dict[str, str]) -> list[str]:
    """Write the assignment's submissions into submitted/<student>/<assignment>/<notebook> (the README's step)."""
    students = []
    for kind in KINDS:
        write(student_notebook(a, kind), root / "submitted" / kind / a.name / a.notebook)
        (root / "submitted" / kind / a.name / "timestamp.txt").write_text(TIMESTAMPS.get(kind, ON_TIME) + "\n")
        students.append(kind)
    if a.name == LR.name:
        for name, cell in attacks.items():
            write(filled_release(COURSE, a, {"mse_grads": cell}), root / "submitted" / f"attack_{name}" / a.name
                  / a.notebook)
            students.append(f"attack_{name}")
    return students


def copy_tracked(root: Path) -> None:
    """The repository as a fresh clone has it: its tracked files (as they are in the working tree)."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, root / name)


def environment(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTOGRADER_", "PYTEST_"))}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])  # `. .venv/bin/activate`
    env["PYTHONPATH"] = str(root)  # the kit of this copy, as `pip install -e .` of a clone would import it
    env["AUTOGRADER_SECRET"] = SECRET
    return env


def shell(command: str, cwd: Path, env: dict[str, str], log: list[str], timeout: int = 900) -> str:
    done = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    out = done.stdout + done.stderr
    log.append(f"$ {command} -> {done.returncode}\n{out[-6000:]}")
    assert done.returncode == 0, "\n".join(log)[-12000:]
    assert "There was an error processing" not in out and "could not be graded" not in out, out[-8000:]
    return out


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The scratch course after the README's commands, and `python -m autograder grade` of the same notebooks."""
    root = tmp_path_factory.mktemp("nbgrader") / "course"
    copy_tracked(root)
    (root / "late.toml").write_text(LATE_RULES)
    env = environment(root)
    attacks = attack_cells(root)
    one, six = readme_commands()
    log: list[str] = []
    students = {LR.name: collect(root, LR, attacks)}
    for command in one:
        shell(command, root, env, log)
    for a in ASSIGNMENTS.values():
        if a.name != LR.name:
            students[a.name] = collect(root, a, attacks)
    for command in six:
        shell(command, root, env, log)
    graded = root.parent / "graded"
    shell(f"{sys.executable} -m autograder grade submitted --out {graded} --jobs 2 --quiet", root, env, log)
    return {"root": root, "env": env, "log": log, "students": students, "graded": graded}


def gradebook_marks(root: Path) -> dict[tuple[str, str], dict[str, float]]:
    """(student, assignment) -> blank -> the points nbgrader recorded for the blank's test cell."""
    from nbgrader.api import Gradebook

    marks = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id="torch-basics") as gradebook:
        for a in ASSIGNMENTS.values():
            for submission in gradebook.assignment_submissions(a.name):
                notebook = submission.notebooks[0]
                marks[submission.student_id, a.name] = {
                    g.name[len("test_"):]: g.score for g in notebook.grades if g.name.startswith("test_")}
                assert abs(sum(marks[submission.student_id, a.name].values()) - submission.score) < 1e-6
    return marks


def cli_marks(graded: Path) -> dict[tuple[str, str], dict[str, float]]:
    marks = {}
    for path in graded.glob("*/*/*.json"):
        per_blank: dict[str, float] = {}
        for t in json.loads(path.read_text())["tests"]:
            per_blank[t["tags"][0]] = per_blank.get(t["tags"][0], 0.0) + t["score"]
        marks[path.parent.parent.name, path.parent.name] = per_blank
    return marks


@pytest.mark.slow
def test_generate_assignment_leaves_release_as_committed(course):
    for path in sorted((REPO / "release").rglob("*")):
        if path.is_file() and ".ipynb_checkpoints" not in path.parts:
            again = course["root"] / path.relative_to(REPO)
            assert again.read_bytes() == path.read_bytes(), f"{path.relative_to(REPO)} changed: a clone is dirty"


# ----------------------------------------------------------------------------------------------- the gradebook
@pytest.mark.slow
def test_gradebook_full_partial_zero_and_nothing_for_attacks(course):
    marks = gradebook_marks(course["root"])
    assert {k for k in marks} == {(s, a) for a, ss in course["students"].items() for s in ss}, course["log"][-1]
    for a in ASSIGNMENTS.values():
        got = {kind: sum(marks[kind, a.name].values()) for kind in KINDS}
        assert set(marks["correct", a.name]) == set(a.blanks)
        assert got["correct"] == pytest.approx(a.max_score), (a.name, marks["correct", a.name])
        assert 0 < got["wrong"] < a.max_score, (a.name, marks["wrong", a.name])
        assert got["untouched"] == 0, (a.name, marks["untouched", a.name])
        first = next(iter(a.blanks))
        assert marks["hostile", a.name][first] == 0, (a.name, marks["hostile", a.name])
    attackers = [s for s in course["students"][LR.name] if s.startswith("attack_")]
    assert {"attack_patch_allclose", "attack_lying_subclass", "attack_caller_frames_and_memory"} <= set(attackers)
    for student in attackers:
        assert marks[student, LR.name]["mse_grads"] == 0, (student, marks[student, LR.name])


@pytest.mark.slow
def test_nbgrader_records_the_grades_of_the_cli(course):
    nbgrader, cli = gradebook_marks(course["root"]), cli_marks(course["graded"])
    assert set(nbgrader) == set(cli)
    for key in nbgrader:
        assert set(nbgrader[key]) == set(cli[key]), key
        for blank in nbgrader[key]:
            assert nbgrader[key][blank] == pytest.approx(cli[key][blank], abs=1e-6), (key, blank)


@pytest.mark.slow
def test_export_writes_every_grade(course):
    marks = gradebook_marks(course["root"])
    with open(course["root"] / "grades.csv", newline="") as f:
        rows = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(f)}
    assert set(marks) <= set(rows)
    assert all(score == 0 for key, score in rows.items() if key not in marks)  # nothing submitted: 0
    for key, per_blank in marks.items():
        assert rows[key] == pytest.approx(sum(per_blank.values()) * (1 - LATE_SHARE.get(key, 0)), abs=1e-6), key


@pytest.mark.slow
def test_nbgrader_late_penalty_is_the_one_grade_applies(course):
    with open(course["root"] / "grades.csv", newline="") as f:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(f)}
    with open(course["graded"] / "scores.csv", newline="") as f:
        cli = {r["student"]: r for r in csv.DictReader(f)}
    for (student, assignment), row in rows.items():
        if assignment != LR.name or student not in cli:
            continue
        assert float(row["late_submission_penalty"] or 0) == pytest.approx(
            float(cli[student][f"{LR.name} late penalty"]), abs=1e-6), student
        assert float(row["score"]) == pytest.approx(float(cli[student][LR.name]), abs=1e-6), student
    assert float(rows["correct", LR.name]["late_submission_penalty"]) == pytest.approx(0.2 * LR.max_score)


@pytest.mark.slow
def test_autograded_notebooks_hold_feedback_and_no_hidden_test(course):
    for a in ASSIGNMENTS.values():
        nb = nbformat.read(course["root"] / "autograded" / "wrong" / a.name / a.notebook, as_version=4)
        tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("test_")]
        assert len(tests) == len(a.blanks)
        for cell in tests:
            assert "HIDDEN TESTS" not in cell.source and "grade_blank" not in cell.source
            kinds = [o.output_type for o in cell.outputs]
            assert kinds == ["display_data", "execute_result"], kinds
        assert nb.metadata["autograder"]["isolation"]


# ------------------------------------------------------------------------------------------------- validate
@pytest.mark.slow
def test_validate_fails_untouched_and_wrong_and_passes_correct(course, tmp_path):
    verdicts = {}
    for kind in ("untouched", "wrong", "correct"):
        folder = tmp_path / kind  # what a student has: the release folder, their notebook in it
        shutil.copytree(course["root"] / "release" / LR.name, folder)
        shutil.copy(course["root"] / "submitted" / kind / LR.name / LR.notebook, folder / LR.notebook)
        done = subprocess.run(["nbgrader", "validate", LR.notebook], cwd=folder, env=course["env"],
                              capture_output=True, text=True, timeout=300)
        verdicts[kind] = done.stdout + done.stderr
    assert "Success! Your notebook passes all the tests." in verdicts["correct"], verdicts["correct"][-3000:]
    for kind in ("untouched", "wrong"):
        assert "VALIDATION FAILED" in verdicts[kind] and "Success!" not in verdicts[kind], verdicts[kind][-3000:]
        assert "Traceback" not in verdicts[kind] and "site-packages" not in verdicts[kind]
    for blank in LR.blanks:
        assert f"{blank} is not written yet" in verdicts["untouched"]
    for blank in wrong_overrides(LR):
        assert re.search(rf"{blank} fails \d+ of its \d+ self-checks", verdicts["wrong"]), verdicts["wrong"][-3000:]
    assert "mse_loss fails" not in verdicts["wrong"] and "HIDDEN" not in verdicts["wrong"]


# --------------------------------------------------------------------------------------------- feedback pages
def page_text(page: str) -> str:
    """What a reader sees of an HTML page: no style, script or tags."""
    page = re.sub(r"(?is)<(style|script)\b.*?</\1>", " ", page)
    return html.unescape(re.sub(r"(?s)<[^>]+>", " ", page))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ASSIGNMENTS))
def test_feedback_page_text(course, name):
    a = ASSIGNMENTS[name]
    page = (course["root"] / "feedback" / "wrong" / name / f"{a.stem}.html").read_text()
    text = page_text(page)
    marks = gradebook_marks(course["root"])["wrong", name]
    for blank, points in a.blanks.items():
        assert f"{blank}: {marks[blank]:g} / {points:g} points" in text, blank
    catalog = load_catalog(COURSE, a)
    hinted = {m.blank for m in catalog.MISTAKES if m.code in wrong_overrides(a).values() and m.hint}
    assert text.count("Hint:") >= len(hinted) > 0
    for forbidden in (str(course["root"]), str(REPO), sys.prefix, "/root", "site-packages", "Traceback",
                      "HIDDEN TESTS", "grade_blank", "autograder/"):
        assert forbidden not in text, forbidden


LAYOUT = """<script>
window.addEventListener("load", () => {
  const right = window.innerWidth, doc = document.documentElement;
  const off = [];
  const boxes = [...document.querySelectorAll(".autograder-feedback")];
  for (const el of [...boxes, ...document.querySelectorAll(".autograder-notes")]) if (el.scrollWidth > el.clientWidth + 1) off.push("box scrolls: " + el.innerText.slice(0, 60));
  const hints = [...document.querySelectorAll(".autograder-hint")];
  for (const el of hints) {
    const r = el.getBoundingClientRect();
    if (r.width <= 0 || r.left < 0 || r.right > right + 1) off.push("hint off screen: " + el.innerText.slice(0, 60));
    for (let p = el.parentElement; p; p = p.parentElement)
      if (p.scrollWidth > p.clientWidth + 1 && getComputedStyle(p).overflowX !== "visible")
        { off.push("hint in a scrolled box: " + el.innerText.slice(0, 60)); break; }
  }
  document.title = "LAYOUT" + JSON.stringify({scrollWidth: doc.scrollWidth, clientWidth: doc.clientWidth,
                                              scrollHeight: doc.scrollHeight,
                                              hints: hints.length, boxes: boxes.length, off: off});
});
</script>"""


def chromium(*args: str) -> subprocess.CompletedProcess:
    size = [] if any(a.startswith("--window-size") for a in args) else ["--window-size=1000,1400"]
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--no-first-run", *size, *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (tools/browser_setup.sh installs it, as root)")
@pytest.mark.parametrize("name", list(ASSIGNMENTS))
def test_feedback_page_in_a_browser(course, name, tmp_path):
    a = ASSIGNMENTS[name]
    page = course["root"] / "feedback" / "wrong" / name / f"{a.stem}.html"
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", LAYOUT + "</body>", 1))
    dom = chromium("--virtual-time-budget=10000", "--dump-dom", str(probe)).stdout
    found = re.search(r"<title>LAYOUT(.*?)</title>", dom, re.S)
    assert found, dom[:2000]
    layout = json.loads(html.unescape(found.group(1)))
    assert layout["scrollWidth"] <= layout["clientWidth"], layout  # no horizontal scrolling of the page
    assert layout["off"] == [] and layout["boxes"] == len(a.blanks), layout
    assert layout["hints"] >= 1, layout
    shots = Path(os.environ.get("NBGRADER_SCREENSHOTS", tmp_path))  # set it to keep the screenshots and look
    shots.mkdir(parents=True, exist_ok=True)
    shot = shots / f"feedback-wrong-{name}.png"
    height = min(layout["scrollHeight"], 16000)  # the whole page in one picture
    chromium("--hide-scrollbars", f"--window-size=1000,{height}", f"--screenshot={shot}", str(page))
    assert shot.is_file() and shot.stat().st_size > 10_000


# ------------------------------------------------------------------------------------ the feedback, in isolation
def test_feedback_text_is_wrapped_and_grouped():
    long = ("dw: the values are not the correct result.\nHint: is the factor 2 missing?\n"
            + "1 of 1 values differ; the worst, at index (0,), is about 0.5x the expected value " * 3)
    tests = [TestResult("mse_grads: a [n=1]", "mse_grads", 0.0, 1.0, long),
             TestResult("mse_grads: a [n=2]", "mse_grads", 0.0, 1.0, long),
             TestResult("mse_grads: b", "mse_grads", 0.5, 0.5, "Passed.")]
    text, page = blank_feedback("mse_grads", 0.5, 2.5, tests)
    assert text.splitlines()[0] == "mse_grads: 0.5 / 2.5 points (Partially accepted)"
    assert all(len(line) <= 88 for line in text.splitlines())
    assert text.count("Hint: is the factor 2 missing?") == 1 and "✗ a [n=1]" in text and "✓ b" in text
    assert page.count('class="autograder-hint"') == 1 and "pre-wrap" in page
    outputs = cell_outputs("mse_grads", 0.5000000001, 2.5, tests)
    assert outputs[-1]["output_type"] == "execute_result" and float(outputs[-1]["data"]["text/plain"]) == 0.5
    assert outputs[0]["output_type"] == "display_data"  # never stderr or an error, which nbgrader reads as 0


def test_feedback_escapes_student_text():
    tests = [TestResult("f: x", "f", 0.0, 1.0, "f raised ValueError: <script>alert(1)</script>")]
    _, page = blank_feedback("f", 0.0, 1.0, tests)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_notes_leave_out_the_self_checks_of_test_cells():
    notes = ("Cell [4] raised SelfCheckFailed: f fails 1 of its 5 self-checks:\n  ✗ equals x: got y (cell [4], line 4).\n"
             "Cell [16] raised TypeError: bad (in g, cell [13], line 9).")
    assert without_self_checks(notes) == "Cell [16] raised TypeError: bad (in g, cell [13], line 9)."


def test_visible_part_drops_the_hidden_region():
    source = "require(f)\n### BEGIN HIDDEN TESTS\ngrade_blank('f', globals())\n### END HIDDEN TESTS"
    assert visible_part(source) == "require(f)"


def test_a_batch_with_a_problem_records_no_grade(monkeypatch, tmp_path):
    """A hidden test that broke or a worker that died: no mark of that batch is recorded (nbgrader says why)."""
    import logging

    import autograder.grading.runner as runner
    import autograder.grading.workers as workers
    from autograder.platforms.nbgrader_preprocessor import _Batch, _key
    from autograder.grading.results import NotebookResult

    def fake(jobs, settings, n):
        yield runner.Graded(jobs[0].key, NotebookResult(jobs[0].student, LR.name, LR.stem))
        yield runner.Problem("a grading worker died (exit code -9)")

    monkeypatch.setattr(workers, "grade_parallel", fake)
    batch = _Batch(COURSE, settings=None, jobs=2)
    wanted = [(s, LR.name, tmp_path / s / LR.notebook) for s in ("ann", "ben")]
    batch.grade(wanted, logging.getLogger("test"))
    assert not batch.results
    assert all("worker died" in batch.failed[_key(*w)] for w in wanted)


def test_hidden_cell_refuses_to_grade_in_a_stock_autograde_kernel(monkeypatch):
    """Stock nbgrader (Execute) would run the hidden part in the student's kernel, after the student's code."""
    from autograder.platforms.nbgrader_hidden import InKernelGradingRefused, grade_blank

    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(InKernelGradingRefused, match="nbgrader_config.py"):
        grade_blank("mse_grads", {})


def test_unwrap_undoes_the_engines_wrapping():
    from autograder.grading.compare import feedback, wrap
    from autograder.grading.compare import unwrap

    samples = [feedback("softmax of a (3, 6) input with logits up to ±1000: some values are NaN or infinite.",
                        "exp overflows, or every exp underflows to 0: subtract each row's maximum (keepdim=True) "
                        "before exp.", "15 of 18 values are NaN or infinite."),
               feedback("dw: the values are not the correct result.", "your values are 0.5 times the correct ones: is "
                        "the factor 2 from the derivative of the square missing? " * 2,
                        "1 of 1 values differ; the worst, at index (0,), is about 0.5x the expected value " * 3),
               "short\nlines\nstay"]
    for text in samples:
        assert unwrap(wrap(text)) == text
