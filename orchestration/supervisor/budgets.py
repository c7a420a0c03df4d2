"""The plan's budgets held against what running agents spend, read from their output as they work:
an agent whose unit, agent or session went past a budget is stopped and its unit waits for a human
with the spend named; a session over its budget starts nothing new."""

from __future__ import annotations

import time

from bosun.orchestration.agents.usage import add_usage, spent_by_agent, usage_from_output
from bosun.orchestration.budget import total
from bosun.orchestration.process import tail
from bosun.orchestration.session import Session
from bosun.orchestration.states import AGENT_STATES, FAILED
from bosun.orchestration.supervisor.agent_run import Running
from bosun.orchestration.supervisor.moves import move

BUDGET_EVERY_S = 2.0
"""How often running agents' spend is read from their output and held against the budgets."""


class BudgetWatch:
    """Checks the spend at most every BUDGET_EVERY_S; the plan is read each time (a reload may change it)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.store = session.store
        self.next_check = 0.0

    def session_spent(self) -> str | None:
        """How the session's spend went past its budget, or None (no budget, or within it)."""
        budget = self.session.plan.project.budget
        return budget.exceeded_by(total([u.usage for u in self.store.units()])) if budget else None

    def check(self, running: dict[str, Running]) -> None:
        """Stop an agent whose unit, agent or session spend went past a budget."""
        plan = self.session.plan
        now = time.monotonic()
        budgets = (
            plan.project.budget
            or any(a.budget for a in plan.agents.values())
            or any(u.budget for u in plan.units.values())
        )
        if not budgets or now < self.next_check or not running:
            return
        self.next_check = now + BUDGET_EVERY_S
        rows = {u.id: u for u in self.store.units()}
        live = {
            unit_id: add_usage(rows[unit_id].usage, usage_from_output(tail(r.child.log_path, 20_000)), r.agent)
            for unit_id, r in running.items()
            if r.child is not None and unit_id in rows
        }
        spend = {u.id: live.get(u.id, u.usage) for u in rows.values()}
        by_agent = spent_by_agent((spend[u], row.agent or row.owner) for u, row in rows.items())
        for unit_id, agent_run in list(running.items()):
            if unit_id not in live or agent_run.cancelled:
                continue
            agent = plan.agents.get(agent_run.agent)
            checks = [
                ("unit", plan.units[unit_id].budget, spend[unit_id]),
                (f"agent {agent_run.agent}", agent.budget if agent else None, by_agent.get(agent_run.agent)),
                ("session", plan.project.budget, total(list(spend.values()))),
            ]
            for scope, budget, usage in checks:
                over = budget.exceeded_by(usage) if budget else None
                if over:
                    self._stop(unit_id, agent_run, f"{scope} budget: {over}", live[unit_id])
                    break

    def _stop(self, unit_id: str, agent_run: Running, why: str, usage: dict | None) -> None:
        agent_run.stop()
        detail = {"reason": "budget", "error": why}
        move(
            self.store,
            unit_id,
            FAILED,
            AGENT_STATES,
            kind="over_budget",
            data=detail,
            detail=detail,
            usage=usage,
            epoch=agent_run.epoch,
            owner=None,
        )
