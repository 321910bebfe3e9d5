"""Rows of the PostgreSQL stores: records encoded into column values and decoded back.

What every backend's rows share (item documents through the converter both ways, the
checks of a run row, :class:`~awaken_eval.stores._rows_common.CorruptError` naming the
column or item at fault) is in :mod:`awaken_eval.stores._rows_common`; here are
PostgreSQL's own column types. Identifiers that may hold any text are stored as their
UTF-8 bytes (see :mod:`.schema`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from awaken_eval._records.runs import EvalRun, EvalRunItem, EvalRunSummary, ItemKey
from awaken_eval._records.types import U64_MAX
from awaken_eval.stores import _rows_common as common
from awaken_eval.stores._rows_common import CorruptError

__all__ = [
    "decode_items",
    "item_rows",
    "key_values",
    "run_header",
    "run_summary",
    "text_of",
    "u64",
]


def u64(value: int, path: str) -> int:
    """``value`` if it is an unsigned 64-bit integer.

    Raises:
        InvalidInput: At ``path``, when the value is out of range.
    """
    return common.checked_u64(value, path)


def key_values(key: ItemKey) -> tuple[bytes, bytes | None, int | None]:
    """The key columns of an item (``fixture_id``, ``model_id``, ``sample_index``)."""
    fixture_id, model_id, sample_index = key
    return fixture_id.encode(), None if model_id is None else model_id.encode(), sample_index


def item_rows(
    run_id: str, items: Iterable[EvalRunItem], first_seq: int
) -> Iterator[tuple[str, int, bytes, bytes | None, int | None, str]]:
    """The item rows of ``items``, numbered from ``first_seq`` (see ``ITEM_COLUMNS``).

    Raises:
        InvalidInput: When an item cannot be stored (path ``$.items[i]`` within the batch).
    """
    for row in common.item_rows(run_id, items, first_seq):
        model_id = row[3]
        yield (
            row[0],
            row[1],
            row[2].encode(),
            None if model_id is None else model_id.encode(),
            row[4],
            row[5],
        )


# -- decoding --------------------------------------------------------------------------


def text_of(value: object, column: str) -> str:
    """The text an identifier column holds (its UTF-8 bytes, checked).

    Raises:
        CorruptError: When the bytes are not UTF-8.
    """
    if isinstance(value, bytes | memoryview):
        try:
            return bytes(value).decode()
        except UnicodeDecodeError:
            pass
    msg = f"column {column} holds {value!r}, not UTF-8 text"
    raise CorruptError(msg)


def _u64_of(value: object, column: str) -> int:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        number = int(value)
        if 0 <= number <= U64_MAX:
            return number
    msg = f"column {column} holds {value!r}, not an unsigned 64-bit integer"
    raise CorruptError(msg)


def decode_items(rows: list[Any], first_position: int) -> tuple[EvalRunItem, ...]:
    """Decode item rows (seq, fixture_id, model_id, sample_index, document text).

    Raises:
        CorruptError: Naming the first bad item (``first_position`` is the position of
            the first row in the run).
    """
    texts = [
        (
            seq,
            text_of(fixture_id, "fixture_id"),
            None if model_id is None else text_of(model_id, "model_id"),
            sample_index,
            document,
        )
        for seq, fixture_id, model_id, sample_index, document in rows
    ]
    return common.decode_items(texts, first_position)


def run_summary(row: Any) -> EvalRunSummary:
    """Build a listing row from a run row (columns of ``SELECT_RUN``), checking each value.

    Raises:
        CorruptError: When a column holds what no run row can.
    """
    run_id = row[0]
    if type(run_id) is not str:
        msg = f"column id is not text: {run_id!r}"
        raise CorruptError(msg)
    return common.run_summary(row, run_id=run_id, text_of=text_of, u64_of=_u64_of)


def run_header(row: Any) -> EvalRun:
    """The run of a run row, without items (columns of ``SELECT_RUN``).

    Raises:
        CorruptError: When a column holds what no run row can.
    """
    return common.run_header(row, text_of=text_of, u64_of=_u64_of)
