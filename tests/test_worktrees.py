"""Removing a unit's worktree is instant for the caller and can never take a newer one with it."""

from __future__ import annotations

import threading
from pathlib import Path

from conftest import git

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.worktrees import AgentClone


def test_a_removed_worktree_is_gone_at_once_and_a_new_one_survives_the_cleanup(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "big").mkdir()
    for n in range(300):
        (repo / "big" / f"f{n}.txt").write_text("x\n" * 50)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "many files")
    clone = AgentClone(GitRepo(repo), tmp_path / ".bosun")
    clone.ensure()
    head = git(repo, "rev-parse", "HEAD")
    first = clone.add_worktree("u", head)
    (first / "scratch.txt").write_text("from the first attempt")
    clone.remove_worktree("u")
    assert not first.exists(), "gone for the caller at once"
    second = clone.add_worktree("u", head)
    for thread in threading.enumerate():
        if thread.name == "bosun trash":
            thread.join(timeout=30)
    assert (second / "big" / "f299.txt").exists() and not (second / "scratch.txt").exists()
    assert not clone.has_changes("u"), "the new worktree is intact and still linked to the clone"
    assert not any((tmp_path / ".bosun" / "trash").iterdir())


def test_only_awell_formed_commit_takes_absorb_s_fast_path(tmp_path):
    """absorb moves a branch without git only to what update-ref would accept: a bogus commit
    written with `hash-object --literally` (header and tree unchecked) goes the slow way."""
    import subprocess
    import zlib

    from bosun.orchestration.loose_objects import well_formed_commit

    repo = tmp_path / "r"
    repo.mkdir()
    run = lambda *a, **k: subprocess.run(["git", *a], cwd=repo, capture_output=True, text=True, check=True, **k)  # noqa: E731
    run("init", "-q")
    run("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "real")
    real = run("rev-parse", "HEAD").stdout.strip()
    bogus = run("hash-object", "-t", "commit", "--literally", "-w", "--stdin", input="not a commit\n").stdout.strip()

    def body(oid: str) -> bytes:
        return zlib.decompress((repo / ".git" / "objects" / oid[:2] / oid[2:]).read_bytes())

    assert well_formed_commit(body(real))
    assert not well_formed_commit(body(bogus))


def test_a_bomb_among_an_agents_objects_is_left_behind_and_real_objects_are_taken(tmp_path, monkeypatch):
    """An object that inflates far beyond what is allowed (a few MB of zeros compressed) is never
    inflated whole: it is left behind, within the budget, while the agent's real objects (a
    commit, a large blob) are taken in."""
    import hashlib
    import resource
    import zlib

    from bosun.orchestration import loose_objects

    source, target = tmp_path / "agent-objects", tmp_path / "clone-objects"
    target.mkdir()

    def loose(raw: bytes, name: str | None = None) -> str:
        oid = name or hashlib.sha1(raw).hexdigest()
        (source / oid[:2]).mkdir(parents=True, exist_ok=True)
        (source / oid[:2] / oid[2:]).write_bytes(zlib.compress(raw, 9))
        return oid

    blob = b"x" * (3 << 20)
    big = loose(b"blob %d\0" % len(blob) + blob)
    commit_body = b"tree 4b825dc642cb6eb9a060ae85bedc72c2539069e0\nauthor a <a> 0 +0000\ncommitter a <a> 0 +0000\n\nm\n"
    commit = loose(b"commit %d\0" % len(commit_body) + commit_body)
    monkeypatch.setattr(loose_objects, "OBJECT_MAX", 64 << 20)  # the same rule, at a size a test can afford
    size, zeros = 200 << 20, bytes(1 << 20)  # 200 MB of zeros, ~200 KB stored, named by their true hash
    digest, squeeze = hashlib.sha1(b"blob %d\0" % size), zlib.compressobj(9)
    stored = [squeeze.compress(b"blob %d\0" % size)]
    for _ in range(size >> 20):
        digest.update(zeros)
        stored.append(squeeze.compress(zeros))
    bomb = digest.hexdigest()
    (source / bomb[:2]).mkdir(exist_ok=True)
    (source / bomb[:2] / bomb[2:]).write_bytes(b"".join(stored) + squeeze.flush())
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert loose_objects.take_in(source, target) == {commit}
    assert (target / big[:2] / big[2:]).is_file() and (target / commit[:2] / commit[2:]).is_file()
    assert not (target / bomb[:2] / bomb[2:]).exists()
    grew_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grew_kb < 64 << 10, f"the take-in's peak memory grew by {grew_kb} KB"


def test_what_a_gate_left_read_only_is_removed_by_a_user_who_is_not_root(tmp_path):
    """Go's module cache and a test's `chmod -R a-w` leave folders nobody but root may delete from:
    Bosun, run by an ordinary user, must still clear the gate folder (else the next checkout finds
    it in the way) and the trash. Run as an unprivileged user here (root deletes anything)."""
    import os
    import tempfile

    from bosun.orchestration.safe_files import remove_tree

    pid = os.fork()
    if pid == 0:  # the child: an ordinary user where the tests run as root
        code = 1
        try:
            if os.geteuid() == 0:
                os.setgroups([])
                os.setgid(65534)
                os.setuid(65534)
            gate = Path(tempfile.mkdtemp()) / "gate"
            mod = gate / "pkg" / "mod" / "example.com" / "lib@v1.0.0"
            mod.mkdir(parents=True)
            (mod / "lib.go").write_text("package lib\n")
            (mod / "locked").mkdir()
            (mod / "locked" / "inside").write_text("x")
            (mod / "locked").chmod(0)  # not even readable: its files are found once it is opened
            (gate / "pkg" / "outside").symlink_to(tmp_path)  # a link inside: removed, never followed
            for folder in (mod, mod.parent, mod.parent.parent, gate / "pkg"):
                folder.chmod(0o555)
            remove_tree(gate)
            code = 0 if not gate.exists() else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert tmp_path.is_dir()


def test_a_late_removal_leaves_the_worktree_a_later_claim_made_in_its_place(tmp_path):
    """A release commits, then removes the worktree; between the two another process may claim the
    unit and cut a new one at the same path. The late removal names the folder it gave up."""
    from bosun.orchestration.safe_files import identity

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "start")
    clone = AgentClone(GitRepo(repo), tmp_path / ".bosun")
    clone.ensure()
    head = git(repo, "rev-parse", "HEAD")
    given_up = identity(clone.add_worktree("u", head))
    clone.remove_worktree("u")  # as the next claim's fresh cut does with what is in its way
    fresh = clone.add_worktree("u", head)
    clone.remove_worktree("u", only=given_up)
    assert fresh.is_dir() and not clone.has_changes("u"), "the later claim's worktree survived"
    clone.remove_worktree("u", only=identity(fresh))
    assert not fresh.exists()
