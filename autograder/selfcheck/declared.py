"""Self-checks made from a course's declarations (``<stem>_selfcheck.json`` beside the release notebook, written by
``python -m autograder build``): fixed example arguments, the reference's results on them as numbers, the numbers
of known mistakes, and the rules a right answer keeps. Nothing here knows an assignment; nothing in the data runs.

Each blank gets its checks in PrairieLearn's order: what it returns (type, dtype, shape), its values on the
examples (with the hint of a mistake whose numbers it has), then each rule, then the functions it must not use.
"""
from __future__ import annotations

import copy
from typing import Any, Callable

import torch
from torch import nn

from autograder.i18n import _, course_text
from autograder.selfcheck.values import decode

Check = Callable[[Any], None]


def _fmt(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        flat = value.detach().reshape(-1)
        shown = ", ".join(f"{float(v):.4g}" for v in flat[:6])
        return f"[{shown}{', ...' if flat.numel() > 6 else ''}]"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_fmt(v) for v in value[:4]) + (", ..." if len(value) > 4 else "") + ")"
    return repr(value)


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return _("a {dtype} tensor of shape {shape}").format(dtype=str(value.dtype).removeprefix("torch."),
                                                              shape=tuple(value.shape))
    if isinstance(value, (list, tuple)):
        return _("a {type} of {count}").format(type=type(value).__name__, count=len(value))
    return "None" if value is None else _("a Python {type}").format(type=type(value).__name__)


def _shape(value: Any) -> str:
    """An argument in a few words: 'of shape (2, 3, 4), not contiguous', '= 0.5'."""
    if isinstance(value, torch.Tensor):
        if value.is_contiguous():
            return _("of shape {shape}").format(shape=tuple(value.shape))
        return _("of shape {shape}, not contiguous").format(shape=tuple(value.shape))
    if type(value).__name__ == "ndarray":
        return _("(an array) of shape {shape}").format(shape=tuple(value.shape))
    return f"= {_fmt(value)}"


def _close(actual: Any, expected: Any, rtol: float, atol: float) -> bool:
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor) or actual.shape != expected.shape:
            return False
        if not expected.is_floating_point():
            return bool(torch.equal(actual.to(expected.dtype), expected))
        return bool(torch.allclose(actual.detach().double(), expected.double(), rtol=rtol, atol=atol))
    if isinstance(expected, float):
        value = float(actual) if isinstance(actual, torch.Tensor) and actual.numel() == 1 else actual
        return type(value) in (float, int) and abs(value - expected) <= atol + rtol * abs(expected)
    if isinstance(expected, (list, tuple)):
        return isinstance(actual, (list, tuple)) and len(actual) == len(expected) and all(
            _close(a, e, rtol, atol) for a, e in zip(actual, expected))
    if isinstance(expected, nn.Module):
        return isinstance(actual, nn.Module)
    return type(actual) is type(expected) and actual == expected


def _same_kind(actual: Any, expected: Any) -> str | None:
    """Why ``actual`` is not the kind of value ``expected`` is (type, dtype, shape), or None."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            return _("it returned {what}, not a tensor").format(what=_describe(actual))
        if actual.dtype != expected.dtype:
            return _("it returned dtype {got}, not {expected}").format(
                got=str(actual.dtype).removeprefix("torch."), expected=str(expected.dtype).removeprefix("torch."))
        if actual.shape != expected.shape:
            return _("it returned shape {got}, not {expected}").format(got=tuple(actual.shape),
                                                                       expected=tuple(expected.shape))
        if actual.is_floating_point() and not bool(torch.isfinite(actual).all()):
            return _("some of its values are NaN or infinite")
    elif isinstance(expected, float) and type(actual) is not float:
        return _("it returned {what}, not a Python float").format(what=_describe(actual))
    elif isinstance(expected, (list, tuple)):
        if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
            return _("it returned {what}, not a {type} of {count}").format(
                what=_describe(actual), type=type(expected).__name__, count=len(expected))
        for i, (a, e) in enumerate(zip(actual, expected)):
            why = _same_kind(a, e)
            if why:
                return _("its item {index}: {why}").format(index=i, why=why)
    return None


class Blank:
    """One declared blank's data, and its checks."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        self.name = data["name"]
        self.names = data["arguments"]
        self.rtol, self.atol = data["rtol"], data["atol"]

    def call(self, candidate: Any, example: dict[str, Any], args: list[Any] | None = None) -> Any:
        args = decode(example["args"]) if args is None else args
        try:
            if "class" in self.data:
                module = candidate(*decode(self.data["class"]["build"]))
                module.load_state_dict(decode(self.data["class"]["state"]))
                return module(*args)
            return candidate(*args)
        except NotImplementedError:
            raise
        except Exception as error:  # a known mistake's error: said with its hint; any other: as it is
            hint = next((h for words, h in self.data.get("errors", []) if words in str(error).lower()), None)
            if hint is None:
                raise
            raise AssertionError(_("your code raised {error}: {hint}").format(error=type(error).__name__,
                                                                               hint=course_text(hint))) from None

    def mistake(self, actual: Any, example: dict[str, Any]) -> str | None:
        """The hint of the known mistake whose result on ``example`` is ``actual``."""
        return next((course_text(text) for text, value in example["mistakes"]
                     if _close(actual, decode(value), 1e-4, 1e-5)), None)

    def checks(self) -> list[Check]:
        examples = self.data["examples"]
        first = decode(examples[0]["expected"])
        out = [self._returns(first), *(self._values(n) for n in range(1, len(examples) + 1))]
        out += [self._rule(rule) for rule in self.data["properties"]]
        if self.data["forbidden"]:
            out.append(self._forbidden())
        return out

    def _returns(self, expected: Any) -> Check:
        def check(candidate: Any) -> None:
            first = self.data["examples"][0]
            actual = self.call(candidate, first)
            why = _same_kind(actual, expected)
            if why:
                hint = self.mistake(actual, first)
                if hint:
                    raise AssertionError(_("on the first example {why}: {hint}").format(why=why, hint=hint))
                raise AssertionError(_("on the first example {why}.").format(why=why))

        _title(check, lambda: _("returns {what} on the first example").format(what=_describe(expected)))
        return check

    def _values(self, n: int) -> Check:
        example = self.data["examples"][n - 1]

        def check(candidate: Any) -> None:
            actual, expected = self.call(candidate, example), decode(example["expected"])
            if _close(actual, expected, self.rtol, self.atol):
                return
            hint = self.mistake(actual, example)
            if hint:
                raise AssertionError(_("the result should be {expected}, got {got}: {hint}").format(
                    expected=_fmt(expected), got=_fmt(actual), hint=hint))
            raise AssertionError(_("the result should be {expected}, got {got}.").format(expected=_fmt(expected),
                                                                                        got=_fmt(actual)))

        args = decode(example["args"])
        _title(check, lambda: _("computes the right values on example {number} ({arguments})").format(
            number=n, arguments=", ".join(f"{name} {_shape(arg)}" for name, arg in zip(self.names, args))))
        return check

    def _rule(self, rule: dict[str, Any]) -> Check:
        kind = rule["kind"]
        example = self.data["examples"][0]

        def check(candidate: Any) -> None:
            args = decode(example["args"])
            if kind == "unchanged":
                before = copy.deepcopy(args)
                self.call(candidate, example, args)
                for i in rule["indexes"]:
                    if isinstance(before[i], torch.Tensor) and not torch.equal(before[i].detach(), args[i].detach()):
                        raise AssertionError(_("it modified its input {name} in place: work on a copy, or use "
                                               "out-of-place operations.").format(name=self.names[i]))
            elif kind == "returns":
                if self.call(candidate, example, args) is not args[rule["index"]]:
                    raise AssertionError(_("it should return {name} itself: end with `return {name}`.").format(
                        name=self.names[rule["index"]]))
            elif kind == "inplace":
                i = rule["index"]
                base = torch.zeros(args[i].numel() + 7)
                view = base.as_strided(tuple(args[i].shape), tuple(args[i].contiguous().stride()), 3)
                view.copy_(args[i])
                self.call(candidate, example, [view if j == i else a for j, a in enumerate(args)])
                want = decode(example["after"][str(i)])
                if not _close(base.as_strided(view.shape, view.stride(), 3), want, self.rtol, self.atol):
                    raise AssertionError(_("the caller's {name} did not change in its own storage: modify it in place "
                                           "(x.add_(y), x += y), not x.data = ... or a new tensor.").format(
                        name=self.names[i]))
            elif kind == "gradients":
                self._gradients(candidate, example, args, rule)
            elif kind == "backward":
                passes = _backward_passes(lambda: self.call(candidate, example, args))
                if passes != rule["count"]:
                    raise AssertionError(_("autograd ran {passes} backward pass(es), not {wanted}.").format(
                        passes=passes, wanted=rule["count"]))
            elif kind == "float":
                value = self.call(candidate, example, args)
                if type(value) is not float:
                    raise AssertionError(_("it returned {what}, not a Python float (call .item()).").format(
                        what=_describe(value)))
            elif kind == "leaves":
                self.call(candidate, example, args)
                for i in rule["indexes"]:
                    if not (args[i].is_leaf and args[i].requires_grad):
                        raise AssertionError(_("after the call {name} is no longer a leaf that requires grad.").format(
                            name=self.names[i]))

        title = rule["title"]
        _title(check, lambda: _(title["template"]).format(**title["values"]) if isinstance(title, dict) else title)
        return check

    def _gradients(self, candidate: Any, example: dict[str, Any], args: list[Any], rule: dict[str, Any]) -> None:
        upstream = decode(rule["upstream"])
        if "class" in self.data:
            module = candidate(*decode(self.data["class"]["build"]))
            module.load_state_dict(decode(self.data["class"]["state"]))
            inputs = dict(module.named_parameters())
            out = module(*args)
        else:
            args = [a.detach().clone().requires_grad_(True) if str(i) in rule["expected"] else a
                    for i, a in enumerate(args)]
            inputs = {str(i): args[i] for i in map(int, rule["expected"])}
            out = candidate(*args)
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            raise AssertionError(_("its result does not require grad: do not cut it from the graph (.detach(), .data, "
                                   ".item(), torch.tensor(...), NumPy or torch.no_grad())."))
        found = torch.autograd.grad(out, list(inputs.values()), grad_outputs=upstream, allow_unused=True)
        for key, grad in zip(inputs, found):
            name = f"self.{key}" if "class" in self.data else self.names[int(key)]
            want = decode(rule["expected"][key])
            if grad is None:
                raise AssertionError(_("no gradient reaches {name}: do not cut it from the graph.").format(name=name))
            if not _close(grad, want, self.rtol, self.atol):
                raise AssertionError(_("the gradient that reaches {name} should be {expected}, got {got}.").format(
                    name=name, expected=_fmt(want), got=_fmt(grad)))

    def _forbidden(self) -> Check:
        banned = {_bare(n) for n in self.data["forbidden"]}

        def check(candidate: Any) -> None:
            seen, passes = _recorded(lambda: self.call(candidate, self.data["examples"][0]))
            used = sorted({n for n in seen if _bare(n) in banned})
            if "backward" in banned and passes and not used:
                used = [_("autograd's backward")]
            if used:
                raise AssertionError(_("it uses {names}, which this exercise forbids: write it yourself.").format(
                    names=", ".join(used)))

        _title(check, lambda: _("does not use {names}").format(names=", ".join(self.data["forbidden"])))
        return check


def _bare(name: str) -> str:
    return name.rsplit(".", 1)[-1].lstrip("_").removeprefix("special_").removesuffix("_forward").lower()


def _recorded(run: Callable[[], Any]) -> tuple[set[str], int]:
    """The torch functions and ATen operators ``run`` uses, and the backward passes autograd runs meanwhile."""
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode

    names: set[str] = set()
    tasks: set[int] = set()

    class Functions(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            names.add(getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func)))
            return func(*args, **(kwargs or {}))

    class Ops(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            names.add(str(func.overloadpacket))
            if torch._C._current_graph_task_id() != -1:
                tasks.add(torch._C._current_graph_task_id())
            return func(*args, **(kwargs or {}))

    with Functions(), Ops():
        run()
    return names, len(tasks)


def _backward_passes(run: Callable[[], Any]) -> int:
    return _recorded(run)[1]


def _title(check: Check, title: Callable[[], str]) -> None:
    """Give ``check`` its title, said in the language current when it runs (:func:`autograder.selfcheck.title`):
    the checks are made once, when their file is first read, whatever language is chosen later."""
    check.title = title  # type: ignore[attr-defined]
    check.__doc__ = title()


def checks_of(data: dict[str, Any]) -> dict[str, list[Check]]:
    """Every declared blank of one ``<stem>_selfcheck.json`` -> its checks, in order."""
    return {name: Blank(blank).checks() for name, blank in data["blanks"].items()}
