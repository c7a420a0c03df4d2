"""Running git the way Bosun needs it: plain subprocesses, hooks and fsmonitor off, no prompts.

Bosun runs git in repositories agents can write to, so every call disables the settings that
would run a command of the repository's choosing; what git prints is parsed in the C locale.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import NamedTuple

from bosun.orchestration.errors import BosunError, GitError

# Settings that would let a repository's config or files run commands inside Bosun.
SAFE_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.sshCommand=false",
    "-c",
    "diff.external=",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",
    "-c",
    "commit.gpgSign=false",
    # A repository nested in a worktree (an agent can `git init` one and add it) has a config of
    # its own: `status` and `diff` would descend into it and run its filters.
    "-c",
    "diff.ignoreSubmodules=all",
    "-c",
    "submodule.recurse=false",
)
BOSUN_IDENTITY = {
    "GIT_AUTHOR_NAME": "Bosun",
    "GIT_AUTHOR_EMAIL": "bosun@localhost",
    "GIT_COMMITTER_NAME": "Bosun",
    "GIT_COMMITTER_EMAIL": "bosun@localhost",
}


def _base_env() -> dict[str, str]:
    """Git's environment when Bosun runs it: no secrets (a filter or driver an agent managed to
    configure would run with this environment), no global or system config (an agent can write
    `~/.gitconfig` with `git config --global`), no prompts, the C locale for parsable output."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TERM", "TMPDIR") if k in os.environ}
    env.update(LC_ALL="C", GIT_TERMINAL_PROMPT="0", GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    return env


GIT_ENV = _base_env()
# Patterns, compiled on first use (re keeps them): every command imports this module.
PLAIN_REF = r"refs/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*/)+[A-Za-z0-9_-][A-Za-z0-9._-]*(?<![.]lock)(?<![.])"
OBJECT_NAME = r"[0-9a-f]{40}|[0-9a-f]{64}"
ALTERNATES_DEPTH = 5  # git follows alternates of alternates this deep


def write_loose_ref(git_dir: Path, ref: str, new: str) -> bool:
    """Write a plain ref name's loose file under git's own lock file (`X.lock`, created
    exclusively, renamed over the ref): what `update-ref` does for it, reflog aside. False, with
    nothing changed, for a name git would refuse or quote, a taken lock, or a link or folder in
    the ref's place: then ask git."""
    if not re.fullmatch(PLAIN_REF, ref) or ".." in ref or "/." in ref or not re.fullmatch(OBJECT_NAME, new):
        return False
    path = git_dir / ref
    lock = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(new + "\n")
        if not path.is_symlink() and not path.is_dir():
            os.replace(lock, path)
            return True
    except OSError:
        pass
    lock.unlink(missing_ok=True)
    return False


def loose_ref(git_dir: Path, ref: str) -> str | None:
    """The object id `ref`'s loose file under `git_dir` holds, read without a process: None (then
    ask git) for a name git would not take as it is, no such file (a packed ref, a reftable), a
    link in its place, or anything but an id and a newline."""
    if not re.fullmatch(PLAIN_REF, ref) or ".." in ref or "/." in ref:
        return None
    path = git_dir / ref
    try:
        if path.is_symlink():
            return None
        text = path.read_text(encoding="ascii")
    except (OSError, ValueError):
        return None
    return text.rstrip("\n") if re.fullmatch(rf"(?:{OBJECT_NAME})\n?", text) else None


def loose_kind(git_dir: Path, object_id: str) -> str | None:
    """The type of a loose object under `git_dir` ("commit", "tree", ...), from its header, as
    `rev-parse X^{commit}` reads it; None when it is not a loose object here (packed: ask git)."""
    import zlib

    try:
        with open(git_dir / "objects" / object_id[:2] / object_id[2:], "rb") as handle:
            head = zlib.decompressobj().decompress(handle.read(4096), 64)
    except (OSError, zlib.error):
        return None
    kind, space, _ = head.partition(b" ")
    return kind.decode("ascii", "replace") if space and b"\0" in head else None


class GitResult(NamedTuple):  # not a dataclass: every command imports this module (docs/benchmarks.md)
    code: int
    out: str
    err: str


def git(
    args: list[str],
    cwd: Path,
    *,
    check: bool = True,
    env: dict[str, str] | None = None,
    ok_codes: tuple[int, ...] = (0,),
    stdin: str | None = None,
) -> GitResult:
    """Run `git ARGS` in `cwd` (reading `stdin`, else nothing); raise GitError unless the exit
    code is in `ok_codes`."""
    import subprocess  # here: `bosun status` reads its branch from files and starts no process

    full_env = {**GIT_ENV, **env} if env else GIT_ENV
    given = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    proc = subprocess.run(
        ["git", *SAFE_CONFIG, *args], cwd=cwd, env=full_env, capture_output=True, text=True, errors="replace", **given
    )
    if check and proc.returncode not in ok_codes:
        raise GitError(args, proc.returncode, proc.stderr)
    return GitResult(proc.returncode, proc.stdout, proc.stderr)


DISCOVERY_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM")


def _plain_top(start: Path) -> Path | None:
    """The top folder of the repository holding `start` (an absolute, resolved folder) when it is
    the plain case git's own search would find the same way, without a process: the nearest
    folder above with a `.git` folder holding HEAD, owned by this user, whose config sets no work
    tree of its own. Anything else (a `.git` file, a variable that steers the search, a path
    through a `.git` folder, a config naming a work tree or a bare repository) is left to git."""
    if any(name in os.environ for name in DISCOVERY_ENV) or ".git" in start.parts or not start.is_absolute():
        return None
    for folder in (start, *start.parents):
        dot_git = folder / ".git"
        if not os.path.lexists(dot_git):
            continue
        try:
            if dot_git.is_symlink() or not dot_git.is_dir() or folder.stat().st_uid != os.geteuid():
                return None
            config = (dot_git / "config").read_text(errors="replace")
            if not (dot_git / "HEAD").is_file() or "worktree" in config or "bare = true" in config:
                return None
        except OSError:
            return None
        return folder
    return None


def git_bytes(args: list[str], cwd: Path, env: dict[str, str], stdin: bytes = b"") -> bytes:
    """`git` for what must stay bytes both ways (paths that are not UTF-8), raising GitError as `git` does."""
    import subprocess

    proc = subprocess.run(
        ["git", *SAFE_CONFIG, *args], cwd=cwd, env={**GIT_ENV, **env}, input=stdin, capture_output=True
    )
    if proc.returncode != 0:
        raise GitError(args, proc.returncode, proc.stderr.decode("utf-8", "replace"))
    return proc.stdout


@functools.lru_cache(maxsize=64)
def common_dir(repo: Path) -> Path:
    """The git dir a repository (a top folder, a linked worktree, a git dir) shares with its worktrees."""
    return Path(git(["rev-parse", "--path-format=absolute", "--git-common-dir"], repo).out.strip())


def object_folders(objects: Path) -> tuple[Path, ...]:
    """`objects` and the folders it borrows from through `info/alternates`, as deep as git follows."""
    found: list[Path] = []
    todo = [objects]
    while todo and len(found) <= ALTERNATES_DEPTH:
        folder = todo.pop(0)
        if folder in found or not folder.is_dir():
            continue
        found.append(folder)
        try:
            lines = (folder / "info" / "alternates").read_text().splitlines()
        except OSError:
            continue
        named = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        todo += [(folder / name).resolve() for name in named]  # a relative one is relative to `folder`
    return tuple(found)


def fetch_tags(into: Path, source: Path) -> None:
    """`source`'s tags into the repository `into`, as they are now (those gone are pruned): the
    agents' clone takes the user's at each supervisor's start, so `git describe` in a worktree, and
    a setuptools-scm version built there, say what they say in the user's checkout."""
    args = ["fetch", "--quiet", "--no-write-fetch-head", "--prune", "--force", "--no-auto-gc"]
    git([*args, str(source), "+refs/tags/*:refs/tags/*"], into)


class GitRepo:
    """A repository by its top folder (or a bare one by its git dir)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def discover(cls, start: Path) -> GitRepo:
        """The repository containing `start`, or a BosunError saying there is none."""
        if not start.is_dir():
            raise BosunError(f"{start}: no such directory")
        if (top := _plain_top(start)) is not None:
            return cls(top)
        result = git(["rev-parse", "--show-toplevel"], start, check=False)
        if result.code != 0 or not result.out.strip():
            raise BosunError(f"{start}: not inside a git repository with a working tree (run git init first)")
        return cls(Path(result.out.strip()))

    def run(self, *args: str, **kwargs) -> GitResult:
        return git(list(args), self.path, **kwargs)

    def rev_parse(self, ref: str) -> str | None:
        """The commit `ref` names, or None when it does not exist."""
        result = git(["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"], self.path, check=False)
        return result.out.strip() if result.code == 0 else None

    def ref_commit(self, ref: str) -> str | None:
        """What `rev_parse(ref)` says for a full ref name (`refs/heads/x`), read from files when
        that is the plain case: a `.git` folder (no link) this user owns, the ref's loose file, and
        the loose commit it names. Anything else (a packed ref or object, a tag, a linked work
        tree) asks git; `bosun status` reads the integration branch this way, without a process."""
        dot_git = self.path / ".git"
        try:
            plain = not dot_git.is_symlink() and dot_git.is_dir()
            plain = plain and os.geteuid() == self.path.stat().st_uid == dot_git.stat().st_uid
        except OSError:
            plain = False
        commit = loose_ref(dot_git, ref) if plain else None
        if commit is not None and loose_kind(dot_git, commit) == "commit":
            return commit
        return self.rev_parse(ref)

    @functools.cached_property
    def git_dir(self) -> Path:
        return Path(self.run("rev-parse", "--absolute-git-dir").out.strip())

    def update_ref(self, ref: str, new: str, old: str | None, reason: str) -> bool:
        """Compare-and-swap a ref: moves only if it still points at `old` ('' = must not exist)."""
        result = self.run("update-ref", "-m", reason, ref, new, old if old is not None else "", check=False)
        return result.code == 0

    def set_ref(self, ref: str, new: str, reason: str) -> None:
        """Point `ref` at `new` whatever it held: its loose ref file written as `update-ref` writes
        it (write_loose_ref), without a process; anything unusual goes through `git update-ref`."""
        if not write_loose_ref(self.git_dir, ref, new):
            self.run("update-ref", "-m", reason, ref, new)

    def is_ancestor(self, ancestor: str, descendant: str) -> bool:
        return self.run("merge-base", "--is-ancestor", ancestor, descendant, check=False).code == 0

    def changed_files(self, old: str, new: str, links: list[str] | None = None) -> list[str]:
        """Every path that differs between two commits (renames count as both paths); `links` gets
        those that are gitlinks (a repository's commit, not files) in `new`."""
        from bosun.orchestration.git_objects import object_id, reader  # it runs git through this module

        found: list[bytes] = []
        paths = reader(self.path).changed_paths(object_id(self.path, old), object_id(self.path, new), found)
        if links is not None:
            links += [p.decode("utf-8", "replace") for p in found]
        return [p.decode("utf-8", "replace") for p in paths]

    def is_dirty(self) -> bool:
        return bool(self.run("status", "--porcelain", "--untracked-files=no").out.strip())
