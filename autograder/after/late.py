"""Late work: the course's rules, when a submission was handed in, and the share of its mark that lateness costs.

The rules are ``late.toml`` in the course directory (:func:`load_rules`); no file, no late rule::

    [late]                  # the defaults of every assignment; an [assignments."<name>"] table overrides any of them
    grace = "15m"           # at most this late counts as on time (default "0s")
    per = "day"             # "day" or "hour": the penalty counts each started 24 hours, or each started hour, late
    share = 0.1             # the share of the mark lost per started day or hour (0.1 is 10 %; default 0)
    cap = 0.5               # the most that lateness costs, as a share of the mark (default 1)
    cutoff = "7d"           # later than the due date plus this (or than a date-time), the mark is 0 (default: false)

    [assignments."02_linear_regression"]
    due = 2025-03-07T23:59:00+01:00      # a TOML date-time with its offset, or a string: "2025-03-07T23:59:00Z",
    share = 0.2                          # "2025-03-07 23:59 Europe/Paris" (an IANA zone); never without a zone

    [extensions."alice"]                                       # per student (the course's id) and assignment
    "02_linear_regression" = { extra = "48h" }                 # more time
    "03_logistic_regression" = { due = 2025-03-20T12:00:00Z }  # or a new due date

Durations are a number and a unit, or several: "90s", "15m", "2h", "3d", "1w", "1d 12h". Lateness counts from the
student's due date: a submission within the grace period is on time, one later loses ``share`` for every started
day (or hour) after the due date (the grace period is forgiveness, not a later due date), at most ``cap``; one later
than the cut-off gets 0. An extension moves the due date and the cut-off together. An assignment with no ``due``
(in late.toml, or else Gradescope's ``due_date``) has no late rule.

When a submission was handed in (:func:`submission_time`): nbgrader's ``timestamp.txt`` beside the notebook
(``<submitted>/<student>/<assignment>/timestamp.txt``, read exactly as nbgrader 0.9 reads it, see
:func:`nbgrader_time`), else Gradescope's ``submission_metadata.json`` (``created_at``; its assignment's
``due_date`` and ``late_due_date`` stand in for a due date and a cut-off that late.toml does not give), else none,
and the penalty says so. :func:`penalty` gives the raw mark, the share lost, the final mark and the sentence for the
student's page; :data:`LatePenaltyPlugin` (``c.AssignLatePenalties.plugin_class``) applies the same rules inside
``nbgrader autograde``, so that ``nbgrader export`` shows the penalty the kit computes.
"""
from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable

from autograder.i18n import N_, _

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


# -- when it was handed in ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubmissionTime:
    at: datetime | None  # aware; None when the platform gave none
    source: str = ""  # "timestamp.txt", "submission_metadata.json", or "" (none, or given directly)
    due: datetime | None = None  # Gradescope's due_date, used when late.toml gives none
    late_due: datetime | None = None  # Gradescope's late_due_date: the cut-off when late.toml gives none
    users: tuple[str, ...] = ()  # Gradescope's users' e-mails (a group has several)
    note: str = ""  # why there is no time, or what is doubtful about it (translated)


def submission_time(folder: Path, metadata: Path | None = None) -> SubmissionTime:
    """When the submission in ``folder`` was handed in: nbgrader's timestamp.txt there, else Gradescope's
    submission_metadata.json (``metadata``, e.g. /autograder/submission_metadata.json, or one in ``folder``)."""
    if (folder / "timestamp.txt").is_file():
        return nbgrader_time(folder / "timestamp.txt")
    for candidate in (metadata, folder / "submission_metadata.json"):
        if candidate is not None and candidate.is_file():
            return gradescope_time(candidate)
    return SubmissionTime(None, note=_("no submission time: no late rule applied"))


def nbgrader_time(path: Path) -> SubmissionTime:
    """timestamp.txt as ``nbgrader autograde`` reads it (CourseDirectory.get_existing_timestamp, utils.parse_utc):
    "2015-02-02 14:58:23.948203 America/Los_Angeles", its default "%Y-%m-%d %H:%M:%S.%f %Z" in UTC, or anything
    dateutil reads. Read the same way, whatever nbgrader gets wrong, so that the kit and nbgrader agree; what it
    gets wrong is said in the note (a zone abbreviation such as PDT or CEST that it takes as UTC)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        return _unreadable(path, type(error).__name__)
    if not text:  # nbgrader: "Empty timestamp file", and no time
        return SubmissionTime(None, note=_("no submission time: no late rule applied"))
    try:
        at, doubt = _parse_like_nbgrader(text)
    except (ValueError, OverflowError) as error:  # nbgrader stops: "Invalid timestamp string"
        return _unreadable(path, str(error).splitlines()[0] if str(error) else type(error).__name__)
    note = ""
    if doubt:
        note = _("timestamp.txt gives the time zone {zone}, which nbgrader reads as {reading}: the time is read as "
                 "nbgrader reads it.").format(zone=doubt[0], reading=doubt[1])
    return SubmissionTime(at, "timestamp.txt", note=note)


def _parse_like_nbgrader(text: str) -> tuple[datetime, tuple[str, str] | None]:
    """nbgrader 0.9's parse_utc, made aware: "<date> <time> <zone>" with the zone an integer (taken as seconds east
    of UTC) or a name for dateutil.tz.gettz (an unknown name gives no zone: UTC); else dateutil's own parsing; a
    time with no zone is UTC. Also what in the zone nbgrader misreads (zone, how read), or None."""
    from dateutil import parser, tz

    words = text.split(" ")
    doubt = None
    if len(words) == 3:
        zone: Any
        try:
            zone = int(words[2])
            if zone:
                doubt = (words[2], f"{zone} s")
        except ValueError:
            zone = tz.gettz(words[2])
            if zone is None:
                doubt = (words[2], "UTC")
        moment = parser.parse(" ".join(words[:2] + ["TZ"]), tzinfos={"TZ": zone})
    else:
        moment = parser.parse(text)
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc), doubt


def gradescope_time(path: Path) -> SubmissionTime:
    """Gradescope's submission_metadata.json: ``created_at``, and the assignment's ``due_date``/``late_due_date``
    (ISO 8601 with an offset, e.g. "2018-07-01T14:22:32.365935-07:00"; a date may be null)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        assignment = data.get("assignment") or {}
        at = _iso(data["created_at"])
        return SubmissionTime(at, "submission_metadata.json", _iso(assignment.get("due_date")),
                              _iso(assignment.get("late_due_date")),
                              tuple(str(u.get("email")) for u in data.get("users") or [] if u.get("email")))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        return _unreadable(path, type(error).__name__)


def _iso(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(value)  # TypeError for what is not a string: unreadable
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _unreadable(path: Path, why: str) -> SubmissionTime:
    return SubmissionTime(None, note=_("{file} does not give a readable submission time ({why}): no late rule "
                                       "applied").format(file=path.name, why=why))


# -- the penalty -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Penalty:
    raw: float  # the mark the work earned
    share: float  # the share of it lost to lateness (0 to 1)
    final: float  # the mark that counts
    sentence: str  # how it was computed, for the student's page ("" when the course has no late rules)
    applied: bool = False  # whether a late rule applied (False: no rules, no time, no due date)
    submitted_at: datetime | None = None
    due: datetime | None = None  # the student's own due date

    @property
    def points(self) -> float:
        """The points lost: nbgrader's late_submission_penalty."""
        return round(self.raw - self.final, 6)

    def to_json(self) -> dict[str, Any]:
        """For results' extra_data["late"] (what :mod:`autograder.after.export` reads)."""
        return {"raw": self.raw, "penalty": self.points, "final": self.final, "share": self.share,
                "submitted_at": self.submitted_at.isoformat() if self.submitted_at else None,
                "due": self.due.isoformat() if self.due else None, "sentence": self.sentence}


def penalty(rules: LateRules | None, assignment: str, student: str,
            submitted_at: datetime | SubmissionTime | None, raw: float) -> Penalty:
    """What lateness costs ``student``'s ``raw`` mark on ``assignment``. ``submitted_at`` is an aware datetime (a naive
    one is UTC, as nbgrader's), a :class:`SubmissionTime` (from :func:`submission_time`), or None."""
    if isinstance(submitted_at, datetime) and submitted_at.tzinfo is None:
        submitted_at = submitted_at.replace(tzinfo=timezone.utc)  # nbgrader's gradebook keeps naive UTC times
    when = submitted_at if isinstance(submitted_at, SubmissionTime) else SubmissionTime(submitted_at)
    raw = float(raw)
    if rules is None:
        return Penalty(raw, 0.0, raw, "")
    if when.at is None:
        return Penalty(raw, 0.0, raw, when.note or _("no submission time: no late rule applied"))
    rule = rules.rule(assignment)
    due = rule.due or when.due
    if due is None:
        return Penalty(raw, 0.0, raw, _("No due date is set for {assignment}: no late rule applied.").format(
            assignment=assignment), submitted_at=when.at)
    # Gradescope's late due date is the cut-off only where its due date is the one used
    cutoff = rule.cutoff_after(due) if rule.cutoff is not None else (when.late_due if rule.due is None else None)
    due, cutoff, extended = rules.student_dates(student, assignment, due, cutoff)
    case, units, share = _lateness(rule, when.at, due, cutoff)
    final = round(raw * (1 - share), 6) if share < 1 else 0.0
    sentence = _(SENTENCES[case, rule.per]).format(
        submitted=_moment_text(when.at, due), due=_moment_text(due, due), late=_duration_text(when.at - due),
        raw=_number(raw), final=_number(final), units=units, rate=_percent(rule.share), lost=_percent(share),
        cap=_percent(rule.cap), grace=_duration_text(rule.grace),
        cutoff=_moment_text(cutoff, due) if cutoff else "")
    if extended:
        sentence = _("Your due date for this assignment was extended to {due}.").format(
            due=_moment_text(due, due)) + " " + sentence
    return Penalty(raw, share, final, sentence, True, when.at, due)


def _lateness(rule: Rule, at: datetime, due: datetime, cutoff: datetime | None) -> tuple[str, int, float]:
    """Which case a submission is (SENTENCES), the started days or hours after the due date, and the share lost."""
    late = at - due
    step = UNITS[rule.per] // timedelta(microseconds=1)  # in whole microseconds: exactly 24 h is one day
    units = max(0, -(-(late // timedelta(microseconds=1)) // step))
    if late <= timedelta(0):
        return "on time", units, 0.0
    if late <= rule.grace:
        return "grace", units, 0.0
    if cutoff is not None and at > cutoff:
        return "cut-off", units, 1.0
    share = round(min(units * rule.share, rule.cap, 1.0), 9)  # 3 * 0.1 is 0.30000000000000004
    return ("capped" if units * rule.share > rule.cap else "per unit"), units, share


# How a penalty was computed: one whole sentence per case and unit (for the catalogue), filled after translation.
_ON_TIME = N_("Submitted on time ({submitted}; due {due}): no late penalty.")
_GRACE = N_("Submitted {late} after the due date ({due}), within the grace period of {grace}: no late penalty.")
_CUT_OFF = N_("Submitted {late} after the due date ({due}), after the cut-off ({cutoff}): the mark is 0 instead of "
              "{raw}.")
SENTENCES = {
    **{(case, per): text for case, text in (("on time", _ON_TIME), ("grace", _GRACE), ("cut-off", _CUT_OFF))
       for per in UNITS},
    ("per unit", "day"): N_("Submitted {late} after the due date ({due}): {rate} of the mark is lost per started day "
                            "late, {units} × {rate} = {lost}, so {raw} becomes {final}."),
    ("per unit", "hour"): N_("Submitted {late} after the due date ({due}): {rate} of the mark is lost per started "
                             "hour late, {units} × {rate} = {lost}, so {raw} becomes {final}."),
    ("capped", "day"): N_("Submitted {late} after the due date ({due}): {rate} of the mark is lost per started day "
                          "late, {units} × {rate}, capped at {cap}, so {raw} becomes {final}."),
    ("capped", "hour"): N_("Submitted {late} after the due date ({due}): {rate} of the mark is lost per started hour "
                           "late, {units} × {rate}, capped at {cap}, so {raw} becomes {final}."),
}


def _moment_text(moment: datetime, like: datetime) -> str:
    """``moment`` in the time zone of ``like`` (the due date, as the instructor wrote it), to the second."""
    local = moment.astimezone(like.tzinfo)
    offset = local.strftime("%z")
    zone = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    return f"{local:%Y-%m-%d %H:%M:%S} {zone}"


def _duration_text(span: timedelta) -> str:
    """To the second, from the largest unit that is not 0: 1 d 0 h 0 min 1 s is two started days."""
    days, rest = divmod(int(span.total_seconds()), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    values = {"days": days, "hours": hours, "minutes": minutes, "seconds": seconds}
    if days:
        return _("{days} d {hours} h {minutes} min {seconds} s").format(**values)
    if hours:
        return _("{hours} h {minutes} min {seconds} s").format(**values)
    if minutes:
        return _("{minutes} min {seconds} s").format(**values)
    return _("{seconds} s").format(**values)


def _percent(share: float) -> str:
    return f"{round(share * 100, 4):g}%"


def _number(value: float) -> str:
    return f"{round(value, 6):g}"


# -- nbgrader ----------------------------------------------------------------------------------------------------------
def __getattr__(name: str) -> Any:
    """``LatePenaltyPlugin``, made on first use: importing nbgrader takes seconds, which grading alone never pays."""
    if name == "LatePenaltyPlugin":
        plugin = _plugin_class()
        globals()[name] = plugin
        return plugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _plugin_class() -> type:
    from nbgrader.plugins import LateSubmissionPlugin
    from traitlets import Unicode

    class LatePenaltyPlugin(LateSubmissionPlugin):
        """nbgrader's late submission plugin with late.toml's rules: the penalty :func:`penalty` gives.

        nbgrader asks a plugin only about a submission late against its gradebook (the assignment's duedate plus
        the submission's extension), and tells it neither. So, made for one notebook of one submission, the plugin
        first writes late.toml's due date and the student's extension into the gradebook (logging any change), and
        nbgrader's "late" is late.toml's; then it computes the penalty from the timestamp nbgrader parsed."""

        rules_file = Unicode("", help="the late rules (default: late.toml in CourseDirectory.root, else here)"
                             ).tag(config=True)

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            root = self.config.get("CourseDirectory", {}).get("root") or "."
            path = Path(self.rules_file or Path(root) / RULES_FILE)
            self.rules = load_rules(path)
            if self.rules is None:
                self.log.warning("no %s: no late penalty", path)
            elif getattr(self.parent, "db_url", None):
                self._align_gradebook(self.parent.assignment_id, self.parent.student_id)

        def _align_gradebook(self, assignment: str, student: str) -> None:
            from nbgrader.api import Gradebook, MissingEntry

            rule = self.rules.rule(assignment)
            with Gradebook(self.parent.db_url) as gradebook:
                try:
                    record = gradebook.find_assignment(assignment)
                    submission = gradebook.find_submission(assignment, student)
                except MissingEntry:
                    return
                if rule.due is None:
                    if record.duedate is not None:
                        self.log.warning("%s sets no due date for %s: no late penalty (nbgrader's due date %s is not "
                                         "used)", self.rules.path, assignment, record.duedate)
                    return
                extended = (student, assignment) in self.rules.extensions
                extension = self.rules.student_dates(student, assignment, rule.due, None)[0] - rule.due
                wanted = {"duedate": (record, rule.due.astimezone(timezone.utc).replace(tzinfo=None)),  # naive UTC
                          "extension": (submission, extension if extended else None)}
                for name, (row, value) in wanted.items():
                    if getattr(row, name) != value:
                        self.log.warning("%s, %s: %s %s from %s (the gradebook had %s)", assignment, student, name,
                                         value, self.rules.path, getattr(row, name))
                        setattr(row, name, value)
                gradebook.db.commit()

        def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
            if self.rules is None:
                return None
            assignment = self.parent.assignment_id
            timestamp = self.parent.gradebook.find_submission(assignment, student_id).timestamp  # naive UTC
            result = penalty(self.rules, assignment, student_id, timestamp, float(score or 0.0))
            self.log.info("%s, %s: %s", assignment, student_id, result.sentence)
            return result.points

    LatePenaltyPlugin.__module__, LatePenaltyPlugin.__qualname__ = __name__, "LatePenaltyPlugin"
    return LatePenaltyPlugin
