"""The run-store contract, once for every store (spec §3.3, §1.8, §7.7).

Every test runs against the in-memory, file and SQLite stores (each fresh, the last two
in ``tmp_path``) on asyncio and trio: write/read round trips (Hypothesis), write-once,
run-id validation, execution-shape and item-key validation, listing order and filters,
pruning, streaming appends with resume, and ``run_eval`` streaming into each store.
"""

from __future__ import annotations

import builtins
import contextlib
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import postgres_support
from awaken_eval import (
    AgentLoopReplayer,
    AlreadyExists,
    Conflict,
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    EvalRunStore,
    EvalRunSummary,
    Fixture,
    InvalidInput,
    ItemKey,
    NotFound,
    ReplayContext,
    ReplayOutcome,
    RunOptions,
    StoreFailure,
    load_directory,
    run_eval,
)
from awaken_eval.errors import DuplicateItemKeys, InvalidExecutionShape, InvalidRunId
from awaken_eval.failures import AnswerMissingPhrase
from awaken_eval.protocols import PrunableRunStore, StreamingRunStore
from awaken_eval.records import EvalRunFilter
from awaken_eval.stores import (
    FileEvalRunStore,
    InMemoryRunStore,
    PostgresRunStore,
    SqliteRunStore,
)
from builders import header, item
from builders import run as make_run
from strategies import eval_runs

pytestmark = pytest.mark.anyio

SCRIPTED = EvalRunExecutionMode.SCRIPTED
LIVE = EvalRunExecutionMode.LIVE
T0 = 1_700_006_400  # 2023-11-15 00:00:00 UTC
NEXT_MONTH = T0 + 40 * 86_400  # 2023-12-25, another shard of the file store
BUNDLED = Path(__file__).parent / "data" / "bundled"
INVALID_IDS = ["", ".", "..", "a/b", "a\\b", "a\x00b", "../escape"]
STORE_KINDS = ["memory", "files", "sqlite", "postgres"]
PERSISTENT = ["files", "sqlite", "postgres"]
U64_MAX = 2**64 - 1

# b fails with a failure record, so every store round-trips one.
A_FAILED_B_C = (
    item(fixture_id="a"),
    item(
        fixture_id="b",
        failures=(AnswerMissingPhrase("expected phrase"),),
    ),
    item(fixture_id="c"),
)

AnyStore = InMemoryRunStore | FileEvalRunStore | SqliteRunStore | PostgresRunStore


# -- stores -------------------------------------------------------------------------------


def open_store(kind: str, root: Path) -> AnyStore:
    """A store of ``kind`` kept under ``root`` (ignored by the in-memory store).

    The PostgreSQL store takes a schema of its own, named after ``root``, in the test
    session's database.
    """
    if kind == "memory":
        return InMemoryRunStore()
    if kind == "files":
        return FileEvalRunStore(root)
    if kind == "postgres":
        return PostgresRunStore(postgres_support.url_for(str(root)))
    return SqliteRunStore(root / "runs.sqlite3")


async def close_store(store: AnyStore) -> None:
    """Close the SQLite store's connection, the PostgreSQL store's pool."""
    if isinstance(store, SqliteRunStore | PostgresRunStore):
        await store.aclose()


@pytest.fixture(params=STORE_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
async def store(kind: str, tmp_path: Path) -> AsyncIterator[AnyStore]:
    created = open_store(kind, tmp_path)
    yield created
    await close_store(created)


@contextlib.asynccontextmanager
async def reopened(kind: str, root: Path, current: AnyStore) -> AsyncIterator[AnyStore]:
    """The store as another process would see it: a new instance on the same data."""
    if kind == "memory":
        yield current
        return
    other = open_store(kind, root)
    try:
        yield other
    finally:
        await close_store(other)


# -- records ------------------------------------------------------------------------------


def key(fixture_id: str, model: str | None = None, sample: int | None = None) -> ItemKey:
    return ItemKey(fixture_id, model, sample)


def keys_of(run: EvalRun) -> list[ItemKey]:
    return [one.key for one in run.items]


def entries(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


async def finish(
    store: AnyStore,
    run_id: str,
    *,
    ended_at_secs: int,
    item_order: list[ItemKey] | None = None,
) -> EvalRun:
    """Finish the open run and return it as stored, checking the summary ``finish`` returns."""
    summary = await store.finish(run_id, ended_at_secs=ended_at_secs, item_order=item_order)
    run = await store.read(run_id)
    assert EvalRunSummary.from_run(run) == summary
    return run


async def listed_ids(store: EvalRunStore, **criteria: Any) -> builtins.list[str]:
    return [summary.id for summary in await store.list(EvalRunFilter(**criteria))]


# -- protocols ----------------------------------------------------------------------------


async def test_store_implements_every_run_store_protocol(store: AnyStore) -> None:
    assert isinstance(store, EvalRunStore)
    assert isinstance(store, PrunableRunStore)
    assert isinstance(store, StreamingRunStore)


# -- write / read -------------------------------------------------------------------------


async def test_write_then_read_returns_the_run(store: AnyStore) -> None:
    run = make_run(run_id="01JD3R8Q5YF6W9S2C4T0B7M1NA", items=A_FAILED_B_C)
    await store.write(run)
    assert run == await store.read(run.id)


async def test_a_run_written_by_one_instance_is_read_by_another(
    kind: str, tmp_path: Path, store: AnyStore
) -> None:
    run = make_run(
        run_id="shared",
        items=(item(fixture_id="x", live=True), item(fixture_id="y", model="m")),
        mode=LIVE,
    )
    await store.write(run)
    async with reopened(kind, tmp_path, store) as other:
        assert run == await other.read("shared")
        assert [EvalRunSummary.from_run(run)] == await other.list(EvalRunFilter())


async def test_run_ids_with_spaces_and_unicode_are_allowed(store: AnyStore) -> None:
    ids = ["nightly run 1", " leading space", "é-ü run", "dots.in.id", "..."]
    for run_id in ids:
        await store.write(make_run(run_id=run_id, items=A_FAILED_B_C))
    for run_id in ids:
        assert run_id == (await store.read(run_id)).id
    assert sorted(ids, reverse=True) == await listed_ids(store)


ODD_IDS = [
    ".hidden",
    ".ids",
    ".open",
    ".staging",
    "-dash",
    "a\nb",
    "tab\tid",
    "x.json",
    "x.json.tmp",
    "~",
    "*",
    "?",
    "emoji 😀",
    "é" * 100,
    "x" * 200,
]


async def test_odd_but_valid_run_ids_round_trip(store: AnyStore) -> None:
    for run_id in ODD_IDS:
        await store.write(make_run(run_id=run_id, items=A_FAILED_B_C))
        await store.begin(header(run_id=f"s{run_id}"))
        await store.append(f"s{run_id}", (item(fixture_id="a"),))
        await finish(store, f"s{run_id}", ended_at_secs=T0)
    for run_id in ODD_IDS:
        assert make_run(run_id=run_id, items=A_FAILED_B_C) == await store.read(run_id)
        assert [key("a")] == keys_of(await store.read(f"s{run_id}"))
    expected = sorted([*ODD_IDS, *(f"s{run_id}" for run_id in ODD_IDS)], reverse=True)
    assert expected == await listed_ids(store)


async def test_a_run_id_too_long_for_the_store_fails_cleanly(store: AnyStore) -> None:
    # 240 bytes: the file store cannot make file names of it and its own parts; it must
    # then fail with a store error naming the run, and store nothing.
    run_id = "x" * 240
    failure: StoreFailure | None = None
    try:
        await store.write(make_run(run_id=run_id, items=A_FAILED_B_C))
    except StoreFailure as exc:
        failure = exc
    if failure is None:
        assert make_run(run_id=run_id, items=A_FAILED_B_C) == await store.read(run_id)
        return
    assert isinstance(store, FileEvalRunStore)
    assert run_id in str(failure)
    with pytest.raises(NotFound):
        await store.read(run_id)
    assert [] == await store.list(EvalRunFilter())


async def test_write_is_write_once_and_keeps_the_original(store: AnyStore) -> None:
    original = make_run(run_id="once", dataset_id="first", items=A_FAILED_B_C)
    await store.write(original)
    with pytest.raises(AlreadyExists) as caught:
        await store.write(
            make_run(
                run_id="once", dataset_id="second", started_at_secs=NEXT_MONTH, items=A_FAILED_B_C
            )
        )
    assert "once" == caught.value.run_id
    assert original == await store.read("once")
    assert ["once"] == await listed_ids(store)


async def test_write_once_takes_priority_over_duplicate_item_keys(store: AnyStore) -> None:
    original = make_run(run_id="once", items=A_FAILED_B_C)
    await store.write(original)
    with pytest.raises(AlreadyExists):
        await store.write(
            make_run(run_id="once", items=(item(fixture_id="a"), item(fixture_id="a")))
        )
    assert original == await store.read("once")


async def test_read_of_a_missing_run_is_not_found(store: AnyStore) -> None:
    await store.write(make_run(run_id="present", items=A_FAILED_B_C))
    with pytest.raises(NotFound, match="missing"):
        await store.read("missing")


@pytest.mark.parametrize("run_id", INVALID_IDS)
async def test_invalid_run_ids_are_rejected_on_write_read_and_begin(
    store: AnyStore, run_id: str
) -> None:
    with pytest.raises(InvalidRunId):
        await store.write(make_run(run_id=run_id, items=A_FAILED_B_C))
    with pytest.raises(InvalidRunId):
        await store.read(run_id)
    with pytest.raises(InvalidRunId):
        await store.begin(header(run_id=run_id))
    with pytest.raises(InvalidRunId):
        await store.begin(header(run_id=run_id), resume=True)
    assert [] == await store.list(EvalRunFilter())


async def test_invalid_run_id_escaping_the_root_writes_nothing_outside(
    kind: str, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    store = open_store(kind, root)
    try:
        with pytest.raises(InvalidRunId):
            await store.write(make_run(run_id="../escape", items=A_FAILED_B_C))
    finally:
        await close_store(store)
    assert ["root"] == entries(tmp_path)


async def test_write_rejects_an_invalid_execution_shape_and_stores_nothing(
    store: AnyStore,
) -> None:
    with attrs.validators.disabled():
        live_without_cell = make_run(run_id="shape", mode=LIVE, items=(item(fixture_id="a"),))
        scripted_with_cell = make_run(
            run_id="shape", mode=SCRIPTED, items=(item(fixture_id="a", model="m"),)
        )
    for bad in (live_without_cell, scripted_with_cell):
        with pytest.raises(InvalidExecutionShape, match="execution_mode="):
            await store.write(bad)
        with pytest.raises(NotFound):
            await store.read("shape")
    assert [] == await store.list(EvalRunFilter())
    good = make_run(run_id="shape", items=A_FAILED_B_C)
    await store.write(good)  # the rejected writes left no trace behind
    assert good == await store.read("shape")


@pytest.mark.parametrize(
    "items",
    [
        (item(fixture_id="a"), item(fixture_id="b"), item(fixture_id="a")),
        (item(fixture_id="a", live=True), item(fixture_id="a", model=None, live=True)),
        (
            item(fixture_id="a", model="m", sample_index=0),
            item(fixture_id="a", model="m", sample_index=0),
        ),
    ],
    ids=["scripted", "default-cell", "sampled"],
)
async def test_write_rejects_duplicate_item_keys_and_stores_nothing(
    store: AnyStore, items: tuple[EvalRunItem, ...]
) -> None:
    mode = LIVE if items[0].cell is not None else SCRIPTED
    with pytest.raises(DuplicateItemKeys, match="duplicate eval-run item key: fixture 'a'"):
        await store.write(make_run(run_id="dup", items=items, mode=mode))
    with pytest.raises(NotFound):
        await store.read("dup")
    assert [] == await store.list(EvalRunFilter())
    good = make_run(run_id="dup", items=A_FAILED_B_C)
    await store.write(good)
    assert good == await store.read("dup")


OUT_OF_RANGE_RUNS: dict[str, dict[str, Any]] = {
    "ended_at_secs": {"ended_at_secs": 2**64},
    "dataset_revision": {"dataset_revision": -1},
    "started_at_secs": {"started_at_secs": -5},
    "sample_index": {"items": (item(fixture_id="a", sample_index=2**32),)},
}


@pytest.mark.parametrize("field", OUT_OF_RANGE_RUNS)
@pytest.mark.parametrize("store_kind", PERSISTENT)
async def test_a_run_the_store_could_not_read_back_is_rejected_on_write(
    store_kind: str, tmp_path: Path, field: str
) -> None:
    # The records do not range-check their unsigned fields; a persisting store must
    # not accept what it would later call corrupt (and keep its id taken).
    store = open_store(store_kind, tmp_path)
    try:
        with pytest.raises(InvalidInput, match=field):
            await store.write(
                attrs.evolve(
                    make_run(run_id="out of range", items=A_FAILED_B_C), **OUT_OF_RANGE_RUNS[field]
                )
            )
        with pytest.raises(NotFound):
            await store.read("out of range")
        await store.write(make_run(run_id="out of range", items=A_FAILED_B_C))
        assert make_run(run_id="out of range", items=A_FAILED_B_C) == await store.read(
            "out of range"
        )
    finally:
        await close_store(store)


@pytest.mark.parametrize("store_kind", PERSISTENT)
async def test_an_item_the_store_could_not_read_back_is_rejected_on_append(
    store_kind: str, tmp_path: Path
) -> None:
    store = open_store(store_kind, tmp_path)
    try:
        await store.begin(header(run_id="s"))
        with pytest.raises(InvalidInput, match="sample_index"):
            await store.append(
                "s", (item(fixture_id="a"), item(fixture_id="b", sample_index=2**32))
            )
        assert frozenset() == await store.present_keys("s")
        await store.append("s", (item(fixture_id="a"), item(fixture_id="b", sample_index=1)))
        run = await finish(store, "s", ended_at_secs=T0)
        assert run == await store.read("s")
    finally:
        await close_store(store)


@pytest.mark.parametrize(
    "changes",
    [{"dataset_revision": -1}, {"started_at_secs": -1}, {"started_at_secs": 2**64}],
    ids=["dataset_revision", "started_at_secs", "started_at_secs_too_large"],
)
@pytest.mark.parametrize("store_kind", PERSISTENT)
async def test_a_header_the_store_could_not_read_back_is_rejected_on_begin(
    store_kind: str, tmp_path: Path, changes: dict[str, Any]
) -> None:
    store = open_store(store_kind, tmp_path)
    try:
        with pytest.raises(InvalidInput):
            await store.begin(header(run_id="s", **changes))
        assert frozenset() == await store.begin(header(run_id="s"))
    finally:
        await close_store(store)


async def test_an_absent_cell_and_a_default_cell_are_the_same_key_but_not_the_same_item(
    store: AnyStore,
) -> None:
    # Sample indexes tell items apart: no index is not sample 0.
    items = (
        item(fixture_id="a", live=True),
        item(fixture_id="a", live=True, sample_index=0),
        item(fixture_id="a", model="m"),
    )
    run = make_run(run_id="keys", items=items, mode=LIVE)
    await store.write(run)
    assert run == await store.read("keys")


async def test_an_empty_run_round_trips(store: AnyStore) -> None:
    run = make_run(run_id="empty", items=())
    await store.write(run)
    assert run == await store.read("empty")
    assert [EvalRunSummary.from_run(run)] == await store.list(EvalRunFilter())


_VALID_IDS = st.sampled_from(["01JD3R8Q5YF6W9S2C4T0B7M1NA", "run 1", "é"]) | st.text(
    st.characters(blacklist_characters="/\\\x00", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=12,
).filter(lambda text: text not in {".", ".."})


@pytest.mark.parametrize("store_kind", STORE_KINDS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(run=eval_runs(), run_id=_VALID_IDS)
def test_generated_runs_round_trip_through_the_store(
    store_kind: str, run: EvalRun, run_id: str
) -> None:
    # A zero start time has store-specific handling (see the test below); 1 is the edge.
    run = attrs.evolve(run, id=run_id, started_at_secs=max(1, run.started_at_secs))

    async def scenario(root: Path) -> None:
        store = open_store(store_kind, root)
        try:
            await store.write(run)
            assert run == await store.read(run_id)
            assert [EvalRunSummary.from_run(run)] == await store.list(EvalRunFilter())
            async with reopened(store_kind, root, store) as other:
                assert run == await other.read(run_id)
        finally:
            await close_store(store)

    with tempfile.TemporaryDirectory() as directory:
        anyio.run(scenario, Path(directory))


# Whether a store replaces started_at_secs == 0 by the time of the call (spec §3.3, file
# store write step 4) or keeps it as given, for whole runs and for streamed runs.
RESOLVES_ZERO_START_ON_WRITE = {"memory": False, "files": True, "sqlite": True, "postgres": True}
RESOLVES_ZERO_START_ON_BEGIN = {"memory": False, "files": False, "sqlite": False, "postgres": False}


async def test_a_zero_start_time_is_handled_as_the_store_defines(
    kind: str, store: AnyStore
) -> None:
    before = int(time.time())
    await store.write(
        make_run(run_id="zero", started_at_secs=0, ended_at_secs=5, items=A_FAILED_B_C)
    )
    after = int(time.time())
    stored = await store.read("zero")
    summary = (await store.list(EvalRunFilter()))[0]
    assert stored.started_at_secs == summary.started_at_secs
    if RESOLVES_ZERO_START_ON_WRITE[kind]:
        assert before <= stored.started_at_secs <= after
    else:
        assert 0 == stored.started_at_secs
    assert make_run(
        run_id="zero",
        started_at_secs=stored.started_at_secs,
        ended_at_secs=stored.started_at_secs + 5,
        items=A_FAILED_B_C,
    ) == attrs.evolve(stored, ended_at_secs=stored.started_at_secs + 5)


# -- list ---------------------------------------------------------------------------------


async def _write_listing_runs(store: AnyStore) -> None:
    await store.write(
        make_run(run_id="r1", dataset_id="a", started_at_secs=T0 - 100, items=A_FAILED_B_C)
    )
    await store.write(make_run(run_id="r2", dataset_id="b", started_at_secs=T0, items=A_FAILED_B_C))
    await store.write(make_run(run_id="r3", dataset_id="a", started_at_secs=T0, items=A_FAILED_B_C))
    await store.write(
        make_run(run_id="r4", dataset_id="a", started_at_secs=NEXT_MONTH, items=A_FAILED_B_C)
    )


async def test_list_is_newest_first_with_ties_by_id_descending(store: AnyStore) -> None:
    await _write_listing_runs(store)
    await store.write(make_run(run_id="r0", dataset_id="b", started_at_secs=T0, items=A_FAILED_B_C))
    assert ["r4", "r3", "r2", "r0", "r1"] == await listed_ids(store)


async def test_list_summaries_count_items(store: AnyStore) -> None:
    run = make_run(
        run_id="counted",
        dataset_revision=3,
        items=(item(fixture_id="a"), item(fixture_id="b", passed=False), item(fixture_id="c")),
    )
    await store.write(run)
    expected = EvalRunSummary(
        id="counted",
        dataset_id="ds",
        dataset_revision=3,
        execution_mode=SCRIPTED,
        started_at_secs=T0,
        item_count=3,
        passed_count=2,
        failed_count=1,
    )
    assert [expected] == await store.list(EvalRunFilter())


@pytest.mark.parametrize(
    ("criteria", "expected"),
    [
        ({}, ["r4", "r3", "r2", "r1"]),
        ({"dataset_id": "a"}, ["r4", "r3", "r1"]),
        ({"dataset_id": "b"}, ["r2"]),
        ({"dataset_id": "nope"}, []),
        ({"since_secs": T0}, ["r4", "r3", "r2"]),
        ({"since_secs": T0 + 1}, ["r4"]),
        ({"until_secs": T0}, ["r1"]),
        ({"until_secs": T0 + 1}, ["r3", "r2", "r1"]),
        ({"since_secs": T0, "until_secs": NEXT_MONTH}, ["r3", "r2"]),
        ({"since_secs": T0, "until_secs": T0}, []),
        ({"limit": 2}, ["r4", "r3"]),
        ({"limit": 0}, []),
        ({"limit": 10}, ["r4", "r3", "r2", "r1"]),
        ({"dataset_id": "a", "limit": 2}, ["r4", "r3"]),
        ({"dataset_id": "a", "until_secs": NEXT_MONTH, "limit": 1}, ["r3"]),
    ],
)
async def test_list_filters_then_truncates(
    store: AnyStore, criteria: dict[str, Any], expected: list[str]
) -> None:
    await _write_listing_runs(store)
    assert expected == await listed_ids(store, **criteria)


async def test_list_of_an_empty_store_is_empty(store: AnyStore) -> None:
    assert [] == await store.list(EvalRunFilter())


async def test_list_shows_only_finished_runs(store: AnyStore) -> None:
    await store.write(make_run(run_id="written", items=A_FAILED_B_C))
    await store.begin(header(run_id="open"))
    await store.append("open", (item(fixture_id="a"),))
    assert ["written"] == await listed_ids(store)
    with pytest.raises(NotFound):
        await store.read("open")
    await finish(store, "open", ended_at_secs=T0 + 1)
    assert ["written", "open"] == await listed_ids(store)


@pytest.mark.parametrize("store_kind", PERSISTENT)
async def test_list_full_returns_the_listed_runs_whole(store_kind: str, tmp_path: Path) -> None:
    store = open_store(store_kind, tmp_path)
    assert not isinstance(store, InMemoryRunStore)
    try:
        await _write_listing_runs(store)
        for criteria in ({}, {"dataset_id": "a", "limit": 2}, {"since_secs": T0}):
            run_filter = EvalRunFilter(**criteria)
            summaries = await store.list(run_filter)
            expected = [await store.read(summary.id) for summary in summaries]
            assert expected == await store.list_full(run_filter)
    finally:
        await close_store(store)


# -- prune --------------------------------------------------------------------------------


async def test_prune_deletes_runs_started_before_the_cutoff(store: AnyStore) -> None:
    await _write_listing_runs(store)
    assert 1 == await store.prune(T0)
    assert ["r4", "r3", "r2"] == await listed_ids(store)
    with pytest.raises(NotFound):
        await store.read("r1")
    assert 0 == await store.prune(T0)
    assert 2 == await store.prune(T0 + 1)
    assert ["r4"] == await listed_ids(store)
    assert 1 == await store.prune(2**63)
    assert [] == await store.list(EvalRunFilter())


async def test_prune_with_nothing_old_enough_deletes_nothing(store: AnyStore) -> None:
    await _write_listing_runs(store)
    assert 0 == await store.prune(0)
    assert 0 == await store.prune(T0 - 100)
    assert ["r4", "r3", "r2", "r1"] == await listed_ids(store)


async def test_a_pruned_run_id_can_be_written_again(store: AnyStore) -> None:
    await store.write(
        make_run(run_id="reused", dataset_id="old", started_at_secs=T0 - 10, items=A_FAILED_B_C)
    )
    assert 1 == await store.prune(T0)
    fresh = make_run(
        run_id="reused", dataset_id="new", started_at_secs=NEXT_MONTH, items=A_FAILED_B_C
    )
    await store.write(fresh)
    assert fresh == await store.read("reused")


async def test_prune_leaves_open_runs_alone(store: AnyStore) -> None:
    await store.begin(header(run_id="open", started_at_secs=T0 - 10))
    await store.append("open", (item(fixture_id="a"),))
    assert 0 == await store.prune(T0)
    assert frozenset({key("a")}) == await store.present_keys("open")
    run = await finish(store, "open", ended_at_secs=T0)
    assert [key("a")] == keys_of(run)


# -- streaming ----------------------------------------------------------------------------


async def test_stream_begin_append_finish(store: AnyStore) -> None:
    assert frozenset() == await store.begin(
        header(run_id="s", dataset_revision=3, fixture_digests={"a": "1" * 64, "b": "2" * 64})
    )
    await store.append("s", (item(fixture_id="c"), item(fixture_id="a", passed=False)))
    await store.append("s", (item(fixture_id="b"),))
    assert {key("a"), key("b"), key("c")} == await store.present_keys("s")
    run = await finish(store, "s", ended_at_secs=T0 + 9, item_order=[key("a"), key("b")])
    expected = EvalRun(
        id="s",
        dataset_id="ds",
        dataset_revision=3,
        execution_mode=SCRIPTED,
        items=(item(fixture_id="a", passed=False), item(fixture_id="b"), item(fixture_id="c")),
        started_at_secs=T0,
        ended_at_secs=T0 + 9,
        fixture_digests={"a": "1" * 64, "b": "2" * 64},
    )
    assert expected == run
    assert expected == await store.read("s")
    assert [EvalRunSummary.from_run(expected)] == await store.list(EvalRunFilter())
    assert frozenset() == await store.present_keys("s")


async def test_finish_without_order_keeps_append_order(store: AnyStore) -> None:
    await store.begin(header(run_id="s"))
    await store.append("s", (item(fixture_id="c"), item(fixture_id="a")))
    await store.append("s", (item(fixture_id="b"),))
    run = await finish(store, "s", ended_at_secs=T0)
    assert [key("c"), key("a"), key("b")] == keys_of(run)


async def test_finish_order_puts_unlisted_items_last_in_append_order(store: AnyStore) -> None:
    await store.begin(header(run_id="s"))
    await store.append(
        "s",
        (item(fixture_id="d"), item(fixture_id="c"), item(fixture_id="b"), item(fixture_id="a")),
    )
    run = await finish(store, "s", ended_at_secs=T0, item_order=[key("b"), key("zz"), key("d")])
    assert [key("b"), key("d"), key("c"), key("a")] == keys_of(run)


async def test_stream_of_a_live_sampled_run(store: AnyStore) -> None:
    order = [
        key(fixture, model, sample)
        for fixture in "ab"
        for model in ("m1", "m2")
        for sample in (0, 1)
    ]
    items = {
        one: item(
            fixture_id=one.fixture_id,
            model=one.model_id,
            sample_index=one.sample_index,
            passed=one.sample_index == 0,
        )
        for one in order
    }
    await store.begin(header(run_id="live", mode=LIVE))
    await store.append("live", tuple(items[one] for one in reversed(order[4:])))
    await store.append("live", tuple(items[one] for one in order[:4]))
    run = await finish(store, "live", ended_at_secs=T0, item_order=order)
    assert order == keys_of(run)
    assert LIVE == run.execution_mode
    assert run == await store.read("live")
    assert 4 == (await store.list(EvalRunFilter()))[0].passed_count


async def test_finishing_an_empty_stream_stores_an_empty_run(store: AnyStore) -> None:
    await store.begin(header(run_id="nothing"))
    run = await finish(store, "nothing", ended_at_secs=T0)
    assert () == run.items
    assert run == await store.read("nothing")


async def test_resume_returns_the_present_keys_and_continues(
    kind: str, tmp_path: Path, store: AnyStore
) -> None:
    await store.begin(header(run_id="s"))
    await store.append("s", (item(fixture_id="a"), item(fixture_id="b")))
    async with reopened(kind, tmp_path, store) as other:
        assert {key("a"), key("b")} == await other.begin(header(run_id="s"), resume=True)
        assert {key("a"), key("b")} == await other.present_keys("s")
        await other.append("s", (item(fixture_id="c"),))
        run = await finish(other, "s", ended_at_secs=T0, item_order=[key("a"), key("b"), key("c")])
        assert [key("a"), key("b"), key("c")] == keys_of(run)
        assert run == await other.read("s")
    assert run == await store.read("s")


async def test_resume_may_be_repeated(store: AnyStore) -> None:
    await store.begin(header(run_id="s"))
    await store.append("s", (item(fixture_id="a"),))
    assert {key("a")} == await store.begin(header(run_id="s"), resume=True)
    assert {key("a")} == await store.begin(header(run_id="s"), resume=True)
    await store.append("s", (item(fixture_id="b"),))
    assert {key("a"), key("b")} == await store.begin(header(run_id="s"), resume=True)


async def test_resume_of_an_unknown_run_starts_it_empty(store: AnyStore) -> None:
    assert frozenset() == await store.begin(header(run_id="new"), resume=True)
    await store.append("new", (item(fixture_id="a"),))
    run = await finish(store, "new", ended_at_secs=T0)
    assert [key("a")] == keys_of(run)


@pytest.mark.parametrize("resume", [False, True])
async def test_begin_on_a_finished_run_is_already_exists(store: AnyStore, resume: bool) -> None:
    await store.write(make_run(run_id="written", items=A_FAILED_B_C))
    await store.begin(header(run_id="streamed"))
    await finish(store, "streamed", ended_at_secs=T0)
    for run_id in ("written", "streamed"):
        with pytest.raises(AlreadyExists):
            await store.begin(header(run_id=run_id), resume=resume)
    assert make_run(run_id="written", items=A_FAILED_B_C) == await store.read("written")


async def test_write_on_an_open_run_is_already_exists(store: AnyStore) -> None:
    await store.begin(header(run_id="open"))
    await store.append("open", (item(fixture_id="a"),))
    with pytest.raises(AlreadyExists):
        await store.write(make_run(run_id="open", items=A_FAILED_B_C))
    assert {key("a")} == await store.present_keys("open")
    run = await finish(store, "open", ended_at_secs=T0)
    assert run == await store.read("open")


async def test_begin_twice_without_resume_is_a_conflict(store: AnyStore) -> None:
    await store.begin(header(run_id="s"))
    await store.append("s", (item(fixture_id="a"),))
    with pytest.raises(Conflict, match="s"):
        await store.begin(header(run_id="s"))
    assert {key("a")} == await store.present_keys("s")


@pytest.mark.parametrize(
    "changed",
    [{"dataset_id": "other"}, {"dataset_revision": 4}, {"mode": LIVE}],
    ids=["dataset", "revision", "mode"],
)
async def test_resume_with_another_identity_is_a_conflict(
    store: AnyStore, changed: dict[str, Any]
) -> None:
    await store.begin(header(run_id="s"))
    await store.append("s", (item(fixture_id="a"),))
    with pytest.raises(Conflict):
        await store.begin(header(run_id="s", **changed), resume=True)
    assert {key("a")} == await store.begin(header(run_id="s"), resume=True)


async def test_append_of_a_duplicate_key_is_rejected_whole(store: AnyStore) -> None:
    await store.begin(header(run_id="s"))
    await store.append("s", (item(fixture_id="a"),))
    with pytest.raises(DuplicateItemKeys, match="fixture 'a'"):
        await store.append("s", (item(fixture_id="b"), item(fixture_id="a")))
    with pytest.raises(DuplicateItemKeys, match="fixture 'c'"):
        await store.append("s", (item(fixture_id="c"), item(fixture_id="c")))
    assert {key("a")} == await store.present_keys("s")
    await store.append("s", (item(fixture_id="b"), item(fixture_id="c")))
    run = await finish(store, "s", ended_at_secs=T0)
    assert [key("a"), key("b"), key("c")] == keys_of(run)


async def test_append_of_a_duplicate_key_after_resume_is_rejected(
    kind: str, tmp_path: Path, store: AnyStore
) -> None:
    await store.begin(header(run_id="s"))
    await store.append("s", (item(fixture_id="a"),))
    async with reopened(kind, tmp_path, store) as other:
        await other.begin(header(run_id="s"), resume=True)
        with pytest.raises(DuplicateItemKeys, match="fixture 'a'"):
            await other.append("s", (item(fixture_id="a"),))
        assert {key("a")} == await other.present_keys("s")


async def test_append_and_finish_of_a_run_that_is_not_open_are_not_found(
    store: AnyStore,
) -> None:
    with pytest.raises(NotFound, match="ghost"):
        await store.append("ghost", (item(fixture_id="a"),))
    with pytest.raises(NotFound, match="ghost"):
        await store.finish("ghost", ended_at_secs=T0)
    await store.begin(header(run_id="done"))
    await finish(store, "done", ended_at_secs=T0)
    with pytest.raises(NotFound):
        await store.append("done", (item(fixture_id="a"),))
    with pytest.raises(NotFound):
        await store.finish("done", ended_at_secs=T0)
    assert [] == keys_of(await store.read("done"))


async def test_present_keys_of_an_unknown_run_is_empty(store: AnyStore) -> None:
    assert frozenset() == await store.present_keys("ghost")


async def test_a_zero_start_time_of_a_stream_is_handled_as_the_store_defines(
    kind: str, store: AnyStore
) -> None:
    before = int(time.time())
    await store.begin(header(run_id="zero", started_at_secs=0))
    run = await finish(store, "zero", ended_at_secs=T0)
    after = int(time.time())
    assert run == await store.read("zero")
    if RESOLVES_ZERO_START_ON_BEGIN[kind]:
        assert before <= run.started_at_secs <= after
    else:
        assert 0 == run.started_at_secs


# -- concurrency within one process -----------------------------------------------------


async def test_concurrent_writes_of_one_id_have_exactly_one_winner(store: AnyStore) -> None:
    outcomes: dict[int, str] = {}

    async def attempt(writer: int) -> None:
        try:
            await store.write(
                make_run(
                    run_id="raced",
                    dataset_id=f"writer-{writer}",
                    started_at_secs=T0 + writer * 3_000_000,
                    items=A_FAILED_B_C,
                )
            )
        except AlreadyExists:
            outcomes[writer] = "exists"
        else:
            outcomes[writer] = "ok"

    async with anyio.create_task_group() as group:
        for writer in range(8):
            group.start_soon(attempt, writer)
    winners = [writer for writer, outcome in outcomes.items() if outcome == "ok"]
    assert 1 == len(winners)
    assert 7 == sum(outcome == "exists" for outcome in outcomes.values())
    stored = await store.read("raced")
    assert f"writer-{winners[0]}" == stored.dataset_id
    assert ["raced"] == await listed_ids(store)


async def test_concurrent_writes_and_appends_all_land(store: AnyStore) -> None:
    await store.begin(header(run_id="s"))

    async def write(index: int) -> None:
        await store.write(
            make_run(run_id=f"run {index:02d}", started_at_secs=T0 + index, items=A_FAILED_B_C)
        )

    async def append(index: int) -> None:
        await store.append(
            "s", (item(fixture_id=f"x{index:02d}"), item(fixture_id=f"y{index:02d}"))
        )

    async with anyio.create_task_group() as group:
        for index in range(12):
            group.start_soon(write, index)
            group.start_soon(append, index)
    assert [f"run {index:02d}" for index in reversed(range(12))] == await listed_ids(store)
    expected = {key(f"{prefix}{index:02d}") for prefix in "xy" for index in range(12)}
    assert expected == await store.present_keys("s")
    run = await finish(store, "s", ended_at_secs=T0, item_order=sorted(expected))
    assert sorted(expected) == keys_of(run)


async def test_a_large_live_run_round_trips_in_order(store: AnyStore) -> None:
    # Larger than the batches a store may read or write its items in.
    order = [
        key(f"f{index:04d}", model, sample)
        for index in range(100)
        for model in ("m1", "m2")
        for sample in (0, 1, 2)
    ]
    items = tuple(
        item(
            fixture_id=one.fixture_id,
            model=one.model_id,
            sample_index=one.sample_index,
            passed=index % 3 != 0,
        )
        for index, one in enumerate(reversed(order))
    )
    run = make_run(run_id="large", items=items, mode=LIVE)
    await store.write(run)
    assert run == await store.read("large")
    await store.begin(header(run_id="large stream", mode=LIVE))
    for start in range(0, len(items), 64):
        await store.append("large stream", items[start : start + 64])
    streamed = await finish(store, "large stream", ended_at_secs=T0, item_order=order)
    assert order == keys_of(streamed)
    assert streamed == await store.read("large stream")
    summaries = {summary.id: summary for summary in await store.list(EvalRunFilter())}
    assert 400 == summaries["large stream"].passed_count


# -- the same answers as the in-memory store --------------------------------------------

_LISTED_RUNS = st.lists(
    st.tuples(
        st.sampled_from(["a", "b"]),
        st.sampled_from([1, T0 - 1, T0, T0 + 1, NEXT_MONTH, 2**63, 2**64 - 1]),
    ),
    max_size=8,
)
_BOUNDS = (
    st.none()
    | st.sampled_from([0, 1, T0, T0 + 1, NEXT_MONTH, 2**63, 2**64 - 1])
    | st.integers(0, 2**64 - 1)
)
_FILTERS = st.builds(
    EvalRunFilter,
    dataset_id=st.none() | st.sampled_from(["a", "b", "c"]),
    since_secs=_BOUNDS,
    until_secs=_BOUNDS,
    limit=st.none() | st.integers(0, 9),
)


@pytest.mark.parametrize("store_kind", PERSISTENT)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=_LISTED_RUNS, run_filter=_FILTERS, cutoff=_BOUNDS)
def test_listing_and_pruning_agree_with_the_in_memory_store(
    store_kind: str, runs: list[tuple[str, int]], run_filter: EvalRunFilter, cutoff: int | None
) -> None:
    async def answers(store: AnyStore) -> tuple[object, ...]:
        for index, (dataset, started) in enumerate(runs):
            await store.write(
                make_run(
                    run_id=f"r{index % 3}-{index}",
                    dataset_id=dataset,
                    started_at_secs=started,
                    items=(item(fixture_id="a", passed=index % 2 == 0),),
                )
            )
        listed = await store.list(run_filter)
        pruned = await store.prune(cutoff or 0)
        return listed, pruned, await store.list(EvalRunFilter())

    async def scenario(root: Path) -> None:
        store = open_store(store_kind, root)
        try:
            assert await answers(InMemoryRunStore()) == await answers(store)
        finally:
            await close_store(store)

    with tempfile.TemporaryDirectory() as directory:
        anyio.run(scenario, Path(directory))


# -- run_eval -----------------------------------------------------------------------------


async def test_run_eval_streams_a_scripted_run_into_the_store(
    kind: str, tmp_path: Path, store: AnyStore
) -> None:
    fixtures = load_directory(BUNDLED)
    run = await run_eval(
        fixtures, RunOptions(run_id="01JD3R8Q5YF6W9S2C4T0B7M1NA", dataset_id="bundled"), store=store
    )
    assert [fixture.id for fixture in fixtures] == [one.fixture_id for one in run.items]
    assert run == await store.read(run.id)
    assert [EvalRunSummary.from_run(run)] == await store.list(EvalRunFilter())
    async with reopened(kind, tmp_path, store) as other:
        assert run == await other.read(run.id)


class YieldingReplayer:
    """The default replayer, with a checkpoint first so a run can be cancelled midway."""

    def __init__(self) -> None:
        self.inner = AgentLoopReplayer()

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        await anyio.lowlevel.checkpoint()
        return await self.inner.replay(fixture, context)


async def test_run_eval_resumes_an_interrupted_run_from_the_store(
    kind: str, tmp_path: Path, store: AnyStore
) -> None:
    fixtures = load_directory(BUNDLED)
    uninterrupted = await run_eval(fixtures, RunOptions(run_id="reference"))
    with anyio.CancelScope() as scope:

        def stop_after_two(done: int, total: int) -> None:
            if done == 2:
                scope.cancel()

        await run_eval(
            fixtures,
            RunOptions(run_id="crashed", max_concurrency=1),
            store=store,
            progress=stop_after_two,
            replayer=YieldingReplayer(),
        )
    assert scope.cancelled_caught
    present = await store.present_keys("crashed")
    assert 2 <= len(present) < len(fixtures)
    with pytest.raises(NotFound):
        await store.read("crashed")
    async with reopened(kind, tmp_path, store) as other:
        seen: list[int] = []
        run = await run_eval(
            fixtures,
            RunOptions(resume="crashed"),
            store=other,
            progress=lambda done, total: seen.append(done),
        )
        assert list(range(len(present), len(fixtures) + 1)) == seen
        assert keys_of(uninterrupted) == keys_of(run)
        assert [(one.report.passed, one.report.final_text) for one in uninterrupted.items] == [
            (one.report.passed, one.report.final_text) for one in run.items
        ]
        assert run == await other.read("crashed")
