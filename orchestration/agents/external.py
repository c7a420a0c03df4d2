"""The claim protocol for agents Bosun did not start: board, claim, heartbeat, submit, release.

Each call works on the session's store whether or not a supervisor is running (the first
claim opens the session from the plan); a running supervisor gates what was submitted, and
one started later catches up from the store. Every write carries the claim's token (epoch):
a holder whose lease expired, or whose claim was revoked, is refused and the refusal logged.
"""

from __future__ import annotations

import time
from pathlib import Path

from bosun.orchestration.agents.attempt import collect, integrated_units, prepare, task_paths
from bosun.orchestration.agents.launch import read_report
from bosun.orchestration.claims import HELD, Claim, claim, promote_ready, release
from bosun.orchestration.errors import BosunError, LostClaim, StaleToken
from bosun.orchestration.faults import fault_point
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.plan import load_plan
from bosun.orchestration.safe_files import identity
from bosun.orchestration.session import BOSUN_DIR, Session, create_session, open_session
from bosun.orchestration.setup_lock import exclusive
from bosun.orchestration.states import DONE_STATES, MERGED, READY, RUNNING, SUBMITTED
from bosun.orchestration.store import StaleState
from bosun.orchestration.worktrees import AgentClone


def open_or_start(repo: GitRepo, plan_path: Path, agent: str | None = None) -> Session:
    """The session in `.bosun/`, or a new one from the plan when there is none. With `agent`,
    refuses before writing anything unless the plan declares it as an external agent."""
    if not (repo.path / BOSUN_DIR / "state.db").exists():  # bad input is refused before anything is written
        plan = load_plan(plan_path)
        if agent is not None:
            _external_agent(plan.agents, agent)
    with exclusive(repo.path / BOSUN_DIR / "session.lock"):  # the first of many racing claims creates it
        if (repo.path / BOSUN_DIR / "state.db").exists():
            session = open_session(repo)
        else:
            session = create_session(repo, plan_path)
    if agent is not None:
        try:
            _external_agent(session.plan.agents, agent)
        except BosunError:
            session.close()
            raise
    return session


def _refresh(session: Session) -> None:
    """What a supervisor would have done by now: expired leases returned, ready units promoted."""
    session.store.expire_leases()
    promote_ready(session.store, session.graph)


def board(session: Session) -> dict:
    """What an agent observes: ready units, live claims and what is integrated."""
    _refresh(session)
    now = time.time()
    rows = session.store.units()
    plan = session.plan
    return {
        "integration": {"branch": plan.project.integration, "commit": session.integration_head()},
        "mode": plan.project.mode,
        "ready": [
            {
                "unit": u.id,
                "title": plan.units[u.id].title,
                "prompt": plan.units[u.id].prompt,
                "scope": list(plan.units[u.id].scope or []),
                "for_agent": u.agent if u.handback else u.pinned,
                "depends_on": list(plan.units[u.id].depends_on),
            }
            for u in rows
            if u.state == READY
        ],
        "claims": [
            {
                "unit": u.id,
                "owner": u.owner,
                "epoch": u.epoch,
                "state": u.state,
                "lease_left_s": round(session.store.lease_left(u, now), 1) if u.lease_until else None,
            }
            for u in rows
            if u.state in HELD
        ],
        "integrated": [{"unit": u.id, "commit": u.merged_commit} for u in rows if u.state == MERGED],
        "open": sum(1 for u in rows if u.state not in DONE_STATES),
    }


def _external_agent(agents: dict, name: str) -> None:
    agent = agents.get(name)
    if agent is None:
        raise BosunError(f"unknown agent '{name}' (agents: {', '.join(agents)})")
    if agent.kind != "external":
        raise BosunError(
            f"agent '{name}' is {agent.kind}: Bosun starts it; agents that claim for themselves "
            'are declared with kind = "external"'
        )


def claim_task(session: Session, agent: str, unit_id: str | None = None) -> dict:
    """Claim a ready unit for an external agent and hand it out: the task JSON plus where to
    work and the token. Raises LostClaim when nothing was won."""
    _external_agent(session.plan.agents, agent)
    if unit_id is not None and session.store.unit(unit_id) is None:
        raise BosunError(f"unknown unit '{unit_id}' (units: {', '.join(session.plan.units)})")
    store = session.store
    _refresh(session)
    outcome = claim(store, session.plan, agent, session.plan.project.lease, unit_id)
    if not isinstance(outcome, Claim):
        raise LostClaim(f"no claim for {agent}: {outcome.reason}")
    clone = session.clone()
    row = store.unit(outcome.unit)
    if row.handback is None:  # the last holder's lease ran out: what it committed is not this claim's work
        row = row._replace(base_commit=None, head_commit=None)
    fault_point("claim.won")
    try:  # a claim is either fully prepared or given back, never stranded
        clone.ensure()
        handout = prepare(
            clone,
            session.plan.units[row.id],
            session.tasks_dir,
            row,
            session.integration_head(),
            integrated_units(store.units()),
        )
        fault_point("claim.prepared")
        store.transition(
            outcome.unit,
            RUNNING,
            ("claimed",),
            epoch=outcome.epoch,
            data={"agent": agent, "attempt": handout.attempt, "external": True},
            started_at=time.time(),
            **handout.running_fields(),
        )
    except BaseException:
        _give_back(session, outcome.unit, outcome.epoch, "claim failed while preparing the worktree")
        raise
    return {
        **handout.task,
        "worktree": str(handout.worktree),
        "token": outcome.epoch,
        "lease_s": outcome.lease_s,
        "task_file": str(handout.task_file),
        "report_file": str(handout.report_file),
    }


def _give_back(session: Session, unit_id: str, epoch: int, why: str) -> None:
    try:
        release(session.store, unit_id, epoch, kind="released", reason=why)
    except StaleState:
        pass


def _holding(session: Session, unit_id: str, token: int, action: str):
    """The unit row if `token` is its live claim; otherwise log the refused write and raise StaleToken.
    Leases that ran out are expired first, supervisor or not: a claim past its lease is stale."""
    session.store.expire_leases()
    row = session.store.unit(unit_id)
    if row is None:
        raise BosunError(f"unknown unit '{unit_id}' (units: {', '.join(session.plan.units)})")
    if row.state not in HELD or row.epoch != token:
        holder = f"held by {row.owner} at epoch {row.epoch}" if row.state in HELD else f"{row.state}"
        session.store.append_event("stale_token", unit_id, action=action, token=token, now=holder)
        raise StaleToken(f"{action} of '{unit_id}' refused: token {token} is stale (the unit is {holder})")
    return row


def heartbeat(session: Session, unit_id: str, token: int) -> float:
    """Renew the lease; returns the seconds left."""
    _holding(session, unit_id, token, "heartbeat")
    lease = session.plan.project.lease
    if not session.store.renew_lease(unit_id, token, lease):
        _holding(session, unit_id, token, "heartbeat")
    return lease


def submit(session: Session, unit_id: str, token: int) -> dict:
    """Hand in the unit: what counts is the new commit on its branch, fetched by id."""
    row = _holding(session, unit_id, token, "submit")
    collected = collect(session.clone(), unit_id, autocommit=False, have=row.base_commit, handback=row.handback)
    fault_point("submit.collected")
    return submit_collected(session, unit_id, token, collected)


def submit_collected(session: Session, unit_id: str, token: int, collected) -> dict:
    """The store's half of `submit`, for a caller that collected the branch in a worker thread."""
    row = _holding(session, unit_id, token, "submit")
    if not collected.is_new(row.head_commit or "") and not collected.kept:
        raise BosunError(
            f"'{unit_id}' has no new commit on {row.branch}: commit your work in {row.worktree}, then submit again"
        )
    report = read_report(task_paths(session.tasks_dir, unit_id)[1], unit_id)
    summary = report["summary"] if report else ""
    try:
        session.store.transition(
            unit_id,
            SUBMITTED,
            HELD,
            epoch=token,
            data={
                "commit": collected.head,
                "summary": summary,
                "external": True,
                **({"kept": True} if collected.kept else {}),
            },
            head_commit=collected.head,
            owner=None,
            lease_until=None,
            detail={"summary": summary},
        )
    except StaleState:
        _holding(session, unit_id, token, "submit")
        raise
    return {"unit": unit_id, "commit": collected.head, "state": SUBMITTED, "supervisor": session.running_supervisor()}


def give_up(session: Session, unit_id: str, token: int) -> None:
    """Release the claim: the unit is ready again, for a fresh worktree."""
    _holding(session, unit_id, token, "release")
    clone = session.clone()
    held = identity(clone.worktree_path(unit_id))  # a later claim's new worktree there is not ours
    try:
        release(session.store, unit_id, token)
    except StaleState:
        _holding(session, unit_id, token, "release")
        raise
    if held is not None:  # only once the claim is surely given up
        clone.remove_worktree(unit_id, only=held)


def revoke(session: Session, unit_id: str, note: str | None = None, clone: AgentClone | None = None) -> None:
    """The human takes a claim away (the supervisor's `revoke`, or the CLI's when none runs).
    StaleState if the claim changed meanwhile; the worktree goes only once the claim is gone."""
    row = session.store.unit(unit_id)
    if row is None or row.state not in HELD:
        raise BosunError(f"unit '{unit_id}' is {row.state if row else 'unknown'}; revoke applies to a claimed unit")
    clone = clone or session.clone()
    held = identity(clone.worktree_path(unit_id))
    release(session.store, unit_id, row.epoch, kind="revoked", owner_was=row.owner, note=note)
    fault_point("revoke.released")
    if held is not None:
        clone.remove_worktree(unit_id, only=held)
