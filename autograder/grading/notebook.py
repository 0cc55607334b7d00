"""A notebook file -> the source of its code cells, in order, as "Run All" would see them.

Outputs and metadata are ignored. The cells are returned as written: IPython syntax (``%matplotlib inline``,
``!pip install x``, ``%%time``) is turned into Python inside the sandbox (:mod:`autograder.sandbox.child`), so the trusted
side never parses untrusted code. What is read here is bounded: the file's size, the number of code cells, and a
cell's size (a larger cell is replaced by one that raises, so it fails like a cell in error).
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

MAX_NOTEBOOK_BYTES = 20 << 20
MAX_CELLS = 1000  # code cells; a course notebook has a few dozen
MAX_CELL_CHARS = 200_000  # one cell's source


class NotebookError(Exception):
    """The file is not a readable notebook; the message is one line for the person who gave it."""


def read_code_cells(path: Path) -> list[str]:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise NotebookError(f"cannot read {path}: {error.strerror}") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path} is {size >> 20} MiB, larger than the {MAX_NOTEBOOK_BYTES >> 20} MiB allowed")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise NotebookError(f"cannot read {path}: {error}") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotebookError(f"{path} is not valid JSON (line {error.lineno}: {error.msg}); "
                            f"is it truncated or not a notebook?") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookError(f"{path} is JSON but not a Jupyter notebook (no list of cells)")
    count = sum(1 for c in raw["cells"] if isinstance(c, dict) and c.get("cell_type") == "code")
    if count > MAX_CELLS or len(raw["cells"]) > 4 * MAX_CELLS:
        count = max(count, len(raw["cells"]) // 4)
        raise NotebookError(f"{path} has {count} code cells, more than the {MAX_CELLS} allowed")
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        raise NotebookError(f"{path} is not a valid notebook: {str(error).splitlines()[0]}") from None
    cells = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if not isinstance(source, str):
            raise NotebookError(f"{path} has a code cell whose source is not text")
        if len(source) > MAX_CELL_CHARS:
            source = (f"raise MemoryError('this cell has {len(source)} characters, more than the {MAX_CELL_CHARS} "
                      "a notebook cell may have: it was not run')\n")
        cells.append(source)
    return cells
