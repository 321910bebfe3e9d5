"""``AgentLoopReplayer``: the built-in replayer, a minimal and honest agent loop.

One replay runs the fixture's turns on one thread: the first user input, then every
continued turn, each as its own agent *run* (the model sees the prior history). A run
asks the executor for an answer, executes the tool calls it requests (Python callables,
sync or async, with their arguments and results recorded on tool spans) and asks again,
until the model answers without tool calls or ``max_rounds`` is reached. The first
failing turn stops the dialogue.

In **scripted** mode the executor is a :class:`~awaken_eval.ScriptedExecutor` over the
fixture's combined script, and a scripted ``tool_call`` that carries a recorded
``result`` gets that result fed back instead of a tool call. In **live** mode the
context supplies the executor and the agent spec. Both modes share one retry policy
(none by default).

Hosts evaluating their own agent implement :class:`~awaken_eval.Replayer` instead; see
``docs/engine.md``.
"""

from __future__ import annotations

import functools
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from awaken_eval._engine.emit import emit_safely
from awaken_eval._engine.run_ids import mint_run_id
from awaken_eval._engine.scripted import (
    ScriptedError,
    ScriptedExecutor,
    exhausted_error,
    scripted_error,
)
from awaken_eval._engine.spans import captured_message, chat_span, text_block
from awaken_eval._records.construct import fast_constructor
from awaken_eval._records.events import SpanRecorded
from awaken_eval._records.failures import (
    ProviderScriptUnused,
    ReplayRuntimeError,
    ReplayRuntimeFailure,
    ScriptExhausted,
)
from awaken_eval._records.fixtures import (
    ChatResponseEvent,
    ErrorEvent,
    Fixture,
    StopReason,
    ToolCallEvent,
)
from awaken_eval._records.grading import ReviseConfig
from awaken_eval._records.history import ChatHistory
from awaken_eval._records.inference import (
    DEFAULT_SYSTEM_PROMPT,
    AgentSpec,
    ChatMessage,
    InferenceRequest,
    InferenceResult,
    MessageRole,
    ToolCall,
    ToolDescriptor,
)
from awaken_eval._records.outcomes import AgentMetrics, InferenceSpan, ReplayOutcome, ToolSpan
from awaken_eval._records.replay import ReplayContext
from awaken_eval._records.runs import EvalRunExecutionMode
from awaken_eval._records.types import JsonValue
from awaken_eval.errors import InferenceError
from awaken_eval.protocols import LlmExecutor, TraceSink

if TYPE_CHECKING:
    from awaken_eval._engine.judging import ReviseOutcome

__all__ = [
    "DEFAULT_MAX_ROUNDS_FLOOR",
    "MAX_AGENT_ROUNDS",
    "SCRIPTED_UPSTREAM_MODEL",
    "AgentLoopReplayer",
    "RetryPolicy",
    "Tool",
    "decide_runtime_failure",
]

DEFAULT_MAX_ROUNDS_FLOOR = 4
"""Fewest rounds an agent run is allowed, whatever the agent spec says."""

MAX_AGENT_ROUNDS = 100_000
"""Most inference rounds of one agent run, whatever the agent spec, the floor or the
length of a provider script ask for. A run that reaches it without a final answer ends
with a runtime error saying so (a scripted run of a longer tool-call script cannot
pass)."""

SCRIPTED_UPSTREAM_MODEL = "scripted"
"""Upstream model name of a scripted replay whose fixture pins none."""

_SCRIPTED_AGENT = AgentSpec()
"""The agent of every scripted replay (a frozen record, shared)."""

_GAVE_UP = object()
"""What :meth:`AgentLoopReplayer._after_failure` returns when the retries give up."""


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How often a retryable inference failure (rate limit, overload, timeout) is retried.

    The same policy applies in scripted and live mode, so both spend the same calls.

    Attributes:
        max_retries: Retries after the first attempt (0: never retry).
        initial_backoff_secs: Sleep before the first retry.
        multiplier: Factor applied to the sleep before each further retry.
    """

    max_retries: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    initial_backoff_secs: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    multiplier: float = attrs.field(default=2.0, validator=attrs.validators.ge(1.0))


@attrs.frozen
class Tool:
    """A Python callable offered to the model as a tool.

    The callable receives the call's JSON arguments as keyword arguments when they are
    an object (else as one positional argument) and may be sync or async. Its return
    value is fed back to the model and recorded as the span's ``call_result``; an
    exception becomes a failed tool span (``error_type`` = the exception class name).

    Attributes:
        name: The name the model calls.
        function: The implementation.
        description: What the tool does, shown to the model.
        parameters: JSON Schema of the arguments.
    """

    name: str
    function: Callable[..., Any]
    description: str = attrs.field(default="", kw_only=True)
    parameters: JsonValue = attrs.field(factory=lambda: {"type": "object"}, kw_only=True)

    @classmethod
    def from_function(cls, function: Callable[..., Any]) -> Tool:
        """Wrap ``function`` under its ``__name__``, described by its docstring."""
        return cls(function.__name__, function, description=inspect.getdoc(function) or "")

    def descriptor(self) -> ToolDescriptor:
        """How the tool is presented to the model."""
        return ToolDescriptor(self.name, self.description, self.parameters)


def decide_runtime_failure(
    *,
    exhausted_calls: int,
    remaining: int,
    run_error: str | None,
    scripted_error_fired: bool,
    allow_unused: bool,
) -> ReplayRuntimeFailure | None:
    """How a scripted replay misbehaved, by the spec's precedence (spec §2.14).

    1. extra calls beyond the script: ``script_exhausted``;
    2. the run ended in an error no scripted error explains: ``runtime_error``;
    3. script events left over (unless allowed): ``provider_script_unused``;
    4. otherwise nothing.
    """
    if exhausted_calls > 0:
        return ScriptExhausted(exhausted_calls)
    if run_error is not None and not scripted_error_fired:
        return ReplayRuntimeError(run_error)
    if remaining > 0 and not allow_unused:
        return ProviderScriptUnused(remaining)
    return None


@attrs.define
class _Dialogue:
    """Mutable state of one replay (private to the loop)."""

    thread_id: str
    agent: AgentSpec
    executor: LlmExecutor
    upstream_model: str
    provider: str
    max_rounds: int
    tools: Mapping[str, Tool]
    feed_recorded_results: bool
    token_budget: int | None
    sink: TraceSink | None
    capture_content: bool = False
    descriptors: tuple[ToolDescriptor, ...] = ()
    history: ChatHistory = attrs.field(factory=ChatHistory)
    inferences: list[InferenceSpan] = attrs.field(factory=list)
    tool_spans: list[ToolSpan] = attrs.field(factory=list)
    duration_ms: int = 0
    tokens_spent: int = 0
    inference_errors: int = 0
    failed_retries: int = 0
    last_error: InferenceError | None = None
    error_message: str | None = None
    budget_exceeded: bool = False


class AgentLoopReplayer:
    """The built-in :class:`~awaken_eval.Replayer`: a minimal agent loop over any executor.

    Args:
        tools: Tools the agent may call: :class:`Tool` records or plain callables
            (named by ``__name__``).
        max_rounds_floor: Fewest inference rounds per agent run.
        retry: Retry policy for retryable inference failures (default: no retries).
        clock: Monotonic clock in seconds used for durations (default
            :func:`time.perf_counter`); tests inject a frozen one for exact reports.
        capture_content: Record what each inference answered (``response_content`` /
            ``response_tool_calls``) and, on the first inference of every agent run, the
            request history (``request_messages``) on the spans, so a trace of a live
            run can be curated into a scripted fixture
            (:func:`~awaken_eval.curate_fixture`). Off by default: spans then carry no
            conversation text.
    """

    def __init__(
        self,
        *,
        tools: Sequence[Tool | Callable[..., Any]] = (),
        max_rounds_floor: int = DEFAULT_MAX_ROUNDS_FLOOR,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.perf_counter,
        capture_content: bool = False,
    ) -> None:
        """Configure the loop (see the class docstring)."""
        wrapped = [tool if isinstance(tool, Tool) else Tool.from_function(tool) for tool in tools]
        self.tools: dict[str, Tool] = {tool.name: tool for tool in wrapped}
        self.max_rounds_floor = max_rounds_floor
        self.retry = retry if retry is not None else RetryPolicy()
        self.clock = clock
        self.capture_content = capture_content

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        """Replay ``fixture`` in the context's mode; never raises for fixture problems."""
        if context.mode is EvalRunExecutionMode.LIVE:
            return await self._replay_live(fixture, context)
        if self._serves_fast(fixture, context):
            return self._replay_scripted_fast(fixture, context.token_budget)
        return await self._replay_scripted(fixture, context)

    def _serves_fast(self, fixture: Fixture, context: ReplayContext) -> bool:
        """Whether nothing observes the executor's requests (the script is served directly)."""
        return (
            context.sink is None
            and fixture.source_model_id != ""  # "" pins a model no request names
            and not self.tools
            and not self.capture_content
            and self.retry.max_retries == 0
            and fixture.scripted_replay_error() is None
        )

    # -- modes -----------------------------------------------------------------------------

    async def _replay_scripted(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        reason = fixture.scripted_replay_error()
        if reason is not None:
            return ReplayOutcome(fixture_id=fixture.id, runtime_failure=ReplayRuntimeError(reason))
        script = fixture.combined_script()
        executor = ScriptedExecutor(script, expected_model=fixture.source_model_id)
        dialogue = _Dialogue(
            thread_id=f"eval-thread-{fixture.id}",
            agent=_SCRIPTED_AGENT,
            executor=executor,
            upstream_model=fixture.source_model_id or SCRIPTED_UPSTREAM_MODEL,
            provider="scripted",
            max_rounds=_capped_rounds(self.max_rounds_floor, len(script) + 1),
            tools=self.tools,
            feed_recorded_results=True,
            token_budget=context.token_budget,
            sink=context.sink,
            capture_content=self.capture_content,
            descriptors=_descriptors(self.tools),
        )
        started = self.clock()
        final_text = await self._run_turns(dialogue, fixture)
        elapsed = self.clock() - started
        first_error = executor.first_error
        ended_in_error = dialogue.error_message is not None
        failure = decide_runtime_failure(
            exhausted_calls=executor.exhausted_calls,
            remaining=executor.remaining,
            run_error=dialogue.error_message,
            scripted_error_fired=first_error is not None,
            allow_unused=fixture.allow_unused_provider_script,
        )
        failure = _with_budget(dialogue.token_budget, dialogue.tokens_spent, failure)
        return ReplayOutcome(
            fixture_id=fixture.id,
            final_text=final_text,
            metrics=_metrics(dialogue),
            elapsed_seconds=elapsed,
            error_type=first_error.error_type if ended_in_error and first_error else None,
            inference_error_count=executor.error_calls,
            runtime_failure=failure,
        )

    def _replay_scripted_fast(self, fixture: Fixture, token_budget: int | None) -> ReplayOutcome:  # noqa: PLR0915 - one flat function: the hot path of scripted runs
        """The scripted replay without the executor protocol's records.

        Taken when nothing outside the loop can observe a request or a result: no sink,
        no tools, no content capture, no retries. The script is served in place, with
        the :class:`ScriptedExecutor`'s counting and errors, and the outcome (spans,
        metrics, failures, clock readings) is the one :meth:`_run_turns` would give.
        The model pin cannot fail here: requests name the fixture's source model (an
        empty one, which they cannot name, takes the general path).
        """
        clock, script = self.clock, fixture.combined_script()
        new_span = fast_constructor(InferenceSpan)
        thread_id = f"eval-thread-{fixture.id}"
        agent_id, model = _SCRIPTED_AGENT.id, fixture.source_model_id or SCRIPTED_UPSTREAM_MODEL
        max_rounds = _capped_rounds(self.max_rounds_floor, len(script) + 1)
        inferences: list[InferenceSpan] = []
        tool_spans: list[ToolSpan] = []
        position = exhausted_calls = error_calls = session_ms = tokens = 0
        first_error: ScriptedError | None = None
        error_message: str | None = None
        final_text = ""
        started = clock()
        for _turn in range(1 + len(fixture.continued_turns)):
            run_id = mint_run_id()
            turn_started = clock()
            answer: str | None = None
            for step in range(max_rounds):
                if token_budget is not None and tokens > token_budget:
                    break
                inference_started = clock()
                if position == len(script):
                    exhausted_calls += 1
                    error_message = str(exhausted_error(position, exhausted_calls))
                    break
                event = script[position]
                position += 1
                if isinstance(event, ErrorEvent):
                    error_calls += 1
                    first_error = first_error or ScriptedError(event.error_type, event.message)
                    error_message = str(scripted_error(event))
                    break
                usage = event.tokens
                call: ToolCallEvent | None = None
                if isinstance(event, ChatResponseEvent):
                    stop, text = event.finish_reason, event.content
                else:
                    stop, text, call = StopReason.TOOL_USE, None, event
                span = chat_span(
                    new_span,
                    run_id=run_id,
                    thread_id=thread_id,
                    agent_id=agent_id,
                    step=step,
                    model=model,
                    provider="scripted",
                    stop=stop,
                    usage=usage,
                    duration_ms=int((clock() - inference_started) * 1000),
                )
                inferences.append(span)
                tokens += span.token_total()
                if call is None:
                    answer = text
                    break
                tool_spans.append(_recorded_tool_span(call, run_id, thread_id, clock))
            else:
                error_message = _rounds_exhausted(max_rounds)
            session_ms += int((clock() - turn_started) * 1000)
            final_text = answer if answer is not None else ""
            if answer is None:
                break
        elapsed = clock() - started
        failure = None
        if exhausted_calls or error_message is not None or position < len(script):
            failure = decide_runtime_failure(
                exhausted_calls=exhausted_calls,
                remaining=len(script) - position,
                run_error=error_message,
                scripted_error_fired=first_error is not None,
                allow_unused=fixture.allow_unused_provider_script,
            )
        return fast_constructor(ReplayOutcome)(
            fixture_id=fixture.id,
            final_text=final_text,
            metrics=fast_constructor(AgentMetrics)(
                inferences=tuple(inferences),
                tools=tuple(tool_spans),
                session_duration_ms=session_ms,
            ),
            elapsed_seconds=elapsed,
            error_type=(
                first_error.error_type if error_message is not None and first_error else None
            ),
            inference_error_count=error_calls,
            runtime_failure=_with_budget(token_budget, tokens, failure),
        )

    async def _replay_live(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        if context.executor is None:
            missing = ReplayRuntimeError("live replay needs an executor in the replay context")
            return ReplayOutcome(fixture_id=fixture.id, runtime_failure=missing)
        agent = context.agent if context.agent is not None else AgentSpec()
        allowed = agent.allowed_tools
        tools = {
            name: tool for name, tool in self.tools.items() if allowed is None or name in allowed
        }
        dialogue = _Dialogue(
            thread_id=f"eval-thread-{fixture.id}",
            agent=agent,
            executor=context.executor,
            upstream_model=context.upstream_model or "live-model",
            provider="live",
            max_rounds=_capped_rounds(self.max_rounds_floor, agent.max_rounds or 0),
            tools=tools,
            feed_recorded_results=False,
            token_budget=context.token_budget,
            sink=context.sink,
            capture_content=self.capture_content,
            descriptors=_descriptors(tools),
        )
        started = self.clock()
        final_text = await self._run_turns(dialogue, fixture)
        revised: ReviseOutcome | None = None
        completed = dialogue.error_message is None and not dialogue.budget_exceeded
        if context.revise is not None and completed:
            revised = await self._revise(dialogue, fixture, context.revise, final_text)
            final_text = revised.final_text
        elapsed = self.clock() - started
        failure: ReplayRuntimeFailure | None = None
        if dialogue.error_message is not None:
            failure = ReplayRuntimeError(dialogue.error_message)
        failure = _with_budget(dialogue.token_budget, dialogue.tokens_spent, failure)
        error = dialogue.last_error if dialogue.error_message is not None else None
        outcome = ReplayOutcome(
            fixture_id=fixture.id,
            final_text=final_text,
            metrics=_metrics(dialogue),
            elapsed_seconds=elapsed,
            error_type=error.kind.value if error is not None else None,
            inference_error_count=dialogue.inference_errors,
            runtime_failure=failure,
            failed_inference_retries=dialogue.failed_retries,
        )
        if revised is None:
            return outcome
        return attrs.evolve(
            outcome,
            revision_count=revised.revision_count,
            judge_score=revised.judge_score,
            judge_reasoning=revised.judge_reasoning,
            judge_verdicts=revised.judge_verdicts,
            judge_attempts=revised.attempts,
        )

    async def _revise(
        self, dialogue: _Dialogue, fixture: Fixture, revise: ReviseConfig, answer: str
    ) -> ReviseOutcome:
        """Run the revise-and-retry loop on the same thread (spec §3.1.3 step 6)."""
        # The revise loop is a live-mode feature: its module loads on first use.
        from awaken_eval._engine.judging import (  # noqa: PLC0415 - see above
            RevisionAnswer,
            judge_request_for,
            revise_until_passing,
        )

        async def ask_revision(message: str) -> RevisionAnswer:
            revised = await self._run_turn(dialogue, message)
            if revised is not None:
                return RevisionAnswer.answered(revised)
            if dialogue.error_message is None:  # stopped by the token budget
                return RevisionAnswer.failed("token budget exhausted during a revision")
            error = dialogue.last_error
            return RevisionAnswer.failed(
                dialogue.error_message, error_type=error.kind.value if error else None
            )

        return await revise_until_passing(
            first_answer=answer,
            request_for=functools.partial(judge_request_for, fixture, rubric=revise.rubric),
            revise=revise,
            ask_revision=ask_revision,
        )

    # -- the loop --------------------------------------------------------------------------

    async def _run_turns(self, dialogue: _Dialogue, fixture: Fixture) -> str:
        """Run every turn; return the final text ("" when a turn failed)."""
        final_text = await self._run_turn(dialogue, fixture.user_input)
        if final_text is None:
            return ""
        for turn in fixture.continued_turns:
            answer = await self._run_turn(dialogue, turn.user_input)
            if answer is None:
                return ""
            final_text = answer
        return final_text

    async def _run_turn(self, dialogue: _Dialogue, user_input: str) -> str | None:
        """Run one agent run for ``user_input``; return its answer, or ``None`` on failure."""
        run_id = mint_run_id()
        dialogue.history = dialogue.history.appended(ChatMessage(MessageRole.USER, user_input))
        started = self.clock()
        try:
            return await self._rounds(dialogue, run_id)
        finally:
            dialogue.duration_ms += int((self.clock() - started) * 1000)

    async def _rounds(self, dialogue: _Dialogue, run_id: str) -> str | None:
        agent = dialogue.agent
        system = agent.system_prompt or DEFAULT_SYSTEM_PROMPT
        for step in range(dialogue.max_rounds):
            if dialogue.token_budget is not None and dialogue.tokens_spent > dialogue.token_budget:
                dialogue.budget_exceeded = True
                return None
            request = InferenceRequest(
                model=dialogue.upstream_model,
                messages=dialogue.history,
                system=system,
                tools=dialogue.descriptors,
                sampling=agent.sampling,
                run_id=run_id,
                thread_id=dialogue.thread_id,
            )
            started = self.clock()
            try:  # the first attempt inline: most inferences succeed
                result: object = await dialogue.executor.execute(request)
            except InferenceError as error:
                result = await self._after_failure(dialogue, request, error)
                if result is _GAVE_UP:  # the error is recorded
                    return None
            if not isinstance(result, InferenceResult):
                dialogue.error_message = _not_a_result(result)
                return None
            duration_ms = int((self.clock() - started) * 1000)
            span = _inference_span(dialogue, run_id, step, result, duration_ms)
            dialogue.inferences.append(span)
            dialogue.tokens_spent += span.token_total()
            if dialogue.sink is not None:
                await emit_safely(dialogue.sink, SpanRecorded(span=span))
            dialogue.history = dialogue.history.appended(
                ChatMessage(MessageRole.ASSISTANT, result.text, tool_calls=result.tool_calls)
            )
            if not result.tool_calls:
                return result.text
            for call in result.tool_calls:
                await self._call_tool(dialogue, run_id, call)
        dialogue.error_message = _rounds_exhausted(dialogue.max_rounds)
        return None

    async def _after_failure(
        self, dialogue: _Dialogue, request: InferenceRequest, error: InferenceError
    ) -> object:
        """Retry a failed first attempt by the retry policy.

        Returns what the executor returned (checked by the caller), or :data:`_GAVE_UP`
        once the policy gives up (the error is then recorded on ``dialogue``).
        """
        delay = self.retry.initial_backoff_secs
        attempt = 0
        while True:
            dialogue.inference_errors += 1
            dialogue.failed_retries += max(0, (error.attempts or 1) - 1)
            if not error.retryable or attempt >= self.retry.max_retries:
                dialogue.last_error = error
                dialogue.error_message = str(error)
                return _GAVE_UP
            attempt += 1
            if delay > 0:
                await anyio.sleep(delay)
            delay *= self.retry.multiplier
            try:
                return await dialogue.executor.execute(request)
            except InferenceError as retry_error:
                error = retry_error

    async def _call_tool(self, dialogue: _Dialogue, run_id: str, call: ToolCall) -> None:
        started = self.clock()
        error_type: str | None = None
        result: JsonValue | None
        feedback = ""
        if dialogue.feed_recorded_results and call.recorded_result is not None:
            result = call.recorded_result
        elif call.arguments_error is not None:  # the provider sent unusable arguments
            error_type = "invalid_arguments"
            result = None
            feedback = f"error: invalid arguments for {call.name}: {call.arguments_error}"
        elif call.name not in dialogue.tools:
            error_type = "tool_not_found"
            result = None
            feedback = f"error: tool not found: {call.name}"
        else:
            try:
                result = await _invoke(dialogue.tools[call.name].function, call.arguments)
            except Exception as exc:  # noqa: BLE001 - a tool failure is data on its span
                error_type = type(exc).__name__
                result = None
                feedback = f"error: {type(exc).__name__}: {exc}"
        if error_type is None:
            result, feedback = _as_json(result)
        span = ToolSpan(
            name=call.name,
            run_id=run_id,
            thread_id=dialogue.thread_id,
            agent_id=dialogue.agent.id,
            call_id=call.id,
            call_arguments=call.arguments,
            call_result=result,
            error_type=error_type,
            duration_ms=int((self.clock() - started) * 1000),
        )
        dialogue.tool_spans.append(span)
        if dialogue.sink is not None:
            await emit_safely(dialogue.sink, SpanRecorded(span=span))
        feedback_message = ChatMessage(MessageRole.TOOL, feedback, tool_call_id=call.id)
        dialogue.history = dialogue.history.appended(feedback_message)


def _capped_rounds(floor: int, wanted: int) -> int:
    """The rounds an agent run gets: ``wanted``, at least ``floor``, at most the cap."""
    return min(max(floor, wanted), MAX_AGENT_ROUNDS)


def _rounds_exhausted(max_rounds: int) -> str:
    """The runtime error of an agent run that used every round without answering."""
    message = f"agent run stopped after max_rounds={max_rounds} rounds without a final answer"
    if max_rounds >= MAX_AGENT_ROUNDS:
        message += f" (MAX_AGENT_ROUNDS={MAX_AGENT_ROUNDS} is the limit of any agent run)"
    return message


def _not_a_result(value: object) -> str:
    """Why an executor's return value cannot be used (a bug of the executor, as data)."""
    return f"executor returned {type(value).__name__}, not an InferenceResult"


def _recorded_tool_span(
    event: ToolCallEvent, run_id: str, thread_id: str, clock: Callable[[], float]
) -> ToolSpan:
    """The span of a scripted tool call on the fast path (no tools: only recorded results).

    The same span :meth:`AgentLoopReplayer._call_tool` records for it.
    """
    started = clock()
    error_type: str | None = None
    result: JsonValue | None = event.result
    if result is None:  # no tools here: the model called an unknown one
        error_type = "tool_not_found"
    else:
        result, _ = _as_json(result)
    return fast_constructor(ToolSpan)(
        name=event.name,
        run_id=run_id,
        thread_id=thread_id,
        agent_id=_SCRIPTED_AGENT.id,
        call_id=event.id,
        call_arguments=event.arguments,
        call_result=result,
        error_type=error_type,
        duration_ms=int((clock() - started) * 1000),
    )


def _descriptors(tools: Mapping[str, Tool]) -> tuple[ToolDescriptor, ...]:
    return tuple(tool.descriptor() for tool in tools.values()) if tools else ()


async def _invoke(function: Callable[..., Any], arguments: JsonValue) -> JsonValue:
    value = function(**arguments) if isinstance(arguments, dict) else function(arguments)
    if inspect.isawaitable(value):
        awaitable: Awaitable[Any] = value
        value = await awaitable
    return value


def _as_json(value: object) -> tuple[JsonValue, str]:
    """A tool's return value as recordable JSON and as the text fed back to the model.

    A value JSON cannot represent is recorded (and fed back) as its ``repr``, so a span
    never holds an object a trace sink could not serialize.
    """
    if isinstance(value, str):
        return value, value
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        text = repr(value)
        return text, text
    return value, text


def _inference_span(
    dialogue: _Dialogue, run_id: str, step: int, result: InferenceResult, duration_ms: int
) -> InferenceSpan:
    content: JsonValue | None = None
    tool_calls: JsonValue | None = None
    request: JsonValue | None = None
    if dialogue.capture_content:
        if result.tool_calls:
            tool_calls = [
                {"id": call.id, "name": call.name, "arguments": call.arguments}
                for call in result.tool_calls
            ]
            content = [text_block(result.text)] if result.text else None
        else:
            content = [text_block(result.text)] if result.text else []
        if step == 0:
            request = [captured_message(message) for message in dialogue.history]
    return chat_span(
        InferenceSpan,
        run_id=run_id,
        thread_id=dialogue.thread_id,
        agent_id=dialogue.agent.id,
        step=step,
        model=result.model or dialogue.upstream_model,
        provider=dialogue.provider,
        stop=result.stop_reason,
        usage=result.usage,
        duration_ms=duration_ms,
        content=content,
        tool_calls=tool_calls,
        request=request,
        request_id=result.request_id,
        attempts=result.attempts,
        retry_wait_ms=None
        if result.retry_wait_secs is None
        else int(result.retry_wait_secs * 1000),
    )


def _metrics(dialogue: _Dialogue) -> AgentMetrics:
    return AgentMetrics(
        inferences=tuple(dialogue.inferences),
        tools=tuple(dialogue.tool_spans),
        session_duration_ms=dialogue.duration_ms,
    )


def _with_budget(
    budget: int | None, total: int, failure: ReplayRuntimeFailure | None
) -> ReplayRuntimeFailure | None:
    """Put a token-budget breach first, keeping any other failure's cause in the message.

    ``total`` is the tokens the replay spent: the sum of every span's ``token_total()``.
    """
    if budget is None or total <= budget:
        return failure
    message = f"token budget exceeded: {total} > max {budget}"
    if isinstance(failure, ReplayRuntimeError):
        message = f"{message}; the run also failed: {failure.message}"
    elif failure is not None:
        message = f"{message}; the replay also reported {failure.kind}"
    return ReplayRuntimeError(message)
