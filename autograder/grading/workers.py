"""Grade a class on this machine: shard the notebooks over ``--jobs`` worker processes, each running one pytest
session over its shard with sandboxes from a warm zygote; stream every finished notebook back to the parent, which
writes its results file at once (no lost work) and drives the progress display.

Start-up is what a small class waits for, so each torch import is done once and beside another: the parent
starts the zygote (a separate process, importing torch) and meanwhile imports the trusted side itself (torch,
pytest, nbformat; :func:`autograder.grading.runner.prepare_imports`), then forks its workers, which inherit those imports
and share the zygote, each through a control socket of its own (:mod:`autograder.sandbox.zygote_client`; one zygote per
:data:`WORKERS_PER_ZYGOTE` workers).
"""
from __future__ import annotations

import gc
import multiprocessing
import queue
import threading
import traceback
from typing import TYPE_CHECKING, Any, Iterator

from autograder.grading.discover import Job
from autograder.grading.runner import Graded, Grader, Note, Problem, Settings, prepare_imports, zygote_settings

if TYPE_CHECKING:
    from autograder.sandbox.zygote import Zygote
    from autograder.sandbox.zygote_client import ZygoteClient


def shard(jobs: list[Job], n: int) -> list[list[Job]]:
    """Round-robin shards: each worker gets a mix of assignments, in a fixed order."""
    return [s for s in (jobs[i::n] for i in range(n)) if s]


WORKERS_PER_ZYGOTE = 4  # a zygote forks a sandbox in about 10 ms of its own time: enough for this many workers


def _worker(jobs: list[Job], settings: Settings, out: multiprocessing.Queue, client: ZygoteClient) -> None:
    from autograder.sandbox.zygote import SandboxError

    try:
        client.adopt()
        grader = Grader(settings, zygote=client)
        try:
            errors = grader.grade(jobs, lambda key, r: out.put(("result", (key, r))),
                                  note=lambda text: out.put(("note", text)))
        finally:
            grader.close()
        out.put(("done", errors))
    except SandboxError as error:  # e.g. namespaces not permitted: nothing can be graded safely
        out.put(("unavailable", str(error)))
    except BaseException as error:  # noqa: BLE001 - the parent must hear about it, whatever it was
        out.put(("failed", f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=5)}"))


def _start_zygotes(settings: Settings, workers: int) -> tuple[list[Zygote], list[ZygoteClient]]:
    """The zygotes for ``workers`` workers (:data:`WORKERS_PER_ZYGOTE` each), started at once, side by side, while
    the caller imports the trusted side; then one client per worker, in order. Raises what stopped a zygote."""
    from autograder.sandbox.zygote_client import shared_zygote

    sizes = [min(WORKERS_PER_ZYGOTE, workers - i) for i in range(0, workers, WORKERS_PER_ZYGOTE)]
    started: list[Any] = [None] * len(sizes)

    def start(i: int) -> None:
        try:
            started[i] = shared_zygote(sizes[i], **zygote_settings(settings))
        except BaseException as error:  # noqa: BLE001 - raised again below, in the caller's thread
            started[i] = error

    threads = [threading.Thread(target=start, args=(i,), name="zygote start-up", daemon=True)
               for i in range(len(sizes))]
    for t in threads:
        t.start()
    prepare_imports()  # meanwhile: the workers inherit the trusted side's imports
    for t in threads:
        t.join()
    owners = [s[0] for s in started if isinstance(s, tuple)]
    failed = next((s for s in started if isinstance(s, BaseException)), None)
    if failed is not None:
        for owner in owners:
            owner.close()
        raise failed
    gc.freeze()  # what the workers inherit: never walked again by their garbage collectors
    return owners, [client for _, clients in started for client in clients]


def grade_parallel(jobs: list[Job], settings: Settings, n_jobs: int) -> Iterator[Graded | Problem | Note]:
    """Yield :class:`Graded` for each notebook as workers finish it, a :class:`Problem` per problem and each
    distinct :class:`Note` once."""
    context = multiprocessing.get_context("fork")
    results: multiprocessing.Queue = context.Queue()
    shards = shard(jobs, max(1, n_jobs))
    from autograder.sandbox.zygote import SandboxError, SandboxUnavailable

    try:
        owners, clients = _start_zygotes(settings, len(shards))
    except SandboxError as error:  # e.g. namespaces not permitted: nothing can be graded safely
        raise error if isinstance(error, SandboxUnavailable) else SandboxUnavailable(str(error)) from None
    try:
        yield from _run_workers(context, shards, settings, results, clients)
    finally:
        for owner in owners:
            owner.close()


def _run_workers(context: Any, shards: list[list[Job]], settings: Settings, results: multiprocessing.Queue,
                 clients: list[ZygoteClient]) -> Iterator[Graded | Problem | Note]:
    workers = [context.Process(target=_worker, args=(s, settings, results, c), daemon=True)
               for s, c in zip(shards, clients)]
    for w in workers:
        w.start()
    for client in clients:  # each worker has its own copy now
        client.close()
    running = len(workers)
    noted: set[str] = set()
    while running:
        try:
            kind, payload = results.get(timeout=1.0)
        except queue.Empty:
            dead = [w for w in workers if not w.is_alive() and w.exitcode not in (0, None)]
            if dead and results.empty():
                for w in dead:
                    workers.remove(w)
                    running -= 1
                    yield Problem(f"a grading worker died (exit code {w.exitcode})")
            continue
        if kind == "result":
            yield Graded(*payload)
        elif kind == "note":
            if payload not in noted:
                noted.add(payload)
                yield Note(payload)
        elif kind == "unavailable":
            from autograder.sandbox.zygote import SandboxUnavailable

            for w in workers:
                w.kill()
            raise SandboxUnavailable(payload)
        elif kind == "done":
            running -= 1
            for e in payload:
                yield Problem(e)
        else:
            running -= 1
            yield Problem(payload)
    for w in workers:
        w.join(timeout=5)
