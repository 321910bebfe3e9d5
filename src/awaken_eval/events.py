"""Run events and spans, as a :class:`~awaken_eval.TraceSink` receives them."""

from __future__ import annotations

from awaken_eval._records.events import *
from awaken_eval._records.outcomes import *

__all__ = [
    "EvaluationResult",
    "InferenceSpan",
    "ItemCompleted",
    "RunCompleted",
    "RunEventMode",
    "RunFailed",
    "RunStarted",
    "SpanRecorded",
    "ToolSpan",
    "TraceEvent",
]
