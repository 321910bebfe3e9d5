"""Records the stores exchange: a streamed run's header, an open run, a dataset record."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from awaken_eval._records.fixtures import DatasetSpec
from awaken_eval._records.runs import EvalRun, EvalRunExecutionMode
from awaken_eval._records.types import U32, U64

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
class OpenRunSummary:
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

    id: str
    dataset_id: str
    dataset_revision: U64
    execution_mode: EvalRunExecutionMode
    started_at_secs: U64
    item_count: U32
    passed_count: U32
    failed_count: U32

    @classmethod
    def from_run(cls, run: EvalRun) -> OpenRunSummary:
        """Summarise the items stored so far of an open run (as ``read_open`` returns it)."""
        passed = run.passed_count()
        return cls(
            id=run.id,
            dataset_id=run.dataset_id,
            dataset_revision=run.dataset_revision,
            execution_mode=run.execution_mode,
            started_at_secs=run.started_at_secs,
            item_count=len(run.items),
            passed_count=passed,
            failed_count=len(run.items) - passed,
        )


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
