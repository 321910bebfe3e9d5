"""The engine's defaults and building blocks beyond :func:`~awaken_eval.run_eval`.

The revise loop, the judge's score parser, the matrix expansion, costs, and the
dispatcher seam (where a run's units execute).
"""

from __future__ import annotations

from awaken_eval._engine.agent_loop import *
from awaken_eval._engine.dispatch import *
from awaken_eval._engine.judging import *
from awaken_eval._engine.options import *
from awaken_eval._engine.run_ids import *
from awaken_eval._engine.runner import *
from awaken_eval._engine.scripted import *
from awaken_eval._records.inference import *
from awaken_eval._scoring.cost import *
from awaken_eval._scoring.matrix import *

__all__ = [
    "DEFAULT_GRADER_PROMPT",
    "DEFAULT_MAX_ROUNDS_FLOOR",
    "DEFAULT_MAX_WALLTIME_SECS",
    "DEFAULT_SCRIPTED_WALLTIME_SECS",
    "DEFAULT_SINK_TIMEOUT_SECS",
    "DEFAULT_SYSTEM_PROMPT",
    "MAX_AGENT_ROUNDS",
    "SKIPPED_PREFIX",
    "LocalDispatcher",
    "ParsedScore",
    "RetryPolicy",
    "ReviseOutcome",
    "RevisionAnswer",
    "ScriptedError",
    "UnitRecorder",
    "UnitSpec",
    "UnitWork",
    "cost_usd_for",
    "error_kind_for",
    "expand_cells",
    "mint_run_id",
    "parse_score_payload",
    "revise_until_passing",
    "score_with_judge",
]
