"""Curation into stored datasets: one trace, traces in bulk, a dialogue (spec §6.3).

Each operation checks in the reference's order, writes the dataset once with
compare-and-swap against the revision it read, and pins the traces it used **only
after** that write succeeded: a refused or conflicting write pins nothing. A pin that
fails after the write does not turn the answer into an error (the reference's bug,
trace-store spec §8.9): the write stands and the response lists the run in
``unpinned``; the other runs are still pinned.
"""

from __future__ import annotations

import attrs

from awaken_eval._records.expectations import Expectation
from awaken_eval._records.fixtures import Fixture
from awaken_eval._records.rules import validate_min_judge_score
from awaken_eval._records.traces import TraceFilter, TraceStoreEvent
from awaken_eval.curate import (
    CurateError,
    CurateErrorKind,
    curate_fixture,
    stitch_dialogue,
    trace_fixture_source,
)
from awaken_eval.errors import Conflict, InvalidRequest, NotFound, ServiceError, StoreFailure
from awaken_eval.protocols import DatasetStore, TraceStore
from awaken_eval.service._dataset_io import (
    check_revision,
    pin_all,
    read_dataset,
    read_trace,
    require_traces,
    write_dataset,
)
from awaken_eval.service._dataset_requests import (
    CurateItemRequest,
    DatasetMeta,
    DatasetResponse,
    ImportDialogueRequest,
    ImportDialogueResponse,
    ImportTracesRequest,
    ImportTracesResponse,
)

__all__ = ["curate_item", "import_dialogue", "import_traces"]


def _check_expectation(expectation: Expectation) -> None:
    if expectation.is_empty():
        msg = "expected must hold at least one expectation"
        raise InvalidRequest(msg)
    validate_min_judge_score(expectation, "expected")


def _already_has(dataset_id: str, fixture_id: str) -> Conflict:
    return Conflict(f"dataset {dataset_id} already has fixture {fixture_id}")


async def curate_item(
    datasets: DatasetStore,
    traces: TraceStore | None,
    dataset_id: str,
    request: CurateItemRequest,
) -> DatasetResponse:
    """Curate the trace ``request.from_run_id`` into a new fixture of ``dataset_id``.

    Order (spec §6.3): trace store configured (503) → expectation non-empty and in
    range (400) → read the trace (404, 400) → curate per mode (400 ``curating trace:``)
    → load the dataset (404) → fixture id new (409 ``already has fixture``) → user
    input given or recovered (400 naming ``user_input``) → validate and write with
    compare-and-swap (409 ``revision conflict``) → pin the trace.

    Raises:
        NotConfigured: no trace store.
        InvalidRequest: a rule above.
        NotFound: unknown trace or dataset.
        Conflict: the fixture id exists, or another write won.
        StoreFailure: a store failed.
    """
    store = require_traces(traces)
    expectation = request.expectation
    _check_expectation(expectation)
    run_id = request.from_run_id
    events = (await read_trace(store, run_id)).events
    try:
        recovered = trace_fixture_source(events).user_input
        # The user input check comes after the dataset checks (the reference's order).
        user_input = request.user_input if request.user_input is not None else recovered
        fixture = curate_fixture(
            events,
            run_id=run_id,
            expectation=expectation,
            fixture_id=request.fixture_id,
            mode=request.provider_script_mode,
            user_input=user_input if user_input is not None else "",
            description=request.description,
            allow_unused_provider_script=request.allow_unused_provider_script,
        )
    except CurateError as exc:
        msg = f"curating trace: {exc.reason}"
        raise InvalidRequest(msg) from exc
    record = await read_dataset(datasets, dataset_id)
    if any(existing.id == fixture.id for existing in record.spec.fixtures):
        raise _already_has(dataset_id, fixture.id)
    if user_input is None:
        raise InvalidRequest(str(CurateError(CurateErrorKind.MISSING_USER_INPUT)))
    spec = attrs.evolve(record.spec, fixtures=(*record.spec.fixtures, fixture))
    revision = await write_dataset(datasets, dataset_id, spec, expected_revision=record.revision)
    unpinned = await pin_all(store, [run_id])
    return DatasetResponse(spec=spec, meta=DatasetMeta(revision=revision), unpinned=unpinned)


async def import_traces(
    datasets: DatasetStore,
    traces: TraceStore | None,
    dataset_id: str,
    request: ImportTracesRequest,
    *,
    default_max_count: int,
) -> ImportTracesResponse:
    """Curate the newest indexed traces (filtered) into new fixtures of ``dataset_id``.

    The listing (agent, since, ``max_count`` or ``default_max_count``, newest first) is
    cut before traces already in the dataset, or seen earlier in this call, are skipped.
    Each fixture is named after its run and described ``Imported from trace <id>``.
    Nothing imported: the unchanged revision, and no write.

    Raises:
        NotConfigured: no trace store.
        InvalidRequest: an empty expectation; a trace that cannot be curated (unless
            ``skip_uncuratable``).
        NotFound: unknown dataset; a listed trace gone meanwhile (unless skipping).
        Conflict: ``expected_revision`` is stale, or another write won.
        StoreFailure: a store failed.
    """
    store = require_traces(traces)
    expectation = request.expectation
    _check_expectation(expectation)
    record = await read_dataset(datasets, dataset_id)
    check_revision(record, request.expected_revision)
    listing = TraceFilter(
        agent_id=request.agent_id,
        since_secs=request.since_secs,
        limit=request.max_count if request.max_count is not None else default_max_count,
    )
    try:
        rows = await store.list_traces(listing)
    except ServiceError:
        raise
    except Exception as exc:
        msg = f"could not list traces: {exc}"
        raise StoreFailure(msg) from exc
    seen = {fixture.id for fixture in record.spec.fixtures}
    imported: list[Fixture] = []
    skipped = 0
    for row in rows:
        if row.run_id in seen:
            skipped += 1
            continue
        seen.add(row.run_id)
        try:
            events = (await read_trace(store, row.run_id)).events
            fixture = curate_fixture(
                events,
                run_id=row.run_id,
                expectation=expectation,
                mode=request.provider_script_mode,
                description=f"Imported from trace {row.run_id}",
            )
        except (CurateError, InvalidRequest, NotFound) as exc:
            if not request.skip_uncuratable:
                if isinstance(exc, ServiceError):
                    raise
                msg = f"curating trace {row.run_id}: {exc.reason}"
                raise InvalidRequest(msg) from exc
            skipped += 1
            continue
        imported.append(fixture)
    if not imported:
        return ImportTracesResponse(
            imported_count=0, skipped_count=skipped, dataset_revision=record.revision
        )
    spec = attrs.evolve(record.spec, fixtures=(*record.spec.fixtures, *imported))
    revision = await write_dataset(datasets, dataset_id, spec, expected_revision=record.revision)
    unpinned = await pin_all(store, [fixture.id for fixture in imported])
    return ImportTracesResponse(
        imported_count=len(imported),
        skipped_count=skipped,
        dataset_revision=revision,
        unpinned=unpinned,
    )


def _stitch(
    runs: list[tuple[str, tuple[TraceStoreEvent, ...]]],
    fixture_id: str,
    request: ImportDialogueRequest,
) -> Fixture:
    try:
        return stitch_dialogue(
            runs,
            expectation=request.expectation,
            fixture_id=fixture_id,
            description=request.description,
            mode=request.provider_script_mode,
        )
    except CurateError as exc:
        raise InvalidRequest(str(exc)) from exc


async def import_dialogue(
    datasets: DatasetStore,
    traces: TraceStore | None,
    dataset_id: str,
    request: ImportDialogueRequest,
) -> ImportDialogueResponse:
    """Stitch the runs of one thread into one multi-turn fixture of ``dataset_id``.

    Order (spec §6.3): run ids non-empty (400) → expectation non-empty (400) → trace
    store configured (503) → dataset exists (404), revision matches (409), fixture id
    new (409) → per run in order: read, same thread (400 ``thread_id=``), curate per
    mode, user input, same source model (400) → write with compare-and-swap → pin all.

    Raises:
        NotConfigured: no trace store.
        InvalidRequest: a rule above.
        NotFound: unknown dataset or run.
        Conflict: stale revision, existing fixture id, or another write won.
        StoreFailure: a store failed.
    """
    if not request.run_ids:
        msg = "run_ids must be non-empty"
        raise InvalidRequest(msg)
    expectation = request.expectation
    _check_expectation(expectation)
    store = require_traces(traces)
    record = await read_dataset(datasets, dataset_id)
    check_revision(record, request.expected_revision)
    fixture_id = request.fixture_id if request.fixture_id is not None else request.run_ids[0]
    if any(existing.id == fixture_id for existing in record.spec.fixtures):
        raise _already_has(dataset_id, fixture_id)
    runs: list[tuple[str, tuple[TraceStoreEvent, ...]]] = []
    for run_id in request.run_ids:
        try:
            events = (await read_trace(store, run_id)).events
        except ServiceError:
            if runs:  # an earlier run's error comes first, as the runs are checked in order
                _stitch(runs, fixture_id, request)
            raise
        runs.append((run_id, events))
    fixture = _stitch(runs, fixture_id, request)
    spec = attrs.evolve(record.spec, fixtures=(*record.spec.fixtures, fixture))
    revision = await write_dataset(datasets, dataset_id, spec, expected_revision=record.revision)
    unpinned = await pin_all(store, request.run_ids)
    return ImportDialogueResponse(
        fixture_id=fixture_id, dataset_revision=revision, unpinned=unpinned
    )
