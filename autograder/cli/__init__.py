"""``python -m autograder COMMAND``: one module per command (or family of commands), each adding its parser and
the function that runs it; this module dispatches and turns a user's error into one line and exit status 2.

    grade         autograder.cli.grade        grade notebooks or folders of submissions
    report        autograder.cli.report       the class report and feedback pages of a results folder; the shards'
                                              scores merged into scores.csv
    gradescope    autograder.cli.gradescope   the Gradescope bundle; gradescope-run grades inside it
    new, build, check-course, audit           autograder.cli.authoring
    i18n          autograder.cli.i18n         the message catalogues of the course (and the engine)
    export, similarity  autograder.cli.after      marks into an LMS; the pairs who handed in the same code
"""
from __future__ import annotations

import argparse
import os
import sys

from autograder.cli import after, authoring, grade, gradescope, i18n, report
from autograder.cli.common import errors, user_errors

COMMANDS = (grade, report, gradescope, authoring, i18n, after)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="Grade PyTorch exercise notebooks, and write and check a course.",
                                     epilog="`python -m autograder COMMAND --help` lists a command's options.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     title="commands")
    for module in COMMANDS:
        module.add_parser(commands)
    return parser


def _secret_off_the_command_line() -> None:
    """A command line is readable by every process of the host (/proc/PID/cmdline), a sandbox's included where
    it has no PID namespace: start again with ``--secret`` moved into the environment, which is not."""
    argv = sys.argv[1:]
    for i, arg in enumerate(argv):
        if arg == "--secret" and i + 1 < len(argv):
            rest, secret = argv[:i] + argv[i + 2:], argv[i + 1]
        elif arg.startswith("--secret="):
            rest, secret = argv[:i] + argv[i + 1:], arg.split("=", 1)[1]
        else:
            continue
        os.environ["AUTOGRADER_SECRET"] = secret
        os.execv(sys.executable, [sys.executable, "-m", "autograder", *rest])


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[0].endswith(("__main__.py", "torch-autograder")):
        _secret_off_the_command_line()
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except user_errors() as error:
        errors.print(f"error: {error}", markup=False)
        return 2
    except KeyboardInterrupt:
        errors.print("interrupted: results written so far are complete files; rerun to grade the rest")
        return 130
