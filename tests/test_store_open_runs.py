"""Open runs and read-only stores: what ``runs list``/``runs show`` need (issue 12, 15 and 17).

An interrupted run stays open in its store; the memory, file and SQLite stores list and
read it through :class:`~awaken_eval.protocols.OpenRunReader`, and the file and SQLite
stores (and ``open_run_store``) can be opened read-only: nothing is created or written,
and every write is refused before it touches the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from awaken_eval import EvalRunExecutionMode, NotFound, StoreFailure, open_run_store
from awaken_eval.errors import InvalidRunId
from awaken_eval.protocols import OpenRunReader
from awaken_eval.records import EvalRunFilter, OpenRunSummary
from awaken_eval.stores import FileEvalRunStore, InMemoryRunStore, SqliteRunStore
from builders import T0, header, item
from builders import run as make_run

pytestmark = pytest.mark.anyio

AnyStore = InMemoryRunStore | FileEvalRunStore | SqliteRunStore


def open_store(kind: str, root: Path, *, read_only: bool = False) -> AnyStore:
    if kind == "memory":
        return InMemoryRunStore()
    if kind == "files":
        return FileEvalRunStore(root, read_only=read_only)
    return SqliteRunStore(root / "runs.sqlite3", read_only=read_only)


@pytest.fixture(params=["memory", "files", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AnyStore]:
    created = open_store(request.param, tmp_path)
    yield created
    if isinstance(created, SqliteRunStore):
        await created.aclose()


def entries(root: Path) -> list[Path]:
    return list(root.iterdir())


def mtimes(root: Path) -> dict[Path, int]:
    return {path: path.stat().st_mtime_ns for path in root.rglob("*")}


async def open_two(store: AnyStore) -> None:
    """An older open run of two items (one failed), a newer one of none, a finished one."""
    await store.write(make_run(run_id="done", items=(item(fixture_id="a"),)))
    await store.begin(header(run_id="older", started_at_secs=T0))
    await store.append("older", (item(fixture_id="a"), item(fixture_id="b", passed=False)))
    await store.begin(header(run_id="newer", dataset_id="other", started_at_secs=T0 + 5))


async def test_every_store_lists_and_reads_its_open_runs(store: AnyStore) -> None:
    assert isinstance(store, OpenRunReader)
    assert [] == await store.list_open()
    await open_two(store)
    older = OpenRunSummary(
        id="older",
        dataset_id="ds",
        dataset_revision=0,
        execution_mode=EvalRunExecutionMode.SCRIPTED,
        started_at_secs=T0,
        item_count=2,
        passed_count=1,
        failed_count=1,
    )
    listed = await store.list_open()
    assert ["newer", "older"] == [summary.id for summary in listed]
    assert older == listed[1]
    assert (0, "other") == (listed[0].item_count, listed[0].dataset_id)
    partial = await store.read_open("older")
    assert (["a", "b"], 0) == ([one.fixture_id for one in partial.items], partial.ended_at_secs)
    assert older == OpenRunSummary.from_run(partial)
    assert ["done"] == [summary.id for summary in await store.list(EvalRunFilter())]


async def test_a_finished_run_is_no_longer_open(store: AnyStore) -> None:
    await open_two(store)
    await store.finish("older", ended_at_secs=T0 + 9)
    assert ["newer"] == [summary.id for summary in await store.list_open()]
    for run_id in ("older", "done", "never"):
        with pytest.raises(NotFound, match=f"no open eval run: {run_id}"):
            await store.read_open(run_id)


async def test_read_open_validates_the_run_id(store: AnyStore) -> None:
    with pytest.raises(InvalidRunId):
        await store.read_open("../x")


async def test_a_torn_journal_line_is_not_an_item(tmp_path: Path) -> None:
    store = FileEvalRunStore(tmp_path)
    await store.begin(header(run_id="torn"))
    await store.append("torn", (item(fixture_id="a"),))
    items = tmp_path / "eval_runs" / ".open" / "torn" / "items.ndjson"
    with items.open("ab") as handle:
        handle.write(b'{"fixture_id": "b", "rep')
    assert 1 == (await store.list_open())[0].item_count
    assert ["a"] == [one.fixture_id for one in (await store.read_open("torn")).items]


@pytest.mark.parametrize("kind", ["files", "sqlite"])
async def test_a_read_only_store_reads_and_refuses_every_write(kind: str, tmp_path: Path) -> None:
    writer = open_store(kind, tmp_path)
    await open_two(writer)
    if isinstance(writer, SqliteRunStore):
        await writer.aclose()
    before = mtimes(tmp_path)
    reader = open_store(kind, tmp_path, read_only=True)
    assert isinstance(reader, FileEvalRunStore | SqliteRunStore)
    try:
        assert reader.read_only
        assert ["done"] == [summary.id for summary in await reader.list(EvalRunFilter())]
        assert "done" == (await reader.read("done")).id
        assert ["newer", "older"] == [summary.id for summary in await reader.list_open()]
        assert 2 == len((await reader.read_open("older")).items)
        refusals = [
            reader.write(make_run(run_id="new")),
            reader.begin(header(run_id="new")),
            reader.append("older", (item(fixture_id="c"),)),
            reader.finish("older", ended_at_secs=T0 + 9),
            reader.prune(T0 + 100),
        ]
        for refused in refusals:
            with pytest.raises(StoreFailure, match="the run store is open read-only"):
                await refused
    finally:
        if isinstance(reader, SqliteRunStore):
            await reader.aclose()
    # SQLite may add its shared-memory and log files; nothing that was there changed.
    after = mtimes(tmp_path)
    assert before == {path: after[path] for path in before}


async def test_sqlite_read_only_opens_with_mode_ro(tmp_path: Path) -> None:
    """The connection itself is read-only: SQLite refuses a write the store let through."""
    path = tmp_path / "runs.sqlite3"
    async with SqliteRunStore(path) as writer:
        await writer.write(make_run(run_id="done"))
    reader = SqliteRunStore(path, read_only=True)
    try:
        await reader.list(EvalRunFilter())
        connection = reader._connect()  # the connection under test
        with pytest.raises(Exception, match="readonly database"):
            connection.execute("DELETE FROM runs")
    finally:
        reader.close()


async def test_sqlite_read_only_refuses_a_file_it_would_have_to_migrate(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    path.write_bytes(b"")
    reader = SqliteRunStore(path, read_only=True)
    with pytest.raises(StoreFailure, match=r"schema version 0, .* cannot be migrated"):
        await reader.list(EvalRunFilter())
    assert 0 == path.stat().st_size


@pytest.mark.parametrize("url", ["sqlite:///{root}/runs.sqlite3", "file://{root}/runs"])
async def test_open_run_store_read_only_creates_nothing(tmp_path: Path, url: str) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        open_run_store(url.format(root=tmp_path), read_only=True)
    assert [] == entries(tmp_path)


@pytest.mark.parametrize(
    ("url", "cls"),
    [("sqlite:///{root}/runs.sqlite3", SqliteRunStore), ("file://{root}/runs", FileEvalRunStore)],
)
async def test_open_run_store_read_only_opens_a_read_only_store(
    tmp_path: Path, url: str, cls: type[AnyStore]
) -> None:
    writable = open_run_store(url.format(root=tmp_path))
    assert isinstance(writable, cls)
    await writable.write(make_run(run_id="done"))
    if isinstance(writable, SqliteRunStore):
        await writable.aclose()
    store = open_run_store(url.format(root=tmp_path), read_only=True)
    assert isinstance(store, FileEvalRunStore | SqliteRunStore)
    assert isinstance(store, cls)
    assert store.read_only
    try:
        assert "done" == (await store.read("done")).id
    finally:
        if isinstance(store, SqliteRunStore):
            await store.aclose()
