"""``provider:model`` ids: executors, resolved models and the resolver for the service."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Self

from awaken_eval._records.inference import ResolvedModel
from awaken_eval._records.model_ids import PROVIDERS
from awaken_eval._records.pricing import PriceTable
from awaken_eval.errors import InvalidRequest
from awaken_eval.protocols import LlmExecutor
from awaken_eval.providers._limits import LimiterPool
from awaken_eval.providers._options import ProviderOptions
from awaken_eval.providers._prices import default_prices

__all__ = [
    "ProviderModelResolver",
    "executor_for",
    "resolve_model",
    "split_model_id",
]

_BASE_URL_ENV = {"openai": "OPENAI_BASE_URL", "anthropic": "ANTHROPIC_BASE_URL"}


def split_model_id(model_id: str) -> tuple[str, str]:
    """``openai:gpt-4.1`` → ``("openai", "gpt-4.1")``.

    Raises:
        InvalidRequest: no known provider prefix, or no model after it.
    """
    provider, sep, model = model_id.partition(":")
    if not sep or provider not in PROVIDERS or not model.strip():
        msg = (
            f"model {model_id!r}: expected PROVIDER:MODEL with PROVIDER one of "
            f"{', '.join(PROVIDERS)} (e.g. openai:gpt-4.1-mini)"
        )
        raise InvalidRequest(msg)
    return provider, model.strip()


def executor_for(
    model_id: str,
    *,
    options: ProviderOptions | None = None,
    limiters: LimiterPool | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> LlmExecutor:
    """The executor of ``provider:model`` (``openai:gpt-4.1-mini``, ``anthropic:claude-...``).

    Args:
        model_id: ``openai:MODEL`` (Chat Completions) or ``anthropic:MODEL`` (Messages).
        options: Limits, retries, timeout, endpoint and key (default
            :class:`ProviderOptions`).
        limiters: Where the per-model connection limits live; executors given one pool
            share the limit of a model (default: a pool of its own).
        clock: Monotonic clock for the time waited between retries.

    Raises:
        InvalidRequest: an unknown provider, or its SDK is not installed (naming the
            ``pip install`` command).
    """
    provider, model = split_model_id(model_id)
    options = options if options is not None else ProviderOptions()
    pool = limiters if limiters is not None else LimiterPool()
    endpoint = options.base_url or os.environ.get(_BASE_URL_ENV[provider], "")
    limiter = pool.limiter_for(
        provider, endpoint, model, ceiling=options.max_connections, adaptive=options.adaptive
    )
    if provider == "openai":
        from awaken_eval.providers._openai import OpenAIExecutor  # noqa: PLC0415 - lazy SDK

        return OpenAIExecutor(options=options, limiter=limiter, clock=clock)
    from awaken_eval.providers._anthropic import AnthropicExecutor  # noqa: PLC0415 - lazy SDK

    return AnthropicExecutor(options=options, limiter=limiter, clock=clock)


def resolve_model(
    model_id: str,
    *,
    options: ProviderOptions | None = None,
    prices: PriceTable | None = None,
    limiters: LimiterPool | None = None,
) -> ResolvedModel:
    """The :class:`~awaken_eval.ResolvedModel` of ``provider:model``, priced by ``prices``.

    ``prices`` defaults to the bundled table overridden by ``AWAKEN_EVAL_PRICES``.
    """
    _, model = split_model_id(model_id)
    table = prices if prices is not None else default_prices()
    return ResolvedModel(
        model_id=model_id,
        executor=executor_for(model_id, options=options, limiters=limiters),
        upstream_model=model,
        pricing=table.price_for(model_id),
    )


class ProviderModelResolver:
    """A :class:`~awaken_eval.ModelResolver` for ``provider:model`` ids.

    One resolver shares one executor and one connection limit per model among every
    run that resolves through it (the service's runs, the CLI's models and judge).
    The executors hold SDK clients bound to the event loop that first used them: use
    the resolver as an async context manager (or call :meth:`aclose`) in that loop.

    Args:
        options: Limits, retries, timeout, endpoint and key.
        prices: The price table (default: bundled, overridden by ``AWAKEN_EVAL_PRICES``).
    """

    def __init__(
        self, *, options: ProviderOptions | None = None, prices: PriceTable | None = None
    ) -> None:
        """Configure the resolver (see the class docstring)."""
        self.options = options if options is not None else ProviderOptions()
        self.prices = prices if prices is not None else default_prices()
        self.limiters = LimiterPool()
        self._resolved: dict[str, ResolvedModel] = {}

    def resolve(self, model_id: str) -> ResolvedModel:
        """The resolved model of ``model_id`` (built once, then shared).

        Raises:
            InvalidRequest: an unknown provider, or its SDK is not installed.
        """
        found = self._resolved.get(model_id)
        if found is None:
            found = self._resolved[model_id] = resolve_model(
                model_id, options=self.options, prices=self.prices, limiters=self.limiters
            )
        return found

    async def resolve_model(self, model_id: str) -> ResolvedModel:
        """The resolved model of ``model_id`` (the :class:`~awaken_eval.ModelResolver` method)."""
        return self.resolve(model_id)

    async def __aenter__(self) -> Self:
        """Return the resolver; its clients are closed on exit."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close the SDK clients (see :meth:`aclose`)."""
        await self.aclose()

    async def aclose(self) -> None:
        """Close the SDK clients of every resolved model."""
        for model in self._resolved.values():
            close = getattr(model.executor, "aclose", None)
            if close is not None:
                await close()
