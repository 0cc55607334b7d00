"""What the commands share: the consoles (names printed as they are, never read as rich markup), and the errors
that end a command with one line and exit status 2."""
from __future__ import annotations

from rich.console import Console

from autograder.grading.course import CourseError
from autograder.grading.discover import InputError

# markup and emoji off: file and folder names (a student folder "[red]x" or ":smile:") print as they are
console = Console(highlight=False, markup=False, emoji=False)
errors = Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False)


class CommandError(Exception):
    """A command cannot go on; the message is one line saying why and what to do."""


# Every error a command reports as one line (exit 2): bad input, an unusable course, a bundle or a build.
def user_errors() -> tuple[type[Exception], ...]:
    from autograder.authoring.build import BuildError
    from autograder.grading.policy import PolicyError
    from autograder.platforms.gradescope import BundleError

    return InputError, CourseError, CommandError, BundleError, BuildError, PolicyError
