"""``FileEvalRunStore``: runs as pretty-printed JSON files, in the reference's layout.

The layout (:mod:`.layout`) is the reference implementation's, so a directory written
by either one is read by the other. Streamed runs keep a journal (:mod:`.journal`)
until they finish; finishing never loads their items (:mod:`.index`), and run files
are written by the byte-exact printer (:mod:`.printer`).

Durability and concurrency:

* A run file appears at once and complete, or not at all: it is written with
  :func:`~awaken_eval._io.atomic.write_atomic` (exclusive temp file, fsync, hard link
  to its final name, directory fsync). A writer killed at any point leaves at most a
  temp file (ignored by reads and listings, kept by pruning) and its marker, which
  keeps the id taken.
* Run ids are write-once across shards and processes: the marker is linked into place
  write-once, so of two writers of one id exactly one wins.
* Appends are fsynced and journal operations hold an advisory lock (see
  :mod:`.journal`).
* Every blocking call runs in a worker thread (:func:`anyio.to_thread.run_sync`).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

import anyio.to_thread
import attrs

from awaken_eval._io.atomic import write_atomic
from awaken_eval._io.below import open_nofollow, read_nofollow
from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.rules import validate_unique_item_keys
from awaken_eval._records.runs import (
    EvalRun,
    EvalRunFilter,
    EvalRunItem,
    EvalRunSummary,
    ItemKey,
)
from awaken_eval._records.store import OpenRunSummary, RunHeader
from awaken_eval._wire.converter import to_builtins
from awaken_eval._wire.gc import gc_paused
from awaken_eval.errors import (
    AlreadyExists,
    Conflict,
    DuplicateItemKeys,
    InvalidExecutionShape,
    NotFound,
    StoreFailure,
)
from awaken_eval.stores._files.checks import check_readable, run_skeleton, unserializable
from awaken_eval.stores._files.index import index_journal, read_back, scan_summary, summary_of
from awaken_eval.stores._files.journal import Journals, not_open, read_header
from awaken_eval.stores._files.layout import (
    ITEMS,
    LOG,
    SUFFIX,
    Layout,
    decode_run,
    io_failure,
    load_document,
    load_valid,
    parse_run,
    raw_identity,
    unlink_quietly,
)
from awaken_eval.stores._files.open_runs import list_open_runs, read_open_run
from awaken_eval.stores._files.printer import write_document, write_run_document

__all__ = ["FileEvalRunStore"]

T = TypeVar("T")


@attrs.frozen
class _Candidate:
    """A run file a listing may return, with the fields its filter and order use."""

    started_at_secs: int
    run_id: str
    path: Path


class FileEvalRunStore:
    """Keeps runs as JSON files under ``<root>/eval_runs`` in the reference's layout.

    Implements the write/read/list, prune and streaming protocols with the semantics
    and errors of :class:`~awaken_eval.stores.InMemoryRunStore`: write-once run ids,
    run-id validation before any file is touched, execution-shape and item-key
    validation on write and on every read, newest-first listings (ties by id,
    descending), pruning that frees the ids of deleted runs, streaming appends
    with resume, and reads of open runs.

    Args:
        root: The directory holding ``eval_runs`` (created when missing).
        clock: Epoch seconds, used for a run written with ``started_at_secs=0``.
        read_only: Only read: nothing is created, and every write, prune or
            streaming call raises :class:`~awaken_eval.StoreFailure` before touching
            a file, so a store on a read-only file system can be listed and read.

    Example::

        store = FileEvalRunStore("/var/lib/evals")
        await store.write(run)
        assert (await store.read(run.id)) == run
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        clock: Callable[[], float] = time.time,
        read_only: bool = False,
    ) -> None:
        """Open the store at ``root``, creating ``<root>/eval_runs`` when missing."""
        self._clock = clock
        self._root = Path(root).absolute()
        self._layout = Layout(self._root)
        self._read_only = read_only
        if not read_only:
            self._layout.runs.mkdir(parents=True, exist_ok=True)
        self._journals = Journals(self._layout)

    @property
    def read_only(self) -> bool:
        """Whether the store was opened read-only."""
        return self._read_only

    @property
    def root(self) -> Path:
        """The directory holding ``eval_runs`` (absolute)."""
        return self._root

    # -- the protocols ---------------------------------------------------------------

    async def write(self, run: EvalRun) -> None:
        """Persist ``run`` (write-once), atomically.

        A run whose ``started_at_secs`` is 0 is stored as started now (in its shard
        and in the file).

        Raises:
            InvalidRunId: for an id no store can hold.
            AlreadyExists: when the id is taken by a stored or open run, in any shard
                (checked before the payload).
            InvalidExecutionShape: when the items disagree with the execution mode.
            DuplicateItemKeys: when two items share a key (nothing is written).
            InvalidInput: when a value cannot be written as JSON or could not be read
                back, e.g. an unsigned field out of range (nothing is written).
            StoreFailure: when the file system fails.
        """
        self._writable(f"write eval run {run.id}")
        await self._in_thread(self._write, run)

    async def read(self, run_id: str) -> EvalRun:
        """Load the run ``run_id``, validated as on write.

        Raises:
            InvalidRunId: for an id no store can hold, or when the file holds another
                (or an invalid) run id.
            NotFound: when no shard holds the run.
            InvalidExecutionShape: when the stored items disagree with the mode.
            DuplicateItemKeys: when two stored items share a key.
            StoreFailure: when the file cannot be read or is not a run document (the
                message names the run and the file).
        """
        return await self._in_thread(self._read, run_id)

    async def list(self, run_filter: EvalRunFilter) -> builtins.list[EvalRunSummary]:
        """Summaries of the selected runs, newest first, ties by id descending.

        Files that cannot be read or are not valid runs are skipped with a warning
        on the ``awaken_eval.stores`` logger, never an error.
        """
        return await self._in_thread(self._select, run_filter, EvalRunSummary.from_run)

    async def list_full(self, run_filter: EvalRunFilter) -> builtins.list[EvalRun]:
        """The selected runs in full, in the order of :meth:`list`."""
        return await self._in_thread(self._select, run_filter, lambda run: run)

    async def prune(self, older_than_secs: int) -> int:
        """Delete the valid runs started before ``older_than_secs``; return how many.

        Deleted runs lose their marker too, so their ids can be written again. Files
        that are not ``*.json``, cannot be read or are not valid runs are kept (and
        keep their shard and marker); a shard left empty is removed.
        """
        self._writable("prune eval runs")
        return await self._in_thread(self._prune, older_than_secs)

    async def begin(self, header: RunHeader, *, resume: bool = False) -> frozenset[ItemKey]:
        """Open ``header.id`` for appending; return the keys it already holds.

        A new run takes the id's write-once marker, so a concurrent :meth:`write` or
        :meth:`begin` of the same id fails. With ``resume=True`` an open run of the
        same dataset, revision and mode is reopened (its stored header is kept) and
        its present keys returned; a torn last line left by a crash is dropped.

        Raises:
            InvalidRunId: for an id no store can hold.
            AlreadyExists: when a stored run (or a concurrent writer) has this id.
            Conflict: when the run is open and ``resume`` is false, or the open run
                was started for another dataset, revision or mode.
            InvalidInput: when a new run's header holds a value that could not be
                read back (e.g. a negative ``started_at_secs``).
            StoreFailure: when the file system fails or the journal is corrupt.
        """
        self._writable(f"begin eval run {header.id}")
        return await self._in_thread(self._begin, header, resume)

    async def append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        """Durably add finished items to the open run (one write and one fsync).

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when ``run_id`` is not open.
            DuplicateItemKeys: when an item's key is already present (nothing is
                appended).
            InvalidExecutionShape: when an item disagrees with the run's mode.
            InvalidInput: when an item cannot be written as JSON or holds a value
                that could not be read back (e.g. a ``sample_index`` beyond u32).
            StoreFailure: when the file system fails (nothing is appended).
        """
        self._writable(f"append to eval run {run_id}")
        await self._in_thread(self._append, run_id, items)

    async def finish(
        self,
        run_id: str,
        *,
        ended_at_secs: int,
        item_order: Sequence[ItemKey] | None = None,
    ) -> EvalRunSummary:
        """Close the open run and store it as a run file.

        See :meth:`~awaken_eval.protocols.StreamingRunStore.finish`. No item is loaded:
        one pass over the journal notes where each line is and where the run lists it
        (parsing each line once), then the file is written item by item, each line
        read back from the journal. Memory grows by about 8 bytes an item and 16 to 24
        bytes a key of ``item_order`` (a million items: about 11 MB, 27 MB with an
        order). A key listed twice in ``item_order`` takes its last place. A finish
        retried after a crash that came once the run file was in place returns that
        file's summary.

        Raises:
            StoreFailure: when the file system fails, or a complete journal line is
                corrupt, breaks the execution mode or repeats a listed key (the run
                stays open; the message names the journal and the line).
        """
        self._writable(f"finish eval run {run_id}")
        return await self._in_thread(self._finish, run_id, ended_at_secs, item_order)

    async def present_keys(self, run_id: str) -> frozenset[ItemKey]:
        """Keys of the items an open run already holds (empty when it is not open).

        Raises:
            InvalidRunId: for an id no store can hold.
        """
        return await self._in_thread(self._present_keys, run_id)

    # -- write / read -------------------------------------------------------------------

    async def list_open(self) -> builtins.list[OpenRunSummary]:
        """Summaries of the open runs, newest first (ties by id, descending).

        Each journal is read without its lock; a torn last line is not counted, and
        a journal that cannot be read is skipped with a warning on the
        ``awaken_eval.stores`` logger.
        """
        return await self._in_thread(list_open_runs, self._layout)

    async def read_open(self, run_id: str) -> EvalRun:
        """The items the open run ``run_id`` holds so far, in append order.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when no run with this id is open.
            StoreFailure: when the journal cannot be read or is corrupt.
        """
        validate_run_id(run_id)
        return await self._in_thread(read_open_run, self._layout, run_id)

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(function, *args))

    def _writable(self, what: str) -> None:
        if self._read_only:
            msg = f"{self._root}: cannot {what}: the run store is open read-only"
            raise StoreFailure(msg)

    def _ensure_absent(self, run_id: str) -> None:
        """Write-once, before anything is written (see :meth:`Layout.ensure_absent`)."""
        self._layout.ensure_absent(run_id)

    def _write(self, run: EvalRun) -> None:
        validate_run_id(run.id)
        layout = self._layout
        self._ensure_absent(run.id)
        try:
            attrs.validate(run)  # a run built around its constructor's shape check
        except InvalidExecutionShape as exc:
            raise exc.located(source=f"eval run {run.id}") from None
        try:
            validate_unique_item_keys(run.items)
        except DuplicateItemKeys as exc:
            raise DuplicateItemKeys(f"eval run {run.id}: {exc.message}") from None
        if run.started_at_secs == 0:
            run = attrs.evolve(run, started_at_secs=int(self._clock()))
        try:
            skeleton = to_builtins(attrs.evolve(run, items=()))
        except (ValueError, TypeError) as exc:
            raise unserializable(run.id, exc) from None
        check_readable(EvalRun, skeleton, "$", f"eval run {run.id}")  # items: on writing
        final = layout.final_path(run.id, run.started_at_secs)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise io_failure(run.id, "create the shard", final.parent, exc) from None
        layout.take_marker(run.id, final)
        try:
            self._publish(run.id, final, lambda out: write_document(out, run, check_items=True))
        except BaseException:
            unlink_quietly(layout.marker(run.id))
            raise

    @staticmethod
    def _publish(run_id: str, final: Path, write: Callable[[IO[bytes]], None]) -> None:
        """Have ``write`` write a run file, put in place write-once and atomically.

        Args:
            run_id: The run written.
            final: The run file's path.
            write: Writes the document to the handle it is given.
        """

        def write_paused(handle: IO[bytes]) -> None:
            try:
                with gc_paused():
                    write(handle)
            except (ValueError, TypeError) as exc:  # unencodable text, NaN, ...
                raise unserializable(run_id, exc) from None

        try:
            write_atomic(final, write_paused, overwrite=False)
        except FileExistsError:
            raise AlreadyExists(run_id) from None
        except OSError as exc:
            raise io_failure(run_id, "write", final, exc) from None

    def _read(self, run_id: str) -> EvalRun:
        validate_run_id(run_id)
        path = self._layout.locate(run_id)
        if path is None:
            msg = f"eval run not found: {run_id}"
            raise NotFound(msg)
        try:
            data = read_nofollow(path)
        except FileNotFoundError:  # pruned meanwhile
            msg = f"eval run not found: {run_id}"
            raise NotFound(msg) from None
        except OSError as exc:
            raise io_failure(run_id, "read", path, exc) from None
        return decode_run(path, run_id, parse_run(path, run_id, data))

    # -- listing and pruning ------------------------------------------------------------

    def _matching(self, run_filter: EvalRunFilter) -> Iterator[tuple[_Candidate, Any]]:
        """Every run file whose raw fields the filter selects, with its parsed JSON."""
        for shard in self._layout.shards():
            for path, stem in self._layout.run_files(shard):
                document = load_document(path, stem)
                if document is None:
                    continue
                raw = raw_identity(document)
                if raw is None:
                    LOG.warning("skipping eval run file %s: not an eval run document", path)
                elif run_filter.matches(*raw):
                    yield _Candidate(raw[1], stem, path), document

    def _select(
        self, run_filter: EvalRunFilter, convert: Callable[[EvalRun], T]
    ) -> builtins.list[T]:
        """The selected runs, newest first (ties by id, descending), converted.

        Every file is parsed once to apply the filter. Without a limit each selected
        file is validated right away; with one, only the positions of the selected
        files are kept, and they are validated newest first until the limit is met,
        so a listing of the latest runs never builds the items of older ones.
        """
        limit = run_filter.limit
        if limit is None:
            ordered: builtins.list[tuple[int, str, T]] = []
            for candidate, document in self._matching(run_filter):
                run = load_valid(candidate.path, candidate.run_id, document)
                if run is not None:
                    ordered.append((run.started_at_secs, run.id, convert(run)))
            ordered.sort(key=lambda entry: entry[:2], reverse=True)
            return [entry[2] for entry in ordered]
        if limit == 0:
            return []
        candidates = [candidate for candidate, _ in self._matching(run_filter)]
        candidates.sort(key=lambda c: (c.started_at_secs, c.run_id), reverse=True)
        selected: builtins.list[T] = []
        for candidate in candidates:
            if len(selected) >= limit:
                break
            document = load_document(candidate.path, candidate.run_id)
            run = (
                None if document is None else load_valid(candidate.path, candidate.run_id, document)
            )
            if run is not None and run_filter.matches(run.dataset_id, run.started_at_secs):
                selected.append(convert(run))
        return selected

    def _prune(self, older_than_secs: int) -> int:
        deleted = 0
        for shard in self._layout.shards():
            try:
                names = [entry.name for entry in shard.iterdir()]
            except OSError as exc:
                LOG.warning("skipping eval run shard %s: %s", shard, exc.strerror or exc)
                continue
            kept = 0
            for name in names:
                if self._prune_entry(shard / name, name, older_than_secs):
                    deleted += 1
                else:
                    kept += 1
            if kept == 0:
                with contextlib.suppress(OSError):  # best effort: a writer may be adding
                    shard.rmdir()
        return deleted

    def _prune_entry(self, path: Path, name: str, older_than_secs: int) -> bool:
        """Delete one shard entry when it is a valid run older than the cutoff."""
        if not name.endswith(SUFFIX) or path.is_symlink() or not path.is_file():
            return False
        stem = name[: -len(SUFFIX)]
        document = load_document(path, stem)
        if document is None:
            return False
        raw = raw_identity(document)
        if raw is not None and raw[1] >= older_than_secs:
            return False  # kept whether valid or not
        run = load_valid(path, stem, document)
        if run is None or run.started_at_secs >= older_than_secs:
            return False
        # The marker first: until the file is gone, the file keeps the id taken.
        try:
            self._layout.marker(run.id).unlink(missing_ok=True)
            path.unlink()
        except FileNotFoundError:
            return False  # removed meanwhile
        except OSError as exc:
            raise io_failure(run.id, "delete", path, exc) from None
        return True

    # -- streaming ----------------------------------------------------------------------

    def _begin(self, header: RunHeader, resume: bool) -> frozenset[ItemKey]:
        run_id = validate_run_id(header.id)
        with self._journals.locked(run_id) as descriptor:
            if descriptor is not None:
                if self._layout.locate(run_id) is not None:  # finished; journal left behind
                    self._drop_journal(run_id)
                    raise AlreadyExists(run_id)
                if not resume:
                    msg = f"eval run {run_id} is already open; pass resume=True to continue it"
                    raise Conflict(msg)
                journal = self._journals.state(run_id, descriptor)
                if _identity(journal.header) != _identity(header):
                    msg = f"eval run {run_id} was started for another dataset, revision or mode"
                    raise Conflict(msg)
                return journal.keys()
        self._ensure_absent(run_id)
        self._journals.create(header)
        return frozenset()

    def _append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        validate_run_id(run_id)
        with self._journals.locked(run_id) as descriptor:
            if descriptor is None:
                raise not_open(run_id)
            self._journals.append(run_id, descriptor, items)

    def _present_keys(self, run_id: str) -> frozenset[ItemKey]:
        validate_run_id(run_id)
        with self._journals.locked(run_id) as descriptor:
            if descriptor is None:
                return frozenset()
            return self._journals.state(run_id, descriptor).keys()

    def _finish(
        self, run_id: str, ended_at_secs: int, item_order: Sequence[ItemKey] | None
    ) -> EvalRunSummary:
        validate_run_id(run_id)
        with self._journals.locked(run_id) as descriptor:
            if descriptor is None:
                raise not_open(run_id)
            if self._layout.locate(run_id) is not None:  # finished before a crash; tidy up
                self._drop_journal(run_id)
                return self._stored_summary(run_id)
            self._journals.forget(run_id)  # finishing needs no keys: free them
            directory = self._layout.journal_dir(run_id)
            header = read_header(run_id, directory)
            skeleton = run_skeleton(header, ended_at_secs=ended_at_secs)
            path = directory / ITEMS
            index = index_journal(run_id, path, header.execution_mode, item_order)
            final = self._layout.final_path(run_id, header.started_at_secs)
            try:
                reader = open_nofollow(path)
            except OSError as exc:
                raise io_failure(run_id, "read the journal", path, exc) from None
            with reader:
                documents = read_back(run_id, path, reader, index)
                self._publish(
                    run_id, final, lambda out: write_run_document(out, skeleton, documents)
                )
            self._drop_journal(run_id)
            return summary_of(header, count=index.count, passed=index.passed)

    def _stored_summary(self, run_id: str) -> EvalRunSummary:
        """The summary of the stored run ``run_id``, read one item at a time.

        A file laid out as this store writes it is scanned item by item (see
        :func:`~awaken_eval.stores._files.index.scan_summary`), so even a huge run is
        summarised in little memory; any other file is read and validated whole, as
        :meth:`read` does.
        """
        path = self._layout.locate(run_id)
        if path is not None:
            try:
                with open_nofollow(path) as handle, gc_paused():
                    summary = scan_summary(handle)
            except (OSError, ValueError, TypeError, RecursionError):
                summary = None  # read whole below, which names the problem
            if summary is not None and summary.id == run_id:
                return summary
        return EvalRunSummary.from_run(self._read(run_id))

    def _drop_journal(self, run_id: str) -> None:
        """Remove a finished run's journal (see :meth:`Journals.drop`)."""
        self._journals.drop(run_id)


def _identity(header: RunHeader) -> tuple[str, int, str]:
    return (header.dataset_id, header.dataset_revision, header.execution_mode.value)
