"""``run_eval``: the only place that schedules work.

A run expands fixtures x cells x samples into *units* and drives them through a fixed
pool of workers (never one task per unit). Each live unit gets one wall-clock deadline,
from its own start, shared by replay and judging. Results come back in (fixture, cell,
sample) order whatever the completion order. An exception raised by user code
(executor, replayer, judge, tool, sink, progress callback) becomes data on its item; the
run always completes and never loses an item. With a streaming store, items are written
as they finish and an interrupted run can be resumed: only the missing units run again.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

import anyio
import attrs

from awaken_eval._analysis.baseline import ADHOC_DATASET_ID
from awaken_eval._engine.agent_loop import AgentLoopReplayer
from awaken_eval._engine.emit import emit_safely
from awaken_eval._engine.judging import revise_config_for, score_with_judge
from awaken_eval._engine.options import DEFAULT_MAX_WALLTIME_SECS
from awaken_eval._records.events import (
    ItemCompleted,
    RunCompleted,
    RunEventMode,
    RunFailed,
    RunStarted,
)
from awaken_eval._records.expectations import Expectation
from awaken_eval._records.failures import Failure, ReplayRuntimeError, ReplayRuntimeFailed
from awaken_eval._records.fixtures import Fixture
from awaken_eval._records.ids import mint_run_id, validate_run_id
from awaken_eval._records.inference import AgentSpec, ResolvedModel
from awaken_eval._records.outcomes import ReplayOutcome, ReplayReport
from awaken_eval._records.replay import ReplayContext
from awaken_eval._records.rules import (
    validate_judge_required_for_expectation,
    validate_offline_expectation,
    validate_unique_models,
)
from awaken_eval._records.runs import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    ItemKey,
    MatrixCell,
)
from awaken_eval._records.store import RunHeader
from awaken_eval._scoring.cost import cost_usd_for
from awaken_eval._scoring.matrix import expand_cells
from awaken_eval._scoring.score import score
from awaken_eval._wire.digests import fixture_digests
from awaken_eval.errors import InvalidRequest, JudgeError
from awaken_eval.protocols import EvalRunStore, Judge, Replayer, StreamingRunStore, TraceSink

__all__ = [
    "SKIPPED_PREFIX",
    "cell_error_outcome",
    "run_eval",
    "run_eval_sync",
    "timeout_outcome",
]

_LOG = logging.getLogger("awaken_eval")

SKIPPED_PREFIX = "unit skipped: run token budget exhausted"
"""Start of the runtime-error message of units never scheduled because the run-wide
token budget was spent."""

_APPEND_BATCH = 64
"""Finished items are appended to a streaming store in batches of at most this many..."""
_APPEND_INTERVAL_SECS = 0.25
"""...or as soon as this long has passed since the last append, so that slow (live)
units reach the store as they finish."""


def timeout_outcome(fixture_id: str, walltime_secs: float) -> ReplayOutcome:
    """The outcome of a cell whose deadline expired during replay (spec §1.5)."""
    shown = _shown_seconds(walltime_secs)
    failure = ReplayRuntimeError(f"cell walltime exceeded: max {shown}s")
    return ReplayOutcome(
        fixture_id=fixture_id, elapsed_seconds=walltime_secs, runtime_failure=failure
    )


def cell_error_outcome(
    outcome: ReplayOutcome, expectation: Expectation, message: str
) -> tuple[ReplayOutcome, list[Failure]]:
    """Keep the real replay outcome and add a cell-level error (spec §4.2 step 2e).

    Without a runtime failure the error becomes it; with one, both causes are kept: the
    original stays on the outcome and a second ``replay_runtime_failure`` is appended.
    """
    error = ReplayRuntimeError(message)
    if outcome.runtime_failure is None:
        updated = attrs.evolve(outcome, runtime_failure=error)
        return updated, score(updated, expectation)
    return outcome, [*score(outcome, expectation), ReplayRuntimeFailed(error)]


def _validate(
    fixtures: Sequence[Fixture],
    *,
    live: bool,
    models: Sequence[ResolvedModel],
    samples: int,
    max_concurrency: int,
    judge: Judge | None,
    rubric: str | None,
    max_walltime_secs: float | None,
) -> None:
    if samples < 1:
        msg = f"samples must be >= 1, got {samples}"
        raise InvalidRequest(msg)
    if max_concurrency < 1:
        msg = f"max_concurrency must be >= 1, got {max_concurrency}"
        raise InvalidRequest(msg)
    if max_walltime_secs is not None and not max_walltime_secs > 0:
        msg = f"max_walltime_secs must be > 0, got {max_walltime_secs}"
        raise InvalidRequest(msg)
    if live:
        if not models:
            msg = 'mode="live" requires a non-empty list of models'
            raise InvalidRequest(msg)
        validate_unique_models([model.model_id for model in models])
    else:
        if models:
            msg = '`models` is only valid with mode="live"'
            raise InvalidRequest(msg)
        if samples != 1:
            msg = 'samples requires mode="live": scripted replays are deterministic'
            raise InvalidRequest(msg)
    _validate_fixtures(fixtures, live=live, judge=judge, rubric=rubric)


def _validate_fixtures(
    fixtures: Sequence[Fixture], *, live: bool, judge: Judge | None, rubric: str | None
) -> None:
    seen: set[str] = set()
    for fixture in fixtures:
        if fixture.id in seen:
            msg = f"duplicate fixture id: {fixture.id}"
            raise InvalidRequest(msg)
        seen.add(fixture.id)
        label = f"fixture {fixture.id}"
        if live:
            validate_judge_required_for_expectation(
                fixture.expect, label, live=True, has_judge=judge is not None, rubric=rubric
            )
        else:
            validate_offline_expectation(fixture.expect, label)


async def run_eval(  # noqa: C901, PLR0912, PLR0915 - the one scheduling entry point
    fixtures: Sequence[Fixture],
    *,
    mode: EvalRunExecutionMode = EvalRunExecutionMode.SCRIPTED,
    models: Sequence[ResolvedModel] = (),
    samples: int = 1,
    replayer: Replayer | None = None,
    agent: AgentSpec | None = None,
    judge: Judge | None = None,
    rubric: str | None = None,
    revise_max_retries: int | None = None,
    max_concurrency: int = 5,
    max_walltime_secs: float | None = DEFAULT_MAX_WALLTIME_SECS,
    max_total_tokens: int | None = None,
    run_token_budget: int | None = None,
    store: EvalRunStore | None = None,
    sink: TraceSink | None = None,
    progress: Callable[[int, int], object] | None = None,
    run_id: str | None = None,
    resume: str | None = None,
    dataset_id: str = ADHOC_DATASET_ID,
    dataset_revision: int = 0,
    event_mode: RunEventMode | None = None,
    digests: Mapping[str, str] | None = None,
    clock: Callable[[], float] = time.time,
) -> EvalRun:
    """Run ``fixtures`` and return the finished :class:`~awaken_eval.EvalRun`.

    Args:
        fixtures: The fixtures, in dataset order (ids must be unique).
        mode: Scripted replay of each fixture's script, or live models.
        models: Live mode: the resolved models of the matrix (one cell each).
        samples: Live mode: samples per (fixture, cell); items carry ``sample_index``
            only when ``samples >= 2``.
        replayer: Replays one unit (default: :class:`~awaken_eval.AgentLoopReplayer`).
        agent: Live mode: the agent spec handed to the replayer.
        judge: Grades fixtures whose expectation has ``min_judge_score`` (live mode).
        rubric: The judge's grading instructions (required with a judge).
        revise_max_retries: Live mode: revise-and-retry loop limit (0/None: no loop).
        max_concurrency: Workers running units at once.
        max_walltime_secs: Live mode: deadline of one cell, shared by replay and judging.
        max_total_tokens: Live mode: token budget of one cell, checked between rounds.
        run_token_budget: Tokens the whole run may spend; once spent, no further unit
            is scheduled and the unscheduled ones become skipped items.
        store: Where the run is persisted; a streaming store receives items as they
            finish.
        sink: Receives spans and run events (started, item completed, terminal).
        progress: Called with (done, total) after every unit.
        run_id: The id of the new run (default: a fresh ULID).
        resume: The id of an interrupted run to continue (needs a streaming store);
            only the units it is missing are executed.
        dataset_id: The dataset the fixtures come from.
        dataset_revision: The dataset's revision.
        event_mode: The mode reported in run events (default from ``mode``).
        digests: The fixtures' content digests, when the caller already computed them
            (:func:`~awaken_eval.fixture_digests`); computed here otherwise.
        clock: Wall clock in epoch seconds (``started_at_secs``/``ended_at_secs``).

    Raises:
        InvalidRequest: when the arguments break a rule (checked before any work).
        Conflict: when the store refuses the run id (taken, or open without
            ``resume``); nothing has run then.
        StoreFailure: or any other error of the store, as raised by it (not wrapped in
            an exception group), after a :class:`~awaken_eval.RunFailed` event;
            the items already appended stay in the store and the run can be resumed.
    """
    live = mode is EvalRunExecutionMode.LIVE
    _validate(
        fixtures,
        live=live,
        models=models,
        samples=samples,
        max_concurrency=max_concurrency,
        judge=judge,
        rubric=rubric,
        max_walltime_secs=max_walltime_secs,
    )
    streaming = _streaming(store)
    if resume is not None:
        if streaming is None:
            msg = "resume needs a store that supports streaming appends"
            raise InvalidRequest(msg)
        if run_id is not None and run_id != resume:
            msg = f"resume={resume!r} conflicts with run_id={run_id!r}"
            raise InvalidRequest(msg)
        run_id = resume
    run_id = validate_run_id(run_id) if run_id is not None else mint_run_id()
    replayer = replayer if replayer is not None else AgentLoopReplayer()
    if event_mode is None:
        event_mode = RunEventMode.DATASET_LIVE_MATRIX if live else RunEventMode.DATASET_SCRIPTED
    fixtures = list(fixtures)
    cells = _cells(live, models)
    total = len(fixtures) * len(cells) * samples
    run_unit = (
        _live_units(
            fixtures,
            cells,
            models,
            samples=samples,
            replayer=replayer,
            agent=agent,
            judge=judge,
            rubric=rubric,
            revise_max_retries=revise_max_retries,
            walltime=max_walltime_secs,
            budget=max_total_tokens,
            sink=sink,
        )
        if live
        else _scripted_units(fixtures, replayer=replayer, agent=agent, sink=sink)
    )

    started_at = int(clock())
    digests = dict(digests) if digests is not None else fixture_digests(fixtures)
    item_order: list[ItemKey] | None = None
    resumed = False
    done = 0
    todo: Iterator[int] = iter(range(total))
    if streaming is not None:
        item_order = [
            ItemKey(fixture.id, cell.model_id, sample if samples >= 2 else None)
            for fixture in fixtures
            for cell in cells
            for sample in range(samples)
        ]
        header = RunHeader(
            id=run_id,
            dataset_id=dataset_id,
            dataset_revision=dataset_revision,
            execution_mode=mode,
            started_at_secs=started_at,
            fixture_digests=digests,
        )
        present = await streaming.begin(header, resume=resume is not None)
        resumed = bool(present)
        if present:
            missing = [index for index, key in enumerate(item_order) if key not in present]
            done = total - len(missing)
            todo = iter(missing)

    results: list[EvalRunItem | None] = [None] * total
    tokens = 0
    stop_scheduling = False
    pending: list[EvalRunItem] = []
    flush_due = -math.inf

    async def flush() -> None:
        # Shielded: a batch taken off `pending` must reach the store even when the run
        # is being cancelled, or finished units would be lost and re-run on resume.
        nonlocal pending, flush_due
        if streaming is None or not pending:
            return
        batch, pending = tuple(pending), []
        flush_due = anyio.current_time() + _APPEND_INTERVAL_SECS
        with anyio.CancelScope(shield=True):
            await streaming.append(run_id, batch)

    async def record(index: int, item: EvalRunItem) -> None:
        # Everything before the first await happens at once for each item, so `done`
        # and the progress calls are monotonic and a cancellation arriving at an await
        # finds the item already pending (it is flushed by the failure path).
        nonlocal done, tokens, stop_scheduling
        results[index] = item
        done += 1
        position = done
        if run_token_budget is not None:
            tokens += item.report.total_tokens
            if tokens > run_token_budget:
                stop_scheduling = True
        if streaming is not None:
            pending.append(item)
        if progress is not None:
            _report_progress(progress, position, total)
        if sink is not None:
            event = ItemCompleted(eval_run_id=run_id, item=item, done=position, total=total)
            await emit_safely(sink, event)
        if streaming is not None and (
            len(pending) >= _APPEND_BATCH or anyio.current_time() >= flush_due
        ):
            await flush()

    plain = streaming is None and sink is None and progress is None and run_token_budget is None

    async def worker() -> None:
        # Every worker pulls the next unit from the shared iterator. The token budget is
        # checked *before* pulling: a unit taken from `todo` is always run (or it would
        # be neither run nor marked as skipped).
        for index in todo:
            item = await run_unit(index)
            if plain:
                results[index] = item
                continue
            await record(index, item)
            if stop_scheduling:
                return

    try:
        await emit_safely(
            sink,
            RunStarted(
                eval_run_id=run_id,
                dataset_id=dataset_id,
                dataset_revision=dataset_revision,
                mode=event_mode,
                planned_item_count=total,
                started_at_secs=started_at,
            ),
        )
        if progress is not None and done:
            _report_progress(progress, done, total)
        try:
            async with anyio.create_task_group() as group:
                for _ in range(min(max_concurrency, max(1, total))):
                    group.start_soon(worker)
        except BaseExceptionGroup as group_error:
            # A worker fails only when the store does (user code failures are data):
            # raise the store's error itself, not a group around it.
            first = group_error.exceptions[0]
            raise first from (group_error if len(group_error.exceptions) > 1 else None)
        for index in todo:  # left unscheduled by the run-wide token budget
            unit = _unit_at(index, fixtures, cells, samples, live=live)
            await record(index, _skipped_item(*unit, spent=tokens, budget=run_token_budget))
        await flush()
        ended_at = int(clock())
        if streaming is not None and resumed and store is not None:
            # Items stored before the interruption are not in `results`: load the run.
            await streaming.finish(run_id, ended_at_secs=ended_at, item_order=item_order)
            run = await store.read(run_id)
        else:
            if streaming is not None:
                await streaming.finish(run_id, ended_at_secs=ended_at, item_order=item_order)
            run = EvalRun(
                id=run_id,
                dataset_id=dataset_id,
                dataset_revision=dataset_revision,
                execution_mode=mode,
                items=tuple(item for item in results if item is not None),
                started_at_secs=started_at,
                ended_at_secs=ended_at,
                fixture_digests=digests,
            )
            if store is not None and streaming is None:
                await store.write(run)
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            try:
                await flush()
            except Exception:  # noqa: BLE001 - the original failure is what matters
                _LOG.warning("could not flush finished items of run %s", run_id, exc_info=True)
            await emit_safely(
                sink,
                RunFailed(
                    eval_run_id=run_id,
                    dataset_id=dataset_id,
                    mode=event_mode,
                    error=_describe(exc),
                    started_at_secs=started_at,
                    ended_at_secs=int(clock()),
                ),
            )
        raise
    passed = run.passed_count()
    await emit_safely(
        sink,
        RunCompleted(
            eval_run_id=run_id,
            dataset_id=dataset_id,
            dataset_revision=dataset_revision,
            mode=event_mode,
            item_count=len(run.items),
            passed_count=passed,
            failed_count=len(run.items) - passed,
            total_cost_usd=sum(item.report.cost_usd or 0.0 for item in run.items),
            started_at_secs=started_at,
            ended_at_secs=run.ended_at_secs,
            persisted=store is not None,
        ),
    )
    return run


def run_eval_sync(
    fixtures: Sequence[Fixture], *, backend: str = "asyncio", **options: Any
) -> EvalRun:
    """Run :func:`run_eval` from synchronous code (one ``anyio.run`` at the edge).

    Args:
        fixtures: The fixtures.
        backend: The anyio backend: ``"asyncio"`` or ``"trio"``.
        **options: Keyword options of :func:`run_eval`.
    """
    result: list[EvalRun] = []

    async def call() -> None:
        # The run is handed over through `result`, not returned: asyncio's runner builds
        # the repr of a task's return value on shutdown, which for a big run costs about
        # a kilobyte per item.
        result.append(await run_eval(fixtures, **options))

    anyio.run(call, backend=backend)
    return result[0]


def _streaming(store: EvalRunStore | None) -> StreamingRunStore | None:
    if store is None:
        return None
    return store if isinstance(store, StreamingRunStore) else None


def _cells(live: bool, models: Sequence[ResolvedModel]) -> list[MatrixCell]:
    if not live:
        return [MatrixCell()]
    return expand_cells([model.model_id for model in models])


def _unit_at(
    index: int,
    fixtures: Sequence[Fixture],
    cells: Sequence[MatrixCell],
    samples: int,
    *,
    live: bool,
) -> tuple[Fixture, MatrixCell | None, int | None]:
    """The (fixture, cell, sample index) of unit ``index`` (fixture-major order)."""
    fixture_index, rest = divmod(index, len(cells) * samples)
    cell_index, sample = divmod(rest, samples)
    cell = cells[cell_index] if live else None
    return fixtures[fixture_index], cell, sample if samples >= 2 else None


def _report_progress(progress: Callable[[int, int], object], done: int, total: int) -> None:
    try:
        progress(done, total)
    except Exception:  # noqa: BLE001 - a failing progress callback never fails a run
        _LOG.warning("progress callback failed", exc_info=True)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, anyio.get_cancelled_exc_class()):
        return "run cancelled"
    return f"{type(exc).__name__}: {exc}"


def _failed_item(
    fixture: Fixture, cell: MatrixCell | None, sample_index: int | None, message: str
) -> EvalRunItem:
    """An item whose unit produced no outcome: only a runtime error."""
    failure = ReplayRuntimeError(message)
    outcome = ReplayOutcome(fixture_id=fixture.id, runtime_failure=failure)
    report = ReplayReport.from_outcome(outcome, [ReplayRuntimeFailed(failure)])
    return EvalRunItem(fixture.id, cell=cell, report=report, sample_index=sample_index)


def _skipped_item(
    fixture: Fixture,
    cell: MatrixCell | None,
    sample_index: int | None,
    *,
    spent: int,
    budget: int | None,
) -> EvalRunItem:
    message = f"{SKIPPED_PREFIX} (spent {spent} > max {budget})"
    return _failed_item(fixture, cell, sample_index, message)


def _unusable_outcome(outcome: object, exc: Exception) -> str:
    """Why an outcome could not be scored or reported (a replayer bug, not a crash)."""
    if not isinstance(outcome, ReplayOutcome):
        return f"replayer returned {type(outcome).__name__}, not a ReplayOutcome"
    return f"scoring failed: {type(exc).__name__}: {exc}"


_UnitRunner = Callable[[int], Awaitable[EvalRunItem]]


def _scripted_units(
    fixtures: Sequence[Fixture],
    *,
    replayer: Replayer,
    agent: AgentSpec | None,
    sink: TraceSink | None,
) -> _UnitRunner:
    """Run unit ``index`` of a scripted run: fixture ``index``, no cell, no deadline.

    This is the per-unit hot path of large scripted runs: one shared context, no cancel
    scope, no judge, no cost; the replay, ``score``, the report and the item.
    """
    context = ReplayContext(agent=agent, sink=sink)
    link = sink is not None

    async def run_unit(index: int) -> EvalRunItem:
        fixture = fixtures[index]
        try:
            outcome = await replayer.replay(fixture, context)
        except Exception as exc:  # noqa: BLE001 - user code failure is data on the item
            return _failed_item(fixture, None, None, _replayer_raised(exc))
        try:
            report = ReplayReport.from_outcome(outcome, score(outcome, fixture.expect))
            trace_run_id = outcome.trace_run_id() if link else None
        except Exception as exc:  # noqa: BLE001 - a malformed outcome is data too
            return _failed_item(fixture, None, None, _unusable_outcome(outcome, exc))
        return EvalRunItem(fixture.id, report=report, trace_run_id=trace_run_id)

    return run_unit


def _replayer_raised(exc: Exception) -> str:
    return f"replayer raised {type(exc).__name__}: {exc}"


def _live_units(
    fixtures: Sequence[Fixture],
    cells: Sequence[MatrixCell],
    models: Sequence[ResolvedModel],
    *,
    samples: int,
    replayer: Replayer,
    agent: AgentSpec | None,
    judge: Judge | None,
    rubric: str | None,
    revise_max_retries: int | None,
    walltime: float | None,
    budget: int | None,
    sink: TraceSink | None,
) -> _UnitRunner:
    """Run unit ``index`` of a live run: (fixture, cell, sample) under one deadline."""
    per_fixture = len(cells) * samples
    revise = [
        revise_config_for(
            fixture, judge=judge, rubric=rubric, revise_max_retries=revise_max_retries
        )
        for fixture in fixtures
    ]
    link = sink is not None

    async def run_unit(index: int) -> EvalRunItem:
        fixture_index, rest = divmod(index, per_fixture)
        cell_index, sample = divmod(rest, samples)
        fixture = fixtures[fixture_index]
        cell, model = cells[cell_index], models[cell_index]
        sample_index = sample if samples >= 2 else None
        # The deadline starts with the unit (queue time is not counted) and is shared
        # by replay and judging.
        deadline = anyio.current_time() + walltime if walltime is not None else None
        context = ReplayContext(
            mode=EvalRunExecutionMode.LIVE,
            executor=model.executor,
            upstream_model=model.upstream_model,
            cell=cell,
            sample_index=sample_index,
            agent=agent,
            deadline=deadline,
            token_budget=budget,
            sink=sink,
            revise=revise[fixture_index],
        )
        try:
            replayed = await _replay_live(replayer, fixture, context)
        except Exception as exc:  # noqa: BLE001 - user code failure is data on the item
            return _failed_item(fixture, cell, sample_index, _replayer_raised(exc))
        if isinstance(replayed, _TimedOut):  # expired during replay: no phantom failures
            outcome = timeout_outcome(fixture.id, walltime or 0.0)
            assert outcome.runtime_failure is not None  # noqa: S101 - set by timeout_outcome
            failures: list[Failure] = [ReplayRuntimeFailed(outcome.runtime_failure)]
        else:
            outcome = replayed
            try:
                outcome, failures = await _score_unit(
                    outcome,
                    fixture,
                    judge=judge,
                    rubric=rubric,
                    deadline=deadline,
                    walltime=walltime,
                )
            except Exception as exc:  # noqa: BLE001 - a malformed outcome is data too
                return _failed_item(fixture, cell, sample_index, _unusable_outcome(outcome, exc))
        report = ReplayReport.from_outcome(outcome, failures)
        cost = cost_usd_for(report, model.pricing)
        if cost is not None:
            report = attrs.evolve(report, cost_usd=cost)
        return EvalRunItem(
            fixture.id,
            cell=cell,
            report=report,
            trace_run_id=outcome.trace_run_id() if link else None,
            sample_index=sample_index,
        )

    return run_unit


class _TimedOut:
    """Marks a replay cancelled at its deadline (a replayer may return anything)."""


_TIMED_OUT = _TimedOut()


async def _replay_live(
    replayer: Replayer, fixture: Fixture, context: ReplayContext
) -> ReplayOutcome | _TimedOut:
    """Replay under the context's deadline; :data:`_TIMED_OUT` when it expired."""
    if context.deadline is None:
        return await replayer.replay(fixture, context)
    with anyio.move_on_at(context.deadline):
        return await replayer.replay(fixture, context)
    return _TIMED_OUT


def _shown_seconds(seconds: float | None) -> float | int | None:
    if seconds is not None and float(seconds).is_integer():
        return int(seconds)
    return seconds


async def _score_unit(
    outcome: ReplayOutcome,
    fixture: Fixture,
    *,
    judge: Judge | None,
    rubric: str | None,
    deadline: float | None,
    walltime: float | None,
) -> tuple[ReplayOutcome, list[Failure]]:
    expectation = fixture.expect
    if judge is None or expectation.min_judge_score is None:
        return outcome, score(outcome, expectation)
    error: str | None = None
    with anyio.move_on_at(math.inf if deadline is None else deadline):
        try:
            failures, result = await score_with_judge(
                outcome,
                expectation,
                user_prompt=fixture.judge_prompt(),
                rubric=rubric,
                judge=judge,
                expected_outcome=fixture.expected_outcome,
            )
        except JudgeError as exc:
            error = f"scoring failed: judge invocation failed: {exc}"
        except Exception as exc:  # noqa: BLE001 - a judge's crash is data on the item
            error = f"scoring failed: judge invocation failed: {type(exc).__name__}: {exc}"
        else:
            if result is not None:
                outcome = attrs.evolve(
                    outcome,
                    judge_score=result.score,
                    judge_reasoning=result.reasoning,
                    judge_verdicts=result.verdicts,
                )
            return outcome, failures
    if error is None:
        shown = _shown_seconds(walltime)
        error = f"scoring timed out after {shown}s wall-clock (replay completed)"
    return cell_error_outcome(outcome, expectation, error)
