"""The public test doubles of ``awaken_eval.testing`` (spec §3.5), on asyncio and trio."""

from __future__ import annotations

import anyio
import pytest

from awaken_eval import (
    ChatMessage,
    InferenceError,
    InferenceErrorKind,
    InferenceRequest,
    InferenceResult,
    Judge,
    JudgeError,
    JudgeRequest,
    JudgeResult,
    LlmExecutor,
    StopReason,
    TokenUsage,
    TraceSink,
)
from awaken_eval.errors import JudgeErrorKind
from awaken_eval.events import RunEventMode, RunFailed, SpanRecorded, ToolSpan
from awaken_eval.records import MessageRole
from awaken_eval.testing import (
    CannedTextExecutor,
    CapturingSink,
    EmptyResultExecutor,
    ExplodingJudge,
    FailingExecutor,
    HangingExecutor,
    ScriptedJudge,
    SinkFailure,
)


def _request(text: str = "hi", model: str = "m") -> InferenceRequest:
    return InferenceRequest(model=model, messages=(ChatMessage(MessageRole.USER, text),))


def _judge_request(fixture_id: str = "fx") -> JudgeRequest:
    return JudgeRequest(fixture_id=fixture_id, user_prompt="q", answer="a")


def test_doubles_implement_the_protocols() -> None:
    for executor in (
        CannedTextExecutor(),
        EmptyResultExecutor(),
        FailingExecutor(),
        HangingExecutor(),
    ):
        assert isinstance(executor, LlmExecutor)
    assert isinstance(ScriptedJudge(), Judge)
    assert isinstance(ExplodingJudge(), Judge)
    assert isinstance(CapturingSink(), TraceSink)


# -- CannedTextExecutor -------------------------------------------------------------------


@pytest.mark.anyio
async def test_canned_text_executor_serves_fifo_then_repeats_the_last() -> None:
    executor = CannedTextExecutor(["one", "two"])
    assert executor.remaining == 2
    texts = [(await executor.execute(_request(str(n)))).text for n in range(4)]
    assert texts == ["one", "two", "two", "two"]
    assert executor.remaining == 0
    assert [request.messages[0].content for request in executor.requests] == ["0", "1", "2", "3"]


@pytest.mark.anyio
async def test_canned_text_executor_default_usage_and_stop_reason() -> None:
    result = await CannedTextExecutor(["x"]).execute(_request(model="upstream"))
    assert result == InferenceResult(
        text="x",
        usage=TokenUsage(prompt_tokens=1, completion_tokens=1, total_tokens=2),
        stop_reason=StopReason.END_TURN,
        model="upstream",
    )


@pytest.mark.anyio
async def test_canned_text_executor_custom_usage() -> None:
    usage = TokenUsage(prompt_tokens=10, completion_tokens=5, total_tokens=15)
    executor = CannedTextExecutor(["x"], usage=usage, stop_reason=None)
    result = await executor.execute(_request())
    assert result.usage == usage
    assert result.stop_reason is None


@pytest.mark.anyio
async def test_canned_text_executor_without_texts_answers_empty_text() -> None:
    result = await CannedTextExecutor().execute(_request())
    assert result.text == ""


# -- EmptyResultExecutor / FailingExecutor ------------------------------------------------


@pytest.mark.anyio
async def test_empty_result_executor_answers_nothing() -> None:
    executor = EmptyResultExecutor()
    result = await executor.execute(_request())
    assert result == InferenceResult()
    assert result.text == ""
    assert result.tool_calls == ()
    assert executor.requests == [_request()]


@pytest.mark.anyio
async def test_failing_executor_raises_its_kind() -> None:
    executor = FailingExecutor(InferenceErrorKind.CONTEXT_OVERFLOW, message="too long")
    with pytest.raises(InferenceError) as caught:
        await executor.execute(_request())
    assert caught.value.kind is InferenceErrorKind.CONTEXT_OVERFLOW
    assert caught.value.message == "too long"
    assert caught.value.error_type == "context_overflow"
    assert executor.requests == [_request()]


@pytest.mark.anyio
async def test_failing_executor_custom_error_type_and_defaults() -> None:
    with pytest.raises(InferenceError) as caught:
        await FailingExecutor(error_type="boom").execute(_request())
    assert caught.value.kind is InferenceErrorKind.PROVIDER
    assert caught.value.error_type == "boom"


# -- HangingExecutor ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_hanging_executor_is_cancelled_at_a_deadline() -> None:
    executor = HangingExecutor()
    with anyio.move_on_after(0.01) as scope:
        await executor.execute(_request())
    assert scope.cancelled_caught
    assert executor.started == 1
    assert executor.cancellations == 1
    assert executor.completed == 0


@pytest.mark.anyio
async def test_hanging_executor_with_a_delay_answers_late() -> None:
    executor = HangingExecutor(delay=0.001, text="finally")
    result = await executor.execute(_request())
    assert result.text == "finally"
    assert result.usage == TokenUsage(prompt_tokens=1, completion_tokens=1, total_tokens=2)
    assert (executor.started, executor.cancellations, executor.completed) == (1, 0, 1)


@pytest.mark.anyio
async def test_hanging_executor_delay_longer_than_the_deadline_is_cancelled() -> None:
    executor = HangingExecutor(delay=10.0)
    with anyio.move_on_after(0.01):
        await executor.execute(_request())
    assert (executor.started, executor.cancellations, executor.completed) == (1, 1, 0)


# -- judges -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_scripted_judge_serves_queued_scores_then_one() -> None:
    judge = ScriptedJudge([0.2, 0.6])
    results = [await judge.grade(_judge_request(str(n))) for n in range(3)]
    assert results == [
        JudgeResult(score=0.2, reasoning="scripted"),
        JudgeResult(score=0.6, reasoning="scripted"),
        JudgeResult(score=1.0, reasoning="scripted"),
    ]
    assert judge.calls == 3
    assert judge.remaining == 0
    assert [request.fixture_id for request in judge.requests] == ["0", "1", "2"]


@pytest.mark.anyio
async def test_scripted_judge_raises_queued_errors_and_passes_results_through() -> None:
    error = JudgeError(JudgeErrorKind.PARSE, "bad")
    custom = JudgeResult(score=0.4)
    judge = ScriptedJudge([error, custom], reasoning="why")
    with pytest.raises(JudgeError) as caught:
        await judge.grade(_judge_request())
    assert caught.value is error
    assert await judge.grade(_judge_request()) is custom
    assert await judge.grade(_judge_request()) == JudgeResult(score=1.0, reasoning="why")
    assert judge.calls == 3


@pytest.mark.anyio
async def test_exploding_judge_fails_when_called() -> None:
    with pytest.raises(AssertionError, match="'guarded'"):
        await ExplodingJudge().grade(_judge_request("guarded"))


# -- CapturingSink ------------------------------------------------------------------------


def _events() -> tuple[SpanRecorded, RunFailed]:
    return (
        SpanRecorded(span=ToolSpan(name="search")),
        RunFailed(
            eval_run_id="run",
            dataset_id="ds",
            mode=RunEventMode.DATASET_SCRIPTED,
            error="boom",
            started_at_secs=1,
            ended_at_secs=2,
        ),
    )


@pytest.mark.anyio
async def test_capturing_sink_collects_events_in_order() -> None:
    sink = CapturingSink()
    span, failed = _events()
    await sink.emit(span)
    await sink.emit(failed)
    assert sink.events == [span, failed]
    assert sink.kinds == ["span", "eval_run_failed"]


@pytest.mark.anyio
async def test_capturing_sink_can_fail_on_emit() -> None:
    sink = CapturingSink(fail=True)
    span, _ = _events()
    with pytest.raises(SinkFailure, match="span"):
        await sink.emit(span)
    assert sink.events == [span]
