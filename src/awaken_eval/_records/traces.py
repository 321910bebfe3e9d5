"""Records of a trace store: what is read, listed and pinned.

A trace is the event lines of one agent run (spans and the reference's other metrics
events). A trace store reads a trace back by run id (:class:`TraceRead`), lists the
indexed runs (:class:`TraceSummary`) through a :class:`TraceFilter`, and pins a run so
retention keeps it (:class:`PinKind`).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Union

import attrs

from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.types import JsonValue

__all__ = [
    "DamagedLine",
    "OpaqueMetricsEvent",
    "PinKind",
    "TraceFilter",
    "TraceRead",
    "TraceStoreEvent",
    "TraceSummary",
]


@attrs.frozen
class OpaqueMetricsEvent:
    """A trace event eval does not interpret (suspension, handoff, delegation, ...).

    Trace files written by the reference may hold them; they are read back as JSON.

    Attributes:
        type: The event's ``type`` tag.
        payload: The event's other keys.
    """

    type: str
    payload: Mapping[str, JsonValue]


TraceStoreEvent = Union[InferenceSpan, ToolSpan, OpaqueMetricsEvent]  # noqa: UP007
"""One line of a trace file: ``{"type": "inference" | "tool" | ..., ...}``."""


@attrs.frozen
class DamagedLine:
    """A line of a trace file that could not be read (e.g. torn by a failed append).

    Attributes:
        line: Its 1-based line number.
        error: Why it could not be read (the JSON path and the problem).
    """

    line: int
    error: str


@attrs.frozen
class TraceRead:
    """What a trace store read for one run: the intact events and the damage.

    Attributes:
        events: The events of every intact line, in record order.
        damaged: The lines that could not be read, in file order.
    """

    events: tuple[TraceStoreEvent, ...]
    damaged: tuple[DamagedLine, ...] = ()


class PinKind(Enum):
    """Why a trace is pinned (kept by retention); the value is the pin file's letter."""

    DATASET = "D"
    """A dataset fixture was curated from it."""
    EXPERIMENT_EVIDENCE = "E"
    """An experiment cites it as evidence."""
    OPERATOR = "P"
    """An operator pinned it by hand."""


@attrs.frozen(kw_only=True)
class TraceFilter:
    """Which indexed traces a listing returns; every given field must match.

    Attributes:
        agent_id: Only runs of this agent.
        prompt_id: Only runs whose ``prompt_ids`` hold this id.
        experiment_id: Only runs of this experiment.
        variant_name: Only runs of this variant.
        since_secs: Only runs started at or after this time (epoch seconds).
        limit: At most this many rows (after filtering and ordering); ``None`` for all.
        newest_first: Order by start time, newest first (the reference's only order);
            ``False`` lists oldest first.
    """

    agent_id: str | None = None
    prompt_id: str | None = None
    experiment_id: str | None = None
    variant_name: str | None = None
    since_secs: int | None = None
    limit: int | None = None
    newest_first: bool = True


@attrs.frozen(kw_only=True)
class TraceSummary:
    """One listed trace: the run's index.

    Attributes:
        run_id: The agent run's id.
        agent_id: The agent that ran (``""`` when unknown).
        started_at_secs: When the run started (epoch seconds).
        ended_at_secs: When it ended, if known.
        prompt_ids: The prompt ids seen in the run, sorted.
        experiment_id: The experiment, if any.
        variant_name: The variant, if any.
        final_status: ``"ok"`` or ``"error"``, if known.
        judge_score: The lowest judge score recorded in the run, if any.
    """

    run_id: str
    agent_id: str
    started_at_secs: int
    ended_at_secs: int | None = None
    prompt_ids: tuple[str, ...] = ()
    experiment_id: str | None = None
    variant_name: str | None = None
    final_status: str | None = None
    judge_score: float | None = None
