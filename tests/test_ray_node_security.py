"""What the supervisor does with a node's answer, and the node's folder: a compromised node (or
another local user) gets no command run on the supervisor's or the node's machine."""

from __future__ import annotations

import os

import pytest
from conftest import git, import_tool

import_tool("ray", "the Ray backend's tests need Ray: pip install 'bosun[ray]'")

from bosun.orchestration.backends.cluster import RayBackend  # noqa: E402
from bosun.orchestration.backends.hub import Hub  # noqa: E402
from bosun.orchestration.backends.node import node_root  # noqa: E402
from bosun.orchestration.errors import BosunError, GitError  # noqa: E402
from bosun.orchestration.gitcmd import GitRepo  # noqa: E402
from bosun.orchestration.worktrees import AgentClone  # noqa: E402


def test_a_head_that_is_not_a_commit_id_runs_nothing_on_the_supervisor(tmp_path):
    """A node's `head` is taken only as a full commit id, and the hub's fetch ends its options
    before the commit: `--upload-pack=<command>` is refused, not run."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    bosun_dir = repo / ".bosun"
    bosun_dir.mkdir()
    clone = AgentClone(GitRepo(repo), bosun_dir)
    clone.ensure()
    hub = Hub(bosun_dir)
    hub.ensure()
    backend = RayBackend.__new__(RayBackend)  # only its hub is needed to take an attempt back
    backend.hub = hub
    marker = tmp_path / "pwned"
    for head in (f"--upload-pack=touch {marker};", f"{'a' * 40}\n--upload-pack=touch {marker};", "HEAD", 7):
        with pytest.raises(BosunError):
            backend.take_back(clone, "u", {"head": head, "report": None}, tmp_path / "report.json")
    with pytest.raises(GitError):
        hub.take(clone.path, f"--upload-pack=touch {marker};")
    assert not marker.exists()
    assert clone.branch_head("u") is None


def test_a_node_folder_others_can_write_is_refused(tmp_path, monkeypatch):
    """The node folder is made 0700; one that group or others can write is not used."""
    fresh = tmp_path / "fresh"
    monkeypatch.setenv("BOSUN_NODE_DIR", str(fresh))
    assert node_root() == fresh and (os.stat(fresh).st_mode & 0o777) == 0o700
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("BOSUN_NODE_DIR", str(shared))
    with pytest.raises(BosunError):
        node_root()
    link = tmp_path / "link"
    link.symlink_to(fresh)
    monkeypatch.setenv("BOSUN_NODE_DIR", str(link))
    with pytest.raises(BosunError):
        node_root()
