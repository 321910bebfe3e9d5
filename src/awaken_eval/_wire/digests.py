"""Fixture content digests: a stable hash of each fixture's canonical JSON.

Runs record them, so that a baseline is never compared with a changed fixture as if
it were the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from awaken_eval._records.fixtures import Fixture
from awaken_eval._wire.converter import to_builtins
from awaken_eval.errors import DuplicateItemKeys

__all__ = ["fixture_digest", "fixture_digests"]


def fixture_digest(fixture: Fixture) -> str:
    """A stable content hash of ``fixture``.

    The SHA-256 (hex) of the fixture's canonical JSON: its wire form (defaults omitted,
    as written by :func:`~awaken_eval.to_json`) dumped with sorted keys, no
    whitespace and unescaped non-ASCII text. Two fixtures have the same digest exactly
    when their wire forms are equal, whatever the key order of the files they came
    from; a new optional field left at its default does not change existing digests.

    Args:
        fixture: The fixture to hash.

    Returns:
        64 lowercase hexadecimal characters.
    """
    canonical = json.dumps(
        to_builtins(fixture), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def fixture_digests(fixtures: Iterable[Fixture]) -> dict[str, str]:
    """The digest of every fixture, by fixture id, in input order.

    Args:
        fixtures: The fixtures of a run (ids must be unique).

    Returns:
        ``{fixture id: fixture_digest(fixture)}``, ready for
        :attr:`~awaken_eval.EvalRun.fixture_digests`.

    Raises:
        DuplicateItemKeys: ``duplicate fixture id in dataset: <id>`` when two fixtures
            share an id (their digests could not both be recorded).
    """
    digests: dict[str, str] = {}
    for fixture in fixtures:
        if fixture.id in digests:
            msg = f"duplicate fixture id in dataset: {fixture.id}"
            raise DuplicateItemKeys(msg)
        digests[fixture.id] = fixture_digest(fixture)
    return digests
