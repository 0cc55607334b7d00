"""Declarations -> hidden tests: :func:`declare` adds to a hidden test module one pytest test per declared case,
property and ban, each marked with its blank, its points and what it judges (autograder.grading.policy).

Every test draws its inputs from the ``rng`` fixture (seeded from the course secret, the test and the
submission), calls the submission in its sandbox and the reference on copies of the same inputs, and judges what
comes back in the fixed order of :mod:`autograder.grading.compare` (type, dtype, shape, finite, values); a value that
differs gets the hint of the declared mistake whose values it has.
"""
from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any, Callable, Sequence

import pytest
import torch
from torch import nn

from autograder.authoring.declarations import (
    SHARES, BackwardPasses, Blank, Draw, Gradients, InPlace, Leaves, Property, PythonFloat, ReturnsArgument, Unchanged,
    Words,
)
from autograder.protocol.codec import ModuleInfo, View
from autograder.grading.compare import Mismatch, describe, expect, feedback, gradients_reach, judged, unchanged
from autograder.i18n import N_, _, any_text

CUT = N_("do not cut the result from the graph: no .detach(), .data, .item(), torch.tensor(...), NumPy or "
         "torch.no_grad().")


def declare(namespace: dict[str, Any], *blanks: Blank) -> None:
    """Add the tests of ``blanks`` to a hidden test module's ``namespace`` (``declare(globals(), relu, ...)``), and
    their error hints to its ``ERROR_HINTS``; the blanks are kept in ``__declared__`` for the self-check's build."""
    namespace["__declared__"] = [*namespace.get("__declared__", []), *blanks]
    namespace["ERROR_HINTS"] = [*namespace.get("ERROR_HINTS", []), *(item for b in blanks for item in b.errors.items())]
    for blank in blanks:
        names = reference_signature(namespace.get("__file__"), namespace.get("ASSIGNMENT"), blank)
        for name, test in tests_of(blank, names).items():
            if name in namespace:
                raise ValueError(f"{blank.name}: the module already has a {name}")
            namespace[name] = test


def declared(module: ModuleType) -> list[Blank]:
    """The blanks a hidden test module declared."""
    return list(getattr(module, "__declared__", []))


# -- points --------------------------------------------------------------------------------------------------------

def points_of(blank: Blank) -> dict[str, list[float]]:
    """Each test's points by kind, in declaration order, adding up to ``blank.points`` (to the microgram)."""
    counts = {"edge": len(blank.edges), "property": len(blank.properties), "forbidden": 1 if blank.forbidden else 0}
    shares = {kind: (blank.shares or SHARES).get(kind, SHARES[kind]) for kind, n in counts.items() if n}
    shares["value"] = 1.0 - sum(shares.values())
    out = {"value": [blank.points * shares["value"] / len(blank.typical)] * len(blank.typical)}
    out["edge"] = [blank.points * shares.get("edge", 0) / max(1, len(blank.edges))] * len(blank.edges)
    weights = [p.weight for p in blank.properties]
    out["property"] = [blank.points * shares.get("property", 0) * w / sum(weights) for w in weights]
    out["forbidden"] = [blank.points * shares.get("forbidden", 0)] * counts["forbidden"]
    out = {kind: [round(p, 6) for p in points] for kind, points in out.items()}
    out["value"][0] = round(out["value"][0] + blank.points - sum(sum(p) for p in out.values()), 6)
    return out


def _blank_mark(blank: Blank, points: float, kind: str) -> pytest.MarkDecorator:
    return pytest.mark.blank(blank.name, points=points, kind=kind)


# -- the tests -----------------------------------------------------------------------------------------------------

def reference_signature(hidden_file: str | None, assignment: str | None, blank: Blank) -> list[str]:
    """The names of the blank's arguments, read (not run) from the reference solution's source, for the tests'
    titles: ``solutions/<stem>.py`` beside the hidden test module's folder. "argument 1", ... when not found."""
    import ast
    from pathlib import Path

    from autograder.grading.course import Course, CourseError

    names: list[str] = []
    try:
        course = Course.load(Path(hidden_file).resolve().parent.parent)
        source = course.solutions(course.assignments[assignment]).read_text(encoding="utf-8")
        for node in ast.parse(source).body:
            if getattr(node, "name", None) != blank.name:
                continue
            if isinstance(node, ast.ClassDef):
                node = next((n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "forward"), None)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [a.arg for a in node.args.args if a.arg != "self"]
    except (CourseError, KeyError, OSError, SyntaxError, TypeError):
        pass
    return names + [f"argument {i + 1}" for i in range(len(names), 16)]


def tests_of(blank: Blank, names: list[str]) -> dict[str, Callable[..., None]]:
    points = points_of(blank)
    tests: dict[str, Callable[..., None]] = {}

    def cases_test(kind: str, cases: dict[str, Any], title: Words) -> Callable[..., None]:
        def test(sub, rng, ref, case):
            judge_case(sub, Draw(rng), ref, blank, cases[case], case)

        titled(test, title)
        params = [pytest.param(case, marks=_blank_mark(blank, p, kind))
                  for case, p in zip(cases, points[kind])]
        return pytest.mark.parametrize("case", params)(test)

    tests[f"test_{blank.name}_values"] = cases_test("value", blank.typical, Words(N_("computes the reference's values")))
    if blank.edges:
        tests[f"test_{blank.name}_edges"] = cases_test("edge", blank.edges, Words(N_("computes the reference's values "
                                                                                     "on an edge case")))
    for i, (prop, p) in enumerate(zip(blank.properties, points["property"])):
        tests[f"test_{blank.name}_{type(prop).__name__.lower()}_{i}"] = property_test(blank, prop, p, names)
    if blank.forbidden:
        tests[f"test_{blank.name}_forbidden"] = forbidden_test(blank, points["forbidden"][0])
    return tests


def titled(test: Callable[..., None], title: Words) -> None:
    """A generated test's title: its docstring in English (what draws its inputs), and the words students read."""
    test.__doc__ = title.english()
    test.title_words = title  # type: ignore[attr-defined]  (autograder.grading.plugin shows it translated)


def argument_names(ref: ModuleType, blank: Blank) -> list[str]:
    """The names of the blank's arguments, as the reference's signature gives them."""
    target = getattr(ref, blank.name)
    target = target.forward if blank.is_class else target
    names = [p for p in inspect.signature(target).parameters if p != "self"]
    return names + [f"argument {i + 1}" for i in range(len(names), 16)]


def _copy(value: Any) -> Any:
    """A copy of an argument for the reference, so that nothing the reference does reaches what the submission got."""
    if isinstance(value, torch.Tensor):
        copy = value.detach().clone()
        return nn.Parameter(copy, value.requires_grad) if isinstance(value, nn.Parameter) else \
            copy.requires_grad_(value.requires_grad)
    if isinstance(value, nn.Module):
        import copy as copying
        return copying.deepcopy(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    return value


def _reference_call(ref: ModuleType, blank: Blank, args: Sequence[Any]) -> tuple[Any, list[Any]]:
    copies = [_copy(a) for a in args]
    return getattr(ref, blank.name)(*copies), copies


def _mistake_hint(mistake_values: list[tuple[str, Any]], index: tuple[int, ...] = ()) -> Callable:
    def hint(actual: torch.Tensor, expected: torch.Tensor) -> str | None:
        for text, value in mistake_values:
            for i in index:
                value = value[i] if isinstance(value, (tuple, list)) and len(value) > i else None
            if value is None:
                continue
            value = torch.as_tensor(value, dtype=torch.float64) if not isinstance(value, torch.Tensor) else \
                value.detach().double()
            if value.shape == actual.shape and bool(torch.isfinite(value).all()) and torch.allclose(
                    actual, value, rtol=1e-4, atol=1e-5):
                return any_text(text)
        return None

    return hint


def judge(actual: Any, expected: Any, name: str, blank: Blank, mistakes: list[tuple[str, Any]],
          index: tuple[int, ...] = ()) -> None:
    """``actual`` (from the sandbox) against the reference's ``expected``, by the kind of ``expected``."""
    hints = list(blank.hints) + ([_mistake_hint(mistakes, index)] if mistakes else [])
    if isinstance(expected, torch.Tensor):
        check = expect(actual, name).tensor(shape=tuple(expected.shape), dtype=expected.dtype)
        if expected.is_floating_point():
            check.close_to(expected.detach(), rtol=blank.rtol, atol=blank.atol, hints=hints)
        else:
            check.equal_to(expected)
    elif isinstance(expected, bool) or isinstance(expected, int) and not isinstance(expected, bool):
        expect(actual, name).satisfies(type(actual) is type(expected) and actual == expected,
                                       _("expected {expected}, got {got}.").format(expected=describe(expected),
                                                                                  got=describe(actual)))
    elif isinstance(expected, float):
        value = float(actual) if isinstance(actual, torch.Tensor) and actual.numel() == 1 else actual
        if type(value) not in (float, int):
            expect(actual, name).fail(_("expected a Python float, got {what}.").format(what=describe(actual)))
        expect(float(value), name).close_to(expected, rtol=blank.rtol, atol=blank.atol, hints=hints)
    elif isinstance(expected, list) and all(type(v) is float for v in expected):
        expect(actual, name).float_list(len(expected)).close_to(
            torch.tensor(expected, dtype=torch.float64), rtol=blank.rtol, atol=max(blank.atol, 1e-6), hints=hints)
    elif isinstance(expected, (tuple, list)):
        expect(actual, name).tuple_of(len(expected))
        for i, (a, e) in enumerate(zip(actual, expected)):
            judge(a, e, f"{name}[{i}]", blank, mistakes, (*index, i))
    elif expected is None:
        expect(actual, name).satisfies(actual is None, _("expected None, got {what}.").format(what=describe(actual)))
    elif isinstance(expected, nn.Module):
        expect(actual, name).is_module()
        judged()
    else:
        raise TypeError(f"{blank.name}: the reference returned {type(expected).__name__}, which a declaration cannot "
                        f"compare; write this test in plain pytest")


def judge_case(sub: Any, g: Draw, ref: ModuleType, blank: Blank, inputs: Callable[..., Sequence[Any]],
               case: str) -> None:
    if blank.is_class:
        return judge_module_case(sub, g, ref, blank, inputs, case)
    args = list(inputs(g))
    expected, after = _reference_call(ref, blank, args)
    result = sub.run(blank.name, *args)
    mistakes = [(m.hint, m.computes(*[_copy(a) for a in args])) for m in blank.mistakes]
    judge(result.value, expected, _("{blank} on {case}").format(blank=blank.name, case=any_text(case)), blank, mistakes)
    names = argument_names(ref, blank)
    for i in blank.trains:
        expect(result.args[i], _("{name} after the call").format(name=names[i])).tensor(
            shape=tuple(after[i].shape)).close_to(after[i].detach(), rtol=blank.rtol, atol=blank.atol,
                                                  what=_(" (the reference's, from the same start)"))


def random_state(module: nn.Module, g: Draw) -> dict[str, torch.Tensor]:
    """Fresh values for every entry of ``module``'s state_dict, loaded into it too."""
    state = {k: (g.randn(*v.shape) if v.is_floating_point() else v.clone()) for k, v in module.state_dict().items()}
    module.load_state_dict(state)
    return state


def student_module(sub: Any, g: Draw, ref: ModuleType, blank: Blank) -> tuple[list[Any], ModuleInfo, nn.Module]:
    """The submission's module and the reference's, built with the same arguments, holding the same weights."""
    ctor = list(blank.build(g))
    label = f"{blank.name}({', '.join(map(repr, ctor))})"
    info = sub.call(blank.name, *ctor)
    expect(info, label).is_module()
    reference = getattr(ref, blank.name)(*ctor)
    state = random_state(reference, g)
    if list(info.state) != list(state):
        raise Mismatch(feedback(_("{module}: its state_dict keys are not the expected ones, so the reference weights "
                                  "cannot be loaded.").format(module=label),
                                _("keep the layers and their names as the exercise gives them."),
                                _("expected {expected}, got {got}").format(expected=list(state), got=list(info.state))))
    sub.run(info.handle, state, method="load_state_dict")
    return ctor, info, reference


def judge_module_case(sub: Any, g: Draw, ref: ModuleType, blank: Blank, inputs: Callable[..., Sequence[Any]],
                      case: str) -> None:
    ctor, info, reference = student_module(sub, g, ref, blank)
    args = list(inputs(g, *ctor))
    with torch.no_grad():
        expected = reference(*[_copy(a) for a in args])
        mistakes = [(m.hint, m.computes(reference, *[_copy(a) for a in args])) for m in blank.mistakes]
    out = sub.call(info.handle, *args)
    judge(out, expected, _("the output of {blank} on {case}").format(blank=blank.name, case=any_text(case)), blank,
          mistakes)


# -- properties ----------------------------------------------------------------------------------------------------

def property_test(blank: Blank, prop: Property, points: float, names: list[str]) -> Callable[..., None]:
    first = next(iter(blank.typical.values()))

    @_blank_mark(blank, points, "property")
    def test(sub, rng, ref):
        judge_property(sub, Draw(rng), ref, blank, prop, first)

    titled(test, prop.title(names))
    return test


def judge_property(sub: Any, g: Draw, ref: ModuleType, blank: Blank, prop: Property, inputs: Callable) -> None:
    names = argument_names(ref, blank)
    if blank.is_class:
        ctor, info, reference = student_module(sub, g, ref, blank)
        args = list(inputs(g, *ctor))
        target, reference_fn = info.handle, reference
    else:
        args = list(inputs(g))
        target, reference_fn = blank.name, getattr(ref, blank.name)
    label = blank.name
    if isinstance(prop, Unchanged):
        result = sub.run(target, *args)
        for i in prop.indexes or [i for i, a in enumerate(args) if isinstance(a, torch.Tensor)]:
            unchanged(args[i], result.args[i], names[i])
    elif isinstance(prop, ReturnsArgument):
        result = sub.run(target, *args)
        judged()
        if result.returned_arg != prop.index:
            raise Mismatch(feedback(_("{blank} should return {name} itself, got {what}.").format(
                blank=label, name=names[prop.index], what=describe(result.value)),
                _("end with `return {name}` (the object you were given).").format(name=names[prop.index])))
    elif isinstance(prop, InPlace):
        original = args[prop.index]
        base = g.randn(original.numel() + 7)
        view = View(base, tuple(original.shape), tuple(original.contiguous().stride()), 3)
        with torch.no_grad():
            view.tensor().copy_(original)
        result = sub.run(target, *[view if i == prop.index else a for i, a in enumerate(args)])
        want = base.clone()
        reference_fn(*[want.as_strided(view.size, view.stride, view.offset) if i == prop.index else _copy(a)
                       for i, a in enumerate(args)])
        storage = getattr(getattr(result.args[prop.index], "remote", None), "base", None)
        if storage is None or torch.equal(storage, base):
            raise Mismatch(feedback(_("{name}: the storage the caller's {name} views did not change: the result was "
                                      "written somewhere else.").format(name=names[prop.index]),
                                    _("modify {name} in place (an operation ending in _, +=, or [...] =).").format(
                                        name=names[prop.index])))
        expect(storage, _("the tensor {name} is a view of").format(name=names[prop.index])).close_to(
            want, rtol=blank.rtol, atol=blank.atol)
    elif isinstance(prop, Gradients):
        judge_gradients(sub, g, blank, prop, names, args, target, reference_fn)
    elif isinstance(prop, BackwardPasses):
        passes, want = sub.run(target, *args, watch=True).backward_passes, prop.expected(args)
        judged()
        if passes != want:
            raise Mismatch(feedback(_("{blank}: autograd ran {passes} backward pass(es), not {wanted}.").format(
                blank=label, passes=passes, wanted=want),
                _("call backward as the exercise says (no extra pass, no gradient by hand).")))
    elif isinstance(prop, PythonFloat):
        value = sub.run(target, *args).value
        if isinstance(value, torch.Tensor):
            raise Mismatch(feedback(_("{blank}: expected a Python float, got {what}.").format(
                blank=label, what=describe(value)), _("call .item().")))
        expect(value, label).python_float()
        judged()
    elif isinstance(prop, Leaves):
        result = sub.run(target, *args)
        judged()
        for i in prop.indexes:
            meta = getattr(result.args[i], "remote", None)
            if meta is None or not (meta.is_leaf and meta.requires_grad):
                raise Mismatch(_("{name}: after the call the caller's {name} should still be a leaf that requires "
                                 "grad; it is not (was it detached, or requires_grad switched off?).").format(
                    name=names[i]))
    else:
        raise TypeError(f"{blank.name}: unknown property {prop!r}")


def judge_gradients(sub, g: Draw, blank: Blank, prop: Gradients, names: list[str], args: list[Any], target: Any,
                    reference_fn: Callable) -> None:
    if blank.is_class:  # every parameter of the module
        params = dict(reference_fn.named_parameters())
        output = reference_fn(*[_copy(a) for a in args])
        upstream = g.randn(*output.shape)
        want = dict(zip(params, torch.autograd.grad(output, list(params.values()), grad_outputs=upstream)))
        result = sub.run(target, *args, vjp=upstream)
        gradients_reach(result.grads, result.vjp_error, {f"param:{n}": w for n, w in want.items()},
                        {f"param:{n}": f"self.{n}" for n in params},
                        _("the output of {blank}").format(blank=blank.name), _(CUT))
        return
    args = [a.detach().clone().requires_grad_(True) if i in prop.indexes else a for i, a in enumerate(args)]
    copies = [_copy(a) for a in args]
    output = reference_fn(*copies)
    upstream = g.randn(*output.shape) + (2.0 if output.dim() == 0 else 0.0)
    want = torch.autograd.grad(output, [copies[i] for i in prop.indexes], grad_outputs=upstream)
    result = sub.run(target, *args, vjp=upstream)
    gradients_reach(result.grads, result.vjp_error, {f"arg{i}": w for i, w in zip(prop.indexes, want)},
                    {f"arg{i}": names[i] for i in prop.indexes}, _("the result of {blank}").format(blank=blank.name),
                    _(CUT))


def forbidden_test(blank: Blank, points: float) -> Callable[..., None]:
    first = next(iter(blank.typical.values()))
    banned = {_bare(name) for name in blank.forbidden}

    @_blank_mark(blank, points, "forbidden")
    def test(sub, rng, ref):
        g = Draw(rng)
        if blank.is_class:
            _module, info, _instance = student_module(sub, g, ref, blank)
            result = sub.run(info.handle, *first(g, *blank.build(g)), watch=True)
        else:
            result = sub.run(blank.name, *first(g), watch=True)
        used = sorted({c for c in result.torch_calls if _bare(c) in banned})
        if "backward" in banned and result.backward_passes and not used:
            used = [_("{passes} backward pass(es) of autograd").format(passes=result.backward_passes)]
        judged()
        if used:
            raise Mismatch(feedback(_("{blank} uses {names}, which this exercise forbids.").format(
                blank=blank.name, names=", ".join(used)),
                _("write it yourself; forbidden here: {names}.").format(names=", ".join(blank.forbidden))))

    titled(test, Words(N_("does not use {names}"), {"names": ", ".join(blank.forbidden)}))
    return test


def _bare(name: str) -> str:
    """A recorded call's last name, as a ban names it: 'torch._C._nn.softmax', 'aten._softmax' -> 'softmax'."""
    return name.rsplit(".", 1)[-1].lstrip("_").removeprefix("special_").removesuffix("_forward").lower()
