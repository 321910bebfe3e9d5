"""OpenTelemetry out and in: a trace sink writing GenAI spans, and OTLP JSON as traces.

* :class:`OtelTraceSink` — a :class:`~awaken_eval.TraceSink` that writes a run, its
  items, their inferences and tool calls as spans to the ``TracerProvider`` it is
  given, following the OpenTelemetry GenAI semantic conventions.
* :func:`otlp_json` — the OTLP JSON document of finished SDK spans (what the OTLP file
  exporter writes).
* :func:`otlp_span_records` — the GenAI spans of an OTLP JSON document as
  :class:`~awaken_eval.InferenceSpan` / :class:`~awaken_eval.ToolSpan` records, ready for
  :func:`awaken_eval.curate.curate_fixture`.
* :class:`OtlpTraceStore` — a read-only :class:`~awaken_eval.protocols.TraceStore` over
  an OTLP JSON file.

The sink needs the ``otel`` extra (``pip install 'awaken-eval[otel]'``); OpenTelemetry
is imported when a sink is created, never by ``import awaken_eval`` or this module.
Reading OTLP JSON needs no extra.
"""

from __future__ import annotations

from awaken_eval.otel._attributes import AGENT_RUN_ID
from awaken_eval.otel._decode import INFERENCE_OPERATIONS, otlp_span_records
from awaken_eval.otel._encode import otlp_json
from awaken_eval.otel._sink import OtelTraceSink
from awaken_eval.otel._store import OtlpTraceStore

__all__ = [
    "AGENT_RUN_ID",
    "INFERENCE_OPERATIONS",
    "OtelTraceSink",
    "OtlpTraceStore",
    "otlp_json",
    "otlp_span_records",
]
