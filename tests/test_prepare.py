"""Worktrees ready to build and test (issue 25): an agent's own git config, the project's
`setup` run once per `setup_key` and shared read-only, `copy` files that never leave the worktree.
Real git, real sandboxes, real `bosun run --headless`."""

from __future__ import annotations

from pathlib import Path

from conftest import bosun, first_parent_merges, git, needs_tool

from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
needs_bwrap = needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}")


@needs_bwrap
def test_an_agent_sets_its_git_identity_in_the_sandbox_and_bosun_never_reads_it(project, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    evil = tmp_path / "evil-hooks"
    steps = [
        {"run": ["sh", "-c", "git config user.email me@example.com && git config --get user.email > seen.txt"]},
        {"run": ["sh", "-c", f"git config core.hooksPath {evil}; git config --global alias.x status"]},
        {"commit": "identity"},
    ]
    repo = project([{"id": "a"}], {"a": [steps]}, sandbox="auto")
    result = bosun("run", "--headless", cwd=repo, env={"HOME": str(home)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert first_parent_merges(repo) == ["a"]
    assert git(repo, "show", "bosun/integration:seen.txt") == "me@example.com"
    clone_config = (repo / ".bosun" / "agents.git" / "config").read_text()
    assert "me@example.com" not in clone_config and str(evil) not in clone_config
    own = list((repo / ".bosun" / "homes").glob("*/.gitconfig"))
    assert own and "me@example.com" in own[0].read_text(), own
    assert not (home / ".gitconfig").exists(), "the user's own git config was written"
