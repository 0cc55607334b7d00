"""What the commands share: the consoles (names printed as they are, never read as rich markup), the progress bar,
and the errors that end a command with one line and exit status 2."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autograder.grading.course import CourseError
from autograder.grading.discover import InputError

# markup and emoji off: file and folder names (a student folder "[red]x" or ":smile:") print as they are
console = Console(highlight=False, markup=False, emoji=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


COURSE_HELP = ("the course directory (default: $AUTOGRADER_COURSE, else the working folder or one above it, else "
               "this checkout)")
LANG_HELP = ("what students read is written in, e.g. zh_CN (default: the course's language, from its course.toml, "
             "else English)")


def course_option(parser: argparse.ArgumentParser) -> None:
    """The ``--course DIR`` option every command that reads a course has."""
    parser.add_argument("--course", type=Path, default=None, metavar="DIR", help=COURSE_HELP)


class CommandError(Exception):
    """A command cannot go on; the message is one line saying why and what to do."""


# The errors of modules a command may not load (each raised only by its own module)
LAZY_ERRORS = (("autograder.authoring.build", "BuildError"), ("autograder.grading.policy", "PolicyError"),
               ("autograder.i18n", "LanguageError"),
               ("autograder.platforms.gradescope", "BundleError"))


def user_errors() -> tuple[type[Exception], ...]:
    """Every error a command reports as one line (exit 2): bad input, an unusable course, a bundle or a build. An
    error class can only have been raised once its module is loaded, so a module not loaded is not imported here:
    one of them imports torch, seconds for nothing before a one-line error."""
    found: list[type[Exception]] = [InputError, CourseError, CommandError]
    for module, name in LAZY_ERRORS:
        if module in sys.modules:
            found.append(getattr(sys.modules[module], name))
    return tuple(found)


@contextmanager
def progress_bar(label: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on the terminal, as ``grade`` shows while grading (none with --quiet, or when the output is not
    a terminal: a log gets no control characters); yields ``tick(done, total)``."""
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                   transient=True, disable=quiet or not console.is_terminal)
    task = bar.add_task(label, total=None)

    def tick(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    with bar:
        yield tick
