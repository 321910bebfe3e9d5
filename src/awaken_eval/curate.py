"""Trace -> fixture: turn the recorded spans of an agent run into a replayable fixture.

A trace is the unit of a trace store: the spans one agent run recorded, in record
order (:class:`~awaken_eval.InferenceSpan`, :class:`~awaken_eval.ToolSpan`, or
:class:`~awaken_eval.SpanRecorded` events wrapping them; anything else is ignored).
Every inference span becomes one provider-script event (spec §6):

* a span with ``error_type`` -> an ``error`` event (the trace keeps no message);
* a span with ``response_tool_calls`` -> a ``tool_call`` event (exactly one call, no
  content blocks besides it);
* a span with ``response_content`` -> a ``chat_response`` event (text blocks only);
* anything else -> :class:`CurateError` ``missing_content``: the run was recorded
  without content capture.

Beyond the reference, a ``tool_call`` event gets the result of the matching tool span
(same run, same call id, no error) as its recorded ``result``, so a scripted replay of
a curated trace feeds back what the tool answered live. Data the conversion cannot
keep is reported as :class:`CurateWarning` s instead of being dropped silently.

:func:`curate_fixture` builds the fixture of one run by a :class:`CurationMode`;
:func:`stitch_dialogue` builds one multi-turn fixture from several runs of one thread.
Everything here is pure: no I/O, no clock, no logging.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import Enum

import attrs

from awaken_eval._records.events import SpanRecorded
from awaken_eval._records.expectations import Expectation
from awaken_eval._records.fixtures import (
    ChatResponseEvent,
    DialogueTurn,
    ErrorEvent,
    Fixture,
    ProviderScriptEvent,
    StopReason,
    TokenUsage,
    ToolCallEvent,
)
from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.types import JsonValue
from awaken_eval._scoring.score import error_kind
from awaken_eval.errors import AwakenEvalError

__all__ = [
    "SKIPPED_CONVERSION",
    "CurateError",
    "CurateErrorKind",
    "CurateWarning",
    "CuratedScript",
    "CurationMode",
    "FixtureSource",
    "curate_fixture",
    "stitch_dialogue",
    "trace_fixture_source",
    "trace_to_provider_script",
]

SKIPPED_CONVERSION = "conversion skipped by request"
"""``provider_script_error`` of a fixture curated with :attr:`CurationMode.SKIP`."""

_FINISH_REASONS = {
    "end_turn": StopReason.END_TURN,
    "max_tokens": StopReason.MAX_TOKENS,
    "tool_use": StopReason.TOOL_USE,
    "stop_sequence": StopReason.STOP_SEQUENCE,
}
"""Span finish reasons (snake_case) -> script stop reasons (PascalCase on the wire)."""

_BLOCK_TYPES = frozenset(
    {"text", "image", "document", "audio", "video", "tool_use", "tool_result", "thinking"}
)
"""Content block types of the reference (tagged by ``type``)."""

_ROLES = frozenset({"system", "user", "assistant", "tool"})
"""Message roles of the reference."""

"""Error types a scripted replay maps to their own kind (case-insensitively); any other
type is replayed as a generic provider error."""


class CurateErrorKind(Enum):
    """Why a trace could not be curated."""

    NO_INFERENCES = "no_inferences"
    """The trace holds no inference span at all."""
    TOOL_CALLS_DECODE = "tool_calls_decode"
    """``response_tool_calls`` is not a list of ``{id, name, arguments}`` objects."""
    EMPTY_TOOL_CALLS = "empty_tool_calls"
    """``response_tool_calls`` is an empty list."""
    MULTIPLE_TOOL_CALLS = "multiple_tool_calls"
    """One inference requested several tool calls (a script event holds one)."""
    MIXED_TOOL_CALL_CONTENT = "mixed_tool_call_content"
    """One inference has both tool calls and content blocks."""
    CONTENT_DECODE = "content_decode"
    """``response_content`` is not a list of content blocks."""
    UNSUPPORTED_CONTENT_BLOCK = "unsupported_content_block"
    """The response has a non-text content block (image, thinking, ...)."""
    MISSING_CONTENT = "missing_content"
    """An inference without error, content or tool calls: content capture was off."""
    MISSING_USER_INPUT = "missing_user_input"
    """No user input was given and none could be recovered from the trace."""
    EMPTY_DIALOGUE = "empty_dialogue"
    """A dialogue was to be stitched from no run at all."""
    THREAD_MISMATCH = "thread_mismatch"
    """A run of a dialogue belongs to another thread than the first run."""
    MODEL_MISMATCH = "model_mismatch"
    """A run of a dialogue used another source model than the first run."""


_SCRIPT_KINDS = frozenset(
    {
        CurateErrorKind.TOOL_CALLS_DECODE,
        CurateErrorKind.EMPTY_TOOL_CALLS,
        CurateErrorKind.MULTIPLE_TOOL_CALLS,
        CurateErrorKind.MIXED_TOOL_CALL_CONTENT,
        CurateErrorKind.CONTENT_DECODE,
        CurateErrorKind.UNSUPPORTED_CONTENT_BLOCK,
        CurateErrorKind.MISSING_CONTENT,
    }
)
"""Kinds that only stop the script conversion (optional mode keeps the fixture)."""


_MESSAGES = {
    CurateErrorKind.NO_INFERENCES: "trace has no inference events to curate",
    CurateErrorKind.TOOL_CALLS_DECODE: (
        "inference step {step}: response_tool_calls is not a list of "
        "{{id, name, arguments}} objects"
    ),
    CurateErrorKind.EMPTY_TOOL_CALLS: "inference step {step}: response_tool_calls is empty",
    CurateErrorKind.MULTIPLE_TOOL_CALLS: (
        "inference step {step}: {count} tool calls in one inference; "
        "provider_script currently supports one tool call per turn"
    ),
    CurateErrorKind.MIXED_TOOL_CALL_CONTENT: (
        "inference step {step}: the inference has both tool calls and response content; "
        "a provider_script tool_call event cannot carry content"
    ),
    CurateErrorKind.CONTENT_DECODE: (
        "inference step {step}: response_content is not a list of content blocks"
    ),
    CurateErrorKind.UNSUPPORTED_CONTENT_BLOCK: (
        "inference step {step}: response_content has a {block_type!r} block; "
        "provider_script chat responses support text blocks only"
    ),
    CurateErrorKind.MISSING_CONTENT: (
        "inference step {step}: the span has no response_content, response_tool_calls "
        "or error_type; enable content capture on the recording agent to curate its traces"
    ),
    CurateErrorKind.MISSING_USER_INPUT: (
        "user_input is required: none was given and the trace's request_messages "
        "were not captured or hold no user text"
    ),
    CurateErrorKind.EMPTY_DIALOGUE: "run_ids must be non-empty to stitch a dialogue",
    CurateErrorKind.THREAD_MISMATCH: (
        "runs of one dialogue must share a thread: expected thread_id={expected!r}, "
        "got thread_id={actual!r}"
    ),
    CurateErrorKind.MODEL_MISMATCH: (
        "runs of one dialogue must share a source model: expected {expected!r}, got {actual!r}"
    ),
}
"""Message template of each kind, filled from the error's structured fields."""


class CurateError(AwakenEvalError, ValueError):
    """A trace could not be turned into a fixture (or a provider script).

    The message is built from the structured fields; with ``run_id`` set it starts
    with ``run <id>:`` and a space (the run of a dialogue, or of a curated fixture, that
    failed).

    Attributes:
        kind: Why.
        step: The inference step (``step_index``, 0 when absent) at fault.
        count: How many tool calls the inference requested (``multiple_tool_calls``).
        block_type: The unsupported content block type (``unsupported_content_block``).
        run_id: The trace run at fault, when known.
        expected: What the first run of a dialogue recorded (thread or model mismatch).
        actual: What the faulty run recorded (thread or model mismatch).
        reason: The message without the run prefix (what a live-only fixture keeps as
            its ``provider_script_error``).
    """

    def __init__(
        self,
        kind: CurateErrorKind,
        *,
        step: int | None = None,
        count: int | None = None,
        block_type: str | None = None,
        run_id: str | None = None,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        """Create the error of ``kind`` with its structured fields."""
        self.kind = kind
        self.step = step
        self.count = count
        self.block_type = block_type
        self.run_id = run_id
        self.expected = expected
        self.actual = actual
        self.reason = _MESSAGES[kind].format(
            step=step, count=count, block_type=block_type, expected=expected, actual=actual
        )
        super().__init__(self.reason if run_id is None else f"run {run_id}: {self.reason}")

    def for_run(self, run_id: str) -> CurateError:
        """The same error, attributed to the trace run ``run_id``."""
        return CurateError(
            self.kind,
            step=self.step,
            count=self.count,
            block_type=self.block_type,
            run_id=run_id,
            expected=self.expected,
            actual=self.actual,
        )


class CurationMode(Enum):
    """How a fixture is curated when its trace cannot become a provider script.

    The values are the reference's ``provider_script_mode`` strings.
    """

    OPTIONAL = "optional"
    """Try the conversion; when it fails, keep a live-only fixture that says why."""
    REQUIRE = "require"
    """Try the conversion; when it fails, raise the :class:`CurateError`."""
    SKIP = "skip"
    """Never convert: always a live-only fixture (``conversion skipped by request``)."""


@attrs.frozen
class CurateWarning:
    """Something the conversion had to drop or approximate.

    Attributes:
        step: The inference step concerned.
        message: What was lost and what a replay does instead.
    """

    step: int
    message: str

    def __str__(self) -> str:
        """Render as ``inference step <n>: <message>``."""
        return f"inference step {self.step}: {self.message}"


@attrs.frozen(kw_only=True)
class FixtureSource:
    """What a trace says about the fixture it can become (spec §6.1).

    Attributes:
        source_model_id: Model of the first inference span that names one.
        user_input: The user message that started the run, when the request history
            was captured.
        warnings: Data of the user message that was dropped.
    """

    source_model_id: str | None = None
    user_input: str | None = None
    warnings: tuple[CurateWarning, ...] = ()


@attrs.frozen(kw_only=True)
class CuratedScript:
    """A trace converted into a provider script (spec §6.2).

    Attributes:
        provider_script: One event per inference span, in record order.
        source_model_id: Model of the first inference span that names one.
        user_input: The recovered user message, if any.
        warnings: Data the conversion dropped or approximated, in step order.
    """

    provider_script: tuple[ProviderScriptEvent, ...]
    source_model_id: str | None = None
    user_input: str | None = None
    warnings: tuple[CurateWarning, ...] = ()


# -- reading a trace -----------------------------------------------------------------------


def _spans(events: Iterable[object]) -> tuple[list[InferenceSpan], list[ToolSpan]]:
    inferences: list[InferenceSpan] = []
    tools: list[ToolSpan] = []
    for event in events:
        span = event.span if isinstance(event, SpanRecorded) else event
        if isinstance(span, InferenceSpan):
            inferences.append(span)
        elif isinstance(span, ToolSpan):
            tools.append(span)
    return inferences, tools


def _step(span: InferenceSpan) -> int:
    return span.step_index if span.step_index is not None else 0


def _text_blocks(content: object) -> tuple[str, bool] | None:
    """Text of a message's content (a string or a block list) and whether non-text
    blocks were skipped; ``None`` when it does not decode.
    """  # noqa: D205
    if isinstance(content, str):
        return content, False
    if not isinstance(content, list):
        return None
    texts: list[str] = []
    skipped = False
    for block in content:
        decoded = _decode_block(block)
        if decoded is None:
            return None
        block_type, text = decoded
        if block_type == "text":
            texts.append(text)
        else:
            skipped = True
    return "".join(texts), skipped


def _decode_block(block: object) -> tuple[str, str] | None:
    """A content block's type and text (``""`` unless a text block); ``None`` if invalid."""
    if not isinstance(block, dict):
        return None
    block_type = block.get("type")
    if not isinstance(block_type, str) or block_type not in _BLOCK_TYPES:
        return None
    if block_type != "text":
        return block_type, ""
    text = block.get("text")
    return (block_type, text) if isinstance(text, str) else None


def _user_text(messages: JsonValue) -> tuple[str, bool] | None:
    """The latest non-empty user text of a captured history (spec §6.1)."""
    if not isinstance(messages, list):
        return None
    decoded: list[tuple[str, tuple[str, bool]]] = []
    for message in messages:
        if not isinstance(message, dict):
            return None
        role = message.get("role")
        content = _text_blocks(message.get("content", []))
        if not isinstance(role, str) or role not in _ROLES or content is None:
            return None
        decoded.append((role, content))
    for role, (text, skipped) in reversed(decoded):
        if role == "user" and text:
            return text, skipped
    return None


def trace_fixture_source(events: Iterable[object]) -> FixtureSource:
    """Recover the source model and the user input of a trace (spec §6.1).

    Only inference spans count, in record order. ``source_model_id`` is the model of
    the first span that names one. ``user_input`` comes from the first span whose
    captured ``request_messages`` decode and hold a user message with text: the
    *latest* such user message (on a continued thread, the one that started this run),
    its text blocks concatenated without separator.

    Args:
        events: The trace: spans (or span events) in record order.

    Raises:
        CurateError: ``no_inferences`` when the trace holds no inference span.
    """
    inferences, _ = _spans(events)
    if not inferences:
        raise CurateError(CurateErrorKind.NO_INFERENCES)
    model = next((span.model for span in inferences if span.model), None)
    for span in inferences:
        found = _user_text(span.request_messages)
        if found is None:
            continue
        text, skipped = found
        warnings: tuple[CurateWarning, ...] = ()
        if skipped:
            dropped = "non-text blocks of the user message were dropped from user_input"
            warnings = (CurateWarning(_step(span), dropped),)
        return FixtureSource(source_model_id=model, user_input=text, warnings=warnings)
    return FixtureSource(source_model_id=model)


# -- converting a trace -----------------------------------------------------------------


def _count(value: int | None) -> int | None:
    """A span token count as a script count (script counts are never negative)."""
    return None if value is None else max(0, value)


def _tokens(span: InferenceSpan) -> TokenUsage:
    return TokenUsage(
        prompt_tokens=_count(span.input_tokens),
        completion_tokens=_count(span.output_tokens),
        total_tokens=_count(span.total_tokens),
        cache_read_tokens=_count(span.cache_read_input_tokens),
        cache_creation_tokens=_count(span.cache_creation_input_tokens),
        thinking_tokens=_count(span.thinking_tokens),
    )


def _decode_tool_calls(value: JsonValue, step: int) -> list[tuple[str, str, JsonValue]]:
    if not isinstance(value, list):
        raise CurateError(CurateErrorKind.TOOL_CALLS_DECODE, step=step)
    calls: list[tuple[str, str, JsonValue]] = []
    for call in value:
        if (
            not isinstance(call, dict)
            or not isinstance(call.get("id"), str)
            or not isinstance(call.get("name"), str)
            or "arguments" not in call
        ):
            raise CurateError(CurateErrorKind.TOOL_CALLS_DECODE, step=step)
        calls.append((call["id"], call["name"], call["arguments"]))
    return calls


def _decode_content(value: JsonValue, step: int) -> list[tuple[str, str]]:
    blocks = [_decode_block(block) for block in value] if isinstance(value, list) else [None]
    decoded = [block for block in blocks if block is not None]
    if len(decoded) != len(blocks):
        raise CurateError(CurateErrorKind.CONTENT_DECODE, step=step)
    return decoded


def _error_event(span: InferenceSpan, error_type: str) -> tuple[ErrorEvent, list[CurateWarning]]:
    step = _step(span)
    warnings = [
        CurateWarning(
            step,
            f"error span ({error_type!r}) became an error event with an empty message "
            "(traces do not keep provider error messages)",
        )
    ]
    if error_kind(error_type) is None:
        warnings.append(
            CurateWarning(
                step,
                f"error type {error_type!r} is not a known error kind; "
                "a scripted replay raises it as a generic provider error",
            )
        )
    return ErrorEvent(error_type), warnings


def _tool_call_event(
    span: InferenceSpan, results: dict[tuple[str, str], JsonValue]
) -> ToolCallEvent:
    step = _step(span)
    calls = _decode_tool_calls(span.response_tool_calls, step)
    if not calls:
        raise CurateError(CurateErrorKind.EMPTY_TOOL_CALLS, step=step)
    if len(calls) > 1:
        raise CurateError(CurateErrorKind.MULTIPLE_TOOL_CALLS, step=step, count=len(calls))
    if span.response_content is not None and _decode_content(span.response_content, step):
        raise CurateError(CurateErrorKind.MIXED_TOOL_CALL_CONTENT, step=step)
    call_id, name, arguments = calls[0]
    return ToolCallEvent(
        call_id, name, arguments, tokens=_tokens(span), result=results.get((span.run_id, call_id))
    )


def _chat_event(span: InferenceSpan) -> ChatResponseEvent:
    step = _step(span)
    blocks = _decode_content(span.response_content, step)
    for block_type, _ in blocks:
        if block_type != "text":
            raise CurateError(
                CurateErrorKind.UNSUPPORTED_CONTENT_BLOCK, step=step, block_type=block_type
            )
    first = span.finish_reasons[0] if span.finish_reasons else ""
    return ChatResponseEvent(
        "".join(text for _, text in blocks),
        tokens=_tokens(span),
        finish_reason=_FINISH_REASONS.get(first, StopReason.END_TURN),
    )


def _tool_results(tools: Sequence[ToolSpan]) -> dict[tuple[str, str], JsonValue]:
    """Result of each successful tool call with a captured result, by (run, call id)."""
    results: dict[tuple[str, str], JsonValue] = {}
    for tool in tools:
        if tool.call_id is None or tool.error_type is not None or tool.call_result is None:
            continue
        results.setdefault((tool.run_id, tool.call_id), tool.call_result)
    return results


def trace_to_provider_script(
    events: Iterable[object], *, tool_results: bool = True
) -> CuratedScript:
    """Convert a trace into a provider script (spec §6.2).

    One event per inference span, in record order; tool spans add no event. Token
    counts are copied (a negative count becomes 0); a chat response's finish reason is
    the span's first ``finish_reasons`` entry (unknown or none: ``EndTurn``).

    Args:
        events: The trace: spans (or span events) in record order.
        tool_results: Give each ``tool_call`` event the result its tool span recorded
            (same run and call id, no error), so a scripted replay feeds it back
            instead of calling a tool. ``False`` leaves every result absent.

    Raises:
        CurateError: ``no_inferences`` for a trace without inference span, or the
            first span that cannot become an event (``tool_calls_decode``,
            ``empty_tool_calls``, ``multiple_tool_calls``, ``mixed_tool_call_content``,
            ``content_decode``, ``unsupported_content_block``, ``missing_content``),
            with its ``step``.
    """
    events = tuple(events)
    source = trace_fixture_source(events)
    inferences, tools = _spans(events)
    results = _tool_results(tools) if tool_results else {}
    script: list[ProviderScriptEvent] = []
    warnings = list(source.warnings)
    for span in inferences:
        if span.error_type is not None:
            event, dropped = _error_event(span, span.error_type)
            script.append(event)
            warnings.extend(dropped)
        elif span.response_tool_calls is not None:
            script.append(_tool_call_event(span, results))
        elif span.response_content is not None:
            script.append(_chat_event(span))
        else:
            raise CurateError(CurateErrorKind.MISSING_CONTENT, step=_step(span))
    return CuratedScript(
        provider_script=tuple(script),
        source_model_id=source.source_model_id,
        user_input=source.user_input,
        warnings=tuple(warnings),
    )


# -- fixtures ------------------------------------------------------------------------------


@attrs.frozen
class _Turn:
    """One curated run: its user input, its script (or why there is none), its model."""

    user_input: str
    script: tuple[ProviderScriptEvent, ...]
    script_error: str | None
    source_model_id: str | None


def _curate_run(
    events: Sequence[object],
    mode: CurationMode,
    *,
    user_input: str | None = None,
    tool_results: bool = True,
) -> _Turn:
    """Curate one run by ``mode``; the user input is ``user_input`` or recovered."""
    source = trace_fixture_source(events)  # no inference fails in every mode
    script: tuple[ProviderScriptEvent, ...] = ()
    script_error: str | None = SKIPPED_CONVERSION
    if mode is not CurationMode.SKIP:
        try:
            script = trace_to_provider_script(events, tool_results=tool_results).provider_script
            script_error = None
        except CurateError as exc:
            if mode is CurationMode.REQUIRE or exc.kind not in _SCRIPT_KINDS:
                raise
            script_error = exc.reason
    text = user_input if user_input is not None else source.user_input
    if text is None:
        raise CurateError(CurateErrorKind.MISSING_USER_INPUT)
    return _Turn(text, script, script_error, source.source_model_id)


def curate_fixture(
    events: Iterable[object],
    *,
    run_id: str,
    expectation: Expectation,
    fixture_id: str | None = None,
    mode: CurationMode = CurationMode.OPTIONAL,
    user_input: str | None = None,
    description: str | None = None,
    allow_unused_provider_script: bool = False,
    tool_results: bool = True,
) -> Fixture:
    """Build the fixture of one trace run (spec §5.3 step 8, §6.3).

    With :attr:`CurationMode.OPTIONAL` a trace that cannot become a script still gives
    a *live-only* fixture: empty script, ``provider_script_error`` = why. The source
    model and user input are always recovered (spec §6.1).

    Args:
        events: The trace of the run: spans (or span events) in record order.
        run_id: The trace run (``source_run_id``; the default fixture id).
        expectation: The fixture's success criteria.
        fixture_id: The fixture id (default: ``run_id``).
        mode: What to do when the conversion fails.
        user_input: The first user message (default: recovered from the trace).
        description: Human text (default ``Curated from trace <run_id>``).
        allow_unused_provider_script: Tolerate unconsumed script events on replay.
        tool_results: Record each tool call's result from its tool span (see
            :func:`trace_to_provider_script`).

    Raises:
        CurateError: ``no_inferences`` (every mode); a conversion error in
            :attr:`CurationMode.REQUIRE` mode; ``missing_user_input`` when no user input
            was given and the trace's ``request_messages`` hold none. Each carries
            ``run_id``.
    """
    try:
        turn = _curate_run(tuple(events), mode, user_input=user_input, tool_results=tool_results)
    except CurateError as exc:
        raise exc.for_run(run_id) from None
    return Fixture(
        fixture_id if fixture_id is not None else run_id,
        description=description if description is not None else f"Curated from trace {run_id}",
        user_input=turn.user_input,
        provider_script=turn.script,
        provider_script_error=turn.script_error,
        source_run_id=run_id,
        source_model_id=turn.source_model_id,
        allow_unused_provider_script=allow_unused_provider_script,
        expect=expectation,
    )


def _thread_id(events: Sequence[object]) -> str:
    inferences, _ = _spans(events)
    if not inferences:
        raise CurateError(CurateErrorKind.NO_INFERENCES)
    return inferences[0].thread_id


def _dialogue_turn(
    events: Sequence[object],
    first: tuple[str, _Turn] | None,
    mode: CurationMode,
    *,
    tool_results: bool,
) -> tuple[str, _Turn]:
    """Curate one run of a dialogue, checked against the first run (if any)."""
    thread = _thread_id(events)
    if first is not None and thread != first[0]:
        raise CurateError(CurateErrorKind.THREAD_MISMATCH, expected=first[0], actual=thread)
    turn = _curate_run(events, mode, tool_results=tool_results)
    if first is not None and turn.source_model_id != first[1].source_model_id:
        raise CurateError(
            CurateErrorKind.MODEL_MISMATCH,
            expected=first[1].source_model_id,
            actual=turn.source_model_id,
        )
    return thread, turn


def stitch_dialogue(
    traces: Sequence[tuple[str, Sequence[object]]],
    *,
    expectation: Expectation,
    fixture_id: str | None = None,
    description: str | None = None,
    mode: CurationMode = CurationMode.OPTIONAL,
    allow_unused_provider_script: bool = False,
    tool_results: bool = True,
) -> Fixture:
    """Stitch the traces of several runs on one thread into a multi-turn fixture.

    The first run is turn 0 (the fixture's ``user_input`` and script), each further run
    a continued turn with its own script, or its own ``provider_script_error`` when its
    conversion failed in :attr:`CurationMode.OPTIONAL` mode. Runs are checked in order
    (spec §6.3 ``import-dialogue``): the thread (first inference span's ``thread_id``)
    must be the first run's, the run converts per ``mode``, its user input must be
    recoverable, and its source model must be the first run's.

    Args:
        traces: ``(run_id, events)`` per run, in dialogue order.
        expectation: The fixture's success criteria.
        fixture_id: The fixture id (default: the first run id).
        description: Human text (default ``Stitched dialogue from <n> runs``).
        mode: What to do when a run's conversion fails.
        allow_unused_provider_script: Tolerate unconsumed script events on replay.
        tool_results: Record each tool call's result from its tool span (see
            :func:`trace_to_provider_script`).

    Raises:
        CurateError: ``empty_dialogue`` for no run; else, naming the run at fault,
            ``no_inferences``, ``thread_mismatch`` (message has ``thread_id=``), a
            conversion error (require mode), ``missing_user_input`` or
            ``model_mismatch``.
    """
    if not traces:
        raise CurateError(CurateErrorKind.EMPTY_DIALOGUE)
    turns: list[tuple[str, _Turn]] = []
    for run_id, events in traces:
        try:
            turns.append(
                _dialogue_turn(
                    tuple(events), turns[0] if turns else None, mode, tool_results=tool_results
                )
            )
        except CurateError as exc:
            raise exc.for_run(run_id) from None
    first_run = traces[0][0]
    first = turns[0][1]
    continued = tuple(
        DialogueTurn(
            turn.user_input, provider_script=turn.script, provider_script_error=turn.script_error
        )
        for _, turn in turns[1:]
    )
    return Fixture(
        fixture_id if fixture_id is not None else first_run,
        description=(
            description if description is not None else f"Stitched dialogue from {len(turns)} runs"
        ),
        user_input=first.user_input,
        provider_script=first.script,
        provider_script_error=first.script_error,
        source_run_id=first_run,
        source_model_id=first.source_model_id,
        allow_unused_provider_script=allow_unused_provider_script,
        expect=expectation,
        continued_turns=continued,
    )
