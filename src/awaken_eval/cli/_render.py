"""How runs, diffs and sample statistics are shown: tables, summary lines and JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from awaken_eval._analysis.explain import explain_item, item_label
from awaken_eval._analysis.stats import dataset_pass_at_k, dataset_pass_hat_k
from awaken_eval._records.comparison import (
    DiffEntry,
    DiffSummary,
    Drift,
    SampledDiffEntry,
    SampledDiffSummary,
    StillFailing,
)
from awaken_eval._records.outcomes import ReplayReport
from awaken_eval._records.runs import (
    EvalRun,
    EvalRunItem,
    EvalRunSummary,
    MatrixCell,
    SampleAggregate,
)
from awaken_eval._wire.converter import to_builtins
from awaken_eval.cli._args import quoted
from awaken_eval.cli._output import Column, print_table

KIND_WIDTH = 24
"""Width of the kind column of diff lines (spec §5.2)."""

_STATS_KS = (2, 3, 5, 10, 20, 50, 100)
"""The k shown in the pass@k / pass^k table besides k = n (pass@1 is the pass rate)."""


def note(message: str) -> None:
    """Print ``awaken-eval: <message>`` on standard error."""
    sys.stderr.write(f"awaken-eval: {message}\n")


def say(line: str = "") -> None:
    """Print ``line`` on standard output."""
    sys.stdout.write(f"{line}\n")


def print_json(document: Any) -> None:
    """Print one JSON document (indented, UTF-8 text) on standard output."""
    say(json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False))


def plural(count: int, noun: str) -> str:
    """``1 item`` / ``2 items`` style counts."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# -- runs ------------------------------------------------------------------------------


def _model(cell: MatrixCell | None) -> str:
    return "-" if cell is None or cell.model_id is None else cell.model_id


def print_items(run: EvalRun) -> None:
    """The item table of ``run``: fixture, model, sample, result, tokens, failures.

    The model and sample columns are shown only when some item has one.
    """
    items = run.items
    with_model = any(item.cell is not None and item.cell.model_id for item in items)
    with_sample = any(item.sample_index is not None for item in items)
    columns = [Column("fixture")]
    if with_model:
        columns.append(Column("model"))
    if with_sample:
        columns.append(Column("sample", right=True))
    columns.extend([Column("result"), Column("tokens", right=True), Column("failures")])
    rows = [_item_row(item, with_model=with_model, with_sample=with_sample) for item in items]
    print_table(columns, rows)


def _item_row(item: EvalRunItem, *, with_model: bool, with_sample: bool) -> list[str]:
    report = item.report
    row = [item.fixture_id]
    if with_model:
        row.append(_model(item.cell))
    if with_sample:
        row.append("-" if item.sample_index is None else str(item.sample_index))
    row.extend(
        [
            "pass" if report.passed else "FAIL",
            str(report.total_tokens),
            ", ".join(failure.kind for failure in report.failures),
        ]
    )
    return row


def explanation_lines(target: ReplayReport | EvalRunItem, *, indent: str = "") -> list[str]:
    """Why ``target`` failed: one ``- summary`` line per failure, then its evidence.

    The lines of :func:`~awaken_eval.failures.explain_item` (the explanation the pytest
    plugin, the JUnit output and the HTML report show too).
    """
    lines: list[str] = []
    for explanation in explain_item(target):
        lines.append(f"{indent}- {explanation.summary}")
        lines.extend(f"{indent}  {detail}" for detail in explanation.details)
    return lines


def print_failing(targets: Sequence[ReplayReport | EvalRunItem]) -> None:
    """Each failing report or item: ``FAIL <fixture [model] #sample>``, then why."""
    for target in targets:
        report = target.report if isinstance(target, EvalRunItem) else target
        if report.passed:
            continue
        say(f"FAIL {item_label(target)}")
        for line in explanation_lines(target, indent="  "):
            say(line)


def run_totals(run: EvalRun, where: str) -> str:
    """The one-line summary of a run: id, counts and where it is stored."""
    passed = run.passed_count()
    failed = len(run.items) - passed
    return (
        f"awaken-eval: run {run.id} ({run.dataset_id}, {run.execution_mode.value}) — "
        f"{plural(len(run.items), 'item')}: {passed} passed, {failed} failed → {where}"
    )


def started(secs: int) -> str:
    """An epoch second as UTC ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.fromtimestamp(secs, UTC).strftime("%Y-%m-%d %H:%M:%S")


def print_summaries(summaries: Sequence[EvalRunSummary]) -> None:
    """The table of a run listing, newest first."""
    columns = [
        Column("run"),
        Column("dataset"),
        Column("rev", right=True),
        Column("mode"),
        Column("started (UTC)"),
        Column("items", right=True),
        Column("passed", right=True),
        Column("failed", right=True),
    ]
    rows = [
        [
            summary.id,
            summary.dataset_id,
            str(summary.dataset_revision),
            summary.execution_mode.value,
            started(summary.started_at_secs),
            str(summary.item_count),
            str(summary.passed_count),
            str(summary.failed_count),
        ]
        for summary in summaries
    ]
    print_table(columns, rows)


# -- diffs -----------------------------------------------------------------------------


def _fields(names: Sequence[str]) -> str:
    return "[" + ", ".join(quoted(name) for name in names) + "]"


_DIFF_CLASSES = (
    ("regression", "regression(s)"),
    ("fixed", "fixed"),
    ("still_failing", "still failing"),
    ("drift", "drift"),
    ("missing_from_new", "missing"),
    ("newly_added", "added"),
    ("unchanged", "unchanged"),
)
"""Every entry kind of an item-keyed diff, in header order, with its header word."""


def diff_counts(summary: DiffSummary) -> str:
    """``1 regression(s), 0 fixed, …, 3 unchanged``: every class, so the counts add up."""
    counts = {kind: 0 for kind, _ in _DIFF_CLASSES}
    for entry in summary.entries:
        counts[entry.kind] += 1
    return ", ".join(f"{counts[kind]} {word}" for kind, word in _DIFF_CLASSES)


def check_header(summary: DiffSummary) -> str:
    """The header line of ``check`` (spec §5.2, with every class counted)."""
    return f"awaken-eval check: {diff_counts(summary)}"


def _label(fixture_id: str, cell: MatrixCell | None, sample_index: int | None) -> str:
    label = fixture_id
    if cell is not None and cell.model_id is not None:
        label += f" [{cell.model_id}]"
    if sample_index is not None:
        label += f" #{sample_index}"
    return label


def entry_line(entry: DiffEntry) -> str:
    """One diff entry: two-space indent, the kind in a 24-character column, the item.

    Drift lines add ``fields=[…]``; a still-failing entry that blocks (it got worse)
    adds the failure kinds it gained.
    """
    label = _label(entry.fixture_id, entry.cell, entry.sample_index)
    line = f"  {entry.kind:<{KIND_WIDTH}}  {label}"
    if isinstance(entry, Drift):
        line += f"  fields={_fields(entry.fields)}"
    elif isinstance(entry, StillFailing) and entry.blocks:
        line += f"  worsened added={_fields(entry.failures_added)}"
    return line


def diff_header(summary: DiffSummary, baseline_id: str, run_id: str) -> str:
    """The header of an item-keyed diff of run ``run_id`` against a stored run."""
    verdict = "clean" if summary.is_clean else "BLOCKING"
    return (
        f"awaken-eval: run {run_id} against baseline run {baseline_id} ({verdict}): "
        f"{diff_counts(summary)}"
    )


def print_entries(
    entries: Sequence[DiffEntry],
    new: Mapping[Any, ReplayReport | EvalRunItem] | None,
    *,
    show_unchanged: bool,
) -> None:
    """One line per entry; a failing new side (``new`` by entry key) is explained below."""
    for entry in entries:
        if not show_unchanged and entry.kind == "unchanged":
            continue
        say(entry_line(entry))
        target = None if new is None else new.get(_entry_key(entry))
        if target is not None:
            for line in explanation_lines(target, indent="      "):
                say(line)


def _entry_key(entry: DiffEntry) -> Any:
    model = None if entry.cell is None else entry.cell.model_id
    return (entry.fixture_id, model, entry.sample_index)


def reports_by_key(targets: Sequence[ReplayReport | EvalRunItem]) -> dict[Any, Any]:
    """The reports or items of the new side of a diff, by the key of their entries."""
    found: dict[Any, Any] = {}
    for target in targets:
        if isinstance(target, EvalRunItem):
            model = None if target.cell is None else target.cell.model_id
            found[(target.fixture_id, model, target.sample_index)] = target
        else:
            found[(target.fixture_id, None, None)] = target
    return found


def _rate(side: Any) -> str:
    if side is None:
        return "-"
    return f"{side.passed}/{side.samples}"


def sampled_entry_line(entry: SampledDiffEntry) -> str:
    """One group of a variance-aware diff: kind, group, pass counts and p-value."""
    label = _label(entry.fixture_id, entry.cell, None)
    line = f"  {entry.kind:<{KIND_WIDTH}}  {label}  {_rate(entry.baseline)} → {_rate(entry.new)}"
    p_value = getattr(entry, "p_value", None)
    if p_value is not None:
        line += f"  p={p_value:.3g}"
    return line


def sampled_header(summary: SampledDiffSummary, baseline_id: str, run_id: str) -> str:
    """The header of a variance-aware diff of run ``run_id`` against a stored run."""
    verdict = "clean" if summary.is_clean else "BLOCKING"
    return (
        f"awaken-eval: run {run_id} against baseline run {baseline_id}, by sample group "
        f"({verdict}, "
        f"alpha={summary.alpha:g}): {summary.regressions()} regression(s), "
        f"{summary.improved()} improved, {summary.flaky()} flaky, {summary.missing()} missing, "
        f"{summary.added()} added, {summary.unchanged()} unchanged"
    )


def print_diff(
    summary: DiffSummary | SampledDiffSummary,
    baseline_id: str,
    run_id: str,
    *,
    show_unchanged: bool,
    new: Sequence[ReplayReport | EvalRunItem] | None = None,
) -> None:
    """A header line, then one line per entry (``unchanged`` ones only if asked).

    With ``new`` (the new run's items), an item-keyed entry whose new side failed is
    followed by its explanation.
    """
    if isinstance(summary, SampledDiffSummary):
        say(sampled_header(summary, baseline_id, run_id))
        for sampled in summary.entries:
            if show_unchanged or sampled.kind != "unchanged":
                say(sampled_entry_line(sampled))
        return
    say(diff_header(summary, baseline_id, run_id))
    by_key = reports_by_key(new) if new is not None else None
    print_entries(summary.entries, by_key, show_unchanged=show_unchanged)


# -- sample statistics -----------------------------------------------------------------


def _scored(aggregate: SampleAggregate) -> int:
    return aggregate.samples if aggregate.scored_samples is None else aggregate.scored_samples


def stats_ks(aggregates: Sequence[SampleAggregate]) -> list[int]:
    """The k >= 2 shown: a few round values below the largest n, and n itself."""
    largest = max((_scored(aggregate) for aggregate in aggregates), default=0)
    if largest < 2:
        return []
    return [k for k in _STATS_KS if k < largest] + [largest]


def _number(values: Sequence[float], k: int) -> str:
    return f"{values[k - 1]:.3f}" if k <= len(values) else "-"


def print_aggregates(aggregates: Sequence[SampleAggregate]) -> None:
    """The per-(fixture, model) table: pass rate with its interval, pass@k and pass^k.

    pass@k and pass^k are the unbiased estimators over the scored samples; a group
    with fewer than k samples shows ``-``. A dataset line follows: the mean over groups.
    """
    ks = stats_ks(aggregates)
    columns = [
        Column("fixture"),
        Column("model"),
        Column("n", right=True),
        Column("passed", right=True),
        Column("pass rate", right=True),
        Column("95% interval"),
    ]
    columns.extend(Column(f"pass@{k}", right=True) for k in ks)
    columns.extend(Column(f"pass^{k}", right=True) for k in ks)
    rows: list[list[str]] = []
    for aggregate in aggregates:
        low, high = aggregate.pass_rate_low, aggregate.pass_rate_high
        interval = "-" if low is None or high is None else f"[{low:.3f}, {high:.3f}]"
        passed = aggregate.passed if aggregate.scored_passed is None else aggregate.scored_passed
        rate = passed / _scored(aggregate) if _scored(aggregate) else 0.0
        row = [
            aggregate.fixture_id,
            _model(aggregate.cell),
            str(_scored(aggregate)),
            str(passed),
            f"{rate:.3f}",
            interval,
        ]
        row.extend(_number(aggregate.pass_at, k) for k in ks)
        row.extend(_number(aggregate.pass_hat, k) for k in ks)
        rows.append(row)
    print_table(columns, rows)
    say(dataset_line(aggregates))


def dataset_line(aggregates: Sequence[SampleAggregate]) -> str:
    """The dataset-level means: pass@1, then pass@k and pass^k at the largest k."""
    parts = [_dataset_value(dataset_pass_at_k(aggregates, 1))]
    ks = stats_ks(aggregates)
    if ks:
        parts.append(_dataset_value(dataset_pass_at_k(aggregates, ks[-1])))
        parts.append(_dataset_value(dataset_pass_hat_k(aggregates, ks[-1])))
    return f"awaken-eval: dataset (mean over {plural(len(aggregates), 'group')}): " + ", ".join(
        parts
    )


def _dataset_value(mean: Any) -> str:
    shown = "-" if mean.value is None else f"{mean.value:.3f}"
    metric = mean.metric.replace("k", str(mean.k))
    excluded = f" ({mean.excluded} group(s) with n < {mean.k} left out)" if mean.excluded else ""
    return f"{metric} {shown}{excluded}"


def json_document(
    run: EvalRun,
    *,
    store: str,
    diff: DiffSummary | SampledDiffSummary | None = None,
    baseline: Any | None = None,
    aggregates: Sequence[SampleAggregate] | None = None,
) -> dict[str, Any]:
    """The ``--json`` document: ``{run, store, baseline?, diff?, aggregates?}``."""
    document: dict[str, Any] = {"run": to_builtins(run), "store": store}
    if baseline is not None:
        document["baseline"] = to_builtins(baseline)
    if diff is not None:
        document["diff"] = to_builtins(diff)
    if aggregates is not None:
        document["aggregates"] = to_builtins(list(aggregates))
    return document
