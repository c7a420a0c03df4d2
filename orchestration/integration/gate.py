"""The gate: a merge check that touches no working tree, a candidate merge commit, and the
project's tests run on exactly that commit's tree.

The gate folder is filled from the user's repository with a private index, so no config or
hook an agent wrote can run, and the tests see exactly the candidate tree and nothing else.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bosun.orchestration import lfs, prepare, submodules
from bosun.orchestration.errors import GitError
from bosun.orchestration.gitcmd import BOSUN_IDENTITY, GitRepo, git
from bosun.orchestration.integration import gate_git
from bosun.orchestration.integration.excerpt import excerpt
from bosun.orchestration.process import Child, scrubbed_env
from bosun.orchestration.safe_files import remove_tree
from bosun.orchestration.sandbox import bwrap, leftovers, limits, ports
from bosun.orchestration.sandbox.boxes import first_program, gate_box
from bosun.orchestration.sandbox.probe import bwrap_path
from bosun.orchestration.sandbox.proxy import Egress, open_egress


@dataclass(frozen=True)
class MergeCheck:
    """The verdict of `git merge-tree --write-tree`: a clean tree, or the conflicted files."""

    clean: bool
    tree: str | None
    conflicts: tuple[str, ...] = ()


@dataclass(frozen=True)
class GateResult:
    """One gate run: its verdict, a named cause, and the end of its output."""

    passed: bool
    exit_code: int | None
    duration_s: float
    cause: str
    output_tail: str
    log_path: Path
    denied: tuple[tuple[str, str], ...] = ()  # (destination, reason) its network allow-list refused
    unstartable: bool = False  # its own program never ran (could_not_start): not the code's fault


def merge_check(repo: GitRepo, ours: str, theirs: str) -> MergeCheck:
    """Merge in memory. Exit 0 is clean, 1 is a conflict; anything else is an error, never a conflict."""
    result = repo.run("merge-tree", "--write-tree", "--name-only", "-z", ours, theirs, ok_codes=(0, 1))
    head, _, rest = result.out.partition("\0")
    if result.code == 0:
        return MergeCheck(True, head.strip())
    files = rest.split("\0\0", 1)[0]
    conflicts = tuple(dict.fromkeys(p for p in files.split("\0") if p))
    return MergeCheck(False, head.strip() or None, conflicts)


def candidate_commit(repo: GitRepo, tree: str, parents: tuple[str, str], message: str) -> str:
    """The merge commit the gate judges: first parent the integration head, second the unit."""
    args = ["commit-tree", tree, "-p", parents[0], "-p", parents[1], "-m", message]
    return repo.run(*args, env=BOSUN_IDENTITY).out.strip()


class GateFolder:
    """A folder holding exactly one commit's tree and a `.git` of its own (`gate_git`: HEAD at the
    commit, the user's objects borrowed read-only), made anew for each run."""

    def __init__(self, repo: GitRepo, path: Path) -> None:
        self.repo = repo
        self.path = path
        self.index = path.parent / (path.name + ".index")

    def _env(self) -> dict[str, str]:
        return {"GIT_INDEX_FILE": str(self.index), "GIT_WORK_TREE": str(self.path), "GIT_DIR": str(self.repo.git_dir)}

    def _git(self, *args: str) -> None:
        git(list(args), self.path, env=self._env())

    def checkout(self, commit: str) -> None:
        """Make the folder hold exactly `commit`'s files, its submodules' and LFS files' content
        included: tracked files updated, leftovers removed."""
        self.path.mkdir(parents=True, exist_ok=True)
        gate_git.drop(self.path)  # before any git runs here: what the last gate left in it is not read
        # A fresh index each time: the last gate's code could have marked files skip-worktree in
        # the old one, and read-tree would then leave its edits to them in place.
        self.index.unlink(missing_ok=True)
        try:
            self._git("read-tree", "--reset", "-u", commit)
            self._git("clean", "-ffdxq")
        except GitError:
            remove_tree(self.path)  # what `clean` could not remove: what the gate left read-only
            self.index.unlink(missing_ok=True)
            self.path.mkdir(parents=True, exist_ok=True)
            self._git("read-tree", "--reset", "-u", commit)
        submodules.fill(self.repo.path, commit, self.path)
        lfs.fill(self.repo.path, commit, self.path, self._env())
        gate_git.write(self.path, self.repo, commit, self.index)


REMOTE_GATES: dict[Path, Callable[..., GateResult]] = {}
"""A session's `.bosun/` -> the backend that runs its gates elsewhere (the Ray backend, while
its supervisor runs); a session not named here runs its gates as local processes."""


@dataclass(frozen=True)
class GateSandbox:
    """Where the gate runs: in bubblewrap (`active`) with the host's network or none; `repo` is
    the user's repository (hidden inside), `bosun_dir` where running processes are recorded."""

    active: bool
    network: bool | tuple[str, ...]  # True: the host's; a tuple: those destinations through the egress proxy
    repo: Path
    bosun_dir: Path
    memory: str | None = None  # the gate's memory cap ("4G")


def _gate_env(allowed_env: tuple[str, ...], ceiling: Path, block: ports.PortBlock) -> dict[str, str]:
    return scrubbed_env(allowed_env, {"GIT_CEILING_DIRECTORIES": str(ceiling), "BOSUN_GATE": "1", **block.env()})


def _boxed_argv(
    command: str,
    folder: Path,
    env: dict[str, str],
    sandbox: GateSandbox,
    grouped: bool,
    egress: Egress | None,
    ready=None,
) -> list[str]:
    box = gate_box(repo=sandbox.repo, folder=folder, env=env, network=sandbox.network is True, command=command)
    if ready is not None:  # the project's setup: its products bound in, the folder at the canonical path
        prepare.show(box, folder, ready)
    for objects in gate_git.objects_of(GitRepo(sandbox.repo)):  # what the folder's own .git borrows
        box.read(objects)
    box.proxy = egress.socket if egress is not None else None
    argv = ["/bin/sh", "-c", command]
    return bwrap.argv(bwrap_path() or "bwrap", box, argv if grouped else limits.inner_limit(argv))


def _start(
    command: str,
    folder: Path,
    allowed_env: tuple[str, ...],
    log_path: Path,
    ceiling: Path,
    sandbox: GateSandbox | None,
    name: str,
) -> Child:
    """Start the gate: in its sandbox when there is one, else with a private TMPDIR."""
    private_tmp = token = pending = None
    if sandbox is not None:
        leftovers.end_named(sandbox.bosun_dir, name)
        # Written down before anything starts, setup included (leftovers.py).
        token, pending = leftovers.pending(sandbox.bosun_dir, name)
        if not sandbox.active:  # unsandboxed: a private TMPDIR at least
            private_tmp = sandbox.bosun_dir / "tmp" / name
            shutil.rmtree(private_tmp, ignore_errors=True)
            private_tmp.mkdir(parents=True)
    block = limit = egress = ready = None
    try:
        if sandbox is not None:
            ready = prepare.for_gate(sandbox.bosun_dir, sandbox.repo, folder, log_path, sandbox.active, token)
        block = ports.allocate()
        env = _gate_env(allowed_env, ceiling, block)
        if private_tmp is not None:
            env["TMPDIR"] = str(private_tmp)
        if token is not None:
            env[leftovers.TOKEN] = token
        limit = limits.open_group(name, sandbox.memory if sandbox is not None else None)
        boxed = sandbox is not None and sandbox.active
        allow = sandbox.network if boxed and isinstance(sandbox.network, tuple) else None
        egress = open_egress(name, allow) if allow is not None else None
        grouped = limit is not None
        argv = (
            _boxed_argv(command, folder, env, sandbox, grouped, egress, ready) if boxed else ["/bin/sh", "-c", command]
        )
    except BaseException:  # nothing started: give back what was taken for it
        ports.release(block)
        leftovers.forget(pending)
        if limit is not None:
            limit.close()
        if egress is not None:
            egress.close()
        raise

    def on_start(child: Child) -> None:
        if sandbox is not None:
            group = child.limit.path if child.limit else None
            leftovers.record(sandbox.bosun_dir, name, child.pid, child.start_time, group, token)

    def on_end() -> None:
        if egress is not None:
            egress.close()
        ports.release(block)
        leftovers.forget(pending)

    child = Child(argv, folder, env, log_path, on_start=on_start, on_end=on_end, limit=limit)
    child.egress = egress
    return child


def could_not_start(command: str, exit_code: int | None, output: str) -> str | None:
    """Why the gate's own program never ran (not found, not executable, or a `python -m` module
    not installed), or None: then its tests failed, and the agent is the one to fix them. Said
    only where the shell or Python names that very program or module, so a test that itself runs
    a missing tool still fails as the tests'."""
    if exit_code not in (1, 126, 127):
        return None
    try:
        program, words = first_program(command), shlex.split(command)
    except ValueError:
        return None
    if program is None or program not in words:
        return None
    after = words[words.index(program) + 1 :]
    name = os.path.basename(program)
    said = rf"(?m)(?:^|: ){re.escape(program)}: "  # as the shell names the program it could not run
    if exit_code == 127 and re.search(said + "(?:command )?not found", output):
        return f"`{name}` was not found on the gate's PATH"
    if exit_code == 126 and re.search(said + "(?:Permission denied|cannot execute)", output):
        return f"`{name}` cannot be run (not executable)"
    if (
        exit_code == 1
        and after[:1] == ["-m"]
        and len(after) > 1
        and re.search(rf"(?m)No module named '?{re.escape(after[1])}'?$", output)
    ):
        return f"`{name}` has no module `{after[1]}` (install it where the gate runs, e.g. in setup)"
    return None


def gate_cause(exit_code: int | None, timed_out: bool, timeout: float) -> str:
    """The one line a gate's verdict gives, wherever the gate ran."""
    if timed_out:
        return f"timed out after {timeout:g}s"
    return "tests passed" if exit_code == 0 else f"tests failed (exit {exit_code})"


def run_gate(
    command: str,
    folder: Path,
    timeout: float,
    allowed_env: tuple[str, ...],
    log_path: Path,
    ceiling: Path,
    started: Callable[[Child], None] | None = None,
    sandbox: GateSandbox | None = None,
    slot: int | None = None,
) -> GateResult:
    """Run the gate command in `folder` with the scrubbed environment and its own ports, in its
    sandbox when there is one; kill its group on timeout. `started` is handed the process, so a
    stopping session can kill it. A gate an earlier supervisor left running on this folder is
    ended first: two gates never share the folder. The merge queue runs several gates at once,
    each in its own `slot` (folder, private TMPDIR and record of what runs)."""
    remote = REMOTE_GATES.get(sandbox.bosun_dir) if sandbox is not None else None
    if remote is not None:
        return remote(command, folder, timeout, allowed_env, log_path, started, sandbox, slot)
    name = "gate" if slot is None else f"gate.{slot}"
    try:
        child = _start(command, folder, allowed_env, log_path, ceiling, sandbox, name)
    except prepare.SetupFailed as exc:
        return GateResult(False, None, 0.0, f"setup failed: {exc}", exc.output_tail, log_path)
    if started is not None:
        started(child)
    finished = child.wait(timeout)
    limit = child.limit
    output = excerpt(log_path)  # not a closing coverage table: what failed
    cause = gate_cause(finished.exit_code, finished.timed_out, timeout)
    if (missing := could_not_start(command, finished.exit_code, output)) is not None:
        cause = f"the gate could not start: {missing} (exit {finished.exit_code})"
    if finished.over_memory and not finished.timed_out and finished.exit_code != 0:
        cause = f"killed: over its memory limit of {finished.over_memory} ({cause})"
    if finished.forks_refused and limit is not None:
        cause += f"; its process limit ({limit.limit}) refused {finished.forks_refused} forks"
    denied = tuple(egress.denied) if (egress := getattr(child, "egress", None)) is not None else ()
    if denied:
        cause += f"; its network allow-list refused {', '.join(dict.fromkeys(d for d, _ in denied))}"
    return GateResult(
        finished.exit_code == 0 and not finished.timed_out,
        finished.exit_code,
        finished.duration_s,
        cause,
        output,
        log_path,
        denied,
        missing is not None,
    )
