"""What an instructor declares about a blank, in a few lines; the kit makes the hidden tests and the self-check.

A course's hidden test module (``hidden/test_<assignment>.py``) declares its blanks and hands them to
:func:`autograder.authoring.declare`, which adds the pytest tests to the module::

    from autograder.authoring import Blank, Gradients, Mistake, Unchanged, declare

    ASSIGNMENT = "07_activations"

    relu = Blank(
        "relu", points=2,
        typical={"a batch": lambda g: [g.randn(5, 3)], "a 3-D tensor": lambda g: [g.randn(2, 3, 4)]},
        edges={"one element": lambda g: [g.randn(1)]},
        properties=[Unchanged(), Gradients(0)],
        forbidden=["relu", "clamp"],
        mistakes=[Mistake("negative values kept: relu(x) is max(x, 0)", lambda x: x.abs())],
    )

    declare(globals(), relu)

From the same declaration:

- the **hidden tests** draw fresh inputs for every case from the seeded generator (``g``: a :class:`Draw`), call
  the submission in its sandbox and the reference solution (``solutions/<stem>.py``) on the same inputs, and
  compare what comes back (type, dtype, shape, values; trained arguments; a module's outputs), under the marking
  policy: ``typical`` cases are value tests, ``edges`` edge tests, ``properties`` and ``forbidden`` their own;
- the **self-check** a student runs in the notebook (``check(relu)``) is built from the declaration and the
  reference once, by ``python -m autograder build``: fixed inputs (``examples``, else the typical cases drawn with
  a public seed) with the reference's outputs as numbers, the mistakes' outputs as numbers, and the properties
  that need no reference. Only numbers reach the student, never the reference's code.

What a declaration cannot say stays plain pytest in the same module (the ``sub``, ``rng`` and ``ref`` fixtures).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import torch

from autograder.i18n import N_

Inputs = Callable[..., Sequence[Any]]  # (g: Draw[, *constructor arguments]) -> the blank's arguments


class Draw:
    """The random inputs of one test case, drawn from its seeded generator (what ``typical`` and ``edges`` get)."""

    def __init__(self, generator: torch.Generator):
        self.generator = generator

    def randn(self, *shape: int, scale: float = 1.0) -> torch.Tensor:
        """Standard normal values times ``scale``, float32."""
        return torch.randn(shape, generator=self.generator) * scale

    def rand(self, *shape: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
        """Uniform values in [low, high), float32."""
        return low + (high - low) * torch.rand(shape, generator=self.generator)

    def randint(self, low: int, high: int, *shape: int) -> torch.Tensor:
        """int64 values in [low, high)."""
        return torch.randint(low, high, shape, generator=self.generator)

    def integer(self, low: int, high: int) -> int:
        """A Python int in [low, high] (both ends included)."""
        return int(torch.randint(low, high + 1, (), generator=self.generator))

    def uniform(self, low: float, high: float) -> float:
        """A Python float in [low, high)."""
        return low + (high - low) * float(torch.rand((), generator=self.generator))

    def labels(self, n: int, classes: int = 2) -> torch.Tensor:
        """n class indices (int64) in [0, classes), every class present when n allows."""
        out = torch.randint(0, classes, (n,), generator=self.generator)
        out[: min(n, classes)] = torch.arange(min(n, classes))
        return out[torch.randperm(n, generator=self.generator)]

    def non_contiguous(self, *shape: int, scale: float = 1.0) -> torch.Tensor:
        """Normal values of ``shape`` laid out as a transposed view (not contiguous where it can be so)."""
        return (torch.randn(tuple(reversed(shape)), generator=self.generator) * scale).permute(
            *reversed(range(len(shape))))


@dataclass(frozen=True)
class Mistake:
    """A known mistake: what it ``computes`` from the blank's arguments, and the ``hint`` a student whose answer
    gives the same values reads. For a class blank, ``computes`` gets the reference module and the input."""

    hint: str
    computes: Callable[..., Any]


@dataclass(frozen=True)
class Words:
    """A sentence shown to students: its English template (the engine's catalogue translates it) and the values of
    its placeholders (names, numbers: never translated)."""

    template: str
    values: dict[str, Any] = field(default_factory=dict)

    def english(self) -> str:
        return self.template.format(**self.values)

    def shown(self) -> str:
        from autograder.i18n import _

        return _(self.template).format(**self.values)

    def data(self) -> dict[str, Any]:
        return {"template": self.template, "values": {k: str(v) for k, v in self.values.items()}}


# -- properties: a rule of the exercise that a right answer also keeps (one property test each) ------------------

@dataclass(frozen=True)
class Property:
    """Base of the properties; ``weight`` is its share among the blank's property points."""

    weight: float = field(default=1.0, kw_only=True)

    def title(self, names: list[str]) -> Words:
        raise NotImplementedError


@dataclass(frozen=True, init=False)
class OfArguments(Property):
    """A property of the arguments at ``indexes``, given as positional arguments: ``Unchanged(0, 2)``."""

    indexes: tuple[int, ...] = ()

    def __init__(self, *indexes: int, weight: float = 1.0):
        object.__setattr__(self, "indexes", indexes)
        object.__setattr__(self, "weight", weight)

    def named(self, names: list[str]) -> str:
        return ", ".join(names[i] for i in self.indexes)


@dataclass(frozen=True, init=False)
class Unchanged(OfArguments):
    """The call leaves its tensor arguments (all, or those at ``indexes``) as they were."""

    def title(self, names: list[str]) -> Words:
        if not self.indexes:
            return Words(N_("does not modify its inputs"))
        return Words(N_("does not modify {names}"), {"names": self.named(names)})


@dataclass(frozen=True)
class ReturnsArgument(Property):
    """The call returns its argument ``index`` itself (the same object)."""

    index: int = 0

    def title(self, names: list[str]) -> Words:
        return Words(N_("returns {name} itself (the same object)"), {"name": names[self.index]})


@dataclass(frozen=True)
class InPlace(Property):
    """The call writes its result into the storage of its tensor argument ``index`` (a view into a larger tensor
    is passed, and the larger tensor must see the change)."""

    index: int = 0

    def title(self, names: list[str]) -> Words:
        return Words(N_("writes into the caller's storage of {name}"), {"name": names[self.index]})


@dataclass(frozen=True, init=False)
class Gradients(OfArguments):
    """The result lets the gradient reach the arguments at ``indexes`` (made to require grad for this test), equal
    to the reference's for the same output gradient."""

    def title(self, names: list[str]) -> Words:
        if not self.indexes:
            return Words(N_("lets the gradient reach every parameter"))
        return Words(N_("lets the gradient reach {names}"), {"names": self.named(names)})


@dataclass(frozen=True)
class BackwardPasses(Property):
    """Autograd's engine runs ``count`` backward passes during the call (a number, or a function of the arguments,
    e.g. ``lambda x, y, w, b, lr, epochs: epochs``)."""

    count: int | Callable[..., int] = 1

    def expected(self, args: Sequence[Any]) -> int:
        return self.count(*args) if callable(self.count) else self.count

    def title(self, names: list[str]) -> Words:
        return Words(N_("calls backward as the exercise says (backward passes of autograd counted)"))


@dataclass(frozen=True)
class PythonFloat(Property):
    """The call returns a Python float (not a 0-dim tensor)."""

    def title(self, names: list[str]) -> Words:
        return Words(N_("returns a Python float"))


@dataclass(frozen=True, init=False)
class Leaves(OfArguments):
    """After the call the arguments at ``indexes`` are still leaves that require grad."""

    def title(self, names: list[str]) -> Words:
        return Words(N_("keeps {names} leaves that require grad"), {"names": self.named(names)})


# -- the blank ------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Blank:
    """One blank of an assignment and how it is judged.

    name        the blank's grade_id: the function or class its cell defines
    points      its points (the same as its test cell's in the source notebook; check-course compares them)
    typical     case name -> generator of the arguments (value tests); a class blank's generators also get the
                constructor arguments after ``g``
    edges       the edge cases the exercise names, the same way (edge tests)
    build       for a class blank: generator of the constructor arguments; the reference's weights are loaded into
                the submission's module and its outputs compared
    properties  rules a right answer keeps (property tests)
    forbidden   torch functions or ATen operators the blank must not use, by their last name ("sigmoid",
                "binary_cross_entropy", "backward" for autograd)
    mistakes    known mistakes and their hints
    hints       fingerprints of mistakes by how a value relates to the right one (autograder.grading.hints: a
                constant ratio, a transpose, the right values in the wrong order...): (actual, expected) -> hint
    errors      words of an error message (lower case) -> the hint for the mistake that raises it
    trains      indexes of arguments a training run updates in place (compared with the reference's after the run)
    examples    the self-check's fixed arguments (visible to students); default: the typical cases drawn with
                a public seed
    rtol, atol  the tolerance of value comparisons
    shares      the share of the points of each kind of test ("edge", "property", "forbidden"; the value tests
                get the rest), when :data:`SHARES` does not suit the blank
    """

    name: str
    points: float
    typical: dict[str, Inputs]
    edges: dict[str, Inputs] = field(default_factory=dict)
    build: Callable[..., Sequence[Any]] | None = None
    properties: list[Property] = field(default_factory=list)
    forbidden: list[str] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)
    hints: list[Callable[[torch.Tensor, torch.Tensor], str | None]] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)
    trains: tuple[int, ...] = ()
    examples: list[Sequence[Any]] | None = None
    rtol: float = 1e-4
    atol: float = 1e-5
    shares: dict[str, float] | None = None

    def __post_init__(self) -> None:
        if not self.typical:
            raise ValueError(f"{self.name}: declare at least one typical case (the value tests)")
        if not math.isfinite(self.points) or self.points <= 0:
            raise ValueError(f"{self.name}: points must be a positive number")

    @property
    def is_class(self) -> bool:
        return self.build is not None


# The share of a blank's points each kind of test gets, before the shares of kinds a blank does not declare are
# given to its value tests. The marking policy (autograder.grading.policy) decides what counts: a forbidden function or
# no right value costs everything, a wrong value keeps at most a quarter, a broken rule its property points.
SHARES = {"forbidden": 0.1, "edge": 0.25, "property": 0.25}
