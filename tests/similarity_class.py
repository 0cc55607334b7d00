"""A generated class of submissions with planted copies, for the tests of autograder.after.similarity.

``make_class(course, folder, ["02_linear_regression", ...])`` writes ``<folder>/<student>/<assignment>/<stem>.ipynb``
for about 30 students per assignment, every answer drawn from the catalogs (``catalog/`` and ``catalog_external/``,
correct answers and mistakes), and returns which pairs copied.

How honest students write (the premise of any copy detector: independent work differs in small ways):

- each blank's answers are dealt: every distinct catalog answer to one student (two catalog answers that are one
  answer written twice, the same public code adapted twice, count once), the course notes' answer (the catalog's
  first correct one) to the rest of the class, a quarter of it at least;
- an answer of several statements gets two to five edits of the student's own (``a + b`` as ``b + a``, ``x += y``
  as ``x = x + y``, ``len(x)`` as ``x.shape[0]``, ``t.mean()`` as ``torch.mean(t)``, ``t.item()`` as
  ``float(t)``, ``2`` as ``2.0``, ``range(n)`` as ``range(0, n)``, a temporary for the result or for a call's
  argument, a progress print in a loop), as two people writing the same idea do; a one-statement answer is left
  as the catalog has it, so that many students share one-line answers, as real classes do;
- two leave two blanks each as the release has them (the stub), and two more hand in nothing but the stubs, the
  course notes' one-line answers and the same unusual one-line answer: they share only the release's code and
  one-liners, and must not be flagged;
- two write a blank's code in a new cell of their own, leaving the graded cell as the stub.

How copiers copy: another student's answers (those that are the source's own, not the course notes', and each
other with probability 1/2), with every local name and ``self.`` attribute renamed, the code re-laid (indentation,
spacing, blank lines, redundant parentheses), independent adjacent assignments swapped, comments and ``print`` calls
added. Per assignment, five students copy five others and two more copy the same source (a trio, whose three pairs
are all planted): 8 planted pairs.
"""
from __future__ import annotations

import ast
import copy
import difflib
import random
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from autograder.authoring.catalog import Variant, load_catalog
from autograder.authoring.fill import filled_release, grade_id, write
from autograder.grading.course import Assignment, Course

REPO = Path(__file__).resolve().parents[1]
WORDS = ["alpha", "beta", "gamma", "delta", "tmp", "val", "acc", "res", "item", "foo", "bar", "thing", "step_",
         "q", "z", "cur", "out", "data_", "grad_", "hold", "keep", "part", "piece", "elem", "vec"]
COMMENTS = ["# compute the result", "# update", "# TODO check this", "# loop over the data", "# as in the lecture",
            "# keep track", "# this is the important part", "# not sure about this"]
METHOD_FUNCS = {"mean", "sum", "exp", "log", "sigmoid", "abs", "sqrt", "matmul", "log_softmax", "softmax"}


@dataclass
class GeneratedClass:
    root: Path
    planted: dict[str, set[frozenset[str]]] = field(default_factory=dict)  # assignment -> pairs that copied
    code: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)  # assignment -> student -> blank -> code


# -- parsing helpers ---------------------------------------------------------------------------------------------
def _bodies(tree: ast.AST) -> list[list[ast.stmt]]:
    return [node.body for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.For, ast.While, ast.With,
                                                                        ast.If, ast.ClassDef))]


def _names(node: ast.AST, ctx: type) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ctx)}


def statements(code: str) -> int:
    """How many statements a blank's answer has inside its definitions (a one-line answer has 1)."""
    tree = ast.parse(code)
    return sum(1 for body in _bodies(tree) for s in body if not isinstance(s, (ast.FunctionDef, ast.ClassDef)))


# -- a student's own way of writing an idea --------------------------------------------------------------------
class _OwnEdit(ast.NodeTransformer):
    """One small rewrite at the ``target``-th eligible place: what an independent author writes differently."""

    def __init__(self, target: int, rng: random.Random):
        self.seen, self.target, self.rng = 0, target, rng

    def _here(self) -> bool:
        self.seen += 1
        return self.seen - 1 == self.target

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        visible = not (isinstance(node.left, ast.Name) and isinstance(node.right, ast.Name))  # names all read "V"
        if isinstance(node.op, (ast.Add, ast.Mult)) and visible and self._here():
            return ast.BinOp(node.right, node.op, node.left)
        if (isinstance(node.op, ast.Pow) and isinstance(node.left, ast.Name) and isinstance(node.right, ast.Constant)
                and node.right.value == 2 and self._here()):
            return ast.BinOp(node.left, ast.Mult(), ast.Name(node.left.id, ast.Load()))
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if type(node.value) is int and node.value in (1, 2) and self._here():
            return ast.Constant(float(node.value))
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.target, ast.Name) and self._here():
            return ast.Assign([node.target], ast.BinOp(ast.Name(node.target.id, ast.Load()), node.op, node.value),
                              lineno=0)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr == "item" and not node.args and self._here():
            return ast.Call(ast.Name("float", ast.Load()), [f.value], [])
        if isinstance(f, ast.Name) and f.id == "float" and len(node.args) == 1 and self._here():
            return ast.Call(ast.Attribute(node.args[0], "item", ast.Load()), [], [])
        dims = [k for k in node.keywords if k.arg == "dim"]
        if dims and not node.args and self._here():  # t.sum(dim=0) as t.sum(0)
            return ast.Call(f, [dims[0].value], [k for k in node.keywords if k.arg != "dim"])
        if isinstance(f, ast.Name) and f.id == "range" and len(node.args) == 1 and self._here():
            return ast.Call(f, [ast.Constant(0), node.args[0]], [])
        if isinstance(f, ast.Name) and f.id == "len" and len(node.args) == 1 and self._here():
            shape = ast.Attribute(node.args[0], "shape", ast.Load())
            return ast.Subscript(shape, ast.Constant(0), ast.Load())
        if (isinstance(f, ast.Attribute) and f.attr in METHOD_FUNCS and not node.args and not node.keywords
                and not isinstance(f.value, ast.Constant) and self._here()):
            return ast.Call(ast.Attribute(ast.Name("torch", ast.Load()), f.attr, ast.Load()), [f.value], [])
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        assigned = [t.id for st in node.body if isinstance(st, ast.Assign)
                    for t in st.targets if isinstance(t, ast.Name)]
        over_range = isinstance(node.iter, ast.Call) and getattr(node.iter.func, "id", "") == "range"
        printed = any(isinstance(st, ast.If) for st in node.body)
        if over_range and isinstance(node.target, ast.Name) and node.target.id != "_" and not printed \
                and self._here():  # a progress print
            every = self.rng.choice([5, 10, 20, 25, 50, 100])
            shown = [ast.Name(n, ast.Load()) for n in [node.target.id, *assigned[:self.rng.randint(0, 1)]]]
            check = ast.Compare(ast.BinOp(ast.Name(node.target.id, ast.Load()), ast.Mod(), ast.Constant(every)),
                                [ast.Eq()], [ast.Constant(0)])
            node.body.append(ast.If(check, [ast.Expr(ast.Call(ast.Name("print", ast.Load()), shown, []))], []))
        return node

    def visit_Return(self, node: ast.Return) -> ast.AST | list[ast.stmt]:
        if node.value is not None and not isinstance(node.value, (ast.Name, ast.Tuple)) and self._here():
            return [ast.Assign([ast.Name("result", ast.Store())], node.value, lineno=0),
                    ast.Return(ast.Name("result", ast.Load()))]
        return node


def _hoistable(tree: ast.Module) -> list[tuple[list[ast.stmt], int, ast.Call]]:
    """Calls whose first argument is itself a computation, in statements of a body: (body, index, call)."""
    found = []
    for body in _bodies(tree):
        for i, stmt in enumerate(body):
            value = getattr(stmt, "value", None)
            if isinstance(stmt, (ast.Assign, ast.Expr, ast.Return)) and isinstance(value, ast.Call) and value.args \
                    and isinstance(value.args[0], (ast.Call, ast.BinOp)):
                found.append((body, i, value))
    return found


def _hoist(tree: ast.Module, rng: random.Random) -> bool:
    """``f(g(x))`` written in two steps, ``h = g(x)`` then ``f(h)``: another way of writing the same."""
    places = _hoistable(tree)
    if not places:
        return False
    body, i, call = rng.choice(places)
    name = rng.choice(["h", "tmp", "inner", "value"])
    body.insert(i, ast.Assign([ast.Name(name, ast.Store())], call.args[0], lineno=0))
    call.args[0] = ast.Name(name, ast.Load())
    return True


def own_edits(code: str, rng: random.Random, edits: int) -> str:
    tree = ast.parse(code)
    for _ in range(edits):
        if rng.random() < 0.25 and _hoist(tree, rng):
            continue
        counter = _OwnEdit(-1, rng)
        counter.visit(copy.deepcopy(tree))
        if counter.seen == 0:
            _hoist(tree, rng)
            continue
        tree = _OwnEdit(rng.randrange(counter.seen), rng).visit(tree)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


# -- a copier's disguise ---------------------------------------------------------------------------------------
def _rename(tree: ast.Module, rng: random.Random, keep: str) -> None:
    """Every parameter, local variable and ``self.`` attribute gets a new name (not ``keep``, the blank)."""
    local: set[str] = set()
    attrs: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.arg != "self":
            local.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            local.add(node.id)
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
              and isinstance(node.ctx, ast.Store)):
            attrs.add(node.attr)
    local.discard(keep)
    pool = rng.sample(WORDS, len(WORDS))
    new = {old: f"{pool[i % len(pool)]}{i}" for i, old in enumerate(sorted(local | attrs))}
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.arg in new:
            node.arg = new[node.arg]
        elif isinstance(node, ast.Name) and node.id in new:
            node.id = new[node.id]
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "self"
              and node.attr in attrs):
            node.attr = new[node.attr]


def _independent(a: ast.stmt, b: ast.stmt) -> bool:
    """Two assignments that neither read nor write what the other writes, and call nothing in place."""
    if not all(isinstance(s, ast.Assign) for s in (a, b)):
        return False
    calls = [n for s in (a, b) for n in ast.walk(s) if isinstance(n, ast.Call)]
    if any(isinstance(c.func, ast.Attribute) and (c.func.attr.endswith("_") or c.func.attr in ("backward", "step"))
           for c in calls):
        return False
    wa, wb = _names(a, ast.Store), _names(b, ast.Store)
    return not (wa & (_names(b, ast.Load) | wb)) and not (wb & _names(a, ast.Load))


def _reorder(tree: ast.Module, rng: random.Random) -> None:
    for body in _bodies(tree):
        for i in range(len(body) - 1):
            if _independent(body[i], body[i + 1]) and rng.random() < 0.8:
                body[i], body[i + 1] = body[i + 1], body[i]


def _add_prints(tree: ast.Module, rng: random.Random) -> None:
    for body in _bodies(tree):
        for i in range(len(body) - 1, -1, -1):
            stmt = body[i]
            if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name) and rng.random() < 0.5:
                shown = ast.Name(stmt.targets[0].id, ast.Load())
                label = ast.Constant(rng.choice(["debug", "value:", "check"]))
                args = [label, shown] if rng.random() < 0.5 else [shown]
                body.insert(i + 1, ast.Expr(ast.Call(ast.Name("print", ast.Load()), args, [])))


def _relayout(code: str, rng: random.Random) -> str:
    """The same code laid out differently: indentation, spaces around operators, blank lines, comments."""
    indent = rng.choice([2, 3, 8])
    out = []
    for line in code.splitlines():
        body = line.lstrip(" ")
        depth = (len(line) - len(body)) // 4
        if '"' not in body and "'" not in body and rng.random() < 0.5:
            for op in (" * ", " + ", " - ", " / ", " = "):
                body = body.replace(op, op.strip() if rng.random() < 0.5 else op)
        if body.startswith("return ") and "," not in body and rng.random() < 0.5:
            body = f"return ({body[len('return '):]})"
        if rng.random() < 0.3 and not body.startswith(("def ", "class ")):
            out.append(" " * (indent * depth) + rng.choice(COMMENTS))
        comment = f"  {rng.choice(COMMENTS)}" if rng.random() < 0.2 else ""
        out.append(" " * (indent * depth) + body + comment)
        if rng.random() < 0.15:
            out.append("")
    return "\n".join(out) + "\n"


def disguise(code: str, blank: str, rng: random.Random) -> str:
    """``code`` as a copier hands it in: renamed, reordered, with prints, re-laid and commented."""
    tree = ast.parse(code)
    _rename(tree, rng, blank)
    _reorder(tree, rng)
    _add_prints(tree, rng)
    text = ast.unparse(ast.fix_missing_locations(tree)) + "\n"
    return _relayout(text, rng)


# -- the class ---------------------------------------------------------------------------------------------------
def _canonical(code: str) -> str:
    """``code`` laid out by ast.unparse, its local names numbered in order of appearance."""
    tree = ast.parse(code)
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) or (isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)):
            key = node.arg if isinstance(node, ast.arg) else node.id
            names.setdefault(key, f"v{len(names)}")
    for node in ast.walk(tree):
        if isinstance(node, ast.arg) and node.arg in names:
            node.arg = names[node.arg]
        elif isinstance(node, ast.Name) and node.id in names:
            node.id = names[node.id]
    return ast.unparse(tree)


def _same_answer(a: str, b: str) -> bool:
    """Two answers that are one answer written twice (the same public code adapted twice): with local names
    numbered and the layout made the same, nine tenths of the text is the same."""
    return difflib.SequenceMatcher(None, _canonical(a), _canonical(b), autojunk=False).ratio() >= 0.9


def variants(course: Course, a: Assignment) -> dict[str, list[Variant]]:
    """Each blank's distinct answers from both catalogs, the course notes' answer (the catalog's first correct)
    first. Two catalog answers that are one answer written twice (the same public code adapted twice) count once."""
    pools: dict[str, list[Variant]] = {b: [] for b in a.blanks}
    for folder in (None, REPO / "catalog_external"):
        catalog = load_catalog(course, a, folder)
        for v in [*catalog.CORRECT, *catalog.MISTAKES]:
            if v.blank in pools and not any(_same_answer(v.code, u.code) for u in pools[v.blank]):
                pools[v.blank].append(v)
    return pools


def _deal(pool: list[Variant], students: int, rng: random.Random) -> list[Variant]:
    """Every other answer of the catalogs to one student, the course notes' answer to the rest (a quarter at least)."""
    rest = pool[1:]
    rng.shuffle(rest)
    rest = rest[:students - max(2, students // 4)]
    deck = rest + [pool[0]] * (students - len(rest))
    rng.shuffle(deck)
    return deck


def _stubs(course: Course, a: Assignment) -> dict[str, str]:
    nb = nbformat.read(course.release(a) / a.notebook, as_version=4)
    return {grade_id(c): c.source for c in nb.cells if grade_id(c) in a.blanks}


def _honest(course: Course, a: Assignment, names: list[str], pools: dict[str, list[Variant]],
            rng: random.Random) -> tuple[dict[str, dict[str, str]], dict[str, set[str]]]:
    """Each student's answers, and the blanks where theirs (of several statements) is not the course notes'."""
    dealt = {b: _deal(pools[b], len(names), rng) for b in a.blanks}
    stubs = _stubs(course, a)
    code: dict[str, dict[str, str]] = {}
    own: dict[str, set[str]] = {}
    for i, student in enumerate(names):
        answers = {b: dealt[b][i].code for b in a.blanks}
        code[student] = {b: own_edits(c, rng, rng.randint(2, 5)) if statements(c) > 1 else c
                         for b, c in answers.items()}
        own[student] = {b for b in a.blanks if dealt[b][i] is not pools[b][0] and statements(answers[b]) > 1}
    for student in names[-4:-2]:  # left some blanks as released
        for b in rng.sample(list(a.blanks), 2):
            code[student][b] = stubs[b]
    # two who hand in the stubs, the course notes' one-line answers, and one unusual one-line answer, the same
    one_line = [b for b in a.blanks if statements(pools[b][0].code) == 1]
    unusual = {b: v.code for b in a.blanks for v in reversed(pools[b][1:]) if statements(v.code) == 1}
    rare = rng.choice(sorted(unusual)) if unusual else None
    for student in names[-2:]:
        code[student] = {b: pools[b][0].code if b in one_line else stubs[b] for b in a.blanks}
        if rare:
            code[student][rare] = unusual[rare]
    return code, own


def _copy(code: dict[str, dict[str, str]], source: str, copier: str, own: set[str], a: Assignment,
          rng: random.Random) -> None:
    """``copier`` hands in ``source``'s answers, disguised: those of the source's own (``own``) and about half of
    the others (the course notes' answers, one-liners), the copier's own answers to the rest."""
    for b in a.blanks:
        if b in own or rng.random() < 0.5:
            code[copier][b] = disguise(code[source][b], b, rng)


def _notebook(course: Course, a: Assignment, answers: dict[str, str], own_cell: str | None):
    nb = filled_release(course, a, answers)
    if own_cell is not None:  # the answer in a new cell of the student's, the graded cell left as released
        at = next(i for i, c in enumerate(nb.cells) if grade_id(c) == own_cell)
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(answers[own_cell]))
        nb.cells[at].source = _stubs(course, a)[own_cell]
    return nb


def make_class(course: Course, root: Path, assignments: list[str], students: int = 30,
               seed: int = 0) -> GeneratedClass:
    """The class's notebooks under ``root``. A copy's source is one of the students with the most answers of their
    own (not the course notes'): a copy of the course notes' answers is the course notes, which no detector can
    tell from them."""
    rng = random.Random(seed)
    names = [f"student{i:02d}" for i in range(students)]
    made = GeneratedClass(root)
    for name in assignments:
        a = course.assignments[name]
        code, own = _honest(course, a, names, variants(course, a), rng)
        working = names[:-4]  # the last four (stubs, one-liners) neither copy nor are copied
        candidates = rng.sample(working, len(working))
        sources = sorted(candidates, key=lambda s: -len(own[s]))[:6]  # the most answers of their own
        copiers = rng.sample([s for s in working if s not in sources], 7)
        planted: set[frozenset[str]] = set()
        for source, copier in zip(sources, copiers):
            _copy(code, source, copier, own[source], a, rng)
            planted.add(frozenset((source, copier)))
        trio = (sources[-1], copiers[-2], copiers[-1])  # the last source has two copiers
        _copy(code, trio[0], trio[2], own[trio[0]], a, rng)
        planted |= {frozenset((trio[0], trio[2])), frozenset((trio[1], trio[2]))}
        movers = set(rng.sample([s for s in working if s not in copiers], 2))
        for student in names:
            own_cell = rng.choice(list(a.blanks)) if student in movers else None
            write(_notebook(course, a, code[student], own_cell), root / student / a.name / a.notebook)
        made.planted[name] = planted
        made.code[name] = code
    return made
