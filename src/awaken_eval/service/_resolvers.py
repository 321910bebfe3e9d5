"""Model and agent resolvers over fixed tables, for hosts with a static configuration.

A host with a model registry implements :class:`~awaken_eval.ModelResolver` itself; a
host that knows its models up front hands them to :class:`StaticModelResolver`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from awaken_eval._records.inference import AgentSpec, ResolvedModel
from awaken_eval.errors import NotFound

__all__ = [
    "StaticAgentResolver",
    "StaticModelResolver",
]


class StaticModelResolver:
    """Resolves model ids from a fixed set of :class:`~awaken_eval.ResolvedModel`.

    Args:
        models: The models, keyed by their ``model_id``.
    """

    def __init__(self, models: Iterable[ResolvedModel]) -> None:
        """Index ``models`` by id."""
        self.models: Mapping[str, ResolvedModel] = {model.model_id: model for model in models}

    async def resolve_model(self, model_id: str) -> ResolvedModel:
        """Return the model ``model_id``.

        Raises:
            NotFound: ``model not found: models/<id>``.
        """
        try:
            return self.models[model_id]
        except KeyError:
            msg = f"model not found: models/{model_id}"
            raise NotFound(msg) from None


class StaticAgentResolver:
    """Resolves agent ids from a fixed set of :class:`~awaken_eval.AgentSpec`.

    Args:
        agents: The agents, keyed by their ``id``.
    """

    def __init__(self, agents: Iterable[AgentSpec]) -> None:
        """Index ``agents`` by id."""
        self.agents: Mapping[str, AgentSpec] = {agent.id: agent for agent in agents}

    async def resolve_agent(self, agent_id: str) -> AgentSpec:
        """Return the agent ``agent_id``.

        Raises:
            NotFound: ``agent not found: agents/<id>``.
        """
        try:
            return self.agents[agent_id]
        except KeyError:
            msg = f"agent not found: agents/{agent_id}"
            raise NotFound(msg) from None
