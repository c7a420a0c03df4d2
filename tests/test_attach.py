"""`bosun attach`: screens that are clients of a session a headless supervisor runs in another
process (real `bosun run --headless --wait`, real git, real scripted agents), driven by the pilot."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from conftest import BackgroundRun, bosun, first_parent_merges, write_unit
from harness import DrivenApp
from screen_kit import SIZE

from bosun.app.tui.attached import AttachedApp
from bosun.app.tui.dialogs import ApproveDialog
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import open_session
from bosun.widgets.graph_view import GraphView

UNITS = [{"id": "greeting", "title": "Say hello"}, {"id": "farewell", "title": "Say goodbye", "agent": "bob"}]
SCRIPT = {
    "greeting": [write_unit("src/greet.py", "def hello():\n    return 'hello'\n")],
    "farewell": [write_unit("src/bye.py", "def bye():\n    return 'bye'\n")],
}


class DrivenAttached(AttachedApp, DrivenApp):
    """The attached app with the harness's waits (a repaint, a state in the store, a dialog)."""


def attach(repo) -> DrivenAttached:
    """What `bosun attach` does, in this thread: the session's store belongs to the thread that opens it."""
    return DrivenAttached(open_session(GitRepo(repo)))


def landing_first(repo) -> tuple[str, str]:
    """The two units as they can land: the one whose candidate sits on the integration head, then
    the one stacked on it (the agents race, so either can be first)."""
    session = open_session(GitRepo(repo))
    try:
        head = session.integration_head()
        rows = [u for u in session.store.units() if u.state == "awaiting_approval"]
    finally:
        session.close()
    first = next(u.id for u in rows if u.candidate_parent == head)
    return first, next(u.id for u in rows if u.id != first)


@pytest.fixture
def supervised(project):
    """A headless supervisor in its own process, both units gated and waiting for approval."""
    repo = project(UNITS, SCRIPT, merge="manual")
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    run.wait_for("awaiting_approval", "greeting")
    run.wait_for("awaiting_approval", "farewell")
    yield repo, run
    if run.proc.poll() is None:
        run.proc.terminate()
        run.proc.wait(timeout=30)


async def test_two_screens_see_each_others_decisions_and_detaching_changes_nothing(supervised):
    repo, run = supervised
    first, second = attach(repo), attach(repo)
    async with first.run_test(size=SIZE) as pilot, second.run_test(size=SIZE) as other:
        assert first.orchestrator is None and second.orchestrator is None, "no supervisor of their own"
        assert f"pid {run.proc.pid}" in first.title and f"pid {run.proc.pid}" in second.title
        await first.caught_up()
        lands, then = landing_first(repo)  # stacked on the first: it lands once that one is decided
        first.query_one(GraphView).selected = lands

        await pilot.press("a")
        await first.dialog(ApproveDialog)
        await pilot.press("a")
        # the supervisor in the other process applies it, and the other screen shows it
        await second.state(lands, "merged")
        assert second.query_one(GraphView).looks[lands].state == "merged"
        assert "1/2 merged" in second.query_one(GraphView).border_title
        assert first_parent_merges(repo) == [lands]

        await pilot.press("q")  # detach
        await pilot.pause()
        assert first.return_value == 0 and not first.is_running
        assert run.proc.poll() is None, "detaching stopped the supervisor"
        assert second.unit(then).state == "awaiting_approval"

        second.query_one(GraphView).selected = then
        await other.press("a")
        await second.dialog(ApproveDialog)
        await other.press("a")
        await second.state(then, "merged")
    assert run.finish() == 0, "the supervisor ended the finished session by itself"
    assert first_parent_merges(repo) == [lands, then]


async def test_without_a_supervisor_the_screen_says_so_and_queues_for_resume(project):
    repo = project(UNITS, SCRIPT, merge="manual")
    run = BackgroundRun(repo, "run", "--headless", "--json")  # without --wait it stops at the approvals
    run.wait_for("awaiting_approval", "greeting")
    run.wait_for("awaiting_approval", "farewell")
    assert run.finish() == 1
    lands, _ = landing_first(repo)
    app = attach(repo)
    async with app.run_test(size=SIZE) as pilot:
        assert "no supervisor runs" in app.title and "bosun resume" in app.title
        assert any("queued until `bosun resume`" in n.message for n in app._notifications)
        await app.caught_up()
        app.query_one(GraphView).selected = lands
        await pilot.press("a")
        await app.dialog(ApproveDialog)
        await pilot.press("a")
        await app.back_on_main()
        assert [(c.kind, c.unit) for c in app.session.store.pending_commands()] == [("approve", lands)]
        await pilot.press("q")
    assert app.return_value == 0
    resumed = bosun("resume", "--headless", cwd=repo)
    assert lands in resumed.stdout and first_parent_merges(repo) == [lands]


def test_attach_refuses_without_a_session_or_a_terminal(project):
    repo = project(UNITS, SCRIPT, merge="manual")
    nothing = bosun("attach", cwd=repo)
    assert nothing.returncode == 2 and len(nothing.stderr.splitlines()) == 1
    assert "no Bosun session here" in nothing.stderr
    assert bosun("run", "--headless", cwd=repo).returncode == 1  # a session, stopped at the approvals
    piped = bosun("attach", cwd=repo)
    assert piped.returncode == 2 and piped.stderr.strip() == (
        "bosun attach: the screen needs a terminal; `bosun status` prints the session instead"
    )


def test_bosun_attach_in_a_terminal_shows_the_session_and_q_only_detaches(supervised):
    """The real command in a pseudo-terminal, as a user starts it."""
    repo, run = supervised
    screen, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    attached = subprocess.Popen(
        [sys.executable, "-m", "bosun.app.cli.main", "attach"],
        cwd=repo,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    os.close(terminal)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while not (b"greeting" in seen and b"attached to the supervisor" in seen) and time.monotonic() < deadline:
            if select.select([screen], [], [], 1)[0]:
                seen += os.read(screen, 65536)
        assert b"greeting" in seen and f"(pid {run.proc.pid})".encode() in seen, seen[-2000:]
        os.write(screen, b"q")
        deadline = time.monotonic() + 30
        while attached.poll() is None and time.monotonic() < deadline:  # keep reading: a full terminal blocks it
            if select.select([screen], [], [], 0.2)[0]:
                with contextlib.suppress(OSError):
                    os.read(screen, 65536)
        assert attached.poll() == 0
    finally:
        if attached.poll() is None:
            attached.kill()
        os.close(screen)
    assert run.proc.poll() is None, "detaching stopped the supervisor"
    lands, _ = landing_first(repo)
    assert bosun("approve", lands, cwd=repo).returncode == 0  # and it still applies decisions
    run.wait_for("merged", lands)
