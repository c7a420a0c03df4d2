"""The kept TypeScript checker (tscheck.py) on real node and tsc: the script it runs is this user's
own, a slow request neither outlives its budget nor keeps the server, and two servers started at
once leave one answering. Each test has its own temporary folder (tempfile.tempdir), so its
servers are its own; they are ended by pid at the end."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from conftest import tool_missing

from bosun.orchestration.semantic.tscheck import (
    SCRIPT,
    batch_command,
    split,
    typescript_module,
    user_folder,
)

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "node_modules" / ".bin"  # where .ci/run installs TypeScript
OTHER_UID = 65534  # nobody


@pytest.fixture
def tsc() -> str:
    found = shutil.which("tsc", path=f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}")
    if not found or not shutil.which("node") or typescript_module(found) is None:
        tool_missing("node and the npm package typescript are not installed (CI installs them: .ci/run)")
    return found


@pytest.fixture
def tmp(monkeypatch):
    """A short private temporary folder (a socket's path must stay under 108 bytes)."""
    here = Path(tempfile.mkdtemp(prefix="bt-", dir="/tmp"))
    monkeypatch.setattr(tempfile, "tempdir", str(here))
    yield here
    for pid in servers(here):
        os.kill(pid, 9)
    shutil.rmtree(here, ignore_errors=True)


def servers(under: Path) -> list[int]:
    """The live node processes whose command line names a path under `under` (this test's own)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if (
                entry.name.isdigit()
                and str(under) in (entry / "cmdline").read_text()
                and (entry / "stat").read_text().rpartition(")")[2].split()[0] != "Z"
            ):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def until(condition, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def answering(path: Path) -> int | None:
    """The pid a server at `path` says it has, or None when nobody answers there."""
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(10)
            conn.connect(str(path))
            first = conn.makefile().readline()
    except OSError:
        return None
    return int(first.split()[1]) if first.startswith("@@bosun-server ") else None


def tree(at: Path, lines: int = 1) -> Path:
    at.mkdir(parents=True)
    (at / "tsconfig.json").write_text('{"compilerOptions": {"strict": true}}')
    body = [
        f"export function f{i}(a: {{x: number, y: string[]}}, b: Map<string, number>): number "
        f"{{ return a.x + (b.get(a.y[0]) ?? {i}); }}"
        for i in range(lines)
    ]
    (at / "a.ts").write_text("\n".join([*body, 'export const wrong: number = "text";']) + "\n")
    return at


def check(command: str, where: Path, names: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        f"{command} {' '.join(names)}",
        shell=True,
        cwd=where,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        timeout=120,
    )


def test_a_planted_script_is_not_run(tsc: str, tmp: Path) -> None:
    """Someone else's file where the script goes (the old shared name, or the name in this user's
    folder, with other content and, as root, another owner) is replaced, never run."""
    planted = tmp / "planted"
    evil = f'require("fs").writeFileSync({str(planted)!r}, "ran"); console.log("@@bosun-tree t 0");\n'
    digest = hashlib.sha256(SCRIPT.encode()).hexdigest()[:12]
    home = tmp / f"bosun-tscheck-{os.geteuid()}"
    home.mkdir(mode=0o700)
    for path in (tmp / f"bosun-tscheck-{digest}.js", home / f"tscheck-{digest}.js"):
        path.write_text(evil)
        if os.geteuid() == 0:
            os.chown(path, OTHER_UID, OTHER_UID)
    command = batch_command(tsc)
    assert command
    tree(tmp / "trees" / "t")
    run = check(command, tmp / "trees", ["t"], BOSUN_TSCHECK_SERVER="0")
    assert not planted.exists(), "the planted script ran"
    assert "error TS2322" in split(run.stdout, ["t"], run.returncode)["t"][1]
    script = Path(shlex.split(command)[1])
    assert script.parent == home and script.read_text() == SCRIPT and script.stat().st_uid == os.geteuid()


def test_a_folder_that_is_not_ours_alone_is_not_used(tsc: str, tmp: Path) -> None:
    """Whoever may write to the folder could swap the script: then no batch (plain tsc per tree)."""
    home = tmp / f"bosun-tscheck-{os.geteuid()}"
    home.mkdir()
    home.chmod(0o777)
    assert user_folder() is None and batch_command(tsc) is None
    if os.geteuid() == 0:
        home.chmod(0o700)
        os.chown(home, OTHER_UID, OTHER_UID)
        assert user_folder() is None and batch_command(tsc) is None
        os.chown(home, 0, 0)
    home.chmod(0o700)
    assert user_folder() == home and batch_command(tsc)


SILENT = """
import os, socket, sys, time
with socket.socket(socket.AF_UNIX) as listener:
    listener.bind(sys.argv[1])
    listener.listen()
    print("listening", flush=True)
    held = []
    while True:
        conn, _ = listener.accept()
        conn.sendall(f"@@bosun-server {os.getpid()}\\n".encode())
        held.append(conn)  # reads the request and never answers: a stuck server
"""


def test_a_request_past_its_budget_is_checked_by_the_client_and_ends_the_server(tsc: str, tmp: Path) -> None:
    """A server silent past the client's deadline is killed (the client checks on its own), and a
    server whose request runs past its budget exits: either way the report is tsc's and no server
    is left holding the checker. The silent one is a stand-in that never answers, so the client's
    deadline is what ends it however fast this machine checks."""
    command = batch_command(tsc)
    assert command
    trees = tmp / "trees"
    tree(trees / "small")
    tree(trees / "slow", lines=8000)  # seconds of checking: far past a 0.2 s budget
    alone = check(command, trees, ["slow"], BOSUN_TSCHECK_SERVER="0")
    assert "error TS2322" in alone.stdout and alone.returncode == 2

    check(command, trees, ["small"])  # a real server, to learn where the socket goes
    [sock] = user_folder().glob("*.sock")
    real = answering(sock)
    os.kill(real, 9)
    assert until(lambda: real not in servers(tmp))
    sock.unlink()
    silent = subprocess.Popen(["python3", "-c", SILENT, str(sock)], stdout=subprocess.PIPE, text=True)
    try:
        assert silent.stdout.readline() == "listening\n" and answering(sock) == silent.pid
        late = check(command, trees, ["slow"], BOSUN_TSCHECK_BUDGET="0.2")  # this client waits 1.2 s
        assert (late.stdout, late.returncode) == (alone.stdout, alone.returncode)
        assert silent.wait(timeout=30) == -9, "the stuck server was not ended"
    finally:
        if silent.poll() is None:
            silent.kill()
        silent.wait()
    assert answering(sock) is None
    sock.unlink(missing_ok=True)

    over = check(command, trees, ["slow"], BOSUN_TSCHECK_BUDGET="0.2")  # starts a server with 0.2 s
    assert (over.stdout, over.returncode) == (alone.stdout, alone.returncode)
    assert answering(sock) is None
    assert until(lambda: not servers(tmp)), "a server stayed after its request ran past the budget"


def test_two_servers_started_at_once_leave_one_answering(tsc: str, tmp: Path) -> None:
    command = batch_command(tsc)
    assert command
    sock = user_folder() / "race.sock"
    starts = [
        subprocess.Popen([*shlex.split(command), "--serve", str(sock)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    try:
        assert until(lambda: any(p.poll() is not None for p in starts)), "neither server gave way"
        [left] = [p for p in starts if p.poll() is None]
        assert left.stdout.readline() == "listening\n"
        assert answering(sock) == left.pid
    finally:
        for p in starts:
            if p.poll() is None:
                p.kill()
            p.wait()


def test_a_busy_server_refuses_at_once_rather_than_queue(tsc: str, tmp: Path) -> None:
    """While one request runs, another gets an empty answer straight away (its client then checks
    on its own) instead of waiting behind it; the server keeps serving afterwards."""
    command = batch_command(tsc)
    assert command
    trees = tmp / "trees"
    tree(trees / "small")
    tree(trees / "slow", lines=8000)
    check(command, trees, ["small"])
    [sock] = user_folder().glob("*.sock")
    pid = answering(sock)

    def send(name: str) -> socket.socket:
        conn = socket.socket(socket.AF_UNIX)
        conn.settimeout(60)
        conn.connect(str(sock))
        conn.sendall(json.dumps([[name, str(trees / name)]]).encode() + b"\n")
        return conn

    def reply(conn: socket.socket) -> str:
        with conn:
            return conn.makefile().read().partition("\n")[2]

    slow = send("slow")  # held open: a client that leaves would end the request
    try:
        assert until(lambda: reply(send("small")) == ""), "a request waited behind the slow one"
        meanwhile = check(command, trees, ["small"])  # refused too: its client checks on its own
        assert "error TS2322" in meanwhile.stdout and meanwhile.returncode == 2
        assert "@@bosun-tree slow 2" in reply(slow)
    finally:
        slow.close()
    assert "@@bosun-tree small 2" in reply(send("small")) and answering(sock) == pid
