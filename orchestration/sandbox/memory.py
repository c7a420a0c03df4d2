"""A memory cap for one agent or gate: a cgroup whose limit the kernel enforces by killing.

Where the process cap's cgroup (limits.py) also has the memory controller (cgroup v2 with
`memory` delegated) the cap is set in that very group: `memory.max`, and `memory.swap.max` 0 so
a runaway cannot push the machine into swap instead. Under cgroup v1 the memory hierarchy is a
separate one: the child gets a group there too (`memory.limit_in_bytes`, and the same value as
`memory.memsw.limit_in_bytes` where swap is accounted) and joins both before it execs. Over the
cap the kernel's OOM killer kills inside the group only; `oom_kill` in `memory.events` (v2) or
`memory.oom_control` (v1) tells afterwards that this is what ended it.

Where no memory cgroup can be made (no delegation, a user without one) there is no cap: the
process runs unlimited, `bosun doctor` says so ("memory cgroup") and so does `status --json`.
"""

from __future__ import annotations

import atexit
import functools
import os
import re
from pathlib import Path

from bosun.orchestration.sandbox import limits


@functools.cache
def _home() -> tuple[Path | None, str]:
    """This supervisor's folder of memory groups in the memory hierarchy, made once."""
    parent, how = limits._find_parent("memory")
    if parent is None:
        return None, how
    home = parent / f"bosun-{os.getpid()}"
    try:
        home.mkdir(exist_ok=True)
        if (home / "cgroup.subtree_control").exists():
            (home / "cgroup.subtree_control").write_text("+memory")
    except OSError as exc:
        limits._rmdir(home)
        return None, f"{how}, but it cannot be used: {exc.strerror or exc}"
    atexit.register(limits._rmdir, home)
    return home, how


def describe() -> str:
    """One line for status: how memory caps are set here, or why they are not."""
    parent, how = limits._find_parent("memory")
    return f"memory caps can be set ({how})" if parent is not None else f"no memory caps: {how}; they run unlimited"


def _write_cap(group: Path, size: int) -> bool:
    """Set the cap (swap off) in `group`; False when this group takes no memory limit."""
    try:
        if (group / "memory.max").exists():
            (group / "memory.max").write_text(str(size))
            if (group / "memory.swap.max").exists():
                (group / "memory.swap.max").write_text("0")
            return True
        if (group / "memory.limit_in_bytes").exists():
            (group / "memory.limit_in_bytes").write_text(str(size))
            if (group / "memory.memsw.limit_in_bytes").exists():
                (group / "memory.memsw.limit_in_bytes").write_text(str(size))
            return True
    except OSError:
        pass
    return False


def cap_in(pids_group: Path | None, name: str, size: int) -> tuple[Path | None, bool]:
    """Cap `size` bytes for a child: (a separate group it must join too, or None; whether capped)."""
    if pids_group is not None and _write_cap(pids_group, size):
        return None, True
    home = _home()[0]
    if home is None:
        return None, False
    with limits._lock:
        group = home / f"{next(limits._count)}-{re.sub(r'[^A-Za-z0-9._-]', '_', name)[:60]}"
    try:
        group.mkdir()
    except OSError:
        return None, False
    if not _write_cap(group, size):
        limits._rmdir(group)
        return None, False
    return group, True


def oom_kills(group: Path) -> int:
    """How many processes the OOM killer killed in `group` (over its cap)."""
    for name in ("memory.events", "memory.oom_control"):
        try:
            found = re.search(r"^oom_kill (\d+)", (group / name).read_text(), re.MULTILINE)
        except OSError:
            continue
        if found:
            return int(found.group(1))
    return 0
