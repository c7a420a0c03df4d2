"""What a supervisor started, written down so the next one can end it.

Each agent and gate Bosun starts gets a file in `.bosun/running/` (its pid and the kernel's
start time of that pid) for as long as it runs. A sandboxed process dies with its supervisor
anyway, once bubblewrap has set that up; an unsandboxed one (`sandbox = "off"`, or `auto` without
bubblewrap) can outlive a `kill -9`. So before a new supervisor starts any work it ends whatever
an earlier one left, and waits until it is gone: a resumed session never runs two gates on one
folder, nor two agents in one worktree.

The file is written before the process starts (`pending`), naming it by a token its environment
carries (BOSUN_LAUNCH); its pid is added once it runs. A supervisor killed in between, before
bubblewrap could tie the child's life to its own, still leaves the token: the next one ends
every process whose environment holds it (and so, too, what an unsandboxed agent left running
under `setsid`).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from pathlib import Path

from bosun.orchestration.process import process_start_time
from bosun.orchestration.sandbox import limits


def _folder(bosun_dir: Path) -> Path:
    return bosun_dir / "running"


TOKEN = "BOSUN_LAUNCH"
"""The environment variable a started child carries its record's token in."""


def pending(bosun_dir: Path, name: str) -> tuple[str, Path]:
    """Before a child starts: its record, with the token its environment is to carry under TOKEN."""
    token = secrets.token_hex(12)
    return token, _write(bosun_dir, name, {"pid": None, "start": None, "token": token})


def record(
    bosun_dir: Path, name: str, pid: int, start: str | None, group: Path | None = None, token: str | None = None
) -> Path:
    """Note a started child (and its process-limit cgroup, which holds even what left its process
    tree, such as a `setsid` daemon of an unsandboxed agent)."""
    return _write(bosun_dir, name, {"pid": pid, "start": start, "group": str(group) if group else None, "token": token})


def _write(bosun_dir: Path, name: str, data: dict) -> Path:
    folder = _folder(bosun_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    tmp = folder / f".{name}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps({**data, "supervisor": os.getpid()}))
    os.replace(tmp, path)
    return path


def forget(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc (a pid namespace's members are there too)."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def carrying(token: str) -> list[int]:
    """The processes whose environment holds `token` under TOKEN (this user's; others' are unreadable)."""
    mark, found = f"{TOKEN}={token}".encode(), []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            if mark in Path(f"/proc/{entry}/environ").read_bytes().split(b"\0"):
                found.append(int(entry))
        except OSError:
            continue
    return found


def end(
    pid: int | None, start: str | None, wait_s: float = 10.0, group: str | None = None, token: str | None = None
) -> bool:
    """Kill `pid` (if it is still the process that was recorded), its group and everything below
    it, and every process carrying `token`, and wait until they are gone; then whatever is left in
    its cgroup. True when something was ended."""
    ended = pid is not None and _end_tree(pid, start, wait_s)
    for each in carrying(token) if token else []:
        ended = _end_tree(each, process_start_time(each), wait_s) or ended
    return limits.end_leftover_group(group) or ended


def _end_tree(pid: int, start: str | None, wait_s: float) -> bool:
    if start is None or process_start_time(pid) != start:
        return False
    doomed = [pid, *descendants(pid)]
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass
    for each in doomed:
        try:
            os.kill(each, signal.SIGKILL)
        except OSError:
            pass
    starts = {each: process_start_time(each) for each in doomed}
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        alive = [p for p, s in starts.items() if s is not None and process_start_time(p) == s and not _zombie(p)]
        if not alive:
            break
        time.sleep(0.02)
    return True


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def end_all(bosun_dir: Path) -> list[str]:
    """End everything an earlier supervisor recorded; the names of what was still running."""
    ended = []
    folder = _folder(bosun_dir)
    if not folder.is_dir():
        return ended
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
            pid = None if data["pid"] is None else int(data["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)
            continue
        if data.get("supervisor") == os.getpid():
            continue  # this very process started it: it is not a leftover
        if end(pid, data.get("start"), group=data.get("group"), token=data.get("token")):
            ended.append(path.stem)
        path.unlink(missing_ok=True)
    return ended


def end_named(bosun_dir: Path, name: str) -> bool:
    """End one recorded process (e.g. the gate) whoever started it, before starting its successor."""
    path = _folder(bosun_dir) / f"{name}.json"
    try:
        data = json.loads(path.read_text())
        pid = None if data["pid"] is None else int(data["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return False
    ended = end(pid, data.get("start"), group=data.get("group"), token=data.get("token"))
    path.unlink(missing_ok=True)
    return ended
