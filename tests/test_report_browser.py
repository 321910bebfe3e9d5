"""The HTML report in a real browser: headless Chromium driven by Playwright.

Each page is opened from a file URL with every other request aborted (and counted),
and the tests check what a user does with it: no console error, no request leaving
the file, charts drawn as non-empty SVG, the table filtered, sorted, paged and an item
expanded to its explanation and transcript, and the diff listing the regression.

The browser is the system Chromium (Debian's ``chromium`` package; ``.ci/run``
installs it), or the one ``AWAKEN_EVAL_CHROMIUM`` names.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from awaken_eval.failures import explain_item
from awaken_eval.report import render_report
from report_support import regressed, synthetic_run, transcripts_of

playwright_api = pytest.importorskip("playwright.sync_api", reason="the test extra has playwright")

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
    "--metrics-recording-only",
]
LOAD_TIMEOUT_MS = 60_000  # generous: two cores shared by many test workers
ROWS = "rows => rows.map(r => Array.from(r.cells).map(c => c.textContent))"


def chromium_path() -> str:
    path = os.environ.get("AWAKEN_EVAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        pytest.fail(
            f"no Chromium at {path}: install Debian's chromium package "
            "(apt-get install chromium) or set AWAKEN_EVAL_CHROMIUM"
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@attrs.define
class Opened:
    """A report page opened offline, with what it logged and requested."""

    page: Any
    url: str
    requests: list[str]
    console: list[tuple[str, str]]

    def errors(self) -> list[tuple[str, str]]:
        return [(kind, text) for kind, text in self.console if kind in ("error", "pageerror")]

    def rows(self, selector: str = "#items-body tr.item") -> list[list[str]]:
        rows: list[list[str]] = self.page.eval_on_selector_all(selector, ROWS)
        return rows


@pytest.fixture
def open_report(browser: Any, tmp_path: Path) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_page(html: str, name: str = "report.html") -> Opened:
        path = tmp_path / name
        path.write_text(html, encoding="utf-8")
        url = path.as_uri()
        requests: list[str] = []
        console: list[tuple[str, str]] = []
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)

        def route(handle: Any) -> None:
            requests.append(handle.request.url)
            if handle.request.url == url:
                handle.continue_()
            else:
                handle.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.on("console", lambda message: console.append((message.type, message.text)))
        page.on("pageerror", lambda error: console.append(("pageerror", str(error))))
        page.goto(url, timeout=LOAD_TIMEOUT_MS)
        page.wait_for_selector("body[data-ready='1']", timeout=LOAD_TIMEOUT_MS)
        page.wait_for_selector("body[data-charts]", timeout=LOAD_TIMEOUT_MS)
        return Opened(page, url, requests, console)

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def big_run() -> Any:
    return synthetic_run(300, seed=7)


def tokens_shown(opened: Opened) -> list[int]:
    return [int(row[4].replace(",", "")) for row in opened.rows()]


def test_the_report_opens_offline_without_errors_or_requests(
    open_report: Any, big_run: Any
) -> None:
    opened = open_report(render_report(big_run, transcripts=transcripts_of(big_run)))
    assert [] == opened.errors()
    assert [opened.url] == opened.requests
    assert "ready" == opened.page.get_attribute("body", "data-charts")
    summary = opened.page.text_content("#summary [data-field='items'] dd")
    assert f"{len(big_run.items)}" == summary


def test_every_chart_renders_a_non_empty_svg(open_report: Any, big_run: Any) -> None:
    opened = open_report(render_report(big_run))
    marks = opened.page.eval_on_selector_all(
        "#charts .chart",
        "cs => cs.map(c => [c.id, c.querySelectorAll('svg path, svg rect, svg line').length])",
    )
    assert ["chart-pass-rate", "chart-pass-k", "chart-tokens", "chart-durations"] == [
        chart_id for chart_id, _ in marks
    ]
    for chart_id, count in marks:
        assert count > 10, chart_id


def test_the_table_filters_by_status_model_and_fixture_text(open_report: Any, big_run: Any) -> None:
    opened = open_report(render_report(big_run))
    page = opened.page
    failing = [
        item
        for item in big_run.items
        if not item.report.passed and item.report.runtime_failure is None
    ]
    page.select_option("#filter-status", "fail")
    rows = opened.rows()
    assert {"fail"} == {row[3] for row in rows}
    shown = min(50, len(failing))
    assert page.text_content("#page-info").startswith(f"1\u2013{shown} of {len(failing)} items")

    page.select_option("#filter-model", "local-llama")
    expected = [item for item in failing if item.cell is not None]
    expected = [item for item in expected if item.cell.model_id == "local-llama"]
    rows = opened.rows()
    assert {("local-llama", "fail")} == {(row[1], row[3]) for row in rows}
    assert len(expected) == len(rows)

    page.select_option("#filter-status", "")
    page.select_option("#filter-model", "")
    page.fill("#filter-text", "capital-00004")
    rows = opened.rows()
    assert 9 == len(rows)  # 3 models x 3 samples
    assert {"capital-00004"} == {row[0] for row in rows}
    assert [] == opened.errors()


def test_the_table_sorts_by_a_column_both_ways_and_pages(open_report: Any, big_run: Any) -> None:
    opened = open_report(render_report(big_run))
    page = opened.page
    tokens = sorted(item.report.total_tokens for item in big_run.items)
    page.click("#items th[data-col='tokens']")
    assert tokens[:50] == tokens_shown(opened)
    assert "ascending" == page.get_attribute("#items th[data-col='tokens']", "aria-sort")
    page.click("#items th[data-col='tokens']")
    assert tokens[::-1][:50] == tokens_shown(opened)
    page.click("#page-next")
    assert tokens[::-1][50:100] == tokens_shown(opened)
    assert page.text_content("#page-info").startswith(f"51\u2013100 of {len(big_run.items)} items")


def test_an_item_expands_to_its_explanation_and_transcript(open_report: Any, big_run: Any) -> None:
    opened = open_report(render_report(big_run, transcripts=transcripts_of(big_run)))
    page = opened.page
    missing = next(
        item
        for item in big_run.items
        if [failure.kind for failure in item.report.failures] == ["answer_missing_phrase"]
    )
    page.fill("#filter-text", missing.fixture_id)
    page.select_option("#filter-status", "fail")
    page.click("#items-body tr.item >> nth=0")
    details = page.locator("#items-body td.details")
    (explained,) = explain_item(missing.report)
    assert explained.summary == details.locator("ul.explain .summary").first.text_content()
    evidence = details.locator("ul.explain ul.evidence li").all_text_contents()
    assert list(explained.details) == evidence
    assert any("It is" in line or "I think" in line for line in evidence)  # the answer
    text = details.text_content()
    assert "Transcript" in text
    assert "What is the capital of the country of" in text  # the captured request
    assert f'"q": "{missing.fixture_id}"' in text  # the tool call's arguments
    assert "Criterion verdicts" in text
    assert "Judge attempts" in text
    page.click("#items-body tr.item >> nth=0")
    assert 0 == page.locator("#items-body td.details").count()
    assert [] == opened.errors()


def test_the_diff_view_lists_the_regression_first(open_report: Any, big_run: Any) -> None:
    new = regressed(big_run, fixture_id="capital-00002")
    opened = open_report(render_report(new, big_run), "diff.html")
    page = opened.page
    assert page.is_visible("#diff")
    first = page.locator("#diff-table tbody tr").first
    assert "regression" == first.get_attribute("data-kind")
    assert "capital-00002" in first.text_content()
    assert "'It is Lyon.'" in first.text_content()
    groups = [row for row in opened.rows("#sampled-table tbody tr") if row[1] == "capital-00002"]
    assert 3 == len(groups)  # one group per model, each with its p-value
    for row in groups:
        assert row[4].startswith("0/3 ")
        assert float(row[5]) > 0
    assert [] == opened.errors()
    assert [opened.url] == opened.requests


def test_a_long_diff_is_drawn_a_hundred_rows_at_a_time(open_report: Any) -> None:
    baseline = synthetic_run(300, seed=7, quality=(1.0, 1.0, 1.0))
    new = synthetic_run(300, seed=8, quality=(0.0, 0.0, 0.0), run_id="01JREPORTRUN0000000000009")
    opened = open_report(render_report(new, baseline), "long-diff.html")
    page = opened.page
    assert 100 == page.locator("#diff-table tbody tr").count()
    assert f"show 100 more ({len(new.items) - 100} left)" == page.text_content("#diff-more")
    page.click("#diff-more")
    page.click("#diff-more")
    assert len(new.items) == page.locator("#diff-table tbody tr").count()
    assert page.is_hidden("#diff-more")
    assert [] == opened.errors()
