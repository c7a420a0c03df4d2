"""A TypeScript project through `[project] setup = ["npm ci"]` (issue 25): `node_modules` is
installed once per `package-lock.json` and bound read-only into every worktree and gate, where
`npm test` (tsc, then node --test) runs. Offline: the dependencies are npm tarballs in the
repository (TypeScript packed from the copy `.ci/run` installs, and a small library), so `npm ci`
really unpacks them and the registry is never asked. Real npm, real sandbox, real `bosun run`."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import ROOT, bosun, first_parent_merges, git, needs_tool

from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
TYPESCRIPT = ROOT / ".tools" / "node_modules" / "typescript"
pytestmark = [
    pytest.mark.slow,
    needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}"),
    needs_tool(None if shutil.which("npm") else "npm is not installed"),
    needs_tool(None if TYPESCRIPT.is_dir() else f"TypeScript is not installed at {TYPESCRIPT} (.ci/run)"),
]

VERSION = json.loads((TYPESCRIPT / "package.json").read_text())["version"] if TYPESCRIPT.is_dir() else "0"
SECRET = "npm-secret-7c2e41-never-committed"
PACKAGE = {
    "name": "calc",
    "version": "1.0.0",
    "private": True,
    "scripts": {"test": "tsc -p . && node --test dist/"},
    "dependencies": {"tiny-sum": "file:vendor/tiny-sum-1.0.0.tgz"},
    "devDependencies": {"typescript": f"file:vendor/typescript-{VERSION}.tgz"},
}
TSCONFIG = {
    "compilerOptions": {"target": "ES2022", "module": "commonjs", "outDir": "dist", "strict": True},
    "include": ["src"],
}
# Without @types/node (not installed offline): node's modules through a declared `require`.
TEST_TS = (
    'declare const require: (name: string) => any;\nconst test = require("node:test");\n'
    'const { strictEqual } = require("node:assert");\nimport { sum } from "tiny-sum";\n\n'
)
# Each agent: `npm test` passes before its edit, it adds a test, it passes after; it tries to write
# into the shared node_modules (refused: read-only).
AGENT = (
    "npm test --silent >&2 && "
    f"printf '{TEST_TS.replace(chr(10), chr(92) + 'n')}test(\"%s\", () => strictEqual(sum(2, 3), 5));\\n' $BOSUN_UNIT "
    "> src/$BOSUN_UNIT.test.ts && npm test --silent >&2 && "
    "grep -c never-committed .env > seen-$BOSUN_UNIT.txt && "
    "(touch node_modules/tiny-sum/poison 2>/dev/null && echo POISONED >> seen-$BOSUN_UNIT.txt || true)"
)


def _npm(*args: str, cwd: Path) -> None:
    subprocess.run(["npm", *args, "--offline", "--no-audit", "--no-fund", "--silent"], cwd=cwd, check=True)


FILES = {
    "package.json": json.dumps(PACKAGE),
    "tsconfig.json": json.dumps(TSCONFIG),
    ".gitignore": "dist/\nnode_modules/\n",
    "src/sum.test.ts": TEST_TS + 'test("sum", () => strictEqual(sum(1, 2), 3));\n',
}
PREPARED = {
    "setup": ["npm ci --offline --no-audit --no-fund"],
    "setup_key": ["package-lock.json"],
    "copy": [".env"],
    "setup_network": "none",
    "gate": "npm test",
}


def _with_dependencies(project, tmp_path: Path):
    """The `project` factory, plus the dependencies packed into vendor/ and their lock file."""

    def make(units: list[dict], script: dict, **keys) -> Path:
        repo = project(units, script, **keys)
        lib = tmp_path / "tiny-sum"
        lib.mkdir()
        (lib / "package.json").write_text('{"name": "tiny-sum", "version": "1.0.0", "main": "index.js"}')
        (lib / "index.js").write_text("exports.sum = (a, b) => a + b;\n")
        (lib / "index.d.ts").write_text("export declare function sum(a: number, b: number): number;\n")
        (repo / "vendor").mkdir()
        _npm("pack", f"--pack-destination={repo / 'vendor'}", str(lib), str(TYPESCRIPT.resolve()), cwd=tmp_path)
        _npm("install", "--package-lock-only", cwd=repo)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "the dependencies, packed, and their lock file")
        (repo / ".env").write_text(f"TOKEN={SECRET}\n")
        return repo

    return make


def test_npm_ci_runs_once_and_node_modules_is_shared_read_only(project, tmp_path: Path) -> None:
    units = [{"id": f"u{i}", "scope": [f"src/u{i}.test.ts", f"seen-u{i}.txt"]} for i in range(3)]
    script = {f"u{i}": [[{"run": ["sh", "-c", AGENT], "check": True}, {"commit": f"test {i}"}]] for i in range(3)}
    agents = {f"a{i}": {"kind": "scripted", "script": "team.toml"} for i in range(3)}
    make = _with_dependencies(project, tmp_path)
    repo = make(units, script, agents=agents, sandbox="auto", max_agents=3, extra_files=FILES, **PREPARED)
    result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)}, timeout=400)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert sorted(first_parent_merges(repo)) == ["u0", "u1", "u2"]
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    prepared = [e for e in events if e["kind"] == "prepared"]
    assert len(prepared) == 3 and sum(not e["reused"] for e in prepared) == 1, prepared
    for unit in ("u0", "u1", "u2"):
        assert git(repo, "show", f"bosun/integration:seen-{unit}.txt").split() == ["1"], unit
    (store,) = [p for p in (repo / ".bosun" / "prepared").iterdir() if len(p.name) == 64]
    modules = store / "files" / "node_modules"
    assert (modules / "typescript" / "bin" / "tsc").is_file() and not (modules / "tiny-sum" / "poison").exists()
    tracked = git(repo, "ls-tree", "-r", "--name-only", "bosun/integration").split()
    assert ".env" not in tracked and not [p for p in tracked if p.startswith(("node_modules", "dist"))], tracked
    assert SECRET not in git(repo, "log", "-p", "--all") + result.stdout + result.stderr
    for path in (repo / ".bosun").rglob("*.log"):
        assert SECRET not in path.read_text(errors="replace"), path


def test_claude_code_runs_npm_test_in_a_prepared_worktree(project, tmp_path: Path) -> None:
    """The real Claude Code through its preset: its stub model writes a TypeScript test with the
    Write tool, then runs `npm test` (tsc, node --test) with its Bash tool in the worktree whose
    node_modules setup prepared; the tests pass there and in the gate, and the unit merges."""
    from stubs.anthropic import AnthropicStub
    from stubs.clis import cli, run_preset

    program = cli("claude")
    new_test = TEST_TS + 'test("cli", () => strictEqual(sum(20, 22), 42));\n'
    run = "npm test > result.txt 2>&1; cat result.txt"
    with AnthropicStub("src/cli.test.ts", new_test, then_run=run) as stub:
        env = {"ANTHROPIC_BASE_URL": stub.url, "ANTHROPIC_API_KEY": "sk-ant-stub"}
        out = run_preset(
            _with_dependencies(project, tmp_path),
            tmp_path,
            program,
            preset="claude-code",
            env=env,
            scope=["src/cli.test.ts", "result.txt"],
            prompt="Add a test of sum and run the project's tests",
            extra_files=FILES,
            timeout=400,
            **PREPARED,
        )
    assert out.result.returncode == 0, out.explain()
    assert first_parent_merges(out.repo) == ["calc"]
    assert len(stub.tool_results) == 2, stub.tool_results
    result = git(out.repo, "show", "bosun/integration:result.txt")
    assert "# pass 2" in result and "# fail 0" in result, result  # sum.test and the CLI's own
    assert "# pass 2" in stub.tool_results[1], stub.tool_results[1]
    assert [e["reused"] for e in out.events if e["kind"] == "prepared"] == [False], out.events
    assert SECRET not in git(out.repo, "log", "-p", "--all") + out.result.stdout + out.log
