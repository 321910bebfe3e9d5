"""Reading a journal, or a run file, one line at a time.

Finishing a streamed run never loads its items: :func:`index_journal` makes one pass
over the journal, recording where each line starts (and where the finished run lists
it), and :func:`read_back` then hands the lines over one at a time, each read back from
the journal. Memory grows by a few bytes per item (a few more per key of the
``item_order``), whatever their size. :func:`scan_summary` summarises a run file in the
layout the store writes, one item at a time.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import attrs

from awaken_eval._io.below import open_nofollow
from awaken_eval._records.runs import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunSummary,
    ItemKey,
)
from awaken_eval._records.store import RunHeader
from awaken_eval._wire.converter import from_builtins
from awaken_eval._wire.gc import gc_paused
from awaken_eval._wire.json import loads_strict
from awaken_eval.errors import StoreFailure
from awaken_eval.stores._files.layout import io_failure

__all__ = [
    "JournalIndex",
    "Positions",
    "corrupt_line",
    "decode_line",
    "document_key",
    "index_journal",
    "item_facts",
    "read_back",
    "repeated_key",
    "scan_summary",
    "summary_of",
]


def decode_line(line: bytes) -> Any:
    """Parse one journal line strictly (the store wrote it as UTF-8 compact JSON)."""
    return loads_strict(line)


def document_key(document: Any) -> ItemKey:
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


def item_facts(document: Any) -> tuple[ItemKey, bool, bool]:
    """``(key, has a cell, passed)`` of an item's parsed JSON, without building the item.

    Raises:
        TypeError: when a field the facts come from is missing or has the wrong type.
    """
    key = document_key(document)
    report = document.get("report")
    passed = report.get("passed") if type(report) is dict else None
    if type(passed) is not bool:
        msg = "the item has no report with a boolean passed"
        raise TypeError(msg)
    return key, document.get("cell") is not None, passed


class Positions:
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
class JournalIndex:
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


def corrupt_line(run_id: str, path: Path, number: int, reason: object) -> StoreFailure:
    return StoreFailure(f"eval run {run_id}: journal {path} line {number} is corrupt: {reason}")


def repeated_key(run_id: str, path: Path, number: int, key: ItemKey) -> StoreFailure:
    msg = f"eval run {run_id}: journal {path} line {number} repeats the item key {key.describe()}"
    return StoreFailure(msg)


def index_journal(
    run_id: str,
    path: Path,
    mode: EvalRunExecutionMode,
    item_order: Sequence[ItemKey] | None,
) -> JournalIndex:
    """One pass over a journal: where each line is, where it goes, what passed.

    Each complete line is parsed once and dropped; what is kept is its offset, its
    place in ``item_order`` and the pass count. A torn last line is ignored.

    Raises:
        StoreFailure: when a complete line is corrupt, breaks the execution mode or
            repeats a listed key, or the journal cannot be read.
    """
    live = mode is EvalRunExecutionMode.LIVE
    positions = None if item_order is None else Positions(item_order)
    listed = array("q", [-1]) * (0 if positions is None else len(positions))
    unlisted = array("q")
    offsets = array("q", [0])
    passed = 0
    try:
        with open_nofollow(path) as handle, gc_paused():
            for number, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    break  # torn by a crash mid-append: never acknowledged
                try:
                    key, has_cell, item_passed = item_facts(decode_line(line))
                except (ValueError, TypeError, RecursionError) as exc:
                    raise corrupt_line(run_id, path, number, exc) from None
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
                    raise repeated_key(run_id, path, number, key)
    except OSError as exc:
        raise io_failure(run_id, "read the journal", path, exc) from None
    count = len(offsets) - 1
    order = range(count) if positions is None else _listed_then_unlisted(listed, unlisted)
    return JournalIndex(offsets, order, passed)


def _listed_then_unlisted(listed: array[int], unlisted: array[int]) -> Iterator[int]:
    for line in listed:
        if line >= 0:
            yield line
    yield from unlisted


def read_back(run_id: str, path: Path, reader: IO[bytes], index: JournalIndex) -> Iterator[Any]:
    """The parsed lines of an indexed journal in the run's order, read one at a time."""
    offsets = index.offsets
    for line in index.order:
        start = offsets[line]
        try:
            reader.seek(start)
            data = reader.read(offsets[line + 1] - start)
        except OSError as exc:
            raise io_failure(run_id, "read the journal", path, exc) from None
        try:
            document = decode_line(data)
        except (ValueError, RecursionError) as exc:  # changed since it was indexed
            raise corrupt_line(run_id, path, line + 1, exc) from None
        yield document


_ITEMS_START = b'  "items": [\n'
_ITEM_START = b"    {\n"
_ITEM_ENDS = (b"    },\n", b"    }\n")
_ITEMS_ENDS = (b"  ],\n", b"  ]\n")


def scan_summary(lines: Iterable[bytes]) -> EvalRunSummary | None:
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
                _, has_cell, item_passed = item_facts(loads_strict(b"".join(item)))
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
    run = from_builtins(EvalRun, loads_strict(b"".join(skeleton)))
    live = run.execution_mode is EvalRunExecutionMode.LIVE
    if run.items or with_cells != (count if live else 0):
        return None  # items laid out otherwise, or a mode the items break
    return summary_of(run, count=count, passed=passed)


def summary_of(run: RunHeader | EvalRun, *, count: int, passed: int) -> EvalRunSummary:
    """The summary of ``run`` (a header or a run read without items) with these counts."""
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
