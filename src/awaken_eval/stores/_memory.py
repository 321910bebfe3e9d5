"""``InMemoryRunStore``: a run store in a dictionary, for tests and embedded use.

It honours the whole store contract: write-once ids, run-id validation, execution-shape
and item-key validation, newest-first listings with a deterministic tie order, pruning,
streaming appends with resume, and reads of open runs.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

import anyio
import attrs

from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.rules import validate_unique_item_keys
from awaken_eval._records.runs import EvalRun, EvalRunFilter, EvalRunItem, EvalRunSummary, ItemKey
from awaken_eval._records.store import OpenRunSummary, RunHeader
from awaken_eval.errors import AlreadyExists, Conflict, NotFound

__all__ = [
    "InMemoryRunStore",
]


@attrs.define
class _OpenRun:
    header: RunHeader
    items: list[EvalRunItem]
    keys: set[ItemKey]


class InMemoryRunStore:
    """Keeps runs in memory: the write/read/list, prune, streaming and open-run protocols."""

    def __init__(self) -> None:
        """Create an empty store."""
        self._runs: dict[str, EvalRun] = {}
        self._open: dict[str, _OpenRun] = {}
        self._lock = anyio.Lock()

    async def write(self, run: EvalRun) -> None:
        """Persist ``run`` (write-once).

        Raises:
            InvalidRunId: for an id no store can hold.
            AlreadyExists: when the id is taken (checked before the payload).
            DuplicateItemKeys: when two items share a key.
        """
        validate_run_id(run.id)
        async with self._lock:
            if run.id in self._runs or run.id in self._open:
                raise AlreadyExists(run.id)
            attrs.validate(run)  # a run built with validators off: its execution shape
            validate_unique_item_keys(run.items)
            self._runs[run.id] = run

    async def read(self, run_id: str) -> EvalRun:
        """Load the run ``run_id``.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when no finished run has this id.
        """
        validate_run_id(run_id)
        try:
            return self._runs[run_id]
        except KeyError:
            msg = f"eval run not found: {run_id}"
            raise NotFound(msg) from None

    async def list(self, run_filter: EvalRunFilter) -> builtins.list[EvalRunSummary]:
        """Summaries of the selected finished runs, newest first, ties by id descending."""
        selected = [
            run
            for run in self._runs.values()
            if run_filter.matches(run.dataset_id, run.started_at_secs)
        ]
        selected.sort(key=lambda run: (run.started_at_secs, run.id), reverse=True)
        if run_filter.limit is not None:
            selected = selected[: run_filter.limit]
        return [EvalRunSummary.from_run(run) for run in selected]

    async def prune(self, older_than_secs: int) -> int:
        """Delete finished runs started before ``older_than_secs``; return how many."""
        async with self._lock:
            old = [rid for rid, run in self._runs.items() if run.started_at_secs < older_than_secs]
            for run_id in old:
                del self._runs[run_id]
            return len(old)

    async def begin(self, header: RunHeader, *, resume: bool = False) -> frozenset[ItemKey]:
        """Open ``header.id`` for appending; return the keys it already holds.

        Raises:
            AlreadyExists: when a finished run has this id.
            Conflict: when the run is open and ``resume`` is false, or the header of
                the open run differs.
        """
        validate_run_id(header.id)
        async with self._lock:
            if header.id in self._runs:
                raise AlreadyExists(header.id)
            existing = self._open.get(header.id)
            if existing is None:
                self._open[header.id] = _OpenRun(header, [], set())
                return frozenset()
            if not resume:
                msg = f"eval run {header.id} is already open; pass resume=True to continue it"
                raise Conflict(msg)
            if _identity(existing.header) != _identity(header):
                msg = f"eval run {header.id} was started for another dataset, revision or mode"
                raise Conflict(msg)
            return frozenset(existing.keys)

    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        """Add finished items to the open run.

        Raises:
            NotFound: when ``run_id`` is not open.
            DuplicateItemKeys: when an item's key is already present.
        """
        async with self._lock:
            open_run = self._require_open(run_id)
            keys = {item.key for item in items}
            if len(keys) != len(items) or not keys.isdisjoint(open_run.keys):
                # Only now scan the stored items, to name the clashing key.
                validate_unique_item_keys([*_items_with_keys(open_run, items), *items])
            open_run.items.extend(items)
            open_run.keys.update(keys)

    async def finish(
        self,
        run_id: str,
        *,
        ended_at_secs: int,
        item_order: Sequence[ItemKey] | None = None,
    ) -> EvalRunSummary:
        """Close the open run; the finished run stays in memory.

        See :meth:`~awaken_eval.protocols.StreamingRunStore.finish`.
        """
        async with self._lock:
            open_run = self._require_open(run_id)
            header = open_run.header
            items = _ordered(open_run.items, item_order)
            run = EvalRun(
                id=header.id,
                dataset_id=header.dataset_id,
                dataset_revision=header.dataset_revision,
                execution_mode=header.execution_mode,
                items=tuple(items),
                started_at_secs=header.started_at_secs,
                ended_at_secs=ended_at_secs,
                fixture_digests=dict(header.fixture_digests),
            )
            del self._open[run_id]
            self._runs[run_id] = run
            return EvalRunSummary.from_run(run)

    async def list_open(self) -> builtins.list[OpenRunSummary]:
        """Summaries of the open runs, newest first (ties by id, descending)."""
        runs = [_partial(open_run) for open_run in self._open.values()]
        runs.sort(key=lambda run: (run.started_at_secs, run.id), reverse=True)
        return [OpenRunSummary.from_run(run) for run in runs]

    async def read_open(self, run_id: str) -> EvalRun:
        """The items the open run ``run_id`` holds so far, in append order.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when no run with this id is open.
        """
        validate_run_id(run_id)
        return _partial(self._require_open(run_id))

    async def present_keys(self, run_id: str) -> frozenset[ItemKey]:
        """Keys of the items an open run already holds (empty when it is not open)."""
        open_run = self._open.get(run_id)
        return frozenset(open_run.keys) if open_run is not None else frozenset()

    def _require_open(self, run_id: str) -> _OpenRun:
        try:
            return self._open[run_id]
        except KeyError:
            msg = f"no open eval run: {run_id}"
            raise NotFound(msg) from None


def _partial(open_run: _OpenRun) -> EvalRun:
    header = open_run.header
    return EvalRun(
        id=header.id,
        dataset_id=header.dataset_id,
        dataset_revision=header.dataset_revision,
        execution_mode=header.execution_mode,
        items=tuple(open_run.items),
        started_at_secs=header.started_at_secs,
        ended_at_secs=0,
        fixture_digests=dict(header.fixture_digests),
    )


def _identity(header: RunHeader) -> tuple[str, int, str]:
    return (header.dataset_id, header.dataset_revision, header.execution_mode.value)


def _items_with_keys(open_run: _OpenRun, items: tuple[EvalRunItem, ...]) -> list[EvalRunItem]:
    wanted = {item.key for item in items}
    return [item for item in open_run.items if item.key in wanted]


def _ordered(items: list[EvalRunItem], order: Sequence[ItemKey] | None) -> list[EvalRunItem]:
    if order is None:
        return list(items)
    rank = {key: position for position, key in enumerate(order)}
    last = len(order)  # after every listed position, even when a key is listed twice
    return sorted(items, key=lambda item: rank.get(item.key, last))
