"""`bosun log UNIT`: an agent's output read as the Output tab reads it, raw, or followed while the
agent works; on a real session whose agent printed a CLI's stream (Gemini CLI's, as the pinned CLI
prints it: the model's words arrive in pieces)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

from conftest import AWAIT_GO, bosun, release, write_unit
from test_transcript import GEMINI, line

STREAM = "\n".join(line(event) for event in GEMINI) + "\n"


def _project(project, first_step=()):
    script = {"a": [[*first_step, {"run": ["cat", "stream.jsonl"]}, *write_unit("src/a.py", "A = 1\n")]]}
    return project([{"id": "a"}], script, extra_files={"stream.jsonl": STREAM}, sandbox="off")


def test_the_log_reads_as_a_transcript_or_raw(project) -> None:
    repo = _project(project)
    assert bosun("run", "--headless", cwd=repo).returncode == 0

    told = bosun("log", "a", cwd=repo)
    assert told.returncode == 0, told.stderr
    lines = told.stdout.splitlines()
    assert "▶ write_file src/calc.py" in lines
    assert lines.count("● Wrote the file.") == 1, "the words streamed in two pieces read as one"
    assert not any(text.startswith("{") for text in lines), "no raw event is printed"

    raw = bosun("log", "a", "--raw", cwd=repo).stdout
    assert all(line(event) in raw for event in GEMINI)
    assert bosun("log", "a", "--attempt", "1", cwd=repo).stdout == told.stdout


def test_follow_prints_while_the_agent_works_and_ends_with_the_attempt(project) -> None:
    repo = _project(project, first_step=[AWAIT_GO])
    run = subprocess.Popen(
        [sys.executable, "-m", "bosun.app.cli.main", "run", "--headless"], cwd=repo, stdout=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while "running" not in bosun("status", cwd=repo).stdout:
            assert time.monotonic() < deadline, "the agent never started"
            time.sleep(0.2)
        follow = subprocess.Popen(
            [sys.executable, "-m", "bosun.app.cli.main", "log", "a", "--follow"],
            cwd=repo,
            stdout=subprocess.PIPE,
            text=True,
        )
        release(repo, "a")
        out, _ = follow.communicate(timeout=60)
        assert follow.returncode == 0 and "▶ write_file src/calc.py" in out.splitlines()
        assert run.wait(timeout=60) == 0
        assert json.loads(bosun("status", "--json", cwd=repo).stdout)["units"][0]["state"] == "merged"
    finally:
        run.kill()


def test_a_unit_or_attempt_that_has_no_log_is_one_line_and_exit_2(project) -> None:
    repo = _project(project)
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    for args, said in (
        (("nope",), "bosun log: no unit 'nope' in this session (bosun status lists them)"),
        (("a", "--attempt", "2"), "bosun log: 'a' has attempts 1 to 1, not 2"),
    ):
        result = bosun("log", *args, cwd=repo)
        assert (result.returncode, result.stdout, result.stderr.strip()) == (2, "", said)


def test_an_external_agents_unit_says_bosun_keeps_no_output(project) -> None:
    repo = project([{"id": "one"}], {}, agents={"ext": {"kind": "external"}}, mode="claim")
    assert bosun("claim", "--agent", "ext", cwd=repo).returncode == 0
    result = bosun("log", "one", cwd=repo)
    assert result.returncode == 2 and result.stderr.strip() == (
        "bosun log: 'one' is the work of 'ext', an agent Bosun does not start: no output is kept"
    )
