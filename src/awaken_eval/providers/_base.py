"""What the OpenAI and Anthropic executors share: limits, attempts, errors, extras."""

from __future__ import annotations

import importlib
import time
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any, ClassVar, TypeVar

import attrs

from awaken_eval._records.inference import InferenceResult
from awaken_eval.errors import InferenceError, InferenceErrorKind, InvalidRequest
from awaken_eval.providers._attempts import Attempts, event_hooks, tracked
from awaken_eval.providers._errors import error_for_status
from awaken_eval.providers._limits import ModelLimiter
from awaken_eval.providers._options import ProviderOptions

__all__ = [
    "SdkExecutor",
    "body_error",
    "import_sdk",
    "limited_call",
    "sdk_failure",
    "usage_count",
]

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


class SdkExecutor:
    """What an executor over an official SDK shares: the lazy client, the call, closing.

    A subclass names its ``provider`` (also the SDK's module and the extra that installs
    it), the SDK's async client class and the response header carrying the request id,
    and builds its request in ``execute``.
    """

    provider: ClassVar[str]
    client_class: ClassVar[str]
    request_id_header: ClassVar[str]

    def __init__(
        self,
        *,
        options: ProviderOptions,
        limiter: ModelLimiter,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        """Prepare the executor; the SDK client is built on the first request."""
        self.options = options
        self.limiter = limiter
        self.clock = clock
        self._sdk: ModuleType = import_sdk(self.provider, self.provider)
        self._client: Any = None

    def _make_client(self) -> Any:
        options = self.options
        hooks = event_hooks(self.request_id_header)
        http_client = self._sdk.DefaultAsyncHttpxClient(event_hooks=hooks)
        given = {"api_key": options.api_key, "base_url": options.base_url}
        return getattr(self._sdk, self.client_class)(
            max_retries=options.max_retries,
            timeout=options.timeout_secs,
            http_client=http_client,
            **{name: value for name, value in given.items() if value is not None},
        )

    async def _send(
        self,
        create: Callable[[Any], Awaitable[T]],
        parse: Callable[[T], InferenceResult],
    ) -> InferenceResult:
        """``create(client)`` under the model's limit (the client built on first use)."""

        async def call() -> T:
            if self._client is None:
                self._client = self._make_client()
            return await create(self._client)

        return await limited_call(self.limiter, call, parse, self._sdk, clock=self.clock)

    async def aclose(self) -> None:
        """Close the SDK client's connections."""
        if self._client is not None:
            await self._client.close()
            self._client = None
