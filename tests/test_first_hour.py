"""What a new instructor trips on in the first hour: a notebook of another assignment, a misspelled folder, one
notebook graded alone, what the terminal says (the isolation line, --quiet, --help, one-line failures, progress,
the audit's summary, the course secret), and the shards' scores merged by ``report``."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import cli
from autograder.authoring.fill import filled_release, release_notebook, write
from autograder.cli import grade as cli_grade
from autograder.cli import grade_notes
from autograder.cli.report import merge_scores
from autograder.grading.course import SECRET_FILE, Course
from autograder.grading.discover import InputError, discover, notebook_marks, submissions_top
from autograder.grading.results import NotebookResult, TestResult, write_results
from autograder.outputs.csvsafe import field
from conftest import ASSIGNMENTS, COURSE, REPO

LR = ASSIGNMENTS["02_linear_regression"]
LOG = ASSIGNMENTS["03_logistic_regression"]


def run(*args: str, cwd: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    environment = {**os.environ, "AUTOGRADER_SECRET": "first-hour", "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True, text=True, cwd=cwd,
                          env=environment, timeout=timeout)


# -- 2. a notebook of another assignment ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", [LR.notebook, LOG.notebook, "mine.ipynb"], ids=["renamed", "as-is", "other-name"])
def test_a_notebook_of_another_assignment_is_not_graded_against_the_folders_tests(tmp_path, name):
    top = tmp_path / "submitted"
    write(filled_release(COURSE, LOG), top / "alice" / LR.name / name)
    write(filled_release(COURSE, LR), top / "bob" / LR.name / LR.notebook)
    found = discover(COURSE, [top])
    assert [j.student for j in found.jobs] == ["bob"]
    [u] = found.ungraded
    assert (u.student, u.assignment.name, str(u.results)) == ("alice", LR.name,
                                                              f"alice/{LR.name}/{Path(name).stem}.json")
    assert u.why == (f"Not graded: this is a notebook of {LOG.name} ({LOG.notebook}), not of {LR.name}, so it earns 0 "
                     f"for {LR.name}; submit your {LR.notebook} for {LR.name}.")
    assert found.skipped == [f"{top}/alice/{LR.name}/{name}: not graded: a notebook of {LOG.name}, not of {LR.name} "
                             f"(alice gets 0 for {LR.name} and a message)"]


def test_what_decides_is_the_release_cells_not_names_nor_metadata_alone(tmp_path):
    top = tmp_path / "submitted"
    stripped = filled_release(COURSE, LOG)  # copied into a fresh notebook: no nbgrader metadata left
    for cell in stripped.cells:
        cell.metadata = {}
    write(stripped, top / "alice" / LR.name / LR.notebook)
    own = filled_release(COURSE, LR)  # a 02 notebook with a cell of 03 pasted in: still 02's
    own.cells.append(nbformat.v4.new_markdown_cell(release_notebook(COURSE, LOG).cells[0].source))
    write(own, top / "bob" / LR.name / LR.notebook)
    forged = filled_release(COURSE, LR)  # 02's cells under forged grade_ids (tests/test_grade.py): 02's
    for cell in forged.cells:
        cell.metadata["nbgrader"] = {"grade": True, "points": 999, "grade_id": "forged"}
    write(forged, top / "carol" / LR.name / LR.notebook)
    for student, content in (("dave", "{}"), ("erin", "not json"), ("fay", "[" * 100_000), ("gus", "")):
        (top / student / LR.name).mkdir(parents=True)
        (top / student / LR.name / LR.notebook).write_text(content)  # doubtful: graded, and told why it is unreadable
    found = discover(COURSE, [top])
    assert [u.student for u in found.ungraded] == ["alice"]
    assert [j.student for j in found.jobs] == ["bob", "carol", "dave", "erin", "fay", "gus"]
    assert notebook_marks(top / "fay" / LR.name / LR.notebook) == frozenset()


def test_a_single_notebook_of_unknown_name_is_known_by_its_cells(tmp_path):
    path = write(filled_release(COURSE, LR), tmp_path / "Downloads" / "homework.ipynb")
    [job] = discover(COURSE, [path]).jobs
    assert (job.student, job.assignment.name, str(job.results)) == ("homework", LR.name,
                                                                    f"homework/{LR.name}/homework.json")
    wrong = write(filled_release(COURSE, LOG), tmp_path / "alice" / LR.name / LR.notebook)  # given directly, too
    found = discover(COURSE, [wrong])
    assert found.jobs == [] and [u.student for u in found.ungraded] == ["alice"]


def test_only_ungraded_notebooks_write_their_results_without_grading(tmp_path):
    write(filled_release(COURSE, LOG), tmp_path / "submitted" / "alice" / LR.name / LR.notebook)
    done = run("grade", "submitted", "--out", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines() == [
        f"skipped: submitted/alice/{LR.name}/{LR.notebook}: not graded: a notebook of {LOG.name}, not of {LR.name} "
        f"(alice gets 0 for {LR.name} and a message)"]
    data = json.loads((tmp_path / "out" / "alice" / LR.name / f"{LR.stem}.json").read_text())
    assert data["score"] == 0 and data["max_score"] == LR.max_score
    assert data["output"].startswith(f"Not graded: this is a notebook of {LOG.name}")
    assert f"not graded: a notebook of {LOG.name}, not of {LR.name}" in done.stdout  # the table says why


def test_a_misspelled_assignment_folder_names_the_closest(tmp_path):
    top = tmp_path / "submitted"
    write(filled_release(COURSE, LR), top / "alice" / "02_linear_regresion" / LR.notebook)
    (top / "alice" / "zzz").mkdir()
    found = discover(COURSE, [top])
    assert found.skipped == [
        f"{top}/alice/02_linear_regresion/: not an assignment of the course (not graded); the closest is {LR.name}: "
        f"rename the folder if it is that one",
        f"{top}/alice/zzz/: not an assignment of the course (not graded)"]


# -- 3. one notebook -----------------------------------------------------------------------------------------------
def test_the_default_results_folder_is_never_inside_the_submissions(tmp_path, monkeypatch):
    top = tmp_path / "submitted"
    nb = write(filled_release(COURSE, LR), top / "alice" / LR.name / LR.notebook)
    loose = write(filled_release(COURSE, LR), tmp_path / "Downloads" / "homework.ipynb")
    assert submissions_top(COURSE, nb) == submissions_top(COURSE, nb.parent) == top
    assert submissions_top(COURSE, top / "alice") == submissions_top(COURSE, top) == top
    assert submissions_top(COURSE, loose) == tmp_path / "Downloads"
    monkeypatch.chdir(tmp_path)
    assert cli_grade.default_out(COURSE, [top]) == tmp_path / "graded"  # as before: graded/ here
    for here in (top, top / "alice", nb.parent):
        monkeypatch.chdir(here)
        assert cli_grade.default_out(COURSE, [Path(os.path.relpath(nb, here))]) == tmp_path / "graded"
    monkeypatch.chdir(tmp_path / "Downloads")
    assert cli_grade.default_out(COURSE, [Path("homework.ipynb")]) == tmp_path / "graded"
    monkeypatch.chdir(top)  # graded/ beside the top would be inside the other tree given: further up
    assert cli_grade.default_out(COURSE, [nb, tmp_path]) == tmp_path.parent / "graded"
    with pytest.raises(InputError, match="inside the submissions being graded .*: pass --out DIR"):
        cli_grade.default_out(COURSE, [Path("/")])  # nowhere outside them


@pytest.mark.slow
def test_the_readme_single_notebook_command_gets_the_class_layout(tmp_path):
    submitted = tmp_path / "submitted"
    shutil.copytree(REPO / "examples" / "submitted" / "bob", submitted / "bob")
    write(filled_release(COURSE, LR), submitted / "alice" / LR.name / LR.notebook)
    before = sorted(p for p in submitted.rglob("*"))
    # the README's command, verbatim, from inside the submissions
    done = run("grade", "alice/02_linear_regression/linear_regression.ipynb", cwd=submitted)
    assert done.returncode == 0, done.stderr
    assert sorted(p for p in submitted.rglob("*")) == before  # nothing made inside the submissions
    graded = tmp_path / "graded"
    data = json.loads((graded / "alice" / LR.name / f"{LR.stem}.json").read_text())
    assert data["score"] == LR.max_score
    assert (graded / "alice" / LR.name / f"{LR.stem}.html").is_file() and (graded / "report.html").is_file()
    assert done.stdout.splitlines()[0].startswith("isolation: ")  # said first
    assert f"results in {graded}" in done.stdout
    quiet = run("grade", "bob/02_linear_regression/linear_regression.ipynb", "--quiet", cwd=submitted)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and "note:" not in quiet.stdout and "isolation:" not in quiet.stdout
    assert quiet.stdout.lstrip().startswith("1 notebook(s) graded")  # the table, and nothing else
    assert "results in" not in quiet.stdout and "class report" not in quiet.stdout


# -- 5. what the terminal says -------------------------------------------------------------------------------------
def options(**given) -> argparse.Namespace:
    return argparse.Namespace(**{"no_sandbox": False, "exact_isolation": None, "isolation": None, "quiet": False,
                                 **given})


def test_the_isolation_line_says_the_level_and_why():
    assert grade_notes.isolation_line("namespaces", options()) == "isolation: namespaces, the strongest this host allows"
    assert grade_notes.isolation_line("userns", options(), "namespaces: needs CAP_SYS_ADMIN: run as root") == (
        "isolation: userns, the strongest this host allows; not stronger because namespaces: needs CAP_SYS_ADMIN: "
        "run as root")
    assert grade_notes.isolation_line("userns", options(isolation="uid-seccomp"), cluster=True) == (
        "isolation: userns, the strongest the cluster's workers allow (at least uid-seccomp was asked with "
        "--isolation)")
    assert grade_notes.isolation_line("uid-seccomp", options(exact_isolation="uid-seccomp")) == (
        "isolation: uid-seccomp, as asked (--exact-isolation uid-seccomp)")
    assert grade_notes.isolation_line("none", options(no_sandbox=True)).startswith("isolation: none, as asked "
                                                                                 "(--no-sandbox)")


class Printed:
    def __init__(self):
        self.lines: list[str] = []
        self.console = self

    def print(self, text, **kwargs):
        self.lines.append(text)


@pytest.mark.parametrize("quiet", [False, True])
def test_the_isolation_line_comes_first_and_quiet_says_nothing(quiet):
    printed = Printed()
    said = grade_notes.Isolation(options(quiet=quiet), printed, cluster=False)
    said.note("memory: each sandbox in a cgroup of its own")  # before the level is known: waits
    said.graded("namespaces")
    said.graded("namespaces")
    said.note("uid-seccomp: removed the other permission bits of /srv")
    expected = ["isolation: namespaces, the strongest this host allows",
                "note: memory: each sandbox in a cgroup of its own",
                "note: uid-seccomp: removed the other permission bits of /srv"]
    assert printed.lines == ([] if quiet else expected)
    printed = Printed()
    said = grade_notes.Isolation(options(), printed, cluster=False)
    said.note("isolation: userns, not stronger because namespaces: no CAP_SYS_ADMIN")
    said.graded("userns")
    assert printed.lines == ["isolation: userns, the strongest this host allows; not stronger because namespaces: "
                             "no CAP_SYS_ADMIN"]


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = cli._parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(commands.choices)


def test_every_help_reads_well_and_shows_every_default():
    top = run("--help", cwd=REPO)
    assert top.returncode == 0
    assert "Grade PyTorch exercise notebooks, and write and check a course." in top.stdout
    assert "COMMAND --help" in top.stdout
    for name, parser in subcommands().items():
        assert parser.description and parser.description.rstrip().endswith("."), name  # a sentence at the top
        for action in parser._actions:
            if not action.option_strings or action.nargs == 0 or action.required:
                continue  # positionals, flags, --help, required options
            assert "default" in (action.help or ""), (name, action.option_strings)
        shown = run(name, "--help", cwd=REPO)
        assert shown.returncode == 0 and "usage: python -m autograder " + name in shown.stdout, shown.stderr
        assert "%(default)" not in shown.stdout and "(default: None)" not in shown.stdout


def test_reports_folder_is_never_taken_by_an_option_before_it(tmp_path):
    report = subcommands()["report"]
    for action in report._actions:  # an option takes one value or none: never the folder after it
        assert action.nargs in (None, 0), action.option_strings
    for argv in (["--course", str(REPO), "graded"], ["--quiet", "graded"], ["graded", "--course", str(REPO)]):
        assert cli._parser().parse_args(["report", *argv]).graded == Path("graded")


def test_gradescope_run_with_a_folder_for_results_ends_in_one_line(tmp_path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "settings.json").write_text(json.dumps({"assignment": LR.name}))
    (tmp_path / "results").mkdir()
    done = run("gradescope-run", "--bundle", str(bundle), "--submission", str(tmp_path), "--results",
               str(tmp_path / "results"), cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [f"error: --results {tmp_path / 'results'}: a folder; give the results file to "
                                        f"write, e.g. {tmp_path / 'results' / 'results.json'}"]
    nothing = run("gradescope-run", "--bundle", str(tmp_path / "nowhere"), cwd=tmp_path)
    assert nothing.returncode == 2 and len(nothing.stderr.splitlines()) == 1 and "settings.json" in nothing.stderr


def test_a_dask_address_that_does_not_answer_fails_in_seconds_with_one_line(tmp_path):
    write(filled_release(COURSE, LR), tmp_path / "submitted" / "alice" / LR.name / LR.notebook)
    started = time.monotonic()
    done = run("grade", "submitted", "--executor", "dask://127.0.0.1:9", "--connect-timeout", "1", cwd=tmp_path)
    assert time.monotonic() - started < 30  # 1 s of waiting, and the imports on a busy machine
    assert done.returncode == 2 and "Traceback" not in done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("error: --executor dask://127.0.0.1:9: no Dask scheduler answered") and "1 s" in line
    assert not (tmp_path / "graded").exists()  # stopped before making anything


def test_the_course_secret_file_is_announced_once(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("AUTOGRADER_SECRET", raising=False)
    for part in ("release", "hidden"):
        shutil.copytree(REPO / part, tmp_path / part)
    course = Course.load(tmp_path)
    first = course.secret()
    said = capsys.readouterr().err
    assert said == (f"created the course secret {tmp_path / SECRET_FILE}: every hidden input is drawn from it, so "
                    f"keep it (and back it up); grades drawn later with another secret use other inputs\n")
    assert course.secret() == first and capsys.readouterr().err == ""  # once


def test_pages_drawn_in_parallel_are_the_same_pages_with_progress(tmp_path, monkeypatch):
    import autograder.outputs.pages
    from autograder.outputs.pages import PARALLEL_FROM, write_pages

    pools = []

    class Pool(autograder.outputs.pages.ProcessPoolExecutor):
        def __init__(self, jobs, **kwargs):
            pools.append(jobs)
            super().__init__(jobs, **kwargs)

    monkeypatch.setattr(autograder.outputs.pages, "ProcessPoolExecutor", Pool)

    students = [f"student{i:02d}" for i in range(2 * PARALLEL_FROM + 1)]  # enough for two processes
    for i, student in enumerate(students):
        curve = {"describe": "train_linear on the visible data", "reference": [1.0, 0.5, 0.25],
                 "student": [1.0, 0.6, 0.3 + i / 100], "note": ""}
        result = NotebookResult(student, LR.name, LR.stem, [TestResult("t", "train_linear", 1.0, 2.0, "wrong.")],
                                curves={"train_linear": curve})
        write_results(result, tmp_path / student / LR.name / f"{LR.stem}.json")
    ticks: list[tuple[int, int]] = []
    parallel = write_pages(tmp_path, progress=lambda done, total: ticks.append((done, total)), jobs=2)
    assert pools == [2]
    pages = {p: p.read_bytes() for p in tmp_path.rglob("*.html")}
    assert len(pages) == len(students) and all(b"<svg" in page for page in pages.values())
    for page in pages:
        page.unlink()
    assert write_pages(tmp_path, say=lambda text: None) == parallel  # one process: the same pages, byte for byte
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.html")} == pages
    assert ticks == [(done, len(students)) for done in range(len(students) + 1)]


def test_the_audit_prints_a_summary_and_writes_the_table_to_a_file(tmp_path):
    from rich.console import Console

    from autograder.authoring.audit import AuditRow, print_audit
    from autograder.authoring.catalog import Variant

    rows = [AuditRow(LR.name, Variant("mse_loss", "mean of squares", "x"), True, (2.0, 2.0)),
            AuditRow(LR.name, Variant("mse_loss", "sum, not mean", "x", hint="mean"), False, (0.5, 2.0),
                     ("the values are wrong. Hint: take the mean",)),
            AuditRow(LOG.name, Variant("sigmoid", "exp(z)", "x"), False, (1.0, 1.0)),
            AuditRow(LOG.name, Variant("sigmoid", "right", "x"), True, (1.0, 1.0))]
    console = Console(width=80, record=True, color_system=None)
    detail = tmp_path / "audit.txt"
    assert print_audit(rows, [], detail, console=console) == 1  # one mistake missed
    text = console.export_text()
    lines = text.splitlines()
    assert "Catalogued answers graded by the hidden tests" in lines[0]  # the summary first
    cells = [[cell.strip() for cell in line.strip("│ ").split("│")] for line in lines if line.startswith("│")]
    assert cells == [[LR.name, "1/1", "1/1", "25.0%"], [LOG.name, "0/1", "1/1", "100.0%"],
                     ["all", "1/2", "2/2", "62.5%"]]
    assert "MISSED: 03_logistic_regression sigmoid, mistake 'exp(z)': 1/1" in text
    assert f"every answer's verdict, marks and feedback: {detail} (4 answers)" in " ".join(text.split())
    assert len(lines) < 20 and "take the mean" not in text  # the feedback is in the file, not here
    table = detail.read_text()
    assert "take the mean" in table and "sum, not mean" in table and "\x1b" not in table


def test_an_unknown_assignment_for_audit_is_one_line_before_any_grading(tmp_path):
    done = run("audit", "99_nothing", "--course", str(REPO), cwd=tmp_path, timeout=60)
    assert done.returncode == 2 and done.stderr.splitlines() == [
        f"error: unknown assignment '99_nothing'; the course has {', '.join(ASSIGNMENTS)}"]
    assert not (tmp_path / "audit.txt").exists()


# -- 6. the shards' scores, merged by report -----------------------------------------------------------------------
def shard_results(graded: Path, rows: dict[int, list[tuple[str, str, float]]], count: int) -> None:
    """Results files and each shard's scores-I-of-N.csv, as `grade --shard I/N` leaves them."""
    from autograder.grading.results import write_scores_csv

    for index, marks in rows.items():
        results = []
        for student, assignment, score in marks:
            a = ASSIGNMENTS[assignment]
            result = NotebookResult(student, a.name, a.stem, [TestResult("t", next(iter(a.blanks)), score, a.max_score,
                                                                         "")])
            write_results(result, graded / student / a.name / f"{a.stem}.json")
            results.append(result)
        write_scores_csv(results, graded / f"scores-{index}-of-{count}.csv")


def test_report_merges_the_shards_scores_once_all_are_there(tmp_path):
    graded = tmp_path / "graded"
    evil = '=HYPERLINK("http://x","click")'
    shard_results(graded, {1: [("bob", LR.name, 4.0), (evil, LOG.name, 2.5)],
                           3: [("alice, the first", LR.name, 10.0), ("alice, the first", LOG.name, 1.0)]}, 3)
    # the README's command, verbatim
    waiting = run("report", "graded/", cwd=tmp_path)
    assert waiting.returncode == 1 and "Traceback" not in waiting.stderr
    assert waiting.stderr.splitlines() == ["problem: scores.csv not merged: no scores-I-of-3.csv yet from shard(s) 2 "
                                           "of 3; run report again once they are done"]
    assert not (graded / "scores.csv").exists() and (graded / "report.html").is_file()
    shard_results(graded, {2: []}, 3)  # a shard with no student still leaves its file
    done = run("report", "graded/", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "scores.csv: the scores of all 3 shards merged (3 student(s))" in done.stdout
    total = LR.max_score + LOG.max_score
    assert (graded / "scores.csv").read_bytes().decode().split("\r\n") == [
        f"student,{LR.name},{LOG.name},total,max_total",
        f"{field(evil)},0,2.5,2.5,{total:g}",  # as safe as the shard wrote it, and no safer: not "''=..."
        f"\"alice, the first\",10,1,11,{total:g}",
        f"bob,4,0,4,{total:g}",
        ""]


def test_merging_refuses_what_does_not_add_up(tmp_path):
    graded = tmp_path / "graded"
    shard_results(graded, {1: [("bob", LR.name, 4.0)], 2: [("bob", LR.name, 3.0)]}, 2)
    with pytest.raises(ValueError, match="'bob' is in two shards' scores"):
        merge_scores([graded / "scores-1-of-2.csv", graded / "scores-2-of-2.csv"], graded / "scores.csv",
                     {LR.name: LR.max_score})
    (graded / "scores-2-of-2.csv").unlink()
    shard_results(graded, {2: [("carol", LR.name, 3.0)]}, 2)
    shard_results(graded, {1: [("dan", LR.name, 1.0)]}, 5)  # left by an earlier run with another N
    done = run("report", str(graded), "--quiet", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.splitlines() == ["problem: scores-*-of-5.csv left out: an incomplete set beside the 2 shards' "
                                        "(left by an earlier run?)"]
    assert (graded / "scores.csv").read_text().splitlines()[1:] == [f"bob,4,4,{LR.max_score:g}",
                                                                    f"carol,3,3,{LR.max_score:g}"]


@pytest.mark.slow
def test_the_readme_audit_command_prints_a_summary_first(tmp_path):
    done = run("audit", cwd=tmp_path, timeout=1800)  # the README's command, verbatim (the course: this checkout)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    assert "Catalogued answers graded by the hidden tests" in lines[0] and len(lines) < 20 + len(ASSIGNMENTS)
    assert any(line.strip("│ ").startswith("all ") for line in lines)
    table = (tmp_path / "audit.txt").read_text()
    assert "what the student reads" in table and len(table.splitlines()) > 100
