"""Rows of the run store: SQLite's column encodings of what the stores share.

What every backend's rows share (item documents, digests, the checks of a run row) is
in :mod:`awaken_eval.stores._rows_common`; here are SQLite's own column types.

Unsigned 64-bit values (``started_at_secs``, ``ended_at_secs``, ``dataset_revision``)
are stored as 20-digit zero-padded text: SQLite integers are signed, and zero-padded
digits compare and sort like the numbers they spell.
"""

from __future__ import annotations

from typing import Any

from awaken_eval._records.runs import EvalRun, EvalRunSummary
from awaken_eval._records.types import U64_MAX
from awaken_eval.stores import _rows_common as common
from awaken_eval.stores._rows_common import CorruptError

__all__ = [
    "bound_text",
    "model_key",
    "run_header",
    "run_summary",
    "sample_key",
    "u64_text",
]

_U64_DIGITS = 20


# -- encoding --------------------------------------------------------------------------


def u64_text(value: int, path: str) -> str:
    """An unsigned 64-bit value as stored text.

    Raises:
        InvalidInput: At ``path``, when the value is out of range.
    """
    return f"{common.checked_u64(value, path):0{_U64_DIGITS}d}"


def bound_text(value: int) -> str:
    """A filter bound as stored text, clamped to 0..U64_MAX + 1 (still 20 digits)."""
    return f"{min(max(value, 0), U64_MAX + 1):0{_U64_DIGITS}d}"


def model_key(model_id: str | None) -> str | bytes:
    """The model part of an item key as the unique index holds it (default cell: ``x''``)."""
    return b"" if model_id is None else model_id


def sample_key(sample_index: int | None) -> int:
    """The sample part of an item key as the unique index holds it (absent: ``-1``)."""
    return -1 if sample_index is None else sample_index


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


def run_summary(row: Any) -> EvalRunSummary:
    """Build a listing row from a run row (columns of ``SELECT_RUN``), checking each value.

    Raises:
        CorruptError: When a column holds what no run row can.
    """
    run_id, dataset_id = row[0], row[1]
    if type(run_id) is not str or type(dataset_id) is not str:
        msg = f"column id or dataset_id is not text: {run_id!r}, {dataset_id!r}"
        raise CorruptError(msg)
    return common.run_summary(row, run_id=run_id, text_of=common.as_stored, u64_of=_parse_u64)


def run_header(row: Any) -> EvalRun:
    """The run of a run row, without items (columns of ``SELECT_RUN``).

    Raises:
        CorruptError: When a column holds what no run row can.
    """
    return common.run_header(row, text_of=common.as_stored, u64_of=_parse_u64)
