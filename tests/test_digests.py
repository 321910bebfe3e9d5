"""Fixture digests: the value is pinned, computed once per fixture object, never stale."""

from __future__ import annotations

import gc
import hashlib
import json

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from awaken_eval import ChatResponseEvent, Fixture, TokenUsage, to_builtins
from awaken_eval._wire.digests import _CACHE, _canonical_encoder
from awaken_eval.errors import DuplicateItemKeys
from awaken_eval.wire import fixture_digest, fixture_digests
from strategies import fixtures


def reference_digest(fixture: Fixture) -> str:
    """The digest as first specified (uncached): SHA-256 of the sorted, compact wire form."""
    canonical = json.dumps(
        to_builtins(fixture), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_digest_value_is_pinned() -> None:
    fixture = Fixture(
        "pinned",
        "Grüß dich",
        provider_script=(ChatResponseEvent("hallo", tokens=TokenUsage(prompt_tokens=3)),),
    )

    expected = "d3f35dd784955227f339ad1d2566998e1d2a323f95bf383cc13f4a317dbfdd45"
    assert (expected, expected) == (reference_digest(fixture), fixture_digest(fixture))


# Generating whole fixtures is slow on a loaded machine: no deadline, no speed check.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fixtures())
def test_cached_digest_equals_the_computed_one(fixture: Fixture) -> None:
    first = fixture_digest(fixture)
    second = fixture_digest(fixture)

    assert (reference_digest(fixture), first) == (first, second)


@settings(max_examples=60)
@given(fixtures(), st.text(min_size=1, max_size=8))
def test_a_changed_fixture_gets_a_new_digest(fixture: Fixture, suffix: str) -> None:
    before = fixture_digest(fixture)
    changed = attrs.evolve(fixture, user_input=fixture.user_input + suffix)

    assert (reference_digest(changed), True) == (
        fixture_digest(changed),
        before != fixture_digest(changed),
    )


@settings(max_examples=30)
@given(fixtures())
def test_an_equal_fixture_object_gets_the_same_digest(fixture: Fixture) -> None:
    copy = attrs.evolve(fixture)

    assert fixture_digest(fixture) == fixture_digest(copy)


def test_digests_by_id_come_from_the_same_cache() -> None:
    first, second = Fixture("a", "one"), Fixture("b", "two")

    digests = fixture_digests([first, second])

    assert {"a": fixture_digest(first), "b": fixture_digest(second)} == digests
    assert {"a": reference_digest(first), "b": reference_digest(second)} == digests


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(DuplicateItemKeys, match="duplicate fixture id in dataset: a"):
        fixture_digests([Fixture("a", "one"), Fixture("a", "two")])


def test_a_collected_fixture_leaves_the_cache() -> None:
    fixture = Fixture("short-lived", "ping")
    fixture_digest(fixture)
    before = len(_CACHE)

    del fixture
    gc.collect()

    assert before - 1 == len(_CACHE)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200)
@given(value=_JSON)
def test_canonical_encoder_writes_what_json_dumps_writes(value: object) -> None:
    expected = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert expected == _canonical_encoder(json)(value)
