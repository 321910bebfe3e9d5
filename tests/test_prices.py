"""The price table: bundled and dated, loaded from files, overridden, looked up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from awaken_eval import InvalidInput, ModelPricing, from_json, to_json
from awaken_eval.errors import InputUnreadable
from awaken_eval.providers import (
    PRICES_ENV,
    PriceTable,
    bundled_prices,
    cost_by_model,
    default_prices,
    load_prices,
    price_for,
)
from builders import item, report, run

SONNET = ModelPricing(input_per_million_usd=3.0, output_per_million_usd=15.0)


def test_the_bundled_table_is_dated_and_prices_the_common_models() -> None:
    table = bundled_prices()

    assert len(table.as_of) == 10
    assert table.as_of[4] == "-"
    for model_id in ("openai:gpt-4.1-mini", "openai:gpt-4o", "anthropic:claude-sonnet-4-5"):
        assert table.price_for(model_id) is not None


def test_a_dated_snapshot_gets_the_price_of_its_model_and_the_longest_prefix_wins() -> None:
    table = bundled_prices()

    assert table.models["openai:gpt-4.1-mini"] == table.price_for("openai:gpt-4.1-mini-2025-04-14")
    assert table.models["openai:gpt-4.1"] == table.price_for("openai:gpt-4.1-2025-04-14")
    assert table.price_for("openai:gpt-4.10") is None  # a prefix must end at a '-'
    assert table.price_for("openai:unknown") is None


def test_a_price_file_overrides_the_bundled_table_by_option_or_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "as_of": "2030-01-01",
                "models": {
                    "anthropic:claude-sonnet-4-5": {
                        "input_per_million_usd": 1.0,
                        "output_per_million_usd": 2.0,
                    },
                    "openai:mine": {"input_per_million_usd": 0.0, "output_per_million_usd": 0.0},
                },
            }
        )
    )

    by_option = default_prices(prices=path)
    monkeypatch.setenv(PRICES_ENV, str(path))
    by_env = default_prices()

    for table in (by_option, by_env):
        assert "2030-01-01" == table.as_of
        assert 1.0 == table.price_for("anthropic:claude-sonnet-4-5").input_per_million_usd  # type: ignore[union-attr]
        assert table.price_for("openai:mine") is not None
        assert table.price_for("openai:gpt-4o") == bundled_prices().price_for("openai:gpt-4o")
    assert price_for("openai:mine") is not None


def test_a_bad_price_file_lists_every_problem_with_its_path_and_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "models": {
                    "openai:a": {"input_per_million_usd": -1, "output_per_million_usd": 1},
                    "b": {"input_per_million_usd": 1, "output_per_million_usd": 1},
                }
            }
        )
    )

    with pytest.raises(InvalidInput) as raised:
        load_prices(path)

    assert str(path) == raised.value.source
    assert ["$.models['openai:a'].input_per_million_usd", "$.models['b']"] == [
        problem.path for problem in raised.value.problems
    ]


def test_a_typo_in_a_price_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {"models": {"openai:a": {"input_per_milion_usd": 1, "output_per_million_usd": 1}}}
        )
    )

    with pytest.raises(InvalidInput, match="input_per_milion_usd"):
        load_prices(path)


def test_a_missing_price_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(InputUnreadable, match=r"nope\.json"):
        load_prices(tmp_path / "nope.json")


prices = st.builds(
    ModelPricing,
    input_per_million_usd=st.floats(0, 1000),
    output_per_million_usd=st.floats(0, 1000),
)
tables = st.builds(
    PriceTable,
    as_of=st.text(max_size=10),
    note=st.text(max_size=20),
    models=st.dictionaries(
        st.from_regex(r"(openai|anthropic):[a-z0-9.\-]{1,12}", fullmatch=True), prices, max_size=5
    ),
)


@given(tables)
def test_price_tables_round_trip_through_json(table: PriceTable) -> None:
    assert table == from_json(PriceTable, to_json(table))


@given(tables, tables)
def test_an_override_keeps_every_model_and_prefers_the_override(
    base: PriceTable, override: PriceTable
) -> None:
    merged = base.overridden_by(override)

    assert set(base.models) | set(override.models) == set(merged.models)
    for model_id, pricing in override.models.items():
        assert pricing == merged.models[model_id]


def test_cost_by_model_sums_the_priced_items_of_each_model() -> None:
    items = [
        item(model="openai:x", report=report(fixture_id="a", cost_usd=0.25)),
        item(model="openai:x", report=report(fixture_id="b", cost_usd=0.5)),
        item(model="anthropic:y", report=report(fixture_id="a")),
    ]
    built = run(items=items)

    assert {"openai:x": 0.75} == cost_by_model(built.items)
