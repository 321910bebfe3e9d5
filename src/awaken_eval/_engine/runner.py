"""``run_eval``: the only place that schedules work.

A run expands fixtures x cells x samples into *units* (:mod:`._engine.plan`) and hands
them to a dispatcher (:mod:`._engine.dispatch`: by default a fixed pool of workers in
this process, never one task per unit). Each live unit gets one
wall-clock deadline, from its own start, shared by replay and judging
(:mod:`._engine.units`). Results come back in (fixture, cell, sample) order whatever the
completion order. An exception raised by user code (executor, replayer, judge, tool,
sink, progress callback) becomes data on its item; the run always completes and never
loses an item. With a streaming store, items are written as they finish and an
interrupted run can be resumed: only the missing units run again.

``run_eval`` reads as its four steps: plan the units, resume (open the run in a
streaming store and skip the units it already holds), dispatch the rest (where they
execute is the dispatcher's business; recording them is the runner's), finish (skipped
units, the last batch, the stored or built run, the terminal event). The mutable state
of those steps lives in one :class:`_RunState`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import anyio

from awaken_eval._engine.agent_loop import AgentLoopReplayer
from awaken_eval._engine.deadline import cancelled_classes
from awaken_eval._engine.dispatch import LocalDispatcher, UnitWork, build_unit_runner
from awaken_eval._engine.emit import BoundedSink, emit_safely, log_failure
from awaken_eval._engine.options import RunOptions
from awaken_eval._engine.plan import plan_run, resolve_models
from awaken_eval._engine.run_ids import mint_run_id
from awaken_eval._engine.units import failed_item
from awaken_eval._records.events import ItemCompleted, RunCompleted, RunFailed, RunStarted
from awaken_eval._records.fixtures import Fixture
from awaken_eval._records.inference import AgentSpec, ResolvedModel
from awaken_eval._records.runs import EvalRun, EvalRunItem, ItemKey
from awaken_eval._wire.digests import fixture_digests
from awaken_eval.errors import InvalidRequest, RunIncomplete
from awaken_eval.protocols import (
    EvalRunStore,
    Judge,
    ModelResolver,
    Replayer,
    StreamingRunStore,
    TraceSink,
    UnitDispatcher,
)

__all__ = ["SKIPPED_PREFIX", "run_eval", "run_eval_sync"]

SKIPPED_PREFIX = "unit skipped: run token budget exhausted"
"""Start of the runtime-error message of units never scheduled because the run-wide
token budget was spent."""

_APPEND_BATCH = 64
"""Finished items are appended to a streaming store in batches of at most this many..."""
_APPEND_INTERVAL_SECS = 0.25
"""...or as soon as this long has passed since the last append, so that slow (live)
units reach the store as they finish."""


async def run_eval(
    fixtures: Sequence[Fixture],
    options: RunOptions | None = None,
    *,
    models: Sequence[ResolvedModel] | ModelResolver = (),
    replayer: Replayer | None = None,
    agent: AgentSpec | None = None,
    judge: Judge | None = None,
    store: EvalRunStore | None = None,
    sink: TraceSink | None = None,
    progress: Callable[[int, int], object] | None = None,
    digests: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    dispatcher: UnitDispatcher | None = None,
) -> EvalRun:
    """Run ``fixtures`` as ``options`` describe and return the finished run.

    Args:
        fixtures: The fixtures, in dataset order (ids must be unique).
        options: What the run is (mode, models, samples, limits, ids); default
            ``RunOptions()``: a scripted run of the fixtures' provider scripts.
        models: Live mode: the resolved model of each id of ``options.models``, in that
            order, or a :class:`~awaken_eval.protocols.ModelResolver` asked for each
            id before any work.
        replayer: Replays one unit (default: :class:`~awaken_eval.AgentLoopReplayer`).
        agent: Live mode: the agent spec handed to the replayer.
        judge: Grades fixtures whose expectation has ``min_judge_score`` (live mode).
        store: Where the run is persisted; a streaming store receives items as they
            finish.
        sink: Receives spans and run events (started, item completed, terminal).
        progress: Called with (done, total) after every unit.
        digests: The fixtures' content digests, when the caller already computed them
            (:func:`~awaken_eval.wire.fixture_digests`); computed here otherwise.
        clock: Wall clock in epoch seconds (``started_at_secs``/``ended_at_secs``).
        dispatcher: Where the units execute (default:
            :class:`~awaken_eval.engine.LocalDispatcher`, a worker pool in this
            process; ``awaken_eval.ray.RayDispatcher`` for a Ray cluster). Planning,
            scoring, storing and events stay here whatever the dispatcher.

    Raises:
        InvalidRequest: when the fixtures, models, judge or store break a rule of
            ``options`` (checked before any work).
        NotFound: or whatever else the model resolver raises, before any work.
        Conflict: when the store refuses the run id (taken, or open without
            ``options.resume``); nothing has run then.
        StoreFailure: or any other error of the store, as raised by it (not wrapped in
            an exception group), after a :class:`~awaken_eval.events.RunFailed` event;
            the items already appended stay in the store and the run can be resumed.
    """
    options = options if options is not None else RunOptions()
    plan = plan_run(fixtures, options, judge=judge)
    streaming = store if isinstance(store, StreamingRunStore) else None
    if options.resume is not None and streaming is None:
        msg = "resume needs a store that supports streaming appends"
        raise InvalidRequest(msg)
    resolved = await resolve_models(options, models)
    replayer = replayer if replayer is not None else AgentLoopReplayer()
    if sink is not None:  # every emit of the run, the replayer's spans too, is bounded
        sink = BoundedSink(sink, options.sink_timeout_secs)
    run_unit = build_unit_runner(
        plan, options, resolved, replayer=replayer, agent=agent, judge=judge, sink=sink
    )
    work = UnitWork(
        plan=plan,
        options=options,
        models=resolved,
        replayer=replayer,
        agent=agent,
        judge=judge,
        run_unit=run_unit,
    )
    state = _RunState(
        work,
        dispatcher if dispatcher is not None else LocalDispatcher(),
        store=store,
        streaming=streaming,
        sink=sink,
        progress=progress,
        digests=dict(digests) if digests is not None else fixture_digests(plan.fixtures),
        clock=clock,
    )
    await state.resume()
    try:
        await state.start()
        await state.dispatch()
        run = await state.finish()
    except BaseException as exc:
        await state.fail(exc)
        raise
    await state.complete(run)
    return run


class _RunState:
    """What one run changes while it executes: results, progress, budget, pending batch."""

    __slots__ = (
        "budget",
        "clock",
        "digests",
        "dispatcher",
        "done",
        "flush_due",
        "item_order",
        "options",
        "pending",
        "plan",
        "progress",
        "results",
        "resumed",
        "run_id",
        "sink",
        "started_at",
        "stop_scheduling",
        "store",
        "streaming",
        "todo",
        "tokens",
        "work",
    )

    def __init__(
        self,
        work: UnitWork,
        dispatcher: UnitDispatcher,
        *,
        store: EvalRunStore | None,
        streaming: StreamingRunStore | None,
        sink: TraceSink | None,
        progress: Callable[[int, int], object] | None,
        digests: dict[str, str],
        clock: Callable[[], float],
    ) -> None:
        plan, options = work.plan, work.options
        self.work = work
        self.dispatcher = dispatcher
        self.plan = plan
        self.options = options
        self.store = store
        self.streaming = streaming
        self.sink = sink
        self.progress = progress
        self.digests = digests
        self.clock = clock
        self.budget = options.run_token_budget
        self.run_id = options.resume or options.run_id or mint_run_id()
        self.started_at = int(clock())
        self.results: list[EvalRunItem | None] = [None] * plan.total
        self.todo: Iterator[int] = iter(range(plan.total))
        self.done = 0
        self.tokens = 0
        self.stop_scheduling = False
        self.pending: list[EvalRunItem] = []
        self.flush_due = -math.inf
        self.item_order: list[ItemKey] | None = None
        self.resumed = False

    # -- resume ---------------------------------------------------------------------------

    async def resume(self) -> None:
        """Open the run in a streaming store; on resume, keep only the missing units.

        Raises:
            Conflict: when the store refuses the run id (nothing has run then).
        """
        if self.streaming is None:
            return
        from awaken_eval._records.store import RunHeader  # noqa: PLC0415 - streaming stores only

        options = self.options
        self.item_order = self.plan.item_order()
        header = RunHeader(
            id=self.run_id,
            dataset_id=options.dataset_id,
            dataset_revision=options.dataset_revision,
            execution_mode=options.mode,
            started_at_secs=self.started_at,
            fixture_digests=self.digests,
        )
        present = await self.streaming.begin(header, resume=options.resume is not None)
        if present:
            self.resumed = True
            missing = [index for index, key in enumerate(self.item_order) if key not in present]
            self.done = self.plan.total - len(missing)
            self.todo = iter(missing)

    # -- dispatch -------------------------------------------------------------------------

    async def start(self) -> None:
        """Emit :class:`RunStarted` and the progress of the units already stored."""
        options = self.options
        event = RunStarted(
            eval_run_id=self.run_id,
            dataset_id=options.dataset_id,
            dataset_revision=options.dataset_revision,
            mode=options.reported_event_mode,
            planned_item_count=self.plan.total,
            started_at_secs=self.started_at,
        )
        await emit_safely(self.sink, event)
        if self.progress is not None and self.done:
            _report_progress(self.progress, self.done, self.plan.total)

    async def dispatch(self) -> None:
        """Hand the units left in ``todo`` to the dispatcher, which records each item.

        Raises:
            Exception: the store's error itself (not a group around it): a worker
                fails only when the store does, user code failures are data.
        """
        plain = (
            self.streaming is None
            and self.sink is None
            and self.progress is None
            and self.budget is None
        )
        await self.dispatcher.dispatch(
            self.work, self.todo, self.keep_plain if plain else self.record
        )

    async def keep_plain(self, index: int, item: EvalRunItem) -> bool:
        """Record without store, sink, progress or budget: keep the item."""
        self.results[index] = item
        return True

    async def record(self, index: int, item: EvalRunItem) -> bool:
        """Keep a finished item; count it, report it, and flush a full or due batch.

        Returns whether units may still be scheduled (the run token budget).

        Everything before the first await happens at once for each item, so ``done``
        and the progress calls are monotonic and a cancellation arriving at an await
        finds the item already pending (it is flushed by the failure path).
        """
        self.results[index] = item
        self.done += 1
        position, total = self.done, self.plan.total
        if self.budget is not None:
            self.tokens += item.report.total_tokens
            if self.tokens > self.budget:
                self.stop_scheduling = True
        if self.streaming is not None:
            self.pending.append(item)
        if self.progress is not None:
            _report_progress(self.progress, position, total)
        if self.sink is not None:
            event = ItemCompleted(eval_run_id=self.run_id, item=item, done=position, total=total)
            await emit_safely(self.sink, event)
        if self.streaming is not None and (
            len(self.pending) >= _APPEND_BATCH or anyio.current_time() >= self.flush_due
        ):
            await self.flush()
        return not self.stop_scheduling

    async def flush(self) -> None:
        """Append the pending items to the streaming store, as one batch.

        Shielded: a batch taken off ``pending`` must reach the store even when the run
        is being cancelled, or finished units would be lost and re-run on resume.
        """
        if self.streaming is None or not self.pending:
            return
        batch, self.pending = tuple(self.pending), []
        self.flush_due = anyio.current_time() + _APPEND_INTERVAL_SECS
        with anyio.CancelScope(shield=True):
            await self.streaming.append(self.run_id, batch)

    # -- finish ---------------------------------------------------------------------------

    async def finish(self) -> EvalRun:
        """Record the units the budget left unscheduled, store the run and return it.

        Raises:
            RunIncomplete: when units were neither run nor skipped by the budget (a
                worker stopped early); the run is then left open, never finished short.
        """
        if self.stop_scheduling:
            for index in self.todo:  # left unscheduled by the run-wide token budget
                fixture, cell, sample_index = self.plan.unit_at(index)
                message = f"{SKIPPED_PREFIX} (spent {self.tokens} > max {self.budget})"
                await self.record(index, failed_item(fixture, cell, sample_index, message))
        # A plain recorder keeps items without counting them; a resumed run's stored
        # items are counted but not in `results`.
        missing = self.plan.total - self.done if self.resumed else self.results.count(None)
        if missing:
            raise RunIncomplete(self.run_id, missing=missing, total=self.plan.total)
        await self.flush()
        ended_at = int(self.clock())
        options = self.options
        if self.streaming is not None:
            await self.streaming.finish(
                self.run_id, ended_at_secs=ended_at, item_order=self.item_order
            )
            if self.resumed and self.store is not None:
                # Items stored before the interruption are not in `results`: read the run.
                return await self.store.read(self.run_id)
        run = EvalRun(
            id=self.run_id,
            dataset_id=options.dataset_id,
            dataset_revision=options.dataset_revision,
            execution_mode=options.mode,
            items=tuple(item for item in self.results if item is not None),
            started_at_secs=self.started_at,
            ended_at_secs=ended_at,
            fixture_digests=self.digests,
        )
        if self.store is not None and self.streaming is None:
            await self.store.write(run)
        return run

    async def fail(self, exc: BaseException) -> None:
        """Flush what finished and emit :class:`RunFailed`, shielded from cancellation."""
        with anyio.CancelScope(shield=True):
            try:
                await self.flush()
            except Exception as error:  # noqa: BLE001 - the original failure is what matters
                log_failure(error, "could not flush finished items of run %s", self.run_id)
            event = RunFailed(
                eval_run_id=self.run_id,
                dataset_id=self.options.dataset_id,
                mode=self.options.reported_event_mode,
                error=_describe(exc),
                started_at_secs=self.started_at,
                ended_at_secs=int(self.clock()),
            )
            await emit_safely(self.sink, event)

    async def complete(self, run: EvalRun) -> None:
        """Emit :class:`RunCompleted` for the finished ``run``."""
        options = self.options
        passed = run.passed_count()
        event = RunCompleted(
            eval_run_id=self.run_id,
            dataset_id=options.dataset_id,
            dataset_revision=options.dataset_revision,
            mode=options.reported_event_mode,
            item_count=len(run.items),
            passed_count=passed,
            failed_count=len(run.items) - passed,
            total_cost_usd=sum(item.report.cost_usd or 0.0 for item in run.items),
            started_at_secs=self.started_at,
            ended_at_secs=run.ended_at_secs,
            persisted=self.store is not None,
        )
        await emit_safely(self.sink, event)


def run_eval_sync(
    fixtures: Sequence[Fixture],
    options: RunOptions | None = None,
    *,
    models: Sequence[ResolvedModel] | ModelResolver = (),
    replayer: Replayer | None = None,
    agent: AgentSpec | None = None,
    judge: Judge | None = None,
    store: EvalRunStore | None = None,
    sink: TraceSink | None = None,
    progress: Callable[[int, int], object] | None = None,
    digests: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
    dispatcher: UnitDispatcher | None = None,
    backend: str = "asyncio",
) -> EvalRun:
    """Run :func:`run_eval` from synchronous code (one ``anyio.run`` at the edge).

    Takes the arguments of :func:`run_eval`, and:

    Args:
        fixtures: The fixtures.
        options: What the run is (default ``RunOptions()``).
        models: See :func:`run_eval`.
        replayer: See :func:`run_eval`.
        agent: See :func:`run_eval`.
        judge: See :func:`run_eval`.
        store: See :func:`run_eval`.
        sink: See :func:`run_eval`.
        progress: See :func:`run_eval`.
        digests: See :func:`run_eval`.
        clock: See :func:`run_eval`.
        dispatcher: See :func:`run_eval`.
        backend: The anyio backend: ``"asyncio"`` or ``"trio"``.
    """
    result: list[EvalRun] = []

    async def call() -> None:
        # The run is handed over through `result`, not returned: asyncio's runner builds
        # the repr of a task's return value on shutdown, which for a big run costs about
        # a kilobyte per item.
        run = await run_eval(
            fixtures,
            options,
            models=models,
            replayer=replayer,
            agent=agent,
            judge=judge,
            store=store,
            sink=sink,
            progress=progress,
            digests=digests,
            clock=clock,
            dispatcher=dispatcher,
        )
        result.append(run)

    anyio.run(call, backend=backend)
    return result[0]


def _report_progress(progress: Callable[[int, int], object], done: int, total: int) -> None:
    try:
        progress(done, total)
    except Exception as error:  # noqa: BLE001 - a failing progress callback never fails a run
        log_failure(error, "progress callback failed")
    except cancelled_classes() as error:  # a synchronous callback is never cancelled
        log_failure(error, "progress callback failed")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, anyio.get_cancelled_exc_class()):
        return "run cancelled"
    return f"{type(exc).__name__}: {exc}"
