"""``python -m autograder i18n extract|check``: the message catalogues of a course (and of the engine).

    python -m autograder i18n extract --language zh_CN   # gather the course's messages into locale/zh_CN/.../course.po
    python -m autograder i18n check                       # untranslated, fuzzy or missing messages, per catalogue

A translator edits the ``.po`` files; ``extract`` keeps their translations and adds what is new (see
docs/translating.md).
"""
from __future__ import annotations

import argparse

from autograder.cli.common import CommandError, console, course_option
from autograder.grading.course import locate


def add_parser(commands: argparse._SubParsersAction) -> None:
    i18n = commands.add_parser(
        "i18n", help="gather and check the message catalogues of the course (docs/translating.md)",
        description="Gather the course's messages (its hidden tests, self-checks and notebooks) into its gettext "
                    "catalogues, or check them: nothing untranslated, fuzzy or missing.")
    i18n.set_defaults(run=run)
    i18n.add_argument("action", choices=("extract", "check"), help="extract: update the catalogues; check: list "
                                                                   "what is untranslated or missing")
    i18n.add_argument("--language", default=None, metavar="LANG",
                      help="the language (default: every language the course has a catalogue for)")
    i18n.add_argument("--engine", action="store_true",
                      help="the engine's catalogue too (in the kit's own repository: autograder/locale/)")
    course_option(i18n)


def run(args: argparse.Namespace) -> int:
    from autograder.authoring import catalogues
    from autograder.i18n import ENGINE_LOCALE, available, normalize

    course = locate(args.course)
    languages = [normalize(args.language)] if args.language else [x for x in available(course.root) if x != "en"]
    if not languages:
        raise CommandError("no language to work on: pass --language LANG (e.g. zh_CN)")
    targets = [(course.root / "locale", "course", catalogues.course_messages(course.root))]
    if args.engine:
        targets.append((ENGINE_LOCALE, "autograder", catalogues.engine_messages()))
    problems = 0
    for language in languages:
        for folder, domain, messages in targets:
            path = catalogues.po_path(folder, language, domain)
            if args.action == "extract":
                catalog = catalogues.update(path, language, domain, messages)
                untranslated = sum(1 for m in catalog if m.id and not m.string)
                console.print(f"{path}: {len(catalog)} messages, {untranslated} untranslated", markup=False)
                continue
            health = catalogues.health(path, language, domain, messages)
            for kind in ("missing", "untranslated", "fuzzy", "obsolete"):
                for text in getattr(health, kind):
                    console.print(f"{path}: {kind}: {text[:120]!r}", markup=False, soft_wrap=True)
                    problems += 1
    if args.action == "check":
        console.print(f"{problems} problem(s) in the catalogues", markup=False)
    return 1 if problems else 0
