"""A gate's sandbox started ahead of time (sandbox/warm.py) runs the next gate only when it is
exactly that gate's sandbox: fresh /tmp and HOME, the folder as it is now, the output in the
gate's own log. A folder made anew in between gets a cold start, never the old folder."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from bosun.orchestration.integration.gate import GateSandbox, run_gate
from bosun.orchestration.sandbox import warm
from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
pytestmark = pytest.mark.skipif(not WORKS, reason=f"no bubblewrap: {WHY}")

GATE = 'cat note.txt; ls -A /tmp "$HOME"; echo left > /tmp/left-by-gate; echo left > "$HOME/left-by-gate"'


def wait_warm(key: tuple) -> warm.Warm:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with warm._lock:
            found = warm._pool.get(key)
        if found is not None:
            return found
        time.sleep(0.02)
    raise AssertionError("no sandbox was started ahead of the next gate")


def test_a_gate_started_ahead_of_time_is_fresh_and_sees_the_folder_as_it_is_now(tmp_path: Path) -> None:
    bosun_dir, folder, repo = tmp_path / ".bosun", tmp_path / ".bosun" / "gate", tmp_path / "repo"
    for path in (bosun_dir / "logs", folder, repo):
        path.mkdir(parents=True, exist_ok=True)
    box = GateSandbox(True, False, repo, bosun_dir)
    key = (bosun_dir, "gate", GATE, str(folder))
    ran: list = []
    try:
        (folder / "note.txt").write_text("first tree\n")
        first = run_gate(GATE, folder, 30, (), bosun_dir / "logs" / "gate.1.log", bosun_dir, ran.append, box)
        assert first.passed and "first tree" in first.output_tail
        ready = wait_warm(key)
        (folder / "note.txt").write_text("second tree\n")  # what the lane's checkout does in place
        second = run_gate(GATE, folder, 30, (), bosun_dir / "logs" / "gate.2.log", bosun_dir, ran.append, box)
        assert ran[1] is ready.child, "the sandbox started ahead of time did not run the gate"
        log = (bosun_dir / "logs" / "gate.2.log").read_text()
        assert second.passed and "second tree" in log and "left-by-gate" not in log, log
        assert not ready.log.exists(), "its waiting log was left behind"

        replaced = wait_warm(key)
        shutil.rmtree(folder)
        folder.mkdir()
        (folder / "note.txt").write_text("a new folder\n")
        third = run_gate(GATE, folder, 30, (), bosun_dir / "logs" / "gate.3.log", bosun_dir, ran.append, box)
        assert ran[2] is not replaced.child, "a sandbox bound to the old folder ran the gate"
        assert third.passed and "a new folder" in third.output_tail, third.output_tail
    finally:
        warm.discard_all(bosun_dir)


def test_a_sandbox_started_ahead_that_nobody_takes_ends_by_itself(tmp_path: Path, monkeypatch) -> None:
    """A session that ends leaves its next gate's sandbox waiting; it must not stay for the life
    of a process that runs many sessions."""
    monkeypatch.setattr(warm, "IDLE_S", 0.5)
    bosun_dir, folder, repo = tmp_path / ".bosun", tmp_path / ".bosun" / "gate", tmp_path / "repo"
    for path in (bosun_dir / "logs", folder, repo):
        path.mkdir(parents=True, exist_ok=True)
    box = GateSandbox(True, False, repo, bosun_dir)
    try:
        assert run_gate("true", folder, 30, (), bosun_dir / "logs" / "gate.1.log", bosun_dir, None, box).passed
        ready = wait_warm((bosun_dir, "gate", "true", str(folder)))
        group = ready.child.limit.path if ready.child.limit else None
        deadline = time.monotonic() + 20
        while (ready.child.proc.poll() is None or group and group.exists()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ready.child.proc.poll() is not None, "the waiting sandbox is still there"
        assert not (group and group.exists()), "its process group was left"
    finally:
        warm.discard_all(bosun_dir)
