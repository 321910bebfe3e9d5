"""Benchmark: the SQLite, PostgreSQL and file run stores side by side (in-memory as reference).

Two measurements, each printed with its same-run floor, the ratio and, where there is a
target, PASS/MISS:

(a) **whole runs** — ``write``, ``read`` and ``list`` of ``--runs`` runs of ``--items``
    items each (scripted, a third of the items failing, about 1 kB of JSON per item),
    one call at a time as a host makes them, wall-clock runs/s. Floors, timed in the
    same run on the same documents: ``json.dumps`` of each run's builtins (computed
    beforehand, so our serializer's own cost is part of the store's ratio), written to
    one file per run, plain and durable (file and directory ``fsync``, as the file
    store does), or inserted into one SQLite table in WAL mode with the store's
    ``synchronous=NORMAL``, with ``executemany`` in one transaction and with one
    transaction per run (the store's granularity); reads and listings parse every
    document with ``json.loads``. SQLite / files ratios are printed for every operation.
    PostgreSQL (the server ``--postgres`` names, in a scratch database dropped at the
    end) has two floors on the same server: the documents inserted with
    ``executemany``, one transaction per run (the store's granularity), and all of them
    in one ``COPY``; reads and listings parse every document. PostgreSQL / SQLite
    ratios are printed too.
(b) **one long streamed run** — ``--stream-items`` items appended to one run in batches
    of ``--batch`` (``run_eval`` appends at most 64 at a time), then the run is resumed
    by a new store instance (``begin(..., resume=True)``, as a restarted process does)
    and finished (``finish`` returns the run's summary). Each store runs in a fresh
    subprocess that prints its peak RSS (``ru_maxrss``): target < 300 MB for the
    SQLite and file stores. Floors, each in its own subprocess too: every batch's items
    as JSON lines appended to one file and ``fsync``\\ ed (as the file store does), and
    the same rows inserted with ``executemany``, one transaction per batch
    (``synchronous=NORMAL``, as the SQLite store), and the same rows ``COPY``\\ ed into a
    PostgreSQL table, one transaction per batch; resuming reads every key back.
    Target < 300 MB for the PostgreSQL store too.
    (Smoke runs start these processes all at once; measuring runs one at a time.)

Timings are wall-clock (the stores do I/O); the machine may be shared, so compare the
ratios. The script always exits 0.

Usage::

    python benchmarks/bench_stores.py               # 10,000 runs x 10 items, 1,000,000 streamed
    python benchmarks/bench_stores.py --smoke       # tiny sizes, a few seconds
    python benchmarks/bench_stores.py --postgres postgresql://user@host/db

Without a reachable PostgreSQL server the PostgreSQL columns are skipped (said so).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import random
import resource
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import anyio
import psycopg

from awaken_eval import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    ReplayOutcome,
    ReplayReport,
    to_builtins,
)
from awaken_eval.failures import AnswerMissingPhrase
from awaken_eval.records import EvalRunFilter, RunHeader
from awaken_eval.stores import (
    FileEvalRunStore,
    InMemoryRunStore,
    PostgresRunStore,
    SqliteRunStore,
)

RSS_TARGET_MB = 300.0
STORES = ("memory", "files", "sqlite", "postgres")
DEFAULT_POSTGRES = os.environ.get(
    "AWAKEN_EVAL_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)
POSTGRES: dict[str, str] = {}
"""``url``: the scratch database of this benchmark (set by ``main`` or a child's options)."""
T0 = 1_700_006_400
STREAM_ID = "01JSTREAMBENCHRUN000000000"
WORDS = (
    "the order has shipped",
    "and should arrive within three business days",
    "according to the tracking service",
    "the forecast shows light rain",
    "I could not find a matching document",
    "please confirm the account number",
)

AnyStore = InMemoryRunStore | FileEvalRunStore | SqliteRunStore | PostgresRunStore


def open_store(kind: str, root: Path) -> AnyStore:
    """A store of ``kind`` under ``root`` (PostgreSQL: a schema named after it)."""
    if kind == "memory":
        return InMemoryRunStore()
    if kind == "files":
        return FileEvalRunStore(root)
    if kind == "postgres":
        return PostgresRunStore(f"{POSTGRES['url']}?schema={_schema(root)}")
    return SqliteRunStore(root / "runs.sqlite3")


def _schema(root: Path) -> str:
    return "bench_" + root.name.replace("-", "_")


async def close_store(store: object) -> None:
    """Close the SQLite store's connection, the PostgreSQL store's pool."""
    if isinstance(store, SqliteRunStore | PostgresRunStore):
        await store.aclose()


def postgres_scratch(url: str) -> str | None:
    """Create a scratch database on the server ``url`` names; its URL, or None (no server)."""
    name = f"awaken_bench_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL: skipped, no server at {url} ({str(exc).strip()})")
        return None
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def drop_scratch(url: str, scratch: str) -> None:
    """Drop the scratch database."""
    name = urlsplit(scratch).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pg_connect(root: Path) -> psycopg.Connection[Any]:
    """A plain connection for a floor, in a schema of its own."""
    connection = psycopg.connect(POSTGRES["url"], autocommit=True)
    connection.execute(f"CREATE SCHEMA {_schema(root)}")
    connection.execute(f"SET search_path TO {_schema(root)}")
    return connection


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator > 0 else "-"


# -- data -------------------------------------------------------------------------------------


def make_item(fixture_id: str, rng: random.Random) -> EvalRunItem:
    """A scripted item with a few sentences of answer; a third of them fail."""
    text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
    outcome = ReplayOutcome(fixture_id=fixture_id, final_text=text, elapsed_seconds=0.25)
    failures = [AnswerMissingPhrase(rng.choice(WORDS))] if rng.random() < 1 / 3 else []
    return EvalRunItem(fixture_id, report=ReplayReport.from_outcome(outcome, failures))


def make_runs(count: int, items: int, seed: int = 7) -> list[EvalRun]:
    """``count`` runs of ``items`` items over a few datasets and about two years."""
    rng = random.Random(seed)
    runs = []
    for index in range(count):
        started = T0 - rng.randrange(0, 2 * 365 * 86_400)
        run_items = tuple(make_item(f"fixture-{number:03d}", rng) for number in range(items))
        runs.append(
            EvalRun(
                id=f"run-{index:06d}",
                dataset_id=f"dataset-{index % 7}",
                dataset_revision=index % 5,
                execution_mode=EvalRunExecutionMode.SCRIPTED,
                items=run_items,
                started_at_secs=started,
                ended_at_secs=started + 30,
                fixture_digests={item.fixture_id: "0" * 64 for item in run_items},
            )
        )
    return runs


# -- (a) whole runs ---------------------------------------------------------------------------


def timed(function: Callable[[], object]) -> float:
    """Wall-clock seconds of one call (the collector emptied first)."""
    gc.collect()
    started = time.perf_counter()
    function()
    return time.perf_counter() - started


def timed_async(function: Callable[[], Awaitable[object]]) -> float:
    """Wall-clock seconds of one ``anyio.run`` of ``function``."""
    return timed(lambda: anyio.run(function))


def measure_store(kind: str, runs: list[EvalRun], root: Path) -> dict[str, float]:
    """Seconds to write every run, read every run (shuffled), list all and list 20.

    Timed inside one event loop (its start-up is not charged to the store).
    """
    order = [run.id for run in runs]
    random.Random(3).shuffle(order)
    result: dict[str, float] = {}

    async def timed_step(name: str, step: Callable[[], Awaitable[object]]) -> None:
        gc.collect()
        started = time.perf_counter()
        await step()
        result[name] = time.perf_counter() - started

    async def measure() -> None:
        store = open_store(kind, root)

        async def write_all() -> None:
            for run in runs:
                await store.write(run)

        async def read_all() -> None:
            for run_id in order:
                await store.read(run_id)

        async def list_all() -> None:
            listed = await store.list(EvalRunFilter())
            assert len(listed) == len(runs)

        await timed_step("write", write_all)
        await timed_step("read", read_all)
        await timed_step("list", list_all)
        await timed_step("list 20", lambda: store.list(EvalRunFilter(limit=20)))
        await close_store(store)

    anyio.run(measure)
    return result


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_files(paths: list[Path], documents: list[tuple[EvalRun, Any]], *, durable: bool) -> None:
    """Write each document pretty-printed to its own new file (and fsync, if durable)."""
    for path, (_, builtins) in zip(paths, documents, strict=True):
        data = json.dumps(builtins, ensure_ascii=False, indent=2).encode()
        with path.open("xb") as file:
            file.write(data)
            if durable:
                file.flush()
                os.fsync(file.fileno())
        if durable:
            _fsync_directory(path.parent)


def measure_file_floor(
    documents: list[tuple[EvalRun, Any]], root: Path, *, durable: bool
) -> dict[str, float]:
    """The same documents as plain JSON files, one per run, in monthly directories."""
    paths = []
    for run, _ in documents:
        shard = root / time.strftime("%Y-%m", time.gmtime(run.started_at_secs))
        shard.mkdir(parents=True, exist_ok=True)
        paths.append(shard / f"{run.id}.json")
    order = list(range(len(documents)))
    random.Random(3).shuffle(order)

    def write_all() -> None:
        write_files(paths, documents, durable=durable)

    def read_all() -> None:
        for index in order:
            json.loads(paths[index].read_bytes())

    def list_all() -> None:
        for shard in root.iterdir():
            for path in shard.iterdir():
                json.loads(path.read_bytes())

    return {"write": timed(write_all), "read": timed(read_all), "list": timed(list_all)}


def measure_sqlite_floor(
    documents: list[tuple[EvalRun, Any]], root: Path, *, per_run: bool
) -> dict[str, float]:
    """The same documents in one SQLite table (WAL, ``synchronous=NORMAL`` as the store).

    ``per_run``: one transaction per run (the store's granularity); else ``executemany``
    in one transaction. The JSON is dumped inside the timed part, as the file floor does.
    """
    connection = sqlite3.connect(root / "floor.sqlite3", isolation_level=None)
    connection.execute("pragma journal_mode=wal")
    connection.execute("pragma synchronous=normal")
    connection.execute(
        "create table runs (id text primary key, dataset_id text, started integer, doc text)"
    )
    insert = "insert into runs values (?, ?, ?, ?)"
    order = [documents[index][0].id for index in range(len(documents))]
    random.Random(3).shuffle(order)

    def row(run: EvalRun, builtins: Any) -> tuple[str, str, int, str]:
        doc = json.dumps(builtins, ensure_ascii=False)
        return (run.id, run.dataset_id, run.started_at_secs, doc)

    def write_all() -> None:
        if per_run:
            for run, builtins in documents:
                connection.execute("begin immediate")
                connection.execute(insert, row(run, builtins))
                connection.execute("commit")
        else:
            connection.execute("begin")
            connection.executemany(insert, (row(run, builtins) for run, builtins in documents))
            connection.execute("commit")

    def read_all() -> None:
        for run_id in order:
            (doc,) = connection.execute("select doc from runs where id = ?", (run_id,)).fetchone()
            json.loads(doc)

    def list_all() -> None:
        for (doc,) in connection.execute("select doc from runs order by started desc, id desc"):
            json.loads(doc)

    result = {"write": timed(write_all), "read": timed(read_all), "list": timed(list_all)}
    connection.close()
    return result


def measure_postgres_floor(
    documents: list[tuple[EvalRun, Any]], root: Path, *, per_run: bool
) -> dict[str, float]:
    """The same documents in one PostgreSQL table (a ``json`` column, as the store).

    ``per_run``: one ``executemany`` transaction per run (the store's granularity); else
    one ``COPY`` of every run. The JSON is dumped inside the timed part.
    """
    connection = pg_connect(root)
    connection.execute(
        "create table runs (id text primary key, dataset_id text, started bigint, doc json)"
    )
    order = [documents[index][0].id for index in range(len(documents))]
    random.Random(3).shuffle(order)

    def row(run: EvalRun, builtins: Any) -> tuple[str, str, int, str]:
        doc = json.dumps(builtins, ensure_ascii=False)
        return (run.id, run.dataset_id, run.started_at_secs, doc)

    def write_all() -> None:
        if per_run:
            for run, builtins in documents:
                with connection.transaction(), connection.cursor() as cursor:
                    cursor.executemany(
                        "insert into runs values (%s, %s, %s, %s)", [row(run, builtins)]
                    )
        else:
            with connection.cursor() as cursor, cursor.copy("copy runs from stdin") as copy:
                for run, builtins in documents:
                    copy.write_row(row(run, builtins))

    def read_all() -> None:
        for run_id in order:
            query = "select doc::text from runs where id = %s"
            (doc,) = connection.execute(query, (run_id,)).fetchone() or ("",)
            json.loads(doc)

    def list_all() -> None:
        query = "select doc::text from runs order by started desc, id desc"
        for (doc,) in connection.execute(query):
            json.loads(doc)

    result = {"write": timed(write_all), "read": timed(read_all), "list": timed(list_all)}
    connection.close()
    return result


def bench_whole_runs(count: int, items: int, stores: list[str], work: Path) -> None:
    """Part (a)."""
    print(f"\n(a) whole runs: {count:,} runs x {items} items, wall clock, one call at a time")
    runs = make_runs(count, items)
    documents = [(run, to_builtins(run)) for run in runs]
    size = sum(len(json.dumps(builtins)) for _, builtins in documents) / count
    print(f"    about {size / 1024:.1f} kB of JSON per run")
    results: dict[str, dict[str, float]] = {}
    for kind in stores:
        results[kind] = measure_store(kind, runs, work / f"a-{kind}")
    floors = {
        "file plain": measure_file_floor(documents, _fresh(work / "a-floor-files"), durable=False),
        "file fsync": measure_file_floor(documents, _fresh(work / "a-floor-files-d"), durable=True),
        "sqlite 1 txn": measure_sqlite_floor(
            documents, _fresh(work / "a-floor-sql"), per_run=False
        ),
        "sqlite txn/run": measure_sqlite_floor(
            documents, _fresh(work / "a-floor-sql-d"), per_run=True
        ),
    }
    if "postgres" in stores:
        floors["pg COPY"] = measure_postgres_floor(documents, work / "a-floor-pg", per_run=False)
        floors["pg txn/run"] = measure_postgres_floor(
            documents, work / "a-floor-pg-d", per_run=True
        )
    print(
        f"    {'':16} {'write runs/s':>13} {'read runs/s':>12} {'list all (s)':>13} {'list 20 (s)':>12}"
    )
    for name, numbers in [*results.items(), *floors.items()]:
        label = name if name in floors else f"{name} store"
        list_some = f"{numbers['list 20']:12.4f}" if "list 20" in numbers else f"{'-':>12}"
        print(
            f"    {label:16} {count / numbers['write']:13,.0f} {count / numbers['read']:12,.0f}"
            f" {numbers['list']:13.3f} {list_some}"
        )
    pairs = [
        ("files", "file fsync"),
        ("files", "file plain"),
        ("sqlite", "sqlite txn/run"),
        ("sqlite", "sqlite 1 txn"),
        ("postgres", "pg txn/run"),
        ("postgres", "pg COPY"),
    ]
    for kind, floor in pairs:
        if kind in results:
            ours, base = results[kind], floors[floor]
            print(
                f"    {kind} store / {floor + ' floor':20} write {_ratio(ours['write'], base['write'])}"
                f"  read {_ratio(ours['read'], base['read'])}  list {_ratio(ours['list'], base['list'])}"
            )
    for one, other in (("sqlite", "files"), ("postgres", "sqlite")):
        if one in results and other in results:
            print(
                f"    {one} / {other} (time): "
                + "  ".join(
                    f"{op} {_ratio(results[one][op], results[other][op])}"
                    for op in ("write", "read", "list", "list 20")
                )
            )


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# -- (b) one long streamed run -----------------------------------------------------------------


def stream_header() -> RunHeader:
    """The header of the streamed run."""
    return RunHeader(
        id=STREAM_ID,
        dataset_id="stream",
        dataset_revision=1,
        execution_mode=EvalRunExecutionMode.SCRIPTED,
        started_at_secs=T0,
    )


def stream_batches(total: int, batch: int) -> Any:
    """The items of the streamed run, one batch (tuple) at a time, built lazily."""
    rng = random.Random(11)
    for start in range(0, total, batch):
        yield tuple(
            make_item(f"fixture-{index:07d}", rng)
            for index in range(start, min(total, start + batch))
        )


def _peak_rss_mb() -> float:
    """Peak resident set size of this process, in MB.

    ``VmHWM`` of ``/proc/self/status`` where there is one: unlike ``ru_maxrss``, which
    Linux carries over from the parent across ``fork`` and ``exec``, it starts afresh in
    each new program.
    """
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


async def stream_child(kind: str, root: Path, total: int, batch: int) -> dict[str, float]:
    """Stream ``total`` items into one run, resume it from a new instance, finish it."""
    baseline = _peak_rss_mb()
    store = open_store(kind, root)
    header = stream_header()
    await store.begin(header)
    appending = 0.0
    for items in stream_batches(total, batch):
        started = time.perf_counter()
        await store.append(STREAM_ID, items)
        appending += time.perf_counter() - started
    if kind == "memory":
        resumed = store
    else:  # as a restarted process would: the appending instance is gone
        await close_store(store)
        del store
        gc.collect()
        resumed = open_store(kind, root)
    started = time.perf_counter()
    present = await resumed.begin(header, resume=True)
    resuming = time.perf_counter() - started
    assert len(present) == total, (len(present), total)
    del present
    before_finish = _peak_rss_mb()
    started = time.perf_counter()
    summary = await resumed.finish(STREAM_ID, ended_at_secs=T0 + 1)
    assert summary.item_count == total
    finishing = time.perf_counter() - started
    await close_store(resumed)
    return {
        "append": appending,
        "resume": resuming,
        "finish": finishing,
        "baseline_mb": baseline,
        "before_finish_mb": before_finish,
        "peak_mb": _peak_rss_mb(),
    }


def floor_child(kind: str, root: Path, total: int, batch: int) -> dict[str, float]:
    """The floor of part (b): plain JSON lines or plain SQLite rows, then read keys back."""
    baseline = _peak_rss_mb()
    appending = 0.0
    if kind == "floor-files":
        path = root / "items.ndjson"
        with path.open("ab") as file:
            for items in stream_batches(total, batch):
                started = time.perf_counter()
                builtins = to_builtins(items)
                file.write(
                    "".join(json.dumps(one, ensure_ascii=False) + "\n" for one in builtins).encode()
                )
                file.flush()
                os.fsync(file.fileno())
                appending += time.perf_counter() - started
        started = time.perf_counter()
        with path.open("rb") as file:
            keys = {json.loads(line)["fixture_id"] for line in file}
    elif kind == "floor-postgres":
        pg = pg_connect(root)
        pg.execute("create table items (run_id text, seq bigint, fixture_id text, doc json)")
        seq = 0
        for items in stream_batches(total, batch):
            started = time.perf_counter()
            with (
                pg.transaction(),
                pg.cursor() as cursor,
                cursor.copy("copy items from stdin") as copy,
            ):
                for one, builtins in zip(items, to_builtins(items), strict=True):
                    doc = json.dumps(builtins, ensure_ascii=False)
                    copy.write_row((STREAM_ID, seq, one.fixture_id, doc))
                    seq += 1
            appending += time.perf_counter() - started
        started = time.perf_counter()
        query = "select fixture_id from items where run_id = %s"
        keys = {row[0] for row in pg.execute(query, (STREAM_ID,))}
        pg.close()
    else:
        connection = sqlite3.connect(root / "floor.sqlite3", isolation_level=None)
        connection.execute("pragma journal_mode=wal")
        connection.execute("pragma synchronous=normal")  # the store's default
        connection.execute(
            "create table items (run_id text, seq integer, fixture_id text, doc text)"
        )
        seq = 0
        for items in stream_batches(total, batch):
            started = time.perf_counter()
            rows = []
            for one, builtins in zip(items, to_builtins(items), strict=True):
                rows.append(
                    (STREAM_ID, seq, one.fixture_id, json.dumps(builtins, ensure_ascii=False))
                )
                seq += 1
            connection.execute("begin immediate")
            connection.executemany("insert into items values (?, ?, ?, ?)", rows)
            connection.execute("commit")
            appending += time.perf_counter() - started
        started = time.perf_counter()
        keys = {
            row[0]
            for row in connection.execute(
                "select fixture_id from items where run_id = ?", (STREAM_ID,)
            )
        }
        connection.close()
    resuming = time.perf_counter() - started
    assert len(keys) == total
    peak = _peak_rss_mb()
    return {
        "append": appending,
        "resume": resuming,
        "finish": 0.0,
        "baseline_mb": baseline,
        "before_finish_mb": peak,
        "peak_mb": peak,
    }


def run_child(options: dict[str, Any]) -> None:
    """Entry point of a part (b) subprocess: print one JSON line of results."""
    kind, root = options["kind"], Path(options["root"])
    total, batch = options["total"], options["batch"]
    POSTGRES.update(options["postgres"])
    if kind.startswith("floor-"):
        result = floor_child(kind, root, total, batch)
    else:
        result = anyio.run(stream_child, kind, root, total, batch)
    print(json.dumps(result), flush=True)


LABELS = {
    "memory": "memory store",
    "files": "files store",
    "sqlite": "sqlite store",
    "postgres": "postgres store",
    "floor-files": "floor files",
    "floor-sqlite": "floor sqlite",
    "floor-postgres": "floor postgres COPY",
}


def _start_child(kind: str, work: Path, total: int, batch: int) -> subprocess.Popen[str]:
    root = _fresh(work / f"b-{kind}")
    options = json.dumps(
        {"kind": kind, "root": str(root), "total": total, "batch": batch, "postgres": POSTGRES}
    )
    return subprocess.Popen(  # noqa: S603 - this very script
        [sys.executable, __file__, "--child", options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def bench_stream(
    total: int, batch: int, stores: list[str], work: Path, *, parallel: bool = False
) -> None:
    """Part (b): one subprocess per store and per floor."""
    print(
        f"\n(b) one streamed run: {total:,} items in batches of {batch}, resumed, finished;"
        " a fresh process each"
    )
    kinds = [
        *stores,
        *(f"floor-{kind}" for kind in ("files", "sqlite", "postgres") if kind in stores),
    ]
    results: dict[str, dict[str, float]] = {}
    # Smoke runs start every process at once (only that the script works matters then);
    # measuring runs start one after the other, so that they do not disturb each other.
    batches = [kinds] if parallel else [[kind] for kind in kinds]
    for batch_kinds in batches:
        started = {kind: _start_child(kind, work, total, batch) for kind in batch_kinds}
        for kind, process in started.items():
            stdout, stderr = process.communicate()
            if process.returncode != 0:
                print(f"    {kind}: failed\n{stderr}")
                continue
            results[kind] = json.loads(stdout.strip().splitlines()[-1])
            shutil.rmtree(work / f"b-{kind}", ignore_errors=True)
    print(
        f"    {'':22} {'append (s)':>10} {'items/s':>10} {'resume (s)':>10} {'finish (s)':>10}"
        f" {'start MB':>9} {'pre-finish MB':>14} {'peak MB':>8}"
    )
    for kind, numbers in results.items():
        verdict = ""
        if kind in {"files", "sqlite", "postgres"}:
            verdict = f"  < {RSS_TARGET_MB:.0f} MB: {_verdict(numbers['peak_mb'] < RSS_TARGET_MB)}"
        print(
            f"    {LABELS.get(kind, kind):22} {numbers['append']:10.2f}"
            f" {total / numbers['append']:10,.0f} {numbers['resume']:10.3f}"
            f" {numbers['finish']:10.2f} {numbers['baseline_mb']:9.0f}"
            f" {numbers['before_finish_mb']:14.0f} {numbers['peak_mb']:8.0f}{verdict}"
        )
    print("    (memory: reference, it keeps every item in memory)")
    for kind in ("files", "sqlite", "postgres"):
        floor = f"floor-{kind}"
        if kind in results and floor in results:
            print(
                f"    {kind} store / floor: append {_ratio(results[kind]['append'], results[floor]['append'])}"
                f"  resume {_ratio(results[kind]['resume'], results[floor]['resume'])}"
            )
    for ours, theirs in (("sqlite", "files"), ("postgres", "sqlite")):
        if ours in results and theirs in results:
            print(
                f"    {ours} / {theirs} (time): "
                + "  ".join(
                    f"{op} {_ratio(results[ours][op], results[theirs][op])}"
                    for op in ("append", "resume", "finish")
                )
            )


def main(argv: list[str] | None = None) -> int:
    """Run both parts (or one part (b) subprocess, with ``--child``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="runs written, read and listed")
    parser.add_argument("--items", type=int, default=10, help="items per run of part (a)")
    parser.add_argument("--stream-items", type=int, default=1_000_000, help="items of part (b)")
    parser.add_argument("--batch", type=int, default=64, help="items per append in part (b)")
    parser.add_argument("--stores", default=",".join(STORES), help="comma-separated store kinds")
    parser.add_argument(
        "--part", choices=("a", "b", "both"), default="both", help="which measurement to run"
    )
    parser.add_argument(
        "--postgres", default=DEFAULT_POSTGRES, help="PostgreSQL server (a scratch database)"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (a few seconds)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.child:
        run_child(json.loads(options.child))
        return 0
    if options.smoke:
        options.runs, options.stream_items = 50, 640
    stores = [kind for kind in options.stores.split(",") if kind]
    print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    scratch = postgres_scratch(options.postgres) if "postgres" in stores else None
    if scratch is None:
        stores = [kind for kind in stores if kind != "postgres"]
    else:
        POSTGRES["url"] = scratch
        with psycopg.connect(scratch) as connection:
            print(f"PostgreSQL {connection.info.server_version} at {options.postgres}")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-stores-") as directory:
            work = Path(directory)
            if options.part in {"a", "both"}:
                bench_whole_runs(options.runs, options.items, stores, work)
            if options.part in {"b", "both"}:
                bench_stream(
                    options.stream_items, options.batch, stores, work, parallel=options.smoke
                )
    finally:
        if scratch is not None:
            drop_scratch(options.postgres, scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
