"""Event metadata for event stores: scope, visibility, correlation, idempotency (spec §4.6)."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import builders
import strategies as s
from awaken_eval import (
    ChatResponseEvent,
    EvalRunItem,
    Expectation,
    Fixture,
    ItemKey,
    RunOptions,
    run_eval,
    to_json,
)
from awaken_eval.evaluation import (
    EntityRef,
    Evaluation,
    ExpectedOutcome,
    RunScope,
    TurnScope,
)
from awaken_eval.events import (
    EvaluationResult,
    EventMeta,
    EventVisibility,
    InferenceSpan,
    ItemCompleted,
    RunCompleted,
    RunEventMode,
    RunFailed,
    RunStarted,
    SpanRecorded,
    event_meta,
    item_key_path,
)
from awaken_eval.stores import InMemoryRunStore
from awaken_eval.testing import CapturingSink

MODE = RunEventMode.DATASET_SCRIPTED


def _item(fixture_id: str, model: str | None = None, sample: int | None = None) -> EvalRunItem:
    return builders.item(fixture_id=fixture_id, model=model, sample_index=sample)


def test_run_started_has_the_reference_envelope() -> None:
    # spec §4.6: scope run(eval_run_id), internal, correlation = run id, writer and
    # source `eval`, key `<EventKind>/<run id>`.
    event = RunStarted(
        eval_run_id="01J0RUN",
        dataset_id="d",
        dataset_revision=1,
        mode=MODE,
        planned_item_count=2,
        started_at_secs=5,
    )
    expected = EventMeta(
        event_kind="EvalRunStarted",
        scope=RunScope("01J0RUN"),  # type: ignore[arg-type]
        visibility=EventVisibility.INTERNAL,
        correlation_id="01J0RUN",
        writer_id="eval",
        source="eval",
        idempotency_key="EvalRunStarted/01J0RUN",
    )
    assert expected == event_meta(event)


def test_terminal_events_are_keyed_by_their_kind_and_run() -> None:
    completed = RunCompleted(
        eval_run_id="r1",
        dataset_id="d",
        dataset_revision=1,
        mode=MODE,
        item_count=0,
        passed_count=0,
        failed_count=0,
        total_cost_usd=0.0,
        started_at_secs=1,
        ended_at_secs=2,
        persisted=True,
    )
    failed = RunFailed(
        eval_run_id="r1", dataset_id="d", mode=MODE, error="x", started_at_secs=1, ended_at_secs=2
    )
    metas = [event_meta(completed), event_meta(failed)]
    keys = [meta.idempotency_key for meta in metas if meta]
    assert ["EvalRunCompleted/r1", "EvalRunFailed/r1"] == keys


def test_item_events_are_keyed_per_item_not_per_progress() -> None:
    first = ItemCompleted(eval_run_id="r1", item=_item("f/1", "openai:gpt", 0), done=1, total=2)
    again = attrs.evolve(first, done=2)
    meta = event_meta(first)
    assert meta is not None
    assert "EvalItemCompleted/r1/f%2F1/openai%3Agpt/0" == meta.idempotency_key
    assert meta == event_meta(again)
    assert ("r1", RunScope("r1")) == (meta.correlation_id, meta.scope)  # type: ignore[arg-type]


_IDS = st.text(min_size=1, max_size=6)
_KEYS = st.builds(
    ItemKey, _IDS, st.none() | _IDS, st.none() | st.integers(min_value=0, max_value=9)
)


@given(_KEYS, _KEYS)
def test_item_key_paths_are_unique_per_item(left: ItemKey, right: ItemKey) -> None:
    assert (left == right) == (item_key_path(left) == item_key_path(right))
    assert 2 == item_key_path(left).count("/")


def test_an_evaluation_result_is_scoped_and_keyed_by_its_evaluation() -> None:
    evaluation = Evaluation(TurnScope("t1", session_id="s1"), expected=ExpectedOutcome.completed())  # type: ignore[arg-type]
    event = EvaluationResult(evaluation=evaluation, score=0.5)
    meta = event_meta(event)
    assert meta is not None
    assert (evaluation.scope, "t1", EventVisibility.INTERNAL) == (
        meta.scope,
        meta.correlation_id,
        meta.visibility,
    )
    assert meta.idempotency_key.startswith("EvaluationResult/turn/t1/")
    # A retry (another score) is the same event; another evaluation is not.
    assert meta == event_meta(attrs.evolve(event, score=0.9))
    other = attrs.evolve(
        evaluation,
        expected=ExpectedOutcome.completed().with_outcome_ref(EntityRef("doc", "x")),
    )
    assert meta.idempotency_key != event_meta(attrs.evolve(event, evaluation=other)).idempotency_key  # type: ignore[union-attr]


@given(s.trace_events())
def test_every_run_event_has_an_envelope_keyed_by_its_kind_and_scope(event: Any) -> None:
    meta = event_meta(event)
    if isinstance(event, SpanRecorded):
        assert None is meta
        return
    assert meta is not None
    assert meta == event_meta(event)  # a pure function of the event
    assert ("eval", "eval", EventVisibility.INTERNAL) == (
        meta.writer_id,
        meta.source,
        meta.visibility,
    )
    assert meta.idempotency_key.startswith(f"{meta.event_kind}/")
    if not isinstance(event, EvaluationResult):
        assert (RunScope(event.eval_run_id), event.eval_run_id) == (meta.scope, meta.correlation_id)


def test_the_envelope_is_written_whole() -> None:
    meta = event_meta(
        RunCompleted(
            eval_run_id="r1",
            dataset_id="d",
            dataset_revision=1,
            mode=MODE,
            item_count=0,
            passed_count=0,
            failed_count=0,
            total_cost_usd=0.0,
            started_at_secs=1,
            ended_at_secs=2,
            persisted=True,
        )
    )
    assert (
        '{"event_kind":"EvalRunCompleted","scope":{"scope":"run","run_id":"r1"},'
        '"visibility":"internal","correlation_id":"r1","writer_id":"eval","source":"eval",'
        '"idempotency_key":"EvalRunCompleted/r1"}'
    ) == to_json(meta)


def test_spans_have_no_event_store_envelope() -> None:
    assert None is event_meta(SpanRecorded(span=InferenceSpan(run_id="a")))


def test_the_events_wire_format_is_unchanged() -> None:
    # The envelope is computed, not stored: an event's JSON has no new key.
    event = RunFailed(
        eval_run_id="r", dataset_id="d", mode=MODE, error="e", started_at_secs=1, ended_at_secs=2
    )
    assert (
        '{"type":"eval_run_failed","eval_run_id":"r","dataset_id":"d","mode":"dataset_scripted",'
        '"error":"e","started_at_secs":1,"ended_at_secs":2}'
    ) == to_json(event)


class _AppendFailsOnce(InMemoryRunStore):
    """A streaming store whose first append fails: the run fails after its items emitted."""

    def __init__(self) -> None:
        super().__init__()
        self.failed = False

    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        if not self.failed:
            self.failed = True
            msg = "disk full"
            raise OSError(msg)
        await super().append(run_id, items)


def _keys(sink: CapturingSink, kind: type[Any]) -> list[str]:
    metas = [event_meta(event) for event in sink.events if isinstance(event, kind)]
    return [meta.idempotency_key for meta in metas if meta is not None]


@pytest.mark.anyio
async def test_a_resumed_run_re_emits_an_item_event_with_the_same_key() -> None:
    fixtures = [
        Fixture(
            name, user_input="q", provider_script=(ChatResponseEvent("a"),), expect=Expectation()
        )
        for name in ("f1", "f2")
    ]
    store = _AppendFailsOnce()
    first, second = CapturingSink(), CapturingSink()
    with pytest.raises(OSError, match="disk full"):
        await run_eval(fixtures, RunOptions(run_id="01J0RESUME"), store=store, sink=first)
    run = await run_eval(fixtures, RunOptions(resume="01J0RESUME"), store=store, sink=second)
    assert 2 == len(run.items)
    expected = ["EvalItemCompleted/01J0RESUME/f1//", "EvalItemCompleted/01J0RESUME/f2//"]
    assert expected == sorted(_keys(first, ItemCompleted))
    # The unit whose append failed runs again and its event has the same key.
    rerun = _keys(second, ItemCompleted)
    assert rerun
    assert set(rerun) <= set(expected)
    assert _keys(first, RunStarted) == _keys(second, RunStarted)
    assert ["EvalRunFailed/01J0RESUME"] == _keys(first, RunFailed)
    assert ["EvalRunCompleted/01J0RESUME"] == _keys(second, RunCompleted)
