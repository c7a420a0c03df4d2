"""Bosun's own shared clone of the user's repository, with one worktree per unit.

Agents never work in a worktree of the user's repository: that would share its refs, config
and hooks. They work in worktrees of `.bosun/agents.git`, a `git clone --shared` that borrows
the user's objects but has refs, config and hooks of its own, and no remote pointing back.
Bosun pulls a unit's commits into the user's repository by commit id.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from bosun.orchestration import gitcmd, janitor, lfs, packs, submodules
from bosun.orchestration.errors import GitError
from bosun.orchestration.git_objects import reader
from bosun.orchestration.gitcmd import GIT_ENV, SAFE_CONFIG, GitRepo, GitResult, git, loose_ref, write_loose_ref
from bosun.orchestration.loose_objects import OBJECT_ID, take_in
from bosun.orchestration.safe_files import identity, read_small, remove_tree, replace_text
from bosun.orchestration.settle import settle
from bosun.orchestration.setup_lock import exclusive

AGENT_IDENTITY = (("user.name", "Bosun agent"), ("user.email", "agent@bosun.localhost"))


def unit_branch(unit_id: str) -> str:
    return f"bosun/unit/{unit_id}"


# Git inside a sandbox: the clone is read-only there, so nothing may need to write outside the
# worktree, its admin folder, the unit's own ref folder and its own object folder.
SANDBOX_GIT_CONFIG = (
    ("safe.directory", "*"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
    ("core.logAllRefUpdates", "false"),
)


@dataclass
class GitView:
    """What a sandboxed agent needs to commit in its worktree, and nothing more: read-only binds,
    writable binds (source, where inside) and git's environment."""

    read: list[Path] = field(default_factory=list)
    write: list[tuple[Path, Path]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)


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
            git(
                ["clone", "--quiet", "--bare", "--shared", "--no-tags", str(self.user.path), str(self.path)],
                self.user.path,
            )
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
        """A fresh worktree on `bosun/unit/<id>` at `start`, replacing any earlier one: what `git
        worktree add --force -B` makes (the branch, the clone's record, the `.git` file, the files)
        in one git process, where that command starts four; then settled (settle.py)."""
        self.guard()
        path, admin = self.worktree_path(unit_id), self.path / "worktrees" / unit_id
        named, branch = {"GIT_DIR": str(admin), "GIT_WORK_TREE": str(path)}, f"refs/heads/{unit_branch(unit_id)}"
        with self._worktree_lock:
            self._remove(unit_id)
            commit = reader(self.path).commit_id(start) if OBJECT_ID.match(start) else None
            if commit is None or not write_loose_ref(self.path, branch, commit):
                git(["worktree", "add", "--quiet", "--force", "-B", unit_branch(unit_id), str(path), start], self.path)
                in_place = {"GIT_DIR": str(path / ".git"), "GIT_WORK_TREE": str(path)}  # git named the record
                self._fill(git(["rev-parse", "HEAD"], path).out.strip(), path, in_place)
                settle(path, in_place)
                return path
            admin.mkdir(parents=True)
            (admin / "gitdir").write_text(f"{path / '.git'}\n")
            (admin / "commondir").write_text("../..\n")
            (admin / "HEAD").write_text(f"ref: {branch}\n")
            path.mkdir(parents=True)
            (path / ".git").write_text(f"gitdir: {admin}\n")
            git(["read-tree", "--reset", "-u", commit], path, env=named)
            self._fill(commit, path, named)
            settle(path, named)
        return path

    def _fill(self, commit: str, path: Path, env: dict[str, str]) -> None:
        """What git's checkout leaves out, from the user's repository: each submodule's files
        (submodules.py) and each LFS file's content (lfs.py)."""
        submodules.fill(self.user.path, commit, path, trees=self.path)
        lfs.fill(self.user.path, commit, path, env, listing=self.path)

    def remove_worktree(self, unit_id: str, only: tuple[int, int, int] | None = None) -> None:
        """`only`: the folder's identity when it was given up: a worktree another process made in
        its place since (the next claim of the unit) is left alone."""
        with self._worktree_lock:
            if only is None or identity(self.worktree_path(unit_id)) == only:
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
            remove_tree(folder)
        janitor.remove_later(doomed)

    def branch_head(self, unit_id: str) -> str | None:
        """The unit branch's commit: its loose ref file peeled by the clone's object reader (no
        process), else what `git rev-parse` says (a packed ref, a link, a symbolic ref)."""
        loose = self._loose_head(unit_id)
        if loose is not None and not (self.path / "refs" / "heads" / unit_branch(unit_id)).is_symlink():
            try:
                return reader(self.path).commit_id(loose)
            except GitError:
                pass
        result = git(
            ["rev-parse", "--verify", "--quiet", f"refs/heads/{unit_branch(unit_id)}^{{commit}}"],
            self.path,
            check=False,
        )
        return result.out.strip() if result.code == 0 else None

    def _in_worktree(self, unit_id: str, args: list[str], check: bool = True) -> GitResult:
        return git(args, self.worktree_path(unit_id), env=self._worktree_env(unit_id, args), check=check)

    def _worktree_env(self, unit_id: str, args: list[str]) -> dict[str, str]:
        """Git on a unit's worktree without trusting its `.git` file, which the agent can delete
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
        if (
            linked != path / ".git"
            or common != self.path.resolve()
            or head != f"ref: refs/heads/{unit_branch(unit_id)}"
        ):
            raise GitError(args, 128, f"the worktree of '{unit_id}' is no longer linked to Bosun's clone")
        return {"GIT_DIR": str(admin), "GIT_WORK_TREE": str(path), "GIT_CEILING_DIRECTORIES": str(self.worktrees)}

    def has_changes(self, unit_id: str) -> bool:
        """Whether the worktree has uncommitted edits (tracked or new files)."""
        return bool(self._in_worktree(unit_id, ["status", "--porcelain", "--untracked-files=all"]).out.strip())

    def commit_all(self, unit_id: str, message: str) -> None:
        """Commit what an agent left uncommitted (for CLIs that edit but do not commit); not nested
        repositories: `add` would run `status` in each, with its own config (an agent's filters)."""
        path, env = self.worktree_path(unit_id), self._worktree_env(unit_id, ["add"])
        staged = gitcmd.git_bytes(["ls-files", "-sz"], path, env).split(b"\0")
        links = [e.partition(b"\t")[2] for e in staged if e[:7] == b"160000 "]
        specs = b"\0".join([b":/", *(b":(exclude,literal)" + link for link in links)])  # bytes: any name matches
        gitcmd.git_bytes(["add", "-A", "--pathspec-from-file=-", "--pathspec-file-nul"], path, env, specs)
        self._in_worktree(unit_id, ["commit", "--quiet", "--no-verify", "-m", message])

    def merge_into_worktree(self, unit_id: str, commit: str) -> list[str]:
        """Merge `commit` into the unit's worktree, leaving conflict markers; returns conflicted
        files. LFS files are their pointers again for the merge (git would not overwrite content
        it does not know), then filled as the merge left them, with the submodules."""
        path, env, head = self.worktree_path(unit_id), self._worktree_env(unit_id, ["merge"]), self.branch_head(unit_id)
        if head is not None:
            lfs.pointers_back(self.user.path, head, path, env, listing=self.path)
        self._in_worktree(unit_id, ["merge", "--no-edit", "--no-verify", "--quiet", commit], check=False)
        out = self._in_worktree(unit_id, ["diff", "--name-only", "--diff-filter=U", "-z"]).out
        if (merged := self.branch_head(unit_id)) is not None:
            self._fill(merged, path, env)
        return [p for p in out.split("\0") if p]

    # -- a unit's worktree as a sandboxed agent sees it ------------------------------------------
    def sandbox_dir(self, unit_id: str) -> Path:
        return self.path.parent / "sandbox" / unit_id

    def sandbox_view(self, unit_id: str) -> GitView:
        """Prepare the unit's private ref folder and object folder and say what to bind.

        Inside, the clone is read-only. The folder of unit branches (`refs/heads/bosun/unit/`) is
        replaced by one holding only this unit's branch, so the agent can move its own branch and
        no other; new objects go to a folder of the unit's own (`GIT_OBJECT_DIRECTORY`), reading the
        clone's and, through its alternates, the user's. `absorb` takes both back afterwards."""
        own = self.sandbox_dir(unit_id)
        heads, objects, logs = own / "heads", own / "objects", own / "logs"
        if own.exists():
            self._discard(own)  # an earlier attempt's: deleted by a thread (rmdir can take ms each)
        for folder in (heads, logs, objects / "info", objects / "pack"):
            folder.mkdir(parents=True)
        branch_dir = self.path / "refs" / "heads" / "bosun" / "unit"
        # Bosun's own git on the worktree may have started a reflog of the branch there: inside,
        # an empty folder stands in for it (reflogs are off inside), so nothing needs writing.
        log_dir = self.path / "logs" / "refs" / "heads" / "bosun" / "unit"
        for folder in (branch_dir, log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        head = self._loose_head(unit_id) or self.branch_head(unit_id)
        if head is not None:
            (heads / unit_id).write_text(head + "\n")
            (own / "seed").write_text(head)
        worktree, admin = self.worktree_path(unit_id), self.path / "worktrees" / unit_id
        view = GitView()
        # Bound read-only over themselves; a link planted in their place would bind its target instead.
        view.read += [
            self.path,
            *(p for p in (worktree / ".git", admin / "commondir", admin / "gitdir") if not p.is_symlink()),
        ]
        view.read += gitcmd.object_folders(self.path / "objects")[1:]  # what the clone borrows, and those in turn
        view.write += [(worktree, worktree), (admin, admin), (objects, objects), (heads, branch_dir), (logs, log_dir)]
        if lfs.in_use(self.user.path, worktree):  # git-lfs's store inside (launch.py names it; take_in empties it)
            (own / "lfs").mkdir()
            view.write.append((own / "lfs", own / "lfs"))
        view.env = {
            "GIT_OBJECT_DIRECTORY": str(objects),
            "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(self.path / "objects"),
            "GIT_CONFIG_COUNT": str(len(SANDBOX_GIT_CONFIG)),
        }
        for index, (key, value) in enumerate(SANDBOX_GIT_CONFIG):
            view.env[f"GIT_CONFIG_KEY_{index}"] = key
            view.env[f"GIT_CONFIG_VALUE_{index}"] = value
        return view

    def absorb(self, unit_id: str) -> str | None:
        """After a sandboxed agent: take the objects it wrote into the clone (each one's hash
        re-checked; the user's repository later takes only what `unpack-objects --strict`
        accepts), then move the unit's branch to what the agent left in its own ref file, by
        compare-and-swap and only to a commit that exists. Returns the branch head."""
        own = self.sandbox_dir(unit_id)
        objects = own / "objects"
        (objects / "info" / "alternates").unlink(missing_ok=True)  # never read objects from where the agent says
        commits = self.import_loose(objects)
        for pack in sorted((objects / "pack").glob("*.pack")):
            if pack.is_file() and not pack.is_symlink():
                with open(pack, "rb") as stream:
                    subprocess.run(
                        ["git", *SAFE_CONFIG, "unpack-objects", "-q", "--strict"],
                        cwd=self.path,
                        env=GIT_ENV,
                        stdin=stream,
                        capture_output=True,
                    )
        try:
            old = (own / "seed").read_text().strip() or None
        except OSError:
            old = self.branch_head(unit_id)
        new = (read_small(own / "heads" / unit_id, 200) or "").strip()
        if OBJECT_ID.match(new) and new != old:
            # A commit just taken in moves the branch without a git process; anything else goes
            # through update-ref, which refuses an object that does not exist or is not a commit.
            update = ["update-ref", "-m", "bosun: the agent's commit, from its sandbox"]
            update += [f"refs/heads/{unit_branch(unit_id)}", new, old or ""]
            moved = new in commits and old is not None and self._move_loose_ref(unit_id, new, old)
            moved = moved or git(update, self.path, check=False).code == 0
            old = new if moved else self.branch_head(unit_id)
        if objects.is_dir() and not objects.is_symlink():
            self._discard(objects)
        lfs.take_in(own / "lfs" / "objects", self.user.path)
        return old

    def _move_loose_ref(self, unit_id: str, new: str, old: str) -> bool:
        """Compare-and-swap of the branch's loose ref file under git's own lock file (`X.lock`,
        created exclusively, renamed over the ref): what update-ref does for a loose ref. False
        (nothing changed) when the lock is taken or the ref is not a loose file holding `old`."""
        ref = self.path / "refs" / "heads" / unit_branch(unit_id)
        lock = ref.with_name(ref.name + ".lock")
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError:
            return False
        try:
            with os.fdopen(fd, "w") as handle:
                if self._loose_head(unit_id) != old or ref.is_symlink():
                    raise OSError("not the loose ref Bosun recorded")
                handle.write(new + "\n")
            os.replace(lock, ref)
            return True
        except OSError:
            lock.unlink(missing_ok=True)
            return False

    def _loose_head(self, unit_id: str) -> str | None:
        """The unit branch's commit from its loose ref file, without a git process (None: ask git)."""
        return loose_ref(self.path, f"refs/heads/{unit_branch(unit_id)}")

    def import_loose(self, source: Path) -> set[str]:
        """Loose objects an agent wrote, taken into the clone (see loose_objects.take_in)."""
        return take_in(source, self.path / "objects")

    def fetch_into_user(self, commit: str, ref: str, have: str | None = None) -> None:
        """Bring one commit, by id, and what it needs into the user's repository, under `ref`.

        The objects it brings go into `unpack-objects --strict`, which checks every object and
        link: a pack Bosun builds of what the user's repository lacks (packs.py), or for a large
        change git's own `pack-objects` of what `commit` has beyond `have` (a commit the user's
        repository has). What a `git fetch` does here, in one or two processes instead of six."""
        lfs.take_in(self.path / "lfs" / "objects", self.user.path)  # what an unsandboxed agent's git-lfs stored
        found = packs.missing(reader(self.path), reader(self.user.path, check=True), commit)
        if found is None or (found and not self._unpack_into_user(packs.pack(found))):
            self._fetch_with_git(commit, have)
        self.user.set_ref(ref, commit, "bosun: fetched from the agents' clone")

    def _unpack_into_user(self, data: bytes) -> bool:
        proc = subprocess.run(
            ["git", *SAFE_CONFIG, "unpack-objects", "-q", "--strict"],
            cwd=self.user.path,
            env=GIT_ENV,
            input=data,
            capture_output=True,
        )
        return proc.returncode == 0

    def _fetch_with_git(self, commit: str, have: str | None) -> None:
        revs = f"{commit}\n" + (f"^{have}\n" if have else "")
        packer = subprocess.Popen(
            ["git", *SAFE_CONFIG, "pack-objects", "--revs", "--stdout", "-q"],
            cwd=self.path,
            env=GIT_ENV,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        unpack = subprocess.Popen(
            ["git", *SAFE_CONFIG, "unpack-objects", "-q", "--strict"],
            cwd=self.user.path,
            env=GIT_ENV,
            stdin=packer.stdout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        packer.stdout.close()  # unpack-objects owns the pipe now
        packer.stdin.write(revs.encode())
        packer.stdin.close()
        pack_err = packer.stderr.read()
        unpack_err = unpack.stderr.read()
        if packer.wait() != 0 or unpack.wait() != 0:
            detail = (pack_err or unpack_err).decode(errors="replace")
            raise GitError(["fetch", commit], packer.returncode or unpack.returncode, detail)
