"""What a replay produced: spans, metrics, the in-memory outcome and the report.

:class:`InferenceSpan` and :class:`ToolSpan` mirror the observability spans of the
reference (the span context is flattened into each span). :class:`ReplayOutcome` lives
in memory only; :class:`ReplayReport` is its serialized summary (one NDJSON line, also
embedded in every :class:`~awaken_eval.EvalRunItem`).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from awaken_eval._records.construct import fast_constructor
from awaken_eval._records.failures import Failure, ReplayRuntimeFailure
from awaken_eval._records.types import U32, U32_MAX, U64, U64_MAX, JsonValue

__all__ = [
    "AgentMetrics",
    "AgentToolStats",
    "CriterionVerdict",
    "InferenceSpan",
    "JudgeAttempt",
    "ReplayOutcome",
    "ReplayReport",
    "ToolSpan",
]


@attrs.frozen(kw_only=True)
class InferenceSpan:
    """One successful LLM inference, as recorded by the observability layer.

    Failed inferences produce no span (hence ``inference_error_count`` on outcomes).
    Besides the fields eval reads, the reference's request, timing and attribution
    fields are modelled (and ignored), so trace files written by the reference load
    even though unknown keys are rejected.

    Attributes:
        run_id: Trace run id (the link from an eval item to its trace).
        thread_id: Conversation thread.
        agent_id: Agent that ran the inference.
        parent_run_id: Parent run, for delegated runs.
        parent_tool_call_id: Tool call that started this run, for delegated runs.
        prompt_id: Attribution: the prompt version (unused by eval).
        tool_desc_ids: Attribution: tool description versions (unused by eval).
        skill_ids: Attribution: skills in use (unused by eval).
        release_tag: Attribution: the release (unused by eval).
        experiment_id: Attribution: the experiment (unused by eval).
        variant_name: Attribution: the experiment variant (unused by eval).
        step_index: Round number within the run.
        model: Model name recorded by the provider.
        provider: Provider id.
        operation: Operation name (``chat``, the reference's only value).
        response_model: Model named in the provider's response (unused by eval).
        response_id: The provider's response id (unused by eval).
        finish_reasons: snake_case finish reasons (``end_turn``, ``tool_use``, ...).
        error_type: Set when the span recorded an error.
        error_class: Error classification of the span (unused by eval).
        temperature: Requested sampling temperature (unused by eval).
        top_p: Requested nucleus sampling mass (unused by eval).
        max_tokens: Requested output token limit (unused by eval).
        stop_sequences: Requested stop sequences (unused by eval).
        input_tokens: Input tokens (may be negative in foreign data; clamped when summed).
        output_tokens: Output tokens.
        total_tokens: Total tokens, preferred over input+output when present.
        cache_read_input_tokens: Input tokens served from the prompt cache.
        cache_creation_input_tokens: Input tokens written to the prompt cache.
        thinking_tokens: Reasoning tokens.
        duration_ms: Wall-clock duration.
        started_at_ms: Epoch milliseconds at the start (unused by eval).
        ended_at_ms: Epoch milliseconds at the end (unused by eval).
        response_content: Captured response content blocks (content capture only).
        response_tool_calls: Captured ``{id, name, arguments}`` calls (content capture only).
        request_messages: Captured request history (first inference of a run only).
        request_id: The provider's request id (additive field, omitted when absent).
        attempts: HTTP attempts the inference took, retries included (additive field,
            omitted when absent: executors that do not count attempts).
        retry_wait_ms: Time waited between those attempts (additive field).
    """

    run_id: str = ""
    thread_id: str = ""
    agent_id: str = ""
    parent_run_id: str | None = None
    parent_tool_call_id: str | None = None
    prompt_id: str | None = None
    tool_desc_ids: tuple[str, ...] = ()
    skill_ids: tuple[str, ...] = ()
    release_tag: str | None = None
    experiment_id: str | None = None
    variant_name: str | None = None
    step_index: U32 | None = None
    model: str = ""
    provider: str = ""
    operation: str = "chat"
    response_model: str | None = None
    response_id: str | None = None
    finish_reasons: tuple[str, ...] = ()
    error_type: str | None = None
    error_class: str | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: U32 | None = None
    stop_sequences: tuple[str, ...] = ()
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    thinking_tokens: int | None = None
    duration_ms: U64 | None = None
    started_at_ms: U64 | None = None
    ended_at_ms: U64 | None = None
    response_content: JsonValue | None = None
    response_tool_calls: JsonValue | None = None
    request_messages: JsonValue | None = None
    request_id: str | None = None
    attempts: U32 | None = None
    retry_wait_ms: U64 | None = None

    def token_total(self) -> int:
        """This span's contribution to an outcome's total tokens (never negative)."""
        if self.total_tokens is not None:
            return max(0, self.total_tokens)
        return max(0, self.input_tokens or 0) + max(0, self.output_tokens or 0)


@attrs.frozen(kw_only=True)
class ToolSpan:
    """One tool call, with its captured arguments and result.

    Besides the fields eval reads, the reference's attribution fields are modelled (and
    ignored), so trace files written by the reference load.

    Attributes:
        name: The tool name.
        run_id: Trace run id.
        thread_id: Conversation thread.
        agent_id: Agent that called the tool (empty ids form their own bucket).
        parent_run_id: Parent run, for delegated runs.
        parent_tool_call_id: Tool call that started this run, for delegated runs.
        prompt_id: Attribution: the prompt version (unused by eval).
        tool_desc_ids: Attribution: the executed tool's description version.
        skill_ids: Attribution: skills in use (unused by eval).
        release_tag: Attribution: the release (unused by eval).
        experiment_id: Attribution: the experiment (unused by eval).
        variant_name: Attribution: the experiment variant (unused by eval).
        step_index: The round of the inference that requested the call.
        operation: Operation name (``execute_tool``, the reference's only value).
        call_id: The provider's tool-call id.
        tool_type: The kind of tool (``function``, the reference's only value).
        call_arguments: The captured arguments (absent when not captured).
        call_result: The captured result (absent when not captured).
        error_type: Set when the call failed.
        duration_ms: Wall-clock duration.
        started_at_ms: Epoch milliseconds at the start (unused by eval).
        ended_at_ms: Epoch milliseconds at the end (unused by eval).
    """

    run_id: str = ""
    thread_id: str = ""
    agent_id: str = ""
    parent_run_id: str | None = None
    parent_tool_call_id: str | None = None
    prompt_id: str | None = None
    tool_desc_ids: tuple[str, ...] = ()
    skill_ids: tuple[str, ...] = ()
    release_tag: str | None = None
    experiment_id: str | None = None
    variant_name: str | None = None
    step_index: U32 | None = None
    name: str
    operation: str = "execute_tool"
    call_id: str | None = None
    tool_type: str = "function"
    call_arguments: JsonValue | None = None
    call_result: JsonValue | None = None
    error_type: str | None = None
    duration_ms: U64 = 0
    started_at_ms: U64 | None = None
    ended_at_ms: U64 | None = None


@attrs.frozen(kw_only=True)
class AgentToolStats:
    """Tool calls of one (agent, tool) pair within a replay.

    Attributes:
        agent_id: The agent (may be empty).
        tool: The tool name.
        call_count: Number of calls.
        failure_count: Calls with an error type.
        total_duration_ms: Summed wall-clock duration of the calls.
    """

    agent_id: str
    tool: str
    call_count: U32
    failure_count: U32
    total_duration_ms: U64


@attrs.frozen(kw_only=True)
class AgentMetrics:
    """Everything the observability layer recorded during one replay.

    Attributes:
        inferences: Successful inference spans, in record order.
        tools: Tool spans, in record order.
        evaluations: Evaluation events (unused by scoring).
        suspensions: Suspension events (unused by scoring).
        handoffs: Handoff events (unused by scoring).
        delegations: Delegation events (unused by scoring).
        background_tasks: Background task events (unused by scoring).
        session_duration_ms: Session duration; summed over every turn of a dialogue.
    """

    inferences: tuple[InferenceSpan, ...] = ()
    tools: tuple[ToolSpan, ...] = ()
    evaluations: tuple[JsonValue, ...] = ()
    suspensions: tuple[JsonValue, ...] = ()
    handoffs: tuple[JsonValue, ...] = ()
    delegations: tuple[JsonValue, ...] = ()
    background_tasks: tuple[JsonValue, ...] = ()
    session_duration_ms: U64 = 0

    def tool_failures(self) -> int:
        """Number of tool spans that recorded an error."""
        return sum(1 for tool in self.tools if tool.error_type is not None)

    def stats_by_agent_tool(self) -> tuple[AgentToolStats, ...]:
        """Tool spans grouped by (agent id, tool name), sorted by agent then tool."""
        groups: dict[tuple[str, str], list[int]] = {}
        for tool in self.tools:
            bucket = groups.setdefault((tool.agent_id, tool.name), [0, 0, 0])
            bucket[0] += 1
            bucket[1] += tool.error_type is not None
            bucket[2] += tool.duration_ms
        return tuple(
            AgentToolStats(
                agent_id=agent,
                tool=name,
                call_count=min(calls, U32_MAX),
                failure_count=min(failed, U32_MAX),
                total_duration_ms=min(duration, U64_MAX),
            )
            for (agent, name), (calls, failed, duration) in sorted(groups.items())
        )


@attrs.frozen(kw_only=True)
class CriterionVerdict:
    """A judge's verdict on one criterion of an expected outcome.

    Attributes:
        criterion_id: The criterion.
        score: The criterion's score in [0, 1].
        reasoning: Why.
    """

    criterion_id: str
    score: float
    reasoning: str | None = None


@attrs.frozen(kw_only=True)
class JudgeAttempt:
    """One judged answer of a revise loop.

    A first-time pass has one attempt; a pass after revising has several, so the two
    are told apart.

    Attributes:
        revision: 0 for the first answer, ``n`` for the answer after the n-th revision.
        score: The judge's score.
        reasoning: The judge's reasoning.
    """

    revision: U32
    score: float
    reasoning: str | None = None


def _first_run_id(spans: Sequence[InferenceSpan | ToolSpan]) -> str | None:
    return spans[0].run_id if spans and spans[0].run_id else None


@attrs.frozen(kw_only=True)
class ReplayOutcome:
    """What one replay produced (in memory only; never serialized).

    Attributes:
        fixture_id: The replayed fixture.
        final_text: Final assistant text of the last completed turn; ``""`` on error.
        metrics: Spans and durations recorded during the replay.
        elapsed_seconds: Wall-clock duration of the replay.
        error_type: Short machine-readable type of the error the replay ended with.
        inference_error_count: Scripted ``error`` events that fired.
        runtime_failure: How the replay itself misbehaved, if it did.
        revision_count: Revise-loop iterations after the first attempt.
        judge_score: Final judge grade, when a judge ran.
        judge_reasoning: The judge's reasoning for that grade.
        judge_verdicts: Per-criterion verdicts of that grade.
        judge_attempts: Every answer the revise loop judged, in order.
        failed_inference_retries: HTTP retries of inferences that failed in the end
            (they leave no span); added to the report's ``inference_retries``.
    """

    fixture_id: str
    final_text: str = ""
    metrics: AgentMetrics = attrs.field(factory=AgentMetrics)
    elapsed_seconds: float = 0.0
    error_type: str | None = None
    inference_error_count: int = 0
    runtime_failure: ReplayRuntimeFailure | None = None
    revision_count: int = 0
    judge_score: float | None = None
    judge_reasoning: str | None = None
    judge_verdicts: tuple[CriterionVerdict, ...] = ()
    judge_attempts: tuple[JudgeAttempt, ...] = ()
    failed_inference_retries: int = 0

    def total_tokens(self) -> int:
        """Total tokens over every inference span, saturated to the u32 maximum.

        Each span contributes its ``total_tokens`` when present (negative counts as 0),
        else max(0, input) + max(0, output).
        """
        return min(sum(span.token_total() for span in self.metrics.inferences), U32_MAX)

    def tool_sequence(self) -> tuple[str, ...]:
        """Names of the tool spans, in record order."""
        return tuple(tool.name for tool in self.metrics.tools)

    def trace_run_id(self) -> str | None:
        """The trace this replay links to: the first inference span's run id if set,
        else the first tool span's, else ``None``.
        """  # noqa: D205
        return _first_run_id(self.metrics.inferences) or _first_run_id(self.metrics.tools)

    def trace_run_ids(self) -> tuple[str, ...]:
        """Every distinct non-empty trace run id of the replay, in first-seen order.

        A dialogue or revise loop runs several agent runs; all of them are linked.
        """
        seen: dict[str, None] = {}
        run_ids = [span.run_id for span in self.metrics.inferences]
        run_ids.extend(span.run_id for span in self.metrics.tools)
        for run_id in run_ids:
            if run_id:
                seen.setdefault(run_id, None)
        return tuple(seen)


def _milliseconds(seconds: float) -> int:
    if not seconds > 0:  # negative or NaN
        return 0
    millis = seconds * 1000
    return U64_MAX if millis >= U64_MAX else int(millis)


@attrs.frozen(kw_only=True)
class ReplayReport:
    """The scored summary of one replay: one NDJSON line, and the report of a run item.

    ``elapsed_ms`` is host-dependent and never written (it is accepted on read).

    Attributes:
        fixture_id: The replayed fixture.
        passed: Whether ``failures`` was empty when the report was built.
        failures: Why the replay failed, in check order.
        final_text: The replay's final text.
        inference_count: Number of inference spans.
        tool_count: Number of tool spans.
        tool_failures: Tool spans with an error type.
        total_input_tokens: Σ max(0, input tokens), saturated to u32.
        total_output_tokens: Σ max(0, output tokens), saturated to u32.
        total_tokens: The total scoring used (:meth:`ReplayOutcome.total_tokens`).
        session_duration_ms: Session duration of the replay.
        elapsed_ms: Wall-clock duration in ms (in memory only, and not compared: two
            reports are equal when their wire forms are).
        tool_calls_by_agent: Tool statistics per (agent, tool).
        error_type: The error type the replay ended with.
        inference_error_count: Scripted error events that fired.
        runtime_failure: How the replay misbehaved, if it did.
        cost_usd: Estimated cost, when the model has prices.
        revision_count: Revise-loop iterations after the first attempt.
        judge_score: The judge's grade, when a judge ran.
        judge_reasoning: The judge's reasoning.
        judge_verdicts: Per-criterion verdicts (additive field, omitted when empty).
        judge_attempts: Every answer the revise loop judged (additive field, omitted
            when empty).
        inference_retries: HTTP retries of the replay's inferences, summed over the
            spans that count attempts (additive field, omitted when 0).
        retry_wait_ms: Time those retries waited, in ms (additive field, omitted when 0).
    """

    fixture_id: str
    passed: bool
    failures: tuple[Failure, ...]
    final_text: str
    inference_count: U32
    tool_count: U32
    tool_failures: U32
    total_input_tokens: U32
    total_output_tokens: U32
    total_tokens: U32 = 0
    session_duration_ms: U64
    elapsed_ms: U64 = attrs.field(default=0, eq=False)
    tool_calls_by_agent: tuple[AgentToolStats, ...] = ()
    error_type: str | None = None
    inference_error_count: U32 = 0
    runtime_failure: ReplayRuntimeFailure | None = None
    cost_usd: float | None = None
    revision_count: U32 = 0
    judge_score: float | None = None
    judge_reasoning: str | None = None
    judge_verdicts: tuple[CriterionVerdict, ...] = ()
    judge_attempts: tuple[JudgeAttempt, ...] = ()
    inference_retries: U32 = 0
    retry_wait_ms: U64 = 0

    @classmethod
    def from_outcome(cls, outcome: ReplayOutcome, failures: Sequence[Failure]) -> ReplayReport:
        """Summarise ``outcome`` and its scoring ``failures`` into a report.

        ``passed`` is ``not failures``; ``cost_usd`` is left for the caller to fill.
        """
        metrics = outcome.metrics
        inferences = metrics.inferences
        tools = metrics.tools
        input_tokens = output_tokens = total_tokens = retry_wait_ms = 0
        retries = outcome.failed_inference_retries
        for span in inferences:  # one pass for the sums (a hot path of big runs)
            span_input, span_output = span.input_tokens, span.output_tokens
            if span.attempts is not None:  # only executors that count attempts set it
                retries += max(0, span.attempts - 1)
                retry_wait_ms += span.retry_wait_ms or 0
            if span_input is not None and span_input > 0:
                input_tokens += span_input
            if span_output is not None and span_output > 0:
                output_tokens += span_output
            total_tokens += span.token_total()
        counts: tuple[int, ...] = (
            len(inferences),
            len(tools),
            input_tokens,
            output_tokens,
            total_tokens,
            outcome.inference_error_count,
            outcome.revision_count,
        )
        if max(counts) > U32_MAX:  # saturate to u32 (one check in the common case)
            counts = tuple(min(count, U32_MAX) for count in counts)
        inference_count, tool_count, input_tokens, output_tokens, total_tokens = counts[:5]
        return fast_constructor(cls)(
            fixture_id=outcome.fixture_id,
            passed=not failures,
            failures=tuple(failures),
            final_text=outcome.final_text,
            inference_count=inference_count,
            tool_count=tool_count,
            tool_failures=min(metrics.tool_failures(), U32_MAX) if tools else 0,
            total_input_tokens=input_tokens,
            total_output_tokens=output_tokens,
            total_tokens=total_tokens,
            session_duration_ms=metrics.session_duration_ms,
            elapsed_ms=_milliseconds(outcome.elapsed_seconds),
            tool_calls_by_agent=metrics.stats_by_agent_tool() if tools else (),
            error_type=outcome.error_type,
            inference_error_count=counts[5],
            runtime_failure=outcome.runtime_failure,
            revision_count=counts[6],
            judge_score=outcome.judge_score,
            judge_reasoning=outcome.judge_reasoning,
            judge_verdicts=outcome.judge_verdicts,
            judge_attempts=outcome.judge_attempts,
            inference_retries=min(retries, U32_MAX),
            retry_wait_ms=retry_wait_ms,
        )
