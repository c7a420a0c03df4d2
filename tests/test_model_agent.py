"""The built-in model agent against a real HTTP server on 127.0.0.1 serving recorded completions."""

from __future__ import annotations

import json

from conftest import bosun, first_parent_merges, git
from fake_openai import FakeOpenAI, completion, edits, streamed

KEY = "sk-test-1234"


def model_repo(project, base_url: str, scope=("src/calc.py",), **project_keys):
    agents = {
        "llm": {
            "kind": "model",
            "base_url": base_url,
            "model": "test-model",
            "api_key_env": "TEST_LLM_KEY",
            "price_in": 3.0,
            "price_out": 15.0,
        }
    }
    return project(
        [{"id": "calc", "scope": list(scope), "prompt": "Add VALUE = 2 to src/calc.py"}],
        {},
        agents=agents,
        extra_files={"src/calc.py": "VALUE = 1\n"},
        **project_keys,
    )


def run(repo):
    return bosun("run", "--headless", "--json", cwd=repo, env={"TEST_LLM_KEY": KEY})


def unit_events(result, unit="calc"):
    return [e for e in map(json.loads, result.stdout.splitlines()) if e["unit"] == unit]


def test_a_good_answer_is_applied_committed_and_merged_with_its_usage(project) -> None:
    with FakeOpenAI([(200, completion(edits({"src/calc.py": "VALUE = 2\n"}), 1000, 200), {})]) as server:
        repo = model_repo(project, server.base_url)
        result = run(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "show", "bosun/integration:src/calc.py") == "VALUE = 2"
    request = server.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {KEY}"
    assert request["body"]["model"] == "test-model"
    prompt = request["body"]["messages"][-1]["content"]
    assert "Add VALUE = 2" in prompt and "VALUE = 1" in prompt  # the task and the file in scope
    submitted = [e for e in unit_events(result) if e["kind"] == "submitted"][0]
    assert submitted["usage"]["prompt_tokens"] == 1000 and submitted["usage"]["completion_tokens"] == 200
    assert submitted["usage"]["cost_usd"] == round((1000 * 3 + 200 * 15) / 1e6, 6)
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    assert status["units"][0]["usage"]["prompt_tokens"] == 1000


def test_429_and_500_are_retried(project) -> None:
    replies = [
        (429, {"error": "slow down"}, {"retry-after": "0"}),
        (500, "oops", {}),
        (200, completion(edits({"src/calc.py": "VALUE = 2\n"})), {}),
    ]
    with FakeOpenAI(replies) as server:
        repo = model_repo(project, server.base_url)
        result = run(repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(server.requests) == 3
    assert first_parent_merges(repo) == ["calc"]


def failure_of(result) -> str:
    failed = [e for e in unit_events(result) if e["kind"] == "failed"]
    assert failed, result.stdout
    return failed[0]["error"]


def test_nonsense_fails_the_unit_with_one_clear_line(project) -> None:
    with FakeOpenAI([(200, completion("Sure! I would love to help with that."), {})]) as server:
        repo = model_repo(project, server.base_url)
        result = run(repo)
    assert result.returncode == 1
    assert "not JSON" in failure_of(result)
    assert first_parent_merges(repo) == []


def test_an_answer_that_is_not_a_completion_fails_clearly(project) -> None:
    with FakeOpenAI([(200, {"hello": "world"}, {})]) as server:
        repo = model_repo(project, server.base_url)
        result = run(repo)
    assert "not a chat completion" in failure_of(result)


def test_out_of_scope_edits_are_refused_and_nothing_is_committed(project) -> None:
    answer = edits({"src/calc.py": "VALUE = 2\n", "src/other.py": "EVIL = 1\n"})
    with FakeOpenAI([(200, completion(answer), {})]) as server:
        repo = model_repo(project, server.base_url)
        result = run(repo)
    assert "src/other.py is outside the scope" in failure_of(result)
    assert git(repo, "rev-parse", "bosun/integration") == git(repo, "rev-parse", "main")
    worktree = repo / ".bosun" / "worktrees" / "calc"
    assert not (worktree / "src" / "other.py").exists()


def test_an_escaping_path_is_refused(project) -> None:
    answer = edits({"../../outside.py": "x = 1\n"})
    with FakeOpenAI([(200, completion(answer), {})]) as server:
        repo = model_repo(project, server.base_url, scope=("src",))
        result = run(repo)
    assert "escapes the repository" in failure_of(result)
    assert not (repo.parent / "outside.py").exists()


def test_an_unreachable_endpoint_fails_clearly(project) -> None:
    with FakeOpenAI() as server:
        url = server.base_url
    repo = model_repo(project, url)  # the server is gone: its port refuses connections
    result = run(repo)
    failure, port = failure_of(result), url.rsplit(":", 1)[1].split("/")[0]
    # Unsandboxed the client cannot connect; sandboxed its egress proxy cannot, and answers 502 saying so.
    assert failure.startswith(f"agent reported blocked: cannot reach http://127.0.0.1:{port}") or (
        failure.startswith(f"agent reported blocked: http://127.0.0.1:{port}/")
        and f"answered HTTP 502: bosun: cannot connect to 127.0.0.1:{port}" in failure
    ), failure


def test_a_unified_diff_is_applied(project) -> None:
    diff = "--- a/src/calc.py\n+++ b/src/calc.py\n@@ -1 +1,2 @@\n VALUE = 1\n+DOUBLE = 2\n"
    answer = json.dumps({"summary": "add DOUBLE", "files": [{"path": "src/calc.py", "diff": diff}]})
    with FakeOpenAI([(200, completion(answer), {})]) as server:
        repo = model_repo(project, server.base_url)
        result = run(repo)
    assert result.returncode == 0, result.stdout
    assert git(repo, "show", "bosun/integration:src/calc.py") == "VALUE = 1\nDOUBLE = 2"


def test_the_key_comes_only_from_the_named_variable(project) -> None:
    with FakeOpenAI([(200, completion(edits({"src/calc.py": "VALUE = 2\n"})), {})]) as server:
        repo = model_repo(project, server.base_url)
        result = bosun("run", "--headless", "--json", cwd=repo)  # TEST_LLM_KEY not set
    assert "TEST_LLM_KEY" in failure_of(result) and server.requests == []


def test_a_streamed_answer_is_read_as_it_arrives_with_progress_in_the_log(project) -> None:
    content = edits({"src/calc.py": "VALUE = 2\n" + "# padding\n" * 100})
    with FakeOpenAI([streamed(content, 700, 300)]) as server:
        repo = model_repo(project, server.base_url)
        result = run(repo)
    assert result.returncode == 0, result.stdout
    assert server.requests[0]["body"]["stream"] is True
    log = (repo / ".bosun" / "logs" / "calc.1.log").read_text()
    assert "receiving:" in log and "answer received" in log
    submitted = [e for e in unit_events(result) if e["kind"] == "submitted"][0]
    assert submitted["usage"]["prompt_tokens"] == 700 and submitted["usage"]["completion_tokens"] == 300


def test_a_broken_stream_fails_clearly(project) -> None:
    with FakeOpenAI([(200, "data: {not json}\n\n", {"content-type": "text/event-stream"})]) as server:
        repo = model_repo(project, server.base_url)
        result = run(repo)
    assert "not a chat completion" in failure_of(result)
