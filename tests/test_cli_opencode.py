"""The `opencode` preset with the real opencode CLI (npm opencode-ai), pointed at a stub of the OpenAI
chat-completions API on 127.0.0.1 (a custom `@ai-sdk/openai-compatible` provider in its config,
`OPENCODE_CONFIG_CONTENT`): the stub streams a `tool_calls` entry of opencode's own `write` tool,
opencode writes the file, Bosun commits it (autocommit), gates and merges it, and records the
tokens and the cost opencode printed in its `step_finish` events (from the prices in its config)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import first_parent_merges, git
from stubs.clis import RUN_TESTS, TESTED_PROJECT, cli, run_preset
from stubs.openai_chat import COMPLETION_TOKENS, PROMPT_TOKENS, ChatStub, working_directory

PRICE_IN, PRICE_OUT = 3.0, 15.0  # USD per million tokens, in opencode's model config


def config(url: str) -> dict:
    """What a user puts in ~/.config/opencode/opencode.json to use their own endpoint."""
    return {
        "$schema": "https://opencode.ai/config.json",
        "provider": {
            "stub": {
                "npm": "@ai-sdk/openai-compatible",
                "name": "Stub endpoint",
                "options": {"baseURL": f"{url}/v1", "apiKey": "{env:STUB_API_KEY}"},
                "models": {
                    "stub-model": {
                        "name": "Stub model",
                        "tool_call": True,
                        "cost": {"input": PRICE_IN, "output": PRICE_OUT},
                    }
                },
            }
        },
        "model": "stub/stub-model",
        "small_model": "stub/stub-model",
        "autoupdate": False,
        "share": "disabled",
    }


def write_call(body: dict) -> dict:
    return {"filePath": f"{working_directory(body) or '.'}/src/calc.py", "content": "VALUE = 42\n"}


def test_opencode_writes_with_its_own_tool_and_bosun_merges(project, tmp_path: Path) -> None:
    program = cli("opencode")
    with ChatStub("write", write_call) as stub:
        env = {
            "OPENCODE_CONFIG_CONTENT": json.dumps(config(stub.url)),
            "STUB_API_KEY": "sk-stub",
            # No models.dev catalogue, update check, default plugins, LSP downloads or sharing; the
            # npm package opencode fetches for its config folder (@opencode-ai/plugin) is asked of the stub.
            "OPENCODE_DISABLE_MODELS_FETCH": "1",
            "OPENCODE_DISABLE_AUTOUPDATE": "1",
            "OPENCODE_DISABLE_DEFAULT_PLUGINS": "1",
            "OPENCODE_DISABLE_LSP_DOWNLOAD": "1",
            "OPENCODE_DISABLE_SHARE": "1",
            "npm_config_registry": f"{stub.url}/npm/",
        }
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="opencode",
            env=env,
            scope=["src/calc.py"],
            prompt="Create src/calc.py holding VALUE = 42",
        )
    assert out.result.returncode == 0, out.explain()
    assert first_parent_merges(out.repo) == ["calc"]
    assert git(out.repo, "show", "bosun/integration:src/calc.py") == "VALUE = 42"
    # opencode ran its write tool and sent the tool's result back in the next turn.
    assert len(stub.main_turns) == 2 and any(m.get("role") == "tool" for m in stub.main_turns[1]["messages"])
    assert "Create src/calc.py holding VALUE = 42" in json.dumps(stub.main_turns[0]["messages"])
    assert all(p.startswith(("POST /v1/chat/completions", "GET /npm/")) for p in stub.paths()), stub.paths()
    # Two steps of the main conversation (the title request is not a step); the cost is opencode's own.
    usage = out.unit("calc")["usage"]
    cost = 2 * (PROMPT_TOKENS * PRICE_IN + COMPLETION_TOKENS * PRICE_OUT) / 1e6
    assert usage["prompt_tokens"] == 2 * PROMPT_TOKENS and usage["completion_tokens"] == 2 * COMPLETION_TOKENS, usage
    assert abs(usage["cost_usd"] - cost) < 1e-6, usage
    assert out.agent("cli")["usage"] == usage


def test_opencode_runs_the_projects_tests_in_its_worktree(project, tmp_path: Path) -> None:
    program = cli("opencode")
    with ChatStub("bash", lambda body: {"command": RUN_TESTS, "description": "Run the tests"}) as stub:
        env = {
            "OPENCODE_CONFIG_CONTENT": json.dumps(config(stub.url)),
            "STUB_API_KEY": "sk-stub",
            "npm_config_registry": f"{stub.url}/npm/",
        }
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="opencode",
            env=env,
            scope=["src/result.txt"],
            prompt="Run the tests",
            extra_files=TESTED_PROJECT,
        )
    assert out.result.returncode == 0, out.explain()
    assert "1 passed" in git(out.repo, "show", "bosun/integration:src/result.txt")
    assert len(stub.main_turns) == 2 and "1 passed" in json.dumps(stub.main_turns[1]["messages"]), out.explain()
