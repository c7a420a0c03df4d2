"""After a crash: what an earlier supervisor left mid-way. Its agents' work is taken back and their
units ready again (a person's or an external agent's claim stays, on its lease); a unit it was
integrating is judged again."""

from __future__ import annotations

from bosun.orchestration.plan import Plan
from bosun.orchestration.process import kill_group
from bosun.orchestration.states import AGENT_STATES, HUMAN, INTEGRATING_STATES, READY, RUNNING, SUBMITTED
from bosun.orchestration.store import Store, UnitRow
from bosun.orchestration.supervisor.moves import move
from bosun.orchestration.worktrees import AgentClone, unit_branch


def absorb_left_work(clone: AgentClone, unit_ids: list[str]) -> None:
    """A sandboxed agent ended with its supervisor commits into its sandbox's own ref and
    object folders, which only its normal end takes back: take them now (its processes are
    gone), or the restarted attempt would find the work in its index but not on its branch."""
    for unit_id in unit_ids:
        if clone.sandbox_dir(unit_id).is_dir():
            clone.absorb(unit_id)


def clear_stale_locks(clone: AgentClone, unit_ids: list[str]) -> None:
    """git's lock files an earlier supervisor (or a git it ran) left when it was killed while
    writing a unit's branch or worktree record: each would refuse every later write ("File
    exists") and fail the unit. Only for units no live claim holds (their writers are all gone)."""
    for unit_id in unit_ids:
        admin = clone.path / "worktrees" / unit_id
        for lock in (
            clone.path / "refs" / "heads" / f"{unit_branch(unit_id)}.lock",
            admin / "index.lock",
            admin / "HEAD.lock",
        ):
            lock.unlink(missing_ok=True)


def claim_outlives_supervisor(row: UnitRow, plan: Plan) -> bool:
    """An external agent's claim lives on its lease, a person's until they submit."""
    owner = plan.agents.get(row.owner or "")
    return row.owner == HUMAN or owner is not None and owner.kind == "external"


def recover_units(store: Store, plan: Plan) -> None:
    """Each unit left mid-way moved to where work on it starts again."""
    for row in store.units():
        if row.state in AGENT_STATES and claim_outlives_supervisor(row, plan):
            continue
        if row.state in AGENT_STATES:
            if row.pid:
                kill_group(row.pid, row.pid_start)
            attempts = row.attempts - 1 if row.state == RUNNING else row.attempts
            move(
                store,
                row.id,
                READY,
                (row.state,),
                kind="recovered",
                data={"what": "agent restarted"},
                attempts=max(0, attempts),
                owner=None,
                pid=None,
            )
        elif row.state in INTEGRATING_STATES and row.state != SUBMITTED:
            move(store, row.id, SUBMITTED, (row.state,), kind="recovered", data={"what": "integration redone"})
