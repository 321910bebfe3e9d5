"""The seams of awaken-eval: async, structural protocols and the records they exchange.

Every protocol has one to three ``async`` methods taking and returning frozen records,
and is structural (:class:`typing.Protocol`): implement the methods, no subclassing.

* :class:`LlmExecutor` — one inference against a model (scripted, live, a judge's model).
* :class:`Replayer` — turns a fixture into a :class:`~awaken_eval.ReplayOutcome`; hosts
  plug their real agent in here.
* :class:`Judge` — grades an answer against the request, a rubric and criteria.
* :class:`TraceSink` — receives spans and run events; :class:`TraceFinisher` — a sink
  that confirms a replay's trace was stored (the eval item's ``trace_run_id`` link);
  :class:`TraceStore` — reads, lists and pins traces (what curation and dataset
  imports need).
* :class:`EvalRunStore`, :class:`StreamingRunStore`, :class:`PrunableRunStore` — persist runs;
  :class:`OpenRunReader` — lists and reads streamed runs that never finished.
* :class:`DatasetStore` — datasets with compare-and-swap revisions; :class:`DatasetLister`
  lists them.
* :class:`ModelResolver`, :class:`AgentResolver` — turn ids into executors and agent specs.
* :class:`UnitDispatcher` — where a run's units execute (this process, a Ray cluster).
"""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Protocol, runtime_checkable

# The records are only named in annotations: a Protocol's annotations are never resolved
# at run time, so importing this module does not load the records it mentions.
if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from awaken_eval._engine.dispatch import UnitRecorder, UnitWork
    from awaken_eval._records.events import TraceEvent
    from awaken_eval._records.fixtures import DatasetSpec, Fixture
    from awaken_eval._records.grading import JudgeRequest, JudgeResult
    from awaken_eval._records.inference import (
        AgentSpec,
        InferenceRequest,
        InferenceResult,
        ResolvedModel,
    )
    from awaken_eval._records.outcomes import ReplayOutcome
    from awaken_eval._records.replay import ReplayContext
    from awaken_eval._records.runs import (
        EvalRun,
        EvalRunFilter,
        EvalRunItem,
        EvalRunSummary,
        ItemKey,
    )
    from awaken_eval._records.store import (
        DatasetRecord,
        DatasetSummary,
        OpenRunSummary,
        RunHeader,
    )
    from awaken_eval._records.traces import PinKind, TraceFilter, TraceRead, TraceSummary

__all__ = [
    "AgentResolver",
    "DatasetLister",
    "DatasetStore",
    "EvalRunStore",
    "Judge",
    "LlmExecutor",
    "ModelResolver",
    "OpenRunReader",
    "PrunableRunStore",
    "Replayer",
    "StreamingRunStore",
    "TraceFinisher",
    "TraceSink",
    "TraceStore",
    "UnitDispatcher",
]


# -- inference ---------------------------------------------------------------------------


@runtime_checkable
class LlmExecutor(Protocol):
    """Runs one inference against a model."""

    async def execute(self, request: InferenceRequest) -> InferenceResult:
        """Run ``request`` and return the model's answer.

        Raises:
            InferenceError: when the inference fails, with its structured kind.
        """
        ...


# -- agents, models, replay ---------------------------------------------------------------


@runtime_checkable
class ModelResolver(Protocol):
    """Turns a model id into an executor, upstream name and pricing."""

    async def resolve_model(self, model_id: str) -> ResolvedModel:
        """Resolve ``model_id``.

        Raises:
            NotFound: when the model (or its provider) is unknown.
        """
        ...


@runtime_checkable
class AgentResolver(Protocol):
    """Turns an agent id into an :class:`AgentSpec`."""

    async def resolve_agent(self, agent_id: str) -> AgentSpec:
        """Resolve ``agent_id``.

        Raises:
            NotFound: when the agent is unknown.
        """
        ...


# -- judging ------------------------------------------------------------------------------


@runtime_checkable
class Judge(Protocol):
    """Grades an answer."""

    async def grade(self, request: JudgeRequest) -> JudgeResult:
        """Grade ``request.answer``.

        Raises:
            JudgeError: when no grade could be obtained.
        """
        ...


# -- tracing ------------------------------------------------------------------------------


@runtime_checkable
class TraceSink(Protocol):
    """Receives spans and run events. A failing sink is logged, never fatal."""

    async def emit(self, event: TraceEvent) -> None:
        """Record ``event``."""
        ...


@runtime_checkable
class TraceFinisher(Protocol):
    """A trace sink that can confirm a replay's trace was stored (an optional capability).

    After each replay the engine calls :meth:`finish_trace` with the outcome's trace run
    id when the run's sink has this method; the eval item gets ``trace_run_id`` only
    when it returns ``True``. A sink without it links no item to a trace.
    """

    async def finish_trace(self, run_id: str) -> bool:
        """Complete the trace ``run_id`` (e.g. write its index); is it readable, non-empty?

        Should not raise (an exception counts as ``False``).
        """
        ...


@runtime_checkable
class TraceStore(Protocol):
    """Traces by agent run id: read one back, list the indexed ones, pin one."""

    async def read_trace(self, run_id: str) -> TraceRead:
        """Read the events of ``run_id`` in record order, with any damaged lines.

        Raises:
            InvalidRunId: when ``run_id`` is not a valid run id.
            NotFound: when there is no trace of that run.
        """
        ...

    async def list_traces(self, trace_filter: TraceFilter) -> builtins.list[TraceSummary]:
        """The indexed traces that match ``trace_filter``, in its order."""
        ...

    async def pin(self, run_id: str, kind: PinKind) -> None:
        """Keep ``run_id`` through retention (``kind`` says why).

        Raises:
            InvalidRunId: when ``run_id`` is not a valid run id.
            NotFound: when there is no trace of that run.
        """
        ...


@runtime_checkable
class Replayer(Protocol):
    """Replays a fixture. Hosts implement this to evaluate their own agent."""

    async def replay(self, fixture: Fixture, context: ReplayContext) -> ReplayOutcome:
        """Replay ``fixture`` and report what happened.

        Must not raise for fixture-level problems: they become the outcome's
        ``runtime_failure`` so a batch stays complete. (An exception that escapes anyway
        is turned into a runtime failure by the runner.)
        """
        ...


# -- stores -------------------------------------------------------------------------------


@runtime_checkable
class EvalRunStore(Protocol):
    """Persists whole runs, write-once by run id."""

    async def write(self, run: EvalRun) -> None:
        """Persist ``run``.

        Raises:
            InvalidRunId: for an id no store can hold.
            Conflict: when a run with this id exists (write-once).
            DuplicateItemKeys: when two items share a key.
        """
        ...

    async def read(self, run_id: str) -> EvalRun:
        """Load the run ``run_id``.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when no such run exists.
            StoreFailure: when the stored run is corrupt.
        """
        ...

    async def list(self, run_filter: EvalRunFilter) -> builtins.list[EvalRunSummary]:
        """Summaries of the selected runs, newest first (ties by id, descending)."""
        ...


@runtime_checkable
class PrunableRunStore(Protocol):
    """A run store that can delete old runs."""

    async def prune(self, older_than_secs: int) -> int:
        """Delete runs started before ``older_than_secs``; return how many were deleted."""
        ...


@runtime_checkable
class StreamingRunStore(Protocol):
    """A run store that takes items as they finish and can resume a run."""

    async def begin(self, header: RunHeader, *, resume: bool = False) -> frozenset[ItemKey]:
        """Open a run for appending; return the keys of the items it already holds.

        A new run starts empty. With ``resume=True`` an unfinished run of the same
        header is reopened and its present keys returned, so only the missing units run.

        Raises:
            Conflict: when the id is taken (and not resumable).
        """
        ...

    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        """Durably add finished items to the open run ``run_id``."""
        ...

    async def finish(
        self,
        run_id: str,
        *,
        ended_at_secs: int,
        item_order: Sequence[ItemKey] | None = None,
    ) -> EvalRunSummary:
        """Close the open run, store it as a finished run and return its summary.

        Returning a summary (``read`` loads the whole run) lets a store finish a run
        of millions of items without loading them. Each store's ``finish`` documents
        only what is specific to it (memory, failures).

        Args:
            run_id: The open run.
            ended_at_secs: Epoch seconds at the end.
            item_order: The order the finished run lists its items in (items whose
                key is not listed follow in append order); ``None`` keeps append order.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when ``run_id`` is not open.
            StoreFailure: when the storage fails (the run stays open).
        """
        ...


@runtime_checkable
class OpenRunReader(Protocol):
    """A streaming run store that can list and read its open (unfinished) runs.

    An interrupted run stays open in its store until it is resumed and finished; these
    two reads let a user find it (``awaken-eval runs list``) and look at what it holds
    (``awaken-eval runs show``). Neither writes: both work on a store opened read-only.
    Implemented by the memory, file and SQLite run stores.
    """

    async def list_open(self) -> builtins.list[OpenRunSummary]:
        """Summaries of the open runs, newest first (ties by id, descending)."""
        ...

    async def read_open(self, run_id: str) -> EvalRun:
        """The items the open run ``run_id`` holds so far, in append order.

        The run's ``ended_at_secs`` is 0: it has not ended.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when no run with this id is open.
            StoreFailure: when the stored state is corrupt or cannot be read.
        """
        ...


@runtime_checkable
class DatasetStore(Protocol):
    """Datasets by id with compare-and-swap revisions (spec §1.16, §4.10).

    A dataset is created at revision 0 and every later write adds 1. Three methods:
    the reference's create, replace and compare-and-swap delete all name the revision
    the caller read, so they share one ``expected_revision`` argument instead of three
    near-identical methods. Listing is the separate :class:`DatasetLister`: a host
    that only runs datasets never needs it.
    """

    async def get(self, dataset_id: str) -> DatasetRecord:
        """Load ``dataset_id``.

        Raises:
            NotFound: when there is no such dataset.
        """
        ...

    async def put(
        self, dataset_id: str, spec: DatasetSpec, *, expected_revision: int | None
    ) -> int:
        """Create or replace the dataset; return its new revision.

        ``expected_revision=None`` creates it at revision 0. An integer replaces it if
        its stored revision is that number (a missing dataset counts as revision 0, so
        ``0`` also creates it, at revision 1), storing that number + 1.

        Raises:
            InvalidRequest: when the id or ``spec`` fails write validation.
            Conflict: when creating an existing dataset, or the stored revision differs.
            NotFound: when replacing a missing dataset with an ``expected_revision`` > 0.
        """
        ...

    async def delete(self, dataset_id: str, *, expected_revision: int | None = None) -> None:
        """Delete the dataset; deleting a missing one does nothing.

        With ``expected_revision`` the delete is compare-and-swap.

        Raises:
            Conflict: when the stored revision differs from ``expected_revision``.
        """
        ...


@runtime_checkable
class DatasetLister(Protocol):
    """Lists the stored datasets."""

    async def list_datasets(
        self, *, offset: int = 0, limit: int | None = None
    ) -> builtins.list[DatasetSummary]:
        """The datasets sorted by id, skipping ``offset``, at most ``limit`` of them.

        Raises:
            InvalidInput: when a stored dataset is malformed (the whole list fails).
        """
        ...


# -- execution ---------------------------------------------------------------------------


@runtime_checkable
class UnitDispatcher(Protocol):
    """Where the units of a run execute.

    The runner plans the units, skips those a resumed run holds, and records, stores
    and reports every item; a dispatcher only runs the units it pulls from ``units``
    and hands each item to ``record``. The default is
    :class:`~awaken_eval.engine.LocalDispatcher`; ``awaken_eval.ray.RayDispatcher``
    runs units on a Ray cluster.
    """

    async def dispatch(self, work: UnitWork, units: Iterator[int], record: UnitRecorder) -> None:
        """Execute units pulled from ``units`` and ``await record(index, item)`` for each.

        Every unit pulled must be recorded exactly once (its item, or a failed item);
        stop pulling once ``record`` returns ``False`` (the run token budget is spent):
        the runner records the units left in ``units`` as skipped. Errors raised by
        ``record`` (the store's) must propagate.
        """
        ...
