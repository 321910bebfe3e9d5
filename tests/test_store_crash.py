"""Crash safety, concurrent writers and corrupt data of the file and SQLite run stores.

* Kill loop: a child process writes runs and streams appends, acknowledging every call
  that returned on stdout; the test kills it with ``SIGKILL`` once it has read a seeded
  number of its acknowledgements (so where the kill lands depends on the seed, never on
  the machine's speed: the child is always mid-work, at most a few calls further on),
  then opens the store in-process and checks that it opens, that every listed run reads
  back complete (never a partially visible run), that every acknowledged write is there
  and that every acknowledged append is present when its run is resumed.
* Concurrent writers: processes released together write one run id with different
  payloads (and start months): exactly one wins, the others get ``AlreadyExists``.
* Corrupt data: a damaged run makes ``read`` fail naming the run, while ``list`` skips
  it and still lists the others.

The children are forked by one fork server (``tests/_store_worker.py``) started with
``sys.executable``, so a kill costs milliseconds rather than an interpreter start-up.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from _store_worker import (
    MAX_CHURN_OPS,
    ForkServer,
    Store,
    appender_keys,
    close_store,
    contender_run,
    open_store,
    stream_header,
    worker_item,
    written_run,
)
from awaken_eval import AlreadyExists, EvalRun, EvalRunSummary, ItemKey, StoreFailure
from awaken_eval.errors import DuplicateItemKeys, InvalidExecutionShape, InvalidRunId
from awaken_eval.records import EvalRunFilter
from awaken_eval.stores import FileEvalRunStore, SqliteRunStore

KINDS = ["files", "sqlite"]
KILLS_PER_STORE = 40
KILLS_PER_ROOT = 10
"""A fresh store every this many kills keeps each check small (the store grows)."""
MAX_ACKS_BEFORE_KILL = 40
"""A child is killed after a seeded number of acknowledged calls, from 0 to this."""
WRITERS = 4
CONTENTION_ROUNDS = 4


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkServer]:
    started = ForkServer(tmp_path_factory.mktemp("server") / "stderr.txt")
    yield started
    started.close()


# -- the kill loop ----------------------------------------------------------------------------


class Ledger:
    """What the children acknowledged, across every kill of one store."""

    def __init__(self) -> None:
        self.written: set[str] = set()
        self.appended: dict[str, set[ItemKey]] = {}
        self.finished: set[str] = set()
        self.stream = ""

    def record(self, ack: dict[str, object]) -> None:
        run = str(ack.get("run", ""))
        match ack["ack"]:
            case "write":
                self.written.add(run)
            case "begin":
                self.appended.setdefault(run, set())
                self.stream = run
            case "append":
                keys = ack["keys"]
                assert isinstance(keys, list)
                self.appended[run].update(ItemKey(str(one), None, None) for one in keys)
            case "finish":
                self.finished.add(run)


def check_run_is_complete(run: EvalRun, ledger: Ledger) -> None:
    """A stored run must be exactly what a child wrote, or a whole finished stream."""
    if run.dataset_id == "written":
        assert written_run(run.id) == run
        return
    assert stream_header(run.id).dataset_id == run.dataset_id
    assert [worker_item(one.fixture_id) for one in run.items] == list(run.items)
    assert ledger.appended.get(run.id, set()) <= {one.key for one in run.items}
    assert sorted(one.key for one in run.items) == [one.key for one in run.items]


async def check_store(kind: str, root: Path, ledger: Ledger) -> str:
    """Check the store after a kill; return the stream the next child should continue."""
    store = open_store(kind, root)
    try:
        summaries = await store.list(EvalRunFilter())
        listed = {summary.id for summary in summaries}
        assert len(listed) == len(summaries)
        for summary in summaries:
            run = await store.read(summary.id)
            assert EvalRunSummary.from_run(run) == summary
            check_run_is_complete(run, ledger)
        assert ledger.written <= listed
        assert ledger.finished <= listed
        for run_id, acknowledged in ledger.appended.items():
            if run_id in listed:
                continue
            present = await store.begin(stream_header(run_id), resume=True)
            assert acknowledged <= present, f"acknowledged appends of {run_id} were lost"
            assert present == await store.present_keys(run_id)
        if ledger.stream and ledger.stream not in listed:
            return ledger.stream
        return ""
    finally:
        await close_store(store)


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_never_loses_an_acknowledged_call_nor_shows_a_partial_run(
    server: ForkServer, tmp_path: Path, kind: str
) -> None:
    rng = random.Random(f"kill-{kind}")  # noqa: S311 - seeded kill points, not a secret
    targets = [rng.randint(0, MAX_ACKS_BEFORE_KILL) for _ in range(KILLS_PER_STORE)]
    assert MAX_ACKS_BEFORE_KILL < MAX_CHURN_OPS  # every target is reached before a child idles
    acknowledged_calls = 0
    for kill, target in enumerate(targets):
        root = tmp_path / f"store-{kill // KILLS_PER_ROOT}"
        if kill % KILLS_PER_ROOT == 0:
            ledger = Ledger()
            stream = "r0-stream"
        server.send(
            {
                "op": "churn",
                "kind": kind,
                "root": str(root),
                "seed": kill,
                "prefix": f"r{kill}-",
                "stream": stream,
            }
        )
        pid = None
        seen = 0  # calls of this child acknowledged so far
        while pid is None or seen < target:
            message = server.read()
            assert "exit" not in message, f"the child stopped early:\n{server.stderr()}"
            if "ack" in message:
                ledger.record(message)
                seen += message["ack"] != "open"
            pid = message.get("pid", pid)
        os.kill(pid, signal.SIGKILL)
        while "exit" not in (message := server.read()):
            ledger.record(message)
            seen += message["ack"] != "open"
        assert signal.SIGKILL == message["signal"], f"the child failed:\n{server.stderr()}"
        assert target <= seen
        acknowledged_calls += seen
        stream = anyio.run(check_store, kind, root, ledger) or f"r{kill}-next"
    # The kills landed while work was going on, not only before it started: each one
    # after its seeded number of acknowledged calls (a count, not a time).
    assert sum(targets) <= acknowledged_calls


# -- concurrent writers -------------------------------------------------------------------------


def data_files(root: Path) -> list[Path]:
    """The run files of a file store: ``*.json`` in the non-internal shard directories."""
    runs = root / "eval_runs"
    return [
        path
        for shard in runs.iterdir()
        if shard.is_dir() and not shard.name.startswith(".")
        for path in shard.iterdir()
        if path.name.endswith(".json") and not path.name.startswith(".")
    ]


def release(server: ForkServer, go: Path) -> dict[int, str]:
    """Wait until every writer is ready, let them go together, collect their results."""
    ready = 0
    while ready < WRITERS:
        ready += "ready" in server.read()
    go.touch()
    reports: list[dict[str, Any]] = []
    while "done" not in (message := server.read()):
        reports.append(message)
    # Asserted only now, so that the server's next answer starts a fresh exchange.
    assert [0] * WRITERS == message["statuses"], server.stderr()
    assert [] == [report for report in reports if report["result"] == "error"]
    return {report["writer"]: report["result"] for report in reports}


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_writers_of_one_run_id_have_exactly_one_winner(
    server: ForkServer, tmp_path: Path, kind: str
) -> None:
    root = tmp_path / "store"
    for round_number in range(CONTENTION_ROUNDS):
        run_id = f"contended {round_number}"
        go = tmp_path / f"go-{round_number}"
        server.send(
            {
                "op": "contend",
                "task": "write",
                "kind": kind,
                "root": str(root),
                "run_id": run_id,
                "writers": WRITERS,
                "go": str(go),
            }
        )
        results = release(server, go)
        assert ["ok"] == [result for result in results.values() if result == "ok"]
        assert WRITERS - 1 == sum(result == "exists" for result in results.values())
        (winner,) = (writer for writer, result in results.items() if result == "ok")
        stored = anyio.run(read_run, kind, root, run_id)
        assert contender_run(run_id, winner) == stored
    if kind == "files":
        assert CONTENTION_ROUNDS == len(data_files(root))
        assert [] == list(root.rglob("*.tmp"))


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_appenders_to_one_open_run_lose_nothing(
    server: ForkServer, tmp_path: Path, kind: str
) -> None:
    root = tmp_path / "store"
    anyio.run(begin_stream, kind, root, "shared stream")
    go = tmp_path / "go"
    server.send(
        {
            "op": "contend",
            "task": "append",
            "kind": kind,
            "root": str(root),
            "run_id": "shared stream",
            "writers": WRITERS,
            "go": str(go),
        }
    )
    assert dict.fromkeys(range(WRITERS), "ok") == release(server, go)
    run = anyio.run(finish_stream, kind, root, "shared stream")
    expected = {
        one for writer in range(WRITERS) for batch in appender_keys(writer) for one in batch
    }
    assert len(expected) == len(run.items)
    assert expected == {one.fixture_id for one in run.items}
    assert [worker_item(one.fixture_id) for one in run.items] == list(run.items)
    for writer in range(WRITERS):  # each writer's items in the order it appended them
        mine = [one.fixture_id for one in run.items if one.fixture_id.startswith(f"w{writer}-")]
        assert [one for batch in appender_keys(writer) for one in batch] == mine


async def begin_stream(kind: str, root: Path, run_id: str) -> None:
    store = open_store(kind, root)
    try:
        await store.begin(stream_header(run_id))
    finally:
        await close_store(store)


async def finish_stream(kind: str, root: Path, run_id: str) -> EvalRun:
    store = open_store(kind, root)
    try:
        summary = await store.finish(run_id, ended_at_secs=1)
        run = await store.read(run_id)
        assert EvalRunSummary.from_run(run) == summary
        return run
    finally:
        await close_store(store)


async def read_run(kind: str, root: Path, run_id: str) -> EvalRun:
    store = open_store(kind, root)
    try:
        return await store.read(run_id)
    finally:
        await close_store(store)


# -- corrupt data ---------------------------------------------------------------------------

BROKEN = "broken run"
OTHERS = ("before", "after")


async def write_runs(store: Store, *run_ids: str) -> None:
    for run_id in run_ids:
        await store.write(written_run(run_id))


def _run_file(root: Path, run_id: str) -> Path:
    (path,) = (path for path in data_files(root) if path.name == f"{run_id}.json")
    return path


def _document(root: Path, run_id: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_run_file(root, run_id).read_bytes())
    return document


def _replace_document(root: Path, run_id: str, document: object) -> None:
    _run_file(root, run_id).write_text(json.dumps(document))


def _duplicate_first_item(root: Path) -> None:
    document = _document(root, BROKEN)
    document["items"].append(document["items"][0])
    _replace_document(root, BROKEN, document)


def _live_without_cells(root: Path) -> None:
    _replace_document(root, BROKEN, {**_document(root, BROKEN), "execution_mode": "live"})


def _another_run_id(root: Path) -> None:
    _replace_document(root, BROKEN, {**_document(root, BROKEN), "id": "someone else"})


# name -> (damage done to the run file, error its read raises)
FILE_DAMAGES: dict[str, tuple[Callable[[Path], object], type[Exception]]] = {
    "truncated": (
        lambda root: _run_file(root, BROKEN).write_bytes(
            _run_file(root, BROKEN).read_bytes()[:200]
        ),
        StoreFailure,
    ),
    "not json": (
        lambda root: _run_file(root, BROKEN).write_bytes(b"\x00\xff garbage"),
        StoreFailure,
    ),
    "empty": (lambda root: _run_file(root, BROKEN).write_bytes(b""), StoreFailure),
    "not a run": (
        lambda root: _replace_document(root, BROKEN, {"id": BROKEN, "items": "nope"}),
        StoreFailure,
    ),
    "a list": (lambda root: _replace_document(root, BROKEN, [1, 2]), StoreFailure),
    "duplicate keys": (_duplicate_first_item, DuplicateItemKeys),
    "bad shape": (_live_without_cells, InvalidExecutionShape),
    "another id": (_another_run_id, InvalidRunId),
}


@pytest.mark.anyio
@pytest.mark.parametrize("damage", FILE_DAMAGES)
async def test_a_corrupt_run_file_fails_its_read_and_is_skipped_by_listings(
    tmp_path: Path, damage: str
) -> None:
    store = FileEvalRunStore(tmp_path)
    await write_runs(store, OTHERS[0], BROKEN, OTHERS[1])
    damage_file, error = FILE_DAMAGES[damage]
    damage_file(tmp_path)
    store = FileEvalRunStore(tmp_path)  # as another process would open it
    with pytest.raises(error, match=BROKEN):
        await store.read(BROKEN)
    assert sorted(OTHERS) == sorted(summary.id for summary in await store.list(EvalRunFilter()))
    assert sorted(OTHERS) == sorted(run.id for run in await store.list_full(EvalRunFilter()))
    assert written_run("after") == await store.read("after")
    # Pruning deletes only valid runs: the damaged file and its marker stay.
    assert len(OTHERS) == await store.prune(2**63)
    assert [f"{BROKEN}.json"] == [path.name for path in data_files(tmp_path)]
    with pytest.raises(AlreadyExists):
        await store.write(written_run(BROKEN))


def _sql(root: Path, statement: str, *parameters: object) -> None:
    with contextlib.closing(sqlite3.connect(root / "runs.sqlite3")) as connection, connection:
        assert 1 <= connection.execute(statement, parameters).rowcount


# name -> damage done with sqlite3 to a column a listing reads (of the run's row)...
SQLITE_SUMMARY_DAMAGES = {
    "start time": "update runs set started_at_secs = 'yesterday' where id = ?",
    "mode": "update runs set execution_mode = 'bogus' where id = ?",
    "counts": "update runs set passed_count = item_count + 1 where id = ?",
    "revision": "update runs set dataset_revision = '-1' where id = ?",
}
# ... or to data only loading the whole run reads (listings are built from run rows).
SQLITE_LOAD_DAMAGES = {
    "digests": "update runs set fixture_digests = '{not json' where id = ?",
    "truncated": "update items set document = substr(document, 1, 30) where run_id = ? and seq = 1",
    "not json": "update items set document = 'garbage' where run_id = ? and seq = 0",
    "not an item": "update items set document = '{\"fixture_id\": 3}' where run_id = ? and seq = 0",
    "key": "update items set fixture_id = 'moved' where run_id = ? and seq = 0",
    "missing item": "delete from items where run_id = ? and seq = 0",
}


@pytest.mark.anyio
@pytest.mark.parametrize("damage", [*SQLITE_SUMMARY_DAMAGES, *SQLITE_LOAD_DAMAGES])
async def test_a_corrupt_sqlite_run_fails_its_read_and_is_skipped_by_listings(
    tmp_path: Path, damage: str
) -> None:
    async with SqliteRunStore(tmp_path / "runs.sqlite3") as store:
        await write_runs(store, OTHERS[0], BROKEN, OTHERS[1])
    _sql(tmp_path, SQLITE_SUMMARY_DAMAGES.get(damage) or SQLITE_LOAD_DAMAGES[damage], BROKEN)
    async with SqliteRunStore(tmp_path / "runs.sqlite3") as store:
        with pytest.raises(StoreFailure, match=f"eval run {BROKEN} is corrupt"):
            await store.read(BROKEN)
        assert sorted(OTHERS) == sorted(run.id for run in await store.list_full(EvalRunFilter()))
        listed = sorted(summary.id for summary in await store.list(EvalRunFilter()))
        if damage in SQLITE_SUMMARY_DAMAGES:
            assert sorted(OTHERS) == listed
        else:
            assert sorted([*OTHERS, BROKEN]) == listed
        assert written_run("after") == await store.read("after")
