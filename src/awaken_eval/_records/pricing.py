"""Token prices of models: a dated table, looked up by ``provider:model`` id."""

from __future__ import annotations

import attrs

from awaken_eval._records.inference import ModelPricing

__all__ = ["PriceTable"]


@attrs.frozen(kw_only=True)
class PriceTable:
    """Prices of models in US dollars per million tokens, as of a date.

    The JSON form is the one of the bundled table (``awaken_eval/providers/prices.json``)
    and of a ``--prices`` file: ``{"as_of": "YYYY-MM-DD", "models": {"openai:gpt-4.1":
    {"input_per_million_usd": 2.0, "output_per_million_usd": 8.0}, ...}}``.

    Attributes:
        as_of: The date the prices were read from the providers' price pages.
        currency: Always ``USD``.
        unit: Always ``per million tokens``.
        note: Free text about the table.
        models: Prices by ``provider:model`` id.
    """

    as_of: str = ""
    currency: str = "USD"
    unit: str = "per million tokens"
    note: str = ""
    models: dict[str, ModelPricing] = attrs.field(factory=dict, hash=False)

    def price_for(self, model_id: str) -> ModelPricing | None:
        """The prices of ``model_id`` (``provider:model``), or ``None`` when unknown.

        An exact id wins; else the longest table id that ``model_id`` extends with a
        ``-`` suffix, so a dated snapshot (``openai:gpt-4.1-mini-2025-04-14``) gets the
        prices of its model (``openai:gpt-4.1-mini``).
        """
        exact = self.models.get(model_id)
        if exact is not None:
            return exact
        best: str | None = None
        for known in self.models:
            if model_id.startswith(f"{known}-") and (best is None or len(known) > len(best)):
                best = known
        return None if best is None else self.models[best]

    def overridden_by(self, other: PriceTable) -> PriceTable:
        """This table with every model of ``other`` added or replaced."""
        return attrs.evolve(
            other, models={**self.models, **other.models}, as_of=other.as_of or self.as_of
        )
