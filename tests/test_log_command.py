"""`bosun log UNIT`: an agent's output read as the Output tab reads it, raw, or followed while the
agent works; on a real session whose agent printed a CLI's stream (Gemini CLI's, as the pinned CLI
prints it: the model's words arrive in pieces)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

from conftest import AWAIT_GO, bosun, release, write_unit
from test_transcript import GEMINI, line

STREAM = "\n".join(line(event) for event in GEMINI) + "\n"


def _project(project, then=()):
    script = {"a": [[{"run": ["cat", "stream.jsonl"]}, *then, *write_unit("src/a.py", "A = 1\n")]]}
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
    assert raw == (repo / ".bosun" / "logs" / "a.1.log").read_text(), "as written, to the byte"
    assert all(line(event) in raw for event in GEMINI)
    assert bosun("log", "a", "--attempt", "1", cwd=repo).stdout == told.stdout


def test_follow_prints_while_the_agent_works_and_ends_with_the_attempt(project) -> None:
    """The stream is printed while the agent still waits (AWAIT_GO after it); the command ends when
    the attempt does."""
    repo = _project(project, then=[AWAIT_GO])
    run = subprocess.Popen(
        [sys.executable, "-m", "bosun.app.cli.main", "run", "--headless"], cwd=repo, stdout=subprocess.DEVNULL
    )
    follow = None
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
        seen = []
        while "▶ write_file src/calc.py" not in seen:  # printed as it comes, not at the end
            seen.append(follow.stdout.readline().rstrip("\n"))
            assert seen[-1] or follow.poll() is None, f"follow ended early: {seen}"
        assert follow.poll() is None, "still following: the agent waits"
        release(repo, "a")
        watchdog = threading.Timer(90, follow.kill)  # a follow that never ends fails, not hangs
        watchdog.start()
        rest = follow.stdout.read()  # to its end (communicate would skip what readline buffered)
        watchdog.cancel()
        assert follow.wait(timeout=60) == 0 and "step: commit" in rest.splitlines()
        assert "● Wrote the file." in seen + rest.splitlines()
        assert run.wait(timeout=60) == 0
        assert json.loads(bosun("status", "--json", cwd=repo).stdout)["units"][0]["state"] == "merged"
    finally:
        run.kill()
        if follow is not None:
            follow.kill()


def test_a_setup_that_failed_has_its_output_as_the_first_attempt(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, setup=["echo preparing; exit 3"])
    assert bosun("run", "--headless", cwd=repo).returncode == 1
    told = bosun("log", "a", cwd=repo)
    assert told.returncode == 0 and "preparing" in told.stdout.splitlines(), told.stderr


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


def test_an_attempt_started_again_after_a_crash_is_marked_in_its_log(project) -> None:
    """A supervisor killed while its agent worked: the next one starts that attempt again in the
    same log, after a line saying so (its first lines then read twice, not as one run)."""
    import signal

    from conftest import AWAIT_GO, BackgroundRun, release

    script = {"a": [[{"run": ["echo", "working on a"]}, AWAIT_GO, *write_unit("src/a.py", "A = 1\n")]]}
    repo = project([{"id": "a"}], script)
    run = BackgroundRun(repo, "run", "--headless", "--json")
    run.wait_for("running", "a")
    run.proc.send_signal(signal.SIGKILL)
    run.proc.wait(timeout=30)
    resumed = BackgroundRun(repo, "resume", "--headless", "--json")
    resumed.wait_for("running", "a")
    release(repo, "a")
    assert resumed.finish() == 0
    text = (repo / ".bosun" / "logs" / "a.1.log").read_text()
    assert text.count("working on a") == 2 and text.count("this attempt starts again") == 1, text
    assert text.index("working on a") < text.index("this attempt starts again") < text.rindex("working on a")
