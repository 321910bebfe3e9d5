"""Strict JSON: the one place the project decides how JSON text is read and written.

Every loader (the converter, NDJSON files, fixtures, datasets, traces, the stores and
the service's requests) parses through :func:`parse_strict_json`, which accepts exactly
one kind of text and refuses the rest with :class:`~awaken_eval.errors.InvalidInput`
naming the JSON path of the problem:

* bytes must be UTF-8 (no UTF-16/32 guessing); a byte order mark (BOM) is refused,
  in bytes and in text alike (JSON texts carry none, RFC 8259 §8.1);
* ``NaN``, ``Infinity`` and numbers too large for a float (``1e999``) are refused;
* a string or key holding a lone surrogate (``"\\ud800"``) is refused: it cannot be
  written as UTF-8 again;
* an object repeating a key is refused, wherever it is (no "last one wins");
* a value nested deeper than :data:`MAX_DEPTH` arrays and objects is refused.

Writing (:data:`encode_compact`) refuses non-finite numbers as well.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Final

from awaken_eval.errors import InvalidInput

__all__ = [
    "MAX_DEPTH",
    "check_value",
    "decode_strict",
    "encode_compact",
    "loads_strict",
    "parse_strict_json",
    "reject_constant",
]

MAX_DEPTH: Final = 128
"""The deepest nesting of arrays and objects a loaded JSON document may have.

The top-level array or object is at depth 1. A deeper document is refused at load
time, naming the path of the first array or object past the limit.
"""

_BOM = "\ufeff"
_BOM_MESSAGE = "a UTF-8 byte order mark (BOM) is not allowed at the start of JSON text"

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""Text that may hold an escaped lone surrogate (then the strings are checked)."""

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.DOTALL)
"""The tokens that matter for locating nesting: strings and punctuation."""

_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class _DuplicateKeyError(ValueError):
    """Raised by the object hook of the fast parse; the slow parse locates the key."""


class _NonFiniteError(ValueError):
    """Raised by the float hook of the fast parse; the slow parse locates the number."""


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (math.inf, -math.inf):
        raise _NonFiniteError
    return value


def reject_constant(name: str) -> None:
    """Refuse ``NaN``, ``Infinity`` and ``-Infinity`` (the ``parse_constant`` hook).

    Raises:
        ValueError: always.
    """
    msg = f"{name} is not valid JSON"
    raise ValueError(msg)


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise _DuplicateKeyError
    return document


class _Repeated(dict[str, Any]):
    """An object of the slow parse that repeated a key (remembered in ``key``)."""

    key: str = ""


def _marking_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) == len(pairs):
        return document
    seen: set[str] = set()
    marked = _Repeated(pairs)
    for key, _ in pairs:
        if key in seen:
            marked.key = key
            break
        seen.add(key)
    return marked


_FAST = json.JSONDecoder(
    parse_constant=reject_constant, object_pairs_hook=_unique_object, parse_float=_finite_float
)
_LOCATING = json.JSONDecoder(parse_constant=reject_constant, object_pairs_hook=_marking_object)

encode_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
"""Compact JSON text of JSON-ready builtins, as the wire format writes it (one encoder)."""


def _step(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _SIMPLE_KEY.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def _show(text: str) -> str:
    """A string as JSON, ASCII only (safe to print even with a lone surrogate)."""
    shown = json.dumps(text)
    return shown if len(shown) <= 60 else shown[:57] + '..."'


def _has_surrogate(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def _may_exceed(root: object, limit: int) -> bool:
    """Whether ``root`` may nest deeper than ``limit``; false means it surely does not.

    Level by level, no recursion: ``levels`` counts the levels that have members, so
    the depth is ``levels`` or ``levels + 1`` (when the last level holds empty arrays or
    objects); only the ambiguous case ``levels == limit`` is left to the exact walk.
    """
    level: list[Any] = [root]
    levels = 0
    while True:
        following: list[Any] = []
        extend = following.extend
        for value in level:
            kind = value.__class__
            if kind is dict:
                extend(value.values())
            elif kind is list:
                extend(value)
        if not following:
            return levels >= limit
        levels += 1
        if levels > limit:
            return True
        level = following


def check_value(value: object, path: str = "$", *, limit: int = MAX_DEPTH) -> None:
    """Check a JSON-like value against the rules of :func:`parse_strict_json`.

    For values that did not come from JSON text (e.g. built by code): no non-finite
    number, no lone surrogate in a string or key, no nesting deeper than ``limit``.

    Raises:
        InvalidInput: naming the path of the first problem.
    """
    problem = _find_problem(value, path, limit)
    if problem is not None:
        raise InvalidInput.single(*problem)


def _find_problem(root: object, path: str, limit: int) -> tuple[str, str] | None:
    """The path and description of the first problem of ``root`` (depth first)."""
    stack: list[tuple[object, str, int]] = [(root, path, 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= limit:
                return where, _too_deep_message(limit)
            children = _children(value, where, depth + 1)
            if isinstance(children, tuple):
                return children
            stack.extend(reversed(children))
        elif isinstance(value, float) and not math.isfinite(value):
            return where, "number out of range (not a finite double)"
        elif isinstance(value, str) and _has_surrogate(value):
            return where, f"string {_show(value)} holds a lone surrogate"
    return None


def _children(
    value: dict[Any, Any] | list[Any], where: str, depth: int
) -> list[tuple[object, str, int]] | tuple[str, str]:
    """The members of an array or object with their paths, or the problem of a key."""
    if isinstance(value, list):
        return [(item, _step(where, i), depth) for i, item in enumerate(value)]
    if isinstance(value, _Repeated):
        return _step(where, value.key), "repeated key in one object"
    children: list[tuple[object, str, int]] = []
    for key, item in value.items():
        if not isinstance(key, str):
            return where, f"object key {key!r} is not a string"
        if _has_surrogate(key):
            return where, f"key {_show(key)} holds a lone surrogate"
        children.append((item, _step(where, key), depth))
    return children


def _too_deep_message(limit: int) -> str:
    return f"nested deeper than {limit} levels (the limit is awaken_eval.wire.MAX_DEPTH)"


def _locate_depth(text: str, limit: int) -> str:
    """The path of the first array or object of ``text`` past ``limit`` levels."""
    frames: list[list[Any]] = []  # [is_object, key or index, last string]
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if piece in "[{":
            if len(frames) >= limit:
                break
            frames.append([piece == "{", None if piece == "{" else 0, None])
        elif frames:
            _advance(frames, piece)
    path = "$"
    for _, key, _ in frames:
        path = _step(path, key if key is not None else "?")
    return path


def _advance(frames: list[list[Any]], piece: str) -> None:
    """Follow one piece other than an opening bracket (see :func:`_locate_depth`)."""
    frame = frames[-1]
    if piece[0] == '"':
        frame[2] = piece
    elif piece == ":":
        try:
            frame[1] = json.loads(frame[2] or '""')
        except ValueError:
            frame[1] = "?"
    elif piece == ",":
        if not frame[0]:
            frame[1] += 1
    else:
        frames.pop()


def _text_of(data: str | bytes) -> str:
    """The text of ``data``: UTF-8 bytes decoded strictly; a BOM refused in both."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        raw = bytes(data)
        if raw.startswith(b"\xef\xbb\xbf"):
            raise InvalidInput.single("$", _BOM_MESSAGE)
        try:
            return raw.decode()
        except UnicodeDecodeError as exc:
            msg = f"invalid JSON: not UTF-8 text (byte {exc.start} is invalid: {exc.reason})"
            raise InvalidInput.single("$", msg) from None
    if data.startswith(_BOM):
        raise InvalidInput.single("$", _BOM_MESSAGE)
    return data


def _decode(decoder: json.JSONDecoder, text: str) -> Any:
    """``decoder.decode(text)``; every failure but the fast hooks' is an InvalidInput."""
    try:
        return decoder.decode(text)
    except RecursionError:
        path = _locate_depth(text, MAX_DEPTH)
        raise InvalidInput.single(path, _too_deep_message(MAX_DEPTH)) from None
    except json.JSONDecodeError as exc:
        msg = f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise InvalidInput.single("$", msg) from None
    except (_DuplicateKeyError, _NonFiniteError):
        raise
    except ValueError as exc:  # a constant, or an integer over Python's digit limit
        raise InvalidInput.single("$", f"invalid JSON: {exc}") from None


def parse_strict_json(data: str | bytes) -> Any:
    """Parse one JSON document strictly (the rules of this module).

    Raises:
        InvalidInput: naming the path of the problem (``$`` when the text itself is
            not JSON, saying where it stops being JSON).
    """
    text = _text_of(data)
    from_bytes = not isinstance(data, str)  # decoded: holds no surrogate character
    try:
        value = _decode(_FAST, text)
    except (_DuplicateKeyError, _NonFiniteError):
        check_value(_decode(_LOCATING, text))  # locates the key or the number
        raise InvalidInput.single("$", "invalid JSON") from None  # pragma: no cover
    if (
        _may_exceed(value, MAX_DEPTH)
        or _SURROGATE_ESCAPE.search(text)
        or (not from_bytes and _has_surrogate(text))
    ):
        check_value(value)
    return value


loads_strict = parse_strict_json
"""Parse JSON text or UTF-8 bytes strictly (the same rules as :func:`parse_strict_json`)."""


def decode_strict(text: str) -> Any:
    """Parse one JSON text (a ``str``) strictly, as :func:`parse_strict_json`.

    Raises:
        TypeError: when ``text`` is not a ``str`` (e.g. a database column holding bytes).
        InvalidInput: as :func:`parse_strict_json`.
    """
    if type(text) is not str:
        msg = f"expected JSON text, got {type(text).__name__}"
        raise TypeError(msg)
    return parse_strict_json(text)
