"""cost_usd_for (spec §2.14): priced tokens, never a fake $0."""

from __future__ import annotations

import pytest

from awaken_eval import ModelPricing, ReplayOutcome, ReplayReport
from awaken_eval.engine import cost_usd_for
from awaken_eval.events import InferenceSpan
from awaken_eval.records import AgentMetrics

PRICES = ModelPricing(input_per_million_usd=3.0, output_per_million_usd=15.0)


def report_with(input_tokens: int, output_tokens: int) -> ReplayReport:
    span = InferenceSpan(input_tokens=input_tokens, output_tokens=output_tokens)
    outcome = ReplayOutcome(fixture_id="f", metrics=AgentMetrics(inferences=(span,)))
    return ReplayReport.from_outcome(outcome, [])


def test_cost_prices_input_and_output_tokens() -> None:
    assert 0.0105 == pytest.approx(cost_usd_for(report_with(1000, 500), PRICES), rel=1e-12)


def test_cost_is_absent_without_any_token() -> None:
    assert None is cost_usd_for(report_with(0, 0), PRICES)


def test_cost_is_absent_without_pricing() -> None:
    assert None is cost_usd_for(report_with(10, 10), None)


def test_cost_counts_output_only_runs() -> None:
    assert 15e-6 == pytest.approx(cost_usd_for(report_with(0, 1), PRICES), rel=1e-12)
