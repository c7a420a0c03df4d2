"""What the Diff tab and the approve dialog show: for a unit awaiting approval, the branch's
committed change (what would merge), never what an agent left uncommitted in its worktree.

Found running Bosun on itsdangerous: the tab said "worktree against …" for a unit awaiting
approval, which shows uncommitted leftovers as if they were part of the merge."""

from __future__ import annotations

from conftest import bosun, write_unit

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.review import unit_diff
from bosun.orchestration.session import open_session


def test_a_unit_awaiting_approval_shows_its_commits_not_its_worktree(project):
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, merge="manual")
    assert bosun("run", "--headless", cwd=repo).returncode == 1  # only the approval is left
    (repo / ".bosun" / "worktrees" / "a" / "left_over.py").write_text("NOT = 'committed'\n")
    session = open_session(GitRepo(repo))
    try:
        row = session.store.unit("a")
        assert row.state == "awaiting_approval"
        shown = unit_diff(session.repo, session.clone(), row, session.integration_head())
    finally:
        session.close()
    assert "src/a.py" in shown.stat and "A = 1" in shown.patch
    assert "left_over.py" not in shown.stat + shown.patch, shown.stat
    assert shown.source.startswith("branch "), shown.source
