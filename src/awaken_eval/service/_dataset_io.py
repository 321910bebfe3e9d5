"""Dataset and trace store calls of the dataset operations, with the service's errors.

A store's own refusals (:class:`~awaken_eval.NotFound`, :class:`~awaken_eval.Conflict`,
:class:`~awaken_eval.InvalidRequest`) pass through with the reference's messages; bad
stored data and any other failure become a :class:`~awaken_eval.StoreFailure` (500).
"""

from __future__ import annotations

from collections.abc import Iterable

from awaken_eval._records.fixtures import DatasetSpec
from awaken_eval._records.store import DatasetRecord
from awaken_eval._records.traces import PinKind, TraceRead
from awaken_eval.errors import (
    Conflict,
    InvalidInput,
    InvalidRequest,
    InvalidRunId,
    NotConfigured,
    NotFound,
    ServiceError,
    StoreFailure,
)
from awaken_eval.protocols import DatasetStore, TraceStore

__all__ = [
    "check_revision",
    "pin_all",
    "read_dataset",
    "read_trace",
    "require_traces",
    "write_dataset",
]


async def read_dataset(datasets: DatasetStore, dataset_id: str) -> DatasetRecord:
    """Load ``dataset_id``.

    Raises:
        NotFound: ``dataset not found: <id>``.
        InvalidRequest: the id is invalid.
        StoreFailure: the store failed or holds a malformed record.
    """
    try:
        return await datasets.get(dataset_id)
    except NotFound:
        msg = f"dataset not found: {dataset_id}"
        raise NotFound(msg) from None
    except ServiceError:
        raise
    except Exception as exc:
        msg = f"could not read dataset {dataset_id}: {exc}"
        raise StoreFailure(msg) from exc


async def write_dataset(
    datasets: DatasetStore, dataset_id: str, spec: DatasetSpec, *, expected_revision: int | None
) -> int:
    """Create or compare-and-swap replace ``dataset_id``; return the new revision.

    Raises:
        InvalidRequest: an invalid id or dataset (or text no store can hold).
        Conflict: the dataset exists (create) or the revision is stale.
        NotFound: replacing a missing dataset with a revision > 0.
        StoreFailure: the store failed.
    """
    try:
        return await datasets.put(dataset_id, spec, expected_revision=expected_revision)
    except ServiceError:
        raise
    except InvalidInput as exc:
        msg = f"invalid dataset {dataset_id}: {exc}"
        raise InvalidRequest(msg) from exc
    except Exception as exc:
        msg = f"could not write dataset {dataset_id}: {exc}"
        raise StoreFailure(msg) from exc


def check_revision(record: DatasetRecord, expected: int) -> None:
    """Refuse a request made against another revision than the stored one.

    Raises:
        Conflict: ``revision conflict: expected X, actual Y``.
    """
    if record.revision != expected:
        msg = f"revision conflict: expected {expected}, actual {record.revision}"
        raise Conflict(msg)


def require_traces(traces: TraceStore | None) -> TraceStore:
    """The trace store, or a 503 when the host configured none.

    Raises:
        NotConfigured: ``trace store not configured``.
    """
    if traces is None:
        msg = "trace store not configured"
        raise NotConfigured(msg)
    return traces


async def read_trace(traces: TraceStore, run_id: str) -> TraceRead:
    """Read the trace of ``run_id``; damage is accepted only as a torn last line.

    A torn last line is what a crash during an append leaves: the intact lines before
    it are the whole trace up to the crash, so curating them is sound. Damage anywhere
    else means lines are missing from the middle of the run, and a fixture curated from
    the rest would replay a run that never happened.

    Raises:
        NotFound: ``trace not found: <id>``.
        InvalidRequest: an invalid run id, or damage other than a torn last line
            (naming the first damaged line).
        StoreFailure: the trace store failed.
    """
    try:
        read = await traces.read_trace(run_id)
    except NotFound:
        msg = f"trace not found: {run_id}"
        raise NotFound(msg) from None
    except InvalidRunId as exc:
        raise InvalidRequest(str(exc)) from exc
    except ServiceError:
        raise
    except Exception as exc:
        msg = f"could not read trace {run_id}: {exc}"
        raise StoreFailure(msg) from exc
    lines = len(read.events) + len(read.damaged)
    torn_tail = len(read.damaged) == 1 and read.damaged[0].line == lines
    if read.damaged and not torn_tail:
        first = read.damaged[0]
        msg = f"trace {run_id} is damaged at line {first.line}: {first.error}"
        raise InvalidRequest(msg)
    return read


async def pin_all(traces: TraceStore, run_ids: Iterable[str]) -> tuple[str, ...]:
    """Pin every run (kind ``dataset``) after a successful write; return those that failed.

    A failed pin neither stops the others nor undoes the write (spec trace-store §8.9):
    the caller reports the failures so an operator can pin them again.
    """
    unpinned: list[str] = []
    for run_id in dict.fromkeys(run_ids):
        try:
            await traces.pin(run_id, PinKind.DATASET)
        except Exception:  # noqa: BLE001 - reported to the caller, the write stands
            unpinned.append(run_id)
    return tuple(unpinned)
