"""The pytest plugin's settings: its ini options and flags, read, validated and resolved.

:func:`configure` reads the ``awaken_*`` options when pytest starts (a wrong one is a
usage error naming it), resolves the import strings of the factories and keeps the
:class:`Runtime` in the config's stash; the factories are called once per process, when
the first test needs them. This module imports only the standard library and pytest
when loaded, so an unconfigured session pays nothing for it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from awaken_eval._plugin.evaluator import AwakenEval
    from awaken_eval.protocols import Judge, LlmExecutor, Replayer

__all__ = ["RUNTIME", "PluginError", "Runtime", "Settings", "configure", "read_settings", "runtime"]


class PluginError(Exception):
    """A configuration or engine problem shown as its message alone (no traceback)."""


# A stdlib dataclass rather than attrs: pytest already imports dataclasses, and this
# module must cost nothing in sessions that never use the plugin.
@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """The plugin's options after validation (only built when one is set)."""

    fixture_dirs: tuple[Path, ...]
    replayer: str | None
    executor: str | None
    models: tuple[str, ...]
    samples: int
    min_pass_rate: float
    judge: str | None = None
    rubric: str | None = None


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


def _check_judge(
    judge: str, judge_label: str, rubric: str, rubric_label: str, *, live: bool
) -> None:
    """A judge needs a rubric and a live run (it grades with the live executor)."""
    if judge and not rubric:
        msg = (
            f"{judge_label} needs the judge's instructions: set awaken_rubric "
            "(--awaken-rubric TEXT)"
        )
        raise pytest.UsageError(msg)
    if rubric and not judge:
        msg = f"{rubric_label} needs a judge: set awaken_judge (--awaken-judge MODEL)"
        raise pytest.UsageError(msg)
    if judge and not live:
        msg = (
            f"{judge_label} grades live replays: set awaken_models and awaken_executor "
            "(the judge runs on the executor with model "
            f"{judge!r})"
        )
        raise pytest.UsageError(msg)


def read_settings(config: pytest.Config) -> Settings | None:
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
    judge, judge_label = _value(config, "awaken_judge")
    rubric, rubric_label = _value(config, "awaken_rubric")
    given = (replayer, executor, models_text, samples_text, rate_text, judge, rubric)
    if not (dirs or any(given)):
        return None
    for directory in dirs:
        if not directory.is_dir():
            problem = "is not a directory" if directory.exists() else "not found"
            msg = f"{dirs_label}: fixture directory {problem}: {directory}"
            raise pytest.UsageError(msg)
    models = _models(models_text, models_label)
    samples = _samples(samples_text, samples_label)
    from awaken_eval._records.model_ids import is_provider_model  # noqa: PLC0415

    providers = all(is_provider_model(model) for model in models)
    if models and not executor and not providers:
        msg = (
            f"{models_label} asks for a live run, which needs an executor: set "
            "awaken_executor (--awaken-executor module:factory) to a factory returning "
            "an LlmExecutor, or name provider models (openai:MODEL, anthropic:MODEL)"
        )
        raise pytest.UsageError(msg)
    if executor and not models:
        msg = (
            f"{executor_label} needs the models to run live: set awaken_models "
            "(--awaken-models a,b)"
        )
        raise pytest.UsageError(msg)
    _check_judge(judge, judge_label, rubric, rubric_label, live=bool(models))
    if samples > 1 and not models:
        msg = (
            f"{samples_label}={samples} needs a live run (awaken_models and "
            "awaken_executor): scripted replays are deterministic"
        )
        raise pytest.UsageError(msg)
    return Settings(
        fixture_dirs=tuple(Path(os.path.abspath(directory)) for directory in dirs),  # noqa: PTH100 - normalises like pytest's node paths
        replayer=replayer or None,
        executor=executor or None,
        models=models,
        samples=samples,
        min_pass_rate=_pass_rate(rate_text, rate_label),
        judge=judge or None,
        rubric=rubric or None,
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


class Runtime:
    """What the configured plugin shares between items and fixtures of one process."""

    def __init__(
        self,
        settings: Settings | None,
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
            raise PluginError(self._failed[name])
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
        raise PluginError(message)

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

    def judge(self) -> Judge | None:
        """The judge of judged fixtures: the configured model graded on the executor."""
        settings = self.settings
        if settings is None or settings.judge is None:
            return None
        executor = self.executor()
        if executor is None:  # pragma: no cover - settings require an executor
            return None
        from awaken_eval._engine.judging import ExecutorJudge  # noqa: PLC0415

        return ExecutorJudge(executor, model=settings.judge)

    def rubric(self) -> str | None:
        """The judge's instructions, if configured."""
        return None if self.settings is None else self.settings.rubric

    def item_evaluator(self) -> AwakenEval:
        """The evaluator collected fixture items run through."""
        from awaken_eval._plugin.evaluator import AwakenEval  # noqa: PLC0415

        if self._items is None:
            settings = self.settings
            assert settings is not None  # noqa: S101 - items exist only when configured
            self._items = AwakenEval(
                replayer=self.replayer(),
                executor=self.executor(),
                samples=settings.samples,
                min_pass_rate=settings.min_pass_rate,
                judge=self.judge(),
                rubric=self.rubric(),
            )
        return self._items


RUNTIME = pytest.StashKey[Runtime]()
"""Where the config keeps the plugin's :class:`Runtime`."""


def runtime(config: pytest.Config) -> Runtime:
    """The plugin's runtime of ``config`` (an unconfigured one when no option is set)."""
    found = config.stash.get(RUNTIME, None)
    if found is None:
        found = config.stash[RUNTIME] = Runtime(None)
    return found


def configure(config: pytest.Config) -> Settings | None:
    """Read the options, resolve the factories' import strings and stash the runtime.

    Returns:
        The validated settings, or ``None`` when no ``awaken_*`` option is set (then
        nothing is stashed).

    Raises:
        pytest.UsageError: when an option is invalid or an import string is bad.
    """
    settings = read_settings(config)
    if settings is None:
        return None
    replayer = executor = None
    if settings.replayer is not None:
        replayer = (settings.replayer, _load_factory(settings.replayer, "awaken_replayer"))
    if settings.executor is not None:
        executor = (settings.executor, _load_factory(settings.executor, "awaken_executor"))
    config.stash[RUNTIME] = Runtime(settings, replayer_factory=replayer, executor_factory=executor)
    return settings
