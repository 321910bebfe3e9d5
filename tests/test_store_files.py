"""FileEvalRunStore: the reference layout, write-once, validation, listing, pruning, streaming."""

from __future__ import annotations

import datetime as dt
import gc
import io
import json
import logging
import math
import re
import signal
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anyio
import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    MatrixCell,
    NotFound,
    ReplayReport,
    StoreFailure,
    to_builtins,
    to_json,
)
from awaken_eval.errors import DuplicateItemKeys, InvalidExecutionShape, InvalidRunId
from awaken_eval.protocols import PrunableRunStore, StreamingRunStore
from awaken_eval.records import EvalRunFilter, validate_run_id
from awaken_eval.stores import FileEvalRunStore, InMemoryRunStore
from awaken_eval.stores._files.index import Positions, scan_summary
from awaken_eval.stores._files.layout import shard_of
from awaken_eval.stores._files.printer import pretty, write_document
from builders import header, item, report
from builders import run as make_run
from strategies import eval_run_items, eval_runs, json_values

pytestmark = pytest.mark.anyio

NOV_2023 = 1_700_006_400  # 2023-11-15T00:00:00Z
DEC_2023 = 1_701_388_800  # 2023-12-01T00:00:00Z
SCRIPTED = EvalRunExecutionMode.SCRIPTED
LIVE = EvalRunExecutionMode.LIVE
R = TypeVar("R", EvalRun, ReplayReport)

A_AND_FAILED_B = (item(fixture_id="a"), item(fixture_id="b", passed=False))
BAD_RUN_IDS = ["", ".", "..", "../escape", "a/b", "a\\b", "a\0b"]


def bypass_validation(record: R, **changes: Any) -> R:
    """A copy of ``record`` with fields set behind the constructor's checks."""
    copy = attrs.evolve(record)
    for name, value in changes.items():
        object.__setattr__(copy, name, value)
    return copy


def place(root: Path, shard: str, name: str, document: Any) -> Path:
    """Put a run file into a shard by hand (as a historical or foreign writer would)."""
    path = root / "eval_runs" / shard / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = document if isinstance(document, str) else json.dumps(document, indent=2)
    path.write_text(text, encoding="utf-8")
    return path


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


def names_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def data_files(root: Path) -> list[str]:
    runs = root / "eval_runs"
    return sorted(
        str(p.relative_to(runs))
        for p in runs.glob("*/*")
        if not p.parent.name.startswith(".") and p.name.endswith(".json")
    )


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture
def store(root: Path) -> FileEvalRunStore:
    return FileEvalRunStore(root)


# -- construction and protocols ---------------------------------------------------------


def test_construction_creates_eval_runs_directory(root: Path) -> None:
    FileEvalRunStore(root)
    assert (root / "eval_runs").is_dir()


def test_store_implements_every_run_store_protocol(store: FileEvalRunStore) -> None:
    assert isinstance(store, EvalRunStore)
    assert isinstance(store, PrunableRunStore)
    assert isinstance(store, StreamingRunStore)


# -- §7.7 file_store_* -----------------------------------------------------------------


async def test_file_store_round_trips_run_and_locates_by_id(
    store: FileEvalRunStore, root: Path
) -> None:
    run = make_run(run_id="run-1", items=A_AND_FAILED_B)
    await store.write(run)
    assert run == await store.read("run-1")
    assert ["2023-11/run-1.json"] == data_files(root)


async def test_file_store_path_layout_uses_year_month_shard(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.write(
        make_run(run_id="layout", started_at_secs=1_700_006_400, items=A_AND_FAILED_B)
    )
    assert (root / "eval_runs" / "2023-11" / "layout.json").is_file()


async def test_written_document_is_the_pretty_printed_wire_format(
    store: FileEvalRunStore, root: Path
) -> None:
    run = make_run(items=(item(fixture_id="a", model="m", live=True),), mode=LIVE, run_id="run-1")
    await store.write(run)
    written = (root / "eval_runs" / "2023-11" / "run-1.json").read_bytes()
    assert to_json(run, pretty=True).encode() == written
    assert written.startswith(b'{\n  "id": "run-1",\n  "dataset_id": "ds",')


async def test_file_store_write_is_write_once(store: FileEvalRunStore, root: Path) -> None:
    await store.write(make_run(run_id="run-1", items=A_AND_FAILED_B))
    path = root / "eval_runs" / "2023-11" / "run-1.json"
    original = path.read_bytes()
    with pytest.raises(AlreadyExists) as caught:
        await store.write(make_run(dataset_id="other", items=(), run_id="run-1"))
    assert "run-1" == caught.value.run_id
    assert original == path.read_bytes()


async def test_file_store_successful_write_removes_temp_file(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.write(make_run(run_id="run-1", items=A_AND_FAILED_B))
    shard = root / "eval_runs" / "2023-11"
    assert ["run-1.json"] == sorted(p.name for p in shard.iterdir())
    marker = root / "eval_runs" / ".ids" / "run-1"
    assert f"{shard / 'run-1.json'}\n" == marker.read_text()


async def test_file_store_write_once_is_global_across_started_at_shards(
    store: FileEvalRunStore, root: Path
) -> None:
    # Both writers pass the existence check before either takes the marker, so the
    # exclusive marker alone decides: one winner, one data file.
    barrier = threading.Barrier(2, timeout=10)
    check = store._ensure_absent

    def racing_check(run_id: str) -> None:
        check(run_id)
        barrier.wait()

    store._ensure_absent = racing_check  # type: ignore[method-assign]
    outcomes: list[str] = []

    async def writer(started: int) -> None:
        try:
            await store.write(
                make_run(run_id="race", started_at_secs=started, items=A_AND_FAILED_B)
            )
            outcomes.append("won")
        except AlreadyExists:
            outcomes.append("already exists")

    async with anyio.create_task_group() as group:
        group.start_soon(writer, NOV_2023)
        group.start_soon(writer, DEC_2023)
    assert ["already exists", "won"] == sorted(outcomes)
    assert 1 == len(data_files(root))
    assert [] == list((root / "eval_runs").glob("*/*.tmp"))


async def test_write_once_holds_across_shards_sequentially(store: FileEvalRunStore) -> None:
    await store.write(make_run(run_id="x", started_at_secs=NOV_2023, items=A_AND_FAILED_B))
    with pytest.raises(AlreadyExists):
        await store.write(make_run(run_id="x", started_at_secs=DEC_2023, items=A_AND_FAILED_B))


async def test_marker_alone_keeps_the_id_taken(store: FileEvalRunStore, root: Path) -> None:
    marker = root / "eval_runs" / ".ids" / "taken"
    marker.parent.mkdir(parents=True)
    marker.write_text("elsewhere\n")
    with pytest.raises(AlreadyExists):
        await store.write(make_run(run_id="taken", items=A_AND_FAILED_B))
    assert [] == data_files(root)


async def test_file_store_rejects_duplicate_item_keys(store: FileEvalRunStore, root: Path) -> None:
    run = make_run(items=(item(fixture_id="a"), item(fixture_id="a")), run_id="run-1")
    with pytest.raises(DuplicateItemKeys, match="duplicate eval-run item key") as caught:
        await store.write(run)
    assert "run-1" in str(caught.value)
    assert [] == files_under(root / "eval_runs")


async def test_file_store_rejects_invalid_execution_shape(
    store: FileEvalRunStore, root: Path
) -> None:
    run = bypass_validation(make_run(run_id="run-1", items=A_AND_FAILED_B), execution_mode=LIVE)
    with pytest.raises(InvalidExecutionShape, match="execution_mode=live"):
        await store.write(run)
    assert [] == files_under(root / "eval_runs")


async def test_shape_is_checked_before_item_keys(store: FileEvalRunStore) -> None:
    run = bypass_validation(
        make_run(items=(item(fixture_id="a"), item(fixture_id="a")), run_id="run-1"),
        execution_mode=LIVE,
    )
    with pytest.raises(InvalidExecutionShape):
        await store.write(run)


async def test_file_store_write_once_takes_priority_over_duplicate_item_keys(
    store: FileEvalRunStore,
) -> None:
    await store.write(make_run(run_id="run-1", items=A_AND_FAILED_B))
    with pytest.raises(AlreadyExists):
        await store.write(
            make_run(items=(item(fixture_id="a"), item(fixture_id="a")), run_id="run-1")
        )


async def test_file_store_read_rejects_historical_duplicate_item_keys(
    store: FileEvalRunStore, root: Path
) -> None:
    document = to_builtins(make_run(run_id="dup", items=(item(fixture_id="a"),)))
    document["items"] = document["items"] * 2
    place(root, "2023-11", "dup.json", document)
    with pytest.raises(DuplicateItemKeys, match="duplicate eval-run item key") as caught:
        await store.read("dup")
    assert "dup" in str(caught.value)


async def test_file_store_read_rejects_file_name_and_run_id_mismatch(
    store: FileEvalRunStore, root: Path
) -> None:
    place(
        root,
        "2023-11",
        "renamed.json",
        to_builtins(make_run(run_id="original", items=A_AND_FAILED_B)),
    )
    with pytest.raises(InvalidRunId) as caught:
        await store.read("renamed")
    assert "renamed" in str(caught.value)
    assert "original" in str(caught.value)


async def test_read_rejects_a_stored_invalid_run_id(store: FileEvalRunStore, root: Path) -> None:
    place(
        root, "2023-11", "good.json", to_builtins(make_run(run_id="../evil", items=A_AND_FAILED_B))
    )
    with pytest.raises(InvalidRunId, match=r"\.\./evil"):
        await store.read("good")


async def test_file_store_list_full_skips_historical_duplicate_item_keys(
    store: FileEvalRunStore, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await store.write(make_run(run_id="ok", items=A_AND_FAILED_B))
    document = to_builtins(make_run(run_id="dup", items=(item(fixture_id="a"),)))
    document["items"] = document["items"] * 2
    place(root, "2023-11", "dup.json", document)
    with caplog.at_level(logging.WARNING, logger="awaken_eval.stores"):
        runs = await store.list_full(EvalRunFilter())
    assert ["ok"] == [run.id for run in runs]
    assert any("dup.json" in record.getMessage() for record in caplog.records)
    assert ["ok"] == [s.id for s in await store.list(EvalRunFilter())]


async def test_file_store_list_full_skips_file_name_and_run_id_mismatch(
    store: FileEvalRunStore, root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    await store.write(make_run(run_id="ok", items=A_AND_FAILED_B))
    place(
        root,
        "2023-11",
        "renamed.json",
        to_builtins(make_run(run_id="original", items=A_AND_FAILED_B)),
    )
    with caplog.at_level(logging.WARNING, logger="awaken_eval.stores"):
        runs = await store.list_full(EvalRunFilter())
    assert ["ok"] == [run.id for run in runs]
    assert any("renamed.json" in record.getMessage() for record in caplog.records)


async def test_list_skips_corrupt_unparseable_and_invalid_shape_files(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.write(make_run(run_id="ok", items=A_AND_FAILED_B))
    place(root, "2023-11", "torn.json", '{"id": "torn", "dataset_id": ')
    place(root, "2023-11", "array.json", "[1, 2]")
    place(root, "2023-11", "typed.json", {"id": "typed", "dataset_id": 3})
    shape = to_builtins(make_run(run_id="shape", items=A_AND_FAILED_B))
    shape["execution_mode"] = "live"
    place(root, "2023-11", "shape.json", shape)
    bad_item = to_builtins(make_run(run_id="baditem", items=A_AND_FAILED_B))
    bad_item["items"][0]["report"]["passed"] = "yes"
    place(root, "2023-11", "baditem.json", bad_item)
    (root / "eval_runs" / "2023-11" / "dir.json").mkdir()
    assert ["ok"] == [s.id for s in await store.list(EvalRunFilter())]
    assert ["ok"] == [r.id for r in await store.list_full(EvalRunFilter(limit=1))]


async def test_file_store_prune_leaves_file_name_and_run_id_mismatch_in_place(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.write(make_run(run_id="original", started_at_secs=NOV_2023, items=A_AND_FAILED_B))
    marker = root / "eval_runs" / ".ids" / "original"
    mismatched = place(
        root,
        "2023-11",
        "renamed.json",
        to_builtins(make_run(run_id="original", items=A_AND_FAILED_B)),
    )
    marker_text = marker.read_text()
    (root / "eval_runs" / "2023-11" / "original.json").unlink()
    assert 0 == await store.prune(NOV_2023 + 1_000)
    assert mismatched.is_file()
    assert marker_text == marker.read_text()


async def test_file_store_started_at_zero_is_resolved_in_persisted_record(root: Path) -> None:
    store = FileEvalRunStore(root, clock=lambda: NOV_2023 + 0.75)
    await store.write(make_run(run_id="zero", started_at_secs=0, items=A_AND_FAILED_B))
    path = root / "eval_runs" / "2023-11" / "zero.json"
    assert NOV_2023 == json.loads(path.read_text())["started_at_secs"]
    assert NOV_2023 == (await store.read("zero")).started_at_secs


async def test_file_store_list_filters_by_dataset_and_sorts_newest_first(
    store: FileEvalRunStore,
) -> None:
    await store.write(
        make_run(
            run_id="old",
            started_at_secs=NOV_2023,
            dataset_id="a",
            dataset_revision=3,
            items=A_AND_FAILED_B,
        )
    )
    await store.write(
        make_run(
            run_id="new",
            started_at_secs=DEC_2023,
            dataset_id="a",
            dataset_revision=3,
            items=A_AND_FAILED_B,
        )
    )
    await store.write(
        make_run(
            run_id="other",
            started_at_secs=DEC_2023 + 10,
            dataset_id="b",
            dataset_revision=3,
            items=A_AND_FAILED_B,
        )
    )
    summaries = await store.list(EvalRunFilter(dataset_id="a"))
    assert ["new", "old"] == [s.id for s in summaries]
    assert (
        EvalRunSummary(
            id="new",
            dataset_id="a",
            dataset_revision=3,
            execution_mode=SCRIPTED,
            started_at_secs=DEC_2023,
            item_count=2,
            passed_count=1,
            failed_count=1,
        )
        == summaries[0]
    )


async def test_list_breaks_started_at_ties_by_id_descending(store: FileEvalRunStore) -> None:
    for run_id in ("b", "c", "a"):
        await store.write(make_run(run_id=run_id, started_at_secs=NOV_2023, items=A_AND_FAILED_B))
    await store.write(make_run(run_id="z", started_at_secs=NOV_2023 - 1, items=A_AND_FAILED_B))
    assert ["c", "b", "a", "z"] == [s.id for s in await store.list(EvalRunFilter())]
    assert ["c", "b"] == [r.id for r in await store.list_full(EvalRunFilter(limit=2))]


async def test_file_store_list_limit_truncates_after_sort(store: FileEvalRunStore) -> None:
    for offset, run_id in enumerate(("r0", "r1", "r2", "r3")):
        await store.write(
            make_run(run_id=run_id, started_at_secs=NOV_2023 + offset, items=A_AND_FAILED_B)
        )
    assert ["r3", "r2"] == [s.id for s in await store.list(EvalRunFilter(limit=2))]
    assert [] == await store.list(EvalRunFilter(limit=0))


async def test_limit_counts_only_valid_runs(store: FileEvalRunStore, root: Path) -> None:
    await store.write(make_run(run_id="valid-old", started_at_secs=NOV_2023, items=A_AND_FAILED_B))
    newest = to_builtins(
        make_run(run_id="dup", started_at_secs=DEC_2023, items=(item(fixture_id="a"),))
    )
    newest["items"] = newest["items"] * 2
    place(root, "2023-12", "dup.json", newest)
    assert ["valid-old"] == [s.id for s in await store.list(EvalRunFilter(limit=1))]


async def test_file_store_list_full_filters_by_since_until(store: FileEvalRunStore) -> None:
    for offset in range(4):
        await store.write(
            make_run(run_id=f"t{offset}", started_at_secs=NOV_2023 + offset, items=A_AND_FAILED_B)
        )
    selected = await store.list_full(
        EvalRunFilter(since_secs=NOV_2023 + 1, until_secs=NOV_2023 + 3)
    )
    assert ["t2", "t1"] == [run.id for run in selected]


async def test_file_store_read_returns_not_found_for_missing_id(
    store: FileEvalRunStore,
) -> None:
    with pytest.raises(NotFound, match="eval run not found: missing"):
        await store.read("missing")


async def test_file_store_rejects_invalid_run_id_on_write(
    store: FileEvalRunStore, root: Path, tmp_path: Path
) -> None:
    with pytest.raises(InvalidRunId):
        await store.write(make_run(run_id="../escape", items=A_AND_FAILED_B))
    assert [] == files_under(root / "eval_runs")
    assert ["store"] == names_in(tmp_path)


@pytest.mark.parametrize("bad", BAD_RUN_IDS)
async def test_every_operation_rejects_invalid_run_ids(
    store: FileEvalRunStore, root: Path, tmp_path: Path, bad: str
) -> None:
    calls: list[Callable[[], Any]] = [
        lambda: store.write(make_run(run_id=bad, items=A_AND_FAILED_B)),
        lambda: store.read(bad),
        lambda: store.begin(header(run_id=bad)),
        lambda: store.begin(header(run_id=bad), resume=True),
        lambda: store.append(bad, (item(fixture_id="a"),)),
        lambda: store.finish(bad, ended_at_secs=1),
        lambda: store.present_keys(bad),
    ]
    for call in calls:
        with pytest.raises(InvalidRunId):
            await call()
    assert [] == files_under(root / "eval_runs")
    assert ["store"] == names_in(tmp_path)


async def test_file_store_prune_drops_runs_older_than_cutoff(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.write(make_run(run_id="old", started_at_secs=NOV_2023, items=A_AND_FAILED_B))
    await store.write(make_run(run_id="edge", started_at_secs=DEC_2023, items=A_AND_FAILED_B))
    await store.write(make_run(run_id="new", started_at_secs=DEC_2023 + 10, items=A_AND_FAILED_B))
    assert 1 == await store.prune(DEC_2023)
    assert ["edge", "new"] == sorted(s.id for s in await store.list(EvalRunFilter()))
    assert not (root / "eval_runs" / ".ids" / "old").exists()
    assert not (root / "eval_runs" / "2023-11").exists()  # empty shard removed
    with pytest.raises(NotFound):
        await store.read("old")
    # the id is free again
    await store.write(make_run(run_id="old", started_at_secs=DEC_2023 + 20, items=A_AND_FAILED_B))


async def test_file_store_prune_no_op_when_nothing_old_enough(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.write(make_run(run_id="a", started_at_secs=NOV_2023, items=A_AND_FAILED_B))
    before = files_under(root)
    assert 0 == await store.prune(NOV_2023)
    assert before == files_under(root)


async def test_file_store_prune_leaves_corrupt_files_in_place(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.write(make_run(run_id="old", started_at_secs=NOV_2023, items=A_AND_FAILED_B))
    corrupt = place(root, "2023-11", "corrupt.json", "{not json")
    temp = place(root, "2023-10", ".x.1.2.json.tmp", "{}")
    dup = to_builtins(make_run(run_id="dup", items=(item(fixture_id="a"),)))
    dup["items"] = dup["items"] * 2
    dup_path = place(root, "2023-09", "dup.json", dup)
    dup_marker = root / "eval_runs" / ".ids" / "dup"
    dup_marker.write_text("kept\n")
    assert 1 == await store.prune(DEC_2023)
    assert corrupt.is_file()
    assert temp.is_file()
    assert dup_path.is_file()
    assert "kept\n" == dup_marker.read_text()
    assert not (root / "eval_runs" / "2023-11" / "old.json").exists()


async def test_prune_ignores_internal_directories(store: FileEvalRunStore, root: Path) -> None:
    await store.begin(header(run_id="open-run"))
    await store.append("open-run", (item(fixture_id="a"),))
    assert 0 == await store.prune(2**63)
    assert frozenset({ItemKey("a", None, None)}) == await store.present_keys("open-run")


async def test_internal_directories_hold_no_runs(store: FileEvalRunStore, root: Path) -> None:
    place(
        root, ".hidden", "ghost.json", to_builtins(make_run(run_id="ghost", items=A_AND_FAILED_B))
    )
    with pytest.raises(NotFound):
        await store.read("ghost")
    assert [] == await store.list_full(EvalRunFilter())
    # a file in an internal directory takes no id
    await store.write(make_run(run_id="ghost", items=A_AND_FAILED_B))


async def test_run_ids_may_start_with_a_dot_and_hold_spaces(
    store: FileEvalRunStore, root: Path
) -> None:
    for run_id in (".dotted", "with space", "a.json", "..."):
        await store.write(make_run(run_id=run_id, items=A_AND_FAILED_B))
        assert run_id == (await store.read(run_id)).id
    listed = {s.id for s in await store.list(EvalRunFilter())}
    assert {".dotted", "with space", "a.json", "..."} == listed
    assert 4 == await store.prune(2**63)
    assert [] == files_under(root / "eval_runs" / ".ids")


# -- reading foreign and broken files ----------------------------------------------------

REFERENCE_DOCUMENT = """{
  "id": "01JD3R8Q5YF6W9S2C4T0B7M1NA",
  "dataset_id": "support-bot",
  "dataset_revision": 7,
  "items": [
    {
      "fixture_id": "greet",
      "cell": {
        "model_id": "gpt-4o"
      },
      "report": {
        "fixture_id": "greet",
        "passed": true,
        "failures": [],
        "final_text": "Hello! \\u00e9t\\u00e9 \\"quoted\\"",
        "inference_count": 1,
        "tool_count": 0,
        "tool_failures": 0,
        "total_input_tokens": 12,
        "total_output_tokens": 4,
        "total_tokens": 16,
        "session_duration_ms": 25,
        "tool_calls_by_agent": [],
        "error_type": null,
        "inference_error_count": 0,
        "cost_usd": 1e-5
      },
      "trace_run_id": "trace-1"
    },
    {
      "fixture_id": "bye",
      "cell": {},
      "report": {
        "fixture_id": "bye",
        "passed": false,
        "failures": [],
        "final_text": "",
        "inference_count": 0,
        "tool_count": 0,
        "tool_failures": 0,
        "total_input_tokens": 0,
        "total_output_tokens": 0,
        "total_tokens": 0,
        "session_duration_ms": 0
      }
    }
  ],
  "started_at_secs": 1700006400,
  "ended_at_secs": 1700006460
}"""


async def test_reference_written_pretty_run_file_loads(store: FileEvalRunStore, root: Path) -> None:
    run_id = "01JD3R8Q5YF6W9S2C4T0B7M1NA"
    place(root, "2023-11", f"{run_id}.json", REFERENCE_DOCUMENT)
    run = await store.read(run_id)
    assert LIVE == run.execution_mode  # legacy document: every item has a cell
    assert ["greet", "bye"] == [i.fixture_id for i in run.items]
    assert 'Hello! été "quoted"' == run.items[0].report.final_text
    assert MatrixCell(None) == run.items[1].cell
    assert [run] == await store.list_full(EvalRunFilter(dataset_id="support-bot"))
    assert 1 == (await store.list(EvalRunFilter()))[0].passed_count


async def test_corrupt_file_read_names_the_run_and_file(
    store: FileEvalRunStore, root: Path
) -> None:
    path = place(root, "2023-11", "broken.json", '{"id": "broken", ')
    with pytest.raises(StoreFailure) as caught:
        await store.read("broken")
    assert "broken" in str(caught.value)
    assert str(path) in str(caught.value)
    assert 500 == caught.value.status


async def test_read_of_a_document_with_bad_fields_is_a_store_failure(
    store: FileEvalRunStore, root: Path
) -> None:
    document = to_builtins(make_run(run_id="typo", items=A_AND_FAILED_B))
    document["item"] = []
    place(root, "2023-11", "typo.json", document)
    with pytest.raises(StoreFailure, match=r"typo.*\$\.item"):
        await store.read("typo")


async def test_read_rejects_legacy_mixed_cells_as_invalid_shape(
    store: FileEvalRunStore, root: Path
) -> None:
    document = to_builtins(
        make_run(run_id="mixed", items=(item(fixture_id="a"), item(fixture_id="b")))
    )
    del document["execution_mode"]
    document["items"][1]["cell"] = {"model_id": "m"}
    place(root, "2023-11", "mixed.json", document)
    with pytest.raises(InvalidExecutionShape, match="mixes items"):
        await store.read("mixed")


async def test_killed_writer_leaves_no_visible_run(store: FileEvalRunStore, root: Path) -> None:
    # What a writer killed between the marker and the link leaves behind.
    place(root, "2023-11", ".half.123.456.json.tmp", '{"id": "half", "dataset')
    marker = root / "eval_runs" / ".ids" / "half"
    marker.parent.mkdir(parents=True)
    marker.write_text("whatever\n")
    reopened = FileEvalRunStore(root)
    with pytest.raises(NotFound):
        await reopened.read("half")
    assert [] == await reopened.list(EvalRunFilter())
    with pytest.raises(AlreadyExists):  # the id stays taken (write-once)
        await reopened.write(make_run(run_id="half", items=A_AND_FAILED_B))


# -- the document writer and the shard -------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(eval_runs(max_items=3))
def test_streamed_document_equals_pretty_to_json(run: EvalRun) -> None:
    buffer = io.BytesIO()
    write_document(buffer, run)
    assert to_json(run, pretty=True).encode() == buffer.getvalue()


class Text(str):
    __slots__ = ()


class Number(int):
    pass


@settings(max_examples=100, deadline=None)
@given(json_values(max_leaves=12))
def test_pretty_printer_writes_what_json_dumps_writes(value: Any) -> None:
    chunks: list[str] = []
    pretty(value, "\n", chunks.append)
    assert json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) == "".join(chunks)


def test_pretty_printer_follows_json_dumps_for_odd_python_values() -> None:
    value = {1: (1.5, Text("t")), None: [True, Number(7)], 2.5: {}, False: [], "k": ()}
    chunks: list[str] = []
    pretty(value, "\n", chunks.append)
    assert json.dumps(value, indent=2, ensure_ascii=False) == "".join(chunks)
    for bad in (math.nan, math.inf, {(1,): 2}, object()):
        with pytest.raises((ValueError, TypeError)):
            pretty(bad, "\n", chunks.append)


async def test_unwritable_run_is_invalid_input_and_leaves_nothing(
    store: FileEvalRunStore, root: Path
) -> None:
    text = "lone surrogate \ud800"
    bad = EvalRunItem(fixture_id="a", report=attrs.evolve(report(fixture_id="a"), final_text=text))
    with pytest.raises(InvalidInput, match="cannot be stored as JSON"):
        await store.write(make_run(items=(bad,), run_id="run-1"))
    nan = EvalRunItem(
        fixture_id="a", report=attrs.evolve(report(fixture_id="a"), cost_usd=math.nan)
    )
    with pytest.raises(InvalidInput, match="cannot be stored as JSON"):
        await store.write(make_run(items=(nan,), run_id="run-1"))
    assert [] == data_files(root)
    assert [] == names_in(root / "eval_runs" / ".ids")
    assert [] == names_in(root / "eval_runs" / "2023-11")
    await store.write(make_run(run_id="run-1", items=A_AND_FAILED_B))  # the id was not taken


def negative_tool_count() -> EvalRun:
    bad_report = bypass_validation(report(fixture_id="a"), tool_count=-1)
    return make_run(items=(EvalRunItem(fixture_id="a", report=bad_report),), run_id="run-1")


@pytest.mark.parametrize(
    ("field", "build"),
    [
        (
            "started_at_secs",
            lambda: bypass_validation(
                make_run(run_id="run-1", items=A_AND_FAILED_B), started_at_secs=-5
            ),
        ),
        (
            "ended_at_secs",
            lambda: bypass_validation(
                make_run(run_id="run-1", items=A_AND_FAILED_B), ended_at_secs=2**64
            ),
        ),
        (
            "dataset_revision",
            lambda: bypass_validation(
                make_run(run_id="run-1", items=A_AND_FAILED_B), dataset_revision=-1
            ),
        ),
        (
            r"\$\.items\[1\]\.sample_index",
            lambda: make_run(
                items=(item(fixture_id="a"), item(fixture_id="b", sample_index=2**32)),
                run_id="run-1",
            ),
        ),
        (r"\$\.items\[0\]\.report\.tool_count", negative_tool_count),
    ],
)
async def test_write_rejects_what_could_not_be_read_back(
    store: FileEvalRunStore, root: Path, field: str, build: Callable[[], EvalRun]
) -> None:
    with pytest.raises(InvalidInput, match=field):
        await store.write(build())
    assert [] == data_files(root)
    assert not (root / "eval_runs" / ".ids" / "run-1").exists()
    await store.write(make_run(run_id="run-1", items=A_AND_FAILED_B))  # the id was not taken


async def test_append_rejects_an_item_that_could_not_be_read_back(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.begin(header(run_id="stream-1"))
    with pytest.raises(InvalidInput, match=r"\$\[1\]\.sample_index"):
        await store.append(
            "stream-1", (item(fixture_id="a"), item(fixture_id="b", sample_index=2**32))
        )
    assert b"" == (journal(root, "stream-1") / "items.ndjson").read_bytes()
    assert frozenset() == await store.present_keys("stream-1")


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("started_at_secs", {"started_at_secs": -1}),
        ("started_at_secs", {"started_at_secs": 2**64}),
        ("dataset_revision", {"dataset_revision": -1}),
    ],
)
async def test_begin_rejects_a_header_that_could_not_be_read_back(
    store: FileEvalRunStore, root: Path, field: str, changes: dict[str, Any]
) -> None:
    with pytest.raises(InvalidInput, match=field):
        await store.begin(header(**changes, run_id="stream-1"))
    assert (
        [] == files_under(root / "eval_runs" / ".ids")
        if (root / "eval_runs" / ".ids").exists()
        else True
    )
    assert not journal(root, "stream-1").exists()
    assert frozenset() == await store.begin(header(run_id="stream-1"))


async def test_finish_rejects_an_end_that_could_not_be_read_back(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.begin(header(run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a"),))
    with pytest.raises(InvalidInput, match="ended_at_secs"):
        await store.finish("stream-1", ended_at_secs=-1)
    assert {ItemKey("a", None, None)} == await store.present_keys("stream-1")
    assert [] == data_files(root)
    summary = await store.finish("stream-1", ended_at_secs=NOV_2023)
    assert EvalRunSummary.from_run(await store.read("stream-1")) == summary


async def test_unwritable_item_is_not_appended(store: FileEvalRunStore, root: Path) -> None:
    await store.begin(header(run_id="stream-1"))
    bad = EvalRunItem(
        fixture_id="a", report=attrs.evolve(report(fixture_id="a"), cost_usd=math.inf)
    )
    with pytest.raises(InvalidInput, match="cannot be stored as JSON"):
        await store.append("stream-1", (bad,))
    assert b"" == (journal(root, "stream-1") / "items.ndjson").read_bytes()


@settings(max_examples=15, deadline=None)
@given(eval_runs(max_items=3))
def test_any_valid_run_round_trips_through_the_store(tmp_path_factory: Any, run: EvalRun) -> None:
    try:
        validate_run_id(run.id)
    except InvalidRunId:
        return
    if run.started_at_secs == 0:  # stored as started now (tested on its own)
        run = attrs.evolve(run, started_at_secs=1)
    store = FileEvalRunStore(tmp_path_factory.mktemp("roundtrip"))

    async def scenario() -> None:
        await store.write(run)
        assert run == await store.read(run.id)
        assert [run] == await store.list_full(EvalRunFilter())

    anyio.run(scenario)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=253_402_300_799))
def test_shard_is_the_utc_year_month(seconds: int) -> None:
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    assert f"{moment.year:04d}-{moment.month:02d}" == shard_of(seconds)


def test_shard_of_huge_timestamps_is_defined() -> None:
    assert "1970-01" == shard_of(0)
    assert "2023-11" == shard_of(NOV_2023)
    assert re.fullmatch(r"\d{4,}-(0[1-9]|1[0-2])", shard_of(2**64 - 1))


# -- streaming ---------------------------------------------------------------------------


def journal(root: Path, run_id: str) -> Path:
    return root / "eval_runs" / ".open" / run_id


async def test_streaming_begin_append_finish(store: FileEvalRunStore, root: Path) -> None:
    assert frozenset() == await store.begin(
        header(run_id="stream-1", dataset_revision=1, fixture_digests={"a": "d" * 64})
    )
    assert (root / "eval_runs" / ".ids" / "stream-1").is_file()
    await store.append("stream-1", (item(fixture_id="b"),))
    await store.append("stream-1", (item(fixture_id="c"), item(fixture_id="a", passed=False)))
    expected_keys = {ItemKey(f, None, None) for f in "abc"}
    assert expected_keys == await store.present_keys("stream-1")
    with pytest.raises(NotFound):
        await store.read("stream-1")  # an open run is not readable
    assert [] == await store.list(EvalRunFilter())
    order = [ItemKey("a", None, None), ItemKey("b", None, None)]
    summary = await store.finish("stream-1", ended_at_secs=NOV_2023 + 9, item_order=order)
    assert (
        EvalRunSummary(
            id="stream-1",
            dataset_id="ds",
            dataset_revision=1,
            execution_mode=SCRIPTED,
            started_at_secs=NOV_2023,
            item_count=3,
            passed_count=2,
            failed_count=1,
        )
        == summary
    )
    run = await store.read("stream-1")
    assert ["a", "b", "c"] == [i.fixture_id for i in run.items]  # unlisted keys last
    assert (
        EvalRun(
            id="stream-1",
            dataset_id="ds",
            dataset_revision=1,
            execution_mode=SCRIPTED,
            items=run.items,
            started_at_secs=NOV_2023,
            ended_at_secs=NOV_2023 + 9,
            fixture_digests={"a": "d" * 64},
        )
        == run
    )
    assert [summary] == await store.list(EvalRunFilter())
    path = root / "eval_runs" / "2023-11" / "stream-1.json"
    assert to_json(run, pretty=True).encode() == path.read_bytes()
    assert not journal(root, "stream-1").exists()
    assert frozenset() == await store.present_keys("stream-1")
    with pytest.raises(AlreadyExists):
        await store.begin(header(run_id="stream-1"))
    with pytest.raises(AlreadyExists):
        await store.begin(header(run_id="stream-1"), resume=True)


async def test_finish_without_order_keeps_append_order(store: FileEvalRunStore) -> None:
    await store.begin(header(mode=LIVE, run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="b", model="m", live=True),))
    await store.append("stream-1", (item(fixture_id="a", model="m", live=True, sample_index=0),))
    assert 2 == (await store.finish("stream-1", ended_at_secs=NOV_2023)).item_count
    assert ["b", "a"] == [i.fixture_id for i in (await store.read("stream-1")).items]


async def test_begin_of_an_open_run_without_resume_conflicts(store: FileEvalRunStore) -> None:
    await store.begin(header(run_id="stream-1"))
    with pytest.raises(Conflict, match="already open") as caught:
        await store.begin(header(run_id="stream-1"))
    assert not isinstance(caught.value, AlreadyExists)


async def test_resume_with_another_identity_conflicts(store: FileEvalRunStore) -> None:
    await store.begin(header(run_id="stream-1"))
    for other in (
        header(dataset_id="x", run_id="stream-1"),
        header(dataset_revision=2, run_id="stream-1"),
        header(mode=LIVE, run_id="stream-1"),
    ):
        with pytest.raises(Conflict, match="another dataset"):
            await store.begin(other, resume=True)


async def test_resume_returns_present_keys_and_keeps_the_stored_header(root: Path) -> None:
    await FileEvalRunStore(root).begin(header(started_at_secs=NOV_2023, run_id="stream-1"))
    await FileEvalRunStore(root).append("stream-1", (item(fixture_id="a"), item(fixture_id="b")))
    reopened = FileEvalRunStore(root)  # a new process, as far as the store can tell
    present = await reopened.begin(header(started_at_secs=DEC_2023, run_id="stream-1"), resume=True)
    assert {ItemKey("a", None, None), ItemKey("b", None, None)} == present
    await reopened.append("stream-1", (item(fixture_id="c"),))
    summary = await reopened.finish("stream-1", ended_at_secs=DEC_2023)
    assert (NOV_2023, 3) == (summary.started_at_secs, summary.item_count)
    assert (root / "eval_runs" / "2023-11" / "stream-1.json").is_file()


async def test_resume_drops_a_torn_last_journal_line(store: FileEvalRunStore, root: Path) -> None:
    await store.begin(header(run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a"),))
    items_file = journal(root, "stream-1") / "items.ndjson"
    acknowledged = items_file.read_bytes()
    torn = to_json(item(fixture_id="b")).encode()[:30]
    with items_file.open("ab") as handle:  # a writer killed mid-append
        handle.write(torn)
    reopened = FileEvalRunStore(root)
    assert {ItemKey("a", None, None)} == await reopened.begin(
        header(run_id="stream-1"), resume=True
    )
    assert acknowledged == items_file.read_bytes()  # truncated away
    await reopened.append("stream-1", (item(fixture_id="b"),))
    assert 2 == (await reopened.finish("stream-1", ended_at_secs=NOV_2023)).item_count
    assert ["a", "b"] == [i.fixture_id for i in (await reopened.read("stream-1")).items]


async def test_finish_ignores_a_torn_last_line(store: FileEvalRunStore, root: Path) -> None:
    await store.begin(header(run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a"),))
    with (journal(root, "stream-1") / "items.ndjson").open("ab") as handle:
        handle.write(b'{"fixture_id":"b","rep')
    assert 1 == (await FileEvalRunStore(root).finish("stream-1", ended_at_secs=NOV_2023)).item_count
    assert ["a"] == [i.fixture_id for i in (await store.read("stream-1")).items]


async def test_corrupt_complete_journal_line_is_a_store_failure(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.begin(header(run_id="stream-1"))
    with (journal(root, "stream-1") / "items.ndjson").open("ab") as handle:
        handle.write(b"garbage\n")
    reopened = FileEvalRunStore(root)
    with pytest.raises(StoreFailure, match=r"stream-1.*line 1"):
        await reopened.begin(header(run_id="stream-1"), resume=True)
    with pytest.raises(StoreFailure, match=r"stream-1.*line 1"):
        await reopened.finish("stream-1", ended_at_secs=NOV_2023)
    assert journal(root, "stream-1").is_dir()  # the run stays open


async def test_append_rejects_duplicate_keys_and_appends_nothing(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.begin(header(mode=LIVE, run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a", model="m", live=True),))
    items_file = journal(root, "stream-1") / "items.ndjson"
    before = items_file.read_bytes()
    with pytest.raises(DuplicateItemKeys, match="duplicate eval-run item key"):
        await store.append(
            "stream-1",
            (item(fixture_id="b", live=True), item(fixture_id="a", model="m", live=True)),
        )
    with pytest.raises(DuplicateItemKeys, match="duplicate eval-run item key"):
        await store.append(
            "stream-1", (item(fixture_id="c", live=True), item(fixture_id="c", live=True))
        )
    assert before == items_file.read_bytes()
    assert {ItemKey("a", "m", None)} == await store.present_keys("stream-1")
    await store.append("stream-1", (item(fixture_id="a", model="m", live=True, sample_index=0),))


async def test_append_rejects_items_of_the_wrong_shape(store: FileEvalRunStore) -> None:
    await store.begin(header(mode=SCRIPTED, run_id="stream-1"))
    with pytest.raises(InvalidExecutionShape, match="execution_mode=scripted"):
        await store.append("stream-1", (item(fixture_id="a", live=True),))
    assert frozenset() == await store.present_keys("stream-1")


async def test_append_and_finish_need_an_open_run(store: FileEvalRunStore) -> None:
    with pytest.raises(NotFound, match="no open eval run: nope"):
        await store.append("nope", (item(fixture_id="a"),))
    with pytest.raises(NotFound, match="no open eval run: nope"):
        await store.finish("nope", ended_at_secs=1)
    await store.write(make_run(run_id="done", items=A_AND_FAILED_B))
    with pytest.raises(NotFound):
        await store.append("done", (item(fixture_id="z"),))


async def test_write_of_an_open_run_id_already_exists(store: FileEvalRunStore) -> None:
    await store.begin(header(run_id="stream-1"))
    with pytest.raises(AlreadyExists):
        await store.write(make_run(run_id="stream-1", items=A_AND_FAILED_B))


async def test_begin_of_a_written_run_already_exists(store: FileEvalRunStore) -> None:
    await store.write(make_run(run_id="done", items=A_AND_FAILED_B))
    with pytest.raises(AlreadyExists):
        await store.begin(header(run_id="done"), resume=True)


async def test_resume_of_an_unknown_run_starts_it(store: FileEvalRunStore) -> None:
    assert frozenset() == await store.begin(header(run_id="stream-1"), resume=True)
    assert frozenset() == await store.present_keys("stream-1")


async def test_concurrent_appends_all_land(store: FileEvalRunStore) -> None:
    await store.begin(header(run_id="stream-1"))

    async def appender(worker: int) -> None:
        for index in range(5):
            await store.append("stream-1", (item(fixture_id=f"w{worker}-{index}"),))

    async with anyio.create_task_group() as group:
        for worker in range(4):
            group.start_soon(appender, worker)
    assert 20 == (await store.finish("stream-1", ended_at_secs=NOV_2023)).item_count
    assert 20 == len({i.fixture_id for i in (await store.read("stream-1")).items})


async def test_appends_from_two_store_objects_see_each_other(root: Path) -> None:
    first, second = FileEvalRunStore(root), FileEvalRunStore(root)
    await first.begin(header(run_id="stream-1"))
    await first.append("stream-1", (item(fixture_id="a"),))
    await second.append("stream-1", (item(fixture_id="b"),))
    with pytest.raises(DuplicateItemKeys):
        await first.append("stream-1", (item(fixture_id="b"),))  # the cache notices the new line
    assert {ItemKey("a", None, None), ItemKey("b", None, None)} == await first.present_keys(
        "stream-1"
    )


async def test_finish_interrupted_after_publishing_is_completed_later(
    store: FileEvalRunStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.begin(header(run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a"),))

    def crash(run_id: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(store, "_drop_journal", crash)
    with pytest.raises(KeyboardInterrupt):
        await store.finish("stream-1", ended_at_secs=NOV_2023 + 1)
    reopened = FileEvalRunStore(root)
    with pytest.raises(AlreadyExists):
        await reopened.begin(header(run_id="stream-1"), resume=True)
    assert not journal(root, "stream-1").exists()  # the leftover journal is tidied


async def test_finish_retried_after_publishing_returns_the_stored_run(
    store: FileEvalRunStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await store.begin(header(run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a"),))
    monkeypatch.setattr(store, "_drop_journal", lambda run_id: None)
    summary = await store.finish("stream-1", ended_at_secs=NOV_2023 + 1)
    assert summary == await FileEvalRunStore(root).finish("stream-1", ended_at_secs=NOV_2023 + 2)
    assert not journal(root, "stream-1").exists()
    assert NOV_2023 + 1 == (await store.read("stream-1")).ended_at_secs


@pytest.mark.parametrize("pretty", [True, False])
async def test_finish_retried_after_publishing_summarises_the_file_not_the_journal(
    store: FileEvalRunStore, root: Path, monkeypatch: pytest.MonkeyPatch, pretty: bool
) -> None:
    # The run file is the truth: pretty files (this store's layout) are scanned item
    # by item, others read whole.
    await store.begin(header(mode=LIVE, run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a", live=True),))
    published = make_run(
        run_id="stream-1",
        mode=LIVE,
        items=(
            item(fixture_id="x", live=True),
            item(fixture_id="y", live=True, passed=False),
            item(fixture_id="z", live=True),
        ),
    )
    place(root, "2023-11", "stream-1.json", to_json(published, pretty=pretty))
    if pretty:

        def not_loaded(run_id: str) -> EvalRun:
            raise AssertionError(run_id)

        monkeypatch.setattr(store, "_read", not_loaded)
    summary = await store.finish("stream-1", ended_at_secs=NOV_2023)
    assert EvalRunSummary.from_run(published) == summary
    assert not journal(root, "stream-1").exists()


async def test_finish_retried_over_a_corrupt_file_reports_it(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.begin(header(run_id="stream-1"))
    text = to_json(make_run(run_id="stream-1", items=A_AND_FAILED_B), pretty=True).replace(
        '"passed": true', '"passed": 1'
    )
    place(root, "2023-11", "stream-1.json", text)
    with pytest.raises(StoreFailure, match=r"eval run stream-1 is corrupt"):
        await store.finish("stream-1", ended_at_secs=NOV_2023)


@settings(max_examples=40, deadline=None)
@given(eval_runs(max_items=4))
def test_scanned_summary_of_a_pretty_document_is_the_runs(run: EvalRun) -> None:
    lines = io.BytesIO(to_json(run, pretty=True).encode())
    assert EvalRunSummary.from_run(run) == scan_summary(lines)


@pytest.mark.parametrize(
    "text",
    [
        # items not laid out as this store writes them
        to_json(make_run(run_id="run-1", items=A_AND_FAILED_B), pretty=False),
        json.dumps(json.loads(to_json(make_run(run_id="run-1", items=A_AND_FAILED_B))), indent=4),
        to_json(make_run(run_id="run-1", items=A_AND_FAILED_B), pretty=True).replace(
            '  "items": [\n    {', '  "items": [\n    {}, {'
        ),
        to_json(make_run(run_id="run-1", items=A_AND_FAILED_B), pretty=True).split("  ],")[
            0
        ],  # cut inside the items
        # the items break the mode
        to_json(
            make_run(items=(item(fixture_id="a", live=True),), mode=LIVE, run_id="run-1"),
            pretty=True,
        ).replace('"execution_mode": "live"', '"execution_mode": "scripted"'),
    ],
)
def test_scanned_summary_gives_up_on_other_layouts(text: str) -> None:
    assert scan_summary(io.BytesIO(text.encode())) is None


def test_scanned_summary_of_invalid_json_raises() -> None:
    with pytest.raises(ValueError, match="Unterminated string"):
        scan_summary(
            io.BytesIO(
                to_json(make_run(run_id="run-1", items=A_AND_FAILED_B), pretty=True)[:-20].encode()
            )
        )


async def test_finish_reports_a_journal_line_without_a_passed_report(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.begin(header(run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a"),))
    with (journal(root, "stream-1") / "items.ndjson").open("ab") as handle:
        handle.write(b'{"fixture_id":"b","report":{"passed":"yes"}}\n')
    with pytest.raises(StoreFailure, match=r"items\.ndjson line 2 is corrupt: .*passed"):
        await store.finish("stream-1", ended_at_secs=NOV_2023)
    assert journal(root, "stream-1").is_dir()  # the run stays open
    assert [] == data_files(root)
    assert [] == files_under(root / "eval_runs" / "2023-11")  # no temp file left


@pytest.mark.parametrize(
    ("mode", "line", "rule"),
    [
        (SCRIPTED, item(fixture_id="b", live=True), "execution_mode=scripted forbids cells"),
        (LIVE, item(fixture_id="b"), "execution_mode=live requires a cell on every item"),
    ],
)
async def test_finish_reports_a_journal_line_that_breaks_the_mode(
    store: FileEvalRunStore,
    root: Path,
    mode: EvalRunExecutionMode,
    line: EvalRunItem,
    rule: str,
) -> None:
    await store.begin(header(mode=mode, run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a", live=mode is LIVE),))
    with (journal(root, "stream-1") / "items.ndjson").open("ab") as handle:
        handle.write(to_json(line).encode() + b"\n")
    with pytest.raises(StoreFailure, match=rf"stream-1: journal .* line 2 breaks {rule}"):
        await store.finish("stream-1", ended_at_secs=NOV_2023)
    assert journal(root, "stream-1").is_dir()
    assert [] == data_files(root)


async def test_finish_reports_a_journal_repeating_a_listed_key(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.begin(header(run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a"), item(fixture_id="b")))
    items_file = journal(root, "stream-1") / "items.ndjson"
    with items_file.open("ab") as handle:  # the journal written behind the store's back
        handle.write(items_file.read_bytes().splitlines(keepends=True)[1])
    order = [ItemKey("b", None, None), ItemKey("a", None, None)]
    with pytest.raises(StoreFailure, match=r"line 3 repeats the item key fixture 'b'"):
        await store.finish("stream-1", ended_at_secs=NOV_2023, item_order=order)
    assert journal(root, "stream-1").is_dir()


async def test_resume_reports_a_journal_repeating_a_key(
    store: FileEvalRunStore, root: Path
) -> None:
    await store.begin(header(run_id="stream-1"))
    await store.append("stream-1", (item(fixture_id="a"), item(fixture_id="b")))
    items_file = journal(root, "stream-1") / "items.ndjson"
    with items_file.open("ab") as handle:  # the journal written behind the store's back
        handle.write(items_file.read_bytes().splitlines(keepends=True)[0])
    with pytest.raises(StoreFailure, match=r"line 3 repeats the item key fixture 'a'"):
        await FileEvalRunStore(root).begin(header(run_id="stream-1"), resume=True)


async def test_resumed_keys_are_the_cache_and_share_their_strings(root: Path) -> None:
    # Long names: the interpreter shares one-letter strings anyway.
    fixtures, models = ("fixture-a", "fixture-b"), ("model-m", "model-n")
    await FileEvalRunStore(root).begin(header(mode=LIVE, run_id="stream-1"))
    batch = tuple(
        item(fixture_id=f, model=m, sample_index=k, live=True)
        for f in fixtures
        for m in models
        for k in (0, 1)
    )
    await FileEvalRunStore(root).append("stream-1", batch)
    reopened = FileEvalRunStore(root)
    present = await reopened.begin(header(mode=LIVE, run_id="stream-1"), resume=True)
    assert {i.key for i in batch} == present
    assert present is await reopened.present_keys("stream-1")  # handed out, not copied
    assert 2 == len({id(key.model_id) for key in present})  # one string a model
    assert 2 == len({id(key.fixture_id) for key in present})  # samples follow each other
    await reopened.append("stream-1", (item(fixture_id="c", live=True),))
    with pytest.raises(DuplicateItemKeys):
        await reopened.append("stream-1", (item(fixture_id="c", live=True),))
    with pytest.raises(DuplicateItemKeys):
        await reopened.append(
            "stream-1", (item(fixture_id="fixture-a", model="model-n", sample_index=1, live=True),)
        )
    assert present | {ItemKey("c", None, None)} == await reopened.present_keys("stream-1")


async def test_finish_of_an_empty_run_writes_no_items(store: FileEvalRunStore, root: Path) -> None:
    await store.begin(header(run_id="stream-1"))
    order = [ItemKey("a", None, None)]
    summary = await store.finish("stream-1", ended_at_secs=NOV_2023, item_order=order)
    assert (0, 0, 0) == (summary.item_count, summary.passed_count, summary.failed_count)
    run = await store.read("stream-1")
    assert () == run.items
    path = root / "eval_runs" / "2023-11" / "stream-1.json"
    assert to_json(run, pretty=True).encode() == path.read_bytes()


@settings(max_examples=25, deadline=None)
@given(
    items=st.lists(eval_run_items(cell=True), max_size=8, unique_by=lambda i: i.key),
    batch_size=st.integers(1, 3),
    listed=st.integers(0, 8),
    extra=st.lists(eval_run_items(cell=True).map(lambda i: i.key), max_size=2),
    order_seed=st.randoms(use_true_random=False),
    with_order=st.booleans(),
)
def test_finish_agrees_with_the_in_memory_store(
    tmp_path_factory: Any,
    *,
    items: list[EvalRunItem],
    batch_size: int,
    listed: int,
    extra: list[ItemKey],
    order_seed: Any,
    with_order: bool,
) -> None:
    # An order listing part of the keys (the rest follow in append order), keys not
    # in the run, and a key listed twice (its last place wins).
    keys = [i.key for i in items[:listed]] + extra
    order_seed.shuffle(keys)
    keys += keys[:1]
    order = keys if with_order else None
    place = {key: position for position, key in enumerate(keys)}
    ordered = sorted(items, key=lambda i: place.get(i.key, len(keys))) if with_order else items
    root = tmp_path_factory.mktemp("agree")
    store, memory = FileEvalRunStore(root), InMemoryRunStore()

    async def scenario() -> None:
        for target in (store, memory):
            await target.begin(header(mode=LIVE, run_id="stream-1"))
            for start in range(0, len(items), batch_size):
                await target.append("stream-1", tuple(items[start : start + batch_size]))
        summary = await memory.finish("stream-1", ended_at_secs=NOV_2023, item_order=order)
        assert summary == await store.finish("stream-1", ended_at_secs=NOV_2023, item_order=order)
        expected = attrs.evolve(await memory.read("stream-1"), items=tuple(ordered))
        assert expected == await store.read("stream-1")
        path = root / "eval_runs" / "2023-11" / "stream-1.json"
        assert to_json(expected, pretty=True).encode() == path.read_bytes()

    anyio.run(scenario)


async def test_unlisted_items_follow_every_listed_one(store: FileEvalRunStore) -> None:
    # With a key listed twice the order has more places than keys: the unlisted
    # items still come after the last place.
    await store.begin(header(run_id="stream-1"))
    await store.append(
        "stream-1", (item(fixture_id="a"), item(fixture_id="u"), item(fixture_id="b"))
    )
    order = [ItemKey("a", None, None), ItemKey("a", None, None), ItemKey("b", None, None)]
    await store.finish("stream-1", ended_at_secs=NOV_2023, item_order=order)
    assert ["a", "b", "u"] == [i.fixture_id for i in (await store.read("stream-1")).items]


KEYS = st.builds(
    ItemKey,
    st.sampled_from(["a", "b", "c"]),
    st.none() | st.sampled_from(["m", "n"]),
    st.none() | st.integers(0, 2),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(KEYS, max_size=40), st.lists(KEYS, max_size=10), st.booleans())
def test_positions_are_those_of_a_dictionary(
    order: list[ItemKey], others: list[ItemKey], as_tuple: bool
) -> None:
    positions = Positions(tuple(order) if as_tuple else order)
    expected = {key: position for position, key in enumerate(order)}
    assert len(order) == len(positions)
    for key in order + others:
        assert expected.get(key, -1) == positions.find(key)


async def test_begin_losing_the_marker_race_leaves_nothing(
    store: FileEvalRunStore, root: Path
) -> None:
    marker = root / "eval_runs" / ".ids" / "stream-1"
    marker.parent.mkdir(parents=True)
    check = store._ensure_absent

    def then_someone_else_takes_the_marker(run_id: str) -> None:
        check(run_id)
        marker.write_text("other writer\n")

    store._ensure_absent = then_someone_else_takes_the_marker  # type: ignore[method-assign]
    with pytest.raises(AlreadyExists):
        await store.begin(header(run_id="stream-1"))
    assert not journal(root, "stream-1").exists()
    assert [] == list((root / "eval_runs" / ".staging").iterdir())


def finish_peak(root: Path, count: int) -> tuple[int, list[ItemKey], EvalRunSummary]:
    """Traced peak of finishing ``count`` live items with an order listing every key."""
    store = FileEvalRunStore(root)
    order = [
        ItemKey(f"fixture-{i:05d}", "m", sample) for i in range(count // 4) for sample in range(4)
    ]
    measured: dict[str, int] = {}

    async def scenario() -> EvalRunSummary:
        await store.begin(header(mode=LIVE, run_id="stream-1"))
        for start in range(0, count, 2_000):  # each batch appended back to front
            keys = list(enumerate(order[start : start + 2_000], start))
            batch = tuple(
                item(
                    fixture_id=key.fixture_id,
                    model="m",
                    sample_index=key.sample_index,
                    live=True,
                    passed=i % 4 > 0,
                )
                for i, key in reversed(keys)
            )
            await store.append("stream-1", batch)
        gc.collect()
        tracemalloc.start()
        try:
            summary = await store.finish("stream-1", ended_at_secs=NOV_2023, item_order=order)
            measured["peak"] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return summary

    summary = anyio.run(scenario)
    assert (count, count * 3 // 4) == (summary.item_count, summary.passed_count)
    return measured["peak"], order, summary


def test_finish_holds_no_item_in_memory(tmp_path: Path) -> None:
    # Structuring the journal's items would take about 435 bytes an item here; the
    # finish keeps about 16 (an offset, a position, a slot of the order's table).
    # Two sizes, so the fixed costs (buffers) cancel out of the growth per item.
    small, _, _ = finish_peak(tmp_path / "small", 1_500)
    large, order, summary = finish_peak(tmp_path / "large", 6_000)
    assert large - small < (6_000 - 1_500) * 64
    assert large < 6_000 * 400 // 2
    assert order == [
        i.key for i in anyio.run(FileEvalRunStore(tmp_path / "large").read, "stream-1").items
    ]
    assert 6_000 == summary.item_count


# -- a writer killed with SIGKILL --------------------------------------------------------

KILLED_CHILD = """
import sys

import anyio

from awaken_eval import ReplayReport
from awaken_eval.records import RunHeader
from awaken_eval import EvalRun, EvalRunExecutionMode, EvalRunItem
from awaken_eval.stores import FileEvalRunStore


def item(fixture_id):
    report = ReplayReport(
        fixture_id=fixture_id, passed=True, failures=(), final_text="x" * 200,
        inference_count=1, tool_count=0, tool_failures=0, total_input_tokens=1,
        total_output_tokens=1, session_duration_ms=1,
    )
    return EvalRunItem(fixture_id=fixture_id, report=report)


async def main():
    store = FileEvalRunStore(sys.argv[1])
    header = RunHeader(
        id="killed", dataset_id="ds", dataset_revision=1,
        execution_mode=EvalRunExecutionMode.SCRIPTED, started_at_secs=1700006400,
    )
    await store.begin(header, resume=True)
    index = 0
    while True:
        await store.append("killed", tuple(item(f"a{index}-{k}") for k in range(50)))
        print(f"A {index}", flush=True)
        run = EvalRun(
            id=f"w{index}", dataset_id="ds", dataset_revision=1,
            items=tuple(item(f"f{k}") for k in range(300)),
            started_at_secs=1700006400 + index, ended_at_secs=1700006400 + index,
        )
        await store.write(run)
        print(f"W {index}", flush=True)
        index += 1


anyio.run(main)
"""


def test_sigkilled_writer_loses_no_acknowledged_data(tmp_path: Path) -> None:
    acknowledged: list[str] = []
    with subprocess.Popen(  # noqa: S603 - the test's own interpreter and script
        [sys.executable, "-c", KILLED_CHILD, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        try:
            while len(acknowledged) < 12:
                line = child.stdout.readline()
                assert line, child.stderr.read()
                acknowledged.append(line.strip())
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
    appended = [int(a.split()[1]) for a in acknowledged if a.startswith("A ")]
    written = [f"w{a.split()[1]}" for a in acknowledged if a.startswith("W ")]
    store = FileEvalRunStore(tmp_path)

    async def check() -> None:
        for run_id in written:
            assert 300 == len((await store.read(run_id)).items)
        listed = [summary.id for summary in await store.list(EvalRunFilter())]
        assert set(written) <= set(listed)
        for run_id in listed:  # whatever is visible is whole
            assert 300 == len((await store.read(run_id)).items)
        present = await store.begin(header(run_id="killed", dataset_revision=1), resume=True)
        expected = {ItemKey(f"a{i}-{k}", None, None) for i in appended for k in range(50)}
        assert expected <= present
        summary = await store.finish("killed", ended_at_secs=NOV_2023)
        assert len(present) == summary.item_count
        assert len(present) == len((await store.read("killed")).items)

    anyio.run(check)
