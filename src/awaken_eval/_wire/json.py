"""Strict JSON parsing: ``NaN`` and the infinities are not JSON and are refused."""

from __future__ import annotations

import json
from typing import Any

from awaken_eval.errors import InvalidInput

__all__ = ["parse_strict_json", "reject_constant"]


def reject_constant(name: str) -> None:
    msg = f"{name} is not valid JSON"
    raise ValueError(msg)


def parse_strict_json(text: str | bytes) -> Any:
    try:
        return json.loads(text, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        msg = f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        raise InvalidInput.single("$", msg) from None
    except ValueError as exc:
        raise InvalidInput.single("$", f"invalid JSON: {exc}") from None
