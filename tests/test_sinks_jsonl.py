"""The trace sink and file trace store (spec §1.15 MetricsEvent, §3.4, §7.12; trace-store §2).

Spans land as ``{"type": "inference" | "tool", ...}`` lines in one file per agent run
(``<root>/YYYY-MM/<run>.ndjson``, the month of the first append),
run events in one events file; spans without a run id are dropped; a failing disk is
logged, never raised; reading reports corrupt lines with file and line number. Includes
the §7.12 acceptance case ``runtime_replayer_tee_sink_routes_spans_to_trace_store`` and a
property test: any span written by the sink reads back equal.
"""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path

import anyio
import attrs
import pytest
from hypothesis import HealthCheck, given, settings

from awaken_eval import (
    AgentLoopReplayer,
    ChatResponseEvent,
    DialogueTurn,
    Fixture,
    InvalidInput,
    NotFound,
    ReplayContext,
    RunOptions,
    ToolCallEvent,
    TraceSink,
    run_eval,
)
from awaken_eval.errors import InvalidRunId
from awaken_eval.events import (
    InferenceSpan,
    RunCompleted,
    RunEventMode,
    RunFailed,
    RunStarted,
    SpanRecorded,
    ToolSpan,
    TraceEvent,
)
from awaken_eval.sinks import (
    EVAL_EVENTS_FILE,
    FileTraceStore,
    JsonlTraceSink,
    OpaqueMetricsEvent,
)
from strategies import inference_spans, tool_spans

pytestmark = pytest.mark.anyio

JAN = 1_769_764_502.0
"""A time in January 2026 (UTC): the month folder of the traces written at it."""
MONTH = "2026-01"


def sink_at(root: Path) -> JsonlTraceSink:
    return JsonlTraceSink(root, clock=lambda: JAN)


INFERENCE = InferenceSpan(
    run_id="run-1",
    thread_id="thread-1",
    agent_id="default",
    step_index=0,
    model="gpt-test",
    finish_reasons=("end_turn",),
    input_tokens=3,
    output_tokens=1,
    duration_ms=5,
    response_content=[{"type": "text", "text": "4"}],
)
TOOL = ToolSpan(name="lookup", run_id="run-1", call_id="c1", call_result={"x": 1}, duration_ms=2)
STARTED = RunStarted(
    eval_run_id="eval-1",
    dataset_id="ds",
    dataset_revision=1,
    mode=RunEventMode.DATASET_SCRIPTED,
    planned_item_count=1,
    started_at_secs=10,
)
FAILED = RunFailed(
    eval_run_id="eval-1",
    dataset_id="ds",
    mode=RunEventMode.DATASET_SCRIPTED,
    error="boom",
    started_at_secs=10,
    ended_at_secs=11,
)


async def emit_all(sink: TraceSink, events: list[TraceEvent]) -> None:
    for event in events:
        await sink.emit(event)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- writing -------------------------------------------------------------------------------


async def test_sink_is_a_trace_sink(tmp_path: Path) -> None:
    assert isinstance(JsonlTraceSink(tmp_path), TraceSink)


async def test_spans_are_appended_in_the_metrics_event_shape(tmp_path: Path) -> None:
    # trace-store §5.2, §5.3: key order, null/omit rules, opaque payloads keys sorted.
    sink = sink_at(tmp_path)
    await emit_all(sink, [SpanRecorded(span=INFERENCE), SpanRecorded(span=TOOL)])
    expected = (
        '{"type":"inference","run_id":"run-1","thread_id":"thread-1","agent_id":"default",'
        '"step_index":0,"model":"gpt-test","provider":"","operation":"chat",'
        '"response_model":null,"response_id":null,"finish_reasons":["end_turn"],'
        '"error_type":null,"error_class":null,"thinking_tokens":null,"input_tokens":3,'
        '"output_tokens":1,"total_tokens":null,"cache_read_input_tokens":null,'
        '"cache_creation_input_tokens":null,"temperature":null,"top_p":null,'
        '"max_tokens":null,"stop_sequences":[],"duration_ms":5,'
        '"response_content":[{"text":"4","type":"text"}]}\n'
        '{"type":"tool","run_id":"run-1","name":"lookup","operation":"execute_tool",'
        '"call_id":"c1","tool_type":"function","call_result":{"x":1},"error_type":null,'
        '"duration_ms":2}\n'
    )
    assert expected == (tmp_path / MONTH / "run-1.ndjson").read_text("utf-8")


async def test_each_run_gets_its_own_trace_file(tmp_path: Path) -> None:
    sink = JsonlTraceSink(tmp_path)
    other = attrs.evolve(INFERENCE, run_id="run-2")
    await emit_all(sink, [SpanRecorded(span=INFERENCE), SpanRecorded(span=other)])
    store = FileTraceStore(tmp_path)
    assert ["run-1", "run-2"] == await store.list_runs()
    assert [INFERENCE] == await store.read_events("run-1")
    assert [other] == await store.read_events("run-2")


async def test_spans_without_run_id_are_dropped(tmp_path: Path) -> None:
    sink = sink_at(tmp_path)
    await emit_all(sink, [SpanRecorded(span=attrs.evolve(INFERENCE, run_id=""))])
    assert not (tmp_path / MONTH).exists()
    assert [] == await sink.store.list_runs()


async def test_spans_whose_run_id_cannot_name_a_file_are_dropped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sink = JsonlTraceSink(tmp_path)
    with caplog.at_level(logging.WARNING, logger="awaken_eval.sinks"):
        await sink.emit(SpanRecorded(span=attrs.evolve(TOOL, run_id="../escape")))
    assert not (tmp_path / MONTH).exists()
    assert not (tmp_path.parent / "escape.ndjson").exists()
    assert ["awaken_eval.sinks"] == [record.name for record in caplog.records]


async def test_run_events_go_to_the_events_file(tmp_path: Path) -> None:
    sink = JsonlTraceSink(tmp_path)
    completed = RunCompleted(
        eval_run_id="eval-1",
        dataset_id="ds",
        dataset_revision=1,
        mode=RunEventMode.DATASET_SCRIPTED,
        item_count=1,
        passed_count=1,
        failed_count=0,
        total_cost_usd=0.0,
        started_at_secs=10,
        ended_at_secs=11,
        persisted=False,
    )
    await emit_all(sink, [STARTED, completed, FAILED])
    assert [STARTED, completed, FAILED] == await sink.store.read_eval_events()
    assert ["eval_run_started", "eval_run_completed", "eval_run_failed"] == [
        line["type"] for line in lines(tmp_path / EVAL_EVENTS_FILE)
    ]
    assert [EVAL_EVENTS_FILE] == sorted(path.name for path in tmp_path.iterdir())  # noqa: ASYNC240


async def test_no_events_file_reads_as_no_events(tmp_path: Path) -> None:
    assert [] == await FileTraceStore(tmp_path / "missing").read_eval_events()


async def test_append_failures_are_logged_never_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "not-a-directory"
    root.write_text("a file where the trace root should be")
    sink = JsonlTraceSink(root)
    with caplog.at_level(logging.WARNING, logger="awaken_eval.sinks"):
        await emit_all(sink, [SpanRecorded(span=INFERENCE), STARTED])
    assert 2 == len(caplog.records)
    assert all(record.name == "awaken_eval.sinks" for record in caplog.records)
    assert "could not record SpanRecorded" in caplog.records[0].getMessage()


async def test_concurrent_appends_never_interleave_lines(tmp_path: Path) -> None:
    sink = JsonlTraceSink(tmp_path)
    big = "x" * 20_000  # larger than a pipe buffer: one write per line still holds
    spans = [
        attrs.evolve(INFERENCE, run_id=f"run-{i % 3}", step_index=i, provider=big)
        for i in range(60)
    ]
    async with anyio.create_task_group() as group:
        for span in spans:
            group.start_soon(sink.emit, SpanRecorded(span=span))
    store = FileTraceStore(tmp_path)
    read = [event for run in await store.list_runs() for event in await store.read_events(run)]
    steps = [e.step_index for e in read if isinstance(e, InferenceSpan)]
    assert list(range(60)) == sorted(step for step in steps if step is not None)


async def test_one_run_keeps_its_emit_order(tmp_path: Path) -> None:
    sink = JsonlTraceSink(tmp_path)
    spans = [attrs.evolve(INFERENCE, step_index=i) for i in range(20)]
    await emit_all(sink, [SpanRecorded(span=span) for span in spans])
    assert spans == await sink.store.read_events("run-1")


# -- reading ---------------------------------------------------------------------------------


async def test_missing_trace_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="trace not found: nope"):
        await FileTraceStore(tmp_path).read_events("nope")


@pytest.mark.parametrize("run_id", ["", ".", "..", "../etc", "a/b", "a\\b", "nul\0"])
async def test_invalid_run_ids_are_rejected(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(InvalidRunId):
        await FileTraceStore(tmp_path).read_events(run_id)


def write_trace(root: Path, run_id: str, text: str) -> Path:
    path = root / MONTH / f"{run_id}.ndjson"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


async def test_a_corrupt_line_names_the_file_and_line(tmp_path: Path) -> None:
    good = json.dumps({"type": "tool", "name": "t", "run_id": "r"})
    path = write_trace(tmp_path, "r", f"{good}\n\n{{not json\n{good}\n")
    with pytest.raises(InvalidInput) as caught:
        await FileTraceStore(tmp_path).read_events("r")
    assert (str(path), 3) == (caught.value.source, caught.value.line)
    assert str(caught.value).startswith(f"{path}:3: $: invalid JSON")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"name": "t"}', "$.type: missing"),
        ('{"type": "span", "name": "t"}', '$.type: unknown type "span"'),
        ('{"type": "tool", "name": "t", "colour": 1}', "$.colour: unknown key"),
        ('{"type": "inference", "input_tokens": "3"}', "$.input_tokens: expected an integer"),
        ("[1, 2]", "$: expected a JSON object"),
    ],
)
async def test_an_invalid_event_is_reported_with_its_path(
    tmp_path: Path, line: str, message: str
) -> None:
    path = write_trace(tmp_path, "r", line + "\n")
    with pytest.raises(InvalidInput) as caught:
        await FileTraceStore(tmp_path).read_events("r")
    assert str(caught.value).startswith(f"{path}:1: {message}")


async def test_a_reference_trace_file_loads(tmp_path: Path) -> None:
    inference = {
        "type": "inference",
        "run_id": "r",
        "thread_id": "th",
        "agent_id": "a",
        "prompt_id": "p1",
        "step_index": 1,
        "model": "gpt-4o",
        "provider": "openai",
        "operation": "chat",
        "response_id": "resp-1",
        "finish_reasons": ["stop_sequence"],
        "temperature": 0.2,
        "input_tokens": 5,
        "duration_ms": 12,
        "started_at_ms": 1000,
        "ended_at_ms": 1012,
        "response_content": [{"type": "text", "text": "hi"}],
        "request_messages": [{"role": "user", "content": [{"type": "text", "text": "hey"}]}],
    }
    handoff = {"type": "handoff", "from_agent_id": "a", "to_agent_id": "b"}
    write_trace(tmp_path, "r", "\n".join(json.dumps(d) for d in (inference, handoff)) + "\n")
    events = await FileTraceStore(tmp_path).read_events("r")
    assert 2 == len(events)
    assert isinstance(events[0], InferenceSpan)
    assert ("gpt-4o", "openai", 1) == (events[0].model, events[0].provider, events[0].step_index)
    assert OpaqueMetricsEvent("handoff", {"from_agent_id": "a", "to_agent_id": "b"}) == events[1]


async def test_an_empty_trace_is_an_empty_list(tmp_path: Path) -> None:
    write_trace(tmp_path, "r", "\n  \n")
    assert [] == await FileTraceStore(tmp_path).read_events("r")


async def test_list_runs_ignores_other_files_and_a_missing_root(tmp_path: Path) -> None:
    assert [] == await FileTraceStore(tmp_path / "missing").list_runs()
    write_trace(tmp_path, "b", "")
    write_trace(tmp_path, "a.ndjson", "")
    write_trace(tmp_path, "with space", "")
    (tmp_path / "2025-12").mkdir()
    (tmp_path / "2025-12" / "c.ndjson").write_text("")
    (tmp_path / "root-file.ndjson").write_text("")  # root files are never looked at (§1.1)
    (tmp_path / MONTH / "notes.txt").write_text("x")
    (tmp_path / MONTH / "dir.ndjson").mkdir()
    expected = ["a.ndjson", "b", "c", "with space"]
    assert expected == await FileTraceStore(tmp_path).list_runs()


# -- §7.12: the replayer's sink routes spans to the trace store -----------------------------


async def test_runtime_replayer_tee_sink_routes_spans_to_trace_store(tmp_path: Path) -> None:
    fixture = Fixture(
        "tee",
        user_input="look it up",
        provider_script=(
            ToolCallEvent("c1", "lookup", {"q": 1}, result={"found": True}),
            ChatResponseEvent("found it"),
        ),
        continued_turns=(DialogueTurn("thanks", provider_script=(ChatResponseEvent("bye"),)),),
    )
    sink = JsonlTraceSink(tmp_path)
    outcome = await AgentLoopReplayer().replay(fixture, ReplayContext(sink=sink))
    assert outcome.runtime_failure is None

    store = FileTraceStore(tmp_path)
    first, second = outcome.trace_run_ids()
    assert outcome.trace_run_id() == first
    assert sorted([first, second]) == await store.list_runs()
    metrics = outcome.metrics
    assert [metrics.inferences[0], metrics.tools[0], metrics.inferences[1]] == (
        await store.read_events(first)
    )
    assert [metrics.inferences[2]] == await store.read_events(second)


async def test_run_eval_links_items_to_readable_traces_and_logs_run_events(
    tmp_path: Path,
) -> None:
    fixtures = [
        Fixture(f"f{i}", user_input="q", provider_script=(ChatResponseEvent(f"a{i}"),))
        for i in range(3)
    ]
    sink = JsonlTraceSink(tmp_path)
    run = await run_eval(fixtures, RunOptions(run_id="eval-run"), sink=sink)
    store = FileTraceStore(tmp_path)
    for item in run.items:
        assert item.trace_run_id is not None
        (span,) = await store.read_events(item.trace_run_id)
        assert isinstance(span, InferenceSpan)
    kinds = [event.kind for event in await store.read_eval_events()]
    assert "eval_run_started" == kinds[0]
    assert "eval_run_completed" == kinds[-1]
    assert 3 == kinds.count("eval_item_completed")


# -- property: whatever the sink writes reads back equal -------------------------------------

_RUNS = itertools.count()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(drawn=inference_spans() | tool_spans())
async def test_any_span_round_trips_through_the_store(
    tmp_path: Path, drawn: InferenceSpan | ToolSpan
) -> None:
    span = attrs.evolve(drawn, run_id=f"prop-{next(_RUNS)}")
    # The two required keys a span may leave unset are written as the reference reads
    # them when missing (trace-store §5.2, §5.3).
    if isinstance(span, InferenceSpan) and span.duration_ms is None:
        span = attrs.evolve(span, duration_ms=0)
    if isinstance(span, ToolSpan) and span.call_id is None:
        span = attrs.evolve(span, call_id="")
    sink = JsonlTraceSink(tmp_path)
    await sink.emit(SpanRecorded(span=span))
    assert [span] == await sink.store.read_events(span.run_id)
