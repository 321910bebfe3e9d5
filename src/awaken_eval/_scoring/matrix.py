"""The live model matrix: which cells a live run executes (spec §2.2)."""

from __future__ import annotations

from collections.abc import Iterable

from awaken_eval._records.runs import MatrixCell

__all__ = [
    "expand_cells",
]


def expand_cells(models: Iterable[str]) -> list[MatrixCell]:
    """The cells of a live run over ``models``.

    No model gives exactly one default cell (no model id: the agent's own model).
    Otherwise there is one cell per model id, in input order. Duplicates are kept:
    callers check the models axis with
    :func:`~awaken_eval.validation.validate_unique_models` first.

    Args:
        models: The model ids of the request's ``models`` axis.

    Returns:
        The cells, in execution order.

    Examples:
        >>> expand_cells([])
        [MatrixCell(model_id=None)]
        >>> expand_cells(["a", "b"])
        [MatrixCell(model_id='a'), MatrixCell(model_id='b')]
    """
    cells = [MatrixCell(model_id) for model_id in models]
    return cells or [MatrixCell()]
