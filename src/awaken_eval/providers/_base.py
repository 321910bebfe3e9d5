"""What the OpenAI and Anthropic executors share: limits, attempts, errors, extras."""

from __future__ import annotations

import importlib
import time
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, TypeVar

import attrs

from awaken_eval._records.inference import InferenceResult
from awaken_eval.errors import InferenceError, InferenceErrorKind, InvalidRequest
from awaken_eval.providers._attempts import Attempts, tracked
from awaken_eval.providers._errors import error_for_status
from awaken_eval.providers._limits import ModelLimiter

__all__ = ["body_error", "import_sdk", "limited_call", "sdk_failure", "usage_count"]

T = TypeVar("T")


def import_sdk(module: str, extra: str) -> ModuleType:
    """Import a provider SDK, or say which extra installs it.

    Raises:
        InvalidRequest: ``the openai extra is not installed: pip install 'awaken-eval[openai]'``.
    """
    try:
        return importlib.import_module(module)
    except ImportError:
        msg = (
            f"the {extra} provider needs the {module!r} package, which is not installed: "
            f"pip install 'awaken-eval[{extra}]'"
        )
        raise InvalidRequest(msg) from None


def body_error(body: object) -> tuple[str, str]:
    """The ``(message, code)`` of a provider's JSON error body (``{"error": {...}}``)."""
    error = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return (str(body) if body else "", "")
    message = error.get("message")
    codes = [error.get(key) for key in ("code", "type")]
    code = " ".join(str(value) for value in codes if value)
    return (str(message) if message is not None else "", code)


def sdk_failure(exc: Exception, sdk: ModuleType, attempts: Attempts) -> InferenceError | None:
    """The :class:`InferenceError` of an exception the SDK raised, or ``None`` if foreign."""
    counted = attempts.count or None
    if isinstance(exc, sdk.APIStatusError):
        message, code = body_error(exc.body)
        return error_for_status(
            exc.status_code,
            code=code,
            message=message or str(exc.message),
            request_id=exc.request_id or attempts.request_id,
            attempts=counted,
        )
    if isinstance(exc, sdk.APITimeoutError):
        return InferenceError(
            InferenceErrorKind.TIMEOUT,
            f"the provider did not answer in time ({counted or 0} attempts)",
            attempts=counted,
        )
    if isinstance(exc, sdk.APIConnectionError):
        return InferenceError(
            InferenceErrorKind.PROVIDER, f"cannot reach the provider: {exc}", attempts=counted
        )
    if isinstance(exc, sdk.APIError):
        return InferenceError(InferenceErrorKind.PROVIDER, str(exc), attempts=counted)
    root = getattr(sdk, "OpenAIError", None) or getattr(sdk, "AnthropicError", None)
    if root is not None and isinstance(exc, root):  # before any request: no credentials
        return InferenceError(InferenceErrorKind.UNAUTHORIZED, str(exc), attempts=counted)
    return None


async def limited_call(
    limiter: ModelLimiter,
    call: Callable[[], Awaitable[T]],
    parse: Callable[[T], InferenceResult],
    sdk: ModuleType,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> InferenceResult:
    """Run ``call`` under the model's limit, counting its attempts, and ``parse`` the reply.

    Raises:
        InferenceError: the SDK's failure mapped onto a kind, with status, request id
            and attempts.
    """
    with tracked(clock) as attempts:
        try:
            async with limiter.limiter:
                reply = await call()
        except Exception as exc:
            limiter.observe(throttled=attempts.throttled)
            failure = sdk_failure(exc, sdk, attempts)
            if failure is None:
                raise
            raise failure from None
    limiter.observe(throttled=attempts.throttled)
    result = parse(reply)
    return attrs.evolve(
        result,
        request_id=attempts.request_id,
        attempts=attempts.count or 1,
        retry_wait_secs=attempts.wait_secs,
    )


def usage_count(value: Any) -> int | None:
    """A token count from an SDK usage object (``None`` when absent or not an int)."""
    return value if isinstance(value, int) and value >= 0 else None
