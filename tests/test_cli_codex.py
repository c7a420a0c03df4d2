"""The `codex` preset with the real Codex CLI (npm @openai/codex), pointed at a stub of the OpenAI
Responses API on 127.0.0.1 through a `model_providers` entry in `$CODEX_HOME/config.toml`
(`wire_api = "responses"`): the stub streams a call of Codex's own `exec_command` tool running
`apply_patch`, which Codex intercepts and applies itself; Bosun commits the change (autocommit),
gates and merges it, and records the tokens from Codex's `exec --json` `turn.completed` events.
Codex prints no cost, so none is recorded."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import first_parent_merges, git
from stubs.clis import RUN_TESTS, TESTED_PROJECT, cli, run_preset
from stubs.openai_responses import INPUT_TOKENS, OUTPUT_TOKENS, ResponsesStub

PATCH = "*** Begin Patch\n*** Update File: src/calc.py\n@@\n-VALUE = 1\n+VALUE = 42\n*** End Patch\n"

# What a user puts in ~/.codex/config.toml to use their own endpoint, plus what keeps Codex from
# calling home (analytics, feedback, plugin and app catalogues, update checks).
CONFIG = """\
model = "stub-model"
model_provider = "stub"
check_for_update_on_startup = false

[model_providers.stub]
name = "stub"
base_url = "{url}/v1"
wire_api = "responses"
env_key = "STUB_API_KEY"

[analytics]
enabled = false

[feedback]
enabled = false

[features]
plugins = false
remote_plugin = false
apps = false
in_app_updates = false
"""


def apply_patch_call(body: dict) -> dict:
    return {
        "type": "function_call",
        "id": "fc_stub",
        "call_id": "call_stub",
        "name": "exec_command",
        "arguments": json.dumps({"cmd": f"apply_patch <<'PATCH'\n{PATCH}PATCH\n"}),
    }


def test_codex_patches_with_its_own_tool_and_bosun_merges(project, tmp_path: Path) -> None:
    program = cli("codex")
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir()
    with ResponsesStub(apply_patch_call) as stub:
        (codex_home / "config.toml").write_text(CONFIG.format(url=stub.url))
        env = {"CODEX_HOME": str(codex_home), "STUB_API_KEY": "sk-stub"}
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="codex",
            env=env,
            scope=["src/calc.py"],
            prompt="Set VALUE to 42 in src/calc.py",
            extra_files={"src/calc.py": "VALUE = 1\n"},
            mounts=[f"{codex_home}:rw"],
        )
    assert out.result.returncode == 0, out.explain()
    assert first_parent_merges(out.repo) == ["calc"]
    assert git(out.repo, "show", "bosun/integration:src/calc.py") == "VALUE = 42"
    # Codex applied the patch itself (a file_change item), and sent the tool's output back.
    assert '"type":"file_change"' in out.log and '"status":"completed"' in out.log, out.explain()
    assert len(stub.turns) == 2 and "Success. Updated the following files" in json.dumps(stub.turns[1]["input"])
    assert "Set VALUE to 42 in src/calc.py" in json.dumps(stub.turns[0]["input"])
    assert all(p == "POST /v1/responses" for p in stub.paths()), stub.paths()
    usage = out.unit("calc")["usage"]
    assert usage == {"prompt_tokens": 2 * INPUT_TOKENS, "completion_tokens": 2 * OUTPUT_TOKENS}, usage
    assert out.agent("cli")["usage"] == usage


def test_codex_runs_the_projects_tests_in_its_worktree(project, tmp_path: Path) -> None:
    program = cli("codex")
    codex_home = tmp_path / "codex-home"
    codex_home.mkdir()

    def run_tests(body: dict) -> dict:
        arguments = json.dumps({"cmd": RUN_TESTS})
        return {
            "type": "function_call",
            "id": "fc_t",
            "call_id": "call_t",
            "name": "exec_command",
            "arguments": arguments,
        }

    with ResponsesStub(run_tests) as stub:
        (codex_home / "config.toml").write_text(CONFIG.format(url=stub.url))
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="codex",
            env={"CODEX_HOME": str(codex_home), "STUB_API_KEY": "sk-stub"},
            scope=["src/result.txt"],
            prompt="Run the tests",
            extra_files=TESTED_PROJECT,
            mounts=[f"{codex_home}:rw"],
        )
    assert out.result.returncode == 0, out.explain()
    assert "1 passed" in git(out.repo, "show", "bosun/integration:src/result.txt")
    assert len(stub.turns) == 2 and "1 passed" in json.dumps(stub.turns[1]["input"]), out.explain()
