"""Run events and spans, as a :class:`~awaken_eval.TraceSink` receives them.

:func:`event_meta` gives the envelope (:class:`EventMeta`: scope, visibility,
correlation id, writer, source, idempotency key) under which a host writes an event to
an event store exactly once.
"""

from __future__ import annotations

from awaken_eval._records.event_meta import *
from awaken_eval._records.events import *
from awaken_eval._records.outcomes import *
from awaken_eval._wire.envelope import event_meta, item_key_path

__all__ = [
    "EVENT_SOURCE",
    "EVENT_WRITER_ID",
    "EvaluationResult",
    "EventMeta",
    "EventVisibility",
    "InferenceSpan",
    "ItemCompleted",
    "RunCompleted",
    "RunEventMode",
    "RunFailed",
    "RunStarted",
    "SpanRecorded",
    "ToolSpan",
    "TraceEvent",
    "event_meta",
    "item_key_path",
]
