"""The evaluation vocabulary: what a judge grades and against what.

An :class:`Evaluation` names its scope (a run, a turn, a session or a custom
reference), its subjects and the :class:`ExpectedOutcome` whose criteria the judge
checks. :meth:`awaken_eval.service.EvalService.evaluate` grades one without replay.
"""

from __future__ import annotations

from awaken_eval._records.evaluation import *
from awaken_eval._records.ids import *

__all__ = [
    "MAX_REDACTED_SUMMARY_CHARS",
    "CustomScope",
    "EntityRef",
    "Evaluation",
    "EvaluationCriterion",
    "EvaluationScope",
    "EvaluationSubject",
    "EvaluationSubjectRole",
    "ExpectedOutcome",
    "RunId",
    "RunScope",
    "SessionId",
    "SessionScope",
    "TurnId",
    "TurnScope",
]
