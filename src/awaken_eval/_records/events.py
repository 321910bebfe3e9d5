"""Events a :class:`~awaken_eval.TraceSink` receives: spans and run lifecycle events.

Spans (:class:`~awaken_eval.InferenceSpan`, :class:`~awaken_eval.ToolSpan`) are emitted
as they are recorded when a replayer has a sink. Run events follow one rule: a run that
emitted :class:`RunStarted` always ends with exactly one :class:`RunCompleted` or
:class:`RunFailed`. Events are tagged by ``type`` on the wire; the ``kind`` class
attribute of each event class holds its tag.
"""

from __future__ import annotations

from enum import Enum
from typing import ClassVar, Union

import attrs

from awaken_eval._records.evaluation import Evaluation
from awaken_eval._records.outcomes import CriterionVerdict, InferenceSpan, ToolSpan
from awaken_eval._records.runs import EvalRunItem
from awaken_eval._records.types import U32, U64

__all__ = [
    "EvaluationResult",
    "ItemCompleted",
    "RunCompleted",
    "RunEventMode",
    "RunFailed",
    "RunStarted",
    "SpanRecorded",
    "TraceEvent",
]


class RunEventMode(Enum):
    """What kind of execution a run event describes."""

    DATASET_SCRIPTED = "dataset_scripted"
    """A dataset replayed from its provider scripts."""
    DATASET_LIVE_MATRIX = "dataset_live_matrix"
    """A dataset run against a matrix of live models."""
    ONLINE_LIVE_MATRIX = "online_live_matrix"
    """An ad-hoc prompt run against live models."""


@attrs.frozen(kw_only=True)
class SpanRecorded:
    """A span was recorded during a replay.

    Attributes:
        span: The inference or tool span.
    """

    kind: ClassVar[str] = "span"
    span: InferenceSpan | ToolSpan


@attrs.frozen(kw_only=True)
class RunStarted:
    """A run was admitted: everything it needs is resolved and work begins.

    Attributes:
        eval_run_id: The run id.
        dataset_id: The dataset.
        dataset_revision: The dataset revision.
        mode: What kind of execution.
        planned_item_count: Units planned (fixtures x cells x samples).
        started_at_secs: Epoch seconds at start.
    """

    kind: ClassVar[str] = "eval_run_started"
    eval_run_id: str
    dataset_id: str
    dataset_revision: U64
    mode: RunEventMode
    planned_item_count: U32
    started_at_secs: U64


@attrs.frozen(kw_only=True)
class ItemCompleted:
    """One unit finished.

    Attributes:
        eval_run_id: The run id.
        item: The finished item.
        done: Units finished so far.
        total: Units planned.
    """

    kind: ClassVar[str] = "eval_item_completed"
    eval_run_id: str
    item: EvalRunItem
    done: U32
    total: U32


@attrs.frozen(kw_only=True)
class RunCompleted:
    """A run finished (terminal event).

    Attributes:
        eval_run_id: The run id.
        dataset_id: The dataset.
        dataset_revision: The dataset revision.
        mode: What kind of execution.
        item_count: Items produced.
        passed_count: Items that passed.
        failed_count: Items that did not pass.
        total_cost_usd: Sum of the items' costs (0 when none has one).
        started_at_secs: Epoch seconds at start.
        ended_at_secs: Epoch seconds at the end.
        persisted: Whether the run was written to a store.
    """

    kind: ClassVar[str] = "eval_run_completed"
    eval_run_id: str
    dataset_id: str
    dataset_revision: U64
    mode: RunEventMode
    item_count: U32
    passed_count: U32
    failed_count: U32
    total_cost_usd: float
    started_at_secs: U64
    ended_at_secs: U64
    persisted: bool


@attrs.frozen(kw_only=True)
class RunFailed:
    """A started run could not finish (terminal event).

    Attributes:
        eval_run_id: The run id.
        dataset_id: The dataset.
        mode: What kind of execution.
        error: What went wrong.
        started_at_secs: Epoch seconds at start.
        ended_at_secs: Epoch seconds when it failed.
    """

    kind: ClassVar[str] = "eval_run_failed"
    eval_run_id: str
    dataset_id: str
    mode: RunEventMode
    error: str
    started_at_secs: U64
    ended_at_secs: U64


@attrs.frozen(kw_only=True)
class EvaluationResult:
    """A judge graded an existing production run, turn or session (online evaluation).

    Attributes:
        evaluation: What was graded.
        score: The grade in [0, 1].
        reasoning: The judge's reasoning.
        verdicts: Per-criterion verdicts.
        passed: Whether the score met the threshold, when one was given.
    """

    kind: ClassVar[str] = "evaluation_result"
    evaluation: Evaluation
    score: float
    reasoning: str | None = None
    verdicts: tuple[CriterionVerdict, ...] = ()
    passed: bool | None = None


TraceEvent = Union[  # noqa: UP007
    SpanRecorded, RunStarted, ItemCompleted, RunCompleted, RunFailed, EvaluationResult
]
"""Anything a trace sink receives; JSON tagged by ``type``."""
