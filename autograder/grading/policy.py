"""The marking policy: how a blank's test results become its mark.

Every hidden test says what it judges (``@pytest.mark.blank(name, points, kind=...)``):

- ``"value"``: the blank's values on typical inputs (the default);
- ``"edge"``: its values on an edge case the spec names (N = 1, |z| = 1000, p = 0, non-contiguous, ...);
- ``"property"``: a property of a correct answer (shape kept, inputs unchanged, returns a Python float, ...);
- ``"forbidden"``: the blank does not use a function its exercise forbids.

The policy, per blank, in this order:

1. **Forbidden functions**: a blank that uses a function its exercise forbids earns 0 (the exercise is to write
   it), and the feedback of the forbidden test names the function.
2. **Nothing right where it matters**: a blank that passes no value test earns 0, whatever its edge and property
   tests say (a constant, zeros, its argument returned unchanged: nothing was computed).
3. **Wrong on typical inputs**: a blank that fails some value test keeps at most ``wrong_share`` of its points
   (the tests it passes, scaled down), and its property tests do not count.
4. **A rule broken**: a blank right on its typical inputs that fails a property test (a rule of its exercise:
   inputs unchanged, the caller's storage kept, gradients reaching every parameter, backward called twice, ...)
   keeps the points of its value and edge tests only; its other property tests do not count.
5. **Right on typical inputs, every rule kept**: every test counts as it passed; partial credit is for edge cases.

A course may change the numbers in ``marking.toml`` in its course directory::

    [marking]
    wrong_share = 0.25            # the most a blank wrong on typical inputs keeps
    properties_need_values = true # property points only for a blank right on its typical inputs
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from autograder.i18n import _

if TYPE_CHECKING:
    from autograder.grading.results import TestResult

KINDS = ("value", "edge", "property", "forbidden")


class PolicyError(Exception):
    """marking.toml cannot be used; one line saying why."""


@dataclass(frozen=True)
class Policy:
    wrong_share: float = 0.25
    properties_need_values: bool = True

    @classmethod
    def of_course(cls, root: Path) -> "Policy":
        path = root / "marking.toml"
        if not path.is_file():
            return cls()
        try:
            table = tomllib.loads(path.read_text(encoding="utf-8")).get("marking", {})
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise PolicyError(f"{path}: not readable TOML ({error})") from None
        unknown = set(table) - {"wrong_share", "properties_need_values"}
        if unknown:
            raise PolicyError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        share = table.get("wrong_share", cls.wrong_share)
        if type(share) not in (int, float) or not 0 <= share <= 1:
            raise PolicyError(f"{path}: wrong_share must be a number from 0 to 1, not {share!r}")
        need = table.get("properties_need_values", cls.properties_need_values)
        if type(need) is not bool:
            raise PolicyError(f"{path}: properties_need_values must be true or false")
        return cls(float(share), need)

    def apply(self, tests: list["TestResult"]) -> list["TestResult"]:
        """The tests with their scores as the policy counts them (same order), each changed one saying why."""
        by_blank: dict[str, list[int]] = {}
        for i, t in enumerate(tests):
            by_blank.setdefault(t.blank, []).append(i)
        marked = list(tests)
        for blank, indexes in by_blank.items():
            for i, t in zip(indexes, self._blank(blank, [tests[i] for i in indexes])):
                marked[i] = t
        return marked

    def _blank(self, blank: str, tests: list["TestResult"]) -> list["TestResult"]:
        def failed(kind: str) -> list["TestResult"]:
            return [t for t in tests if t.kind == kind and t.score < t.max_score]

        values = [t for t in tests if t.kind == "value"]
        if failed("forbidden"):
            return _zero(tests, _("Not counted: {blank} uses a function its exercise forbids (see the test that says "
                                  "which), so it earns no points.").format(blank=blank))
        if values and not any(t.score > 0 for t in values):
            return _zero(tests, _("Not counted: {blank} gives no right value on its typical inputs, so none of its "
                                  "points count.").format(blank=blank))
        if not failed("value"):
            if failed("property") and self.properties_need_values:
                broken = ", ".join(t.name.split(": ", 1)[-1] for t in failed("property"))
                note = _("Not counted: {blank} breaks a rule of its exercise ({rules}), so its rules earn no "
                         "points.").format(blank=blank, rules=broken)
                return [replace(t, score=0.0, output=_noted(t, note)) if t.kind == "property" and t.score > 0 else t
                        for t in tests]
            return tests
        out = []
        for t in tests:
            if t.kind == "property" and self.properties_need_values and t.score > 0:
                t = replace(t, score=0.0, output=_noted(t, _("Not counted yet: this property earns its points once "
                                                             "{blank} computes the right values on its typical "
                                                             "inputs.").format(blank=blank)))
            out.append(t)
        earned = sum(t.score for t in out)
        cap = self.wrong_share * sum(t.max_score for t in tests)
        if earned > cap:
            scale = cap / earned
            note = _("Counted at {scale}: {blank} is wrong on its typical inputs, and such an answer keeps at most "
                     "{share} of the blank.").format(scale=f"{scale:.0%}", blank=blank, share=f"{self.wrong_share:.0%}")
            out = [replace(t, score=round(t.score * scale, 6), output=_noted(t, note)) if t.score > 0 else t
                   for t in out]
        return out




def _noted(test: "TestResult", note: str) -> str:
    """A test's output with the policy's note: for a test that passed, "Passed, but not counted in full:" and why
    (its status stays passed); for a failed one, its feedback then the note."""
    from autograder.grading.compare import wrap

    if test.passed:
        return wrap(_("Passed, but not counted in full: {note}").format(note=note))
    return wrap(note) if test.output in ("", "Passed.") else f"{test.output}\n{wrap(note)}"


def _zero(tests: list["TestResult"], note: str) -> list["TestResult"]:
    return [replace(t, score=0.0, output=_noted(t, note)) if t.score > 0 else t for t in tests]
