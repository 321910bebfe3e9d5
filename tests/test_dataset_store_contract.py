"""The dataset-store contract, once for every store (spec §1.16, §4.10 dataset CRUD).

Every test runs against the in-memory, file and PostgreSQL dataset stores (each fresh;
the file store in ``tmp_path``, the PostgreSQL one in a schema of its own) on asyncio
and trio: create at revision 0 (conflict on an existing id), get (NotFound), list
(ids, revisions, sorted, paged), replace with compare-and-swap, delete with
compare-and-swap, the validation order of §1.16, concurrent writers (exactly one wins)
and a Hypothesis round trip of generated specs.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from hypothesis import HealthCheck, assume, given, settings

import postgres_support
from awaken_eval import Conflict, DatasetSpec, Expectation, Fixture, InvalidRequest, NotFound
from awaken_eval.protocols import DatasetLister, DatasetStore
from awaken_eval.records import DatasetRecord, DatasetSummary
from awaken_eval.stores import FileDatasetStore, InMemoryDatasetStore, PostgresDatasetStore
from strategies import dataset_specs

pytestmark = pytest.mark.anyio

STORE_KINDS = ["memory", "files", "postgres"]
INVALID_IDS = ["", ".", "..", "a/b", "a\\b", "a\x00b", "../escape"]

AnyStore = InMemoryDatasetStore | FileDatasetStore | PostgresDatasetStore


def open_store(kind: str, root: Path) -> AnyStore:
    """A dataset store of ``kind`` kept under ``root`` (a schema named after it)."""
    if kind == "memory":
        return InMemoryDatasetStore()
    if kind == "files":
        return FileDatasetStore(root)
    return PostgresDatasetStore(postgres_support.url_for(str(root)))


async def close_store(store: AnyStore) -> None:
    if isinstance(store, PostgresDatasetStore):
        await anyio.to_thread.run_sync(store.close)


@pytest.fixture(params=STORE_KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AnyStore]:
    created = open_store(request.param, tmp_path)
    yield created
    await close_store(created)


def fixture(fixture_id: str, score: float | None = None) -> Fixture:
    return Fixture(fixture_id, f"say {fixture_id}", expect=Expectation(min_judge_score=score))


def spec(text: str, *ids: str) -> DatasetSpec:
    return DatasetSpec(description=text, fixtures=tuple(fixture(i) for i in ids))


def test_every_store_implements_both_protocols(tmp_path: Path) -> None:
    for kind in STORE_KINDS:
        store = open_store(kind, tmp_path / kind)
        assert isinstance(store, DatasetStore)
        assert isinstance(store, DatasetLister)


# -- create and get (§4.10 create: revision 0, existing id → 409) ---------------------------


async def test_create_starts_at_revision_zero_and_conflicts_on_an_existing_id(
    store: AnyStore,
) -> None:
    with pytest.raises(NotFound, match="dataset not found: ds"):
        await store.get("ds")
    assert 0 == await store.put("ds", spec("v0", "a"), expected_revision=None)
    assert DatasetRecord(spec("v0", "a"), 0) == await store.get("ds")
    with pytest.raises(Conflict, match="dataset already exists: ds"):
        await store.put("ds", spec("again"), expected_revision=None)
    assert DatasetRecord(spec("v0", "a"), 0) == await store.get("ds")


@pytest.mark.parametrize("bad_id", INVALID_IDS)
async def test_invalid_ids_are_refused_and_store_nothing(store: AnyStore, bad_id: str) -> None:
    with pytest.raises(InvalidRequest, match="invalid dataset id"):
        await store.put(bad_id, spec("x"), expected_revision=None)
    assert [] == await store.list_datasets()


# -- replace with compare-and-swap (§4.10 put) ------------------------------------------------


async def test_replace_compares_and_swaps_the_revision(store: AnyStore) -> None:
    await store.put("ds", spec("v0"), expected_revision=None)
    assert 1 == await store.put("ds", spec("v1", "a"), expected_revision=0)
    with pytest.raises(Conflict, match="revision conflict: expected 0, actual 1"):
        await store.put("ds", spec("stale"), expected_revision=0)
    assert 2 == await store.put("ds", spec("v2", "a", "b"), expected_revision=1)
    with pytest.raises(Conflict, match="revision conflict: expected 7, actual 2"):
        await store.put("ds", spec("stale"), expected_revision=7)
    assert DatasetRecord(spec("v2", "a", "b"), 2) == await store.get("ds")


async def test_replace_of_a_missing_dataset_creates_only_from_revision_zero(
    store: AnyStore,
) -> None:
    with pytest.raises(NotFound, match="dataset not found: ds"):
        await store.put("ds", spec("x"), expected_revision=3)
    assert 1 == await store.put("ds", spec("x"), expected_revision=0)
    assert DatasetRecord(spec("x"), 1) == await store.get("ds")


# -- delete (§4.10: idempotent; CAS with expected_revision) ------------------------------


async def test_delete_is_idempotent_and_compare_and_swap_when_asked(store: AnyStore) -> None:
    await store.delete("ds")  # missing: nothing to do
    await store.delete("ds", expected_revision=4)
    await store.put("ds", spec("v0"), expected_revision=None)
    await store.put("ds", spec("v1"), expected_revision=0)
    with pytest.raises(Conflict, match="revision conflict: expected 0, actual 1"):
        await store.delete("ds", expected_revision=0)
    assert 1 == (await store.get("ds")).revision
    await store.delete("ds", expected_revision=1)
    with pytest.raises(NotFound):
        await store.get("ds")
    assert 0 == await store.put("ds", spec("reborn"), expected_revision=None)
    await store.delete("ds")
    assert [] == await store.list_datasets()


# -- list (§4.10: ids, revisions, sorted, offset/limit) ------------------------------------


async def test_list_is_sorted_by_id_with_revisions_and_pages(store: AnyStore) -> None:
    for dataset_id in ["b", "a", "c"]:
        await store.put(dataset_id, spec(f"about {dataset_id}", "x"), expected_revision=None)
    await store.put("b", spec("about b", "x", "y"), expected_revision=0)
    rows = await store.list_datasets()
    assert [
        DatasetSummary(id="a", description="about a", fixture_count=1, revision=0),
        DatasetSummary(id="b", description="about b", fixture_count=2, revision=1),
        DatasetSummary(id="c", description="about c", fixture_count=1, revision=0),
    ] == rows
    assert rows[1:2] == await store.list_datasets(offset=1, limit=1)
    assert rows[2:] == await store.list_datasets(offset=2)
    assert [] == await store.list_datasets(offset=5, limit=10)
    assert [] == await store.list_datasets(limit=0)


# -- validation order (§1.16: duplicate ids first, then judge ranges) ---------------------


async def test_write_validation_runs_in_the_reference_order(store: AnyStore) -> None:
    both = DatasetSpec(fixtures=(fixture("a", 1.5), fixture("a")))
    with pytest.raises(InvalidRequest, match="duplicate fixture id in dataset: a"):
        await store.put("ds", both, expected_revision=None)
    judged = DatasetSpec(fixtures=(fixture("a"), fixture("b", -0.1)))
    with pytest.raises(InvalidRequest, match=r"fixture b.*\[0\.0, 1\.0\]"):
        await store.put("ds", judged, expected_revision=None)
    await store.put("ds", spec("ok", "a"), expected_revision=None)
    with pytest.raises(InvalidRequest, match="duplicate fixture id in dataset: a"):
        await store.put("ds", both, expected_revision=0)
    assert DatasetRecord(spec("ok", "a"), 0) == await store.get("ds")


# -- concurrent writers ---------------------------------------------------------------------


async def test_concurrent_writers_of_one_revision_have_exactly_one_winner(
    store: AnyStore,
) -> None:
    await store.put("ds", spec("v0"), expected_revision=None)
    outcomes: list[str] = []

    async def write(writer: int) -> None:
        try:
            await store.put("ds", spec(str(writer)), expected_revision=0)
            outcomes.append(str(writer))
        except Conflict:
            outcomes.append("conflict")

    async with anyio.create_task_group() as group:
        for writer in range(6):
            group.start_soon(write, writer)
    winners = [outcome for outcome in outcomes if outcome != "conflict"]
    assert 1 == len(winners)
    assert DatasetRecord(spec(winners[0]), 1) == await store.get("ds")


async def test_concurrent_creators_have_exactly_one_winner(store: AnyStore) -> None:
    outcomes: list[str] = []

    async def create(writer: int) -> None:
        try:
            await store.put("ds", spec(str(writer)), expected_revision=None)
            outcomes.append(str(writer))
        except Conflict:
            outcomes.append("conflict")

    async with anyio.create_task_group() as group:
        for writer in range(6):
            group.start_soon(create, writer)
    assert 5 == outcomes.count("conflict")


# -- round trip (Hypothesis) ----------------------------------------------------------------


def _valid(generated: DatasetSpec) -> bool:
    from awaken_eval._records.rules import validate_dataset_for_write  # noqa: PLC0415

    try:
        validate_dataset_for_write(generated)
    except InvalidRequest:
        return False
    return True


@pytest.mark.parametrize("store_kind", STORE_KINDS)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=dataset_specs(), second=dataset_specs())
def test_generated_specs_round_trip_through_every_write(
    store_kind: str, first: DatasetSpec, second: DatasetSpec
) -> None:
    assume(_valid(first) and _valid(second))

    async def scenario(root: Path) -> None:
        store = open_store(store_kind, root)
        try:
            await store.put("ds", first, expected_revision=None)
            assert DatasetRecord(first, 0) == await store.get("ds")
            await store.put("ds", second, expected_revision=0)
            assert DatasetRecord(second, 1) == await store.get("ds")
            summary = DatasetSummary(
                id="ds",
                description=second.description,
                fixture_count=len(second.fixtures),
                revision=1,
            )
            assert [summary] == await store.list_datasets()
        finally:
            await close_store(store)

    with tempfile.TemporaryDirectory() as directory:
        anyio.run(scenario, Path(directory))
