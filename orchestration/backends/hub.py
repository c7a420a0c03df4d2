"""The hub: the one repository through which code travels between the supervisor and the nodes.

A bare repository at `.bosun/hub.git`. The supervisor pushes what a node needs (an attempt's
start, a gate's candidate) under one ref each; a node fetches those by commit id and pushes
its attempt's commits to `refs/bosun/attempts/<unit>/<attempt>`; the supervisor takes them
back by commit id into the agents' clone, from where they reach the user's repository as
every agent's work does (`unpack-objects --strict`). Nodes never see the user's repository
or the store. On one machine the nodes reach the hub over the file system; a real cluster
serves it with `git daemon` or ssh (`ray_hub` in the plan is the address the nodes use).
"""

from __future__ import annotations

from pathlib import Path

from bosun.orchestration.gitcmd import BOSUN_IDENTITY, GitRepo, git

HUB_CONFIG = (
    ("receive.fsckObjects", "true"),
    ("uploadpack.allowAnySHA1InWant", "true"),
    ("uploadpack.allowReachableSHA1InWant", "true"),
    ("gc.auto", "0"),
    ("core.hooksPath", "/dev/null"),
    ("receive.denyDeletes", "false"),
)


def attempt_ref(unit: str, attempt: int, what: str = "attempts") -> str:
    """Where a node pushes an attempt's commits (one ref per attempt); with `what` = "starts" or
    "merges", where the supervisor publishes what the attempt starts from or merges in."""
    return f"refs/bosun/{what}/{unit}/{attempt}"


class Hub:
    """The supervisor's side of the hub: create it, publish commits, take commits back."""

    def __init__(self, bosun_dir: Path, url: str | None = None) -> None:
        self.path = bosun_dir / "hub.git"
        self.url = url or str(self.path)

    def ensure(self) -> None:
        if not (self.path / "HEAD").exists():
            git(["init", "--quiet", "--bare", str(self.path)], self.path.parent)
        for key, value in HUB_CONFIG:
            git(["config", key, value], self.path)

    def publish(self, source: Path, commit: str, ref: str) -> None:
        """Push `commit` (and what it needs) from the repository at `source` to `ref` in the hub."""
        git(["push", "--quiet", "--no-verify", "--force", str(self.path), f"{commit}:{ref}"], source)

    def take(self, into: Path, commit: str) -> None:
        """Fetch one commit by id from the hub into the repository at `into` (no ref is written)."""
        git(
            ["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--end-of-options", str(self.path), commit], into
        )

    def gate_commit(self, user: GitRepo, index: Path, label: str) -> str:
        """The gate folder's tree (as its private index holds it) as a commit a node can fetch,
        published under `refs/bosun/gates/<label>`: the gate runs on exactly that tree."""
        tree = git(["write-tree"], user.path, env={"GIT_INDEX_FILE": str(index)}).out.strip()
        stamp = {"GIT_AUTHOR_DATE": "2000-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2000-01-01T00:00:00Z"}
        commit = git(
            ["commit-tree", tree, "-m", f"bosun gate {label}"], user.path, env={**BOSUN_IDENTITY, **stamp}
        ).out.strip()
        self.publish(user.path, commit, f"refs/bosun/gates/{label}")
        return commit
