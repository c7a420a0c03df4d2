"""The Ray backend on a real local cluster (a head with no CPUs and two workers on 127.0.0.1,
started once for the module and stopped after): units run on the workers, code travels through
the hub, gates run as Ray tasks, and a worker lost mid-unit is survived."""

from __future__ import annotations

import faulthandler
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import AWAIT_GO, BackgroundRun, bosun, first_parent_merges, git, import_tool, tool_missing, write_unit

ray = import_tool("ray", "the Ray backend's tests need Ray: pip install 'bosun[ray]'")

from ray_cluster import GitDaemon, alive, free_port, start_cluster  # noqa: E402

from bosun.orchestration.backends.node import node_root  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two workers that share no files with the supervisor: the tests' folders (every repository and
    its `.bosun/`) do not exist on them."""
    try:
        started = start_cluster({"w1": 2, "w2": 2}, hide=(tmp_path_factory.getbasetemp(),))
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", None) or getattr(exc, "output", None) or b""
        tool_missing(f"a local Ray cluster cannot start here: {exc} {detail[-500:]!r}")
    yield started
    started.stop()
    assert not started.own_pids(), "a process of the test's Ray cluster outlived it"


@pytest.fixture
def hub(tmp_path):
    """The hub as the nodes reach it: over `git daemon` on 127.0.0.1 (the repository is tmp_path/repo)."""
    daemon = GitDaemon(tmp_path)
    yield daemon.url("repo/.bosun/hub.git")
    daemon.stop()


def ray_plan(cluster, hub: str, **project) -> dict:
    return {"backend": "ray", "ray_address": cluster.address, "ray_hub": hub, **project}


NAP = 3000 + os.getpid() % 5000
"""A sleep no other process on the machine has: a gate's processes are found by it."""
TEAM = {
    "ada": {"kind": "scripted", "script": "team.toml", "resources": {"bosun_worker": 1}},
    "bob": {"kind": "scripted", "script": "team.toml", "resources": {"bosun_worker": 1}},
}


def three_units(project, cluster, hub, agents: dict = TEAM) -> Path:
    """alpha and beta side by side, gamma after alpha: work for both workers and one dependency."""
    return project(
        [{"id": "alpha"}, {"id": "beta"}, {"id": "gamma", "depends_on": ["alpha"]}],
        {
            "alpha": [write_unit("src/alpha.py", "A = 1\n")],
            "beta": [write_unit("src/beta.py", "B = 2\n")],
            "gamma": [write_unit("src/gamma.py", "from src.alpha import A\n")],
        },
        agents=agents,
        **ray_plan(cluster, hub),
    )


def run_events(repo: Path, timeout: float = 180) -> tuple[int, list[dict], str]:
    run = BackgroundRun(repo, "run", "--headless", "--json")
    code = run.proc.wait(timeout=timeout)
    return code, run.all_events(), run.proc.stderr.read()


def test_no_cluster_at_the_address_is_one_line_at_once(project):
    repo = project(
        [{"id": "alone"}],
        {"alone": [write_unit("src/alone.py", "A = 1\n")]},
        agents=TEAM,
        backend="ray",
        ray_address=f"127.0.0.1:{free_port()}",
    )
    started = time.monotonic()
    result = bosun("run", "--headless", "--json", cwd=repo, timeout=60)
    assert result.returncode == 2 and time.monotonic() - started < 30
    assert result.stderr.strip().startswith('bosun: backend = "ray": no Ray cluster answers at ray_address')
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_units_run_on_workers_and_merge_through_the_gate(project, cluster, hub):
    repo = three_units(project, cluster, hub)
    # The nodes share no files with the supervisor: the repository does not exist where they run.
    for node_id in cluster.workers.values():
        assert (repo / "bosun.toml").exists() and not Path(f"/proc/{cluster.raylet_of(node_id)}/root{repo}").exists()
    code, events, stderr = run_events(repo)
    assert code == 0, (stderr[-2000:], [(e["kind"], e["unit"]) for e in events])
    assert sorted(first_parent_merges(repo)) == ["alpha", "beta", "gamma"]
    running = [e for e in events if e["kind"] == "running"]
    workers = set(cluster.workers.values())
    assert {e["unit"] for e in running} == {"alpha", "beta", "gamma"}
    assert all(e["node_id"] in workers and e["pid"] is None for e in running), running
    # The screen's Node column (status --json's agents) says where each agent ran.
    shown = {a["name"]: a["node"] for a in json.loads(bosun("status", "--json", cwd=repo).stdout)["agents"]}
    ran_on = {e["agent"]: e["node_id"][:8] for e in running}
    assert {name: (node or "").split()[-1:] for name, node in shown.items() if name in ran_on} == {
        name: [node_id] for name, node_id in ran_on.items()
    }, (shown, ran_on)
    # Code came back through the hub, one ref per attempt, and nothing else reached the user's repository.
    hub_refs = git(repo / ".bosun" / "hub.git", "for-each-ref", "--format=%(refname)", "refs/bosun/attempts")
    for unit in ("alpha", "beta", "gamma"):
        pushed = git(repo / ".bosun" / "hub.git", "rev-parse", f"refs/bosun/attempts/{unit}/1")
        assert f"refs/bosun/attempts/{unit}/1" in hub_refs
        assert git(repo, "rev-parse", f"refs/bosun/units/{unit}") == pushed
    # Each gate ran as a Ray task on a worker, on exactly the candidate's tree (a run the queue
    # stopped to take in what stacked behind it says so, and the run after it covers its units).
    texts = [log.read_text() for log in sorted((repo / ".bosun" / "logs").glob("gate.*.log"))]
    finished = [text for text in texts if not text.startswith("bosun: the gate was stopped")]
    assert 1 <= len(finished) <= 3, texts
    for text in finished:
        assert "1 passed" in text and "bosun: the gate ran on node" in text, text
        assert text.rsplit("bosun: the gate ran on node ", 1)[1].split()[0] in workers
    assert git(repo, "show", "bosun/integration:src/gamma.py") == "from src.alpha import A"
    # The nodes forgot the session: no worktree, log or gate cache of it is left in their folder.
    key = hashlib.sha1(str((repo / ".bosun").resolve()).encode()).hexdigest()[:12]
    assert not (node_root() / key).exists()


def test_agents_that_take_every_cpu_leave_them_to_the_gates_between_attempts(project, cluster, hub):
    """Each agent asks for a whole worker's CPUs and every gate for one: an agent's actor that
    outlived its attempt would hold its CPUs while idle, and no gate could ever start (found in a
    terminal: four agents on a two-CPU cluster, every unit `gating` for good)."""
    whole_worker = {"kind": "scripted", "script": "team.toml", "resources": {"CPU": 2, "bosun_worker": 1}}
    repo = three_units(project, cluster, hub, agents={"ada": whole_worker, "bob": whole_worker})
    code, events, stderr = run_events(repo, timeout=120)
    assert code == 0, (stderr[-2000:], [(e["kind"], e["unit"]) for e in events])
    assert sorted(first_parent_merges(repo)) == ["alpha", "beta", "gamma"]


def test_a_failing_gate_on_the_cluster_hands_the_unit_back(project, cluster, hub):
    repo = project(
        [{"id": "flaky"}],
        {"flaky": [write_unit("src/flaky.py", "BROKEN = 1\n"), write_unit("src/flaky.py", "FIXED = 1\n")]},
        agents=TEAM,
        **ray_plan(cluster, hub),
    )
    code, events, stderr = run_events(repo)
    assert code == 0, stderr[-2000:]
    kinds = [(e["kind"], e["unit"]) for e in events]
    assert ("gate_failed", "flaky") in kinds and ("merged", "flaky") in kinds, kinds
    assert git(repo, "show", "bosun/integration:src/flaky.py") == "FIXED = 1"


def forget_node_folder(repo: Path) -> None:
    """A lost node (or a supervisor ended by a signal) cannot make the nodes forget the session; on
    this one machine its folder is removed here."""
    shutil.rmtree(
        node_root() / hashlib.sha1(str((repo / ".bosun").resolve()).encode()).hexdigest()[:12], ignore_errors=True
    )


def _processes_in(folder: str) -> list[int]:
    """Processes whose working folder is `folder` or below it (the agent and what it started)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cwd = (entry / "cwd").resolve()
            except OSError:
                continue
            if str(cwd) == folder or str(cwd).startswith(folder + "/"):
                found.append(int(entry.name))
    return found


def _wait_until(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


def test_cancel_and_gate_timeout_kill_the_whole_process_tree_on_the_node(project, cluster, hub):
    """Ray's cancel only sets a flag: a cancelled agent and a gate past its timeout are killed,
    with everything they started, on their node."""
    repo = project(
        [{"id": "held"}, {"id": "slowgate"}],
        {
            "held": [[{"write": "src/held.py", "content": "H = 1\n"}, AWAIT_GO]],
            "slowgate": [write_unit("src/slowgate.py", "S = 1\n")],
        },
        agents=TEAM,
        extra_files={"gate.sh": f"if [ -f src/slowgate.py ]; then sleep {NAP} & sleep {NAP}; fi\npython check.py\n"},
        gate="sh gate.sh",
        gate_timeout="4s",
        handback="manual",
        **ray_plan(cluster, hub),
    )
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    held = run.wait_for("running", "held", timeout=120)
    agent_pids = _wait_until(lambda: _processes_in(held["node_worktree"]), 30, "the held agent runs")
    gate_pids = _wait_until(lambda: _processes_named(f"sleep {NAP}"), 60, "the slow gate runs")
    failed = run.wait_for("gate_failed", "slowgate", timeout=120)
    assert "timed out after 4s" in failed["gate"]["cause"], failed
    _wait_until(lambda: not any(alive(p) for p in gate_pids), 30, "the timed-out gate's processes are gone")
    assert (
        subprocess.run(
            [sys.executable, "-m", "bosun.app.cli.main", "cancel", "held"], cwd=repo, capture_output=True
        ).returncode
        == 0
    )
    run.wait_for("cancelled", "held", timeout=60)
    _wait_until(lambda: not any(alive(p) for p in agent_pids), 30, "the cancelled agent's processes are gone")
    run.proc.terminate()
    run.finish(timeout=60)
    forget_node_folder(repo)


def _ancestors(pid: int) -> list[int]:
    found = []
    while pid > 1:
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        found.append(pid)
    return found


def test_a_gate_whose_worker_is_lost_runs_again_on_another(project, cluster, hub, tmp_path):
    """The gate is a Ray task with retries: its node killed mid-run, it runs again elsewhere and
    the unit merges; nothing of the first run is left. A fresh worker takes the lost one's place."""
    # The gate script counts its runs in a folder both nodes see (the test's own channel, outside
    # the folders the nodes cannot see); Bosun itself shares nothing with them.
    marks = Path(tempfile.mkdtemp(prefix="bosun-gate-runs-"))
    repo = project(
        [{"id": "regated"}],
        {"regated": [write_unit("src/regated.py", "R = 1\n")]},
        agents=TEAM,
        extra_files={
            "gate.sh": f"touch {marks}/$$\n[ $(ls {marks} | wc -l) -gt 1 ] || sleep {NAP + 1}\npython check.py\n"
        },
        gate="sh gate.sh",
        sandbox="off",
        **ray_plan(cluster, hub),
    )
    run = BackgroundRun(repo, "run", "--headless", "--json")
    first = int(_wait_until(lambda: sorted(marks.iterdir()), 120, "the gate runs")[0].name)
    sleepers = _wait_until(lambda: _processes_named(f"sleep {NAP + 1}"), 30, "the gate sleeps")
    raylets = {cluster.raylet_of(n): n for n in cluster.workers.values()}
    lost = next(raylets[p] for p in _ancestors(first) if p in raylets)
    cluster.kill_node(lost)
    assert run.finish(timeout=180) == 0, run.proc.stderr.read()[-2000:]
    assert first_parent_merges(repo) == ["regated"]
    assert len(list(marks.iterdir())) == 2
    log = next((repo / ".bosun" / "logs").glob("gate.regated.*.log")).read_text()
    assert "1 passed" in log and lost not in log
    _wait_until(lambda: not any(alive(p) for p in sleepers), 30, "the lost gate's processes are gone")
    cluster.workers.pop(next(k for k, v in cluster.workers.items() if v == lost))
    cluster.start_worker("w3")
    forget_node_folder(repo)
    shutil.rmtree(marks)


def _processes_named(command: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
            if line == command:
                found.append(int(entry.name))
    return found


HOSTILE = """
G=$(git rev-parse --git-dir)
git config protocol.ext.allow always
git config "url.ext::sh -c touch% MARKS/ext% #.insteadOf" HUB
echo one > one.txt && git add one.txt && git commit -qm one
sleep 4
P=$(git rev-parse HEAD^)
D=$PWD/.planted
mkdir -p "$D" && cp -r "$G/." "$D/"
git config --file "$D/config" protocol.ext.allow always
git config --file "$D/config" "url.ext::sh -c touch% MARKS/commondir% #.insteadOf" HUB
git config --file "$D/config" filter.evil.clean "sh -c 'touch MARKS/filter; cat'"
git config filter.evil.clean "sh -c 'touch MARKS/filter; cat'"
echo "$D" > "$G/commondir"
echo "$P" > "$G/refs/heads/bosun/unit/evil"
echo '* filter=evil' > .gitattributes
echo two > two.txt
sleep 2
"""


def test_a_hostile_agent_on_a_node_runs_nothing_outside_its_sandbox(project, cluster, hub, tmp_path):
    """An agent that writes git config a node's git would read (an `ext::` transport for the hub's
    address, a `commondir` to a git folder of its own, a clean filter for the autocommit) starts
    no command outside its sandbox: the node never runs git with anything the agent could write.
    Its commit still reaches the hub. (Its script, a file the plan names, is shipped to the node.)"""
    # Where an escape would leave its marks: a folder the node sees (the nodes cannot see tmp_path).
    marks = Path(tempfile.mkdtemp(prefix="bosun-marks-"))
    hub_dir = tmp_path / "repo" / ".bosun" / "hub.git"
    script = tmp_path / "hostile.sh"  # named by absolute path: shipped to the node, readable in its box
    script.write_text(HOSTILE.replace("MARKS", str(marks)).replace("HUB", hub))
    agents = {
        "evil": {
            "kind": "command",
            "command": ["sh", str(script)],
            "resources": {"bosun_worker": 1},
            "autocommit": True,
        }
    }
    repo = project([{"id": "evil"}], {}, agents=agents, handback="manual", sandbox="required", **ray_plan(cluster, hub))
    code, events, stderr = run_events(repo)
    assert any(e["kind"] == "running" and e["unit"] == "evil" for e in events), (code, stderr[-2000:])
    assert sorted(p.name for p in marks.iterdir()) == [], [(e["kind"], e["unit"]) for e in events]
    pushed = git(hub_dir, "rev-parse", "refs/bosun/attempts/evil/1")
    assert git(hub_dir, "show", f"{pushed}:one.txt") == "one"
    forget_node_folder(repo)
    shutil.rmtree(marks)


@pytest.fixture
def as_in_bosun_run(request):
    """This process as `bosun run` has it: `faulthandler` off. pytest turns it on for its own process,
    and Ray's driver turns it on (on `sys.stderr`) only when it is off; under the screen that is
    Textual's capture, with no file descriptor. Afterwards it is as pytest had it."""
    from _pytest.faulthandler import fault_handler_stderr_fd_key

    faulthandler.disable()
    yield
    assert not faulthandler.is_enabled(), "Bosun leaves faulthandler as it found it when its backend closes"
    if fault_handler_stderr_fd_key in request.config.stash:
        faulthandler.enable(file=request.config.stash[fault_handler_stderr_fd_key])


async def test_the_screen_runs_units_on_the_cluster(project, cluster, hub, as_in_bosun_run):
    """`bosun run` with the screen (issue 32): the supervisor is the screen's worker, Ray's driver
    starts in one of its threads while Textual holds `sys.stderr`, and units run on the workers and
    merge; the agents table shows where. (Before, `ray.init` failed there and not one unit started.)"""
    from screen_kit import SIZE, open_app

    from bosun.widgets.agents_table import AgentsTable

    repo = three_units(project, cluster, hub)
    app = open_app(repo, speed=1)
    store = app.session.store
    async with app.run_test(size=SIZE):
        worker = app.supervisor_worker
        done = lambda: worker.is_finished or all(u.state == "merged" for u in store.units())  # noqa: E731
        await app.until(done, "every unit merged (or the supervisor stopped)", timeout=180)
        assert worker.error is None and not worker.is_finished, worker.error
        running = [e for e in store.events() if e.kind == "running"]
        assert {e.unit for e in running} == {"alpha", "beta", "gamma"}
        assert {e.data["node_id"] for e in running} <= set(cluster.workers.values()), running
        # The agents table's Node column says where each agent ran.
        nodes = {name: str(cells[1]).split()[-1:] for name, cells in app.query_one(AgentsTable)._shown.items()}
        assert {e.data["agent"]: [e.data["node_id"][:8]] for e in running} == nodes, nodes
    assert sorted(first_parent_merges(repo)) == ["alpha", "beta", "gamma"]
    forget_node_folder(repo)


def test_a_worker_killed_mid_unit_loses_no_committed_work(project, cluster, hub):
    """Runs last: it takes one of the two workers away for good."""
    repo = project(
        [{"id": "first"}, {"id": "slow", "depends_on": ["first"]}],
        {
            "first": [write_unit("src/first.py", "F = 1\n")],
            "slow": [[*write_unit("src/slow.py", "PART = 1\n"), AWAIT_GO], write_unit("src/slow.py", "DONE = 2\n")],
        },
        agents=TEAM,
        **ray_plan(cluster, hub),
    )
    run = BackgroundRun(repo, "run", "--headless", "--json")
    run.wait_for("merged", "first", timeout=120)
    started = run.wait_for("running", "slow", timeout=120)
    hub = repo / ".bosun" / "hub.git"
    # The agent's commit reaches the hub while it still runs (it is then held at its await).
    pushed = _wait_until(
        lambda: subprocess.run(
            ["git", "rev-parse", "-q", "--verify", "refs/bosun/attempts/slow/1"],
            cwd=hub,
            capture_output=True,
            text=True,
        ).stdout.strip(),
        60,
        "the running attempt's commit is in the hub",
    )
    agent_pids = _processes_in(started["node_worktree"])
    assert agent_pids, "the agent should be running in its node's worktree"
    cluster.kill_node(started["node_id"])
    lost = run.wait_for("node_lost", "slow", timeout=120)
    assert lost["node"]
    # Nothing the lost node started is left running.
    _wait_until(lambda: not any(alive(p) for p in agent_pids), 30, "the lost node's agent processes are gone")
    assert run.finish(timeout=180) == 0, run.proc.stderr.read()[-2000:]
    events = run.all_events()
    again = [e for e in events if e["kind"] == "running" and e["unit"] == "slow" and e["seq"] > lost["seq"]]
    assert again and again[-1]["node_id"] != started["node_id"]
    # The lost node cost exactly one attempt: one loss, and the next start went to a live node
    # (Ray's verdict awaited, so no actor was placed on the dying node and lost a second time).
    assert [e["unit"] for e in events if e["kind"] == "node_lost"] == ["slow"]
    assert len(again) == 1 and all(e.get("node_id") for e in again)
    slow = next(u for u in json.loads(bosun("status", "--json", cwd=repo).stdout)["units"] if u["id"] == "slow")
    assert slow["attempts"] == 2
    # Merged work stayed merged; the lost attempt's commit is still in the hub; the unit merged after.
    assert first_parent_merges(repo) == ["first", "slow"]
    assert git(hub, "show", f"{pushed}:src/slow.py") == "PART = 1"
    assert git(repo, "show", "bosun/integration:src/slow.py") == "DONE = 2"
    assert git(repo, "show", "bosun/integration:src/first.py") == "F = 1"
    forget_node_folder(repo)
