"""Fixture content digests: a stable hash of each fixture's canonical JSON.

Runs record them, so that a baseline is never compared with a changed fixture as if
it were the same.

A digest is computed once per fixture object and remembered for as long as the object
lives (fixtures are frozen records), so a dataset run many times, or a run whose
service already digested its fixtures, hashes each fixture once.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from awaken_eval._wire.json import MAX_DEPTH
from awaken_eval.errors import DuplicateItemKeys, InvalidInput

if TYPE_CHECKING:
    from types import ModuleType

    from awaken_eval._records.fixtures import Fixture

__all__ = ["fixture_digest", "fixture_digests"]


def _canonical_encoder(json: ModuleType) -> Callable[[Any], str]:
    """``json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``.

    The C encoder ``json.JSONEncoder.encode`` itself uses, called directly: without the
    Python-level wrapper and the circular-reference bookkeeping (a fixture's builtins
    are a tree), about a third cheaper; the same text.
    """
    make: Callable[..., Callable[[Any, int], Iterable[str]]] | None = getattr(
        json.encoder, "c_make_encoder", None
    )
    if make is None:  # an interpreter without the C accelerator
        plain: Callable[[Any], str] = json.JSONEncoder(
            sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True
        ).encode
        return plain
    sort_keys, skipkeys, allow_nan = True, False, True
    markers = indent = None  # no circular-reference check (a tree); compact
    encoder = make(
        markers,
        json.JSONEncoder().default,
        json.encoder.encode_basestring,  # ensure_ascii=False
        indent,
        ":",
        ",",
        sort_keys,
        skipkeys,
        allow_nan,
    )

    def encode(value: Any) -> str:
        return "".join(encoder(value, 0))

    return encode


class _Entry(weakref.ref):  # type: ignore[type-arg] # a weak reference to a Fixture
    """A cache entry: a weak reference to the fixture, carrying its key and digest."""

    __slots__ = ("digest", "key")

    key: int
    digest: str


class _DigestCache:
    """Digests by fixture *identity*, dropped when the fixture is garbage collected.

    Fixtures are not reliably hashable (their JSON values may hold dicts) and two equal
    fixtures hash alike anyway, so the key is ``id(fixture)``; the entry, a weak
    reference, checks that it still belongs to that object and removes itself when the
    object dies (one small object per fixture, no closure).
    """

    def __init__(self) -> None:
        self.entries: dict[int, _Entry] = {}

    def get(self, fixture: Fixture) -> str | None:
        entry = self.entries.get(id(fixture))
        if entry is None or entry() is not fixture:
            return None
        return entry.digest

    def put(self, fixture: Fixture, digest: str) -> None:
        entry = _Entry(fixture, self._forget)
        entry.key = id(fixture)
        entry.digest = digest
        self.entries[entry.key] = entry

    def _forget(self, entry: _Entry) -> None:
        if self.entries.get(entry.key) is entry:
            del self.entries[entry.key]

    def __len__(self) -> int:
        return len(self.entries)


_CACHE = _DigestCache()


@functools.cache
def _hasher() -> Callable[[Fixture], str]:
    """The function computing a fixture's digest, built on the first digest computed.

    Its modules are imported then, not with this module: the runner imports it, and a
    run whose digests are known (or a CLI's ``--help``) never needs cattrs, :mod:`json`
    or :mod:`hashlib`.
    """
    import hashlib  # noqa: PLC0415 - see the docstring
    import json  # noqa: PLC0415 - see the docstring

    from awaken_eval._wire.converter import to_builtins  # noqa: PLC0415 - see the docstring

    canonical = _canonical_encoder(json)
    sha256 = hashlib.sha256

    def compute(fixture: Fixture) -> str:
        return sha256(canonical(to_builtins(fixture)).encode("utf-8")).hexdigest()

    return compute


def fixture_digest(fixture: Fixture) -> str:
    """A stable content hash of ``fixture``.

    The SHA-256 (hex) of the fixture's canonical JSON: its wire form (defaults omitted,
    as written by :func:`~awaken_eval.to_json`) dumped with sorted keys, no
    whitespace and unescaped non-ASCII text. Two fixtures have the same digest exactly
    when their wire forms are equal, whatever the key order of the files they came
    from; a new optional field left at its default does not change existing digests.

    The digest is computed once per fixture object and remembered while the object
    lives: a fixture is a frozen value, so the JSON values it holds (tool arguments,
    recorded results) must not be mutated in place once it has been digested.

    Args:
        fixture: The fixture to hash.

    Returns:
        64 lowercase hexadecimal characters.
    """
    digest = _CACHE.get(fixture)
    if digest is None:
        digest = _checked(_hasher(), fixture)
        _CACHE.put(fixture, digest)
    return digest


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
    entries = _CACHE.entries  # looked up inline: this loop runs once per fixture of a run
    compute: Callable[[Fixture], str] | None = None
    for fixture in fixtures:
        fixture_id = fixture.id
        if fixture_id in digests:
            msg = f"duplicate fixture id in dataset: {fixture_id}"
            raise DuplicateItemKeys(msg)
        entry = entries.get(id(fixture))
        if entry is not None and entry() is fixture:
            digests[fixture_id] = entry.digest
            continue
        if compute is None:
            compute = _hasher()
        digest = _checked(compute, fixture)
        _CACHE.put(fixture, digest)
        digests[fixture_id] = digest
    return digests


def _checked(compute: Callable[[Fixture], str], fixture: Fixture) -> str:
    """``compute(fixture)``; a fixture JSON cannot carry is an InvalidInput naming it.

    A fixture built in code (not loaded) may hold a free-form value nested deeper than
    :data:`~awaken_eval.wire.MAX_DEPTH`, a non-finite number or a lone surrogate.
    """
    try:
        return compute(fixture)
    except (RecursionError, ValueError):
        from awaken_eval._wire.converter import to_builtins  # noqa: PLC0415
        from awaken_eval._wire.json import check_value  # noqa: PLC0415

        try:
            check_value(to_builtins(fixture))
        except InvalidInput as exc:
            raise exc.located(source=f"fixture {fixture.id}") from None
        except RecursionError:
            msg = f"nested deeper than {MAX_DEPTH} levels"
            raise InvalidInput.single("$", msg).located(source=f"fixture {fixture.id}") from None
        raise
