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

import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import anyio
import attrs

from awaken_eval.agent_loop import AgentLoopReplayer
from awaken_eval.baseline import ADHOC_DATASET_ID, fixture_digests
from awaken_eval.cost import cost_usd_for
from awaken_eval.errors import InvalidRequest
from awaken_eval.events import (
    ItemCompleted,
    RunCompleted,
    RunEventMode,
    RunFailed,
    RunStarted,
    TraceEvent,
)
from awaken_eval.expectations import Expectation
from awaken_eval.failures import Failure, ReplayRuntimeError, ReplayRuntimeFailed
from awaken_eval.fixtures import Fixture
from awaken_eval.ids import mint_run_id, validate_run_id
from awaken_eval.judging import revise_config_for, score_with_judge
from awaken_eval.matrix import expand_cells
from awaken_eval.outcomes import ReplayOutcome, ReplayReport
from awaken_eval.protocols import (
    AgentSpec,
    EvalRunStore,
    Judge,
    JudgeError,
    ReplayContext,
    Replayer,
    ResolvedModel,
    RunHeader,
    StreamingRunStore,
    TraceSink,
)
from awaken_eval.runs import EvalRun, EvalRunExecutionMode, EvalRunItem, ItemKey, MatrixCell
from awaken_eval.scoring import score
from awaken_eval.validation import (
    validate_judge_required_for_expectation,
    validate_offline_expectation,
    validate_unique_models,
)

__all__ = [
    "DEFAULT_MAX_WALLTIME_SECS",
    "SKIPPED_PREFIX",
    "cell_error_outcome",
    "run_eval",
    "run_eval_sync",
    "timeout_outcome",
]

_LOG = logging.getLogger("awaken_eval")

DEFAULT_MAX_WALLTIME_SECS = 60.0
"""Wall-clock deadline of one live cell when none is given."""

SKIPPED_PREFIX = "unit skipped: run token budget exhausted"
"""Start of the runtime-error message of units never scheduled because the run-wide
token budget was spent."""

_APPEND_BATCH = 64


def timeout_outcome(fixture_id: str, walltime_secs: float) -> ReplayOutcome:
    """The outcome of a cell whose deadline expired during replay (spec §1.5)."""
    shown = int(walltime_secs) if float(walltime_secs).is_integer() else walltime_secs
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


@attrs.frozen
class _Unit:
    fixture: Fixture
    cell: MatrixCell | None
    model: ResolvedModel | None
    sample: int

    def key(self, samples: int) -> ItemKey:
        model_id = None if self.cell is None else self.cell.model_id
        return ItemKey(self.fixture.id, model_id, self.sample if samples >= 2 else None)


@attrs.define
class _Progress:
    total: int
    done: int = 0
    tokens: int = 0
    stop_scheduling: bool = False
    pending: list[EvalRunItem] = attrs.field(factory=list)


async def _emit(sink: TraceSink | None, event: TraceEvent) -> None:
    if sink is None:
        return
    try:
        await sink.emit(event)
    except Exception:  # noqa: BLE001 - a failing sink never fails a run
        _LOG.warning("trace sink failed to record %s", type(event).__name__, exc_info=True)


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
        clock: Wall clock in epoch seconds (``started_at_secs``/``ended_at_secs``).

    Raises:
        InvalidRequest: when the arguments break a rule (checked before any work).
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
    walltime = max_walltime_secs if live else None
    budget = max_total_tokens if live else None
    if event_mode is None:
        event_mode = RunEventMode.DATASET_LIVE_MATRIX if live else RunEventMode.DATASET_SCRIPTED

    units = [
        _Unit(fixture, cell if live else None, model, sample)
        for fixture in fixtures
        for cell, model in _cells(live, models)
        for sample in range(samples)
    ]
    keys = [unit.key(samples) for unit in units]
    started_at = int(clock())
    digests = fixture_digests(fixtures)
    present: frozenset[ItemKey] = frozenset()
    if streaming is not None:
        header = RunHeader(
            id=run_id,
            dataset_id=dataset_id,
            dataset_revision=dataset_revision,
            execution_mode=mode,
            started_at_secs=started_at,
            fixture_digests=digests,
        )
        present = await streaming.begin(header, resume=resume is not None)

    results: list[EvalRunItem | None] = [None] * len(units)
    state = _Progress(total=len(units), done=sum(key in present for key in keys))
    todo: Iterator[int] = iter([i for i, key in enumerate(keys) if key not in present])
    revise_for = functools.partial(
        revise_config_for, judge=judge, rubric=rubric, revise_max_retries=revise_max_retries
    )

    async def flush() -> None:
        if streaming is not None and state.pending:
            batch, state.pending = tuple(state.pending), []
            await streaming.append(run_id, batch)

    async def finish_unit(index: int, item: EvalRunItem) -> None:
        results[index] = item
        state.done += 1
        state.tokens += item.report.total_tokens
        if run_token_budget is not None and state.tokens > run_token_budget:
            state.stop_scheduling = True
        if streaming is not None:
            state.pending.append(item)
            if len(state.pending) >= _APPEND_BATCH:
                await flush()
        if sink is not None:
            done, total = state.done, state.total
            await _emit(sink, ItemCompleted(eval_run_id=run_id, item=item, done=done, total=total))
        if progress is not None:
            _report_progress(progress, state.done, state.total)

    async def worker() -> None:
        for index in todo:
            if state.stop_scheduling:
                return
            unit = units[index]
            item = await _run_unit(
                unit,
                live=live,
                samples=samples,
                replayer=replayer,
                agent=agent,
                judge=judge,
                rubric=rubric,
                revise=revise_for(unit.fixture) if live else None,
                walltime=walltime,
                budget=budget,
                sink=sink,
            )
            await finish_unit(index, item)

    await _emit(
        sink,
        RunStarted(
            eval_run_id=run_id,
            dataset_id=dataset_id,
            dataset_revision=dataset_revision,
            mode=event_mode,
            planned_item_count=len(units),
            started_at_secs=started_at,
        ),
    )
    try:
        if progress is not None and state.done:
            _report_progress(progress, state.done, state.total)
        async with anyio.create_task_group() as group:
            for _ in range(min(max_concurrency, max(1, len(units)))):
                group.start_soon(worker)
        for index in todo:  # left unscheduled by the run-wide token budget
            item = _skipped_item(units[index], samples, state.tokens, run_token_budget)
            await finish_unit(index, item)
        await flush()
        ended_at = int(clock())
        if streaming is not None:
            run = await streaming.finish(run_id, ended_at_secs=ended_at, item_order=keys)
        else:
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
            if store is not None:
                await store.write(run)
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            try:
                await flush()
            except Exception:  # noqa: BLE001 - the original failure is what matters
                _LOG.warning("could not flush finished items of run %s", run_id, exc_info=True)
            await _emit(
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
    await _emit(
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
    call: Callable[[], Awaitable[EvalRun]] = functools.partial(run_eval, fixtures, **options)
    return anyio.run(call, backend=backend)


def _streaming(store: EvalRunStore | None) -> StreamingRunStore | None:
    if store is None:
        return None
    return store if isinstance(store, StreamingRunStore) else None


def _cells(
    live: bool, models: Sequence[ResolvedModel]
) -> list[tuple[MatrixCell, ResolvedModel | None]]:
    if not live:
        return [(MatrixCell(), None)]
    cells = expand_cells([model.model_id for model in models])
    return list(zip(cells, models, strict=True))


def _report_progress(progress: Callable[[int, int], object], done: int, total: int) -> None:
    try:
        progress(done, total)
    except Exception:  # noqa: BLE001 - a failing progress callback never fails a run
        _LOG.warning("progress callback failed", exc_info=True)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, anyio.get_cancelled_exc_class()):
        return "run cancelled"
    return f"{type(exc).__name__}: {exc}"


def _skipped_item(
    unit: _Unit, samples: int, spent: int, run_token_budget: int | None
) -> EvalRunItem:
    failure = ReplayRuntimeError(f"{SKIPPED_PREFIX} (spent {spent} > max {run_token_budget})")
    outcome = ReplayOutcome(fixture_id=unit.fixture.id, runtime_failure=failure)
    report = ReplayReport.from_outcome(outcome, [ReplayRuntimeFailed(failure)])
    return _item(unit, samples, report, trace_run_id=None)


def _item(
    unit: _Unit, samples: int, report: ReplayReport, *, trace_run_id: str | None
) -> EvalRunItem:
    return EvalRunItem(
        unit.fixture.id,
        cell=unit.cell,
        report=report,
        trace_run_id=trace_run_id,
        sample_index=unit.sample if samples >= 2 else None,
    )


async def _run_unit(
    unit: _Unit,
    *,
    live: bool,
    samples: int,
    replayer: Replayer,
    agent: AgentSpec | None,
    judge: Judge | None,
    rubric: str | None,
    revise: Any,
    walltime: float | None,
    budget: int | None,
    sink: TraceSink | None,
) -> EvalRunItem:
    fixture = unit.fixture
    model = unit.model
    deadline = anyio.current_time() + walltime if walltime is not None else math.inf
    context = ReplayContext(
        mode=EvalRunExecutionMode.LIVE if live else EvalRunExecutionMode.SCRIPTED,
        executor=model.executor if model is not None else None,
        upstream_model=model.upstream_model if model is not None else None,
        cell=unit.cell,
        sample_index=unit.sample if samples >= 2 else None,
        agent=agent,
        deadline=deadline if walltime is not None else None,
        token_budget=budget,
        sink=sink,
        revise=revise,
    )
    outcome: ReplayOutcome | None = None
    with anyio.move_on_at(deadline):
        try:
            outcome = await replayer.replay(fixture, context)
        except Exception as exc:  # noqa: BLE001 - user code failure is data on the item
            failure = ReplayRuntimeError(f"replayer raised {type(exc).__name__}: {exc}")
            outcome = ReplayOutcome(fixture_id=fixture.id, runtime_failure=failure)
    if outcome is None:  # the deadline expired during replay: no phantom failures
        outcome = timeout_outcome(fixture.id, walltime or 0.0)
        assert outcome.runtime_failure is not None  # noqa: S101 - set by timeout_outcome
        failures: list[Failure] = [ReplayRuntimeFailed(outcome.runtime_failure)]
    else:
        outcome, failures = await _score_unit(
            outcome, fixture, judge=judge, rubric=rubric, deadline=deadline, walltime=walltime
        )
    report = ReplayReport.from_outcome(outcome, failures)
    if model is not None:
        cost = cost_usd_for(report, model.pricing)
        if cost is not None:
            report = attrs.evolve(report, cost_usd=cost)
    trace_run_id = outcome.trace_run_id() if sink is not None else None
    return _item(unit, samples, report, trace_run_id=trace_run_id)


async def _score_unit(
    outcome: ReplayOutcome,
    fixture: Fixture,
    *,
    judge: Judge | None,
    rubric: str | None,
    deadline: float,
    walltime: float | None,
) -> tuple[ReplayOutcome, list[Failure]]:
    expectation = fixture.expect
    if judge is None or expectation.min_judge_score is None:
        try:
            return outcome, score(outcome, expectation)
        except Exception as exc:  # noqa: BLE001 - defensive: scoring is pure
            return cell_error_outcome(outcome, expectation, f"scoring failed: {exc}")
    error: str | None = None
    with anyio.move_on_at(deadline):
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
        shown = int(walltime) if walltime is not None and float(walltime).is_integer() else walltime
        error = f"scoring timed out after {shown}s wall-clock (replay completed)"
    return cell_error_outcome(outcome, expectation, error)
