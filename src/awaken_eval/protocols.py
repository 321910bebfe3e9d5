"""The seams of awaken-eval: async, structural protocols and the records they exchange.

Every protocol has one to three ``async`` methods taking and returning frozen records,
and is structural (:class:`typing.Protocol`): implement the methods, no subclassing.

* :class:`LlmExecutor` — one inference against a model (scripted, live, a judge's model).
* :class:`Replayer` — turns a fixture into a :class:`~awaken_eval.ReplayOutcome`; hosts
  plug their real agent in here.
* :class:`Judge` — grades an answer against the request, a rubric and criteria.
* :class:`TraceSink` — receives spans and run events.
* :class:`EvalRunStore`, :class:`StreamingRunStore`, :class:`PrunableRunStore` — persist runs.
* :class:`DatasetStore` — datasets with compare-and-swap revisions.
* :class:`ModelResolver`, :class:`AgentResolver` — turn ids into executors and agent specs.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import attrs

from awaken_eval._types import JsonValue
from awaken_eval.errors import AwakenEvalError
from awaken_eval.evaluation import ExpectedOutcome
from awaken_eval.fixtures import DatasetSpec, Fixture, StopReason, TokenUsage
from awaken_eval.outcomes import CriterionVerdict
from awaken_eval.runs import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunFilter,
    EvalRunItem,
    EvalRunSummary,
    ItemKey,
    MatrixCell,
)

if TYPE_CHECKING:
    from awaken_eval.events import TraceEvent
    from awaken_eval.outcomes import ReplayOutcome

__all__ = [
    "DEFAULT_SYSTEM_PROMPT",
    "AgentResolver",
    "AgentSpec",
    "ChatMessage",
    "DatasetRecord",
    "DatasetStore",
    "EvalRunStore",
    "InferenceError",
    "InferenceErrorKind",
    "InferenceRequest",
    "InferenceResult",
    "Judge",
    "JudgeError",
    "JudgeErrorKind",
    "JudgeRequest",
    "JudgeResult",
    "LlmExecutor",
    "MessageRole",
    "ModelPricing",
    "ModelResolver",
    "PrunableRunStore",
    "ReplayContext",
    "Replayer",
    "ResolvedModel",
    "ReviseConfig",
    "RunHeader",
    "SamplingParams",
    "StreamingRunStore",
    "ToolCall",
    "ToolDescriptor",
    "TraceSink",
]

DEFAULT_SYSTEM_PROMPT = "You are a test assistant."
"""System prompt of the built-in agent when no agent spec gives one."""

# -- inference ---------------------------------------------------------------------------


class MessageRole(Enum):
    """Who speaks a chat message."""

    SYSTEM = "system"
    """Instructions to the model."""
    USER = "user"
    """The user."""
    ASSISTANT = "assistant"
    """The model."""
    TOOL = "tool"
    """A tool result fed back to the model."""


@attrs.frozen
class ToolCall:
    """One tool call requested by a model.

    Attributes:
        id: The provider's tool-call id.
        name: The tool name.
        arguments: The call arguments (any JSON).
        recorded_result: The tool result recorded with a provider script, when the call
            comes from one; a scripted replay feeds it back instead of calling a tool.
    """

    id: str
    name: str
    arguments: JsonValue
    recorded_result: JsonValue | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ChatMessage:
    """One message of a conversation.

    Attributes:
        role: Who speaks.
        content: The text.
        tool_calls: Tool calls requested by an assistant message.
        tool_call_id: For a tool message: the call it answers.
    """

    role: MessageRole
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = attrs.field(default=(), kw_only=True)
    tool_call_id: str | None = attrs.field(default=None, kw_only=True)


@attrs.frozen
class ToolDescriptor:
    """A tool offered to the model.

    Attributes:
        name: The tool name.
        description: What the tool does.
        parameters: JSON Schema of the arguments.
    """

    name: str
    description: str = ""
    parameters: JsonValue = attrs.field(factory=lambda: {"type": "object"})


@attrs.frozen(kw_only=True)
class SamplingParams:
    """Sampling overrides for an inference; absent values use the provider's defaults.

    Attributes:
        temperature: Sampling temperature.
        top_p: Nucleus sampling mass.
        max_tokens: Output token limit.
    """

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None


@attrs.frozen(kw_only=True)
class InferenceRequest:
    """What an :class:`LlmExecutor` is asked to run.

    Attributes:
        model: The upstream model name sent to the provider.
        messages: The conversation so far.
        system: The system prompt.
        tools: The tools offered.
        sampling: Sampling overrides.
        run_id: Trace run this inference belongs to.
        thread_id: Conversation thread.
    """

    model: str
    messages: tuple[ChatMessage, ...]
    system: str | None = None
    tools: tuple[ToolDescriptor, ...] = ()
    sampling: SamplingParams = attrs.field(factory=SamplingParams)
    run_id: str = ""
    thread_id: str = ""


@attrs.frozen(kw_only=True)
class InferenceResult:
    """What an :class:`LlmExecutor` returned.

    Attributes:
        text: The assistant text (concatenated text blocks).
        tool_calls: Tool calls requested by the model.
        usage: Token usage reported by the provider.
        stop_reason: Why generation stopped.
        model: The model that answered, when the provider says.
    """

    text: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: TokenUsage = attrs.field(factory=TokenUsage)
    stop_reason: StopReason | None = None
    model: str = ""


class InferenceErrorKind(Enum):
    """Structured kind of an inference failure (the ``error_type`` of live outcomes)."""

    RATE_LIMITED = "rate_limited"
    """The provider throttled the request."""
    OVERLOADED = "overloaded"
    """The provider is overloaded."""
    TIMEOUT = "timeout"
    """The provider did not answer in time."""
    CONTEXT_OVERFLOW = "context_overflow"
    """The conversation does not fit the model's context."""
    INVALID_REQUEST = "invalid_request"
    """The request was malformed (also: a scripted executor out of events)."""
    UNAUTHORIZED = "unauthorized"
    """Credentials were missing or rejected."""
    MODEL_NOT_FOUND = "model_not_found"
    """The provider does not know the model."""
    CONTENT_FILTERED = "content_filtered"
    """The provider's content filter blocked the answer."""
    PROVIDER = "provider"
    """Any other provider failure."""


_RETRYABLE = frozenset(
    {InferenceErrorKind.RATE_LIMITED, InferenceErrorKind.OVERLOADED, InferenceErrorKind.TIMEOUT}
)


class InferenceError(AwakenEvalError):
    """An inference failed; raised by :meth:`LlmExecutor.execute`.

    Attributes:
        kind: The structured kind.
        message: The provider's message.
        error_type: The type the outcome reports; defaults to ``kind.value`` (a
            scripted executor passes the fixture-authored type, e.g. ``rate_limit``).
    """

    def __init__(
        self, kind: InferenceErrorKind, message: str, *, error_type: str | None = None
    ) -> None:
        """Create the error of ``kind`` with the provider's ``message``."""
        self.kind = kind
        self.message = message
        self.error_type = error_type if error_type is not None else kind.value
        super().__init__(f"{kind.value}: {message}" if message else kind.value)

    @property
    def retryable(self) -> bool:
        """Whether retrying may help (rate limits, overload, timeouts)."""
        return self.kind in _RETRYABLE


@runtime_checkable
class LlmExecutor(Protocol):
    """Runs one inference against a model."""

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Run ``request`` and return the model's answer.

        Raises:
            InferenceError: when the inference fails, with its structured kind.
        """
        ...


# -- agents, models, replay ---------------------------------------------------------------


@attrs.frozen(kw_only=True)
class AgentSpec:
    """The agent a live replay runs: prompt, tools, sampling and round limit.

    Attributes:
        id: Agent id recorded on spans.
        system_prompt: The system prompt.
        allowed_tools: Names of the tools the agent may use (``None``: every tool given).
        sampling: Sampling overrides.
        max_rounds: Most inference rounds per turn (``None``: the replayer's default).
    """

    id: str = "default"
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    allowed_tools: tuple[str, ...] | None = None
    sampling: SamplingParams = attrs.field(factory=SamplingParams)
    max_rounds: int | None = None


@attrs.frozen(kw_only=True)
class ModelPricing:
    """Prices of a model, in US dollars per million tokens.

    Attributes:
        input_per_million_usd: Price of a million input tokens.
        output_per_million_usd: Price of a million output tokens.
    """

    input_per_million_usd: float
    output_per_million_usd: float


@attrs.frozen(kw_only=True)
class ResolvedModel:
    """A model id resolved to something that can run it.

    Attributes:
        model_id: The id the caller asked for.
        executor: Runs inferences for this model.
        upstream_model: The model name sent upstream.
        pricing: Prices used for ``cost_usd`` (absent: no cost is reported).
    """

    model_id: str
    executor: LlmExecutor
    upstream_model: str
    pricing: ModelPricing | None = None


@runtime_checkable
class ModelResolver(Protocol):
    """Turns a model id into an executor, upstream name and pricing."""

    async def resolve_model(self, model_id: str) -> ResolvedModel:
        """Resolve ``model_id``.

        Raises:
            NotFound: when the model (or its provider) is unknown.
        """
        ...


@runtime_checkable
class AgentResolver(Protocol):
    """Turns an agent id into an :class:`AgentSpec`."""

    async def resolve_agent(self, agent_id: str) -> AgentSpec:
        """Resolve ``agent_id``.

        Raises:
            NotFound: when the agent is unknown.
        """
        ...


# -- judging ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class JudgeRequest:
    """What a judge grades.

    Attributes:
        fixture_id: The fixture (or ``_adhoc``) being graded.
        user_prompt: The user side of the conversation (``Fixture.judge_prompt()``).
        answer: The answer to grade.
        rubric: Grading instructions, when given.
        expected_outcome: Criteria to grade one by one, when the fixture carries them.
    """

    fixture_id: str
    user_prompt: str
    answer: str
    rubric: str | None = None
    expected_outcome: ExpectedOutcome | None = None


@attrs.frozen(kw_only=True)
class JudgeResult:
    """A judge's grade.

    Attributes:
        score: The score in [0, 1] (the weighted mean of the verdicts when there are any).
        reasoning: Why, in one sentence.
        verdicts: Per-criterion verdicts, when criteria were graded.
        inference_id: The grading inference's id, when the judge has one.
    """

    score: float
    reasoning: str | None = None
    verdicts: tuple[CriterionVerdict, ...] = ()
    inference_id: str | None = None


class JudgeErrorKind(Enum):
    """Why a judge could not grade."""

    TRANSPORT = "transport"
    """The judge could not be reached."""
    STATUS = "status"
    """The judge answered with an error status."""
    EXECUTOR = "executor"
    """The judge's model executor failed."""
    PARSE = "parse"
    """The judge's answer held no parseable score."""
    NON_FINITE_SCORE = "non_finite_score"
    """The judge's score was not a finite number."""


class JudgeError(AwakenEvalError):
    """A judge could not grade; raised by :meth:`Judge.grade`.

    Attributes:
        kind: Why.
        message: Details (the unparseable body, the executor's error, ...).
    """

    def __init__(self, kind: JudgeErrorKind, message: str) -> None:
        """Create the error of ``kind`` with details in ``message``."""
        self.kind = kind
        self.message = message
        super().__init__(f"judge {kind.value} error: {message}")


@runtime_checkable
class Judge(Protocol):
    """Grades an answer."""

    async def grade(self, request: JudgeRequest) -> JudgeResult:
        """Grade ``request.answer``.

        Raises:
            JudgeError: when no grade could be obtained.
        """
        ...


@attrs.frozen(kw_only=True)
class ReviseConfig:
    """The revise-and-retry loop of a live replay (spec §3.1.3 step 6).

    Attributes:
        judge: Grades each attempt.
        threshold: Score an answer needs to stop revising.
        max_retries: Most revisions after the first attempt.
        rubric: Grading instructions.
    """

    judge: Judge
    threshold: float
    max_retries: int
    rubric: str | None = None


# -- tracing ------------------------------------------------------------------------------


@runtime_checkable
class TraceSink(Protocol):
    """Receives spans and run events. A failing sink is logged, never fatal."""

    async def emit(self, event: TraceEvent) -> None:
        """Record ``event``."""
        ...


@attrs.frozen(kw_only=True)
class ReplayContext:
    """Everything a replayer needs besides the fixture.

    Attributes:
        mode: Scripted or live.
        executor: The live model's executor (live mode).
        upstream_model: The upstream model name (live mode).
        cell: The matrix cell being replayed.
        sample_index: The sample number, when the run samples.
        agent: The agent to run (live mode; ``None``: the built-in default).
        deadline: Absolute ``anyio.current_time()`` by which the cell must finish.
        token_budget: Most tokens the replay may spend (checked between rounds).
        sink: Receives spans as they are recorded.
        revise: The revise-and-retry loop, when enabled for this fixture.
    """

    mode: EvalRunExecutionMode = EvalRunExecutionMode.SCRIPTED
    executor: LlmExecutor | None = None
    upstream_model: str | None = None
    cell: MatrixCell | None = None
    sample_index: int | None = None
    agent: AgentSpec | None = None
    deadline: float | None = None
    token_budget: int | None = None
    sink: TraceSink | None = None
    revise: ReviseConfig | None = None


@runtime_checkable
class Replayer(Protocol):
    """Replays a fixture. Hosts implement this to evaluate their own agent."""

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        """Replay ``fixture`` and report what happened.

        Must not raise for fixture-level problems: they become the outcome's
        ``runtime_failure`` so a batch stays complete. (An exception that escapes anyway
        is turned into a runtime failure by the runner.)
        """
        ...


# -- stores -------------------------------------------------------------------------------


@runtime_checkable
class EvalRunStore(Protocol):
    """Persists whole runs, write-once by run id."""

    async def write(self, run: EvalRun) -> None:
        """Persist ``run``.

        Raises:
            InvalidRunId: for an id no store can hold.
            Conflict: when a run with this id exists (write-once).
            DuplicateItemKeys: when two items share a key.
        """
        ...

    async def read(self, run_id: str) -> EvalRun:
        """Load the run ``run_id``.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when no such run exists.
            StoreFailure: when the stored run is corrupt.
        """
        ...

    async def list(self, run_filter: EvalRunFilter) -> builtins.list[EvalRunSummary]:
        """Summaries of the selected runs, newest first (ties by id, descending)."""
        ...


@runtime_checkable
class PrunableRunStore(Protocol):
    """A run store that can delete old runs."""

    async def prune(self, older_than_secs: int) -> int:
        """Delete runs started before ``older_than_secs``; return how many were deleted."""
        ...


@attrs.frozen(kw_only=True)
class RunHeader:
    """Identity of a run being streamed into a store.

    Attributes:
        id: The run id.
        dataset_id: The dataset executed.
        dataset_revision: The dataset revision.
        execution_mode: Scripted or live.
        started_at_secs: Epoch seconds at start.
        fixture_digests: Content digest per fixture id.
    """

    id: str
    dataset_id: str
    dataset_revision: int
    execution_mode: EvalRunExecutionMode
    started_at_secs: int
    fixture_digests: Mapping[str, str] = attrs.field(factory=dict)


@runtime_checkable
class StreamingRunStore(Protocol):
    """A run store that takes items as they finish and can resume a run."""

    async def begin(self, header: RunHeader, *, resume: bool = False) -> frozenset[ItemKey]:
        """Open a run for appending; return the keys of the items it already holds.

        A new run starts empty. With ``resume=True`` an unfinished run of the same
        header is reopened and its present keys returned, so only the missing units run.

        Raises:
            Conflict: when the id is taken (and not resumable).
        """
        ...

    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        """Durably add finished items to the open run ``run_id``."""
        ...

    async def finish(
        self,
        run_id: str,
        *,
        ended_at_secs: int,
        item_order: Sequence[ItemKey] | None = None,
    ) -> EvalRunSummary:
        """Close the open run and return its summary (``read`` loads the whole run).

        Returning a summary lets a store finish a run of millions of items without
        loading them.

        Args:
            run_id: The open run.
            ended_at_secs: Epoch seconds at the end.
            item_order: The order the finished run lists its items in (items whose
                key is not listed follow in append order); ``None`` keeps append order.
        """
        ...


@attrs.frozen
class DatasetRecord:
    """A dataset with its optimistic-concurrency revision.

    Attributes:
        spec: The dataset.
        revision: The revision (0 for a new dataset; +1 per write).
    """

    spec: DatasetSpec
    revision: int


@runtime_checkable
class DatasetStore(Protocol):
    """Datasets by id with compare-and-swap writes."""

    async def get(self, dataset_id: str) -> DatasetRecord:
        """Load ``dataset_id``.

        Raises:
            NotFound: when there is no such dataset.
        """
        ...

    async def put(self, dataset_id: str, spec: DatasetSpec, *, expected_revision: int) -> int:
        """Replace the dataset if its revision is ``expected_revision``; return the new one.

        Raises:
            Conflict: when the stored revision differs (stale write).
            InvalidRequest: when ``spec`` fails write validation.
        """
        ...
