"""CSV files that a spreadsheet opens as data, never as formulas, whatever separator it splits lines on.

Every CSV file the kit writes goes through :func:`write_csv` (or :func:`csv_text`), because its cells hold student
text (a student id is a folder name the student chose) and a spreadsheet runs a cell that starts with ``=`` as a
formula (``=HYPERLINK(...)``, ``=WEBSERVICE(...)``). Which text is a cell depends on the reader: a spreadsheet in a
locale whose lists use ``;`` splits the line ``ab;=HYPERLINK("http://x"),3`` at the ``;``, whatever the writer
quoted, and a tab, ``|`` or a line break may split it elsewhere.

The rule, for each cell:

- A number (``int`` or finite ``float``; not ``bool``) is written as itself, in its shortest exact form (``3``,
  ``2.5``, ``0.333333``), so that it stays a number (a negative one starts with ``-``, as a number does). Anything
  else is text, ``nan`` and ``-inf`` included.
- Text: its *starts* are its beginning and the place just after each separator character in it (``,`` ``;`` tab
  ``|`` CR LF). Where a start is followed, after any double quotes and spaces (a quote-aware reader drops quotes,
  and some spreadsheets trim spaces), by one of ``=`` ``+`` ``-`` ``@`` tab CR (the characters OWASP lists as
  starting a formula), an apostrophe is inserted just before that character. So however the line is split,
  by any of those separators, quote-aware or not, no piece starts with a formula character; spreadsheets show
  ``'=x`` as the text ``=x`` (Excel, LibreOffice and Google Sheets hide the apostrophe).
  Text is otherwise unchanged: an id such as ``jean-luc`` or ``o'brien`` reads back as itself.
- A text cell that holds a separator character, a double quote or a leading or trailing space is written between
  double quotes (a double quote inside is doubled), so that a quote-aware reader keeps it one cell whichever of
  those separators it splits on; other cells are written bare, as Python's csv module writes them.
- Lines end with CRLF (RFC 4180), and the file is UTF-8 with every string made valid first
  (:func:`autograder.grading.results.valid_text`).
"""
from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Iterable, Sequence

from autograder.grading.results import write_atomically

Cell = str | int | float

SEPARATORS = ",;\t|\r\n"
FORMULA_STARTS = "=+-@\t\r"
# A start of a cell's text (its beginning, or just after a separator), then any quotes and spaces, then a character
# that starts a formula: the apostrophe goes just before that character.
_FORMULA_AT_A_START = re.compile(r'((?:^|[,;\t|\r\n])[" ]*)(?=[=+\-@\t\r])')
_NEEDS_QUOTES = re.compile(r'[,;\t|\r\n"]|^ | $')


def neutralised(text: str) -> str:
    """``text`` with an apostrophe before every character that would start a formula at any of its starts."""
    return _FORMULA_AT_A_START.sub(r"\1'", text)


def field(value: Cell) -> str:
    """One cell as it is written in the file: a number as itself, text neutralised and quoted when it must be."""
    if type(value) is int or (type(value) is float and math.isfinite(value)):
        return _number(value)
    text = neutralised(str(value))
    return '"' + text.replace('"', '""') + '"' if _NEEDS_QUOTES.search(text) else text


def _number(value: int | float) -> str:
    """The shortest text that reads back as exactly ``value``: 2.0 as "2", 1/3 as "0.3333333333333333"."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # a whole score reads "2", as before, not "2.0"
    return repr(value)


def csv_text(rows: Iterable[Sequence[Cell]]) -> str:
    """The CSV text of ``rows``, each cell written by :func:`field`."""
    return "".join(",".join(field(value) for value in row) + "\r\n" for row in rows)


def write_csv(path: Path, rows: Iterable[Sequence[Cell]]) -> None:
    """Write ``rows`` to the CSV file ``path`` (atomically: a reader sees the old file or the new one)."""
    write_atomically(path, csv_text(rows))
