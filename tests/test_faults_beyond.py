"""Faults beyond crashes (issue 16): a full disk under `.bosun/`, the store busy under sixteen
concurrent commands, a stale git lock. Each ends in one clear line and nothing half-written."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import AWAIT_GO, BackgroundRun, bosun, release, tool_missing, write_unit


def test_sixteen_concurrent_commands_against_a_busy_store_all_answer(project):
    repo = project(
        [{"id": f"u{i}"} for i in range(4)],
        {f"u{i}": [[AWAIT_GO] + write_unit(f"src/u{i}.py", "X = 1\n")] for i in range(4)},
        merge="manual",
    )
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    for _ in range(2):
        run.wait_for("running")
    commands = [["status", "--json"]] * 12 + [
        ["approve", "u0"],
        ["handback", "u1"],
        ["board", "--json"],
        ["graph", "--format", "json"],
    ]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bosun.app.cli.main", *args],
            cwd=repo,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for args in commands
    ]
    results = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    for (code, out, err), args in zip(results, commands):
        assert "Traceback" not in err and "locked" not in err, (args, err)
        if args[0] in ("status", "board", "graph"):
            assert code == 0 and json.loads(out), (args, err)
        else:  # u0 and u1 are running: the refusal is one line, exit 2
            assert code == 2 and len(err.strip().splitlines()) == 1, (args, err)
    for unit in ("u0", "u1"):  # the two at work (max_agents = 2)
        release(repo, unit)
    run.wait_for("awaiting_approval")
    run.proc.terminate()
    run.finish()


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB file system mounted where `.bosun/` goes (root only; skipped elsewhere)."""
    mount = tmp_path / "repo" / ".bosun"
    mount.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        tool_missing(f"cannot mount a small tmpfs here (it takes root): {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_full_disk_under_bosun_is_one_line_and_exit_2(project, small_disk):
    filler = small_disk / "filler"
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n" * 2000)]})
    with open(filler, "wb") as out:  # leave the store almost no room
        try:
            out.write(b"\0" * (256 * 1024))
        except OSError:
            pass
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and ("disk" in lines[0] or "space" in lines[0]), lines
    assert "Traceback" not in result.stderr


def test_a_stale_git_lock_is_one_line_naming_it(project):
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    lock = repo / ".git" / "refs" / "heads" / "main.lock"
    lock.write_text("")
    result = bosun("land", cwd=repo)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "lock" in result.stderr, result.stderr
    os.unlink(lock)
    assert bosun("land", cwd=repo).returncode == 0
