"""Behaviour tests for the validation rules (spec §1.16, §2.7-2.13, §7.2, §7.9, §8.1 item 18)."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as s
from awaken_eval import (
    DatasetSpec,
    EvalRun,
    EvalRunExecutionMode,
    Expectation,
    InvalidRequest,
)
from awaken_eval._records.rules import (
    live_run_sample_count,
    validate_baseline_sample_count,
    validate_dataset_for_write,
    validate_judge_required_for_expectation,
    validate_min_judge_score,
    validate_offline_expectation,
    validate_unique_models,
)
from awaken_eval.errors import DuplicateItemKeys
from builders import fixture, item
from builders import run as make_run

LIVE = EvalRunExecutionMode.LIVE
SCRIPTED = EvalRunExecutionMode.SCRIPTED
OUT_OF_RANGE = (-0.1, 1.01, math.nan, math.inf, -math.inf)


def scripted_run(*fixture_ids: str) -> EvalRun:
    return make_run(
        run_id="run-s", dataset_revision=1, items=(item(fixture_id=f) for f in fixture_ids)
    )


def judged(value: float | None) -> Expectation:
    return Expectation(min_judge_score=value)


# -- §2.8 min_judge_score range ------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, 0.0, 0.5, 1.0])
def test_min_judge_score_validation_accepts_closed_unit_interval(value: float | None) -> None:
    validate_min_judge_score(judged(value), "fixture a")


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_min_judge_score_validation_rejects_out_of_range_and_non_finite(value: float) -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_min_judge_score(judged(value), "fixture greet")
    message = str(caught.value)
    assert "fixture greet" in message
    assert "min_judge_score" in message
    assert str(value) in message
    assert "[0.0, 1.0]" in message
    assert caught.value.status == 400


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_min_judge_score_accepted_iff_finite_in_unit_interval(value: float) -> None:
    accepted = math.isfinite(value) and 0.0 <= value <= 1.0
    try:
        validate_min_judge_score(judged(value), "x")
    except InvalidRequest:
        assert not accepted
    else:
        assert accepted


# -- §2.9 offline ----------------------------------------------------------------------------


def test_offline_validation_accepts_expectation_without_judge_score() -> None:
    validate_offline_expectation(Expectation(final_answer_contains=("x",)), "fixture a")


def test_offline_validation_rejects_judge_only_expectation() -> None:
    with pytest.raises(InvalidRequest, match="offline awaken-eval") as caught:
        validate_offline_expectation(judged(0.5), "fixture a")
    assert "fixture a" in str(caught.value)
    assert "judge.rubric" in str(caught.value)


def test_offline_validation_reports_range_error_first() -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_offline_expectation(judged(2.0), "fixture a")
    assert "[0.0, 1.0]" in str(caught.value)
    assert "offline awaken-eval" not in str(caught.value)


# -- §2.13 judge required ----------------------------------------------------------------------


def test_judge_required_ok_without_min_judge_score() -> None:
    validate_judge_required_for_expectation(
        Expectation(), "fixture a", live=False, has_judge=False, rubric=None
    )


def test_judge_required_ok_with_live_judge_and_rubric() -> None:
    validate_judge_required_for_expectation(
        judged(0.5), "fixture a", live=True, has_judge=True, rubric="grade it"
    )


def test_judge_required_range_check_comes_first() -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_judge_required_for_expectation(
            judged(1.5), "fixture a", live=False, has_judge=False, rubric=None
        )
    assert "[0.0, 1.0]" in str(caught.value)


def test_judge_required_needs_live_mode() -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_judge_required_for_expectation(
            judged(0.5), "fixture a", live=False, has_judge=True, rubric="r"
        )
    message = str(caught.value)
    assert 'mode="live"' in message
    assert "fixture a" in message
    assert "min_judge_score" in message


def test_judge_required_needs_a_judge() -> None:
    with pytest.raises(InvalidRequest, match="provide `judge`"):
        validate_judge_required_for_expectation(
            judged(0.5), "fixture a", live=True, has_judge=False, rubric="r"
        )


@pytest.mark.parametrize("rubric", [None, "", "   \n\t"])
def test_judge_required_needs_a_non_blank_rubric(rubric: str | None) -> None:
    with pytest.raises(InvalidRequest, match=r"judge\.rubric"):
        validate_judge_required_for_expectation(
            judged(0.5), "fixture a", live=True, has_judge=True, rubric=rubric
        )


# -- §2.12 models axis ---------------------------------------------------------------------------


def test_unique_models_accepts_distinct_ids() -> None:
    validate_unique_models(["a", "b", "c"])
    validate_unique_models([])


def test_unique_models_rejects_first_repeat() -> None:
    with pytest.raises(InvalidRequest) as caught:
        validate_unique_models(["a", "b", "b", "a"])
    assert str(caught.value) == "duplicate model id in models axis: b"


# -- §2.11 live_run_sample_count -----------------------------------------------------------------


def test_sample_count_absent_for_scripted_run() -> None:
    assert live_run_sample_count(scripted_run("a", "b")) is None


def test_sample_count_absent_for_empty_live_run() -> None:
    assert live_run_sample_count(make_run(mode=LIVE)) is None


def test_sample_count_of_contiguous_samples() -> None:
    run = make_run(
        items=(
            item(fixture_id=f, model=m, sample_index=i)
            for f in ("a", "b")
            for m in ("m1", "m2")
            for i in (2, 0, 1)
        ),
    )
    assert live_run_sample_count(run) == 3


def test_sample_count_of_unindexed_single_sample_run() -> None:
    assert (
        live_run_sample_count(
            make_run(
                items=(
                    item(fixture_id="a", model="m1"),
                    item(fixture_id="a", model="m2"),
                    item(fixture_id="b", model="m1"),
                ),
            )
        )
        == 1
    )


def test_sample_count_default_cell_and_no_model_are_one_group() -> None:
    run = make_run(
        items=(
            item(fixture_id="a", model=None, live=True, sample_index=0),
            item(fixture_id="a", model=None, live=True, sample_index=1),
        ),
    )
    assert live_run_sample_count(run) == 2


def test_sample_count_rejects_gap_in_indexes() -> None:
    run = make_run(
        items=(
            item(fixture_id="a", model="m1", sample_index=0),
            item(fixture_id="a", model="m1", sample_index=2),
        ),
        run_id="run-x",
    )
    with pytest.raises(InvalidRequest, match="non-contiguous samples") as caught:
        live_run_sample_count(run)
    message = str(caught.value)
    assert "run-x" in message
    assert "'a'" in message
    assert "m1" in message
    assert "[0, 2]" in message


def test_sample_count_rejects_indexes_not_starting_at_zero() -> None:
    with pytest.raises(InvalidRequest, match="non-contiguous samples"):
        live_run_sample_count(
            make_run(
                items=(
                    item(fixture_id="a", model="m1", sample_index=1),
                    item(fixture_id="a", model="m1", sample_index=2),
                ),
            )
        )


def test_sample_count_absent_index_is_not_index_zero() -> None:
    # Improvement (spec §8.1 item 18): the reference collapsed these into "1 sample".
    run = make_run(
        items=(
            item(fixture_id="a", model="m1", sample_index=None),
            item(fixture_id="a", model="m1", sample_index=0),
        ),
    )
    with pytest.raises(InvalidRequest, match="non-contiguous samples") as caught:
        live_run_sample_count(run)
    assert "without a sample index" in str(caught.value)


def test_sample_count_absent_index_mixed_with_full_range_is_rejected() -> None:
    run = make_run(
        items=(
            item(fixture_id="a", model="m1", sample_index=0),
            item(fixture_id="a", model="m1", sample_index=1),
            item(fixture_id="a", model="m1", sample_index=None),
        ),
    )
    with pytest.raises(InvalidRequest, match="non-contiguous samples"):
        live_run_sample_count(run)


def test_sample_count_unindexed_group_counts_as_one_sample() -> None:
    # A one-sample group (no index) next to a two-sample group is inconsistent, not a gap.
    run = make_run(
        items=(
            item(fixture_id="a", model="m1", sample_index=None),
            item(fixture_id="b", model="m1", sample_index=0),
            item(fixture_id="b", model="m1", sample_index=1),
        ),
    )
    with pytest.raises(InvalidRequest, match="inconsistent sample counts across live cells"):
        live_run_sample_count(run)


def test_sample_count_rejects_inconsistent_counts() -> None:
    run = make_run(
        items=(
            item(fixture_id="a", model="m1", sample_index=0),
            item(fixture_id="a", model="m1", sample_index=1),
            item(fixture_id="a", model="m2", sample_index=0),
        ),
        run_id="run-y",
    )
    with pytest.raises(InvalidRequest) as caught:
        live_run_sample_count(run)
    message = str(caught.value)
    assert "inconsistent sample counts across live cells" in message
    assert "run-y" in message


@given(
    st.integers(1, 4),
    st.lists(st.sampled_from(("a", "b", "c")), min_size=1, unique=True),
    st.lists(st.sampled_from(("m1", "m2")), min_size=1, unique=True),
    st.randoms(),
)
def test_sample_count_is_order_independent(
    samples: int, fixtures: list[str], models: list[str], rng: random.Random
) -> None:
    indexes: list[int | None] = list(range(samples)) if samples > 1 else [None]
    items = [
        item(fixture_id=f, model=m, sample_index=i)
        for f in fixtures
        for m in models
        for i in indexes
    ]
    rng.shuffle(items)
    assert live_run_sample_count(make_run(items=items)) == samples


# -- §2.10 baseline sample count ------------------------------------------------------------


def test_baseline_sample_count_ok_when_new_count_unknown() -> None:
    validate_baseline_sample_count(
        make_run(
            items=(
                item(fixture_id="a", model="m1", sample_index=0),
                item(fixture_id="a", model="m1", sample_index=2),
            ),
        ),
        None,
    )


def test_baseline_sample_count_ok_for_scripted_or_empty_baseline() -> None:
    validate_baseline_sample_count(scripted_run("a"), 5)
    validate_baseline_sample_count(make_run(mode=LIVE), 5)


def test_baseline_sample_count_ok_when_equal() -> None:
    validate_baseline_sample_count(
        make_run(
            items=(
                item(fixture_id="a", model="m1", sample_index=0),
                item(fixture_id="a", model="m1", sample_index=1),
            ),
        ),
        2,
    )
    validate_baseline_sample_count(make_run(items=(item(fixture_id="a", model="m1"),)), 1)


def test_baseline_sample_count_rejects_different_counts() -> None:
    baseline = make_run(
        items=(
            item(fixture_id="a", model="m1", sample_index=0),
            item(fixture_id="a", model="m1", sample_index=1),
        ),
        run_id="base-1",
    )
    with pytest.raises(InvalidRequest, match="different sample counts") as caught:
        validate_baseline_sample_count(baseline, 3)
    message = str(caught.value)
    assert "base-1" in message
    assert "baseline=2" in message
    assert "new=3" in message


def test_baseline_sample_count_propagates_layout_errors() -> None:
    baseline = make_run(
        items=(
            item(fixture_id="a", model="m1", sample_index=0),
            item(fixture_id="a", model="m1", sample_index=2),
        ),
    )
    with pytest.raises(InvalidRequest, match="non-contiguous samples"):
        validate_baseline_sample_count(baseline, 2)


# -- §1.16 dataset write -------------------------------------------------------------------


def test_dataset_write_accepts_valid_dataset() -> None:
    validate_dataset_for_write(
        DatasetSpec(
            fixtures=(
                fixture(fixture_id="a", expect=Expectation(min_judge_score=0.5)),
                fixture(fixture_id="b"),
            )
        )
    )
    validate_dataset_for_write(DatasetSpec())


def test_dataset_write_rejects_duplicate_fixture_id() -> None:
    spec = DatasetSpec(
        fixtures=(fixture(fixture_id="a"), fixture(fixture_id="b"), fixture(fixture_id="a"))
    )
    with pytest.raises(DuplicateItemKeys) as caught:
        validate_dataset_for_write(spec)
    assert "duplicate fixture id in dataset: a" in str(caught.value)
    assert caught.value.status == 400


def test_validate_for_write_rejects_invalid_min_judge_score() -> None:
    spec = DatasetSpec(
        fixtures=(
            fixture(fixture_id="a", expect=Expectation(min_judge_score=0.5)),
            fixture(fixture_id="bad", expect=Expectation(min_judge_score=1.5)),
        )
    )
    with pytest.raises(InvalidRequest) as caught:
        validate_dataset_for_write(spec)
    message = str(caught.value)
    assert "fixture bad" in message
    assert "min_judge_score" in message
    assert "[0.0, 1.0]" in message


def test_dataset_write_checks_duplicates_before_scores() -> None:
    spec = DatasetSpec(
        fixtures=(
            fixture(fixture_id="bad", expect=Expectation(min_judge_score=1.5)),
            fixture(fixture_id="a"),
            fixture(fixture_id="a"),
        )
    )
    with pytest.raises(DuplicateItemKeys, match="duplicate fixture id in dataset: a"):
        validate_dataset_for_write(spec)


@given(st.lists(s.fixture_ids(), max_size=6))
def test_dataset_write_names_the_first_repeated_id(ids: list[str]) -> None:
    spec = DatasetSpec(fixtures=tuple(fixture(fixture_id=fixture_id) for fixture_id in ids))
    seen: set[str] = set()
    first_repeat = None
    for fixture_id in ids:
        if fixture_id in seen:
            first_repeat = fixture_id
            break
        seen.add(fixture_id)
    if first_repeat is None:
        validate_dataset_for_write(spec)
    else:
        with pytest.raises(DuplicateItemKeys) as caught:
            validate_dataset_for_write(spec)
        assert str(caught.value) == f"duplicate fixture id in dataset: {first_repeat}"
