"""Scale-out on a Ray cluster: :class:`RayDispatcher` (extra ``[ray]``).

Pass ``dispatcher=RayDispatcher(...)`` to :func:`~awaken_eval.run_eval` (or
``--ray local|auto|ray://HOST:PORT`` to ``awaken-eval run``): the units execute on Ray
actors, while planning, scoring, storing, events, resume and the run token budget stay
in the driver. What the actors build is described by
:class:`~awaken_eval.engine.UnitSpec`. Importing this module does not import Ray; dispatching does.
"""

from __future__ import annotations

from awaken_eval.ray._dispatcher import ACTOR_LOST_PREFIX, RayDispatcher

__all__ = ["ACTOR_LOST_PREFIX", "RayDispatcher"]
