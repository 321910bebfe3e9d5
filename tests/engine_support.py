"""What the engine's tests share: live fixtures, resolved models, a slow judge, messages.

Import them in engine tests (``tests/`` is on ``sys.path`` when pytest runs)::

    from engine_support import SleepingJudge, live, model, runtime_messages
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio

from awaken_eval import (
    EvalRunItem,
    Expectation,
    Fixture,
    JudgeRequest,
    JudgeResult,
    ModelPricing,
    ResolvedModel,
)
from awaken_eval.failures import ReplayRuntimeError
from awaken_eval.testing import CannedTextExecutor


def live(fixture_id: str, **expect: Any) -> Fixture:
    """A fixture for live runs (no script needed)."""
    return Fixture(fixture_id, user_input=f"question {fixture_id}", expect=Expectation(**expect))


def model(
    model_id: str, executor: Any = None, *, pricing: ModelPricing | None = None
) -> ResolvedModel:
    """The model ``model_id`` (upstream ``upstream-MODEL``), answering ``"ok"`` by default."""
    return ResolvedModel(
        model_id=model_id,
        executor=executor if executor is not None else CannedTextExecutor(["ok"]),
        upstream_model=f"upstream-{model_id}",
        pricing=pricing,
    )


def runtime_messages(items: Iterable[EvalRunItem]) -> list[str | None]:
    """Each item's runtime error message (``None`` for an item without one)."""
    return [
        item.report.runtime_failure.message
        if isinstance(item.report.runtime_failure, ReplayRuntimeError)
        else None
        for item in items
    ]


class SleepingJudge:
    """A judge that sleeps ``delay`` seconds, then grades ``score``; counts calls."""

    def __init__(self, delay: float, score: float = 1.0) -> None:
        self.delay = delay
        self.score = score
        self.calls = 0
        self.cancelled = 0

    async def grade(self, request: JudgeRequest) -> JudgeResult:
        self.calls += 1
        try:
            await anyio.sleep(self.delay)
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise
        return JudgeResult(score=self.score, reasoning="slow but sure")
