"""What a host's HTTP layer needs around the service: request parsing, status mapping."""

from __future__ import annotations

from typing import TypeVar

from awaken_eval.errors import InvalidInput, InvalidRequest, InvalidRunId, ServiceError

__all__ = [
    "http_status",
    "parse_request",
]

T = TypeVar("T")


def http_status(error: BaseException) -> int:
    """The HTTP status a host answers ``error`` with.

    A :class:`~awaken_eval.ServiceError` carries its own status; bad input data
    (:class:`~awaken_eval.InvalidInput`, :class:`~awaken_eval.InvalidRunId`) is a 400;
    anything else is a 500.
    """
    if isinstance(error, ServiceError):
        return error.status
    if isinstance(error, InvalidInput | InvalidRunId):
        return 400
    return 500


def parse_request(cls: type[T], data: object) -> T:
    """Structure a JSON body as the request record ``cls``, strictly.

    Args:
        cls: The request record (:class:`~awaken_eval.StartRunRequest`,
            :class:`~awaken_eval.OnlineEvalRequest`, ...).
        data: The decoded JSON body, or its text or bytes.

    Returns:
        The request.

    Raises:
        InvalidRequest: (status 400) listing every problem with its JSON path, e.g.
            ``$.judge.model_idd: unknown key``; the :class:`~awaken_eval.InvalidInput`
            is its ``__cause__``.
    """
    from awaken_eval._wire.converter import from_builtins, from_json  # noqa: PLC0415
    from awaken_eval._wire.json import check_value  # noqa: PLC0415

    try:
        if isinstance(data, str | bytes):
            return from_json(cls, data)
        check_value(data)  # decoded elsewhere: the same depth, number and text rules
        return from_builtins(cls, data)
    except InvalidInput as exc:
        msg = f"invalid request body: {exc}"
        raise InvalidRequest(msg) from exc
