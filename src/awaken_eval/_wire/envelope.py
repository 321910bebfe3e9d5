"""Compute the event-store envelope (:class:`~awaken_eval.events.EventMeta`) of an event.

Pure: the envelope is a function of the event alone, so an event emitted again (a
retried write, a resumed run re-running a unit) gets the same idempotency key.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from awaken_eval._records.evaluation import (
    CustomScope,
    EvaluationScope,
    RunScope,
    SessionScope,
    TurnScope,
)
from awaken_eval._records.event_meta import EventMeta
from awaken_eval._records.events import (
    EvaluationResult,
    ItemCompleted,
    RunCompleted,
    RunFailed,
    RunStarted,
    TraceEvent,
)
from awaken_eval._records.ids import RunId
from awaken_eval._records.runs import ItemKey
from awaken_eval._wire.converter import to_json

__all__ = ["event_kind_name", "event_meta", "item_key_path"]


def event_kind_name(tag: str) -> str:
    """The reference's event kind of a wire tag: ``eval_run_started`` -> ``EvalRunStarted``."""
    return "".join(part[:1].upper() + part[1:] for part in tag.split("_"))


def item_key_path(key: ItemKey) -> str:
    """An item key as ``<fixture>/<model>/<sample>``, one segment each, unambiguous.

    Each segment is percent-encoded (so a ``/`` inside an id cannot split it); the
    default cell and an absent sample index are empty segments (model ids and indexes
    are never empty).
    """
    model = "" if key.model_id is None else quote(key.model_id, safe="")
    sample = "" if key.sample_index is None else str(key.sample_index)
    return f"{quote(key.fixture_id, safe='')}/{model}/{sample}"


def _scope_id(scope: EvaluationScope) -> str:
    match scope:
        case RunScope(run_id=run_id):
            return run_id
        case TurnScope(turn_id=turn_id):
            return turn_id
        case SessionScope(session_id=session_id):
            return session_id
        case CustomScope(scope_ref=ref):
            return f"{ref.kind}:{ref.id}"


def event_meta(event: TraceEvent) -> EventMeta | None:
    """The envelope under which a host writes ``event`` to an event store (spec §4.6).

    * Run events (:class:`~awaken_eval.events.RunStarted`, ``RunCompleted``,
      ``RunFailed``): scope ``run(eval_run_id)``, key ``<EventKind>/<run id>``.
    * :class:`~awaken_eval.events.ItemCompleted`: the same, keyed per item:
      ``EvalItemCompleted/<run id>/<fixture>/<model>/<sample>`` (see
      :func:`item_key_path`), so a unit re-run by a resumed run has the same key.
    * :class:`~awaken_eval.events.EvaluationResult`: the evaluation's own scope, its
      id as correlation id, keyed by a SHA-256 of the evaluation's canonical JSON.
    * Spans (:class:`~awaken_eval.events.SpanRecorded`) belong to an agent run's
      trace, not to an event store: ``None``.

    Args:
        event: The event.

    Returns:
        The envelope, or ``None`` for spans.
    """
    kind = event_kind_name(event.kind)
    match event:
        case RunStarted() | RunCompleted() | RunFailed():
            run_id = event.eval_run_id
            key = f"{kind}/{run_id}"
        case ItemCompleted():
            run_id = event.eval_run_id
            key = f"{kind}/{run_id}/{item_key_path(event.item.key)}"
        case EvaluationResult():
            scope = event.evaluation.scope
            digest = hashlib.sha256(to_json(event.evaluation).encode()).hexdigest()
            correlation = _scope_id(scope)
            return EventMeta(
                event_kind=kind,
                scope=scope,
                correlation_id=correlation,
                idempotency_key=f"{kind}/{scope.kind}/{correlation}/{digest}",
            )
        case _:
            return None
    return EventMeta(
        event_kind=kind,
        scope=RunScope(RunId(run_id)),
        correlation_id=run_id,
        idempotency_key=key,
    )
