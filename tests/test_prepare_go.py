"""A Go module through `[project] setup` (issue 25): the build cache setup warmed is shared with
every agent and gate of its key, read-only, so the second worktree costs nothing and no agent can
plant a build result another links. Real `go`, real sandbox, real `bosun run --headless`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import bosun, first_parent_merges, git, needs_tool

from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
GO = shutil.which("go")
pytestmark = [
    needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}"),
    needs_tool(None if GO else "go is not installed (Debian: apt-get install golang-go)"),
]

SECRET = "go-secret-3f9a1c-never-committed"
GO_MOD = "module example.com/calc\n\ngo 1.19\n"
CALC = "package calc\n\n// Add adds.\nfunc Add(a, b int) int { return a + b }\n"
# Each agent: its tests pass before its edit, it adds a test, they pass after; it tries to write
# into the shared build cache (refused: read-only) and says which cache it was given.
AGENT = (
    "go test ./... > /dev/null && "
    'printf \'package calc\\n\\nimport "testing"\\n\\nfunc Test%s(t *testing.T) {\\n'
    '\\tif Add(2, 3) != 5 {\\n\\t\\tt.Fatal("sum")\\n\\t}\\n}\\n\' $BOSUN_UNIT > ${BOSUN_UNIT}_test.go && '
    "go test -count=1 ./... > /dev/null && "
    'echo "$GOCACHE" > seen-$BOSUN_UNIT.txt && grep -c never-committed .env >> seen-$BOSUN_UNIT.txt && '
    "(touch $GOCACHE/poison 2>/dev/null && echo POISONED >> seen-$BOSUN_UNIT.txt || true)"
)


def test_a_go_module_is_prepared_once_and_its_build_cache_shared_read_only(project, tmp_path: Path) -> None:
    units = [{"id": f"u{i}", "scope": [f"u{i}_test.go", f"seen-u{i}.txt"]} for i in range(4)]
    script = {f"u{i}": [[{"run": ["sh", "-c", AGENT], "check": True}, {"commit": f"test {i}"}]] for i in range(4)}
    agents = {f"a{i}": {"kind": "scripted", "script": "team.toml"} for i in range(4)}
    repo = project(
        units,
        script,
        agents=agents,
        sandbox="auto",
        max_agents=4,
        setup=["go build ./... && go test -count=1 -run '^$' ./..."],
        setup_key=["go.mod", "go.sum"],
        copy=[".env"],
        setup_network="none",
        gate="go test ./...",
        extra_files={"go.mod": GO_MOD, "calc.go": CALC},
    )
    (repo / ".env").write_text(f"TOKEN={SECRET}\n")
    result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)}, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert sorted(first_parent_merges(repo)) == ["u0", "u1", "u2", "u3"]
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    prepared = [e for e in events if e["kind"] == "prepared"]
    assert len(prepared) == 4 and sum(not e["reused"] for e in prepared) == 1, prepared
    for unit in ("u0", "u1", "u2", "u3"):
        seen = git(repo, "show", f"bosun/integration:seen-{unit}.txt").split()
        assert seen == ["/tmp/bosun/work/.bosun-cache/go-build", "1"], (unit, seen)
    (store,) = [p for p in (repo / ".bosun" / "prepared").iterdir() if len(p.name) == 64]
    cache = store / "files" / ".bosun-cache" / "go-build"
    assert any(cache.rglob("*-d")), "setup left no build results in the shared cache"
    assert not (cache / "poison").exists()
    tracked = git(repo, "ls-tree", "-r", "--name-only", "bosun/integration").split()
    assert ".env" not in tracked and not [p for p in tracked if p.startswith(".bosun-cache")], tracked
    assert SECRET not in git(repo, "log", "-p", "--all") + result.stdout + result.stderr
    for path in (repo / ".bosun").rglob("*.log"):
        assert SECRET not in path.read_text(errors="replace"), path


CALC_TEST = 'package calc\n\nimport "testing"\n\n' + (
    'func TestAdd(t *testing.T) {\n\tif Add(2, 3) != 5 {\n\t\tt.Fatal("sum")\n\t}\n}\n'
)


def test_claude_code_runs_go_test_in_a_prepared_worktree(project, tmp_path: Path) -> None:
    """The real Claude Code through its preset: its stub model writes a Go test with the Write tool,
    then runs `go test ./...` with its Bash tool in the worktree that setup prepared (the shared
    build cache); the test passes there and in the gate, and the unit merges."""
    from stubs.anthropic import AnthropicStub
    from stubs.clis import cli, run_preset

    program = cli("claude")
    run = "go test -count=1 ./... > result.txt 2>&1; echo $GOCACHE >> result.txt; cat result.txt"
    with AnthropicStub("calc_test.go", CALC_TEST, then_run=run) as stub:
        env = {"ANTHROPIC_BASE_URL": stub.url, "ANTHROPIC_API_KEY": "sk-ant-stub"}
        out = run_preset(
            project,
            tmp_path,
            program,
            preset="claude-code",
            env=env,
            scope=["calc_test.go", "result.txt"],
            prompt="Add a test of Add and run the module's tests",
            extra_files={"go.mod": GO_MOD, "calc.go": CALC},
            setup=["go build ./... && go test -count=1 -run '^$' ./..."],
            setup_key=["go.mod", "go.sum"],
            setup_network="none",
            gate="go test ./...",
            timeout=300,
        )
    assert out.result.returncode == 0, out.explain()
    assert first_parent_merges(out.repo) == ["calc"]
    assert len(stub.tool_results) == 2, stub.tool_results
    assert "ok  \\texample.com/calc" in stub.tool_results[1], stub.tool_results[1]  # as JSON: \t escaped
    result = git(out.repo, "show", "bosun/integration:result.txt")
    assert "ok  \texample.com/calc" in result and "/tmp/bosun/work/.bosun-cache/go-build" in result, result
    assert [e["reused"] for e in out.events if e["kind"] == "prepared"] == [False], out.events
