"""`bosun status UNIT`: one unit's story on the command line, as the screen's `enter` tells it."""

from __future__ import annotations

import json

from conftest import bosun, write_unit


def test_a_failed_gate_is_told_with_its_output_and_the_commands_that_apply(project) -> None:
    script = {
        "good": [write_unit("src/good.py", "G = 1\n")],
        "bad": [write_unit("src/bad.py", "B = 'BROKEN'\n")],
    }
    repo = project([{"id": "good"}, {"id": "bad"}], script, handback="manual", sandbox="off")
    run = bosun("run", "--headless", cwd=repo)
    assert run.returncode == 1
    waiting = [line for line in run.stdout.splitlines() if " waiting_for_human " in line]
    assert len(waiting) == 1 and waiting[0].endswith("(why and what applies: bosun status bad)"), run.stdout

    listed = bosun("status", cwd=repo).stdout
    assert "waiting for you: bad (gate_failed); `bosun status UNIT` says why and what applies" in listed

    told = bosun("status", "bad", cwd=repo)
    assert told.returncode == 0, told.stderr
    text = told.stdout
    assert text.startswith("'bad' is gate_failed · ")
    assert "FAILED · tests failed (exit 1)" in text and "FAILED: broken files: src/bad.py" in text
    assert "what applies\n  bosun handback bad --note '...'\n  bosun reassign bad --to AGENT" in text

    story = json.loads(bosun("status", "bad", "--json", cwd=repo).stdout)
    assert story["unit"] == "bad" and "handback" in story["decisions"] and "regate" in story["decisions"]
    assert any("broken files" in line for line in story["gate"])

    merged = bosun("status", "good", cwd=repo).stdout
    assert merged.startswith("'good' is merged") and "passed · tests passed" in merged
    assert "what applies" not in merged, "nothing is yours to decide on a merged unit"


def test_a_unit_the_session_does_not_have_is_one_line_and_exit_2(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, sandbox="off")
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    result = bosun("status", "nope", cwd=repo)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "bosun status: no unit 'nope' in this session (bosun status lists them)"
    ]


def test_a_unit_awaiting_approval_offers_approve_and_reject(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, merge="manual", sandbox="off")
    assert bosun("run", "--headless", cwd=repo).returncode == 1  # waits for its approval
    told = bosun("status", "a", cwd=repo).stdout
    assert told.startswith("'a' is awaiting_approval · ")
    assert "what applies\n  bosun approve a\n  bosun reject a --note '...'\n" in told


def test_every_decision_a_story_offers_has_its_command() -> None:
    from bosun.app.cli.session_commands import STORY_COMMANDS
    from bosun.orchestration.unit_story import DECISIONS

    assert set(STORY_COMMANDS) == set(DECISIONS)


def test_the_headless_hint_says_where_the_repository_is_when_run_from_elsewhere(project, tmp_path) -> None:
    repo = project([{"id": "bad"}], {"bad": [write_unit("src/bad.py", "B = 'BROKEN'\n")]}, handback="manual")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    run = bosun("run", "--headless", "--repo", str(repo), cwd=elsewhere)
    hint = next(line for line in run.stdout.splitlines() if " waiting_for_human " in line)
    assert hint.endswith(f"(why and what applies: bosun status bad --repo {repo})"), hint
    told = bosun("status", "bad", "--repo", str(repo), cwd=elsewhere)
    assert told.returncode == 0 and told.stdout.startswith("'bad' is gate_failed")
