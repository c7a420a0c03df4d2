"""The Ray backend: agents as Ray actors, gates as Ray tasks, code through the hub.

The supervisor is the Ray driver and stays the only writer of the store: a node gets commit
ids, a command and its environment, and hands back commits (pushed to the hub) and a verdict.
One actor per agent of the plan, placed by the agent's `resources`, works on one unit at a time
(and is let go when a gate waits while it is idle: `actors.py`); a gate is a task that Ray
retries when its node is lost. Ray's cancel only interrupts Python, so a stop always kills the
command's process group on its node (and the keeper kills it when the worker itself dies).
Imported only when the plan says `backend = "ray"`.
"""

from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path

import ray
from ray.exceptions import ActorUnavailableError, GetTimeoutError, RayActorError, RayError, TaskCancelledError

from bosun.orchestration.agents.launch import named_arguments
from bosun.orchestration.ansi import last_line
from bosun.orchestration.backends.actors import AgentActors
from bosun.orchestration.backends.hub import Hub, attempt_ref
from bosun.orchestration.backends.node import AgentJob, GateJob, forget_session
from bosun.orchestration.backends.ray_adapter import quiet_driver, release_fault_log
from bosun.orchestration.backends.remote import (
    AgentHost,
    RemoteChild,
    RemoteGate,
    answered,
    gate_task,
    node_answers,
)
from bosun.orchestration.errors import BosunError
from bosun.orchestration.gitcmd import git
from bosun.orchestration.integration import gate as gate_module
from bosun.orchestration.integration.gate import GateResult, GateSandbox
from bosun.orchestration.plan import AgentSpec, Plan
from bosun.orchestration.process import scrubbed_env
from bosun.orchestration.safe_files import replace_text
from bosun.orchestration.sandbox import network_of, requested
from bosun.orchestration.worktrees import OBJECT_ID, unit_branch

START_TIMEOUT_S = 300.0
"""How long an attempt may wait for its agent's node (placement, the fetch from the hub)."""
CONNECT_TIMEOUT_S = 5.0
CLEAN_TIMEOUT_S = 20.0
"""How long a stopping supervisor waits for the nodes to forget the session (a busy node first
starts a worker for it)."""
GATE_RETRIES = 2
"""How many times Ray runs a gate again when its node is lost while it runs."""
VERDICT_TIMEOUT_S = 90.0
"""How long Bosun waits for Ray to declare a node that stopped answering dead (its health checks
take ~15-30 s) before it trusts the node again."""
VERDICT_POLL_S = 0.5
GATE_PATIENCE_S = 2.0
"""How long a gate runs (or waits for a CPU) before idle agents' actors are let go for it."""
START_TRIES = 3
"""How many nodes an attempt's start is offered to when a node dies under it: a start that never
ran costs no attempt."""


def first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


class RayBackend:
    """Agents and gates on a Ray cluster, code through the hub repository under `.bosun/`."""

    name = "ray"

    def __init__(self, session) -> None:
        self.session = session
        project = session.plan.project
        self.address = project.ray_address
        self.hub = Hub(session.dir, project.ray_hub)
        self.key = hashlib.sha1(str(session.dir.resolve()).encode()).hexdigest()[:12]
        self.actors = AgentActors()
        self._host = None
        self._gate_task = None

    # -- the session's start and end ----------------------------------------------------------
    def open(self) -> None:
        log = self.session.dir / "logs" / "ray.log"
        quiet_driver(log)
        self._check_reachable()
        if not ray.is_initialized():
            try:
                ray.init(
                    address=self.address,
                    logging_level="ERROR",
                    log_to_driver=False,
                    configure_logging=False,
                    namespace=f"bosun-{self.key}",
                )
            except ConnectionError as exc:
                raise BosunError(
                    f'backend = "ray": cannot reach the Ray cluster at {self.address!r}: {first_line(exc)}'
                ) from None
            except (RuntimeError, ValueError) as exc:  # not the cluster: the driver in this process
                raise BosunError(
                    f'backend = "ray": Ray\'s driver did not start in this process (cluster at {self.address!r}): '
                    f"{type(exc).__name__}: {first_line(exc)}"
                ) from None
        self._host = ray.remote(max_concurrency=4)(AgentHost)
        self._gate_task = ray.remote(max_retries=GATE_RETRIES)(gate_task)
        self.hub.ensure()
        gate_module.REMOTE_GATES[self.session.dir] = self.run_gate

    def _check_reachable(self) -> None:
        """Fail in one line, now, when nothing listens at `ray_address` (Ray itself would retry
        for minutes); "auto" and ray:// addresses are left to Ray."""
        if self.address in (None, "auto") or "://" in self.address:
            return
        host, _, port = self.address.rpartition(":")
        try:
            socket.create_connection((host or "127.0.0.1", int(port)), timeout=CONNECT_TIMEOUT_S).close()
        except (OSError, ValueError) as exc:
            raise BosunError(
                f'backend = "ray": no Ray cluster answers at ray_address = {self.address!r} ({exc}); '
                "start one (ray start --head) or correct the address"
            ) from None

    def close(self) -> None:
        gate_module.REMOTE_GATES.pop(self.session.dir, None)
        self.actors.close()
        if ray.is_initialized():
            self._clean_nodes()
            ray.shutdown()
        release_fault_log()

    def _clean_nodes(self) -> None:
        """Each live node forgets this session's folder (its gates' cache of the hub)."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        clean = ray.remote(num_cpus=0, max_retries=0)(forget_session)
        refs = [
            clean.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False)).remote(self.key)
            for n in ray.nodes()
            if n["Alive"]
        ]
        ray.wait(refs, num_returns=len(refs), timeout=CLEAN_TIMEOUT_S)

    def nodes(self) -> list[dict]:
        """The cluster's nodes, for the screen: id, address, alive, resources."""
        return [
            {
                "id": n["NodeID"][:8],
                "address": n["NodeManagerAddress"],
                "alive": n["Alive"],
                "resources": n.get("Resources", {}),
            }
            for n in ray.nodes()
        ]

    # -- agents -------------------------------------------------------------------------------
    def _actor(self, agent: AgentSpec):
        def place(name: str):
            resources = dict(agent.resources)
            return self._host.options(
                num_cpus=resources.pop("CPU", 1),
                num_gpus=resources.pop("GPU", 0),
                resources=resources,
                name=name,
                max_restarts=0,
                scheduling_strategy="SPREAD",  # a team over every node that qualifies
            ).remote()

        return self.actors.for_attempt(agent.name, place)

    def node_is_dead(self, node_id: str | None) -> bool:
        """Wait for Ray's verdict on a node that stopped answering: True once it is declared dead
        (or is unknown), False when it is still alive after VERDICT_TIMEOUT_S."""
        deadline = time.monotonic() + VERDICT_TIMEOUT_S
        while True:
            alive = {n["NodeID"]: n["Alive"] for n in ray.nodes()}
            if not node_id or not alive.get(node_id, False):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(VERDICT_POLL_S)

    def await_verdicts(self) -> None:
        """Before a new actor is placed: wait until no node is both alive in Ray's eyes and
        unreachable (an actor placed there would die with it), within VERDICT_TIMEOUT_S."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        deadline = time.monotonic() + VERDICT_TIMEOUT_S
        probe = ray.remote(num_cpus=0, max_retries=0)(node_answers)
        while time.monotonic() < deadline:
            alive = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
            refs = [
                probe.options(scheduling_strategy=NodeAffinitySchedulingStrategy(node, soft=False)).remote()
                for node in alive
            ]
            ready, _ = ray.wait(refs, num_returns=len(refs), timeout=min(10.0, VERDICT_TIMEOUT_S))
            if len(ready) == len(refs) and all(answered(ref) for ref in ready):
                return
            time.sleep(VERDICT_POLL_S)

    def start_agent(
        self,
        plan: Plan,
        agent: AgentSpec,
        *,
        clone,
        bosun_dir: Path,
        unit: str,
        argv: list[str],
        env: dict[str, str],
        worktree: Path,
        task_file: Path,
        report_file: Path,
        log: Path,
        handout,
    ) -> RemoteChild:
        """Publish the attempt's start in the hub and start the agent on its actor's node."""
        start = clone.branch_head(unit) or handout.start_head
        handback = handout.task.get("handback") or {}
        merge = self.session.integration_head() if handback.get("reason") == "conflict" else None
        with clone._worktree_lock:  # git reads every worktree's HEAD: not while one is made
            self.hub.publish(clone.path, start, attempt_ref(unit, handout.attempt, "starts"))
            if merge:
                self.hub.publish(clone.path, merge, attempt_ref(unit, handout.attempt, "merges"))
        files = {str(task_file): task_file.read_text()}
        # What Bosun prepared (a scripted agent's script) and, as in a local sandbox, the files the
        # plan's command names by absolute path (the user's own agent scripts), never a placeholder.
        named = named_arguments(agent)
        prepared = [a for a in argv if a.startswith(str(bosun_dir) + "/")]
        executable = []
        for arg in prepared + named:
            if arg.startswith("/") and Path(arg).is_file():
                try:
                    files[arg] = Path(arg).read_text()
                except (OSError, UnicodeDecodeError):
                    continue  # a binary program: the node has its own, or none
                if os.access(arg, os.X_OK):
                    executable.append(arg)
        job = AgentJob(
            hub=self.hub.url,
            session=self.key,
            unit=unit,
            attempt=handout.attempt,
            start=start,
            merge=merge,
            branch=f"bosun/unit/{unit}",
            argv=argv,
            env=env,
            paths={
                str(worktree): "worktree",
                str(worktree.parent): "folder",
                str(task_file): "task_file",
                str(report_file): "report_file",
            },
            files=files,
            executable=executable,
            agent=agent,
            sandbox=requested(plan, agent),
            network=network_of(agent) == "host",
            autocommit=agent.autocommit,
            push_ref=attempt_ref(unit, handout.attempt),
        )
        log.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(START_TRIES):
            actor = self._actor(agent)
            try:
                where = ray.get(actor.start.remote(job), timeout=START_TIMEOUT_S)
            except (RayActorError, ActorUnavailableError) as exc:
                # The actor's node died before the agent started: nothing ran, so no attempt is
                # spent; once Ray has declared that node dead, a new actor goes elsewhere.
                self.actors.forget(agent.name, actor)
                self.await_verdicts()
                lost = type(exc).__name__
                continue
            except GetTimeoutError:
                self.actors.forget(agent.name, actor)
                raise BosunError(
                    f"no Ray node took agent '{agent.name}' within {START_TIMEOUT_S:g}s "
                    f"(resources {dict(agent.resources) or {'CPU': 1}})"
                ) from None
            return RemoteChild(self, clone, agent.name, actor, unit, log, report_file, where=where)
        return RemoteChild(self, clone, agent.name, actor, unit, log, report_file, lost=lost)

    def take_back(self, clone, unit: str, result: dict, report_file: Path) -> None:
        """The attempt's commits from the hub into the agents' clone (by id) and the unit's branch
        and worktree moved to them, so collecting the work is the same as on one machine (the
        supervisor's own clone: one lock on its worktrees for every thread)."""
        head = result.get("head")
        if head is not None and not (isinstance(head, str) and OBJECT_ID.fullmatch(head)):
            raise BosunError(f"the node reported a head that is not a commit id: {str(head)[:80]!r}")
        old = clone.branch_head(unit)
        if head and head != old:
            with clone._worktree_lock:  # a fetch reads every worktree's HEAD: not while one is made
                self.hub.take(clone.path, head)
                moved = git(
                    [
                        "update-ref",
                        "-m",
                        "bosun: the attempt's commits, from its node",  # compare-and-swap
                        f"refs/heads/{unit_branch(unit)}",
                        head,
                        old or "",
                    ],
                    clone.path,
                    check=False,
                )
            if moved.code != 0:
                raise BosunError(
                    f"cannot move {unit_branch(unit)} to the node's commit {head}: "
                    f"{(moved.err.strip().splitlines() or ['?'])[-1]}"
                )
            clone.add_worktree(unit, head)
        if result.get("report") is not None:
            replace_text(report_file, result["report"])

    # -- gates ----------------------------------------------------------------------------------
    def run_gate(
        self,
        command: str,
        folder: Path,
        timeout: float,
        allowed_env: tuple[str, ...],
        log_path: Path,
        started: Callable | None,
        sandbox: GateSandbox | None,
        slot: int | None,
    ) -> GateResult:
        """The gate on the tree the gate folder holds, as a Ray task on some node."""
        label = "lane" if slot is None else str(slot)
        commit = self.hub.gate_commit(self.session.repo, folder.parent / (folder.name + ".index"), label)
        env = scrubbed_env(allowed_env, {"BOSUN_GATE": "1"})
        job = GateJob(
            hub=self.hub.url,
            session=self.key,
            commit=commit,
            command=command,
            timeout=timeout,
            env=env,
            sandbox=requested(self.session.plan),
            network=sandbox is not None and sandbox.network is True,  # an allow-list: none on a node
        )
        started_at = time.monotonic()
        handle = RemoteGate(self._gate_task.remote(job))
        if started is not None:
            started(handle)
        try:
            while not ray.wait([handle.ref], timeout=GATE_PATIENCE_S)[0]:
                self.actors.let_idle_go()
            result = ray.get(handle.ref)
        except TaskCancelledError:
            result = {"exit_code": None, "timed_out": False, "log": "bosun: the gate was stopped\n"}
        except RayError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            result = {"exit_code": None, "timed_out": False, "log": f"bosun: the gate failed on the cluster: {first}\n"}
        log_path.parent.mkdir(parents=True, exist_ok=True)
        replace_text(log_path, result["log"])
        duration = result.get("duration_s", time.monotonic() - started_at)
        if result["exit_code"] is None and not result["timed_out"]:  # it never ran to an end on a node
            cause = "stopped" if handle.killed else last_line(result["log"]) or "the gate failed on the cluster"
        else:
            cause = gate_module.gate_cause(result["exit_code"], result["timed_out"], timeout)
        return GateResult(
            result["exit_code"] == 0 and not result["timed_out"] and not handle.killed,
            result["exit_code"],
            duration,
            cause,
            result["log"][-4000:],
            log_path,
        )
