"""The responses of :class:`~awaken_eval.service.EvalService`: what its handlers return.

Each is the body of a 200; a host serializes it with
:func:`~awaken_eval.to_builtins`.
"""

from __future__ import annotations

import attrs

from awaken_eval._analysis.baseline import BaselineCheck
from awaken_eval._records.comparison import DiffSummary
from awaken_eval._records.runs import EvalRun, SampleAggregate

__all__ = [
    "EvalRunResponse",
    "GetRunResponse",
    "OnlineEvalResponse",
]


@attrs.frozen(kw_only=True)
class EvalRunResponse:
    """What :meth:`EvalService.start_run` returns (the body of a 200).

    Attributes:
        run: The finished, persisted run.
        diff: The diff against the requested baseline (absent without one).
        baseline_check: How the fixtures moved since the baseline (content digests).
        warnings: Things the caller should know that did not stop the run.
    """

    run: EvalRun
    diff: DiffSummary | None = None
    baseline_check: BaselineCheck | None = None
    warnings: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class OnlineEvalResponse:
    """What :meth:`EvalService.online_eval` returns.

    Attributes:
        run: The finished run (dataset ``_adhoc``).
        persisted: Whether the run was written to the run store.
        persist_error: Why writing it failed, when it was asked for and failed.
        warnings: Things the caller should know that did not stop the run.
    """

    run: EvalRun
    persisted: bool
    persist_error: str | None = None
    warnings: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class GetRunResponse:
    """What :meth:`EvalService.get_run` returns.

    Attributes:
        run: The stored run.
        diff: The diff against the requested baseline (absent without one).
        baseline_check: How the fixtures moved since the baseline (content digests).
        aggregates: The per-(fixture, cell) roll-up, when asked for.
    """

    run: EvalRun
    diff: DiffSummary | None = None
    baseline_check: BaselineCheck | None = None
    aggregates: tuple[SampleAggregate, ...] | None = None
