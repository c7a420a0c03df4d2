"""What runs on a cluster node: one agent's attempt, or one gate, against the hub repository.

Plain Python with no Ray in it (the Ray actor and task in `cluster.py` only call this), so
the work a node does is the same code whoever schedules it. A node knows nothing of the
user's repository or the store: it gets commit ids and the hub's address, works in a folder
of its own under `node_root()` (this user's, mode 0700), and hands its commits back by pushing
them to the hub. An agent works as in local mode: in a worktree of a repository Bosun owns on
the node, its git config and admin files read-only in the sandbox, so no git Bosun runs there
reads anything the agent wrote. Each command runs under the keeper (with the process cap local
children have), in bubblewrap where the node has it and the plan asks for it, so nothing
outlives the worker that started it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bosun.orchestration.errors import BosunError, GitError
from bosun.orchestration.gitcmd import GitRepo, git
from bosun.orchestration.integration import gate_git
from bosun.orchestration.integration.gate import GateFolder
from bosun.orchestration.plan import AgentSpec
from bosun.orchestration.process import Child, tail
from bosun.orchestration.safe_files import replace_text
from bosun.orchestration.sandbox import bwrap, limits, ports
from bosun.orchestration.sandbox.boxes import agent_box, gate_box
from bosun.orchestration.sandbox.probe import bwrap_path, probe
from bosun.orchestration.worktrees import AGENT_IDENTITY, OBJECT_ID, AgentClone

KEEPER = Path(__file__).with_name("keeper.py")
BOSUN_ROOT = str(Path(__file__).resolve().parents[3])
PUSH_EVERY_S = 1.0
"""How often a running attempt's new commits are pushed to the hub (so a lost node loses none)."""
LOG_MAX_BYTES = 4_000_000


def node_root() -> Path:
    """This user's folder for node work (`$BOSUN_NODE_DIR`, or `bosun-node-<uid>` in the temporary
    folder): made with mode 0700, and refused when it is not a folder of this user that only this
    user can write, so another local user cannot plant one (with a git config in it) first."""
    root = Path(os.environ.get("BOSUN_NODE_DIR") or Path(tempfile.gettempdir()) / f"bosun-node-{os.getuid()}")
    try:
        root.mkdir(mode=0o700, parents=True)
    except FileExistsError:
        pass
    info = os.lstat(root)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise BosunError(
            f"the node folder {root} is not a folder of this user that only it can write; "
            "remove it or set BOSUN_NODE_DIR"
        )
    return root


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
        raise BosunError(f'sandbox = "required" but on node {os.uname().nodename}: {why}')
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
    """Files the command reads (task file, a scripted agent's script, a script the plan's command
    names by absolute path): supervisor path -> text."""
    executable: list[str] = field(default_factory=list)
    """Those of `files` that are executable where the supervisor runs."""
    agent: AgentSpec | None = None
    sandbox: str = "auto"
    network: bool = False
    autocommit: bool = False
    push_ref: str = ""
    python: str = sys.executable
    bosun_root: str = BOSUN_ROOT


class AgentRun:
    """One attempt of one unit on this node, as in local mode: a repository of Bosun's own
    (fetched from the hub) and the agent in a worktree of it, sandboxed by `AgentClone.sandbox_view`
    (its config, `commondir` and `.git` file read-only; its own ref file and object folder). Git
    on the node never runs with a config or git folder the agent could write: the agent's objects
    are taken back hash-checked, its head read from its ref file, and the push made from Bosun's
    repository."""

    def __init__(self, job: AgentJob) -> None:
        self.job = job
        self.dir = node_root() / job.session / f"{job.unit}.{job.attempt}"
        self.clone = AgentClone(GitRepo(self.dir), self.dir)
        self.work = self.clone.worktree_path(job.unit)
        self.log = self.dir.parent / f"{job.unit}.{job.attempt}.log"
        self.child: Child | None = None
        self.pushed: str | None = None
        self.sandboxed = False
        self._ended = False
        self._stop = threading.Event()
        self._pushing = threading.Lock()
        self._pusher: threading.Thread | None = None

    # -- start -----------------------------------------------------------------------------
    def start(self) -> dict:
        """Fetch the start from the hub and start the agent; returns where it runs."""
        job = self.job
        shutil.rmtree(self.dir, ignore_errors=True)
        (self.dir / "outbox").mkdir(parents=True)
        self.log.unlink(missing_ok=True)
        repo = self.clone.path
        git(["init", "--quiet", "--bare", str(repo)], self.dir)
        for key, value in (*AGENT_IDENTITY, ("core.hooksPath", "/dev/null"), ("gc.auto", "0")):
            git(["config", key, value], repo)
        wanted = [job.start] + ([job.merge] if job.merge else [])
        git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--end-of-options", job.hub, *wanted], repo)
        self.clone.guard()
        self.clone.worktrees.mkdir(parents=True, exist_ok=True)
        self.clone.add_worktree(job.unit, job.start)
        if job.merge:  # a conflict hand-back: the agent resolves the markers, as on one machine
            self.clone.merge_into_worktree(job.unit, job.merge)
        self.pushed = job.start
        here = {
            "worktree": self.work,
            "folder": self.clone.worktrees,
            "task_file": self.dir / "task.json",
            "report_file": self.dir / "outbox" / "report.json",
        }
        mapping = {sup: str(here[role]) for sup, role in job.paths.items()}
        for index, (sup, text) in enumerate(job.files.items()):
            local = self.dir / f"file.{index}.{Path(sup).name}"
            replace_text(local, text)
            if sup in job.executable:
                local.chmod(0o755)
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
        limit = limits.open_group(f"agent.{job.unit}")  # the process cap local children have
        if sandbox_on_node(job.sandbox) and job.agent is not None:
            view = self.clone.sandbox_view(job.unit)
            self.sandboxed = True
            outbox = self.dir / "outbox"
            readable = [Path(mapping[s]) for s in job.files] + [here["task_file"]]
            box = agent_box(
                job.agent,
                repo=self.dir.parent,
                bosun_dir=self.dir,
                argv=argv,
                env=env,
                worktree=self.work,
                git_read=view.read,
                git_write=[*view.write, (outbox, outbox)],
                git_env=view.env,
                readable=readable,
                network=job.network,
            )
            box.hide += hub_side(job.hub)
            argv = bwrap.argv(bwrap_path() or "bwrap", box, argv if limit is not None else limits.inner_limit(argv))
        else:
            env["TMPDIR"] = str(self.dir / "tmp")
            (self.dir / "tmp").mkdir()
        self.child = Child(kept(argv), self.work, env, self.log, on_end=lambda: ports.release(block), limit=limit)
        self._pusher = threading.Thread(target=self._keep_pushing, daemon=True, name="bosun push")
        self._pusher.start()
        return {"node": os.uname().nodename, "node_pid": os.getpid(), "node_worktree": str(self.work)}

    # -- while it runs, and after ------------------------------------------------------------
    def _keep_pushing(self) -> None:
        while not self._stop.wait(PUSH_EVERY_S):
            try:
                self._push()
            except (OSError, BosunError):
                pass  # the next round, or the final push, tries again

    def _head(self) -> str | None:
        """The commit to push. While a sandboxed agent runs: its loose objects taken in (each
        one's hash checked) and the id in its own ref file, if that is a commit Bosun's repository
        now has; its packs and the branch wait for `absorb` at the end. Otherwise the branch."""
        unit = self.job.unit
        if not self.sandboxed or self._ended:
            return self.clone.branch_head(unit)
        own = self.clone.sandbox_dir(unit)
        self.clone.import_loose(own / "objects")
        ref_file = own / "heads" / unit
        try:
            head = (
                ref_file.read_text(errors="replace").strip() if ref_file.is_file() and not ref_file.is_symlink() else ""
            )
        except OSError:
            return None
        if not OBJECT_ID.fullmatch(head):
            return None
        found = git(["cat-file", "-e", f"{head}^{{commit}}"], self.clone.path, check=False)
        return head if found.code == 0 else None

    def _push(self, tries: int = 1) -> str | None:
        """Push the head to the attempt's ref if it moved, from Bosun's repository (its config
        Bosun's). One push at a time; the last one (`tries` > 1) says why it failed."""
        with self._pushing:
            self.clone.guard()
            head = self._head()
            for left in range(tries - 1, -1, -1):
                if not head or head == self.pushed:
                    break
                result = git(
                    ["push", "--quiet", "--no-verify", "--force", self.job.hub, f"{head}:{self.job.push_ref}"],
                    self.clone.path,
                    check=False,
                )
                if result.code == 0:
                    self.pushed = head
                elif not left and tries > 1:
                    raise BosunError(
                        f"cannot push {self.job.unit}'s commit {head} to the hub {self.job.hub}: "
                        f"{(result.err.strip().splitlines() or ['?'])[-1]}"
                    )
                elif left:
                    time.sleep(0.2)
            return self.pushed

    def wait(self, timeout: float | None) -> dict:
        """Wait for the agent, take back what its sandbox wrote, commit leftovers if asked (with
        Bosun's git dir, work tree and index named), push the final head; what happened."""
        assert self.child is not None
        finished = self.child.wait(timeout)
        self._stop.set()
        if self._pusher is not None:
            self._pusher.join()
        with self._pushing:
            self.clone.guard()
            if self.sandboxed:
                self.clone.absorb(self.job.unit)
            self._ended = True
            if self.job.autocommit:
                try:
                    if self.clone.has_changes(self.job.unit):
                        self.clone.commit_all(
                            self.job.unit, f"bosun: work left uncommitted by the agent on {self.job.unit}"
                        )
                except GitError:
                    pass  # the agent broke its worktree's link: its commits still count, nothing else
        head = self._push(tries=5)
        report = self.dir / "outbox" / "report.json"
        text = None
        if report.is_file() and not report.is_symlink() and report.stat().st_size <= 1_000_000:
            text = report.read_text(errors="replace")
        return {
            "head": head,
            "exit_code": finished.exit_code,
            "timed_out": finished.timed_out,
            "killed": finished.killed,
            "duration_s": finished.duration_s,
            "report": text,
        }

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
        git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--end-of-options", job.hub, job.commit], cache)
    work = Path(tempfile.mkdtemp(prefix="gate.", dir=base))
    try:
        folder = GateFolder(GitRepo(cache), work / "tree")
        folder.checkout(job.commit)
        block = ports.allocate()
        env = {**job.env, **block.env(), "GIT_CEILING_DIRECTORIES": str(work)}
        env.update({k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ})
        argv = ["/bin/sh", "-c", job.command]
        limit = limits.open_group("gate")  # the process cap local gates have
        if sandbox_on_node(job.sandbox):
            box = gate_box(repo=base, folder=folder.path, env=env, network=job.network, command=job.command)
            for objects in gate_git.objects_of(GitRepo(cache)):  # what the folder's own .git borrows
                box.read(objects)
            box.hide += hub_side(job.hub)
            argv = bwrap.argv(bwrap_path() or "bwrap", box, argv if limit is not None else limits.inner_limit(argv))
        else:
            (work / "tmp").mkdir()
            env["TMPDIR"] = str(work / "tmp")
        log = work / "gate.log"
        child = Child(kept(argv), folder.path, env, log, on_end=lambda: ports.release(block), limit=limit)
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
        result = {
            "exit_code": code,
            "timed_out": child.timed_out,
            "duration_s": time.monotonic() - started,
            "log": tail(log, LOG_MAX_BYTES),
            "node": os.uname().nodename,
        }
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)
