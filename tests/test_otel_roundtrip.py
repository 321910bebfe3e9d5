"""Property: a span record written by the sink and read back from OTLP JSON is the same."""

from __future__ import annotations

import json
from typing import Any

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

import builders
from awaken_eval.events import (
    InferenceSpan,
    ItemCompleted,
    RunEventMode,
    RunStarted,
    SpanRecorded,
    ToolSpan,
)
from awaken_eval.otel import otlp_json, otlp_span_records
from otel_support import Traced

_TEXT = st.text(max_size=8)
_IDS = st.text(min_size=1, max_size=8)
_COUNTS = st.none() | st.integers(min_value=0, max_value=2**31)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31) | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=6,
)
_TEXT_BLOCK = st.builds(lambda text: {"type": "text", "text": text}, _TEXT)
_USE_BLOCK = st.builds(
    lambda id_, name, args: {"type": "tool_use", "id": id_, "name": name, "input": args},
    _IDS,
    _IDS,
    _JSON,
)
_RESULT_BLOCK = st.builds(
    lambda id_, content: {"type": "tool_result", "tool_use_id": id_, "content": content},
    _IDS,
    _JSON,
)
_MESSAGES = st.lists(
    st.builds(
        lambda role, blocks: {"role": role, "content": blocks},
        st.sampled_from(["system", "user", "assistant", "tool"]),
        st.lists(_TEXT_BLOCK | _USE_BLOCK | _RESULT_BLOCK, max_size=3),
    ),
    max_size=3,
)
_CALLS = st.lists(
    st.builds(lambda i, n, a: {"id": i, "name": n, "arguments": a}, _IDS, _IDS, _JSON),
    min_size=1,
    max_size=2,
)
_TIMES = st.integers(min_value=1, max_value=2**40)


@st.composite
def _inferences(draw: st.DrawFn) -> InferenceSpan:
    start = draw(_TIMES)
    calls = draw(st.none() | _CALLS)
    content = None if calls is not None else draw(st.lists(_TEXT_BLOCK, max_size=2))
    return InferenceSpan(
        run_id="agent-run",
        thread_id=draw(_TEXT),
        agent_id=draw(_TEXT),
        step_index=draw(st.none() | st.integers(0, 100)),
        model=draw(_IDS),
        provider=draw(_IDS),
        operation="chat",
        response_model=draw(st.none() | _IDS),
        finish_reasons=tuple(draw(st.lists(st.sampled_from(["end_turn", "tool_use"]), max_size=1))),
        input_tokens=draw(_COUNTS),
        output_tokens=draw(_COUNTS),
        total_tokens=draw(_COUNTS),
        cache_read_input_tokens=draw(_COUNTS),
        thinking_tokens=draw(_COUNTS),
        started_at_ms=start,
        ended_at_ms=start + draw(st.integers(0, 10_000)),
        response_content=content,
        response_tool_calls=calls,
        request_messages=draw(st.none() | _MESSAGES),
    )


@st.composite
def _tools(draw: st.DrawFn) -> ToolSpan:
    start = draw(_TIMES)
    return ToolSpan(
        name=draw(_IDS),
        run_id="agent-run",
        call_id=draw(st.none() | _IDS),
        call_arguments=draw(st.none() | st.dictionaries(_TEXT, _JSON, max_size=3)),
        call_result=draw(st.none() | st.dictionaries(_TEXT, _JSON, max_size=3)),
        error_type=draw(st.none() | _IDS),
        started_at_ms=start,
        ended_at_ms=start + draw(st.integers(0, 10_000)),
    )


def _through_otel(record: InferenceSpan | ToolSpan) -> Any:
    traced = Traced()
    sink = traced.sink()
    sink.record(
        RunStarted(
            eval_run_id="r",
            dataset_id="d",
            dataset_revision=0,
            mode=RunEventMode.DATASET_SCRIPTED,
            planned_item_count=1,
            started_at_secs=0,
        )
    )
    sink.record(SpanRecorded(span=record))
    item = builders.item(trace_run_id="agent-run")
    sink.record(ItemCompleted(eval_run_id="r", item=item, done=1, total=1))
    sink.close()
    (found,) = otlp_span_records(json.loads(json.dumps(otlp_json(traced.spans()))))
    return found


@settings(max_examples=60, deadline=None)
@given(_inferences())
def test_an_inference_survives_the_sink_and_otlp_json(record: InferenceSpan) -> None:
    duration = (record.ended_at_ms or 0) - (record.started_at_ms or 0)
    found = _through_otel(record)
    assert isinstance(found, InferenceSpan)
    keep = (
        "run_id", "step_index", "model", "provider", "operation", "finish_reasons",
        "input_tokens", "output_tokens", "total_tokens", "cache_read_input_tokens",
        "thinking_tokens", "started_at_ms", "ended_at_ms", "response_tool_calls",
        "request_messages",
    )  # fmt: skip
    assert {k: getattr(record, k) for k in keep} == {k: getattr(found, k) for k in keep}
    assert (record.thread_id, record.agent_id, duration) == (
        found.thread_id,
        found.agent_id,
        found.duration_ms,
    )
    assert (record.response_model or record.model) == found.response_model
    if record.response_tool_calls is None:
        assert record.response_content == found.response_content


@settings(max_examples=60, deadline=None)
@given(_tools())
def test_a_tool_call_survives_the_sink_and_otlp_json(record: ToolSpan) -> None:
    found = _through_otel(record)
    assert isinstance(found, ToolSpan)
    duration = (record.ended_at_ms or 0) - (record.started_at_ms or 0)
    assert attrs.evolve(record, duration_ms=duration) == found
