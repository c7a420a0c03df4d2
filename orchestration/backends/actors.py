"""The agents' Ray actors: one per agent, placed when its attempt starts, kept for its next one
while it is idle, and let go when a gate waits. Kept regardless, idle actors could hold every CPU
the cluster has (as many agents as CPUs) and no gate, which asks for one, would ever start."""

from __future__ import annotations

import threading
from collections.abc import Callable

import ray
from ray.exceptions import RayError


def _kill(actor) -> None:
    try:
        ray.kill(actor)
    except RayError:
        pass


class AgentActors:
    """Which agent has which actor, and which of them run an attempt (thread-safe)."""

    def __init__(self) -> None:
        self._actors: dict[str, object] = {}
        self._busy: set[str] = set()
        self._placed = 0  # each actor placed gets a name of its own
        self._lock = threading.Lock()

    def for_attempt(self, agent: str, place: Callable[[str], object]):
        """The agent's actor, placed by `place(name)` if it has none; it is busy from now on."""
        with self._lock:
            self._busy.add(agent)
            actor = self._actors.get(agent)
            if actor is None:
                actor = self._actors[agent] = place(f"agent-{agent}-{self._placed}")
                self._placed += 1
            return actor

    def forget(self, agent: str, actor) -> None:
        """The actor's node was lost (or it stopped answering): the next attempt gets a new one."""
        with self._lock:
            if self._actors.get(agent) is actor:
                del self._actors[agent]
                self._busy.discard(agent)
        _kill(actor)

    def attempt_over(self, agent: str, actor, unit: str) -> None:
        """The node forgets the attempt; the actor stays, idle, for the agent's next one."""
        actor.clean.remote(unit)
        with self._lock:
            if self._actors.get(agent) is actor:
                self._busy.discard(agent)

    def let_idle_go(self) -> None:
        """A gate waits: idle agents' actors go, and their resources with them."""
        with self._lock:
            idle = [name for name in self._actors if name not in self._busy]
            gone = [self._actors.pop(name) for name in idle]
        for actor in gone:
            _kill(actor)

    def close(self) -> None:
        """Every actor goes: their workers die, and with them (through the keeper) every agent."""
        with self._lock:
            gone, self._actors = list(self._actors.values()), {}
            self._busy.clear()
        for actor in gone:
            _kill(actor)
