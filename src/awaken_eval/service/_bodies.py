"""What any HTTP host needs to take a request safely: bounded bodies, strict queries, safe errors.

Web-free: the body arrives as an async iterable of byte chunks (Starlette's
``request.stream()``, an ASGI ``receive`` loop, aiohttp's ``request.content``), headers
and query parameters as plain strings. Each refusal is a
:class:`~awaken_eval.errors.ServiceError` carrying its HTTP status (400, 408, 413, 415),
so :func:`~awaken_eval.service.http_status` and :func:`error_message` answer it.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Collection, Iterable
from typing import Final

import anyio

from awaken_eval.errors import (
    InvalidInput,
    InvalidRequest,
    InvalidRunId,
    NotConfigured,
    PayloadTooLarge,
    RequestTimeout,
    ServiceError,
    UnsupportedMediaType,
)

__all__ = [
    "DEFAULT_BODY_TIMEOUT_SECS",
    "DEFAULT_MAX_BODY_BYTES",
    "MAX_ERROR_CHARS",
    "MAX_QUERY_INTEGER",
    "bounded",
    "check_content_type",
    "error_message",
    "query_integer",
    "read_body",
    "strict_query",
]

DEFAULT_MAX_BODY_BYTES: Final = 1024 * 1024
"""The largest request body :func:`read_body` accepts by default (1 MiB)."""

DEFAULT_BODY_TIMEOUT_SECS: Final = 10.0
"""How long :func:`read_body` waits for a whole body by default, in seconds."""

MAX_ERROR_CHARS: Final = 1000
"""The longest error message :func:`error_message` returns: user input echoed in a
message (an unknown id, a bad value) is cut there, so an error is never as large as the
request that caused it."""

MAX_QUERY_INTEGER: Final = 2**64 - 1
"""The largest integer a query parameter may hold (the wire format's unsigned 64 bits)."""

_MAX_QUERY_DIGITS: Final = len(str(MAX_QUERY_INTEGER))


def bounded(text: str, limit: int = MAX_ERROR_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, saying how much was left out.

    Pure: the cut keeps the start of the text (where the message says what is wrong).
    """
    if len(text) <= limit:
        return text
    note = f"… ({len(text) - limit} more characters)"
    keep = max(0, limit - len(note))
    return text[:keep] + note[: limit - keep]


def error_message(error: BaseException) -> str:
    """The message a host answers ``error`` with: bounded, and path-free for a 5xx.

    A client error (4xx: :class:`~awaken_eval.errors.ServiceError` below 500, bad input
    data, a bad run id) keeps its message, cut to :data:`MAX_ERROR_CHARS`. Anything
    answered with a 5xx says only ``internal error``: its message can name server
    files, hosts or configuration, which belong in the server's log (log ``error``
    there before answering). :class:`~awaken_eval.errors.NotConfigured` (503) keeps its
    message: it names only what the host lacks.
    """
    if isinstance(error, ServiceError):
        if error.status >= 500 and not isinstance(error, NotConfigured):
            return "internal error"
        return bounded(error.message)
    if isinstance(error, InvalidInput | InvalidRunId):
        return bounded(str(error))
    return "internal error"


def check_content_type(content_type: str | None) -> None:
    """Accept only a JSON body: ``application/json``, optionally ``; charset=utf-8``.

    Args:
        content_type: The request's ``Content-Type`` header (``None`` without one).

    Raises:
        UnsupportedMediaType: (415) for a missing header, another media type, or a
            charset other than UTF-8 (a UTF-16 body is refused, not guessed at).
    """
    if content_type is None:
        raise UnsupportedMediaType(None)
    media_type, *parameters = content_type.split(";")
    if media_type.strip().lower() != "application/json":
        raise UnsupportedMediaType(content_type)
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "charset":
            continue
        if value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(content_type)


def _declared_length(content_length: str | None, max_bytes: int) -> None:
    if content_length is None:
        return
    text = content_length.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > _MAX_QUERY_DIGITS:
        msg = f"invalid Content-Length header {bounded(content_length, 40)!r}"
        raise InvalidRequest(msg)
    if int(text) > max_bytes:
        raise PayloadTooLarge(max_bytes)


async def read_body(
    chunks: AsyncIterable[bytes],
    *,
    content_length: str | None = None,
    max_bytes: int = DEFAULT_MAX_BODY_BYTES,
    timeout_secs: float = DEFAULT_BODY_TIMEOUT_SECS,
) -> bytes:
    """Read a request body of at most ``max_bytes`` within ``timeout_secs``.

    A declared ``Content-Length`` over the limit is refused before anything is read;
    a body without one (chunked) is refused as soon as it grows past the limit, so
    memory never holds more than ``max_bytes`` plus one chunk.

    Args:
        chunks: The body, chunk by chunk (e.g. Starlette's ``request.stream()``).
        content_length: The request's ``Content-Length`` header, when it has one.
        max_bytes: The largest body accepted.
        timeout_secs: How long the whole body may take to arrive (a client sending
            one byte a second holds a connection at most this long).

    Returns:
        The body.

    Raises:
        InvalidRequest: (400) for a malformed ``Content-Length``.
        PayloadTooLarge: (413) for a body over ``max_bytes``.
        RequestTimeout: (408) when the body did not arrive in time.
    """
    _declared_length(content_length, max_bytes)
    parts: list[bytes] = []
    size = 0
    complete = False
    try:
        with anyio.move_on_after(timeout_secs) as scope:
            async for chunk in chunks:
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(max_bytes)
                parts.append(chunk)
            complete = True
    finally:
        if not complete:  # left early: close a generator now, not when it is collected
            close = getattr(chunks, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()
    if scope.cancelled_caught:
        raise RequestTimeout(timeout_secs)
    return b"".join(parts)


def strict_query(pairs: Iterable[tuple[str, str]], allowed: Collection[str]) -> dict[str, str]:
    """The query parameters as a dictionary, refusing unknown and repeated keys.

    Args:
        pairs: Every ``(key, value)`` of the query string, in order (Starlette's
            ``request.query_params.multi_items()``).
        allowed: The keys the route takes.

    Raises:
        InvalidRequest: (400) naming the unknown or repeated key (shortened).
    """
    query: dict[str, str] = {}
    for key, value in pairs:
        if key not in allowed:
            msg = (
                f"unknown query parameter {bounded(key, 100)!r}; "
                f"expected one of: {', '.join(allowed)}"
            )
            raise InvalidRequest(msg)
        if key in query:
            msg = f"query parameter {key!r} is given more than once"
            raise InvalidRequest(msg)
        query[key] = value
    return query


def query_integer(name: str, value: str, *, maximum: int = MAX_QUERY_INTEGER) -> int:
    """The non-negative integer query parameter ``name``, checked before it is converted.

    A value of thousands of digits is refused by its length, never handed to ``int``.

    Raises:
        InvalidRequest: (400) naming the parameter and the accepted range.
    """
    digits = value.isascii() and value.isdigit()
    if not digits or len(value) > _MAX_QUERY_DIGITS or int(value) > maximum:
        msg = (
            f"query parameter {name!r} must be a non-negative integer (at most {maximum}), "
            f"got {bounded(value, 40)!r}"
        )
        raise InvalidRequest(msg)
    return int(value)
