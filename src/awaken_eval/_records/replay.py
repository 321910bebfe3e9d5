"""The context a replayer receives for one unit of a run."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from awaken_eval._records.grading import ReviseConfig
from awaken_eval._records.inference import AgentSpec
from awaken_eval._records.runs import EvalRunExecutionMode, MatrixCell

if TYPE_CHECKING:
    from awaken_eval.protocols import LlmExecutor, TraceSink

__all__ = ["ReplayContext"]


@attrs.frozen(kw_only=True)
class ReplayContext:
    """Everything a replayer needs besides the fixture.

    Attributes:
        mode: Scripted or live.
        executor: The live model's executor (live mode).
        upstream_model: The upstream model name (live mode).
        cell: The matrix cell being replayed.
        sample_index: The sample number, when the run samples.
        agent: The agent to run (live mode; ``None``: the built-in default).
        deadline: Absolute ``anyio.current_time()`` by which the cell must finish.
        token_budget: Most tokens the replay may spend (checked between rounds).
        sink: Receives spans as they are recorded.
        revise: The revise-and-retry loop, when enabled for this fixture.
    """

    mode: EvalRunExecutionMode = EvalRunExecutionMode.SCRIPTED
    executor: LlmExecutor | None = None
    upstream_model: str | None = None
    cell: MatrixCell | None = None
    sample_index: int | None = None
    agent: AgentSpec | None = None
    deadline: float | None = None
    token_budget: int | None = None
    sink: TraceSink | None = None
    revise: ReviseConfig | None = None
