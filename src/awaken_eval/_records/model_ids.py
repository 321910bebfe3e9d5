"""``provider:model`` ids of the built-in providers (standard library only)."""

from __future__ import annotations

__all__ = ["PROVIDERS", "is_provider_model"]

PROVIDERS = ("openai", "anthropic")
"""The providers ``provider:model`` ids may name."""


def is_provider_model(model_id: str) -> bool:
    """Whether ``model_id`` names a built-in provider (``openai:...``, ``anthropic:...``)."""
    provider, sep, model = model_id.partition(":")
    return bool(sep) and provider in PROVIDERS and bool(model.strip())
