"""Where a run's units execute: the work handed to a dispatcher, and the local pool.

The runner plans, resumes, records, stores and reports; a
:class:`~awaken_eval.protocols.UnitDispatcher` only decides *where* the units it is
given execute. :class:`LocalDispatcher` (the default) runs them on a fixed pool of
workers in this process; ``awaken_eval.ray.RayDispatcher`` runs them on Ray actors.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Sequence

import anyio
import attrs

from awaken_eval._engine.options import RunOptions
from awaken_eval._engine.plan import RunPlan
from awaken_eval._engine.units import UnitRunner, live_units, scripted_units
from awaken_eval._records.inference import AgentSpec, ResolvedModel
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

        Raises:
            Exception: what ``record`` raises (the store's error), not a group around
                it: user code failures are data on the items.
        """
        run_unit = work.run_unit

        async def worker() -> None:
            # A unit taken from `units` is always run and recorded.
            for index in units:
                if not await record(index, await run_unit(index)):
                    return

        workers = min(work.options.max_concurrency, max(1, work.plan.total))
        try:
            async with anyio.create_task_group() as group:
                for _ in range(workers):
                    group.start_soon(worker)
        except BaseExceptionGroup as group_error:
            first = group_error.exceptions[0]
            raise first from (group_error if len(group_error.exceptions) > 1 else None)
