"""Shared parts of the OpenTelemetry tests: an in-memory provider and a recorded live run."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from awaken_eval import (
    AgentLoopReplayer,
    ChatResponseEvent,
    EvalRun,
    EvalRunExecutionMode,
    Expectation,
    Fixture,
    ResolvedModel,
    RunOptions,
    ScriptedExecutor,
    TokenUsage,
    ToolCallEvent,
    run_eval,
)
from awaken_eval.otel import OtelTraceSink


class OpenSpans(SpanProcessor):
    """Counts spans started and ended: every started span must be ended."""

    def __init__(self) -> None:
        self.started = 0
        self.ended = 0

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.started += 1

    def on_end(self, span: ReadableSpan) -> None:
        self.ended += 1


class Traced:
    """A tracer provider exporting to memory, with an open-span counter."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.counter = OpenSpans()
        self.provider = TracerProvider()
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.provider.add_span_processor(self.counter)

    def sink(self, **options: Any) -> OtelTraceSink:
        return OtelTraceSink(self.provider, **options)

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def named(self, prefix: str) -> list[ReadableSpan]:
        return [span for span in self.spans() if span.name.startswith(prefix)]


WEATHER = {"city": "Paris", "sky": "sunny", "celsius": 21}
EXPECT = Expectation(final_answer_contains=("Sunny",), tool_sequence=("get_weather",))


def get_weather(city: str) -> dict[str, Any]:
    return {**WEATHER, "city": city}


def weather_model(model_id: str = "live") -> ResolvedModel:
    executor = ScriptedExecutor(
        (
            ToolCallEvent(
                "call-1",
                "get_weather",
                {"city": "Paris"},
                tokens=TokenUsage(prompt_tokens=5, completion_tokens=4, total_tokens=9),
            ),
            ChatResponseEvent(
                "Sunny, 21 C in Paris.",
                tokens=TokenUsage(prompt_tokens=8, completion_tokens=4, total_tokens=12),
            ),
        )
    )
    return ResolvedModel(model_id=model_id, executor=executor, upstream_model="gpt-live")


async def record_weather_run(provider: TracerProvider, **sink_options: Any) -> EvalRun:
    """A live run (tool call, then answer) with content capture, traced to ``provider``."""
    return await run_eval(
        [Fixture("weather", user_input="Weather in Paris?", expect=EXPECT)],
        RunOptions(mode=EvalRunExecutionMode.LIVE, models=["live"]),
        models=[weather_model()],
        replayer=AgentLoopReplayer(tools=[get_weather], capture_content=True),
        sink=OtelTraceSink(provider, **sink_options),
    )
