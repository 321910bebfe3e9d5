"""Benchmark: size and time-to-usable of the HTML report, in headless Chromium.

For each run size (a live run: fixtures x 3 models x 3 samples, a third of the items
failing, judge verdicts, a captured three-span transcript per item) the script renders
the report, writes it, opens it from a file URL in the system Chromium with every
other request aborted, and measures:

* render: ``render_report`` in Python (best of ``--repeat``);
* size: the file in MB;
* usable: from navigation start to the moment the header and the first page of the
  item table are drawn and answer input (``data-ready``, read from the page's own
  ``performance.now()``);
* charts: from navigation start to the four charts drawn;
* filter, sort: one text filter and one sort of the whole table, timed in the page.

Targets (issue 14): a 1,000-item report is at most 5 MB and usable within 2 s; a
100,000-item report still usable (the table is paged: 50 rows at a time). Information:
the same without transcripts.

Usage::

    python benchmarks/bench_report.py                   # 1,000, 10,000 and 100,000 items
    python benchmarks/bench_report.py --smoke           # 1,000 items, once (CI)
    python benchmarks/bench_report.py --items 5000 --repeat 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from awaken_eval.report import render_report
from report_support import synthetic_run, transcripts_of

SIZE_TARGET_MB = 5.0
USABLE_TARGET_S = 2.0
TARGET_ITEMS = 1000
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

MEASURE = """async () => {
  const t0 = performance.now();
  const input = document.getElementById('filter-text');
  input.value = 'capital-0000';
  input.dispatchEvent(new Event('input'));
  const t1 = performance.now();
  document.querySelector("#items th[data-col='tokens']").click();
  const t2 = performance.now();
  return [t1 - t0, t2 - t1, document.getElementById('page-info').textContent];
}"""


def chromium() -> str:
    path = os.environ.get("AWAKEN_EVAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        sys.exit(f"no Chromium at {path} (apt-get install chromium, or set AWAKEN_EVAL_CHROMIUM)")
    return path


def open_in(browser: Any, path: Path) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    url = path.as_uri()
    outside: list[str] = []
    errors: list[str] = []

    def route(handle: Any) -> None:
        if handle.request.url == url:
            handle.continue_()
        else:
            outside.append(handle.request.url)
            handle.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, timeout=300_000)
    page.wait_for_selector("body[data-ready='1']", timeout=300_000)
    usable = float(page.get_attribute("body", "data-ready-ms") or "nan") / 1000
    page.wait_for_selector("body[data-charts='ready']", timeout=300_000)
    charts = page.evaluate("performance.now()") / 1000
    filter_ms, sort_ms, info = page.evaluate(MEASURE)
    context.close()
    return {
        "usable": usable,
        "charts": charts,
        "filter_ms": filter_ms,
        "sort_ms": sort_ms,
        "info": info,
        "outside": outside,
        "errors": errors,
    }


def measure(
    browser: Any, items: int, *, repeat: int, transcripts: bool, work: Path
) -> dict[str, Any]:
    run = synthetic_run(items)
    captured = transcripts_of(run) if transcripts else None
    render = float("inf")
    html = ""
    for _ in range(repeat):
        started = time.perf_counter()
        html = render_report(run, transcripts=captured)
        render = min(render, time.perf_counter() - started)
    path = work / f"report-{items}-{int(transcripts)}.html"
    path.write_text(html, encoding="utf-8")
    opened = [open_in(browser, path) for _ in range(repeat)]
    best = min(opened, key=lambda found: found["usable"])
    return {
        "items": len(run.items),
        "render": render,
        "mb": path.stat().st_size / 1_000_000,
        **best,
        "outside": sum(len(found["outside"]) for found in opened),
        "errors": [error for found in opened for error in found["errors"]],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, nargs="*", default=[1000, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--smoke", action="store_true", help="1,000 items, once")
    args = parser.parse_args()
    sizes, repeat = ([TARGET_ITEMS], 1) if args.smoke else (args.items, args.repeat)

    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - the test extra

    print(
        f"HTML report, headless Chromium, best of {repeat}; times in seconds from navigation start"
    )
    header = f"{'items':>8} {'transcripts':>11} {'render':>7} {'MB':>6} {'usable':>7} {'charts':>7} {'filter ms':>9} {'sort ms':>8}"
    print(header)
    results = []
    with tempfile.TemporaryDirectory() as temp, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=ARGS)
        for items in sizes:
            for transcripts in (True, False):
                found = measure(
                    browser, items, repeat=repeat, transcripts=transcripts, work=Path(temp)
                )
                results.append((transcripts, found))
                print(
                    f"{found['items']:>8,} {'yes' if transcripts else 'no':>11} {found['render']:>7.2f} "
                    f"{found['mb']:>6.2f} {found['usable']:>7.2f} {found['charts']:>7.2f} "
                    f"{found['filter_ms']:>9.1f} {found['sort_ms']:>8.1f}"
                )
                if found["outside"] or found["errors"]:
                    print(
                        f"  requests leaving the file: {found['outside']}; console errors: {found['errors']}"
                    )
        browser.close()

    print()
    for transcripts, found in results:
        if transcripts and found["items"] <= TARGET_ITEMS:
            size_ratio = found["mb"] / SIZE_TARGET_MB
            time_ratio = found["usable"] / USABLE_TARGET_S
            print(
                f"{found['items']:,} items: size {found['mb']:.2f} MB = {size_ratio:.2f}x the {SIZE_TARGET_MB:g} MB budget "
                f"{'PASS' if size_ratio <= 1 else 'MISS'}; usable in {found['usable']:.2f} s = {time_ratio:.2f}x "
                f"the {USABLE_TARGET_S:g} s budget {'PASS' if time_ratio <= 1 else 'MISS'}"
            )
        clean = not found["outside"] and not found["errors"]
        print(
            f"{found['items']:,} items{' with transcripts' if transcripts else ''}: "
            f"no request left the file and no console error: {'PASS' if clean else 'MISS'}"
        )


if __name__ == "__main__":
    main()
