"""`bosun plan "GOAL"` against a real HTTP server on 127.0.0.1: valid plans are written, invalid
ones refused with their problems and nothing written."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import bosun, git
from fake_openai import FakeOpenAI, completion

from bosun.orchestration.plan import load_plan

GOOD = {
    "units": [
        {"id": "lexer", "title": "Lexer", "prompt": "Write src/lexer.py", "depends_on": [], "scope": ["src/lexer.py"]},
        {
            "id": "parser",
            "title": "Parser",
            "prompt": "Write src/parser.py",
            "depends_on": ["lexer"],
            "scope": ["src/parser.py"],
        },
    ]
}


def empty_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# calc\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "init")
    return repo


def plan_with(repo: Path, url: str, *extra: str, env: dict | None = None):
    return bosun("plan", "Build a calculator", "--base-url", url, "--model", "planner-model", *extra, cwd=repo, env=env)


def test_a_valid_proposal_is_written_as_bosun_toml(tmp_path: Path) -> None:
    repo = empty_repo(tmp_path)
    with FakeOpenAI([(200, completion(json.dumps(GOOD)), {})]) as server:
        result = plan_with(repo, server.base_url, "--api-key-env", "PLAN_KEY", env={"PLAN_KEY": "sk-plan"})
    assert result.returncode == 0, result.stderr
    plan = load_plan(repo / "bosun.toml")
    assert list(plan.units) == ["lexer", "parser"] and plan.units["parser"].depends_on == ("lexer",)
    assert plan.units["lexer"].scope == ("src/lexer.py",) and plan.agents["planner"].model == "planner-model"
    request = server.requests[0]
    assert request["headers"]["Authorization"] == "Bearer sk-plan"
    assert "Build a calculator" in request["body"]["messages"][-1]["content"]
    assert "README.md" in request["body"]["messages"][-1]["content"]  # it sees the repository's files
    assert bosun("validate", cwd=repo).returncode == 0


def test_an_invalid_proposal_is_refused_with_its_problems_and_nothing_written(tmp_path: Path) -> None:
    repo = empty_repo(tmp_path)
    bad = {
        "units": [
            {"id": "a", "prompt": "x", "depends_on": ["b"], "scope": ["src/*"]},
            {"id": "b", "prompt": "x", "depends_on": ["a"]},
            {"id": "c", "prompt": "x", "depends_on": ["ghost"], "scope": ["../etc"]},
        ]
    }
    with FakeOpenAI([(200, completion(json.dumps(bad)), {})]) as server:
        result = plan_with(repo, server.base_url)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    problems = lines[lines.index("the proposed plan is invalid; nothing was written:") + 1 :]
    assert all(line.startswith("bosun.toml") for line in problems)
    text = "\n".join(problems)
    assert "dependency cycle" in text and "unknown unit 'ghost'" in text and "escapes the repository" in text
    assert not (repo / "bosun.toml").exists() and not (repo / "bosun.toml.tmp").exists()


def test_planning_with_a_model_agent_of_an_existing_plan_keeps_what_was_written(tmp_path: Path) -> None:
    repo = empty_repo(tmp_path)
    with FakeOpenAI([(200, completion("```json\n" + json.dumps(GOOD) + "\n```"), {})]) as server:
        head = (
            '# my settings\n[project]\ngate = "true"\n\n[agents.brain]\nkind = "model"\n'
            f'base_url = "{server.base_url}"\nmodel = "big"\n'
        )
        (repo / "bosun.toml").write_text(head)
        result = bosun("plan", "Build a calculator", "--agent", "brain", cwd=repo)
        assert result.returncode == 0, result.stderr
        text = (repo / "bosun.toml").read_text()
        assert text.startswith(head) and "[[units]]" in text
        assert server.requests[0]["body"]["model"] == "big"
        again = bosun("plan", "Build it again", "--agent", "brain", cwd=repo)
    assert again.returncode == 2 and "--force" in again.stderr
    assert (repo / "bosun.toml").read_text() == text


def test_nonsense_and_an_unreachable_model_fail_in_one_line(tmp_path: Path) -> None:
    repo = empty_repo(tmp_path)
    with FakeOpenAI([(200, completion("Here is my plan: do it all at once."), {})]) as server:
        nonsense = plan_with(repo, server.base_url)
        url = server.base_url
    assert nonsense.returncode == 2 and "not JSON" in nonsense.stderr.strip().splitlines()[-1]
    unreachable = plan_with(repo, url)
    assert unreachable.returncode == 2 and "cannot reach" in unreachable.stderr.strip().splitlines()[-1]
    assert not (repo / "bosun.toml").exists()


def test_force_replaces_only_the_units_and_keeps_every_other_table_and_comment(tmp_path: Path) -> None:
    repo = empty_repo(tmp_path)
    with FakeOpenAI([(200, completion(json.dumps(GOOD)), {})]) as server:
        before = (
            "# my settings\n[project]\n"
            'gate = "true"   # the gate I trust\n\n'
            f'[agents.brain]\nkind = "model"\nbase_url = "{server.base_url}"\nmodel = "big"\n\n'
            '# the old units\n[[units]]\nid = "old"\nprompt = "gone after --force"\n\n'
            "# a helper written after the units\n"
            '[agents.late]\nkind = "external"   # joins by claiming\n'
        )
        (repo / "bosun.toml").write_text(before)
        refused = bosun("plan", "Build a calculator", "--agent", "brain", cwd=repo)
        assert refused.returncode == 2 and "--force" in refused.stderr
        assert (repo / "bosun.toml").read_text() == before
        result = bosun("plan", "Build a calculator", "--agent", "brain", "--force", cwd=repo)
    assert result.returncode == 0, result.stderr
    text = (repo / "bosun.toml").read_text()
    plan = load_plan(repo / "bosun.toml")
    assert list(plan.units) == ["lexer", "parser"] and list(plan.agents) == ["brain", "late"]
    for kept in ("# my settings", "# the gate I trust", "# the old units", "# a helper written after the units"):
        assert kept in text, kept
    assert '[agents.late]\nkind = "external"   # joins by claiming\n' in text
    assert "gone after --force" not in text
    # Nothing but the units changed: the text before them is as written.
    assert text.startswith(before[: before.index("[[units]]")])
