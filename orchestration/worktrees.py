"""Bosun's own shared clone of the user's repository, with one worktree per unit (SPEC §8).

Agents never work in a worktree of the user's repository: that would share its refs, config
and hooks. They work in worktrees of `.bosun/agents.git`, a `git clone --shared` that borrows
the user's objects but has refs, config and hooks of its own, and no remote pointing back.
Bosun pulls a unit's commits into the user's repository by commit id.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

from bosun.orchestration.errors import GitError
from bosun.orchestration.gitcmd import GIT_ENV, SAFE_CONFIG, GitRepo, GitResult, git
from bosun.orchestration.safe_files import replace_text
from bosun.orchestration.setup_lock import exclusive

AGENT_IDENTITY = (("user.name", "Bosun agent"), ("user.email", "agent@bosun.localhost"))


def unit_branch(unit_id: str) -> str:
    return f"bosun/unit/{unit_id}"


class AgentClone:
    """The clone agents work in. Its config is Bosun's: restored whenever an agent changed it."""

    def __init__(self, user: GitRepo, bosun_dir: Path) -> None:
        self.user = user
        self.path = bosun_dir / "agents.git"
        self.worktrees = bosun_dir / "worktrees"
        self.trash = bosun_dir / "trash"
        self._config = self.path / "config"
        self._config_text: str | None = None
        # Adding and removing worktrees touch the clone's shared `worktrees/` folder: one at a time.
        self._worktree_lock = threading.Lock()

    def ensure(self) -> None:
        """Create the clone once; later sessions reuse it. One process at a time (a lock beside
        it): another process's half-made clone is never mistaken for a broken one."""
        with exclusive(self.path.parent / "clone.lock"):
            self._ensure()

    def _ensure(self) -> None:
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
        shutil.rmtree(self.trash, ignore_errors=True)  # what a stopped process had no time to delete
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
        replace_text(self._config, self._config_text)
        return True

    def worktree_path(self, unit_id: str) -> Path:
        return self.worktrees / unit_id

    def add_worktree(self, unit_id: str, start: str) -> Path:
        """A fresh worktree on `bosun/unit/<id>` at `start`, replacing any earlier one."""
        self.guard()
        path = self.worktree_path(unit_id)
        with self._worktree_lock:
            self._remove(unit_id)
            git(["worktree", "add", "--quiet", "--force", "-B", unit_branch(unit_id), str(path), start], self.path)
        return path

    def remove_worktree(self, unit_id: str) -> None:
        with self._worktree_lock:
            self._remove(unit_id)

    def _remove(self, unit_id: str) -> None:
        """Take away the folder and the clone's record of it: all `git worktree remove` would do for
        a worktree Bosun owns, without a git process (its branch stays, as the unit's history).

        Both are renamed into `.bosun/trash/` at once and deleted by a thread, so the caller (the
        supervisor's event loop, a screen) never waits on a large tree, and a new worktree for the
        same unit can never be deleted by a late cleanup."""
        for folder in (self.worktree_path(unit_id), self.path / "worktrees" / unit_id):
            if folder.is_symlink():
                folder.unlink()
            elif folder.exists():
                self._discard(folder)

    def _discard(self, folder: Path) -> None:
        self.trash.mkdir(parents=True, exist_ok=True)
        doomed = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=self.trash))
        try:
            folder.rename(doomed / folder.name)
        except OSError:  # not on the same file system: delete in place
            shutil.rmtree(folder, ignore_errors=True)
        threading.Thread(target=shutil.rmtree, args=(doomed, True), daemon=True, name="bosun trash").start()

    def branch_head(self, unit_id: str) -> str | None:
        result = git(["rev-parse", "--verify", "--quiet", f"refs/heads/{unit_branch(unit_id)}^{{commit}}"],
                     self.path, check=False)
        return result.out.strip() if result.code == 0 else None

    def _in_worktree(self, unit_id: str, args: list[str], check: bool = True) -> GitResult:
        """Run git on a unit's worktree without trusting its `.git` file, which the agent can delete
        (git would then walk up into the user's repository) or point anywhere: the repository is
        named explicitly, after checking the clone still links it to that very folder."""
        self.guard()
        path = self.worktree_path(unit_id)
        admin = self.path / "worktrees" / unit_id
        try:
            linked = Path((admin / "gitdir").read_text().strip())
            common = (admin / Path((admin / "commondir").read_text().strip())).resolve()
            head = (admin / "HEAD").read_text().strip()
        except OSError:
            linked = common = head = None
        if linked != path / ".git" or common != self.path.resolve() or head != f"ref: refs/heads/{unit_branch(unit_id)}":
            raise GitError(args, 128, f"the worktree of '{unit_id}' is no longer linked to Bosun's clone")
        env = {"GIT_DIR": str(admin), "GIT_WORK_TREE": str(path), "GIT_CEILING_DIRECTORIES": str(self.worktrees)}
        return git(args, path, env=env, check=check)

    def has_changes(self, unit_id: str) -> bool:
        """Whether the worktree has uncommitted edits (tracked or new files)."""
        return bool(self._in_worktree(unit_id, ["status", "--porcelain", "--untracked-files=all"]).out.strip())

    def commit_all(self, unit_id: str, message: str) -> None:
        """Commit what an agent left uncommitted (for CLIs that edit but do not commit)."""
        self._in_worktree(unit_id, ["add", "--all"])
        self._in_worktree(unit_id, ["commit", "--quiet", "--no-verify", "-m", message])

    def merge_into_worktree(self, unit_id: str, commit: str) -> list[str]:
        """Merge `commit` into the unit's worktree, leaving conflict markers; returns conflicted files."""
        self._in_worktree(unit_id, ["merge", "--no-edit", "--no-verify", "--quiet", commit], check=False)
        out = self._in_worktree(unit_id, ["diff", "--name-only", "--diff-filter=U", "-z"]).out
        return [p for p in out.split("\0") if p]

    def fetch_into_user(self, commit: str, ref: str, have: str | None = None) -> None:
        """Bring one commit, by id, and what it needs into the user's repository, under `ref`.

        A pack of what `commit` has beyond `have` (a commit the user's repository has) goes
        from the clone straight into `unpack-objects --strict`, which checks every object and
        link: what a `git fetch` does here, in three processes instead of six."""
        revs = f"{commit}\n" + (f"^{have}\n" if have else "")
        pack = subprocess.Popen(["git", *SAFE_CONFIG, "pack-objects", "--revs", "--stdout", "-q"], cwd=self.path,
                                env=GIT_ENV, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        unpack = subprocess.Popen(["git", *SAFE_CONFIG, "unpack-objects", "-q", "--strict"], cwd=self.user.path,
                                  env=GIT_ENV, stdin=pack.stdout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        pack.stdout.close()  # unpack-objects owns the pipe now
        pack.stdin.write(revs.encode())
        pack.stdin.close()
        pack_err = pack.stderr.read()
        unpack_err = unpack.stderr.read()
        if pack.wait() != 0 or unpack.wait() != 0:
            detail = (pack_err or unpack_err).decode(errors="replace")
            raise GitError(["fetch", commit], pack.returncode or unpack.returncode, detail)
        self.user.run("update-ref", "-m", "bosun: fetched from the agents' clone", ref, commit)
