"""SqliteRunStore: schema and migrations, the run-store contract, streaming, corruption."""

from __future__ import annotations

import itertools
import logging
import math
import random
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import anyio
import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import strategies as s
from awaken_eval import (
    AlreadyExists,
    Conflict,
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    EvalRunStore,
    EvalRunSummary,
    InvalidInput,
    ItemKey,
    NotFound,
    StoreFailure,
)
from awaken_eval.errors import DuplicateItemKeys, InvalidExecutionShape, InvalidRunId
from awaken_eval.protocols import PrunableRunStore, StreamingRunStore
from awaken_eval.records import EvalRunFilter
from awaken_eval.stores import InMemoryRunStore, SqliteRunStore
from awaken_eval.stores._sqlite import schema as sqlite_schema
from awaken_eval.stores._sqlite.schema import SCHEMA_VERSION
from builders import header, item, report, run

pytestmark = pytest.mark.anyio

SCRIPTED = EvalRunExecutionMode.SCRIPTED
LIVE = EvalRunExecutionMode.LIVE
U64_MAX = (1 << 64) - 1
PROPERTY_SETTINGS = settings(
    max_examples=20,
    deadline=None,
    # One store per test, emptied at the start of every example.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


# -- helpers ---------------------------------------------------------------------------


def raw(path: Path, sql: str, *parameters: object) -> list[tuple[object, ...]]:
    """Run SQL on the file through a connection of its own (as another program would)."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        return connection.execute(sql, parameters).fetchall()
    finally:
        connection.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "runs.sqlite3"


@pytest.fixture
def store(db: Path) -> Iterator[SqliteRunStore]:
    store = SqliteRunStore(db, clock=lambda: 1_234.5)
    yield store
    store.close()


EXAMPLE_NUMBERS = itertools.count()
"""Unique run ids across the examples of a property test sharing one store."""


async def emptied(store: SqliteRunStore) -> SqliteRunStore:
    """The store with every finished run pruned, for the next example of a property test."""
    await store.prune(U64_MAX + 1)
    return store


# -- protocols, schema and migrations ---------------------------------------------------


async def test_implements_every_store_protocol(store: SqliteRunStore) -> None:
    assert isinstance(store, EvalRunStore)
    assert isinstance(store, PrunableRunStore)
    assert isinstance(store, StreamingRunStore)


async def test_first_use_creates_parent_dirs_and_the_current_schema_in_wal_mode(
    db: Path,
) -> None:
    store = SqliteRunStore(db)
    assert not await anyio.Path(db).exists()  # nothing happens before first use
    async with store:
        assert await anyio.Path(db).exists()
    assert [(SCHEMA_VERSION,)] == raw(db, "PRAGMA user_version")
    assert [("wal",)] == raw(db, "PRAGMA journal_mode")
    tables = {row[0] for row in raw(db, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"runs", "items"} == tables
    indexes = {row[0] for row in raw(db, "SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"runs_by_start", "runs_by_dataset", "items_by_seq", "items_by_key"} <= indexes


async def test_synchronous_option_sets_the_pragma(db: Path) -> None:
    async with SqliteRunStore(db, synchronous="full") as store:
        assert store._connection is not None
        assert (2,) == store._connection.execute("PRAGMA synchronous").fetchone()
    async with SqliteRunStore(db) as store:
        assert store._connection is not None
        assert (1,) == store._connection.execute("PRAGMA synchronous").fetchone()
    async with SqliteRunStore(db, busy_timeout_secs=2.5) as store:
        assert store._connection is not None
        assert (2500,) == store._connection.execute("PRAGMA busy_timeout").fetchone()
    with pytest.raises(ValueError, match="synchronous"):
        SqliteRunStore(db, synchronous="off")  # type: ignore[arg-type]


async def test_a_version_0_file_made_by_hand_is_migrated_and_keeps_its_tables(db: Path) -> None:
    db.parent.mkdir(parents=True)
    raw(db, "CREATE TABLE notes (text TEXT)")
    raw(db, "INSERT INTO notes VALUES ('kept')")
    async with SqliteRunStore(db) as store:
        await store.write(run(run_id="r1", items=(item(fixture_id="a"),)))
        assert "r1" == (await store.read("r1")).id
    assert [(SCHEMA_VERSION,)] == raw(db, "PRAGMA user_version")
    assert [("kept",)] == raw(db, "SELECT text FROM notes")


async def test_an_older_file_is_migrated_in_order_and_keeps_its_runs(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SqliteRunStore(db) as store:  # a version-1 file with a run in it
        await store.write(run(run_id="old", items=(item(fixture_id="a"),)))
    later = (
        "CREATE TABLE run_notes (run_id TEXT NOT NULL, note TEXT NOT NULL)",
        "INSERT INTO run_notes SELECT id, 'migrated' FROM runs",
    )
    monkeypatch.setattr(sqlite_schema, "_MIGRATIONS", (*sqlite_schema._MIGRATIONS, later))
    async with SqliteRunStore(db) as store:
        assert run(run_id="old", items=(item(fixture_id="a"),)) == await store.read("old")
    assert [(SCHEMA_VERSION + 1,)] == raw(db, "PRAGMA user_version")
    assert [("old", "migrated")] == raw(db, "SELECT run_id, note FROM run_notes")


async def test_a_failing_migration_changes_nothing(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with SqliteRunStore(db):
        pass
    broken = ("CREATE TABLE half_done (x TEXT)", "THIS IS NOT SQL")
    monkeypatch.setattr(sqlite_schema, "_MIGRATIONS", (*sqlite_schema._MIGRATIONS, broken))
    with pytest.raises(StoreFailure, match="syntax error") as caught:
        async with SqliteRunStore(db):
            pass
    assert str(db) in str(caught.value)
    assert [(SCHEMA_VERSION,)] == raw(db, "PRAGMA user_version")
    assert [] == raw(db, "SELECT name FROM sqlite_master WHERE name = 'half_done'")


async def test_a_file_of_a_newer_schema_is_refused(db: Path) -> None:
    async with SqliteRunStore(db):
        pass
    raw(db, f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    store = SqliteRunStore(db)
    with pytest.raises(StoreFailure, match="newer") as caught:
        await store.list(EvalRunFilter())
    assert f"schema version {SCHEMA_VERSION + 1}" in str(caught.value)
    assert str(db) in str(caught.value)


async def test_a_file_that_is_not_a_database_is_a_store_failure(db: Path) -> None:
    await anyio.Path(db.parent).mkdir(parents=True)
    await anyio.Path(db).write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreFailure, match="not a database") as caught:
        await SqliteRunStore(db).read("r1")
    assert str(db) in str(caught.value)


# -- write / read ------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(runs=st.lists(s.eval_runs(), min_size=1, max_size=3))
async def test_round_trip_and_summaries(store: SqliteRunStore, runs: list[EvalRun]) -> None:
    store = await emptied(store)
    expected = []
    for number, drawn in enumerate(runs):
        stored = attrs.evolve(drawn, id=f"run-{number}")
        await store.write(stored)
        if stored.started_at_secs == 0:
            stored = attrs.evolve(stored, started_at_secs=1_234)  # the store's clock
        expected.append(stored)
        assert stored == await store.read(stored.id)
    expected.sort(key=lambda r: (r.started_at_secs, r.id), reverse=True)
    summaries = [EvalRunSummary.from_run(r) for r in expected]
    assert summaries == await store.list(EvalRunFilter())
    assert expected == await store.list_full(EvalRunFilter())


async def test_items_come_back_in_stored_order(store: SqliteRunStore) -> None:
    written = run(
        run_id="r1",
        items=(item(fixture_id="z"), item(fixture_id="a"), item(fixture_id="m", passed=False)),
    )
    await store.write(written)
    assert ["z", "a", "m"] == [i.fixture_id for i in (await store.read("r1")).items]


async def test_started_at_zero_is_replaced_by_now_and_persisted(db: Path) -> None:
    async with SqliteRunStore(db, clock=lambda: 1_700_000_000.9) as store:
        await store.write(
            attrs.evolve(run(run_id="r1", items=(item(fixture_id="a"),)), started_at_secs=0)
        )
    async with SqliteRunStore(db) as reopened:
        assert 1_700_000_000 == (await reopened.read("r1")).started_at_secs
        assert [1_700_000_000] == [r.started_at_secs for r in await reopened.list(EvalRunFilter())]


async def test_u64_extremes_round_trip_and_out_of_range_values_are_refused(
    store: SqliteRunStore,
) -> None:
    extreme = attrs.evolve(
        run(run_id="r1", items=(item(fixture_id="a"),)),
        dataset_revision=U64_MAX,
        started_at_secs=U64_MAX,
    )
    extreme = attrs.evolve(extreme, ended_at_secs=U64_MAX)
    await store.write(extreme)
    assert extreme == await store.read("r1")
    with pytest.raises(InvalidInput, match=r"\$\.dataset_revision"):
        await store.write(attrs.evolve(run(run_id="r2"), dataset_revision=U64_MAX + 1))
    with pytest.raises(InvalidInput, match=r"\$\.started_at_secs"):
        await store.write(attrs.evolve(run(run_id="r3"), started_at_secs=-1))
    assert ["r1"] == [r.id for r in await store.list(EvalRunFilter())]


async def test_write_is_write_once_and_keeps_the_original(store: SqliteRunStore) -> None:
    original = run(run_id="r1", items=(item(fixture_id="a"),))
    await store.write(original)
    with pytest.raises(AlreadyExists) as caught:
        await store.write(run(run_id="r1", items=(item(fixture_id="b"),), dataset_id="other"))
    assert "eval run already exists: r1" == str(caught.value)
    assert "r1" == caught.value.run_id
    assert original == await store.read("r1")


async def test_write_once_is_checked_before_the_payload(store: SqliteRunStore) -> None:
    await store.write(run(run_id="r1", items=(item(fixture_id="a"),)))
    with pytest.raises(AlreadyExists):
        await store.write(run(run_id="r1", items=(item(fixture_id="a"), item(fixture_id="a"))))


async def test_write_refuses_the_id_of_an_open_run(store: SqliteRunStore) -> None:
    await store.begin(header(run_id="s1", mode=LIVE))
    with pytest.raises(AlreadyExists):
        await store.write(run(run_id="s1"))


async def test_duplicate_item_keys_are_refused_and_nothing_is_written(
    store: SqliteRunStore, db: Path
) -> None:
    # An absent cell and a cell without model are the same key component.
    duplicated = EvalRun(
        id="r1",
        dataset_id="ds",
        dataset_revision=0,
        execution_mode=LIVE,
        items=(
            item(fixture_id="a", model="m", sample_index=0, live=True),
            item(fixture_id="b", live=True),
            item(fixture_id="b", live=True),
        ),
        started_at_secs=5,
        ended_at_secs=6,
    )
    with pytest.raises(DuplicateItemKeys) as caught:
        await store.write(duplicated)
    assert "duplicate eval-run item key: fixture 'b', default cell, no sample index" == str(
        caught.value
    )
    with pytest.raises(NotFound):
        await store.read("r1")
    assert [(0,), (0,)] == [
        *raw(db, "SELECT count(*) FROM runs"),
        *raw(db, "SELECT count(*) FROM items"),
    ]


async def test_a_run_built_around_its_shape_check_is_refused(store: SqliteRunStore) -> None:
    bad = run(run_id="r1", items=(item(fixture_id="a"),))
    # bypass the validator
    object.__setattr__(bad, "items", (item(fixture_id="a", model="m", live=True),))
    with pytest.raises(InvalidExecutionShape, match="execution_mode=scripted"):
        await store.write(bad)
    with pytest.raises(NotFound):
        await store.read("r1")


async def test_a_value_json_cannot_hold_aborts_the_whole_write(
    store: SqliteRunStore, db: Path
) -> None:
    bad = EvalRunItem(fixture_id="b", report=report(fixture_id="b", cost_usd=math.nan))
    with pytest.raises(InvalidInput, match=r"\$\.items\[1\]"):
        await store.write(run(run_id="r1", items=(item(fixture_id="a"), bad)))
    assert [(0,), (0,)] == [
        *raw(db, "SELECT count(*) FROM runs"),
        *raw(db, "SELECT count(*) FROM items"),
    ]


async def test_read_of_a_missing_or_open_run_is_not_found(store: SqliteRunStore) -> None:
    with pytest.raises(NotFound) as caught:
        await store.read("nope")
    assert "eval run not found: nope" == str(caught.value)
    await store.begin(header(run_id="s1", mode=LIVE))
    await store.append("s1", (item(fixture_id="a", model="m", live=True),))
    with pytest.raises(NotFound, match="eval run not found: s1"):
        await store.read("s1")


@pytest.mark.parametrize("bad_id", ["../x", "a/b", "a\\b", "a\0b", "", ".", ".."])
async def test_invalid_run_ids_are_refused_everywhere(store: SqliteRunStore, bad_id: str) -> None:
    with pytest.raises(InvalidRunId):
        await store.write(run(run_id=bad_id))
    with pytest.raises(InvalidRunId):
        await store.read(bad_id)
    with pytest.raises(InvalidRunId):
        await store.begin(header(run_id=bad_id, mode=LIVE))
    assert [] == await store.list(EvalRunFilter())


async def test_spaces_and_unicode_are_valid_ids(store: SqliteRunStore) -> None:
    await store.write(run(run_id="a run ü", items=(item(fixture_id="a"),)))
    assert "a run ü" == (await store.read("a run ü")).id


# -- list / list_full / prune --------------------------------------------------------------


async def test_list_filters_orders_breaks_ties_by_id_and_limits(store: SqliteRunStore) -> None:
    for run_id, dataset_id, started in [
        ("a", "ds1", 100),
        ("b", "ds1", 200),
        ("c", "ds2", 200),
        ("d", "ds1", 300),
        ("e", "ds2", 50),
    ]:
        await store.write(
            run(
                run_id=run_id,
                items=(item(fixture_id="x"),),
                dataset_id=dataset_id,
                started_at_secs=started,
            )
        )
    await store.begin(header(run_id="open", mode=LIVE))  # open runs are never listed

    async def ids(**options: object) -> list[str]:
        listed = await store.list(EvalRunFilter(**options))  # type: ignore[arg-type]
        full = await store.list_full(EvalRunFilter(**options))  # type: ignore[arg-type]
        assert [r.id for r in full] == [r.id for r in listed]
        return [r.id for r in listed]

    assert ["d", "c", "b", "a", "e"] == await ids()
    assert ["d", "b", "a"] == await ids(dataset_id="ds1")
    assert ["d", "c", "b"] == await ids(since_secs=200)  # inclusive
    assert ["a", "e"] == await ids(until_secs=200)  # exclusive
    assert ["c", "b"] == await ids(since_secs=200, until_secs=300)
    assert ["d", "c"] == await ids(limit=2)  # truncated after sorting
    assert ["b"] == await ids(dataset_id="ds1", since_secs=150, limit=2, until_secs=300)
    assert [] == await ids(limit=0)
    assert [] == await ids(dataset_id="none")
    assert ["d", "c", "b", "a", "e"] == await ids(since_secs=0, until_secs=U64_MAX)


async def test_list_counts_passed_and_failed_items(store: SqliteRunStore) -> None:
    await store.write(
        run(
            run_id="r1",
            items=(item(fixture_id="a"), item(fixture_id="b", passed=False), item(fixture_id="c")),
        )
    )
    [summary] = await store.list(EvalRunFilter())
    assert (3, 2, 1) == (summary.item_count, summary.passed_count, summary.failed_count)


@PROPERTY_SETTINGS
@given(
    runs=st.lists(s.eval_runs(max_items=2), max_size=6),
    run_filter=s.eval_run_filters(),
    ids=st.lists(st.sampled_from("abcd"), min_size=6, max_size=6),
)
async def test_list_agrees_with_the_in_memory_store(
    store: SqliteRunStore, runs: list[EvalRun], run_filter: EvalRunFilter, ids: list[str]
) -> None:
    store = await emptied(store)
    memory = InMemoryRunStore()
    for number, drawn in enumerate(runs):
        started = max(drawn.started_at_secs, 1)  # 0 means "now" to this store
        stored = attrs.evolve(drawn, id=f"{ids[number]}{number}", started_at_secs=started)
        await memory.write(stored)
        await store.write(stored)
    assert await memory.list(run_filter) == await store.list(run_filter)


async def test_prune_deletes_finished_runs_started_before_the_cutoff(
    store: SqliteRunStore, db: Path
) -> None:
    await store.write(
        run(run_id="old", items=(item(fixture_id="a"), item(fixture_id="b")), started_at_secs=99)
    )
    await store.write(run(run_id="edge", items=(item(fixture_id="a"),), started_at_secs=100))
    await store.write(run(run_id="new", items=(item(fixture_id="a"),), started_at_secs=150))
    await store.begin(attrs.evolve(header(run_id="open", mode=LIVE), started_at_secs=1))
    assert 0 == await store.prune(99)
    assert 1 == await store.prune(100)
    assert ["new", "edge"] == [r.id for r in await store.list(EvalRunFilter())]
    assert [("edge",), ("new",)] == raw(db, "SELECT DISTINCT run_id FROM items ORDER BY run_id")
    # still open
    assert frozenset() == await store.begin(header(run_id="open", mode=LIVE), resume=True)
    assert 2 == await store.prune(U64_MAX + 5)
    assert [] == await store.list(EvalRunFilter())
    await store.write(run(run_id="old", items=(item(fixture_id="a"),)))  # a pruned id is free again
    assert 0 == await store.prune(-1)


async def test_prune_keeps_rows_whose_start_time_is_corrupt(
    store: SqliteRunStore, db: Path
) -> None:
    await store.write(run(run_id="bad", items=(item(fixture_id="a"),), started_at_secs=5))
    raw(db, "UPDATE runs SET started_at_secs = '' WHERE id = 'bad'")
    assert 0 == await store.prune(1_000)
    assert [("bad",)] == raw(db, "SELECT id FROM runs")


# -- streaming -------------------------------------------------------------------------------


async def test_streaming_begin_append_finish(store: SqliteRunStore) -> None:
    assert frozenset() == await store.begin(
        header(
            run_id="s1",
            dataset_revision=1,
            mode=LIVE,
            started_at_secs=50,
            fixture_digests={"a": "cd" * 32},
        )
    )
    await store.append(
        "s1",
        (
            item(fixture_id="a", model="m", sample_index=0, live=True),
            item(fixture_id="b", model="m", sample_index=0, live=True),
        ),
    )
    await store.append("s1", ())
    await store.append(
        "s1", (item(fixture_id="a", model="m", sample_index=1, live=True, passed=False),)
    )
    assert [] == await store.list(EvalRunFilter())  # not visible until finished
    finished = await store.finish("s1", ended_at_secs=99)
    expected = EvalRun(
        id="s1",
        dataset_id="ds",
        dataset_revision=1,
        execution_mode=LIVE,
        items=(
            item(fixture_id="a", model="m", sample_index=0, live=True),
            item(fixture_id="b", model="m", sample_index=0, live=True),
            item(fixture_id="a", model="m", sample_index=1, live=True, passed=False),
        ),
        started_at_secs=50,
        ended_at_secs=99,
        fixture_digests={"a": "cd" * 32},
    )
    assert EvalRunSummary.from_run(expected) == finished
    assert (3, 2, 1) == (finished.item_count, finished.passed_count, finished.failed_count)
    assert expected == await store.read("s1")
    assert [finished] == await store.list(EvalRunFilter())


async def test_finish_orders_items_like_the_in_memory_store(store: SqliteRunStore) -> None:
    memory = InMemoryRunStore()
    # Model ids that a numeric column would confuse ("0123" vs "123"), an unlisted
    # item, and a key listed twice (its last position wins).
    items = (
        item(fixture_id="a", model="123", live=True),
        item(fixture_id="a", model="0123", live=True),
        item(fixture_id="b", live=True),
        item(fixture_id="a", model=None, sample_index=1, live=True),
        item(fixture_id="c", model="123", live=True),
    )
    order = [
        ItemKey("a", "0123", None),
        ItemKey("a", None, 1),
        ItemKey("zz", None, None),  # not in the run
        ItemKey("a", "123", None),
        ItemKey("a", "0123", None),
        ItemKey("b", None, None),
    ]
    for target in (memory, store):
        await target.begin(header(run_id="s1", mode=LIVE))
        await target.append("s1", items[:2])
        await target.append("s1", items[2:])
    summary = await memory.finish("s1", ended_at_secs=9, item_order=order)
    assert summary == await store.finish("s1", ended_at_secs=9, item_order=order)
    expected = await memory.read("s1")
    assert expected == await store.read("s1")
    assert [
        ItemKey("a", None, 1),
        ItemKey("a", "123", None),
        ItemKey("a", "0123", None),
        ItemKey("b", None, None),
        ItemKey("c", "123", None),
    ] == [i.key for i in expected.items]


async def test_finish_returns_the_summary_and_read_loads_the_run(store: SqliteRunStore) -> None:
    await store.begin(header(run_id="s1", dataset_revision=1, mode=LIVE, started_at_secs=50))
    await store.append(
        "s1",
        (
            item(fixture_id="a", model="m", live=True),
            item(fixture_id="b", model="m", live=True, passed=False),
        ),
    )
    summary = await store.finish("s1", ended_at_secs=70, item_order=[ItemKey("b", "m", None)])
    assert summary == EvalRunSummary(
        id="s1",
        dataset_id="ds",
        dataset_revision=1,
        execution_mode=LIVE,
        started_at_secs=50,
        item_count=2,
        passed_count=1,
        failed_count=1,
    )
    finished = await store.read("s1")
    assert (["b", "a"], 70) == ([i.fixture_id for i in finished.items], finished.ended_at_secs)
    assert [summary] == await store.list(EvalRunFilter())
    with pytest.raises(NotFound, match="no open eval run: s1"):
        await store.finish("s1", ended_at_secs=71)


@PROPERTY_SETTINGS
@given(
    batches=st.lists(
        st.lists(s.eval_run_items(cell=True), max_size=3, unique_by=lambda i: i.key), max_size=4
    ),
    order_seed=st.integers(0, 2**32 - 1),  # drawn up front: see tests/test_suite_rules.py
)
async def test_streaming_agrees_with_the_in_memory_store(
    store: SqliteRunStore, batches: list[list[EvalRunItem]], order_seed: int
) -> None:
    run_id = f"s{next(EXAMPLE_NUMBERS)}"
    memory = InMemoryRunStore()
    for target in (memory, store):
        await target.begin(header(run_id=run_id, mode=LIVE))
    appended: list[ItemKey] = []
    for batch in batches:
        outcomes = []
        for target in (memory, store):
            try:
                await target.append(run_id, tuple(batch))
                outcomes.append("ok")
            except DuplicateItemKeys as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1]
        if outcomes[0] == "ok":
            appended.extend(i.key for i in batch)
    assert await memory.present_keys(run_id) == await store.present_keys(run_id)
    order = appended[: len(appended) // 2]
    random.Random(order_seed).shuffle(order)  # noqa: S311 - a seeded test order
    summary = await memory.finish(run_id, ended_at_secs=1, item_order=order)
    assert summary == await store.finish(run_id, ended_at_secs=1, item_order=order)
    assert await memory.read(run_id) == await store.read(run_id)


async def test_begin_refuses_finished_and_open_runs_unless_resuming(store: SqliteRunStore) -> None:
    await store.write(run(run_id="done"))
    with pytest.raises(AlreadyExists):
        await store.begin(header(run_id="done", mode=LIVE))
    with pytest.raises(AlreadyExists):
        await store.begin(header(run_id="done", mode=LIVE), resume=True)
    await store.begin(header(run_id="s1", mode=LIVE))
    with pytest.raises(Conflict, match="already open; pass resume=True"):
        await store.begin(header(run_id="s1", mode=LIVE))
    for other in (
        header(run_id="s1", dataset_id="other", mode=LIVE),
        header(run_id="s1", dataset_revision=2, mode=LIVE),
        header(run_id="s1", mode=SCRIPTED),
    ):
        with pytest.raises(Conflict, match="another dataset, revision or mode"):
            await store.begin(other, resume=True)
    assert frozenset() == await store.begin(header(run_id="s1", mode=LIVE), resume=True)


async def test_resume_returns_the_present_keys(store: SqliteRunStore) -> None:
    # nothing to resume
    assert frozenset() == await store.begin(header(run_id="new", mode=LIVE), resume=True)
    await store.append(
        "new",
        (
            item(fixture_id="a", model="m", sample_index=0, live=True),
            item(fixture_id="a", model=None, sample_index=1, live=True),
        ),
    )
    expected = frozenset({ItemKey("a", "m", 0), ItemKey("a", None, 1)})
    assert expected == await store.begin(header(run_id="new", mode=LIVE), resume=True)
    assert expected == await store.present_keys("new")
    await store.finish("new", ended_at_secs=5)
    assert frozenset() == await store.present_keys("new")
    assert frozenset() == await store.present_keys("never")


async def test_append_and_finish_need_an_open_run(store: SqliteRunStore) -> None:
    with pytest.raises(NotFound, match="no open eval run: s1"):
        await store.append("s1", (item(fixture_id="a", model="m", live=True),))
    with pytest.raises(NotFound, match="no open eval run: s1"):
        await store.append("s1", ())
    with pytest.raises(NotFound, match="no open eval run: s1"):
        await store.finish("s1", ended_at_secs=1)
    await store.write(run(run_id="done"))
    with pytest.raises(NotFound, match="no open eval run: done"):
        await store.append("done", (item(fixture_id="a"),))
    await store.begin(header(run_id="s1", mode=LIVE))
    await store.finish("s1", ended_at_secs=1)
    with pytest.raises(NotFound, match="no open eval run: s1"):
        await store.finish("s1", ended_at_secs=2)


async def test_append_with_a_clashing_key_writes_nothing_of_the_batch(
    store: SqliteRunStore, db: Path
) -> None:
    await store.begin(header(run_id="s1", mode=LIVE))
    await store.append(
        "s1",
        (
            item(fixture_id="a", model="m", sample_index=0, live=True),
            item(fixture_id="b", model="m", sample_index=0, live=True),
        ),
    )
    # The first clash in batch order is named: "c" repeats within the batch only
    # after "b" clashed with a stored item.
    batch = (
        item(fixture_id="c", model="m", sample_index=0, live=True),
        item(fixture_id="b", model="m", sample_index=0, live=True),
        item(fixture_id="c", model="m", sample_index=0, live=True),
    )
    with pytest.raises(DuplicateItemKeys) as caught:
        await store.append("s1", batch)
    assert "duplicate eval-run item key: fixture 'b', model 'm', sample 0" == str(caught.value)
    with pytest.raises(DuplicateItemKeys, match="fixture 'c', model 'm', sample 1"):
        await store.append(
            "s1",
            (
                item(fixture_id="c", model="m", sample_index=1, live=True),
                item(fixture_id="c", model="m", sample_index=1, live=True),
            ),
        )
    assert [(2, 2)] == raw(db, "SELECT item_count, (SELECT count(*) FROM items) FROM runs")
    # the run is still usable
    await store.append("s1", (item(fixture_id="c", model="m", sample_index=0, live=True),))
    assert 3 == (await store.finish("s1", ended_at_secs=1)).item_count
    assert 3 == len((await store.read("s1")).items)


# -- corruption --------------------------------------------------------------------------------


async def test_a_corrupt_item_document_fails_read_and_is_skipped_by_list_full(
    store: SqliteRunStore, db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await store.write(run(run_id="good", items=(item(fixture_id="a"),), started_at_secs=1))
    await store.write(
        run(run_id="bad", items=(item(fixture_id="a"), item(fixture_id="b")), started_at_secs=2)
    )
    raw(db, "UPDATE items SET document = '{\"fixture_id\": ' WHERE run_id = 'bad' AND seq = 1")
    with pytest.raises(StoreFailure) as caught:
        await store.read("bad")
    message = str(caught.value)
    assert "eval run bad is corrupt" in message
    assert "item 1 (seq 1)" in message
    assert "invalid JSON" in message
    with caplog.at_level(logging.WARNING, logger="awaken_eval.stores"):
        assert ["good"] == [r.id for r in await store.list_full(EvalRunFilter())]
    assert ["awaken_eval.stores"] == [r.name for r in caplog.records]
    assert "skipping corrupt eval run bad" in caplog.records[0].getMessage()
    # Summaries come from the run rows alone: no item document is parsed for them.
    assert ["bad", "good"] == [r.id for r in await store.list(EvalRunFilter())]


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE runs SET execution_mode = 'bogus'", "execution_mode"),
        ("UPDATE runs SET dataset_revision = 'x'", "dataset_revision"),
        ("UPDATE runs SET item_count = 1", "passed_count <= item_count"),
        ("UPDATE runs SET passed_count = 'two'", "hold 2 and 'two'"),
        ("UPDATE runs SET dataset_id = x'01'", "dataset_id is not text"),
    ],
)
async def test_a_corrupt_run_row_fails_read_and_is_skipped_by_list(
    store: SqliteRunStore, db: Path, caplog: pytest.LogCaptureFixture, sql: str, problem: str
) -> None:
    await store.write(run(run_id="good", items=(item(fixture_id="a"),), started_at_secs=1))
    await store.write(
        run(run_id="bad", items=(item(fixture_id="a"), item(fixture_id="b")), started_at_secs=2)
    )
    raw(db, f"{sql} WHERE id = 'bad'")
    with pytest.raises(StoreFailure, match="eval run bad is corrupt") as caught:
        await store.read("bad")
    assert problem in str(caught.value)
    with caplog.at_level(logging.WARNING, logger="awaken_eval.stores"):
        assert ["good"] == [r.id for r in await store.list(EvalRunFilter(limit=1))]
        assert ["good"] == [r.id for r in await store.list_full(EvalRunFilter(limit=1))]
    assert 2 == len(caplog.records)
    assert all("skipping corrupt eval run bad" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("UPDATE items SET fixture_id = 'zz' WHERE seq = 1", "its document has key"),
        ("DELETE FROM items WHERE seq = 1", "the run row counts 2 items"),
        ("UPDATE runs SET passed_count = 0", "counts 0 passed items"),
        ("UPDATE runs SET fixture_digests = '[1'", "fixture_digests is not JSON"),
        ("UPDATE items SET document = CAST(document AS BLOB) WHERE seq = 1", "not text but bytes"),
        ('UPDATE items SET document = \'{"fixture_id": "b"}\' WHERE seq = 1', "report"),
        (
            "UPDATE items SET document = '{\"cell\":{},' || substr(document, 2) WHERE seq = 1",
            "execution_mode=scripted",
        ),
    ],
)
async def test_inconsistent_stored_data_is_reported_as_corrupt(
    store: SqliteRunStore, db: Path, sql: str, problem: str
) -> None:
    await store.write(run(run_id="bad", items=(item(fixture_id="a"), item(fixture_id="b"))))
    raw(db, sql)
    with pytest.raises(StoreFailure, match="eval run bad is corrupt") as caught:
        await store.read("bad")
    assert problem in str(caught.value)


# -- sharing the file, lifecycle, threads --------------------------------------------------------


async def test_a_new_store_object_sees_everything(db: Path) -> None:
    async with SqliteRunStore(db) as first:
        await first.write(run(run_id="done", items=(item(fixture_id="a"),)))
        await first.begin(header(run_id="s1", mode=LIVE))
        await first.append("s1", (item(fixture_id="a", model="m", sample_index=0, live=True),))
    async with SqliteRunStore(db) as second:
        assert run(run_id="done", items=(item(fixture_id="a"),)) == await second.read("done")
        assert frozenset({ItemKey("a", "m", 0)}) == await second.begin(
            header(run_id="s1", mode=LIVE), resume=True
        )
        await second.append("s1", (item(fixture_id="a", model="m", sample_index=1, live=True),))
        finished = await second.finish("s1", ended_at_secs=3)
        assert 2 == len((await second.read("s1")).items)
    assert 2 == finished.item_count
    async with SqliteRunStore(db) as third:
        assert ["done", "s1"] == sorted(r.id for r in await third.list(EvalRunFilter()))


async def test_concurrent_writers_of_one_id_exactly_one_wins(db: Path) -> None:
    stores = [SqliteRunStore(db) for _ in range(4)]
    outcomes: list[str] = []

    async def write(number: int) -> None:
        try:
            await stores[number].write(run(run_id="same", items=(item(fixture_id=f"f{number}"),)))
            outcomes.append("won")
        except AlreadyExists:
            outcomes.append("lost")

    async with anyio.create_task_group() as group:
        for number in range(4):
            group.start_soon(write, number)
    assert ["lost", "lost", "lost", "won"] == sorted(outcomes)
    assert 1 == len((await stores[0].read("same")).items)
    for store in stores:
        store.close()


async def test_blocking_calls_run_in_worker_threads(store: SqliteRunStore) -> None:
    threads: list[int] = []
    locked = store._locked

    def spy(what, operation):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        return locked(what, operation)

    store._locked = spy  # type: ignore[method-assign]
    await store.write(run(run_id="r1", items=(item(fixture_id="a"),)))
    await store.read("r1")
    await store.list(EvalRunFilter())
    assert 3 == len(threads)
    assert threading.get_ident() not in threads


async def test_a_forked_child_opens_its_own_connection(store: SqliteRunStore) -> None:
    await store.write(run(run_id="r1", items=(item(fixture_id="a"),)))
    inherited = store._connection
    store._pid = -1  # the connection was opened by another process (before a fork)
    assert "r1" == (await store.read("r1")).id
    assert store._connection is not inherited
    assert inherited is not None
    assert [(1,)] == inherited.execute("SELECT count(*) FROM runs").fetchall()  # left open


async def test_close_is_idempotent_and_later_calls_fail(db: Path) -> None:
    store = SqliteRunStore(db)
    await store.write(run(run_id="r1", items=(item(fixture_id="a"),)))
    await store.aclose()
    store.close()
    with pytest.raises(StoreFailure, match="closed"):
        await store.read("r1")
    async with SqliteRunStore(db) as reopened:
        assert "r1" == (await reopened.read("r1")).id
    with pytest.raises(StoreFailure, match="closed"):
        await reopened.list(EvalRunFilter())


async def test_text_that_is_not_valid_unicode_is_refused(store: SqliteRunStore) -> None:
    with pytest.raises(InvalidInput, match="surrogates"):
        await store.write(run(run_id="r1", dataset_id="\ud800"))
    assert [] == await store.list(EvalRunFilter())
