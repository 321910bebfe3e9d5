"""The service layer of a host application (web-free).

Start runs, online evaluation, run reads and listings, strict request parsing and
HTTP status mapping.
"""

from __future__ import annotations

from awaken_eval.service._http import *
from awaken_eval.service._requests import *
from awaken_eval.service._resolvers import *
from awaken_eval.service._responses import *
from awaken_eval.service._service import *

__all__ = [
    "AgentSpecPatch",
    "EvalLimits",
    "EvalRunResponse",
    "EvalService",
    "GetRunResponse",
    "JudgeRequestSpec",
    "OnlineEvalRequest",
    "OnlineEvalResponse",
    "RequestedMode",
    "SamplingPatch",
    "StartRunRequest",
    "StaticAgentResolver",
    "StaticModelResolver",
    "http_status",
    "parse_request",
]
