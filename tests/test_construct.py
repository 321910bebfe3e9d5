"""``fast_constructor`` builds the very record the class's initialiser builds."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from awaken_eval import EvalRunItem, ReplayOutcome, ReplayReport
from awaken_eval._records.construct import fast_constructor
from awaken_eval.engine import RetryPolicy
from awaken_eval.events import InferenceSpan, ToolSpan
from awaken_eval.records import AgentMetrics
from strategies import (
    eval_run_items,
    inference_spans,
    replay_outcomes,
    replay_reports,
    tool_spans,
)


def _fields(record: Any) -> dict[str, Any]:
    """The record's fields as init arguments (shallow: nested records are kept)."""
    return {field.alias: getattr(record, field.name) for field in attrs.fields(type(record))}


@given(
    record=inference_spans()
    | tool_spans()
    | replay_outcomes()
    | replay_reports()
    | eval_run_items()
    | st.builds(AgentMetrics)
)
def test_same_record_as_the_initialiser(record: Any) -> None:
    cls = type(record)
    built = fast_constructor(cls)(**_fields(record))

    assert (cls, record) == (type(built), built)
    assert _fields(record) == _fields(built)


@pytest.mark.parametrize(
    "cls", [InferenceSpan, ToolSpan, AgentMetrics, ReplayOutcome, ReplayReport, EvalRunItem]
)
def test_the_hot_records_get_a_constructor_of_their_own(cls: type[Any]) -> None:
    assert fast_constructor(cls) is not cls
    assert fast_constructor(cls) is fast_constructor(cls)


def test_defaults_and_factories_are_applied_per_record() -> None:
    first = fast_constructor(ReplayOutcome)(fixture_id="a")
    second = fast_constructor(ReplayOutcome)(fixture_id="a")

    assert ReplayOutcome(fixture_id="a") == first
    assert first.metrics is not second.metrics


def test_records_stay_frozen() -> None:
    span = fast_constructor(ToolSpan)(name="lookup")

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        span.name = "other"  # type: ignore[misc]


def test_required_fields_stay_required() -> None:
    with pytest.raises(TypeError):
        fast_constructor(ToolSpan)()  # type: ignore[call-arg]


def test_a_class_with_validators_keeps_its_initialiser() -> None:
    assert RetryPolicy is fast_constructor(RetryPolicy)


@given(item=eval_run_items())
def test_positional_fields_stay_positional(item: EvalRunItem) -> None:
    built = fast_constructor(EvalRunItem)(
        item.fixture_id,
        item.report,
        cell=item.cell,
        trace_run_id=item.trace_run_id,
        sample_index=item.sample_index,
    )

    assert item == built
