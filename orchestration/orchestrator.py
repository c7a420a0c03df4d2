"""The supervisor loop (asyncio): hands ready units to free agents, watches them, feeds the
integration lane, applies human decisions from the store, and recovers after a crash.

Git and child processes run in worker threads; the store is touched only from the loop, so a
screen embedding this loop stays responsive and sees every change as a store event.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import networkx as nx

from bosun.orchestration.agents.attempt import collect, handback_for, integrated_units, prepare
from bosun.orchestration.agents.external import revoke
from bosun.orchestration.agents.launch import agent_argv, agent_env, compose_prompt, read_report
from bosun.orchestration.agents.usage import add_usage, usage_from_output
from bosun.orchestration.ansi import last_line
from bosun.orchestration.backends import backend_for
from bosun.orchestration.budget import total
from bosun.orchestration.claims import Claim, Lost, claim, promote_ready, release
from bosun.orchestration.errors import BosunError, GitError, PlanError
from bosun.orchestration.faults import fault_point
from bosun.orchestration.integration.lane import IntegrationTampered, Integrator, Verdict
from bosun.orchestration.integration.queue import MergeQueue
from bosun.orchestration.notify import run_notify
from bosun.orchestration.plan.reload import apply_plan
from bosun.orchestration.process import Child, kill_group, tail
from bosun.orchestration.sandbox import check_start
from bosun.orchestration.sandbox.leftovers import end_all
from bosun.orchestration.session import Session
from bosun.orchestration.states import (
    AGENT_STATES,
    AWAITING_APPROVAL,
    CANCELLED,
    CLAIMED,
    COMMAND_STATES,
    CONFLICTED,
    DONE_STATES,
    FAILED,
    GATE_FAILED,
    HUMAN,
    INTEGRATING_STATES,
    MERGED,
    OUT_OF_SCOPE,
    READY,
    RUNNING,
    SEMANTIC_CONFLICT,
    SUBMITTED,
    waits_for_human,
)
from bosun.orchestration.store import StaleState, UnitRow
from bosun.orchestration.takeover import prepare_takeover, record_takeover
from bosun.orchestration.worktrees import AgentClone

AUTO_HANDBACK = (CONFLICTED, SEMANTIC_CONFLICT, GATE_FAILED, OUT_OF_SCOPE)

BUDGET_EVERY_S = 2.0
"""How often running agents' spend is read from their output and held against the budgets."""


@dataclass
class Running:
    """An agent at work on a unit."""

    agent: str
    task: asyncio.Task | None
    epoch: int = 0
    renew_at: float = 0.0
    child: Child | None = None
    cancelled: bool = False


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
        self.integrator = Integrator(session, merge_when_green=project.merge == "auto" or self.options.auto_approve)
        self.running: dict[str, Running] = {}
        self.lane: asyncio.Task | None = None
        self.queue = MergeQueue(self.integrator, on_verdict=self._queue_verdict)
        self._wake = asyncio.Event()
        self._failure: BaseException | None = None
        self._said: set[str] = set()
        self._cleanups: set[asyncio.Task] = set()
        self._taking_over: set[int] = set()
        self._waiting = {u.id for u in session.store.units() if waits_for_human(u.state, u.approved)}
        self._budget_at = 0.0
        self._notifying: list[threading.Thread] = []
        self.lease_s = project.lease

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
        await asyncio.to_thread(self.backend.open)
        ended = await asyncio.to_thread(end_all, self.session.dir)  # what an earlier supervisor left running
        await asyncio.to_thread(self._absorb_left_work, [r.id for r in self.store.units() if r.state in AGENT_STATES])
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
            await self._stop_all()
            await asyncio.to_thread(self.backend.close)
            notifying = [t for t in self._notifying if t.is_alive()]
            if notifying:  # each is bounded by its own timeout
                await asyncio.to_thread(lambda: [t.join() for t in notifying])
            self.session.clear_supervisor()

    def wake(self) -> None:
        self._wake.set()

    def _tick(self) -> None:
        self._apply_commands()
        self._keep_leases()
        self._keep_budgets()
        promote_ready(self.store, self.session.graph)
        self._dispatch()
        self._feed_lane()
        self._notice_waiting()

    # -- people away from the screen, and what agents may spend ------------------------------
    def _notice_waiting(self) -> None:
        """One `waiting_for_human` event (and the plan's notify hook) per unit that has just
        started to wait: a state a human must decide, not one Bosun hands back by itself."""
        rows = self.store.units()
        waiting = {u.id: u for u in rows if waits_for_human(u.state, u.approved)}
        for unit_id in waiting.keys() - self._waiting:
            row = waiting[unit_id]
            why = (row.detail or {}).get("error") or (row.detail or {}).get("reason") or row.state.replace("_", " ")
            event = self.store.append_event("waiting_for_human", unit_id, state=row.state, why=str(why))
            if self.plan.project.notify:
                self._notifying.append(
                    run_notify(
                        self.plan.project.notify,
                        self.plan.project.notify_env,
                        event.to_json(),
                        self.session.dir / "logs" / "notify.log",
                        self.plan.root,
                    )
                )
        self._waiting = set(waiting)

    def _keep_budgets(self) -> None:
        """Stop an agent whose unit, agent or session spend (read from its output as it works)
        went past a budget; its unit waits for a human. Checked at most every BUDGET_EVERY_S."""
        now = time.monotonic()
        budgets = (
            self.plan.project.budget
            or any(a.budget for a in self.plan.agents.values())
            or any(u.budget for u in self.plan.units.values())
        )
        if not budgets or now < self._budget_at or not self.running:
            return
        self._budget_at = now + BUDGET_EVERY_S
        rows = {u.id: u for u in self.store.units()}
        live = {
            unit_id: add_usage(rows[unit_id].usage, usage_from_output(tail(r.child.log_path, 20_000)))
            for unit_id, r in self.running.items()
            if r.child is not None and unit_id in rows
        }
        spend = {u.id: live.get(u.id, u.usage) for u in rows.values()}
        for unit_id, running in list(self.running.items()):
            if unit_id not in live or running.cancelled:
                continue
            agent = self.plan.agents.get(running.agent)
            checks = [
                ("unit", self.plan.units[unit_id].budget, spend[unit_id]),
                (
                    f"agent {running.agent}",
                    agent.budget if agent else None,
                    total([spend[u] for u, row in rows.items() if (row.owner or row.agent) == running.agent]),
                ),
                ("session", self.plan.project.budget, total(list(spend.values()))),
            ]
            for scope, budget, usage in checks:
                over = budget.exceeded_by(usage) if budget else None
                if over:
                    self._stop_over_budget(unit_id, running, f"{scope} budget: {over}", live[unit_id])
                    break

    def _session_spent(self) -> str | None:
        """How the session's spend went past its budget, or None (no budget, or within it)."""
        budget = self.plan.project.budget
        return budget.exceeded_by(total([u.usage for u in self.store.units()])) if budget else None

    def _stop_over_budget(self, unit_id: str, running: Running, why: str, usage: dict | None) -> None:
        self._stop_agent(unit_id)
        detail = {"reason": "budget", "error": why}
        self._move(
            unit_id,
            FAILED,
            AGENT_STATES,
            kind="over_budget",
            data=detail,
            detail=detail,
            usage=usage,
            epoch=running.epoch,
            owner=None,
        )

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
        startable = self._session_spent() is None
        movable = any(
            u.state in INTEGRATING_STATES + AGENT_STATES
            or (u.state == AWAITING_APPROVAL and u.approved)
            or (startable and u.state == READY and self._agent_for(u) is not None)
            for u in units
        )
        return None if movable else 1

    # -- leases, readiness and hand-out ------------------------------------------------------
    def _keep_leases(self) -> None:
        """Renew the leases of the agents Bosun runs; expire everyone else's that ran out."""
        now = self.store.lease_clock()  # not wall time: a clock jump must not steal or keep a lease
        for unit_id, running in self.running.items():
            if running.epoch and running.renew_at <= now:
                if self.store.renew_lease(unit_id, running.epoch, self.lease_s, now=now):
                    running.renew_at = now + self.lease_s / 3
        for event in self.store.expire_leases(now):
            running = self.running.get(event.unit)
            if running is not None and running.epoch == event.data["epoch"]:
                self._stop_agent(event.unit)

    def _agent_for(self, row: UnitRow) -> str | None:
        """The agent that should take `row` now: the same one after a hand-back, the pinned one,
        or else any free agent Bosun starts."""
        busy = {r.agent for r in self.running.values()}
        wanted = row.agent if row.handback else row.pinned
        if wanted is not None:
            spec = self.plan.agents.get(wanted)
            return wanted if spec and spec.kind != "external" and wanted not in busy else None
        for name, spec in self.plan.agents.items():
            if spec.kind != "external" and name not in busy:
                return name
        return None

    def _dispatch(self) -> None:
        """Assign mode: the manager picks a ready unit and its agent. Claim mode: each idle agent
        Bosun runs claims a ready unit for itself, exactly as an external agent would."""
        if over := self._session_spent():
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
        for row in self.store.units():
            if len(self.running) >= self.max_agents:
                return
            if row.state == READY and row.id not in self.running and (agent := self._agent_for(row)) is not None:
                self._start(agent, claim(self.store, self.plan, agent, self.lease_s, row.id))

    def _start(self, agent: str, outcome: Claim | Lost) -> None:
        if isinstance(outcome, Lost):
            if "waits" in outcome.reason and outcome.reason not in self._said:
                self._said.add(outcome.reason)
                self.store.append_event("waiting", None, agent=agent, reason=outcome.reason)
            return
        if outcome.unit in self.running:  # its previous agent is still being stopped: let it go first
            release(self.store, outcome.unit, outcome.epoch, kind="released", reason="previous agent still stopping")
            return
        running = Running(agent, None, epoch=outcome.epoch, renew_at=self.store.lease_clock() + self.lease_s / 3)
        running.task = asyncio.create_task(self._work(outcome.unit, running), name=f"unit {outcome.unit}")
        self.running[outcome.unit] = running

    # -- one agent on one unit -----------------------------------------------------------------
    async def _work(self, unit_id: str, running: Running) -> None:
        try:
            await self._attempt(unit_id, running)
        except StaleState:
            pass
        except Exception as exc:  # an engine bug or a git failure: the unit fails visibly
            try:
                detail = {"reason": "error", "error": str(exc)}
                self.store.transition(unit_id, FAILED, AGENT_STATES, data=detail, detail=detail, epoch=running.epoch)
            except StaleState:
                pass
        finally:
            if self.running.get(unit_id) is running:
                del self.running[unit_id]
            self.wake()

    async def _attempt(self, unit_id: str, running: Running) -> None:
        agent_name, epoch = running.agent, running.epoch
        row = self.store.unit(unit_id)
        spec, agent = self.plan.units[unit_id], self.plan.agents[agent_name]
        handout = await asyncio.to_thread(
            prepare,
            self.clone,
            spec,
            self.session.tasks_dir,
            row,
            self.session.integration_head(),
            integrated_units(self.store.units()),
        )
        fault_point("handout.prepared")
        values = {
            "task_file": str(handout.task_file),
            "prompt": compose_prompt(handout.task),
            "unit": unit_id,
            "worktree": str(handout.worktree),
        }
        try:
            argv = agent_argv(agent, self.plan.root, values, self.session.tasks_dir, self.options.speed)
        except BosunError as exc:
            detail = {"reason": "agent", "error": str(exc)}
            self.store.transition(unit_id, FAILED, (CLAIMED,), epoch=epoch, data=detail, detail=detail)
            return
        env = agent_env(
            agent, task_file=handout.task_file, report_file=handout.report_file, unit=unit_id, worktree=handout.worktree
        )
        log = self.session.dir / "logs" / f"{unit_id}.{handout.attempt}.log"
        child = await asyncio.to_thread(
            self.backend.start_agent,
            self.plan,
            agent,
            clone=self.clone,
            bosun_dir=self.session.dir,
            unit=unit_id,
            argv=argv,
            env=env,
            worktree=handout.worktree,
            task_file=handout.task_file,
            report_file=handout.report_file,
            log=log,
            handout=handout,
        )
        fault_point("agent.started")
        running.child = child
        if running.cancelled:  # cancelled or revoked while it started
            child.kill()
        self.store.transition(
            unit_id,
            RUNNING,
            (CLAIMED,),
            epoch=epoch,
            data={"agent": agent_name, "attempt": handout.attempt, "pid": child.pid, **getattr(child, "where", {})},
            pid=child.pid,
            pid_start=child.start_time,
            started_at=time.time(),
            fsync=False,
            **handout.running_fields(),
        )
        if (where := getattr(child, "where", None)) and where.get("node"):  # for the screen's Node column
            self.store.set_meta(f"node.{agent_name}", f"{where['node']} {str(where.get('node_id', ''))[:8]}".strip())
        finished = await asyncio.to_thread(child.wait, spec.timeout)
        if running.cancelled:
            return
        if getattr(child, "lost", None):  # its cluster node went away: what it pushed stays in the hub
            release(self.store, unit_id, epoch, kind="node_lost", node=child.lost)
            return
        report = read_report(handout.report_file, unit_id)
        usage = (report or {}).get("usage") or usage_from_output(tail(log, 20_000))
        total_usage = add_usage(row.usage, usage)
        collected = await asyncio.to_thread(collect, self.clone, unit_id, agent.autocommit, handout.base_commit)
        if collected.config_restored:
            self.store.append_event("security", unit_id, what="the agent changed the clone's config; Bosun restored it")
        failure = None
        if finished.timed_out:
            failure = f"timed out after {spec.timeout:g}s"
        elif report and report["status"] == "blocked":
            failure = f"agent reported blocked: {report['summary']}"
        elif not collected.is_new(handout.start_head):
            failure = f"agent exited {finished.exit_code} without a new commit"
            if finished.exit_code and (said := last_line(tail(log, 4000))):
                failure += f": {said}"  # what it said last (a missing file, a refused login) is usually why
        if failure and finished.forks_refused:  # a fork bomb, or a build that needs more
            failure += f"; its process limit (BOSUN_PROCESS_LIMIT) refused {finished.forks_refused} forks"
        if failure:
            detail = {"reason": "agent", "error": failure, "log": str(log)}
            if handout.task.get("handback"):  # what it was handed back for stays in view, whatever it said
                detail["handback"] = handout.task["handback"]
                detail["files"] = handout.task["handback"].get("files") or []
            self.store.transition(
                unit_id,
                FAILED,
                (RUNNING,),
                epoch=epoch,
                data={**detail, "usage": usage},
                detail=detail,
                pid=None,
                usage=total_usage,
            )
            return
        summary = report["summary"] if report else ""
        self.store.transition(
            unit_id,
            SUBMITTED,
            (RUNNING,),
            epoch=epoch,
            data={
                "commit": collected.head,
                "summary": summary,
                "exit": finished.exit_code,
                "trusted_report": report is not None,
                "usage": usage,
            },
            head_commit=collected.head,
            pid=None,
            detail={"summary": summary},
            usage=total_usage,
        )

    # -- the integration lane -------------------------------------------------------------------
    def _queued(self) -> bool:
        """Whether the merge queue integrates (more than one gate at once, batches or retries),
        rather than the one-at-a-time lane; a queue still holding candidates finishes them."""
        project = self.plan.project
        return project.gate_parallel > 1 or project.batch > 1 or project.gate_retries > 0 or bool(self.queue.chain)

    def _feed_lane(self) -> None:
        if self.lane is not None:
            if self._queued():
                self.queue.poke()
            return
        if self._queued():
            if self.queue.has_work():
                self.lane = asyncio.create_task(self._run_queue(), name="merge queue")
            return
        for row in self.store.units():
            if row.state == SUBMITTED or (row.state == AWAITING_APPROVAL and row.approved):
                self.lane = asyncio.create_task(self._integrate(row), name=f"integrate {row.id}")
                return

    async def _integrate(self, row: UnitRow) -> None:
        try:
            if row.state == SUBMITTED:
                verdict = await self.integrator.integrate(row.id)
            else:
                verdict = await self.integrator.merge(row.id)
            self._after_verdict(row.id, verdict)
        except StaleState:
            pass
        except IntegrationTampered as exc:
            self._failure = exc
        except Exception as exc:  # a git failure while judging: the unit fails visibly, the session goes on
            detail = {"reason": "error", "error": str(exc)}
            self._move(row.id, FAILED, INTEGRATING_STATES + (AWAITING_APPROVAL,), data=detail, detail=detail)
        finally:
            self.lane = None
            self.wake()

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
            and self.plan.project.handback == "auto"
            and row.attempts < self.plan.project.max_attempts
        ):
            self._hand_back(row, note=None, kind="handed_back")

    def _hand_back(self, row: UnitRow, note: str | None, kind: str, reason: str | None = None) -> bool:
        handback = handback_for(row, note, reason)
        return self._move(
            row.id,
            READY,
            (row.state,),
            kind=kind,
            data={"reason": handback["reason"], "note": note},
            handback=handback,
            approved=0,
            owner=None,
        )

    def _move(self, unit_id: str, to: str, expect: tuple[str, ...], **kwargs) -> bool:
        try:
            self.store.transition(unit_id, to, expect, **kwargs)
            return True
        except StaleState:
            return False

    # -- human decisions ---------------------------------------------------------------------
    def _apply_commands(self) -> None:
        for command in self.store.pending_commands():
            if command.id in self._taking_over:
                continue
            if command.kind == "reload":
                self._do_reload(command)
                continue
            row = self.store.unit(command.unit)
            bad_agent = command.kind == "reassign" and command.args.get("to") not in self.plan.agents
            applies = row is not None and row.state in COMMAND_STATES.get(command.kind, ()) and not bad_agent
            if applies and command.kind == "takeover":  # stops an agent and runs git: off this tick
                self._taking_over.add(command.id)
                task = asyncio.create_task(self._take_over(row, command))
                self._cleanups.add(task)
                task.add_done_callback(self._cleanups.discard)
                continue
            if applies and getattr(self, f"_do_{command.kind}")(row, command.args):
                self.store.finish_command(command.id, "done")
                continue
            # Refused, or its compare-and-swap lost to a change made since the unit was read.
            state = (self.store.unit(command.unit) or row).state if row else "unknown"
            self.store.finish_command(command.id, f"refused: unit is {state}")
            self.store.append_event("command_refused", command.unit, command=command.kind, state=state)

    async def _take_over(self, row: UnitRow, command) -> None:
        """The human becomes the owner: the agent (if any) stopped and gone first, then the worktree
        prepared off the loop, then the claim's compare-and-swap; the command says how it went."""
        note = command.args.get("note")
        try:
            running = self.running.get(row.id)
            if running is not None:
                running.cancelled = True
                if running.child is not None:
                    await asyncio.to_thread(running.child.kill)
                if running.task is not None:
                    await asyncio.gather(running.task, return_exceptions=True)
            row = self.store.unit(row.id)
            if row.state not in COMMAND_STATES["takeover"]:
                raise BosunError(f"unit is {row.state}")
            handout = await asyncio.to_thread(
                prepare_takeover,
                self.clone,
                self.plan.units[row.id],
                self.session.tasks_dir,
                row,
                self.session.integration_head(),
                integrated_units(self.store.units()),
                note,
            )
            record_takeover(self.store, row, handout, note)
            self.store.finish_command(command.id, "done")
        except (StaleState, BosunError, GitError, OSError) as exc:
            self.store.finish_command(command.id, f"refused: {exc}")
            self.store.append_event("command_refused", row.id, command="takeover", state=row.state, error=str(exc))
        finally:
            self._taking_over.discard(command.id)
            self.wake()

    def _do_reload(self, command) -> None:
        """An edited plan from `bosun reload`: applied whole or refused whole, with the reason."""
        try:
            change = apply_plan(self.session, command.args["text"], Path(command.args["path"]))
        except PlanError as exc:
            self.store.finish_command(command.id, f"refused: {exc.problems[0]}")
        except BosunError as exc:
            self.store.finish_command(command.id, f"refused: {exc}")
        else:
            self.store.finish_command(command.id, f"done: {change.describe()}")
            self.max_agents = self.options.max_agents or self.plan.project.max_agents

    def _do_approve(self, row: UnitRow, args: dict) -> bool:
        self.store.update(row.id, approved=1)
        self.store.append_event("approved", row.id, by="human")
        return True

    def _do_reject(self, row: UnitRow, args: dict) -> bool:
        return self._hand_back(row, args.get("note"), kind="rejected", reason="human")

    def _do_handback(self, row: UnitRow, args: dict) -> bool:
        return self._hand_back(row, args.get("note"), kind="handed_back")

    def _do_reassign(self, row: UnitRow, args: dict) -> bool:
        agent = args["to"]
        moved = self._move(
            row.id,
            READY,
            (row.state,),
            kind="reassigned",
            data={"from_agent": row.agent, "to_agent": agent},
            agent=agent,
            pinned=agent,
            handback=None,
            base_commit=None,
            head_commit=None,
            worktree=None,
            approved=0,
            owner=None,
        )
        if moved:  # only now is nobody working in it; the next attempt gets a fresh worktree
            self.clone.remove_worktree(row.id)
        return moved

    def _stop_agent(self, unit_id: str) -> None:
        """Kill the agent Bosun runs on `unit_id`, if any; its task then ends without writing."""
        running = self.running.get(unit_id)
        if running is not None:
            running.cancelled = True
            if running.child is not None:  # TERM, a pause, then KILL: not on the loop
                threading.Thread(target=running.child.kill, daemon=True).start()

    def _do_revoke(self, row: UnitRow, args: dict) -> bool:
        """Take a claim away from its holder (a stuck or misbehaving agent); the unit is ready again."""
        try:
            revoke(self.session, row.id, args.get("note"), self.clone)
        except (StaleState, BosunError):
            return False
        self._stop_agent(row.id)
        return True

    def _do_cancel(self, row: UnitRow, args: dict) -> bool:
        if not self._move(
            row.id, CANCELLED, (row.state,), kind="cancelled", data={"note": args.get("note")}, owner=None, pid=None
        ):
            return False
        self._stop_agent(row.id)
        self.clone.remove_worktree(row.id)
        waiting = [
            u
            for u in self.store.units()
            if u.id in nx.descendants(self.session.graph, row.id) and u.state not in DONE_STATES
        ]
        if args.get("with_dependents"):
            for unit in waiting:
                if unit.state in COMMAND_STATES["cancel"]:
                    self._do_cancel(unit, {"note": f"depends on cancelled unit '{row.id}'"})
        elif waiting:
            self.store.append_event(
                "blocked",
                row.id,
                units=[u.id for u in waiting],
                what="these wait on a cancelled unit: cancel them too (--with-dependents), or reassign it instead",
            )
        return True

    # -- crash recovery and shutdown ---------------------------------------------------------
    def _absorb_left_work(self, unit_ids: list[str]) -> None:
        """A sandboxed agent ended with its supervisor commits into its sandbox's own ref and
        object folders, which only its normal end takes back: take them now (its processes are
        gone), or the restarted attempt would find the work in its index but not on its branch."""
        for unit_id in unit_ids:
            if self.clone.sandbox_dir(unit_id).is_dir():
                self.clone.absorb(unit_id)

    def _recover(self) -> None:
        for unit_id in self.integrator.recover_intents():
            self.store.append_event("recovered", unit_id, what="merge finished after a crash")
        for row in self.store.units():
            if row.queue is not None:  # a queue run an earlier supervisor had going
                self.store.update(row.id, queue=None)
        for row in self.store.units():
            owner = self.plan.agents.get(row.owner or "")
            if row.state in AGENT_STATES and (row.owner == HUMAN or owner is not None and owner.kind == "external"):
                continue  # an external agent's claim lives on its lease, a person's until they submit
            if row.state in AGENT_STATES:
                if row.pid:
                    kill_group(row.pid, row.pid_start)
                attempts = row.attempts - 1 if row.state == RUNNING else row.attempts
                self._move(
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
                self._move(row.id, SUBMITTED, (row.state,), kind="recovered", data={"what": "integration redone"})

    async def _stop_all(self) -> None:
        children = []
        for running in self.running.values():
            running.cancelled = True
            if running.child is not None:
                children.append(running.child)
            running.task.cancel()
        # TERM, a pause, then KILL for each agent: all at once, and off the loop.
        await asyncio.gather(*(asyncio.to_thread(child.kill) for child in children))
        self.queue.stop()  # every queue gate killed; its units are judged again on resume
        if self.lane is not None:  # a gate can take minutes: stop it; the unit is judged again on resume
            self.lane.cancel()
            await asyncio.to_thread(self.integrator.stop_gate)
        tasks = [r.task for r in self.running.values()] + ([self.lane] if self.lane else []) + list(self._cleanups)
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        await self.queue._stop_runs()
