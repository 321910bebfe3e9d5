"""How provider executors connect: limits, retries, timeouts and endpoints."""

from __future__ import annotations

import attrs

__all__ = [
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT_SECS",
    "ProviderOptions",
]

DEFAULT_MAX_CONNECTIONS = 10
"""Requests in flight per model when :attr:`ProviderOptions.max_connections` is not set."""

DEFAULT_MAX_RETRIES = 2
"""Retries of a failed request (429, 5xx, timeouts) by the provider SDK."""

DEFAULT_TIMEOUT_SECS = 120.0
"""Timeout of one HTTP attempt, in seconds."""


@attrs.frozen(kw_only=True)
class ProviderOptions:
    """Connection options of the OpenAI and Anthropic executors.

    Attributes:
        max_connections: Requests in flight per model, across the whole run, whatever
            the run's ``max_concurrency``.
        max_retries: Retries of a failed request, done by the SDK's own retry machinery
            (exponential backoff with jitter, honouring ``retry-after``).
        timeout_secs: Timeout of one HTTP attempt.
        adaptive: Halve a model's connection limit on every 429 and grow it back by one
            after each run of ``max_connections`` successes.
        base_url: The endpoint (default: the SDK's, or ``OPENAI_BASE_URL`` /
            ``ANTHROPIC_BASE_URL``).
        api_key: The key (default: the SDK's environment, ``OPENAI_API_KEY`` /
            ``ANTHROPIC_API_KEY``).
        max_tokens: Output token limit sent to Anthropic when the agent's sampling sets
            none (the Messages API requires one).

    Raises:
        ValueError: a limit below 1, negative retries or a non-positive timeout.
    """

    max_connections: int = attrs.field(
        default=DEFAULT_MAX_CONNECTIONS, validator=attrs.validators.ge(1)
    )
    max_retries: int = attrs.field(default=DEFAULT_MAX_RETRIES, validator=attrs.validators.ge(0))
    timeout_secs: float = attrs.field(
        default=DEFAULT_TIMEOUT_SECS, validator=attrs.validators.gt(0.0)
    )
    adaptive: bool = False
    base_url: str | None = None
    api_key: str | None = None
    max_tokens: int = attrs.field(default=4096, validator=attrs.validators.ge(1))
