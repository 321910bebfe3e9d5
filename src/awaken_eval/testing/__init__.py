"""Testing helpers: test doubles that record their calls, and readable assertions."""

from __future__ import annotations

from awaken_eval.testing._assertions import *
from awaken_eval.testing._doubles import *

__all__ = [
    "CannedTextExecutor",
    "CapturingSink",
    "EmptyResultExecutor",
    "EvalAssertionError",
    "ExplodingJudge",
    "FailingExecutor",
    "HangingExecutor",
    "ScriptedJudge",
    "SinkFailure",
    "assert_pass_rate",
    "assert_passes",
    "describe_failure",
]
