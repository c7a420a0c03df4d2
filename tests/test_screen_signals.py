"""The screen told to stop from outside (`bosun reset` from another terminal sends SIGTERM; a closed
terminal, SIGHUP): the real `bosun run` in a pseudo-terminal ends cleanly, gives the terminal back
as it found it (the alternate screen left, mouse reports off) and says why."""

from __future__ import annotations

import contextlib
import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time

import pytest

UNITS = [{"id": "slow"}]
SCRIPT = {"slow": [[{"sleep": 120}]]}


def _read_until(fd: int, done, timeout: float) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while not done(seen) and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the other end closed
                break
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP, "reset"], ids=["SIGTERM", "SIGHUP", "reset"])
def test_a_signal_ends_the_screen_cleanly_and_says_why(project, number):
    """`reset`: the real `bosun reset --yes` from a second terminal (it sends the screen SIGTERM)."""
    repo = project(UNITS, SCRIPT)
    screen, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    run = subprocess.Popen(
        [sys.executable, "-m", "bosun.app.cli.main", "run"],
        cwd=repo,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        start_new_session=True,
        env={**os.environ, "TERM": "xterm-256color"},
    )
    os.close(terminal)
    try:
        shown = _read_until(screen, lambda seen: b"slow" in seen and b"\x1b[?1049h" in seen, 60)
        assert b"\x1b[?1049h" in shown, shown[-2000:]
        reset = None
        if number == "reset":  # it waits for the screen to end: read on meanwhile (a full terminal blocks it)
            command = [sys.executable, "-m", "bosun.app.cli.main", "reset", "--yes"]
            reset = subprocess.Popen(command, cwd=repo, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        else:
            run.send_signal(number)
        ended = b""
        deadline = time.monotonic() + 60
        while run.poll() is None and time.monotonic() < deadline:  # keep reading: a full terminal blocks it
            ended += _read_until(screen, lambda seen: False, 0.5)
        ended += _read_until(screen, lambda seen: False, 1)
        if reset is not None:
            _, err = reset.communicate(timeout=60)
            assert reset.returncode == 0, err
    finally:
        if run.poll() is None:
            run.kill()
        with contextlib.suppress(OSError):
            os.close(screen)
    assert run.returncode == 1, ended[-2000:]
    last_entered = ended.rfind(b"\x1b[?1049h")
    assert ended.rfind(b"\x1b[?1049l") > last_entered, "the alternate screen was left"
    assert ended.rfind(b"\x1b[?1000l") > last_entered, "mouse reports were turned off"
    said = ended.replace(b"\r\n", b" ")
    name = "SIGTERM" if number == "reset" else signal.Signals(number).name
    assert f"stopped by {name}".encode() in said
    if number == "reset":  # the session is gone: resuming it is not offered
        assert b"the session was reset" in said and b"bosun resume" not in said, said[-1500:]


async def test_a_second_cancel_does_not_cut_the_supervisors_stop_short():
    """Textual cancels the supervisor's worker on exit, and the app's unmount may cancel it again:
    the stop (kill the agents, close the backend) still runs to its end, then the cancel is raised."""
    import asyncio

    from bosun.orchestration.supervisor.loop import to_the_end

    steps: list[str] = []

    async def stop() -> None:
        steps.append("agents killed")
        await asyncio.sleep(0)  # a cancel arriving here used to abandon the rest
        await asyncio.sleep(0.05)
        steps.append("backend closed")

    async def supervisor() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await to_the_end(stop())

    task = asyncio.create_task(supervisor())
    await asyncio.sleep(0)
    task.cancel()
    await asyncio.sleep(0.01)
    task.cancel()  # the second cancel, mid-stop
    with pytest.raises(asyncio.CancelledError):
        await task
    assert steps == ["agents killed", "backend closed"]
