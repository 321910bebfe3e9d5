"""One dataset run against a baseline: check the baseline, run, diff.

The service's ``start_run`` and the command line's ``run`` both go through
:func:`run_against_baseline`; they differ only in how they find the fixtures, the
models and the baseline, and in how they report errors.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Generic, TypeVar

import attrs

from awaken_eval._analysis.baseline import BaselineCheck, NewRunMeta, validate_baseline
from awaken_eval._engine.options import RunOptions
from awaken_eval._engine.runner import run_eval
from awaken_eval._records.fixtures import Fixture
from awaken_eval._records.inference import AgentSpec, ResolvedModel
from awaken_eval._records.runs import EvalRun
from awaken_eval._wire.digests import fixture_digests
from awaken_eval.protocols import (
    EvalRunStore,
    Judge,
    ModelResolver,
    Replayer,
    TraceSink,
    UnitDispatcher,
)

__all__ = ["ComparedRun", "baseline_meta", "run_against_baseline"]

D = TypeVar("D")


@attrs.frozen(kw_only=True)
class ComparedRun(Generic[D]):
    """A finished run with its baseline check and diff (both absent without baseline).

    Attributes:
        run: The finished run.
        baseline_check: How the fixtures moved since the baseline.
        diff: The diff of the run against the baseline.
    """

    run: EvalRun
    baseline_check: BaselineCheck | None = None
    diff: D | None = None


def baseline_meta(options: RunOptions, digests: Mapping[str, str]) -> NewRunMeta:
    """What :func:`~awaken_eval.analysis.validate_baseline` needs to know of the run."""
    return NewRunMeta(
        options.dataset_id,
        options.dataset_revision,
        options.mode,
        samples=options.samples if options.is_live else None,
        fixture_digests=digests,
    )


async def run_against_baseline(
    fixtures: Sequence[Fixture],
    options: RunOptions,
    *,
    baseline: EvalRun | None,
    diff: Callable[[EvalRun, EvalRun], D],
    baseline_check: BaselineCheck | None = None,
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
) -> ComparedRun[D]:
    """Check ``baseline`` against the planned run, run it, and diff it.

    Args:
        fixtures: The fixtures.
        options: What the run is.
        baseline: The run to compare against, if any.
        diff: Diffs the new run (second argument) against the baseline (first).
        baseline_check: The baseline's check, when the caller already made it (for
            example to report it in its own rule order); made here otherwise.
        models: See :func:`~awaken_eval.run_eval`.
        replayer: See :func:`~awaken_eval.run_eval`.
        agent: See :func:`~awaken_eval.run_eval`.
        judge: See :func:`~awaken_eval.run_eval`.
        store: See :func:`~awaken_eval.run_eval`.
        sink: See :func:`~awaken_eval.run_eval`.
        progress: See :func:`~awaken_eval.run_eval`.
        digests: The fixtures' digests (computed here once when absent, for both the
            baseline check and the run).
        clock: See :func:`~awaken_eval.run_eval`.
        dispatcher: See :func:`~awaken_eval.run_eval`.

    Raises:
        InvalidRequest: an incomparable baseline (before any work), or what
            :func:`~awaken_eval.run_eval` raises.
    """
    digests = digests if digests is not None else fixture_digests(fixtures)
    if baseline is not None and baseline_check is None:
        baseline_check = validate_baseline(baseline, baseline_meta(options, digests))
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
    compared = diff(baseline, run) if baseline is not None else None
    return ComparedRun(run=run, baseline_check=baseline_check, diff=compared)
