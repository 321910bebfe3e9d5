"""What a file store checks before it stores a record: it must read back, and be JSON."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from awaken_eval._records.runs import (
    EvalRun,
    EvalRunExecutionMode,
    EvalRunItem,
    first_shape_problem,
)
from awaken_eval._records.store import RunHeader
from awaken_eval._wire.converter import from_builtins, to_builtins
from awaken_eval.errors import InvalidExecutionShape, InvalidInput, Problem

__all__ = ["check_items_shape", "check_readable", "run_skeleton", "unserializable"]


def unserializable(run_id: str, exc: Exception) -> InvalidInput:
    """The error of a run holding a value JSON cannot hold (``NaN``, bad text, ...)."""
    msg = f"eval run {run_id} cannot be stored as JSON: {exc}"
    return InvalidInput.single("$", msg)


def check_items_shape(
    run_id: str, mode: EvalRunExecutionMode, items: Sequence[EvalRunItem]
) -> None:
    """Check that items appended to an open run agree with its execution mode.

    Raises:
        InvalidExecutionShape: naming the first item that does not.
    """
    found = first_shape_problem(mode, items)
    if found is not None:
        index, msg = found
        problem = Problem(f"$[{index}].cell", msg)
        raise InvalidExecutionShape([problem], source=f"eval run {run_id}")


def check_readable(cls: Any, document: Any, at: str, source: str) -> None:
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


def run_skeleton(header: RunHeader, *, ended_at_secs: int) -> dict[str, Any]:
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
        raise unserializable(header.id, exc) from None
    check_readable(EvalRun, document, "$", f"eval run {header.id}")
    skeleton: dict[str, Any] = document
    return skeleton
