"""``FileEvalRunStore``: runs as pretty-printed JSON files, in the reference's layout.

The layout is the reference implementation's, so a directory written by either one is
read by the other::

    <root>/eval_runs/                         created on construction
    <root>/eval_runs/YYYY-MM/<run_id>.json    one run; the shard is the UTC year-month
                                              of its started_at_secs
    <root>/eval_runs/.ids/<run_id>            write-once marker (content: final path)
    <root>/eval_runs/YYYY-MM/.<id>.<pid>.<nanos>.json.tmp   transient temp files

Every directory under ``eval_runs`` whose name starts with ``.`` is internal. Streamed
runs keep a journal in one of them until they finish::

    <root>/eval_runs/.open/<run_id>/header.json    the RunHeader (compact JSON)
    <root>/eval_runs/.open/<run_id>/items.ndjson   one compact item per line
    <root>/eval_runs/.staging/                     journals being created

Finishing a streamed run never loads its items: one pass over the journal records
where each line starts (and where the finished run lists it), and the run file is
then written item by item, each line read back from the journal. Memory grows by a
few bytes per item (a few more per key of the ``item_order``), whatever their size.

Durability and concurrency:

* A run file appears at once and complete, or not at all: it is written to an
  exclusive temp file, fsynced, hard-linked to its final name and the directory
  fsynced. A writer killed at any point leaves at most a temp file (ignored by reads
  and listings, kept by pruning) and its marker, which keeps the id taken.
* Run ids are write-once across shards and processes: the marker is created with an
  exclusive create, so of two writers of one id exactly one wins.
* An append is one write of whole lines followed by an fsync: an acknowledged item
  survives a crash. A writer killed mid-append leaves at most a torn last line, which
  is dropped (and truncated away) when the run is resumed or finished.
* Journal operations hold an advisory lock (``flock``) on the journal, so threads and
  processes sharing a run are serialized.
* Every blocking call runs in a worker thread (:func:`anyio.to_thread.run_sync`).
"""

from __future__ import annotations

import builtins
import contextlib
import functools
import json
import logging
import math
import os
import secrets
import shutil
import sys
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Sequence
from json.encoder import encode_basestring as _encode_str
from pathlib import Path
from typing import IO, Any, TypeVar

import anyio.to_thread
import attrs

from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.rules import validate_unique_item_keys
from awaken_eval._records.runs import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunFilter,
    EvalRunItem,
    EvalRunSummary,
    ItemKey,
    _first_shape_problem,
)
from awaken_eval._records.store import RunHeader
from awaken_eval._wire.converter import from_builtins, to_builtins
from awaken_eval._wire.gc import gc_paused
from awaken_eval.errors import (
    AlreadyExists,
    AwakenEvalError,
    Conflict,
    DuplicateItemKeys,
    InvalidExecutionShape,
    InvalidInput,
    InvalidRunId,
    NotFound,
    Problem,
    StoreFailure,
)

if sys.platform != "win32":
    import fcntl

__all__ = [
    "FileEvalRunStore",
]

_LOG = logging.getLogger("awaken_eval.stores")

T = TypeVar("T")

_RUNS = "eval_runs"
_IDS = ".ids"
_OPEN = ".open"
_STAGING = ".staging"
_HEADER = "header.json"
_ITEMS = "items.ndjson"
_SUFFIX = ".json"

_TOP_INDENT = "\n  "
"""A newline and the indent of the top-level keys of a pretty-printed document."""

_ITEM_INDENT = "\n    "
"""A newline and the indent of the items of a pretty-printed run."""

_FLUSH_CHUNKS = 1024
"""Text chunks gathered before they are encoded and handed to the file."""

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
"""Compact JSON, as :func:`awaken_eval.to_json` writes it (one encoder for all)."""

_WRITE_BUFFER = 1 << 18
_CREATE_RETRIES = 5
"""Attempts to create a file whose shard a concurrent prune may remove meanwhile."""


# -- pure helpers -----------------------------------------------------------------------


def _shard_of(started_at_secs: int) -> str:
    """The ``YYYY-MM`` shard (UTC) of a run started at ``started_at_secs``.

    Civil-from-days arithmetic (proleptic Gregorian), so every u64 has a shard, even
    beyond the years :mod:`datetime` can represent.
    """
    days = started_at_secs // 86_400 + 719_468  # days since 0000-03-01
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1_460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    month_index = (5 * day_of_year + 2) // 153  # 0 = March
    month = month_index + 3 if month_index < 10 else month_index - 9
    year = year_of_era + era * 400 + (1 if month <= 2 else 0)
    return f"{year:04d}-{month:02d}"


def _reject_constant(name: str) -> None:
    msg = f"{name} is not valid JSON"
    raise ValueError(msg)


def _loads(data: bytes) -> Any:
    """Parse JSON strictly (no ``NaN``/``Infinity``), as the serde module does."""
    return json.loads(data, parse_constant=_reject_constant)


_decode_line = json.JSONDecoder(parse_constant=_reject_constant).decode


def _loads_line(line: bytes) -> Any:
    """Parse one journal line strictly (the store wrote it as UTF-8 compact JSON)."""
    return _decode_line(line.decode())


def _raw_key(line: bytes) -> ItemKey:
    """The item key of one journal line, read without building the item."""
    return _document_key(_loads_line(line))


def _document_key(document: Any) -> ItemKey:
    """The item key of an item's parsed JSON, read without building the item.

    Raises:
        TypeError: when the document is not an object or a key field has the wrong type.
    """
    if type(document) is not dict:
        msg = "an item must be a JSON object"
        raise TypeError(msg)
    fixture_id = document.get("fixture_id")
    cell = document.get("cell")
    model_id = cell.get("model_id") if type(cell) is dict else None
    sample_index = document.get("sample_index")
    if (
        type(fixture_id) is not str
        or (cell is not None and type(cell) is not dict)
        or (model_id is not None and type(model_id) is not str)
        or (sample_index is not None and type(sample_index) is not int)
    ):
        msg = "the item key fields have the wrong types"
        raise TypeError(msg)
    return ItemKey(fixture_id, model_id, sample_index)


def _item_facts(document: Any) -> tuple[ItemKey, bool, bool]:
    """``(key, has a cell, passed)`` of an item's parsed JSON, without building the item.

    Raises:
        TypeError: when a field the facts come from is missing or has the wrong type.
    """
    key = _document_key(document)
    report = document.get("report")
    passed = report.get("passed") if type(report) is dict else None
    if type(passed) is not bool:
        msg = "the item has no report with a boolean passed"
        raise TypeError(msg)
    return key, document.get("cell") is not None, passed


def _json_key(key: Any) -> str:
    """An object key as ``json.dumps`` writes it (non-string scalars are converted)."""
    if isinstance(key, str):
        return _encode_str(key)
    if key is True or key is False or key is None:
        return _encode_str(json.dumps(key))
    if isinstance(key, int):
        return _encode_str(int.__repr__(key))
    if isinstance(key, float):
        return _encode_str(_float_text(key))
    msg = f"keys must be str, int, float, bool or None, not {type(key).__name__}"
    raise TypeError(msg)


def _float_text(value: float) -> str:
    if value != value or value in (math.inf, -math.inf):  # noqa: PLR0124 - NaN check
        msg = f"Out of range float values are not JSON compliant: {value!r}"
        raise ValueError(msg)
    return float.__repr__(value)


def _pretty(value: Any, indent: str, out: Callable[[str], object]) -> None:
    """Append ``value`` pretty-printed (``indent`` is a newline and the current indent).

    The text is exactly what ``json.dumps(value, indent=2, ensure_ascii=False,
    allow_nan=False)`` writes, which is the reference's pretty printer layout; unlike
    the standard library's indenting encoder it creates no reference cycles, so it
    leaves nothing behind while the garbage collector is paused.
    """
    kind = type(value)
    if kind is str:
        out(_encode_str(value))
    elif kind is dict:
        _pretty_object(value, indent, out)
    elif kind is list or kind is tuple:
        _pretty_array(value, indent, out)
    elif isinstance(value, dict):
        _pretty_object(dict(value), indent, out)
    elif isinstance(value, (list, tuple)):
        _pretty_array(list(value), indent, out)
    else:
        out(_scalar_text(value))


def _pretty_object(value: dict[Any, Any], indent: str, out: Callable[[str], object]) -> None:
    if not value:
        out("{}")
        return
    inner = indent + "  "
    separator = "{" + inner
    for key, member in value.items():
        head = separator + (_encode_str(key) if type(key) is str else _json_key(key)) + ": "
        separator = "," + inner
        text = _SCALAR_TEXT.get(type(member))
        if text is None:
            out(head)
            _pretty(member, inner, out)
        else:  # one call fewer for the leaves, which are most of a run's values
            out(head + text(member))
    out(indent + "}")


def _pretty_array(value: Sequence[Any], indent: str, out: Callable[[str], object]) -> None:
    if not value:
        out("[]")
        return
    inner = indent + "  "
    separator = "[" + inner
    for member in value:
        text = _SCALAR_TEXT.get(type(member))
        if text is None:
            out(separator)
            _pretty(member, inner, out)
        else:
            out(separator + text(member))
        separator = "," + inner
    out(indent + "]")


def _scalar_text(value: Any) -> str:
    """A JSON scalar as ``json.dumps`` writes it (subclasses of str/int/float too)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _encode_str(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float_text(value)
    msg = f"Object of type {type(value).__name__} is not JSON serializable"
    raise TypeError(msg)


_SCALAR_TEXT: dict[type, Callable[[Any], str]] = {
    str: _encode_str,
    int: int.__repr__,
    float: _float_text,
    bool: lambda value: "true" if value else "false",
    type(None): lambda _: "null",
}
"""How the scalars of exactly these types are written (subclasses go through _pretty)."""


def _write_document(handle: IO[bytes], run: EvalRun, *, check_items: bool = False) -> None:
    """Write ``run`` pretty-printed, one item at a time.

    The bytes are exactly ``to_json(run, pretty=True)`` encoded as UTF-8, but the whole
    document never exists in memory: only the builtins of one item at a time.

    Args:
        handle: Where the bytes go.
        run: The run.
        check_items: Check that each item reads back (see :func:`_check_readable`).
    """
    source = f"eval run {run.id}"

    def documents() -> Iterator[Any]:
        for index, item in enumerate(run.items):
            document = to_builtins(item)
            if check_items:
                _check_readable(EvalRunItem, document, f"$.items[{index}]", source)
            yield document

    _write_run_document(handle, to_builtins(attrs.evolve(run, items=())), documents())


def _write_run_document(handle: IO[bytes], skeleton: dict[str, Any], items: Iterable[Any]) -> None:
    """Write a run document pretty-printed, its items taken one at a time from ``items``.

    Args:
        handle: Where the UTF-8 bytes go.
        skeleton: The builtins of the run without items (its ``items`` key is kept and
            says where the items go).
        items: The builtins of each item, in order, each dropped once written.
    """
    chunks: list[str] = []
    out = chunks.append

    def flush() -> None:
        handle.write("".join(chunks).encode())
        chunks.clear()

    separator = "{" + _TOP_INDENT
    for key, value in skeleton.items():
        out(separator + _json_key(key) + ": ")
        separator = "," + _TOP_INDENT
        if key != "items":
            _pretty(value, _TOP_INDENT, out)
            continue
        item_separator = "[" + _ITEM_INDENT
        for document in items:
            out(item_separator)
            item_separator = "," + _ITEM_INDENT
            _pretty(document, _ITEM_INDENT, out)
            if len(chunks) >= _FLUSH_CHUNKS:
                flush()
        out("[]" if item_separator.startswith("[") else _TOP_INDENT + "]")
    out("\n}")
    flush()


def _check_items_shape(
    run_id: str, mode: EvalRunExecutionMode, items: Sequence[EvalRunItem]
) -> None:
    found = _first_shape_problem(mode, items)
    if found is not None:
        index, msg = found
        problem = Problem(f"$[{index}].cell", msg)
        raise InvalidExecutionShape([problem], source=f"eval run {run_id}")


def _check_readable(cls: Any, document: Any, at: str, source: str) -> None:
    """Check that ``document``, the builtins of a record about to be stored, reads back.

    The records do not range-check their fields (an unsigned field may hold ``-1``);
    the converter does, so a store must not accept what it would later call corrupt.

    Raises:
        InvalidInput: naming every problem, with paths under ``at``.
    """
    try:
        from_builtins(cls, document)
    except InvalidInput as exc:
        problems = [Problem(at + problem.path[1:], problem.message) for problem in exc.problems]
        raise InvalidInput(problems, source=source) from None


def _unserializable(run_id: str, exc: Exception) -> InvalidInput:
    msg = f"eval run {run_id} cannot be stored as JSON: {exc}"
    return InvalidInput.single("$", msg)


def _io_failure(run_id: str, action: str, path: Path, exc: OSError) -> StoreFailure:
    reason = exc.strerror or str(exc)
    return StoreFailure(f"eval run {run_id}: cannot {action} {path}: {reason}")


def _fsync_dir(path: Path) -> None:
    if sys.platform == "win32":  # directories cannot be opened, nor need to be synced
        return
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _lock(descriptor: int) -> None:
    """Take the advisory lock of an open journal (released when it is closed)."""
    if sys.platform != "win32":
        fcntl.flock(descriptor, fcntl.LOCK_EX)


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def _create_exclusive(path: Path, *, retries: int = _CREATE_RETRIES) -> int:
    """Create ``path`` exclusively and return its descriptor, creating its directory.

    A concurrent prune may remove an empty shard between ``mkdir`` and the create; the
    create is retried a few times.
    """
    for attempt in range(retries):
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileNotFoundError:
            if attempt == retries - 1:
                raise
            path.parent.mkdir(parents=True, exist_ok=True)
    raise AssertionError  # pragma: no cover - the loop returns or raises


# -- the journal of an open run ----------------------------------------------------------


@attrs.define
class _Journal:
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


class _Positions:
    """The position of each key of an item order, found without a dictionary.

    A dictionary from key to position boxes every position (about 75 bytes a key);
    this open-addressing table (linear probing, at most half full) holds 4 or 8 bytes
    a slot, the key of a slot being ``order[position]`` itself. A key listed twice
    takes its last position, as a dictionary of positions would.
    """

    def __init__(self, order: Sequence[ItemKey]) -> None:
        """Index ``order`` (kept, not copied, when it is a list or a tuple)."""
        keys = order if isinstance(order, (list, tuple)) else list(order)
        size = 1 << max(3, (2 * len(keys)).bit_length())
        mask = size - 1
        slots = array("i" if size < 2**31 else "q", [-1]) * size
        for position, key in enumerate(keys):
            slot = hash(key) & mask
            while slots[slot] >= 0 and keys[slots[slot]] != key:
                slot = (slot + 1) & mask
            slots[slot] = position
        self._keys = keys
        self._mask = mask
        self._slots = slots

    def __len__(self) -> int:
        """The number of positions (keys listed twice count twice)."""
        return len(self._keys)

    def find(self, key: ItemKey) -> int:
        """The position of ``key`` (its last one), or -1 when it is not listed."""
        keys, mask, slots = self._keys, self._mask, self._slots
        slot = hash(key) & mask
        while (position := slots[slot]) >= 0:
            if keys[position] == key:
                return position
            slot = (slot + 1) & mask
        return -1


@attrs.define
class _JournalIndex:
    """Where the complete lines of a journal are, and in which order the run lists them.

    Attributes:
        offsets: The byte offset of each complete line, then the end of the last one.
        order: The line numbers (0-based) in the order of the finished run.
        passed: The number of lines whose report passed.
    """

    offsets: array[int]
    order: Iterable[int]
    passed: int

    @property
    def count(self) -> int:
        """The number of complete lines."""
        return len(self.offsets) - 1


def _corrupt_line(run_id: str, path: Path, number: int, reason: object) -> StoreFailure:
    return StoreFailure(f"eval run {run_id}: journal {path} line {number} is corrupt: {reason}")


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


def _repeated_key(run_id: str, path: Path, number: int, key: ItemKey) -> StoreFailure:
    msg = f"eval run {run_id}: journal {path} line {number} repeats the item key {key.describe()}"
    return StoreFailure(msg)


def _index_journal(
    run_id: str,
    path: Path,
    mode: EvalRunExecutionMode,
    item_order: Sequence[ItemKey] | None,
) -> _JournalIndex:
    """One pass over a journal: where each line is, where it goes, what passed.

    Each complete line is parsed once and dropped; what is kept is its offset, its
    place in ``item_order`` and the pass count. A torn last line is ignored.

    Raises:
        StoreFailure: when a complete line is corrupt, breaks the execution mode or
            repeats a listed key, or the journal cannot be read.
    """
    live = mode is EvalRunExecutionMode.LIVE
    positions = None if item_order is None else _Positions(item_order)
    listed = array("q", [-1]) * (0 if positions is None else len(positions))
    unlisted = array("q")
    offsets = array("q", [0])
    passed = 0
    try:
        with path.open("rb") as handle, gc_paused():
            for number, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    break  # torn by a crash mid-append: never acknowledged
                try:
                    key, has_cell, item_passed = _item_facts(_loads_line(line))
                except (ValueError, TypeError, RecursionError) as exc:
                    raise _corrupt_line(run_id, path, number, exc) from None
                if has_cell is not live:
                    rule = (
                        "execution_mode=live requires a cell on every item"
                        if live
                        else "execution_mode=scripted forbids cells"
                    )
                    msg = f"eval run {run_id}: journal {path} line {number} breaks {rule}"
                    raise StoreFailure(msg)
                passed += item_passed
                offsets.append(offsets[-1] + len(line))
                if positions is None:
                    continue
                position = positions.find(key)
                if position < 0:
                    unlisted.append(number - 1)
                elif listed[position] < 0:
                    listed[position] = number - 1
                else:
                    raise _repeated_key(run_id, path, number, key)
    except OSError as exc:
        raise _io_failure(run_id, "read the journal", path, exc) from None
    count = len(offsets) - 1
    order = range(count) if positions is None else _listed_then_unlisted(listed, unlisted)
    return _JournalIndex(offsets, order, passed)


def _listed_then_unlisted(listed: array[int], unlisted: array[int]) -> Iterator[int]:
    for line in listed:
        if line >= 0:
            yield line
    yield from unlisted


def _read_back(run_id: str, path: Path, reader: IO[bytes], index: _JournalIndex) -> Iterator[Any]:
    """The parsed lines of an indexed journal in the run's order, read one at a time."""
    offsets = index.offsets
    for line in index.order:
        start = offsets[line]
        try:
            reader.seek(start)
            data = reader.read(offsets[line + 1] - start)
        except OSError as exc:
            raise _io_failure(run_id, "read the journal", path, exc) from None
        try:
            document = _loads_line(data)
        except (ValueError, RecursionError) as exc:  # changed since it was indexed
            raise _corrupt_line(run_id, path, line + 1, exc) from None
        yield document


_ITEMS_START = b'  "items": [\n'
_ITEM_START = b"    {\n"
_ITEM_ENDS = (b"    },\n", b"    }\n")
_ITEMS_ENDS = (b"  ],\n", b"  ]\n")


def _scan_summary(lines: Iterable[bytes]) -> EvalRunSummary | None:
    """Summarise a run document in the layout this store writes, one item at a time.

    Every line of an item is at least four spaces deep, and JSON text holds no raw
    newline, so the items are told apart by their first and last lines. Only the
    top-level fields are built (and validated); each item is parsed and dropped.

    Returns:
        The summary, or ``None`` when the document is not laid out as this store
        writes it or its items disagree with its execution mode.

    Raises:
        ValueError: when the document is not valid JSON or not a valid run.
        TypeError: when an item's key fields or passed flag have the wrong type.
    """
    skeleton: list[bytes] = []
    item: list[bytes] | None = None
    in_items = False
    count = passed = with_cells = 0
    for line in lines:
        if item is not None:
            if line in _ITEM_ENDS:
                item.append(b"}")
                _, has_cell, item_passed = _item_facts(_loads(b"".join(item)))
                count += 1
                passed += item_passed
                with_cells += has_cell
                item = None
            else:
                item.append(line)
        elif in_items:
            if line == _ITEM_START:
                item = [b"{"]
            elif line in _ITEMS_ENDS:
                in_items = False
                skeleton.append(b'  "items": []' + line[3:])
            else:
                return None
        elif line == _ITEMS_START:
            in_items = True
        else:
            skeleton.append(line)
    if in_items:
        return None
    run = from_builtins(EvalRun, _loads(b"".join(skeleton)))
    live = run.execution_mode is EvalRunExecutionMode.LIVE
    if run.items or with_cells != (count if live else 0):
        return None  # items laid out otherwise, or a mode the items break
    return EvalRunSummary(
        id=run.id,
        dataset_id=run.dataset_id,
        dataset_revision=run.dataset_revision,
        execution_mode=run.execution_mode,
        started_at_secs=run.started_at_secs,
        item_count=count,
        passed_count=passed,
        failed_count=count - passed,
    )


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
    descending), pruning that frees the ids of deleted runs, and streaming appends
    with resume.

    Args:
        root: The directory holding ``eval_runs`` (created when missing).
        clock: Epoch seconds, used for a run written with ``started_at_secs=0``.

    Example::

        store = FileEvalRunStore("/var/lib/evals")
        await store.write(run)
        assert (await store.read(run.id)) == run
    """

    def __init__(
        self, root: str | os.PathLike[str], *, clock: Callable[[], float] = time.time
    ) -> None:
        """Open the store at ``root``, creating ``<root>/eval_runs`` when missing."""
        self._clock = clock
        self._root = Path(root).absolute()
        self._runs = self._root / _RUNS
        self._runs.mkdir(parents=True, exist_ok=True)
        self._journals: dict[str, _Journal] = {}

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
        await self._in_thread(self._append, run_id, items)

    async def finish(
        self,
        run_id: str,
        *,
        ended_at_secs: int,
        item_order: Sequence[ItemKey] | None = None,
    ) -> EvalRunSummary:
        """Close the open run, store it as a run file and return its summary.

        No item is loaded: one pass over the journal notes where each line is and
        where the run lists it (parsing each line once), then the file is written
        item by item, each line read back from the journal. Memory grows by about 8
        bytes an item and 16 to 24 bytes a key of ``item_order`` (a million items:
        about 11 MB, 27 MB with an order). :meth:`read` loads the run. A finish
        retried after a crash that came once the run file was in place returns that
        file's summary.

        Args:
            run_id: The open run.
            ended_at_secs: Epoch seconds at the end.
            item_order: The order the finished run lists its items in (items whose
                key is not listed follow in append order; a key listed twice takes
                its last place); ``None`` keeps append order.

        Raises:
            InvalidRunId: for an id no store can hold.
            NotFound: when ``run_id`` is not open.
            InvalidInput: when ``ended_at_secs`` is out of range (the run stays open).
            StoreFailure: when the file system fails, or a complete journal line is
                corrupt, breaks the execution mode or repeats a listed key (the run
                stays open; the message names the journal and the line).
        """
        return await self._in_thread(self._finish, run_id, ended_at_secs, item_order)

    async def present_keys(self, run_id: str) -> frozenset[ItemKey]:
        """Keys of the items an open run already holds (empty when it is not open).

        Raises:
            InvalidRunId: for an id no store can hold.
        """
        return await self._in_thread(self._present_keys, run_id)

    # -- paths --------------------------------------------------------------------------

    async def _in_thread(self, function: Callable[..., T], *args: Any) -> T:
        return await anyio.to_thread.run_sync(functools.partial(function, *args))

    def _final_path(self, run_id: str, started_at_secs: int) -> Path:
        return self._runs / _shard_of(started_at_secs) / f"{run_id}{_SUFFIX}"

    def _marker(self, run_id: str) -> Path:
        return self._runs / _IDS / run_id

    def _journal_dir(self, run_id: str) -> Path:
        return self._runs / _OPEN / run_id

    def _shards(self) -> builtins.list[Path]:
        """The non-internal shard directories, by name."""
        try:
            with os.scandir(self._runs) as scan:
                entries = list(scan)
        except FileNotFoundError:
            return []
        except OSError as exc:
            msg = f"cannot list {self._runs}: {exc.strerror or exc}"
            raise StoreFailure(msg) from None
        shards = [
            Path(entry.path)
            for entry in entries
            if not entry.name.startswith(".") and entry.is_dir()
        ]
        return sorted(shards)

    def _locate(self, run_id: str) -> Path | None:
        """The file of ``run_id`` in the first shard (by name) that has one."""
        name = f"{run_id}{_SUFFIX}"
        for shard in self._shards():
            candidate = shard / name
            if os.path.lexists(candidate):
                return candidate
        return None

    def _ensure_absent(self, run_id: str) -> None:
        """Write-once, before anything is written: no run file and no marker."""
        if self._locate(run_id) is not None or os.path.lexists(self._marker(run_id)):
            raise AlreadyExists(run_id)

    def _take_marker(self, run_id: str, final: Path) -> None:
        """Create the write-once marker exclusively (the step that decides a race)."""
        marker = self._marker(run_id)
        try:
            descriptor = _create_exclusive(marker)
        except FileExistsError:
            raise AlreadyExists(run_id) from None
        except OSError as exc:
            raise _io_failure(run_id, "create the marker", marker, exc) from None
        try:
            os.write(descriptor, os.fsencode(f"{final}\n"))
        except OSError as exc:
            os.close(descriptor)
            _unlink_quietly(marker)
            raise _io_failure(run_id, "write the marker", marker, exc) from None
        os.close(descriptor)

    # -- write / read -------------------------------------------------------------------

    def _write(self, run: EvalRun) -> None:
        validate_run_id(run.id)
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
            raise _unserializable(run.id, exc) from None
        _check_readable(EvalRun, skeleton, "$", f"eval run {run.id}")  # items: on writing
        final = self._final_path(run.id, run.started_at_secs)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _io_failure(run.id, "create the shard", final.parent, exc) from None
        self._take_marker(run.id, final)
        try:
            self._publish(run.id, final, lambda out: _write_document(out, run, check_items=True))
        except BaseException:
            _unlink_quietly(self._marker(run.id))
            raise

    @staticmethod
    def _publish(run_id: str, final: Path, write: Callable[[IO[bytes]], None]) -> None:
        """Have ``write`` write a run file to an exclusive temp file, fsync it and link it.

        Args:
            run_id: The run written.
            final: The run file's path.
            write: Writes the document to the handle it is given.
        """
        shard = final.parent
        temp = shard / f".{run_id}.{os.getpid()}.{time.time_ns()}{_SUFFIX}.tmp"
        try:
            descriptor = _create_exclusive(temp)
        except OSError as exc:
            raise _io_failure(run_id, "create", temp, exc) from None
        try:
            with os.fdopen(descriptor, "wb", buffering=_WRITE_BUFFER) as handle:
                try:
                    with gc_paused():
                        write(handle)
                except (ValueError, TypeError) as exc:  # unencodable text, NaN, ...
                    raise _unserializable(run_id, exc) from None
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, final)
            except FileExistsError:
                raise AlreadyExists(run_id) from None
            _fsync_dir(shard)
        except OSError as exc:
            raise _io_failure(run_id, "write", final, exc) from None
        finally:
            _unlink_quietly(temp)

    def _read(self, run_id: str) -> EvalRun:
        validate_run_id(run_id)
        path = self._locate(run_id)
        if path is None:
            msg = f"eval run not found: {run_id}"
            raise NotFound(msg)
        try:
            data = path.read_bytes()
        except FileNotFoundError:  # pruned meanwhile
            msg = f"eval run not found: {run_id}"
            raise NotFound(msg) from None
        except OSError as exc:
            raise _io_failure(run_id, "read", path, exc) from None
        return self._decode(path, run_id, self._parse(path, run_id, data))

    @staticmethod
    def _parse(path: Path, run_id: str, data: bytes) -> Any:
        try:
            with gc_paused():
                return _loads(data)
        except (ValueError, RecursionError) as exc:
            msg = f"eval run {run_id} is corrupt ({path}): invalid JSON: {exc}"
            raise StoreFailure(msg) from None

    @staticmethod
    def _decode(path: Path, stem: str, document: Any) -> EvalRun:
        """Build and validate the run of ``path`` (whose name is ``<stem>.json``)."""
        try:
            run = from_builtins(EvalRun, document)
        except InvalidExecutionShape as exc:
            raise exc.located(source=str(path)) from None
        except InvalidInput as exc:
            msg = f"eval run {stem} is corrupt ({path}): {exc}"
            raise StoreFailure(msg) from None
        try:
            validate_run_id(run.id)
        except InvalidRunId as exc:
            reason = f"{path} holds the invalid run id {run.id!r} ({exc.reason})"
            raise InvalidRunId(stem, reason) from None
        if run.id != stem:
            reason = f"{path} holds eval run {run.id!r}; the file name and the run id differ"
            raise InvalidRunId(stem, reason)
        try:
            validate_unique_item_keys(run.items)
        except DuplicateItemKeys as exc:
            raise DuplicateItemKeys(f"eval run {stem} ({path}): {exc.message}") from None
        return run

    # -- listing and pruning ------------------------------------------------------------

    def _run_files(self, shard: Path) -> Iterator[tuple[Path, str]]:
        """Every ``*.json`` entry of a shard with its stem (the run id it must hold)."""
        try:
            names = sorted(entry.name for entry in shard.iterdir())
        except OSError as exc:
            _LOG.warning("skipping eval run shard %s: %s", shard, exc.strerror or exc)
            return
        for name in names:
            if name.endswith(_SUFFIX):
                yield shard / name, name[: -len(_SUFFIX)]

    def _load_document(self, path: Path, stem: str) -> Any | None:
        """The parsed JSON of a run file, or ``None`` (with a warning) when unusable."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None  # removed meanwhile
        except OSError as exc:
            _LOG.warning("skipping unreadable eval run file %s: %s", path, exc.strerror or exc)
            return None
        try:
            return self._parse(path, stem, data)
        except StoreFailure as exc:
            _LOG.warning("skipping eval run file %s: %s", path, exc)
            return None

    def _load_valid(self, path: Path, stem: str, document: Any) -> EvalRun | None:
        """The validated run of a parsed file, or ``None`` (with a warning)."""
        try:
            return self._decode(path, stem, document)
        except AwakenEvalError as exc:
            _LOG.warning("skipping eval run file %s: %s", path, exc)
            return None

    def _matching(self, run_filter: EvalRunFilter) -> Iterator[tuple[_Candidate, Any]]:
        """Every run file whose raw fields the filter selects, with its parsed JSON."""
        for shard in self._shards():
            for path, stem in self._run_files(shard):
                document = self._load_document(path, stem)
                if document is None:
                    continue
                raw = _raw_identity(document)
                if raw is None:
                    _LOG.warning("skipping eval run file %s: not an eval run document", path)
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
                run = self._load_valid(candidate.path, candidate.run_id, document)
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
            document = self._load_document(candidate.path, candidate.run_id)
            run = (
                None
                if document is None
                else self._load_valid(candidate.path, candidate.run_id, document)
            )
            if run is not None and run_filter.matches(run.dataset_id, run.started_at_secs):
                selected.append(convert(run))
        return selected

    def _prune(self, older_than_secs: int) -> int:
        deleted = 0
        for shard in self._shards():
            try:
                names = [entry.name for entry in shard.iterdir()]
            except OSError as exc:
                _LOG.warning("skipping eval run shard %s: %s", shard, exc.strerror or exc)
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
        if not name.endswith(_SUFFIX) or not path.is_file():
            return False
        stem = name[: -len(_SUFFIX)]
        document = self._load_document(path, stem)
        if document is None:
            return False
        raw = _raw_identity(document)
        if raw is not None and raw[1] >= older_than_secs:
            return False  # kept whether valid or not
        run = self._load_valid(path, stem, document)
        if run is None or run.started_at_secs >= older_than_secs:
            return False
        # The marker first: until the file is gone, the file keeps the id taken.
        try:
            self._marker(run.id).unlink(missing_ok=True)
            path.unlink()
        except FileNotFoundError:
            return False  # removed meanwhile
        except OSError as exc:
            raise _io_failure(run.id, "delete", path, exc) from None
        return True

    # -- streaming ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked_journal(self, run_id: str) -> Iterator[int | None]:
        """The locked items file of the open run ``run_id``, or ``None`` when not open."""
        items = self._journal_dir(run_id) / _ITEMS
        try:
            descriptor = os.open(items, os.O_RDWR | os.O_APPEND)
        except (FileNotFoundError, NotADirectoryError):
            descriptor = -1
        except OSError as exc:
            raise _io_failure(run_id, "open the journal", items, exc) from None
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

    def _journal(self, run_id: str, descriptor: int) -> _Journal:
        """The state of a locked journal: cached, or read (dropping a torn last line)."""
        status = os.fstat(descriptor)
        cached = self._journals.get(run_id)
        if cached is not None and (cached.size, cached.inode) == (
            status.st_size,
            status.st_ino,
        ):
            return cached
        directory = self._journal_dir(run_id)
        header = self._read_header(run_id, directory)
        keys, size = self._scan_keys(run_id, directory / _ITEMS)
        if size != status.st_size:  # a torn last line: never acknowledged, dropped
            try:
                os.ftruncate(descriptor, size)
                os.fsync(descriptor)
            except OSError as exc:
                raise _io_failure(run_id, "repair the journal", directory, exc) from None
        journal = _Journal(header, keys, set(), size, status.st_ino)
        self._journals[run_id] = journal
        return journal

    @staticmethod
    def _read_header(run_id: str, directory: Path) -> RunHeader:
        path = directory / _HEADER
        try:
            data = path.read_bytes()
            return from_builtins(RunHeader, _loads(data))
        except OSError as exc:
            raise _io_failure(run_id, "read the journal header", path, exc) from None
        except (ValueError, RecursionError) as exc:  # InvalidInput is a ValueError
            msg = f"eval run {run_id}: the journal header {path} is corrupt: {exc}"
            raise StoreFailure(msg) from None

    @staticmethod
    def _scan_keys(run_id: str, path: Path) -> tuple[frozenset[ItemKey], int]:
        """The keys of the complete lines of a journal and the size they span.

        The keys share their model ids, and a fixture id repeated from the line before.
        """
        keys: builtins.list[ItemKey] = []
        models: dict[str, str] = {}
        size = 0
        try:
            with path.open("rb") as handle, gc_paused():
                for number, line in enumerate(handle, start=1):
                    if not line.endswith(b"\n"):
                        break  # torn by a crash mid-append
                    try:
                        key = _raw_key(line)
                    except (ValueError, TypeError, RecursionError) as exc:
                        raise _corrupt_line(run_id, path, number, exc) from None
                    keys.append(_shared_key(key, keys[-1] if keys else None, models))
                    size += len(line)
                present = frozenset(keys)
        except OSError as exc:
            raise _io_failure(run_id, "read the journal", path, exc) from None
        if len(present) != len(keys):
            seen: set[ItemKey] = set()
            for number, key in enumerate(keys, start=1):
                if key in seen:
                    raise _repeated_key(run_id, path, number, key)
                seen.add(key)
        return present, size

    def _begin(self, header: RunHeader, resume: bool) -> frozenset[ItemKey]:
        run_id = validate_run_id(header.id)
        with self._locked_journal(run_id) as descriptor:
            if descriptor is not None:
                if self._locate(run_id) is not None:  # finished; its journal left behind
                    self._drop_journal(run_id)
                    raise AlreadyExists(run_id)
                if not resume:
                    msg = f"eval run {run_id} is already open; pass resume=True to continue it"
                    raise Conflict(msg)
                journal = self._journal(run_id, descriptor)
                if _identity(journal.header) != _identity(header):
                    msg = f"eval run {run_id} was started for another dataset, revision or mode"
                    raise Conflict(msg)
                return journal.keys()
        self._ensure_absent(run_id)
        self._create_journal(header)
        return frozenset()

    def _create_journal(self, header: RunHeader) -> None:
        """Stage a journal, take the marker, then move the journal into place."""
        run_id = header.id
        try:
            document = to_builtins(header)
        except (ValueError, TypeError) as exc:
            raise _unserializable(run_id, exc) from None
        _check_readable(RunHeader, document, "$", f"eval run {run_id}")
        _run_skeleton(header, ended_at_secs=0)
        staging = self._runs / _STAGING / f"{os.getpid()}.{time.time_ns()}.{secrets.token_hex(4)}"
        target = self._journal_dir(run_id)
        try:
            staging.mkdir(parents=True)
            with (staging / _HEADER).open("wb") as handle:
                handle.write(_compact(document).encode())
                handle.flush()
                os.fsync(handle.fileno())
            with (staging / _ITEMS).open("wb") as handle:
                os.fsync(handle.fileno())
            _fsync_dir(staging)
            target.parent.mkdir(exist_ok=True)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise _io_failure(run_id, "create the journal", staging, exc) from None
        try:
            self._take_marker(run_id, self._final_path(run_id, header.started_at_secs))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        try:
            staging.rename(target)
            _fsync_dir(target.parent)
            _fsync_dir(self._marker(run_id).parent)
        except OSError as exc:
            shutil.rmtree(staging, ignore_errors=True)
            _unlink_quietly(self._marker(run_id))
            raise _io_failure(run_id, "open the journal", target, exc) from None
        inode = (target / _ITEMS).stat().st_ino
        self._journals[run_id] = _Journal(header, frozenset(), set(), 0, inode)

    def _append(self, run_id: str, items: tuple[EvalRunItem, ...]) -> None:
        validate_run_id(run_id)
        with self._locked_journal(run_id) as descriptor:
            if descriptor is None:
                raise _not_open(run_id)
            journal = self._journal(run_id, descriptor)
            _check_items_shape(run_id, journal.header.execution_mode, items)
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
            lines: builtins.list[str] = []
            try:
                for index, item in enumerate(items):
                    document = to_builtins(item)
                    _check_readable(EvalRunItem, document, f"$[{index}]", source)
                    lines.append(_compact(document) + "\n")
                data = "".join(lines).encode()
            except InvalidInput:
                raise
            except (ValueError, TypeError) as exc:
                raise _unserializable(run_id, exc) from None
            try:
                written = 0
                while written < len(data):
                    written += os.write(descriptor, data[written:])
                os.fsync(descriptor)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(descriptor, journal.size)
                path = self._journal_dir(run_id) / _ITEMS
                raise _io_failure(run_id, "append to", path, exc) from None
            journal.size += len(data)
            journal.added.update(new_keys)

    def _present_keys(self, run_id: str) -> frozenset[ItemKey]:
        validate_run_id(run_id)
        with self._locked_journal(run_id) as descriptor:
            if descriptor is None:
                return frozenset()
            return self._journal(run_id, descriptor).keys()

    def _finish(
        self, run_id: str, ended_at_secs: int, item_order: Sequence[ItemKey] | None
    ) -> EvalRunSummary:
        validate_run_id(run_id)
        with self._locked_journal(run_id) as descriptor:
            if descriptor is None:
                raise _not_open(run_id)
            if self._locate(run_id) is not None:  # finished before a crash; tidy up
                self._drop_journal(run_id)
                return self._stored_summary(run_id)
            self._journals.pop(run_id, None)  # finishing needs no keys: free them
            directory = self._journal_dir(run_id)
            header = self._read_header(run_id, directory)
            skeleton = _run_skeleton(header, ended_at_secs=ended_at_secs)
            path = directory / _ITEMS
            index = _index_journal(run_id, path, header.execution_mode, item_order)
            final = self._final_path(run_id, header.started_at_secs)
            try:
                reader = path.open("rb")
            except OSError as exc:
                raise _io_failure(run_id, "read the journal", path, exc) from None
            with reader:
                documents = _read_back(run_id, path, reader, index)
                self._publish(
                    run_id, final, lambda out: _write_run_document(out, skeleton, documents)
                )
            self._drop_journal(run_id)
            return EvalRunSummary(
                id=run_id,
                dataset_id=header.dataset_id,
                dataset_revision=header.dataset_revision,
                execution_mode=header.execution_mode,
                started_at_secs=header.started_at_secs,
                item_count=index.count,
                passed_count=index.passed,
                failed_count=index.count - index.passed,
            )

    def _stored_summary(self, run_id: str) -> EvalRunSummary:
        """The summary of the stored run ``run_id``, read one item at a time.

        A file laid out as this store writes it is scanned item by item (see
        :func:`_scan_summary`), so even a huge run is summarised in little memory; any
        other file is read and validated whole, as :meth:`read` does.
        """
        path = self._locate(run_id)
        if path is not None:
            try:
                with path.open("rb") as handle, gc_paused():
                    summary = _scan_summary(handle)
            except (OSError, ValueError, TypeError, RecursionError):
                summary = None  # read whole below, which names the problem
            if summary is not None and summary.id == run_id:
                return summary
        return EvalRunSummary.from_run(self._read(run_id))

    def _drop_journal(self, run_id: str) -> None:
        """Remove a finished run's journal: the items file first (it marks the run open)."""
        self._journals.pop(run_id, None)
        directory = self._journal_dir(run_id)
        for name in (_ITEMS, _HEADER):
            _unlink_quietly(directory / name)
        with contextlib.suppress(OSError):
            directory.rmdir()
            _fsync_dir(directory.parent)


def _run_skeleton(header: RunHeader, *, ended_at_secs: int) -> dict[str, Any]:
    """The builtins of the run ``header`` opens, without items, ended at ``ended_at_secs``.

    Checked to read back, so a run that could not be read is never opened or stored.

    Raises:
        InvalidInput: naming the out-of-range field (e.g. ``$.started_at_secs``).
    """
    run = EvalRun(
        id=header.id,
        dataset_id=header.dataset_id,
        dataset_revision=header.dataset_revision,
        execution_mode=header.execution_mode,
        started_at_secs=header.started_at_secs,
        ended_at_secs=ended_at_secs,
        fixture_digests=dict(header.fixture_digests),
    )
    try:
        document = to_builtins(run)
    except (ValueError, TypeError) as exc:
        raise _unserializable(header.id, exc) from None
    _check_readable(EvalRun, document, "$", f"eval run {header.id}")
    skeleton: dict[str, Any] = document
    return skeleton


def _not_open(run_id: str) -> NotFound:
    return NotFound(f"no open eval run: {run_id}")


def _identity(header: RunHeader) -> tuple[str, int, str]:
    return (header.dataset_id, header.dataset_revision, header.execution_mode.value)


def _raw_identity(document: Any) -> tuple[str, int] | None:
    """``(dataset_id, started_at_secs)`` of a parsed run document, if well typed."""
    if type(document) is not dict:
        return None
    dataset_id = document.get("dataset_id")
    started_at = document.get("started_at_secs")
    if type(dataset_id) is not str or type(started_at) is not int:
        return None
    return dataset_id, started_at
