"""Deadlines and cancellation: the run's clock, stray cancellations, the unit watchdog.

- :func:`loop_clock` is the clock every deadline of a run is measured with: the event
  loop's own (``anyio.current_time()``), read through the cheapest callable.
- A ``CancelledError`` raised by user code while nothing is cancelling the run is a
  *stray* cancellation: a failure of that unit, not a reason to stop the run.
  :func:`cancelled_classes` lists what to catch and :func:`run_is_cancelled` tells a
  real cancellation (re-raise it) from a stray one (record it).
- :class:`Watchdog` bounds every unit of a scripted run without a cancel scope per unit
  (a scope costs more than the rest of the engine's work on a unit): each worker keeps
  the deadline of the unit it runs in a :class:`Slot`, and one task per run sleeps until
  the earliest deadline and cancels the worker whose unit passed it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import anyio

__all__ = [
    "Slot",
    "Watchdog",
    "cancelled_classes",
    "loop_clock",
    "run_is_cancelled",
    "stray_cancel_message",
]


def loop_clock() -> Callable[[], float]:
    """The current event loop's clock (the one ``anyio.current_time()`` reads)."""
    import asyncio  # noqa: PLC0415 - loaded by the asyncio backend only

    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # not asyncio: trio's clock, through anyio
        return anyio.current_time
    if type(loop).time is asyncio.BaseEventLoop.time:  # what it returns, without a frame
        return time.monotonic
    return loop.time


def cancelled_classes() -> tuple[type[BaseException], ...]:
    """What a cancellation can look like in user code of the current backend.

    The backend's cancellation exception, and asyncio's ``CancelledError`` on any backend
    (on trio, user code raising it would otherwise escape every ``except Exception``).
    """
    import asyncio  # noqa: PLC0415 - loaded by the asyncio backend only

    backend = anyio.get_cancelled_exc_class()
    if backend is asyncio.CancelledError:
        return (asyncio.CancelledError,)
    return (backend, asyncio.CancelledError)


def run_is_cancelled() -> bool:
    """Whether the calling task is really being cancelled.

    True when an enclosing cancel scope (the run's, a deadline's, the caller's) has been
    cancelled, or, on asyncio, when the task itself was asked to cancel
    (``Task.cancel()``, as ``asyncio.run`` does on Ctrl-C). A cancellation exception
    raised while this is false came from user code: it is a stray one.
    """
    import asyncio  # noqa: PLC0415 - loaded by the asyncio backend only

    if anyio.current_effective_deadline() == -math.inf:
        return True
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no asyncio loop: trio, whose cancellations are all scoped
        return False
    return task is not None and task.cancelling() > 0


def stray_cancel_message(who: str, exc: BaseException) -> str:
    """The runtime error of a unit whose user code raised a stray cancellation."""
    detail = f": {exc}" if str(exc) else ""
    return (
        f"{who} raised {type(exc).__name__}{detail} "
        "(user code raised a cancellation while the run was not cancelled)"
    )


class Slot:
    """What the watchdog knows about one worker: the unit it runs and its deadline.

    Attributes:
        deadline: When the worker's unit must be done (``math.inf`` between units).
        scope: The cancel scope the worker runs its units in.
        cancelled: Whether the watchdog cancelled ``scope``.
    """

    __slots__ = ("cancelled", "deadline", "scope")

    def __init__(self) -> None:
        """An idle worker."""
        self.deadline = math.inf
        self.scope: anyio.CancelScope | None = None
        self.cancelled = False


class Watchdog:
    """Cancels the worker whose unit passed its deadline; one sleeping task per run.

    A worker sets its :class:`Slot`'s ``deadline`` when it starts a unit and resets it
    when the unit returns; setting it wakes nobody. The watchdog sleeps until the earliest
    deadline of all slots, but never longer than ``walltime`` (a unit started while it
    sleeps cannot end before its wake-up), then cancels the scope of every slot whose
    deadline has passed. A run whose units all finish in time costs it one wake-up per
    ``walltime``.

    Args:
        walltime: The deadline of one unit, in seconds from its start.
        clock: The run's clock (:func:`loop_clock`).
    """

    __slots__ = ("clock", "slots", "walltime")

    def __init__(self, walltime: float, clock: Callable[[], float]) -> None:
        """Watch units of ``walltime`` seconds on ``clock``."""
        self.walltime = walltime
        self.clock = clock
        self.slots: list[Slot] = []

    def slot(self) -> Slot:
        """A new slot, watched from now on."""
        slot = Slot()
        self.slots.append(slot)
        return slot

    async def watch(self) -> None:
        """Run until cancelled: cancel every worker whose unit is past its deadline."""
        clock, slots = self.clock, self.slots
        while True:
            now = clock()
            wake = now + self.walltime
            for slot in slots:
                if slot.deadline <= now:
                    if slot.scope is not None:
                        slot.scope.cancel()
                        slot.cancelled = True
                    slot.deadline = math.inf
                else:
                    wake = min(wake, slot.deadline)
            await anyio.sleep(max(wake - clock(), 0.0))
