"""Cost of a replay from its token counts and the model's prices (spec §2.14)."""

from __future__ import annotations

from collections.abc import Iterable

from awaken_eval._records.inference import ModelPricing
from awaken_eval._records.outcomes import ReplayReport
from awaken_eval._records.runs import EvalRunItem

__all__ = [
    "cost_by_model",
    "cost_usd_for",
]


def cost_usd_for(report: ReplayReport, pricing: ModelPricing | None) -> float | None:
    """Estimated cost of ``report`` in US dollars, or ``None`` when it cannot be priced.

    No tokens at all gives ``None`` (never a fake $0), as does a model without prices.
    Cache and thinking tokens are not priced.
    """
    if report.total_input_tokens == 0 and report.total_output_tokens == 0:
        return None
    if pricing is None:
        return None
    return (
        report.total_input_tokens * pricing.input_per_million_usd
        + report.total_output_tokens * pricing.output_per_million_usd
    ) / 1_000_000


def cost_by_model(items: Iterable[EvalRunItem]) -> dict[str, float]:
    """Summed ``cost_usd`` of the priced items of each model, in first-seen order.

    Items without a cell (scripted) or without a cost add nothing.
    """
    totals: dict[str, float] = {}
    for item in items:
        cost = item.report.cost_usd
        model = None if item.cell is None else item.cell.model_id
        if cost is None or model is None:
            continue
        totals[model] = totals.get(model, 0.0) + cost
    return totals
