"""The report's data: a run (and its baseline) as one JSON-ready document.

Pure: records in, builtins out. The page's script reads this document and nothing
else. Item rows are arrays rather than objects (a 100,000-item run is a third
smaller), in the order of :data:`ITEM_COLUMNS`; the last element of a row holds the
item's details, with only the keys that have a value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, assert_never

from awaken_eval._analysis.baseline import NewRunMeta, validate_baseline
from awaken_eval._analysis.diff import diff_runs
from awaken_eval._analysis.explain import explain_item
from awaken_eval._analysis.sampled import diff_sampled
from awaken_eval._records.comparison import (
    DiffEntry,
    Drift,
    Fixed,
    GroupPassRate,
    MissingFromNew,
    NewlyAdded,
    Regression,
    SampledDiffEntry,
    StillFailing,
    Unchanged,
)
from awaken_eval._records.inference import ModelPricing
from awaken_eval._records.outcomes import InferenceSpan, ReplayReport, ToolSpan
from awaken_eval._records.rules import live_run_sample_count
from awaken_eval._records.runs import EvalRun, EvalRunItem, ItemKey, MatrixCell
from awaken_eval._scoring.cost import cost_usd_for
from awaken_eval.report._charts import DEFAULT_MODEL, chart_specs

__all__ = [
    "DIFF_ORDER",
    "ITEM_COLUMNS",
    "MAX_ANSWER_CHARS",
    "SAMPLED_ORDER",
    "explanations",
    "report_payload",
]

ITEM_COLUMNS: tuple[str, ...] = (
    "fixture",
    "model",
    "sample",
    "status",
    "tokens",
    "duration_ms",
    "cost_usd",
    "failures",
    "details",
)
"""The fields of an item row, in order."""

DIFF_ORDER: tuple[str, ...] = (
    Regression.kind,
    Fixed.kind,
    Drift.kind,
    StillFailing.kind,
    NewlyAdded.kind,
    MissingFromNew.kind,
    Unchanged.kind,
)
"""How the diff lists its entries: regressions first, unchanged last."""

SAMPLED_ORDER: tuple[str, ...] = (
    "regression",
    "improved",
    "flaky",
    "missing_from_new",
    "newly_added",
    "unchanged",
)
"""How the sampled diff counts its groups: significant drops first (unchanged groups are
counted, not listed)."""

MAX_ANSWER_CHARS = 20_000
"""Longest final answer kept in the report (longer ones are cut, with their length)."""

Transcripts = Mapping[str, Sequence[InferenceSpan | ToolSpan]]
"""Captured spans by trace run id (the ``trace_run_id`` of the items)."""


def _cell_model(cell: MatrixCell | None) -> str:
    return DEFAULT_MODEL if cell is None or cell.model_id is None else cell.model_id


def _model(item: EvalRunItem) -> str:
    return _cell_model(item.cell)


def _status(report: ReplayReport) -> str:
    """``pass``, ``fail``, or ``error`` (the replay itself failed)."""
    if report.runtime_failure is not None:
        return "error"
    return "pass" if report.passed else "fail"


def explanations(report: ReplayReport) -> list[list[str]]:
    """Each failure's explanation as its lines: the summary, then the evidence."""
    return [list(explanation.lines()) for explanation in explain_item(report)]


def _answer(text: str) -> str:
    if len(text) <= MAX_ANSWER_CHARS:
        return text
    return f"{text[:MAX_ANSWER_CHARS]}… (cut: {len(text)} characters in all)"


def _details(
    report: ReplayReport, trace_id: str | None, transcripts: Transcripts
) -> dict[str, Any]:
    details: dict[str, Any] = {}
    explained = explanations(report)
    if explained:
        details["explain"] = explained
    if report.final_text:
        details["answer"] = _answer(report.final_text)
    if report.error_type is not None:
        details["error_type"] = report.error_type
    if report.judge_score is not None:
        details["judge"] = {"score": report.judge_score, "reasoning": report.judge_reasoning}
    if report.judge_verdicts:
        details["verdicts"] = [
            [verdict.criterion_id, verdict.score, verdict.reasoning]
            for verdict in report.judge_verdicts
        ]
    if report.judge_attempts:
        details["attempts"] = [
            [attempt.revision, attempt.score, attempt.reasoning]
            for attempt in report.judge_attempts
        ]
    if trace_id is not None:
        details["trace"] = trace_id
        if trace_id in transcripts:
            details["transcript"] = True
    return details


def _cost(report: ReplayReport, model: str, pricing: Mapping[str, ModelPricing]) -> float | None:
    if report.cost_usd is not None:
        return report.cost_usd
    return cost_usd_for(report, pricing.get(model))


def _item_rows(
    run: EvalRun, transcripts: Transcripts, pricing: Mapping[str, ModelPricing]
) -> list[list[Any]]:
    rows = []
    for item in run.items:
        report = item.report
        model = _model(item)
        rows.append(
            [
                item.fixture_id,
                model,
                item.sample_index,
                _status(report),
                report.total_tokens,
                report.session_duration_ms,
                _cost(report, model, pricing),
                " ".join(failure.kind for failure in report.failures),
                _details(report, item.trace_run_id, transcripts),
            ]
        )
    return rows


def _iso(epoch_secs: int) -> str:
    return datetime.fromtimestamp(epoch_secs, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _header(run: EvalRun, rows: Sequence[Sequence[Any]]) -> dict[str, Any]:
    statuses = [row[3] for row in rows]
    costs = [row[6] for row in rows if row[6] is not None]
    models = sorted({row[1] for row in rows})
    samples = max(
        (item.sample_index + 1 for item in run.items if item.sample_index is not None), default=1
    )
    return {
        "run_id": run.id,
        "dataset_id": run.dataset_id,
        "dataset_revision": run.dataset_revision,
        "mode": run.execution_mode.value,
        "models": models,
        "samples": samples,
        "fixtures": len({item.fixture_id for item in run.items}),
        "items": len(rows),
        "passed": statuses.count("pass"),
        "failed": statuses.count("fail"),
        "errored": statuses.count("error"),
        "input_tokens": sum(item.report.total_input_tokens for item in run.items),
        "output_tokens": sum(item.report.total_output_tokens for item in run.items),
        "total_tokens": sum(item.report.total_tokens for item in run.items),
        "cost_usd": sum(costs) if costs else None,
        "started_at": _iso(run.started_at_secs),
        "duration_secs": max(0, run.ended_at_secs - run.started_at_secs),
    }


def _entry_note(entry: DiffEntry) -> str:
    if isinstance(entry, Regression):
        return "new failures: " + ", ".join(entry.new_failures) if entry.new_failures else ""
    if isinstance(entry, Drift):
        return "changed: " + ", ".join(entry.fields)
    if isinstance(entry, StillFailing):
        parts = []
        if entry.failures_added:
            parts.append("added: " + ", ".join(entry.failures_added))
        if entry.failures_removed:
            parts.append("removed: " + ", ".join(entry.failures_removed))
        if entry.worsened:
            parts.append("worse than the baseline")
        return "; ".join(parts)
    if isinstance(entry, NewlyAdded):
        return "passes" if entry.passed else "fails"
    if isinstance(entry, MissingFromNew):
        return "not in this run"
    if isinstance(entry, Fixed | Unchanged):
        return ""
    assert_never(entry)


def _entry_key(entry: DiffEntry) -> ItemKey:
    model = None if entry.cell is None else entry.cell.model_id
    return ItemKey(entry.fixture_id, model, entry.sample_index)


def _rate(rate: GroupPassRate | None) -> list[Any] | None:
    if rate is None:
        return None
    return [rate.passed, rate.samples, rate.pass_rate_low, rate.pass_rate_high]


def _sampled_rows(entries: Sequence[SampledDiffEntry]) -> list[list[Any]]:
    rank = {kind: index for index, kind in enumerate(SAMPLED_ORDER)}
    ordered = sorted(entries, key=lambda entry: rank[entry.kind])
    ordered = [entry for entry in ordered if entry.kind != "unchanged"]
    return [
        [
            entry.kind,
            entry.fixture_id,
            _cell_model(entry.cell),
            _rate(entry.baseline),
            _rate(entry.new),
            getattr(entry, "p_value", None),
        ]
        for entry in ordered
    ]


def _diff(baseline: EvalRun, run: EvalRun) -> dict[str, Any]:
    meta = NewRunMeta(
        run.dataset_id,
        run.dataset_revision,
        run.execution_mode,
        samples=live_run_sample_count(run),
        fixture_digests=run.fixture_digests,
    )
    check = validate_baseline(baseline, meta)
    summary = diff_runs(baseline, run)
    rank = {kind: index for index, kind in enumerate(DIFF_ORDER)}
    items = {item.key: item for item in run.items}
    counts = dict.fromkeys(DIFF_ORDER, 0)
    entries = []
    for entry in sorted(summary.entries, key=lambda entry: rank[entry.kind]):
        counts[entry.kind] += 1
        if entry.kind == Unchanged.kind:
            continue
        key = _entry_key(entry)
        found = items.get(key)
        explain = explanations(found.report) if found is not None else []
        entries.append(
            [
                entry.kind,
                entry.fixture_id,
                DEFAULT_MODEL if key.model_id is None else key.model_id,
                key.sample_index,
                _entry_note(entry),
                explain,
                entry.blocking,
            ]
        )
    sampled = any(item.sample_index is not None for side in (baseline, run) for item in side.items)
    document: dict[str, Any] = {
        "baseline_run_id": baseline.id,
        "baseline_started_at": _iso(baseline.started_at_secs),
        "counts": counts,
        "entries": entries,
        "clean": summary.is_clean,
        "changed_fixtures": list(check.changed_fixtures),
        "added_fixtures": list(check.added_fixtures),
        "removed_fixtures": list(check.removed_fixtures),
    }
    if sampled:
        sampled_summary = diff_sampled(baseline, run)
        sampled_counts = dict.fromkeys(SAMPLED_ORDER, 0)
        for group in sampled_summary.entries:
            sampled_counts[group.kind] += 1
        document["sampled"] = {
            "alpha": sampled_summary.alpha,
            "counts": sampled_counts,
            "entries": _sampled_rows(sampled_summary.entries),
        }
    return document


def _present(**fields: Any) -> dict[str, Any]:
    return {key: value for key, value in fields.items() if value is not None}


def _transcript(spans: Sequence[InferenceSpan | ToolSpan]) -> list[dict[str, Any]]:
    """The spans as the page shows them; their JSON values are used as they are."""
    return [
        {
            "type": "inference",
            "model": span.model,
            **_present(
                messages=span.request_messages,
                content=span.response_content,
                tool_calls=span.response_tool_calls,
            ),
            "tokens": span.token_total(),
        }
        if isinstance(span, InferenceSpan)
        else {
            "type": "tool",
            "name": span.name,
            **_present(
                arguments=span.call_arguments, result=span.call_result, error=span.error_type
            ),
        }
        for span in spans
    ]


def report_payload(
    run: EvalRun,
    baseline: EvalRun | None = None,
    *,
    transcripts: Transcripts | None = None,
    pricing: Mapping[str, ModelPricing] | None = None,
) -> dict[str, Any]:
    """The report document of ``run``: header, charts, items, diff and transcripts.

    Raises:
        InvalidRequest: the baseline cannot be compared with ``run`` (another dataset,
            revision, mode or sample count).
        DuplicateItemKeys: either run repeats an item key (with a baseline).
    """
    captured = transcripts or {}
    rows = _item_rows(run, captured, pricing or {})
    wanted = {item.trace_run_id for item in run.items if item.trace_run_id is not None}
    return {
        "version": 1,
        "header": _header(run, rows),
        "columns": list(ITEM_COLUMNS),
        "items": rows,
        "charts": chart_specs(run),
        "diff": None if baseline is None else _diff(baseline, run),
        "transcripts": {
            trace_id: _transcript(spans)
            for trace_id, spans in sorted(captured.items())
            if trace_id in wanted
        },
    }
