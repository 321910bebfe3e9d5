"""The service layer of a host application (web-free).

Start runs, online evaluation, run reads and listings, dataset operations and curation
(:class:`DatasetService`), strict request parsing and
HTTP status mapping, and what a host needs to take requests safely: bounded request
bodies with a read timeout, a JSON-only content type, strict query parameters and
error messages that are bounded and never show server paths.
"""

from __future__ import annotations

from awaken_eval.service._bodies import *
from awaken_eval.service._dataset_requests import *
from awaken_eval.service._datasets import *
from awaken_eval.service._http import *
from awaken_eval.service._requests import *
from awaken_eval.service._resolvers import *
from awaken_eval.service._responses import *
from awaken_eval.service._service import *

__all__ = [
    "DEFAULT_BODY_TIMEOUT_SECS",
    "DEFAULT_MAX_BODY_BYTES",
    "MAX_ERROR_CHARS",
    "MAX_QUERY_INTEGER",
    "AgentSpecPatch",
    "AppendFixtureRequest",
    "CreateDatasetRequest",
    "CurateItemRequest",
    "DatasetListResponse",
    "DatasetMeta",
    "DatasetResponse",
    "DatasetService",
    "EvalLimits",
    "EvalRunResponse",
    "EvalService",
    "GetRunResponse",
    "ImportDialogueRequest",
    "ImportDialogueResponse",
    "ImportTracesRequest",
    "ImportTracesResponse",
    "JudgeRequestSpec",
    "OnlineEvalRequest",
    "OnlineEvalResponse",
    "ReplaceDatasetRequest",
    "RequestedMode",
    "SamplingPatch",
    "StartRunRequest",
    "StaticAgentResolver",
    "StaticModelResolver",
    "bounded",
    "check_content_type",
    "error_message",
    "http_status",
    "parse_request",
    "query_integer",
    "read_body",
    "strict_query",
]
