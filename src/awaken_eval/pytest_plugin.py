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
* ``awaken_judge`` / ``--awaken-judge MODEL`` and ``awaken_rubric`` /
  ``--awaken-rubric TEXT``: grade fixtures with ``min_judge_score`` (live only): the
  judge is the executor on model ``MODEL``, instructed by the rubric. Without them a
  judged fixture cannot be collected as a passing test.

Import strings are resolved when pytest starts (a bad one is a usage error naming it);
factories are called once per process, when the first test needs them. Every item
replays in its own event loop (:func:`~awaken_eval.run_eval_sync`), so executors
must not keep event-loop-bound resources between calls.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

    from awaken_eval._plugin.evaluator import AwakenEval, ReplayOptions
    from awaken_eval._records.fixtures import Fixture

__all__ = [
    "FixtureFile",
    "FixtureItem",
    "ReplayOptions",
]

_MARKER = "awaken_samples"
_MARKER_HELP = (
    "awaken_samples(n, *, min_pass_rate=1.0, confidence=None): awaken_eval.check() in "
    "this test replays n live samples and asserts their pass rate (awaken-eval)"
)
_SEEN_IDS = pytest.StashKey[dict[tuple[Path, str], str]]()


def __getattr__(name: str) -> Any:
    """Load :class:`ReplayOptions` on first use: importing the plugin loads nothing else.

    There is deliberately no module ``__dir__``: pytest reads every attribute ``dir()``
    lists when it registers the plugin, which would load the evaluator in every session.
    """
    if name != "ReplayOptions":
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    from awaken_eval._plugin.evaluator import ReplayOptions  # noqa: PLC0415

    globals()[name] = ReplayOptions
    return ReplayOptions


# -- collection ----------------------------------------------------------------------------------


class FixtureFile(pytest.File):
    """A fixture JSON file under a configured fixture directory.

    It loads strictly; a file that does not load is a collection error showing the
    library's message (the file and every problem with its JSON path), no traceback.
    """

    def collect(self) -> Iterator[FixtureItem]:
        """Yield one item for the fixture, or one per configured model."""
        from awaken_eval._io.files import load_fixture  # noqa: PLC0415
        from awaken_eval._plugin.settings import runtime  # noqa: PLC0415
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
        settings = runtime(self.config).settings
        models: Sequence[str | None] = (settings.models if settings else ()) or (None,)
        for model in models:
            name = fixture.id if model is None else f"{fixture.id}[{model}]"
            yield FixtureItem.from_parent(self, name=name, fixture=fixture, model=model)


class FixtureItem(pytest.Item):
    """One fixture (on one model, when live) replayed as a test.

    The item runs :meth:`~awaken_eval.AwakenEval.check` with the configured replayer, executor,
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
        from awaken_eval._plugin.settings import PluginError, runtime  # noqa: PLC0415
        from awaken_eval.errors import AwakenEvalError  # noqa: PLC0415

        try:
            runtime(self.config).item_evaluator().check(self.fixture, model=self.model)
        except AwakenEvalError as exc:
            on_model = "" if self.model is None else f" on model {self.model!r}"
            msg = f"fixture {self.fixture.id!r}{on_model} could not be replayed: {exc}"
            raise PluginError(msg) from None

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str | TerminalRepr:
        """The readable lines of a failed fixture; a traceback for anything else."""
        from awaken_eval._plugin.settings import PluginError  # noqa: PLC0415
        from awaken_eval.testing._assertions import EvalAssertionError  # noqa: PLC0415

        if isinstance(excinfo.value, (EvalAssertionError, PluginError)):
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
        "--awaken-judge",
        dest="awaken_judge",
        metavar="MODEL",
        help="live: grade min_judge_score fixtures with this model (on the executor)",
    )
    group.addoption(
        "--awaken-rubric",
        dest="awaken_rubric",
        metavar="TEXT",
        help="live: the judge's grading instructions (needed with --awaken-judge)",
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
    parser.addini("awaken_judge", "live: the judge's model (graded on the executor)", default="")
    parser.addini("awaken_rubric", "live: the judge's grading instructions", default="")
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
    from awaken_eval._plugin.settings import configure  # noqa: PLC0415

    config.addinivalue_line("markers", _MARKER_HELP)
    settings = configure(config)
    if settings is None or not settings.fixture_dirs:
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
    the samples and pass rate of ``check()``. See :class:`~awaken_eval.AwakenEval`.
    """
    from awaken_eval._plugin.evaluator import AwakenEval  # noqa: PLC0415
    from awaken_eval._plugin.settings import PluginError, runtime  # noqa: PLC0415
    from awaken_eval.errors import AwakenEvalError  # noqa: PLC0415

    configured = runtime(request.config)
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
        replayer, executor = configured.replayer(), configured.executor()
        judge = configured.judge()
    except PluginError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        return AwakenEval(
            replayer=replayer,
            executor=executor,
            base_dir=request.path.parent,
            samples=samples,
            min_pass_rate=min_pass_rate,
            confidence=confidence,
            judge=judge,
            rubric=configured.rubric(),
        )
    except AwakenEvalError as exc:
        pytest.fail(f"@pytest.mark.{_MARKER}: {exc}", pytrace=False)
