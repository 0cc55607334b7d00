"""The pages in Chinese, in a real browser (issue 19): a small class graded by a copy of the course set to zh_CN, its
feedback pages, its class report and a pair page of similar code, and the Chinese release notebook opened in
JupyterLab, each looked at in headless Chromium.

- every page, 1100 px wide and 420 px wide (a phone): no horizontal overflow, its headings in Chinese, no English
  sentence left (code, names, numbers and Python's own errors allowed: tests/test_i18n.py's detector);
- no tofu: every Chinese character on the page is drawn by a font that has Chinese glyphs (``fc-list :lang=zh``),
  as Chromium itself reports the fonts it used for each element (the DevTools protocol's
  CSS.getPlatformFontsForNode); the same check, run by a Chromium that sees no CJK font (fontconfig pointed at
  DejaVu alone), finds the tofu, so it would fail if the set-up lost the font;
- the release notebook in JupyterLab: its markdown rendered in Chinese (no English sentence outside code), no
  cell wider than the notebook, no tofu in its markdown or its code cells' comments.

Chromium is driven over the DevTools protocol (websocket-client, which jupyter_server brings) where the command
line is not enough: a phone's width (a headless window is at least 500 px wide: browser.render(width=420) lays the
page out at 500 and crops it), the fonts used, and JupyterLab, a JavaScript application that is checked once it has
rendered. Set $AUTOGRADER_SCREENSHOTS to a folder to keep the screenshots and look at them.
"""
from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.authoring.fill import filled_release, release_notebook, write
from autograder.grading.course import Course
from autograder.i18n import _, use_language
from browser import CHROMIUM, render, require_browser
from conftest import REPO, stop_group
from test_chinese_course import ENV, course_in
from test_i18n import english_sentences

pytestmark = pytest.mark.slow
LANGUAGE = "zh_CN"
ASSIGNMENT = "02_linear_regression"  # a training blank: the feedback page has a loss curve
CJK = re.compile(r"[\u3400-\u9fff]")
WIDTHS = {"desktop": 1100, "phone": 420}


# ------------------------------------------------------------------------------------------------- the class
@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    """The course set to zh_CN, its release of the assignment built in Chinese."""
    return course_in(LANGUAGE, tmp_path_factory.mktemp("zh-pages") / "course", "chinese-pages", ASSIGNMENT)


@pytest.fixture(scope="module")
def graded(course, tmp_path_factory) -> Path:
    """Four students graded in Chinese, pages and report written by grade: right, wrong (known mistakes in two
    blanks, the training blank left failing), copy (the same notebook as wrong: a pair of similar code) and
    untouched (the release as it is)."""
    from autograder.authoring.catalog import load_catalog

    a = course.find(ASSIGNMENT)
    mistakes: dict[str, str] = {}
    for m in load_catalog(course, a, REPO / "catalog").MISTAKES:
        if m.blank in ("linear_model", "mse_grads"):
            mistakes.setdefault(m.blank, m.code)
    root = tmp_path_factory.mktemp("zh-class")
    submitted = root / "submitted"
    write(filled_release(course, a), submitted / "right" / a.name / a.notebook)
    write(filled_release(course, a, mistakes), submitted / "wrong" / a.name / a.notebook)
    write(filled_release(course, a, mistakes), submitted / "copy" / a.name / a.notebook)
    write(release_notebook(course, a), submitted / "untouched" / a.name / a.notebook)
    out = root / "graded"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submitted), "--course", str(course.root),
                           "--out", str(out), "--jobs", "2"], capture_output=True, text=True, env=ENV, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    where = Path(os.environ.get("AUTOGRADER_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    where.mkdir(parents=True, exist_ok=True)
    return where


def zh(message: str) -> str:
    """An engine message as the Chinese pages say it."""
    with use_language(LANGUAGE):
        return _(message)


# ------------------------------------------------------------------------------------- Chromium over DevTools
class DevTools:
    """A headless Chromium driven over the DevTools protocol: open a page at a width, run a script in it, the
    fonts it drew an element's text with, a screenshot."""

    def __init__(self, env: dict[str, str] | None = None):
        websocket = pytest.importorskip("websocket")
        self.profile = tempfile.mkdtemp(prefix="devtools-")
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
             "--no-default-browser-check", "--remote-debugging-port=0", "--remote-allow-origins=*",
             f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**(env or os.environ), "HOME": self.profile},
            start_new_session=True)
        active = Path(self.profile) / "DevToolsActivePort"  # Chromium writes its port there
        deadline = time.monotonic() + 60
        while not (active.is_file() and active.read_text().count("\n") >= 1):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.close()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(active.read_text().split()[0])
        for _try in range(100):
            pages = [t for t in json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
                     if t.get("type") == "page"]
            if pages:
                break
            time.sleep(0.1)
        self.socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.ids = 0
        for domain in ("Page", "DOM", "CSS", "Runtime"):
            self.call(f"{domain}.enable")

    def call(self, method: str, **params) -> dict:
        self.ids += 1
        self.socket.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            reply = json.loads(self.socket.recv())
            if reply.get("id") == self.ids:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def js(self, expression: str):
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression[:200]}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.js(expression):
                return True
            time.sleep(0.25)
        return False

    def open(self, url: str, width: int, height: int = 900, mobile: bool = False, ready: str = "true",
             timeout: float = 60) -> None:
        """``url`` in a viewport ``width`` CSS px wide (a phone's: ``mobile``), once loaded and ``ready`` holds."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1,
                  mobile=mobile)
        self.call("Page.navigate", url=url)
        time.sleep(0.2)
        assert self.wait_for(f"document.readyState === 'complete' && location.href !== 'about:blank' && ({ready})",
                             timeout), f"{url} did not render within {timeout} s"

    def screenshot(self, path: Path, whole: bool = True) -> Path:
        """The page (``whole``: all of it, up to 16000 px tall; else the viewport) as a PNG."""
        params: dict = {"format": "png"}
        if whole:
            width, height = self.js("[document.documentElement.clientWidth, document.documentElement.scrollHeight]")
            params |= {"captureBeyondViewport": True,
                       "clip": {"x": 0, "y": 0, "width": width, "height": min(height, 16000), "scale": 1}}
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", **params)["data"]))
        return path

    def fonts(self, selector: str) -> list[list[dict]]:
        """For each element matching ``selector`` (document order): the fonts Chromium drew its own text with,
        {familyName, glyphCount, ...}."""
        root = self.call("DOM.getDocument", depth=0)["root"]["nodeId"]
        nodes = self.call("DOM.querySelectorAll", nodeId=root, selector=selector)["nodeIds"]
        return [self.call("CSS.getPlatformFontsForNode", nodeId=n)["fonts"] for n in nodes]

    def close(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()
        stop_group(self.process)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    require_browser()
    devtools = DevTools()
    yield devtools
    devtools.close()


# ----------------------------------------------------------------------------------------------- what is seen
def chinese_families() -> set[str]:
    """The families of the installed fonts with Chinese glyphs (every name fontconfig gives each)."""
    done = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=60)
    return {name.strip() for line in done.stdout.splitlines() for name in line.split(",") if name.strip()}


# The elements whose own text (their text nodes, not their children's) holds Chinese characters, marked for
# DOM.querySelectorAll, their texts returned in the same (document) order; with ``onscreen``, only those in the
# viewport (JupyterLab lays out only the cells in view).
MARK_CJK = """(function (root, onscreen) {
  var out = [], cjk = /[\\u3400-\\u9fff]/;
  document.querySelectorAll("[data-cjk]").forEach(function (e) { e.removeAttribute("data-cjk"); });
  document.querySelectorAll(root).forEach(function (top) {
    [top].concat(Array.from(top.querySelectorAll("*"))).forEach(function (e) {
      var own = Array.from(e.childNodes).filter(function (n) { return n.nodeType === 3; })
                     .map(function (n) { return n.textContent; }).join("");
      var r = e.getBoundingClientRect();
      if (onscreen && (r.width === 0 || r.height === 0 || r.bottom <= 0 || r.top >= innerHeight)) return;
      if (cjk.test(own) && !e.hasAttribute("data-cjk")) { e.setAttribute("data-cjk", ""); out.push(own); }
    });
  });
  return out;
})(%s, %s)"""


def tofu(devtools: DevTools, root: str = "body", onscreen: bool = False) -> tuple[int, list[str]]:
    """How many elements with Chinese text there are under ``root`` (``onscreen``: in the viewport), and those whose
    Chinese characters were not all drawn by a font with Chinese glyphs (a box, or nothing, in their place)."""
    families = chinese_families()
    texts = devtools.js(MARK_CJK % (json.dumps(root), json.dumps(onscreen)))
    used = devtools.fonts("[data-cjk]")
    assert len(used) == len(texts), (len(used), len(texts))
    missing = []
    for text, fonts in zip(texts, used):
        drawn = sum(f["glyphCount"] for f in fonts if f["familyName"] in families)
        if drawn < len(CJK.findall(text)):
            missing.append(f"{text.strip()[:40]!r}: {[(f['familyName'], f['glyphCount']) for f in fonts]}")
    return len(texts), missing


# The page's words as a reader sees them, less code (listings, spans, formulas): what must not be English.
PROSE = """(function (root) {
  var parts = [], skip = "code, .code, mjx-container, .MathJax, script, style";
  document.querySelectorAll(root).forEach(function (top) {
    [top].concat(Array.from(top.querySelectorAll("*"))).forEach(function (e) {
      if (e.closest(skip)) return;  // each element's own text, whole: a name broken by <wbr> stays one word
      parts.push(Array.from(e.childNodes).filter(function (n) { return n.nodeType === 3; })
                      .map(function (n) { return n.textContent; }).join(""));
    });
  });
  return parts.join("\\n");
})(%s)"""
LAYOUT = """(function () {
  var d = document.documentElement, wide = [];
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect();
    if (r.right > d.clientWidth + 1 && !e.closest(".scroll") && wide.length < 10) wide.push(e.tagName + " " + r.right);
  });
  return {scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, wide: wide,
          headings: Array.from(document.querySelectorAll("h1, h2")).map(function (h) { return h.innerText; })};
})()"""


def english_left(text: str, names: set[str]) -> list[str]:
    """English sentences in ``text`` once the students' and blanks' names are out of it."""
    for n in sorted(names, key=len, reverse=True):
        text = text.replace(n, " ")
    return english_sentences(text)


def pages(graded: Path) -> dict[str, Path]:
    return {"report": graded / "report.html",
            "feedback": graded / "wrong" / ASSIGNMENT / "linear_regression.html",
            "pair": next((graded / "similarity").glob("*.html"))}


# --------------------------------------------------------------------------------------------------- the tests
def test_the_class_report_counts_blanks_left_unwritten_in_chinese(graded):
    """The untouched notebook's blanks are 'not written' (from what grading recorded, not from English words)."""
    text = (graded / "report.html").read_text(encoding="utf-8")
    blanks = text[text.index('id="blanks"'):text.index('id="not-graded"')]
    rows = re.findall(r"<tr><td>[^<]*(?:<wbr>[^<]*)*</td>(?:<td class=\"num\">[^<]*</td>){3}<td class=\"num\">(\d+)"
                      r"</td></tr>", blanks)
    assert rows and all(n == "1" for n in rows), blanks[-1500:]
    assert f"<h1>{zh('Class report')}</h1>" in text and 'lang="zh-CN"' in text


@pytest.mark.parametrize("which", ["report", "feedback", "pair"])
@pytest.mark.parametrize("size", list(WIDTHS))
def test_a_chinese_page_in_a_browser(course, graded, browser, shots, which, size):
    page = pages(graded)[which]
    width = WIDTHS[size]
    names = {"right", "wrong", "copy", "untouched", *course.find(ASSIGNMENT).blanks}
    if size == "desktop":  # as the other page tests look: browser.py's command line
        seen = render(page, shots / f"{which}-{size}.png", width=width)
        assert seen["scrollWidth"] <= seen["clientWidth"], seen["wide"]
    browser.open(page.as_uri(), width, mobile=size == "phone")
    layout = browser.js(LAYOUT)
    assert layout["clientWidth"] == width, layout  # the phone's width indeed
    assert layout["scrollWidth"] <= layout["clientWidth"], layout["wide"]  # no horizontal overflow
    assert not layout["wide"], layout["wide"]  # nothing sticks out, but for a table in its scrolling box
    browser.screenshot(shots / f"{which}-{size}-devtools.png")
    headings = layout["headings"]
    expected = {"report": [zh("Class report"), zh("Isolation"), zh("Score distribution per assignment"),
                           zh("Diagnosed mistakes, most frequent first"), zh("Similar code"),
                           zh("Per blank: mean mark and pass rate"), zh("Could not be graded"), zh("Students")],
                "feedback": [zh("Your marks")],
                "pair": [zh("{student} and {other}").format(student="copy", other="wrong")]}[which]
    assert all(CJK.search(h) for h in expected), expected
    assert all(any(h.startswith(e) for h in headings) for e in expected), (expected, headings)
    prose = browser.js(PROSE % json.dumps("body"))
    assert CJK.search(prose)
    assert not english_left(prose, names), english_left(prose, names)
    checked, missing = tofu(browser)
    assert checked >= 5 and not missing, missing[:5]


def test_the_tofu_check_sees_a_missing_chinese_font(tmp_path):
    """A Chromium whose fontconfig knows DejaVu alone (no Chinese glyphs) draws boxes: the check says so."""
    require_browser()
    dejavu = [d for d in ("/usr/share/fonts/truetype/dejavu",) if Path(d).is_dir()]
    if not dejavu:
        pytest.skip("no DejaVu fonts to build a font set without Chinese")
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"fonts.dtd\">\n<fontconfig><dir>{dejavu[0]}"
                    f"</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n")
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><body><h1>班级报告</h1>"
                    "<p>诊断出的错误：梯度</p></body></html>", encoding="utf-8")
    without = DevTools({**os.environ, "FONTCONFIG_FILE": str(conf)})
    try:
        without.open(page.as_uri(), 600)
        checked, missing = tofu(without)
    finally:
        without.close()
    assert checked == 2 and len(missing) == 2, missing
    installed = DevTools()
    try:
        installed.open(page.as_uri(), 600)
        assert tofu(installed) == (2, [])
    finally:
        installed.close()


# ------------------------------------------------------------------------------------------------- JupyterLab
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(course, tmp_path_factory):
    """JupyterLab serving a student's copy of the Chinese release folder (as root: --allow-root, as the README
    says); its URL with the token. News and update prompts off (a fresh user's settings)."""
    require_browser()
    root = tmp_path_factory.mktemp("zh-lab")
    work = root / "work"
    shutil.copytree(course.release(course.find(ASSIGNMENT)), work)
    settings = root / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false",
                                                                           "checkForUpdates": False}))
    port, token = free_port(), secrets.token_hex(16)
    env = {**ENV, "HOME": str(root), "BROWSER": "true", "JUPYTERLAB_SETTINGS_DIR": str(root / "settings"),
           "JUPYTERLAB_WORKSPACES_DIR": str(root / "workspaces")}
    args = ["jupyter", "lab", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}", *(["--allow-root"] if os.geteuid() == 0 else [])]
    log = (root / "lab.log").open("w")
    process = subprocess.Popen(args, cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError((root / "lab.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/lab/tree/{course.find(ASSIGNMENT).notebook}?token={token}"
    finally:
        stop_group(process)
        log.close()


# The page's width against its content's, and the rendered markdown cells wider inside than their box.
CELLS_OVERFLOW = """(function () {
  var d = document.documentElement, out = [];
  document.querySelectorAll(".jp-Notebook .jp-RenderedMarkdown").forEach(function (e) {
    if (e.scrollWidth > e.clientWidth + 1) out.push(e.innerText.slice(0, 60) + " " + e.scrollWidth);
  });
  return {page: [d.scrollWidth, d.clientWidth], cells: out};
})()"""


def test_the_chinese_release_notebook_in_jupyterlab(course, lab, browser, shots):
    nb = release_notebook(course, course.find(ASSIGNMENT))
    title = next(c.source for c in nb.cells if c.cell_type == "markdown").splitlines()[0].lstrip("# ").strip()
    assert CJK.search(title), title
    rendered = ("Array.from(document.querySelectorAll('.jp-Notebook .jp-RenderedMarkdown'))"
                ".some(function (e) { return /[\\u3400-\\u9fff]/.test(e.innerText); })")
    browser.open(lab, 1280, 900, ready=rendered, timeout=120)
    browser.wait_for("document.querySelectorAll('.jp-RenderedMarkdown mjx-container').length > 0", 20)  # formulas
    time.sleep(1)
    markdown = browser.js("Array.from(document.querySelectorAll('.jp-Notebook .jp-RenderedMarkdown'))"
                          ".map(function (e) { return e.innerText; }).join('\\n')")
    assert title in markdown, markdown[:1000]
    heading = browser.js("(document.querySelector('.jp-Notebook .jp-RenderedMarkdown h1') || {}).innerText")
    assert heading and CJK.search(heading), heading
    overflow = browser.js(CELLS_OVERFLOW)
    assert overflow["page"][0] <= overflow["page"][1] and not overflow["cells"], overflow
    prose = browser.js(PROSE % json.dumps(".jp-Notebook .jp-RenderedMarkdown"))
    names = {*course.find(ASSIGNMENT).blanks, "Validate", "Run All"}
    assert not english_left(prose, names), english_left(prose, names)
    for where, scroll in (("top", 0), ("further", 2400)):  # the first screen, and one further down
        browser.js("(function () { var s = document.querySelector('.jp-WindowedPanel-outer') || "
                   f"document.querySelector('.jp-Notebook'); s.scrollTop = {scroll}; }})()")
        time.sleep(1.0)
        checked, missing = tofu(browser, ".jp-Notebook", onscreen=True)  # markdown, and code cells' comments
        assert checked >= 3 and not missing, (where, missing[:5])
        browser.screenshot(shots / f"jupyterlab-{where}.png", whole=False)
    assert (shots / "jupyterlab-top.png").stat().st_size > 20_000
