"""The course's late rules: ``late.toml`` in the course directory (its format: :mod:`autograder.after.late`).

Read once per run by :func:`load_rules`; anything it cannot use (a misspelt key, a share above 1, a date-time without
a time zone, broken TOML) is a :class:`LateRulesError` whose message is one line naming the file, the place in it and
what is wrong: a rule silently ignored would be a penalty silently not applied.
"""
from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

RULES_FILE = "late.toml"
UNITS = {"day": timedelta(days=1), "hour": timedelta(hours=1)}
SETTINGS = ("grace", "per", "share", "cap", "cutoff")
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(w|d|h|m|s)\s*")
_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


class LateRulesError(ValueError):
    """late.toml cannot be used; the message is one line naming the file, the place in it and what is wrong."""


# -- the rules ---------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    """One assignment's late rule."""
    due: datetime | None = None
    grace: timedelta = timedelta(0)
    per: str = "day"
    share: float = 0.0
    cap: float = 1.0
    cutoff: timedelta | datetime | None = None  # after the due date, or a moment

    def cutoff_after(self, due: datetime) -> datetime | None:
        return due + self.cutoff if isinstance(self.cutoff, timedelta) else self.cutoff


@dataclass(frozen=True)
class Extension:
    due: datetime | None = None  # a new due date, or
    extra: timedelta | None = None  # more time


@dataclass(frozen=True)
class LateRules:
    path: Path
    default: Rule
    assignments: dict[str, Rule] = field(default_factory=dict)
    extensions: dict[tuple[str, str], Extension] = field(default_factory=dict)  # (student, assignment) ->

    def rule(self, assignment: str) -> Rule:
        return self.assignments.get(assignment, self.default)

    def student_dates(self, student: str, assignment: str, due: datetime,
                      cutoff: datetime | None) -> tuple[datetime, datetime | None, bool]:
        """The student's due date and cut-off (an extension moves both by the same time), and whether extended."""
        extension = self.extensions.get((student, assignment))
        if extension is None:
            return due, cutoff, False
        new_due = extension.due if extension.due is not None else due + (extension.extra or timedelta(0))
        return new_due, (cutoff + (new_due - due) if cutoff is not None else None), True

    def unknown_assignments(self, known: Iterable[str]) -> list[str]:
        """The assignments late.toml names that the course does not have (a misspelt name gets no rule)."""
        named = set(self.assignments) | {a for _s, a in self.extensions}
        return sorted(named - set(known))


def load_rules(where: str | Path) -> LateRules | None:
    """The rules in ``where`` (late.toml, or a course directory holding one); None when there is no such file."""
    path = Path(where)
    path = path / RULES_FILE if path.is_dir() else path
    if not path.is_file():
        return None
    try:
        return _rules(path, tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise LateRulesError(f"{path}: not readable TOML ({error})") from None
    except LateRulesError as error:  # where in the file, and what is wrong
        raise LateRulesError(f"{path}: {error}") from None


def _rules(path: Path, data: dict[str, Any]) -> LateRules:
    _table("the file", data, ("late", "assignments", "extensions"))
    default = _rule("[late]", data.get("late", {}), Rule(), SETTINGS)
    assignments = {name: _rule(f'[assignments."{name}"]', table, default, ("due",) + SETTINGS)
                   for name, table in _table("[assignments]", data.get("assignments", {})).items()}
    extensions = {(student, assignment): _extension(f'[extensions."{student}"] "{assignment}"', given)
                  for student, table in _table("[extensions]", data.get("extensions", {})).items()
                  for assignment, given in _table(f'[extensions."{student}"]', table).items()}
    return LateRules(path, default, assignments, extensions)


def _rule(where: str, table: Any, base: Rule, keys: tuple[str, ...]) -> Rule:
    given = _table(where, table, keys)
    rule = Rule(**{**base.__dict__, **{key: _SETTING[key](f"{where} {key}", v) for key, v in given.items()}})
    if isinstance(rule.cutoff, datetime) and rule.due is not None and rule.cutoff <= rule.due:
        raise LateRulesError(f"{where} cutoff: {rule.cutoff.isoformat()} is not after the due date")
    return rule


def _extension(where: str, table: Any) -> Extension:
    given = _table(where, table, ("due", "extra"))
    if len(given) != 1:
        raise LateRulesError(f"{where}: give either due (a new due date) or extra (more time)")
    if "due" in given:
        return Extension(due=_moment(f"{where} due", given["due"]))
    return Extension(extra=_duration(f"{where} extra", given["extra"]))


def _table(where: str, value: Any, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """``value``, a TOML table; with ``keys``, one with no other key (a misspelt key ignored is a rule not applied)."""
    if not isinstance(value, dict):
        raise LateRulesError(f"{where} is not a table")
    unknown = sorted(set(value) - set(keys)) if keys is not None else []
    if unknown:
        raise LateRulesError(f"{where}: unknown key {unknown[0]!r} (expected {', '.join(keys or ())})")
    return value


def _unit(where: str, value: Any) -> str:
    if value not in UNITS:
        raise LateRulesError(f"{where}: {value!r} is not \"day\" or \"hour\"")
    return value


def _cutoff(where: str, value: Any) -> timedelta | datetime | None:
    """A duration after the due date, a moment, or false: none (for an assignment, where [late] sets one)."""
    if value is False:
        return None
    return _duration(where, value) if isinstance(value, str) and _DURATION.match(value) else _moment(where, value)


def _fraction(where: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise LateRulesError(f"{where}: {value!r} is not a share between 0 and 1 (0.1 is 10 %)")
    return float(value)


def _duration(where: str, value: Any) -> timedelta:
    text = value if isinstance(value, str) else ""
    parts = _DURATION.findall(text)
    if not parts or "".join(_DURATION.sub("", text).split()):
        raise LateRulesError(f"{where}: {value!r} is not a duration such as \"15m\", \"48h\" or \"1d 12h\"")
    return timedelta(seconds=sum(float(n) * _SECONDS[unit] for n, unit in parts))


def _moment(where: str, value: Any) -> datetime:
    """A date-time with its time zone: a TOML offset date-time, or an ISO 8601 string with an offset, or followed by
    an IANA zone ("2025-03-07 23:59 Europe/Paris": the local time there, summer time included)."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    moment = value
    if isinstance(value, str):
        local, _space, zone = value.strip().rpartition(" ")
        try:
            moment = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)) if "/" in zone or zone == "UTC" \
                else datetime.fromisoformat(value.strip())
        except (ValueError, ZoneInfoNotFoundError):
            moment = None
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        return moment
    if isinstance(moment, (datetime, date)):
        raise LateRulesError(f"{where}: {value} has no time zone (write 2025-03-07T23:59:00+01:00, or "
                             f"\"2025-03-07 23:59 Europe/Paris\")")
    raise LateRulesError(f"{where}: {value!r} is not an ISO 8601 date-time with a time zone")


_SETTING = {"due": _moment, "grace": _duration, "per": _unit, "share": _fraction, "cap": _fraction, "cutoff": _cutoff}

_SETTING = {"due": _moment, "grace": _duration, "per": _unit, "share": _fraction, "cap": _fraction, "cutoff": _cutoff}
