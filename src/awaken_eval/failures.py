"""The failure records of a report, one class per failure kind.

A :class:`~awaken_eval.ReplayReport` lists its failures in a fixed order;
``FAILURE_KINDS`` lists the kinds, ``ERROR_KINDS`` the error kinds an
``expected_error`` may name. :func:`explain` and :func:`explain_item` put a failure
into words (an :class:`Explanation`): the CLI, the pytest plugin, the JUnit output and
the HTML report all show these.
"""

from __future__ import annotations

from awaken_eval._analysis.explain import excerpt, explain, explain_item, item_label
from awaken_eval._records.explanations import Explanation
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
    "Explanation",
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
    "ValueMismatch",
    "excerpt",
    "explain",
    "explain_item",
    "item_label",
]
