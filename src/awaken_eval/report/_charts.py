"""The report's charts: their data (computed here) and their Vega-Lite specifications.

Everything the browser draws is computed in Python: pass rates with Wilson intervals,
pass@k and pass^k means, and histogram bins. The browser only lays the marks out, so
a run of 100,000 items draws as fast as one of 100.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from awaken_eval._analysis.stats import (
    aggregate_samples,
    dataset_pass_at_k,
    dataset_pass_hat_k,
    wilson_interval,
)
from awaken_eval._records.runs import EvalRun, SampleAggregate

__all__ = ["DEFAULT_MODEL", "HISTOGRAM_BINS", "MAX_CURVE_K", "chart_specs", "histogram"]

DEFAULT_MODEL = "default"
"""How the default cell (no model, e.g. every scripted item) is labelled."""

HISTOGRAM_BINS = 20
"""Bins of the token and duration histograms."""

MAX_CURVE_K = 100
"""The pass@k and pass^k curves stop at this k."""

_WIDTH = 340
_HEIGHT = 200


def _model(model_id: str | None) -> str:
    return DEFAULT_MODEL if model_id is None else model_id


def histogram(values: Sequence[int], *, bins: int = HISTOGRAM_BINS) -> list[tuple[int, int, int]]:
    """Equal-width integer bins over ``values``: ``(start, end, count)``, end exclusive.

    Empty input gives no bin; when every value is equal there is one bin of width 1.
    Counts add up to ``len(values)``.
    """
    if not values:
        return []
    low, high = min(values), max(values)
    width = max(1, math.ceil((high - low + 1) / bins))
    counts: dict[int, int] = {}
    for value in values:
        index = (value - low) // width
        counts[index] = counts.get(index, 0) + 1
    return [
        (low + index * width, low + (index + 1) * width, counts[index]) for index in sorted(counts)
    ]


def _pass_rates(run: EvalRun) -> list[dict[str, Any]]:
    counts: dict[str, list[int]] = {}
    for item in run.items:
        model = _model(None if item.cell is None else item.cell.model_id)
        bucket = counts.setdefault(model, [0, 0])
        bucket[0] += 1
        bucket[1] += item.report.passed
    rows = []
    for model in sorted(counts):
        n, c = counts[model]
        low, high = wilson_interval(c, n)
        rows.append(
            {"model": model, "rate": c / n, "low": low, "high": high, "passed": c, "items": n}
        )
    return rows


def _curves(run: EvalRun) -> list[dict[str, Any]]:
    by_model: dict[str, list[SampleAggregate]] = {}
    for aggregate in aggregate_samples(run):
        model = _model(None if aggregate.cell is None else aggregate.cell.model_id)
        by_model.setdefault(model, []).append(aggregate)
    rows: list[dict[str, Any]] = []
    for model in sorted(by_model):
        groups = by_model[model]
        top = min(MAX_CURVE_K, max(aggregate.samples for aggregate in groups))
        estimates = (
            estimate
            for k in range(1, top + 1)
            for estimate in (dataset_pass_at_k(groups, k), dataset_pass_hat_k(groups, k))
        )
        rows.extend(
            {"model": model, "k": e.k, "metric": e.metric, "value": e.value}
            for e in estimates
            if e.value is not None
        )
    return rows


def _bins(values_by_model: Mapping[str, list[int]]) -> list[dict[str, Any]]:
    return [
        {"model": model, "start": start, "end": end, "count": count}
        for model in sorted(values_by_model)
        for start, end, count in histogram(values_by_model[model])
    ]


def _distributions(run: EvalRun) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    tokens: dict[str, list[int]] = {}
    durations: dict[str, list[int]] = {}
    for item in run.items:
        model = _model(None if item.cell is None else item.cell.model_id)
        tokens.setdefault(model, []).append(item.report.total_tokens)
        durations.setdefault(model, []).append(item.report.session_duration_ms)
    return _bins(tokens), _bins(durations)


def _pass_rate_spec(rows: list[dict[str, Any]]) -> dict[str, Any]:
    x = {
        "field": "model",
        "type": "nominal",
        "title": "model",
        "sort": None,
        "axis": {"labelAngle": 0},
    }
    return {
        "width": _WIDTH,
        "height": _HEIGHT,
        "data": {"values": rows},
        "encoding": {"x": x},
        "layer": [
            {
                "mark": {"type": "bar"},
                "encoding": {
                    "color": {"field": "model", "type": "nominal", "legend": None},
                    "y": {
                        "field": "rate",
                        "type": "quantitative",
                        "title": "pass rate (95% Wilson interval)",
                        "scale": {"domain": [0, 1]},
                        "axis": {"format": "%"},
                    },
                    "tooltip": [
                        {"field": "model"},
                        {"field": "passed", "title": "passed"},
                        {"field": "items", "title": "items"},
                        {"field": "rate", "format": ".1%"},
                        {"field": "low", "format": ".1%"},
                        {"field": "high", "format": ".1%"},
                    ],
                },
            },
            {
                "mark": {"type": "rule", "color": "#222", "strokeWidth": 2},
                "encoding": {
                    "y": {"field": "low", "type": "quantitative"},
                    "y2": {"field": "high"},
                },
            },
        ],
    }


def _curve_spec(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "width": _WIDTH,
        "height": _HEIGHT,
        "data": {"values": rows},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "k", "type": "quantitative", "title": "k", "axis": {"tickMinStep": 1}},
            "y": {
                "field": "value",
                "type": "quantitative",
                "title": "mean over fixtures",
                "scale": {"domain": [0, 1]},
            },
            "color": {"field": "model", "type": "nominal"},
            "strokeDash": {"field": "metric", "type": "nominal", "title": "metric"},
            "tooltip": [
                {"field": "model"},
                {"field": "metric"},
                {"field": "k"},
                {"field": "value", "format": ".3f"},
            ],
        },
    }


def _histogram_spec(rows: list[dict[str, Any]], title: str) -> dict[str, Any]:
    return {
        "width": _WIDTH,
        "height": _HEIGHT,
        "data": {"values": rows},
        "mark": {"type": "bar", "opacity": 0.8},
        "encoding": {
            "x": {"field": "start", "type": "quantitative", "title": title, "bin": "binned"},
            "x2": {"field": "end"},
            "y": {"field": "count", "type": "quantitative", "title": "items", "stack": True},
            "color": {"field": "model", "type": "nominal"},
            "tooltip": [
                {"field": "model"},
                {"field": "start", "title": "from"},
                {"field": "end", "title": "to (exclusive)"},
                {"field": "count", "title": "items"},
            ],
        },
    }


def chart_specs(run: EvalRun) -> list[dict[str, Any]]:
    """The report's charts as ``{"id", "title", "spec"}`` entries (empty for no items)."""
    if not run.items:
        return []
    tokens, durations = _distributions(run)
    charts: Iterable[tuple[str, str, dict[str, Any]]] = (
        ("pass-rate", "Pass rate per model", _pass_rate_spec(_pass_rates(run))),
        ("pass-k", "pass@k and pass^k per model", _curve_spec(_curves(run))),
        ("tokens", "Tokens per item", _histogram_spec(tokens, "total tokens")),
        ("durations", "Session duration per item", _histogram_spec(durations, "duration (ms)")),
    )
    return [{"id": key, "title": title, "spec": spec} for key, title, spec in charts]
