"""Annotated integer and JSON types shared by the records.

``U32``/``U64`` are plain ``int`` for type checkers; the wire converter enforces their
ranges when reading JSON (the reference stores these as unsigned 32/64-bit integers).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

import attrs

__all__ = [
    "U32",
    "U32_MAX",
    "U64",
    "U64_MAX",
    "JsonValue",
    "Unsigned",
]

U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1


@attrs.frozen
class Unsigned:
    """Marker: the annotated ``int`` is an unsigned integer of ``bits`` bits."""

    bits: int

    @property
    def maximum(self) -> int:
        """Largest value representable in ``bits`` bits."""
        return (1 << self.bits) - 1


U32: TypeAlias = Annotated[int, Unsigned(32)]
U64: TypeAlias = Annotated[int, Unsigned(64)]
JsonValue: TypeAlias = Any
"""Any JSON value: ``None``, bool, int, float, str, list or dict with str keys."""
