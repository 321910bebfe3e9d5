"""The bundled price table, price files and the ``AWAKEN_EVAL_PRICES`` override."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from awaken_eval._records.inference import ModelPricing
from awaken_eval._records.pricing import PriceTable
from awaken_eval._wire.converter import from_json
from awaken_eval.errors import InputUnreadable, InvalidInput, Problem

__all__ = ["PRICES_ENV", "bundled_prices", "default_prices", "load_prices", "price_for"]

PRICES_ENV = "AWAKEN_EVAL_PRICES"
"""Environment variable naming a price file that overrides the bundled table."""


def _checked(table: PriceTable, source: str) -> PriceTable:
    problems = [
        Problem(f"$.models[{model_id!r}].{name}", f"a price must not be negative, got {value}")
        for model_id, pricing in table.models.items()
        for name, value in (
            ("input_per_million_usd", pricing.input_per_million_usd),
            ("output_per_million_usd", pricing.output_per_million_usd),
        )
        if value < 0
    ]
    problems += [
        Problem(f"$.models[{model_id!r}]", "expected a provider:model id")
        for model_id in table.models
        if ":" not in model_id
    ]
    if problems:
        raise InvalidInput(problems, source=source)
    return table


_BUNDLED: list[PriceTable] = []


def bundled_prices() -> PriceTable:
    """The price table shipped with awaken-eval (dated: see :attr:`PriceTable.as_of`)."""
    if not _BUNDLED:
        files = resources.files("awaken_eval.providers")
        text = files.joinpath("prices.json").read_text("utf-8")
        _BUNDLED.append(_checked(from_json(PriceTable, text), "prices.json"))
    return _BUNDLED[0]


def load_prices(path: str | os.PathLike[str]) -> PriceTable:
    """Read a price file (the bundled table's JSON form).

    Raises:
        InputUnreadable: the file cannot be read.
        InvalidInput: every problem, each with its JSON path and the file.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputUnreadable(source, str(exc)) from None
    try:
        return _checked(from_json(PriceTable, text), source)
    except InvalidInput as exc:
        raise InvalidInput(exc.problems, source=source) from None


def default_prices(*, prices: str | os.PathLike[str] | None = None) -> PriceTable:
    """The bundled table, overridden by ``prices`` or else by the ``AWAKEN_EVAL_PRICES`` file."""
    path = prices if prices is not None else os.environ.get(PRICES_ENV) or None
    table = bundled_prices()
    return table if path is None else table.overridden_by(load_prices(path))


def price_for(model_id: str, *, table: PriceTable | None = None) -> ModelPricing | None:
    """The prices of ``provider:model`` in ``table`` (default: :func:`default_prices`)."""
    return (table if table is not None else default_prices()).price_for(model_id)
