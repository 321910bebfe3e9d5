"""Counting the HTTP attempts of one request and the time waited between them.

The SDKs retry inside one ``create`` call. Their HTTP client calls event hooks in the
task that awaits the call, so a context variable set around the call collects every
attempt's request and response of that call, and only of that call.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

__all__ = ["Attempts", "event_hooks", "tracked"]


class Attempts:
    """The attempts of one request (mutable, private to one ``execute`` call).

    Attributes:
        count: Requests sent.
        wait_secs: Time between a failed attempt's response and the next request.
        request_id: The request id header of the last response.
        throttled: Responses with status 429.
    """

    __slots__ = ("_clock", "_failed_at", "count", "request_id", "throttled", "wait_secs")

    def __init__(self, clock: Callable[[], float]) -> None:
        """Start counting with ``clock`` (monotonic seconds)."""
        self._clock = clock
        self._failed_at: float | None = None
        self.count = 0
        self.wait_secs = 0.0
        self.request_id: str | None = None
        self.throttled = 0

    def sent(self) -> None:
        """One more request went out."""
        if self._failed_at is not None:
            self.wait_secs += max(0.0, self._clock() - self._failed_at)
            self._failed_at = None
        self.count += 1

    def answered(self, status: int, request_id: str | None) -> None:
        """A response arrived with ``status``."""
        if request_id is not None:
            self.request_id = request_id
        if status == 429:
            self.throttled += 1
        if status >= 400:
            self._failed_at = self._clock()


_CURRENT: contextvars.ContextVar[Attempts | None] = contextvars.ContextVar(
    "awaken_eval_provider_attempts", default=None
)


class tracked:  # noqa: N801 - used as a context manager, like contextlib's
    """Collect the attempts of the calls made inside ``with tracked(clock) as attempts``."""

    __slots__ = ("_attempts", "_token")

    def __init__(self, clock: Callable[[], float]) -> None:
        """Prepare a fresh :class:`Attempts`."""
        self._attempts = Attempts(clock)
        self._token: contextvars.Token[Attempts | None] | None = None

    def __enter__(self) -> Attempts:
        """Make the attempts current."""
        self._token = _CURRENT.set(self._attempts)
        return self._attempts

    def __exit__(self, *exc_info: object) -> None:
        """Restore the previous attempts."""
        if self._token is not None:
            _CURRENT.reset(self._token)


def event_hooks(request_id_header: str) -> dict[str, list[Callable[[Any], Any]]]:
    """The HTTP client's event hooks feeding the current :class:`Attempts`."""

    async def on_request(request: Any) -> None:
        del request
        attempts = _CURRENT.get()
        if attempts is not None:
            attempts.sent()

    async def on_response(response: Any) -> None:
        attempts = _CURRENT.get()
        if attempts is not None:
            attempts.answered(response.status_code, response.headers.get(request_id_header))

    return {"request": [on_request], "response": [on_response]}
