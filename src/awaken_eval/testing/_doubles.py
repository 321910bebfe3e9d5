"""Test doubles for the protocols of awaken-eval, for your test-suite and ours.

Each double is a small structural implementation of a protocol (no subclassing) that
records what it was asked, so a test can assert on it:

* :class:`CannedTextExecutor` — answers queued texts first in, first out, then repeats
  the last one;
* :class:`EmptyResultExecutor` — answers nothing at all (no text, no tool calls);
* :class:`FailingExecutor` — raises an :class:`~awaken_eval.InferenceError` of a kind;
* :class:`HangingExecutor` — never answers (or answers late), for deadline tests;
* :class:`ScriptedJudge` — returns queued scores (``1.0`` once exhausted) or raises
  queued :class:`~awaken_eval.JudgeError` s;
* :class:`ExplodingJudge` — fails the test if it is ever called (guards cache hits);
* :class:`CapturingSink` — collects trace events in a list, optionally failing.

They work on asyncio and trio alike.

Example::

    executor = CannedTextExecutor(["first", "second"])
    judge = ScriptedJudge([0.3, 0.9])
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import anyio

from awaken_eval._records.events import SpanRecorded, TraceEvent
from awaken_eval._records.fixtures import StopReason, TokenUsage
from awaken_eval._records.grading import JudgeRequest, JudgeResult
from awaken_eval._records.inference import InferenceRequest, InferenceResult
from awaken_eval.errors import InferenceError, InferenceErrorKind, JudgeError

__all__ = [
    "CannedTextExecutor",
    "CapturingSink",
    "EmptyResultExecutor",
    "ExplodingJudge",
    "FailingExecutor",
    "HangingExecutor",
    "ScriptedJudge",
    "SinkFailure",
]

_CANNED_USAGE = TokenUsage(prompt_tokens=1, completion_tokens=1, total_tokens=2)


class CannedTextExecutor:
    """An executor answering queued texts first in, first out.

    When the queue is empty the last text served is repeated (``""`` if there never was
    one). Every answer has the same token usage and stop reason.

    Attributes:
        usage: Token usage reported with every answer (default 1 in, 1 out, 2 total).
        stop_reason: Stop reason reported with every answer.
        requests: Every request received, in order.
    """

    def __init__(
        self,
        texts: Iterable[str] = (),
        *,
        usage: TokenUsage = _CANNED_USAGE,
        stop_reason: StopReason | None = StopReason.END_TURN,
    ) -> None:
        """Answer ``texts`` in order, then keep repeating the last one."""
        self._texts: deque[str] = deque(texts)
        self._last = ""
        self.usage = usage
        self.stop_reason = stop_reason
        self.requests: list[InferenceRequest] = []

    @property
    def remaining(self) -> int:
        """Queued texts not served yet."""
        return len(self._texts)

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Record ``request`` and answer the next queued text."""
        self.requests.append(request)
        if self._texts:
            self._last = self._texts.popleft()
        return InferenceResult(
            text=self._last,
            usage=self.usage,
            stop_reason=self.stop_reason,
            model=request.model,
        )


class EmptyResultExecutor:
    """An executor whose every answer is empty: no text, no tool calls, no usage.

    Attributes:
        requests: Every request received, in order.
    """

    def __init__(self) -> None:
        """Create the executor."""
        self.requests: list[InferenceRequest] = []

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Record ``request`` and answer nothing."""
        self.requests.append(request)
        return InferenceResult()


class FailingExecutor:
    """An executor that always raises an :class:`~awaken_eval.InferenceError`.

    Attributes:
        kind: The kind raised.
        message: The message raised.
        error_type: The error type raised (default: the kind's value).
        requests: Every request received, in order.
    """

    def __init__(
        self,
        kind: InferenceErrorKind = InferenceErrorKind.PROVIDER,
        *,
        message: str = "simulated failure",
        error_type: str | None = None,
    ) -> None:
        """Raise errors of ``kind`` with ``message``."""
        self.kind = kind
        self.message = message
        self.error_type = error_type
        self.requests: list[InferenceRequest] = []

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Record ``request`` and raise.

        Raises:
            InferenceError: always.
        """
        self.requests.append(request)
        raise InferenceError(self.kind, self.message, error_type=self.error_type)


class HangingExecutor:
    """An executor that never answers, or answers only after ``delay`` seconds.

    Use it to test deadlines: the caller's cancel scope must cancel the call. A
    cancellation is counted, then re-raised.

    Attributes:
        delay: Seconds to wait before answering (``None``: wait forever).
        text: The late answer.
        usage: Token usage of the late answer.
        requests: Every request received, in order.
        started: Calls that began waiting.
        cancellations: Calls cancelled while waiting.
        completed: Calls that answered.
    """

    def __init__(
        self,
        *,
        delay: float | None = None,
        text: str = "late answer",
        usage: TokenUsage = _CANNED_USAGE,
    ) -> None:
        """Wait forever, or ``delay`` seconds and then answer ``text``."""
        self.delay = delay
        self.text = text
        self.usage = usage
        self.requests: list[InferenceRequest] = []
        self.started = 0
        self.cancellations = 0
        self.completed = 0

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Record ``request``, wait, and answer (unless cancelled first)."""
        self.requests.append(request)
        self.started += 1
        try:
            if self.delay is None:
                await anyio.sleep_forever()
            else:
                await anyio.sleep(self.delay)
        except anyio.get_cancelled_exc_class():
            self.cancellations += 1
            raise
        self.completed += 1
        return InferenceResult(
            text=self.text, usage=self.usage, stop_reason=StopReason.END_TURN, model=request.model
        )


class ScriptedJudge:
    """A judge answering queued grades, then ``1.0`` once the queue is empty.

    A queued number becomes a result with that score and the reasoning ``"scripted"``;
    a queued :class:`~awaken_eval.JudgeResult` is returned as is (e.g. to script a
    missing reasoning); a queued :class:`~awaken_eval.JudgeError` is raised.

    Attributes:
        reasoning: Reasoning of results built from numbers.
        requests: Every request received, in order.
    """

    def __init__(
        self,
        grades: Iterable[float | JudgeResult | JudgeError] = (),
        *,
        reasoning: str | None = "scripted",
    ) -> None:
        """Answer ``grades`` in order, then ``1.0``."""
        self._grades: deque[float | JudgeResult | JudgeError] = deque(grades)
        self.reasoning = reasoning
        self.requests: list[JudgeRequest] = []

    @property
    def calls(self) -> int:
        """Requests received so far."""
        return len(self.requests)

    @property
    def remaining(self) -> int:
        """Queued grades not served yet."""
        return len(self._grades)

    async def grade(self, request: JudgeRequest) -> JudgeResult:
        """Record ``request`` and answer the next queued grade.

        Raises:
            JudgeError: when the next queued entry is one.
        """
        self.requests.append(request)
        grade = self._grades.popleft() if self._grades else 1.0
        if isinstance(grade, JudgeError):
            raise grade
        if isinstance(grade, JudgeResult):
            return grade
        return JudgeResult(score=grade, reasoning=self.reasoning)


class ExplodingJudge:
    """A judge that fails the test when called: guards paths that must not judge."""

    async def grade(self, request: JudgeRequest) -> JudgeResult:
        """Fail.

        Raises:
            AssertionError: always.
        """
        msg = f"ExplodingJudge was called for fixture {request.fixture_id!r}"
        raise AssertionError(msg)


class SinkFailure(RuntimeError):
    """Raised by a :class:`CapturingSink` created with ``fail=True``."""


class CapturingSink:
    """A trace sink collecting every event in :attr:`events`.

    With ``fail=True`` every :meth:`emit` records the event and then raises
    :class:`SinkFailure`, to check that a failing sink never fails a run.

    It is a :class:`~awaken_eval.protocols.TraceFinisher`: a run id is confirmed when a
    span of it was captured.

    Attributes:
        events: Every event emitted, in order.
        fail: Whether :meth:`emit` raises.
    """

    def __init__(self, *, fail: bool = False) -> None:
        """Collect events; raise on each emit when ``fail``."""
        self.events: list[TraceEvent] = []
        self.fail = fail

    @property
    def kinds(self) -> list[str]:
        """The ``kind`` tag of every event, in order."""
        return [event.kind for event in self.events]

    async def emit(self, event: TraceEvent) -> None:
        """Record ``event`` (and raise when configured to fail).

        Raises:
            SinkFailure: when created with ``fail=True``.
        """
        self.events.append(event)
        if self.fail:
            msg = f"CapturingSink configured to fail on {event.kind} events"
            raise SinkFailure(msg)

    async def finish_trace(self, run_id: str) -> bool:
        """Whether a span of ``run_id`` was captured (a failing sink stored nothing).

        This makes the sink a :class:`~awaken_eval.protocols.TraceFinisher`, so eval
        items replayed with it are linked to their trace (``trace_run_id``).
        """
        if self.fail:
            return False
        return any(
            isinstance(event, SpanRecorded) and event.span.run_id == run_id for event in self.events
        )
