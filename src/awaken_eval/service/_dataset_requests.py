"""The requests and responses of the dataset operations (spec §4.10, §6.3).

The records mirror the reference's JSON bodies of ``/v1/eval/datasets`` and its
sub-routes. Parse a body with :func:`~awaken_eval.service.parse_request`, which rejects
unknown keys and wrong types with the JSON path of every problem. The curation bodies
take the expectation as ``expected`` or its alias ``expect`` (not both).
"""

from __future__ import annotations

import attrs

from awaken_eval._records.expectations import Expectation
from awaken_eval._records.fixtures import DatasetSpec, Fixture
from awaken_eval._records.store import DatasetSummary
from awaken_eval._records.types import U32, U64
from awaken_eval.curate import CurationMode
from awaken_eval.errors import InvalidRequest

__all__ = [
    "AppendFixtureRequest",
    "CreateDatasetRequest",
    "CurateItemRequest",
    "DatasetListResponse",
    "DatasetMeta",
    "DatasetResponse",
    "ImportDialogueRequest",
    "ImportDialogueResponse",
    "ImportTracesRequest",
    "ImportTracesResponse",
    "ReplaceDatasetRequest",
]


def _expectation(expected: Expectation | None, expect: Expectation | None) -> Expectation:
    if expected is not None and expect is not None:
        msg = "give the expectation as expected or as expect, not both"
        raise InvalidRequest(msg)
    if expected is not None:
        return expected
    return expect if expect is not None else Expectation()


@attrs.frozen(kw_only=True)
class CreateDatasetRequest:
    """Create a dataset (``POST /v1/eval/datasets``).

    Attributes:
        spec: The dataset.
        id: Its id (a host's ``?id=`` query parameter wins over it).
    """

    spec: DatasetSpec
    id: str | None = None


@attrs.frozen(kw_only=True)
class ReplaceDatasetRequest:
    """Replace a dataset (``PUT /v1/eval/datasets/{id}``) if its revision is the expected one.

    Attributes:
        expected_revision: The revision the caller read (0 also creates a missing one).
        spec: The new dataset.
    """

    expected_revision: U64
    spec: DatasetSpec


@attrs.frozen(kw_only=True)
class AppendFixtureRequest:
    """Append one fixture (``POST /v1/eval/datasets/{id}/fixtures``).

    Attributes:
        fixture: The fixture; its id must be new to the dataset.
        expected_revision: The revision the caller read.
    """

    fixture: Fixture
    expected_revision: U64


@attrs.frozen(kw_only=True)
class CurateItemRequest:
    """Curate one trace into a fixture (``POST /v1/eval/datasets/{id}/items``, spec §6.3).

    Attributes:
        from_run_id: The trace's run id.
        user_input: The fixture's user input (default: recovered from the trace).
        fixture_id: The fixture id (default: the run id).
        description: Human text (default ``Curated from trace <run>``).
        allow_unused_provider_script: Tolerate unconsumed script events on replay.
        provider_script_mode: What to do when the trace cannot become a script.
        expected: The fixture's expectation (must not be empty).
        expect: Alias of ``expected``.
    """

    from_run_id: str
    user_input: str | None = None
    fixture_id: str | None = None
    description: str | None = None
    allow_unused_provider_script: bool = False
    provider_script_mode: CurationMode = CurationMode.OPTIONAL
    expected: Expectation | None = None
    expect: Expectation | None = None

    @property
    def expectation(self) -> Expectation:
        """``expected`` or ``expect`` (empty when neither is given).

        Raises:
            InvalidRequest: both are given.
        """
        return _expectation(self.expected, self.expect)


@attrs.frozen(kw_only=True)
class ImportTracesRequest:
    """Curate the newest indexed traces in bulk (``POST .../import-traces``, spec §6.3).

    Attributes:
        expected_revision: The revision the caller read.
        agent_id: Only traces of this agent.
        since_secs: Only traces started at or after this time (epoch seconds).
        max_count: How many traces are listed (default: the limits'
            ``default_import_traces_max``); ids already in the dataset count.
        skip_uncuratable: Skip traces that fail to curate instead of failing the call.
        provider_script_mode: What to do when a trace cannot become a script.
        expected: Every imported fixture's expectation (must not be empty).
        expect: Alias of ``expected``.
    """

    expected_revision: U64
    agent_id: str | None = None
    since_secs: U64 | None = None
    max_count: U32 | None = None
    skip_uncuratable: bool = False
    provider_script_mode: CurationMode = CurationMode.OPTIONAL
    expected: Expectation | None = None
    expect: Expectation | None = None

    @property
    def expectation(self) -> Expectation:
        """``expected`` or ``expect`` (see :attr:`CurateItemRequest.expectation`)."""
        return _expectation(self.expected, self.expect)


@attrs.frozen(kw_only=True)
class ImportDialogueRequest:
    """Stitch runs of one thread into a multi-turn fixture (``POST .../import-dialogue``).

    Attributes:
        expected_revision: The revision the caller read.
        run_ids: The runs, in dialogue order (non-empty).
        fixture_id: The fixture id (default: the first run id).
        description: Human text (default ``Stitched dialogue from <n> runs``).
        provider_script_mode: What to do when a run cannot become a script.
        expected: The fixture's expectation (must not be empty).
        expect: Alias of ``expected``.
    """

    expected_revision: U64
    run_ids: tuple[str, ...]
    fixture_id: str | None = None
    description: str | None = None
    provider_script_mode: CurationMode = CurationMode.OPTIONAL
    expected: Expectation | None = None
    expect: Expectation | None = None

    @property
    def expectation(self) -> Expectation:
        """``expected`` or ``expect`` (see :attr:`CurateItemRequest.expectation`)."""
        return _expectation(self.expected, self.expect)


@attrs.frozen(kw_only=True)
class DatasetMeta:
    """The ``meta`` of a dataset record.

    Attributes:
        revision: The dataset's revision.
    """

    revision: U64


@attrs.frozen(kw_only=True)
class DatasetResponse:
    """A dataset record as the reference answers it: ``{spec, meta: {revision}}``.

    Attributes:
        spec: The dataset.
        meta: Its revision.
        unpinned: Curation only: traces the write used that could not be pinned
            afterwards (the write stands; pin them again by hand). Omitted when empty.
    """

    spec: DatasetSpec
    meta: DatasetMeta
    unpinned: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class DatasetListResponse:
    """``GET /v1/eval/datasets``: one row per dataset, sorted by id.

    Attributes:
        datasets: The rows.
    """

    datasets: tuple[DatasetSummary, ...]


@attrs.frozen(kw_only=True)
class ImportTracesResponse:
    """What a bulk import did.

    Attributes:
        imported_count: Fixtures added.
        skipped_count: Traces skipped (already in the dataset, seen twice, uncuratable).
        dataset_revision: The dataset's revision after the call (unchanged when nothing
            was imported).
        unpinned: Imported traces that could not be pinned after the write (omitted
            when empty).
    """

    imported_count: int
    skipped_count: int
    dataset_revision: U64
    unpinned: tuple[str, ...] = ()


@attrs.frozen(kw_only=True)
class ImportDialogueResponse:
    """What a dialogue import did.

    Attributes:
        fixture_id: The fixture added.
        dataset_revision: The dataset's revision after the write.
        unpinned: Runs that could not be pinned after the write (omitted when empty).
    """

    fixture_id: str
    dataset_revision: U64
    unpinned: tuple[str, ...] = ()
