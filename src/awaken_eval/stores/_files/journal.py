"""The journal of a streamed run: appends, the key cache, creating and dropping it.

Streamed runs keep a journal under the store's ``eval_runs`` until they finish::

    <root>/eval_runs/.open/<run_id>/header.json    the RunHeader (compact JSON)
    <root>/eval_runs/.open/<run_id>/items.ndjson   one compact item per line
    <root>/eval_runs/.staging/                     journals being created

* An append is one write of whole lines followed by an fsync: an acknowledged item
  survives a crash. A writer killed mid-append leaves at most a torn last line, which
  is dropped (and truncated away) when the run is resumed or finished.
* Journal operations hold an advisory lock (``flock``) on the journal, so threads and
  processes sharing a run are serialized.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs

from awaken_eval._io.atomic import fsync_directory, write_bytes_atomic
from awaken_eval._io.below import open_nofollow, read_nofollow
from awaken_eval._records.runs import EvalRunItem, ItemKey
from awaken_eval._records.store import RunHeader
from awaken_eval._wire.converter import from_builtins, to_builtins
from awaken_eval._wire.gc import gc_paused
from awaken_eval._wire.json import encode_compact, loads_strict
from awaken_eval.errors import DuplicateItemKeys, InvalidInput, NotFound, StoreFailure
from awaken_eval.stores._files.checks import (
    check_items_shape,
    check_readable,
    run_skeleton,
    unserializable,
)
from awaken_eval.stores._files.index import corrupt_line, decode_line, document_key, repeated_key
from awaken_eval.stores._files.layout import HEADER, ITEMS, Layout, io_failure, unlink_quietly

if sys.platform != "win32":
    import fcntl

__all__ = ["Journal", "Journals", "not_open"]


def not_open(run_id: str) -> NotFound:
    """The error of an operation on a run that is not open."""
    return NotFound(f"no open eval run: {run_id}")


def _lock(descriptor: int) -> None:
    """Take the advisory lock of an open journal (released when it is closed)."""
    if sys.platform != "win32":
        fcntl.flock(descriptor, fcntl.LOCK_EX)


def _shared_key(key: ItemKey, previous: ItemKey | None, models: dict[str, str]) -> ItemKey:
    """``key`` with shared strings: its model id from ``models``, its fixture id from ``previous``.

    The fixture id is shared only when equal to the previous key's: the samples of a
    fixture often follow each other in a journal, and a dictionary of every fixture id
    would cost more than it saves when each fixture has one item.
    """
    fixture_id = key.fixture_id
    if previous is not None and previous.fixture_id == fixture_id:
        fixture_id = previous.fixture_id
    model_id = key.model_id
    if model_id is not None:
        model_id = models.setdefault(model_id, model_id)
    if fixture_id is key.fixture_id and model_id is key.model_id:
        return key
    return ItemKey(fixture_id, model_id, key.sample_index)


@attrs.define
class Journal:
    """What this process knows of an open run's journal while it holds its lock.

    Its keys are those of the first ``size`` bytes of the items file ``inode``; the
    cache is reused only while the file still has that size and inode. They are kept
    as ``present``, the frozenset last handed out (so the caller's copy of the keys is
    the cache's), and ``added``, the keys appended since.
    """

    header: RunHeader
    present: frozenset[ItemKey]
    added: set[ItemKey]
    size: int
    inode: int

    def __contains__(self, key: ItemKey) -> bool:
        """Whether the journal holds ``key``."""
        return key in self.present or key in self.added

    def keys(self) -> frozenset[ItemKey]:
        """Every key of the journal, as the frozenset the cache keeps from now on."""
        if self.added:
            self.present = self.present | self.added
            self.added = set()
        return self.present


class Journals:
    """The journals of a store's open runs, and what this process caches of them.

    Args:
        layout: The store's layout.
    """

    def __init__(self, layout: Layout) -> None:
        """Keep the journals of ``layout``, with an empty cache."""
        self._layout = layout
        self._cache: dict[str, Journal] = {}

    @contextlib.contextmanager
    def locked(self, run_id: str) -> Iterator[int | None]:
        """The locked items file of the open run ``run_id``, or ``None`` when not open."""
        items = self._layout.journal_dir(run_id) / ITEMS
        try:
            descriptor = os.open(items, os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW)
        except (FileNotFoundError, NotADirectoryError):
            descriptor = -1
        except OSError as exc:
            raise io_failure(run_id, "open the journal", items, exc) from None
        if descriptor < 0:
            yield None
            return
        try:
            _lock(descriptor)
            try:
                still_open = items.stat().st_ino == os.fstat(descriptor).st_ino
            except FileNotFoundError:  # finished while this call waited for the lock
                still_open = False
            yield descriptor if still_open else None
        finally:
            os.close(descriptor)

    def state(self, run_id: str, descriptor: int) -> Journal:
        """The state of a locked journal: cached, or read (dropping a torn last line)."""
        status = os.fstat(descriptor)
        cached = self._cache.get(run_id)
        if cached is not None and (cached.size, cached.inode) == (
            status.st_size,
            status.st_ino,
        ):
            return cached
        directory = self._layout.journal_dir(run_id)
        header = read_header(run_id, directory)
        keys, size = _scan_keys(run_id, directory / ITEMS)
        if size != status.st_size:  # a torn last line: never acknowledged, dropped
            try:
                os.ftruncate(descriptor, size)
                os.fsync(descriptor)
            except OSError as exc:
                raise io_failure(run_id, "repair the journal", directory, exc) from None
        journal = Journal(header, keys, set(), size, status.st_ino)
        self._cache[run_id] = journal
        return journal

    def forget(self, run_id: str) -> None:
        """Drop what the cache holds of ``run_id`` (its keys)."""
        self._cache.pop(run_id, None)

    def create(self, header: RunHeader) -> None:
        """Stage a journal, take the marker, then move the journal into place.

        Raises:
            InvalidInput: when the header holds a value that could not be read back.
            AlreadyExists: when another writer took the marker.
            StoreFailure: when the file system fails (nothing is left behind).
        """
        run_id = header.id
        try:
            document = to_builtins(header)
        except (ValueError, TypeError) as exc:
            raise unserializable(run_id, exc) from None
        check_readable(RunHeader, document, "$", f"eval run {run_id}")
        run_skeleton(header, ended_at_secs=0)
        layout = self._layout
        staging = layout.new_staging_dir()
        target = layout.journal_dir(run_id)
        try:
            staging.mkdir(parents=True)
            write_bytes_atomic(staging / HEADER, encode_compact(document).encode())
            write_bytes_atomic(staging / ITEMS, b"")
            target.parent.mkdir(exist_ok=True)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise io_failure(run_id, "create the journal", staging, exc) from None
        try:
            layout.take_marker(run_id, layout.final_path(run_id, header.started_at_secs))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        try:
            staging.rename(target)
            fsync_directory(target.parent)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            unlink_quietly(layout.marker(run_id))
            raise io_failure(run_id, "open the journal", target, exc) from None
        inode = (target / ITEMS).stat().st_ino
        self._cache[run_id] = Journal(header, frozenset(), set(), 0, inode)

    def append(self, run_id: str, descriptor: int, items: tuple[EvalRunItem, ...]) -> None:
        """Durably add items to the locked journal ``descriptor`` (one write, one fsync).

        Raises:
            InvalidExecutionShape: when an item disagrees with the run's mode.
            DuplicateItemKeys: when an item's key is already present.
            InvalidInput: when an item cannot be written as JSON or read back.
            StoreFailure: when the file system fails (nothing is appended).
        """
        journal = self.state(run_id, descriptor)
        check_items_shape(run_id, journal.header.execution_mode, items)
        new_keys: set[ItemKey] = set()
        for item in items:
            key = item.key
            if key in new_keys or key in journal:
                msg = f"eval run {run_id}: duplicate eval-run item key: {key.describe()}"
                raise DuplicateItemKeys(msg)
            new_keys.add(key)
        if not items:
            return
        source = f"eval run {run_id}"
        lines: list[str] = []
        try:
            for index, item in enumerate(items):
                document = to_builtins(item)
                check_readable(EvalRunItem, document, f"$[{index}]", source)
                lines.append(encode_compact(document) + "\n")
            data = "".join(lines).encode()
        except InvalidInput:
            raise
        except (ValueError, TypeError) as exc:
            raise unserializable(run_id, exc) from None
        try:
            written = 0
            while written < len(data):
                written += os.write(descriptor, data[written:])
            os.fsync(descriptor)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, journal.size)
            path = self._layout.journal_dir(run_id) / ITEMS
            raise io_failure(run_id, "append to", path, exc) from None
        journal.size += len(data)
        journal.added.update(new_keys)

    def drop(self, run_id: str) -> None:
        """Remove a finished run's journal: the items file first (it marks the run open)."""
        self._cache.pop(run_id, None)
        directory = self._layout.journal_dir(run_id)
        for name in (ITEMS, HEADER):
            unlink_quietly(directory / name)
        with contextlib.suppress(OSError):
            directory.rmdir()
            fsync_directory(directory.parent)


def read_header(run_id: str, directory: Path) -> RunHeader:
    """The header of the journal in ``directory``.

    Raises:
        StoreFailure: when it cannot be read or is corrupt.
    """
    path = directory / HEADER
    try:
        data = read_nofollow(path)
        return from_builtins(RunHeader, loads_strict(data))
    except OSError as exc:
        raise io_failure(run_id, "read the journal header", path, exc) from None
    except (ValueError, RecursionError) as exc:  # InvalidInput is a ValueError
        msg = f"eval run {run_id}: the journal header {path} is corrupt: {exc}"
        raise StoreFailure(msg) from None


def _scan_keys(run_id: str, path: Path) -> tuple[frozenset[ItemKey], int]:
    """The keys of the complete lines of a journal and the size they span.

    The keys share their model ids, and a fixture id repeated from the line before.
    """
    keys: list[ItemKey] = []
    models: dict[str, str] = {}
    size = 0
    try:
        with open_nofollow(path) as handle, gc_paused():
            for number, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    break  # torn by a crash mid-append
                try:
                    key = document_key(decode_line(line))
                except (ValueError, TypeError, RecursionError) as exc:
                    raise corrupt_line(run_id, path, number, exc) from None
                keys.append(_shared_key(key, keys[-1] if keys else None, models))
                size += len(line)
            present = frozenset(keys)
    except OSError as exc:
        raise io_failure(run_id, "read the journal", path, exc) from None
    if len(present) != len(keys):
        seen: set[ItemKey] = set()
        for number, key in enumerate(keys, start=1):
            if key in seen:
                raise repeated_key(run_id, path, number, key)
            seen.add(key)
    return present, size
