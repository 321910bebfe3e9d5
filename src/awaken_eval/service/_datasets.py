"""``DatasetService``: the reference server's dataset handlers, without a web framework.

Create, read, list, replace and delete datasets, append a fixture, and curate traces
into a dataset (spec §4.10 dataset CRUD, §6.3 curation), each check in the reference's
order with its status: every refusal is a :class:`~awaken_eval.ServiceError`. Every
write is compare-and-swap on the dataset's revision (a new dataset is revision 0, each
write adds 1), so two editors never overwrite each other.
"""

from __future__ import annotations

import attrs

from awaken_eval._records.rules import validate_min_judge_score
from awaken_eval.errors import Conflict, InvalidRequest, ServiceError, StoreFailure
from awaken_eval.protocols import DatasetLister, DatasetStore, TraceStore
from awaken_eval.service._curation import curate_item, import_dialogue, import_traces
from awaken_eval.service._dataset_io import check_revision, read_dataset, write_dataset
from awaken_eval.service._dataset_requests import (
    AppendFixtureRequest,
    CreateDatasetRequest,
    CurateItemRequest,
    DatasetListResponse,
    DatasetMeta,
    DatasetResponse,
    ImportDialogueRequest,
    ImportDialogueResponse,
    ImportTracesRequest,
    ImportTracesResponse,
    ReplaceDatasetRequest,
)
from awaken_eval.service._requests import EvalLimits

__all__ = ["DatasetService"]

DEFAULT_LIST_LIMIT = 100
"""Rows of a dataset listing when the caller gives no limit (the reference's)."""


class DatasetService:
    """The dataset handlers of the reference server, for any host.

    Args:
        datasets: Where datasets live; listing needs it to be a
            :class:`~awaken_eval.protocols.DatasetLister` too (every bundled store is).
        traces: Where curation reads and pins traces; without one every curation call
            is refused with a 503.
        limits: Caps and defaults (``default_import_traces_max``).
    """

    def __init__(
        self,
        *,
        datasets: DatasetStore,
        traces: TraceStore | None = None,
        limits: EvalLimits | None = None,
    ) -> None:
        """Create the service from its stores."""
        self.datasets = datasets
        self.traces = traces
        self.limits = limits if limits is not None else EvalLimits()

    # -- CRUD (spec §4.10) -----------------------------------------------------------------

    async def create(
        self, request: CreateDatasetRequest, *, dataset_id: str | None = None
    ) -> DatasetResponse:
        """Create a dataset at revision 0.

        Args:
            request: The body; its ``id`` is used unless ``dataset_id`` is given.
            dataset_id: The id from the host's query string, which wins.

        Raises:
            InvalidRequest: no id, an invalid id, or a dataset failing write validation
                (duplicate fixture ids first, then judge ranges).
            Conflict: the id exists.
        """
        chosen = dataset_id if dataset_id is not None else request.id
        if chosen is None:
            msg = "dataset id is required (body id or query id)"
            raise InvalidRequest(msg)
        revision = await write_dataset(self.datasets, chosen, request.spec, expected_revision=None)
        return DatasetResponse(spec=request.spec, meta=DatasetMeta(revision=revision))

    async def get(self, dataset_id: str) -> DatasetResponse:
        """The dataset ``dataset_id`` with its revision.

        Raises:
            NotFound: ``dataset not found: <id>``.
        """
        record = await read_dataset(self.datasets, dataset_id)
        return DatasetResponse(spec=record.spec, meta=DatasetMeta(revision=record.revision))

    async def list(
        self, *, offset: int = 0, limit: int = DEFAULT_LIST_LIMIT
    ) -> DatasetListResponse:
        """The datasets sorted by id: skip ``offset``, at most ``limit``.

        Raises:
            InvalidRequest: a negative offset or limit.
            StoreFailure: the store cannot list, or holds a malformed dataset (the whole
                list fails, as the reference's).
        """
        if offset < 0 or limit < 0:
            msg = f"offset and limit must be >= 0, got {offset} and {limit}"
            raise InvalidRequest(msg)
        if not isinstance(self.datasets, DatasetLister):
            msg = "the dataset store cannot list datasets"
            raise StoreFailure(msg)
        try:
            rows = await self.datasets.list_datasets(offset=offset, limit=limit)
        except ServiceError:
            raise
        except Exception as exc:
            msg = f"could not list datasets: {exc}"
            raise StoreFailure(msg) from exc
        return DatasetListResponse(datasets=tuple(rows))

    async def replace(self, dataset_id: str, request: ReplaceDatasetRequest) -> DatasetResponse:
        """Replace a dataset whose revision is ``request.expected_revision``.

        A missing dataset with ``expected_revision`` 0 is created (at revision 1).

        Raises:
            InvalidRequest: the dataset fails write validation.
            Conflict: ``revision conflict: expected X, actual Y``.
            NotFound: a missing dataset and ``expected_revision`` > 0.
        """
        revision = await write_dataset(
            self.datasets, dataset_id, request.spec, expected_revision=request.expected_revision
        )
        return DatasetResponse(spec=request.spec, meta=DatasetMeta(revision=revision))

    async def delete(self, dataset_id: str, *, expected_revision: int | None = None) -> None:
        """Delete a dataset; idempotent, compare-and-swap with ``expected_revision``.

        Raises:
            Conflict: the stored revision is not ``expected_revision``.
        """
        try:
            await self.datasets.delete(dataset_id, expected_revision=expected_revision)
        except ServiceError:
            raise
        except Exception as exc:
            msg = f"could not delete dataset {dataset_id}: {exc}"
            raise StoreFailure(msg) from exc

    async def append_fixture(
        self, dataset_id: str, request: AppendFixtureRequest
    ) -> DatasetResponse:
        """Append one fixture to an existing dataset.

        Order: judge range (400) → dataset exists (404) → revision matches (409) →
        fixture id new (409 ``already has fixture``) → write with compare-and-swap.

        Raises:
            InvalidRequest: the fixture's ``min_judge_score`` is out of range.
            NotFound: unknown dataset.
            Conflict: stale revision, or the fixture id exists.
        """
        fixture = request.fixture
        validate_min_judge_score(fixture.expect, f"fixture {fixture.id}")
        record = await read_dataset(self.datasets, dataset_id)
        check_revision(record, request.expected_revision)
        if any(existing.id == fixture.id for existing in record.spec.fixtures):
            msg = f"dataset {dataset_id} already has fixture {fixture.id}"
            raise Conflict(msg)
        spec = attrs.evolve(record.spec, fixtures=(*record.spec.fixtures, fixture))
        revision = await write_dataset(
            self.datasets, dataset_id, spec, expected_revision=record.revision
        )
        return DatasetResponse(spec=spec, meta=DatasetMeta(revision=revision))

    # -- curation (spec §6.3) ------------------------------------------------------------------

    async def curate_item(self, dataset_id: str, request: CurateItemRequest) -> DatasetResponse:
        """Curate one trace into a new fixture, in the order of spec §6.3.

        Trace store configured (503) → expectation non-empty and in range (400) → read
        the trace (404, 400) → curate per mode (400 ``curating trace:``) → dataset
        exists (404) → fixture id new (409) → user input given or recovered (400) →
        write with compare-and-swap (409 ``revision conflict``) → pin the trace.

        The trace is pinned only after the write succeeded; a pin that fails then is
        listed in the response's ``unpinned`` (the write stands).
        """
        return await curate_item(self.datasets, self.traces, dataset_id, request)

    async def import_traces(
        self, dataset_id: str, request: ImportTracesRequest
    ) -> ImportTracesResponse:
        """Curate the newest indexed traces in bulk; nothing imported writes nothing."""
        return await import_traces(
            self.datasets,
            self.traces,
            dataset_id,
            request,
            default_max_count=self.limits.default_import_traces_max,
        )

    async def import_dialogue(
        self, dataset_id: str, request: ImportDialogueRequest
    ) -> ImportDialogueResponse:
        """Stitch the runs of one thread into one multi-turn fixture."""
        return await import_dialogue(self.datasets, self.traces, dataset_id, request)
