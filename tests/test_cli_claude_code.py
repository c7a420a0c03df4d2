"""The `claude-code` preset with the real Claude Code CLI (npm @anthropic-ai/claude-code), pointed
at a stub of the Anthropic Messages API on 127.0.0.1 (`ANTHROPIC_BASE_URL`): the stub streams a
`tool_use` of Claude Code's own Write tool, Claude Code writes the file, Bosun commits it
(autocommit), gates and merges it, and records the tokens and the cost Claude Code printed in its
stream-json result."""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import first_parent_merges, git
from stubs.anthropic import AnthropicStub
from stubs.clis import cli, run_preset


def test_claude_code_writes_with_its_own_tool_and_bosun_merges(project, tmp_path: Path) -> None:
    program = cli("claude")
    with AnthropicStub("src/calc.py", "VALUE = 42\n") as stub:
        # CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: no telemetry, error reports or update checks
        # (without it Claude Code looks up its telemetry hosts; offline those fail and the run goes on).
        env = {
            "ANTHROPIC_BASE_URL": stub.url,
            "ANTHROPIC_API_KEY": "sk-ant-stub",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        }
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="claude-code",
            env=env,
            scope=["src/calc.py"],
            prompt="Create src/calc.py holding VALUE = 42",
        )
    assert out.result.returncode == 0, out.explain()
    assert first_parent_merges(out.repo) == ["calc"]
    assert git(out.repo, "show", "bosun/integration:src/calc.py") == "VALUE = 42"
    # The Write tool ran inside Claude Code: the stub saw its result come back in the next turn.
    assert len(stub.main_turns) == 2 and "tool_result" in str(stub.main_turns[1]["messages"][-1])
    assert "Create src/calc.py holding VALUE = 42" in str(stub.main_turns[0]["messages"])
    assert all(p.startswith("POST /v1/messages") for p in stub.paths()), stub.paths()
    # Two streamed answers of 1234 input tokens each, 56 output tokens each; the cost is Claude Code's own.
    usage = out.unit("calc")["usage"]
    assert usage["prompt_tokens"] == 2 * 1234 and usage["completion_tokens"] == 2 * 56, usage
    assert usage["cost_usd"] > 0, usage
    assert out.agent("cli")["usage"] == usage
    assert '"type":"result"' in out.log  # the preset asked for the stream-json format


TEST_CALC = "from src.calc import VALUE\n\n\ndef test_value():\n    assert VALUE == 42\n"


def test_claude_code_runs_the_projects_tests_in_its_worktree(project, tmp_path: Path) -> None:
    """bypassPermissions in Bosun's sandbox: the Bash call is run, not refused for approval."""
    program = cli("claude")
    tests = f"PYTHONDONTWRITEBYTECODE=1 {sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"
    with AnthropicStub("src/calc.py", "VALUE = 42\n", then_run=tests) as stub:
        env = {"ANTHROPIC_BASE_URL": stub.url, "ANTHROPIC_API_KEY": "sk-ant-stub"}
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="claude-code",
            env=env,
            scope=["src/calc.py"],
            prompt="Create src/calc.py holding VALUE = 42 and run the tests",
            extra_files={"test_calc.py": TEST_CALC},
        )
    assert out.result.returncode == 0, out.explain()
    assert first_parent_merges(out.repo) == ["calc"]
    assert len(stub.tool_results) == 2, stub.tool_results
    assert "1 passed" in stub.tool_results[1], stub.tool_results[1]
    assert "requires approval" not in out.log and "1 passed" in out.log, out.explain()
