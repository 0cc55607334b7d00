"""Answers check-course grades for real, written as notebook cells: answers that compute nothing (made from the
reference, so that they have the right type and shape), and each mutant of the reference.

A trivial answer calls the reference on copies of its arguments only to learn the shape of what it would return,
then returns zeros, ones, a constant or random values of that shape, or its first argument unchanged; an in-place
blank's trivial answer leaves its arguments alone. None of them may earn a point.
"""
from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from autograder.authoring.mutation import definition

TRIVIAL = {  # name -> what replaces each tensor of the reference's result
    "zeros": "torch.zeros_like(t)",
    "ones": "torch.ones_like(t)",
    "a constant": "torch.full_like(t, 0.5) if t.is_floating_point() else torch.ones_like(t)",
    "random values": "torch.rand_like(t) if t.is_floating_point() else torch.randint_like(t, 0, 2)",
    "its first argument": None,
}


def module_imports(module_source: str) -> str:
    """The import statements at the top of a module (what the reference's code needs in a notebook)."""
    tree = ast.parse(module_source)
    return "\n".join(ast.get_source_segment(module_source, node) for node in tree.body
                     if isinstance(node, ast.Import) or isinstance(node, ast.ImportFrom) and node.module != "__future__")


def _renamed(source: str, new: str) -> str:
    tree = ast.parse(source)
    tree.body[0].name = new
    return ast.unparse(tree)


def trivial_cell(solutions: Path, blank: str, kind: str) -> str:
    """The cell of a trivial answer of ``kind`` (a key of :data:`TRIVIAL`) for ``blank``."""
    module = solutions.read_text(encoding="utf-8")
    reference = definition(module, blank)
    is_class = isinstance(ast.parse(reference).body[0], ast.ClassDef)
    helper = _renamed(reference, f"_reference_{blank}")
    leaf = TRIVIAL[kind]
    mapping = textwrap.dedent(f"""
        def _trivial(value, args):
            if {leaf is None!r}:
                return args[0] if args else None
            if isinstance(value, torch.nn.Module):
                return args[0] if args else None  # an in-place blank: its argument, untouched
            if isinstance(value, torch.Tensor):
                t = value.detach()
                return {leaf or 't'}
            if isinstance(value, bool):
                return value
            if isinstance(value, (int, float)):
                return float(_trivial(torch.tensor(float(value)), args).item())
            if isinstance(value, (list, tuple)):
                return type(value)(_trivial(v, args) for v in value)
            return value
        """)
    if is_class:
        body = textwrap.dedent(f"""
            class {blank}(_reference_{blank}):
                def forward(self, *args, **kwargs):
                    return _trivial(super().forward(*args, **kwargs), args)
            """)
    else:
        body = textwrap.dedent(f"""
            def {blank}(*args, **kwargs):
                import copy, os, tempfile
                try:
                    copies = copy.deepcopy(args)
                except RuntimeError:
                    copies = args
                here = os.getcwd()
                with tempfile.TemporaryDirectory() as elsewhere:  # a file the reference writes is not this answer's
                    os.chdir(elsewhere)
                    try:
                        out = _reference_{blank}(*copies, **kwargs)
                    finally:
                        os.chdir(here)
                return _trivial(out, args)
            """)
    return "\n".join([module_imports(module), "import torch", helper, mapping, body]) + "\n"


def mutant_cell(solutions: Path, mutant_source: str) -> str:
    """A mutant's cell: the reference module's imports, then the mutated definition."""
    return module_imports(solutions.read_text(encoding="utf-8")) + "\n" + mutant_source
