"""Run ids: ULIDs minted from the clock and the operating system's randomness."""

from __future__ import annotations

import os
import threading
import time

from awaken_eval._records.ids import CROCKFORD_ALPHABET

__all__ = ["mint_run_id"]

_RANDOM_BITS = 80
_RANDOM_MAX = (1 << _RANDOM_BITS) - 1
_TIME_MAX = (1 << 48) - 1


class _UlidState:
    """Last minted (millisecond, random) pair, shared by every thread of the process.

    It also keeps the text of the last id's first 22 digits (``prefix``, the digits of
    ``value >> 20``): ids minted in one millisecond differ only in their last digits,
    so most ids encode 4 digits, not 26.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_ms = -1
        self.last_random = 0
        self.prefix_value = -1
        self.prefix = ""


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
    state = _STATE
    with state.lock:
        if now_ms > state.last_ms:
            ms = now_ms
            rand = int.from_bytes(os.urandom(10), "big")
        else:
            ms = state.last_ms
            rand = state.last_random + 1
            if rand > _RANDOM_MAX:  # 2**80 ids in one millisecond: borrow the next one
                ms += 1
                rand = int.from_bytes(os.urandom(10), "big")
        state.last_ms = ms
        state.last_random = rand
        value = (ms << _RANDOM_BITS) | rand
        high = value >> 20
        if high != state.prefix_value:
            state.prefix = _encode(high << 20)[:22]
            state.prefix_value = high
        pairs = _DIGIT_PAIRS
        return state.prefix + pairs[(value >> 10) & 1023] + pairs[value & 1023]
