"""OtelTraceSink: run, item, inference and tool spans (GenAI semantic conventions)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from opentelemetry import trace

import builders
from awaken_eval import (
    AgentLoopReplayer,
    EvalRunExecutionMode,
    EvalRunItem,
    Fixture,
    RunOptions,
    TraceSink,
    run_eval,
)
from awaken_eval.evaluation import Evaluation, ExpectedOutcome, RunScope
from awaken_eval.events import (
    EvaluationResult,
    InferenceSpan,
    ItemCompleted,
    RunEventMode,
    RunStarted,
    SpanRecorded,
    ToolSpan,
)
from awaken_eval.otel import AGENT_RUN_ID, OtelTraceSink, OtlpTraceStore
from awaken_eval.protocols import TraceFinisher, TraceStore
from awaken_eval.stores import InMemoryRunStore
from otel_support import EXPECT, Traced, get_weather, record_weather_run, weather_model

pytestmark = pytest.mark.anyio


def _started(run_id: str = "r1") -> RunStarted:
    return RunStarted(
        eval_run_id=run_id,
        dataset_id="d",
        dataset_revision=1,
        mode=RunEventMode.DATASET_SCRIPTED,
        planned_item_count=1,
        started_at_secs=1,
    )


async def test_a_run_becomes_a_run_span_with_items_inferences_and_tools() -> None:
    traced = Traced()
    run = await record_weather_run(traced.provider)
    (run_span,) = traced.named("awaken_eval.run")
    (item_span,) = traced.named("awaken_eval.item")
    inferences = traced.named("chat ")
    (tool_span,) = traced.named("execute_tool")
    assert None is run_span.parent
    assert run_span.context.span_id == item_span.parent.span_id  # type: ignore[union-attr]
    assert 2 == len(inferences)
    for child in [*inferences, tool_span]:
        assert item_span.context.span_id == child.parent.span_id  # type: ignore[union-attr]
    assert 1 == len({span.context.trace_id for span in traced.spans()})

    item = run.items[0]
    assert {
        "awaken_eval.run.id": run.id,
        "awaken_eval.fixture.id": "weather",
        "awaken_eval.cell.model": "live",
        "awaken_eval.passed": True,
        "awaken_eval.failures": (),
        "awaken_eval.trace.run_id": item.trace_run_id,
    }.items() <= dict(item_span.attributes or {}).items()

    first = dict(inferences[0].attributes or {})
    assert {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-live",
        "gen_ai.response.model": "gpt-live",
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 4,
        "gen_ai.response.finish_reasons": ("tool_use",),
        AGENT_RUN_ID: item.trace_run_id,
    }.items() <= first.items()
    assert "gen_ai.provider.name" in first
    assert "gen_ai.system" in first
    output = json.loads(str(first["gen_ai.output.messages"]))
    call = {"type": "tool_call", "id": "call-1", "name": "get_weather"}
    assert call.items() <= output[0]["parts"][0].items()
    request = json.loads(str(first["gen_ai.input.messages"]))
    assert [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]}
    ] == request

    tool = dict(tool_span.attributes or {})
    assert {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.call.id": "call-1",
    }.items() <= tool.items()
    assert {"city": "Paris"} == json.loads(str(tool["gen_ai.tool.call.arguments"]))
    assert traced.counter.started == traced.counter.ended


async def test_content_is_left_out_when_not_asked_for() -> None:
    traced = Traced()
    await record_weather_run(traced.provider, capture_content=False)
    keys = {key for span in traced.spans() for key in (span.attributes or {})}
    content = {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.call.arguments"}
    assert set() == keys & content


async def test_the_global_tracer_provider_is_untouched() -> None:
    before = trace.get_tracer_provider()
    await record_weather_run(Traced().provider)
    assert before is trace.get_tracer_provider()
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


async def test_concurrent_items_get_their_own_spans() -> None:
    traced = Traced()
    # One scripted model per unit (a script is consumed by one replay).
    models = [weather_model(f"m{index}") for index in range(9)]
    run = await run_eval(
        [Fixture("weather", user_input="Weather in Paris?", expect=EXPECT)],
        RunOptions(
            mode=EvalRunExecutionMode.LIVE,
            models=[model.model_id for model in models],
            max_concurrency=9,
        ),
        models=models,
        replayer=AgentLoopReplayer(tools=[get_weather], capture_content=True),
        sink=traced.sink(),
    )
    items = traced.named("awaken_eval.item")
    assert 9 == len(items) == len(run.items)
    by_id = {span.context.span_id: span for span in items}
    children = [span for span in traced.spans() if span.name.startswith(("chat", "execute"))]
    assert 27 == len(children)
    for child in children:
        parent = by_id[child.parent.span_id]  # type: ignore[union-attr]
        assert (parent.attributes or {})[AGENT_RUN_ID] == (child.attributes or {})[AGENT_RUN_ID]
    assert {f"m{index}" for index in range(9)} == {
        (span.attributes or {})["awaken_eval.cell.model"] for span in items
    }


class _FailingStore(InMemoryRunStore):
    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        msg = "disk full"
        raise OSError(msg)


async def test_a_failed_run_ends_its_span_with_an_error() -> None:
    traced = Traced()
    with pytest.raises(OSError, match="disk full"):
        await run_eval(
            [Fixture("weather", user_input="q", expect=EXPECT)],
            RunOptions(mode=EvalRunExecutionMode.LIVE, models=["live"]),
            models=[weather_model()],
            replayer=AgentLoopReplayer(tools=[get_weather]),
            store=_FailingStore(),
            sink=traced.sink(),
        )
    (run_span,) = traced.named("awaken_eval.run")
    assert trace.StatusCode.ERROR == run_span.status.status_code
    assert "disk full" in (run_span.status.description or "")
    assert traced.counter.started == traced.counter.ended


async def test_a_cancelled_run_ends_every_span() -> None:
    traced = Traced()
    fixtures = [Fixture(f"f{index}", user_input="q", expect=EXPECT) for index in range(20)]
    with anyio.CancelScope() as scope:

        def cancel(done: int, total: int) -> None:
            if done == 3:
                scope.cancel()

        await run_eval(
            fixtures,
            RunOptions(mode=EvalRunExecutionMode.LIVE, models=["live"], max_concurrency=2),
            models=[weather_model()],
            replayer=AgentLoopReplayer(tools=[get_weather]),
            store=InMemoryRunStore(),
            sink=traced.sink(),
            progress=cancel,
        )
    assert scope.cancelled_caught
    (run_span,) = traced.named("awaken_eval.run")
    assert trace.StatusCode.ERROR == run_span.status.status_code
    assert traced.counter.started == traced.counter.ended


async def test_record_times_are_the_span_times() -> None:
    traced = Traced()
    sink = traced.sink(clock=lambda: 9_000_000_000)
    inference = InferenceSpan(run_id="a1", model="m", started_at_ms=1000, ended_at_ms=1500)
    tool = ToolSpan(name="t", run_id="a1", duration_ms=20)  # no times: ends on arrival
    for event in (
        _started(),
        SpanRecorded(span=inference),
        SpanRecorded(span=tool),
        ItemCompleted(eval_run_id="r1", item=builders.item(trace_run_id="a1"), done=1, total=1),
    ):
        await sink.emit(event)
    (chat,) = traced.named("chat m")
    (tool_span,) = traced.named("execute_tool t")
    (item,) = traced.named("awaken_eval.item")
    assert (1_000_000_000, 1_500_000_000) == (chat.start_time, chat.end_time)
    assert (8_980_000_000, 9_000_000_000) == (tool_span.start_time, tool_span.end_time)
    assert (1_000_000_000, 9_000_000_000) == (item.start_time, item.end_time)
    assert [] == traced.named("awaken_eval.run")  # still open
    sink.close()
    (run_span,) = traced.named("awaken_eval.run")
    assert trace.StatusCode.ERROR == run_span.status.status_code
    assert traced.counter.started == traced.counter.ended


async def test_unclaimed_records_are_written_under_the_run_when_it_ends() -> None:
    traced = Traced()
    sink = traced.sink()
    sink.record(_started())
    sink.record(SpanRecorded(span=InferenceSpan(run_id="turn-2", model="m")))
    sink.record(ItemCompleted(eval_run_id="r1", item=builders.item(), done=1, total=1))
    sink.close()
    (agent_run,) = traced.named("awaken_eval.agent_run turn-2")
    (run_span,) = traced.named("awaken_eval.run")
    assert run_span.context.span_id == agent_run.parent.span_id  # type: ignore[union-attr]
    assert 1 == len(traced.named("chat m"))


async def test_an_evaluation_result_is_a_span_of_its_own() -> None:
    traced = Traced()
    evaluation = Evaluation(RunScope("run-9"), expected=ExpectedOutcome.completed())  # type: ignore[arg-type]
    await traced.sink().emit(EvaluationResult(evaluation=evaluation, score=0.75, passed=True))
    (span,) = traced.named("awaken_eval.evaluate run")
    assert {
        "awaken_eval.evaluation.scope_ref": "run-9",
        "awaken_eval.judge.score": 0.75,
    }.items() <= dict(span.attributes or {}).items()


def test_importing_awaken_eval_and_its_otel_module_loads_no_opentelemetry() -> None:
    code = (
        "import sys, awaken_eval, awaken_eval.otel, awaken_eval.events;"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "[]" == out.stdout.strip()


def test_the_sink_and_the_store_implement_their_protocols(tmp_path: Path) -> None:
    # Checked by mypy (assignments to the protocol types) and at run time.
    sink: TraceSink = OtelTraceSink(Traced().provider)
    finisher: TraceFinisher = OtelTraceSink(Traced().provider)
    store: TraceStore = OtlpTraceStore(tmp_path / "spans.json")
    assert isinstance(sink, TraceSink)
    assert isinstance(finisher, TraceFinisher)
    assert isinstance(store, TraceStore)


async def test_the_sink_confirms_only_the_agent_runs_it_holds() -> None:
    sink = OtelTraceSink(Traced().provider)
    await sink.emit(SpanRecorded(span=InferenceSpan(run_id="agent-1", model="m")))
    assert await sink.finish_trace("agent-1")
    assert not await sink.finish_trace("agent-2")  # no span of it: no item links it
