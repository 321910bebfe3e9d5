"""Per-model connection limits shared by every executor of a run, optionally adaptive."""

from __future__ import annotations

import anyio

__all__ = ["LimiterPool", "ModelLimiter"]


class ModelLimiter:
    """The connection limit of one model.

    With ``adaptive``, every rate-limited request halves the limit (never below 1) and
    every ``ceiling`` successes in a row raise it by one, back up to ``ceiling``.

    Attributes:
        ceiling: The configured limit.
        adaptive: Whether the limit adapts to 429 answers.
    """

    __slots__ = ("_limiter", "_streak", "adaptive", "ceiling")

    def __init__(self, ceiling: int, *, adaptive: bool = False) -> None:
        """Limit to ``ceiling`` requests in flight."""
        self.ceiling = ceiling
        self.adaptive = adaptive
        self._limiter: anyio.CapacityLimiter | None = None
        self._streak = 0

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        """The capacity limiter (created on first use, inside the event loop)."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.ceiling)
        return self._limiter

    @property
    def current(self) -> int:
        """The limit now in force."""
        return self.ceiling if self._limiter is None else int(self._limiter.total_tokens)

    def observe(self, *, throttled: int) -> None:
        """Adapt to one finished request that saw ``throttled`` 429 answers."""
        if not self.adaptive:
            return
        limiter = self.limiter
        if throttled:
            self._streak = 0
            limiter.total_tokens = max(1, int(limiter.total_tokens) // (2**throttled))
            return
        self._streak += 1
        if self._streak >= self.ceiling and limiter.total_tokens < self.ceiling:
            self._streak = 0
            limiter.total_tokens = int(limiter.total_tokens) + 1


class LimiterPool:
    """One :class:`ModelLimiter` per (provider, endpoint, model), shared by a run's executors."""

    __slots__ = ("_limiters",)

    def __init__(self) -> None:
        """Start empty."""
        self._limiters: dict[tuple[str, str, str], ModelLimiter] = {}

    def limiter_for(
        self, provider: str, endpoint: str, model: str, *, ceiling: int, adaptive: bool
    ) -> ModelLimiter:
        """The limiter of the model (created with ``ceiling`` on first request)."""
        key = (provider, endpoint, model)
        found = self._limiters.get(key)
        if found is None:
            found = self._limiters[key] = ModelLimiter(ceiling, adaptive=adaptive)
        return found
