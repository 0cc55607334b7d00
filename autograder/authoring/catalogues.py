"""The message catalogues: what to translate, gathered from the code and the notebooks into gettext ``.po`` files
(Babel's catalog format), kept up to date, and checked (nothing untranslated, fuzzy or obsolete).

The course's catalogue (``<course>/locale/<lang>/LC_MESSAGES/course.po``) gathers, from the course directory:

- in ``hidden/*.py`` and the hand-written self-checks (``source/*/*_selfcheck.py``): every string given to
  ``course_text`` (as ``_``) or ``N_``, the first line of each test's docstring (its title), and in declarations
  (``Blank(...)``) the names of the cases, the mistakes' hints and the errors' hints;
- in the source notebooks: each paragraph of a markdown cell, and each comment of a code cell (the code itself, the
  names and the blanks' stubs are never translated).

The engine's catalogue (``autograder/locale/<lang>/LC_MESSAGES/autograder.po``) gathers the strings given to ``_``
or ``N_`` in ``autograder/``.
"""
from __future__ import annotations

import ast
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ENGINE = Path(__file__).resolve().parents[1]
CALLS = {"_", "N_", "course_text"}
COMMENT = re.compile(r"(?<![\"'\w])#\s?(?!#)(.*\S)")  # a comment: '# text' (not '###' markers, not in a word)


@dataclass(frozen=True)
class Message:
    text: str
    where: str  # "path:line"


def python_messages(path: Path, root: Path) -> Iterator[Message]:
    """The translatable strings of one Python file (see the module's docstring)."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    rel = str(path.relative_to(root))

    def at(node: ast.AST) -> str:
        return f"{rel}:{getattr(node, 'lineno', 0)}"

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            if name in CALLS and node.args and _literal(node.args[0]) is not None:
                yield Message(_literal(node.args[0]), at(node))
            if name == "Blank":
                yield from _declaration_messages(node, at)
            if name == "Mistake" and node.args and _literal(node.args[0]) is not None:
                yield Message(_literal(node.args[0]), at(node))
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test") and ast.get_docstring(node) \
                and path.parent.name == "hidden":  # a hidden test's title (not an engine function's docstring)
            yield Message(ast.get_docstring(node).strip().splitlines()[0].rstrip("."), at(node))
        if isinstance(node, ast.FunctionDef) and _is_selfcheck(node) and ast.get_docstring(node):
            yield Message(ast.get_docstring(node).strip().splitlines()[0], at(node))


def _literal(node: ast.AST) -> str | None:
    """A string constant, or implicitly concatenated constants; None for anything computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_selfcheck(node: ast.FunctionDef) -> bool:
    return any(isinstance(d, ast.Call) and getattr(d.func, "id", getattr(d.func, "attr", "")) == "selfcheck"
               for d in node.decorator_list)


def _declaration_messages(node: ast.Call, at) -> Iterator[Message]:
    for keyword in node.keywords:
        if keyword.arg in ("typical", "edges") and isinstance(keyword.value, ast.Dict):
            for key in keyword.value.keys:
                if _literal(key) is not None:
                    yield Message(_literal(key), at(key))
        if keyword.arg == "errors" and isinstance(keyword.value, ast.Dict):
            for value in keyword.value.values:
                if _literal(value) is not None:
                    yield Message(_literal(value), at(value))


def notebook_messages(path: Path, root: Path) -> Iterator[Message]:
    """Each paragraph of the notebook's markdown cells and each comment of its code cells."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    rel = str(path.relative_to(root))
    for i, cell in enumerate(cells):
        source = "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")
        if cell.get("cell_type") == "markdown":
            for paragraph in paragraphs(source):
                yield Message(paragraph, f"{rel}:cell {i + 1}")
        elif cell.get("cell_type") == "code":
            for comment in comments(source):
                yield Message(comment, f"{rel}:cell {i + 1}")


def paragraphs(markdown: str) -> list[str]:
    """A markdown cell's paragraphs (separated by blank lines), each a message; code blocks stay whole."""
    return [p.strip("\n") for p in re.split(r"\n\s*\n", markdown) if p.strip()]


def comments(code: str) -> list[str]:
    """The text of each comment of a code cell, in order (nbgrader's ### markers are not comments to translate)."""
    out = []
    for line in code.splitlines():
        stripped = line.strip()
        if stripped.startswith("###"):
            continue
        match = COMMENT.search(line)
        if match and not _in_string(line, match.start()):
            out.append(match.group(1))
    return out


def _in_string(line: str, position: int) -> bool:
    before = line[:position]
    return before.count('"') % 2 == 1 or before.count("'") % 2 == 1


def test_words(path: Path, root: Path) -> Iterator[Message]:
    """The titles and parameter values of a hidden test module's tests, as pytest collects them (the module is
    imported: a declaration's tests exist only then). A declaration's own titles are the engine's words."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"_catalogue_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    rel = str(path.relative_to(root))
    for name, test in vars(module).items():
        if not name.startswith("test") or not callable(test):
            continue
        doc = (getattr(test, "__doc__", None) or "").strip().splitlines()
        if doc and getattr(test, "title_words", None) is None:
            yield Message(doc[0].rstrip("."), rel)
        for mark in getattr(test, "pytestmark", []):
            if mark.name != "parametrize" or len(mark.args) < 2:
                continue
            for value in mark.args[1]:
                values = getattr(value, "values", (value,))
                for v in values if isinstance(values, tuple) else (values,):
                    if isinstance(v, str) and re.search(r"[A-Za-z]{2}", v):
                        yield Message(v, rel)


def course_messages(course_root: Path) -> list[Message]:
    files = sorted((course_root / "hidden").glob("*.py")) + sorted((course_root / "source").glob("*/*_selfcheck.py"))
    found = [m for f in files for m in python_messages(f, course_root)]
    found += [m for f in sorted((course_root / "hidden").glob("test_*.py")) for m in test_words(f, course_root)]
    found += [m for f in sorted((course_root / "source").glob("*/*.ipynb")) for m in notebook_messages(f, course_root)]
    return found


# -- a notebook in another language ----------------------------------------------------------------------------------
def translate_notebook(cells: list[dict], translate) -> list[dict]:
    """The cells with their text in another language: each markdown paragraph and each code comment given to
    ``translate`` (a message -> its translation); code, names, nbgrader's markers and metadata kept as they are."""
    out = []
    for cell in cells:
        cell = dict(cell)
        source = "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else cell.get("source", "")
        if cell.get("cell_type") == "markdown":
            pieces = re.split(r"(\n\s*\n)", source)
            source = "".join(piece if i % 2 or not piece.strip() else _same_edges(piece, translate)
                             for i, piece in enumerate(pieces))
        elif cell.get("cell_type") == "code":
            source = "\n".join(_comment_translated(line, translate) for line in source.split("\n"))
        cell["source"] = source
        out.append(cell)
    return out


def _same_edges(piece: str, translate) -> str:
    """A paragraph translated, with the newlines around it kept (as paragraphs() strips them)."""
    core = piece.strip("\n")
    start = piece[:len(piece) - len(piece.lstrip("\n"))]
    end = piece[len(piece.rstrip("\n")):]
    return start + translate(core) + end


def _comment_translated(line: str, translate) -> str:
    if line.strip().startswith("###"):
        return line
    match = COMMENT.search(line)
    if not match or _in_string(line, match.start()):
        return line
    return line[:match.start(1)] + translate(match.group(1)) + line[match.end(1):]


def engine_messages() -> list[Message]:
    return [m for f in sorted(ENGINE.rglob("*.py")) for m in python_messages(f, ENGINE.parent)]


def template(messages: list[Message], domain: str) -> Catalog:
    catalog = Catalog(domain=domain, project=domain, charset="utf-8")
    for m in messages:
        if m.text.strip():
            existing = catalog.get(m.text)
            if existing is not None:
                existing.locations.append((m.where.rsplit(":", 1)[0], 0))
            else:
                catalog.add(m.text, locations=[(m.where.rsplit(":", 1)[0], 0)], flags=("python-brace-format",)
                            if "{" in m.text else ())
    return catalog


def po_path(folder: Path, language: str, domain: str) -> Path:
    return folder / language / "LC_MESSAGES" / f"{domain}.po"


def read(path: Path, language: str, domain: str) -> Catalog:
    if not path.is_file():
        return Catalog(locale=language, domain=domain, charset="utf-8")
    with path.open("rb") as f:
        return read_po(f, locale=language, domain=domain)


def write(catalog: Catalog, path: Path) -> None:
    """Write ``catalog`` to ``path``, unless only its creation date would change (no churn in the repository)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=120, omit_header=False, sort_output=True, include_previous=False)
    stamp = re.compile(rb'^"POT-Creation-Date: [^"]*"\n', re.MULTILINE)
    if path.is_file() and stamp.sub(b"", path.read_bytes()) == stamp.sub(b"", buffer.getvalue()):
        return
    path.write_bytes(buffer.getvalue())


def update(path: Path, language: str, domain: str, messages: list[Message]) -> Catalog:
    """The catalogue at ``path`` brought up to date with ``messages``: new ones added untranslated, gone ones
    dropped (never kept as obsolete), translations kept; written back."""
    catalog = read(path, language, domain)
    catalog.update(template(messages, domain), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    write(catalog, path)
    return catalog


@dataclass
class Health:
    untranslated: list[str]
    fuzzy: list[str]
    obsolete: list[str]
    missing: list[str]  # in the code or notebooks, not in the catalogue


def health(path: Path, language: str, domain: str, messages: list[Message]) -> Health:
    catalog = read(path, language, domain)
    ids = {m.id for m in catalog if m.id}
    return Health(untranslated=[m.id for m in catalog if m.id and not m.string],
                  fuzzy=[m.id for m in catalog if m.id and m.fuzzy],
                  obsolete=[m.id for m in catalog.obsolete.values()],
                  missing=sorted({m.text for m in messages if m.text.strip()} - ids))
