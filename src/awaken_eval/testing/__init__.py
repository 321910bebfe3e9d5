"""Testing helpers: test doubles that record their calls, and readable assertions."""

from __future__ import annotations

from awaken_eval.testing._assertions import *
from awaken_eval.testing._doubles import *
from awaken_eval.testing._traces import *

__all__ = [
    "CannedTextExecutor",
    "CapturingSink",
    "EmptyResultExecutor",
    "EvalAssertionError",
    "ExplodingJudge",
    "FailingExecutor",
    "HangingExecutor",
    "InMemoryTraceStore",
    "ScriptedJudge",
    "SinkFailure",
    "assert_pass_rate",
    "assert_passes",
    "describe_failure",
]
