"""Worker processes for the crash and concurrency tests of the run stores.

Run as a script (``python tests/_store_worker.py``) this is a *fork server*: it imports
awaken-eval once, then reads one JSON command per line on stdin and forks a child per
unit of work, so each child starts in milliseconds and the tests can afford dozens of
``SIGKILL``\\ s. Every line it or its children print on stdout is one JSON object,
written with a single ``os.write`` (atomic on a pipe) after the call it acknowledges
has returned. Commands:

* ``{"op": "churn", "kind", "root", "seed", "prefix", "stream"}``: fork one child that
  writes runs and streams appends into the store until it is killed; the server prints
  ``{"pid": N}`` at once and ``{"exit": N, "signal": S, "status": C}`` once it reaped it.
  Acknowledgements: ``{"ack": "open"}`` (the store object exists), ``{"ack": "write",
  "run": ID}``, ``{"ack": "begin", "run": ID}``,
  ``{"ack": "append", "run": ID, "keys": [...]}``, ``{"ack": "finish", "run": ID}``.
* ``{"op": "contend", "task", "kind", "root", "run_id", "writers", "go"}``: fork
  ``writers`` children that each print ``{"ready": I}``, wait for the file ``go`` to
  exist and then, for ``task`` ``"write"``, write a run with the same id and their own
  payload (see :func:`contender_run`), or, for ``"append"``, resume the open run
  ``run_id`` and append :data:`APPEND_BATCHES` batches of their own items to it (see
  :func:`appender_keys`); each prints ``{"writer": I, "result": "ok" | "exists" |
  "error", "detail": ...}``. The server prints ``{"done": true, "statuses": [...]}``
  after reaping them all.

The module also holds what both sides must agree on: the deterministic runs and items
the children write, so the parent can tell a complete run from a partial one.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import random
import select
import subprocess
import sys
import time
import traceback
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, NoReturn

import anyio

from awaken_eval import (
    AlreadyExists,
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    ItemKey,
    ReplayOutcome,
    ReplayReport,
    from_builtins,
    to_builtins,
)
from awaken_eval.failures import AnswerMissingPhrase
from awaken_eval.records import RunHeader
from awaken_eval.stores import FileEvalRunStore, SqliteRunStore

T0 = 1_700_006_400  # 2023-11-15 00:00:00 UTC
MONTH = 40 * 86_400
APPEND_BATCHES = 10
APPEND_BATCH_SIZE = 5
MAX_CHURN_OPS = 400
"""A churning child stops (and idles until killed) after this many calls."""

Store = FileEvalRunStore | SqliteRunStore


def open_store(kind: str, root: Path) -> Store:
    """The ``files`` or ``sqlite`` store kept under ``root``."""
    if kind == "files":
        return FileEvalRunStore(root)
    if kind == "sqlite":
        return SqliteRunStore(root / "runs.sqlite3")
    msg = f"unknown store kind {kind!r}"
    raise ValueError(msg)


async def close_store(store: object) -> None:
    """Close the SQLite store's connection (the other stores hold nothing open)."""
    if isinstance(store, SqliteRunStore):
        await store.aclose()


# -- the deterministic data -----------------------------------------------------------------


def worker_item(fixture_id: str) -> EvalRunItem:
    """The item a child writes for ``fixture_id`` (every third one fails)."""
    seed = zlib.crc32(fixture_id.encode())
    outcome = ReplayOutcome(fixture_id=fixture_id, final_text=f"answer {seed:08x} " * 8)
    failures = [AnswerMissingPhrase(f"phrase {seed % 97}")] if seed % 3 == 0 else []
    return EvalRunItem(fixture_id, report=ReplayReport.from_outcome(outcome, failures))


def written_run(run_id: str) -> EvalRun:
    """The whole run a child writes with ``write`` under ``run_id`` (1 to 60 items)."""
    count = zlib.crc32(run_id.encode()) % 60 + 1
    items = tuple(worker_item(f"{run_id}/f{index:03d}") for index in range(count))
    return EvalRun(
        id=run_id,
        dataset_id="written",
        dataset_revision=1,
        items=items,
        started_at_secs=T0 + count,
        ended_at_secs=T0 + count + 1,
        fixture_digests={item.fixture_id: "a" * 64 for item in items},
    )


def stream_header(run_id: str) -> RunHeader:
    """The header every stream of ``run_id`` is begun (and resumed) with."""
    return RunHeader(
        id=run_id,
        dataset_id="streamed",
        dataset_revision=2,
        execution_mode=EvalRunExecutionMode.SCRIPTED,
        started_at_secs=T0,
        fixture_digests={"s": "b" * 64},
    )


def stream_fixture(index: int) -> str:
    """The fixture id of the ``index``-th item of a stream."""
    return f"s{index:05d}"


def contender_run(run_id: str, writer: int) -> EvalRun:
    """The run writer ``writer`` tries to write: its own dataset and start month."""
    items = tuple(worker_item(f"w{writer}-f{index}") for index in range(writer + 1))
    return EvalRun(
        id=run_id,
        dataset_id=f"writer-{writer}",
        dataset_revision=writer,
        items=items,
        started_at_secs=T0 + writer * MONTH,
        ended_at_secs=T0 + writer * MONTH + 1,
    )


def appender_keys(writer: int) -> list[list[str]]:
    """The fixture ids appender ``writer`` appends, batch by batch."""
    return [
        [f"w{writer}-b{batch}-i{index}" for index in range(APPEND_BATCH_SIZE)]
        for batch in range(APPEND_BATCHES)
    ]


# -- the children ---------------------------------------------------------------------------


def emit(message: dict[str, Any]) -> None:
    """Print one JSON line with a single write (atomic on a pipe)."""
    os.write(1, (json.dumps(message) + "\n").encode())


async def churn(kind: str, root: Path, seed: int, prefix: str, stream: str) -> None:
    """Write runs and stream appends into the store, acknowledging each returned call."""
    rng = random.Random(seed)  # noqa: S311 - a seeded workload, not a secret
    store = open_store(kind, root)
    emit({"ack": "open"})
    streams = 0
    writes = 0
    present = set(await store.begin(stream_header(stream), resume=True))
    emit({"ack": "begin", "run": stream})
    next_index = 0
    for _ in range(MAX_CHURN_OPS):
        choice = rng.random()
        if choice < 0.3:
            run_id = f"{prefix}w{writes}"
            writes += 1
            await store.write(written_run(run_id))
            emit({"ack": "write", "run": run_id})
        elif choice < 0.9:
            size = rng.randint(1, 8)
            batch: list[str] = []
            while len(batch) < size:
                fixture_id = stream_fixture(next_index)
                next_index += 1
                if ItemKey(fixture_id, None, None) not in present:
                    batch.append(fixture_id)
            await store.append(stream, tuple(worker_item(one) for one in batch))
            present.update(ItemKey(one, None, None) for one in batch)
            emit({"ack": "append", "run": stream, "keys": batch})
        else:
            order = sorted(present)
            await store.finish(stream, ended_at_secs=T0 + 99, item_order=order)
            emit({"ack": "finish", "run": stream})
            stream = f"{prefix}s{streams}"
            streams += 1
            present = set(await store.begin(stream_header(stream), resume=False))
            next_index = 0
            emit({"ack": "begin", "run": stream})
    await anyio.sleep_forever()  # wait for the kill without touching the store


def contend(task: str, kind: str, root: Path, run_id: str, writer: int, go: Path) -> None:  # noqa: PLR0917 - the fields of one command
    """Wait for ``go`` to exist, then write (or append to) ``run_id`` as ``writer``."""
    store = open_store(kind, root)
    emit({"ready": writer})
    while not go.exists():
        time.sleep(0.0005)
    anyio.run(_contend, task, store, run_id, writer)


async def _contend(task: str, store: Store, run_id: str, writer: int) -> None:
    try:
        if task == "write":
            await store.write(contender_run(run_id, writer))
        else:
            await store.begin(stream_header(run_id), resume=True)
            for batch in appender_keys(writer):
                await store.append(run_id, tuple(worker_item(one) for one in batch))
    except AlreadyExists as exc:
        emit({"writer": writer, "result": "exists", "detail": str(exc)})
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        emit({"writer": writer, "result": "error", "detail": repr(exc)})
    else:
        emit({"writer": writer, "result": "ok", "detail": ""})
    finally:
        await close_store(store)


def _child(main: Callable[[], object]) -> NoReturn:
    """Run ``main`` in a forked child and leave without any cleanup of the server's."""
    status = 0
    try:
        main()
    except BaseException:  # noqa: BLE001 - the parent reads stderr and the exit status
        traceback.print_exc()
        sys.stderr.flush()
        status = 1
    os._exit(status)


def _warm_up() -> None:
    """Do once, before any fork, what every child would otherwise do first (slowly).

    Importing the asyncio backend of anyio and building the converters' per-class
    functions takes a child a hundred milliseconds or more; done here, children start
    working within a few milliseconds. No thread is started: only the forking thread
    survives a fork.
    """
    anyio.run(anyio.sleep, 0)
    run = written_run("warm-up")
    assert run == from_builtins(EvalRun, json.loads(json.dumps(to_builtins(run))))


def _serve() -> None:
    _warm_up()
    for line in sys.stdin:
        command = json.loads(line)
        root = Path(command.get("root", "."))
        if command["op"] == "churn":
            args = (command["kind"], root, command["seed"], command["prefix"], command["stream"])
            pid = os.fork()
            if pid == 0:
                _child(functools.partial(anyio.run, churn, *args))
            emit({"pid": pid})
            _, status = os.waitpid(pid, 0)
            emit(
                {
                    "exit": pid,
                    "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
                    "status": os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
                }
            )
        elif command["op"] == "contend":
            pids = []
            for writer in range(command["writers"]):
                pid = os.fork()
                if pid == 0:
                    _child(
                        functools.partial(
                            contend,
                            command["task"],
                            command["kind"],
                            root,
                            command["run_id"],
                            writer,
                            Path(command["go"]),
                        )
                    )
                pids.append(pid)
            statuses = [os.waitpid(pid, 0)[1] for pid in pids]
            emit({"done": True, "statuses": statuses})
        else:
            emit({"error": f"unknown op {command['op']!r}"})


# -- the parent's side ----------------------------------------------------------------------


class ForkServer:
    """Client of the fork server: starts it with ``sys.executable`` and talks to it."""

    def __init__(self, stderr_path: Path) -> None:
        """Start the server; its (and its children's) stderr goes to ``stderr_path``."""
        self.stderr_path = stderr_path
        self._stderr: IO[bytes] = stderr_path.open("wb")
        self.process = subprocess.Popen(  # noqa: S603 - our own script, no shell
            [sys.executable, str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        self._buffer = b""

    def send(self, command: dict[str, Any]) -> None:
        """Send one command."""
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(command) + "\n").encode())
        self.process.stdin.flush()

    def read(self, timeout: float = 30.0) -> dict[str, Any]:
        """The next JSON line, waiting at most ``timeout`` seconds for it."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            if not ready:
                msg = f"the worker said nothing for {timeout} s; stderr:\n{self.stderr()}"
                raise TimeoutError(msg)
            chunk = os.read(fd, 65536)
            if not chunk:
                msg = f"the worker exited; stderr:\n{self.stderr()}"
                raise EOFError(msg)
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        message: dict[str, Any] = json.loads(line)
        return message

    def stderr(self) -> str:
        """What the server and its children wrote on stderr so far."""
        self._stderr.flush()
        return self.stderr_path.read_text(errors="replace")

    def close(self) -> None:
        """Stop the server (closing its stdin ends it) and wait for it."""
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        assert self.process.stdout is not None
        self.process.stdout.close()
        self._stderr.close()


if __name__ == "__main__":
    _serve()
