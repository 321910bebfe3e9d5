"""``awaken_eval.report``: the page, its data document, its policy, its diff and charts.

What a browser does with the page is tested in ``test_report_browser.py``; here the
document the page carries is read back and checked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awaken_eval import EvalRunItem, InvalidRequest, MatrixCell, ModelPricing
from awaken_eval.events import InferenceSpan, SpanRecorded, ToolSpan
from awaken_eval.failures import (
    AnswerContainsExcludedPhrase,
    AnswerMissingPhrase,
    CountConstraint,
    DurationExceeded,
    ErrorTypeMismatch,
    ExpectedErrorMissing,
    ForbiddenToolUsed,
    JudgeBelowThreshold,
    ProviderScriptUnused,
    ReplayRuntimeError,
    ReplayRuntimeFailed,
    RequiredToolCallNotSatisfied,
    ScriptExhausted,
    TokenBudgetExceeded,
    ToolSequenceMismatch,
    explain,
    explain_item,
)
from awaken_eval.records import CriterionVerdict, JudgeAttempt
from awaken_eval.report import REPORT_MEDIA_TYPE, read_transcripts, render_report
from awaken_eval.report._charts import histogram
from awaken_eval.sinks import FileTraceStore, JsonlTraceSink
from builders import item, report, run
from report_support import regressed, synthetic_run, transcripts_of

SCRIPT = re.compile(r"<script(?P<attrs>[^>]*)>(?P<body>.*?)</script>", re.DOTALL)
CSP = re.compile(r'<meta http-equiv="Content-Security-Policy" content="(?P<policy>[^"]+)">')


def document_of(page: str) -> Any:
    """The JSON document the page embeds."""
    found = re.search(
        r'<script type="application/json" id="report-data">(?P<body>.*?)</script>',
        page,
        re.DOTALL,
    )
    assert found is not None
    return json.loads(found["body"])


def rows_of(page: str) -> list[dict[str, Any]]:
    document = document_of(page)
    return [dict(zip(document["columns"], row, strict=True)) for row in document["items"]]


# -- the page ---------------------------------------------------------------------------------


def test_the_policy_forbids_every_request_and_allows_exactly_the_inline_scripts() -> None:
    page = render_report(run(items=[item(fixture_id="a")]))
    policy = CSP.search(page)
    assert policy is not None
    directives = dict(
        part.strip().split(" ", 1) for part in policy["policy"].replace("&#x27;", "'").split(";")
    )
    assert "'none'" == directives["default-src"]
    executable = [m["body"] for m in SCRIPT.finditer(page) if "application/json" not in m["attrs"]]
    hashes = {
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in executable
    }
    assert 4 == len(executable)
    assert hashes == set(directives["script-src"].split())
    assert "unsafe" not in policy["policy"]


def test_the_page_loads_nothing_from_elsewhere() -> None:
    page = render_report(run(items=[item(fixture_id="a")]))
    outside_scripts = SCRIPT.sub("", page)
    assert not re.search(r"\b(src|href)\s*=", outside_scripts)
    assert "<link" not in outside_scripts
    assert "@import" not in outside_scripts


@settings(max_examples=50, deadline=None)  # a page per example: no per-example deadline
@given(st.text())
def test_no_text_of_a_run_can_end_the_data_block(text: str) -> None:
    hostile = f"</script><script>alert(1)</script><!-- {text}"
    page = render_report(run(items=[item(report=report(fixture_id="a", final_text=hostile))]))
    assert hostile == rows_of(page)[0]["details"]["answer"]
    assert 5 == page.count("</script>")  # the data block and the four scripts


def test_the_media_type_is_html() -> None:
    assert "text/html; charset=utf-8" == REPORT_MEDIA_TYPE


# -- header and items -----------------------------------------------------------------------


def test_the_header_sums_the_run() -> None:
    items = [
        item(
            report=report(
                fixture_id="a",
                total_input_tokens=10,
                total_output_tokens=5,
                total_tokens=15,
                cost_usd=0.5,
            ),
            model="m1",
            sample_index=0,
        ),
        item(
            report=report(fixture_id="a", failures=[ForbiddenToolUsed("rm")]),
            model="m1",
            sample_index=1,
        ),
        item(
            report=report(
                fixture_id="b",
                failures=[ReplayRuntimeFailed(ReplayRuntimeError("timeout"))],
                runtime_failure=ReplayRuntimeError("timeout"),
                total_tokens=7,
            ),
            model="m2",
            sample_index=0,
        ),
        item(report=report(fixture_id="b"), model="m2", sample_index=1),
    ]
    header = document_of(render_report(run(items=items, ended_at_secs=1_700_006_400 + 75)))[
        "header"
    ]
    assert {
        "run_id": "run",
        "dataset_id": "ds",
        "dataset_revision": 0,
        "mode": "live",
        "models": ["m1", "m2"],
        "samples": 2,
        "fixtures": 2,
        "items": 4,
        "passed": 2,
        "failed": 1,
        "errored": 1,
        "input_tokens": 10,
        "output_tokens": 5,
        "total_tokens": 22,
        "cost_usd": 0.5,
        "started_at": "2023-11-15 00:00:00 UTC",
        "duration_secs": 75,
    } == header


def test_an_unpriced_item_is_priced_by_model_and_an_unpriceable_one_has_no_cost() -> None:
    priced = report(fixture_id="a", total_input_tokens=1_000_000, total_output_tokens=0)
    items = [item(report=priced, model="m1"), item(report=priced, model="m2")]
    pricing = {"m1": ModelPricing(input_per_million_usd=2.0, output_per_million_usd=8.0)}
    page = render_report(run(items=items), pricing=pricing)
    assert [2.0, None] == [row["cost_usd"] for row in rows_of(page)]
    assert 2.0 == document_of(page)["header"]["cost_usd"]
    assert document_of(render_report(run(items=items)))["header"]["cost_usd"] is None


def test_an_item_carries_its_explanations_judge_attempts_and_verdicts() -> None:
    failed = report(
        fixture_id="capital",
        failures=[AnswerMissingPhrase("Paris"), JudgeBelowThreshold(0.8, 0.4)],
        final_text="It is Lyon.",
        judge_score=0.4,
        judge_reasoning="names the wrong city",
        judge_verdicts=(CriterionVerdict(criterion_id="city", score=0.0, reasoning="Lyon"),),
        judge_attempts=(
            JudgeAttempt(revision=0, score=0.2, reasoning="first"),
            JudgeAttempt(revision=1, score=0.4, reasoning="revised"),
        ),
    )
    row = rows_of(render_report(run(items=[item(report=failed)])))[0]
    assert ("capital", "default", None, "fail") == (
        row["fixture"],
        row["model"],
        row["sample"],
        row["status"],
    )
    assert "answer_missing_phrase judge_below_threshold" == row["failures"]
    details = row["details"]
    assert [list(explanation.lines()) for explanation in explain_item(failed)] == details["explain"]
    assert details["explain"][0][0].startswith("final_answer_contains: expected 'Paris'")
    assert {"score": 0.4, "reasoning": "names the wrong city"} == details["judge"]
    assert [["city", 0.0, "Lyon"]] == details["verdicts"]
    assert [[0, 0.2, "first"], [1, 0.4, "revised"]] == details["attempts"]


EVERY_KIND = [
    AnswerMissingPhrase("Paris"),
    AnswerContainsExcludedPhrase("Lyon"),
    ToolSequenceMismatch(("search", "answer"), ("answer",)),
    ForbiddenToolUsed("rm"),
    RequiredToolCallNotSatisfied(
        "search", expected_count=CountConstraint.exactly(2), actual_matches=1, args_filter_set=True
    ),
    TokenBudgetExceeded(100, 250),
    DurationExceeded(1000, 2500),
    JudgeBelowThreshold(0.7, 0.25),
    ExpectedErrorMissing("timeout"),
    ErrorTypeMismatch("timeout", "rate_limited"),
    ReplayRuntimeFailed(ScriptExhausted(2)),
    ReplayRuntimeFailed(ProviderScriptUnused(3)),
    ReplayRuntimeFailed(ReplayRuntimeError("deadline exceeded")),
]


@pytest.mark.parametrize("failure", EVERY_KIND, ids=lambda failure: failure.kind)
def test_every_failure_kind_shows_the_one_shared_explanation(failure: Any) -> None:
    failed = report(fixture_id="a", failures=[failure], final_text="It is Lyon.")
    (shown,) = rows_of(render_report(run(items=[item(report=failed)])))[0]["details"]["explain"]
    assert list(explain(failure, report=failed).lines()) == shown


def test_a_long_final_answer_is_cut_and_says_so() -> None:
    long = report(fixture_id="a", final_text="x" * 30_000)
    answer = rows_of(render_report(run(items=[item(report=long)])))[0]["details"]["answer"]
    assert answer.startswith("x" * 20_000)
    assert answer.endswith("(cut: 30000 characters in all)")


def test_transcripts_are_kept_for_the_items_traces_only() -> None:
    spans: list[InferenceSpan | ToolSpan] = [
        InferenceSpan(run_id="t1", model="m", request_messages=[{"role": "user", "content": "hi"}]),
        ToolSpan(name="search", run_id="t1", call_arguments={"q": "x"}, call_result={"n": 1}),
    ]
    page = render_report(
        run(
            items=[item(fixture_id="a", trace_run_id="t1"), item(fixture_id="b", trace_run_id="t2")]
        ),
        transcripts={"t1": spans, "other": spans},
    )
    document = document_of(page)
    assert ["t1"] == list(document["transcripts"])
    assert [
        {
            "type": "inference",
            "model": "m",
            "messages": [{"role": "user", "content": "hi"}],
            "tokens": 0,
        },
        {"type": "tool", "name": "search", "arguments": {"q": "x"}, "result": {"n": 1}},
    ] == document["transcripts"]["t1"]
    assert [{"trace": "t1", "transcript": True}, {"trace": "t2"}] == [
        row["details"] for row in rows_of(page)
    ]


def test_read_transcripts_reads_the_items_traces_from_a_trace_store(tmp_path: Path) -> None:
    sink = JsonlTraceSink(tmp_path)
    span = InferenceSpan(
        run_id="t1", model="m", duration_ms=3, response_content=[{"type": "text", "text": "ok"}]
    )

    async def scenario() -> dict[str, list[InferenceSpan | ToolSpan]]:
        await sink.emit(SpanRecorded(span=span))
        shown = run(
            items=[
                item(fixture_id="a", trace_run_id="t1"),
                item(fixture_id="b", trace_run_id="gone"),
            ]
        )
        return await read_transcripts(FileTraceStore(tmp_path), shown)

    assert {"t1": [span]} == anyio.run(scenario)


# -- charts -----------------------------------------------------------------------------------


def test_the_charts_carry_wilson_intervals_curves_and_distributions() -> None:
    items = [
        item(report=report(fixture_id="a", total_tokens=10 * k), model="m", sample_index=k)
        for k in range(4)
    ] + [
        item(
            report=report(fixture_id="a", failures=[ForbiddenToolUsed("x")]),
            model="n",
            sample_index=k,
        )
        for k in range(4)
    ]
    charts = {
        chart["id"]: chart for chart in document_of(render_report(run(items=items)))["charts"]
    }
    assert ["pass-rate", "pass-k", "tokens", "durations"] == list(charts)
    rates = charts["pass-rate"]["spec"]["data"]["values"]
    assert [("m", 1.0, 4), ("n", 0.0, 4)] == [(r["model"], r["rate"], r["items"]) for r in rates]
    assert 0.0 < rates[0]["low"] < 1.0 == rates[0]["high"]
    curve = charts["pass-k"]["spec"]["data"]["values"]
    assert 16 == len(curve)  # 2 models x k = 1..4 x (pass@k, pass^k)
    tokens = charts["tokens"]["spec"]["data"]["values"]
    assert 8 == sum(row["count"] for row in tokens)


def test_a_run_without_items_has_no_charts() -> None:
    assert [] == document_of(render_report(run()))["charts"]


@settings(deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**9), max_size=200), st.integers(1, 30))
def test_histogram_bins_hold_every_value_once(values: list[int], bins: int) -> None:
    found = histogram(values, bins=bins)
    assert len(values) == sum(count for _, _, count in found)
    assert len(found) <= bins
    for start, end, count in found:
        assert start < end
        assert count == sum(1 for value in values if start <= value < end)


# -- diff -----------------------------------------------------------------------------------


def _scripted(*pairs: tuple[str, bool]) -> list[EvalRunItem]:
    return [
        item(report=report(fixture_id=fixture_id, failures=[] if ok else [ForbiddenToolUsed("rm")]))
        for fixture_id, ok in pairs
    ]


def test_the_diff_lists_regressions_first_and_counts_every_class() -> None:
    baseline = run(
        run_id="base",
        items=_scripted(
            ("fixed", False), ("regressed", True), ("same", True), ("gone", True), ("bad", False)
        ),
    )
    new = run(
        run_id="new",
        items=_scripted(
            ("fixed", True), ("regressed", False), ("same", True), ("added", True), ("bad", False)
        ),
    )
    diff = document_of(render_report(new, baseline))["diff"]
    assert ["regression", "fixed", "still_failing", "newly_added", "missing_from_new"] == [
        entry[0] for entry in diff["entries"]
    ]
    assert "regressed" == diff["entries"][0][1]
    regressed_report = new.items[1].report
    assert [list(e.lines()) for e in explain_item(regressed_report)] == diff["entries"][0][5]
    assert diff["entries"][0][5][0][0].startswith("forbidden_tools: ")
    assert {
        "regression": 1,
        "fixed": 1,
        "drift": 0,
        "still_failing": 1,
        "newly_added": 1,
        "missing_from_new": 1,
        "unchanged": 1,
    } == diff["counts"]
    assert diff["clean"] is False
    assert "sampled" not in diff


def test_a_sampled_diff_carries_the_significance_of_each_group() -> None:
    base = synthetic_run(90, samples=5, quality=(1.0, 1.0, 1.0))
    new = regressed(base, fixture_id="capital-00001")
    sampled = document_of(render_report(new, base))["diff"]["sampled"]
    first = sampled["entries"][0]
    assert ("regression", "capital-00001") == (first[0], first[1])
    assert [5, 5] == first[3][:2]
    assert [0, 5] == first[4][:2]
    assert first[5] < sampled["alpha"] == 0.05


def test_an_incomparable_baseline_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="cannot diff across datasets"):
        render_report(run(run_id="new"), run(run_id="old", dataset_id="other"))


# -- size -----------------------------------------------------------------------------------


def test_a_thousand_item_report_with_transcripts_stays_under_five_megabytes() -> None:
    big = synthetic_run(1000)
    page = render_report(big, transcripts=transcripts_of(big))
    assert len(big.items) >= 990
    assert len(page.encode()) <= 5_000_000


def test_cells_without_a_model_are_the_default_model() -> None:
    items = [EvalRunItem("a", cell=MatrixCell(), report=report(fixture_id="a"))]
    assert ["default"] == document_of(render_report(run(items=items)))["header"]["models"]


def test_a_non_finite_float_shows_as_missing_rather_than_breaking_the_page() -> None:
    odd = report(fixture_id="a", judge_score=float("nan"), cost_usd=float("inf"))
    row = rows_of(render_report(run(items=[item(report=odd)])))[0]
    assert (None, None) == (row["cost_usd"], row["details"]["judge"]["score"])
