"""Mapping a provider's failure onto :class:`~awaken_eval.errors.InferenceError` kinds."""

from __future__ import annotations

from awaken_eval.errors import InferenceError, InferenceErrorKind

__all__ = ["error_for_status", "kind_for_status"]

_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "context length",
    "maximum context",
    "context window",
    "prompt is too long",
    "too many tokens",
)
_FILTER_MARKERS = (
    "content_filter",
    "content filtering",
    "content_policy",
    "content management policy",
    "safety system",
)


def kind_for_status(status: int, code: str, message: str) -> InferenceErrorKind:
    """The kind of an HTTP failure from its status, error code and message.

    429 → rate_limited; 529 and 503 → overloaded; 401, 403 → unauthorized; 404 →
    model_not_found; 408, 504 → timeout; 400-class answers naming the context length →
    context_overflow, a content filter → content_filtered, else invalid_request;
    anything else → provider.
    """
    text = f"{code} {message}".lower()
    if status == 429:
        return InferenceErrorKind.RATE_LIMITED
    if status in (503, 529):
        return InferenceErrorKind.OVERLOADED
    if status in (401, 403):
        return InferenceErrorKind.UNAUTHORIZED
    if status == 404:
        return InferenceErrorKind.MODEL_NOT_FOUND
    if status in (408, 504):
        return InferenceErrorKind.TIMEOUT
    if 400 <= status < 500:
        if any(marker in text for marker in _CONTEXT_MARKERS):
            return InferenceErrorKind.CONTEXT_OVERFLOW
        if any(marker in text for marker in _FILTER_MARKERS):
            return InferenceErrorKind.CONTENT_FILTERED
        return InferenceErrorKind.INVALID_REQUEST
    return InferenceErrorKind.PROVIDER


def error_for_status(
    status: int,
    *,
    code: str,
    message: str,
    request_id: str | None,
    attempts: int | None,
) -> InferenceError:
    """The :class:`InferenceError` of an HTTP failure, keeping the provider's message."""
    shown = message or f"HTTP {status}"
    detail = f"HTTP {status}: {shown}" if str(status) not in shown else shown
    if request_id:
        detail = f"{detail} (request id {request_id})"
    return InferenceError(
        kind_for_status(status, code, message),
        detail,
        status=status,
        request_id=request_id,
        attempts=attempts,
    )
