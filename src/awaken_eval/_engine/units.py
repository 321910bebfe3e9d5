"""What one unit of a run executes: replay, deadline, judging, scoring, the item.

A *unit* is one (fixture, cell, sample) of a run. :func:`scripted_units` and
:func:`live_units` build the coroutine function the runner's workers call with a unit's
index; it never raises for a failure of user code (replayer, executor, judge): that
becomes a runtime failure on the unit's item.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Sequence

import anyio
import attrs

from awaken_eval._engine.deadline import (
    cancelled_classes,
    run_is_cancelled,
    stray_cancel_message,
)
from awaken_eval._engine.emit import trace_verifier
from awaken_eval._records.construct import fast_constructor
from awaken_eval._records.expectations import Expectation
from awaken_eval._records.failures import Failure, ReplayRuntimeError, ReplayRuntimeFailed
from awaken_eval._records.fixtures import Fixture
from awaken_eval._records.inference import AgentSpec, ResolvedModel
from awaken_eval._records.outcomes import ReplayOutcome, ReplayReport
from awaken_eval._records.replay import ReplayContext
from awaken_eval._records.runs import EvalRunExecutionMode, EvalRunItem, MatrixCell
from awaken_eval._scoring.cost import cost_usd_for
from awaken_eval._scoring.score import score
from awaken_eval.errors import JudgeError
from awaken_eval.protocols import Judge, Replayer, TraceSink

__all__ = [
    "UnitRunner",
    "cell_error_outcome",
    "failed_item",
    "live_units",
    "scripted_units",
    "timeout_outcome",
]

UnitRunner = Callable[[int], Awaitable[EvalRunItem]]
"""Runs the unit at an index and returns its item (never raises for user code)."""


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


def failed_item(
    fixture: Fixture, cell: MatrixCell | None, sample_index: int | None, message: str
) -> EvalRunItem:
    """An item whose unit produced no outcome: only a runtime error."""
    failure = ReplayRuntimeError(message)
    outcome = ReplayOutcome(fixture_id=fixture.id, runtime_failure=failure)
    report = ReplayReport.from_outcome(outcome, [ReplayRuntimeFailed(failure)])
    return EvalRunItem(fixture.id, cell=cell, report=report, sample_index=sample_index)


def _unusable_outcome(outcome: object, exc: Exception) -> str:
    """Why an outcome could not be scored or reported (a replayer bug, not a crash)."""
    if not isinstance(outcome, ReplayOutcome):
        return f"replayer returned {type(outcome).__name__}, not a ReplayOutcome"
    return f"scoring failed: {type(exc).__name__}: {exc}"


def scripted_units(
    fixtures: Sequence[Fixture],
    *,
    replayer: Replayer,
    agent: AgentSpec | None,
    sink: TraceSink | None,
) -> UnitRunner:
    """Run unit ``index`` of a scripted run: fixture ``index``, no cell, no deadline.

    This is the per-unit hot path of large scripted runs: one shared context, no cancel
    scope, no judge, no cost; the replay, ``score``, the report and the item.
    """
    context = ReplayContext(agent=agent, sink=sink)
    verify = trace_verifier(sink)
    new_item = fast_constructor(EvalRunItem)

    cancelled = cancelled_classes()

    async def run_unit(index: int) -> EvalRunItem:
        fixture = fixtures[index]
        try:
            outcome = await replayer.replay(fixture, context)
        except Exception as exc:  # noqa: BLE001 - user code failure is data on the item
            return failed_item(fixture, None, None, _replayer_raised(exc))
        except cancelled as exc:
            if run_is_cancelled():
                raise
            return failed_item(fixture, None, None, stray_cancel_message("replayer", exc))
        try:
            report = ReplayReport.from_outcome(outcome, score(outcome, fixture.expect))
            trace_run_id = outcome.trace_run_id() if verify is not None else None
        except Exception as exc:  # noqa: BLE001 - a malformed outcome is data too
            return failed_item(fixture, None, None, _unusable_outcome(outcome, exc))
        if trace_run_id is not None and verify is not None and not await verify(trace_run_id):
            trace_run_id = None
        return new_item(fixture.id, report, trace_run_id=trace_run_id)

    return run_unit


def _replayer_raised(exc: Exception) -> str:
    return f"replayer raised {type(exc).__name__}: {exc}"


def live_units(
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
) -> UnitRunner:
    """Run unit ``index`` of a live run: (fixture, cell, sample) under one deadline."""
    from awaken_eval._engine.judging import (  # noqa: PLC0415 - live runs only
        revise_config_for,
    )

    per_fixture = len(cells) * samples
    revise = [
        revise_config_for(
            fixture, judge=judge, rubric=rubric, revise_max_retries=revise_max_retries
        )
        for fixture in fixtures
    ]
    verify = trace_verifier(sink)
    cancelled = cancelled_classes()

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
            return failed_item(fixture, cell, sample_index, _replayer_raised(exc))
        except cancelled as exc:
            if run_is_cancelled():
                raise
            message = stray_cancel_message("replayer", exc)
            return failed_item(fixture, cell, sample_index, message)
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
                return failed_item(fixture, cell, sample_index, _unusable_outcome(outcome, exc))
        report = ReplayReport.from_outcome(outcome, failures)
        cost = cost_usd_for(report, model.pricing)
        if cost is not None:
            report = attrs.evolve(report, cost_usd=cost)
        trace_run_id = outcome.trace_run_id() if verify is not None else None
        if trace_run_id is not None and verify is not None and not await verify(trace_run_id):
            trace_run_id = None
        return EvalRunItem(
            fixture.id,
            cell=cell,
            report=report,
            trace_run_id=trace_run_id,
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
    with anyio.move_on_at(context.deadline) as scope:
        outcome = await replayer.replay(fixture, context)
        # Past the deadline though it returned: it blocked the event loop, shielded
        # itself or ignored the cancellation. The cell still timed out.
        if not scope.cancel_called and anyio.current_time() <= context.deadline:
            return outcome
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
    from awaken_eval._engine.judging import (  # noqa: PLC0415 - judged units only
        score_with_judge,
    )

    error: str | None = None
    with anyio.move_on_at(math.inf if deadline is None else deadline) as scope:
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
        except cancelled_classes() as exc:
            if run_is_cancelled():
                raise
            error = f"scoring failed: {stray_cancel_message('judge', exc)}"
        else:
            if scope.cancel_called or (deadline is not None and anyio.current_time() > deadline):
                return _scoring_timed_out(outcome, expectation, walltime)
            if result is not None:
                outcome = attrs.evolve(
                    outcome,
                    judge_score=result.score,
                    judge_reasoning=result.reasoning,
                    judge_verdicts=result.verdicts,
                )
            return outcome, failures
    if error is None:
        return _scoring_timed_out(outcome, expectation, walltime)
    return cell_error_outcome(outcome, expectation, error)


def _scoring_timed_out(
    outcome: ReplayOutcome, expectation: Expectation, walltime: float | None
) -> tuple[ReplayOutcome, list[Failure]]:
    shown = _shown_seconds(walltime)
    error = f"scoring timed out after {shown}s wall-clock (replay completed)"
    return cell_error_outcome(outcome, expectation, error)
