"""Rows of the run store: records encoded into column values and decoded back, checked.

Encoding refuses what the store could not read back (:class:`~awaken_eval.InvalidInput`);
decoding checks every value and reports stored data that does not make a valid run as
:class:`CorruptError`, whose message names the column or item at fault.

Unsigned 64-bit values (``started_at_secs``, ``ended_at_secs``, ``dataset_revision``)
are stored as 20-digit zero-padded text: SQLite integers are signed, and zero-padded
digits compare and sort like the numbers they spell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from awaken_eval._records.runs import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    EvalRunSummary,
    ItemKey,
)
from awaken_eval._records.types import U32_MAX, U64_MAX
from awaken_eval._wire.converter import from_builtins, from_json, to_builtins
from awaken_eval._wire.json import decode_strict, encode_compact
from awaken_eval.errors import InvalidInput, Problem

__all__ = [
    "CorruptError",
    "bound_text",
    "decode_items",
    "dump_digests",
    "first_clash",
    "item_rows",
    "model_key",
    "run_header",
    "run_summary",
    "sample_key",
    "u64_text",
]

_U64_DIGITS = 20


class CorruptError(Exception):
    """Stored data that does not make a valid run; ``str()`` says what is wrong."""


# -- encoding --------------------------------------------------------------------------


def u64_text(value: int, path: str) -> str:
    """An unsigned 64-bit value as stored text.

    Raises:
        InvalidInput: At ``path``, when the value is out of range.
    """
    if 0 <= value <= U64_MAX:
        return f"{value:0{_U64_DIGITS}d}"
    msg = f"expected an unsigned 64-bit integer (0..{U64_MAX}), got {value}"
    raise InvalidInput.single(path, msg)


def bound_text(value: int) -> str:
    """A filter bound as stored text, clamped to 0..U64_MAX + 1 (still 20 digits)."""
    return f"{min(max(value, 0), U64_MAX + 1):0{_U64_DIGITS}d}"


def model_key(model_id: str | None) -> str | bytes:
    """The model part of an item key as the unique index holds it (default cell: ``x''``)."""
    return b"" if model_id is None else model_id


def sample_key(sample_index: int | None) -> int:
    """The sample part of an item key as the unique index holds it (absent: ``-1``)."""
    return -1 if sample_index is None else sample_index


def dump_digests(digests: Mapping[str, str]) -> str:
    """The ``fixture_digests`` column of a run."""
    return encode_compact(dict(digests))


def _dump_item(item: EvalRunItem, index: int) -> str:
    """The item's stored JSON, refusing what the store could not read back.

    The records do not range-check every field (an unsigned field may hold ``2**32``);
    the converter does on read, so such an item is refused here, not found corrupt later.
    """
    at = f"$.items[{index}]"
    document = to_builtins(item)
    try:
        from_builtins(EvalRunItem, document)
    except InvalidInput as exc:
        problems = [Problem(at + problem.path[1:], problem.message) for problem in exc.problems]
        raise InvalidInput(problems) from None
    try:
        return encode_compact(document)
    except ValueError as exc:
        raise InvalidInput.single(at, f"cannot be stored as JSON: {exc}") from None


def item_rows(
    run_id: str, items: Iterable[EvalRunItem], first_seq: int
) -> Iterator[tuple[str, int, str, str | None, int | None, str]]:
    """The item rows of ``items``, numbered from ``first_seq`` (see ``INSERT_ITEM``).

    Raises:
        InvalidInput: When an item cannot be stored (path ``$.items[i]`` within the batch).
    """
    for offset, item in enumerate(items):
        fixture_id, model_id, sample_index = item.key
        document = _dump_item(item, offset)
        yield (run_id, first_seq + offset, fixture_id, model_id, sample_index, document)


def first_clash(items: Iterable[EvalRunItem], stored: Callable[[ItemKey], bool]) -> str:
    """The message for the first item whose key is stored or repeats an earlier one."""
    seen: set[ItemKey] = set()
    for item in items:
        key = item.key
        if key in seen or stored(key):
            return f"duplicate eval-run item key: {key.describe()}"
        seen.add(key)
    return ""


# -- decoding --------------------------------------------------------------------------


def _parse_u64(value: object, column: str) -> int:
    if (
        type(value) is str
        and len(value) == _U64_DIGITS
        and value.isascii()
        and value.isdigit()
        and int(value) <= U64_MAX
    ):
        return int(value)
    msg = f"column {column} holds {value!r}, not a stored unsigned 64-bit integer"
    raise CorruptError(msg)


def decode_items(rows: list[Any], first_position: int) -> tuple[EvalRunItem, ...]:
    """Decode item rows (seq, fixture_id, model_id, sample_index, document).

    Raises:
        CorruptError: Naming the first bad item (``first_position`` is the position of
            the first row in the run).
    """
    try:
        documents = [decode_strict(row[4]) for row in rows]
        items: tuple[EvalRunItem, ...] = from_builtins(tuple[EvalRunItem, ...], documents)
    except (ValueError, TypeError) as exc:  # InvalidInput is a ValueError
        # Decode the documents one by one to name the first bad one.
        for offset, row in enumerate(rows):
            problem = _document_problem(row[4])
            if problem is not None:
                msg = f"item {first_position + offset} (seq {row[0]}): {problem}"
                raise CorruptError(msg) from None
        last = first_position + len(rows) - 1
        msg = f"items {first_position}..{last}: {exc}"
        raise CorruptError(msg) from None
    for offset, (row, item) in enumerate(zip(rows, items, strict=True)):
        if item.key != (row[1], row[2], row[3]):
            msg = (
                f"item {first_position + offset} (seq {row[0]}): its document has key "
                f"({item.key.describe()}), its row ({ItemKey(row[1], row[2], row[3]).describe()})"
            )
            raise CorruptError(msg)
    return items


def _document_problem(document: object) -> str | None:
    """What is wrong with one item document, if anything."""
    if type(document) is not str:
        return f"the document is not text but {type(document).__name__}"
    try:
        from_json(EvalRunItem, document)
    except InvalidInput as exc:
        return str(exc)
    return None


_MODES: Final = {mode.value: mode for mode in EvalRunExecutionMode}


def run_summary(row: Any) -> EvalRunSummary:
    """Build a listing row from a run row (columns of ``SELECT_RUN``), checking each value.

    Raises:
        CorruptError: When a column holds what no run row can.
    """
    run_id, dataset_id, mode, item_count, passed_count = row[0], row[1], row[3], row[7], row[8]
    if type(run_id) is not str or type(dataset_id) is not str:
        msg = f"column id or dataset_id is not text: {run_id!r}, {dataset_id!r}"
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
        dataset_id=dataset_id,
        dataset_revision=_parse_u64(row[2], "dataset_revision"),
        execution_mode=_MODES[mode],
        started_at_secs=_parse_u64(row[4], "started_at_secs"),
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
        "dataset_id": row[1],
        "dataset_revision": _parse_u64(row[2], "dataset_revision"),
        "execution_mode": row[3],
        "items": [],
        "started_at_secs": _parse_u64(row[4], "started_at_secs"),
        "ended_at_secs": _parse_u64(row[5], "ended_at_secs"),
        "fixture_digests": digests,
    }
    try:
        return from_builtins(EvalRun, document)
    except InvalidInput as exc:
        raise CorruptError(str(exc)) from None
