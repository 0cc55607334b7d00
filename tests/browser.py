"""A headless browser for the tests of HTML pages (the class report, the feedback pages, nbgrader's feedback):
Debian's chromium (``tools/browser_setup.sh`` installs it), driven from the command line, nothing else needed.

    from browser import CHROMIUM, render, require_browser
    require_browser()                          # skips the test, saying why, when there is no chromium
    seen = render(page, tmp_path / "page.png", width=1000)
    assert seen["scrollWidth"] <= seen["clientWidth"]   # no horizontal overflow
    assert seen["svg"] >= 1 and "Class report" in seen["text"]

``render`` loads the page twice: once with a script appended to a copy (in a folder of its own) that measures the
laid-out page and writes what it saw into the DOM, read back with ``--dump-dom``; once as it is, for a screenshot
of the whole page (the window as tall as the page, up to ``max_height``). The browser runs with no network
access of its own (background networking, component updates and sync off) and a throwaway profile.
"""
from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("AUTOGRADER_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-extensions",
         "--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--no-default-browser-check",
         "--disable-dev-shm-usage", "--virtual-time-budget=5000", "--run-all-compositor-stages-before-draw"]

MEASURE = """<script>
(function () {
  var d = document.documentElement, b = document.body;
  var seen = {scrollWidth: d.scrollWidth, clientWidth: d.clientWidth, scrollHeight: d.scrollHeight,
              bodyScrollWidth: b ? b.scrollWidth : 0, svg: document.querySelectorAll("svg").length,
              img: document.querySelectorAll("img").length, title: document.title,
              text: b ? b.innerText : "", wide: []};
  var all = document.querySelectorAll("body *");
  for (var i = 0; i < all.length; i++) {   // elements that stick out on the right: what overflows, if anything
    var r = all[i].getBoundingClientRect();
    if (r.right > d.clientWidth + 1 && seen.wide.length < 10) seen.wide.push(all[i].tagName + " " + Math.round(r.right));
  }
  d.setAttribute("data-render", btoa(unescape(encodeURIComponent(JSON.stringify(seen)))));
})();
</script>"""


def available() -> bool:
    return os.access(CHROMIUM, os.X_OK)


def require_browser() -> None:
    if not available():
        pytest.skip(f"no headless browser: {CHROMIUM} is missing (as root, `sh tools/browser_setup.sh` or "
                    f"`make test` installs Debian's chromium)")


def _run(args: list[str], profile: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          timeout=timeout, env={**os.environ, "HOME": profile})


def render(html_path: Path, png_path: Path, width: int = 1000, max_height: int = 16000,
           timeout: float = 120) -> dict:
    """Open ``html_path`` in headless chromium ``width`` pixels wide, screenshot the whole page to ``png_path``.
    Returns what the page showed: scrollWidth and clientWidth (of the document element; scrollWidth larger means
    horizontal overflow), scrollHeight, svg and img (how many such elements), title, text (the visible text),
    wide (up to 10 elements reaching past the right edge)."""
    html_path, png_path = Path(html_path).resolve(), Path(png_path).resolve()
    with tempfile.TemporaryDirectory(prefix="browser-") as tmp:
        source = html_path.read_text(encoding="utf-8")
        measured = Path(tmp) / "page" / html_path.name
        measured.parent.mkdir()
        marker = source.rfind("</body>")
        measured.write_text(source[:marker] + MEASURE + source[marker:] if marker >= 0 else source + MEASURE,
                            encoding="utf-8")
        profile = str(Path(tmp) / "profile")
        done = _run(["--dump-dom", f"--window-size={width},1600", measured.as_uri()], profile, timeout)
        found = re.search(rb'data-render="([A-Za-z0-9+/=]+)"', done.stdout)
        if done.returncode != 0 or not found:
            raise RuntimeError(f"chromium did not render {html_path.name} (exit {done.returncode}): "
                               f"{done.stderr.decode(errors='replace')[-2000:]}")
        seen = json.loads(base64.b64decode(found.group(1)).decode("utf-8"))
        height = max(600, min(int(seen["scrollHeight"]) + 20, max_height))
        shutil.rmtree(profile, ignore_errors=True)
        png_path.parent.mkdir(parents=True, exist_ok=True)
        png_path.unlink(missing_ok=True)
        shot = _run([f"--screenshot={png_path}", f"--window-size={width},{height}", html_path.as_uri()], profile,
                    timeout)
        if shot.returncode != 0 or not png_path.is_file():
            raise RuntimeError(f"chromium made no screenshot of {html_path.name} (exit {shot.returncode}): "
                               f"{shot.stderr.decode(errors='replace')[-2000:]}")
    seen["png"] = str(png_path)
    return seen
