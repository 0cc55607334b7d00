"""A notebook file -> the Python source of its code cells, in order, as "Run All" would see them.

Outputs and metadata are ignored. IPython syntax (``%matplotlib inline``, ``!pip install x``, ``%%time``)
is turned into plain Python by IPython's own transformer, here on the trusted side, so nothing a
submission registers can change how later cells are read.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
from IPython.core.inputtransformer2 import TransformerManager

MAX_NOTEBOOK_BYTES = 20 << 20


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
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises several kinds for malformed notebooks
        raise NotebookError(f"{path} is not a valid notebook: {str(error).splitlines()[0]}") from None
    transformer = TransformerManager()
    cells = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if not isinstance(source, str):
            raise NotebookError(f"{path} has a code cell whose source is not text")
        try:
            cells.append(transformer.transform_cell(source))
        except Exception:  # leave it as written: the cell will fail like it would in Jupyter
            cells.append(source)
    return cells
