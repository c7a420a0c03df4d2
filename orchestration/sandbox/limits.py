"""A cap on the processes of each agent and gate, so a fork bomb stops at the cap instead of
filling the machine's process table; the timeout then kills it whole.

RLIMIT_NPROC cannot be the cap where Bosun usually runs: the kernel never applies it to uid 0,
not even inside a user namespace mapped to another uid (the real uid stays 0). A cgroup of the
`pids` controller binds everyone, root included, so each child gets one of its own when this
process may make them (cgroup v1's `pids` hierarchy, or a cgroup v2 ancestor that delegates
`pids`; root can, a user can in a systemd-delegated subtree): the child joins it before it
execs (a `sh` in front), the cgroup's `pids.max` is the cap, and whatever is left in it is
killed when the child ends. Elsewhere a sandboxed child of a user other than root gets
RLIMIT_NPROC inside its own user namespace (counted per namespace since Linux 5.14); an
unsandboxed one has no cap. `BOSUN_PROCESS_LIMIT` sets the cap (default 2048; `off`: none).
"""

from __future__ import annotations

import atexit
import functools
import itertools
import os
import re
import signal
import threading
import time
from pathlib import Path

SETTING, DEFAULT = "BOSUN_PROCESS_LIMIT", 2048
_JOIN = 'echo 0 > "$0" || { echo "bosun: cannot join its process-limit cgroup $0" >&2; exit 125; }; exec "$@"'
_JOIN_TWO = (
    'echo 0 > "$0" && echo 0 > "$1" || { echo "bosun: cannot join its cgroups $0 $1" >&2; exit 125; }; shift; exec "$@"'
)
_NPROC = 'ulimit -u "$0" 2>/dev/null || ulimit -p "$0" 2>/dev/null; exec "$@"'  # bash/busybox, dash


def cap() -> int | None:
    """The cap from `BOSUN_PROCESS_LIMIT` (None: no cap)."""
    value = os.environ.get(SETTING, "").strip().lower()
    if value in ("off", "0", "none"):
        return None
    return int(value) if value.isdigit() else DEFAULT


class Group:
    """One child's cgroup: the child joins it before exec; `close` kills what is left and removes it.
    (A plain class, not a dataclass: `bosun status --json` imports this module.)"""

    __slots__ = ("path", "limit", "refused", "memory", "memory_group", "oom_kills")

    def __init__(self, path: Path, limit: int, *, memory: str | None = None, memory_group: Path | None = None) -> None:
        self.path = path
        self.limit = limit
        self.refused = 0  # forks the cap refused, read when the group is closed
        self.memory = memory  # the memory cap as the plan wrote it ("4G"), when one is set
        self.memory_group = memory_group  # cgroup v1: the memory hierarchy's group, joined too
        self.oom_kills = 0  # processes the kernel killed over the memory cap, read when closed

    def wrap(self, argv: list[str]) -> list[str]:
        if self.memory_group is not None and self.memory_group != self.path:
            procs = [str(self.path / "cgroup.procs"), str(self.memory_group / "cgroup.procs")]
            return ["/bin/sh", "-c", _JOIN_TWO, *procs, *argv]
        return ["/bin/sh", "-c", _JOIN, str(self.path / "cgroup.procs"), *argv]

    def _groups(self) -> list[Path]:
        return [self.path, *([self.memory_group] if self.memory_group not in (None, self.path) else [])]

    def kill(self, wait_s: float = 5.0) -> None:
        """Kill every process in the group, again until none is left (the cap bounds each round)."""
        killer = self.path / "cgroup.kill"
        if killer.exists():
            try:
                killer.write_text("1")
            except OSError:
                pass
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            pids = [pid for group in self._groups() for pid in _members(group)]
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.01)

    def close(self) -> int:
        """Kill what is left, note how many forks the cap refused, remove the group."""
        self.kill()
        try:
            events = (self.path / "pids.events").read_text()
            self.refused = int(re.search(r"^max (\d+)", events, re.MULTILINE).group(1))
        except (OSError, AttributeError, ValueError):
            pass
        if self.memory is not None:
            from bosun.orchestration.sandbox.memory import oom_kills

            self.oom_kills = oom_kills(self.memory_group or self.path)
        for group in self._groups():
            _rmdir(group)
        return self.refused


def _members(path: Path) -> list[int]:
    try:
        return [int(line) for line in (path / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def _mounts() -> list[tuple[str, str, str, str]]:
    """(mount point, root inside the hierarchy, file system type, super options) of each mount."""
    found = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) >= 5 and len(tail) >= 3:
            found.append((fields[4].replace("\\040", " "), fields[3], tail[0], tail[2]))
    return found


def _own_cgroups() -> dict[str, str]:
    """controller list ("pids", "" for v2) -> this process's path in that hierarchy."""
    own = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            own[controllers] = path
    except (OSError, ValueError):
        pass
    return own


def _inside(mount: str, root: str, path: str) -> Path | None:
    if root != "/" and not (path == root or path.startswith(root + "/")):
        return None
    return Path(mount) / path[len(root) :].lstrip("/") if root != "/" else Path(mount) / path.lstrip("/")


def _writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK)


def _find_parent(controller: str = "pids") -> tuple[Path | None, str]:
    """Where this process may make cgroups of `controller`, and how that was found (or why none)."""
    own = _own_cgroups()
    for mount, root, fstype, options in _mounts():
        if fstype == "cgroup" and controller in options.split(","):
            path = next((p for c, p in own.items() if controller in c.split(",")), None)
            folder = _inside(mount, root, path) if path is not None else None
            if folder is not None and _writable(folder):
                return folder, f"cgroup v1 {controller} at {folder}"
    for mount, root, fstype, _ in _mounts():
        if fstype != "cgroup2" or "" not in own:
            continue
        folder = _inside(mount, root, own[""])
        while folder is not None and (folder == Path(mount) or Path(mount) in folder.parents):
            try:
                delegated = controller in (folder / "cgroup.subtree_control").read_text().split()
            except OSError:
                delegated = False
            if delegated and _writable(folder):
                return folder, f"cgroup v2 {controller} under {folder}"
            folder = folder.parent if folder != Path(mount) else None
    return None, f"no writable cgroup with the {controller} controller"


def can_cap_memory() -> tuple[bool, str]:
    """Whether this process can make a cgroup whose memory limit holds (tried for real, then removed),
    and how or why not: what `bosun doctor` reports for the plan's `memory` caps."""
    parent, how = _find_parent("memory")
    if parent is None:
        return False, how
    probe = parent / f"bosun-doctor-{os.getpid()}"
    try:
        probe.mkdir(exist_ok=True)
        limit = probe / ("memory.max" if (probe / "memory.max").exists() else "memory.limit_in_bytes")
        limit.write_text(str(64 << 20))
        holds = limit.read_text().strip() == str(64 << 20)
    except OSError as exc:
        return False, f"{how}, but it cannot be used: {exc.strerror or exc}"
    finally:
        _rmdir(probe)
    return (True, how) if holds else (False, f"{how}, but its memory limit does not hold")


_lock = threading.Lock()
_count = itertools.count()


@functools.cache
def _home() -> tuple[Path | None, str]:
    """This supervisor's own folder of groups (made once), after removing empty ones that
    supervisors which no longer run left behind."""
    parent, how = _find_parent()
    if parent is None:
        return None, how
    for stale in parent.glob("bosun-*"):
        pid = stale.name[6:]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            for child in stale.iterdir() if stale.is_dir() else ():
                if child.is_dir():
                    _rmdir(child)
            _rmdir(stale)
    home = parent / f"bosun-{os.getpid()}"
    try:
        home.mkdir(exist_ok=True)
        if (home / "cgroup.subtree_control").exists():  # v2: hand pids (and memory, if it may) down
            (home / "cgroup.subtree_control").write_text("+pids")
            try:
                (home / "cgroup.subtree_control").write_text("+memory")
            except OSError:
                pass
        probe = home / "probe"
        probe.mkdir(exist_ok=True)
        (probe / "pids.max").write_text("1")
        works = (probe / "pids.max").read_text().strip() == "1"
        probe.rmdir()
    except OSError as exc:
        _rmdir(home)
        return None, f"{how}, but it cannot be used: {exc.strerror or exc}"
    if not works:
        _rmdir(home)
        return None, f"{how}, but pids.max does not hold"
    atexit.register(_rmdir, home)
    return home, how


def _rmdir(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass


def open_group(name: str, memory: str | None = None) -> Group | None:
    """A fresh capped group for one child named `name` (processes, and `memory` when given: "4G"),
    or None (no cap set, or no cgroup here)."""
    group = _pids_group(name)
    if memory is None:
        return group
    from bosun.orchestration.plan.reach import size_bytes
    from bosun.orchestration.sandbox.memory import cap_in

    separate, capped = cap_in(group.path if group else None, name, size_bytes(memory))
    if not capped:
        return group
    if group is None:
        assert separate is not None
        return Group(separate, 0, memory=memory, memory_group=separate)
    group.memory, group.memory_group = memory, separate
    return group


def _pids_group(name: str) -> Group | None:
    limit = cap()
    home = _home()[0] if limit is not None else None
    if home is None:
        return None
    with _lock:
        path = home / f"{next(_count)}-{re.sub(r'[^A-Za-z0-9._-]', '_', name)[:60]}"
    try:
        path.mkdir()
        (path / "pids.max").write_text(str(limit))
    except OSError:
        _rmdir(path)
        return None
    return Group(path, limit)


def end_leftover_group(recorded: str | None) -> bool:
    """Kill what is left in a group an earlier supervisor recorded and remove it; True when there
    was something. Only a path shaped like one of ours, on a cgroup file system, is touched."""
    if not recorded:
        return False
    path = Path(recorded)
    cgroup_mounts = [Path(m) for m, _, fstype, _ in _mounts() if fstype in ("cgroup", "cgroup2")]
    if (
        not re.fullmatch(r"bosun-\d+", path.parent.name)
        or ".." in path.parts
        or not any(m in path.parents for m in cgroup_mounts)
        or not (path / "cgroup.procs").is_file()
    ):
        return False
    found = bool(_members(path))
    Group(path, 0).close()
    return found


def grouped() -> bool:
    """Whether each child gets a capped cgroup here (the cap binds root too, and the group is
    killed whole when the child ends)."""
    return cap() is not None and _home()[0] is not None


def inner_limit(argv: list[str]) -> list[str]:
    """Inside a sandbox without a group: RLIMIT_NPROC, set in the sandbox's own user namespace,
    for a user other than root (root ignores it)."""
    limit = cap()
    if limit is None or os.geteuid() == 0:
        return argv
    return ["/bin/sh", "-c", _NPROC, str(limit), *argv]


def describe() -> str:
    """One line for status and the README: what caps processes here."""
    limit = cap()
    if limit is None:
        return f"no process limit ({SETTING}=off)"
    home, how = _home()
    if home is not None:
        return f"{limit} processes per agent and gate ({how})"
    if os.geteuid() != 0:
        return f"{limit} processes per sandbox (RLIMIT_NPROC in its user namespace; {how}); unsandboxed none"
    return f"no process limit: {how}, and root ignores RLIMIT_NPROC; a timeout still kills a sandbox whole"
