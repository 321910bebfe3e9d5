"""The evaluator behind the ``awaken_eval`` pytest fixture: :class:`AwakenEval`.

It replays fixtures from tests through :func:`~awaken_eval.run_eval` and asserts on the
reports. The pytest plugin builds one per test (and one per process for collected
fixture items). This module imports only the standard library when loaded: the engine
and the records load when a replay runs, so the plugin costs nothing until it is used.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from awaken_eval._engine.options import RunOptions
    from awaken_eval._records.fixtures import Fixture
    from awaken_eval._records.inference import AgentSpec, ResolvedModel
    from awaken_eval._records.outcomes import ReplayReport
    from awaken_eval._records.runs import EvalRun
    from awaken_eval.protocols import Judge, LlmExecutor, Replayer, TraceSink

__all__ = ["AwakenEval", "ReplayOptions"]


class ReplayOptions(TypedDict, total=False):
    """Keyword options of the :class:`~awaken_eval.AwakenEval` methods (all optional).

    Attributes:
        model: Replay live on this model (default: scripted replay of the fixture's
            provider script).
        replayer: The replayer (default: the evaluator's).
        executor: The live executor (default: the evaluator's).
        agent: The agent spec of a live replay.
        judge: Grades fixtures with ``min_judge_score`` (live).
        rubric: The judge's instructions (required with a judge).
        revise_max_retries: Revise-and-retry loop limit (live).
        max_walltime_secs: Deadline of one live replay (``None``: none).
        max_total_tokens: Token budget of one live replay.
        sink: Receives spans and run events.
    """

    model: str | None
    replayer: Replayer | None
    executor: LlmExecutor | None
    agent: AgentSpec | None
    judge: Judge | None
    rubric: str | None
    revise_max_retries: int | None
    max_walltime_secs: float | None
    max_total_tokens: int | None
    sink: TraceSink | None


def _in_event_loop() -> bool:
    import asyncio  # noqa: PLC0415 - only needed on this path

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        trio = sys.modules.get("trio")
        in_trio_run = getattr(getattr(trio, "lowlevel", None), "in_trio_run", None)
        return bool(in_trio_run is not None and in_trio_run())
    return True


class AwakenEval:
    """Replays fixtures from tests: the object the ``awaken_eval`` pytest fixture gives.

    Every method takes a :class:`~awaken_eval.Fixture` or the path of a fixture
    file (relative paths are resolved against ``base_dir``: the test module's directory
    when the pytest fixture built the evaluator) and the
    :class:`~awaken_eval.pytest_plugin.ReplayOptions`. A replay goes through
    :func:`~awaken_eval.run_eval`, scored as in any run.

    * :meth:`replay` — one replay, its report (no assertion);
    * :meth:`replay_samples` — ``samples`` live replays, their reports;
    * :meth:`check` — replay and assert: the report must pass, or with samples the pass
      rate must reach ``min_pass_rate`` (see :func:`~awaken_eval.testing.assert_pass_rate`).

    The ``a``-prefixed methods are the same for async tests (the plain ones start their
    own event loop and refuse to run inside one).

    Args:
        replayer: The replayer (default: the built-in agent loop).
        executor: The executor of live replays (``model=...``).
        base_dir: Where relative fixture paths start (default: the working directory).
        samples: Samples of :meth:`check` and :meth:`replay_samples` by default (``None``:
            :meth:`check` replays once).
        min_pass_rate: The pass rate :meth:`check` requires of sampled replays.
        confidence: When set, :meth:`check` requires the lower bound of the Wilson
            interval at this confidence to reach ``min_pass_rate``.
        judge: Grades fixtures with ``min_judge_score`` in live replays (a replay's
            ``judge=`` option wins).
        rubric: The judge's instructions (a replay's ``rubric=`` option wins).

    Raises:
        InvalidRequest: when ``samples``, ``min_pass_rate`` or ``confidence`` is out of
            range.
    """

    def __init__(
        self,
        *,
        replayer: Replayer | None = None,
        executor: LlmExecutor | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        samples: int | None = None,
        min_pass_rate: float = 1.0,
        confidence: float | None = None,
        judge: Judge | None = None,
        rubric: str | None = None,
    ) -> None:
        """Configure the evaluator (see the class docstring)."""
        from awaken_eval.errors import InvalidRequest  # noqa: PLC0415

        if samples is not None and (isinstance(samples, bool) or samples < 1):
            msg = f"samples must be a whole number >= 1, got {samples!r}"
            raise InvalidRequest(msg)
        if not 0.0 <= min_pass_rate <= 1.0:
            msg = f"min_pass_rate must be between 0 and 1, got {min_pass_rate!r}"
            raise InvalidRequest(msg)
        if confidence is not None and not 0.0 < confidence < 1.0:
            msg = f"confidence must be strictly between 0 and 1, got {confidence!r}"
            raise InvalidRequest(msg)
        self.replayer = replayer
        self.executor = executor
        self.base_dir = Path(base_dir) if base_dir is not None else None
        self.samples = samples
        self.min_pass_rate = min_pass_rate
        self.confidence = confidence
        self.judge = judge
        self.rubric = rubric

    # -- sync -----------------------------------------------------------------------------

    def replay(
        self, fixture: Fixture | str | os.PathLike[str], **options: Unpack[ReplayOptions]
    ) -> ReplayReport:
        """Replay ``fixture`` once and return its report (nothing is asserted).

        Raises:
            InvalidInput: when the fixture file does not load (naming file and JSON path).
            InvalidRequest: when the options break a rule of the engine.
        """
        return self._run(fixture, 1, options).items[0].report

    def replay_samples(
        self,
        fixture: Fixture | str | os.PathLike[str],
        *,
        samples: int | None = None,
        **options: Unpack[ReplayOptions],
    ) -> list[ReplayReport]:
        """Replay ``fixture`` ``samples`` times live and return the reports in order.

        Args:
            fixture: The fixture or its file.
            samples: How many (default: the evaluator's ``samples``).
            **options: The :class:`~awaken_eval.pytest_plugin.ReplayOptions`; ``model`` is
                required when sampling.

        Raises:
            InvalidRequest: when there is no sample count, or samples without a model.
        """
        run = self._run(fixture, self._sample_count(samples, required=True), options)
        return [item.report for item in run.items]

    def check(
        self,
        fixture: Fixture | str | os.PathLike[str],
        *,
        samples: int | None = None,
        **options: Unpack[ReplayOptions],
    ) -> list[ReplayReport]:
        """Replay ``fixture`` and assert: one replay must pass, samples must reach the rate.

        Args:
            fixture: The fixture or its file.
            samples: How many live samples (default: the evaluator's, else one replay).
            **options: The :class:`~awaken_eval.pytest_plugin.ReplayOptions`.

        Returns:
            The reports, for further assertions.

        Raises:
            EvalAssertionError: with one readable line per failed expectation.
        """
        __tracebackhide__ = True
        count = self._sample_count(samples, required=False)
        run = self._run(fixture, count, options)
        self._assert(run, count)
        return [item.report for item in run.items]

    # -- async ----------------------------------------------------------------------------

    async def areplay(
        self, fixture: Fixture | str | os.PathLike[str], **options: Unpack[ReplayOptions]
    ) -> ReplayReport:
        """:meth:`replay` for async tests."""
        return (await self._arun(fixture, 1, options)).items[0].report

    async def areplay_samples(
        self,
        fixture: Fixture | str | os.PathLike[str],
        *,
        samples: int | None = None,
        **options: Unpack[ReplayOptions],
    ) -> list[ReplayReport]:
        """:meth:`replay_samples` for async tests."""
        run = await self._arun(fixture, self._sample_count(samples, required=True), options)
        return [item.report for item in run.items]

    async def acheck(
        self,
        fixture: Fixture | str | os.PathLike[str],
        *,
        samples: int | None = None,
        **options: Unpack[ReplayOptions],
    ) -> list[ReplayReport]:
        """:meth:`check` for async tests."""
        __tracebackhide__ = True
        count = self._sample_count(samples, required=False)
        run = await self._arun(fixture, count, options)
        self._assert(run, count)
        return [item.report for item in run.items]

    # -- internals ------------------------------------------------------------------------

    def _sample_count(self, samples: int | None, *, required: bool) -> int:
        from awaken_eval.errors import InvalidRequest  # noqa: PLC0415

        count = samples if samples is not None else self.samples
        if count is None:
            if required:
                msg = "replay_samples needs samples=N (or an awaken_samples marker)"
                raise InvalidRequest(msg)
            return 1
        if isinstance(count, bool) or count < 1:
            msg = f"samples must be a whole number >= 1, got {count!r}"
            raise InvalidRequest(msg)
        return count

    def _assert(self, run: EvalRun, samples: int) -> None:
        __tracebackhide__ = True
        from awaken_eval.testing._assertions import assert_pass_rate, assert_passes  # noqa: PLC0415

        if samples == 1:
            assert_passes(run.items[0])
        else:
            assert_pass_rate(run, at_least=self.min_pass_rate, confidence=self.confidence)

    def _load(self, fixture: Fixture | str | os.PathLike[str]) -> Fixture:
        from awaken_eval._io.files import load_fixture  # noqa: PLC0415
        from awaken_eval._records.fixtures import Fixture  # noqa: PLC0415

        if isinstance(fixture, Fixture):
            return fixture
        path = Path(fixture)
        if not path.is_absolute() and self.base_dir is not None:
            path = self.base_dir / path
        return load_fixture(path)

    def _call(self, samples: int, options: ReplayOptions) -> _RunCall:
        from awaken_eval._engine.options import DEFAULT_MAX_WALLTIME_SECS, RunOptions  # noqa: PLC0415
        from awaken_eval._records.inference import ResolvedModel  # noqa: PLC0415
        from awaken_eval._records.model_ids import is_provider_model  # noqa: PLC0415
        from awaken_eval._records.runs import EvalRunExecutionMode  # noqa: PLC0415
        from awaken_eval.errors import InvalidRequest  # noqa: PLC0415

        model = options.get("model")
        executor = options.get("executor", self.executor)
        models: list[ResolvedModel] = []
        owned: list[Any] = []  # provider executors this call opens and closes
        if model is None:
            if samples > 1:
                msg = (
                    f"{samples} samples need a live replay: pass model=... "
                    "(scripted replays are deterministic)"
                )
                raise InvalidRequest(msg)
        elif executor is None and is_provider_model(model):  # openai:X, anthropic:Y
            from awaken_eval.providers._resolve import resolve_model  # noqa: PLC0415

            models.append(resolve_model(model))
            owned.append(models[-1].executor)
        else:
            if executor is None:
                msg = (
                    f"a live replay on model {model!r} needs an executor: pass executor=..., "
                    "set awaken_executor, or name a provider model (openai:MODEL, "
                    "anthropic:MODEL)"
                )
                raise InvalidRequest(msg)
            models.append(ResolvedModel(model_id=model, executor=executor, upstream_model=model))
        run_options = RunOptions(
            mode=EvalRunExecutionMode.SCRIPTED if model is None else EvalRunExecutionMode.LIVE,
            models=[resolved.model_id for resolved in models],
            samples=samples,
            rubric=options.get("rubric", self.rubric),
            revise_max_retries=options.get("revise_max_retries"),
            max_walltime_secs=options.get("max_walltime_secs", DEFAULT_MAX_WALLTIME_SECS),
            max_total_tokens=options.get("max_total_tokens"),
        )
        return _RunCall(
            options=run_options,
            models=models,
            replayer=options.get("replayer", self.replayer),
            agent=options.get("agent"),
            judge=options.get("judge", self.judge),
            sink=options.get("sink"),
            owned=owned,
        )

    def _run(
        self, fixture: Fixture | str | os.PathLike[str], samples: int, options: ReplayOptions
    ) -> EvalRun:
        from awaken_eval._engine.runner import run_eval_sync  # noqa: PLC0415
        from awaken_eval.errors import InvalidRequest  # noqa: PLC0415

        if _in_event_loop():
            msg = (
                "AwakenEval's synchronous methods start their own event loop; in an async "
                "test await areplay(), areplay_samples() or acheck() instead"
            )
            raise InvalidRequest(msg)
        loaded = self._load(fixture)
        call = self._call(samples, options)
        if call.owned:  # provider clients are closed in the loop that used them
            import anyio  # noqa: PLC0415

            return anyio.run(self._execute, loaded, call)
        return run_eval_sync(
            [loaded],
            call.options,
            models=call.models,
            replayer=call.replayer,
            agent=call.agent,
            judge=call.judge,
            sink=call.sink,
        )

    async def _arun(
        self, fixture: Fixture | str | os.PathLike[str], samples: int, options: ReplayOptions
    ) -> EvalRun:
        return await self._execute(self._load(fixture), self._call(samples, options))

    @staticmethod
    async def _execute(loaded: Fixture, call: _RunCall) -> EvalRun:
        from awaken_eval._engine.runner import run_eval  # noqa: PLC0415

        try:
            return await run_eval(
                [loaded],
                call.options,
                models=call.models,
                replayer=call.replayer,
                agent=call.agent,
                judge=call.judge,
                sink=call.sink,
            )
        finally:
            for executor in call.owned:
                await executor.aclose()


@dataclasses.dataclass(frozen=True, kw_only=True)
class _RunCall:
    """What one :class:`AwakenEval` replay hands to :func:`~awaken_eval.run_eval`."""

    options: RunOptions
    models: list[ResolvedModel]
    replayer: Replayer | None
    agent: AgentSpec | None
    judge: Judge | None
    sink: TraceSink | None
    owned: list[Any] = dataclasses.field(default_factory=list)
