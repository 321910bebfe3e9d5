"""Planning a run: the checks that need the fixtures, the models, and the units.

A run of ``F`` fixtures over ``C`` cells with ``S`` samples has ``F * C * S`` units,
numbered fixture-major: unit ``index`` is fixture ``index // (C * S)``, cell
``index // S % C`` and sample ``index % S``. Scripted runs have one cell (no model) and
one sample.
"""

from __future__ import annotations

from collections.abc import Sequence

from awaken_eval._engine.options import RunOptions
from awaken_eval._records.fixtures import Fixture
from awaken_eval._records.inference import ResolvedModel
from awaken_eval._records.rules import (
    validate_judge_required_for_expectation,
    validate_offline_expectation,
)
from awaken_eval._records.runs import ItemKey, MatrixCell
from awaken_eval._scoring.matrix import expand_cells
from awaken_eval.errors import InvalidRequest
from awaken_eval.protocols import Judge, ModelResolver

__all__ = ["RunPlan", "plan_run", "resolve_models"]


class RunPlan:
    """The units of a run: its fixtures, cells and samples, in result order.

    Attributes:
        fixtures: The fixtures, in dataset order.
        cells: The matrix cells (one cell without a model in scripted mode).
        samples: Samples per (fixture, cell).
        live: Whether the run calls live models.
        total: The number of units.
    """

    __slots__ = ("cells", "fixtures", "live", "samples", "total")

    def __init__(
        self, fixtures: list[Fixture], cells: list[MatrixCell], *, samples: int, live: bool
    ) -> None:
        """Plan ``fixtures`` x ``cells`` x ``samples``."""
        self.fixtures = fixtures
        self.cells = cells
        self.samples = samples
        self.live = live
        self.total = len(fixtures) * len(cells) * samples

    def unit_at(self, index: int) -> tuple[Fixture, MatrixCell | None, int | None]:
        """The (fixture, cell, sample index) of unit ``index``."""
        fixture_index, rest = divmod(index, len(self.cells) * self.samples)
        cell_index, sample = divmod(rest, self.samples)
        cell = self.cells[cell_index] if self.live else None
        return self.fixtures[fixture_index], cell, sample if self.samples >= 2 else None

    def item_order(self) -> list[ItemKey]:
        """The key of every unit's item, in unit order."""
        sampled = self.samples >= 2
        return [
            ItemKey(fixture.id, cell.model_id, sample if sampled else None)
            for fixture in self.fixtures
            for cell in self.cells
            for sample in range(self.samples)
        ]


def plan_run(fixtures: Sequence[Fixture], options: RunOptions, *, judge: Judge | None) -> RunPlan:
    """Check the fixtures against ``options`` and plan the run's units.

    Raises:
        InvalidRequest: a duplicate fixture id; in scripted mode a fixture needing a
            judge; in live mode a fixture needing a judge or rubric that is missing.
    """
    live = options.is_live
    seen: set[str] = set()
    for fixture in fixtures:
        if fixture.id in seen:
            msg = f"duplicate fixture id: {fixture.id}"
            raise InvalidRequest(msg)
        seen.add(fixture.id)
        label = f"fixture {fixture.id}"
        if live:
            validate_judge_required_for_expectation(
                fixture.expect,
                label,
                live=True,
                has_judge=judge is not None,
                rubric=options.rubric,
            )
        else:
            validate_offline_expectation(fixture.expect, label)
    cells = expand_cells(options.models) if live else [MatrixCell()]
    return RunPlan(list(fixtures), cells, samples=options.samples, live=live)


async def resolve_models(
    options: RunOptions, models: Sequence[ResolvedModel] | ModelResolver
) -> list[ResolvedModel]:
    """The resolved model of every id of ``options.models``, in order.

    Args:
        options: The run's options.
        models: The resolved models (their ids must be ``options.models``, in order),
            or a resolver asked for each id.

    Raises:
        InvalidRequest: when the given models are not those of ``options.models``.
        NotFound: or whatever else the resolver raises for an unknown model.
    """
    if isinstance(models, ModelResolver):
        return [await models.resolve_model(model_id) for model_id in options.models]
    resolved = list(models)
    given = [model.model_id for model in resolved]
    if given != list(options.models):
        msg = (
            f"models {given} do not match options.models {list(options.models)}: "
            "give the resolved model of each id of options.models, in order, or a "
            "ModelResolver"
        )
        raise InvalidRequest(msg)
    return resolved
