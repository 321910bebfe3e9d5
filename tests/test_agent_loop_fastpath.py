"""The agent loop's scripted fast path gives the outcome of the general path.

Without a sink, tools, content capture or retries, a scripted replay serves the script
without building the executor protocol's request and result records. A sink that keeps
nothing forces the general path (a sink observes every span), so the two are compared
on generated fixtures, with a clock whose every reading differs (durations then depend
on when, and how often, each path reads it).
"""

from __future__ import annotations

import itertools

import anyio
import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from awaken_eval import (
    AgentLoopReplayer,
    ChatResponseEvent,
    ErrorEvent,
    Fixture,
    ReplayContext,
    ReplayOutcome,
    ToolCallEvent,
)
from awaken_eval.events import TraceEvent
from strategies import fixtures


class SteppingClock:
    """Each reading is later than the last by a different amount (0.7 ms, 1.4 ms, ...)."""

    def __init__(self) -> None:
        self.readings = itertools.count(1)
        self.now = 50.0

    def __call__(self) -> float:
        self.now += next(self.readings) * 0.0007
        return self.now


class NullSink:
    """A sink that keeps nothing (its presence forces the general path)."""

    async def emit(self, event: TraceEvent) -> None:
        """Drop ``event``."""


def _normalized(outcome: ReplayOutcome) -> ReplayOutcome:
    """``outcome`` with each run id replaced by its rank of first appearance."""
    ranks: dict[str, str] = {}
    metrics = outcome.metrics
    inferences = tuple(
        attrs.evolve(span, run_id=ranks.setdefault(span.run_id, f"run-{len(ranks)}"))
        for span in metrics.inferences
    )
    tools = tuple(
        attrs.evolve(span, run_id=ranks.setdefault(span.run_id, f"run-{len(ranks)}"))
        for span in metrics.tools
    )
    return attrs.evolve(outcome, metrics=attrs.evolve(metrics, inferences=inferences, tools=tools))


def _both(fixture: Fixture, token_budget: int | None) -> tuple[ReplayOutcome, ReplayOutcome]:
    fast = AgentLoopReplayer(clock=SteppingClock())
    general = AgentLoopReplayer(clock=SteppingClock())

    async def main() -> tuple[ReplayOutcome, ReplayOutcome]:
        return (
            await fast.replay(fixture, ReplayContext(token_budget=token_budget)),
            await general.replay(
                fixture, ReplayContext(token_budget=token_budget, sink=NullSink())
            ),
        )

    return anyio.run(main)


@settings(max_examples=300, deadline=None)
@given(
    fixture=fixtures().map(lambda fixture: attrs.evolve(fixture, provider_script_error=None)),
    token_budget=st.none() | st.integers(min_value=0, max_value=300),
)
def test_fast_path_outcome_equals_the_general_path(
    fixture: Fixture, token_budget: int | None
) -> None:
    fast, general = _both(fixture, token_budget)
    assert _normalized(general) == _normalized(fast)
    assert general.elapsed_seconds == fast.elapsed_seconds


def test_fast_path_covers_tools_errors_and_dialogues() -> None:
    """One fixture through every branch: recorded and unknown tools, an error, turns."""
    fixture = Fixture(
        "mixed",
        "hi",
        provider_script=(
            ToolCallEvent("c1", "lookup", {"q": 1}, result={"hits": [1, 2]}),
            ToolCallEvent("c2", "missing", [1]),
            ChatResponseEvent("done"),
            ErrorEvent("rate_limit", message="slow down"),
        ),
    )
    fast, general = _both(fixture, None)
    assert _normalized(general) == _normalized(fast)
    assert ("lookup", "missing") == fast.tool_sequence()
    assert "" != fast.metrics.inferences[0].run_id
