"""Live models in the CLI: ``provider:model`` ids, ``models check``, costs and ``--record``.

``run --mode live --models openai:X,anthropic:Y`` resolves built-in provider ids through
:mod:`awaken_eval.providers` (no ``--executor`` needed); ``--judge openai:M`` picks the
judge's model the same way. ``--record OUT_DIR`` curates, for every item, a scripted
fixture from the item's captured trace, so ``awaken-eval run OUT_DIR`` replays the live
run offline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from awaken_eval._records.inference import ResolvedModel
from awaken_eval._records.model_ids import is_provider_model
from awaken_eval._records.runs import EvalRun, EvalRunItem
from awaken_eval.cli._args import Parsed
from awaken_eval.cli._errors import CliError
from awaken_eval.cli._render import note, print_json, say
from awaken_eval.errors import AwakenEvalError, InferenceError

if TYPE_CHECKING:
    from awaken_eval._records.fixtures import Fixture
    from awaken_eval._records.pricing import PriceTable
    from awaken_eval.protocols import LlmExecutor, Replayer
    from awaken_eval.providers._options import ProviderOptions
    from awaken_eval.providers._resolve import ProviderModelResolver

__all__ = [
    "LiveModels",
    "Recorder",
    "live_models",
    "models_check",
    "print_costs",
    "recording",
]


def provider_options(parsed: Parsed) -> ProviderOptions:
    """The :class:`~awaken_eval.providers.ProviderOptions` of ``--max-connections`` and co."""
    from awaken_eval.providers._options import ProviderOptions  # noqa: PLC0415

    given = {
        "max_connections": parsed.get("--max-connections"),
        "max_retries": parsed.get("--max-retries"),
    }
    options = ProviderOptions(**{name: value for name, value in given.items() if value is not None})
    if "--adaptive-concurrency" in parsed.switches:
        options = attrs.evolve(options, adaptive=True)
    return options


def _prices(parsed: Parsed) -> PriceTable:
    from awaken_eval.providers._prices import default_prices  # noqa: PLC0415

    try:
        return default_prices(prices=parsed.get("--prices"))
    except AwakenEvalError as exc:
        msg = f"--prices: {exc}"
        raise CliError(msg) from None


@attrs.define
class LiveModels:
    """The models and judge of a live run, and the resolver that owns their clients.

    Attributes:
        models: The resolved model of each ``--models`` id, in order.
        judge: The judge of ``--judge`` (``None`` without one).
        resolver: The provider resolver (``None`` when no provider id was used).
    """

    models: list[ResolvedModel]
    judge: Any
    resolver: ProviderModelResolver | None = None

    async def aclose(self) -> None:
        """Close the provider clients."""
        if self.resolver is not None:
            await self.resolver.aclose()


def live_models(
    parsed: Parsed,
    model_ids: Sequence[str],
    custom: Callable[[str], LlmExecutor] | None,
    fallback: Callable[[], LlmExecutor],
) -> LiveModels:
    """Resolve ``--models`` and ``--judge``: provider ids by the providers, others by ``custom``.

    Args:
        parsed: The parsed flags.
        model_ids: The ``--models`` ids.
        custom: ``factory(model_id)`` of ``--executor`` (``None`` without one).
        fallback: The executor of a model neither a provider nor ``--executor`` serves.
    """
    from awaken_eval._engine.judging import ExecutorJudge  # noqa: PLC0415

    judge_model: str | None = parsed.get("--judge")
    wanted = [*model_ids, *([judge_model] if judge_model is not None else [])]
    resolver = None
    if any(is_provider_model(model_id) for model_id in wanted):
        from awaken_eval.providers._resolve import ProviderModelResolver  # noqa: PLC0415

        resolver = ProviderModelResolver(options=provider_options(parsed), prices=_prices(parsed))

    def resolve(model_id: str) -> ResolvedModel:
        if resolver is not None and is_provider_model(model_id) and custom is None:
            try:
                return resolver.resolve(model_id)
            except AwakenEvalError as exc:
                raise CliError(str(exc)) from None
        executor = custom(model_id) if custom is not None else fallback()
        return ResolvedModel(model_id=model_id, executor=executor, upstream_model=model_id)

    models = [resolve(model_id) for model_id in model_ids]
    judge = None
    if judge_model is not None:
        graded = resolve(judge_model)
        judge = ExecutorJudge(graded.executor, model=graded.upstream_model)
    return LiveModels(models, judge, resolver)


# -- costs ------------------------------------------------------------------------------


def _money(value: float) -> str:
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"


def _label(item: EvalRunItem) -> str:
    model = item.cell.model_id if item.cell is not None else None
    label = item.fixture_id if model is None else f"{item.fixture_id} @ {model}"
    return label if item.sample_index is None else f"{label} #{item.sample_index}"


def print_costs(run: EvalRun) -> None:
    """Token usage, retries and cost per item, per model and for the run (live runs)."""
    from awaken_eval._scoring.cost import cost_by_model  # noqa: PLC0415

    priced = [item for item in run.items if item.report.cost_usd is not None]
    retries = sum(item.report.inference_retries for item in run.items)
    if not priced and not retries:
        return
    tokens_in = sum(item.report.total_input_tokens for item in run.items)
    tokens_out = sum(item.report.total_output_tokens for item in run.items)
    wait_ms = sum(item.report.retry_wait_ms for item in run.items)
    say()
    say(f"tokens: {tokens_in} in, {tokens_out} out; retries: {retries} ({wait_ms} ms waited)")
    for item in priced:
        say(f"  cost {_label(item)}: {_money(item.report.cost_usd or 0.0)}")
    for model, cost in cost_by_model(run.items).items():
        say(f"cost of {model}: {_money(cost)}")
    say(f"cost of the run: {_money(sum(item.report.cost_usd or 0.0 for item in priced))}")


# -- models check -------------------------------------------------------------------------


def models_check(parsed: Parsed) -> int:
    """``models check PROVIDER:MODEL``: one tiny request; latency, tokens and cost.

    Exit status 0 when the model answered, 1 with the provider's message when it did
    not (bad key, unknown model, ...).
    """
    import anyio  # noqa: PLC0415

    from awaken_eval._wire.converter import to_builtins  # noqa: PLC0415
    from awaken_eval.providers._check import check_model  # noqa: PLC0415

    model_id: str = parsed.positionals[0]
    if not is_provider_model(model_id):
        msg = f"models check {model_id!r}: expected PROVIDER:MODEL (openai:... or anthropic:...)"
        raise CliError(msg)
    options = provider_options(parsed)
    prices = _prices(parsed)

    async def check() -> Any:
        return await check_model(model_id, options=options, prices=prices)

    try:
        result = anyio.run(check)
    except InferenceError as exc:
        note(f"models check {model_id}: {exc}")
        return 1
    if "--json" in parsed.switches:
        print_json(to_builtins(result))
        return 0
    usage = result.usage
    cost = "no price" if result.cost_usd is None else _money(result.cost_usd)
    say(
        f"{model_id}: ok in {result.latency_secs * 1000:.0f} ms (answered by "
        f"{result.answered_by}); tokens: {usage.prompt_tokens or 0} in, "
        f"{usage.completion_tokens or 0} out; cost: {cost}"
    )
    return 0


# -- record -------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class Recorder:
    """Collects a live run's spans and writes one scripted fixture per item (``--record``).

    Attributes:
        out_dir: The directory the fixtures go to (``OUT_DIR/fixtures/*.json`` and a
            ``dataset.json`` manifest).
        spans: Every span event, by trace run id.
    """

    def __init__(self, out_dir: Path) -> None:
        """Record into ``out_dir``."""
        self.out_dir = out_dir
        self.spans: dict[str, list[object]] = {}
        self.threads: dict[str, list[str]] = {}

    async def emit(self, event: Any) -> None:
        """Keep span events (the :class:`~awaken_eval.TraceSink` method)."""
        span = getattr(event, "span", None)
        if span is None:
            return
        run_id = span.run_id
        if run_id not in self.spans:
            self.threads.setdefault(span.thread_id, []).append(run_id)
        self.spans.setdefault(run_id, []).append(event)

    async def finish_trace(self, run_id: str) -> bool:
        """Whether spans of ``run_id`` were kept (the ``TraceFinisher`` method)."""
        return bool(self.spans.get(run_id))

    def _fixture(self, item: EvalRunItem, fixture: Fixture, fixture_id: str) -> Fixture:
        from awaken_eval.curate import curate_fixture, stitch_dialogue  # noqa: PLC0415

        run_id = item.trace_run_id or ""
        expect = attrs.evolve(fixture.expect, min_judge_score=None)
        description = f"Recorded from trace {run_id} of {_label(item)}"
        if not fixture.continued_turns:
            return curate_fixture(
                self.spans.get(run_id, ()),
                run_id=run_id,
                expectation=expect,
                fixture_id=fixture_id,
                user_input=fixture.user_input,
                description=description,
            )
        thread = self.threads.get(f"eval-thread-{fixture.id}", [])
        if len(thread) != 1 + len(fixture.continued_turns) or thread[0] != run_id:
            msg = "a dialogue is recorded only when it ran once (one model, one sample)"
            raise CliError(msg)
        return stitch_dialogue(
            [(turn, self.spans[turn]) for turn in thread],
            expectation=expect,
            fixture_id=fixture_id,
            description=description,
        )

    def write(self, run: EvalRun, fixtures: Sequence[Fixture]) -> int:
        """Write the fixture of every recordable item; note and return how many.

        Items whose replay ended in an inference error, or whose trace cannot be
        curated, are skipped with a note saying why.
        """
        from awaken_eval._io.atomic import write_text_atomic  # noqa: PLC0415
        from awaken_eval._wire.converter import to_json  # noqa: PLC0415

        by_id = {fixture.id: fixture for fixture in fixtures}
        several = len({(i.cell.model_id if i.cell else None, i.sample_index) for i in run.items})
        written = 0
        for item in run.items:
            fixture_id = item.fixture_id
            if several > 1:
                fixture_id = _label(item).replace(" @ ", "@").replace(" #", "#")
            if item.report.error_type is not None or item.trace_run_id is None:
                note(f"--record: {_label(item)} not recorded: it ended without a complete trace")
                continue
            try:
                fixture = self._fixture(item, by_id[item.fixture_id], fixture_id)
            except (AwakenEvalError, CliError) as exc:
                note(f"--record: {_label(item)} not recorded: {exc}")
                continue
            path = self.out_dir / "fixtures" / f"{_UNSAFE.sub('_', fixture_id)}.json"
            write_text_atomic(path, to_json(fixture, pretty=True) + "\n")
            written += 1
        manifest = {
            "id": f"{run.dataset_id}-recorded",
            "description": f"Recorded from run {run.id}",
        }
        write_text_atomic(self.out_dir / "dataset.json", _json(manifest))
        note(f"recorded {written} of {len(run.items)} items as fixtures in {self.out_dir}")
        return written


def recording(parsed: Parsed, replayer: Replayer | None) -> tuple[Recorder | None, Replayer | None]:
    """The ``--record`` recorder, and the replayer: the built-in agent capturing content
    when none was given (a custom replayer must capture content itself).
    """  # noqa: D205
    out_dir: str | None = parsed.get("--record")
    if out_dir is None:
        return None, replayer
    if replayer is None:
        from awaken_eval._engine.agent_loop import AgentLoopReplayer  # noqa: PLC0415

        replayer = AgentLoopReplayer(capture_content=True)
    return Recorder(Path(out_dir)), replayer


def _json(document: Any) -> str:
    import json  # noqa: PLC0415

    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
