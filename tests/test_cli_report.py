"""``awaken-eval report``: a stored run (and its baseline) written as one HTML file."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import anyio
import pytest

from awaken_eval import EvalRun, open_run_store
from awaken_eval.events import InferenceSpan, SpanRecorded
from awaken_eval.failures import AnswerMissingPhrase
from awaken_eval.sinks import JsonlTraceSink
from builders import T0, item, report, run


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/store/runs.sqlite3"


def put(url: str, *runs: EvalRun) -> None:
    async def write() -> None:
        target = open_run_store(url)
        try:
            for one in runs:
                await target.write(one)
        finally:
            close = getattr(target, "close", None)
            if close is not None:
                close()

    anyio.run(write)


def document_in(path: Path) -> Any:
    found = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>',
        path.read_text("utf-8"),
        re.DOTALL,
    )
    assert found is not None
    return json.loads(found.group(1))


def passing(run_id: str, *, started: int, fixture_ok: bool = True, **more: Any) -> EvalRun:
    failures = [] if fixture_ok else [AnswerMissingPhrase("Paris")]
    return run(
        run_id=run_id,
        started_at_secs=started,
        items=[
            item(report=report(fixture_id="capital", failures=failures, final_text="It is Lyon.")),
            item(report=report(fixture_id="greet"), trace_run_id=f"{run_id}-greet"),
        ],
        **more,
    )


OLD = passing("01J0000000000000000000OLD0", started=T0)
NEW = passing("01J0000000000000000000NEW0", started=T0 + 60, fixture_ok=False)
OTHER = passing("01J000000000000000000OTHER", started=T0 + 120, dataset_id="other")


def test_report_writes_the_run_and_says_where(
    cli: Any, store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    put(store, OLD)
    monkeypatch.chdir(tmp_path)
    result = cli("report", OLD.id, "--store", store)
    written = tmp_path / f"report-{OLD.id}.html"
    assert (0, "") == (result.code, result.err)
    assert result.out.startswith(f"wrote the report of run {OLD.id} (2 items) to {written.name} (")
    document = document_in(written)
    assert (OLD.id, None) == (document["header"]["run_id"], document["diff"])


def test_report_latest_against_the_latest_earlier_baseline(
    cli: Any, store: str, tmp_path: Path
) -> None:
    put(store, OLD, NEW, OTHER)
    out = tmp_path / "out" / "new.html"
    result = cli("report", "latest", "--baseline", "latest", "-o", str(out), "--store", store)
    # latest is OTHER (newest); it has no earlier run of its dataset: no diff, a note.
    assert 0 == result.code
    assert f"no earlier scripted run of dataset other in {store}" in result.err
    assert OTHER.id == document_in(out)["header"]["run_id"]

    result = cli("report", NEW.id, "--baseline", "latest", "-o", str(out), "--store", store)
    assert (0, "") == (result.code, result.err)
    assert f"against baseline {OLD.id}" in result.out
    diff = document_in(out)["diff"]
    assert OLD.id == diff["baseline_run_id"]
    assert ["regression", "capital"] == diff["entries"][0][:2]


def test_report_with_a_trace_root_shows_the_captured_transcripts(
    cli: Any, store: str, tmp_path: Path
) -> None:
    put(store, OLD)
    traces = tmp_path / "traces-root"
    span = InferenceSpan(run_id=f"{OLD.id}-greet", model="m", response_content="hello")
    anyio.run(JsonlTraceSink(traces).emit, SpanRecorded(span=span))
    out = tmp_path / "r.html"
    result = cli("report", OLD.id, "-o", str(out), "--trace-root", str(traces), "--store", store)
    assert (0, "") == (result.code, result.err)
    assert "(2 items, 1 transcripts)" in result.out
    transcripts = document_in(out)["transcripts"]
    assert [f"{OLD.id}-greet"] == list(transcripts)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["01J0000000000000000MISSING"], "eval run not found: 01J0000000000000000MISSING"),
        ([OLD.id, "--baseline", OTHER.id], "cannot diff across datasets"),
        ([OLD.id, "--trace-root", "no/such/dir"], '--trace-root "no/such/dir" is not a directory'),
        ([], "RUN_ID|latest is required"),
    ],
)
def test_report_errors_are_one_line_and_exit_2(
    cli: Any, store: str, tmp_path: Path, args: list[str], message: str
) -> None:
    put(store, OLD, OTHER)
    result = cli("report", *args, "-o", str(tmp_path / "x.html"), "--store", store)
    assert 2 == result.code
    assert message in result.err
    assert not (tmp_path / "x.html").exists()


def test_report_on_a_missing_store(cli: Any, tmp_path: Path) -> None:
    missing = f"sqlite:///{tmp_path}/none/runs.sqlite3"
    result = cli("report", "latest", "--store", missing)
    assert 2 == result.code
    assert "no run store at" in result.err


def test_report_help_is_its_own(cli: Any) -> None:
    result = cli("report", "--help")
    assert result.out.startswith("usage: awaken-eval report RUN_ID|latest [--baseline")
    assert "  report " in cli("--help").out
