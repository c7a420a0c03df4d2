"""Worktrees ready to build and test (`[project] setup`, `setup_key`, `copy`, `setup_network`).

`setup` runs once per key — the hash of the setup commands and of the `setup_key` files — in the
first folder that needs it, inside a box where that folder sits at a canonical path (`CANONICAL`).
What it produced (a `.venv`, `node_modules`, generated files: every path that was not there before)
is moved into `.bosun/prepared/KEY/files/` and from then on shown to every agent and gate with the
same key: folders bound read-only at the same relative place (so no agent can write into what
another uses), files copied. Each box shows its own folder at `CANONICAL` too, so the absolute
paths a virtualenv or an editable install embeds (shebangs, `.pth`) name the box's own tree.

`copy` files (`.env`) are copied from the user's repository into each folder, and like setup's
products are listed in the clone's `info/exclude`, so no `git add -A` picks them up.
Unsandboxed, there is nothing to bind: setup runs in each folder in place, and nothing is shared.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bosun.orchestration.errors import BosunError
from bosun.orchestration.gitcmd import GIT_ENV
from bosun.orchestration.process import Child, scrubbed_env, tail
from bosun.orchestration.safe_files import place_in, replace_text
from bosun.orchestration.sandbox.leftovers import TOKEN
from bosun.orchestration.setup_lock import exclusive

CANONICAL = Path("/tmp/bosun/work")
# Package caches setup fills inside the tree, so that they are shared like its other products:
# bound read-only, so no agent can plant a build result another one would link. `go` reads the
# warm cache and builds what it lacks without storing it, once its module index (kept in the
# cache, and whose failed write it takes for a missing package) is off. Boxed setup only.
CACHES = {"GOCACHE": ".bosun-cache/go-build", "GOMODCACHE": ".bosun-cache/go-mod"}
SETUP_TIMEOUT = 1800.0
_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


class SetupFailed(BosunError):
    """The project's setup exited non-zero: the unit (or the gate) fails with its output's end."""

    def __init__(self, message: str, output_tail: str, log: Path) -> None:
        super().__init__(message)
        self.output_tail = output_tail
        self.log = log


@dataclass(frozen=True)
class Settings:
    """The `[project]` keys this module reads, as plain data (the gate reads them back from disk)."""

    setup: tuple[str, ...] = ()
    setup_key: tuple[str, ...] = ()
    copy: tuple[str, ...] = ()
    network: bool | tuple[str, ...] = True  # True: the host's; False: none; a tuple: an allow-list (proxy)
    env: tuple[str, ...] = ()
    integration: str = ""  # the branch whose setup_key files setup may run with the shared HOME

    @classmethod
    def of(cls, project) -> Settings:
        return cls(
            tuple(project.setup),
            tuple(project.setup_key),
            tuple(project.copy_files),
            project.setup_network == "host" if isinstance(project.setup_network, str) else project.setup_network,
            tuple(project.gate_env),
            project.integration,
        )

    @property
    def wanted(self) -> bool:
        return bool(self.setup or self.copy)


@dataclass
class Prepared:
    """What one folder got: the shared folders to bind (store path, relative path), how long it took,
    and whether setup ran for it or its result was reused."""

    key: str = ""
    folders: list[tuple[Path, str]] = field(default_factory=list)
    seconds: float = 0.0
    waited: float = 0.0  # of `seconds`, blocked while another folder ran the same key's setup
    ran_setup: bool = False
    produced: list[str] = field(default_factory=list)  # relative paths, for info/exclude

    def event(self) -> dict:
        seconds, waited = round(self.seconds, 3), round(self.waited, 3)
        return {"key": self.key[:12], "reused": not self.ran_setup, "seconds": seconds, "waited": waited}


def save_settings(bosun_dir: Path, settings: Settings) -> None:
    """For the gate, which gets no plan: what this session prepares with."""
    (bosun_dir / "prepared").mkdir(parents=True, exist_ok=True)
    replace_text(bosun_dir / "prepared" / "settings.json", json.dumps(settings.__dict__))


def load_settings(bosun_dir: Path) -> Settings:
    try:
        data = json.loads((bosun_dir / "prepared" / "settings.json").read_text())
        return Settings(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
    except (OSError, ValueError, TypeError):
        return Settings()


def key_of(settings: Settings, folder: Path) -> str:
    """The setup commands and the content of each `setup_key` file (a missing file counts as missing)."""
    digest = hashlib.sha256(json.dumps(settings.setup).encode())
    for name in settings.setup_key:
        path = folder / name
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() and not path.is_symlink() else b"<missing>")
    return digest.hexdigest()


def copy_files(settings: Settings, repo: Path, folder: Path) -> None:
    """The `copy` files from the user's repository into `folder` (a link in their place is replaced,
    a linked folder on the way skips the file)."""
    for name in settings.copy:
        source, target = repo / name, place_in(folder, name)
        if not source.is_file() or target is None:
            continue
        if target.is_symlink() or target.exists():
            target.unlink()
        shutil.copyfile(source, target)


def exclude(clone_git_dir: Path, settings: Settings, produced: list[str]) -> None:
    """List copied and produced paths in the clone's info/exclude: `git add -A` never takes them."""
    path = clone_git_dir / "info" / "exclude"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        lines = path.read_text().splitlines()
    except OSError:
        lines = []
    wanted = [f"/{name.strip('/')}" for name in (*settings.copy, *produced)]
    missing = [line for line in wanted if line not in lines]
    if missing:
        replace_text(path, "\n".join([*lines, *missing]) + "\n")


def _walk(folder: Path, before: set[str] | None) -> list[str]:
    """Every path under `folder` (no `.git`); with `before`, only the new ones, a new folder whole."""
    found: list[str] = []
    for root, dirs, files in os.walk(folder):
        rel_root = os.path.relpath(root, folder)
        rel_root = "" if rel_root == "." else rel_root + "/"
        keep = []
        for name in dirs:
            rel = rel_root + name
            if rel == ".git" or os.path.islink(os.path.join(root, name)):
                if os.path.islink(os.path.join(root, name)):
                    files.append(name)
                continue
            if before is not None and rel not in before:
                found.append(rel)
            else:
                keep.append(name)
                if before is None:
                    found.append(rel)
        dirs[:] = keep
        for name in files:
            rel = rel_root + name
            if rel != ".git" and (before is None or rel not in before):
                found.append(rel)
    return found


def _lock_for(key: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(key, threading.Lock())


class Preparer:
    """Runs and shares one session's setup. `run_box(folder, log)` starts setup's process for
    `folder` (boxed at CANONICAL, or in place) and returns the Child."""

    def __init__(self, bosun_dir: Path, settings: Settings) -> None:
        self.settings = settings
        self.root = bosun_dir / "prepared"

    def store(self, key: str) -> Path:
        return self.root / key

    def prepare(self, folder: Path, log: Path, start_setup, boxed: bool) -> Prepared:
        """Make `folder` ready: reuse the key's result, or run setup here first (one at a time per key)."""
        began = time.monotonic()
        result = Prepared()
        if not self.settings.setup:
            result.seconds = time.monotonic() - began
            return result
        result.key = key = key_of(self.settings, folder)
        if not boxed:  # nothing can be bound: setup in place, every time
            before = set(_walk(folder, None))
            self._run(folder, log, start_setup)
            result.ran_setup = True
            result.produced = _walk(folder, before)
        else:
            store = self.store(key)
            asked = time.monotonic()
            with _lock_for(key), exclusive(self.root / f"{key}.lock"):
                if not (store / "manifest.json").is_file():
                    self._build(folder, log, start_setup, store)
                    result.ran_setup = True
                else:
                    result.waited = time.monotonic() - asked
            manifest = json.loads((store / "manifest.json").read_text())
            checked: set[Path] = set()
            for rel in manifest["files"]:
                if (target := place_in(folder, rel, checked)) is None:  # the tree made a folder on its way a link
                    continue
                if target.is_symlink() or target.is_file():
                    target.unlink()
                shutil.copy2(store / "files" / rel, target, follow_symlinks=False)
            result.folders = [(store / "files" / rel, rel) for rel in manifest["folders"]]
            result.produced = [*manifest["folders"], *manifest["files"]]
        result.seconds = time.monotonic() - began
        return result

    def _run(self, folder: Path, log: Path, start_setup) -> None:
        child: Child = start_setup(folder, log)
        finished = child.wait(SETUP_TIMEOUT)
        if finished.exit_code != 0 or finished.timed_out:
            how = "timed out" if finished.timed_out else f"exit {finished.exit_code}"
            raise SetupFailed(f"the project's setup failed ({how}); its log: {log}", tail(log), log)

    def _build(self, folder: Path, log: Path, start_setup, store: Path) -> None:
        before = set(_walk(folder, None))
        self._run(folder, log, start_setup)
        produced = _walk(folder, before)
        work = Path(str(store) + ".partial")
        shutil.rmtree(work, ignore_errors=True)
        (work / "files").mkdir(parents=True)
        folders, files = [], []
        for rel in produced:
            source = folder / rel
            (work / "files" / rel).parent.mkdir(parents=True, exist_ok=True)
            is_folder = source.is_dir() and not source.is_symlink()
            os.rename(source, work / "files" / rel) if _same_fs(source, work) else shutil.move(
                source, work / "files" / rel
            )
            if is_folder:
                source.mkdir()  # the place it is bound at
                folders.append(rel)
            else:
                files.append(rel)
        replace_text(work / "manifest.json", json.dumps({"folders": folders, "files": files}))
        os.rename(work, store)


def _same_fs(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_dev == b.stat().st_dev
    except OSError:
        return False


def setup_env(settings: Settings) -> dict[str, str]:
    return scrubbed_env(settings.env, {"BOSUN_SETUP": "1"})


def setup_command(settings: Settings) -> list[str]:
    return ["/bin/sh", "-c", "set -e\n" + "\n".join(settings.setup)]


def merged(settings: Settings, repo: Path, folder: Path) -> bool:
    """Whether `folder`'s setup_key files are the integration branch's: its setup runs merged work,
    not an agent's own change (a new lock file, its setup.py), and may fill the shared caches."""
    if not settings.integration:
        return False
    digest = hashlib.sha256(json.dumps(settings.setup).encode())
    for name in settings.setup_key:
        spec = f"{settings.integration}:{name}"
        shown = subprocess.run(["git", "cat-file", "blob", spec], cwd=repo, env=GIT_ENV, capture_output=True)
        digest.update(b"\0" + name.encode() + b"\0")
        digest.update(shown.stdout if shown.returncode == 0 else b"<missing>")
    return digest.hexdigest() == key_of(settings, folder)


def git_metadata(repo: Path, bosun_dir: Path) -> list[Path]:
    """What git needs, read-only, in the folder setup prepares: an agent's worktree points into the
    agents' clone, a gate folder's own `.git` borrows the user's objects (`gate_git`). An agent
    sees the same in its own box; nothing here is read from the folder itself."""
    from bosun.orchestration.gitcmd import GitRepo
    from bosun.orchestration.integration.gate_git import objects_of

    clone = bosun_dir / "agents.git"
    return [*([clone] if clone.is_dir() else []), *objects_of(GitRepo(repo))]


def starter(repo: Path, bosun_dir: Path, settings: Settings, boxed: bool, token: str | None = None):
    """How setup's process starts for a folder: in a box like the gate's, the folder writable at its
    path and at CANONICAL (where it runs), HOME a cache only setup ever sees (pip's, npm's): the
    session's when the folder's key is merged work's, else one thrown away after. `token`: the
    record of the agent or gate it prepares for (sandbox/leftovers.py), carried in its environment."""
    from bosun.orchestration.sandbox import bwrap
    from bosun.orchestration.sandbox.boxes import gate_box, user_home
    from bosun.orchestration.sandbox.probe import bwrap_path
    from bosun.orchestration.sandbox.proxy import open_egress

    def start(folder: Path, log: Path) -> Child:
        env = setup_env(settings) | ({TOKEN: token} if token else {})
        argv = setup_command(settings)
        if not boxed:
            return Child(argv, folder, env, log)
        env.update({name: str(CANONICAL / rel) for name, rel in CACHES.items()})
        named = "\n".join(settings.setup)  # a program named by absolute path is there, as for the gate
        box = gate_box(repo=repo, folder=folder, env=env, network=settings.network is True, command=named)
        egress = open_egress("setup", settings.network) if isinstance(settings.network, tuple) else None
        box.proxy = egress.socket if egress is not None else None  # an allow-list: through the proxy only
        box.write(folder, CANONICAL)
        for borrowed in git_metadata(repo, bosun_dir):  # a version from git (setuptools-scm) needs them
            box.read(borrowed)
        box.cwd = CANONICAL
        own = None if merged(settings, repo, folder) else Path(tempfile.mkdtemp(prefix="home-", dir=bosun_dir))
        box.home = own or bosun_dir / "prepared" / "home"
        box.home.mkdir(parents=True, exist_ok=True)
        box.env["HOME"] = str(user_home() or "/tmp/home")

        def on_end() -> None:
            if egress is not None:
                egress.close()
            if own is not None:
                shutil.rmtree(own, ignore_errors=True)

        return Child(bwrap.argv(bwrap_path() or "bwrap", box, argv), folder, env, log, on_end=on_end)

    return start


def show(box, folder: Path, prepared: Prepared) -> None:
    """Into a box: the folder also at CANONICAL (the box starts there), each shared folder read-only
    at both places; the package caches among them named in the box's environment."""
    box.write(folder, CANONICAL)
    for source, rel in prepared.folders:
        box.read(source, folder / rel)
        box.read(source, CANONICAL / rel)
        root = Path(str(source).removesuffix(rel))
        box.env.update({name: str(CANONICAL / c) for name, c in CACHES.items() if (root / c).is_dir()})
    if "GOCACHE" in box.env and str(box.env["GOCACHE"]).startswith(str(CANONICAL)):
        box.env["GODEBUG"] = ",".join(filter(None, (box.env.get("GODEBUG"), "goindex=0")))
    box.cwd = CANONICAL


def for_gate(
    bosun_dir: Path, repo: Path, folder: Path, log: Path, boxed: bool, token: str | None = None
) -> Prepared | None:
    """The gate's folder made ready like a worktree (the session's settings, saved by its agents)."""
    settings = load_settings(bosun_dir)
    if not settings.wanted:
        return None
    copy_files(settings, repo, folder)
    start = starter(repo, bosun_dir, settings, boxed, token)
    prepared = Preparer(bosun_dir, settings).prepare(folder, log, start, boxed)
    if (folder / ".git").is_dir():  # the folder's own repository (gate_git): `git status` as clean as a worktree's
        exclude(folder / ".git", settings, prepared.produced)
    return prepared
