"""Trace -> fixture curation (spec §6, §7.10, §7.12, §8.1 item 32).

The §7.10 acceptance cases keep their upstream names; then the curation modes, dialogue
stitching (import-dialogue rules), the warnings that replace silent data loss, the
round trip through the JSONL trace store into a scripted replay, and a property test:
a generated script, recorded as a content-capturing agent would, curates back to itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from awaken_eval import (
    AgentLoopReplayer,
    ChatResponseEvent,
    DialogueTurn,
    ErrorEvent,
    EvalRunExecutionMode,
    Expectation,
    Fixture,
    InferenceErrorKind,
    ProviderScriptEvent,
    ReplayContext,
    ResolvedModel,
    RunOptions,
    ScriptedExecutor,
    StopReason,
    TokenUsage,
    ToolCallEvent,
    from_json,
    run_eval,
    score,
    to_json,
)
from awaken_eval.curate import (
    SKIPPED_CONVERSION,
    CuratedScript,
    CurateError,
    CurateErrorKind,
    CurateWarning,
    CurationMode,
    FixtureSource,
    curate_fixture,
    stitch_dialogue,
    trace_fixture_source,
    trace_to_provider_script,
)
from awaken_eval.engine import error_kind_for
from awaken_eval.events import InferenceSpan, RunEventMode, RunStarted, SpanRecorded, ToolSpan
from awaken_eval.sinks import FileTraceStore, JsonlTraceSink

EXPECT = Expectation(final_answer_contains=("4",))

# -- span builders --------------------------------------------------------------------


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def message(role: str, *blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": role, "content": list(blocks)}


def chat(
    content: str = "4",
    *,
    step: int | None = 0,
    model: str = "gpt-test",
    run_id: str = "run-1",
    thread_id: str = "thread-1",
    finish: tuple[str, ...] = ("end_turn",),
    messages: Any = None,
    **fields: Any,
) -> InferenceSpan:
    """An inference span as recorded with content capture: one text block."""
    return InferenceSpan(
        run_id=run_id,
        thread_id=thread_id,
        step_index=step,
        model=model,
        finish_reasons=finish,
        response_content=fields.pop("response_content", [text(content)]),
        request_messages=messages,
        **fields,
    )


def tool_call(
    call_id: str = "call-1",
    name: str = "lookup",
    arguments: Any = None,
    *,
    step: int | None = 0,
    run_id: str = "run-1",
    **fields: Any,
) -> InferenceSpan:
    """An inference span that requested one tool call."""
    call = {"id": call_id, "name": name, "arguments": arguments or {"q": "x"}}
    return InferenceSpan(
        run_id=run_id,
        thread_id=fields.pop("thread_id", "thread-1"),
        step_index=step,
        model=fields.pop("model", "gpt-test"),
        finish_reasons=("tool_use",),
        response_tool_calls=fields.pop("response_tool_calls", [call]),
        **fields,
    )


def asked(question: str) -> list[dict[str, Any]]:
    return [message("system", text("be nice")), message("user", text(question))]


# -- §7.10: user input recovery --------------------------------------------------------


def test_first_user_text_recovered_from_request_messages() -> None:
    source = trace_fixture_source([chat(messages=asked("What is 2+2?"))])
    assert FixtureSource(source_model_id="gpt-test", user_input="What is 2+2?") == source


def test_first_user_text_skips_system_and_assistant_messages() -> None:
    messages = [
        message("user", text("hello")),
        message("assistant", text("hi, how can I help?")),
        message("system", text("late system note")),
    ]
    assert "hello" == trace_fixture_source([chat(messages=messages)]).user_input


def test_user_input_picks_latest_user_message_on_continuation_thread() -> None:
    messages = [
        message("user", text("first question")),
        message("assistant", text("first answer")),
        message("user", text("follow-up question")),
    ]
    assert "follow-up question" == trace_fixture_source([chat(messages=messages)]).user_input


def test_first_user_text_concatenates_multiple_text_blocks() -> None:
    messages = [message("user", text("What is "), text("2+2"), text("?"))]
    assert "What is 2+2?" == trace_fixture_source([chat(messages=messages)]).user_input


def test_user_input_is_none_when_request_messages_not_captured() -> None:
    assert trace_fixture_source([chat()]).user_input is None


def test_user_input_is_none_when_request_messages_has_no_user_role() -> None:
    messages = [message("system", text("rules")), message("assistant", text("hi"))]
    assert trace_fixture_source([chat(messages=messages)]).user_input is None


def test_user_input_skips_empty_user_messages_for_an_earlier_one() -> None:
    messages = [message("user", text("real question")), message("user", text(""))]
    assert "real question" == trace_fixture_source([chat(messages=messages)]).user_input


def test_user_input_comes_from_the_first_span_that_yields_one() -> None:
    undecodable = chat(messages={"not": "a list"})
    captured = chat(messages=asked("second span"), step=1)
    later = chat(messages=asked("third span"), step=2)
    assert "second span" == trace_fixture_source([undecodable, captured, later]).user_input


@pytest.mark.parametrize(
    "messages",
    [
        "a string",
        [message("robot", text("x"))],
        [message("user", {"type": "sticker"})],
        [message("user", {"type": "text", "text": 5})],
        [{"content": [text("no role")]}],
        ["not an object"],
    ],
)
def test_undecodable_request_messages_yield_no_user_input(messages: Any) -> None:
    assert trace_fixture_source([chat(messages=messages)]).user_input is None


def test_user_message_content_may_be_a_plain_string() -> None:
    messages = [{"role": "user", "content": "plain text"}]
    assert "plain text" == trace_fixture_source([chat(messages=messages)]).user_input


def test_non_text_parts_of_the_user_message_are_reported_not_dropped_silently() -> None:
    messages = [message("user", text("describe this"), {"type": "image", "source": {}})]
    source = trace_fixture_source([chat(messages=messages, step=3)])
    assert "describe this" == source.user_input
    expected = (
        CurateWarning(3, "non-text blocks of the user message were dropped from user_input"),
    )
    assert expected == source.warnings
    assert source.warnings == trace_to_provider_script([chat(messages=messages, step=3)]).warnings


# -- §7.10: no inferences ----------------------------------------------------------------


def test_empty_events_is_no_inferences() -> None:
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script([])
    assert CurateErrorKind.NO_INFERENCES == caught.value.kind
    with pytest.raises(CurateError):
        trace_fixture_source([])


def test_events_without_any_inference_is_no_inferences() -> None:
    events = [ToolSpan(name="lookup", run_id="run-1"), "something else", 42]
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script(events)
    assert CurateErrorKind.NO_INFERENCES == caught.value.kind
    assert "no inference" in str(caught.value)


# -- §7.10: conversion ---------------------------------------------------------------------


def test_single_chat_inference_round_trips_text_tokens_and_finish_reason() -> None:
    span = chat(
        "the answer",
        finish=("max_tokens",),
        input_tokens=10,
        output_tokens=3,
        total_tokens=13,
        cache_read_input_tokens=4,
        cache_creation_input_tokens=2,
        thinking_tokens=1,
        messages=asked("question"),
    )
    tokens = TokenUsage(
        prompt_tokens=10,
        completion_tokens=3,
        total_tokens=13,
        cache_read_tokens=4,
        cache_creation_tokens=2,
        thinking_tokens=1,
    )
    expected = CuratedScript(
        provider_script=(
            ChatResponseEvent("the answer", tokens=tokens, finish_reason=StopReason.MAX_TOKENS),
        ),
        source_model_id="gpt-test",
        user_input="question",
    )
    assert expected == trace_to_provider_script([span])


def test_source_model_id_pins_first_inference_model() -> None:
    spans = [chat(model="model-a"), chat(model="model-b", step=1)]
    assert "model-a" == trace_to_provider_script(spans).source_model_id


def test_empty_model_skipped_until_first_non_empty() -> None:
    spans = [chat(model=""), chat(model="model-b", step=1), chat(model="model-c", step=2)]
    assert "model-b" == trace_fixture_source(spans).source_model_id
    assert trace_fixture_source([chat(model="")]).source_model_id is None


def test_tool_spans_between_inferences_are_skipped() -> None:
    spans = [
        tool_call(step=0),
        ToolSpan(name="lookup", run_id="run-1", call_id="other-call"),
        chat("done", step=1),
    ]
    script = trace_to_provider_script(spans).provider_script
    assert ["tool_call", "chat_response"] == [event.kind for event in script]


def test_tool_call_response_becomes_tool_call_event() -> None:
    span = tool_call("call-7", "search", {"query": "pelican"}, input_tokens=5, output_tokens=2)
    expected = ToolCallEvent(
        "call-7",
        "search",
        {"query": "pelican"},
        tokens=TokenUsage(prompt_tokens=5, completion_tokens=2),
    )
    assert (expected,) == trace_to_provider_script([span]).provider_script


def test_tool_call_with_empty_content_list_is_still_a_tool_call() -> None:
    span = tool_call(response_content=[])
    assert ["tool_call"] == [e.kind for e in trace_to_provider_script([span]).provider_script]


def test_tool_call_with_content_is_an_error() -> None:
    span = tool_call(step=2, response_content=[text("let me look that up")])
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script([span])
    assert CurateErrorKind.MIXED_TOOL_CALL_CONTENT == caught.value.kind
    assert 2 == caught.value.step


def test_tool_call_with_malformed_content_is_a_content_decode_error() -> None:
    span = tool_call(step=1, response_content="not blocks")
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script([span])
    assert (CurateErrorKind.CONTENT_DECODE, 1) == (caught.value.kind, caught.value.step)


def test_empty_tool_calls_array_is_an_error() -> None:
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script([tool_call(step=4, response_tool_calls=[])])
    assert (CurateErrorKind.EMPTY_TOOL_CALLS, 4) == (caught.value.kind, caught.value.step)


def test_multiple_tool_calls_is_an_error() -> None:
    calls = [
        {"id": "a", "name": "lookup", "arguments": {}},
        {"id": "b", "name": "lookup", "arguments": {}},
    ]
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script([tool_call(step=1, response_tool_calls=calls)])
    assert CurateErrorKind.MULTIPLE_TOOL_CALLS == caught.value.kind
    assert (1, 2) == (caught.value.step, caught.value.count)
    assert "provider_script currently supports one tool call per turn" in str(caught.value)


@pytest.mark.parametrize(
    "calls",
    [
        {"id": "a"},
        ["not an object"],
        [{"name": "lookup", "arguments": {}}],
        [{"id": "a", "arguments": {}}],
        [{"id": "a", "name": "lookup"}],
        [{"id": 1, "name": "lookup", "arguments": {}}],
    ],
)
def test_malformed_tool_calls_surface_decode_error(calls: Any) -> None:
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script([tool_call(step=3, response_tool_calls=calls)])
    assert (CurateErrorKind.TOOL_CALLS_DECODE, 3) == (caught.value.kind, caught.value.step)


def test_error_path_inference_becomes_error_event() -> None:
    span = chat(error_type="rate_limit", response_content=[text("ignored")])
    curated = trace_to_provider_script([span])
    assert (ErrorEvent("rate_limit"),) == curated.provider_script


def test_error_type_takes_precedence_over_tool_calls() -> None:
    span = tool_call(error_type="timeout", response_tool_calls=[])
    assert (ErrorEvent("timeout"),) == trace_to_provider_script([span]).provider_script


def test_inference_without_capture_or_error_is_missing_content() -> None:
    span = InferenceSpan(run_id="run-1", step_index=5, model="gpt-test")
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script([chat(), span])
    assert (CurateErrorKind.MISSING_CONTENT, 5) == (caught.value.kind, caught.value.step)
    assert "enable content capture" in str(caught.value)


def test_missing_step_index_is_reported_as_step_zero() -> None:
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script([InferenceSpan(run_id="run-1")])
    assert 0 == caught.value.step


@pytest.mark.parametrize(
    "content",
    [
        "just a string",
        {"type": "text", "text": "an object, not a list"},
        [{"type": "text"}],
        [{"type": "text", "text": 3}],
        [{"type": "sticker"}],
        [{"text": "no type"}],
        [text("ok"), "not a block"],
        [{"type": "thinking", "thinking": "hm"}, 7],
    ],
)
def test_malformed_response_content_surfaces_decode_error(content: Any) -> None:
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script([chat(step=2, response_content=content)])
    assert (CurateErrorKind.CONTENT_DECODE, 2) == (caught.value.kind, caught.value.step)


def test_finish_reasons_mapping_covers_every_otel_string() -> None:
    mapping = {
        "end_turn": StopReason.END_TURN,
        "max_tokens": StopReason.MAX_TOKENS,
        "tool_use": StopReason.TOOL_USE,
        "stop_sequence": StopReason.STOP_SEQUENCE,
    }
    spans = [chat(finish=(reason,), step=i) for i, reason in enumerate(mapping)]
    script = trace_to_provider_script(spans).provider_script
    assert list(mapping.values()) == [
        event.finish_reason for event in script if isinstance(event, ChatResponseEvent)
    ]


def test_only_the_first_finish_reason_counts() -> None:
    span = chat(finish=("max_tokens", "end_turn"))
    (event,) = trace_to_provider_script([span]).provider_script
    assert isinstance(event, ChatResponseEvent)
    assert StopReason.MAX_TOKENS == event.finish_reason


@pytest.mark.parametrize("finish", [("length",), ("EndTurn",), ()])
def test_unknown_finish_reason_defaults_to_end_turn(finish: tuple[str, ...]) -> None:
    (event,) = trace_to_provider_script([chat(finish=finish)]).provider_script
    assert isinstance(event, ChatResponseEvent)
    assert StopReason.END_TURN == event.finish_reason


@pytest.mark.parametrize(
    "block",
    [
        {"type": "thinking", "thinking": "let me think"},
        {"type": "image", "source": {}},
        {"type": "document"},
        {"type": "audio"},
        {"type": "video"},
        {"type": "tool_use", "id": "t", "name": "n", "input": {}},
        {"type": "tool_result", "tool_use_id": "t", "content": []},
    ],
)
def test_non_text_chat_content_is_an_error(block: dict[str, Any]) -> None:
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script([chat(step=1, response_content=[text("hi"), block])])
    assert CurateErrorKind.UNSUPPORTED_CONTENT_BLOCK == caught.value.kind
    assert (1, block["type"]) == (caught.value.step, caught.value.block_type)
    assert repr(block["type"]) in str(caught.value)


def test_text_blocks_are_concatenated_without_separator() -> None:
    span = chat(response_content=[text("Hello, "), text("world")])
    (event,) = trace_to_provider_script([span]).provider_script
    assert ChatResponseEvent("Hello, world", finish_reason=StopReason.END_TURN) == event


def test_empty_content_list_is_an_empty_chat_response() -> None:
    (event,) = trace_to_provider_script([chat(response_content=[])]).provider_script
    assert ChatResponseEvent("") == event


def test_negative_span_token_counts_become_zero() -> None:
    span = chat(input_tokens=-3, output_tokens=2, total_tokens=None)
    (event,) = trace_to_provider_script([span]).provider_script
    assert isinstance(event, ChatResponseEvent)
    assert TokenUsage(prompt_tokens=0, completion_tokens=2) == event.tokens


def test_span_recorded_events_are_unwrapped_and_other_events_ignored() -> None:
    started = RunStarted(
        eval_run_id="r",
        dataset_id="d",
        dataset_revision=0,
        mode=RunEventMode.DATASET_SCRIPTED,
        planned_item_count=1,
        started_at_secs=0,
    )
    events = [started, SpanRecorded(span=chat("wrapped"))]
    assert (ChatResponseEvent("wrapped"),) == trace_to_provider_script(events).provider_script


def test_first_error_in_event_order_is_raised() -> None:
    spans = [chat(step=0), InferenceSpan(run_id="run-1", step_index=1), tool_call(step=2)]
    spans.append(tool_call(step=3, response_tool_calls=[]))
    with pytest.raises(CurateError) as caught:
        trace_to_provider_script(spans)
    assert (CurateErrorKind.MISSING_CONTENT, 1) == (caught.value.kind, caught.value.step)


# -- tool results and warnings (beyond the reference; §8.1 item 32) -------------------


def test_tool_call_event_records_the_result_of_its_tool_span() -> None:
    spans = [
        tool_call("call-1", step=0),
        ToolSpan(name="lookup", run_id="run-1", call_id="call-1", call_result={"answer": 4}),
        chat("4", step=1),
    ]
    event = trace_to_provider_script(spans).provider_script[0]
    assert isinstance(event, ToolCallEvent)
    assert {"answer": 4} == event.result
    without = trace_to_provider_script(spans, tool_results=False).provider_script[0]
    assert isinstance(without, ToolCallEvent)
    assert without.result is None


@pytest.mark.parametrize(
    "tool",
    [
        ToolSpan(name="lookup", run_id="run-1", call_id="call-1", error_type="Boom"),
        ToolSpan(name="lookup", run_id="run-1", call_id="call-1"),
        ToolSpan(name="lookup", run_id="run-2", call_id="call-1", call_result=1),
        ToolSpan(name="lookup", run_id="run-1", call_id="call-2", call_result=1),
        ToolSpan(name="lookup", run_id="run-1", call_result=1),
    ],
)
def test_tool_results_come_only_from_a_successful_matching_tool_span(tool: ToolSpan) -> None:
    event = trace_to_provider_script([tool_call("call-1"), tool]).provider_script[0]
    assert isinstance(event, ToolCallEvent)
    assert event.result is None


def test_error_events_are_reported_as_losing_their_message() -> None:
    curated = trace_to_provider_script([chat(step=2, error_type="overloaded")])
    assert 1 == len(curated.warnings)
    assert 2 == curated.warnings[0].step
    assert "empty message" in str(curated.warnings[0])


def test_unknown_error_types_are_reported_as_generic_provider_errors() -> None:
    curated = trace_to_provider_script([chat(step=1, error_type="ProviderExploded")])
    assert ["empty message", "generic provider error"] == [
        "empty message" if "empty message" in w.message else "generic provider error"
        for w in curated.warnings
    ]
    assert (ErrorEvent("ProviderExploded"),) == curated.provider_script


def test_known_error_types_match_what_a_scripted_replay_maps() -> None:
    known = ["rate_limit", "RATE_LIMITED", *(kind.value for kind in InferenceErrorKind)]
    for error_type in known:
        curated = trace_to_provider_script([chat(error_type=error_type)])
        assert 1 == len(curated.warnings), error_type
        mapped = error_kind_for(error_type)
        assert mapped is not InferenceErrorKind.PROVIDER or error_type == "provider"


# -- modes (§6.3) ----------------------------------------------------------------------------


def test_curate_fixture_builds_the_cli_fixture() -> None:
    spans = [chat("4", messages=asked("What is 2+2?"), input_tokens=3)]
    fixture = curate_fixture(spans, run_id="run-1", expectation=EXPECT)
    expected = Fixture(
        "run-1",
        description="Curated from trace run-1",
        user_input="What is 2+2?",
        provider_script=(ChatResponseEvent("4", tokens=TokenUsage(prompt_tokens=3)),),
        source_run_id="run-1",
        source_model_id="gpt-test",
        expect=EXPECT,
    )
    assert expected == fixture


def test_curate_fixture_options_override_the_defaults() -> None:
    fixture = curate_fixture(
        [chat(messages=asked("recovered"))],
        run_id="run-1",
        expectation=EXPECT,
        fixture_id="my-fixture",
        user_input="given",
        description="hand written",
        allow_unused_provider_script=True,
    )
    assert ("my-fixture", "given", "hand written", True) == (
        fixture.id,
        fixture.user_input,
        fixture.description,
        fixture.allow_unused_provider_script,
    )
    assert "run-1" == fixture.source_run_id


def test_optional_mode_keeps_an_uncuratable_trace_as_live_only() -> None:
    spans = [chat(messages=asked("q"), model="m"), InferenceSpan(run_id="run-1", step_index=1)]
    fixture = curate_fixture(spans, run_id="run-1", expectation=EXPECT)
    assert () == fixture.provider_script
    assert fixture.provider_script_error is not None
    assert "inference step 1" in fixture.provider_script_error
    assert "enable content capture" in fixture.provider_script_error
    assert ("q", "m") == (fixture.user_input, fixture.source_model_id)
    assert "no replayable provider_script" in (fixture.scripted_replay_error() or "")


def test_require_mode_raises_the_conversion_error_naming_the_run() -> None:
    spans = [chat(messages=asked("q")), InferenceSpan(run_id="run-1", step_index=1)]
    with pytest.raises(CurateError) as caught:
        curate_fixture(spans, run_id="run-9", expectation=EXPECT, mode=CurationMode.REQUIRE)
    assert (CurateErrorKind.MISSING_CONTENT, "run-9") == (caught.value.kind, caught.value.run_id)
    assert str(caught.value).startswith("run run-9: inference step 1")


def test_skip_mode_never_converts() -> None:
    fixture = curate_fixture(
        [chat(messages=asked("q"))], run_id="run-1", expectation=EXPECT, mode=CurationMode.SKIP
    )
    assert ((), SKIPPED_CONVERSION) == (fixture.provider_script, fixture.provider_script_error)
    assert ("q", "gpt-test") == (fixture.user_input, fixture.source_model_id)
    assert "conversion skipped by request" == SKIPPED_CONVERSION


@pytest.mark.parametrize("mode", list(CurationMode))
def test_no_inferences_fails_in_every_mode(mode: CurationMode) -> None:
    with pytest.raises(CurateError) as caught:
        curate_fixture([], run_id="run-1", expectation=EXPECT, mode=mode, user_input="q")
    assert CurateErrorKind.NO_INFERENCES == caught.value.kind


@pytest.mark.parametrize("mode", list(CurationMode))
def test_missing_user_input_fails_in_every_mode(mode: CurationMode) -> None:
    with pytest.raises(CurateError) as caught:
        curate_fixture([chat()], run_id="run-1", expectation=EXPECT, mode=mode)
    assert CurateErrorKind.MISSING_USER_INPUT == caught.value.kind
    assert "user_input" in str(caught.value)
    assert "request_messages" in str(caught.value)


def test_curation_modes_use_the_reference_wire_strings() -> None:
    assert ["optional", "require", "skip"] == [mode.value for mode in CurationMode]


# -- dialogue stitching (§6.3 import-dialogue) -------------------------------------------


def dialogue_run(
    run_id: str, question: str, answer: str, *, thread_id: str = "thread-1", model: str = "m"
) -> tuple[str, list[InferenceSpan]]:
    span = chat(answer, run_id=run_id, thread_id=thread_id, model=model, messages=asked(question))
    return run_id, [span]


def test_stitch_dialogue_makes_turn_zero_and_continued_turns() -> None:
    runs = [
        dialogue_run("run-a", "first?", "one"),
        dialogue_run("run-b", "second?", "two"),
        dialogue_run("run-c", "third?", "three"),
    ]
    fixture = stitch_dialogue(runs, expectation=EXPECT)
    expected = Fixture(
        "run-a",
        description="Stitched dialogue from 3 runs",
        user_input="first?",
        provider_script=(ChatResponseEvent("one"),),
        source_run_id="run-a",
        source_model_id="m",
        expect=EXPECT,
        continued_turns=(
            DialogueTurn("second?", provider_script=(ChatResponseEvent("two"),)),
            DialogueTurn("third?", provider_script=(ChatResponseEvent("three"),)),
        ),
    )
    assert expected == fixture


def test_stitch_dialogue_takes_fixture_id_and_description() -> None:
    fixture = stitch_dialogue(
        [dialogue_run("run-a", "q", "a")],
        expectation=EXPECT,
        fixture_id="dialogue",
        description="mine",
        allow_unused_provider_script=True,
    )
    assert ("dialogue", "mine", (), True) == (
        fixture.id,
        fixture.description,
        fixture.continued_turns,
        fixture.allow_unused_provider_script,
    )


def test_stitch_dialogue_rejects_an_empty_run_list() -> None:
    with pytest.raises(CurateError) as caught:
        stitch_dialogue([], expectation=EXPECT)
    assert CurateErrorKind.EMPTY_DIALOGUE == caught.value.kind
    assert "non-empty" in str(caught.value)


def test_stitch_dialogue_rejects_a_run_on_another_thread() -> None:
    runs = [dialogue_run("run-a", "q", "a"), dialogue_run("run-b", "q", "a", thread_id="other")]
    with pytest.raises(CurateError) as caught:
        stitch_dialogue(runs, expectation=EXPECT)
    error = caught.value
    assert (CurateErrorKind.THREAD_MISMATCH, "run-b") == (error.kind, error.run_id)
    assert ("thread-1", "other") == (error.expected, error.actual)
    assert "thread_id=" in str(error)


def test_stitch_dialogue_thread_is_the_first_inference_spans() -> None:
    run_b = [chat("a", run_id="run-b", model="m", messages=asked("q"))]
    run_b.append(chat("b", run_id="run-b", model="m", thread_id="elsewhere", step=1))
    fixture = stitch_dialogue(
        [dialogue_run("run-a", "q", "a"), ("run-b", run_b)], expectation=EXPECT
    )
    assert 1 == len(fixture.continued_turns)


def test_stitch_dialogue_rejects_a_run_without_inference() -> None:
    no_inference: list[object] = [ToolSpan(name="t", run_id="run-b")]
    runs: list[tuple[str, Sequence[object]]] = [dialogue_run("run-a", "q", "a")]
    runs.append(("run-b", no_inference))
    with pytest.raises(CurateError) as caught:
        stitch_dialogue(runs, expectation=EXPECT)
    assert (CurateErrorKind.NO_INFERENCES, "run-b") == (caught.value.kind, caught.value.run_id)


def test_stitch_dialogue_requires_each_runs_user_input() -> None:
    runs = [dialogue_run("run-a", "q", "a"), ("run-b", [chat(run_id="run-b")])]
    with pytest.raises(CurateError) as caught:
        stitch_dialogue(runs, expectation=EXPECT)
    assert (CurateErrorKind.MISSING_USER_INPUT, "run-b") == (caught.value.kind, caught.value.run_id)


def test_stitch_dialogue_rejects_a_changed_source_model() -> None:
    runs = [dialogue_run("run-a", "q", "a"), dialogue_run("run-b", "q", "a", model="other")]
    with pytest.raises(CurateError) as caught:
        stitch_dialogue(runs, expectation=EXPECT)
    error = caught.value
    assert (CurateErrorKind.MODEL_MISMATCH, "run-b") == (error.kind, error.run_id)
    assert ("m", "other") == (error.expected, error.actual)


def test_stitch_dialogue_keeps_each_turns_own_script_error_in_optional_mode() -> None:
    broken = [chat(run_id="run-b", model="m", messages=asked("second?"), response_content=None)]
    runs = [dialogue_run("run-a", "first?", "one"), ("run-b", broken)]
    fixture = stitch_dialogue(runs, expectation=EXPECT)
    (turn,) = fixture.continued_turns
    assert () == turn.provider_script
    assert "enable content capture" in (turn.provider_script_error or "")
    assert fixture.provider_script_error is None
    assert "continued_turn 1" in (fixture.scripted_replay_error() or "")


def test_stitch_dialogue_require_mode_names_the_failing_run() -> None:
    broken = [chat(run_id="run-b", model="m", messages=asked("second?"), response_content=None)]
    runs = [dialogue_run("run-a", "first?", "one"), ("run-b", broken)]
    with pytest.raises(CurateError) as caught:
        stitch_dialogue(runs, expectation=EXPECT, mode=CurationMode.REQUIRE)
    assert (CurateErrorKind.MISSING_CONTENT, "run-b") == (caught.value.kind, caught.value.run_id)


def test_stitch_dialogue_skip_mode_marks_every_turn() -> None:
    runs = [dialogue_run("run-a", "q1", "a"), dialogue_run("run-b", "q2", "b")]
    fixture = stitch_dialogue(runs, expectation=EXPECT, mode=CurationMode.SKIP)
    assert [SKIPPED_CONVERSION, SKIPPED_CONVERSION] == [
        fixture.provider_script_error,
        fixture.continued_turns[0].provider_script_error,
    ]


# -- §7.12: through the file trace store into a scripted replay ----------------------------


async def record(root: Path, spans: Sequence[InferenceSpan | ToolSpan]) -> JsonlTraceSink:
    sink = JsonlTraceSink(root)
    for span in spans:
        await sink.emit(SpanRecorded(span=span))
    return sink


@pytest.mark.anyio
async def test_trace_curate_round_trips_through_file_store_and_replays(tmp_path: Path) -> None:
    spans: list[InferenceSpan | ToolSpan] = [
        tool_call("call-1", "lookup", {"q": "2+2"}, request_messages=asked("What is 2+2?"), step=0),
        ToolSpan(name="lookup", run_id="run-1", call_id="call-1", call_result={"sum": 4}),
        chat("The answer is 4.", step=1, input_tokens=12, output_tokens=5, total_tokens=17),
    ]
    await record(tmp_path, spans)
    events = await FileTraceStore(tmp_path).read_events("run-1")
    fixture = curate_fixture(events, run_id="run-1", expectation=EXPECT, mode=CurationMode.REQUIRE)
    fixture = from_json(Fixture, to_json(fixture, pretty=True))  # as the CLI writes it

    outcome = await AgentLoopReplayer().replay(fixture, ReplayContext())

    assert "The answer is 4." == outcome.final_text
    assert outcome.runtime_failure is None
    assert [] == score(outcome, fixture.expect)
    assert ("lookup",) == outcome.tool_sequence()
    assert {"sum": 4} == outcome.metrics.tools[0].call_result
    assert 17 == outcome.total_tokens()


@pytest.mark.anyio
async def test_trace_curate_preserves_multi_turn_order(tmp_path: Path) -> None:
    spans = [tool_call("call-1", step=0, request_messages=asked("q")), chat("final", step=1)]
    await record(tmp_path, spans)
    events = await FileTraceStore(tmp_path).read_events("run-1")
    script = trace_to_provider_script(events).provider_script
    assert ["tool_call", "chat_response"] == [event.kind for event in script]
    assert "call-1" == script[0].id  # type: ignore[union-attr]


@pytest.mark.anyio
async def test_stitched_dialogue_from_the_store_replays_both_turns(tmp_path: Path) -> None:
    first = chat("one", run_id="run-a", messages=asked("first?"))
    history = [*asked("first?"), message("assistant", text("one")), message("user", text("2?"))]
    second = chat("two", run_id="run-b", messages=history)
    await record(tmp_path, [first, second])
    store = FileTraceStore(tmp_path)
    runs = [(run_id, await store.read_events(run_id)) for run_id in await store.list_runs()]
    fixture = stitch_dialogue(runs, expectation=Expectation(final_answer_contains=("two",)))
    assert ("first?", ("2?",)) == (
        fixture.user_input,
        tuple(turn.user_input for turn in fixture.continued_turns),
    )
    outcome = await AgentLoopReplayer().replay(fixture, ReplayContext())
    assert ("two", None) == (outcome.final_text, outcome.runtime_failure)


@pytest.mark.anyio
async def test_traces_recorded_by_the_built_in_replayer_lack_content(tmp_path: Path) -> None:
    # The built-in AgentLoopReplayer records no response content (no content capture),
    # so its traces give live-only fixtures; flip this test when capture is added.
    source = Fixture("src", user_input="What is 2+2?", provider_script=(ChatResponseEvent("4"),))
    run = await run_eval([source], sink=JsonlTraceSink(tmp_path))
    trace_run_id = run.items[0].trace_run_id
    assert trace_run_id is not None
    events = await FileTraceStore(tmp_path).read_events(trace_run_id)
    assert 1 == len(events)

    fixture = curate_fixture(
        events, run_id=trace_run_id, expectation=EXPECT, user_input="What is 2+2?"
    )
    assert "enable content capture" in (fixture.provider_script_error or "")
    with pytest.raises(CurateError) as caught:
        curate_fixture(events, run_id=trace_run_id, expectation=EXPECT)
    assert CurateErrorKind.MISSING_USER_INPUT == caught.value.kind


@pytest.mark.anyio
async def test_live_run_with_content_capture_curates_into_a_replayable_fixture(
    tmp_path: Path,
) -> None:
    # Record a live run (tool call, then answer), curate its trace, replay it scripted
    # with no tools at all: the recorded tool result is fed back and the answer is the
    # same (DESIGN §9: record a live run, replay it later as scripted).
    live_model = ScriptedExecutor(
        (
            ToolCallEvent(
                "call-1", "get_weather", {"city": "Paris"}, tokens=TokenUsage(total_tokens=9)
            ),
            ChatResponseEvent("Sunny, 21 C in Paris.", tokens=TokenUsage(total_tokens=12)),
        )
    )

    def get_weather(city: str) -> dict[str, Any]:
        return {"city": city, "sky": "sunny", "celsius": 21}

    question = Fixture("weather", user_input="Weather in Paris?")
    resolved = ResolvedModel(model_id="live", executor=live_model, upstream_model="gpt-live")
    recorder = AgentLoopReplayer(tools=[get_weather], capture_content=True)
    run = await run_eval(
        [question],
        RunOptions(mode=EvalRunExecutionMode.LIVE, models=["live"]),
        models=[resolved],
        replayer=recorder,
        sink=JsonlTraceSink(tmp_path),
    )
    trace_run_id = run.items[0].trace_run_id
    assert trace_run_id is not None
    events = await FileTraceStore(tmp_path).read_events(trace_run_id)

    expect = Expectation(final_answer_contains=("Sunny",), tool_sequence=("get_weather",))
    fixture = curate_fixture(
        events, run_id=trace_run_id, expectation=expect, mode=CurationMode.REQUIRE
    )
    assert "Weather in Paris?" == fixture.user_input
    assert {"city": "Paris", "sky": "sunny", "celsius": 21} == fixture.provider_script[0].result  # type: ignore[union-attr]

    replayed = await run_eval([from_json(Fixture, to_json(fixture))])
    report = replayed.items[0].report
    assert (True, "Sunny, 21 C in Paris.") == (report.passed, report.final_text)
    assert None is report.runtime_failure


# -- property: a script recorded with content capture curates back to itself --------------

_COUNTS = st.none() | st.integers(min_value=0, max_value=2**31 - 1)
_TOKENS = st.builds(
    TokenUsage,
    prompt_tokens=_COUNTS,
    completion_tokens=_COUNTS,
    total_tokens=_COUNTS,
    cache_read_tokens=_COUNTS,
    cache_creation_tokens=_COUNTS,
    thinking_tokens=_COUNTS,
)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=5,
)
_EVENTS: st.SearchStrategy[ProviderScriptEvent] = st.one_of(
    st.builds(
        ChatResponseEvent,
        st.text(max_size=20),
        tokens=_TOKENS,
        finish_reason=st.sampled_from(StopReason),
    ),
    st.builds(
        ToolCallEvent,
        st.text(max_size=6),
        st.sampled_from(("lookup", "search")),
        _JSON,
        tokens=_TOKENS,
        result=st.none() | _JSON.filter(lambda value: value is not None),
    ),
    st.builds(ErrorEvent, st.sampled_from(("rate_limit", "overloaded", "timeout"))),
)
_REASONS = {
    value: key
    for key, value in {
        "end_turn": StopReason.END_TURN,
        "max_tokens": StopReason.MAX_TOKENS,
        "tool_use": StopReason.TOOL_USE,
        "stop_sequence": StopReason.STOP_SEQUENCE,
    }.items()
}


def recorded_spans(script: Sequence[ProviderScriptEvent]) -> list[InferenceSpan | ToolSpan]:
    """The spans a content-capturing agent records while a provider serves ``script``."""
    spans: list[InferenceSpan | ToolSpan] = []
    for step, event in enumerate(script):
        if isinstance(event, ErrorEvent):
            spans.append(
                InferenceSpan(run_id="run-1", step_index=step, error_type=event.error_type)
            )
            continue
        usage = event.tokens
        common: dict[str, Any] = {
            "run_id": "run-1",
            "step_index": step,
            "model": "gpt-test",
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
            "cache_read_input_tokens": usage.cache_read_tokens,
            "cache_creation_input_tokens": usage.cache_creation_tokens,
            "thinking_tokens": usage.thinking_tokens,
        }
        if isinstance(event, ChatResponseEvent):
            spans.append(
                InferenceSpan(
                    finish_reasons=(_REASONS[event.finish_reason],),
                    response_content=[text(event.content)],
                    **common,
                )
            )
            continue
        call = {"id": f"{step}-{event.id}", "name": event.name, "arguments": event.arguments}
        spans.append(
            InferenceSpan(finish_reasons=("tool_use",), response_tool_calls=[call], **common)
        )
        spans.append(
            ToolSpan(name=event.name, run_id="run-1", call_id=call["id"], call_result=event.result)
        )
    return spans


@settings(max_examples=60, deadline=None)
@given(st.lists(_EVENTS, min_size=1, max_size=6))
def test_a_recorded_script_curates_back_to_itself(script: list[ProviderScriptEvent]) -> None:
    # Tool-call ids are made unique per step, as providers do.
    expected = tuple(
        ToolCallEvent(
            f"{step}-{event.id}",
            event.name,
            event.arguments,
            tokens=event.tokens,
            result=event.result,
        )
        if isinstance(event, ToolCallEvent)
        else event
        for step, event in enumerate(script)
    )
    assert expected == trace_to_provider_script(recorded_spans(script)).provider_script
