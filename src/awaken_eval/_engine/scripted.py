"""``ScriptedExecutor``: an :class:`~awaken_eval.LlmExecutor` that replays a provider script.

Events are served first in, first out. A request for another model than the pinned one
is refused without consuming an event; a request after the last event counts as an
*exhausted* call. Scripted ``error`` events are raised as
:class:`~awaken_eval.InferenceError` with the kind mapped from the fixture-authored type
(which is kept verbatim as the error's ``error_type``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import attrs

from awaken_eval._records.fixtures import (
    ChatResponseEvent,
    ErrorEvent,
    ProviderScriptEvent,
    StopReason,
)
from awaken_eval._records.inference import InferenceRequest, InferenceResult, ToolCall
from awaken_eval.errors import InferenceError, InferenceErrorKind

__all__ = [
    "ScriptedError",
    "ScriptedExecutor",
    "error_kind_for",
    "exhausted_error",
    "scripted_error",
]

_KIND_ALIASES = {"rate_limit": InferenceErrorKind.RATE_LIMITED} | {
    kind.value: kind for kind in InferenceErrorKind
}


def error_kind_for(error_type: str) -> InferenceErrorKind:
    """Map a fixture-authored error type to its kind, case-insensitively.

    ``rate_limit`` and ``rate_limited`` are rate limits; every other kind name maps to
    itself; anything else is a generic provider error.
    """
    return _KIND_ALIASES.get(error_type.lower(), InferenceErrorKind.PROVIDER)


def exhausted_error(consumed_calls: int, exhausted_calls: int) -> InferenceError:
    """The error of a request that found the script empty (after counting it)."""
    msg = (
        f"scripted executor exhausted: no provider_script event left "
        f"({consumed_calls} consumed, {exhausted_calls} extra calls)"
    )
    return InferenceError(InferenceErrorKind.INVALID_REQUEST, msg)


def scripted_error(event: ErrorEvent) -> InferenceError:
    """The error a scripted ``error`` event raises."""
    return InferenceError(
        error_kind_for(event.error_type), event.message, error_type=event.error_type
    )


@attrs.frozen
class ScriptedError:
    """The first scripted error that fired.

    Attributes:
        error_type: The fixture-authored type.
        message: The scripted message.
    """

    error_type: str
    message: str


class ScriptedExecutor:
    """Serves a provider script, event by event, and counts how it was consumed.

    Attributes:
        expected_model: When set, every request must name this upstream model.
        consumed_calls: Requests that consumed an event.
        exhausted_calls: Requests that found the script empty.
        error_calls: Scripted error events served.
        first_error: The first scripted error served, if any.
    """

    def __init__(
        self, script: Iterable[ProviderScriptEvent], *, expected_model: str | None = None
    ) -> None:
        """Serve ``script``; pin requests to ``expected_model`` when given."""
        self._events: deque[ProviderScriptEvent] = deque(script)
        self.expected_model = expected_model
        self.consumed_calls = 0
        self.exhausted_calls = 0
        self.error_calls = 0
        self.first_error: ScriptedError | None = None

    @property
    def remaining(self) -> int:
        """Events not served yet."""
        return len(self._events)

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Serve the next event for ``request``.

        Raises:
            InferenceError: ``invalid_request`` for a model mismatch (nothing consumed)
                or an exhausted script; the mapped kind for a scripted error event.
        """
        if self.expected_model is not None and request.model != self.expected_model:
            msg = (
                f"scripted executor upstream_model mismatch: expected "
                f"{self.expected_model!r}, got {request.model!r}"
            )
            raise InferenceError(InferenceErrorKind.INVALID_REQUEST, msg)
        if not self._events:
            self.exhausted_calls += 1
            raise exhausted_error(self.consumed_calls, self.exhausted_calls)
        event = self._events.popleft()
        self.consumed_calls += 1
        if isinstance(event, ErrorEvent):
            self.error_calls += 1
            if self.first_error is None:
                self.first_error = ScriptedError(event.error_type, event.message)
            raise scripted_error(event)
        if isinstance(event, ChatResponseEvent):
            return InferenceResult(
                text=event.content,
                usage=event.tokens,
                stop_reason=event.finish_reason,
                model=request.model,
            )
        call = ToolCall(event.id, event.name, event.arguments, recorded_result=event.result)
        return InferenceResult(
            tool_calls=(call,),
            usage=event.tokens,
            stop_reason=StopReason.TOOL_USE,
            model=request.model,
        )
