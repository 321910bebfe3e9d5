"""Behaviour tests for run ids: minting ULIDs and validating ids (spec §2.3, §3.3)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from awaken_eval import AwakenEvalError
from awaken_eval._engine import run_ids as ids_module
from awaken_eval._records.ids import CROCKFORD_ALPHABET
from awaken_eval.engine import mint_run_id
from awaken_eval.errors import InvalidRunId
from awaken_eval.records import validate_run_id


def _decode(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + CROCKFORD_ALPHABET.index(char)
    return value


def _timestamp_ms(run_id: str) -> int:
    return _decode(run_id[:10])


@pytest.fixture
def fresh_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give mint_run_id a fresh per-process state (restored after the test)."""
    monkeypatch.setattr(ids_module, "_STATE", ids_module._UlidState())


def _clock(monkeypatch: pytest.MonkeyPatch, values_ms: Iterator[int]) -> None:
    fake_time = SimpleNamespace(time_ns=lambda: next(values_ms) * 1_000_000)
    monkeypatch.setattr(ids_module, "time", fake_time)


# -- minting ---------------------------------------------------------------------------


def test_crockford_alphabet_excludes_ambiguous_letters() -> None:
    assert "0123456789ABCDEFGHJKMNPQRSTVWXYZ" == CROCKFORD_ALPHABET


def test_mint_run_id_has_26_chars() -> None:
    assert 26 == len(mint_run_id())


def test_mint_run_id_uses_crockford_alphabet_only() -> None:
    for _ in range(200):
        run_id = mint_run_id()
        assert set() == set(run_id) - set(CROCKFORD_ALPHABET)


def test_two_mints_differ() -> None:
    assert mint_run_id() != mint_run_id()


def test_consecutive_mints_are_strictly_increasing() -> None:
    minted = [mint_run_id() for _ in range(10_000)]

    assert sorted(set(minted)) == minted  # strictly increasing: sorted and no repeats


@pytest.mark.usefixtures("fresh_state")
def test_mint_run_id_timestamp_prefix_is_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    run_id = mint_run_id()
    after = time.time_ns() // 1_000_000

    assert before <= _timestamp_ms(run_id) <= after


@pytest.mark.usefixtures("fresh_state")
def test_mints_within_one_millisecond_are_monotonic(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen_ms = 1_700_000_000_000
    _clock(monkeypatch, iter(lambda: frozen_ms, None))

    minted = [mint_run_id() for _ in range(1_000)]

    assert sorted(set(minted)) == minted
    assert {frozen_ms} == {_timestamp_ms(run_id) for run_id in minted}
    tails = [_decode(run_id[10:]) for run_id in minted]
    assert list(range(tails[0], tails[0] + 1_000)) == tails


@pytest.mark.usefixtures("fresh_state")
def test_mints_stay_monotonic_when_clock_goes_backwards(monkeypatch: pytest.MonkeyPatch) -> None:
    start_ms = 1_700_000_000_000
    _clock(monkeypatch, iter(range(start_ms, start_ms - 100, -1)))

    minted = [mint_run_id() for _ in range(100)]

    assert sorted(set(minted)) == minted
    assert {start_ms} == {_timestamp_ms(run_id) for run_id in minted}


@pytest.mark.usefixtures("fresh_state")
def test_mints_follow_the_clock_forward_after_it_went_backwards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _clock(monkeypatch, iter([5_000, 4_000, 6_000]))

    first, second, third = mint_run_id(), mint_run_id(), mint_run_id()

    assert [5_000, 5_000, 6_000] == [_timestamp_ms(x) for x in (first, second, third)]
    assert first < second < third


@pytest.mark.usefixtures("fresh_state")
def test_random_part_overflow_borrows_the_next_millisecond(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    frozen_ms = 1_700_000_000_000
    ids_module._STATE.last_ms = frozen_ms
    ids_module._STATE.last_random = (1 << 80) - 1
    _clock(monkeypatch, iter(lambda: frozen_ms, None))

    run_id = mint_run_id()

    assert frozen_ms + 1 == _timestamp_ms(run_id)


@pytest.mark.usefixtures("fresh_state")
def test_ids_within_one_millisecond_spell_their_value_across_the_reused_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The random part crosses the boundary of the last four digits (2**20) and later
    # carries into the timestamp: every id must still spell (ms << 80) | random.
    frozen_ms = 1_700_000_000_000
    ids_module._STATE.last_ms = frozen_ms
    ids_module._STATE.last_random = (1 << 20) - 3
    _clock(monkeypatch, iter(lambda: frozen_ms, None))

    values = [_decode(mint_run_id()) for _ in range(6)]
    ids_module._STATE.last_random = (1 << 80) - 2
    values += [_decode(mint_run_id()) for _ in range(2)]

    start = (frozen_ms << 80) | ((1 << 20) - 2)
    assert [start + step for step in range(6)] == values[:6]
    assert (frozen_ms << 80) | ((1 << 80) - 1) == values[6]
    assert frozen_ms + 1 == values[7] >> 80


def test_mint_run_id_is_thread_safe() -> None:
    # Switch threads as often as possible so an unguarded read-modify-write shows up.
    previous_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    per_thread = 2_000
    results: list[list[str]] = [[] for _ in range(4)]
    barrier = threading.Barrier(len(results))

    def mint_many(out: list[str]) -> None:
        barrier.wait()
        out.extend(mint_run_id() for _ in range(per_thread))

    threads = [threading.Thread(target=mint_many, args=(out,)) for out in results]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous_interval)

    everything = [run_id for out in results for run_id in out]
    assert len(results) * per_thread == len(set(everything))
    for out in results:
        assert sorted(out) == out


# -- validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "run_id", ["", ".", "..", "a/b", "a\\b", "a\0b", "../escape", "/", "\\", "\0"]
)
def test_validate_run_id_rejects_unsafe_ids(run_id: str) -> None:
    with pytest.raises(InvalidRunId) as caught:
        validate_run_id(run_id)

    assert run_id == caught.value.run_id
    assert caught.value.reason != ""
    assert caught.value.reason in str(caught.value)


@pytest.mark.parametrize(
    "run_id",
    ["with space", "01ABC", "...", ".hidden", "a..b", "ünïcode", "01JD3R8Q5YF6W9S2C4T0B7M1NA"],
)
def test_validate_run_id_accepts_and_returns_other_ids(run_id: str) -> None:
    assert run_id == validate_run_id(run_id)


def test_validate_run_id_accepts_minted_ids() -> None:
    run_id = mint_run_id()

    assert run_id == validate_run_id(run_id)


def test_invalid_run_id_carries_run_id_and_reason() -> None:
    error = InvalidRunId("a/b", "must not contain '/'")

    assert "a/b" == error.run_id
    assert "must not contain '/'" == error.reason
    assert isinstance(error, AwakenEvalError)
    assert isinstance(error, ValueError)
