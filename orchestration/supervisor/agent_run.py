"""One agent Bosun runs on one unit: its worktree handed out, the agent started (here or on a
cluster node), then what it handed in judged: submitted with its new commit, or failed with the
reason in words. Git and the wait on the child run in worker threads; the store is written from
the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bosun.orchestration.agents.attempt import Collected, Handout, collect, integrated_units, prepare
from bosun.orchestration.agents.last_words import why_it_stopped
from bosun.orchestration.agents.launch import agent_argv, agent_env, compose_prompt, read_report
from bosun.orchestration.agents.usage import add_usage, usage_from_output
from bosun.orchestration.claims import release
from bosun.orchestration.errors import BosunError
from bosun.orchestration.faults import fault_point
from bosun.orchestration.prepare import SetupFailed
from bosun.orchestration.process import Child, Finished, tail
from bosun.orchestration.states import AGENT_STATES, CLAIMED, FAILED, RUNNING, SUBMITTED
from bosun.orchestration.store import StaleState

if TYPE_CHECKING:
    from bosun.orchestration.supervisor.loop import Orchestrator


@dataclass
class Running:
    """An agent at work on a unit."""

    agent: str
    task: asyncio.Task | None
    epoch: int = 0
    renew_at: float = 0.0
    child: Child | None = None
    cancelled: bool = False

    def stop(self) -> None:
        """Kill the agent; its task then ends without writing. TERM, a pause, then KILL: not on the loop."""
        self.cancelled = True
        if self.child is not None:
            threading.Thread(target=self.child.kill, daemon=True).start()


async def work(supervisor: Orchestrator, unit_id: str, running: Running) -> None:
    """The agent's whole attempt; whatever happens, the agent is no longer running after it."""
    try:
        await Attempt(supervisor, unit_id, running).run()
    except StaleState:
        pass
    except Exception as exc:  # an engine bug or a git failure: the unit fails visibly
        try:
            detail = {"reason": "error", "error": str(exc)}
            supervisor.store.transition(unit_id, FAILED, AGENT_STATES, data=detail, detail=detail, epoch=running.epoch)
        except StaleState:
            pass
    finally:
        if supervisor.running.get(unit_id) is running:
            del supervisor.running[unit_id]
        supervisor.wake()


def failure(
    timeout: float, finished: Finished, report: dict | None, collected: Collected, handout: Handout, log: Path
) -> str | None:
    """Why a finished agent's attempt failed, in words, or None when it handed in a new commit (or,
    exiting 0, kept the one a human turned down)."""
    reason = None
    if finished.timed_out:
        reason = f"timed out after {timeout:g}s"
    elif report and report["status"] == "blocked":
        reason = f"agent reported blocked: {report['summary']}"
    elif not collected.is_new(handout.start_head) and not (finished.exit_code == 0 and collected.kept):
        reason = f"agent exited {finished.exit_code} without a new commit"
        if said := why_it_stopped(tail(log, 8000), finished.exit_code):
            reason += f": {said}"  # what it said last (a refused command, a missing file) is usually why
    if reason and finished.over_memory:  # the kernel's OOM killer, inside its own cgroup: named first
        reason = f"killed: over its memory limit of {finished.over_memory} ({reason})"
    if reason and finished.forks_refused:  # a fork bomb, or a build that needs more
        reason += f"; its process limit (BOSUN_PROCESS_LIMIT) refused {finished.forks_refused} forks"
    return reason


class Attempt:
    """One attempt, with the unit and the agent as the plan said when it started: a reload while
    the agent works changes neither its timeout nor how its work is collected."""

    def __init__(self, supervisor: Orchestrator, unit_id: str, running: Running) -> None:
        self.supervisor = supervisor
        self.store = supervisor.store
        self.unit_id = unit_id
        self.running = running
        self.epoch = running.epoch
        self.row = self.store.unit(unit_id)
        self.spec, self.agent = supervisor.plan.units[unit_id], supervisor.plan.agents[running.agent]

    async def run(self) -> None:
        started = await self._start()
        if started is None:
            return
        handout, child, log = started
        finished = await asyncio.to_thread(child.wait, self.spec.timeout)
        if self.running.cancelled:
            return
        if getattr(child, "lost", None):  # its cluster node went away: what it pushed stays in the hub
            release(self.store, self.unit_id, self.epoch, kind="node_lost", node=child.lost)
            return
        await self._hand_in(handout, finished, log)

    async def _start(self) -> tuple[Handout, Child, Path] | None:
        """The worktree prepared and the agent started: the unit is running. None when the agent's
        command cannot be built (the unit has failed)."""
        supervisor, session, unit_id = self.supervisor, self.supervisor.session, self.unit_id
        handout = await asyncio.to_thread(
            prepare,
            supervisor.clone,
            self.spec,
            session.tasks_dir,
            self.row,
            session.integration_head(),
            integrated_units(self.store.units()),
        )
        fault_point("handout.prepared")
        values = {
            "task_file": str(handout.task_file),
            "prompt": compose_prompt(handout.task),
            "unit": unit_id,
            "worktree": str(handout.worktree),
            "gate": supervisor.plan.project.gate,
        }
        try:
            argv = agent_argv(self.agent, supervisor.plan.root, values, session.tasks_dir, supervisor.options.speed)
        except BosunError as exc:
            detail = {"reason": "agent", "error": str(exc)}
            self.store.transition(unit_id, FAILED, (CLAIMED,), epoch=self.epoch, data=detail, detail=detail)
            return None
        env = agent_env(
            self.agent,
            task_file=handout.task_file,
            report_file=handout.report_file,
            unit=unit_id,
            worktree=handout.worktree,
        )
        log = session.agent_log(unit_id, handout.attempt)
        try:
            child = await self._start_agent(handout, argv, env, log)
        except SetupFailed as exc:  # the project's setup, before the agent: the unit fails saying so
            detail = {"reason": "setup", "error": str(exc), "output_tail": exc.output_tail, "log": str(exc.log)}
            self.store.transition(unit_id, FAILED, (CLAIMED,), epoch=self.epoch, data=detail, detail=detail)
            return None
        if (prepared := getattr(child, "prepared", None)) is not None:
            self.store.append_event("prepared", unit_id, **prepared.event())
        fault_point("agent.started")
        try:
            self._running(handout, child)
        except StaleState:  # the unit moved on while its agent started (cancelled, say): it ends here
            self.running.stop()
            await asyncio.to_thread(child.wait, None)  # and its end gives back its ports and record
            raise
        return handout, child, log

    async def _start_agent(self, handout: Handout, argv: list[str], env: dict[str, str], log: Path) -> Child:
        supervisor, session, unit_id = self.supervisor, self.supervisor.session, self.unit_id
        return await asyncio.to_thread(
            supervisor.backend.start_agent,
            supervisor.plan,
            self.agent,
            clone=supervisor.clone,
            bosun_dir=session.dir,
            unit=unit_id,
            argv=argv,
            env=env,
            worktree=handout.worktree,
            task_file=handout.task_file,
            report_file=handout.report_file,
            log=log,
            handout=handout,
        )

    def _running(self, handout: Handout, child: Child) -> None:
        self.running.child = child
        if self.running.cancelled:  # cancelled or revoked while it started: killed off the loop
            self.running.stop()
        agent_name = self.running.agent
        self.store.transition(
            self.unit_id,
            RUNNING,
            (CLAIMED,),
            epoch=self.epoch,
            data={"agent": agent_name, "attempt": handout.attempt, "pid": child.pid, **getattr(child, "where", {})},
            pid=child.pid,
            pid_start=child.start_time,
            started_at=time.time(),
            fsync=False,
            **handout.running_fields(),
        )
        if (egress := getattr(child, "egress", None)) is not None:
            egress.listen(self._denied_listener(agent_name))
        if (where := getattr(child, "where", None)) and where.get("node"):  # for the screen's Node column
            self.store.set_meta(f"node.{agent_name}", f"{where['node']} {str(where.get('node_id', ''))[:8]}".strip())

    def _denied_listener(self, agent: str):
        """What the egress proxy (its own thread) calls on a refusal: an `egress_denied` event, written
        from the loop."""
        loop, store, unit = asyncio.get_running_loop(), self.store, self.unit_id

        def denied(destination: str, reason: str) -> None:
            loop.call_soon_threadsafe(
                lambda: store.append_event("egress_denied", unit, agent=agent, destination=destination, reason=reason)
            )

        return denied

    async def _hand_in(self, handout: Handout, finished: Finished, log: Path) -> None:
        """What the agent handed in, judged: submitted with its commit, or failed with the reason."""
        unit_id = self.unit_id
        report = read_report(handout.report_file, unit_id)
        usage = (report or {}).get("usage") or usage_from_output(tail(log, 20_000))
        total_usage = add_usage(self.row.usage, usage, self.running.agent)
        collected = await asyncio.to_thread(
            collect,
            self.supervisor.clone,
            unit_id,
            self.agent.autocommit,
            handout.base_commit,
            handout.task.get("handback"),
        )
        if collected.config_restored:
            self.store.append_event("security", unit_id, what="the agent changed the clone's config; Bosun restored it")
        reason = failure(self.spec.timeout, finished, report, collected, handout, log)
        if reason:
            detail = {"reason": "agent", "error": reason, "log": str(log), "branch_head": collected.head}
            if handout.task.get("handback"):  # what it was handed back for stays in view, whatever it said
                detail["handback"] = handout.task["handback"]
                detail["files"] = handout.task["handback"].get("files") or []
            self.store.transition(
                unit_id,
                FAILED,
                (RUNNING,),
                epoch=self.epoch,
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
            epoch=self.epoch,
            data={
                "commit": collected.head,
                "summary": summary,
                "exit": finished.exit_code,
                "trusted_report": report is not None,
                "usage": usage,
                **({"kept": True} if collected.kept else {}),
            },
            head_commit=collected.head,
            pid=None,
            detail={"summary": summary},
            usage=total_usage,
        )
