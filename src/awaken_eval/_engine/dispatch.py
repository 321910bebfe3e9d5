"""Where a run's units execute: the work handed to a dispatcher, and the local pool.

The runner plans, resumes, records, stores and reports; a
:class:`~awaken_eval.protocols.UnitDispatcher` only decides *where* the units it is
given execute. :class:`LocalDispatcher` (the default) runs them on a fixed pool of
workers in this process; ``awaken_eval.ray.RayDispatcher`` runs them on Ray actors.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from typing import Any

import anyio
import attrs

from awaken_eval._engine.deadline import Slot, Watchdog, loop_clock
from awaken_eval._engine.options import RunOptions
from awaken_eval._engine.plan import RunPlan
from awaken_eval._engine.units import UnitRunner, live_units, scripted_units, timeout_outcome
from awaken_eval._records.failures import ReplayRuntimeFailed
from awaken_eval._records.inference import AgentSpec, ResolvedModel
from awaken_eval._records.outcomes import ReplayReport
from awaken_eval._records.runs import EvalRunItem
from awaken_eval.protocols import Judge, LlmExecutor, Replayer, TraceSink

__all__ = [
    "LocalDispatcher",
    "UnitRecorder",
    "UnitSpec",
    "UnitWork",
    "build_unit_runner",
]

UnitRecorder = Callable[[int, EvalRunItem], Awaitable[bool]]
"""Records the item of unit ``index`` in the run; returns whether to keep scheduling
(``False`` once the run token budget is spent)."""


@attrs.frozen(kw_only=True)
class UnitSpec:
    """How a worker process builds the parts that execute units (remote dispatchers).

    Each part is an import string (``module:factory``) or a picklable factory, called
    once per worker; ``None`` sends the driver's own object (it must then be
    picklable).

    Attributes:
        replayer: ``factory()`` returns the :class:`~awaken_eval.Replayer` (tools
            included).
        executor: Live mode: ``factory(model_id)`` returns the
            :class:`~awaken_eval.LlmExecutor` of that model.
        judge: ``factory()`` returns the :class:`~awaken_eval.protocols.Judge`.
    """

    replayer: str | Callable[[], Replayer] | None = None
    executor: str | Callable[[str], LlmExecutor] | None = None
    judge: str | Callable[[], Judge] | None = None


@attrs.frozen(kw_only=True)
class UnitWork:
    """What a dispatcher needs to execute the units of one run.

    Attributes:
        plan: The run's units (fixtures, cells, samples).
        options: The run's options (limits, concurrency, deadlines).
        models: Live mode: the resolved model of each cell, in order.
        replayer: The driver's replayer.
        agent: The agent spec handed to the replayer.
        judge: The driver's judge.
        run_unit: Runs one unit in this process (what :class:`LocalDispatcher` calls).
    """

    plan: RunPlan
    options: RunOptions
    models: Sequence[ResolvedModel]
    replayer: Replayer
    agent: AgentSpec | None
    judge: Judge | None
    run_unit: UnitRunner


def build_unit_runner(
    plan: RunPlan,
    options: RunOptions,
    models: Sequence[ResolvedModel],
    *,
    replayer: Replayer,
    agent: AgentSpec | None,
    judge: Judge | None,
    sink: TraceSink | None,
) -> UnitRunner:
    """The coroutine function that runs unit ``index`` of ``plan``.

    It never raises for user code, and is the same in the driver and in a remote worker.
    """
    if not plan.live:
        return scripted_units(plan.fixtures, replayer=replayer, agent=agent, sink=sink)
    return live_units(
        plan.fixtures,
        plan.cells,
        models,
        samples=plan.samples,
        replayer=replayer,
        agent=agent,
        judge=judge,
        rubric=options.rubric,
        revise_max_retries=options.revise_max_retries,
        walltime=options.max_walltime_secs,
        budget=options.max_total_tokens,
        sink=sink,
    )


@attrs.frozen
class LocalDispatcher:
    """The default dispatcher: a worker pool in this process.

    ``options.max_concurrency`` workers pull units from a shared iterator (never one
    task per unit).
    """

    async def dispatch(self, work: UnitWork, units: Iterator[int], record: UnitRecorder) -> None:
        """Run ``units`` and record each item; stop pulling once ``record`` says so.

        Scripted units run under one :class:`~awaken_eval._engine.deadline.Watchdog` per
        run: a unit past ``options.scripted_walltime_secs`` (cancelled, or returned late
        because it blocked the loop or ignored the cancellation) is recorded with the
        timeout failure only.

        Raises:
            Exception: what ``record`` raises (the store's error), not a group around
                it: user code failures are data on the items.
        """
        workers = min(work.options.max_concurrency, max(1, work.plan.total))
        try:
            if work.plan.live:  # live cells carry their own deadline (units.live_units)
                worker = _plain_worker(work, units, record)
                async with anyio.create_task_group() as group:
                    for _ in range(workers):
                        group.start_soon(worker)
            else:
                watchdog = Watchdog(work.options.scripted_walltime_secs, loop_clock())
                watched = _watched_worker(work, watchdog, units, record)
                await _watch_until_done(watchdog, [watched] * workers)
        except BaseExceptionGroup as group_error:
            first = group_error.exceptions[0]
            while isinstance(first, BaseExceptionGroup):  # the watchdog's nested groups
                first = first.exceptions[0]
            raise first from (group_error if len(group_error.exceptions) > 1 else None)


_Worker = Callable[[], Coroutine[Any, Any, None]]


def _plain_worker(work: UnitWork, units: Iterator[int], record: UnitRecorder) -> _Worker:
    """A worker of the pool: a unit taken from ``units`` is always run and recorded."""
    run_unit = work.run_unit

    async def worker() -> None:
        for index in units:
            if not await record(index, await run_unit(index)):
                return

    return worker


def _watched_worker(
    work: UnitWork, watchdog: Watchdog, units: Iterator[int], record: UnitRecorder
) -> _Worker:
    """A worker of the pool whose units run under ``watchdog`` (scripted units)."""

    async def watched() -> None:
        slot = watchdog.slot()
        while (late := await _run_watched(work, watchdog, slot, units, record)) >= 0:
            if not await record(late, _timed_out(work.plan, late, watchdog.walltime)):
                return

    return watched


_DONE = -1


async def _run_watched(
    work: UnitWork,
    watchdog: Watchdog,
    slot: Slot,
    units: Iterator[int],
    record: UnitRecorder,
) -> int:
    """Run units from ``units`` in one cancel scope the watchdog may cancel.

    Returns ``_DONE`` when ``units`` is exhausted (or ``record`` stops scheduling), or
    the index of a unit that passed its deadline: cancelled by the watchdog, or returned
    late (it blocked the event loop, shielded itself or ignored the cancellation). The
    caller records that unit's timeout and calls again with a fresh scope.
    """
    clock, walltime, run_unit = watchdog.clock, watchdog.walltime, work.run_unit
    index = _DONE
    slot.cancelled = False
    with anyio.CancelScope() as slot.scope:
        for index in units:
            deadline = slot.deadline = clock() + walltime
            item = await run_unit(index)
            slot.deadline = math.inf
            if clock() > deadline or slot.cancelled:
                return index
            if not await record(index, item):
                return _DONE
        return _DONE
    return index  # the watchdog's cancellation of this unit ended the scope


def _timed_out(plan: RunPlan, index: int, walltime: float) -> EvalRunItem:
    """The item of a scripted unit past its deadline: only the timeout failure."""
    fixture, cell, sample_index = plan.unit_at(index)
    outcome = timeout_outcome(fixture.id, walltime)
    assert outcome.runtime_failure is not None  # noqa: S101 - set by timeout_outcome
    report = ReplayReport.from_outcome(outcome, [ReplayRuntimeFailed(outcome.runtime_failure)])
    return EvalRunItem(fixture.id, cell=cell, report=report, sample_index=sample_index)


async def _watch_until_done(watchdog: Watchdog, workers: list[_Worker]) -> None:
    """Run ``workers`` and the watchdog until every worker is done."""
    async with anyio.create_task_group() as group:
        group.start_soon(watchdog.watch)
        async with anyio.create_task_group() as pool:
            for work in workers:
                pool.start_soon(work)
        group.cancel_scope.cancel()
