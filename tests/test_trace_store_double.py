"""``awaken_eval.testing.InMemoryTraceStore``: the trace-store double, on asyncio and trio."""

from __future__ import annotations

import pytest

from awaken_eval import NotFound, StoreFailure
from awaken_eval.errors import InvalidRunId
from awaken_eval.protocols import TraceStore
from awaken_eval.sinks import DamagedLine, PinKind, TraceFilter, TraceRead, TraceSummary
from awaken_eval.testing import InMemoryTraceStore
from dataset_support import T0_MS, answer

pytestmark = pytest.mark.anyio


@pytest.fixture
def traces() -> InMemoryTraceStore:
    store = InMemoryTraceStore()
    store.add("old", [answer("old", agent_id="a", started_at_ms=T0_MS)])
    store.add("new", [answer("new", agent_id="b", started_at_ms=T0_MS + 5_000)])
    store.add("hidden", [answer("hidden")], indexed=False)
    return store


async def test_it_is_a_trace_store_that_reads_back_what_was_added(
    traces: InMemoryTraceStore,
) -> None:
    assert isinstance(traces, TraceStore)
    damaged = (DamagedLine(2, "torn"),)
    traces.add("torn", [answer("torn")], damaged=damaged)
    assert TraceRead((answer("torn"),), damaged) == await traces.read_trace("torn")
    assert (answer("hidden"),) == (await traces.read_trace("hidden")).events
    with pytest.raises(NotFound, match="trace not found: ghost"):
        await traces.read_trace("ghost")
    with pytest.raises(InvalidRunId):
        await traces.read_trace("a/b")


async def test_listing_filters_orders_and_limits_the_indexed_runs(
    traces: InMemoryTraceStore,
) -> None:
    rows = await traces.list_traces(TraceFilter())
    assert ["new", "old"] == [row.run_id for row in rows]
    assert TraceSummary(run_id="old", agent_id="a", started_at_secs=T0_MS // 1000) == rows[1]
    oldest_first = await traces.list_traces(TraceFilter(newest_first=False, limit=1))
    assert ["old"] == [row.run_id for row in oldest_first]
    assert ["old"] == [row.run_id for row in await traces.list_traces(TraceFilter(agent_id="a"))]
    since = TraceFilter(since_secs=(T0_MS + 1_000) // 1000)
    assert ["new"] == [row.run_id for row in await traces.list_traces(since)]
    custom = TraceSummary(run_id="x", agent_id="a", started_at_secs=1, experiment_id="e")
    traces.add("x", [], summary=custom)
    assert [custom] == await traces.list_traces(TraceFilter(experiment_id="e"))


async def test_pins_are_recorded_and_can_be_made_to_fail(traces: InMemoryTraceStore) -> None:
    await traces.pin("old", PinKind.DATASET)
    await traces.pin("old", PinKind.OPERATOR)
    with pytest.raises(NotFound):
        await traces.pin("ghost", PinKind.DATASET)
    traces.fail_pin("new")
    with pytest.raises(StoreFailure, match="new"):
        await traces.pin("new", PinKind.DATASET)
    traces.fail_pin("hidden", OSError("disk full"))
    with pytest.raises(OSError, match="disk full"):
        await traces.pin("hidden", PinKind.DATASET)
    assert [("old", PinKind.DATASET), ("old", PinKind.OPERATOR)] == traces.pins
