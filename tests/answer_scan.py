"""Find a blank's reference code in what students receive (used by ``tests/test_no_answers.py``).

**The references.** Each blank (an nbgrader solution cell's ``grade_id``, learned by :class:`autograder.grading.course.Course`)
has its reference in ``solutions/<stem>.py``: the function, or for a class the methods, named like the blank. What the
blank's release cell already gives away (``TwoBranchNet.__init__``) and what the exercise itself dictates
(:data:`GIVEN_BY_THE_EXERCISE`) are not part of its answer and are left out.

**Normalisation.** Code is parsed with :mod:`ast` and compared as trees, so formatting and comments never matter;
docstrings are dropped; expression contexts (Load/Store) are ignored; constants are kept (``6`` and ``6.0`` are the
same number). Identifiers become positional placeholders (``x * w + b`` and ``a * b + c`` are the same code, unlike
``a * a + c``), except the *vocabulary*, which is kept: Python's builtins, the modules the references use (``torch``,
``nn``, ``math``, and ``np``, ``F``) and the blanks' own names. Attribute and keyword names (``.exp``, ``dim=``) are
kept. A reference's local variables assigned once are also inlined into their uses (``e = torch.exp(-z.abs())`` then
``1 / (1 + e)`` is also ``1 / (1 + torch.exp(-z.abs()))``), except objects with a state (``losses = []``,
``optimizer = torch.optim.SGD(...)``).

**Size.** A fragment's size is its number of nodes, operators included (``x * w + b`` is BinOp, BinOp, Name, Mult,
Name, Add, Name: 7), not counting a statement's bookkeeping (the Expr, Return or Assign node itself and what an
assignment binds: ``expected = x * w + b`` is 7 too) and counting a call of a blank (``mse_loss(linear_model(x, w, b),
y)``: the student's own functions) as one node.

**The rule.** A shipped piece of code (a statement or an expression of a ``.py`` file, of a notebook's code cell or of
a fenced ``python`` block of a text file) answers a blank when

1. *whole body*: a run of consecutive statements equals the blank's whole normalised body (any size), e.g. a helper
   ``return t.squeeze(1)`` for ``drop_channel_dim``; or
2. *fragment*: it equals a statement or expression of the reference (as written or inlined) except in at most one
   place (one subtree, or one list of arguments or statements), and the nodes outside that place number at least
   :data:`MIN_NODES`. So ``expected = x * w + b``, ``1 / (1 + torch.exp(-z))`` (the reference's
   ``1 / (1 + torch.exp(-z.abs()))`` but for one place: 11 nodes shared), ``torch.exp(z - z.max(dim=1,
   keepdim=True).values)``, ``torch.save(net.state_dict(), path)``, a training loop's ``w -= lr * w.grad`` or
   ``with torch.no_grad(): ...`` are answers; an import, ``return net``, ``fn(x)``, ``x.squeeze(1)`` alone (4 nodes),
   ``torch.load(path, weights_only=True)`` (6), ``losses.append(loss.item())`` (6) or
   ``a = math.sqrt(6 / (300 + 100))`` (numbers where the reference has variables: ``math.sqrt(6 / ...)`` shares 6) are
   not; or
3. *built-in*: it names a torch built-in that computes the blank by itself (:data:`BUILTIN_ANSWERS`: the spec's
   "Forbidden" built-ins, and torch's own ``mse_loss`` and ``xavier_uniform_``), e.g. ``torch.softmax(z, dim=-1)``
   as the expected value of ``softmax``.
"""
from __future__ import annotations

import ast
import builtins
import copy
import json
import re
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from autograder.grading.course import Course

MIN_NODES = 7
VOCABULARY_MODULES = {"torch", "nn", "math", "np", "numpy", "F", "functional"}
BUILTIN_ANSWERS = {
    "sigmoid": {"sigmoid", "expit", "Sigmoid", "logsigmoid", "LogSigmoid"},
    "bce_loss": {"binary_cross_entropy", "binary_cross_entropy_with_logits", "BCELoss", "BCEWithLogitsLoss"},
    "softmax": {"softmax", "log_softmax", "Softmax", "LogSoftmax"},
    "cross_entropy": {"cross_entropy", "nll_loss", "log_softmax", "CrossEntropyLoss", "NLLLoss", "LogSoftmax"},
    "mse_loss": {"mse_loss", "MSELoss"},
    "init_xavier": {"xavier_uniform_", "xavier_uniform"},
}
# What an exercise itself dictates is not its answer: double_backward differentiates a given function, from "a leaf
# copy that requires grad" (the spec's words; its self-check's hint spells the code, and any code that needs a leaf
# writes it the same way).
GIVEN_BY_THE_EXERCISE = {"double_backward": ["(x**2 + 3 * x).sum()", "x.detach().clone().requires_grad_(True)"]}


# ------------------------------------------------------------------------------------------------- normalised trees
class Node:
    """A normalised AST node: its kind, its scalar fields, its placeholder name (identifiers outside the
    vocabulary), its child slots (a Node, None, or a tuple of Nodes for a list field), its size (see
    :func:`counted`) and a hash in which placeholders are anonymous."""

    __slots__ = ("kind", "scal", "ph", "kids", "size", "h", "line", "src", "opaque", "weights")

    def __init__(self, kind, scal, ph, kids, line, opaque=False):
        self.kind, self.scal, self.ph, self.kids, self.line, self.opaque = kind, scal, ph, kids, line, opaque
        own, uncounted = _BOOKKEEPING.get(kind, (1, ()))
        self.weights = tuple(0 if i in uncounted else 1 for i in range(len(kids)))
        self.size = 1 if opaque else own + sum(w * _slot_size(k) for w, k in zip(self.weights, kids))
        self.h = hash((kind, scal, tuple(_slot_hash(k) for k in kids)))
        self.src = None


# A statement's bookkeeping is not counted: the Expr / Return / Assign node itself and what an assignment binds
# (kind: (own weight, child slots not counted)); only the code that computes is.
_BOOKKEEPING = {"Expr": (0, ()), "Return": (0, ()), "Assign": (0, (0,)), "AnnAssign": (0, (0, 1)),
                "AugAssign": (0, ())}


def _slot_size(slot) -> int:
    if slot is None:
        return 0
    if isinstance(slot, Node):
        return slot.size
    return sum(n.size for n in slot)


def _slot_hash(slot):
    if slot is None:
        return None
    if isinstance(slot, Node):
        return slot.h
    return tuple(n.h for n in slot)


_IDENT_FIELDS = {"Name": "id", "arg": "arg", "FunctionDef": "name", "AsyncFunctionDef": "name", "ClassDef": "name"}


def _strip_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _constant(value):
    if isinstance(value, bool) or value is None or value is Ellipsis:
        return (type(value).__name__, value)
    if isinstance(value, (int, float)):
        return ("number", float(value))
    return (type(value).__name__, value)


def convert(node: ast.AST, vocabulary: frozenset[str], blank_names: frozenset[str] = frozenset()) -> Node:
    """``node`` as a normalised :class:`Node` tree. A call of a blank (``mse_loss(linear_model(x, w, b), y)``: the
    student's own functions) counts as one node: what it computes is the student's, not the caller's code."""
    kind = type(node).__name__
    ident = _IDENT_FIELDS.get(kind)
    scal, ph, kids = [], None, []
    for name, value in ast.iter_fields(node):
        if name in ("ctx", "type_comment", "kind", "type_params"):
            continue
        if name == ident:
            if value in vocabulary:
                scal.append(value)
            else:
                ph = value
            continue
        if name == "body" and kind in ("FunctionDef", "AsyncFunctionDef", "ClassDef", "Module"):
            value = _strip_docstring(value)
        if isinstance(value, ast.AST):
            kids.append(convert(value, vocabulary, blank_names))
        elif isinstance(value, list):
            if value and all(isinstance(v, ast.AST) for v in value):
                kids.append(tuple(convert(v, vocabulary, blank_names) for v in value))
            elif value:
                scal.append((name, tuple(value)))
            else:
                kids.append(())
        elif value is None:
            kids.append(None)
        elif kind == "Constant" and name == "value":
            scal.append(_constant(value))
        else:
            scal.append((name, value))
    opaque = kind == "Call" and isinstance(node.func, ast.Name) and node.func.id in blank_names
    out = Node(kind, tuple(scal), ph, tuple(kids), getattr(node, "lineno", 0), opaque)
    out.src = node
    return out


def walk(node: Node) -> Iterator[Node]:
    yield node
    for slot in node.kids:
        if isinstance(slot, Node):
            yield from walk(slot)
        elif slot:
            for child in slot:
                yield from walk(child)


def blocks(node: Node) -> Iterator[tuple[Node, ...]]:
    """Every list of statements under ``node`` (bodies, orelse, finalbody)."""
    for slot in node.kids:
        if isinstance(slot, tuple) and slot and _is_stmt(slot[0]):
            yield slot
        if isinstance(slot, Node):
            yield from blocks(slot)
        elif slot:
            for child in slot:
                yield from blocks(child)


_STMT = {c.__name__ for c in ast.stmt.__subclasses__()}
_WRAPPERS = {"Expr", "Return", "Assign", "AnnAssign"}  # statements whose counted nodes are all their value's
_EXPR = {c.__name__ for c in ast.expr.__subclasses__()}


def _is_stmt(n: Node) -> bool:
    return n.kind in _STMT


class _Mapping:
    """The placeholder correspondence found so far (a bijection), copied on write."""

    __slots__ = ("f", "e")

    def __init__(self, f=None, e=None):
        self.f, self.e = f or {}, e or {}

    def bind(self, a: str, b: str) -> "_Mapping | None":
        if self.f.get(a, b) != b or self.e.get(b, a) != a:
            return None
        if a in self.f:
            return self
        return _Mapping({**self.f, a: b}, {**self.e, b: a})


EQUAL = None  # what diff() says of two equal trees


def diff(f: Node, e: Node, m: _Mapping) -> tuple[int | None, _Mapping]:
    """Where ``e`` differs from ``f``: ``EQUAL`` (None) with the placeholder mapping extended when they are equal,
    else how many counted nodes of ``f`` lie in the one place (a subtree, or a list of children) that holds every
    difference (all of ``f`` when no single place below its root does)."""
    if f.opaque:
        place, m2 = _diff(f, e, m)
        return (EQUAL, m2) if place is EQUAL else (f.size, m)
    return _diff(f, e, m)


def _diff(f: Node, e: Node, m: _Mapping) -> tuple[int | None, _Mapping]:
    if f.kind != e.kind or f.scal != e.scal or len(f.kids) != len(e.kids) or f.opaque != e.opaque:
        return f.size, m
    if f.ph is not None or e.ph is not None:
        bound = m.bind(f.ph, e.ph) if f.ph is not None and e.ph is not None else None
        if bound is None:
            return f.size, m
        m = bound
    place, where = EQUAL, None  # where: (slot, element index or "all")
    for i, (fs, es, w) in enumerate(zip(f.kids, e.kids, f.weights)):
        if isinstance(fs, tuple) and isinstance(es, tuple) and len(fs) == len(es):
            for j, (fc, ec) in enumerate(zip(fs, es)):
                inner, m2 = diff(fc, ec, m)
                if inner is EQUAL:
                    m = m2
                elif where is None:
                    place, where = inner * w, (i, j)
                elif where[0] == i:
                    place, where = _slot_size(fs) * w, (i, "all")
                else:
                    return f.size, m
            continue
        if isinstance(fs, Node) and isinstance(es, Node):
            inner, m2 = diff(fs, es, m)
            if inner is EQUAL:
                m = m2
                continue
        elif fs is None and es is None:
            continue
        else:  # lists of different lengths, a child against none
            inner = _slot_size(fs)
        if where is not None:
            return f.size, m
        place, where = inner * w, (i, "all")
    return place, m


def shared_nodes(f: Node, e: Node) -> int:
    """How many counted nodes of ``f`` lie outside the one place where ``e`` differs from it (all of them when
    they are equal, none when they differ in more than one place)."""
    place, _ = diff(f, e, _Mapping())
    return f.size - (place or 0)


def slot_keys(n: Node) -> list:
    """Keys under which two nodes that differ in at most one place below the root are equal: one per child slot,
    that slot left out."""
    hashes = tuple(_slot_hash(k) for k in n.kids)
    return [(n.kind, n.scal, i, hashes[:i] + hashes[i + 1:]) for i in range(len(hashes))] or [(n.kind, n.scal, -1, ())]


# ------------------------------------------------------------------------------------------------------ references
@dataclass
class Fragment:
    blank: str
    node: Node
    text: str


@dataclass
class Reference:
    blank: str
    bodies: list[tuple[Node, ...]]  # the whole normalised body of each function that is the answer
    fragments: list[Fragment]  # largest first


class _Inline(ast.NodeTransformer):
    def __init__(self, values: dict[str, ast.expr]):
        self.values = values

    def visit_Name(self, node: ast.Name):
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            return copy.deepcopy(self.values[node.id])
        return node


def _stateful(value: ast.expr) -> bool:
    """A value that is an object with a state rather than a computed value: a container display (``losses = []``)
    or a constructed object (``optimizer = torch.optim.SGD(...)``, a name starting with a capital letter)."""
    if isinstance(value, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp)):
        return True
    if isinstance(value, ast.Call):
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name[:1].isupper()
    return False


def inline(func: ast.FunctionDef) -> ast.FunctionDef:
    """``func`` with each local assigned exactly once (``a = ...``, or ``a, b = t`` as ``t[0]``, ``t[1]``) replaced by
    its value wherever it is read (values inlined in turn), except objects with a state (:func:`_stateful`)."""
    targets: dict[str, int] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            targets[node.id] = targets.get(node.id, 0) + 1
        elif isinstance(node, ast.arg):
            targets[node.arg] = targets.get(node.arg, 0) + 2  # arguments are never inlined
    func = copy.deepcopy(func)
    values: dict[str, ast.expr] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and not _stateful(node.value):
            target = node.targets[0]
            if isinstance(target, ast.Name) and targets.get(target.id) == 1:
                values[target.id] = node.value
            elif isinstance(target, ast.Tuple) and all(isinstance(t, ast.Name) for t in target.elts):
                for k, t in enumerate(target.elts):
                    if targets.get(t.id) == 1:
                        values[t.id] = ast.Subscript(value=node.value, slice=ast.Constant(k), ctx=ast.Load())
    for _ in range(len(values) + 1):  # values that use other inlined values
        values = {k: _Inline({n: v for n, v in values.items() if n != k}).visit(copy.deepcopy(v))
                  for k, v in values.items()}
    return ast.fix_missing_locations(_Inline(values).visit(func))


def blank_names(course: Course) -> frozenset[str]:
    return frozenset(b for a in course.assignments.values() for b in a.blanks)


def vocabulary(course: Course) -> frozenset[str]:
    return frozenset(set(dir(builtins)) | VOCABULARY_MODULES | blank_names(course))


def _stub_cell(course: Course, a, blank: str) -> str:
    nb = json.loads((course.release(a) / a.notebook).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == blank:
            source = cell.get("source", "")
            return "".join(source) if isinstance(source, list) else source
    return ""


def references(course: Course) -> list[Reference]:
    """Every blank's reference: its whole body and its fragments, less what its release cell gives away."""
    vocab, blanks = vocabulary(course), blank_names(course)
    out = []
    for a in course.assignments.values():
        module = ast.parse(course.solutions(a).read_text(encoding="utf-8"))
        defs = {d.name: d for d in module.body if isinstance(d, (ast.FunctionDef, ast.ClassDef))}
        for blank in a.blanks:
            if blank not in defs:
                raise AssertionError(f"solutions/{a.stem}.py defines no {blank}")
            stub = convert(ast.parse(_stub_cell(course, a, blank)), vocab, blanks)
            given = {n.h for n in walk(stub)} | {n.h for code in GIVEN_BY_THE_EXERCISE.get(blank, ())
                                                 for n in walk(convert(ast.parse(code), vocab, blanks))}
            given_funcs = {n.h for n in walk(stub) if n.kind == "FunctionDef"}
            funcs = [defs[blank]] if isinstance(defs[blank], ast.FunctionDef) else \
                [d for d in defs[blank].body if isinstance(d, ast.FunctionDef)]
            bodies: list[tuple[Node, ...]] = []
            fragments: dict[int, Fragment] = {}
            for func in funcs:
                if convert(func, vocab, blanks).h in given_funcs:
                    continue  # given in full by the release cell (TwoBranchNet.__init__)
                for variant in (func, inline(func)):
                    tree = convert(variant, vocab, blanks)
                    if variant is func:
                        bodies.append(tree.kids[1])  # FunctionDef: args, body, ...
                    for n in walk(tree):
                        if n is tree or n.kind not in _STMT | _EXPR or n.kind in _WRAPPERS or n.size < MIN_NODES \
                                or n.h in given:
                            continue  # a wrapper statement counts as its value, which is a fragment of its own
                        fragments.setdefault(n.h, Fragment(blank, n, ast.unparse(n.src)))
            out.append(Reference(blank, bodies, sorted(fragments.values(), key=lambda f: -f.node.size)))
    return out


# ------------------------------------------------------------------------------------------------------- scanning
@dataclass(frozen=True)
class Hit:
    where: str  # file:line (a file inside an archive as archive!member, a notebook's cell as [cell k])
    path: str  # the file, relative to the checkout or to the archive's top folder
    blank: str
    rule: str
    code: str  # the shipped line that matched
    reference: str  # what of the reference it matches

    def __str__(self) -> str:
        reference = self.reference.splitlines()[0] + (" ..." if "\n" in self.reference else "")
        return f"{self.where}: answers {self.blank} ({self.rule}): `{self.code}` ~ reference `{reference}`"


class Scanner:
    """Finds the blanks' answers (the rule in this module's docstring) in Python source, notebooks, text files,
    folders and archives."""

    def __init__(self, course: Course):
        self.vocab, self.blank_names = vocabulary(course), blank_names(course)
        self.refs = references(course)
        self.builtins = {name: blank for blank, names in BUILTIN_ANSWERS.items() if blank in self.blank_names
                         for name in names}

    def scan_source(self, source: str, path: str, where: str | None = None, line_offset: int = 0) -> list[Hit]:
        """The answers in one piece of Python source (``where`` names it in reports; a cell's line offset)."""
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return []
        where = where or path
        root = convert(tree, self.vocab, self.blank_names)
        lines = source.splitlines()
        hits: list[Hit] = []

        def hit(line: int, blank: str, rule: str, reference: str) -> None:
            code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            hits.append(Hit(f"{where}:{line + line_offset}", path, blank, rule, code, reference))

        index: dict = {}
        for n in walk(root):
            if n.kind in _STMT or n.kind in _EXPR:
                for key in slot_keys(n):
                    index.setdefault(key, []).append(n)
        statement_blocks = list(blocks(root))
        for ref in self.refs:
            for body in ref.bodies:
                for block in statement_blocks:
                    for i in range(len(block) - len(body) + 1):
                        m = _Mapping()
                        for f, e in zip(body, block[i:i + len(body)]):
                            place, m = diff(f, e, m)
                            if place is not EQUAL:
                                break
                        else:
                            hit(block[i].line, ref.blank, "whole body", "; ".join(ast.unparse(s.src) for s in body))
            for frag in ref.fragments:
                seen: set[int] = set()
                for key in slot_keys(frag.node):
                    for n in index.get(key, ()):
                        if id(n) not in seen:
                            seen.add(id(n))
                            if shared_nodes(frag.node, n) >= MIN_NODES:
                                hit(n.line, ref.blank, "fragment", frag.text)
        for node in ast.walk(tree):
            names = [node.attr] if isinstance(node, ast.Attribute) else \
                [a.name for a in node.names] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                if name in self.builtins:
                    hit(node.lineno, self.builtins[name], "built-in", f"the built-in {name}")
        return _dedupe(hits)

    def scan_notebook(self, text: str, path: str, where: str | None = None) -> list[Hit]:
        """A notebook's code cells (IPython's ``%magic`` and ``!shell`` lines read as ``pass``)."""
        hits = []
        for k, cell in enumerate(json.loads(text).get("cells", [])):
            if cell.get("cell_type") != "code":
                continue
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            source = "\n".join("pass" if line.lstrip().startswith(("%", "!")) else line
                               for line in source.splitlines())
            hits += self.scan_source(source, path, f"{where or path}[cell {k}]")
        return hits

    def scan_text(self, text: str, path: str, where: str | None = None) -> list[Hit]:
        """The fenced ``python`` blocks of a text file (README.md)."""
        hits = []
        for match in re.finditer(r"^```(?:python|py)\n(.*?)^```", text, re.M | re.S):
            hits += self.scan_source(match.group(1), path, where, text.count("\n", 0, match.start(1)))
        return hits

    def scan_file(self, path: str, data: bytes, where: str | None = None) -> list[Hit]:
        """One file a student receives, by its kind: Python source, a notebook, a text file; others hold no code."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return []
        if path.endswith(".py"):
            return self.scan_source(text, path, where)
        if path.endswith(".ipynb"):
            return self.scan_notebook(text, path, where)
        if path.endswith((".md", ".txt", ".rst")):
            return self.scan_text(text, path, where)
        return []

    def scan_archive(self, archive: Path) -> list[Hit]:
        """Every file of a wheel (zip) or an sdist (tar.gz; paths relative to its top folder)."""
        hits = []
        for name, data in _members(archive):
            path = name.split("/", 1)[1] if archive.name.endswith(".tar.gz") and "/" in name else name
            hits += self.scan_file(path, data, f"{archive.name}!{name}")
        return hits

    def scan_folder(self, folder: Path, root: Path) -> list[Hit]:
        """Every file under ``folder`` (paths relative to ``root``)."""
        hits = []
        for file in sorted(folder.rglob("*")):
            if file.is_file() and "__pycache__" not in file.parts and ".ipynb_checkpoints" not in file.parts:
                hits += self.scan_file(file.relative_to(root).as_posix(), file.read_bytes())
        return hits


def _members(archive: Path) -> Iterable[tuple[str, bytes]]:
    if archive.suffix in (".whl", ".zip"):
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                yield name, z.read(name)
    else:
        with tarfile.open(archive) as t:
            for member in t.getmembers():
                f = t.extractfile(member) if member.isfile() else None
                if f is not None:
                    yield member.name, f.read()


def _dedupe(hits: list[Hit]) -> list[Hit]:
    """One hit per line and blank (the widest rule first: a whole body, then the largest fragment)."""
    seen, out = set(), []
    for h in hits:
        if (h.where, h.blank) not in seen:
            seen.add((h.where, h.blank))
            out.append(h)
    return out
