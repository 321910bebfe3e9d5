"""The awaken-eval pytest plugin: fixture files become tests, hand-written tests get help.

Installed with the package (entry point ``pytest11``, name ``awaken_eval``; disable it
with ``-p no:awaken_eval``). It stays inert until configured: with no ``awaken_*``
option set it only registers its options, the ``awaken_samples`` marker and the
``awaken_eval`` fixture; no collection hook is registered and no engine code runs.

Options (ini option, command-line flag; the flag wins):

* ``awaken_fixtures`` / ``--awaken-fixtures DIR`` (repeatable): directories whose
  ``*.json`` files, at any depth, are fixtures. Each becomes one test item, or one per
  model with ``awaken_models``. They are collected like ``testpaths`` when pytest runs
  without path arguments; with path arguments, from the paths named.
* ``awaken_replayer`` / ``--awaken-replayer module:factory``: a factory called with no
  argument that returns the :class:`~awaken_eval.Replayer` (default: the
  built-in :class:`~awaken_eval.AgentLoopReplayer`, scripted).
* ``awaken_executor`` / ``--awaken-executor module:factory``: a factory returning the
  :class:`~awaken_eval.LlmExecutor` of live runs.
* ``awaken_models`` / ``--awaken-models a,b``: live mode on these models (one item per
  fixture and model); needs an executor.
* ``awaken_samples`` / ``--awaken-samples N``: live samples per item; an item passes
  when its pass rate is at least ``awaken_min_pass_rate`` /
  ``--awaken-min-pass-rate`` (default 1.0).

Import strings are resolved when pytest starts (a bad one is a usage error naming it);
factories are called once per process, when the first test needs them. Every item
replays in its own event loop (:func:`~awaken_eval.run_eval_sync`), so executors
must not keep event-loop-bound resources between calls.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr
    from typing_extensions import Unpack

    from awaken_eval._engine.options import RunOptions
    from awaken_eval._records.fixtures import Fixture
    from awaken_eval._records.inference import AgentSpec, ResolvedModel
    from awaken_eval._records.outcomes import ReplayReport
    from awaken_eval._records.runs import EvalRun
    from awaken_eval.protocols import Judge, LlmExecutor, Replayer, TraceSink

__all__ = [
    "AwakenEval",
    "FixtureFile",
    "FixtureItem",
    "ReplayOptions",
]

_MARKER = "awaken_samples"
_MARKER_HELP = (
    "awaken_samples(n, *, min_pass_rate=1.0, confidence=None): awaken_eval.check() in "
    "this test replays n live samples and asserts their pass rate (awaken-eval)"
)


class _PluginError(Exception):
    """A configuration or engine problem shown as its message alone (no traceback)."""


# -- settings -------------------------------------------------------------------------------


# A stdlib dataclass rather than attrs: pytest already imports dataclasses, and this
# module must cost nothing in sessions that never use the plugin.
@dataclasses.dataclass(frozen=True, kw_only=True)
class _Settings:
    """The plugin's options after validation (only built when one is set)."""

    fixture_dirs: tuple[Path, ...]
    replayer: str | None
    executor: str | None
    models: tuple[str, ...]
    samples: int
    min_pass_rate: float


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _value(config: pytest.Config, name: str) -> tuple[str, str]:
    """``(value, label)`` of an option as text: the flag when given, else the ini value.

    Raises:
        pytest.UsageError: when pytest cannot read the ini value (e.g. a number option
            holding text).
    """
    given: str | None = config.getoption(name)
    if given is not None:
        return given.strip(), _flag(name)
    try:
        ini: object = config.getini(name)
    except (TypeError, ValueError, pytest.UsageError) as exc:
        msg = f"{name}: {exc}"
        raise pytest.UsageError(msg) from None
    if ini is None:
        return "", name
    if isinstance(ini, list):  # the "args" type: a TOML list, or words of an ini line
        return ",".join(str(part) for part in ini), name
    return str(ini).strip(), name


def _fixture_dirs(config: pytest.Config) -> tuple[tuple[Path, ...], str]:
    given: list[str] | None = config.getoption("awaken_fixtures")
    if given:
        base = config.invocation_params.dir
        return tuple(base / text for text in given), _flag("awaken_fixtures")
    ini: list[Path] = config.getini("awaken_fixtures")
    return tuple(ini), "awaken_fixtures"


def _models(text: str, label: str) -> tuple[str, ...]:
    models = tuple(part for part in text.replace(",", " ").split() if part)
    seen: set[str] = set()
    for model in models:
        if model in seen:
            msg = f"{label}: model {model!r} is listed twice"
            raise pytest.UsageError(msg)
        seen.add(model)
    return models


def _samples(text: str, label: str) -> int:
    try:
        samples = int(text) if text else 1
    except ValueError:
        samples = 0
    if samples < 1:
        msg = f"{label}: expected a whole number of samples >= 1, got {text!r}"
        raise pytest.UsageError(msg)
    return samples


def _pass_rate(text: str, label: str) -> float:
    try:
        rate = float(text) if text else 1.0
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:
        msg = f"{label}: expected a pass rate between 0 and 1, got {text!r}"
        raise pytest.UsageError(msg)
    return rate


def _read_settings(config: pytest.Config) -> _Settings | None:
    """The validated options, or ``None`` when no ``awaken_*`` option is set.

    Raises:
        pytest.UsageError: naming the option that is wrong and why.
    """
    dirs, dirs_label = _fixture_dirs(config)
    replayer, _ = _value(config, "awaken_replayer")
    executor, executor_label = _value(config, "awaken_executor")
    models_text, models_label = _value(config, "awaken_models")
    samples_text, samples_label = _value(config, "awaken_samples")
    rate_text, rate_label = _value(config, "awaken_min_pass_rate")
    if not (dirs or replayer or executor or models_text or samples_text or rate_text):
        return None
    for directory in dirs:
        if not directory.is_dir():
            problem = "is not a directory" if directory.exists() else "not found"
            msg = f"{dirs_label}: fixture directory {problem}: {directory}"
            raise pytest.UsageError(msg)
    models = _models(models_text, models_label)
    samples = _samples(samples_text, samples_label)
    if models and not executor:
        msg = (
            f"{models_label} asks for a live run, which needs an executor: set "
            "awaken_executor (--awaken-executor module:factory) to a factory returning "
            "an LlmExecutor"
        )
        raise pytest.UsageError(msg)
    if executor and not models:
        msg = (
            f"{executor_label} needs the models to run live: set awaken_models "
            "(--awaken-models a,b)"
        )
        raise pytest.UsageError(msg)
    if samples > 1 and not models:
        msg = (
            f"{samples_label}={samples} needs a live run (awaken_models and "
            "awaken_executor): scripted replays are deterministic"
        )
        raise pytest.UsageError(msg)
    return _Settings(
        fixture_dirs=tuple(Path(os.path.abspath(directory)) for directory in dirs),  # noqa: PTH100 - normalises like pytest's node paths
        replayer=replayer or None,
        executor=executor or None,
        models=models,
        samples=samples,
        min_pass_rate=_pass_rate(rate_text, rate_label),
    )


def _load_factory(spec: str, label: str) -> Callable[..., object]:
    """Resolve an import string ``module:attribute`` (dotted attributes allowed).

    Raises:
        pytest.UsageError: the loader's message, naming ``label``, ``spec`` and what
            failed (malformed string, module not found or failing, attribute missing,
            not callable).
    """
    from awaken_eval._io.imports import load_factory  # noqa: PLC0415
    from awaken_eval.errors import InvalidRequest  # noqa: PLC0415

    try:
        return load_factory(spec, what=label)
    except InvalidRequest as exc:
        raise pytest.UsageError(exc.message) from None


# -- the runtime: factories called once, lazily --------------------------------------------------


class _Runtime:
    """What the configured plugin shares between items and fixtures of one process."""

    def __init__(
        self,
        settings: _Settings | None,
        *,
        replayer_factory: tuple[str, Callable[..., object]] | None = None,
        executor_factory: tuple[str, Callable[..., object]] | None = None,
    ) -> None:
        self.settings = settings
        self._factories = {"awaken_replayer": replayer_factory, "awaken_executor": executor_factory}
        self._built: dict[str, object] = {}
        self._failed: dict[str, str] = {}
        self._items: AwakenEval | None = None

    def _build(self, name: str, expected: type, what: str) -> Any:
        if name in self._failed:
            raise _PluginError(self._failed[name])
        if name in self._built:
            return self._built[name]
        factory = self._factories[name]
        if factory is None:
            return None
        spec, call = factory
        try:
            built = call()
        except Exception as exc:  # noqa: BLE001 - user code failure, reported by name
            message = f"{name} {spec!r} raised {type(exc).__name__}: {exc}"
        else:
            if isinstance(built, expected):
                self._built[name] = built
                return built
            message = f"{name} {spec!r} returned {type(built).__name__}, not {what}"
        self._failed[name] = message
        raise _PluginError(message)

    def replayer(self) -> Replayer | None:
        """The configured replayer (``None``: the engine's default)."""
        from awaken_eval.protocols import Replayer  # noqa: PLC0415

        replayer: Replayer | None = self._build(
            "awaken_replayer", Replayer, "a Replayer (an object with async replay())"
        )
        return replayer

    def executor(self) -> LlmExecutor | None:
        """The configured live executor, if any."""
        from awaken_eval.protocols import LlmExecutor  # noqa: PLC0415

        executor: LlmExecutor | None = self._build(
            "awaken_executor", LlmExecutor, "an LlmExecutor (an object with async execute())"
        )
        return executor

    def item_evaluator(self) -> AwakenEval:
        """The evaluator collected fixture items run through."""
        if self._items is None:
            settings = self.settings
            assert settings is not None  # noqa: S101 - items exist only when configured
            self._items = AwakenEval(
                replayer=self.replayer(),
                executor=self.executor(),
                samples=settings.samples,
                min_pass_rate=settings.min_pass_rate,
            )
        return self._items


_RUNTIME = pytest.StashKey[_Runtime]()
_SEEN_IDS = pytest.StashKey[dict[tuple[Path, str], str]]()


def _runtime(config: pytest.Config) -> _Runtime:
    runtime = config.stash.get(_RUNTIME, None)
    if runtime is None:
        runtime = config.stash[_RUNTIME] = _Runtime(None)
    return runtime


# -- the evaluator behind the fixture ----------------------------------------------------------


class ReplayOptions(TypedDict, total=False):
    """Keyword options of the :class:`AwakenEval` methods (all optional).

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
    when the pytest fixture built the evaluator) and the :class:`ReplayOptions`. A
    replay goes through :func:`~awaken_eval.run_eval`, scored as in any run.

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
            **options: The :class:`ReplayOptions`; ``model`` is required when sampling.

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
            **options: The :class:`ReplayOptions`.

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
        from awaken_eval._records.runs import EvalRunExecutionMode  # noqa: PLC0415
        from awaken_eval.errors import InvalidRequest  # noqa: PLC0415

        model = options.get("model")
        executor = options.get("executor", self.executor)
        models: list[ResolvedModel] = []
        if model is None:
            if samples > 1:
                msg = (
                    f"{samples} samples need a live replay: pass model=... "
                    "(scripted replays are deterministic)"
                )
                raise InvalidRequest(msg)
        else:
            if executor is None:
                msg = (
                    f"a live replay on model {model!r} needs an executor: pass executor=... "
                    "or set awaken_executor"
                )
                raise InvalidRequest(msg)
            models.append(ResolvedModel(model_id=model, executor=executor, upstream_model=model))
        run_options = RunOptions(
            mode=EvalRunExecutionMode.SCRIPTED if model is None else EvalRunExecutionMode.LIVE,
            models=[resolved.model_id for resolved in models],
            samples=samples,
            rubric=options.get("rubric"),
            revise_max_retries=options.get("revise_max_retries"),
            max_walltime_secs=options.get("max_walltime_secs", DEFAULT_MAX_WALLTIME_SECS),
            max_total_tokens=options.get("max_total_tokens"),
        )
        return _RunCall(
            options=run_options,
            models=models,
            replayer=options.get("replayer", self.replayer),
            agent=options.get("agent"),
            judge=options.get("judge"),
            sink=options.get("sink"),
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
        from awaken_eval._engine.runner import run_eval  # noqa: PLC0415

        loaded = self._load(fixture)
        call = self._call(samples, options)
        return await run_eval(
            [loaded],
            call.options,
            models=call.models,
            replayer=call.replayer,
            agent=call.agent,
            judge=call.judge,
            sink=call.sink,
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class _RunCall:
    """What one :class:`AwakenEval` replay hands to :func:`~awaken_eval.run_eval`."""

    options: RunOptions
    models: list[ResolvedModel]
    replayer: Replayer | None
    agent: AgentSpec | None
    judge: Judge | None
    sink: TraceSink | None


# -- collection ----------------------------------------------------------------------------------


class FixtureFile(pytest.File):
    """A fixture JSON file under a configured fixture directory.

    It loads strictly; a file that does not load is a collection error showing the
    library's message (the file and every problem with its JSON path), no traceback.
    """

    def collect(self) -> Iterator[FixtureItem]:
        """Yield one item for the fixture, or one per configured model."""
        from awaken_eval._io.files import load_fixture  # noqa: PLC0415
        from awaken_eval.errors import AwakenEvalError, DuplicateFixtureId, InvalidInput  # noqa: PLC0415

        try:
            fixture = load_fixture(self.path)
        except InvalidInput as exc:
            raise self.CollectError(str(exc.located(source=self.nodeid))) from None
        except AwakenEvalError as exc:
            raise self.CollectError(str(exc)) from None
        seen = self.config.stash.setdefault(_SEEN_IDS, {})
        key = (self.path.parent, fixture.id)
        first = seen.setdefault(key, self.nodeid)
        if first != self.nodeid:
            duplicate = DuplicateFixtureId(fixture.id, source=self.nodeid)
            msg = f"{duplicate} (first defined in {first})"
            raise self.CollectError(msg)
        settings = _runtime(self.config).settings
        models: Sequence[str | None] = (settings.models if settings else ()) or (None,)
        for model in models:
            name = fixture.id if model is None else f"{fixture.id}[{model}]"
            yield FixtureItem.from_parent(self, name=name, fixture=fixture, model=model)


class FixtureItem(pytest.Item):
    """One fixture (on one model, when live) replayed as a test.

    The item runs :meth:`AwakenEval.check` with the configured replayer, executor,
    samples and minimum pass rate. A failure is reported as readable lines: the fixture,
    the model, then each failed expectation, expected against actual; no traceback.

    Attributes:
        fixture: The fixture.
        model: The live model, or ``None`` for a scripted replay.
    """

    def __init__(self, *, fixture: Fixture, model: str | None, **kwargs: Any) -> None:
        """Create the item (use ``FixtureItem.from_parent``)."""
        super().__init__(**kwargs)
        self.fixture = fixture
        self.model = model

    def runtest(self) -> None:
        """Replay, score and assert.

        Raises:
            EvalAssertionError: when the fixture failed its expectations.
        """
        from awaken_eval.errors import AwakenEvalError  # noqa: PLC0415

        try:
            _runtime(self.config).item_evaluator().check(self.fixture, model=self.model)
        except AwakenEvalError as exc:
            on_model = "" if self.model is None else f" on model {self.model!r}"
            msg = f"fixture {self.fixture.id!r}{on_model} could not be replayed: {exc}"
            raise _PluginError(msg) from None

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        """The readable lines of a failed fixture; a traceback for anything else."""
        from awaken_eval.testing._assertions import EvalAssertionError  # noqa: PLC0415

        if isinstance(excinfo.value, (EvalAssertionError, _PluginError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the item comes from: the fixture file, no line, the item name."""
        return self.path, None, self.name


class _Collection:
    """The collection hook, registered only when fixture directories are configured."""

    def __init__(self, directories: Sequence[Path]) -> None:
        self.directories = tuple(directories)

    def pytest_collect_file(self, file_path: Path, parent: pytest.Collector) -> FixtureFile | None:
        """Collect ``*.json`` files (not dot-named) under a fixture directory."""
        if file_path.suffix != ".json" or file_path.name.startswith("."):
            return None
        if not any(file_path.is_relative_to(directory) for directory in self.directories):
            return None
        file: FixtureFile = FixtureFile.from_parent(parent, path=file_path)
        return file


# -- hooks ---------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``awaken_*`` ini options and ``--awaken-*`` flags."""
    group = parser.getgroup("awaken_eval", "awaken-eval: agent fixtures as tests")
    group.addoption(
        "--awaken-fixtures",
        action="append",
        dest="awaken_fixtures",
        metavar="DIR",
        help="directory of fixture JSON files to collect as tests (repeatable)",
    )
    group.addoption(
        "--awaken-replayer",
        dest="awaken_replayer",
        metavar="MODULE:FACTORY",
        help="factory returning the Replayer (default: the built-in scripted agent loop)",
    )
    group.addoption(
        "--awaken-executor",
        dest="awaken_executor",
        metavar="MODULE:FACTORY",
        help="factory returning the LlmExecutor of live runs",
    )
    group.addoption(
        "--awaken-models",
        dest="awaken_models",
        metavar="A,B",
        help="run live on these models: one test per fixture and model",
    )
    group.addoption(
        "--awaken-samples",
        dest="awaken_samples",
        metavar="N",
        help="live samples per fixture test (default 1)",
    )
    group.addoption(
        "--awaken-min-pass-rate",
        dest="awaken_min_pass_rate",
        metavar="RATE",
        help="pass rate a sampled fixture test needs, 0 to 1 (default 1.0)",
    )
    parser.addini("awaken_fixtures", "fixture directories collected as tests", type="paths")
    parser.addini("awaken_replayer", "module:factory returning the Replayer", default="")
    parser.addini("awaken_executor", "module:factory returning the LlmExecutor", default="")
    parser.addini("awaken_models", "live models (comma- or space-separated)", type="args")
    # Typed numbers where pytest has them (8.4+), so TOML may hold plain numbers.
    typed = pytest.version_tuple >= (8, 4)
    int_type: Literal["int", "string"] = "int" if typed else "string"
    float_type: Literal["float", "string"] = "float" if typed else "string"
    parser.addini(
        "awaken_samples",
        "live samples per fixture test",
        type=int_type,
        default=None,
    )
    parser.addini(
        "awaken_min_pass_rate",
        "pass rate a sampled fixture test needs",
        type=float_type,
        default=None,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; when configured, validate and enable fixture collection.

    Raises:
        pytest.UsageError: when an option is invalid or an import string is bad.
    """
    config.addinivalue_line("markers", _MARKER_HELP)
    settings = _read_settings(config)
    if settings is None:
        return
    replayer = executor = None
    if settings.replayer is not None:
        replayer = (settings.replayer, _load_factory(settings.replayer, "awaken_replayer"))
    if settings.executor is not None:
        executor = (settings.executor, _load_factory(settings.executor, "awaken_executor"))
    config.stash[_RUNTIME] = _Runtime(
        settings, replayer_factory=replayer, executor_factory=executor
    )
    if not settings.fixture_dirs:
        return
    config.pluginmanager.register(_Collection(settings.fixture_dirs), "awaken_eval-collection")
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        # Like testpaths: collected when no path was named (unless already included).
        base = config.invocation_params.dir
        included = [Path(os.path.abspath(base / arg)) for arg in config.args]  # noqa: PTH100
        config.args.extend(
            str(directory)
            for directory in settings.fixture_dirs
            if not any(directory.is_relative_to(path) for path in included)
        )


def _marker_arguments(
    n: int, *, min_pass_rate: float = 1.0, confidence: float | None = None
) -> tuple[int, float, float | None]:
    return n, min_pass_rate, confidence


@pytest.fixture
def awaken_eval(request: pytest.FixtureRequest) -> AwakenEval:
    """Replay awaken-eval fixtures in a test: ``awaken_eval.check("fixtures/x.json")``.

    Relative fixture paths start at the test module's directory. The configured
    ``awaken_replayer`` and ``awaken_executor`` are used; an
    ``@pytest.mark.awaken_samples(n, min_pass_rate=..., confidence=...)`` marker sets
    the samples and pass rate of ``check()``. See :class:`AwakenEval`.
    """
    from awaken_eval.errors import AwakenEvalError  # noqa: PLC0415

    runtime = _runtime(request.config)
    samples: int | None = None
    min_pass_rate, confidence = 1.0, None
    marker = request.node.get_closest_marker(_MARKER)
    if marker is not None:
        try:
            bound = inspect.signature(_marker_arguments).bind(*marker.args, **marker.kwargs)
        except TypeError as exc:
            usage = "use awaken_samples(n, min_pass_rate=..., confidence=...)"
            pytest.fail(f"@pytest.mark.{_MARKER}: {exc}; {usage}", pytrace=False)
        samples, min_pass_rate, confidence = _marker_arguments(*bound.args, **bound.kwargs)
    try:
        replayer, executor = runtime.replayer(), runtime.executor()
    except _PluginError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        return AwakenEval(
            replayer=replayer,
            executor=executor,
            base_dir=request.path.parent,
            samples=samples,
            min_pass_rate=min_pass_rate,
            confidence=confidence,
        )
    except AwakenEvalError as exc:
        pytest.fail(f"@pytest.mark.{_MARKER}: {exc}", pytrace=False)
