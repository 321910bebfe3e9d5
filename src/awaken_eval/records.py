"""The records behind the top-level ones.

Report details, legacy script responses, run listings and store headers, ids and
the JSON value type.
"""

from __future__ import annotations

from awaken_eval._records.fixtures import MockErrorResponse, MockResponse, MockTextResponse
from awaken_eval._records.grading import ReviseConfig
from awaken_eval._records.ids import validate_run_id
from awaken_eval._records.inference import MessageRole
from awaken_eval._records.outcomes import (
    AgentMetrics,
    AgentToolStats,
    CriterionVerdict,
    JudgeAttempt,
)
from awaken_eval._records.runs import ErrorPolicy, EvalRunFilter, SampleAggregate
from awaken_eval._records.store import DatasetRecord, RunHeader
from awaken_eval._records.types import JsonValue

__all__ = [
    "AgentMetrics",
    "AgentToolStats",
    "CriterionVerdict",
    "DatasetRecord",
    "ErrorPolicy",
    "EvalRunFilter",
    "JsonValue",
    "JudgeAttempt",
    "MessageRole",
    "MockErrorResponse",
    "MockResponse",
    "MockTextResponse",
    "ReviseConfig",
    "RunHeader",
    "SampleAggregate",
    "validate_run_id",
]
