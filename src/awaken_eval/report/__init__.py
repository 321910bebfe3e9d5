"""A self-contained HTML report of a run: header, charts, items and the diff.

:func:`render_report` turns a run (and optionally its baseline) into one HTML file
that works offline: its scripts (Vega and Vega-Lite for the charts), its style and its
data are inline, and its Content-Security-Policy forbids every request. Open it from
disk, attach it to a CI job, or serve it (``EvalService.get_report``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from awaken_eval._records.inference import ModelPricing
from awaken_eval._records.outcomes import InferenceSpan, ToolSpan
from awaken_eval._records.runs import EvalRun
from awaken_eval._wire.gc import gc_paused
from awaken_eval.report._page import page
from awaken_eval.report._payload import report_payload
from awaken_eval.report._transcripts import TraceReader, read_transcripts

__all__ = ["REPORT_MEDIA_TYPE", "TraceReader", "read_transcripts", "render_report"]

REPORT_MEDIA_TYPE = "text/html; charset=utf-8"
"""The media type to serve a rendered report with."""


def render_report(
    run: EvalRun,
    baseline: EvalRun | None = None,
    *,
    transcripts: Mapping[str, Sequence[InferenceSpan | ToolSpan]] | None = None,
    pricing: Mapping[str, ModelPricing] | None = None,
) -> str:
    """Render ``run`` as one self-contained HTML page.

    The page shows the run's header (dataset and revision, mode, models, samples,
    totals, tokens, cost, duration), charts (pass rate per model with Wilson
    intervals, pass@k and pass^k curves, token and duration distributions), and a
    paged item table sortable and filterable by status, model and fixture text whose
    rows expand to their failure explanations, judge attempts, criterion verdicts and
    transcript. With a ``baseline`` it also shows the diff, regressions first, and for
    sampled runs the significance of each group's change.

    Args:
        run: The run to show.
        baseline: A run of the same dataset, revision and mode to diff against.
        transcripts: Captured spans by trace run id (e.g. :func:`read_transcripts`
            of a :class:`~awaken_eval.sinks.FileTraceStore`); an item whose
            ``trace_run_id`` is a key shows its messages, tool calls, arguments and
            results.
        pricing: Prices by model id, for items stored without a ``cost_usd``
            (``"default"`` names the default cell).

    Returns:
        The HTML document.

    Raises:
        InvalidRequest: the baseline cannot be compared with ``run`` (another dataset,
            revision, execution mode or sample count).
        DuplicateItemKeys: a run repeats an item key (checked with a baseline).
    """
    with gc_paused():
        return page(report_payload(run, baseline, transcripts=transcripts, pricing=pricing))
