"""Real models out of the box: OpenAI-compatible and Anthropic executors, limits, prices.

``provider:model`` ids name a model of a built-in provider:

* ``openai:MODEL`` — the Chat Completions API through the official ``openai`` SDK
  (``pip install 'awaken-eval[openai]'``); ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL``
  select the key and the server, so vLLM, Ollama, llama.cpp's server, LM Studio,
  OpenRouter and the like work by their base URL;
* ``anthropic:MODEL`` — the Messages API through the official ``anthropic`` SDK
  (``pip install 'awaken-eval[anthropic]'``; ``ANTHROPIC_API_KEY``,
  ``ANTHROPIC_BASE_URL``).

:func:`executor_for` gives the :class:`~awaken_eval.LlmExecutor` of an id,
:func:`resolve_model` the priced :class:`~awaken_eval.ResolvedModel`,
:class:`ProviderModelResolver` the :class:`~awaken_eval.ModelResolver` a service uses,
and :func:`check_model` sends one tiny request. The SDKs are imported on first use.

Example:
    >>> from awaken_eval.providers import bundled_prices, price_for
    >>> price_for("openai:gpt-4.1-mini-2025-04-14", table=bundled_prices())
    ModelPricing(input_per_million_usd=0.4, output_per_million_usd=1.6)
"""

from __future__ import annotations

from awaken_eval._records.model_ids import *
from awaken_eval._records.pricing import *
from awaken_eval._scoring.cost import cost_by_model
from awaken_eval.providers._check import *
from awaken_eval.providers._limits import LimiterPool
from awaken_eval.providers._options import *
from awaken_eval.providers._prices import *
from awaken_eval.providers._resolve import *

__all__ = [
    "CHECK_PROMPT",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT_SECS",
    "PRICES_ENV",
    "PROVIDERS",
    "LimiterPool",
    "ModelCheck",
    "PriceTable",
    "ProviderModelResolver",
    "ProviderOptions",
    "bundled_prices",
    "check_model",
    "cost_by_model",
    "default_prices",
    "executor_for",
    "is_provider_model",
    "load_prices",
    "price_for",
    "resolve_model",
    "split_model_id",
]
