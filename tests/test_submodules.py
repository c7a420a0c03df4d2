"""Submodules: the gate folder and each agent's worktree hold every submodule's files at the
commit the tree records (submodules inside submodules too), never what a gate or an agent left
in them; a base whose submodules are not initialized is refused before anything is written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import bosun, first_parent_merges, git, needs_tool

from bosun.orchestration import submodules
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.integration.gate import GateFolder
from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
needs_bwrap = needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}")
LOCAL = ("-c", "protocol.file.allow=always")  # git refuses file:// submodules unless told

# The gate: both libraries at their recorded versions, nothing an earlier gate left behind.
CHECK = textwrap.dedent("""\
    import pathlib, sys
    sys.path[:0] = ["vendor/lib", "vendor/lib/deps/inner"]
    from value import VALUE
    from inner import INNER
    left = pathlib.Path("vendor/lib/left.txt")
    if VALUE != 42 or INNER != 7 or left.exists():
        print("FAILED", VALUE, INNER, left.exists())
        sys.exit(1)
    left.write_text("a gate was here")
    print("1 passed")
""")


def _library(path: Path, files: dict[str, str]) -> Path:
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    for name, text in files.items():
        (path / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", f"{path.name}")
    return path


def _add_submodule(repo: Path, url: Path, at: str) -> None:
    git(repo, *LOCAL, "submodule", "add", "-q", str(url), at)
    git(repo, "commit", "-q", "-m", f"submodule {at}")


def _project_with_submodules(project, tmp_path: Path, units, script, **keys) -> Path:
    inner = _library(tmp_path / "inner", {"inner.py": "INNER = 7\n"})
    lib = _library(tmp_path / "lib", {"value.py": "VALUE = 42\n"})
    _add_submodule(lib, inner, "deps/inner")
    repo = project(units, script, extra_files={"check.py": CHECK}, **keys)
    _add_submodule(repo, lib, "vendor/lib")
    git(repo, *LOCAL, "submodule", "update", "-q", "--init", "--recursive")
    return repo


@pytest.mark.parametrize("sandbox", [pytest.param("required", marks=needs_bwrap), "off"])
def test_gates_and_agents_see_each_submodule_at_its_commit(project, tmp_path: Path, sandbox: str) -> None:
    look = "cat vendor/lib/value.py vendor/lib/deps/inner/inner.py > seen.txt"
    tamper = "echo VALUE = 0 > vendor/lib/value.py && echo junk > vendor/lib/junk.txt"
    units = [{"id": "a"}, {"id": "b", "depends_on": ["a"]}]
    script = {
        "a": [[{"run": ["sh", "-c", f"{look} && {tamper}"]}, {"commit": "a"}]],
        "b": [[{"write": "src/b.py", "content": "B = 1\n"}, {"commit": "b"}]],
    }
    repo = _project_with_submodules(project, tmp_path, units, script, sandbox=sandbox, batch=1)
    pinned = git(repo, "rev-parse", "HEAD:vendor/lib")

    result = bosun("run", "--headless", cwd=repo, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    # Two gate runs in one folder, each saw both libraries and not the first one's leftover.
    assert first_parent_merges(repo) == ["a", "b"]
    assert git(repo, "show", "bosun/integration:seen.txt").splitlines() == ["VALUE = 42", "INNER = 7"]
    # The agent's edits inside the submodule's folder are not part of its commit.
    assert git(repo, "rev-parse", "bosun/integration:vendor/lib") == pinned
    changed = git(repo, "diff", "--name-only", "main", "bosun/integration").split()
    assert sorted(changed) == ["seen.txt", "src/b.py"]


def test_a_submodule_not_initialized_is_warned_about_and_left_empty(project, tmp_path: Path) -> None:
    """Not initialized in your repository (a clone without `--recurse-submodules`): the run goes
    on, its folder empty as git leaves it, with a warning naming it and the fix (a submodule the
    tests never use must not stop anyone); `bosun doctor` says the same."""
    script = {"a": [[{"run": ["sh", "-c", "ls -A vendor/lib > seen.txt"]}, {"commit": "a"}]]}
    upstream = _project_with_submodules(project, tmp_path, [{"id": "a"}], script, gate="true")
    repo = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(upstream), str(repo))  # no --recurse-submodules

    doctor = bosun("doctor", cwd=repo)
    assert doctor.returncode == 0, doctor.stdout
    assert "✗ submodules: submodule 'vendor/lib' is not initialized: worktrees and gates get an empty" in doctor.stdout
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip().splitlines() == [
        "bosun run: WARNING: submodule 'vendor/lib' is not initialized: worktrees and gates get an empty "
        "folder (git submodule update --init --recursive)"
    ]
    assert git(repo, "show", "bosun/integration:seen.txt") == ""
    git(repo, *LOCAL, "submodule", "update", "-q", "--init")  # the library, not the one inside it
    assert "✗ submodules: submodule 'vendor/lib/deps/inner' is not initialized" in bosun("doctor", cwd=repo).stdout
    git(repo, *LOCAL, "submodule", "update", "-q", "--init", "--recursive")
    assert "✓ submodules: vendor/lib: initialized" in bosun("doctor", cwd=repo).stdout


def test_a_submodule_path_of_the_tree_s_choosing_never_names_the_repository_filled_from(
    project, tmp_path: Path
) -> None:
    """A unit's tree chooses its .gitmodules and gitlinks: one naming a folder inside the agent's
    own worktree, where the agent made a repository whose config runs a filter, must not be filled
    from there (Bosun's git would run that filter outside any box). Only `.git/modules` is used."""
    repo = _project_with_submodules(project, tmp_path, [{"id": "a"}], {})
    planted = repo / ".bosun" / "worktrees" / "a" / "evil"
    planted.mkdir(parents=True)
    git(planted, "init", "-q")
    marker = tmp_path / "ran"
    git(planted, "config", "filter.pwn.smudge", f"touch {marker}; cat")
    (planted / ".gitattributes").write_text("* filter=pwn\n")
    (planted / "x").write_text("x")
    git(planted, "add", "-A")
    git(planted, "commit", "-q", "-m", "planted")
    gitlink = git(planted, "rev-parse", "HEAD")
    (repo / ".gitmodules").write_text(
        (repo / ".gitmodules").read_text() + '[submodule "evil"]\n\tpath = .bosun/worktrees/a/evil\n\turl = ./x\n'
    )
    git(repo, "add", ".gitmodules")
    git(repo, "update-index", "--add", "--cacheinfo", f"160000,{gitlink},.bosun/worktrees/a/evil")
    git(repo, "commit", "-q", "-m", "a tree that points at a planted repository")

    folder = GateFolder(GitRepo(repo), tmp_path / "gate" / "0")
    folder.checkout(git(repo, "rev-parse", "HEAD"))
    assert not marker.exists(), "a filter of a repository the tree named ran"
    assert (folder.path / "vendor" / "lib" / "value.py").is_file()  # the real one is still filled
    assert not list((folder.path / ".bosun" / "worktrees" / "a" / "evil").iterdir())
    assert submodules.missing(repo, git(repo, "rev-parse", "HEAD")) == [
        "submodule '.bosun/worktrees/a/evil' is not initialized"
    ]


def test_a_linked_worktree_s_own_submodules_fill_its_gates(project, tmp_path: Path) -> None:
    """`git submodule update` in a linked worktree keeps the submodules in that worktree's own
    git dir (`.git/worktrees/NAME/modules`), not the shared one: Bosun run there finds them."""
    script = {"a": [[{"write": "src/a.py", "content": "A = 1\n"}, {"commit": "a"}]]}
    upstream = _project_with_submodules(project, tmp_path, [{"id": "a"}], script, sandbox="off")
    fresh, linked = tmp_path / "fresh", tmp_path / "linked"
    git(tmp_path, "clone", "-q", str(upstream), str(fresh))
    git(fresh, "worktree", "add", "-q", "-b", "work", str(linked), "main")
    git(linked, *LOCAL, "submodule", "update", "-q", "--init", "--recursive")
    assert not (fresh / ".git" / "modules").exists()
    (linked / "bosun.toml").write_text(
        (linked / "bosun.toml").read_text().replace("[project]", '[project]\nbase = "work"')
    )
    git(linked, "commit", "-q", "-am", "the plan on this worktree's branch")

    result = bosun("run", "--headless", cwd=linked)
    assert result.returncode == 0, result.stdout + result.stderr
    assert first_parent_merges(linked) == ["a"]
