"""Git LFS: with the LFS filter where `git lfs install` puts it (your global config, which Bosun's
git ignores), gate folders and agents' worktrees held each LFS file's pointer, so tests reading an
LFS fixture failed every gate. They hold its content now, from your repository's LFS store; the
pointer stays what is committed, and `bosun doctor` counts content missing from the store."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from conftest import GIT_ID, bosun, first_parent_merges, git, needs_tool

from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
needs_bwrap = needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}")
pytestmark = needs_tool(None if shutil.which("git-lfs") else "git-lfs is not installed (apt-get install git-lfs)")

MODEL = bytes(range(256)) * 40  # 10 KiB that are not text

# The gate: the fixture's content, not its pointer, and a clean `git status` in its checkout.
CHECK = textwrap.dedent("""\
    import hashlib, pathlib, subprocess, sys
    data = pathlib.Path("data/model.bin").read_bytes()
    status = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True).stdout
    if hashlib.sha256(data).hexdigest() != "%s" or status.strip():
        print("FAILED", data[:60], status)
        sys.exit(1)
    print("1 passed")
""")


def _as_lfs_users_have_it(home: Path) -> dict[str, str]:
    """An environment whose global config has the LFS filter, as `git lfs install` leaves it."""
    home.mkdir(exist_ok=True)
    env = {**os.environ, **GIT_ID, "HOME": str(home)}
    subprocess.run(["git", "lfs", "install", "--skip-repo"], env=env, check=True, capture_output=True)
    return env


def _project_with_lfs(project, tmp_path: Path, units, script, **keys) -> Path:
    import hashlib

    check = CHECK % hashlib.sha256(MODEL).hexdigest()
    repo = project(units, script, extra_files={"check.py": check}, **keys)
    env = _as_lfs_users_have_it(tmp_path / "home")
    for args in (["lfs", "track", "*.bin"], ["add", ".gitattributes"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    (repo / "data").mkdir()
    (repo / "data" / "model.bin").write_bytes(MODEL)
    for args in (["add", "data/model.bin"], ["commit", "-q", "-m", "the model, in LFS"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)
    assert git(repo, "show", "HEAD:data/model.bin").startswith("version https://git-lfs.github.com/spec/v1")
    return repo


def _content(repo: Path, ref: str, path: str) -> bytes:
    """What a checkout with LFS gets at `path`: the file, or its pointer's content from the store."""
    blob = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=repo, capture_output=True, check=True).stdout
    if not blob.startswith(b"version https://git-lfs.github.com/spec/v1"):
        return blob
    oid = blob.split(b"oid sha256:")[1][:64].decode()
    stored = repo / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4] / oid
    assert stored.is_file(), f"{path} at {ref} is a pointer whose content is not in the LFS store"
    return stored.read_bytes()


def _agents_have_the_lfs_filter() -> bool:
    """Whether git-lfs runs for unsandboxed agents' git here: the system config has its filter
    (Debian's package puts it there)."""
    found = subprocess.run(["git", "config", "--system", "filter.lfs.clean"], capture_output=True, text=True)
    return found.returncode == 0


# Sandboxed agents get git-lfs's filter from Bosun (their own gitconfig); unsandboxed ones from the
# machine's config, as Debian's package leaves it (your own global config would do too).
system_filter = needs_tool(None if _agents_have_the_lfs_filter() else "git-lfs's filter is not in the system config")


@pytest.mark.parametrize(
    "sandbox", [pytest.param("required", marks=needs_bwrap), pytest.param("off", marks=system_filter)]
)
def test_gates_and_agents_see_lfs_content_and_what_agents_add_is_not_lost(
    project, tmp_path: Path, sandbox: str
) -> None:
    work = "cp data/model.bin seen.dat && cp data/model.bin data/copy.bin && echo edited >> data/model.bin"
    units = [{"id": "a"}, {"id": "b", "depends_on": ["a"]}]
    script = {
        "a": [[{"run": ["sh", "-c", work]}, {"commit": "a"}]],
        "b": [[{"write": "src/b.py", "content": "B = 1\n"}, {"commit": "b"}]],
    }
    repo = _project_with_lfs(project, tmp_path, units, script, sandbox=sandbox, batch=1)
    pointer = git(repo, "rev-parse", "HEAD:data/model.bin")

    result = bosun("run", "--headless", cwd=repo, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert first_parent_merges(repo) == ["a", "b"]  # two gates saw the content and a clean status
    assert _content(repo, "bosun/integration", "seen.dat") == MODEL  # the agent read the content
    # A new file LFS tracks: committed as a pointer by the agent's git-lfs, its content in your store.
    copy = subprocess.run(["git", "show", "bosun/integration:data/copy.bin"], cwd=repo, capture_output=True).stdout
    assert copy.startswith(b"version https://git-lfs")
    assert _content(repo, "bosun/integration", "data/copy.bin") == MODEL
    assert git(repo, "rev-parse", "bosun/integration:data/model.bin") == pointer  # its edit is not committed
    changed = git(repo, "diff", "--name-only", "main", "bosun/integration").split()
    assert sorted(changed) == ["data/copy.bin", "seen.dat", "src/b.py"]


def test_doctor_counts_lfs_content_missing_from_the_store(project, tmp_path: Path) -> None:
    repo = _project_with_lfs(project, tmp_path, [{"id": "a"}], {})
    assert "✓ lfs: 1 LFS file(s) on 'main', each in your LFS store" in bosun("doctor", cwd=repo).stdout
    shutil.rmtree(repo / ".git" / "lfs" / "objects")
    (repo / ".git" / "lfs" / "objects").mkdir()
    result = bosun("doctor", cwd=repo)
    assert result.returncode == 1
    assert f"✗ lfs: 1 LFS file(s) on 'main', 1 not in {repo}/.git/lfs/objects: data/model.bin" in result.stdout


def test_only_content_that_hashes_to_its_name_reaches_your_store(tmp_path: Path) -> None:
    """What an agent's git-lfs stored is moved into your store only where the content is what its
    name says: an agent cannot plant other content under a pointer's hash."""
    import hashlib

    from bosun.orchestration import lfs

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    agents = tmp_path / "agent-store"
    good, bad = b"real content\n", b"planted\n"
    good_oid, bad_oid = hashlib.sha256(good).hexdigest(), hashlib.sha256(b"what the pointer names").hexdigest()
    for oid, data in ((good_oid, good), (bad_oid, bad)):
        (agents / oid[:2] / oid[2:4]).mkdir(parents=True)
        (agents / oid[:2] / oid[2:4] / oid).write_bytes(data)

    lfs.take_in(agents, repo)
    store = repo / ".git" / "lfs" / "objects"
    assert (store / good_oid[:2] / good_oid[2:4] / good_oid).read_bytes() == good
    assert not (store / bad_oid[:2] / bad_oid[2:4] / bad_oid).exists()
    assert not (agents / good_oid[:2] / good_oid[2:4] / good_oid).exists()  # moved, not copied
    assert [p.name for p in store.rglob("*") if p.is_file()] == [good_oid]  # no temporary left


def test_a_link_or_a_pipe_in_an_agent_s_store_is_left_alone(tmp_path: Path) -> None:
    """The agent made its store's folders: one that is a link to your own store must not make
    Bosun delete your objects as "already there", and a pipe named like an object must not hang it."""
    import hashlib

    from bosun.orchestration import lfs

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    data = b"yours\n"
    oid = hashlib.sha256(data).hexdigest()
    yours = repo / ".git" / "lfs" / "objects" / oid[:2] / oid[2:4]
    yours.mkdir(parents=True)
    (yours / oid).write_bytes(data)
    agents = tmp_path / "agent-store"
    (agents / oid[:2]).mkdir(parents=True)
    (agents / oid[:2] / oid[2:4]).symlink_to(yours)  # "already in your store": delete it?
    piped = hashlib.sha256(b"never read").hexdigest()
    (agents / piped[:2] / piped[2:4]).mkdir(parents=True)
    os.mkfifo(agents / piped[:2] / piped[2:4] / piped)

    lfs.take_in(agents, repo)
    assert (yours / oid).read_bytes() == data
    lfs.take_in(yours.parent.parent, repo)  # the store handed as the agent's top, through itself
    assert (yours / oid).read_bytes() == data
    linked_top = tmp_path / "linked"
    linked_top.symlink_to(repo / ".git" / "lfs" / "objects")
    lfs.take_in(linked_top, repo)
    assert (yours / oid).read_bytes() == data


def test_a_merge_into_a_worktree_changes_lfs_files_it_holds_the_content_of(project, tmp_path: Path) -> None:
    """A hand-back merges the integration branch into the unit's worktree: its LFS files hold
    content (skip-worktree), which git would refuse to overwrite. They are pointers again for the
    merge, then filled as the merge left them."""
    from bosun.orchestration.gitcmd import GitRepo
    from bosun.orchestration.worktrees import AgentClone

    repo = _project_with_lfs(project, tmp_path, [{"id": "a"}], {})
    env = _as_lfs_users_have_it(tmp_path / "home")
    clone = AgentClone(GitRepo(repo), repo / ".bosun")
    (repo / ".bosun").mkdir()
    clone.ensure()
    worktree = clone.add_worktree("a", git(repo, "rev-parse", "main"))
    assert (worktree / "data" / "model.bin").read_bytes() == MODEL
    newer = MODEL[::-1]
    (repo / "data" / "model.bin").write_bytes(newer)
    subprocess.run(["git", "commit", "-q", "-am", "a newer model"], cwd=repo, env=env, check=True)

    assert clone.merge_into_worktree("a", git(repo, "rev-parse", "main")) == []
    assert (worktree / "data" / "model.bin").read_bytes() == newer
    assert not clone.has_changes("a")


@needs_bwrap
def test_a_sandboxed_agent_commits_a_repository_s_first_lfs_file(project, tmp_path: Path) -> None:
    """`.gitattributes` hands `*.bin` to LFS but no LFS object exists yet (no store): the agent's
    git-lfs still has a place to store what it adds, and the content reaches your (new) store."""
    script = {"a": [[{"write": "data/first.bin", "content": "the first LFS file\n"}, {"commit": "a"}]]}
    attributes = {".gitattributes": "*.bin filter=lfs diff=lfs merge=lfs -text\n"}
    repo = project([{"id": "a"}], script, extra_files=attributes, sandbox="required")
    assert not (repo / ".git" / "lfs").exists()

    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    blob = subprocess.run(["git", "show", "bosun/integration:data/first.bin"], cwd=repo, capture_output=True).stdout
    assert blob.startswith(b"version https://git-lfs")
    assert _content(repo, "bosun/integration", "data/first.bin") == b"the first LFS file\n"
