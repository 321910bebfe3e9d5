"""A read-only trace store over an OTLP JSON file (the OTLP file exporter's output).

It implements :class:`~awaken_eval.protocols.TraceStore`, so whatever reads a trace
store (curation, dataset import) reads OpenTelemetry traces too.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from pathlib import Path

import anyio.to_thread

from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.traces import PinKind, TraceFilter, TraceRead, TraceSummary
from awaken_eval._wire.json import parse_strict_json
from awaken_eval.errors import InputUnreadable, InvalidInput, NotFound
from awaken_eval.otel._decode import OtlpSpan, parse_otlp, records_of

__all__ = ["OtlpTraceStore", "read_otlp_file"]

_NS = 1_000_000_000


def _documents(data: bytes, source: str) -> list[tuple[int | None, object]]:
    """One document, or one per line (JSON Lines, as the file exporter appends them)."""
    lines = [(n, line) for n, line in enumerate(data.split(b"\n"), start=1) if line.strip()]
    if len(lines) > 1:
        try:
            first = parse_strict_json(lines[0][1])
        except InvalidInput:
            first = None
        if isinstance(first, dict):
            documents: list[tuple[int | None, object]] = []
            for number, line in lines:
                try:
                    documents.append((number, parse_strict_json(line)))
                except InvalidInput as exc:
                    raise exc.located(source=source, line=number) from None
            return documents
    try:
        return [(None, parse_strict_json(data))]
    except InvalidInput as exc:
        raise exc.located(source=source) from None


def read_otlp_file(path: str | Path) -> list[OtlpSpan]:
    """Every span of an OTLP JSON file: one document, or JSON Lines of documents.

    Raises:
        InputUnreadable: the file cannot be read.
        InvalidInput: it is not OTLP JSON; names the file, the line and the JSON path.
    """
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputUnreadable(source, exc.strerror or str(exc)) from None
    spans: list[OtlpSpan] = []
    for number, document in _documents(data, source):
        try:
            spans.extend(parse_otlp(document))
        except InvalidInput as exc:
            raise exc.located(source=source, line=number) from None
    return spans


def _summary(run_id: str, records: Sequence[InferenceSpan | ToolSpan]) -> TraceSummary:
    starts = [record.started_at_ms or 0 for record in records]
    ends = [record.ended_at_ms or 0 for record in records]
    agent = next((record.agent_id for record in records if record.agent_id), "")
    failed = any(record.error_type is not None for record in records)
    prompts = {r.prompt_id for r in records if isinstance(r, InferenceSpan) and r.prompt_id}
    return TraceSummary(
        run_id=run_id,
        agent_id=agent,
        started_at_secs=min(starts) * 1_000_000 // _NS,
        ended_at_secs=max(ends) * 1_000_000 // _NS,
        prompt_ids=tuple(sorted(prompts)),
        final_status="error" if failed else "ok",
    )


def _matches(summary: TraceSummary, wanted: TraceFilter) -> bool:
    return (
        (wanted.agent_id is None or summary.agent_id == wanted.agent_id)
        and (wanted.prompt_id is None or wanted.prompt_id in summary.prompt_ids)
        and (wanted.experiment_id is None or summary.experiment_id == wanted.experiment_id)
        and (wanted.variant_name is None or summary.variant_name == wanted.variant_name)
        and (wanted.since_secs is None or summary.started_at_secs >= wanted.since_secs)
    )


class OtlpTraceStore:
    """A read-only :class:`~awaken_eval.protocols.TraceStore` over an OTLP JSON file.

    A *trace* of this store is one agent run: the inference and tool spans sharing an
    ``awaken_eval.trace.run_id`` attribute (as :class:`OtelTraceSink` writes them), or,
    for spans without it, sharing a trace id (other instrumentations: one trace, one
    run). The file is read again on every call, so it may grow between calls.

    Args:
        path: The file: one OTLP JSON document, or one per line (the OTLP file
            exporter's JSON Lines).
    """

    def __init__(self, path: str | Path) -> None:
        """Read traces from ``path``."""
        self.path = Path(path)

    async def _runs(self) -> dict[str, tuple[InferenceSpan | ToolSpan, ...]]:
        spans = await anyio.to_thread.run_sync(read_otlp_file, self.path)
        try:
            records = records_of(spans)
        except InvalidInput as exc:
            raise exc.located(source=str(self.path)) from None
        runs: dict[str, list[InferenceSpan | ToolSpan]] = {}
        for record in records:
            runs.setdefault(record.run_id, []).append(record)
        return {run_id: tuple(found) for run_id, found in runs.items()}

    async def read_trace(self, run_id: str) -> TraceRead:
        """The inference and tool spans of the agent run ``run_id``, in start order.

        Raises:
            NotFound: no span of the file belongs to ``run_id``.
            InputUnreadable: the file cannot be read.
            InvalidInput: the file is not OTLP JSON (file, line and JSON path).
        """
        runs = await self._runs()
        if run_id not in runs:
            msg = f"trace not found: {run_id} (in {self.path})"
            raise NotFound(msg)
        return TraceRead(runs[run_id])

    async def list_traces(self, trace_filter: TraceFilter) -> builtins.list[TraceSummary]:
        """The agent runs of the file that pass ``trace_filter``, by start time.

        OTLP spans carry no experiment or variant: a filter on either matches nothing.
        """
        runs = await self._runs()
        found = [_summary(run_id, records) for run_id, records in runs.items()]
        found = [summary for summary in found if _matches(summary, trace_filter)]
        found.sort(key=lambda s: (s.started_at_secs, s.run_id), reverse=trace_filter.newest_first)
        return found if trace_filter.limit is None else found[: trace_filter.limit]

    async def pin(self, run_id: str, kind: PinKind) -> None:
        """Do nothing: the file is someone else's and has no retention to pin against."""
