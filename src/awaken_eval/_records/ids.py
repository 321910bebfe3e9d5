"""Identifiers: typed entity references, run/session/turn ids, ULID run ids.

``validate_run_id`` implements the run-id rules every run store
shares (spec §3.3).
"""

from __future__ import annotations

from typing import NewType

import attrs

from awaken_eval.errors import InvalidRunId

__all__ = [
    "CROCKFORD_ALPHABET",
    "EntityRef",
    "RunId",
    "SessionId",
    "TurnId",
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


def _is_utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def validate_run_id(run_id: str) -> str:
    """Check that ``run_id`` can name a run in any store, and return it.

    A run id must be non-empty, must not be exactly ``.`` or ``..`` and must not contain
    ``/``, ``\\`` or NUL, nor a lone surrogate. Everything else (spaces included) is
    allowed.

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
    if not run_id.isascii() and not _is_utf8(run_id):
        raise InvalidRunId(run_id, "must not contain a lone surrogate (it is not valid text)")
    return run_id
