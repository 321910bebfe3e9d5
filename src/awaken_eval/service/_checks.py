"""The request-shape rules of a dataset run (spec §4.4) and the caps shared with online runs.

They read only the request and the limits: nothing is loaded, resolved or spent.
"""

from __future__ import annotations

from awaken_eval._records.rules import validate_unique_models
from awaken_eval.errors import InvalidRequest
from awaken_eval.service._requests import EvalLimits, JudgeRequestSpec, StartRunRequest

__all__ = [
    "check_revisions",
    "check_samples",
    "check_start_shape",
    "check_walltime",
]

_LIVE_ONLY = 'requires mode="live"'


def check_samples(samples: int | None, limits: EvalLimits) -> int:
    """The sample count of a request: ``samples`` or 1, within the per-cell cap.

    Raises:
        InvalidRequest: ``samples`` is 0 or above ``limits.max_samples_per_cell``.
    """
    if samples == 0:
        msg = "samples must be >= 1 when given"
        raise InvalidRequest(msg)
    count = 1 if samples is None else samples
    if count > limits.max_samples_per_cell:
        msg = f"samples={count} exceeds cap {limits.max_samples_per_cell}"
        raise InvalidRequest(msg)
    return count


def check_revisions(judge: JudgeRequestSpec | None, limits: EvalLimits) -> None:
    """Check the judge's revise retries against the cap.

    Raises:
        InvalidRequest: ``judge.revise_max_retries`` is above ``limits.max_judge_revisions``.
    """
    if judge is None or judge.revise_max_retries is None:
        return
    if judge.revise_max_retries > limits.max_judge_revisions:
        msg = (
            f"revise_max_retries={judge.revise_max_retries} exceeds cap "
            f"{limits.max_judge_revisions}"
        )
        raise InvalidRequest(msg)


def check_walltime(walltime_secs: int | None, limits: EvalLimits) -> None:
    """Check a requested cell deadline: at least 1 second, at most ``limits.max_walltime_secs``.

    Raises:
        InvalidRequest: naming the value and the bound it breaks.
    """
    if walltime_secs is None:
        return
    if walltime_secs == 0:
        msg = "max_walltime_secs must be >= 1"
        raise InvalidRequest(msg)
    if walltime_secs > limits.max_walltime_secs:
        msg = f"max_walltime_secs={walltime_secs} exceeds cap {limits.max_walltime_secs}"
        raise InvalidRequest(msg)


def check_start_shape(request: StartRunRequest, limits: EvalLimits) -> int:  # noqa: C901 - the spec's rules, in its order
    """Rules 2 to 11 of spec §4.4, in order; returns the sample count.

    Raises:
        InvalidRequest: the first rule the request breaks.
    """
    live = request.live
    if not live and request.models is not None:
        msg = '`models` is only valid with mode="live"'
        raise InvalidRequest(msg)
    if live:
        if request.models is None:
            msg = 'mode="live" requires `models` (a non-empty list of model ids)'
            raise InvalidRequest(msg)
        if not request.models:
            msg = 'mode="live" needs a non-empty `models` list'
            raise InvalidRequest(msg)
        validate_unique_models(request.models)
    scripted_only = (
        ("max_walltime_secs", request.max_walltime_secs),
        ("max_total_tokens", request.max_total_tokens),
    )
    for name, value in scripted_only:
        if not live and value is not None:
            msg = f"{name} {_LIVE_ONLY}"
            raise InvalidRequest(msg)
    if live:
        check_walltime(request.max_walltime_secs, limits)
    agent_fields = (("agent_id", request.agent_id), ("agent_overrides", request.agent_overrides))
    for name, agent_value in agent_fields:
        if not live and agent_value is not None:
            msg = f"{name} {_LIVE_ONLY}"
            raise InvalidRequest(msg)
    if request.samples == 0:
        msg = "samples must be >= 1 when given"
        raise InvalidRequest(msg)
    if not live and request.samples is not None:
        msg = f"samples {_LIVE_ONLY}: scripted replays are deterministic"
        raise InvalidRequest(msg)
    samples = check_samples(request.samples, limits)
    if request.judge is not None and not live:
        msg = f"judge {_LIVE_ONLY}"
        raise InvalidRequest(msg)
    check_revisions(request.judge, limits)
    return samples
