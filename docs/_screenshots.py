"""Regenerate the report screenshots of docs/report.md (headless Chromium, offline).

Usage, from the repository root::

    python docs/_screenshots.py

Renders a synthetic live run (3 models x 3 samples, the one the report's tests and
benchmark use) and the same run with one fixture regressed, opens each page from a
file URL with every other request aborted, expands one failing item, and writes
``docs/images/report-run.png`` and ``docs/images/report-diff.png``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from playwright.sync_api import Route, sync_playwright  # noqa: E402

from awaken_eval.report import render_report  # noqa: E402
from report_support import regressed, synthetic_run, transcripts_of  # noqa: E402

IMAGES = ROOT / "docs" / "images"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def offline(url: str) -> Callable[[Route], None]:
    """A route handler that lets only ``url`` through."""

    def handle(route: Route) -> None:
        if route.request.url == url:
            route.continue_()
        else:
            route.abort()

    return handle


def main() -> None:
    run = synthetic_run(300, seed=7)
    pages = {
        "report-run.png": render_report(run, transcripts=transcripts_of(run)),
        "report-diff.png": render_report(regressed(run, fixture_id="capital-00002"), run),
    }
    chromium = os.environ.get("AWAKEN_EVAL_CHROMIUM") or shutil.which("chromium") or "chromium"
    IMAGES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as temp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=ARGS)
        for name, html in pages.items():
            path = Path(temp) / "report.html"
            path.write_text(html, encoding="utf-8")
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", offline(path.as_uri()))
            page = context.new_page()
            page.goto(path.as_uri())
            page.wait_for_selector("body[data-charts='ready']")
            page.screenshot(path=IMAGES / name)
            if name == "report-run.png":
                page.select_option("#filter-status", "fail")
                page.click("#items-body tr.item >> nth=1")
                page.evaluate("document.getElementById('items').scrollIntoView()")
                page.screenshot(path=IMAGES / "report-items.png")
            context.close()
        browser.close()
    for image in sorted(IMAGES.glob("report-*.png")):
        print(  # noqa: T201 - a script's report
            f"wrote {image.relative_to(ROOT)} ({image.stat().st_size // 1000} kB)"
        )


if __name__ == "__main__":
    main()
