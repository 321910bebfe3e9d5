"""Virtual time for deadline tests: the event loop's clock jumps instead of waiting.

A test on a :class:`JumpClock` sees exact times on a loaded machine: whenever every task
is waiting, the clock jumps to the next timer (a sleep, a deadline) at once, so "a
0.2 s replay plus a 0.4 s judge against a 0.5 s deadline" takes no real time and ends
exactly as the arithmetic says. Code that blocks the event loop is simulated with
:meth:`JumpClock.jump`.

Use it through the ``anyio_backend`` fixture of a test module::

    @pytest.fixture(params=["asyncio", "trio"])
    def clock(request: pytest.FixtureRequest) -> JumpClock:
        return JumpClock(request.param)

    @pytest.fixture
    def anyio_backend(clock: JumpClock) -> tuple[str, dict[str, object]]:
        return clock.backend

On trio this is trio's own ``MockClock`` with ``autojump_threshold=0``; on asyncio an
event loop whose ``time()`` is virtual and whose selector, instead of sleeping until the
next timer, advances the virtual time to it. Waiting on a thread or a real socket with
no timer due still waits for real. Not for tests that run work in threads while a timer
is pending: the clock would jump past it.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import trio.testing

if TYPE_CHECKING:
    from _typeshed import FileDescriptorLike

__all__ = ["JumpClock"]


class _JumpSelector(selectors.BaseSelector):
    """A selector that never sleeps until a timer: it advances the virtual clock."""

    def __init__(self, clock: JumpClock) -> None:
        self._clock = clock
        self._real = selectors.DefaultSelector()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._real.select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:  # no timer due: wait for real (a thread, a socket)
            return self._real.select(None)
        self._clock.now += timeout
        return []

    def register(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: FileDescriptorLike) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(
        self, fileobj: FileDescriptorLike, events: int, data: Any = None
    ) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_map(self) -> Mapping[FileDescriptorLike, selectors.SelectorKey]:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()


class _JumpLoop(asyncio.SelectorEventLoop):
    def __init__(self, clock: JumpClock) -> None:
        super().__init__(_JumpSelector(clock))
        self._jump_clock = clock

    def time(self) -> float:
        return self._jump_clock.now


class JumpClock:
    """Virtual time for one backend (``"asyncio"`` or ``"trio"``).

    Attributes:
        now: The virtual time on asyncio (trio keeps its own).
        backend: The ``anyio_backend`` value that runs a test on this clock.
    """

    def __init__(self, backend: str) -> None:
        self.now = 1000.0
        self._trio = trio.testing.MockClock(autojump_threshold=0) if backend == "trio" else None
        options: dict[str, object] = (
            {"clock": self._trio}
            if self._trio is not None
            else {"loop_factory": lambda: _JumpLoop(self)}
        )
        self.backend: tuple[str, dict[str, object]] = (backend, options)

    def jump(self, seconds: float) -> None:
        """Let ``seconds`` pass at once, as code blocking the event loop would."""
        if self._trio is not None:
            self._trio.jump(seconds)
        else:
            self.now += seconds
