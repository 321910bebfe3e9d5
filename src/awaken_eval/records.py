"""The records behind the top-level ones.

Report details, legacy script responses, run listings and store headers, ids and
the JSON value type.
"""

from __future__ import annotations

from awaken_eval._records.fixtures import *
from awaken_eval._records.grading import *
from awaken_eval._records.ids import *
from awaken_eval._records.inference import *
from awaken_eval._records.outcomes import *
from awaken_eval._records.runs import *
from awaken_eval._records.store import *
from awaken_eval._records.types import *

__all__ = [
    "AgentMetrics",
    "AgentToolStats",
    "CriterionVerdict",
    "DatasetRecord",
    "DatasetSummary",
    "ErrorPolicy",
    "EvalRunFilter",
    "JsonValue",
    "JudgeAttempt",
    "MessageRole",
    "MockErrorResponse",
    "MockResponse",
    "MockTextResponse",
    "OpenRunSummary",
    "ReviseConfig",
    "RunHeader",
    "SampleAggregate",
    "validate_run_id",
]
