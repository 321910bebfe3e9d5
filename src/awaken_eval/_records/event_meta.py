"""The envelope a host needs to write a run event to an event store exactly once.

The reference writes its eval run events with a fixed envelope (spec §4.6): scope
``run(eval_run_id)``, internal visibility, the run id as correlation id, writer and
source ``eval`` and the idempotency key ``<EventKind>/<run id>``. :class:`EventMeta`
holds those fields; :func:`awaken_eval.events.event_meta` computes them from an event,
so the events' own wire format is unchanged.
"""

from __future__ import annotations

from enum import Enum

import attrs

from awaken_eval._records.evaluation import EvaluationScope

__all__ = ["EVENT_SOURCE", "EVENT_WRITER_ID", "EventMeta", "EventVisibility"]

EVENT_WRITER_ID = "eval"
"""The writer id of every event eval emits (spec §4.6)."""

EVENT_SOURCE = "eval"
"""The source of every event eval emits (spec §4.6)."""


class EventVisibility(Enum):
    """Who may read an event in the host's event store."""

    ALL = "all"
    """Everyone who may read the scope."""
    INTERNAL = "internal"
    """Operators and internal tools only (every eval event)."""


@attrs.frozen(kw_only=True)
class EventMeta:
    """Where an event belongs in an event store and how to write it exactly once.

    Attributes:
        event_kind: The reference's name of the event (``EvalRunStarted``, ...).
        scope: The boundary the event is about (``run(eval_run_id)`` for run events).
        visibility: Who may read it (always internal for eval's events).
        correlation_id: Groups the events of one run (the eval run id).
        writer_id: Who wrote it (``eval``).
        source: Where it came from (``eval``).
        idempotency_key: Equal for every emission of the same event (retries, a
            resumed run), different for different events: a store that keeps one event
            per key stores each event once.
    """

    event_kind: str
    scope: EvaluationScope
    visibility: EventVisibility = EventVisibility.INTERNAL
    correlation_id: str
    writer_id: str = EVENT_WRITER_ID
    source: str = EVENT_SOURCE
    idempotency_key: str
