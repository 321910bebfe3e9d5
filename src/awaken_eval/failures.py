"""The failure records of a report, one class per failure kind.

A :class:`~awaken_eval.ReplayReport` lists its failures in a fixed order;
``FAILURE_KINDS`` lists the kinds, ``ERROR_KINDS`` the error kinds an
``expected_error`` may name.
"""

from __future__ import annotations

from awaken_eval._records.failures import *
from awaken_eval._scoring.score import *

__all__ = [
    "ERROR_KINDS",
    "FAILURE_KINDS",
    "AnswerContainsExcludedPhrase",
    "AnswerMissingPhrase",
    "CountConstraint",
    "CountOp",
    "DurationExceeded",
    "ErrorTypeMismatch",
    "ExpectedErrorMissing",
    "ForbiddenToolUsed",
    "JudgeBelowThreshold",
    "ProviderScriptUnused",
    "ReplayRuntimeError",
    "ReplayRuntimeFailed",
    "ReplayRuntimeFailure",
    "RequiredToolCallNotSatisfied",
    "ScriptExhausted",
    "TokenBudgetExceeded",
    "ToolSequenceMismatch",
    "ToolSequenceMode",
]
