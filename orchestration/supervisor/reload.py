"""`bosun reload` with a supervisor running: the edited plan applied whole or refused whole, from the
loop's tick, and the command answered with what changed or why not."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bosun.orchestration.errors import BosunError, PlanError
from bosun.orchestration.plan.reload import apply_plan
from bosun.orchestration.store import Command

if TYPE_CHECKING:
    from bosun.orchestration.supervisor.loop import Orchestrator


def reload_plan(supervisor: Orchestrator, command: Command) -> None:
    """An edited plan from `bosun reload`: applied whole or refused whole, with the reason."""
    store = supervisor.store
    try:
        change = apply_plan(supervisor.session, command.args["text"], Path(command.args["path"]))
    except PlanError as exc:
        store.finish_command(command.id, f"refused: {exc.problems[0]}")
    except BosunError as exc:
        store.finish_command(command.id, f"refused: {exc}")
    else:
        store.finish_command(command.id, f"done: {change.describe()}")
        supervisor.max_agents = supervisor.options.max_agents or supervisor.plan.project.max_agents
