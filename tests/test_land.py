"""`bosun land`: the base branch fast-forwards to the integration branch, or nothing changes."""

from __future__ import annotations

from conftest import bosun, git, write_unit


def test_land_fast_forwards_the_checked_out_base_branch(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    result = bosun("land", cwd=repo)
    assert result.returncode == 0, result.stderr
    assert git(repo, "rev-parse", "main") == git(repo, "rev-parse", "bosun/integration")
    assert (repo / "src" / "a.py").read_text() == "A = 1\n"  # the working tree followed
    assert "already" in bosun("land", cwd=repo).stdout


def test_land_refuses_a_dirty_tree_and_a_diverged_base(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    before = git(repo, "rev-parse", "main")
    (repo / "check.py").write_text("# edited\n")
    dirty = bosun("land", cwd=repo)
    assert dirty.returncode == 2 and "uncommitted" in dirty.stderr
    git(repo, "checkout", "--", "check.py")
    git(repo, "commit", "--allow-empty", "-q", "-m", "the user moved on")
    moved = git(repo, "rev-parse", "main")
    diverged = bosun("land", cwd=repo)
    assert diverged.returncode == 2 and "not a fast-forward" in diverged.stderr
    assert git(repo, "rev-parse", "main") == moved != before


def test_land_that_git_refuses_is_one_line_and_exit_2(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    (repo / "src" / "a.py").write_text("the user's own untracked file\n")  # the merge would overwrite it
    result = bosun("land", cwd=repo)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and result.stderr.startswith("bosun: ")
    assert (repo / "src" / "a.py").read_text() == "the user's own untracked file\n"
