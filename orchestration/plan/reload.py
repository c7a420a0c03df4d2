"""An edited plan applied to a session that has started (`bosun reload`, and `bosun resume`
when `bosun.toml` changed): new units and agents join, units not yet started take their new
definition, and whatever cannot apply is refused with one line, changing nothing.

A session keeps the plan text it runs (so a crash resumes exactly what ran); an edit is never
picked up silently, and never half-applied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bosun.orchestration.errors import BosunError
from bosun.orchestration.plan import Plan, parse_plan
from bosun.orchestration.plan_outline import outline_json
from bosun.orchestration.session import Session

NOT_STARTED = ("pending", "ready")
"""A unit in these states has no agent, worktree or gate run yet: its definition may change."""


@dataclass
class PlanChange:
    """What an edited plan changes in a session."""

    added_units: list[str] = field(default_factory=list)
    changed_units: list[str] = field(default_factory=list)
    removed_units: list[str] = field(default_factory=list)
    added_agents: list[str] = field(default_factory=list)
    changed_agents: list[str] = field(default_factory=list)
    project: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return any(vars(self).values())

    def summary(self) -> dict[str, list[str]]:
        return {key: value for key, value in vars(self).items() if value}

    def describe(self) -> str:
        words = {
            "added_units": "new units",
            "changed_units": "changed units",
            "removed_units": "units removed",
            "added_agents": "new agents",
            "changed_agents": "changed agents",
            "project": "project keys",
        }
        return "; ".join(f"{words[key]}: {', '.join(value)}" for key, value in self.summary().items()) or "no change"


def plan_change(session: Session, new: Plan) -> PlanChange:
    """What applying `new` would change; BosunError (one line) when some of it cannot apply."""
    old, rows = session.plan, {u.id: u for u in session.store.units()}
    for key in ("base", "integration"):
        if getattr(old.project, key) != getattr(new.project, key):
            raise BosunError(
                f"{new.path.name}: project.{key} cannot change in a running session "
                f"({getattr(old.project, key)!r} -> {getattr(new.project, key)!r}); `bosun reset` starts over"
            )
    change = PlanChange()
    fields = type(old.project).model_fields
    change.project = sorted(
        info.alias or name for name, info in fields.items() if getattr(old.project, name) != getattr(new.project, name)
    )
    _unit_changes(change, old, new, rows)
    _agent_changes(change, old, new, rows)
    return change


def _unit_changes(change: PlanChange, old: Plan, new: Plan, rows: dict) -> None:
    """New units, and units changed or removed: only those not started yet may be."""
    for unit_id, spec in new.units.items():
        if unit_id not in old.units:
            change.added_units.append(unit_id)
        elif spec != old.units[unit_id]:
            state = rows[unit_id].state if unit_id in rows else "pending"
            if state not in NOT_STARTED:
                raise BosunError(
                    f"{new.path.name}: unit '{unit_id}' is {state.replace('_', ' ')}: its definition "
                    "can change only before it starts (cancel it, or add a new unit)"
                )
            change.changed_units.append(unit_id)
    for unit_id in old.units:
        if unit_id not in new.units:
            state = rows[unit_id].state if unit_id in rows else "pending"
            if state not in NOT_STARTED + ("cancelled",):
                raise BosunError(
                    f"{new.path.name}: unit '{unit_id}' is {state.replace('_', ' ')}: it cannot leave the "
                    "plan (cancel it first)"
                )
            change.removed_units.append(unit_id)


def _agent_changes(change: PlanChange, old: Plan, new: Plan, rows: dict) -> None:
    """New and changed agents; an agent leaves only when no unfinished unit is its."""
    for name, spec in new.agents.items():
        if name not in old.agents:
            change.added_agents.append(name)
        elif spec != old.agents[name]:
            change.changed_agents.append(name)
    for name in old.agents:
        if name not in new.agents:
            users = sorted(
                u.id
                for u in rows.values()
                if name in (u.owner, u.pinned) and u.state != "merged" and u.state != "cancelled"
            )
            if users:
                raise BosunError(
                    f"{new.path.name}: agent '{name}' cannot leave the plan while "
                    f"{', '.join(users)} {'is' if len(users) == 1 else 'are'} its"
                )


def apply_plan(session: Session, text: str, path: Path) -> PlanChange:
    """Validate `text` in full and apply it to the session (store and memory), or raise and change
    nothing: PlanError for a plan that does not validate, BosunError for a change that cannot apply."""
    new = parse_plan(text, path)
    change = plan_change(session, new)
    if not change and text == session.store.get_meta("plan_text"):
        return change
    repinned = {u: new.units[u].agent for u in change.changed_units}
    session.store.reload_plan(
        {"plan_text": text, "plan_path": str(path.resolve()), "plan_outline": outline_json(new, text)},
        [(u, new.units[u].agent) for u in change.added_units],
        repinned,
        [u for u in change.removed_units],
        change.summary(),
    )
    session.plan = new
    session.__dict__.pop("graph", None)  # built again from the new plan when next asked
    return change


def edited_plan(session: Session) -> tuple[str, Path] | None:
    """The plan file's text when it differs from what the session runs; None when unchanged or gone."""
    path = Path(session.store.get_meta("plan_path") or session.repo.path / "bosun.toml")
    try:
        text = path.read_text()
    except OSError:
        return None
    return None if text == session.store.get_meta("plan_text") else (text, path)
