"""Handing one attempt of a unit to an agent, and taking its work back — the same for agents
Bosun starts and for external agents that claimed the unit themselves.

Preparing cuts (or reuses) the worktree and writes the task file; collecting reads what git
shows after the agent and fetches it into the user's repository. Neither touches the store:
the caller records the transitions, so this runs safely in a worker thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bosun.orchestration.agents.launch import build_task
from bosun.orchestration.git_objects import reader
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.plan import UnitSpec
from bosun.orchestration.safe_files import replace_text
from bosun.orchestration.states import (
    AWAITING_APPROVAL,
    CLAIMED,
    FAILED,
    GATE_FAILED,
    HANDBACK_REASONS,
    READY,
    RUNNING,
)
from bosun.orchestration.store import UnitRow
from bosun.orchestration.worktrees import AgentClone, unit_branch


@dataclass(frozen=True)
class Handout:
    """Everything one attempt needs: where to work, what to do, and where the work started."""

    unit: str
    attempt: int
    worktree: Path
    base_commit: str
    start_head: str
    task: dict
    task_file: Path
    report_file: Path

    def running_fields(self) -> dict:
        """The unit's fields once the attempt starts."""
        return {
            "attempts": self.attempt,
            "branch": unit_branch(self.unit),
            "worktree": str(self.worktree),
            "base_commit": self.base_commit,
            "head_commit": self.start_head,
        }


def task_paths(tasks_dir: Path, unit_id: str) -> tuple[Path, Path]:
    """Where a unit's task file and its agent's report file live (`.bosun/tasks`, outside every worktree)."""
    return tasks_dir / f"{unit_id}.json", tasks_dir / f"{unit_id}.report.json"


KEEPS = (READY, CLAIMED, RUNNING, FAILED)
"""States from which a turned-down commit stays the one an agent (or a human taking over) may keep."""


def handback_for(row: UnitRow, note: str | None, reason: str | None = None) -> dict:
    """The task's `handback`: why the unit came back (its side state, or `reason`), the note, and
    the side state's details (files, the output's end, the semantic findings)."""
    detail = row.detail or {}
    handback = {
        "reason": reason or HANDBACK_REASONS.get(row.state, "human"),
        "note": note,
        "files": detail.get("files", []),
        "output_tail": detail.get("output_tail"),
    }
    if detail.get("findings"):  # exactly what clashed, symbol by symbol
        handback["findings"] = detail["findings"]
    # Its gate passed and a human turned it down, now or before a hand-back whose attempt failed (a
    # side state's verdict on that commit ends it: a failed gate, a conflict, out of scope).
    earlier = (row.handback or {}).get("passed_gate")
    if row.head_commit and (row.state == AWAITING_APPROVAL or (row.state in KEEPS and earlier == row.head_commit)):
        handback["passed_gate"] = row.head_commit
    if row.state == GATE_FAILED and detail.get("head"):  # the commit judged: a human may gate it again
        handback["failed_gate"] = detail["head"]
    return handback


def integrated_units(rows: list[UnitRow]) -> list[dict]:
    """The task's `integrated` list: every merged unit, its commit and its agent's summary."""
    return [
        {"unit": u.id, "commit": u.merged_commit, "summary": (u.detail or {}).get("summary", "")}
        for u in rows
        if u.state == "merged"
    ]


def prepare(
    clone: AgentClone, unit: UnitSpec, tasks_dir: Path, row: UnitRow, head: str, integrated: list[dict]
) -> Handout:
    """Reuse the worktree on a hand-back (merging the head in on a conflict); else cut a fresh one.
    Runs in a worker thread, so it is handed plain data, never the session or its store."""
    path = clone.worktree_path(row.id)
    handback = row.handback
    if row.base_commit and row.head_commit and path.exists():
        # The agent fixes a clash on top of what it clashed with: the integration head is merged in
        # (with conflict markers for a textual conflict; a clean merge for a semantic one).
        if handback and handback.get("reason") in ("conflict", "semantic_conflict"):
            files = clone.merge_into_worktree(row.id, head)
            handback = {**handback, "files": files or handback.get("files", [])}
        base, start = row.base_commit, row.head_commit
        if handback and handback.get("reason") == "semantic_conflict":  # merged cleanly: the fix must come after
            start = clone.branch_head(row.id) or start
    else:
        clone.add_worktree(row.id, head)
        base = start = head
    attempt = row.attempts + 1
    task_file, report_file = task_paths(tasks_dir, row.id)
    report_file.unlink(missing_ok=True)
    task = build_task(
        unit, branch=unit_branch(row.id), base_commit=base, attempt=attempt, handback=handback, integrated=integrated
    )
    replace_text(task_file, json.dumps(task, indent=2))
    return Handout(row.id, attempt, path, base, start, task, task_file, report_file)


@dataclass(frozen=True)
class Collected:
    """What git shows after an agent: the branch head, fetched into the user's repository."""

    head: str | None
    config_restored: bool
    kept: bool = False
    """The branch still ends, clean, at the commit a human turned down after its gate passed: the
    agent read the note and found nothing to change. That is handed in too, so the work goes back
    to the human (who may approve it now) rather than failing with nothing left to approve."""

    behind: bool = False
    """The branch ends at its base or behind it (`git reset --hard HEAD~1` past the base): nothing
    of the unit's own is there, however much the head moved."""

    def is_new(self, start_head: str) -> bool:
        return self.head is not None and self.head != start_head and not self.behind


def collect(
    clone: AgentClone, unit_id: str, autocommit: bool, have: str | None = None, handback: dict | None = None
) -> Collected:
    """Read the unit's branch after the agent (committing leftovers if asked) and fetch it by id
    (`have`: a commit the user's repository has, so only what is new travels); with the unit's
    `handback`, whether it kept the turned-down commit (edits left uncommitted are not keeping it)."""
    restored = clone.guard()
    if autocommit and clone.has_changes(unit_id):
        clone.commit_all(unit_id, f"bosun: work left uncommitted by the agent on {unit_id}")
    head = clone.branch_head(unit_id)
    if head is not None:
        clone.fetch_into_user(head, f"refs/bosun/units/{unit_id}", have)
    kept = head is not None and head == (handback or {}).get("passed_gate") and not clone.has_changes(unit_id)
    return Collected(head, restored, kept, head is not None and have is not None and not _beyond(clone, head, have))


def _beyond(clone: AgentClone, head: str, base: str) -> bool:
    """Whether `head` holds commits `base` does not: it descends from it (found in a short walk of
    the clone's objects, as agents commit on top of their base), or git says it is no ancestor."""
    if head == base:
        return False
    if reader(clone.path).reaches(head, base):
        return True
    return not GitRepo(clone.path).is_ancestor(head, base)
