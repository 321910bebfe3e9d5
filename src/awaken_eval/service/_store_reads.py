"""Dataset and run reads with the service's error mapping and messages.

A store's ``NotFound`` becomes the service's message, bad stored data an
:class:`~awaken_eval.InvalidRequest` or a :class:`~awaken_eval.StoreFailure`, and any
other failure of the store a :class:`~awaken_eval.StoreFailure` (spec §4.4, §4.7, §4.9).
"""

from __future__ import annotations

from awaken_eval._records.fixtures import DatasetSpec
from awaken_eval._records.rules import validate_dataset_for_write
from awaken_eval._records.runs import EvalRun
from awaken_eval.errors import (
    DuplicateItemKeys,
    InvalidInput,
    InvalidRequest,
    InvalidRunId,
    NotFound,
    ServiceError,
    StoreFailure,
)
from awaken_eval.protocols import DatasetStore, EvalRunStore

__all__ = ["load_dataset", "read_baseline", "read_run"]


async def load_dataset(datasets: DatasetStore, dataset_id: str) -> tuple[DatasetSpec, int]:
    """Read a stored dataset and check it as a write would; returns it and its revision.

    Raises:
        NotFound: unknown dataset.
        InvalidRequest: the stored dataset is invalid.
        StoreFailure: the store could not read it.
    """
    try:
        record = await datasets.get(dataset_id)
    except NotFound:
        msg = f"dataset not found: {dataset_id}"
        raise NotFound(msg) from None
    except InvalidInput as exc:
        msg = f"invalid dataset: {dataset_id}: {exc}"
        raise InvalidRequest(msg) from exc
    except ServiceError:
        raise
    except Exception as exc:
        msg = f"could not load dataset {dataset_id}: {exc}"
        raise StoreFailure(msg) from exc
    try:
        validate_dataset_for_write(record.spec)
    except InvalidRequest as exc:
        msg = f"invalid dataset: {dataset_id}: {exc.message}"
        raise InvalidRequest(msg) from exc
    return record.spec, record.revision


async def read_baseline(runs: EvalRunStore, baseline_id: str) -> EvalRun:
    """Step 1 of spec §4.7: duplicate item keys in the baseline are a 400.

    Raises:
        NotFound: unknown baseline.
        DuplicateItemKeys: (status 400) the baseline has duplicate item keys.
        InvalidRequest: ``baseline_id`` is not a valid run id.
        StoreFailure: the store could not read it.
    """
    return await read_run(runs, baseline_id, role="baseline", keys_status_400=True)


async def read_run(runs: EvalRunStore, run_id: str, *, role: str, keys_status_400: bool) -> EvalRun:
    """Read ``run_id`` with the service's messages (``role``: baseline or current).

    Duplicate item keys in the stored run are a 400 when the caller asked to diff it
    (the request cannot be answered as asked), else a 500 (the store holds bad data).

    Raises:
        NotFound: unknown run.
        DuplicateItemKeys: (status 400) duplicate item keys, with ``keys_status_400``.
        InvalidRequest: ``run_id`` is not a valid run id.
        StoreFailure: the store could not read the run, or it holds duplicate item keys
            without ``keys_status_400``.
    """
    label = "baseline eval run" if role == "baseline" else "eval run"
    try:
        return await runs.read(run_id)
    except NotFound:
        msg = f"{label} not found: {run_id}"
        raise NotFound(msg) from None
    except DuplicateItemKeys as exc:
        msg = f"{role} run {run_id}: {exc.message}"
        if keys_status_400:
            raise DuplicateItemKeys(msg) from exc
        raise StoreFailure(msg) from exc
    except InvalidRunId as exc:
        raise InvalidRequest(str(exc)) from exc
    except ServiceError:
        raise
    except Exception as exc:
        msg = f"could not read {label} {run_id}: {exc}"
        raise StoreFailure(msg) from exc
