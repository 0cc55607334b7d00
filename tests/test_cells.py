"""Cells are read as Jupyter reads them: a cell compiled as written (without IPython's transformer, which the
sandbox imports late) must give exactly the code IPython's TransformerManager gives, line numbers included."""
from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from IPython.core.inputtransformer2 import TransformerManager

from autograder.sandbox.child import _as_written, _compile_cell

NAME = "<cell 3>"


def jupyter(source: str):
    """The code Jupyter runs for ``source``, or the class of the error it reports."""
    try:
        return compile(TransformerManager().transform_cell(source), NAME, "exec")
    except Exception as error:  # noqa: BLE001
        return type(error)


def ours(source: str):
    try:
        return _compile_cell(source, NAME)
    except Exception as error:  # noqa: BLE001
        return type(error)


TRICKY = [
    "", "\n", "   ", "x = 1", "x = 1\n", "\nx = 1", "\n\nx = 1\ny = x +\n", "  x = 1\n  y = 2", "\tx = 1",
    "  # an indented comment\nx = 1", 's = """a\n   \nb"""', "s = '''a\n\t\nb'''", "x = 1\n   \ny = 2",
    ">>> x = 1\n>>> x", "x = 1\n...\n", "x = 1\n... \n", "d = {\n...: 1}", "In [1]: x = 5", "In [3]: x = 5\n   ...: y = 6",
    "[nav] In [2]: x = 1", "s = 'a\\\n>>> b'", "%matplotlib inline\nx = 1", "!pip install x", "x = !ls", "x?",
    "%%time\nx = 1", "def f(:\n    pass", "x = (\n", "print('a')\n%time y = 1", "\x0cx = 1", "x = 1 # %time",
    "'''\n>>> 1\n'''", "a = 1;  b = 2", "if True:\n    x = 1\n\n    y = 2", "x = '\\x00'", "x = 1\r\ny = 2",
]


@pytest.mark.parametrize("source", TRICKY)
def test_cells_compile_as_in_jupyter(source: str) -> None:
    assert ours(source) == jupyter(source)


def test_plain_cells_skip_the_transformer() -> None:
    assert _as_written("import torch\nx = torch.ones(3)\nprint(x.sum())")
    assert not _as_written("\nx = 1")  # IPython drops the blank line: line numbers would differ


LINES = st.sampled_from(["x = 1", "    y = x", "", "  ", "\t", "def f():", "    return 1", "if x:", 's = """',
                         '"""', "...", "...: 1}", "d = {", ">>> z = 2", "In [4]: w = 3", "%time x", "!ls", "x?",
                         "%%capture", "  # c", "print(x)", "(1,", "2)", "x = 1 # ?"])


@settings(max_examples=300, deadline=None)
@given(st.lists(LINES, min_size=1, max_size=6), st.booleans())
def test_any_cell_compiles_as_in_jupyter(lines: list[str], newline: bool) -> None:
    source = "\n".join(lines) + ("\n" if newline else "")
    assert ours(source) == jupyter(source)


def test_the_sandbox_side_starts_without_ipython() -> None:
    """The zygote imports autograder.sandbox.child before its first sandbox: IPython (0.1 s) comes later, as a warm-up."""
    code = "import sys, autograder.sandbox.child; print('IPython' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
