"""`bosun takeover`: a person resolves a conflict in place, or takes a unit from a working agent,
and their commit goes through the gate like any agent's (real git, real agents, the real CLI)."""

from __future__ import annotations

import json
import signal

from conftest import AWAIT_GO, BackgroundRun, bosun, first_parent_merges, git, write_unit


def _conflicting(project, **keys):
    units = [{"id": "left"}, {"id": "right", "agent": "bob"}]
    script = {
        "left": [write_unit("src/shared.py", "VALUE = 'left'\n")],
        "right": [[AWAIT_GO] + write_unit("src/shared.py", "VALUE = 'right'\n")],
    }
    return project(units, script, max_agents=2, **keys)


def test_a_person_resolves_a_conflict_in_place_and_the_gate_takes_their_commit(project):
    repo = _conflicting(project, handback="manual")
    run = BackgroundRun(repo, "run", "--headless", "--json")
    run.wait_for("merged", "left")
    (repo / ".bosun" / "worktrees" / "right" / ".go").write_text("")
    run.wait_for("conflicted", "right")
    assert run.finish() == 1

    taken = bosun("takeover", "right", "--note", "I will merge these by hand", cwd=repo)
    assert taken.returncode == 0, taken.stderr
    claim = json.loads(taken.stdout)
    assert claim["owner"] == "human" and claim["handback"]["reason"] == "conflict"
    assert claim["handback"]["files"] == ["src/shared.py"]
    worktree = claim["worktree"]
    shared = repo / ".bosun" / "worktrees" / "right" / "src" / "shared.py"
    assert str(shared).startswith(worktree) and "<<<<<<<" in shared.read_text(), "the markers are left for the human"

    shared.write_text("VALUE = 'left'\nOTHER = 'right'\n")
    git(shared.parent.parent, "commit", "-qam", "resolve by hand")
    assert bosun("submit", "right", "--token", "1", cwd=repo).returncode == 1, "a stale token is refused"
    submitted = bosun("submit", "right", "--token", str(claim["token"]), cwd=repo)
    assert submitted.returncode == 0, submitted.stderr
    resumed = bosun("resume", "--headless", cwd=repo)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert first_parent_merges(repo) == ["left", "right"]
    assert git(repo, "show", "bosun/integration:src/shared.py") == "VALUE = 'left'\nOTHER = 'right'"


def test_taking_over_from_a_working_agent_stops_it_and_fences_it_off(project):
    repo = project([{"id": "slow"}], {"slow": [[AWAIT_GO] + write_unit("src/slow.py", "BY = 'agent'\n")]})
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    started = run.wait_for("running", "slow")
    pid = started["pid"]

    taken = bosun("takeover", "slow", cwd=repo)
    assert taken.returncode == 0, taken.stderr
    claim = json.loads(taken.stdout)
    run.wait_for("taken_over", "slow")
    assert not _alive(pid), "the agent was stopped"

    submit_by_hand(repo, "slow", claim, "BY = 'human'\n")
    run.wait_for("merged", "slow")
    run.proc.send_signal(signal.SIGINT)
    run.finish()
    assert git(repo, "show", "bosun/integration:src/slow.py") == "BY = 'human'"


def submit_by_hand(repo, unit: str, claim: dict, text: str) -> None:
    """The person's work in the unit's worktree (`src/UNIT.py`), committed and handed in."""
    work = repo / ".bosun" / "worktrees" / unit
    (work / "src" / f"{unit}.py").write_text(text)
    git(work, "add", "-A")
    git(work, "commit", "-qm", "done by hand")
    assert bosun("submit", unit, "--token", str(claim["token"]), cwd=repo).returncode == 0


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def test_take_over_from_the_screen_opens_a_shell_and_submits_what_was_committed(project, tmp_path, monkeypatch):
    from conftest import release
    from screen_kit import SIZE, open_app

    from bosun.app.tui.dialogs import ConfirmDialog
    from bosun.widgets.graph_view import GraphView

    shell = tmp_path / "resolve.sh"  # stands in for the person at the shell: resolves and commits
    shell.write_text(
        "#!/bin/sh\nprintf \"VALUE = 'left'\\nOTHER = 'right'\\n\" > src/shared.py\n"
        "git -c user.name=Me -c user.email=me@example.com commit -qam 'resolved by hand'\n"
    )
    shell.chmod(0o755)
    monkeypatch.setenv("SHELL", str(shell))
    repo = _conflicting(project, handback="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("left", "merged")
        release(repo, "right")
        await app.state("right", "conflicted")
        app.query_one(GraphView).selected = "right"
        await app.caught_up()
        await pilot.press("t")
        await app.dialog(ConfirmDialog)
        await pilot.press("tab", "enter")  # "Take over"
        await app.state("right", "merged")
        said = [n.message for n in app._notifications]
        assert any("submitted at" in m and "your commit goes through the gate" in m for m in said), said
    assert first_parent_merges(repo) == ["left", "right"]
    assert git(repo, "show", "bosun/integration:src/shared.py") == "VALUE = 'left'\nOTHER = 'right'"


def test_an_agent_that_gives_up_on_a_conflict_leaves_its_details_for_the_human(project):
    units = [{"id": "left"}, {"id": "right", "agent": "bob"}]
    script = {
        "left": [write_unit("src/shared.py", "VALUE = 'left'\n")],
        "right": [
            [AWAIT_GO] + write_unit("src/shared.py", "VALUE = 'right'\n"),
            [{"report": "blocked", "summary": "I cannot resolve this"}],
        ],
    }
    repo = project(units, script, max_agents=2, handback="auto")
    run = BackgroundRun(repo, "run", "--headless", "--json")
    run.wait_for("merged", "left")
    (repo / ".bosun" / "worktrees" / "right" / ".go").write_text("")
    run.wait_for("failed", "right")
    assert run.finish() == 1
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    right = next(u for u in status["units"] if u["id"] == "right")
    assert right["state"] == "failed" and right["detail"]["files"] == ["src/shared.py"]
    assert right["detail"]["handback"]["reason"] == "conflict"
    claim = json.loads(bosun("takeover", "right", cwd=repo).stdout)
    assert claim["handback"]["files"] == ["src/shared.py"] and claim["handback"]["earlier"] == "conflict"


def test_a_takeover_after_a_hand_back_keeps_its_note(project):
    """Handed back with a note, then taken over while its agent works on it: the human's task
    carries that note (it had none)."""
    script = {"a": [write_unit("src/a.py", "A = 1\n"), [AWAIT_GO, *write_unit("src/a.py", "A = 2\n")]]}
    repo = project([{"id": "a"}], script, merge="manual")
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    run.wait_for("awaiting_approval", "a")
    handed = bosun("handback", "a", "--note", "write it in docs/ instead", cwd=repo)
    assert handed.returncode == 0, handed.stderr
    run.wait_for("running", "a", after=run.wait_for("handed_back", "a")["seq"])
    taken = bosun("takeover", "a", cwd=repo)
    assert taken.returncode == 0, taken.stderr
    handback = json.loads(taken.stdout)["handback"]
    assert handback["note"] == "write it in docs/ instead", handback
    run.proc.send_signal(signal.SIGINT)
    run.finish()


def test_a_taken_over_unit_whose_gate_fails_waits_for_its_person_then_goes_to_the_team(project):
    """Taken over, the person's commit fails the gate: it is theirs to decide (no automatic
    hand-back to an agent named `human`, which none is: it sat `ready` for ever, waiting for no
    one). Handed back, the team's agent takes it."""
    script = {"a": [[AWAIT_GO, *write_unit("src/a.py", "A = 1\n")], write_unit("src/a.py", "A = 2\n")]}
    repo = project([{"id": "a"}], script)
    run = BackgroundRun(repo, "run", "--headless", "--json", "--wait")
    run.wait_for("running", "a")
    claim = json.loads(bosun("takeover", "a", cwd=repo).stdout)
    run.wait_for("taken_over", "a")
    submit_by_hand(repo, "a", claim, "BROKEN = 1\n")
    run.wait_for("gate_failed", "a")
    waiting = run.wait_for("waiting_for_human", "a")
    assert waiting["state"] == "gate_failed"
    assert bosun("handback", "a", "--note", "over to you", cwd=repo).returncode == 0
    run.wait_for("merged", "a")
    run.proc.send_signal(signal.SIGINT)
    run.finish()
    assert git(repo, "show", "bosun/integration:src/a.py") == "A = 2"
