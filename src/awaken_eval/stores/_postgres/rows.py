"""Rows of the PostgreSQL stores: records encoded into column values and decoded back.

Encoding refuses what the store could not read back (:class:`~awaken_eval.InvalidInput`),
with the checks of the SQLite store (item documents go through the converter both
ways); decoding checks every value and reports stored data that does not make a valid
run as :class:`~awaken_eval.stores._sqlite.rows.CorruptError`, naming the column or
item at fault. Identifiers that may hold any text are stored as their UTF-8 bytes (see
:mod:`.schema`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, Final

from awaken_eval._records.runs import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    EvalRunSummary,
    ItemKey,
)
from awaken_eval._records.types import U32_MAX, U64_MAX
from awaken_eval._wire.converter import from_builtins
from awaken_eval._wire.json import decode_strict
from awaken_eval.errors import InvalidInput
from awaken_eval.stores._sqlite import rows as sqlite_rows
from awaken_eval.stores._sqlite.rows import CorruptError

__all__ = [
    "CorruptError",
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
    if 0 <= value <= U64_MAX:
        return value
    msg = f"expected an unsigned 64-bit integer (0..{U64_MAX}), got {value}"
    raise InvalidInput.single(path, msg)


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
    for row in sqlite_rows.item_rows(run_id, items, first_seq):
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
    return sqlite_rows.decode_items(texts, first_position)


_MODES: Final = {mode.value: mode for mode in EvalRunExecutionMode}


def run_summary(row: Any) -> EvalRunSummary:
    """Build a listing row from a run row (columns of ``SELECT_RUN``), checking each value.

    Raises:
        CorruptError: When a column holds what no run row can.
    """
    run_id, mode, item_count, passed_count = row[0], row[3], row[7], row[8]
    if type(run_id) is not str:
        msg = f"column id is not text: {run_id!r}"
        raise CorruptError(msg)
    if mode not in _MODES:
        msg = f"column execution_mode holds {mode!r}, not one of {sorted(_MODES)}"
        raise CorruptError(msg)
    if not (
        type(item_count) is int
        and type(passed_count) is int
        and 0 <= passed_count <= item_count <= U32_MAX
    ):
        msg = (
            f"columns item_count and passed_count hold {item_count!r} and {passed_count!r}, "
            "not counts with passed_count <= item_count"
        )
        raise CorruptError(msg)
    return EvalRunSummary(
        id=run_id,
        dataset_id=text_of(row[1], "dataset_id"),
        dataset_revision=_u64_of(row[2], "dataset_revision"),
        execution_mode=_MODES[mode],
        started_at_secs=_u64_of(row[4], "started_at_secs"),
        item_count=item_count,
        passed_count=passed_count,
        failed_count=item_count - passed_count,
    )


def run_header(row: Any) -> EvalRun:
    """The run of a run row, without items (columns of ``SELECT_RUN``).

    Raises:
        CorruptError: When a column holds what no run row can.
    """
    try:
        digests = decode_strict(row[6])
    except (ValueError, TypeError) as exc:
        msg = f"column fixture_digests is not JSON: {exc}"
        raise CorruptError(msg) from None
    document = {
        "id": row[0],
        "dataset_id": text_of(row[1], "dataset_id"),
        "dataset_revision": _u64_of(row[2], "dataset_revision"),
        "execution_mode": row[3],
        "items": [],
        "started_at_secs": _u64_of(row[4], "started_at_secs"),
        "ended_at_secs": _u64_of(row[5], "ended_at_secs"),
        "fixture_digests": digests,
    }
    try:
        return from_builtins(EvalRun, document)
    except InvalidInput as exc:
        raise CorruptError(str(exc)) from None
