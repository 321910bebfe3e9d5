"""Strict JSON: ``NaN`` and the infinities are not JSON, neither read nor written.

The one place the project decides how JSON text is read and written compactly: the
converter, the stores and the sinks all use these.
"""

from __future__ import annotations

import json
from typing import Any

from awaken_eval.errors import InvalidInput

__all__ = [
    "decode_strict",
    "encode_compact",
    "loads_strict",
    "parse_strict_json",
    "reject_constant",
]


def reject_constant(name: str) -> None:
    """Refuse ``NaN``, ``Infinity`` and ``-Infinity`` (the ``parse_constant`` hook).

    Raises:
        ValueError: always.
    """
    msg = f"{name} is not valid JSON"
    raise ValueError(msg)


decode_strict = json.JSONDecoder(parse_constant=reject_constant).decode
"""Parse one JSON text (a ``str``) strictly; raises ``ValueError`` (one decoder for all)."""

encode_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode
"""Compact JSON text of JSON-ready builtins, as the wire format writes it (one encoder)."""


def loads_strict(data: str | bytes) -> Any:
    """Parse JSON text or UTF-8 bytes strictly.

    Raises:
        ValueError: for invalid JSON (``json.JSONDecodeError``) or a constant.
    """
    return json.loads(data, parse_constant=reject_constant)


def parse_strict_json(text: str | bytes) -> Any:
    """Parse JSON strictly, for input read from a user.

    Raises:
        InvalidInput: at ``$``, saying where the text stops being JSON.
    """
    try:
        return loads_strict(text)
    except json.JSONDecodeError as exc:
        msg = f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise InvalidInput.single("$", msg) from None
    except ValueError as exc:
        raise InvalidInput.single("$", f"invalid JSON: {exc}") from None
