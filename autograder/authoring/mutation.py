"""Mutants of a reference solution, made from its syntax tree: each one small change a student's mistake could make.

:func:`mutants` yields, for one blank's reference (a function or a class, as source), one :class:`Mutant` per
place and kind of change:

- arithmetic: ``+ -``, ``* /``, ``**`` to ``*``, ``@`` to ``*``, a unary minus dropped;
- comparisons: ``< <=``, ``> >=``, ``< >``, ``== !=``;
- constants: a number plus or minus one (0 and 1 swapped), True and False swapped;
- reductions: ``sum mean``, ``max min``, ``amax amin``, ``argmax argmin``, a ``dim`` changed, ``keepdim`` dropped;
- transposes dropped (``.T``, ``.t()``, ``.transpose(...)``, ``.permute(...)``);
- the graph: ``.detach()`` on what is returned, the body under ``torch.no_grad()``, a ``no_grad`` block unwrapped;
- loop bounds: ``range(n)`` to ``range(n - 1)`` and ``range(n + 1)``;
- in place: ``x.op_(...)`` to ``x.op(...)``, ``x += y`` to ``x = x + y``;
- a statement dropped; the first two positional arguments of a call swapped.

Python's ``ast`` does it: the mutation libraries on the package registry (mutmut, cosmic-ray) mutate files and run
a test command per mutant, while a course grades a mutant as a notebook among others in one sandboxed batch.
"""
from __future__ import annotations

import ast
import copy
import difflib
from dataclasses import dataclass
from typing import Callable, Iterator

SWAPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
         ast.MatMult: ast.Mult, ast.FloorDiv: ast.Div}
COMPARES = {ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt,), ast.Gt: (ast.GtE, ast.Lt), ast.GtE: (ast.Gt,),
            ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,)}
REDUCTIONS = {"sum": "mean", "mean": "sum", "max": "min", "min": "max", "amax": "amin", "amin": "amax",
              "argmax": "argmin", "argmin": "argmax", "logsumexp": "sum"}
TRANSPOSES = {"t", "transpose", "permute", "mT"}


@dataclass(frozen=True)
class Mutant:
    blank: str
    what: str  # the change, in words: "line 3: + -> -"
    source: str  # the whole mutated definition

    def diff(self, original: str) -> str:
        """The change, as a unified diff against the reference written the way mutants are (ast.unparse)."""
        reference = ast.unparse(ast.parse(original)) + "\n"
        return "".join(difflib.unified_diff(reference.splitlines(True), self.source.splitlines(True),
                                            "reference", "mutant", n=1))


def definition(module_source: str, name: str) -> str:
    """The source of the function or class ``name`` of a module."""
    tree = ast.parse(module_source)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return ast.get_source_segment(module_source, node) + "\n"
    raise KeyError(f"{name} is not defined at the top of the reference module")


class _Sites(ast.NodeVisitor):
    """Every place of a tree a mutation applies to, as (node path, kind of change, words)."""

    def __init__(self) -> None:
        self.sites: list[tuple[int, str, str]] = []
        self._index = 0
        self.nodes: list[ast.AST] = []

    def generic_visit(self, node: ast.AST) -> None:
        index = len(self.nodes)
        self.nodes.append(node)
        for kind, words in _changes(node):
            self.sites.append((index, kind, words))
        super().generic_visit(node)


def _changes(node: ast.AST) -> Iterator[tuple[str, str]]:
    line = f"line {getattr(node, 'lineno', '?')}"
    if isinstance(node, ast.BinOp) and type(node.op) in SWAPS:
        yield "binop", f"{line}: {_op(node.op)} -> {_op(SWAPS[type(node.op)]())}"
    elif isinstance(node, ast.AugAssign):
        if type(node.op) in SWAPS:
            yield "augop", f"{line}: {_op(node.op)}= -> {_op(SWAPS[type(node.op)]())}="
        yield "augassign", f"{line}: {_op(node.op)}= written out (a new object)"
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        yield "unary", f"{line}: {'-' if isinstance(node.op, ast.USub) else 'not'} dropped"
    elif isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARES:
        for i, to in enumerate(COMPARES[type(node.ops[0])]):
            yield f"compare{i}", f"{line}: {_op(node.ops[0])} -> {_op(to())}"
    elif isinstance(node, ast.Constant) and type(node.value) in (int, float) and not isinstance(node.value, bool):
        yield "plus", f"{line}: {node.value!r} -> {node.value + 1!r}"
        yield "minus", f"{line}: {node.value!r} -> {_minus(node.value)!r}"
    elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
        yield "bool", f"{line}: {node.value} -> {not node.value}"
    elif isinstance(node, ast.Attribute) and node.attr in REDUCTIONS and isinstance(node.ctx, ast.Load):
        yield "reduction", f"{line}: .{node.attr} -> .{REDUCTIONS[node.attr]}"
    elif isinstance(node, ast.Attribute) and node.attr == "T":
        yield "transpose_attr", f"{line}: .T dropped"
    elif isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in TRANSPOSES and not node.keywords:
            yield "transpose_call", f"{line}: .{func.attr}(...) dropped"
        if isinstance(func, ast.Attribute) and func.attr.endswith("_") and not func.attr.startswith("_") \
                and len(func.attr) > 2:
            yield "inplace", f"{line}: .{func.attr}(...) -> .{func.attr[:-1]}(...) (not in place)"
        if isinstance(func, ast.Name) and func.id == "range" and len(node.args) == 1:
            yield "range_less", f"{line}: range(n) -> range(n - 1)"
            yield "range_more", f"{line}: range(n) -> range(n + 1)"
        if len(node.args) >= 2 and not any(isinstance(a, ast.Starred) for a in node.args[:2]):
            yield "swap_args", f"{line}: the first two arguments swapped"
        for k, kw in enumerate(node.keywords):
            if kw.arg == "keepdim":
                yield f"keepdim{k}", f"{line}: keepdim dropped"
            if kw.arg == "dim" and isinstance(kw.value, (ast.Constant, ast.UnaryOp)):
                yield f"dim{k}", f"{line}: dim changed"
    elif isinstance(node, ast.Return) and node.value is not None:
        yield "detach", f"{line}: what is returned is detached from the graph"
    elif isinstance(node, ast.With) and any(_is_no_grad(item.context_expr) for item in node.items):
        yield "unwrap", f"{line}: the torch.no_grad() block unwrapped"
    if isinstance(node, ast.stmt) and not isinstance(node, (ast.FunctionDef, ast.ClassDef)):
        yield "drop", f"{line}: the statement dropped"


def _op(op: ast.AST) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@",
            ast.FloorDiv: "//", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==",
            ast.NotEq: "!="}[type(op)]


def _minus(value: float | int) -> float | int:
    return 1 if value == 0 else value - 1


def _is_no_grad(expr: ast.AST) -> bool:
    return isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and expr.func.attr == "no_grad"


def _apply(node: ast.AST, kind: str, parents: dict[int, ast.AST]) -> bool:
    """Change ``node`` in place (or its parent's list of statements); False when the change makes no program."""
    if kind == "binop":
        node.op = SWAPS[type(node.op)]()
    elif kind == "augop":
        node.op = SWAPS[type(node.op)]()
    elif kind == "augassign":
        target = copy.deepcopy(node.target)
        target.ctx = ast.Load()
        return _replace(node, ast.Assign(targets=[node.target], value=ast.BinOp(target, node.op, node.value),
                                         lineno=node.lineno), parents)
    elif kind == "unary":
        return _replace(node, node.operand, parents)
    elif kind.startswith("compare"):
        node.ops = [COMPARES[type(node.ops[0])][int(kind[-1])]()]
    elif kind == "plus":
        node.value = node.value + 1
    elif kind == "minus":
        node.value = _minus(node.value)
    elif kind == "bool":
        node.value = not node.value
    elif kind == "reduction":
        node.attr = REDUCTIONS[node.attr]
    elif kind == "transpose_attr":
        return _replace(node, node.value, parents)
    elif kind == "transpose_call":
        return _replace(node, node.func.value, parents)
    elif kind == "inplace":
        node.func.attr = node.func.attr[:-1]
    elif kind in ("range_less", "range_more"):
        node.args[0] = ast.BinOp(node.args[0], ast.Sub() if kind == "range_less" else ast.Add(), ast.Constant(1))
    elif kind == "swap_args":
        node.args[0], node.args[1] = node.args[1], node.args[0]
    elif kind.startswith("keepdim"):
        del node.keywords[int(kind[len("keepdim"):])]
    elif kind.startswith("dim"):
        kw = node.keywords[int(kind[len("dim"):])]
        value = ast.literal_eval(kw.value)
        kw.value = ast.Constant(value - 1 if value > 0 else value + 1 if value < -1 else 1 - value)
    elif kind == "detach":
        node.value = ast.Call(ast.Attribute(node.value, "detach", ast.Load()), [], [])
    elif kind == "unwrap":
        return _replace_with_body(node, node.body, parents)
    elif kind == "drop":
        return _replace_with_body(node, [ast.Pass()], parents)
    return True


def _replace(node: ast.AST, new: ast.AST, parents: dict[int, ast.AST]) -> bool:
    parent = parents.get(id(node))
    if parent is None:
        return False
    for field, value in ast.iter_fields(parent):
        if value is node:
            setattr(parent, field, new)
            return True
        if isinstance(value, list) and any(v is node for v in value):
            value[[i for i, v in enumerate(value) if v is node][0]] = new
            return True
    return False


def _replace_with_body(node: ast.AST, body: list[ast.stmt], parents: dict[int, ast.AST]) -> bool:
    parent = parents.get(id(node))
    for field, value in ast.iter_fields(parent) if parent is not None else ():
        if isinstance(value, list) and any(v is node for v in value):
            i = [k for k, v in enumerate(value) if v is node][0]
            value[i:i + 1] = body
            if not value:
                value.append(ast.Pass())
            return True
    return False


def mutants(blank: str, source: str) -> list[Mutant]:
    """Every single-change mutant of ``source`` (one function or class definition), without duplicates, each one a
    program that compiles and differs from the reference."""
    original = ast.unparse(ast.parse(source))
    sites = _Sites()
    sites.visit(ast.parse(source))
    found: dict[str, Mutant] = {}
    for index, kind, words in sites.sites:
        tree = ast.parse(source)
        walker = _Sites()
        walker.visit(tree)
        node = walker.nodes[index]
        parents = {id(child): parent for parent in walker.nodes for child in ast.iter_child_nodes(parent)}
        try:
            if not _apply(node, kind, parents):
                continue
            ast.fix_missing_locations(tree)
            text = ast.unparse(tree)
            compile(text, f"<mutant of {blank}>", "exec")
        except (SyntaxError, ValueError, TypeError, IndexError, KeyError):
            continue
        if text != original and text not in found:
            found[text] = Mutant(blank, words, text + "\n")
    if source.strip():
        body = ast.parse(source).body[0]
        if isinstance(body, ast.FunctionDef):  # the whole body under no_grad (the answer cut from the graph)
            tree = ast.parse(source)
            fn = tree.body[0]
            fn.body = [ast.With([ast.withitem(ast.parse("torch.no_grad()", mode="eval").body)], fn.body)]
            ast.fix_missing_locations(tree)
            text = ast.unparse(tree)
            found.setdefault(text, Mutant(blank, "the body computed under torch.no_grad()", text + "\n"))
    return list(found.values())


def sample(all_mutants: list[Mutant], per_blank: int, key: Callable[[Mutant], str] = lambda m: m.what) -> list[Mutant]:
    """A deterministic sample of at most ``per_blank`` mutants of each blank, spread over the kinds of change."""
    by_blank: dict[str, list[Mutant]] = {}
    for m in all_mutants:
        by_blank.setdefault(m.blank, []).append(m)
    out = []
    for blank, ms in by_blank.items():
        step = max(1, len(ms) // per_blank)
        out += ms[::step][:per_blank]
    return out
