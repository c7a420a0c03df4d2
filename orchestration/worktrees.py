"""Bosun's own shared clone of the user's repository, with one worktree per unit (SPEC §8).

Agents never work in a worktree of the user's repository: that would share its refs, config
and hooks. They work in worktrees of `.bosun/agents.git`, a `git clone --shared` that borrows
the user's objects but has refs, config and hooks of its own, and no remote pointing back.
Bosun pulls a unit's commits into the user's repository by commit id.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .gitcmd import GitRepo, git

AGENT_IDENTITY = (("user.name", "Bosun agent"), ("user.email", "agent@bosun.localhost"))


def unit_branch(unit_id: str) -> str:
    return f"bosun/unit/{unit_id}"


class AgentClone:
    """The clone agents work in. Its config is Bosun's: restored whenever an agent changed it."""

    def __init__(self, user: GitRepo, bosun_dir: Path) -> None:
        self.user = user
        self.path = bosun_dir / "agents.git"
        self.worktrees = bosun_dir / "worktrees"
        self._config = self.path / "config"
        self._config_text: str | None = None

    def ensure(self) -> None:
        """Create the clone once; later sessions reuse it."""
        if not (self.path / "HEAD").exists():
            if self.path.exists():
                shutil.rmtree(self.path)
            git(["clone", "--quiet", "--bare", "--shared", "--no-tags", str(self.user.path), str(self.path)],
                self.user.path)
            git(["remote", "remove", "origin"], self.path)
            for key, value in AGENT_IDENTITY:
                git(["config", key, value], self.path)
            git(["config", "core.hooksPath", "/dev/null"], self.path)
        self.worktrees.mkdir(parents=True, exist_ok=True)
        self._config_text = self._config.read_text()

    def guard(self) -> bool:
        """Put back Bosun's config if an agent changed it; True when it had to."""
        if self._config_text is None:
            self._config_text = self._config.read_text()
            return False
        try:
            current = self._config.read_text()
        except FileNotFoundError:
            current = None
        if current == self._config_text:
            return False
        self._config.write_text(self._config_text)
        return True

    def worktree_path(self, unit_id: str) -> Path:
        return self.worktrees / unit_id

    def add_worktree(self, unit_id: str, start: str) -> Path:
        """A fresh worktree on `bosun/unit/<id>` at `start`, replacing any earlier one."""
        self.guard()
        path = self.worktree_path(unit_id)
        self.remove_worktree(unit_id)
        git(["worktree", "add", "--quiet", "--force", "-B", unit_branch(unit_id), str(path), start], self.path)
        return path

    def remove_worktree(self, unit_id: str) -> None:
        path = self.worktree_path(unit_id)
        if path.exists():
            git(["worktree", "remove", "--force", "--force", str(path)], self.path, check=False)
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
        git(["worktree", "prune"], self.path, check=False)

    def branch_head(self, unit_id: str) -> str | None:
        result = git(["rev-parse", "--verify", "--quiet", f"refs/heads/{unit_branch(unit_id)}^{{commit}}"],
                     self.path, check=False)
        return result.out.strip() if result.code == 0 else None

    def has_changes(self, unit_id: str) -> bool:
        """Whether the worktree has uncommitted edits (tracked or new files)."""
        self.guard()
        result = git(["status", "--porcelain", "--untracked-files=all"], self.worktree_path(unit_id))
        return bool(result.out.strip())

    def commit_all(self, unit_id: str, message: str) -> None:
        """Commit what an agent left uncommitted (for CLIs that edit but do not commit)."""
        self.guard()
        path = self.worktree_path(unit_id)
        git(["add", "--all"], path)
        git(["commit", "--quiet", "--no-verify", "-m", message], path)

    def merge_into_worktree(self, unit_id: str, commit: str) -> list[str]:
        """Merge `commit` into the unit's worktree, leaving conflict markers; returns conflicted files."""
        self.guard()
        path = self.worktree_path(unit_id)
        git(["merge", "--no-edit", "--no-verify", "--quiet", commit], path, check=False)
        out = git(["diff", "--name-only", "--diff-filter=U", "-z"], path).out
        return [p for p in out.split("\0") if p]

    def fetch_into_user(self, commit: str, ref: str) -> None:
        """Bring one commit (and what it needs) into the user's repository, under `ref`."""
        self.user.run("fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--no-recurse-submodules",
                      str(self.path), f"+{commit}:{ref}")
