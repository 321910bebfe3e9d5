"""Describing what is wrong with a document: JSON paths, values and the problems.

The converter's hooks raise and collect :class:`~awaken_eval.errors.Problem` records
through these helpers, so every loader reports its problems the same way.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable

from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
)

from awaken_eval.errors import InvalidExecutionShape, InvalidInput, Problem

__all__ = [
    "as_invalid_input",
    "collect_problems",
    "describe_value",
    "expected",
    "key_path",
    "unknown_key",
]


def describe_value(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return text


def key_path(key: str) -> str:
    """JSON path of an object key; a key with control characters is quoted and escaped."""
    return f"$.{key}" if key.isprintable() else f"$[{json.dumps(key)}]"


def unknown_key(key: str, allowed: Iterable[str]) -> str:
    """The problem of an unknown key, suggesting the closest allowed key (difflib).

    Only keys with the same first letter are suggested: a typo rarely changes it, and
    a foreign key (``extra``) should not be matched to an unrelated one (``text``).
    """
    same_start = sorted(name for name in allowed if name[:1] == key[:1])
    close = difflib.get_close_matches(key, same_start, n=1)
    return f"unknown key (did you mean {json.dumps(close[0])}?)" if close else "unknown key"


def _join(prefix: str, path: str) -> str:
    return prefix + path[1:] if path.startswith("$") else f"{prefix}.{path}"


def collect_problems(exc: BaseException, path: str, out: list[Problem], kinds: list[type]) -> None:
    if isinstance(exc, InvalidInput):
        kinds.append(type(exc))
        out.extend(Problem(_join(path, p.path), p.message) for p in exc.problems)
    elif isinstance(exc, (ClassValidationError, IterableValidationError)):
        with_notes, without_notes = exc.group_exceptions()
        for inner, note in with_notes:
            if isinstance(note, AttributeValidationNote):
                inner_path = f"{path}.{note.name}"
            else:
                inner_path = f"{path}[{note.index}]"
            collect_problems(inner, inner_path, out, kinds)
        for inner in without_notes:
            collect_problems(inner, path, out, kinds)
    elif isinstance(exc, KeyError):
        out.append(Problem(path, "required key is missing"))
    else:
        out.append(Problem(path, str(exc) or type(exc).__name__))


def as_invalid_input(exc: BaseException) -> InvalidInput:
    problems: list[Problem] = []
    kinds: list[type] = []
    collect_problems(exc, "$", problems, kinds)
    special = next((k for k in kinds if k is InvalidExecutionShape), InvalidInput)
    return special(problems)


def expected(kind: str, value: object) -> InvalidInput:
    return InvalidInput.single("$", f"expected {kind}, got {describe_value(value)}")
