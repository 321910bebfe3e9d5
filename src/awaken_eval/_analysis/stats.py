"""Sample statistics: unbiased pass@k, pass^k, Wilson intervals and per-group roll-ups.

Everything here is pure: no I/O, no clock, no logging, no randomness.

Estimators, for a group of ``n`` scored samples of which ``c`` passed:

* **pass@k** (Chen et al. 2021, *Evaluating Large Language Models Trained on Code*):
  the probability that at least one of ``k`` samples drawn without replacement from the
  ``n`` passes, ``1 - C(n-c, k) / C(n, k)``, an unbiased estimator of the chance that
  at least one of ``k`` fresh attempts succeeds.
* **pass^k** (Yao et al. 2024, *τ-bench*): the probability that *all* ``k`` drawn
  samples pass, ``C(c, k) / C(n, k)``, an unbiased estimator of the chance that ``k``
  fresh attempts all succeed (a reliability measure).
* The **Wilson score interval** of the pass rate ``c / n``, which unlike the normal
  approximation stays inside [0, 1] and behaves at ``c = 0`` and ``c = n``.

Errored samples (a report with a runtime failure: the replay itself broke) are handled
by an :class:`~awaken_eval.records.ErrorPolicy`: ``count_as_failure`` (default) keeps them
in ``n`` as failures, ``exclude`` drops them from ``n``. Either way an errored sample is
never a pass, and the policy is recorded on every aggregate. The reference's own fields
(``samples``, ``passed``, ``pass_rate`` and the empirical ``pass_at_k``/``pass_pow_k``
booleans) are computed over every item, whatever the policy, for compatibility.

Dataset-level numbers follow the HumanEval / τ-bench convention: the mean over (fixture,
cell) groups of the per-group estimate, each group with its own ``n``. A group with
fewer than ``k`` scored samples has no estimate at that ``k``; it is left out of the
mean and counted in :attr:`DatasetPassAtK.excluded` (never silently averaged in).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import lru_cache
from typing import NamedTuple

import attrs

from awaken_eval._records.runs import ErrorPolicy, EvalRun, EvalRunItem, MatrixCell, SampleAggregate
from awaken_eval.errors import InvalidRequest

__all__ = [
    "DatasetPassAtK",
    "FisherPValues",
    "GroupCounts",
    "aggregate_samples",
    "dataset_pass_at_k",
    "dataset_pass_hat_k",
    "fisher_one_sided",
    "group_counts",
    "group_sort_key",
    "normal_quantile",
    "pass_at_k",
    "pass_hat_k",
    "wilson_interval",
]

# -- argument checks ---------------------------------------------------------------------


def _check_counts(n: int, c: int, *, what: str, name: str = "c") -> None:
    if n < 0 or not 0 <= c <= n:
        msg = f"{what}: need 0 <= {name} <= n, got n={n}, {name}={c}"
        raise InvalidRequest(msg)


def _check_k(n: int, k: int, *, what: str) -> None:
    if k < 1:
        msg = f"{what}: k must be at least 1, got k={k}"
        raise InvalidRequest(msg)
    if k > n:
        msg = f"{what}: k={k} exceeds the number of samples n={n}; the estimator needs k <= n"
        raise InvalidRequest(msg)


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        msg = f"confidence must be strictly between 0 and 1, got {confidence!r}"
        raise InvalidRequest(msg)


# -- estimators ----------------------------------------------------------------------------


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k of Chen et al. (2021): ``1 - C(n-c, k) / C(n, k)``.

    Computed in the numerically stable product form
    ``1 - prod(1 - k/i for i in n-c+1..n)``, which never forms a binomial coefficient.
    ``pass_at_k(n, c, 1)`` is exactly ``c / n``.

    Args:
        n: Samples drawn (scored).
        c: Samples that passed, ``0 <= c <= n``.
        k: Attempts the estimate is for, ``1 <= k <= n``.

    Returns:
        The probability that at least one of ``k`` samples passes; 1.0 when fewer than
        ``k`` samples failed (every ``k``-subset then holds a pass).

    Raises:
        InvalidRequest: when ``k > n`` (not enough samples to estimate pass@k), when
            ``k < 1`` or when ``c`` is outside ``0..n``; the message names n, c and k.
    """
    _check_counts(n, c, what="pass@k")
    _check_k(n, k, what="pass@k")
    if k == 1:
        return c / n
    if n - c < k:
        return 1.0
    product = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k of Yao et al. (2024, τ-bench): ``C(c, k) / C(n, k)``.

    Computed with exact integer binomials and one correctly rounded division, so the
    result is the closest float to the true value (no overflow: Python integers are
    unbounded and the quotient is at most 1).

    Args:
        n: Samples drawn (scored).
        c: Samples that passed, ``0 <= c <= n``.
        k: Attempts the estimate is for, ``1 <= k <= n``.

    Returns:
        The probability that all of ``k`` samples pass; 0.0 when fewer than ``k``
        samples passed.

    Raises:
        InvalidRequest: when ``k > n``, ``k < 1`` or ``c`` is outside ``0..n``.
    """
    _check_counts(n, c, what="pass^k")
    _check_k(n, k, what="pass^k")
    if k > c:
        return 0.0
    return math.comb(c, k) / math.comb(n, k)


def _estimates(n: int, c: int) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """``(pass@k for k in 1..n, pass^k for k in 1..n)``, by a running product.

    ``C(m, k) / C(n, k) = prod((m - j) / (n - j) for j < k)``: one multiplication per
    ``k``; every factor lies in [0, 1], so the products cannot overflow. Values agree
    with :func:`pass_at_k` / :func:`pass_hat_k` to within rounding (relative error
    below ``2 k`` ulps); pass@1 and pass^1 are exactly ``c / n``.
    """
    failures = n - c
    at: list[float] = []
    hat: list[float] = []
    all_fail = 1.0  # C(n - c, k) / C(n, k)
    all_pass = 1.0  # C(c, k) / C(n, k)
    for k in range(1, n + 1):
        remaining = n - k + 1
        all_fail = all_fail * (failures - k + 1) / remaining if k <= failures else 0.0
        all_pass = all_pass * (c - k + 1) / remaining if k <= c else 0.0
        at.append(1.0 - all_fail)
        hat.append(all_pass)
    if n:
        at[0] = hat[0] = c / n
    return tuple(at), tuple(hat)


# -- normal quantile and Wilson interval -----------------------------------------------------

# Peter J. Acklam's rational approximation of the inverse normal CDF (relative error
# below 1.15e-9), refined below by one Halley step on the exact CDF (math.erfc).
_A = (
    -3.969683028665376e01,
    2.209460984245205e02,
    -2.759285104469687e02,
    1.383577518672690e02,
    -3.066479806614716e01,
    2.506628277459239e00,
)
_B = (
    -5.447609879822406e01,
    1.615858368580409e02,
    -1.556989798598866e02,
    6.680131188771972e01,
    -1.328068155288572e01,
)
_C = (
    -7.784894002430293e-03,
    -3.223964580411365e-01,
    -2.400758277161838e00,
    -2.549732539343734e00,
    4.374664141464968e00,
    2.938163982698783e00,
)
_D = (
    7.784695709041462e-03,
    3.224671290700398e-01,
    2.445134137142996e00,
    3.754408661907416e00,
)
_P_LOW = 0.02425
_SQRT2 = math.sqrt(2.0)
_SQRT2PI = math.sqrt(2.0 * math.pi)


def _acklam_lower(p: float) -> float:
    """Acklam's approximation for ``0 < p <= 0.5``."""
    if p < _P_LOW:
        q = math.sqrt(-2.0 * math.log(p))
        num = ((((_C[0] * q + _C[1]) * q + _C[2]) * q + _C[3]) * q + _C[4]) * q + _C[5]
        den = (((_D[0] * q + _D[1]) * q + _D[2]) * q + _D[3]) * q + 1.0
        return num / den
    q = p - 0.5
    r = q * q
    num = (((((_A[0] * r + _A[1]) * r + _A[2]) * r + _A[3]) * r + _A[4]) * r + _A[5]) * q
    den = ((((_B[0] * r + _B[1]) * r + _B[2]) * r + _B[3]) * r + _B[4]) * r + 1.0
    return num / den


def normal_quantile(p: float) -> float:
    """The inverse of the standard normal CDF: ``x`` with ``P(Z <= x) = p``.

    Acklam's rational approximation refined by one Halley step against the exact CDF
    (``erfc``); accurate to a few ulps over the double range, e.g.
    ``normal_quantile(0.975) == 1.959963984540054`` to 1e-15.

    Args:
        p: A probability strictly between 0 and 1.

    Raises:
        InvalidRequest: when ``p`` is not strictly between 0 and 1.
    """
    if not 0.0 < p < 1.0:
        msg = f"normal quantile needs 0 < p < 1, got {p!r}"
        raise InvalidRequest(msg)
    if p > 0.5:
        return -normal_quantile(1.0 - p)
    x = _acklam_lower(p)
    error = 0.5 * math.erfc(-x / _SQRT2) - p
    u = error * _SQRT2PI * math.exp(x * x / 2.0)
    return x - u / (1.0 + x * u / 2.0)


@lru_cache(maxsize=64)
def _two_sided_z(confidence: float) -> float:
    return -normal_quantile((1.0 - confidence) / 2.0)


def wilson_interval(successes: int, n: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of the proportion ``successes / n``.

    Args:
        successes: Successes observed, ``0 <= successes <= n``.
        n: Trials.
        confidence: Two-sided confidence level, strictly between 0 and 1.

    Returns:
        ``(low, high)`` within [0, 1]; ``low`` is exactly 0.0 when there was no success
        and ``high`` exactly 1.0 when every trial succeeded; ``(0.0, 1.0)`` when
        ``n == 0`` (no information).

    Raises:
        InvalidRequest: for counts outside ``0 <= successes <= n`` or a confidence
            outside (0, 1).
    """
    _check_confidence(confidence)
    _check_counts(n, successes, what="wilson interval", name="successes")
    return _wilson(successes, n, confidence)


def _wilson(successes: int, n: int, confidence: float) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    z = _two_sided_z(confidence)
    z2 = z * z
    rate = successes / n
    denominator = 1.0 + z2 / n
    centre = (rate + z2 / (2.0 * n)) / denominator
    half = z * math.sqrt(rate * (1.0 - rate) / n + z2 / (4.0 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


# -- Fisher's exact test ---------------------------------------------------------------------


class FisherPValues(NamedTuple):
    """The two one-sided p-values of Fisher's exact test on a 2x2 pass/fail table.

    Under the null hypothesis (both runs share one pass rate) and given the margins, the
    new run's pass count is hypergeometric; ``p_drop + p_rise = 1 + P(X = observed)``.

    Attributes:
        p_drop: ``P(X <= observed)``: small when the new run passes significantly less.
        p_rise: ``P(X >= observed)``: small when the new run passes significantly more.
    """

    p_drop: float
    p_rise: float


def fisher_one_sided(
    baseline_passed: int, baseline_samples: int, new_passed: int, new_samples: int
) -> FisherPValues:
    """One-sided Fisher exact test of the new pass count against the baseline's.

    Exact hypergeometric arithmetic: integer binomial coefficients summed exactly, then
    one correctly rounded division per p-value (no floating-point accumulation).

    Args:
        baseline_passed: Passes in the baseline.
        baseline_samples: Samples in the baseline.
        new_passed: Passes in the new run.
        new_samples: Samples in the new run.

    Returns:
        Both one-sided p-values; ``(1.0, 1.0)`` when a side has no sample.

    Raises:
        InvalidRequest: when a pass count is outside ``0..samples``.
    """
    _check_counts(baseline_samples, baseline_passed, what="fisher test (baseline)")
    _check_counts(new_samples, new_passed, what="fisher test (new)")
    total = baseline_samples + new_samples
    passes = baseline_passed + new_passed
    fails = total - passes
    low = max(0, new_samples - fails)
    high = min(passes, new_samples)
    weights = [
        math.comb(passes, x) * math.comb(fails, new_samples - x) for x in range(low, high + 1)
    ]
    denominator = math.comb(total, new_samples)
    at = new_passed - low
    return FisherPValues(sum(weights[: at + 1]) / denominator, sum(weights[at:]) / denominator)


# -- per-group roll-up ---------------------------------------------------------------------


class GroupCounts(NamedTuple):
    """Raw counts of one (fixture, model) group of run items.

    Attributes:
        samples: Items in the group.
        passed: Items whose report passed (errored or not, as the reference counts).
        errored: Items whose report has a runtime failure.
        clean_passed: Items that passed without a runtime failure.
    """

    samples: int
    passed: int
    errored: int
    clean_passed: int

    def scored(self, policy: ErrorPolicy) -> tuple[int, int]:
        """``(n, c)`` after the error policy: errored items are never passes.

        Args:
            policy: Count errored items as failures, or exclude them from ``n``.
        """
        if policy is ErrorPolicy.EXCLUDE:
            return self.samples - self.errored, self.clean_passed
        return self.samples, self.clean_passed


def group_counts(items: Iterable[EvalRunItem]) -> dict[tuple[str, str | None], GroupCounts]:
    """Count the items of each (fixture id, model id) group; sample indexes are ignored.

    A missing cell and a cell without model are the same group (model ``None``).

    Args:
        items: Run items, in any order.

    Returns:
        The counts per ``(fixture_id, model_id)``, in no particular order.
    """
    # The hot loop of aggregation: one dict lookup and a few increments per item.
    # (Measured faster than a Counter over zipped attrgetter maps, which hashes wider
    # tuples.)
    raw: dict[tuple[str, str | None], list[int]] = {}
    get = raw.get
    for item in items:
        cell = item.cell
        key = (item.fixture_id, None if cell is None else cell.model_id)
        counts = get(key)
        if counts is None:
            counts = raw[key] = [0, 0, 0, 0]
        report = item.report
        counts[0] += 1
        if report.runtime_failure is None:
            if report.passed:
                counts[1] += 1
                counts[3] += 1
        else:
            counts[2] += 1
            if report.passed:
                counts[1] += 1
    return {key: GroupCounts(*counts) for key, counts in raw.items()}


def group_sort_key(key: tuple[str, str | None]) -> tuple[str, bool, str]:
    """Order of groups: fixture id, then the default cell, then models by name.

    Args:
        key: A ``(fixture_id, model_id)`` group key, as in :func:`group_counts`.
    """
    fixture_id, model_id = key
    return fixture_id, model_id is not None, model_id or ""


def aggregate_samples(
    run: EvalRun,
    *,
    error_policy: ErrorPolicy = ErrorPolicy.COUNT_AS_FAILURE,
    confidence: float = 0.95,
) -> list[SampleAggregate]:
    """Roll the items of a run up per (fixture, cell) group (spec §2.6, extended).

    The reference fields (``samples``, ``passed``, ``pass_rate``, ``pass_at_k``,
    ``pass_pow_k``) are computed exactly as the reference does, over every item. The
    additive fields hold, over the scored samples left by ``error_policy``: unbiased
    pass@k and pass^k for every k in 1..n, and the Wilson interval of the pass rate.

    Args:
        run: The run; items may be in any order, sample indexes are ignored.
        error_policy: Count errored samples as failures (default) or exclude them.
        confidence: Confidence level of the Wilson interval.

    Returns:
        One aggregate per group, sorted by fixture id then cell (default cell first,
        then models by name); an empty list for a run without items.

    Raises:
        InvalidRequest: when ``confidence`` is not strictly between 0 and 1.
    """
    _check_confidence(confidence)
    groups = group_counts(run.items)
    cells: dict[str | None, MatrixCell | None] = {None: None}
    # Groups share (n, c) pairs: compute each pair's estimates and interval once.
    estimates: dict[tuple[int, int], tuple[tuple[float, ...], tuple[float, ...]]] = {}
    intervals: dict[tuple[int, int], tuple[float, float]] = {}
    aggregates: list[SampleAggregate] = []
    for fixture_id, model_id in sorted(groups, key=group_sort_key):
        counts = groups[fixture_id, model_id]
        samples, passed = counts.samples, counts.passed
        scored = n, c = counts.scored(error_policy)
        found = estimates.get(scored)
        if found is None:
            found = estimates[scored] = _estimates(n, c)
        at, hat = found
        interval = intervals.get(scored)
        if interval is None:
            interval = intervals[scored] = _wilson(c, n, confidence)
        low, high = interval
        cell = cells.get(model_id)
        if cell is None and model_id is not None:
            cell = cells[model_id] = MatrixCell(model_id)
        aggregates.append(
            SampleAggregate(
                fixture_id=fixture_id,
                cell=cell,
                samples=samples,
                passed=passed,
                pass_rate=passed / samples if samples else 0.0,
                pass_at_k=passed >= 1,
                pass_pow_k=passed == samples and samples > 0,
                errored=counts.errored,
                error_policy=error_policy,
                scored_samples=n,
                scored_passed=c,
                pass_at=at,
                pass_hat=hat,
                pass_rate_low=low,
                pass_rate_high=high,
            )
        )
    return aggregates


# -- dataset level ---------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DatasetPassAtK:
    """A dataset-level estimate: the mean over (fixture, cell) groups at one ``k``.

    Groups with fewer than ``k`` scored samples cannot be estimated at ``k``; they are
    left out of the mean and counted in ``excluded``.

    Attributes:
        metric: ``"pass@k"`` or ``"pass^k"``.
        k: The number of attempts.
        value: The mean over the included groups; ``None`` when no group has ``k``
            scored samples or more.
        groups: Groups included in the mean.
        excluded: Groups left out because they have fewer than ``k`` scored samples.
    """

    metric: str
    k: int
    value: float | None
    groups: int
    excluded: int


def _scored(aggregate: SampleAggregate) -> tuple[int, int]:
    """``(n, c)`` of an aggregate; a reference document has no scored fields.

    For a reference aggregate every item is scored and ``passed`` is ``c``.
    """
    n = aggregate.samples if aggregate.scored_samples is None else aggregate.scored_samples
    c = aggregate.passed if aggregate.scored_passed is None else aggregate.scored_passed
    return n, c


def _dataset_mean(aggregates: Iterable[SampleAggregate], k: int, metric: str) -> DatasetPassAtK:
    if k < 1:
        msg = f"dataset {metric}: k must be at least 1, got k={k}"
        raise InvalidRequest(msg)
    estimator = pass_at_k if metric == "pass@k" else pass_hat_k
    values: list[float] = []
    excluded = 0
    for aggregate in aggregates:
        n, c = _scored(aggregate)
        if n < k:
            excluded += 1
        else:
            values.append(estimator(n, c, k))
    value = math.fsum(values) / len(values) if values else None
    return DatasetPassAtK(metric=metric, k=k, value=value, groups=len(values), excluded=excluded)


def dataset_pass_at_k(aggregates: Iterable[SampleAggregate], k: int) -> DatasetPassAtK:
    """Dataset pass@k: the mean of the per-group unbiased pass@k (HumanEval convention).

    Each group uses its own scored ``n`` and ``c`` (they may differ between groups).
    Aggregates read from a reference document (no scored fields) use ``samples`` and
    ``passed``.

    Args:
        aggregates: Per-group aggregates, e.g. from :func:`aggregate_samples`.
        k: Number of attempts, at least 1.

    Returns:
        The mean, with the numbers of included and excluded (``n < k``) groups.

    Raises:
        InvalidRequest: when ``k < 1``.
    """
    return _dataset_mean(aggregates, k, "pass@k")


def dataset_pass_hat_k(aggregates: Iterable[SampleAggregate], k: int) -> DatasetPassAtK:
    """Dataset pass^k: the mean of the per-group pass^k (τ-bench convention).

    Each group uses its own scored ``n`` and ``c`` (they may differ between groups).
    Aggregates read from a reference document (no scored fields) use ``samples`` and
    ``passed``.

    Args:
        aggregates: Per-group aggregates, e.g. from :func:`aggregate_samples`.
        k: Number of attempts, at least 1.

    Returns:
        The mean, with the numbers of included and excluded (``n < k``) groups.

    Raises:
        InvalidRequest: when ``k < 1``.
    """
    return _dataset_mean(aggregates, k, "pass^k")
