"""Sample statistics: pass@k, pass^k, Wilson intervals and aggregates (spec §1.13, §2.6, §7.7)."""

from __future__ import annotations

import json
import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import strategies as s
from awaken_eval import (
    EvalRun,
    EvalRunItem,
    InvalidRequest,
    MatrixCell,
    from_json,
    to_builtins,
    to_json,
)
from awaken_eval.analysis import (
    DatasetPassAtK,
    aggregate_samples,
    dataset_pass_at_k,
    dataset_pass_hat_k,
    group_counts,
    normal_quantile,
    pass_at_k,
    pass_hat_k,
    wilson_interval,
)
from awaken_eval.failures import ReplayRuntimeError
from awaken_eval.records import ErrorPolicy, SampleAggregate
from builders import item, report
from builders import run as make_run

# -- helpers -------------------------------------------------------------------------------


PASS = report(passed=True)
FAIL = report(passed=False)
ERRORED = report(passed=False, runtime_failure=ReplayRuntimeError("timeout"))
ERRORED_BUT_PASSED = report(passed=True, runtime_failure=ReplayRuntimeError("timeout"))


def _exact_pass_at(n: int, c: int, k: int) -> Fraction:
    return 1 - Fraction(math.comb(n - c, k), math.comb(n, k))


def _exact_pass_hat(n: int, c: int, k: int) -> Fraction:
    return Fraction(math.comb(c, k), math.comb(n, k))


@st.composite
def _counts(draw: st.DrawFn, max_n: int = 60) -> tuple[int, int, int]:
    n = draw(st.integers(1, max_n))
    c = draw(st.integers(0, n))
    k = draw(st.integers(1, n))
    return n, c, k


@st.composite
def _sampled_runs(draw: st.DrawFn, max_items: int = 40) -> EvalRun:
    """Runs with repeated samples per (fixture, cell), passes, failures and errors."""
    live = draw(st.booleans())
    outcomes = st.sampled_from((PASS, FAIL, ERRORED, ERRORED_BUT_PASSED))
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(("a", "b", "c")),
                st.sampled_from((None, "m1", "m2")) if live else st.none(),
                outcomes,
            ),
            max_size=max_items,
        )
    )
    items = [
        item(fixture_id=fixture_id, report=report, model=model, live=live, sample_index=index)
        for index, (fixture_id, model, report) in enumerate(rows)
    ]
    return make_run(items=items)


# -- pass@k ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("k", "expected"),
    [(1, 0.3), (2, 8 / 15), (5, 11 / 12), (7, 119 / 120), (8, 1.0)],
)
def test_pass_at_k_reference_values_n10_c3(k: int, expected: float) -> None:
    assert expected == pytest.approx(pass_at_k(10, 3, k), abs=1e-12)


def test_pass_at_k_reference_value_n200_c37_k10() -> None:
    assert 0.8773745673794602 == pytest.approx(pass_at_k(200, 37, 10), abs=1e-12)


@pytest.mark.parametrize(("k", "expected"), [(2, 7 / 15), (3, 7 / 24), (4, 1 / 6), (8, 0.0)])
def test_pass_hat_k_reference_values_n10_c7(k: int, expected: float) -> None:
    assert expected == pytest.approx(pass_hat_k(10, 7, k), abs=1e-12)


def test_pass_at_k_is_one_when_fewer_than_k_samples_failed() -> None:
    assert 1.0 == pass_at_k(10, 3, 8)
    assert 1.0 == pass_at_k(5, 5, 3)


def test_pass_at_k_is_zero_without_passes() -> None:
    assert 0.0 == pass_at_k(10, 0, 4)
    assert 0.0 == pass_hat_k(10, 0, 4)


def test_pass_hat_k_is_zero_when_fewer_than_k_samples_passed() -> None:
    assert 0.0 == pass_hat_k(10, 7, 8)


def test_pass_hat_k_is_one_when_every_sample_passed() -> None:
    assert 1.0 == pass_hat_k(10, 10, 10)


@pytest.mark.parametrize("estimator", [pass_at_k, pass_hat_k])
def test_k_greater_than_n_is_rejected_naming_n_and_k(estimator: object) -> None:
    assert callable(estimator)
    with pytest.raises(InvalidRequest, match=r"k=11 exceeds the number of samples n=10"):
        estimator(10, 3, 11)


@pytest.mark.parametrize("estimator", [pass_at_k, pass_hat_k])
@pytest.mark.parametrize(
    ("n", "c", "k", "fragment"),
    [
        (10, 3, 0, "k must be at least 1, got k=0"),
        (10, 11, 2, "need 0 <= c <= n, got n=10, c=11"),
        (10, -1, 2, "need 0 <= c <= n, got n=10, c=-1"),
        (0, 0, 1, "k=1 exceeds the number of samples n=0"),
    ],
)
def test_invalid_counts_are_rejected(
    estimator: object, n: int, c: int, k: int, fragment: str
) -> None:
    assert callable(estimator)
    with pytest.raises(InvalidRequest) as caught:
        estimator(n, c, k)
    assert isinstance(caught.value, ValueError)
    assert fragment in str(caught.value)


def test_estimators_do_not_overflow_for_ten_thousand_samples() -> None:
    n, c, k = 10_000, 9_000, 500
    expected_hat = math.exp(
        math.lgamma(c + 1) - math.lgamma(c - k + 1) - math.lgamma(n + 1) + math.lgamma(n - k + 1)
    )
    assert expected_hat == pytest.approx(pass_hat_k(n, c, k), rel=1e-9)
    assert float(_exact_pass_at(n, 100, 50)) == pytest.approx(pass_at_k(n, 100, 50), abs=1e-12)
    assert float(_exact_pass_hat(n, 5_000, 5_000)) == pass_hat_k(n, 5_000, 5_000)


@given(_counts())
def test_pass_at_k_matches_exact_rational_arithmetic(counts: tuple[int, int, int]) -> None:
    n, c, k = counts
    assert float(_exact_pass_at(n, c, k)) == pytest.approx(pass_at_k(n, c, k), abs=1e-12)


@given(_counts())
def test_pass_hat_k_is_the_correctly_rounded_exact_value(counts: tuple[int, int, int]) -> None:
    n, c, k = counts
    assert float(_exact_pass_hat(n, c, k)) == pass_hat_k(n, c, k)


@given(_counts())
def test_pass_at_k_is_non_decreasing_and_pass_hat_k_non_increasing_in_k(
    counts: tuple[int, int, int],
) -> None:
    n, c, _ = counts
    at = [pass_at_k(n, c, k) for k in range(1, n + 1)]
    hat = [pass_hat_k(n, c, k) for k in range(1, n + 1)]
    assert [] == [k for k in range(1, n) if at[k] < at[k - 1]]
    assert [] == [k for k in range(1, n) if hat[k] > hat[k - 1]]


@given(_counts())
def test_pass_at_1_and_pass_hat_1_are_the_pass_rate(counts: tuple[int, int, int]) -> None:
    n, c, _ = counts
    assert c / n == pass_at_k(n, c, 1)
    assert c / n == pass_hat_k(n, c, 1)


@given(_counts())
def test_pass_at_k_is_one_minus_pass_hat_k_of_the_failures(counts: tuple[int, int, int]) -> None:
    # At least one of k passes  <=>  not all k fail.
    n, c, k = counts
    assert 1.0 - pass_hat_k(n, n - c, k) == pytest.approx(pass_at_k(n, c, k), abs=1e-12)


# -- normal quantile and Wilson interval ------------------------------------------------------


def test_normal_quantile_of_0_975_is_the_familiar_z() -> None:
    assert 1.959963984540054 == pytest.approx(normal_quantile(0.975), abs=1e-12)
    assert 2.5758293035489004 == pytest.approx(normal_quantile(0.995), abs=1e-12)
    assert 0.0 == normal_quantile(0.5)


@given(st.floats(min_value=1e-300, max_value=1 - 1e-12, allow_subnormal=False))
def test_normal_quantile_inverts_the_normal_cdf(p: float) -> None:
    x = normal_quantile(p)
    cdf = 0.5 * math.erfc(-x / math.sqrt(2.0))
    assert p == pytest.approx(cdf, rel=1e-12)


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5, math.nan])
def test_normal_quantile_rejects_probabilities_outside_the_open_interval(p: float) -> None:
    with pytest.raises(InvalidRequest, match="0 < p < 1"):
        normal_quantile(p)


def test_wilson_interval_known_value_8_of_10() -> None:
    low, high = wilson_interval(8, 10)
    assert 0.4901624 == pytest.approx(low, abs=1e-7)
    assert 0.9433178 == pytest.approx(high, abs=1e-7)


def test_wilson_interval_known_value_1_of_10() -> None:
    low, high = wilson_interval(1, 10)
    assert 0.0178762 == pytest.approx(low, abs=1e-7)
    assert 0.4041500 == pytest.approx(high, abs=1e-7)


def test_wilson_interval_edges_are_exact() -> None:
    z2 = 1.959963984540054**2
    none_low, none_high = wilson_interval(0, 10)
    all_low, all_high = wilson_interval(10, 10)
    assert (0.0, 1.0) == (none_low, all_high)
    assert z2 / (10 + z2) == pytest.approx(none_high, abs=1e-12)
    assert 10 / (10 + z2) == pytest.approx(all_low, abs=1e-12)
    assert (0.0, 1.0) == wilson_interval(0, 0)


def test_wilson_interval_widens_with_the_confidence() -> None:
    narrow = wilson_interval(8, 10, confidence=0.8)
    wide = wilson_interval(8, 10, confidence=0.99)
    assert wide[0] < narrow[0] < narrow[1] < wide[1]


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5, -0.2])
def test_wilson_interval_rejects_a_confidence_outside_the_open_interval(
    confidence: float,
) -> None:
    with pytest.raises(InvalidRequest, match="confidence must be strictly between 0 and 1"):
        wilson_interval(1, 2, confidence=confidence)


def test_wilson_interval_rejects_impossible_counts() -> None:
    with pytest.raises(InvalidRequest, match="got n=3, successes=4"):
        wilson_interval(4, 3)


@given(st.integers(0, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_rate_within_unit_interval(counts: tuple[int, int]) -> None:
    successes, n = counts
    low, high = wilson_interval(successes, n)
    rate = successes / n if n else 0.5
    assert 0.0 <= low <= rate <= high <= 1.0


# -- aggregate_samples: the reference's behaviour (spec §2.6, §7.7) ---------------------------


def test_aggregate_samples_of_an_empty_run_is_empty() -> None:
    assert [] == aggregate_samples(make_run())


def test_aggregate_samples_single_sample_degenerates_to_pass_fail() -> None:
    run = make_run(
        items=(
            item(fixture_id="ok", report=PASS, live=False),
            item(fixture_id="bad", report=FAIL, live=False),
        )
    )

    bad, ok = aggregate_samples(run)

    assert ("bad", None, 1, 0, 0.0, False, False) == (
        bad.fixture_id,
        bad.cell,
        bad.samples,
        bad.passed,
        bad.pass_rate,
        bad.pass_at_k,
        bad.pass_pow_k,
    )
    assert ("ok", 1, 1, 1.0, True, True) == (
        ok.fixture_id,
        ok.samples,
        ok.passed,
        ok.pass_rate,
        ok.pass_at_k,
        ok.pass_pow_k,
    )
    assert ((1.0,), (1.0,)) == (ok.pass_at, ok.pass_hat)
    assert ((0.0,), (0.0,)) == (bad.pass_at, bad.pass_hat)


def test_aggregate_samples_groups_by_fixture_and_cell() -> None:
    run = make_run(
        items=(
            item(fixture_id="f", report=PASS, model="m1", sample_index=0),
            item(fixture_id="f", report=FAIL, model="m1", sample_index=1),
            item(fixture_id="f", report=PASS, model="m1", sample_index=2),
            item(fixture_id="f", report=PASS, model="m2", sample_index=0),
        )
    )

    m1, m2 = aggregate_samples(run)

    assert (MatrixCell("m1"), 3, 2) == (m1.cell, m1.samples, m1.passed)
    assert 2 / 3 == pytest.approx(m1.pass_rate)
    assert m1.pass_at_k is True
    assert m1.pass_pow_k is False
    assert (MatrixCell("m2"), 1, 1, True) == (m2.cell, m2.samples, m2.passed, m2.pass_pow_k)


def test_aggregate_samples_all_pass_marks_pow_k() -> None:
    run = make_run(
        items=(item(fixture_id="f", report=PASS, model="m", sample_index=i) for i in range(3))
    )

    (aggregate,) = aggregate_samples(run)

    assert (3, 3, 1.0, True, True) == (
        aggregate.samples,
        aggregate.passed,
        aggregate.pass_rate,
        aggregate.pass_at_k,
        aggregate.pass_pow_k,
    )
    assert ((1.0, 1.0, 1.0), (1.0, 1.0, 1.0)) == (aggregate.pass_at, aggregate.pass_hat)


def test_aggregate_samples_sorts_by_fixture_then_default_cell_then_model() -> None:
    run = make_run(
        items=(
            item(fixture_id="b", report=PASS, model="z"),
            item(fixture_id="b", report=PASS, model=None, live=True),
            item(fixture_id="a", report=PASS, model="m"),
            item(fixture_id="b", report=PASS, model="a"),
        )
    )

    keys = [(a.fixture_id, a.cell) for a in aggregate_samples(run)]

    assert [
        ("a", MatrixCell("m")),
        ("b", None),
        ("b", MatrixCell("a")),
        ("b", MatrixCell("z")),
    ] == (keys)


def test_an_absent_cell_and_a_cell_without_model_are_one_group() -> None:
    items = (
        EvalRunItem("f", report=PASS),
        EvalRunItem("f", report=FAIL, sample_index=0),
    )

    assert [("f", None)] == list(group_counts(items))
    (aggregate,) = aggregate_samples(
        make_run(
            items=(
                item(fixture_id="f", report=PASS, live=True),
                item(fixture_id="f", report=FAIL, sample_index=3, live=True),
            )
        )
    )
    assert (None, 2, 1) == (aggregate.cell, aggregate.samples, aggregate.passed)


def test_aggregate_samples_fills_every_k_and_the_wilson_interval() -> None:
    run = make_run(
        items=(
            item(fixture_id="f", report=PASS if i < 3 else FAIL, sample_index=i, live=True)
            for i in range(10)
        )
    )

    (aggregate,) = aggregate_samples(run)

    assert (10, 3) == (aggregate.scored_samples, aggregate.scored_passed)
    assert [pass_at_k(10, 3, k) for k in range(1, 11)] == pytest.approx(
        list(aggregate.pass_at), abs=1e-12
    )
    assert [pass_hat_k(10, 3, k) for k in range(1, 11)] == pytest.approx(
        list(aggregate.pass_hat), abs=1e-12
    )
    assert wilson_interval(3, 10) == (aggregate.pass_rate_low, aggregate.pass_rate_high)


def test_aggregate_samples_uses_the_requested_confidence() -> None:
    run = make_run(
        items=(
            item(fixture_id="f", report=PASS if i < 8 else FAIL, sample_index=i, live=True)
            for i in range(10)
        )
    )

    (aggregate,) = aggregate_samples(run, confidence=0.9)

    assert wilson_interval(8, 10, confidence=0.9) == (
        aggregate.pass_rate_low,
        aggregate.pass_rate_high,
    )
    with pytest.raises(InvalidRequest, match="confidence"):
        aggregate_samples(run, confidence=1.0)


# -- errored samples -----------------------------------------------------------------------------


def _errored_run() -> EvalRun:
    return make_run(
        items=(
            item(fixture_id="f", report=PASS, sample_index=0, live=True),
            item(fixture_id="f", report=PASS, sample_index=1, live=True),
            item(fixture_id="f", report=FAIL, sample_index=2, live=True),
            item(fixture_id="f", report=ERRORED, sample_index=3, live=True),
            item(fixture_id="f", report=ERRORED_BUT_PASSED, sample_index=4, live=True),
        )
    )


def test_errored_samples_count_as_failures_by_default() -> None:
    (aggregate,) = aggregate_samples(_errored_run())

    assert ErrorPolicy.COUNT_AS_FAILURE == aggregate.error_policy
    assert (2, 5, 2) == (aggregate.errored, aggregate.scored_samples, aggregate.scored_passed)
    assert 2 / 5 == aggregate.pass_at[0]
    assert 5 == len(aggregate.pass_at)
    assert wilson_interval(2, 5) == (aggregate.pass_rate_low, aggregate.pass_rate_high)


def test_errored_samples_can_be_excluded() -> None:
    (aggregate,) = aggregate_samples(_errored_run(), error_policy=ErrorPolicy.EXCLUDE)

    assert ErrorPolicy.EXCLUDE == aggregate.error_policy
    assert (2, 3, 2) == (aggregate.errored, aggregate.scored_samples, aggregate.scored_passed)
    assert (2 / 3, 1.0, 1.0) == pytest.approx(aggregate.pass_at)
    assert (2 / 3, 1 / 3, 0.0) == pytest.approx(aggregate.pass_hat)
    assert wilson_interval(2, 3) == (aggregate.pass_rate_low, aggregate.pass_rate_high)


@pytest.mark.parametrize("policy", list(ErrorPolicy))
def test_reference_fields_ignore_the_error_policy(policy: ErrorPolicy) -> None:
    (aggregate,) = aggregate_samples(_errored_run(), error_policy=policy)

    # The reference counts a report that passed as passed, runtime failure or not.
    assert (5, 3, 0.6, True, False) == (
        aggregate.samples,
        aggregate.passed,
        aggregate.pass_rate,
        aggregate.pass_at_k,
        aggregate.pass_pow_k,
    )


def test_a_group_of_only_errored_samples_has_no_estimates_when_excluded() -> None:
    run = make_run(
        items=(
            item(fixture_id="f", report=ERRORED, sample_index=0, live=True),
            item(fixture_id="f", report=ERRORED, sample_index=1, live=True),
        )
    )

    (aggregate,) = aggregate_samples(run, error_policy=ErrorPolicy.EXCLUDE)

    assert (0, 0, (), ()) == (
        aggregate.scored_samples,
        aggregate.scored_passed,
        aggregate.pass_at,
        aggregate.pass_hat,
    )
    assert (0.0, 1.0) == (aggregate.pass_rate_low, aggregate.pass_rate_high)


# -- wire format ---------------------------------------------------------------------------------


def test_a_reference_aggregate_document_loads_with_default_extensions() -> None:
    document = (
        '{"fixture_id":"f","cell":{"model_id":"m"},"samples":3,"passed":2,'
        '"pass_rate":0.6666666666666666,"pass_at_k":true,"pass_pow_k":false}'
    )

    aggregate: SampleAggregate = from_json(SampleAggregate, document)

    assert (0, ErrorPolicy.COUNT_AS_FAILURE, None, None, (), (), None, None) == (
        aggregate.errored,
        aggregate.error_policy,
        aggregate.scored_samples,
        aggregate.scored_passed,
        aggregate.pass_at,
        aggregate.pass_hat,
        aggregate.pass_rate_low,
        aggregate.pass_rate_high,
    )
    assert json.loads(document) == to_builtins(aggregate)


def test_aggregate_wire_format_puts_the_extensions_after_the_reference_keys() -> None:
    (aggregate,) = aggregate_samples(_errored_run(), error_policy=ErrorPolicy.EXCLUDE)

    data = to_builtins(aggregate)

    assert [
        "fixture_id",
        "samples",
        "passed",
        "pass_rate",
        "pass_at_k",
        "pass_pow_k",
        "errored",
        "error_policy",
        "scored_samples",
        "scored_passed",
        "pass_at",
        "pass_hat",
        "pass_rate_low",
        "pass_rate_high",
    ] == list(data)
    assert "exclude" == data["error_policy"]
    assert aggregate == from_json(SampleAggregate, to_json(aggregate))


def test_default_policy_and_zero_errors_are_omitted_on_the_wire() -> None:
    (aggregate,) = aggregate_samples(
        make_run(items=(item(fixture_id="f", report=PASS, model="m"),))
    )

    data = to_builtins(aggregate)

    assert {"model_id": "m"} == data["cell"]
    assert "errored" not in data
    assert "error_policy" not in data


@given(_sampled_runs(), st.sampled_from(ErrorPolicy))
def test_aggregates_round_trip_through_json(run: EvalRun, policy: ErrorPolicy) -> None:
    aggregates = tuple(aggregate_samples(run, error_policy=policy))
    assert aggregates == from_json(tuple[SampleAggregate, ...], to_json(aggregates))


# -- properties ------------------------------------------------------------------------------------


def _oracle(
    run: EvalRun, policy: ErrorPolicy
) -> dict[tuple[str, str | None], tuple[int, int, int, int, int]]:
    """The obvious, slow computation of every count of every group."""
    groups: dict[tuple[str, str | None], list[EvalRunItem]] = {}
    for one in run.items:
        model = None if one.cell is None else one.cell.model_id
        groups.setdefault((one.fixture_id, model), []).append(one)
    result = {}
    for key, items in groups.items():
        errored = [i for i in items if i.report.runtime_failure is not None]
        clean = [i for i in items if i.report.runtime_failure is None]
        scored = len(clean) if policy is ErrorPolicy.EXCLUDE else len(items)
        result[key] = (
            len(items),
            sum(i.report.passed for i in items),
            len(errored),
            scored,
            sum(i.report.passed for i in clean),
        )
    return result


@given(_sampled_runs(), st.sampled_from(ErrorPolicy))
def test_aggregation_matches_a_naive_oracle(run: EvalRun, policy: ErrorPolicy) -> None:
    aggregates = aggregate_samples(run, error_policy=policy)

    actual = {
        (a.fixture_id, None if a.cell is None else a.cell.model_id): (
            a.samples,
            a.passed,
            a.errored,
            a.scored_samples,
            a.scored_passed,
        )
        for a in aggregates
    }
    assert _oracle(run, policy) == actual
    for a in aggregates:
        assert a.pass_rate == (a.passed / a.samples)
        assert a.pass_at_k == (a.passed >= 1)
        assert a.pass_pow_k == (a.passed == a.samples)
        n, c = a.scored_samples, a.scored_passed
        assert n is not None
        assert c is not None
        assert [pass_at_k(n, c, k) for k in range(1, n + 1)] == pytest.approx(
            list(a.pass_at), abs=1e-12
        )
        assert [pass_hat_k(n, c, k) for k in range(1, n + 1)] == pytest.approx(
            list(a.pass_hat), abs=1e-12
        )


@given(
    _sampled_runs().flatmap(lambda run: st.tuples(st.just(run), st.permutations(run.items))),
    st.sampled_from(ErrorPolicy),
)
def test_aggregation_is_invariant_under_permutation_of_items(
    drawn: tuple[EvalRun, list[EvalRunItem]], policy: ErrorPolicy
) -> None:
    run, shuffled = drawn
    permuted = make_run(items=shuffled)

    assert aggregate_samples(run, error_policy=policy) == aggregate_samples(
        permuted, error_policy=policy
    )


@settings(max_examples=40)
@given(s.eval_runs(max_items=6).flatmap(lambda r: st.tuples(st.just(r), st.permutations(r.items))))
def test_aggregation_of_arbitrary_runs_is_permutation_invariant(
    drawn: tuple[EvalRun, list[EvalRunItem]],
) -> None:
    run, shuffled = drawn
    permuted = EvalRun(
        id=run.id,
        dataset_id=run.dataset_id,
        dataset_revision=run.dataset_revision,
        execution_mode=run.execution_mode,
        items=tuple(shuffled),
        started_at_secs=run.started_at_secs,
        ended_at_secs=run.ended_at_secs,
    )
    aggregates = aggregate_samples(run)

    assert aggregates == aggregate_samples(permuted)
    assert len(run.items) == sum(a.samples for a in aggregates)


# -- dataset level ---------------------------------------------------------------------------------


def _aggregate(n: int, c: int, fixture_id: str = "f") -> SampleAggregate:
    run = make_run(
        items=(
            item(fixture_id=fixture_id, report=PASS if i < c else FAIL, sample_index=i, live=True)
            for i in range(n)
        )
    )
    (aggregate,) = aggregate_samples(run)
    return aggregate


def test_dataset_pass_at_k_is_the_mean_over_groups_with_differing_n() -> None:
    groups = [_aggregate(10, 3, "a"), _aggregate(5, 5, "b"), _aggregate(2, 1, "c")]

    at_1 = dataset_pass_at_k(groups, 1)
    at_3 = dataset_pass_at_k(groups, 3)

    assert ("pass@k", 1, 3, 0) == (at_1.metric, at_1.k, at_1.groups, at_1.excluded)
    assert pytest.approx(0.6, abs=1e-12) == at_1.value
    assert ("pass@k", 3, 2, 1) == (at_3.metric, at_3.k, at_3.groups, at_3.excluded)
    assert pytest.approx((pass_at_k(10, 3, 3) + 1.0) / 2, abs=1e-12) == at_3.value


def test_dataset_pass_hat_k_is_the_mean_over_groups_with_differing_n() -> None:
    groups = [_aggregate(10, 7, "a"), _aggregate(4, 4, "b"), _aggregate(3, 0, "c")]

    hat_2 = dataset_pass_hat_k(groups, 2)
    hat_4 = dataset_pass_hat_k(groups, 4)

    assert pytest.approx((7 / 15 + 1.0 + 0.0) / 3, abs=1e-12) == hat_2.value
    assert ("pass^k", 2, 3, 0) == (hat_2.metric, hat_2.k, hat_2.groups, hat_2.excluded)
    assert pytest.approx((1 / 6 + 1.0) / 2, abs=1e-12) == hat_4.value
    assert (2, 1) == (hat_4.groups, hat_4.excluded)


def test_dataset_means_have_no_value_when_every_group_is_too_small() -> None:
    groups = [_aggregate(2, 1, "a"), _aggregate(3, 3, "b")]

    assert DatasetPassAtK(metric="pass@k", k=4, value=None, groups=0, excluded=2) == (
        dataset_pass_at_k(groups, 4)
    )
    assert DatasetPassAtK(metric="pass^k", k=1, value=None, groups=0, excluded=0) == (
        dataset_pass_hat_k([], 1)
    )


def test_dataset_means_use_the_scored_samples() -> None:
    (aggregate,) = aggregate_samples(_errored_run(), error_policy=ErrorPolicy.EXCLUDE)

    assert 2 / 3 == dataset_pass_at_k([aggregate], 1).value
    assert 1 == dataset_pass_at_k([aggregate], 4).excluded


def test_dataset_means_accept_reference_documents() -> None:
    reference = SampleAggregate(
        fixture_id="f",
        samples=4,
        passed=1,
        pass_rate=0.25,
        pass_at_k=True,
        pass_pow_k=False,
    )

    assert pass_at_k(4, 1, 2) == dataset_pass_at_k([reference], 2).value
    assert 0.0 == dataset_pass_hat_k([reference], 2).value


@pytest.mark.parametrize("function", [dataset_pass_at_k, dataset_pass_hat_k])
def test_dataset_means_reject_k_below_one(function: object) -> None:
    assert callable(function)
    with pytest.raises(InvalidRequest, match="k must be at least 1, got k=0"):
        function([], 0)
