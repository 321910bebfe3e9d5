"""Reading the captured transcripts of a run's items from a trace store."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.runs import EvalRun
from awaken_eval.errors import NotFound

__all__ = ["TraceReader", "read_transcripts"]


class TraceReader(Protocol):
    """What :func:`read_transcripts` needs of a trace store (a ``FileTraceStore`` fits)."""

    async def read_events(self, run_id: str, /) -> Sequence[object]:
        """The events of the trace ``run_id``; raises ``NotFound`` when there is none."""
        ...


def _trace_ids(run: EvalRun) -> Iterable[str]:
    seen: dict[str, None] = {}
    for item in run.items:
        if item.trace_run_id is not None:
            seen.setdefault(item.trace_run_id, None)
    return seen


async def read_transcripts(
    store: TraceReader, run: EvalRun
) -> dict[str, list[InferenceSpan | ToolSpan]]:
    """The spans of every item's trace that ``store`` holds, by trace run id.

    Traces the store does not have are left out (the report then says the content was
    not captured); events other than inference and tool spans are skipped.

    Args:
        store: Where the traces are, e.g. a :class:`~awaken_eval.sinks.FileTraceStore`.
        run: The run whose items' ``trace_run_id`` are read.

    Returns:
        The spans in record order, by trace run id.
    """
    found: dict[str, list[InferenceSpan | ToolSpan]] = {}
    for trace_id in _trace_ids(run):
        try:
            events = await store.read_events(trace_id)
        except NotFound:
            continue
        found[trace_id] = [event for event in events if isinstance(event, InferenceSpan | ToolSpan)]
    return found
