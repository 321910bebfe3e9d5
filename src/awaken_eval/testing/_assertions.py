"""Readable assertions over replay reports, for pytest or any other test runner.

A failing report is explained one expectation per line, expected against actual, e.g.
``max_tokens_total: expected at most 100 tokens, got 250``; the same lines are used by
the pytest plugin (:mod:`awaken_eval.pytest_plugin`) for collected fixture items.

* :func:`describe_failure` — one :data:`~awaken_eval.Failure` as one line;
* :func:`assert_passes` — a report, run item or whole run must pass;
* :func:`assert_pass_rate` — a share of sampled reports must pass, optionally judged by
  the lower bound of a Wilson confidence interval.

Both assertions raise :class:`EvalAssertionError`, an :class:`AssertionError` whose
message lists every problem; their own frames are hidden from pytest tracebacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from awaken_eval._analysis.explain import explain, explain_item
from awaken_eval._analysis.stats import wilson_interval
from awaken_eval._records.failures import Failure
from awaken_eval._records.outcomes import ReplayReport
from awaken_eval._records.runs import EvalRun, EvalRunItem
from awaken_eval.errors import InvalidRequest

__all__ = [
    "EvalAssertionError",
    "assert_pass_rate",
    "assert_passes",
    "describe_failure",
]


class EvalAssertionError(AssertionError):
    """A report (or a set of sampled reports) did not meet its expectations.

    ``str(error)`` is the whole readable message: what failed, then one line per
    problem.

    Attributes:
        lines: The message, line by line.
    """

    def __init__(self, lines: Sequence[str]) -> None:
        """Create the error from the lines of its message."""
        self.lines: tuple[str, ...] = tuple(lines)
        super().__init__("\n".join(self.lines))


# -- describing failures ----------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def describe_failure(failure: Failure) -> str:
    """Explain one failure on one line: the expectation, then expected against actual.

    The summary of :func:`~awaken_eval.failures.explain`.

    Args:
        failure: A failure of a report.

    Returns:
        A plain-text line such as ``max_tokens_total: expected at most 100 tokens, got
        250`` or ``tool_sequence (exact): expected ['search'], got []``.
    """
    return explain(failure).summary


# -- describing reports ---------------------------------------------------------------------


def _report_of(target: ReplayReport | EvalRunItem) -> ReplayReport:
    return target.report if isinstance(target, EvalRunItem) else target


def _subject(target: ReplayReport | EvalRunItem) -> str:
    """``fixture 'id'``, with the model and sample of a run item."""
    report = _report_of(target)
    subject = f"fixture {report.fixture_id!r}"
    if isinstance(target, EvalRunItem):
        if target.cell is not None and target.cell.model_id is not None:
            subject += f" on model {target.cell.model_id!r}"
        if target.sample_index is not None:
            subject += f", sample {target.sample_index}"
    return subject


def _report_lines(target: ReplayReport | EvalRunItem) -> list[str]:
    report = _report_of(target)
    failures = report.failures
    lines = [f"{_subject(target)} failed ({_plural(len(failures), 'failure')}):"]
    if not failures:  # a report read from a file may say so without a reason
        lines[0] = f"{_subject(target)} failed (the report lists no failure)"
        return lines
    for explanation in explain_item(report):
        lines.append(f"  - {explanation.summary}")
        lines.extend(f"    {detail}" for detail in explanation.details)
    return lines


def assert_passes(target: ReplayReport | EvalRunItem | EvalRun) -> None:
    """Assert that a report passed, or every item of a run did.

    Args:
        target: A report, a run item (its model and sample are named on failure) or a
            whole run.

    Raises:
        EvalAssertionError: listing every failure of every failing report, one
            expectation per line, expected against actual.
    """
    __tracebackhide__ = True
    if isinstance(target, EvalRun):
        failing = [item for item in target.items if not item.report.passed]
        if not failing:
            return
        lines = [f"{len(failing)} of {_plural(len(target.items), 'item')} failed"]
        for item in failing:
            lines.extend(_report_lines(item))
        raise EvalAssertionError(lines)
    if not _report_of(target).passed:
        raise EvalAssertionError(_report_lines(target))


# -- pass rates --------------------------------------------------------------------------------


def _percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def _group_subject(targets: Sequence[ReplayReport | EvalRunItem]) -> str:
    groups = {
        (
            _report_of(target).fixture_id,
            target.cell.model_id
            if isinstance(target, EvalRunItem) and target.cell is not None
            else None,
        )
        for target in targets
    }
    if len(groups) == 1:
        ((fixture_id, model_id),) = groups
        on_model = "" if model_id is None else f" on model {model_id!r}"
        return f"fixture {fixture_id!r}{on_model}"
    fixtures = {fixture_id for fixture_id, _ in groups}
    return f"{_plural(len(targets), 'report')} of {_plural(len(fixtures), 'fixture')}"


def _failure_tally(reports: Sequence[ReplayReport]) -> list[str]:
    """Each distinct failure line with the number of samples it occurred in."""
    counts: dict[str, int] = {}
    for report in reports:
        for line in dict.fromkeys(describe_failure(failure) for failure in report.failures):
            counts[line] = counts.get(line, 0) + 1
    total = len(reports)
    return [f"  - {line} ({count} of {total} samples)" for line, count in counts.items()]


def assert_pass_rate(
    reports: EvalRun | Iterable[ReplayReport | EvalRunItem],
    *,
    at_least: float,
    confidence: float | None = None,
) -> None:
    """Assert that enough of the sampled reports passed.

    Without ``confidence`` the observed pass rate ``passed / n`` must be at least
    ``at_least``. With it, the *lower bound* of the two-sided Wilson score interval at
    that confidence must be: a claim that holds for the true pass rate, not just for
    this sample (so it needs more samples to pass).

    Args:
        reports: The reports, run items or a whole run (errored samples count as
            failures, as they never pass).
        at_least: The required pass rate, in [0, 1].
        confidence: Confidence level of the interval, strictly between 0 and 1 (e.g.
            0.95); ``None`` compares the observed rate.

    Raises:
        EvalAssertionError: when the rate (or the interval's lower bound) is below
            ``at_least``; the message shows passes/n, the rate, the interval and each
            distinct failure with the number of samples it occurred in.
        InvalidRequest: when there is no report, ``at_least`` is outside [0, 1] or
            ``confidence`` outside (0, 1).
    """
    __tracebackhide__ = True
    targets = list(reports.items if isinstance(reports, EvalRun) else reports)
    if not targets:
        msg = "assert_pass_rate needs at least one report"
        raise InvalidRequest(msg)
    if not 0.0 <= at_least <= 1.0:
        msg = f"at_least must be a pass rate in [0, 1], got {at_least!r}"
        raise InvalidRequest(msg)
    plain = [_report_of(target) for target in targets]
    n = len(plain)
    passed = sum(report.passed for report in plain)
    rate = passed / n
    observed = f"{passed} of {_plural(n, 'sample')} passed ({_percent(rate)}"
    if confidence is None:
        if rate >= at_least:
            return
        summary = f"{observed}), required at least {_percent(at_least)}"
    else:
        low, high = wilson_interval(passed, n, confidence=confidence)
        if low >= at_least:
            return
        summary = (
            f"{observed}; {_percent(confidence)} Wilson interval "
            f"[{_percent(low)}, {_percent(high)}]), required a lower bound of at least "
            f"{_percent(at_least)}"
        )
    lines = [f"{_group_subject(targets)}: {summary}"]
    tally = _failure_tally(plain)
    if tally:
        lines.append("failures:")
        lines.extend(tally)
    raise EvalAssertionError(lines)
