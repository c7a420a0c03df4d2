"""What the human reviews on screen, read from git: a unit's diff against its base, the two sides
of a conflict, the facts behind an approval, and how many commits an agent has made so far.

Each function runs git (slow, blocking): the screen calls them from worker threads. They read
only; external diff drivers and text conversions are off, so nothing an agent configured runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bosun.orchestration.errors import GitError
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.integration.gate import merge_check
from bosun.orchestration.scope import in_scope
from bosun.orchestration.states import AGENT_STATES, FAILED
from bosun.orchestration.store import UnitRow
from bosun.orchestration.worktrees import AgentClone, unit_branch

MAX_DIFF_LINES = 3000
CONTEXT_LINES = 2
_DIFF = ("diff", "--no-ext-diff", "--no-textconv", "--no-color")


@dataclass(frozen=True)
class UnitDiff:
    """A unit's change: where it was read from, its `--stat` and its patch (maybe cut short)."""

    source: str
    stat: str
    patch: str
    truncated: bool = False


@dataclass(frozen=True)
class ConflictSide:
    """One conflicted file: the merged text around each conflict, markers and both sides included."""

    path: str
    excerpt: str


@dataclass(frozen=True)
class Approval:
    """What a human needs to approve a merge: the change's size, the gate's verdict, the scope check."""

    unit: str
    stat: str
    gate: dict | None
    scope: str
    files: tuple[str, ...]
    checks: tuple[dict, ...] = ()
    warnings: tuple[dict, ...] = ()


def _cut(patch: str) -> tuple[str, bool]:
    lines = patch.splitlines()
    if len(lines) <= MAX_DIFF_LINES:
        return patch, False
    return "\n".join(lines[:MAX_DIFF_LINES]), True


def unit_diff(repo: GitRepo, clone: AgentClone, row: UnitRow, integration_head: str) -> UnitDiff:
    """The worktree's diff while an agent works and after it failed (uncommitted edits included),
    the merge's once merged, and the branch's committed change in between: what a human approves
    is what would merge, never what an agent left uncommitted. The base is where the unit's branch
    meets the integration head, so a unit that merged the integration branch in (a conflict
    hand-back) shows its own change, not everyone's."""
    user = repo
    at_work = row.state in (*AGENT_STATES, FAILED)
    if row.merged_commit:
        old, new, source = f"{row.merged_commit}^1", row.merged_commit, "merged"
    elif at_work and row.worktree and row.base_commit and (diff := _worktree_diff(clone, row, integration_head)):
        return diff
    elif row.head_commit and row.base_commit:
        # A submitted unit's commits are in the user's repository too; before that, only in the clone.
        fetched = user.run("cat-file", "-e", f"{row.head_commit}^{{commit}}", check=False).code == 0
        repo, old, new, source = user if fetched else GitRepo(clone.path), "", row.head_commit, "branch"
    else:
        return UnitDiff("no work yet", "", "")
    try:
        if not old:
            old = repo.run("merge-base", integration_head, new, check=False).out.strip() or row.base_commit
        stat = repo.run(*_DIFF, "--stat", old, new).out
        patch, cut = _cut(repo.run(*_DIFF, old, new).out)
    except GitError as exc:
        return UnitDiff(f"{source}: unreadable", str(exc), "")
    except OSError as exc:
        return UnitDiff(f"{source}: unreadable", exc.strerror or "the repository is not there", "")
    label = f"{source} {new[:10]} against {old[:10]}" if source != "merged" else f"merged as {new[:10]}"
    return UnitDiff(label, stat, patch, cut)


def _worktree_diff(clone: AgentClone, row: UnitRow, integration_head: str) -> UnitDiff | None:
    """The worktree against where it meets the integration head; None once the worktree is gone
    (it can go at any moment: merged, reassigned or cancelled)."""
    try:
        # Mid-merge (a conflict hand-back), what the unit adds is measured from what it merged in.
        merging = clone._in_worktree(row.id, ["rev-parse", "-q", "--verify", "MERGE_HEAD"], check=False).out.strip()
        met = merging or clone._in_worktree(row.id, ["merge-base", integration_head, "HEAD"], check=False).out.strip()
        base = met or row.base_commit
        stat = clone._in_worktree(row.id, [*_DIFF, "--stat", base]).out
        patch = clone._in_worktree(row.id, [*_DIFF, base]).out
        new_files = clone._in_worktree(row.id, ["ls-files", "--others", "--exclude-standard"]).out.split()
    except (GitError, OSError):
        return None
    stat += "".join(f" {name} (new, not yet added)\n" for name in new_files)
    patch, cut = _cut(patch)
    return UnitDiff(f"worktree against {base[:10]}", stat, patch, cut)


def conflict_sides(repo: GitRepo, row: UnitRow, head: str) -> list[ConflictSide]:
    """Merge the unit into the integration head in memory again and cut out every conflict region."""
    if not row.head_commit or not head:
        return []
    check = merge_check(repo, head, row.head_commit)
    sides = []
    for path in check.conflicts:
        shown = repo.run("cat-file", "blob", f"{check.tree}:{path}", check=False)
        text = shown.out if shown.code == 0 else f"({path} is not in the merged tree: deleted on one side)"
        sides.append(ConflictSide(path, _conflict_regions(text)))
    return sides


def _conflict_regions(text: str) -> str:
    lines = text.splitlines()
    keep: set[int] = set()
    start = None
    for number, line in enumerate(lines):
        if line.startswith("<<<<<<<"):
            lines[number] = "<<<<<<< the integration branch"
            start = number
        elif line.startswith(">>>>>>>") and start is not None:
            lines[number] = ">>>>>>> this unit"
            keep.update(range(max(0, start - CONTEXT_LINES), min(len(lines), number + CONTEXT_LINES + 1)))
            start = None
    if not keep:
        return text
    out, last = [], None
    for number in sorted(keep):
        if last is not None and number != last + 1:
            out.append("⋯")
        out.append(lines[number])
        last = number
    return "\n".join(out)


def approval(repo: GitRepo, scope: tuple[str, ...] | None, row: UnitRow, width: int = 80) -> Approval:
    """The diff stat of the gated candidate (lines at most `width` wide), its gate verdict and
    whether every file is in scope."""
    detail = row.detail or {}
    stat = ""
    if row.candidate and row.candidate_parent:
        stat = repo.run(*_DIFF, f"--stat={width}", row.candidate_parent, row.candidate).out
    files = tuple(detail.get("files") or ())
    if not scope:
        verdict = f"no scope declared: {len(files)} file(s) changed, any file allowed"
    else:
        outside = [path for path in files if not in_scope(path, scope)]
        verdict = (
            f"{len(outside)} file(s) outside the scope: {', '.join(outside)}"
            if outside
            else f"all {len(files)} file(s) inside the scope ({', '.join(scope)})"
        )
    return Approval(
        row.id,
        stat,
        detail.get("gate"),
        verdict,
        files,
        tuple(detail.get("checks") or ()),
        tuple(detail.get("warnings") or ()),
    )


def commits_made(clone_path: Path, rows: list[UnitRow]) -> dict[str, int]:
    """How many commits each unit's branch has past its base, in one git call per unit."""
    clone = GitRepo(clone_path)
    counts = {}
    for row in rows:
        if not row.base_commit:
            continue
        try:
            result = clone.run(
                "rev-list", "--count", f"{row.base_commit}..refs/heads/{unit_branch(row.id)}", check=False
            )
        except OSError:  # the clone is not there yet
            break
        if result.code == 0:
            counts[row.id] = int(result.out.strip() or 0)
    return counts
