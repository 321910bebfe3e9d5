"""Identifiers: typed entity references, run/session/turn ids, ULID run ids.

``mint_run_id`` reads the clock and the operating system's randomness; it is the only
impure function here. ``validate_run_id`` implements the run-id rules every run store
shares (spec §3.3).
"""

from __future__ import annotations

import os
import threading
import time
from typing import NewType

import attrs

from awaken_eval.errors import InvalidRunId

__all__ = [
    "CROCKFORD_ALPHABET",
    "EntityRef",
    "RunId",
    "SessionId",
    "TurnId",
    "mint_run_id",
    "validate_run_id",
]

RunId = NewType("RunId", str)
"""Identifier of one agent run (used for lineage, filtering, replay and dedupe)."""

SessionId = NewType("SessionId", str)
"""Host-provided identifier grouping related turns into a session."""

TurnId = NewType("TurnId", str)
"""Identifier of one loop turn within a run."""


@attrs.frozen
class EntityRef:
    """A small typed reference to an entity owned by the host.

    Attributes:
        kind: What sort of entity this is, e.g. ``"run"``, ``"document"``, ``"ticket"``.
        id: The entity's identifier within its kind.
    """

    kind: str
    id: str


CROCKFORD_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
"""Crockford base32 alphabet used by ULIDs (no I, L, O, U)."""

_RANDOM_BITS = 80
_RANDOM_MAX = (1 << _RANDOM_BITS) - 1
_TIME_MAX = (1 << 48) - 1


class _UlidState:
    """Last minted (millisecond, random) pair, shared by every thread of the process."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_ms = -1
        self.last_random = 0


_STATE = _UlidState()


_DIGIT_PAIRS = tuple(high + low for high in CROCKFORD_ALPHABET for low in CROCKFORD_ALPHABET)
_PAIR_SHIFTS = tuple(range(120, -1, -10))


def _encode(value: int) -> str:
    """``value`` (< 2**130) as 26 Crockford base32 digits, most significant first."""
    pairs = _DIGIT_PAIRS
    return "".join([pairs[(value >> shift) & 1023] for shift in _PAIR_SHIFTS])


def mint_run_id() -> str:
    """Mint a fresh run id: a 26-character Crockford-base32 ULID.

    The first 10 characters encode the current Unix time in milliseconds, the last 16
    are random. Ids minted by one process are strictly increasing, even within one
    millisecond (the random part is incremented) and even if the wall clock steps
    back (the last timestamp is reused), so sorting ids sorts runs by creation.

    Returns:
        The new id, e.g. ``"01JD3R8Q5YF6W9S2C4T0B7M1NA"``.
    """
    now_ms = min(time.time_ns() // 1_000_000, _TIME_MAX)
    with _STATE.lock:
        if now_ms > _STATE.last_ms:
            ms = now_ms
            rand = int.from_bytes(os.urandom(10), "big")
        else:
            ms = _STATE.last_ms
            rand = _STATE.last_random + 1
            if rand > _RANDOM_MAX:  # 2**80 ids in one millisecond: borrow the next one
                ms += 1
                rand = int.from_bytes(os.urandom(10), "big")
        _STATE.last_ms = ms
        _STATE.last_random = rand
    return _encode((ms << _RANDOM_BITS) | rand)


def validate_run_id(run_id: str) -> str:
    """Check that ``run_id`` can name a run in any store, and return it.

    A run id must be non-empty, must not be exactly ``.`` or ``..`` and must not contain
    ``/``, ``\\`` or NUL. Everything else (spaces included) is allowed.

    Raises:
        InvalidRunId: when a rule is broken; ``reason`` says which.
    """
    if not run_id:
        raise InvalidRunId(run_id, "must not be empty")
    if run_id in {".", ".."}:
        raise InvalidRunId(run_id, "must not be '.' or '..'")
    for char, name in (("/", "'/'"), ("\\", "'\\\\'"), ("\0", "NUL")):
        if char in run_id:
            raise InvalidRunId(run_id, f"must not contain {name}")
    return run_id
