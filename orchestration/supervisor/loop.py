"""The supervisor loop (asyncio): hands ready units to free agents, watches them, feeds the
integration lane, applies human decisions from the store, and recovers after a crash. What each
tick carries out lives beside it in supervisor/, one job per module; the loop keeps dispatch and the lane.

Git and child processes run in worker threads; the store is touched only from the loop, so a
screen embedding this loop stays responsive and sees every change as a store event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from bosun.orchestration.backends import backend_for
from bosun.orchestration.claims import Claim, Lost, claim, promote_ready, release
from bosun.orchestration.gitcmd import fetch_tags
from bosun.orchestration.integration.landing import IntegrationTampered, recover_intents
from bosun.orchestration.integration.queue import MergeQueue, Verdict
from bosun.orchestration.sandbox import check_start
from bosun.orchestration.sandbox.leftovers import end_all, end_named
from bosun.orchestration.session import Session
from bosun.orchestration.states import (
    AGENT_STATES,
    AWAITING_APPROVAL,
    CONFLICTED,
    DONE_STATES,
    GATE_FAILED,
    HUMAN,
    INTEGRATING_STATES,
    MERGED,
    OUT_OF_SCOPE,
    READY,
    SEMANTIC_CONFLICT,
)
from bosun.orchestration.store import StaleState, UnitRow
from bosun.orchestration.supervisor.agent_run import Running, work
from bosun.orchestration.supervisor.budgets import BudgetWatch
from bosun.orchestration.supervisor.decisions import Decisions
from bosun.orchestration.supervisor.leases import keep_leases
from bosun.orchestration.supervisor.moves import hand_back, move
from bosun.orchestration.supervisor.recovery import (
    absorb_left_work,
    claim_outlives_supervisor,
    clear_stale_locks,
    recover_units,
)
from bosun.orchestration.supervisor.waiting import WaitingNotices
from bosun.orchestration.worktrees import AgentClone

AUTO_HANDBACK = (CONFLICTED, SEMANTIC_CONFLICT, GATE_FAILED, OUT_OF_SCOPE)


@dataclass
class Options:
    """How a run behaves beyond what the plan says."""

    auto_approve: bool = False
    max_agents: int | None = None
    wait: bool = False
    speed: float = 1.0
    poll_s: float = 0.2


class Orchestrator:
    """Runs one session until every unit is merged or cancelled, or nothing can move."""

    def __init__(self, session: Session, options: Options | None = None) -> None:
        self.session = session
        self.store = session.store
        self.options = options or Options()
        self.clone: AgentClone = session.clone()
        self.backend = backend_for(session)
        project = self.plan.project
        self.max_agents = self.options.max_agents or project.max_agents
        self.running: dict[str, Running] = {}
        self.lane: asyncio.Task | None = None
        green = project.merge == "auto" or self.options.auto_approve
        self.queue = MergeQueue(session, merge_when_green=green, on_verdict=self._queue_verdict)
        started = sum(1 for spec in self.plan.agents.values() if spec.kind != "external")
        self.queue.team = self._own_team() + len(self.plan.agents) - started  # for bottleneck.py
        self._wake = asyncio.Event()
        self._failure: BaseException | None = None
        self._said: set[str] = set()
        self._cleanups: set[asyncio.Task] = set()
        self.lease_s = project.lease
        self.decisions = Decisions(self)
        self.budgets = BudgetWatch(session)
        self.notices = WaitingNotices(session)

    def _own_team(self) -> int:
        """How many of the agents Bosun starts can work at once (the plan may change on reload)."""
        return min(self.max_agents, sum(1 for spec in self.plan.agents.values() if spec.kind != "external"))

    @property
    def plan(self):
        """The session's plan, which `bosun reload` may replace while the loop runs."""
        return self.session.plan

    # -- the loop -----------------------------------------------------------------------
    async def run(self) -> int:
        """0 when every unit is merged or cancelled; 1 when the rest needs a human."""
        # Every agent Bosun runs waits on its process in a worker thread: the loop's default pool
        # (min(32, cores + 4) threads, 6 on two cores) would let six waiting agents starve the rest
        # and the integration lane of threads, so it gets one sized for the team.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max(32, 2 * self.max_agents + 16), thread_name_prefix="bosun")
        )
        unsandboxed = await asyncio.to_thread(check_start, self.plan)  # `required` without bwrap: refuse here
        self.session.mark_supervisor()
        await asyncio.to_thread(self.clone.ensure)
        await asyncio.to_thread(fetch_tags, self.clone.path, self.session.repo.path)
        await asyncio.to_thread(self.backend.open)
        ended = await asyncio.to_thread(end_all, self.session.dir)  # what an earlier supervisor left running
        rows = self.store.units()
        await asyncio.to_thread(absorb_left_work, self.clone, [r.id for r in rows if r.state in AGENT_STATES])
        ours = [r.id for r in rows if not (r.state in AGENT_STATES and claim_outlives_supervisor(r, self.plan))]
        await asyncio.to_thread(clear_stale_locks, self.clone, ours)
        self._recover()
        self.store.append_event("supervisor_started", None, max_agents=self.max_agents)
        if ended:
            self.store.append_event("recovered", None, what="ended processes an earlier supervisor left", ended=ended)
        if unsandboxed:
            self.store.append_event(
                "sandbox_unavailable",
                None,
                reason=unsandboxed,
                what='agents and gates run WITHOUT a sandbox (sandbox = "auto")',
            )
        try:
            while True:
                self._tick()
                if self._failure is not None:
                    raise self._failure
                outcome = self._outcome()
                if outcome is not None:
                    self.store.append_event(
                        "session_finished" if outcome == 0 else "session_paused", None, exit=outcome, **self._census()
                    )
                    return outcome
                try:
                    await asyncio.wait_for(self._wake.wait(), self.options.poll_s)
                except TimeoutError:
                    pass
                self._wake.clear()
        finally:
            await to_the_end(self._close())

    async def _close(self) -> None:
        await self._stop_all()
        await asyncio.to_thread(self.backend.close)
        await self.notices.finish()
        self.session.clear_supervisor()

    def wake(self) -> None:
        self._wake.set()

    def in_background(self, task: asyncio.Task) -> None:
        """A task of the loop's that it waits for when it stops (a worktree's removal, a takeover)."""
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)

    def stop_agent(self, unit_id: str) -> None:
        """Kill the agent Bosun runs on `unit_id`, if any; its task then ends without writing."""
        running = self.running.get(unit_id)
        if running is not None:
            running.stop()

    def _tick(self) -> None:
        self.decisions.apply()
        keep_leases(self.store, self.running, self.lease_s)
        self.budgets.check(self.running)
        promote_ready(self.store, self.session.graph)
        self._dispatch()
        self._feed_lane()
        self.notices.notice()

    def _census(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for unit in self.store.units():
            counts[unit.state] = counts.get(unit.state, 0) + 1
        return counts

    def _outcome(self) -> int | None:
        units = self.store.units()
        if all(u.state in DONE_STATES for u in units):
            return 0
        if self.options.wait or self.running or self.lane is not None or self.store.pending_commands():
            return None
        startable = self.budgets.session_spent() is None
        movable = any(
            u.state in INTEGRATING_STATES + AGENT_STATES
            or (u.state == AWAITING_APPROVAL and u.approved)
            or (startable and u.state == READY and self._agent_for(u) is not None)
            for u in units
        )
        return None if movable else 1

    # -- dispatch: ready units to free agents --------------------------------------------------
    def _agent_for(self, row: UnitRow) -> str | None:
        """The agent that should take `row` now: the pinned one; after a hand-back the same one,
        or while that one is busy with another unit a free agent configured just like it (its
        worktree and hand-back go with the unit: waiting could cost the longest chain a whole
        attempt of another unit); or else any free agent Bosun starts."""
        busy = {r.agent for r in self.running.values()}
        wanted = row.agent if row.handback else row.pinned
        if wanted is not None:
            spec = self.plan.agents.get(wanted)
            if spec is None or spec.kind == "external":
                return None
            if wanted not in busy:
                return wanted
            if row.pinned or not row.handback:
                return None
            alike = spec.model_dump(exclude={"name"})
            return next(
                (n for n, s in self.plan.agents.items() if n not in busy and s.model_dump(exclude={"name"}) == alike),
                None,
            )
        for name, spec in self.plan.agents.items():
            if spec.kind != "external" and name not in busy:
                return name
        return None

    def _hand_on(self, row: UnitRow, agent: str) -> bool:
        """A handed-back unit goes to `agent`, the twin of its own busy one (`_agent_for`)."""
        return move(
            self.store,
            row.id,
            READY,
            (READY,),
            kind="handed_on",
            data={"from_agent": row.agent, "to_agent": agent, "why": f"{row.agent} is busy with another unit"},
            agent=agent,
        )

    def _dispatch(self) -> None:
        """Assign mode: the manager picks a ready unit and its agent. Claim mode: each idle agent
        Bosun runs claims a ready unit for itself, exactly as an external agent would."""
        if over := self.budgets.session_spent():
            if "session budget" not in self._said:  # spent: nothing new starts; the human decides
                self._said.add("session budget")
                self.store.append_event("over_budget", None, error=f"session budget: {over}")
            return
        if self.plan.project.mode == "claim":
            busy = {r.agent for r in self.running.values()}
            idle = [n for n, a in self.plan.agents.items() if a.kind != "external" and n not in busy]
            for agent in idle:
                if len(self.running) < self.max_agents:
                    self._start(agent, claim(self.store, self.plan, agent, self.lease_s))
            return
        from bosun.orchestration.graph import chain_heights, critical_first, kept_free_for  # networkx: loaded already

        rows = critical_first(self.session.graph, self.store.units())
        team = self._own_team()
        keep = kept_free_for(self.session.graph, rows, team)
        heights = chain_heights(self.session.graph)
        for row in rows:
            if len(self.running) >= self.max_agents:
                return
            if row.state != READY or row.id in self.running:
                continue
            free_to_wait = not (row.pinned or row.handback)  # a unit that wants its own agent is never held
            if (
                keep
                and free_to_wait
                and len(self.running) >= team - keep.agents
                and heights.get(row.id, 1) < keep.height
            ):
                held = "one agent" if keep.agents == 1 else f"{keep.agents} agents"
                self._waiting(
                    agents=team - keep.agents, reason=f"{held} kept free for the longest chain ({keep.longest} units)"
                )
                continue  # only a unit pinned to its agent, or handed back to it, may take a kept one now
            if (agent := self._agent_for(row)) is not None:
                if row.handback and agent != row.agent and not self._hand_on(row, agent):
                    continue
                self._start(agent, claim(self.store, self.plan, agent, self.lease_s, row.id))

    def _waiting(self, **data) -> None:
        """Why an agent is idle, told once per session for the same reason."""
        if data["reason"] not in self._said:
            self._said.add(data["reason"])
            self.store.append_event("waiting", None, **data)

    def _start(self, agent: str, outcome: Claim | Lost) -> None:
        if isinstance(outcome, Lost):
            if "waits" in outcome.reason:
                self._waiting(agent=agent, reason=outcome.reason)
            return
        if outcome.unit in self.running:  # its previous agent is still being stopped: let it go first
            release(self.store, outcome.unit, outcome.epoch, kind="released", reason="previous agent still stopping")
            return
        running = Running(agent, None, epoch=outcome.epoch, renew_at=self.store.lease_clock() + self.lease_s / 3)
        running.task = asyncio.create_task(work(self, outcome.unit, running), name=f"unit {outcome.unit}")
        self.running[outcome.unit] = running

    # -- the integration lane: the merge queue ----------------------------------------------------
    def _feed_lane(self) -> None:
        if self.lane is not None:
            self.queue.poke()
        elif self.queue.has_work():
            self.lane = asyncio.create_task(self._run_queue(), name="merge queue")

    async def _run_queue(self) -> None:
        try:
            await self.queue.run()
        except StaleState:
            pass  # a human moved a unit under it: the next round sees it
        except IntegrationTampered as exc:
            self._failure = exc
        except Exception as exc:  # an engine bug or a git failure: the session stops and says so
            self._failure = exc
        finally:
            self.lane = None
            self.wake()

    def _queue_verdict(self, unit_id: str, state: str, detail: dict) -> None:
        # A gate that could not run, or whose program never started, judged nothing: no attempt is
        # spent on it, and the unit waits for the person at the terminal (fix the gate, `regate`);
        # one that fails on the integration branch itself too waits for it to pass (base_gate.py).
        if not any(detail.get(key) for key in ("lost", "unstartable", "base_failing")):
            self._after_verdict(unit_id, Verdict(state, detail))
        self.wake()  # a merge readies dependents, a hand-back frees an agent

    def _after_verdict(self, unit_id: str, verdict: Verdict) -> None:
        if verdict.state == MERGED:  # nobody works on a merged unit again: clean up off the loop
            cleanup = asyncio.create_task(asyncio.to_thread(self.clone.remove_worktree, unit_id))
            self._cleanups.add(cleanup)
            cleanup.add_done_callback(self._cleanups.discard)
            return
        row = self.store.unit(unit_id)
        if (
            verdict.state in AUTO_HANDBACK
            and row.agent != HUMAN  # the person who took it over decides what comes next
            and self.plan.project.handback == "auto"
            and row.attempts < self.plan.project.max_attempts
        ):
            hand_back(self.store, row, None, "handed_back")

    # -- crash recovery and shutdown ---------------------------------------------------------
    def _recover(self) -> None:
        for unit_id in recover_intents(self.session):
            self.store.append_event("recovered", unit_id, what="merge finished after a crash")
        for row in self.store.units():
            if row.queue is not None:  # a queue run an earlier supervisor had going
                self.store.update(row.id, queue=None)
        recover_units(self.store, self.plan)

    async def _stop_all(self) -> None:
        children, starting = [], []
        for unit_id, running in self.running.items():
            running.cancelled = True
            if running.child is not None:
                children.append(running.child)
            else:  # still in its setup: ended by its record's token, and no agent starts after it
                starting.append(f"agent.{unit_id}")
            running.task.cancel()
        # TERM, a pause, then KILL for each agent: all at once, and off the loop.
        await asyncio.gather(
            *(asyncio.to_thread(child.kill) for child in children),
            *(asyncio.to_thread(end_named, self.session.dir, name) for name in starting),
        )
        self.queue.stop()  # every gate killed (a gate can take minutes); its units are judged again on resume
        tasks = [r.task for r in self.running.values()] + ([self.lane] if self.lane else []) + list(self._cleanups)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.queue.stop_runs()


async def to_the_end(closing: Coroutine) -> None:
    """Await `closing` to its end even when cancelled again meanwhile: the screen's worker is
    cancelled once by Textual on exit and may be again by whoever is waiting for it, and a second
    cancel inside the stop would leave agents running (and the process waiting for their threads).
    A cancellation that arrived meanwhile is raised once the stop is done."""
    task = asyncio.ensure_future(closing)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.cancelled():
                raise
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError
    task.result()
