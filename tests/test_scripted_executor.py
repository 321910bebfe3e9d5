"""ScriptedExecutor: the fake provider of scripted replays (spec §3.1.2, §7.6).

FIFO order, verbatim tokens and stop reasons, tool calls (with the recorded result),
exhaustion, error-kind mapping, the first-error capture, counters and the model guard.
"""

from __future__ import annotations

import pytest

from awaken_eval import (
    ChatResponseEvent,
    ErrorEvent,
    InferenceError,
    InferenceErrorKind,
    InferenceRequest,
    InferenceResult,
    LlmExecutor,
    ProviderScriptEvent,
    ScriptedExecutor,
    StopReason,
    TokenUsage,
    ToolCall,
    ToolCallEvent,
)
from awaken_eval.engine import ScriptedError, error_kind_for

pytestmark = pytest.mark.anyio

USAGE = TokenUsage(
    prompt_tokens=12,
    completion_tokens=5,
    total_tokens=17,
    cache_read_tokens=3,
    cache_creation_tokens=2,
    thinking_tokens=1,
)


def request(model: str = "scripted") -> InferenceRequest:
    return InferenceRequest(model=model, messages=())


async def serve(executor: ScriptedExecutor, model: str = "scripted") -> InferenceResult:
    return await executor.execute(request(model))


async def serve_error(executor: ScriptedExecutor, model: str = "scripted") -> InferenceError:
    with pytest.raises(InferenceError) as caught:
        await executor.execute(request(model))
    return caught.value


def counters(executor: ScriptedExecutor) -> tuple[int, int, int, int]:
    return (
        executor.remaining,
        executor.consumed_calls,
        executor.exhausted_calls,
        executor.error_calls,
    )


def test_is_an_llm_executor() -> None:
    assert isinstance(ScriptedExecutor([]), LlmExecutor)


async def test_serves_events_first_in_first_out() -> None:
    executor = ScriptedExecutor(
        [ChatResponseEvent("one"), ChatResponseEvent("two"), ChatResponseEvent("three")]
    )

    texts = [(await serve(executor)).text for _ in range(3)]

    assert ["one", "two", "three"] == texts
    assert (0, 3, 0, 0) == counters(executor)


async def test_chat_response_is_served_verbatim() -> None:
    executor = ScriptedExecutor(
        [ChatResponseEvent("hello", tokens=USAGE, finish_reason=StopReason.MAX_TOKENS)]
    )

    result = await serve(executor, "pinned-model")

    expected = InferenceResult(
        text="hello",
        tool_calls=(),
        usage=USAGE,
        stop_reason=StopReason.MAX_TOKENS,
        model="pinned-model",
    )
    assert expected == result


@pytest.mark.parametrize("stop_reason", list(StopReason))
async def test_every_stop_reason_is_served_verbatim(stop_reason: StopReason) -> None:
    executor = ScriptedExecutor([ChatResponseEvent("x", finish_reason=stop_reason)])

    assert stop_reason == (await serve(executor)).stop_reason


async def test_missing_finish_reason_defaults_to_end_turn() -> None:
    executor = ScriptedExecutor([ChatResponseEvent("x")])

    result = await serve(executor)

    assert StopReason.END_TURN == result.stop_reason
    assert TokenUsage() == result.usage


async def test_tool_call_is_one_tool_call_with_tool_use_stop() -> None:
    arguments = {"city": "Paris", "days": [1, 2]}
    executor = ScriptedExecutor([ToolCallEvent("call-1", "weather", arguments, tokens=USAGE)])

    result = await serve(executor)

    expected = InferenceResult(
        text="",
        tool_calls=(ToolCall("call-1", "weather", arguments),),
        usage=USAGE,
        stop_reason=StopReason.TOOL_USE,
        model="scripted",
    )
    assert expected == result
    assert (0, 1, 0, 0) == counters(executor)


async def test_tool_call_carries_recorded_result() -> None:
    executor = ScriptedExecutor(
        [ToolCallEvent("call-1", "weather", {"city": "Oslo"}, result={"temp_c": -3})]
    )

    result = await serve(executor)

    expected = (ToolCall("call-1", "weather", {"city": "Oslo"}, recorded_result={"temp_c": -3}),)
    assert expected == result.tool_calls


async def test_tool_call_without_recorded_result_has_none() -> None:
    executor = ScriptedExecutor([ToolCallEvent("call-1", "weather", None)])

    result = await serve(executor)

    assert [None] == [call.recorded_result for call in result.tool_calls]


async def test_exhausted_script_raises_non_retryable_invalid_request() -> None:
    executor = ScriptedExecutor([ChatResponseEvent("only")])
    await serve(executor)

    error = await serve_error(executor)

    assert InferenceErrorKind.INVALID_REQUEST == error.kind
    assert False is error.retryable
    assert "invalid_request" == error.error_type
    assert "scripted executor exhausted" in error.message
    assert (0, 1, 1, 0) == counters(executor)


async def test_each_exhausted_call_is_counted() -> None:
    executor = ScriptedExecutor([])

    for _ in range(3):
        await serve_error(executor)

    assert (0, 0, 3, 0) == counters(executor)
    assert None is executor.first_error


@pytest.mark.parametrize(
    ("error_type", "kind"),
    [
        ("rate_limit", InferenceErrorKind.RATE_LIMITED),
        ("rate_limited", InferenceErrorKind.RATE_LIMITED),
        ("RATE_LIMIT", InferenceErrorKind.RATE_LIMITED),
        ("Rate_Limited", InferenceErrorKind.RATE_LIMITED),
        ("overloaded", InferenceErrorKind.OVERLOADED),
        ("timeout", InferenceErrorKind.TIMEOUT),
        ("context_overflow", InferenceErrorKind.CONTEXT_OVERFLOW),
        ("invalid_request", InferenceErrorKind.INVALID_REQUEST),
        ("unauthorized", InferenceErrorKind.UNAUTHORIZED),
        ("model_not_found", InferenceErrorKind.MODEL_NOT_FOUND),
        ("content_filtered", InferenceErrorKind.CONTENT_FILTERED),
        ("provider", InferenceErrorKind.PROVIDER),
        ("Overloaded", InferenceErrorKind.OVERLOADED),
        ("TIMEOUT", InferenceErrorKind.TIMEOUT),
        ("boom", InferenceErrorKind.PROVIDER),
        ("", InferenceErrorKind.PROVIDER),
        ("rate-limit", InferenceErrorKind.PROVIDER),
        ("ratelimit", InferenceErrorKind.PROVIDER),
    ],
)
def test_error_kind_for_maps_case_insensitively(error_type: str, kind: InferenceErrorKind) -> None:
    assert kind == error_kind_for(error_type)


def test_every_kind_name_maps_to_itself() -> None:
    kinds = list(InferenceErrorKind)

    assert kinds == [error_kind_for(kind.value) for kind in kinds]
    assert kinds == [error_kind_for(kind.value.upper()) for kind in kinds]


@pytest.mark.parametrize(
    ("error_type", "kind"),
    [
        ("rate_limit", InferenceErrorKind.RATE_LIMITED),
        ("Rate_Limited", InferenceErrorKind.RATE_LIMITED),
        ("TIMEOUT", InferenceErrorKind.TIMEOUT),
        ("content_filtered", InferenceErrorKind.CONTENT_FILTERED),
        ("weird_upstream_thing", InferenceErrorKind.PROVIDER),
    ],
)
async def test_error_event_raises_mapped_kind_keeping_type_and_message(
    error_type: str, kind: InferenceErrorKind
) -> None:
    executor = ScriptedExecutor([ErrorEvent(error_type, message="upstream said no")])

    error = await serve_error(executor)

    assert (kind, error_type, "upstream said no") == (error.kind, error.error_type, error.message)
    assert (0, 1, 0, 1) == counters(executor)


@pytest.mark.parametrize(
    ("error_type", "retryable"),
    [
        ("rate_limit", True),
        ("overloaded", True),
        ("timeout", True),
        ("invalid_request", False),
        ("context_overflow", False),
        ("boom", False),
    ],
)
async def test_error_event_retryability_follows_the_kind(error_type: str, retryable: bool) -> None:
    executor = ScriptedExecutor([ErrorEvent(error_type)])

    error = await serve_error(executor)

    assert retryable == error.retryable


async def test_error_event_with_default_message() -> None:
    executor = ScriptedExecutor([ErrorEvent("overloaded")])

    error = await serve_error(executor)

    assert ("", "overloaded") == (error.message, str(error))


async def test_first_error_is_captured_once() -> None:
    executor = ScriptedExecutor(
        [
            ErrorEvent("rate_limit", message="429 Too Many Requests"),
            ChatResponseEvent("ok"),
            ErrorEvent("overloaded", message="529"),
        ]
    )
    before = executor.first_error

    await serve_error(executor)
    first = executor.first_error
    await serve(executor)
    await serve_error(executor)

    assert None is before
    assert ScriptedError("rate_limit", "429 Too Many Requests") == first
    assert ScriptedError("rate_limit", "429 Too Many Requests") == executor.first_error
    assert (0, 3, 0, 2) == counters(executor)


async def test_counters_are_independent() -> None:
    executor = ScriptedExecutor(
        [ChatResponseEvent("a"), ErrorEvent("timeout"), ToolCallEvent("c1", "t", {})],
        expected_model="scripted",
    )
    assert (3, 0, 0, 0) == counters(executor)

    await serve(executor)
    assert (2, 1, 0, 0) == counters(executor)
    await serve_error(executor)
    assert (1, 2, 0, 1) == counters(executor)
    await serve_error(executor, "other-model")
    assert (1, 2, 0, 1) == counters(executor)
    await serve(executor)
    assert (0, 3, 0, 1) == counters(executor)
    await serve_error(executor)
    assert (0, 3, 1, 1) == counters(executor)


async def test_model_mismatch_is_refused_without_consuming() -> None:
    executor = ScriptedExecutor([ChatResponseEvent("pinned answer")], expected_model="gpt-pinned")

    error = await serve_error(executor, "gpt-other")

    assert InferenceErrorKind.INVALID_REQUEST == error.kind
    assert False is error.retryable
    assert "upstream_model mismatch" in error.message
    assert "gpt-pinned" in error.message
    assert "gpt-other" in error.message
    assert (1, 0, 0, 0) == counters(executor)
    assert None is executor.first_error
    assert "pinned answer" == (await serve(executor, "gpt-pinned")).text
    assert (0, 1, 0, 0) == counters(executor)


async def test_model_guard_checks_before_exhaustion() -> None:
    executor = ScriptedExecutor([], expected_model="gpt-pinned")

    error = await serve_error(executor, "gpt-other")

    assert "upstream_model mismatch" in error.message
    assert (0, 0, 0, 0) == counters(executor)


async def test_without_expected_model_any_model_is_served() -> None:
    executor = ScriptedExecutor([ChatResponseEvent("a"), ChatResponseEvent("b")])

    models = [(await serve(executor, name)).model for name in ("m1", "m2")]

    assert ["m1", "m2"] == models


async def test_script_is_copied_not_shared() -> None:
    script: list[ProviderScriptEvent] = [ChatResponseEvent("a")]
    executor = ScriptedExecutor(script)

    await serve(executor)

    assert [ChatResponseEvent("a")] == script
    assert 0 == executor.remaining
