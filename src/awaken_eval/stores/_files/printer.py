"""The byte-exact JSON printer of run files.

A run file is exactly ``json.dumps(document, indent=2, ensure_ascii=False,
allow_nan=False)`` encoded as UTF-8 (the reference's pretty printer layout), but
written one item at a time, so the whole document never exists in memory, and
without the reference cycles the standard library's indenting encoder creates (it
runs with the garbage collector paused).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from json.encoder import encode_basestring as _encode_str
from typing import IO, Any

import attrs

from awaken_eval._records.runs import EvalRun, EvalRunItem
from awaken_eval._wire.converter import to_builtins
from awaken_eval.stores._files.checks import check_readable

__all__ = ["ITEM_INDENT", "TOP_INDENT", "pretty", "write_document", "write_run_document"]

TOP_INDENT = "\n  "
"""A newline and the indent of the top-level keys of a pretty-printed document."""

ITEM_INDENT = "\n    "
"""A newline and the indent of the items of a pretty-printed run."""

_FLUSH_CHUNKS = 1024
"""Text chunks gathered before they are encoded and handed to the file."""


def _json_key(key: Any) -> str:
    """An object key as ``json.dumps`` writes it (non-string scalars are converted)."""
    if isinstance(key, str):
        return _encode_str(key)
    if key is True or key is False or key is None:
        return _encode_str(json.dumps(key))
    if isinstance(key, int):
        return _encode_str(int.__repr__(key))
    if isinstance(key, float):
        return _encode_str(_float_text(key))
    msg = f"keys must be str, int, float, bool or None, not {type(key).__name__}"
    raise TypeError(msg)


def _float_text(value: float) -> str:
    if value != value or value in (math.inf, -math.inf):  # noqa: PLR0124 - NaN check
        msg = f"Out of range float values are not JSON compliant: {value!r}"
        raise ValueError(msg)
    return float.__repr__(value)


def pretty(value: Any, indent: str, out: Callable[[str], object]) -> None:
    """Append ``value`` pretty-printed (``indent`` is a newline and the current indent).

    The text is exactly what ``json.dumps(value, indent=2, ensure_ascii=False,
    allow_nan=False)`` writes, which is the reference's pretty printer layout; unlike
    the standard library's indenting encoder it creates no reference cycles, so it
    leaves nothing behind while the garbage collector is paused.
    """
    kind = type(value)
    if kind is str:
        out(_encode_str(value))
    elif kind is dict:
        _pretty_object(value, indent, out)
    elif kind is list or kind is tuple:
        _pretty_array(value, indent, out)
    elif isinstance(value, dict):
        _pretty_object(dict(value), indent, out)
    elif isinstance(value, (list, tuple)):
        _pretty_array(list(value), indent, out)
    else:
        out(_scalar_text(value))


def _pretty_object(value: dict[Any, Any], indent: str, out: Callable[[str], object]) -> None:
    if not value:
        out("{}")
        return
    inner = indent + "  "
    separator = "{" + inner
    for key, member in value.items():
        head = separator + (_encode_str(key) if type(key) is str else _json_key(key)) + ": "
        separator = "," + inner
        text = _SCALAR_TEXT.get(type(member))
        if text is None:
            out(head)
            pretty(member, inner, out)
        else:  # one call fewer for the leaves, which are most of a run's values
            out(head + text(member))
    out(indent + "}")


def _pretty_array(value: Sequence[Any], indent: str, out: Callable[[str], object]) -> None:
    if not value:
        out("[]")
        return
    inner = indent + "  "
    separator = "[" + inner
    for member in value:
        text = _SCALAR_TEXT.get(type(member))
        if text is None:
            out(separator)
            pretty(member, inner, out)
        else:
            out(separator + text(member))
        separator = "," + inner
    out(indent + "]")


def _scalar_text(value: Any) -> str:
    """A JSON scalar as ``json.dumps`` writes it (subclasses of str/int/float too)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _encode_str(value)
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        return _float_text(value)
    msg = f"Object of type {type(value).__name__} is not JSON serializable"
    raise TypeError(msg)


_SCALAR_TEXT: dict[type, Callable[[Any], str]] = {
    str: _encode_str,
    int: int.__repr__,
    float: _float_text,
    bool: lambda value: "true" if value else "false",
    type(None): lambda _: "null",
}
"""How the scalars of exactly these types are written (subclasses go through pretty)."""


def write_run_document(handle: IO[bytes], skeleton: dict[str, Any], items: Iterable[Any]) -> None:
    """Write a run document pretty-printed, its items taken one at a time from ``items``.

    Args:
        handle: Where the UTF-8 bytes go.
        skeleton: The builtins of the run without items (its ``items`` key is kept and
            says where the items go).
        items: The builtins of each item, in order, each dropped once written.
    """
    chunks: list[str] = []
    out = chunks.append

    def flush() -> None:
        handle.write("".join(chunks).encode())
        chunks.clear()

    separator = "{" + TOP_INDENT
    for key, value in skeleton.items():
        out(separator + _json_key(key) + ": ")
        separator = "," + TOP_INDENT
        if key != "items":
            pretty(value, TOP_INDENT, out)
            continue
        item_separator = "[" + ITEM_INDENT
        for document in items:
            out(item_separator)
            item_separator = "," + ITEM_INDENT
            pretty(document, ITEM_INDENT, out)
            if len(chunks) >= _FLUSH_CHUNKS:
                flush()
        out("[]" if item_separator.startswith("[") else TOP_INDENT + "]")
    out("\n}")
    flush()


def write_document(handle: IO[bytes], run: EvalRun, *, check_items: bool = False) -> None:
    """Write ``run`` pretty-printed, one item at a time.

    The bytes are exactly ``to_json(run, pretty=True)`` encoded as UTF-8, but the whole
    document never exists in memory: only the builtins of one item at a time.

    Args:
        handle: Where the bytes go.
        run: The run.
        check_items: Check that each item reads back (see
            :func:`~awaken_eval.stores._files.checks.check_readable`).
    """
    source = f"eval run {run.id}"

    def documents() -> Iterator[Any]:
        for index, item in enumerate(run.items):
            document = to_builtins(item)
            if check_items:
                check_readable(EvalRunItem, document, f"$.items[{index}]", source)
            yield document

    write_run_document(handle, to_builtins(attrs.evolve(run, items=())), documents())
