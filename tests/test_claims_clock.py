"""Leases when the wall clock jumps (issue 16): real `bosun claim` / `heartbeat` / `board`
processes run under libfaketime with the wall clock an hour ahead or behind. A live lease held
by another agent is not taken, and one that ran out is taken again after its own length, not an
hour early or an hour late: leases are timed on the boot clock (orchestration/lease_clock.py).

FAKETIME_DONT_FAKE_MONOTONIC=1 makes the jump a real one: NTP or `date -s` moves only the wall
clock, while libfaketime by default shifts the monotonic and boot clocks as well."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import bosun, git, needs_tool, toml_plan

from bosun.orchestration.lease_clock import lease_clock

FAKETIME = shutil.which("faketime")
pytestmark = needs_tool(
    "faketime is not installed (Debian/Ubuntu: apt-get install faketime): these tests jump the wall clock "
    "of real processes"
    if FAKETIME is None
    else None
)
AGENTS = {"ext": {"kind": "external"}, "other": {"kind": "external"}}


def jumped(offset: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """Run `bosun ARGS` with the wall clock `offset` ("+1h", "-1h") from the real one ("" for none)."""
    if not offset:
        return bosun(*args, cwd=cwd)
    env = {**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    return bosun_in(env, [FAKETIME, "-f", offset, sys.executable, "-m", "bosun.app.cli.main", *args], cwd)


def bosun_in(env: dict, argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def repo_with(tmp_path: Path, lease: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "bosun.toml").write_text(toml_plan([{"id": "one"}], AGENTS, mode="claim", lease=lease))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "plan")
    return repo


def ok_json(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_faketime_moves_the_wall_clock_and_not_the_boot_clock(tmp_path: Path) -> None:
    """The premise of the others: the jumped process really sees another wall time."""
    probe = "import time; print(time.time(), time.clock_gettime(time.CLOCK_BOOTTIME))"
    env = {**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    before_wall, before_boot = time.time(), lease_clock()
    out = bosun_in(env, [FAKETIME, "-f", "+1h", sys.executable, "-c", probe], tmp_path)
    wall, boot = map(float, out.stdout.split())
    assert 3500 < wall - before_wall < 3700
    assert 0 <= boot - before_boot < 60


@pytest.mark.parametrize(("claimer", "taker"), [("", "+1h"), ("-1h", ""), ("", "-1h"), ("+1h", "")])
def test_a_live_lease_is_not_taken_whatever_the_two_wall_clocks_say(tmp_path: Path, claimer: str, taker: str) -> None:
    repo = repo_with(tmp_path, "10m")
    task = ok_json(jumped(claimer, "claim", "--agent", "ext", cwd=repo))
    lost = jumped(taker, "claim", "one", "--agent", "other", cwd=repo)
    assert lost.returncode == 1 and "held by ext" in lost.stderr, lost.stderr
    board = ok_json(jumped(taker, "board", "--json", cwd=repo))
    assert [(c["unit"], c["owner"], c["epoch"]) for c in board["claims"]] == [("one", "ext", task["token"])]
    assert 0 < board["claims"][0]["lease_left_s"] <= 600, "time left is told by the lease's clock too"
    for offset in ("+1h", "-1h", ""):  # the holder's heartbeats keep it, whatever its own clock says
        assert jumped(offset, "heartbeat", "one", "--token", str(task["token"]), cwd=repo).returncode == 0
    assert jumped(taker, "claim", "--agent", "other", cwd=repo).returncode == 1


@pytest.mark.parametrize(
    ("claimer", "beat", "taker"), [("", None, "-1h"), ("+1h", None, ""), ("", "+1h", ""), ("", "", "-1h")]
)
def test_a_lease_that_ran_out_is_taken_after_its_length_not_the_jump(
    tmp_path: Path, claimer: str, beat: str | None, taker: str
) -> None:
    repo = repo_with(tmp_path, "2s")
    task = ok_json(jumped(claimer, "claim", "--agent", "ext", cwd=repo))
    if beat is not None:
        assert jumped(beat, "heartbeat", "one", "--token", str(task["token"]), cwd=repo).returncode == 0
    runs_out = lease_clock() + 2.0  # the last claim or heartbeat returned: its lease ends before this
    while lease_clock() < runs_out + 0.1:  # wait for the lease's real length to pass, on its own clock
        time.sleep(0.05)
    again = ok_json(jumped(taker, "claim", "--agent", "other", cwd=repo))
    assert (again["unit"], again["token"]) == ("one", task["token"] + 1)
    refused = jumped("", "heartbeat", "one", "--token", str(task["token"]), cwd=repo)
    assert refused.returncode == 1 and "stale" in refused.stderr
