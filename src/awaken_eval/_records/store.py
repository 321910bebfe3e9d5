"""Records the stores exchange: a streamed run's header, an open run, a dataset record."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from awaken_eval._records.fixtures import DatasetSpec
from awaken_eval._records.runs import EvalRunExecutionMode, RunSummaryFields

__all__ = ["DatasetRecord", "DatasetSummary", "OpenRunSummary", "RunHeader"]


@attrs.frozen(kw_only=True)
class RunHeader:
    """Identity of a run being streamed into a store.

    Attributes:
        id: The run id.
        dataset_id: The dataset executed.
        dataset_revision: The dataset revision.
        execution_mode: Scripted or live.
        started_at_secs: Epoch seconds at start.
        fixture_digests: Content digest per fixture id.
    """

    id: str
    dataset_id: str
    dataset_revision: int
    execution_mode: EvalRunExecutionMode
    started_at_secs: int
    fixture_digests: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class OpenRunSummary(RunSummaryFields):
    """A row of a listing of open runs: a streamed run that has not finished (yet).

    An open run was begun (:meth:`~awaken_eval.protocols.StreamingRunStore.begin`) and
    never finished, typically because its process was interrupted; resuming it runs
    only its missing units.

    Attributes:
        id: The run id (what ``--resume`` takes).
        dataset_id: The dataset executed.
        dataset_revision: The dataset revision.
        execution_mode: Scripted or live.
        started_at_secs: Epoch seconds at start.
        item_count: Items stored so far.
        passed_count: Stored items whose report passed.
        failed_count: Stored items whose report did not pass.
    """


@attrs.frozen
class DatasetRecord:
    """A dataset with its optimistic-concurrency revision.

    Attributes:
        spec: The dataset.
        revision: The revision (0 for a new dataset; +1 per write).
    """

    spec: DatasetSpec
    revision: int


@attrs.frozen(kw_only=True)
class DatasetSummary:
    """One row of a dataset listing.

    Attributes:
        id: The dataset id.
        description: The dataset's description.
        fixture_count: How many fixtures it holds.
        revision: Its revision.
    """

    id: str
    description: str
    fixture_count: int
    revision: int
