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

When a submission was handed in: for ``grade``, nbgrader's ``timestamp.txt`` beside the notebook
(:func:`submission_time`; ``<submitted>/<student>/<assignment>/timestamp.txt``, read exactly as nbgrader 0.9 reads it,
see :func:`nbgrader_time`), for ``gradescope-run``, Gradescope's ``/autograder/submission_metadata.json``
(:func:`gradescope_time`: ``created_at``; its assignment's ``due_date`` and ``late_due_date`` stand in for a due date
and a cut-off that late.toml does not give, never a file a student handed in), else none, and the penalty says so.
Both files are read as hostile (a regular file, no link, a few kB). :func:`apply_late` puts the penalty in a
notebook's result. :func:`penalty` gives the raw mark, the share lost, the final mark and the sentence for the
student's page; :data:`LatePenaltyPlugin` (``c.AssignLatePenalties.plugin_class``) applies the same rules inside
``nbgrader autograde``, so that ``nbgrader export`` shows the penalty the kit computes.
"""
from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from autograder.after.late_rules import (
    RULES_FILE,
    UNITS,
    LateRules,
    LateRulesError,
    Rule,
    load_rules,
)
from autograder.i18n import N_, _

if TYPE_CHECKING:
    from autograder.grading.results import NotebookResult

__all__ = ["LateRules", "LateRulesError", "Penalty", "Rule", "SubmissionTime", "apply_late", "gradescope_student",
           "gradescope_time", "load_rules", "nbgrader_time", "penalty", "submission_time"]
SMALL_FILE = 64 * 1024  # timestamp.txt and submission_metadata.json are a line and a few kB


# -- when it was handed in ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SubmissionTime:
    at: datetime | None  # aware; None when the platform gave none
    source: str = ""  # "timestamp.txt", "submission_metadata.json", or "" (none, or given directly)
    due: datetime | None = None  # Gradescope's due_date, used when late.toml gives none
    late_due: datetime | None = None  # Gradescope's late_due_date: the cut-off when late.toml gives none
    users: tuple[str, ...] = ()  # Gradescope's users' e-mails (a group has several)
    note: str = ""  # why there is no time, or what is doubtful about it (translated)


def submission_time(folder: Path) -> SubmissionTime:
    """When the submission in ``folder`` was handed in: nbgrader's timestamp.txt there (``nbgrader collect`` writes
    it over any a student handed in), else none, and the note says so. Gradescope's time is
    :func:`gradescope_time` of the metadata Gradescope writes, never a file in the student's folder."""
    if (folder / "timestamp.txt").exists() or (folder / "timestamp.txt").is_symlink():
        return nbgrader_time(folder / "timestamp.txt")
    return SubmissionTime(None, note=_("no submission time: no late rule applied"))


def read_small(path: Path) -> str:
    """The text of ``path``, a regular file of at most :data:`SMALL_FILE` bytes, read without following a link:
    a submission's folder is a student's, and its timestamp.txt may be a link to a secret, a FIFO or /dev/zero.
    OSError (with why) for anything else; UnicodeDecodeError for what is not UTF-8."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        data = os.read(fd, SMALL_FILE + 1)
    finally:
        os.close(fd)
    if len(data) > SMALL_FILE:
        raise OSError(f"larger than {SMALL_FILE} bytes")
    return data.decode("utf-8")


def nbgrader_time(path: Path) -> SubmissionTime:
    """timestamp.txt as ``nbgrader autograde`` reads it (CourseDirectory.get_existing_timestamp, utils.parse_utc):
    "2015-02-02 14:58:23.948203 America/Los_Angeles", its default "%Y-%m-%d %H:%M:%S.%f %Z" in UTC, or anything
    dateutil reads. Read the same way, whatever nbgrader gets wrong, so that the kit and nbgrader agree; what it
    gets wrong is said in the note (a zone abbreviation such as PDT or CEST that it takes as UTC)."""
    try:
        text = read_small(path).strip()
    except (OSError, UnicodeDecodeError) as error:
        return _unreadable(path, error.strerror or str(error) if isinstance(error, OSError) else type(error).__name__)
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
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC), doubt


def gradescope_time(path: Path) -> SubmissionTime:
    """Gradescope's submission_metadata.json: ``created_at``, and the assignment's ``due_date``/``late_due_date``
    (ISO 8601 with an offset, e.g. "2018-07-01T14:22:32.365935-07:00"; a date may be null)."""
    try:
        data = json.loads(read_small(path))
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
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


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
        submitted_at = submitted_at.replace(tzinfo=UTC)  # nbgrader's gradebook keeps naive UTC times
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


def apply_late(result: NotebookResult, rules: LateRules | None, when: SubmissionTime,
               student: str | None = None) -> NotebookResult:
    """``result`` with the course's late rule applied (its ``late``: raw, penalty, final, the sentence), or as it is
    when the course has no late rules. ``student``: whom extensions are looked up for (default: the result's)."""
    if rules is None:
        return result
    late = penalty(rules, result.assignment, student or result.student, when, result.raw_score)
    return replace(result, late=late.to_json())


def gradescope_student(rules: LateRules | None, when: SubmissionTime) -> str:
    """Whom late.toml's extensions are looked up for on Gradescope: the first of the submitters' e-mails that has
    an extension (a group has several), else the first e-mail."""
    users = list(when.users)
    if rules is not None:
        users.sort(key=lambda user: not any(s == user for s, _a in rules.extensions))
    return users[0] if users else ""


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
            self.path = path
            if self.rules is None:  # the usual case: nbgrader asks about late submissions only, and says so then
                self.log.debug("no %s: no late penalty", path)
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
                wanted = {"duedate": (record, rule.due.astimezone(UTC).replace(tzinfo=None)),  # naive UTC
                          "extension": (submission, extension if extended else None)}
                for name, (row, value) in wanted.items():
                    if getattr(row, name) != value:
                        self.log.warning("%s, %s: %s %s from %s (the gradebook had %s)", assignment, student, name,
                                         value, self.rules.path, getattr(row, name))
                        setattr(row, name, value)
                gradebook.db.commit()

        def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float) -> float | None:
            if self.rules is None:
                self.log.warning("%s is late by nbgrader's due date, but there is no %s: no late penalty", student_id,
                                 self.path)
                return None
            assignment = self.parent.assignment_id
            timestamp = self.parent.gradebook.find_submission(assignment, student_id).timestamp  # naive UTC
            result = penalty(self.rules, assignment, student_id, timestamp, float(score or 0.0))
            self.log.info("%s, %s: %s", assignment, student_id, result.sentence)
            return result.points

    LatePenaltyPlugin.__module__, LatePenaltyPlugin.__qualname__ = __name__, "LatePenaltyPlugin"
    return LatePenaltyPlugin
