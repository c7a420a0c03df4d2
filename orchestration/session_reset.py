"""`bosun reset`: end a session and start over without git surgery. The supervisor and every
agent it recorded are stopped, `.bosun/` is moved whole under `.bosun/archive/STAMP/` (the store,
logs, tasks, the agents' clone and worktrees: nothing is deleted), the integration branch goes
back to the base branch by compare-and-swap, and `refs/bosun/*` are removed."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from bosun.orchestration.errors import BosunError
from bosun.orchestration.faults import fault_point
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.plan import load_plan
from bosun.orchestration.process import kill_group, process_start_time
from bosun.orchestration.session import BOSUN_DIR, new_archive, open_session, prepare_dir

STOP_WAIT_S = 10.0


def _stop_session(repo: GitRepo):
    """The supervisor and every agent the store recorded, stopped; the session's project and a count."""
    session = open_session(repo)
    try:
        stopped = 0
        if (pid := session.running_supervisor()) is not None:
            session.store.set_meta("reset_by", str(os.getpid()))  # the screen it ends says so, not "resume"
            if not _stop_supervisor(pid, session.store.get_meta("supervisor_start")):
                session.store.set_meta("reset_by", "")
                raise BosunError(f"the supervisor (pid {pid}) did not stop; nothing changed")
            stopped += 1
        for unit in session.store.units():
            if unit.pid and unit.pid_start and process_start_time(unit.pid) == unit.pid_start:
                kill_group(unit.pid, unit.pid_start)
                stopped += 1
        return session.plan.project, stopped
    finally:
        session.close()


@dataclass(frozen=True)
class ResetDone:
    archive: Path
    base: str
    refs_removed: int
    stopped: int


def _stop_supervisor(pid: int, start: str | None) -> bool:
    """TERM, then KILL after STOP_WAIT_S; True once it is gone (its sandboxes die with it)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return True
        deadline = time.monotonic() + STOP_WAIT_S
        while time.monotonic() < deadline:
            if process_start_time(pid) != start:
                return True
            time.sleep(0.05)
    return process_start_time(pid) != start


def reset_session(repo: GitRepo) -> ResetDone:
    """Idempotent: a reset interrupted after the archive (no store left) finishes from the plan file."""
    if not (repo.path / BOSUN_DIR / "state.db").exists():
        project = load_plan(repo.path / "bosun.toml").project
        stopped = 0
    else:
        project, stopped = _stop_session(repo)
    base = repo.rev_parse(f"refs/heads/{project.base}")
    if base is None:
        raise BosunError(f"branch '{project.base}' does not exist; nothing changed")
    fault_point("reset.stopped")
    root = repo.path / BOSUN_DIR
    archive = new_archive(root)
    for entry in sorted(root.iterdir()):
        if entry.name != "archive":
            entry.rename(archive / entry.name)
    prepare_dir(repo)
    fault_point("reset.archived")
    integration_ref = f"refs/heads/{project.integration}"
    head = repo.rev_parse(integration_ref)
    if head is not None and head != base and not repo.update_ref(integration_ref, base, head, "bosun reset"):
        raise BosunError(
            f"branch '{project.integration}' moved during the reset; the session is archived in "
            f"{archive}, run `bosun reset` again"
        )
    refs = repo.run("for-each-ref", "--format=%(refname)", "refs/bosun/").out.split()
    for ref in refs:
        repo.run("update-ref", "-d", ref)
    return ResetDone(archive, base, len(refs), stopped)
