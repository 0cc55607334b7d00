"""Students' self-check: ``check(mse_grads)`` in a release notebook prints a verdict and a hint per property.

The checks are course content, released beside the notebook (the kit knows no assignment):

- ``<stem>_selfcheck.json``: made by ``python -m autograder build`` from the course's declarations (numbers: the
  reference's results on fixed examples, known mistakes' results, the rules to check; see
  :mod:`autograder.selfcheck.declared`);
- ``<stem>_selfcheck.py``: hand-written checks, registered with :func:`selfcheck`; a check raises
  ``AssertionError`` with one clear sentence when its property fails.

They need no reference solutions: numbers, autograd as the oracle for hand-written gradients, shapes, dtypes and
properties. They are looked for in the notebook's folder (the working folder of its kernel), or in the folders of
``$AUTOGRADER_SELFCHECK_PATH`` (separated like PATH).
"""
from __future__ import annotations

import importlib.util
import json
import os
import signal
import threading
import time
import traceback
import warnings
from contextlib import contextmanager
from pathlib import Path
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Callable, Iterator

from autograder.i18n import _, course_text

CheckFn = Callable[[Any], None]
CHECK_SECONDS = 5.0  # one check (a few calls of the student's code) may take this long
PATH_ENV = "AUTOGRADER_SELFCHECK_PATH"
_KIT = str(Path(__file__).resolve().parent.parent)
_CHECKS: dict[str, list[CheckFn]] = {}
_LOADED: dict[Path, float] = {}  # the course's check files read so far, with their modification times
_registering: dict[str, list[CheckFn]] | None = None  # while a check module loads: what it registers


def selfcheck(blank: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn(candidate)`` as a check of ``blank``; its docstring's first line says what it checks."""

    def register(fn: CheckFn) -> CheckFn:
        checks = (_CHECKS if _registering is None else _registering).setdefault(blank, [])
        # the same check read again (its module imported a second time, by another path): replaced, not doubled
        same = [i for i, known in enumerate(checks) if known.__qualname__ == fn.__qualname__]
        if same:
            checks[same[0]] = fn
        else:
            checks.append(fn)
        return fn

    return register


def load_module(path: Path) -> ModuleType:
    """A hand-written self-check module, loaded by path (its checks register themselves as it runs)."""
    spec = importlib.util.spec_from_file_location(f"_selfcheck_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def folders() -> list[Path]:
    """Where the course's check files are looked for: the folders of $AUTOGRADER_SELFCHECK_PATH, then the working
    folder (the notebook's own, whose checks win)."""
    given = os.environ.get(PATH_ENV, "")
    return [*(Path(p) for p in given.split(os.pathsep) if p), Path.cwd()]


def _load_course_checks() -> None:
    """Register the checks of every ``*_selfcheck.py`` and ``*_selfcheck.json`` in :func:`folders` (once each,
    again when the file changed)."""
    from autograder.selfcheck.declared import checks_of

    for folder in folders():
        for path in sorted(folder.glob("*_selfcheck.py")) + sorted(folder.glob("*_selfcheck.json")):
            stamp = path.stat().st_mtime
            if _LOADED.get(path) == stamp:
                continue
            _LOADED[path] = stamp
            if path.suffix == ".py":
                global _registering
                _registering = {}
                try:
                    load_module(path)
                    _CHECKS.update(_registering)
                finally:
                    _registering = None
            else:
                for blank, checks in checks_of(json.loads(path.read_text(encoding="utf-8"))).items():
                    _CHECKS[blank] = checks


@dataclass
class Report:
    blank: str
    lines: list[tuple[bool, str, str]] = field(default_factory=list)  # (passed, what, why)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return bool(self.lines) and all(ok for ok, _, _ in self.lines)

    def __str__(self) -> str:
        out = []
        for ok, what, why in self.lines:
            out.append(f"  {'✓' if ok else '✗'} {what}" + ("" if ok else f"\n      {why}"))
        verdict = (_("{blank}: all self-checks pass ({passed}/{total})") if self.passed else
                   _("{blank}: some self-checks fail ({passed}/{total})"))
        head = verdict.format(blank=self.blank, passed=sum(ok for ok, _w, _y in self.lines), total=len(self.lines))
        return "\n".join([head, *out])


class TookTooLong(Exception):
    """A check ran past its time limit."""


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    """Interrupt the check after ``seconds`` (main thread only), keeping an outer timer (the grader's cell
    limit, when a check cell runs in a sandbox) running and never extending it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    outer, _interval = signal.getitimer(signal.ITIMER_REAL)
    started = time.monotonic()

    def expire(signum: int, frame: Any) -> None:
        raise TookTooLong()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, min(seconds, outer) if outer else seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # what is left of the outer limit (at least a moment, so it still fires)
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - started), 1e-3))
        if outer and outer <= seconds and time.monotonic() - started >= outer:
            signal.raise_signal(signal.SIGALRM)


def _raised(error: BaseException) -> str:
    """What the student's code raised, and where: the last frame outside the kit and the libraries."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if not (f.filename.startswith(_KIT) or "site-packages" in f.filename or f.filename.startswith("<frozen"))]
    said = {"kind": type(error).__name__, "error": error}
    if not frames:
        return _("your code raised {kind}: {error}").format(**said)
    f = frames[-1]
    if not f.line:
        return _("your code raised {kind}: {error} (in {function}, line {line})").format(
            **said, function=f.name, line=f.lineno)
    return _("your code raised {kind}: {error} (in {function}, line {line}: `{code}`)").format(
        **said, function=f.name, line=f.lineno, code=f.line.strip())


def title(check: CheckFn) -> str:
    """What ``check`` checks, in the current language: a declared check's own title (autograder.selfcheck.declared),
    else the first line of its docstring through the course's catalogue."""
    made = getattr(check, "title", None)
    return made() if callable(made) else course_text((check.__doc__ or check.__name__).strip().splitlines()[0])


def _speak() -> None:
    """In a student's kernel, the language of the release beside the notebook (autograder.i18n.from_environment:
    $AUTOGRADER_LANGUAGE, else the locale/ folder of a release folder, one with self-checks; the course directory's
    own locale/ is not a student's), its messages from that folder's catalogue; a process that chose a language (the
    grader, a test) keeps it."""
    from autograder.i18n import chosen, from_environment, use

    if chosen():
        return
    released = [f for f in reversed(folders()) if (f / "locale").is_dir() and any(f.glob("*_selfcheck.*"))]
    course = released[0] if released else Path.cwd()  # a release folder: its notebook, self-checks and catalogue
    use(from_environment(course) if released or os.environ.get("AUTOGRADER_LANGUAGE") else "en", course)


def check(candidate: Any, blank: str | None = None) -> None:
    """Run the self-checks of ``candidate`` (a function or class you wrote) and print what passes and why not."""
    print(run_checks(candidate, blank))


def run_checks(candidate: Any, blank: str | None = None) -> Report:
    """The self-checks of ``candidate``, as a :class:`Report`, in the student's language (see :func:`_speak`)."""
    _speak()
    _load_course_checks()
    name = blank or getattr(candidate, "__name__", None)
    if name not in _CHECKS:
        where = ", ".join(str(f) for f in folders())
        raise ValueError(_("no self-checks for {name} in {where}: pass the function itself, e.g. check(mse_grads), "
                           "and run the notebook in its own folder, beside its *_selfcheck file").format(
                               name=repr(name), where=where))
    report = Report(name)
    start = time.perf_counter()
    for fn in _CHECKS[name]:
        what = title(fn)
        try:
            with warnings.catch_warnings(), _time_limit(CHECK_SECONDS):
                warnings.simplefilter("ignore")
                fn(candidate)
        except NotImplementedError:
            report.lines.append((False, what, _("not written yet: the cell still raises NotImplementedError.")))
            break
        except AssertionError as failure:
            report.lines.append((False, what, str(failure)))
        except TookTooLong:
            report.lines.append((False, what, _("your code did not finish within {seconds} s: an endless loop, or "
                                                "far too many steps?").format(seconds=f"{CHECK_SECONDS:g}")))
        except Exception as error:  # the student's code raised: say where, not a traceback
            report.lines.append((False, what, _raised(error)))
        else:
            report.lines.append((True, what, ""))
    report.seconds = time.perf_counter() - start
    return report


class SelfCheckFailed(AssertionError):
    """A blank fails its self-checks (raised by :func:`require`). Jupyter shows only the message, wrapped to 80
    columns (IPython's ``_render_traceback_``): no frame of the kit, nothing cut off by ``nbgrader validate``."""

    def _render_traceback_(self) -> list[str]:
        import textwrap

        lines = f"{type(self).__name__}: {self}".splitlines()
        wrapped = [w for line in lines for w in textwrap.wrap(
            line, 80, subsequent_indent=" " * (len(line) - len(line.lstrip()) + 4), break_on_hyphens=False) or [""]]
        return ["\x1b[0;31m" + wrapped[0].replace(":", ":\x1b[0m", 1), *wrapped[1:]]


def _in_interactive_kernel() -> bool:
    """Whether a person's Jupyter kernel runs this (JupyterLab's Run All, a notebook client), rather than nbgrader's
    Validate or autograde (which set ``NBGRADER_EXECUTION``), plain Python, terminal IPython or the grader's sandbox
    (none of which has a kernel)."""
    if os.environ.get("NBGRADER_EXECUTION"):
        return False
    import sys

    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def require(candidate: Any, blank: str | None = None) -> None:
    """Raise :class:`SelfCheckFailed` (an ``AssertionError`` naming the blank and the failing checks) unless
    ``candidate`` passes all its self-checks; print one line when it does. A release notebook's test cells call
    it, so nbgrader's Validate (and ``nbgrader validate``) fails a notebook with a blank that is not written yet
    or fails its self-checks. Passing is not full marks: the hidden tests decide those after submission.

    In a kernel a person runs (JupyterLab) outside nbgrader, a failure is printed instead, as the error would
    show (red, on stderr), without raising: an error would stop Run All at the first blank that fails, before the
    check cells of the later blanks could show their verdicts."""
    __tracebackhide__ = True  # pytest shows the message, not this frame
    report = run_checks(candidate, blank)
    if report.passed:
        print(_("{blank}: all {total} self-checks pass (the hidden tests decide the marks)").format(
            blank=report.blank, total=len(report.lines)))
        return
    failed = [(what, why) for ok, what, why in report.lines if not ok]
    if len(report.lines) == 1 and failed[0][1] == _("not written yet: the cell still raises NotImplementedError."):
        message = _("{blank} is not written yet: the cell still raises NotImplementedError.").format(blank=report.blank)
    else:
        lines = [_("{blank} fails {failed} of its {total} self-checks (run check({blank}) for the hints):").format(
            blank=report.blank, failed=len(failed), total=len(report.lines))]
        lines += ["  ✗ " + _("{check}: {why}").format(check=what, why=why) for what, why in failed]
        message = "\n".join(lines)
    failure = SelfCheckFailed(message)
    if _in_interactive_kernel():
        import sys

        shown = [*failure._render_traceback_(),
                 _("(nbgrader's Validate fails while this fails; Run All goes on, to the verdicts of the later "
                   "checks)")]
        print("\n".join(shown), file=sys.stderr)
        return
    raise failure from None
