"""What only the PostgreSQL stores have: schema migration, faults, races, datasets.

The contract every run store honours is in ``test_store_contract.py`` (which runs on
PostgreSQL too). Here: the schema is created and migrated once however many openers
race; a backend killed with ``pg_terminate_backend`` in the middle of an append loses
no acknowledged item and leaves the run resumable; the pool survives every one of its
connections being terminated (what a server restart does to it: the server itself is
shared with other sessions, so it is not restarted); eight processes racing for one
run id have exactly one winner; datasets compare-and-swap their revision; open runs
can be listed and read; errors name the database without its password.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import psycopg
import pytest

import postgres_support
from _store_worker import contender_run
from awaken_eval import (
    Conflict,
    DatasetSpec,
    Fixture,
    InvalidRequest,
    ItemKey,
    NotFound,
    StoreFailure,
    open_run_store,
)
from awaken_eval.records import EvalRunFilter
from awaken_eval.stores import PostgresDatasetStore, PostgresRunStore
from builders import header, item

pytestmark = pytest.mark.anyio

WORKER = Path(__file__).parent / "_postgres_worker.py"
RACERS = 8


@pytest.fixture
def url() -> str:
    return postgres_support.fresh_url()


@pytest.fixture
async def store(url: str) -> AsyncIterator[PostgresRunStore]:
    async with PostgresRunStore(url) as opened:
        yield opened


def admin(url: str) -> psycopg.Connection[tuple[Any, ...]]:
    """A connection of the test's own to the store's database (no schema parameter)."""
    return psycopg.connect(url.partition("?")[0], autocommit=True)


def schema_of(url: str) -> str:
    return url.partition("?schema=")[2]


# -- schema --------------------------------------------------------------------------------


def test_concurrent_openers_create_the_schema_exactly_once(url: str) -> None:
    barrier = threading.Barrier(RACERS)
    errors: list[BaseException] = []

    def open_one() -> None:
        store = PostgresRunStore(url)
        barrier.wait()
        try:
            anyio.run(store.list, EvalRunFilter())
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=open_one) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == errors
    with admin(url) as connection:
        versions = connection.execute(
            f'SELECT version FROM "{schema_of(url)}".awaken_schema'  # noqa: S608
        ).fetchall()
    assert [(1,)] == versions


async def test_reopening_keeps_the_runs_and_the_version(url: str) -> None:
    async with PostgresRunStore(url) as first:
        await first.write(contender_run("kept", 1))
    async with PostgresRunStore(url) as second:
        assert contender_run("kept", 1) == await second.read("kept")


async def test_a_schema_of_a_newer_version_is_refused(url: str) -> None:
    async with PostgresRunStore(url):
        pass
    with admin(url) as connection:
        connection.execute(f'UPDATE "{schema_of(url)}".awaken_schema SET version = 99')  # noqa: S608
    store = PostgresRunStore(url)
    try:
        with pytest.raises(StoreFailure, match=r"version 99, newer .* upgrade awaken-eval"):
            await store.list(EvalRunFilter())
    finally:
        store.close()


async def test_opening_without_create_needs_an_existing_schema(url: str) -> None:
    store = open_run_store(url, create=False)
    assert isinstance(store, PostgresRunStore)
    try:
        with pytest.raises(NotFound, match="has no awaken-eval tables"):
            await store.list(EvalRunFilter())
    finally:
        await store.aclose()
    async with PostgresRunStore(url):
        pass
    store = open_run_store(url, create=False)
    assert isinstance(store, PostgresRunStore)
    try:
        assert [] == await store.list(EvalRunFilter())
    finally:
        await store.aclose()


async def test_errors_name_the_database_without_its_password() -> None:
    store = PostgresRunStore(
        "postgresql://someone:hunter2@127.0.0.1:1/nowhere", connect_timeout_secs=2
    )
    try:
        with pytest.raises(StoreFailure) as raised:
            await store.list(EvalRunFilter())
    finally:
        store.close()
    assert "postgresql://someone:***@127.0.0.1:1/nowhere" in str(raised.value)
    assert "hunter2" not in str(raised.value)


@pytest.mark.parametrize(
    ("bad_url", "message"),
    [
        ("postgresql://h/d?schema=", r"give \?schema= once"),
        ("postgresql://h/d?schema=a&schema=b", r"give \?schema= once"),
        ("mysql://h/d", "not a PostgreSQL URL"),
    ],
)
def test_malformed_urls_are_refused_when_the_store_is_made(bad_url: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        PostgresRunStore(bad_url)


async def test_a_closed_store_refuses_calls(store: PostgresRunStore) -> None:
    await store.aclose()
    with pytest.raises(StoreFailure, match="closed"):
        await store.list(EvalRunFilter())


# -- faults --------------------------------------------------------------------------------


def _backends(url: str, connection: psycopg.Connection[tuple[Any, ...]]) -> list[int]:
    """The store's backends: every other connection to the session database."""
    rows = connection.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND pid <> pg_backend_pid()"
    ).fetchall()
    return [row[0] for row in rows]


def _wait_for_blocked_append(url: str) -> int:
    """The backend of the append waiting for the run row's lock (polls the server).

    From a connection of its own in autocommit mode: within a transaction the
    statistics views are a snapshot that would never show the append arrive.
    """
    deadline = time.monotonic() + 60
    with admin(url) as connection:
        while time.monotonic() < deadline:
            row = connection.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE '%%UPDATE runs%%'"
            ).fetchone()
            if row is not None:
                return int(row[0])
            time.sleep(0.01)
    msg = "the append never reached the run row's lock"
    raise AssertionError(msg)


async def test_a_backend_terminated_mid_append_loses_no_acknowledged_item(
    url: str, store: PostgresRunStore
) -> None:
    await store.begin(header(run_id="s"))
    acknowledged = [item(fixture_id=f"a{index}") for index in range(5)]
    await store.append("s", tuple(acknowledged[:3]))
    await store.append("s", tuple(acknowledged[3:]))
    cut_off = (item(fixture_id="b0"), item(fixture_id="b1"))
    with admin(url) as blocker:
        # Hold the run row, so the next append is caught inside its transaction (its
        # first statement, the UPDATE of the run row, waits for the lock).
        blocker.execute("BEGIN")
        blocker.execute(
            f'SELECT 1 FROM "{schema_of(url)}".runs WHERE id = %s FOR UPDATE',  # noqa: S608
            ("s",),
        )
        failure: list[BaseException] = []

        async def append() -> None:
            try:
                await store.append("s", cut_off)
            except StoreFailure as exc:
                failure.append(exc)

        async with anyio.create_task_group() as group:
            group.start_soon(append)
            try:
                victim = await anyio.to_thread.run_sync(_wait_for_blocked_append, url)
                blocker.execute("SELECT pg_terminate_backend(%s)", (victim,))
            finally:  # never leave the append waiting for a lock nobody releases
                blocker.execute("ROLLBACK")
    assert 1 == len(failure)
    assert "append to eval run s" in str(failure[0])
    wanted = {one.key for one in acknowledged}
    # The same store (its pool replaced the dead connection) and a new one agree.
    assert wanted == await store.present_keys("s")
    async with PostgresRunStore(url) as other:
        assert wanted == await other.begin(header(run_id="s"), resume=True)
        await other.append("s", cut_off)
        await other.finish("s", ended_at_secs=1)
        run = await other.read("s")
    assert [*acknowledged, *cut_off] == list(run.items)


async def test_the_pool_survives_every_connection_being_terminated(
    url: str,
) -> None:
    async with PostgresRunStore(url, max_connections=3) as store:
        await store.write(contender_run("before", 0))
        for round_number in range(3):
            with admin(url) as connection:
                victims = _backends(url, connection)
                assert victims
                for pid in victims:
                    connection.execute("SELECT pg_terminate_backend(%s)", (pid,))
            # Every pooled connection is dead now, as after a server restart.
            listed = {summary.id for summary in await store.list(EvalRunFilter())}
            assert {"before", *(f"after {done}" for done in range(round_number))} == listed
            await store.write(contender_run(f"after {round_number}", 1))
        assert contender_run("after 2", 1) == await store.read("after 2")


def _race(url: str, task: str, run_id: str) -> dict[int, str]:
    """Start RACERS contender processes, release them together, collect their results."""
    racers = [
        subprocess.Popen(  # noqa: S603 - this interpreter, this test's worker
            [sys.executable, str(WORKER), url, task, run_id, str(writer)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=WORKER.parent,
        )
        for writer in range(RACERS)
    ]
    try:
        for racer in racers:
            assert racer.stdout is not None
            assert "ready" in json.loads(racer.stdout.readline())
        for racer in racers:
            assert racer.stdin is not None
            racer.stdin.write("go\n")
            racer.stdin.flush()
        results: dict[int, str] = {}
        for racer in racers:
            out, _ = racer.communicate(timeout=120)
            assert 0 == racer.returncode
            report = json.loads(out.strip().splitlines()[-1])
            results[report["writer"]] = report["result"]
        return results
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
                racer.wait()


def test_eight_processes_writing_one_run_id_have_exactly_one_winner(url: str) -> None:
    anyio.run(PostgresRunStore(url).__aenter__)  # the schema, made before the race
    results = _race(url, "write", "contended")
    winners = [writer for writer, result in results.items() if result == "ok"]
    assert 1 == len(winners)
    assert RACERS - 1 == sum(result == "exists" for result in results.values())

    async def stored() -> object:
        async with PostgresRunStore(url) as store:
            return await store.read("contended")

    assert contender_run("contended", winners[0]) == anyio.run(stored)


def test_eight_processes_beginning_one_run_id_have_exactly_one_winner(url: str) -> None:
    results = _race(url, "begin", "contended stream")
    assert 1 == sum(result == "ok" for result in results.values())
    assert RACERS - 1 == sum(result == "conflict" for result in results.values())


# -- open runs ----------------------------------------------------------------------------


async def test_open_runs_are_listed_and_read_with_their_items_so_far(
    store: PostgresRunStore,
) -> None:
    await store.begin(header(run_id="b"))
    await store.begin(header(run_id="a"))
    await store.append("a", (item(fixture_id="x"), item(fixture_id="y", passed=False)))
    await store.write(contender_run("finished", 0))
    summaries = await store.list_open()
    assert ["b", "a"] == [summary.id for summary in summaries]  # newest first, ties by id desc
    assert (2, 1) == (summaries[1].item_count, summaries[1].passed_count)
    run = await store.read_open("a")
    assert [ItemKey("x", None, None), ItemKey("y", None, None)] == [one.key for one in run.items]
    with pytest.raises(NotFound):
        await store.read_open("finished")
    await store.finish("a", ended_at_secs=1)
    assert ["b"] == [summary.id for summary in await store.list_open()]


async def test_a_listing_pages_through_many_runs_in_order(store: PostgresRunStore) -> None:
    # More runs than one page of the keyset listing, many with the same start time.
    for index in range(1_203):
        run = contender_run(f"r{index:05d}", index % 2)
        await store.write(run)
    listed = [summary.id for summary in await store.list(EvalRunFilter())]
    expected = sorted(
        (f"r{index:05d}" for index in range(1_203)),
        key=lambda run_id: (contender_run(run_id, int(run_id[1:]) % 2).started_at_secs, run_id),
        reverse=True,
    )
    assert expected == listed
    assert expected[:700] == [summary.id for summary in await store.list(EvalRunFilter(limit=700))]


# -- datasets -----------------------------------------------------------------------------


@pytest.fixture
async def datasets(url: str) -> AsyncIterator[PostgresDatasetStore]:
    async with PostgresDatasetStore(url) as opened:
        yield opened


def spec(text: str) -> DatasetSpec:
    return DatasetSpec(description=text, fixtures=(Fixture(id="f", user_input=f"say {text}"),))


def test_concurrent_puts_of_one_revision_have_exactly_one_winner(url: str) -> None:
    anyio.run(lambda: PostgresDatasetStore(url).put("d", spec("0"), expected_revision=None))
    barrier = threading.Barrier(RACERS)
    results: list[str] = []

    def put(writer: int) -> None:
        store = PostgresDatasetStore(url)
        try:
            anyio.run(store.get, "d")  # connected before the race
            barrier.wait()
            try:
                anyio.run(lambda: store.put("d", spec(str(writer)), expected_revision=0))
                results.append(f"won {writer}")
            except Conflict:
                results.append("conflict")
        finally:
            store.close()

    threads = [threading.Thread(target=put, args=(writer,)) for writer in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [result for result in results if result.startswith("won")]
    assert 1 == len(winners)
    assert RACERS - 1 == results.count("conflict")
    record = anyio.run(PostgresDatasetStore(url).get, "d")
    assert (spec(winners[0].split()[1]), 1) == (record.spec, record.revision)


def test_concurrent_appenders_to_one_open_run_lose_nothing(url: str) -> None:
    anyio.run(lambda: PostgresRunStore(url).begin(header(run_id="shared")))
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def append_batches(writer: int) -> None:
        async def work() -> None:
            async with PostgresRunStore(url) as store:
                await store.present_keys("shared")
                barrier.wait()
                for batch in range(10):
                    batch_items = tuple(
                        item(fixture_id=f"w{writer}-b{batch}-i{index}") for index in range(5)
                    )
                    await store.append("shared", batch_items)

        try:
            anyio.run(work)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=append_batches, args=(writer,)) for writer in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == errors

    async def finish() -> list[str]:
        async with PostgresRunStore(url) as store:
            await store.finish("shared", ended_at_secs=1)
            return [one.fixture_id for one in (await store.read("shared")).items]

    stored = anyio.run(finish)
    assert 200 == len(stored) == len(set(stored))
    for writer in range(4):  # each writer's items in the order it appended them
        mine = [one for one in stored if one.startswith(f"w{writer}-")]
        expected = [f"w{writer}-b{b}-i{i}" for b in range(10) for i in range(5)]
        assert expected == mine


# -- read-back checks ---------------------------------------------------------------------

CORRUPTIONS = {
    "item document": (
        "UPDATE {s}.items SET document = '{{\"fixture_id\": 7}}' WHERE seq = 1",
        "item 1",
    ),
    "item key": ("UPDATE {s}.items SET fixture_id = 'zz'::bytea WHERE seq = 0", "its row"),
    "item count": ("UPDATE {s}.runs SET item_count = 9", "counts 9 items"),
    "dataset id": ("UPDATE {s}.runs SET dataset_id = '\\xff'::bytea", "not UTF-8"),
    "mode": ("UPDATE {s}.runs SET execution_mode = 'sideways'", "execution_mode"),
}


@pytest.mark.parametrize("damage", CORRUPTIONS)
async def test_a_corrupt_run_fails_its_read_and_is_skipped_by_listings(
    url: str, store: PostgresRunStore, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    broken = contender_run("broken", 2)  # three items
    await store.write(broken)
    await store.write(contender_run("fine", 1))
    statement, message = CORRUPTIONS[damage]
    with admin(url) as connection:
        connection.execute(
            statement.format(s=f'"{schema_of(url)}"')
            + (" WHERE id = 'broken'" if "runs" in statement else " AND run_id = 'broken'")
        )
    with pytest.raises(StoreFailure, match=message) as raised:
        await store.read("broken")
    assert "eval run broken is corrupt" in str(raised.value)
    full = await store.list_full(EvalRunFilter())
    assert ["fine"] == [run.id for run in full]
    assert "skipping corrupt eval run broken" in caplog.text
