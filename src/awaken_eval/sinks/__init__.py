"""Trace sinks and trace stores: where spans and run events go.

:class:`JsonlTraceSink` appends spans to one JSON-lines file per agent run and run
events to one events file; :class:`FileTraceStore` reads them back (the trace root the
``curate`` command reads). An in-memory sink for tests is
:class:`~awaken_eval.testing.CapturingSink`.
"""

from __future__ import annotations

from awaken_eval._records.traces import *
from awaken_eval.sinks._jsonl import *

__all__ = [
    "EVAL_EVENTS_FILE",
    "TRACES_DIR",
    "DamagedLine",
    "FileTraceStore",
    "JsonlTraceSink",
    "OpaqueMetricsEvent",
    "PinKind",
    "TraceFilter",
    "TraceRead",
    "TraceStoreEvent",
    "TraceSummary",
]
