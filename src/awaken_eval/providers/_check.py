"""``check_model``: one tiny request to see that a model answers, how fast and at what cost."""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs

from awaken_eval._records.fixtures import TokenUsage
from awaken_eval._records.inference import (
    ChatMessage,
    InferenceRequest,
    MessageRole,
    SamplingParams,
)
from awaken_eval._records.pricing import PriceTable
from awaken_eval.providers._limits import LimiterPool
from awaken_eval.providers._options import ProviderOptions
from awaken_eval.providers._prices import default_prices
from awaken_eval.providers._resolve import resolve_model

__all__ = ["CHECK_PROMPT", "ModelCheck", "check_model"]

CHECK_PROMPT = "Reply with the single word: ok"
"""The user message :func:`check_model` sends."""


@attrs.frozen(kw_only=True)
class ModelCheck:
    """What one tiny request to a model gave.

    Attributes:
        model_id: The ``provider:model`` id checked.
        answered_by: The model the provider says answered.
        text: The answer.
        latency_secs: Time from sending to the answer, retries included.
        usage: Token usage reported.
        cost_usd: Its cost by the price table (``None``: the model has no price).
        request_id: The provider's request id.
        attempts: HTTP attempts made.
    """

    model_id: str
    answered_by: str
    text: str
    latency_secs: float
    usage: TokenUsage
    cost_usd: float | None
    request_id: str | None = None
    attempts: int | None = None


async def check_model(
    model_id: str,
    *,
    options: ProviderOptions | None = None,
    prices: PriceTable | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> ModelCheck:
    """Send one tiny request to ``provider:model``.

    Raises:
        InferenceError: the provider's failure (``unauthorized``, ``model_not_found``, ...)
            with its message.
        InvalidRequest: an unknown provider or a missing SDK extra.
    """
    table = prices if prices is not None else default_prices()
    resolved = resolve_model(model_id, options=options, prices=table, limiters=LimiterPool())
    request = InferenceRequest(
        model=resolved.upstream_model,
        messages=(ChatMessage(MessageRole.USER, CHECK_PROMPT),),
        sampling=SamplingParams(max_tokens=16),
    )
    started = clock()
    try:
        result = await resolved.executor.execute(request)
    finally:
        close = getattr(resolved.executor, "aclose", None)
        if close is not None:
            await close()
    latency = clock() - started
    usage = result.usage
    cost: float | None = None
    pricing = resolved.pricing
    if pricing is not None and (usage.prompt_tokens or usage.completion_tokens):
        cost = (
            (usage.prompt_tokens or 0) * pricing.input_per_million_usd
            + (usage.completion_tokens or 0) * pricing.output_per_million_usd
        ) / 1_000_000
    return ModelCheck(
        model_id=model_id,
        answered_by=result.model or resolved.upstream_model,
        text=result.text,
        latency_secs=latency,
        usage=usage,
        cost_usd=cost,
        request_id=result.request_id,
        attempts=result.attempts,
    )
