"""AgentLoopReplayer: scripted and live replays (spec §1.5, §2.14, §3.1, §7.6, §7.12, §8.1).

Covers the scripted-mode acceptance items of §7.6, the dialogue and live-mode items of
§7.12 (except the revise loop, tested with the judge), and the §8.1 improvements: tool
arguments/results captured, registered Python tools, structured error kinds in live mode,
one retry policy for both modes, summed session duration, every trace link of a
dialogue, a between-rounds token budget, and trace sinks that never fail a replay.
Every async test runs on asyncio and trio.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from types import SimpleNamespace

import attrs
import pytest

from awaken_eval import (
    AgentLoopReplayer,
    AgentSpec,
    ChatMessage,
    ChatResponseEvent,
    DialogueTurn,
    ErrorEvent,
    EvalRunExecutionMode,
    Expectation,
    Fixture,
    InferenceError,
    InferenceErrorKind,
    InferenceRequest,
    InferenceResult,
    LlmExecutor,
    ProviderScriptEvent,
    ReplayContext,
    ReplayOutcome,
    SamplingParams,
    ScriptedExecutor,
    StopReason,
    TokenUsage,
    Tool,
    ToolCall,
    ToolCallEvent,
    ToolCallMatcher,
    ToolDescriptor,
    score,
)
from awaken_eval._engine import agent_loop
from awaken_eval._engine.agent_loop import decide_runtime_failure
from awaken_eval.engine import DEFAULT_SYSTEM_PROMPT, RetryPolicy
from awaken_eval.events import InferenceSpan, SpanRecorded, ToolSpan
from awaken_eval.failures import (
    ProviderScriptUnused,
    ReplayRuntimeError,
    ReplayRuntimeFailure,
    ScriptExhausted,
)
from awaken_eval.records import MessageRole, MockErrorResponse, MockTextResponse
from awaken_eval.testing import CannedTextExecutor, CapturingSink, FailingExecutor
from builders import fixture

pytestmark = pytest.mark.anyio

LIVE = EvalRunExecutionMode.LIVE


# -- doubles -----------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class SequenceExecutor:
    """Serves queued results or raises queued errors, in order; records every request."""

    def __init__(
        self,
        items: Iterable[InferenceResult | InferenceError],
        *,
        clock: FakeClock | None = None,
        delays: Sequence[float] = (),
    ) -> None:
        self.items = list(items)
        self.clock = clock
        self.delays = list(delays)
        self.requests: list[InferenceRequest] = []

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        self.requests.append(request)
        if self.clock is not None and self.delays:
            self.clock.advance(self.delays.pop(0))
        if not self.items:
            msg = "SequenceExecutor called more often than scripted"
            raise AssertionError(msg)
        item = self.items.pop(0)
        if isinstance(item, InferenceError):
            raise item
        return item


class ToolLoopExecutor:
    """Requests a tool call on every inference (an agent that would never stop)."""

    def __init__(self, *, tool: str = "noop", tokens: int = 1) -> None:
        self.tool = tool
        self.tokens = tokens
        self.requests: list[InferenceRequest] = []

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        self.requests.append(request)
        call = ToolCall(f"call-{len(self.requests)}", self.tool, {})
        return InferenceResult(
            tool_calls=(call,),
            usage=TokenUsage(total_tokens=self.tokens),
            stop_reason=StopReason.TOOL_USE,
        )


def text_result(text: str, total: int = 2) -> InferenceResult:
    usage = TokenUsage(prompt_tokens=total - 1, completion_tokens=1, total_tokens=total)
    return InferenceResult(text=text, usage=usage, stop_reason=StopReason.END_TURN)


def tool_result(call_id: str, name: str, arguments: object) -> InferenceResult:
    call = ToolCall(call_id, name, arguments)
    return InferenceResult(tool_calls=(call,), stop_reason=StopReason.TOOL_USE)


def chat(content: str, prompt: int = 3, completion: int = 2) -> ChatResponseEvent:
    tokens = TokenUsage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )
    return ChatResponseEvent(content, tokens=tokens)


async def replay_scripted(
    fx: Fixture,
    *,
    replayer: AgentLoopReplayer | None = None,
    context: ReplayContext | None = None,
) -> ReplayOutcome:
    loop = replayer if replayer is not None else AgentLoopReplayer(clock=FakeClock())
    return await loop.replay(fx, context if context is not None else ReplayContext())


async def replay_live(
    fx: Fixture,
    executor: LlmExecutor | None,
    *,
    replayer: AgentLoopReplayer | None = None,
    **context: object,
) -> ReplayOutcome:
    loop = replayer if replayer is not None else AgentLoopReplayer(clock=FakeClock())
    ctx = ReplayContext(mode=LIVE, executor=executor, **context)  # type: ignore[arg-type]
    return await loop.replay(fx, ctx)


@pytest.fixture
def scripted_requests(monkeypatch: pytest.MonkeyPatch) -> list[InferenceRequest]:
    """Requests the scripted executor of a scripted replay receives."""
    requests: list[InferenceRequest] = []

    class RecordingScriptedExecutor(ScriptedExecutor):
        async def execute(self, request: InferenceRequest) -> InferenceResult:
            requests.append(request)
            return await super().execute(request)

    monkeypatch.setattr(agent_loop, "ScriptedExecutor", RecordingScriptedExecutor)
    # The requests are what the fast path never builds: watch the general path.
    monkeypatch.setattr(AgentLoopReplayer, "_serves_fast", lambda *_: False)
    return requests


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


async def async_multiply(a: int, b: int) -> int:
    """Multiply two numbers."""
    return a * b


def explode(**_: object) -> None:
    msg = "tool blew up"
    raise ValueError(msg)


# -- decide_runtime_failure (spec §2.14) -------------------------------------------------


# Each case: (exhausted_calls, remaining, run_error, scripted_error_fired, allow_unused),
# then the failure decide_runtime_failure must return.
@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        pytest.param(
            (2, 3, "boom", False, False),
            ScriptExhausted(2),
            id="script_exhausted_outranks_everything",
        ),
        pytest.param(
            (1, 0, "boom", True, True),
            ScriptExhausted(1),
            id="script_exhausted_is_not_suppressed_by_allow_unused",
        ),
        pytest.param(
            (0, 2, "boom", False, False),
            ReplayRuntimeError("boom"),
            id="runtime_error_outranks_provider_script_unused",
        ),
        pytest.param(
            (0, 1, "rate_limited: 429", True, False),
            ProviderScriptUnused(1),
            id="scripted_error_plus_unused_script_falls_through_to_unused",
        ),
        pytest.param(
            (0, 0, "rate_limited: 429", True, False),
            None,
            id="scripted_error_with_nothing_left_is_clean",
        ),
        pytest.param((0, 0, None, False, False), None, id="clean_run_returns_none"),
        pytest.param(
            (0, 4, None, False, True), None, id="allow_unused_suppresses_provider_script_unused"
        ),
        pytest.param(
            (0, 4, "boom", False, True),
            ReplayRuntimeError("boom"),
            id="allow_unused_does_not_suppress_runtime_error",
        ),
    ],
)
def test_decide_runtime_failure(
    inputs: tuple[int, int, str | None, bool, bool], expected: ReplayRuntimeFailure | None
) -> None:
    exhausted_calls, remaining, run_error, scripted_error_fired, allow_unused = inputs

    failure = decide_runtime_failure(
        exhausted_calls=exhausted_calls,
        remaining=remaining,
        run_error=run_error,
        scripted_error_fired=scripted_error_fired,
        allow_unused=allow_unused,
    )

    assert expected == failure


# -- RetryPolicy and Tool ----------------------------------------------------------------


def test_retry_policy_defaults_to_no_retries() -> None:
    assert (0, 0.0, 2.0) == attrs.astuple(RetryPolicy())


@pytest.mark.parametrize(
    "kwargs",
    [{"max_retries": -1}, {"initial_backoff_secs": -0.1}, {"multiplier": 0.5}],
)
def test_retry_policy_rejects_invalid_values(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]


def test_tool_from_function_uses_name_and_docstring() -> None:
    assert ToolDescriptor("add", "Add two numbers.", {"type": "object"}) == (
        Tool.from_function(add).descriptor()
    )


# -- scripted mode: spec §7.6 ------------------------------------------------------------


async def test_scripted_fails_closed_for_live_only_fixture(
    scripted_requests: list[InferenceRequest],
) -> None:
    fx = fixture(
        fixture_id="fx",
        user_input="What is the weather?",
        provider_script_error="provider stream was not captured",
        mock_response=MockTextResponse("shim answer that must not be used"),
    )

    outcome = await replay_scripted(fx)

    message = fx.scripted_replay_error()
    assert message is not None
    assert ReplayOutcome(fixture_id="fx", runtime_failure=ReplayRuntimeError(message)) == outcome
    assert "no replayable provider_script" in message
    assert "provider stream was not captured" in message
    assert [] == scripted_requests


async def test_scripted_fails_closed_for_live_only_continued_turn(
    scripted_requests: list[InferenceRequest],
) -> None:
    fx = fixture(
        provider_script=[chat("first")],
        continued_turns=(DialogueTurn("again?", provider_script_error="stream dropped"),),
    )

    outcome = await replay_scripted(fx)

    assert isinstance(outcome.runtime_failure, ReplayRuntimeError)
    assert "continued_turn 1" in outcome.runtime_failure.message
    assert "stream dropped" in outcome.runtime_failure.message
    assert ("", (), 0) == (outcome.final_text, outcome.metrics.inferences, len(scripted_requests))


async def test_chat_response_surfaces_scripted_answer() -> None:
    outcome = await replay_scripted(fixture(provider_script=[chat("The answer is 42.")]))

    assert "The answer is 42." == outcome.final_text
    assert (None, 0, None) == (
        outcome.error_type,
        outcome.inference_error_count,
        outcome.runtime_failure,
    )


async def test_single_turn_records_exactly_one_inference(
    scripted_requests: list[InferenceRequest],
) -> None:
    outcome = await replay_scripted(fixture(provider_script=[chat("ok")]))

    assert 1 == len(outcome.metrics.inferences)
    assert 1 == len(scripted_requests)
    assert () == outcome.metrics.tools


async def test_token_counts_come_from_provider_script() -> None:
    long_input = "x" * 400  # the legacy shim would estimate 100 prompt tokens
    fx = fixture(provider_script=[chat("done", prompt=12, completion=5)], user_input=long_input)

    outcome = await replay_scripted(fx)

    span = outcome.metrics.inferences[0]
    assert (12, 5, 17) == (span.input_tokens, span.output_tokens, span.total_tokens)
    assert 17 == outcome.total_tokens()


async def test_script_without_tokens_reports_no_estimated_tokens() -> None:
    fx = fixture(
        provider_script=[ChatResponseEvent("a fairly long answer text")], user_input="y" * 80
    )

    outcome = await replay_scripted(fx)

    span = outcome.metrics.inferences[0]
    assert (None, None, None) == (span.input_tokens, span.output_tokens, span.total_tokens)
    assert 0 == outcome.total_tokens()


async def test_legacy_mock_response_uses_estimated_tokens() -> None:
    fx = fixture(user_input="a" * 17, mock_response=MockTextResponse("b" * 9))

    outcome = await replay_scripted(fx)

    span = outcome.metrics.inferences[0]
    assert ("b" * 9, 5, 3, 8) == (
        outcome.final_text,
        span.input_tokens,
        span.output_tokens,
        span.total_tokens,
    )


async def test_legacy_mock_error_surfaces_its_error_type() -> None:
    fx = fixture(mock_response=MockErrorResponse("overloaded", "529 busy"))

    outcome = await replay_scripted(fx)

    assert ("", "overloaded", 1, None) == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
        outcome.runtime_failure,
    )


async def test_error_event_surfaces_error_type_and_empty_text() -> None:
    fx = fixture(provider_script=[ErrorEvent("rate_limit", message="429 Too Many Requests")])

    outcome = await replay_scripted(fx)

    assert ("", "rate_limit", 1, None) == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
        outcome.runtime_failure,
    )
    assert () == outcome.metrics.inferences


async def test_error_event_keeps_fixture_authored_type_verbatim() -> None:
    outcome = await replay_scripted(
        fixture(provider_script=[ErrorEvent("Weird_Upstream", message="?")])
    )

    assert "Weird_Upstream" == outcome.error_type


async def test_error_event_does_not_retry_under_default_policy(
    scripted_requests: list[InferenceRequest],
) -> None:
    fx = fixture(provider_script=[ErrorEvent("rate_limit", message="429"), chat("recovered")])

    outcome = await replay_scripted(fx)

    assert ("", "rate_limit", 1, ProviderScriptUnused(1)) == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
        outcome.runtime_failure,
    )
    assert 1 == len(scripted_requests)


async def test_error_event_with_leftover_script_allowed_is_clean() -> None:
    fx = fixture(
        provider_script=[ErrorEvent("rate_limit", message="429"), chat("recovered")],
        allow_unused_provider_script=True,
    )

    outcome = await replay_scripted(fx)

    assert ("", "rate_limit", 1, None) == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
        outcome.runtime_failure,
    )


async def test_script_exhausted_when_runtime_overcalls(
    scripted_requests: list[InferenceRequest],
) -> None:
    fx = fixture(provider_script=[ToolCallEvent("call-1", "lookup", {"q": "x"})])

    outcome = await replay_scripted(fx)

    assert ScriptExhausted(1) == outcome.runtime_failure
    assert ("", None, 0) == (outcome.final_text, outcome.error_type, outcome.inference_error_count)
    assert (1, 1) == (len(outcome.metrics.inferences), len(outcome.metrics.tools))
    assert 2 == len(scripted_requests)


async def test_script_exhausted_after_a_retried_error() -> None:
    fx = fixture(provider_script=[ErrorEvent("rate_limit", message="429")])
    replayer = AgentLoopReplayer(retry=RetryPolicy(max_retries=3), clock=FakeClock())

    outcome = await replay_scripted(fx, replayer=replayer)

    assert (ScriptExhausted(1), "rate_limit", 1) == (
        outcome.runtime_failure,
        outcome.error_type,
        outcome.inference_error_count,
    )


async def test_source_model_id_pins_upstream_model_and_still_replays(
    scripted_requests: list[InferenceRequest],
) -> None:
    fx = fixture(provider_script=[chat("pinned ok")], source_model_id="gpt-4o-2024-08-06")

    outcome = await replay_scripted(fx)

    assert ("pinned ok", None) == (outcome.final_text, outcome.runtime_failure)
    assert ["gpt-4o-2024-08-06"] == [request.model for request in scripted_requests]
    assert "gpt-4o-2024-08-06" == outcome.metrics.inferences[0].model


async def test_unpinned_scripted_replay_uses_scripted_upstream_model(
    scripted_requests: list[InferenceRequest],
) -> None:
    await replay_scripted(fixture(provider_script=[chat("ok")]))

    assert ["scripted"] == [request.model for request in scripted_requests]


async def test_unused_provider_script_is_a_runtime_failure() -> None:
    outcome = await replay_scripted(fixture(provider_script=[chat("first"), chat("never served")]))

    assert ("first", ProviderScriptUnused(1)) == (outcome.final_text, outcome.runtime_failure)


async def test_allow_unused_provider_script_opts_out() -> None:
    fx = fixture(
        provider_script=[chat("first"), chat("never served")], allow_unused_provider_script=True
    )

    outcome = await replay_scripted(fx)

    assert ("first", None) == (outcome.final_text, outcome.runtime_failure)


async def test_inference_span_uses_scripted_provider() -> None:
    outcome = await replay_scripted(
        fixture(provider_script=[chat("ok", 12, 5)], fixture_id="span_check")
    )

    span = outcome.metrics.inferences[0]
    expected = InferenceSpan(
        run_id=span.run_id,
        thread_id="eval-thread-span_check",
        agent_id="default",
        step_index=0,
        model="scripted",
        provider="scripted",
        operation="chat",
        finish_reasons=("end_turn",),
        input_tokens=12,
        output_tokens=5,
        total_tokens=17,
        duration_ms=0,
    )
    assert expected == span
    assert "" != span.run_id
    assert span.run_id == outcome.trace_run_id()


async def test_scripted_request_carries_default_prompt_and_user_input(
    scripted_requests: list[InferenceRequest],
) -> None:
    await replay_scripted(
        fixture(provider_script=[chat("ok")], fixture_id="req", user_input="Hi there")
    )

    request = scripted_requests[0]
    assert (DEFAULT_SYSTEM_PROMPT, (ChatMessage(MessageRole.USER, "Hi there"),)) == (
        request.system,
        request.messages,
    )
    assert ("eval-thread-req", ()) == (request.thread_id, request.tools)
    assert "" != request.run_id


@pytest.mark.parametrize(
    ("stop_reason", "finish"),
    [
        (StopReason.END_TURN, "end_turn"),
        (StopReason.MAX_TOKENS, "max_tokens"),
        (StopReason.STOP_SEQUENCE, "stop_sequence"),
    ],
)
async def test_span_finish_reasons_are_snake_case(stop_reason: StopReason, finish: str) -> None:
    outcome = await replay_scripted(
        fixture(provider_script=[ChatResponseEvent("x", finish_reason=stop_reason)])
    )

    assert (finish,) == outcome.metrics.inferences[0].finish_reasons


async def test_scripted_max_rounds_grows_with_the_script() -> None:
    calls = [ToolCallEvent(f"c{n}", "lookup", {}, result=n) for n in range(6)]
    outcome = await replay_scripted(fixture(provider_script=[*calls, chat("after six tools")]))

    assert ("after six tools", None) == (outcome.final_text, outcome.runtime_failure)
    assert 7 == len(outcome.metrics.inferences)


async def test_scripted_replay_ignores_context_agent_and_executor() -> None:
    executor = CannedTextExecutor(["live answer"])
    context = ReplayContext(executor=executor, agent=AgentSpec(system_prompt="Be evil."))

    outcome = await replay_scripted(
        fixture(provider_script=[chat("scripted answer")]), context=context
    )

    assert "scripted answer" == outcome.final_text
    assert [] == executor.requests


async def test_replays_share_no_state() -> None:
    replayer = AgentLoopReplayer(clock=FakeClock())
    fx = fixture(provider_script=[chat("same")])

    first = await replay_scripted(fx, replayer=replayer)
    second = await replay_scripted(fx, replayer=replayer)

    assert (first.final_text, first.runtime_failure) == (second.final_text, None)
    assert first.metrics.inferences[0].run_id != second.metrics.inferences[0].run_id


# -- dialogues (spec §3.1.1, §7.12, §8.1 items 5 and 7) ----------------------------------


async def test_dialogue_replays_two_turns_on_the_same_thread() -> None:
    fx = fixture(
        provider_script=[chat("first answer", 3, 2)],
        fixture_id="dlg",
        continued_turns=(
            DialogueTurn("and then?", provider_script=(chat("second answer", 7, 4),)),
        ),
    )

    outcome = await replay_scripted(fx)

    spans = outcome.metrics.inferences
    assert ("second answer", None) == (outcome.final_text, outcome.runtime_failure)
    assert 2 == len(spans)
    assert 16 == outcome.total_tokens()
    assert ["eval-thread-dlg"] * 2 == [span.thread_id for span in spans]
    assert spans[0].run_id != spans[1].run_id


async def test_dialogue_links_every_run() -> None:
    fx = fixture(
        provider_script=[ToolCallEvent("c1", "lookup", {}, result="r"), chat("one")],
        continued_turns=(
            DialogueTurn("two?", provider_script=(chat("two"),)),
            DialogueTurn("three?", provider_script=(chat("three"),)),
        ),
    )

    outcome = await replay_scripted(fx)

    run_ids = tuple(dict.fromkeys(span.run_id for span in outcome.metrics.inferences))
    assert 3 == len(run_ids)
    assert run_ids == outcome.trace_run_ids()
    assert run_ids[0] == outcome.trace_run_id()
    assert run_ids[0] == outcome.metrics.tools[0].run_id


async def test_second_turn_request_includes_first_turn_history(
    scripted_requests: list[InferenceRequest],
) -> None:
    fx = fixture(
        provider_script=[chat("Paris.")],
        user_input="Capital of France?",
        continued_turns=(DialogueTurn("And of Italy?", provider_script=(chat("Rome."),)),),
    )

    await replay_scripted(fx)

    expected = (
        ChatMessage(MessageRole.USER, "Capital of France?"),
        ChatMessage(MessageRole.ASSISTANT, "Paris."),
        ChatMessage(MessageRole.USER, "And of Italy?"),
    )
    assert expected == scripted_requests[1].messages
    assert scripted_requests[0].thread_id == scripted_requests[1].thread_id
    assert scripted_requests[0].run_id != scripted_requests[1].run_id


async def test_first_turn_error_short_circuits_the_second(
    scripted_requests: list[InferenceRequest],
) -> None:
    fx = fixture(
        provider_script=[ErrorEvent("rate_limit", message="429")],
        continued_turns=(DialogueTurn("again?", provider_script=(chat("never"),)),),
    )

    outcome = await replay_scripted(fx)

    assert ("", "rate_limit", 1, ProviderScriptUnused(1)) == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
        outcome.runtime_failure,
    )
    assert () == outcome.metrics.inferences
    assert 1 == len(scripted_requests)


async def test_second_turn_error_empties_final_text() -> None:
    fx = fixture(
        provider_script=[chat("first")],
        continued_turns=(DialogueTurn("again?", provider_script=(ErrorEvent("timeout"),)),),
    )

    outcome = await replay_scripted(fx)

    assert ("", "timeout", 1, None) == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
        outcome.runtime_failure,
    )
    assert 1 == len(outcome.metrics.inferences)


async def test_session_duration_is_summed_over_turns() -> None:
    clock = FakeClock()
    executor = SequenceExecutor(
        [text_result("one"), text_result("two")], clock=clock, delays=[1.5, 2.25]
    )
    fx = fixture(continued_turns=(DialogueTurn("more?"),))

    outcome = await replay_live(fx, executor, replayer=AgentLoopReplayer(clock=clock))

    assert ("two", 3750, 3.75) == (
        outcome.final_text,
        outcome.metrics.session_duration_ms,
        outcome.elapsed_seconds,
    )
    assert [1500, 2250] == [span.duration_ms for span in outcome.metrics.inferences]


async def test_session_duration_counts_the_failing_turn() -> None:
    clock = FakeClock()
    executor = SequenceExecutor(
        [text_result("one"), InferenceError(InferenceErrorKind.PROVIDER, "down")],
        clock=clock,
        delays=[1.0, 0.5],
    )
    fx = fixture(continued_turns=(DialogueTurn("more?"),))

    outcome = await replay_live(fx, executor, replayer=AgentLoopReplayer(clock=clock))

    assert ("", 1500) == (outcome.final_text, outcome.metrics.session_duration_ms)


# -- tools (spec §8.1 items 1 and 24) ----------------------------------------------------


async def test_recorded_tool_result_is_fed_back_and_captured(
    scripted_requests: list[InferenceRequest],
) -> None:
    calls: list[str] = []

    def lookup(q: str) -> str:
        calls.append(q)
        return "live result"

    fx = fixture(
        provider_script=[
            ToolCallEvent("call-7", "lookup", {"q": "pelican"}, result={"hits": 2}),
            chat("Found 2 hits."),
        ],
        fixture_id="tools",
    )

    replayer = AgentLoopReplayer(tools=[lookup], clock=FakeClock())
    outcome = await replay_scripted(fx, replayer=replayer)

    tool = outcome.metrics.tools[0]
    expected_span = ToolSpan(
        name="lookup",
        run_id=tool.run_id,
        thread_id="eval-thread-tools",
        agent_id="default",
        call_id="call-7",
        call_arguments={"q": "pelican"},
        call_result={"hits": 2},
        error_type=None,
        duration_ms=0,
    )
    assert expected_span == tool
    assert outcome.metrics.inferences[0].run_id == tool.run_id
    assert ("Found 2 hits.", None, []) == (outcome.final_text, outcome.runtime_failure, calls)
    assert (
        ChatMessage(MessageRole.TOOL, '{"hits": 2}', tool_call_id="call-7")
        == (scripted_requests[1].messages[-1])
    )
    assert (
        ChatMessage(
            MessageRole.ASSISTANT,
            "",
            tool_calls=(
                ToolCall("call-7", "lookup", {"q": "pelican"}, recorded_result={"hits": 2}),
            ),
        )
        == scripted_requests[1].messages[-2]
    )
    assert ("tool_use",) == outcome.metrics.inferences[0].finish_reasons


async def test_captured_tool_io_satisfies_required_tool_call_filters() -> None:
    fx = fixture(
        provider_script=[
            ToolCallEvent("c1", "lookup", {"q": "pelican", "n": 1}, result={"hits": 2}),
            chat("ok"),
        ]
    )
    outcome = await replay_scripted(fx)
    matches = Expectation(
        required_tool_calls=(
            ToolCallMatcher("lookup", args_subset={"q": "pelican"}, result_subset={"hits": 2}),
        )
    )
    mismatch = Expectation(
        required_tool_calls=(ToolCallMatcher("lookup", args_subset={"q": "flamingo"}),)
    )

    assert [] == score(outcome, matches)
    assert ["required_tool_call_not_satisfied"] == [f.kind for f in score(outcome, mismatch)]


async def test_recorded_string_result_is_fed_back_verbatim(
    scripted_requests: list[InferenceRequest],
) -> None:
    fx = fixture(
        provider_script=[
            ToolCallEvent("c1", "read", {"path": "a.txt"}, result="file body"),
            chat("ok"),
        ]
    )

    await replay_scripted(fx)

    assert (
        ChatMessage(MessageRole.TOOL, "file body", tool_call_id="c1")
        == (scripted_requests[1].messages[-1])
    )


@pytest.mark.parametrize(
    ("tool", "expected"), [(add, 5), (async_multiply, 6)], ids=["sync", "async"]
)
async def test_tool_call_without_recorded_result_calls_registered_tool(
    scripted_requests: list[InferenceRequest], tool: object, expected: int
) -> None:
    name = getattr(tool, "__name__", "")
    fx = fixture(provider_script=[ToolCallEvent("c1", name, {"a": 2, "b": 3}), chat("done")])
    replayer = AgentLoopReplayer(tools=[tool], clock=FakeClock())  # type: ignore[list-item]

    outcome = await replay_scripted(fx, replayer=replayer)

    span = outcome.metrics.tools[0]
    assert (name, {"a": 2, "b": 3}, expected, None) == (
        span.name,
        span.call_arguments,
        span.call_result,
        span.error_type,
    )
    assert (
        ChatMessage(MessageRole.TOOL, str(expected), tool_call_id="c1")
        == (scripted_requests[1].messages[-1])
    )
    assert ("done", None, 0) == (
        outcome.final_text,
        outcome.runtime_failure,
        outcome.metrics.tool_failures(),
    )


async def test_tool_record_with_non_object_arguments_gets_one_positional_argument() -> None:
    received: list[object] = []

    def echo(value: object) -> object:
        received.append(value)
        return {"echo": value}

    tool = Tool("echo_tool", echo, description="Echo.")
    fx = fixture(provider_script=[ToolCallEvent("c1", "echo_tool", [1, 2]), chat("done")])
    replayer = AgentLoopReplayer(tools=[tool], clock=FakeClock())

    outcome = await replay_scripted(fx, replayer=replayer)

    assert [[1, 2]] == received
    assert {"echo": [1, 2]} == outcome.metrics.tools[0].call_result


async def test_non_json_tool_result_is_fed_back_as_its_repr(
    scripted_requests: list[InferenceRequest],
) -> None:
    class Opaque:
        def __repr__(self) -> str:
            return "<opaque result>"

    def opaque() -> Opaque:
        return Opaque()

    fx = fixture(provider_script=[ToolCallEvent("c1", "opaque", {}), chat("ok")])
    replayer = AgentLoopReplayer(tools=[opaque], clock=FakeClock())

    outcome = await replay_scripted(fx, replayer=replayer)

    assert ("ok", None, 0) == (
        outcome.final_text,
        outcome.runtime_failure,
        outcome.metrics.tool_failures(),
    )
    assert (
        ChatMessage(MessageRole.TOOL, "<opaque result>", tool_call_id="c1")
        == scripted_requests[1].messages[-1]
    )


async def test_registered_tools_are_offered_in_scripted_mode(
    scripted_requests: list[InferenceRequest],
) -> None:
    replayer = AgentLoopReplayer(tools=[add, async_multiply], clock=FakeClock())

    await replay_scripted(fixture(provider_script=[chat("ok")]), replayer=replayer)

    assert ["add", "async_multiply"] == [tool.name for tool in scripted_requests[0].tools]


async def test_unknown_tool_is_a_failed_span_and_the_loop_continues(
    scripted_requests: list[InferenceRequest],
) -> None:
    fx = fixture(
        provider_script=[ToolCallEvent("c1", "missing_tool", {"x": 1}), chat("carried on")]
    )

    outcome = await replay_scripted(fx)

    span = outcome.metrics.tools[0]
    assert ("missing_tool", "tool_not_found", {"x": 1}, None) == (
        span.name,
        span.error_type,
        span.call_arguments,
        span.call_result,
    )
    assert ("carried on", None, 1) == (
        outcome.final_text,
        outcome.runtime_failure,
        outcome.metrics.tool_failures(),
    )
    assert ("missing_tool",) == outcome.tool_sequence()
    assert (
        ChatMessage(MessageRole.TOOL, "error: tool not found: missing_tool", tool_call_id="c1")
        == (scripted_requests[1].messages[-1])
    )


async def test_raising_tool_is_a_failed_span_named_by_exception_class(
    scripted_requests: list[InferenceRequest],
) -> None:
    fx = fixture(provider_script=[ToolCallEvent("c1", "explode", {"a": 1}), chat("recovered")])
    replayer = AgentLoopReplayer(tools=[explode], clock=FakeClock())

    outcome = await replay_scripted(fx, replayer=replayer)

    span = outcome.metrics.tools[0]
    assert ("ValueError", None, {"a": 1}) == (
        span.error_type,
        span.call_result,
        span.call_arguments,
    )
    assert ("recovered", None) == (outcome.final_text, outcome.runtime_failure)
    assert (
        ChatMessage(MessageRole.TOOL, "error: ValueError: tool blew up", tool_call_id="c1")
        == (scripted_requests[1].messages[-1])
    )


async def test_raising_async_tool_is_a_failed_span() -> None:
    async def broken(**_: object) -> None:
        msg = "nope"
        raise KeyError(msg)

    fx = fixture(provider_script=[ToolCallEvent("c1", "broken", {}), chat("ok")])
    replayer = AgentLoopReplayer(tools=[broken], clock=FakeClock())

    outcome = await replay_scripted(fx, replayer=replayer)

    assert ["KeyError"] == [span.error_type for span in outcome.metrics.tools]


async def test_tool_span_duration_uses_the_clock() -> None:
    clock = FakeClock()

    def slow() -> str:
        clock.advance(0.5)
        return "slow result"

    fx = fixture(provider_script=[ToolCallEvent("c1", "slow", {}), chat("ok")])
    replayer = AgentLoopReplayer(tools=[slow], clock=clock)

    outcome = await replay_scripted(fx, replayer=replayer)

    assert 500 == outcome.metrics.tools[0].duration_ms
    assert 500 == outcome.metrics.session_duration_ms
    assert [500] == [stats.total_duration_ms for stats in outcome.metrics.stats_by_agent_tool()]


# -- one retry policy for both modes (spec §8.1 item 3) ----------------------------------


async def test_scripted_retry_consumes_the_next_event() -> None:
    fx = fixture(provider_script=[ErrorEvent("rate_limit", message="429"), chat("after retry")])
    replayer = AgentLoopReplayer(retry=RetryPolicy(max_retries=1), clock=FakeClock())

    outcome = await replay_scripted(fx, replayer=replayer)

    assert ("after retry", None, 1, None) == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
        outcome.runtime_failure,
    )
    assert 1 == len(outcome.metrics.inferences)


@pytest.mark.parametrize(
    ("script", "max_retries", "expected"),
    [
        pytest.param(
            [ErrorEvent("rate_limit"), ErrorEvent("overloaded"), chat("too late")],
            1,
            ("", "rate_limit", 2, ProviderScriptUnused(1)),
            id="retries_are_bounded",
        ),
        pytest.param(
            [ErrorEvent("context_overflow", message="too long"), chat("never")],
            3,
            ("", "context_overflow", 1, ProviderScriptUnused(1)),
            id="non_retryable_error_is_not_retried",
        ),
    ],
)
async def test_scripted_retry_stops(
    script: list[ProviderScriptEvent],
    max_retries: int,
    expected: tuple[str, str | None, int, ReplayRuntimeFailure | None],
) -> None:
    fx = fixture(provider_script=script)
    replayer = AgentLoopReplayer(retry=RetryPolicy(max_retries=max_retries), clock=FakeClock())

    outcome = await replay_scripted(fx, replayer=replayer)

    assert expected == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
        outcome.runtime_failure,
    )


async def test_live_retry_uses_the_same_policy() -> None:
    executor = SequenceExecutor(
        [InferenceError(InferenceErrorKind.RATE_LIMITED, "429"), text_result("after retry")]
    )
    replayer = AgentLoopReplayer(retry=RetryPolicy(max_retries=1), clock=FakeClock())

    outcome = await replay_live(fixture(), executor, replayer=replayer)

    assert ("after retry", None, 1, None) == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
        outcome.runtime_failure,
    )
    assert 2 == len(executor.requests)


@pytest.mark.parametrize(
    ("kind", "message", "policy", "expected"),
    [
        pytest.param(
            InferenceErrorKind.OVERLOADED,
            "busy",
            None,
            ("overloaded", 1),
            id="does_not_retry_under_default_policy",
        ),
        pytest.param(
            InferenceErrorKind.UNAUTHORIZED,
            "bad key",
            RetryPolicy(max_retries=3),
            ("unauthorized", 1),
            id="non_retryable_error_is_not_retried",
        ),
    ],
)
async def test_live_error_is_not_retried(
    kind: InferenceErrorKind,
    message: str,
    policy: RetryPolicy | None,
    expected: tuple[str, int],
) -> None:
    executor = FailingExecutor(kind, message=message)
    replayer = None if policy is None else AgentLoopReplayer(retry=policy, clock=FakeClock())

    outcome = await replay_live(fixture(), executor, replayer=replayer)

    assert expected == (outcome.error_type, outcome.inference_error_count)
    assert 1 == len(executor.requests)


async def test_retry_backoff_grows_by_the_multiplier(monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []

    async def fake_sleep(delay: float) -> None:
        sleeps.append(delay)

    monkeypatch.setattr(agent_loop, "anyio", SimpleNamespace(sleep=fake_sleep))
    executor = FailingExecutor(InferenceErrorKind.TIMEOUT, message="slow")
    policy = RetryPolicy(max_retries=3, initial_backoff_secs=0.5, multiplier=2.0)
    replayer = AgentLoopReplayer(retry=policy, clock=FakeClock())

    outcome = await replay_live(fixture(), executor, replayer=replayer)

    assert [0.5, 1.0, 2.0] == sleeps
    assert (4, 4, "timeout") == (
        len(executor.requests),
        outcome.inference_error_count,
        outcome.error_type,
    )


async def test_retry_backoff_really_sleeps() -> None:
    executor = SequenceExecutor(
        [InferenceError(InferenceErrorKind.OVERLOADED, "busy"), text_result("ok")]
    )
    policy = RetryPolicy(max_retries=1, initial_backoff_secs=0.001)
    replayer = AgentLoopReplayer(retry=policy, clock=FakeClock())

    outcome = await replay_live(fixture(), executor, replayer=replayer)

    assert ("ok", 1) == (outcome.final_text, outcome.inference_error_count)


# -- live mode (spec §3.1.3, §7.12, §8.1 item 2) -----------------------------------------


async def test_live_error_type_is_the_structured_kind() -> None:
    executor = FailingExecutor(
        InferenceErrorKind.RATE_LIMITED, message="429 Too Many Requests", error_type="rate_limit"
    )

    outcome = await replay_live(fixture(), executor)

    assert ("", "rate_limited", 1) == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
    )
    assert isinstance(outcome.runtime_failure, ReplayRuntimeError)
    assert "429 Too Many Requests" in outcome.runtime_failure.message
    assert () == outcome.metrics.inferences


async def test_live_error_type_satisfies_expected_error_type() -> None:
    executor = FailingExecutor(InferenceErrorKind.RATE_LIMITED, message="429")
    outcome = await replay_live(fixture(), executor)

    failures = score(outcome, Expectation(expected_error_type="rate_limit"))

    assert ["replay_runtime_failure"] == [failure.kind for failure in failures]


async def test_live_mode_recovers_response_and_tokens() -> None:
    executor = CannedTextExecutor(
        ["live answer"],
        usage=TokenUsage(prompt_tokens=10, completion_tokens=5, total_tokens=15),
    )
    fx = fixture(
        provider_script=[chat("scripted answer that live mode ignores")], fixture_id="live"
    )

    outcome = await replay_live(fx, executor, upstream_model="gpt-live")

    span = outcome.metrics.inferences[0]
    assert ("live answer", 15, None, None, 0) == (
        outcome.final_text,
        outcome.total_tokens(),
        outcome.runtime_failure,
        outcome.error_type,
        outcome.inference_error_count,
    )
    assert ("live", "gpt-live", "eval-thread-live") == (span.provider, span.model, span.thread_id)
    assert ["gpt-live"] == [request.model for request in executor.requests]


async def test_live_mode_defaults_the_upstream_model_name() -> None:
    executor = CannedTextExecutor(["x"])

    await replay_live(fixture(), executor)

    assert ["live-model"] == [request.model for request in executor.requests]


async def test_live_mode_replays_continued_turns_on_the_same_thread() -> None:
    executor = CannedTextExecutor(["first", "second"])
    fx = fixture(user_input="one?", continued_turns=(DialogueTurn("two?"),))

    outcome = await replay_live(fx, executor)

    assert ("second", 2, 4) == (
        outcome.final_text,
        len(outcome.metrics.inferences),
        outcome.total_tokens(),
    )
    assert (
        ChatMessage(MessageRole.USER, "one?"),
        ChatMessage(MessageRole.ASSISTANT, "first"),
        ChatMessage(MessageRole.USER, "two?"),
    ) == executor.requests[1].messages
    assert 2 == len(outcome.trace_run_ids())


async def test_live_executor_missing_is_a_runtime_error() -> None:
    outcome = await replay_live(fixture(provider_script=[chat("unused")]), None)

    assert isinstance(outcome.runtime_failure, ReplayRuntimeError)
    assert "executor" in outcome.runtime_failure.message
    assert ("", (), None) == (outcome.final_text, outcome.metrics.inferences, outcome.error_type)


async def test_live_agent_spec_prompt_sampling_and_id_are_used() -> None:
    executor = SequenceExecutor([tool_result("c1", "add", {"a": 1, "b": 1}), text_result("2")])
    sampling = SamplingParams(temperature=0.0, max_tokens=64)
    agent = AgentSpec(id="math-agent", system_prompt="Be terse.", sampling=sampling)
    replayer = AgentLoopReplayer(tools=[add], clock=FakeClock())

    outcome = await replay_live(fixture(), executor, replayer=replayer, agent=agent)

    assert ["Be terse."] * 2 == [request.system for request in executor.requests]
    assert [sampling] * 2 == [request.sampling for request in executor.requests]
    assert ["math-agent"] * 2 == [span.agent_id for span in outcome.metrics.inferences]
    assert [("math-agent", 2)] == [
        (span.agent_id, span.call_result) for span in outcome.metrics.tools
    ]
    assert "2" == outcome.final_text


async def test_live_default_agent_uses_default_prompt() -> None:
    executor = CannedTextExecutor(["x"])

    await replay_live(fixture(), executor)

    assert [DEFAULT_SYSTEM_PROMPT] == [request.system for request in executor.requests]


@pytest.mark.parametrize(
    ("max_rounds", "floor", "expected"),
    [(6, 4, 6), (2, 4, 4), (None, 4, 4), (None, 5, 5), (1, 1, 1)],
)
async def test_live_max_rounds_honoured_with_floor(
    max_rounds: int | None, floor: int, expected: int
) -> None:
    executor = ToolLoopExecutor()
    replayer = AgentLoopReplayer(
        tools=[Tool("noop", lambda: "ok")], max_rounds_floor=floor, clock=FakeClock()
    )

    outcome = await replay_live(
        fixture(), executor, replayer=replayer, agent=AgentSpec(max_rounds=max_rounds)
    )

    assert expected == len(executor.requests)
    assert (expected, expected) == (len(outcome.metrics.inferences), len(outcome.metrics.tools))
    assert ReplayRuntimeError(
        f"agent run stopped after max_rounds={expected} rounds without a final answer"
    ) == (outcome.runtime_failure)
    assert ("", None) == (outcome.final_text, outcome.error_type)


async def test_live_allowed_tools_filters_tools_offered() -> None:
    looked_up: list[str] = []

    def lookup(q: str) -> str:
        looked_up.append(q)
        return "hit"

    executor = SequenceExecutor([tool_result("c1", "lookup", {"q": "x"}), text_result("done")])
    replayer = AgentLoopReplayer(tools=[add, lookup], clock=FakeClock())
    agent = AgentSpec(allowed_tools=("add",))

    outcome = await replay_live(fixture(), executor, replayer=replayer, agent=agent)

    assert [["add"], ["add"]] == [[t.name for t in r.tools] for r in executor.requests]
    assert ([], ["tool_not_found"]) == (
        looked_up,
        [span.error_type for span in outcome.metrics.tools],
    )
    assert "done" == outcome.final_text


@pytest.mark.parametrize(
    ("allowed", "offered"),
    [(None, ["add", "async_multiply"]), ((), []), (("async_multiply", "nope"), ["async_multiply"])],
)
async def test_live_allowed_tools_variants(
    allowed: tuple[str, ...] | None, offered: list[str]
) -> None:
    executor = CannedTextExecutor(["x"])
    replayer = AgentLoopReplayer(tools=[add, async_multiply], clock=FakeClock())

    await replay_live(
        fixture(), executor, replayer=replayer, agent=AgentSpec(allowed_tools=allowed)
    )

    assert offered == [tool.name for tool in executor.requests[0].tools]


async def test_live_tool_call_records_arguments_and_result(
    scripted_requests: list[InferenceRequest],
) -> None:
    executor = SequenceExecutor(
        [tool_result("c9", "async_multiply", {"a": 4, "b": 5}), text_result("20")]
    )
    replayer = AgentLoopReplayer(tools=[async_multiply], clock=FakeClock())

    outcome = await replay_live(fixture(), executor, replayer=replayer)

    span = outcome.metrics.tools[0]
    assert ("c9", {"a": 4, "b": 5}, 20) == (span.call_id, span.call_arguments, span.call_result)
    assert (
        ChatMessage(MessageRole.TOOL, "20", tool_call_id="c9")
        == (executor.requests[1].messages[-1])
    )
    assert [] == scripted_requests


async def test_live_mode_does_not_feed_recorded_results() -> None:
    call = ToolCall("c1", "add", {"a": 1, "b": 2}, recorded_result=99)
    executor = SequenceExecutor(
        [InferenceResult(tool_calls=(call,), stop_reason=StopReason.TOOL_USE), text_result("3")]
    )
    replayer = AgentLoopReplayer(tools=[add], clock=FakeClock())

    outcome = await replay_live(fixture(), executor, replayer=replayer)

    assert [3] == [span.call_result for span in outcome.metrics.tools]


async def test_live_empty_answer_is_a_final_answer() -> None:
    executor = SequenceExecutor([InferenceResult()])

    outcome = await replay_live(fixture(), executor)

    assert ("", None, 1) == (
        outcome.final_text,
        outcome.runtime_failure,
        len(outcome.metrics.inferences),
    )
    assert () == outcome.metrics.inferences[0].finish_reasons


# -- token budget (spec §3.1.3 step 7, §8.1 item 4) --------------------------------------


async def test_token_budget_stops_further_rounds() -> None:
    executor = ToolLoopExecutor(tokens=10)
    replayer = AgentLoopReplayer(tools=[Tool("noop", lambda: "ok")], clock=FakeClock())

    outcome = await replay_live(
        fixture(), executor, replayer=replayer, agent=AgentSpec(max_rounds=50), token_budget=25
    )

    assert 3 == len(executor.requests)
    assert ReplayRuntimeError("token budget exceeded: 30 > max 25") == outcome.runtime_failure
    assert ("", None, 30) == (outcome.final_text, outcome.error_type, outcome.total_tokens())


async def test_token_budget_is_inclusive() -> None:
    executor = CannedTextExecutor(["fits"], usage=TokenUsage(total_tokens=50))

    outcome = await replay_live(fixture(), executor, token_budget=50)

    assert ("fits", None) == (outcome.final_text, outcome.runtime_failure)


async def test_token_budget_post_hoc_breach_keeps_the_answer() -> None:
    executor = CannedTextExecutor(["expensive"], usage=TokenUsage(total_tokens=100))

    outcome = await replay_live(fixture(), executor, token_budget=50)

    assert ("expensive", ReplayRuntimeError("token budget exceeded: 100 > max 50")) == (
        outcome.final_text,
        outcome.runtime_failure,
    )


async def test_token_budget_stops_the_next_turn() -> None:
    executor = CannedTextExecutor(["one", "two"], usage=TokenUsage(total_tokens=100))
    fx = fixture(continued_turns=(DialogueTurn("more?"),))

    outcome = await replay_live(fx, executor, token_budget=50)

    assert 1 == len(executor.requests)
    assert ("", ReplayRuntimeError("token budget exceeded: 100 > max 50")) == (
        outcome.final_text,
        outcome.runtime_failure,
    )


async def test_token_budget_and_run_failure_both_reported() -> None:
    executor = ToolLoopExecutor(tokens=10)
    replayer = AgentLoopReplayer(tools=[Tool("noop", lambda: "ok")], clock=FakeClock())

    outcome = await replay_live(fixture(), executor, replayer=replayer, token_budget=35)

    assert 4 == len(executor.requests)
    assert isinstance(outcome.runtime_failure, ReplayRuntimeError)
    message = outcome.runtime_failure.message
    assert message.startswith("token budget exceeded: 40 > max 35")
    assert "agent run stopped after max_rounds=4" in message


async def test_token_budget_applies_in_scripted_mode() -> None:
    fx = fixture(
        provider_script=[
            ToolCallEvent("c1", "lookup", {}, result="r", tokens=TokenUsage(total_tokens=20)),
            chat("x"),
        ]
    )

    outcome = await replay_scripted(fx, context=ReplayContext(token_budget=10))

    assert "" == outcome.final_text
    assert isinstance(outcome.runtime_failure, ReplayRuntimeError)
    message = outcome.runtime_failure.message
    assert message.startswith("token budget exceeded: 20 > max 10")
    assert "provider_script_unused" in message


# -- trace sinks (spec §3.4, DESIGN §6) --------------------------------------------------


async def test_spans_are_emitted_to_the_sink_in_record_order() -> None:
    sink = CapturingSink()
    fx = fixture(provider_script=[ToolCallEvent("c1", "lookup", {}, result="r"), chat("ok")])

    outcome = await replay_scripted(fx, context=ReplayContext(sink=sink))

    spans = [event.span for event in sink.events if isinstance(event, SpanRecorded)]
    metrics = outcome.metrics
    assert ["span", "span", "span"] == sink.kinds
    assert [metrics.inferences[0], metrics.tools[0], metrics.inferences[1]] == spans


async def test_live_spans_are_emitted_to_the_sink() -> None:
    sink = CapturingSink()

    outcome = await replay_live(fixture(), CannedTextExecutor(["x"]), sink=sink)

    assert [SpanRecorded(span=outcome.metrics.inferences[0])] == sink.events


async def test_failing_sink_never_fails_the_replay(caplog: pytest.LogCaptureFixture) -> None:
    sink = CapturingSink(fail=True)
    fx = fixture(
        provider_script=[ToolCallEvent("c1", "lookup", {}, result="r"), chat("still fine")]
    )

    with caplog.at_level(logging.WARNING, logger="awaken_eval"):
        outcome = await replay_scripted(fx, context=ReplayContext(sink=sink))

    assert ("still fine", None) == (outcome.final_text, outcome.runtime_failure)
    assert 3 == len(sink.events)
    assert 3 == sum("trace sink failed" in record.getMessage() for record in caplog.records)


async def test_no_sink_emits_nothing_and_replays() -> None:
    outcome = await replay_scripted(
        fixture(provider_script=[chat("ok")]), context=ReplayContext(sink=None)
    )

    assert "ok" == outcome.final_text


# -- the model guard where it can trip (spec §8.1 item 23) -------------------------------


async def test_model_guard_trips_for_a_live_executor_pinned_to_another_model() -> None:
    executor = ScriptedExecutor([chat("recorded answer")], expected_model="gpt-recorded")

    outcome = await replay_live(fixture(), executor, upstream_model="gpt-drifted")

    assert ("", "invalid_request", 1) == (
        outcome.final_text,
        outcome.error_type,
        outcome.inference_error_count,
    )
    assert isinstance(outcome.runtime_failure, ReplayRuntimeError)
    assert "upstream_model mismatch" in outcome.runtime_failure.message
    assert (1, 0) == (executor.remaining, executor.consumed_calls)


async def test_model_guard_passes_for_the_pinned_model() -> None:
    executor = ScriptedExecutor([chat("recorded answer")], expected_model="gpt-recorded")

    outcome = await replay_live(fixture(), executor, upstream_model="gpt-recorded")

    assert ("recorded answer", None) == (outcome.final_text, outcome.runtime_failure)
    assert (0, 1) == (executor.remaining, executor.consumed_calls)
