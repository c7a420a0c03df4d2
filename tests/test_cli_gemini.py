"""The `gemini-cli` preset with the real Gemini CLI (npm @google/gemini-cli), pointed at a stub of the
Gemini API on 127.0.0.1 (`GOOGLE_GEMINI_BASE_URL`, auth type `gemini-api-key` in its settings):
the stub answers with a `functionCall` of Gemini CLI's own write_file tool, Gemini CLI writes the
file, Bosun commits it (autocommit), gates and merges it, and records the tokens from the
`result` event of Gemini CLI's stream-json output. Gemini CLI prints no cost."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import first_parent_merges, git
from stubs.clis import RUN_TESTS, TESTED_PROJECT, cli, run_preset
from stubs.gemini import CANDIDATE_TOKENS, PROMPT_TOKENS, GeminiStub

# ~/.gemini/settings.json (here under GEMINI_CLI_HOME): the API-key auth type (with
# GOOGLE_GEMINI_BASE_URL alone Gemini CLI picks a "gateway" auth it then refuses), and no usage
# statistics, telemetry or update checks.
SETTINGS = {
    "security": {"auth": {"selectedType": "gemini-api-key"}},
    "privacy": {"usageStatisticsEnabled": False},
    "telemetry": {"enabled": False},
    "general": {"disableAutoUpdate": True, "disableUpdateNag": True},
}


def test_gemini_cli_writes_with_its_own_tool_and_bosun_merges(project, tmp_path: Path) -> None:
    program = cli("gemini")
    gemini_home = tmp_path / "gemini-home"
    (gemini_home / ".gemini").mkdir(parents=True)
    (gemini_home / ".gemini" / "settings.json").write_text(json.dumps(SETTINGS))
    with GeminiStub("src/calc.py", "VALUE = 42\n") as stub:
        env = {"GOOGLE_GEMINI_BASE_URL": stub.url, "GEMINI_API_KEY": "stub-key", "GEMINI_CLI_HOME": str(gemini_home)}
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="gemini-cli",
            env=env,
            scope=["src/calc.py"],
            prompt="Create src/calc.py holding VALUE = 42",
            mounts=[f"{gemini_home}:rw"],
        )
    assert out.result.returncode == 0, out.explain()
    assert first_parent_merges(out.repo) == ["calc"]
    assert git(out.repo, "show", "bosun/integration:src/calc.py") == "VALUE = 42"
    # Gemini CLI ran write_file itself and sent its functionResponse back.
    assert len(stub.main_turns) == 2 and "functionResponse" in json.dumps(stub.main_turns[1]["contents"][-1])
    assert "Create src/calc.py holding VALUE = 42" in json.dumps(stub.main_turns[0]["contents"])
    assert all(":generateContent" in p or ":streamGenerateContent" in p or ":countTokens" in p for p in stub.paths()), (
        stub.paths()
    )
    # The tokens are the stream's own totals: the two main turns plus Gemini CLI's small side requests.
    result = [json.loads(line) for line in out.log.splitlines() if line.startswith('{"type":"result"')][-1]
    usage = out.unit("calc")["usage"]
    assert usage == {
        "prompt_tokens": result["stats"]["input_tokens"],
        "completion_tokens": result["stats"]["output_tokens"],
    }, usage
    assert usage["prompt_tokens"] >= 2 * PROMPT_TOKENS and usage["completion_tokens"] >= 2 * CANDIDATE_TOKENS
    assert out.agent("cli")["usage"] == usage


def test_gemini_cli_runs_the_projects_tests_in_its_worktree(project, tmp_path: Path) -> None:
    program = cli("gemini")
    gemini_home = tmp_path / "gemini-home"
    (gemini_home / ".gemini").mkdir(parents=True)
    (gemini_home / ".gemini" / "settings.json").write_text(json.dumps(SETTINGS))
    with GeminiStub("", "", call=("run_shell_command", {"command": RUN_TESTS})) as stub:
        env = {"GOOGLE_GEMINI_BASE_URL": stub.url, "GEMINI_API_KEY": "stub-key", "GEMINI_CLI_HOME": str(gemini_home)}
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="gemini-cli",
            env=env,
            scope=["src/result.txt"],
            prompt="Run the tests",
            extra_files=TESTED_PROJECT,
            mounts=[f"{gemini_home}:rw"],
        )
    assert out.result.returncode == 0, out.explain()
    assert "1 passed" in git(out.repo, "show", "bosun/integration:src/result.txt")
    assert len(stub.main_turns) == 2 and "1 passed" in json.dumps(stub.main_turns[1]["contents"][-1]), out.explain()
