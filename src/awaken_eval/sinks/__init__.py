"""Trace sinks and trace stores: where spans and run events go.

:class:`FileTraceStore` is the reference's file trace store (month folders of per-run
``.ndjson`` event files, index and pin files): it reads, lists, pins, unpins and prunes
traces, and is the trace root the ``curate`` command reads. :class:`JsonlTraceSink`
writes it during a run. An in-memory sink for tests is
:class:`~awaken_eval.testing.CapturingSink`.
"""

from __future__ import annotations

from awaken_eval._records.traces import *
from awaken_eval.sinks._jsonl import *
from awaken_eval.sinks._store import EVAL_EVENTS_FILE, FileTraceStore

__all__ = [
    "EVAL_EVENTS_FILE",
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
