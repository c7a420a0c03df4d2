"""What runs on a cluster node: one agent's attempt, or one gate, against the hub repository.

Plain Python with no Ray in it (the Ray actor and task in `cluster.py` only call this), so
the work a node does is the same code whoever schedules it. A node knows nothing of the
user's repository or the store: it gets commit ids and the hub's address, works in a folder
of its own under `$BOSUN_NODE_DIR` (default: the system's temporary folder), and hands its
commits back by pushing them to the hub. Each command runs under the keeper, in bubblewrap
where the node has it and the plan asks for it, so nothing outlives the worker that started it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bosun.orchestration.errors import BosunError
from bosun.orchestration.gitcmd import git
from bosun.orchestration.integration.gate import GateFolder
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.plan import AgentSpec
from bosun.orchestration.process import Child, tail
from bosun.orchestration.safe_files import replace_text
from bosun.orchestration.sandbox import bwrap, ports
from bosun.orchestration.sandbox.boxes import agent_box, gate_box
from bosun.orchestration.sandbox.probe import bwrap_path, probe

KEEPER = Path(__file__).with_name("keeper.py")
BOSUN_ROOT = str(Path(__file__).resolve().parents[3])
PUSH_EVERY_S = 1.0
"""How often a running attempt's new commits are pushed to the hub (so a lost node loses none)."""
LOG_MAX_BYTES = 4_000_000


def node_root() -> Path:
    return Path(os.environ.get("BOSUN_NODE_DIR") or Path(tempfile.gettempdir()) / "bosun-node")


def forget_session(session: str) -> None:
    """What this node keeps of a finished session (its gates' cache of the hub) goes."""
    shutil.rmtree(node_root() / session, ignore_errors=True)


def hub_side(hub: str) -> list[Path]:
    """A hub reached over the file system sits in the user's repository (`<repo>/.bosun/hub.git`):
    on a node of the supervisor's own machine, that repository is hidden from the sandbox too."""
    path = Path(hub)
    return [path.parents[1]] if path.is_absolute() and path.parent.name == ".bosun" and path.exists() else []


def kept(argv: list[str]) -> list[str]:
    """`argv` under the keeper: its whole group dies with the worker that started it."""
    return [sys.executable, "-I", "-S", str(KEEPER), str(os.getpid()), "--", *argv]


def sandbox_on_node(mode: str) -> bool:
    """Whether to sandbox here: `mode` is the plan's (auto, required, off) for this agent or gate."""
    if mode == "off":
        return False
    works, why = probe()
    if not works and mode == "required":
        raise BosunError(f"sandbox = \"required\" but on node {os.uname().nodename}: {why}")
    return works


@dataclass
class AgentJob:
    """Everything a node needs for one attempt; plain data (Ray pickles it)."""

    hub: str
    session: str
    unit: str
    attempt: int
    start: str
    merge: str | None
    branch: str
    argv: list[str]
    env: dict[str, str]
    paths: dict[str, str]
    """Supervisor paths in argv and env -> what they are here: worktree, folder, task_file, report_file."""
    files: dict[str, str] = field(default_factory=dict)
    """Files the command reads (task file, a scripted agent's script): supervisor path -> text."""
    agent: AgentSpec | None = None
    sandbox: str = "auto"
    network: bool = False
    autocommit: bool = False
    push_ref: str = ""
    python: str = sys.executable
    bosun_root: str = BOSUN_ROOT


class AgentRun:
    """One attempt of one unit on this node: a fresh clone from the hub, the agent, the push."""

    def __init__(self, job: AgentJob) -> None:
        self.job = job
        self.dir = node_root() / job.session / f"{job.unit}.{job.attempt}"
        self.work = self.dir / "work"
        self.log = self.dir.parent / f"{job.unit}.{job.attempt}.log"
        self.child: Child | None = None
        self.pushed: str | None = None
        self._config = ""
        self._stop = threading.Event()
        self._pushing = threading.Lock()
        self._pusher: threading.Thread | None = None

    # -- start -----------------------------------------------------------------------------
    def start(self) -> dict:
        """Clone the start from the hub and start the agent; returns where it runs."""
        job = self.job
        shutil.rmtree(self.dir, ignore_errors=True)
        (self.dir / "outbox").mkdir(parents=True)
        self.log.unlink(missing_ok=True)
        git(["init", "--quiet", "-b", job.branch, str(self.work)], self.dir)
        wanted = [job.start] + ([job.merge] if job.merge else [])
        git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", job.hub, *wanted], self.work)
        git(["reset", "--quiet", "--hard", job.start], self.work)
        if job.merge:  # a conflict hand-back: the agent resolves the markers, as on one machine
            git(["merge", "--no-edit", "--no-verify", "--quiet", job.merge], self.work, check=False)
        self._config = (self.work / ".git" / "config").read_text()
        self.pushed = job.start
        here = {"worktree": self.work, "folder": self.dir, "task_file": self.dir / "task.json",
                "report_file": self.dir / "outbox" / "report.json"}
        mapping = {sup: str(here[role]) for sup, role in job.paths.items()}
        for index, (sup, text) in enumerate(job.files.items()):
            local = self.dir / f"file.{index}.{Path(sup).name}"
            replace_text(local, text)
            mapping[sup] = str(local)
        if job.python != sys.executable:
            mapping[job.python] = sys.executable
        if job.bosun_root != BOSUN_ROOT:
            mapping[job.bosun_root] = BOSUN_ROOT
        argv = [_swap(a, mapping) for a in job.argv]
        env = {k: _swap(v, mapping) for k, v in job.env.items()}
        env.update({k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ})
        block = ports.allocate()
        env.update(block.env())
        if sandbox_on_node(job.sandbox) and job.agent is not None:
            readable = [Path(mapping[s]) for s in job.files] + [here["task_file"]]
            box = agent_box(job.agent, repo=self.dir.parent, bosun_dir=self.dir, argv=argv, env=env,
                            worktree=self.work, git_read=[], git_write=[(self.dir / "outbox", self.dir / "outbox")],
                            git_env={}, readable=readable, network=job.network)
            box.write(self.work)
            box.hide += hub_side(job.hub)
            argv = bwrap.argv(bwrap_path() or "bwrap", box, argv)
        else:
            env["TMPDIR"] = str(self.dir / "tmp")
            (self.dir / "tmp").mkdir()
        self.child = Child(kept(argv), self.work, env, self.log, on_end=lambda: ports.release(block))
        self._pusher = threading.Thread(target=self._keep_pushing, daemon=True, name="bosun push")
        self._pusher.start()
        return {"node": os.uname().nodename, "node_pid": os.getpid(), "node_worktree": str(self.work)}

    # -- while it runs, and after ------------------------------------------------------------
    def _keep_pushing(self) -> None:
        while not self._stop.wait(PUSH_EVERY_S):
            self._push()

    def _push(self, tries: int = 1) -> str | None:
        """Push the branch's head to the attempt's ref if it moved (read from the ref file, so a
        config the agent wrote is never consulted before the push, which runs with Bosun's).
        One push at a time; the last one (`tries` > 1) says why it failed."""
        with self._pushing:
            head = _branch_head(self.work, self.job.branch)
            for left in range(tries - 1, -1, -1):
                if not head or head == self.pushed:
                    break
                result = git(["push", "--quiet", "--no-verify", "--force", self.job.hub,
                              f"{head}:{self.job.push_ref}"], self.work, check=False)
                if result.code == 0:
                    self.pushed = head
                elif not left and tries > 1:
                    raise BosunError(f"cannot push {self.job.unit}'s commit {head} to the hub {self.job.hub}: "
                                     f"{(result.err.strip().splitlines() or ['?'])[-1]}")
                elif left:
                    time.sleep(0.2)
            return self.pushed

    def wait(self, timeout: float | None) -> dict:
        """Wait for the agent, commit leftovers if asked, push the final head; what happened."""
        assert self.child is not None
        finished = self.child.wait(timeout)
        self._stop.set()
        if self._pusher is not None:
            self._pusher.join()
        config = self.work / ".git" / "config"
        if config.read_text(errors="replace") != self._config:  # the agent's config never runs Bosun's git
            replace_text(config, self._config)
        if self.job.autocommit and git(["status", "--porcelain"], self.work, check=False).out.strip():
            git(["add", "--all"], self.work, check=False)
            git(["commit", "--quiet", "--no-verify", "-m", f"bosun: work left uncommitted by the agent on "
                 f"{self.job.unit}"], self.work, check=False)
        head = self._push(tries=5)
        report = self.dir / "outbox" / "report.json"
        text = None
        if report.is_file() and not report.is_symlink() and report.stat().st_size <= 1_000_000:
            text = report.read_text(errors="replace")
        return {"head": head, "exit_code": finished.exit_code, "timed_out": finished.timed_out,
                "killed": finished.killed, "duration_s": finished.duration_s, "report": text}

    def read_log(self, offset: int) -> bytes:
        try:
            with open(self.log, "rb") as handle:
                handle.seek(offset)
                return handle.read(LOG_MAX_BYTES)
        except OSError:
            return b""

    def stop(self) -> None:
        self._stop.set()
        if self.child is not None:
            self.child.kill()

    def clean(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
        self.log.unlink(missing_ok=True)


def _swap(value: str, mapping: dict[str, str]) -> str:
    for old in sorted(mapping, key=len, reverse=True):
        if old and old in value:
            value = value.replace(old, mapping[old])
    return value


def _branch_head(work: Path, branch: str) -> str | None:
    """The branch's commit from its ref file, or from packed-refs: no git process, no config read."""
    git_dir = work / ".git"
    try:
        value = (git_dir / "refs" / "heads" / branch).read_text().strip()
        return value if len(value) in (40, 64) else None
    except OSError:
        pass
    try:
        for line in (git_dir / "packed-refs").read_text().splitlines():
            if line.endswith(f" refs/heads/{branch}"):
                return line.split()[0]
    except OSError:
        pass
    return None


# -- gates ----------------------------------------------------------------------------------
@dataclass
class GateJob:
    """One gate run on a node: the candidate's commit in the hub and the command."""

    hub: str
    session: str
    commit: str
    command: str
    timeout: float
    env: dict[str, str]
    sandbox: str = "auto"
    network: bool = False


def run_gate_here(job: GateJob) -> dict:
    """Fetch the candidate into this node's cache of the hub, check it out in a folder of its
    own, run the command under the keeper; the verdict and the log. An interruption (Ray's
    cancel) kills the whole group before it goes on."""
    base = node_root() / job.session / "gates"
    cache = base / "cache.git"
    base.mkdir(parents=True, exist_ok=True)
    with open(base / "cache.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (cache / "HEAD").exists():
            git(["init", "--quiet", "--bare", str(cache)], base)
        git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", job.hub, job.commit], cache)
    work = Path(tempfile.mkdtemp(prefix="gate.", dir=base))
    try:
        folder = GateFolder(GitRepo(cache), work / "tree")
        folder.checkout(job.commit)
        block = ports.allocate()
        env = {**job.env, **block.env(), "GIT_CEILING_DIRECTORIES": str(work)}
        env.update({k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ})
        argv = ["/bin/sh", "-c", job.command]
        if sandbox_on_node(job.sandbox):
            box = gate_box(repo=base, folder=folder.path, env=env, network=job.network)
            box.hide += hub_side(job.hub)
            argv = bwrap.argv(bwrap_path() or "bwrap", box, argv)
        else:
            (work / "tmp").mkdir()
            env["TMPDIR"] = str(work / "tmp")
        log = work / "gate.log"
        child = Child(kept(argv), folder.path, env, log, on_end=lambda: ports.release(block))
        waiter = threading.Thread(target=child.wait, args=(job.timeout,), daemon=True)
        result: dict = {}
        try:
            started = time.monotonic()
            waiter.start()
            while waiter.is_alive():  # in short steps, so Ray's cancel (KeyboardInterrupt) lands here
                waiter.join(0.1)
        except BaseException:
            child.kill()
            raise
        code = child.proc.returncode if not (child.killed or child.timed_out) else None
        result = {"exit_code": code, "timed_out": child.timed_out, "duration_s": time.monotonic() - started,
                  "log": tail(log, LOG_MAX_BYTES), "node": os.uname().nodename}
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
