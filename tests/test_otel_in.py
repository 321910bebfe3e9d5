"""OTLP JSON in: GenAI spans -> span records -> fixtures; the OTLP file trace store; the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from awaken_eval import EvalRun, Fixture, InvalidInput, NotFound, from_json, run_eval, to_json
from awaken_eval.curate import CurationMode, curate_fixture
from awaken_eval.events import InferenceSpan, ToolSpan
from awaken_eval.otel import OtlpTraceStore, otlp_json, otlp_span_records
from awaken_eval.protocols import TraceStore
from awaken_eval.sinks import PinKind, TraceFilter
from cli_support import Cli
from otel_support import EXPECT, Traced, record_weather_run

pytestmark = pytest.mark.anyio

TRACE = "5b8efff798038103d269b633813fc60c"


async def _recorded() -> tuple[EvalRun, dict[str, Any], str]:
    """A traced live run and its OTLP JSON (through text, as a file would hold it)."""
    traced = Traced()
    run = await record_weather_run(traced.provider)
    document = json.loads(json.dumps(otlp_json(traced.spans())))
    trace_id = f"{traced.spans()[0].context.trace_id:032x}"
    return run, document, trace_id


async def test_a_traced_run_curates_back_into_a_fixture_that_scores_the_same() -> None:
    # Acceptance: sink -> in-memory exporter -> OTLP JSON -> records -> fixture -> replay.
    run, document, trace_id = await _recorded()
    records = otlp_span_records(document, trace_id=trace_id)
    assert ["chat", "execute_tool", "chat"] == [
        "execute_tool" if isinstance(r, ToolSpan) else r.operation for r in records
    ]
    item = run.items[0]
    assert item.trace_run_id is not None
    fixture = curate_fixture(
        records, run_id=item.trace_run_id, expectation=EXPECT, mode=CurationMode.REQUIRE
    )
    assert "Weather in Paris?" == fixture.user_input
    replayed = await run_eval([from_json(Fixture, to_json(fixture))])
    before, after = item.report, replayed.items[0].report
    assert (True, "Sunny, 21 C in Paris.") == (after.passed, after.final_text)
    assert (before.passed, before.final_text) == (after.passed, after.final_text)
    assert ("get_weather",) == tuple(s.name for s in records if isinstance(s, ToolSpan))
    assert (before.inference_count, before.tool_count) == (after.inference_count, after.tool_count)


async def test_record_fields_survive_the_round_trip() -> None:
    run, document, trace_id = await _recorded()
    first = otlp_span_records(document, trace_id=trace_id)[0]
    assert isinstance(first, InferenceSpan)
    assert ("gpt-live", ("tool_use",), 5, 4, 9) == (
        first.model,
        first.finish_reasons,
        first.input_tokens,
        first.output_tokens,
        first.total_tokens,
    )
    call = {"id": "call-1", "name": "get_weather", "arguments": {"city": "Paris"}}
    assert [call] == first.response_tool_calls
    assert run.items[0].trace_run_id == first.run_id


def _attribute(key: str, value: Any) -> dict[str, Any]:
    return {"key": key, "value": value}


def _span(
    span_id: str, attributes: list[dict[str, Any]], start: int, **extra: Any
) -> dict[str, Any]:
    return {
        "traceId": TRACE,
        "spanId": span_id,
        "name": "span",
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + 2_000_000),
        "attributes": attributes,
        **extra,
    }


def _foreign_document() -> dict[str, Any]:
    """GenAI spans as another instrumentation writes them (no awaken_eval attributes)."""
    answer = [
        {"role": "assistant", "parts": [{"type": "text", "content": "4"}], "finish_reason": "stop"}
    ]
    question = [{"role": "user", "parts": [{"type": "text", "content": "2+2?"}]}]
    chat = [
        _attribute("gen_ai.operation.name", {"stringValue": "chat"}),
        _attribute("gen_ai.request.model", {"stringValue": "gpt-4o"}),
        _attribute("gen_ai.provider.name", {"stringValue": "openai"}),
        _attribute("gen_ai.usage.input_tokens", {"intValue": "7"}),
        _attribute("gen_ai.usage.output_tokens", {"intValue": 1}),
        _attribute(
            "gen_ai.response.finish_reasons", {"arrayValue": {"values": [{"stringValue": "stop"}]}}
        ),
        _attribute("gen_ai.input.messages", {"stringValue": json.dumps(question)}),
        _attribute("gen_ai.output.messages", {"stringValue": json.dumps(answer)}),
    ]
    http = [_attribute("http.method", {"stringValue": "POST"})]
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": []},
                "scopeSpans": [
                    {
                        "scope": {"name": "other"},
                        "spans": [
                            _span("00f067aa0ba902b7", chat, 2_000_000_000, kind=3),
                            _span("00f067aa0ba902b8", http, 1_000_000_000),
                        ],
                    }
                ],
            }
        ]
    }


def test_foreign_genai_spans_become_records_keyed_by_their_trace() -> None:
    (record,) = otlp_span_records(_foreign_document(), trace_id=TRACE.upper())
    assert isinstance(record, InferenceSpan)
    assert (TRACE, "gpt-4o", "openai", ("end_turn",), 7, 1) == (
        record.run_id,
        record.model,
        record.provider,
        record.finish_reasons,
        record.input_tokens,
        record.output_tokens,
    )
    assert (2000, 2002, 2) == (record.started_at_ms, record.ended_at_ms, record.duration_ms)
    fixture = curate_fixture([record], run_id=TRACE, expectation=EXPECT)
    assert "2+2?" == fixture.user_input
    assert () == otlp_span_records(_foreign_document(), trace_id="0" * 32)


def test_bad_documents_name_every_problem_by_json_path() -> None:
    document = _foreign_document()
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans[0]["traceId"] = "xyz"
    spans[1]["attributes"][0]["value"] = {"intValue": "ten"}
    with pytest.raises(InvalidInput) as caught:
        otlp_span_records(document)
    base = "$.resourceSpans[0].scopeSpans[0].spans"
    assert [f"{base}[0].traceId", f"{base}[1].attributes[0].value.intValue"] == [
        problem.path for problem in caught.value.problems
    ]


def test_a_wrongly_typed_genai_attribute_is_named_by_its_path() -> None:
    document = _foreign_document()
    chat = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    chat["attributes"][3]["value"] = {"stringValue": "seven"}
    chat["attributes"][7]["value"] = {"stringValue": "{not json"}
    with pytest.raises(InvalidInput) as caught:
        otlp_span_records(document)
    base = "$.resourceSpans[0].scopeSpans[0].spans[0].attributes"
    assert [f"{base}[3].value", f"{base}[7].value"] == [p.path for p in caught.value.problems]
    assert "expected an integer" in caught.value.problems[0].message


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ([], "$"),
        ({"resourceSpans": {}}, "$.resourceSpans"),
        (
            {"resourceSpans": [{"scopeSpans": [{"spans": [3]}]}]},
            "$.resourceSpans[0].scopeSpans[0].spans[0]",
        ),
    ],
)
def test_the_document_shape_is_checked(document: Any, path: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        otlp_span_records(document)
    assert [path] == [problem.path for problem in caught.value.problems]


async def test_the_otlp_file_store_reads_lists_and_ignores_pins(tmp_path: Path) -> None:
    run, document, _ = await _recorded()
    path = tmp_path / "traces.jsonl"
    lines = [json.dumps(document), json.dumps(_foreign_document())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store: TraceStore = OtlpTraceStore(path)
    agent_run = run.items[0].trace_run_id
    assert agent_run is not None
    read = await store.read_trace(agent_run)
    assert 3 == len(read.events)
    # The recorded run happened now, the foreign trace at 2 s after the epoch.
    oldest_first = await store.list_traces(TraceFilter(newest_first=False))
    assert [TRACE, agent_run] == [summary.run_id for summary in oldest_first]
    assert [agent_run] == [s.run_id for s in await store.list_traces(TraceFilter(limit=1))]
    assert [agent_run] == [s.run_id for s in await store.list_traces(TraceFilter(since_secs=3))]
    foreign = oldest_first[0]
    assert ("", 2, 2, "ok") == (
        foreign.agent_id,
        foreign.started_at_secs,
        foreign.ended_at_secs,
        foreign.final_status,
    )
    assert [] == await store.list_traces(TraceFilter(experiment_id="x"))
    await store.pin(agent_run, PinKind.OPERATOR)
    assert read == await store.read_trace(agent_run)
    with pytest.raises(NotFound, match="nope"):
        await store.read_trace("nope")


async def test_a_bad_line_of_the_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "traces.jsonl"
    path.write_text(json.dumps(_foreign_document()) + "\n" + '{"resourceSpans": 1}\n', "utf-8")
    with pytest.raises(InvalidInput) as caught:
        await OtlpTraceStore(path).read_trace(TRACE)
    assert f"{path}:2: $.resourceSpans: expected an array, got 1" == str(caught.value)


async def test_cli_curates_from_an_otlp_file(cli: Cli, tmp_path: Path) -> None:
    run, document, trace_id = await _recorded()
    source = tmp_path / "trace.json"
    source.write_text(json.dumps(document, indent=2), encoding="utf-8")
    out = tmp_path / "fixture.json"
    args = ["curate", "--otlp", str(source), "--trace-id", trace_id, "--out", str(out)]
    result = cli(*args, "--expect-final-contains", "Sunny")
    assert (0, "") == (result.code, result.err)
    assert "curated 2 inference(s)" in result.out
    fixture = from_json(Fixture, out.read_bytes())
    assert run.items[0].trace_run_id == fixture.id
    replayed = await run_eval([fixture])
    assert (True, "Sunny, 21 C in Paris.") == (
        replayed.items[0].report.passed,
        replayed.items[0].report.final_text,
    )


def test_cli_otlp_errors(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "trace.json"
    source.write_text(json.dumps(_foreign_document()), encoding="utf-8")
    out = str(tmp_path / "f.json")
    base = ["curate", "--otlp", str(source), "--out", out, "--expect-final-contains", "4"]
    assert "--trace-id <ID> is required" in cli(*base).err
    unknown = cli(*base, "--trace-id", "0" * 32)
    assert (2, "no GenAI inference or tool spans") == (
        unknown.code,
        unknown.err.split(" has ")[-1].strip(),
    )
    wrong_run = cli(*base, "--trace-id", TRACE, "--run-id", "other")
    assert f"runs: {TRACE}" in wrong_run.err
    both = cli(*base, "--trace-id", TRACE, "--trace-root", str(tmp_path))
    assert "cannot be used together" in both.err
    assert 0 == cli(*base, "--trace-id", TRACE).code
