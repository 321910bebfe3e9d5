"""Behaviour tests for ``expand_cells`` (spec §2.2)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

import strategies as s
from awaken_eval import MatrixCell, to_builtins
from awaken_eval.engine import expand_cells


def test_no_models_gives_one_default_cell() -> None:
    cells = expand_cells([])
    assert cells == [MatrixCell()]
    assert to_builtins(cells[0]) == {}


def test_one_cell_per_model_in_input_order() -> None:
    assert expand_cells(["b", "a", "c"]) == [MatrixCell("b"), MatrixCell("a"), MatrixCell("c")]


def test_duplicates_are_kept() -> None:
    assert expand_cells(["a", "a"]) == [MatrixCell("a"), MatrixCell("a")]


def test_accepts_any_iterable() -> None:
    assert expand_cells(model for model in ("x", "y")) == [MatrixCell("x"), MatrixCell("y")]
    assert expand_cells(iter(())) == [MatrixCell()]


@given(st.lists(s.model_ids(), min_size=1, max_size=6))
def test_cells_mirror_the_models_axis(models: list[str]) -> None:
    assert [cell.model_id for cell in expand_cells(models)] == models
