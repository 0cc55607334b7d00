"""The course in another language: the catalogues complete and well typeset, the English course unchanged, and the
Chinese course (zh_CN) saying everything a student reads in Chinese, with its hints.

- the English feedback and self-checks of every catalogued answer are byte for byte the committed snapshot
  (tests/feedback_snapshot.py);
- the catalogues (the course's and the engine's) have no message untranslated, fuzzy, obsolete or missing; every
  translation keeps its placeholders and code, uses the notes' terms (locale/zh_CN/glossary.toml) and passes the
  typesetting linter (autocorrect-py);
- with the course set to zh_CN, every catalogued mistake's feedback (both catalogs) and every self-check message is
  Chinese: no sentence of English words outside code, names and the errors Python itself raised.
"""
from __future__ import annotations

import ast
import functools
import re
import tomllib

import pytest

from autograder.authoring import catalogues
from autograder.i18n import ENGINE_LOCALE
from conftest import ASSIGNMENTS, COURSE, REPO

LANGUAGE = "zh_CN"
CATALOGUES = {
    "course": (catalogues.po_path(REPO / "locale", LANGUAGE, "course"), lambda: catalogues.course_messages(REPO)),
    "engine": (catalogues.po_path(ENGINE_LOCALE, LANGUAGE, "autograder"), catalogues.engine_messages),
}
GLOSSARY = tomllib.loads((REPO / "locale" / LANGUAGE / "glossary.toml").read_text(encoding="utf-8"))["terms"]
PLACEHOLDER = re.compile(r"\{[a-z_]*\}")
CODE = re.compile(r"`[^`]*`")
FENCE = re.compile(r"```.*?```", re.DOTALL)  # a code block: its code kept, its comments translated (as in notebooks)


def code_of(text: str) -> list[str]:
    """The code spans of a message, and its code blocks without their comments."""
    blocks = ["\n".join(line.split("#")[0].rstrip() for line in b.splitlines()) for b in FENCE.findall(text)]
    return sorted(CODE.findall(FENCE.sub(" ", text)) + blocks)
CJK = re.compile(r"[\u3400-\u9fff]")


def entries(domain: str):
    path, _messages = CATALOGUES[domain]
    return [m for m in catalogues.read(path, LANGUAGE, domain) if m.id]


# ------------------------------------------------------------------------------------------------- the English course
@pytest.mark.slow
def test_the_english_feedback_is_unchanged_byte_for_byte():
    from feedback_snapshot import committed, differences, snapshot

    now, before = snapshot("en"), committed()
    assert sorted(now) == sorted(before)
    timing = {k for k in differences(now, before) if "did not finish within" in str(now[k])}  # a loaded machine's
    changed = [k for k in differences(now, before) if k not in timing]
    assert not changed, f"{len(changed)} entries changed, e.g. {changed[:3]}"
    assert len(timing) <= 2, timing


# --------------------------------------------------------------------------------------------------- the catalogues
@pytest.mark.parametrize("domain", list(CATALOGUES))
def test_the_catalogue_is_complete(domain):
    path, messages = CATALOGUES[domain]
    health = catalogues.health(path, LANGUAGE, domain, messages())
    assert not health.missing, f"{len(health.missing)} messages not in {path}: {health.missing[:5]}"
    assert not health.untranslated, f"{len(health.untranslated)} untranslated in {path}: {health.untranslated[:5]}"
    assert not health.fuzzy, health.fuzzy[:5]
    assert not health.obsolete, health.obsolete[:5]


@pytest.mark.parametrize("domain", list(CATALOGUES))
def test_translations_keep_placeholders_and_code(domain):
    wrong = [m.id for m in entries(domain)
             if sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
             or code_of(m.id) != code_of(m.string)]
    assert not wrong, f"{len(wrong)} translations change a placeholder or a code span: {wrong[:5]}"


def _prose(text: str) -> str:
    """The words of a message: without code spans, placeholders and code-like tokens (x.add_(y), nn.Module, n=1)."""
    text = PLACEHOLDER.sub(" ", CODE.sub(" ", text))
    return " ".join(w for w in text.split() if not re.search(r"[._=()\[\]<>/*+]|\d", w))


@pytest.mark.parametrize("domain", list(CATALOGUES))
def test_translations_use_the_terms_of_the_notes(domain):
    missing = []
    for m in entries(domain):
        prose = _prose(m.id).lower()
        for english, chinese in GLOSSARY.items():
            if re.search(rf"(?<![\w-]){re.escape(english.lower())}(?![\w-])", prose) and chinese not in m.string:
                missing.append(f"{english!r} -> {chinese!r}: {m.id[:80]!r} = {m.string[:60]!r}")
    assert not missing, f"{len(missing)} translations without the notes' term:\n" + "\n".join(missing[:15])


@pytest.mark.parametrize("domain", list(CATALOGUES))
def test_chinese_typesetting_passes_the_linter(domain):
    import autocorrect_py

    wrong = [(m.string, autocorrect_py.format(m.string)) for m in entries(domain)
             if CJK.search(m.string) and autocorrect_py.format(m.string) != m.string]
    assert not wrong, f"{len(wrong)} translations the linter would change: {wrong[:5]}"


# ------------------------------------------------------------------------------------------ what a student reads
PYTHON_ERROR = re.compile(r"raised \w+: .*$|引发了 \w+[：:].*$|\w+(Error|Exception): .*$", re.MULTILINE)
NAMES = {b for a in ASSIGNMENTS.values() for b in a.blanks} | {  # names, never translated: the blanks', torch.nn's
    name for name in dir(__import__("torch").nn) if name[:1].isupper()}  # layers (Linear -> Tanh -> Linear)


def english_sentences(text: str) -> list[str]:
    """Runs of three or more English words in ``text`` (code, placeholders, names and Python's own error messages
    left out): a sentence that was not translated."""
    runs = []
    for piece in re.split(r"[\u3400-\u9fff，。：；！？（）、]", _prose(PYTHON_ERROR.sub(" ", text))):
        tokens = [w for w in re.findall(r"[A-Za-z][A-Za-z'-]+", piece) if w not in NAMES]
        if len(tokens) >= 3 and len(" ".join(tokens)) >= 14:
            runs.append(" ".join(tokens))
    return runs


QUOTED = re.compile(r"'[^'\n]{3,}'")  # a quoted literal (an error message torch gives, as the hint quotes it)
RAISED = {"{error}", "{message}"}  # placeholders that carry what Python or torch said (other values are checked)


@functools.cache
def _templates() -> list[re.Pattern[str]]:
    """Every translated message with placeholders, as a pattern whose groups are the values of its RAISED ones."""
    patterns = []
    for domain in CATALOGUES:
        for m in entries(domain):
            parts = re.split(r"(\{\w*\})", m.string)
            if len(parts) > 1 and CJK.search(m.string):
                literal = sum(len(p) for p in parts if not re.fullmatch(r"\{\w*\}", p))
                patterns.append((literal, re.compile("".join("(.+?)" if p in RAISED else "(?:.+?)" if re.fullmatch(
                    r"\{\w*\}", p) else re.escape(p) for p in parts if p))))
    return [pattern for _literal, pattern in sorted(patterns, key=lambda item: -item[0])]  # the most specific first


def without_values(text: str) -> str:
    """``text`` without what Python or torch said (an error message a hint quotes: not ours to translate) and
    quoted literals; every other value of a placeholder (a hint, a sentence) is still checked. A line is taken as
    the message it is whole (the first translated message it matches from end to end)."""
    lines = []
    for line in QUOTED.sub(" ", text).splitlines():
        for pattern in _templates():
            found = pattern.fullmatch(line)
            if found and found.lastindex:
                kept, last = [], 0
                for i in range(1, found.lastindex + 1):
                    kept.append(line[last:found.start(i)])
                    last = found.end(i)
                line = " ".join(kept) + " " + line[last:]
                break
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.slow
def test_in_chinese_every_mistake_and_self_check_speaks_chinese_with_its_hint():
    from feedback_snapshot import snapshot

    english, chinese = snapshot("en"), snapshot(LANGUAGE)
    problems = []
    for key, value in chinese.items():
        if key.endswith("/tests"):
            texts = [(name, output) for name, _score, output in value]
            hints = [("Hint:" in output, "提示：" in zh) for (_, output), (_, zh) in
                     zip([(n, o) for n, _s, o in english[key]], texts)]
            problems += [f"{key}: a hint lost" for had, has in hints if had and not has]
        else:
            texts = [(what, why) for _ok, what, why in value]
        for first, second in texts:
            for text in (first, second):
                found = english_sentences(text) and english_sentences(without_values(text))
                if found:
                    problems.append(f"{key}: {found[0]!r} in {text[:120]!r}")
    assert not problems, f"{len(problems)} English sentences in the Chinese course, e.g.:\n" + "\n".join(problems[:15])


def test_the_detector_finds_english_sentences():
    assert english_sentences("the values are not the correct result.")
    assert not english_sentences("值不正确：应为 {expected}，实际得到 `x.add_(y)`。")
    assert not english_sentences("mse_grads 引发了 TypeError: unsupported operand type(s) for *: 'float' and 'NoneType'")
    assert not english_sentences("请用 torch.optim.SGD 和 nn.BCEWithLogitsLoss。")
    said = "你的代码引发了 TypeError：grad can be implicitly created only for scalar outputs（在 f 中，第 3 行）"
    assert not english_sentences(without_values(said))  # what torch said is not ours to translate
    said = ("对形状为 (3, 5) 的张量做 softmax 时广播失败（The size of tensor a (5) must match the size of tensor b (3) "
            "at non-singleton dimension 1）：保留求和的那个维度（keepdim=True），这样 exp(z) / sum 才会用每行自己的和去除这一行。")
    assert english_sentences(said) and not english_sentences(without_values(said))
    untranslated = said.replace("(3, 5)", "the shape that was given")  # a value that is not what torch said
    assert english_sentences(without_values(untranslated))


def _binds_underscore(tree: ast.AST) -> list[int]:
    """Lines where a function (or the module) binds the name ``_``: it would hide the translation function there
    (a local ``_`` makes every ``_("...")`` of that function fail). Comprehensions have their own scope."""
    found = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Lambda)):
                continue
            if isinstance(child, ast.Name) and child.id == "_" and isinstance(child.ctx, ast.Store):
                found.append(child.lineno)
            visit(child)

    visit(tree)
    return found


def test_no_code_that_translates_rebinds_the_translation_function():
    files = [*sorted((REPO / "autograder").rglob("*.py")), *sorted((REPO / "hidden").glob("*.py")),
             *sorted((REPO / "source").glob("*/*_selfcheck.py"))]
    wrong = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        if not re.search(r"import[^\n]*\b_\b|^_ = ", text, re.MULTILINE):
            continue
        wrong += [f"{path.relative_to(REPO)}:{line}" for line in _binds_underscore(ast.parse(text))]
    assert not wrong, f"`_` rebound where it translates: {wrong}"


def test_a_course_toml_that_cannot_be_read_is_one_line(tmp_path):
    import shutil
    import subprocess
    import sys

    for part in ("release", "hidden", "solutions"):
        shutil.copytree(REPO / part, tmp_path / part)
    (tmp_path / "course.toml").write_text("[course\nlanguage = zh_CN\n")
    (tmp_path / "graded" / "a" / "02_linear_regression").mkdir(parents=True)
    (tmp_path / "graded" / "a" / "02_linear_regression" / "linear_regression.json").write_text(
        '{"score": 0, "max_score": 1, "tests": []}')
    done = subprocess.run([sys.executable, "-m", "autograder", "report", str(tmp_path / "graded"), "--course",
                           str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "course.toml" in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().count("\n") == 0
