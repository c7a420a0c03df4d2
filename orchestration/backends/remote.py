"""What runs on the nodes and how the supervisor sees it: the actor behind each agent, the gate's
task, and their local stand-ins (`RemoteChild` for an agent's attempt, `RemoteGate` for a gate run)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import ray
from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError, RayError

from bosun.orchestration.backends.node import AgentJob, AgentRun, GateJob, run_gate_here
from bosun.orchestration.errors import BosunError
from bosun.orchestration.process import Finished

if TYPE_CHECKING:
    from bosun.orchestration.backends.cluster import RayBackend

LOG_EVERY_S = 1.0
"""How often a running agent's new output is copied from its node to the local log."""
STOP_GRACE_S = 5.0


class AgentHost:
    """The Ray actor behind one agent: runs that agent's attempts on its node, one at a time."""

    def __init__(self) -> None:
        self.runs: dict[str, AgentRun] = {}

    def start(self, job: AgentJob) -> dict:
        run = AgentRun(job)
        self.runs[job.unit] = run
        return {**run.start(), "node_id": ray.get_runtime_context().get_node_id()}

    def wait(self, unit: str, timeout: float | None) -> dict:
        return self.runs[unit].wait(timeout)

    def read_log(self, unit: str, offset: int) -> bytes:
        run = self.runs.get(unit)
        return run.read_log(offset) if run is not None else b""

    def stop(self, unit: str) -> None:
        run = self.runs.get(unit)
        if run is not None:
            run.stop()

    def clean(self, unit: str) -> None:
        run = self.runs.pop(unit, None)
        if run is not None:
            run.clean()


def gate_task(job: GateJob) -> dict:
    result = run_gate_here(job)
    result["log"] += f"\nbosun: the gate ran on node {ray.get_runtime_context().get_node_id()}\n"
    return result


def node_answers() -> bool:
    return True


def answered(ref) -> bool:
    try:
        return ray.get(ref, timeout=0) is True
    except (RayError, GetTimeoutError):
        return False


class RemoteChild:
    """An agent running on a node, seen by the supervisor as a `Child`: `wait`, `kill`, the log.
    It has no local pid (None: nothing for a restarted supervisor to kill here); `lost` names
    the node when it went away mid-attempt, and `where` says where it ran."""

    pid = None
    start_time = None

    def __init__(
        self,
        backend: RayBackend,
        clone,
        agent: str,
        actor,
        unit: str,
        log_path: Path,
        report_file: Path,
        where: dict | None = None,
        lost: str | None = None,
    ) -> None:
        self.backend, self.clone, self.agent, self.actor, self.unit = backend, clone, agent, actor, unit
        self.log_path, self.report_file = log_path, report_file
        self.where = where or {}
        self.lost = lost
        self.killed = False
        self.started = time.monotonic()
        self._offset = 0

    def _pull_log(self) -> None:
        try:
            chunk = ray.get(self.actor.read_log.remote(self.unit, self._offset), timeout=30)
        except (RayError, GetTimeoutError):
            return
        if chunk:
            with open(self.log_path, "ab") as handle:
                handle.write(chunk)
            self._offset += len(chunk)

    def wait(self, timeout: float | None) -> Finished:
        if self.lost:
            return Finished(None, False, True, 0.0)
        ref = self.actor.wait.remote(self.unit, timeout)
        while True:
            ready, _ = ray.wait([ref], timeout=LOG_EVERY_S)
            if ready:
                break
            self._pull_log()
        try:
            result = ray.get(ref)
        except ActorUnavailableError:
            # Unreachable is not dead: wait for Ray's verdict on the node. Released before it, the
            # unit's next attempt could be placed on the dying node and be lost a second time.
            if self.backend.node_is_dead(self.where.get("node_id")):
                return self._lost("ActorUnavailableError")
            return self.wait(timeout)  # the node is alive and the actor answers again
        except RayActorError as exc:
            return self._lost(type(exc).__name__)
        self._pull_log()
        try:
            self.backend.take_back(self.clone, self.unit, result, self.report_file)
        except BosunError as exc:  # the node's answer is not trusted: the attempt failed
            with open(self.log_path, "a", encoding="utf-8") as handle:
                handle.write(f"\nbosun: {exc}\n")
            return Finished(None, False, False, result.get("duration_s") or time.monotonic() - self.started)
        finally:  # the node forgets the attempt whatever happened here
            self.backend.actors.attempt_over(self.agent, self.actor, self.unit)
        killed = self.killed or result["killed"]
        code = None if (killed or result["timed_out"]) else result["exit_code"]
        return Finished(code, result["timed_out"], killed, result["duration_s"])

    def _lost(self, why: str) -> Finished:
        self.lost = self.where.get("node") or "its node"
        self.backend.actors.forget(self.agent, self.actor)
        with open(self.log_path, "a", encoding="utf-8") as handle:
            handle.write(f"\nbosun: the node running this agent was lost: {why}\n")
        return Finished(None, False, True, time.monotonic() - self.started)

    def kill(self) -> None:
        """Kill the agent's process group on its node; if the node does not answer, the actor."""
        self.killed = True
        try:
            ray.get(self.actor.stop.remote(self.unit), timeout=STOP_GRACE_S)
        except (RayError, GetTimeoutError):
            ray.kill(self.actor)
            self.backend.actors.forget(self.agent, self.actor)


class RemoteGate:
    """A gate running as a Ray task, as the lane and the queue see it: something to kill."""

    def __init__(self, ref) -> None:
        self.ref = ref
        self.killed = False

    def kill(self) -> None:
        """Ray's cancel interrupts the task, which kills its group; force kills the worker (the
        keeper then kills the group) if it did not end within the grace."""
        self.killed = True
        ray.cancel(self.ref)
        ready, _ = ray.wait([self.ref], timeout=STOP_GRACE_S)
        if not ready:
            ray.cancel(self.ref, force=True)
