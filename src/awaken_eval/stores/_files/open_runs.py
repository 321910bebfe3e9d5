"""Reading the open runs of a file store: their journals, without locks or writes.

A journal (see :mod:`.journal`) is appended in whole lines; a reader sees a prefix of
it, possibly ending in a torn line a writer is still writing (or a crashed writer left),
which is ignored as the store itself ignores it. Nothing here takes the journal's lock
(which needs the file open for writing) or repairs anything, so these reads work on a
store opened read-only.
"""

from __future__ import annotations

import builtins
import os
from pathlib import Path

from awaken_eval._records.runs import EvalRun, EvalRunItem
from awaken_eval._records.store import OpenRunSummary, RunHeader
from awaken_eval._wire.converter import from_builtins
from awaken_eval._wire.gc import gc_paused
from awaken_eval.errors import InvalidExecutionShape, InvalidInput, NotFound, StoreFailure
from awaken_eval.stores._files.index import corrupt_line, decode_line, item_facts
from awaken_eval.stores._files.journal import not_open, read_header
from awaken_eval.stores._files.layout import ITEMS, LOG, Layout, io_failure

__all__ = ["list_open_runs", "read_open_run"]


def _open_ids(layout: Layout) -> builtins.list[str]:
    """The ids of the journals whose items file exists (what marks a run open)."""
    directory = layout.journal_dir("x").parent
    try:
        with os.scandir(directory) as scan:
            names = [entry.name for entry in scan if not entry.name.startswith(".")]
    except FileNotFoundError:
        return []
    except OSError as exc:
        msg = f"cannot list {directory}: {exc.strerror or exc}"
        raise StoreFailure(msg) from None
    return [name for name in names if os.path.lexists(layout.journal_dir(name) / ITEMS)]


def _counts(run_id: str, path: Path) -> tuple[int, int]:
    """``(items, passed items)`` of the complete lines of a journal, without building items."""
    count = passed = 0
    try:
        with path.open("rb") as handle, gc_paused():
            for number, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    break
                try:
                    _, _, item_passed = item_facts(decode_line(line))
                except (ValueError, TypeError, RecursionError) as exc:
                    raise corrupt_line(run_id, path, number, exc) from None
                count += 1
                passed += item_passed
    except FileNotFoundError:
        raise not_open(run_id) from None
    except OSError as exc:
        raise io_failure(run_id, "read the journal", path, exc) from None
    return count, passed


def _items(run_id: str, path: Path) -> builtins.list[EvalRunItem]:
    """The items of the complete lines of a journal's items file."""
    items: builtins.list[EvalRunItem] = []
    try:
        with path.open("rb") as handle, gc_paused():
            for number, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    break  # being written, or torn by a crash: never acknowledged
                try:
                    items.append(from_builtins(EvalRunItem, decode_line(line)))
                except (ValueError, TypeError, RecursionError) as exc:
                    raise corrupt_line(run_id, path, number, exc) from None
    except FileNotFoundError:
        raise not_open(run_id) from None
    except OSError as exc:
        raise io_failure(run_id, "read the journal", path, exc) from None
    return items


def read_open_run(layout: Layout, run_id: str) -> EvalRun:
    """The open run ``run_id`` with the items its journal holds (``ended_at_secs`` 0).

    Raises:
        NotFound: when the run is not open (no journal, or its run file is in place).
        StoreFailure: when the journal cannot be read or is corrupt.
    """
    directory = layout.journal_dir(run_id)
    if not os.path.lexists(directory / ITEMS) or layout.locate(run_id) is not None:
        raise not_open(run_id)
    header: RunHeader = read_header(run_id, directory)
    items = _items(run_id, directory / ITEMS)
    try:
        return EvalRun(
            id=header.id,
            dataset_id=header.dataset_id,
            dataset_revision=header.dataset_revision,
            execution_mode=header.execution_mode,
            items=tuple(items),
            started_at_secs=header.started_at_secs,
            ended_at_secs=0,
            fixture_digests=dict(header.fixture_digests),
        )
    except InvalidExecutionShape as exc:
        msg = f"eval run {run_id}: the journal {directory / ITEMS} is corrupt: {exc}"
        raise StoreFailure(msg) from None


def list_open_runs(layout: Layout) -> builtins.list[OpenRunSummary]:
    """Summaries of the open runs, newest first (ties by id, descending).

    A journal that cannot be read or is corrupt is skipped with a warning on the
    ``awaken_eval.stores`` logger.
    """
    summaries: builtins.list[OpenRunSummary] = []
    for run_id in _open_ids(layout):
        directory = layout.journal_dir(run_id)
        try:
            if layout.locate(run_id) is not None:
                continue  # finished; its journal is being dropped
            header = read_header(run_id, directory)
            count, passed = _counts(run_id, directory / ITEMS)
        except NotFound:
            continue  # finished meanwhile
        except (StoreFailure, InvalidInput) as exc:
            LOG.warning("skipping open eval run %s: %s", run_id, exc)
            continue
        summary = OpenRunSummary(
            id=header.id,
            dataset_id=header.dataset_id,
            dataset_revision=header.dataset_revision,
            execution_mode=header.execution_mode,
            started_at_secs=header.started_at_secs,
            item_count=count,
            passed_count=passed,
            failed_count=count - passed,
        )
        summaries.append(summary)
    summaries.sort(key=lambda summary: (summary.started_at_secs, summary.id), reverse=True)
    return summaries
