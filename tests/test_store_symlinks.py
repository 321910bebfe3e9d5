"""Nothing below a store root is followed through a symbolic link out of it.

Each test plants a link inside a store root pointing at a directory or file outside
it (``outside``) and checks that the store refuses it with its documented error naming
the path, and that nothing outside was read, written or deleted. The root itself may
be a link.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from awaken_eval import DatasetSpec, NotFound, StoreFailure, to_json
from awaken_eval.errors import InputUnreadable
from awaken_eval.events import SpanRecorded, ToolSpan
from awaken_eval.records import EvalRunFilter
from awaken_eval.sinks import FileTraceStore, JsonlTraceSink, PinKind
from awaken_eval.stores import FileDatasetStore, FileEvalRunStore
from builders import T0, header
from builders import run as make_run

pytestmark = pytest.mark.anyio

SHARD = "2023-11"  # the shard of builders.T0


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    directory = tmp_path / "outside"
    directory.mkdir()
    (directory / "precious.txt").write_text("keep me", encoding="utf-8")
    return directory


def snapshot(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


# -- the run store ------------------------------------------------------------------------


async def test_write_refuses_a_linked_shard(tmp_path: Path, outside: Path) -> None:
    store = FileEvalRunStore(tmp_path / "store")
    (store.root / "eval_runs" / SHARD).symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    with pytest.raises(StoreFailure, match="symbolic link") as caught:
        await store.write(make_run(run_id="r1"))
    assert str(store.root / "eval_runs" / SHARD) in str(caught.value)
    assert before == snapshot(outside)


@pytest.mark.parametrize("internal", [".ids", ".open", ".staging"])
async def test_write_and_begin_refuse_linked_internal_directories(
    tmp_path: Path, outside: Path, internal: str
) -> None:
    store = FileEvalRunStore(tmp_path / "store")
    (store.root / "eval_runs" / internal).symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    with pytest.raises(StoreFailure, match="symbolic link"):
        await store.begin(header(run_id="r2"))
    if internal == ".ids":
        with pytest.raises(StoreFailure, match="symbolic link"):
            await store.write(make_run(run_id="r3"))
    assert before == snapshot(outside)


async def test_read_refuses_a_linked_run_file(tmp_path: Path, outside: Path) -> None:
    store = FileEvalRunStore(tmp_path / "store")
    (outside / "r4.json").write_text(to_json(make_run(run_id="r4")), encoding="utf-8")
    shard = store.root / "eval_runs" / SHARD
    shard.mkdir()
    (shard / "r4.json").symlink_to(outside / "r4.json")
    with pytest.raises(StoreFailure, match="symbolic link"):
        await store.read("r4")
    assert [] == await store.list(EvalRunFilter())


async def test_a_linked_shard_is_neither_read_listed_nor_pruned(
    tmp_path: Path, outside: Path
) -> None:
    (outside / "r5.json").write_text(to_json(make_run(run_id="r5")), encoding="utf-8")
    store = FileEvalRunStore(tmp_path / "store")
    (store.root / "eval_runs" / SHARD).symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    with pytest.raises(NotFound):
        await store.read("r5")
    assert [] == await store.list(EvalRunFilter())
    assert 0 == await store.prune(T0 + 10**9)
    assert before == snapshot(outside)


async def test_prune_does_not_follow_a_linked_run_file(tmp_path: Path, outside: Path) -> None:
    (outside / "r6.json").write_text(to_json(make_run(run_id="r6")), encoding="utf-8")
    store = FileEvalRunStore(tmp_path / "store")
    shard = store.root / "eval_runs" / SHARD
    shard.mkdir()
    (shard / "r6.json").symlink_to(outside / "r6.json")
    assert 0 == await store.prune(T0 + 10**9)
    assert (outside / "r6.json").exists()


async def test_the_root_itself_may_be_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    store = FileEvalRunStore(tmp_path / "link")
    await store.write(make_run(run_id="r7"))
    assert make_run(run_id="r7") == await store.read("r7")
    await store.begin(header(run_id="r8"))
    assert (real / "eval_runs" / SHARD / "r7.json").is_file()


# -- the dataset store -------------------------------------------------------------------


async def test_dataset_store_refuses_a_linked_lock(tmp_path: Path, outside: Path) -> None:
    store = FileDatasetStore(tmp_path / "datasets")
    (store.root / ".lock").symlink_to(outside / "lock-target")
    with pytest.raises(StoreFailure, match="symbolic link"):
        await store.put("d", DatasetSpec(), expected_revision=0)
    assert not (outside / "lock-target").exists()


async def test_dataset_store_refuses_a_linked_dataset_file(tmp_path: Path, outside: Path) -> None:
    store = FileDatasetStore(tmp_path / "datasets")
    (outside / "d.json").write_text('{"spec": {}, "meta": {"revision": 4}}', encoding="utf-8")
    store.path_of("d").symlink_to(outside / "d.json")
    with pytest.raises(StoreFailure):
        await store.get("d")
    with pytest.raises(StoreFailure):
        await store.put("d", DatasetSpec(), expected_revision=4)
    assert '{"spec": {}, "meta": {"revision": 4}}' == (outside / "d.json").read_text("utf-8")


# -- traces ------------------------------------------------------------------------------

MONTH = "2026-01"
JAN = 1_769_764_502.0


async def test_the_trace_sink_does_not_append_through_a_link(
    tmp_path: Path, outside: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "traces-root"
    (root / MONTH).mkdir(parents=True)
    (root / MONTH / "r.ndjson").symlink_to(outside / "precious.txt")
    sink = JsonlTraceSink(root, clock=lambda: JAN)
    with caplog.at_level(logging.WARNING, logger="awaken_eval.sinks"):
        await sink.emit(SpanRecorded(span=ToolSpan(name="t", run_id="r")))
    assert "keep me" == (outside / "precious.txt").read_text(encoding="utf-8")
    assert "could not record" in caplog.text
    with pytest.raises(InputUnreadable, match="symbolic link"):
        await FileTraceStore(root).read_trace("r")
    assert [] == await FileTraceStore(root).list_runs()


async def test_the_trace_sink_does_not_follow_a_linked_month_folder(
    tmp_path: Path, outside: Path
) -> None:
    root = tmp_path / "traces-root"
    root.mkdir()
    (root / MONTH).symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    sink = JsonlTraceSink(root, clock=lambda: JAN)
    await sink.emit(SpanRecorded(span=ToolSpan(name="t", run_id="r")))
    assert before == snapshot(outside)
    assert not await sink.finish_trace("r")  # nothing stored: no link


async def test_the_trace_store_never_pins_unpins_or_prunes_through_a_link(
    tmp_path: Path, outside: Path
) -> None:
    root = tmp_path / "traces-root"
    root.mkdir()
    (outside / "r.ndjson").write_text("")
    (root / MONTH).symlink_to(outside, target_is_directory=True)
    before = snapshot(outside)
    store = FileTraceStore(root)
    assert 0 == await store.prune(2**40)
    assert [] == await store.list_traces()
    with pytest.raises(NotFound):
        await store.pin("r", PinKind.OPERATOR)
    assert before == snapshot(outside)


async def test_a_linked_trace_root_is_followed(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real, target_is_directory=True)
    span = ToolSpan(name="t", run_id="r", call_id="c1")
    await JsonlTraceSink(tmp_path / "link").emit(SpanRecorded(span=span))
    assert (span,) == (await FileTraceStore(real).read_trace("r")).events
