"""Messages in the course's language, from gettext catalogues (``.po``), read with Babel where they are used.

Two domains, each a ``.po`` per language that a translator edits (never the code):

- the engine's, ``autograder/locale/<lang>/LC_MESSAGES/autograder.po`` (in the wheel): what the kit itself says
  (the checks' sentences, the marking policy's notes, the grader's messages, the pages' and report's words);
- the course's, ``<course>/locale/<lang>/LC_MESSAGES/course.po``: what its hidden tests and self-checks say, and the
  text of its notebooks (copied beside each release notebook, for the self-checks students run).

Code marks a message with :func:`_` (engine) or :func:`course_text` (course) and fills its placeholders after
translation, so that a number, a shape, a dtype or a name is never part of the text::

    _("expected shape {expected}, got {got}.").format(expected=..., got=...)

:data:`N_` marks a message kept in a table and translated where it is used. English is the source language: with
no catalogue, or a message not in it, the English text is returned unchanged.

The language is set per process (:func:`use`): by ``grade``/``report``/``gradescope`` from the course directory's
``course.toml`` or ``--language``, and in a student's notebook from ``$AUTOGRADER_LANGUAGE``, else the catalogue
beside the notebook.
"""
from __future__ import annotations

import functools
import os
import tomllib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ENGINE_LOCALE = Path(__file__).resolve().parent / "locale"
LANGUAGE_ENV = "AUTOGRADER_LANGUAGE"
SOURCE_LANGUAGE = "en"
_state: dict[str, object] = {"language": SOURCE_LANGUAGE, "course": None, "chosen": False}


class LanguageError(ValueError):
    """course.toml cannot be read; one line saying why."""


def normalize(language: str | None) -> str:
    """'zh-CN', 'zh_cn', 'zh_CN.UTF-8' -> 'zh_CN'; 'en_US', 'EN' -> 'en'; '' or None -> 'en'."""
    if not language:
        return SOURCE_LANGUAGE
    base = language.split(".")[0].replace("-", "_")
    parts = base.split("_")
    if parts[0].lower() == "en":
        return SOURCE_LANGUAGE
    return parts[0].lower() + ("_" + parts[1].upper() if len(parts) > 1 else "")


def course_language(course_root: Path) -> str:
    """The language a course directory is set to (``course.toml``: ``[course] language = "zh_CN"``); English."""
    path = Path(course_root) / "course.toml"
    if not path.is_file():
        return SOURCE_LANGUAGE
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("course", {})
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise LanguageError(f"{path}: not readable TOML ({error})") from None
    return normalize(table.get("language"))


def available(course_root: Path | None = None) -> list[str]:
    """The languages with a catalogue: the engine's (and the course's, when given), English first."""
    found = {p.name for p in ENGINE_LOCALE.iterdir() if p.is_dir()} if ENGINE_LOCALE.is_dir() else set()
    if course_root is not None and (Path(course_root) / "locale").is_dir():
        found |= {p.name for p in (Path(course_root) / "locale").iterdir() if p.is_dir()}
    return [SOURCE_LANGUAGE, *sorted(found - {SOURCE_LANGUAGE})]


def use(language: str | None, course_root: Path | str | None = None) -> str:
    """Speak ``language`` in this process from now on (the course's catalogue from ``course_root``); returns it."""
    _state["language"] = normalize(language)
    _state["course"] = Path(course_root).resolve() if course_root is not None else None
    _state["chosen"] = True
    return str(_state["language"])


def chosen() -> bool:
    """Whether this process chose its language (:func:`use`); a student's kernel has not until its first check."""
    return bool(_state["chosen"])


@contextmanager
def use_language(language: str | None, course_root: Path | str | None = None) -> Iterator[str]:
    saved = dict(_state)
    try:
        yield use(language, course_root)
    finally:
        _state.update(saved)


def current() -> str:
    return str(_state["language"])


@functools.lru_cache(maxsize=32)
def _catalogue(path: Path, stamp: float) -> dict[str, str]:
    """msgid -> msgstr of a .po file: translated, not fuzzy, not obsolete (``stamp``: its mtime, so an edit is read)."""
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy and isinstance(m.id, str)}


def _lookup(folder: Path | None, domain: str, message: str) -> str:
    language = current()
    if language == SOURCE_LANGUAGE or folder is None:
        return message
    for candidate in (language, language.split("_")[0]):
        path = folder / candidate / "LC_MESSAGES" / f"{domain}.po"
        if path.is_file():
            return _catalogue(path, path.stat().st_mtime).get(message, message)
    return message


def _(message: str) -> str:
    """``message`` (an engine message) in the current language."""
    return _lookup(ENGINE_LOCALE, "autograder", message)


def course_text(message: str) -> str:
    """``message`` (a course message: its hidden tests, self-checks, notebooks) in the current language."""
    course = _state["course"]
    return _lookup(Path(course) / "locale" if course is not None else None, "course", message)


def any_text(message: str) -> str:
    """``message`` translated by the engine's catalogue, else by the course's: for words that cross from one to the
    other (a hint a hidden test hands to one of the engine's fingerprints)."""
    translated = _(message)
    return translated if translated != message else course_text(message)


def N_(message: str) -> str:
    """Marks ``message`` for the catalogue without translating it (a table's entry, translated where it is used)."""
    return message


def from_environment(folder: Path | None = None) -> str:
    """A student's language: $AUTOGRADER_LANGUAGE, else the one catalogue beside the notebook (``folder/locale``)."""
    if os.environ.get(LANGUAGE_ENV):
        return normalize(os.environ[LANGUAGE_ENV])
    folder = folder or Path.cwd()
    locale = folder / "locale"
    languages = sorted(p.name for p in locale.iterdir() if p.is_dir()) if locale.is_dir() else []
    return normalize(languages[0]) if len(languages) == 1 else SOURCE_LANGUAGE
