"""What the SQLite and PostgreSQL run stores' rows share, whatever the column types.

Encoding refuses what a store could not read back (:class:`~awaken_eval.InvalidInput`):
item documents go through the converter both ways before they are written. Decoding
checks every value and reports stored data that does not make a valid run as
:class:`CorruptError`, naming the column or item at fault. Each backend decodes its own
column types (text or bytes identifiers, padded text or numeric integers) and hands the
values to the builders here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, TypeVar

import attrs

from awaken_eval._records.runs import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    EvalRunSummary,
    ItemKey,
)
from awaken_eval._records.store import OpenRunSummary
from awaken_eval._records.types import U32_MAX, U64_MAX
from awaken_eval._wire.converter import from_builtins, from_json, to_builtins
from awaken_eval._wire.json import decode_strict, encode_compact
from awaken_eval.errors import InvalidExecutionShape, InvalidInput, Problem

__all__ = [
    "CorruptError",
    "as_open",
    "as_stored",
    "checked_u64",
    "decode_items",
    "dump_digests",
    "first_clash",
    "item_rows",
    "run_header",
    "run_summary",
    "run_values",
    "valid_rows",
    "with_items",
]

T = TypeVar("T")

ColumnDecoder = Callable[[object, str], Any]
"""Decodes the value of a named column, raising :class:`CorruptError` when it cannot."""


class CorruptError(Exception):
    """Stored data that does not make a valid run; ``str()`` says what is wrong."""


# -- encoding --------------------------------------------------------------------------


def checked_u64(value: int, path: str) -> int:
    """``value`` if it is an unsigned 64-bit integer.

    Raises:
        InvalidInput: At ``path``, when the value is out of range.
    """
    if 0 <= value <= U64_MAX:
        return value
    msg = f"expected an unsigned 64-bit integer (0..{U64_MAX}), got {value}"
    raise InvalidInput.single(path, msg)


def run_values(
    run: EvalRun,
    *,
    started_at_secs: int,
    text: Callable[[str], object],
    u64: Callable[[int, str], object],
) -> tuple[object, ...]:
    """The run row of a finished ``run`` (columns of ``INSERT_RUN``), encoded.

    Args:
        run: The run.
        started_at_secs: Its start time (the clock's when the run has none).
        text: Encodes an identifier that may hold any text (``dataset_id``).
        u64: Encodes an unsigned 64-bit value at a JSON path, refusing one out of range.

    Raises:
        InvalidInput: When a value cannot be stored.
    """
    return (
        run.id,
        text(run.dataset_id),
        u64(run.dataset_revision, "$.dataset_revision"),
        run.execution_mode.value,
        u64(started_at_secs, "$.started_at_secs"),
        u64(run.ended_at_secs, "$.ended_at_secs"),
        dump_digests(run.fixture_digests),
        len(run.items),
        run.passed_count(),
        "finished",
    )


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
    """The item rows of ``items``, numbered from ``first_seq``.

    A row is (run id, seq, fixture id, model id, sample index, document).

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


def as_stored(value: object, column: str) -> Any:
    """A column value as it is (the converter checks it later)."""
    del column
    return value


def decode_items(rows: list[Any], first_position: int) -> tuple[EvalRunItem, ...]:
    """Decode item rows (seq, fixture_id, model_id, sample_index, document), as text.

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


def run_summary(
    row: Any, *, run_id: str, text_of: ColumnDecoder, u64_of: ColumnDecoder
) -> EvalRunSummary:
    """A listing row from a run row (columns of ``SELECT_RUN``) whose id is checked.

    Args:
        row: The run row.
        run_id: Its id column, checked to be text.
        text_of: Decodes the ``dataset_id`` column.
        u64_of: Decodes an unsigned 64-bit column.

    Raises:
        CorruptError: When a column holds what no run row can.
    """
    mode, item_count, passed_count = row[3], row[7], row[8]
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
        dataset_revision=u64_of(row[2], "dataset_revision"),
        execution_mode=_MODES[mode],
        started_at_secs=u64_of(row[4], "started_at_secs"),
        item_count=item_count,
        passed_count=passed_count,
        failed_count=item_count - passed_count,
    )


def with_items(header: EvalRun, items: Sequence[EvalRunItem], row: Any) -> EvalRun:
    """The run ``header`` with its ``items``, checked against the counts of its ``row``.

    Raises:
        CorruptError: When the row counts other items or passes than the items hold, or
            the items disagree with the execution mode.
    """
    if len(items) != row[7]:
        msg = f"the run row counts {row[7]} items, the items table holds {len(items)}"
        raise CorruptError(msg)
    try:
        run = attrs.evolve(header, items=tuple(items))
    except InvalidExecutionShape as exc:
        raise CorruptError(str(exc)) from None
    if run.passed_count() != row[8]:
        msg = f"the run row counts {row[8]} passed items, its items {run.passed_count()}"
        raise CorruptError(msg)
    return run


def valid_rows(
    rows: Iterable[Any],
    decode: Callable[[Any], T],
    skip: Callable[[str, CorruptError], None],
    *,
    limit: int | None = None,
) -> list[T]:
    """``decode`` of each row, up to ``limit``, handing a corrupt one's id to ``skip``."""
    decoded: list[T] = []
    for row in rows:
        try:
            decoded.append(decode(row))
        except CorruptError as exc:
            skip(row[0], exc)
            continue
        if len(decoded) == limit:
            break
    return decoded


def as_open(summary: EvalRunSummary) -> OpenRunSummary:
    """The listing row of an open run, from the summary of its run row."""
    return OpenRunSummary(**attrs.asdict(summary, recurse=False))


def run_header(row: Any, *, text_of: ColumnDecoder, u64_of: ColumnDecoder) -> EvalRun:
    """The run of a run row, without items (columns of ``SELECT_RUN``).

    Args:
        row: The run row.
        text_of: Decodes the ``dataset_id`` column.
        u64_of: Decodes an unsigned 64-bit column.

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
        "dataset_revision": u64_of(row[2], "dataset_revision"),
        "execution_mode": row[3],
        "items": [],
        "started_at_secs": u64_of(row[4], "started_at_secs"),
        "ended_at_secs": u64_of(row[5], "ended_at_secs"),
        "fixture_digests": digests,
    }
    try:
        return from_builtins(EvalRun, document)
    except InvalidInput as exc:
        raise CorruptError(str(exc)) from None
