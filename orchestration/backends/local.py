"""The local backend: agents and gates as processes of this machine, exactly as without backends."""

from __future__ import annotations

from bosun.orchestration.agents.launch import start_agent
from bosun.orchestration.process import Child


class LocalBackend:
    """Every agent a child process of this supervisor; gates run by the lane as they always did."""

    name = "local"

    def open(self) -> None:
        pass

    def close(self) -> None:
        pass

    def nodes(self) -> list[dict]:
        return []

    def start_agent(self, plan, agent, *, handout=None, **kwargs) -> Child:
        return start_agent(plan, agent, **kwargs)
