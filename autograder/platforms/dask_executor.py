"""Grade on a Dask distributed cluster: ``python -m autograder grade PATH --executor dask://HOST:PORT``.

- **The course travels once per worker.** The client sends what grading needs of the course directory (``release/``,
  ``hidden/``, ``solutions/``, ``marking.toml``; never ``catalog/``, ``source/`` or the secret file) as bytes,
  with the course secret and the grading options, in a :class:`AutograderPlugin` (a ``WorkerPlugin``): every
  worker, those that join later included, writes them to a private folder (0700) and starts one warm
  :class:`autograder.grading.runner.Grader` -- one sandbox zygote -- for its lifetime. Workers need no shared file system,
  only this kit and its dependencies installed (the same versions as the client). The plugin's name is a digest
  of all it carries, so a second run with the same course and options finds the workers already warm.
- **Notebooks travel as bytes, in batches**; each batch is one task (one pytest session on the worker) whose
  result is data: plain dictionaries of the results, the isolation level, the notes and internal errors. The
  client writes each results file as its batch arrives (:func:`grade_dask` yields the same events as
  :func:`autograder.grading.workers.grade_parallel`).
- **A worker that dies mid-batch** loses the whole batch's results with it (nothing of a batch is sent before it
  is done); the scheduler runs the batch again on another worker, so every notebook gets exactly one result.
  A batch that kills workers ``distributed.scheduler.allowed-failures`` times is reported as not graded.
- **Same results as on one machine**: the hidden inputs come from the secret, the test's name and a digest of
  the notebook (:func:`autograder.grading.plugin.submission_digest`), never from the worker; a notebook's copy on a worker
  stands where the client's was, so what feedback says about an unreadable file reads the same.
- **Isolation**: every worker's zygote probes its own host; a worker that cannot isolate as asked answers each
  batch with the reason, and the client stops with it (:class:`autograder.sandbox.zygote.SandboxUnavailable`), as the
  local grader does. Each results file records the level its notebook ran under (``extra_data.isolation``).
"""
from __future__ import annotations

import hashlib
import math
import os
import pickle
import shutil
import tempfile
import threading
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterator

from distributed import Client, WorkerPlugin, as_completed, get_worker

from autograder.grading.course import Course
from autograder.grading.discover import InputError, Job
from autograder.grading.results import NotebookResult, TestResult
from autograder.grading.runner import Graded, Note, Problem, Settings

COURSE_PARTS = ("release", "hidden", "solutions", "marking.toml", "course.toml", "locale")  # what grading reads
MAX_NOTEBOOK_BYTES = 20 << 20  # autograder.grading.notebook's cap: a larger file is not sent, only its size
OPTIONS = ("isolation", "minimum", "memory_bytes", "cell_timeout", "call_timeout", "notebook_timeout",
           "notebook_budget", "curves", "language")


def course_files(course: Course) -> dict[str, bytes]:
    """The course files a worker needs, by path relative to the course (no hidden file, no link, no cache)."""
    files: dict[str, bytes] = {}
    for part in COURSE_PARTS:
        top = course.root / part
        if top.is_file() and not top.is_symlink():
            files[part] = top.read_bytes()
            continue
        if not top.is_dir() or top.is_symlink():
            continue
        for folder, dirs, names in os.walk(top):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
            for name in sorted(names):
                path = Path(folder, name)
                if name.startswith(".") or path.is_symlink() or not path.is_file():
                    continue
                files[str(path.relative_to(course.root))] = path.read_bytes()
    return files


class AutograderPlugin(WorkerPlugin):
    """On each worker: the course's files in a private folder and one warm grader (its zygote) for the worker's
    lifetime. Batches take turns on it (one pytest session at a time)."""

    def __init__(self, files: dict[str, bytes], options: dict[str, Any], secret: str):
        self.files, self.options, self.secret = files, options, secret
        digest = hashlib.sha256(pickle.dumps((sorted(files.items()), sorted(options.items()), secret)))
        self.name = f"autograder-{digest.hexdigest()[:16]}"
        self.idempotent = True  # registered again by a later run: keep the warm worker

    def setup(self, worker: Any = None) -> None:
        from autograder.grading.runner import Grader, prepare_imports, warm_trusted

        self.folder = Path(tempfile.mkdtemp(prefix="autograder-worker-"))  # 0700: the course, the notebooks
        course_root = self.folder / "course"
        for rel, data in self.files.items():
            path = course_root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        self.submissions = self.folder / "submissions"
        self.submissions.mkdir()
        self.course = Course.load(course_root)
        self.settings = Settings(course=self.course, secret=self.secret, hide=[self.folder], **self.options)
        self.lock = threading.Lock()
        self.grader = Grader(self.settings)  # the zygote starts now, in the background

        def warm() -> None:  # off the worker's event loop: the imports take seconds
            with self.lock:
                prepare_imports()
                warm_trusted()

        threading.Thread(target=warm, name="autograder warm-up", daemon=True).start()

    def teardown(self, worker: Any = None) -> None:
        grader = getattr(self, "grader", None)
        if grader is not None:
            grader.close()
        shutil.rmtree(getattr(self, "folder", "/nonexistent"), ignore_errors=True)

    def grade(self, batch: list[dict[str, Any]]) -> dict[str, Any]:
        from autograder.sandbox.zygote import SandboxError

        with self.lock:
            try:
                level, notes = self.grader.level, self.grader.notes
            except SandboxError as error:
                return {"unavailable": str(error)}
            where = self.submissions / uuid.uuid4().hex
            jobs, scrub, origins = [], {}, {}
            try:
                for i, item in enumerate(batch):
                    top = where / str(i)  # stands for the client's folder ``item["shown"]``
                    path = top / item["relative"]
                    path.parent.mkdir(parents=True, exist_ok=True)
                    if item.get("size") is not None:  # too large to send: a file of the same size says so
                        with open(path, "wb") as f:
                            f.truncate(item["size"])
                    else:
                        path.write_bytes(item["data"])
                    scrub[str(top)] = item["shown"]
                    origins[str(top)] = item["origin"]
                    jobs.append(Job(path, item["student"], self.course.assignments[item["assignment"]],
                                    Path(item["results"])))
                results: list[tuple[str, dict]] = []
                errors = self.grader.grade(jobs, lambda key, r: results.append((key, asdict(r))), scrub=scrub)
                for _, data in results:  # why a notebook is unreadable, for the instructor: with the client's path
                    for top, origin in origins.items():
                        data["error"] = data["error"] and data["error"].replace(top, origin)
            finally:
                shutil.rmtree(where, ignore_errors=True)
            return {"results": results, "errors": errors, "notes": notes, "level": level}


def grade_batch(name: str, batch: list[dict[str, Any]]) -> dict[str, Any]:
    """The task: grade ``batch`` with this worker's plugin ``name``."""
    return get_worker().plugins[name].grade(batch)


def _shown(job: Job, settings: Settings) -> tuple[str, str, str]:
    """Where the client's notebook is, as feedback shows it: the placeholder of the longest folder the scrubber
    would replace in its path (autograder.grading.runner.host_scrubber), and the rest of the path. (A notebook given by a
    relative path shows that path on one machine, and its name under a placeholder on a cluster.)"""
    folders = [(os.path.realpath(settings.course.root), "<course>")]
    folders += [(os.path.realpath(h), "<grader folder>") for h in settings.hide]
    path = str(job.path)
    for folder, name in sorted(folders, key=lambda item: -len(item[0])):
        if folder != "/" and path.startswith(folder + "/"):
            return name, path[len(folder) + 1:], folder
    return "<grader folder>", job.path.name, str(job.path.parent)


def _payload(job: Job, settings: Settings) -> dict[str, Any]:
    shown, relative, origin = _shown(job, settings)
    item: dict[str, Any] = {"student": job.student, "assignment": job.assignment.name, "results": str(job.results),
                            "shown": shown, "relative": relative, "origin": origin}
    try:
        size = job.path.stat().st_size
    except OSError:
        size = 0
    if size > MAX_NOTEBOOK_BYTES:
        item["size"] = size
    else:
        try:
            item["data"] = job.path.read_bytes()
        except OSError:
            item["data"] = b""  # unreadable here: graded as an unreadable notebook
    return item


def _result(data: dict) -> NotebookResult:
    tests = [TestResult(**t) for t in data.pop("tests")]
    return NotebookResult(tests=tests, **data)


def batches(jobs: list[Job], workers: int, batch_size: int | None = None) -> list[list[Job]]:
    """Batches of neighbouring notebooks: a few per worker (so a late or dead worker costs little), at most 16."""
    if batch_size is None:
        batch_size = max(1, min(16, math.ceil(len(jobs) / max(1, 4 * workers))))
    return [jobs[i:i + batch_size] for i in range(0, len(jobs), batch_size)]


class SchedulerUnreachable(InputError):
    """No Dask scheduler answered at the address given; the message is one line (the command exits 2)."""


def connect(address: str, timeout: float = 5.0) -> Client:
    """A client of the scheduler at ``address`` (``dask://HOST:PORT`` is taken for tcp). Raises
    :class:`SchedulerUnreachable` when none answers within ``timeout`` seconds: a wrong address costs a few seconds
    and one line, not Dask's default wait and its traceback."""
    url = "tcp://" + address[len("dask://"):] if address.startswith("dask://") else address
    try:
        return Client(url, timeout=f"{timeout}s")
    except (OSError, TimeoutError, ValueError) as error:  # refused, timed out, no such host, a malformed address
        why = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SchedulerUnreachable(f"--executor {address}: no Dask scheduler answered ({why}); is `dask scheduler` "
                                   f"running there? --connect-timeout SECONDS waits longer than {timeout:g} s"
                                   ) from None


def grade_dask(jobs: list[Job], settings: Settings, address: str, batch_size: int | None = None,
               client: Client | None = None, connect_timeout: float = 5.0) -> Iterator[Graded | Problem | Note]:
    """Grade ``jobs`` on the Dask cluster at ``address`` (``tcp://HOST:PORT``; ``dask://HOST:PORT`` is taken for
    tcp); yields the events of :func:`autograder.grading.workers.grade_parallel`. Raises SandboxUnavailable when a worker
    cannot isolate as asked, and SchedulerUnreachable when no scheduler answers within ``connect_timeout`` seconds."""
    from autograder.sandbox.zygote import SandboxUnavailable

    own = client is None
    if own:
        client = connect(address, connect_timeout)
    try:
        options = {name: getattr(settings, name) for name in OPTIONS}
        plugin = AutograderPlugin(course_files(settings.course), options, settings.secret)
        client.register_plugin(plugin, name=plugin.name)  # idempotent: kept warm across runs
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        run = uuid.uuid4().hex[:8]
        futures = {}
        for i, batch in enumerate(batches(jobs, workers, batch_size)):
            payload = [_payload(job, settings) for job in batch]
            future = client.submit(grade_batch, plugin.name, payload, key=f"autograder-{run}-{i}", pure=False)
            futures[future] = batch
        noted: set[str] = set()
        graded: set[str] = set()
        try:
            for future in as_completed(futures):
                batch = futures[future]
                try:
                    answer = future.result()
                except Exception as error:  # noqa: BLE001 - e.g. KilledWorker: its workers kept dying
                    keys = ", ".join(j.key for j in batch[:3]) + (" ..." if len(batch) > 3 else "")
                    yield Problem(f"a batch of {len(batch)} notebook(s) ({keys}) could not be graded on the cluster: "
                                  f"{type(error).__name__}: {error}")
                    continue
                if "unavailable" in answer:
                    raise SandboxUnavailable(answer["unavailable"])
                for text in answer["notes"]:
                    if text not in noted:
                        noted.add(text)
                        yield Note(text)
                for key, data in answer["results"]:
                    if key in graded:  # never twice, whatever the cluster did
                        continue
                    graded.add(key)
                    yield Graded(key, _result(data))
                for text in answer["errors"]:
                    yield Problem(text)
        finally:
            for future in futures:
                if not future.done():
                    future.cancel()
    finally:
        if own:
            client.close()
