"""A freshly checked-out worktree made "not racy": its index trusted on stat data alone.

git trusts an index entry's recorded stat data only when the file's mtime is older, in whole
seconds, than the index file itself. A file checked out in the same second as its index is
"racily clean": every later git command compares its content again, and `git add` treats it as
modified and adds it again, writing its object. Outside a sandbox that write finds the object
stored already and only touches the stored copy's mtime ("freshening" it); in an agent's box the
stored copies are read-only (the clone's objects and, through them, the user's), the touch fails
with EROFS, and git writes a duplicate of every tracked file into the agent's own object folder:
the first `git add --all` in a box cost a loose object per file of the project, which Bosun then
read back in `absorb`. It stays so until an index is written in a later second, however long the
agent waits.

So a worktree Bosun has just checked out is settled before anyone gets it: each checked-out
file's mtime is set back to a whole second already past, then `git update-index --refresh`
records the new stat data (comparing every file's content once: nothing is taken on trust) in an
index written after that second. No entry is racy any more, and git still sees every later
change: any write gives a file a newer mtime than the one recorded.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bosun.orchestration.gitcmd import git


def settle(worktree: Path, env: dict[str, str]) -> None:
    """Backdate the worktree's files and refresh its index (`env` names the repository: GIT_DIR
    and GIT_WORK_TREE). A file that cannot be backdated only stays racy, as git would leave it."""
    past = (time.time_ns() // 1_000_000_000 - 1) * 1_000_000_000
    for path in _files(worktree):
        try:
            os.utime(path, ns=(past, past), follow_symlinks=False)
        except OSError:
            pass
    # Exit code 1 only says some file needs updating: nothing does in a fresh checkout.
    git(["update-index", "-q", "--refresh"], worktree, env=env, check=False)


def _files(top: Path) -> list[str]:
    """Every file and link below `top` (links not followed), the top's `.git` aside."""
    found: list[str] = []
    pending = [str(top)]
    while pending:
        folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if folder == str(top) and entry.name == ".git":
                continue
            if entry.is_dir(follow_symlinks=False):
                pending.append(entry.path)
            else:
                found.append(entry.path)
    return found
