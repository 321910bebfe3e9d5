"""The engine's defaults and building blocks beyond :func:`~awaken_eval.run_eval`.

The revise loop, the judge's score parser, the matrix expansion and costs.
"""

from __future__ import annotations

from awaken_eval._engine.agent_loop import DEFAULT_MAX_ROUNDS_FLOOR, RetryPolicy
from awaken_eval._engine.judging import (
    DEFAULT_GRADER_PROMPT,
    ParsedScore,
    ReviseOutcome,
    RevisionAnswer,
    parse_score_payload,
    revise_until_passing,
    score_with_judge,
)
from awaken_eval._engine.options import DEFAULT_MAX_WALLTIME_SECS
from awaken_eval._engine.run_ids import mint_run_id
from awaken_eval._engine.runner import SKIPPED_PREFIX
from awaken_eval._engine.scripted import ScriptedError, error_kind_for
from awaken_eval._records.inference import DEFAULT_SYSTEM_PROMPT
from awaken_eval._scoring.cost import cost_usd_for
from awaken_eval._scoring.matrix import expand_cells

__all__ = [
    "DEFAULT_GRADER_PROMPT",
    "DEFAULT_MAX_ROUNDS_FLOOR",
    "DEFAULT_MAX_WALLTIME_SECS",
    "DEFAULT_SYSTEM_PROMPT",
    "SKIPPED_PREFIX",
    "ParsedScore",
    "RetryPolicy",
    "ReviseOutcome",
    "RevisionAnswer",
    "ScriptedError",
    "cost_usd_for",
    "error_kind_for",
    "expand_cells",
    "mint_run_id",
    "parse_score_payload",
    "revise_until_passing",
    "score_with_judge",
]
