"""The `qwen-code` preset with the real Qwen Code CLI (npm @qwen-code/qwen-code), pointed at a stub of
the OpenAI chat-completions API on 127.0.0.1 (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `OPENAI_MODEL`):
the stub streams a `tool_calls` entry of Qwen Code's own write_file tool, Qwen Code writes the
file, Bosun commits it (autocommit), gates and merges it, and records the tokens from the `result`
event of Qwen Code's stream-json output. Qwen Code prints no cost."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import first_parent_merges, git
from stubs.clis import RUN_TESTS, TESTED_PROJECT, cli, run_preset
from stubs.openai_chat import COMPLETION_TOKENS, PROMPT_TOKENS, ChatStub, working_directory


def write_call(body: dict) -> dict:
    return {"file_path": f"{working_directory(body) or '.'}/src/calc.py", "content": "VALUE = 42\n"}


def test_qwen_code_writes_with_its_own_tool_and_bosun_merges(project, tmp_path: Path) -> None:
    program = cli("qwen")
    with ChatStub("write_file", write_call) as stub:
        env = {
            "OPENAI_BASE_URL": f"{stub.url}/v1",
            "OPENAI_API_KEY": "sk-stub",
            "OPENAI_MODEL": "stub-model",
            "QWEN_USAGE_STATISTICS_ENABLED": "false",
        }  # else it reports usage to a host of Alibaba's
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="qwen-code",
            env=env,
            scope=["src/calc.py"],
            prompt="Create src/calc.py holding VALUE = 42",
        )
    assert out.result.returncode == 0, out.explain()
    assert first_parent_merges(out.repo) == ["calc"]
    assert git(out.repo, "show", "bosun/integration:src/calc.py") == "VALUE = 42"
    # Qwen Code ran write_file and sent the tool's result back in the next turn.
    assert len(stub.main_turns) == 2 and any(m.get("role") == "tool" for m in stub.main_turns[1]["messages"])
    assert "Create src/calc.py holding VALUE = 42" in json.dumps(stub.main_turns[0]["messages"])
    assert all(p == "POST /v1/chat/completions" for p in stub.paths()), stub.paths()
    usage = out.unit("calc")["usage"]
    assert usage == {"prompt_tokens": 2 * PROMPT_TOKENS, "completion_tokens": 2 * COMPLETION_TOKENS}, usage
    assert out.agent("cli")["usage"] == usage


def test_qwen_code_runs_the_projects_tests_in_its_worktree(project, tmp_path: Path) -> None:
    program = cli("qwen")
    with ChatStub("run_shell_command", lambda body: {"command": RUN_TESTS}) as stub:
        env = {"OPENAI_BASE_URL": f"{stub.url}/v1", "OPENAI_API_KEY": "sk-stub", "OPENAI_MODEL": "stub-model"}
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="qwen-code",
            env=env,
            scope=["src/result.txt"],
            prompt="Run the tests",
            extra_files=TESTED_PROJECT,
        )
    assert out.result.returncode == 0, out.explain()
    assert "1 passed" in git(out.repo, "show", "bosun/integration:src/result.txt")
    assert len(stub.main_turns) == 2 and "1 passed" in json.dumps(stub.main_turns[1]["messages"]), out.explain()
