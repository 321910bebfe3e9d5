"""Behaviour tests for baseline comparability and fixture digests (spec §4.7, DESIGN §9)."""

from __future__ import annotations

import hashlib
import json

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as s
from awaken_eval import (
    EvalRun,
    EvalRunExecutionMode,
    Expectation,
    Fixture,
    InvalidRequest,
    from_builtins,
    from_json,
    to_builtins,
    to_json,
)
from awaken_eval.analysis import ADHOC_DATASET_ID, BaselineCheck, NewRunMeta, validate_baseline
from awaken_eval.errors import DuplicateItemKeys
from awaken_eval.wire import fixture_digest, fixture_digests
from builders import item, run

LIVE = EvalRunExecutionMode.LIVE
SCRIPTED = EvalRunExecutionMode.SCRIPTED


TWO_SAMPLES = run(
    items=(
        item(fixture_id="a", sample_index=0, model="m1"),
        item(fixture_id="a", sample_index=1, model="m1"),
    ),
    run_id="base-1",
    dataset_revision=3,
)
"""A live baseline with two samples of fixture ``a``."""


def scripted(
    *fixture_ids: str,
    run_id: str = "base-1",
    dataset_id: str = "ds",
    digests: dict[str, str] | None = None,
) -> EvalRun:
    items = (item(fixture_id=f) for f in fixture_ids)
    return run(
        items=items,
        run_id=run_id,
        dataset_id=dataset_id,
        fixture_digests=digests,
        dataset_revision=3,
    )


def meta(
    dataset_id: str = "ds",
    revision: int = 3,
    mode: EvalRunExecutionMode = SCRIPTED,
    *,
    samples: int | None = None,
    fixture_digests: dict[str, str] | None = None,
) -> NewRunMeta:
    return NewRunMeta(
        dataset_id, revision, mode, samples=samples, fixture_digests=fixture_digests or {}
    )


# -- fixture digests -------------------------------------------------------------------------


def test_fixture_digest_is_sha256_of_canonical_json() -> None:
    fixture = Fixture("greet", "héllo", expect=Expectation(final_answer_contains=("hi",)))
    canonical = json.dumps(
        to_builtins(fixture), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert fixture_digest(fixture) == hashlib.sha256(canonical.encode()).hexdigest()
    assert len(fixture_digest(fixture)) == 64


def test_fixture_digest_ignores_key_order_of_the_source_document() -> None:
    a: Fixture = from_json(
        Fixture, '{"id": "f", "user_input": "hi", "expect": {"max_tokens_total": 5}}'
    )
    b: Fixture = from_json(
        Fixture, '{"expect": {"max_tokens_total": 5}, "user_input": "hi", "id": "f"}'
    )
    assert fixture_digest(a) == fixture_digest(b)


def test_fixture_digest_changes_with_content() -> None:
    fixture = Fixture("f", "hi")
    edited = attrs.evolve(fixture, expect=Expectation(final_answer_contains=("hello",)))
    assert fixture_digest(fixture) != fixture_digest(edited)


@given(s.fixtures())
def test_fixture_digest_is_stable_across_a_round_trip(fixture: Fixture) -> None:
    assert fixture_digest(from_json(Fixture, to_json(fixture))) == fixture_digest(fixture)


def test_fixture_digests_maps_ids_in_order() -> None:
    fixtures = [Fixture("b", "1"), Fixture("a", "2")]
    digests = fixture_digests(fixtures)
    assert list(digests) == ["b", "a"]
    assert digests["a"] == fixture_digest(fixtures[1])


def test_fixture_digests_rejects_duplicate_ids() -> None:
    with pytest.raises(DuplicateItemKeys, match="duplicate fixture id in dataset: a"):
        fixture_digests([Fixture("a", "1"), Fixture("a", "2")])


# -- digests on EvalRun ----------------------------------------------------------------------


def test_run_digests_round_trip() -> None:
    digests = {"a": "0" * 64, "b": "f" * 64}
    original = scripted("a", "b", digests=digests)
    data = to_builtins(original)
    assert data["fixture_digests"] == digests
    assert list(data)[-1] == "fixture_digests"
    assert from_json(EvalRun, to_json(original)) == original


def test_run_without_digests_omits_the_key() -> None:
    assert "fixture_digests" not in to_builtins(scripted("a"))


def test_run_document_without_digests_loads() -> None:
    document = {
        "id": "r",
        "dataset_id": "ds",
        "dataset_revision": 1,
        "execution_mode": "scripted",
        "items": [],
        "started_at_secs": 1,
        "ended_at_secs": 2,
    }
    assert from_builtins(EvalRun, document).fixture_digests == {}


def test_run_with_digests_stays_hashable() -> None:
    assert hash(scripted("a", digests={"a": "x"})) == hash(scripted("a"))


@given(s.eval_runs(), st.dictionaries(s.fixture_ids(), st.text(max_size=8), max_size=3))
def test_generated_runs_with_digests_round_trip(base: EvalRun, digests: dict[str, str]) -> None:
    original = attrs.evolve(base, fixture_digests=digests)
    assert from_json(EvalRun, to_json(original)) == original


# -- §4.7 steps, each on its own ---------------------------------------------------------------


def test_comparable_runs_pass() -> None:
    assert validate_baseline(scripted("a", "b"), meta()) == BaselineCheck(baseline_run_id="base-1")


@pytest.mark.parametrize(("baseline_ds", "new_ds"), [(ADHOC_DATASET_ID, "ds"), ("ds", "_adhoc")])
def test_ad_hoc_runs_are_rejected(baseline_ds: str, new_ds: str) -> None:
    with pytest.raises(InvalidRequest, match="ad-hoc"):
        validate_baseline(scripted("a", dataset_id=baseline_ds), meta(dataset_id=new_ds))


def test_ad_hoc_rejected_even_when_both_are_ad_hoc() -> None:
    with pytest.raises(InvalidRequest, match="ad-hoc"):
        validate_baseline(scripted("a", dataset_id="_adhoc"), meta(dataset_id="_adhoc"))


def test_different_datasets_are_rejected() -> None:
    with pytest.raises(InvalidRequest, match="cannot diff across datasets: ") as caught:
        validate_baseline(scripted("a"), meta(dataset_id="other"))
    assert "other" in str(caught.value)


def test_different_revisions_are_rejected() -> None:
    with pytest.raises(InvalidRequest, match="cannot diff across dataset revisions") as caught:
        validate_baseline(scripted("a"), meta(revision=4))
    assert "3" in str(caught.value)
    assert "4" in str(caught.value)


def test_different_modes_are_rejected() -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_baseline(scripted("a"), meta(mode=LIVE))
    assert "cannot diff across execution modes: baseline=scripted new=live" in str(caught.value)


def test_different_sample_counts_are_rejected() -> None:
    baseline = TWO_SAMPLES
    with pytest.raises(InvalidRequest, match="different sample counts"):
        validate_baseline(baseline, meta(mode=LIVE, samples=3))
    assert validate_baseline(baseline, meta(mode=LIVE, samples=2)).baseline_run_id == "base-1"
    validate_baseline(baseline, meta(mode=LIVE))  # unknown new count: not checked


def test_duplicate_baseline_keys_are_rejected_with_prefix() -> None:
    baseline = scripted("a", "b", "a", run_id="base-9")
    with pytest.raises(DuplicateItemKeys) as caught:
        validate_baseline(baseline, meta())
    message = str(caught.value)
    assert message.startswith("baseline run base-9: duplicate eval-run item key")
    assert caught.value.status == 400


# -- §4.7 order ----------------------------------------------------------------------------------


def test_ad_hoc_is_checked_before_dataset_mismatch() -> None:
    with pytest.raises(InvalidRequest, match="ad-hoc"):
        validate_baseline(scripted("a", dataset_id="_adhoc"), meta(dataset_id="ds"))


def test_dataset_is_checked_before_revision() -> None:
    with pytest.raises(InvalidRequest, match="across datasets"):
        validate_baseline(scripted("a"), meta(dataset_id="other", revision=9))


def test_revision_is_checked_before_mode() -> None:
    with pytest.raises(InvalidRequest, match="dataset revisions"):
        validate_baseline(scripted("a"), meta(revision=9, mode=LIVE))


def test_mode_is_checked_before_sample_count() -> None:
    baseline = TWO_SAMPLES
    with pytest.raises(InvalidRequest, match="execution modes"):
        validate_baseline(baseline, meta(mode=SCRIPTED, samples=5))


def test_sample_count_is_checked_before_key_uniqueness() -> None:
    baseline = run(
        items=(
            item(fixture_id="a", sample_index=0, model="m1"),
            item(fixture_id="a", sample_index=1, model="m1"),
            item(fixture_id="a", sample_index=1, model="m1"),
        ),
        mode=LIVE,
        run_id="base-1",
        dataset_revision=3,
    )
    with pytest.raises(InvalidRequest, match="different sample counts"):
        validate_baseline(baseline, meta(mode=LIVE, samples=3))
    with pytest.raises(DuplicateItemKeys, match="baseline run base-1: "):
        validate_baseline(baseline, meta(mode=LIVE, samples=2))


# -- digest comparison -----------------------------------------------------------------------------


def test_digests_not_compared_when_either_side_lacks_them() -> None:
    digests = {"a": "1"}
    for baseline_digests, new_digests in (({}, digests), (digests, {}), ({}, {})):
        check = validate_baseline(
            scripted("a", digests=baseline_digests), meta(fixture_digests=new_digests)
        )
        assert check == BaselineCheck(baseline_run_id="base-1")
        assert not check.fixtures_changed


def test_changed_added_and_removed_fixtures_are_reported() -> None:
    baseline = scripted("a", "b", "c", digests={"c": "3", "a": "1", "b": "2", "z": "9"})
    new = meta(fixture_digests={"a": "1", "b": "2*", "z": "9*", "d": "4"})
    check = validate_baseline(baseline, new)
    assert check == BaselineCheck(
        baseline_run_id="base-1",
        digests_compared=True,
        changed_fixtures=("b", "z"),
        added_fixtures=("d",),
        removed_fixtures=("c",),
    )
    assert check.fixtures_changed


def test_identical_digests_report_nothing() -> None:
    digests = fixture_digests([Fixture("a", "1"), Fixture("b", "2")])
    check = validate_baseline(scripted("a", "b", digests=digests), meta(fixture_digests=digests))
    assert check.digests_compared
    assert not check.fixtures_changed


def test_edited_fixture_is_reported_as_changed() -> None:
    before = [Fixture("a", "hi"), Fixture("b", "yo")]
    after = [before[0], attrs.evolve(before[1], user_input="yo!")]
    baseline = scripted("a", "b", digests=fixture_digests(before))
    check = validate_baseline(baseline, meta(fixture_digests=fixture_digests(after)))
    assert check.changed_fixtures == ("b",)


def test_rules_run_before_the_digest_comparison() -> None:
    with pytest.raises(InvalidRequest, match="dataset revisions"):
        validate_baseline(
            scripted("a", digests={"a": "1"}), meta(revision=4, fixture_digests={"a": "2"})
        )


@given(
    st.dictionaries(s.fixture_ids(), st.sampled_from("xyz"), max_size=5),
    st.dictionaries(s.fixture_ids(), st.sampled_from("xyz"), max_size=5),
)
def test_digest_comparison_partitions_the_ids(old: dict[str, str], new: dict[str, str]) -> None:
    check = validate_baseline(scripted(digests=old), meta(fixture_digests=new))
    if not old or not new:
        assert not check.digests_compared
        return
    assert set(check.changed_fixtures) == {f for f in old.keys() & new.keys() if old[f] != new[f]}
    assert set(check.added_fixtures) == new.keys() - old.keys()
    assert set(check.removed_fixtures) == old.keys() - new.keys()
    for ids in (check.changed_fixtures, check.added_fixtures, check.removed_fixtures):
        assert list(ids) == sorted(ids)
