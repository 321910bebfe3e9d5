"""The service layer of a host application (web-free).

Start runs, online evaluation, run reads and listings, strict request parsing and
HTTP status mapping.
"""

from __future__ import annotations

from awaken_eval.service._requests import (
    AgentSpecPatch,
    EvalLimits,
    JudgeRequestSpec,
    OnlineEvalRequest,
    RequestedMode,
    SamplingPatch,
    StartRunRequest,
)
from awaken_eval.service._resolvers import StaticAgentResolver, StaticModelResolver
from awaken_eval.service._service import (
    EvalRunResponse,
    EvalService,
    GetRunResponse,
    OnlineEvalResponse,
    http_status,
    parse_request,
)

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
