"""Cost of a replay from its token counts and the model's prices (spec §2.14)."""

from __future__ import annotations

from awaken_eval._records.inference import ModelPricing
from awaken_eval._records.outcomes import ReplayReport

__all__ = [
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
