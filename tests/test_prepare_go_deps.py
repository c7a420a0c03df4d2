"""A Go module with real third-party dependencies through `[project] setup` (issue 25), offline.

The project (tests/gomodules.py) imports go-md2man (which brings blackfriday), google/uuid and
go-multierror (which brings errwrap); a module proxy is made at test time from the sources
Debian's golang-*-dev packages install, and served over HTTP on 127.0.0.1 as a company's Go
proxy is. The user's `GOPROXY` reaches setup through `gate_env`; setup (`go mod download`, then
a build) runs once per go.mod/go.sum and fills the module and build caches every worktree and
gate then reads, read-only, with no network. Real `go`, real sandbox, real `bosun run`."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import gomodules
import pytest
from conftest import bosun, first_parent_merges, git, needs_tool

from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
pytestmark = [
    pytest.mark.slow,
    needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}"),
    needs_tool(None if shutil.which("go") else "go is not installed (Debian: apt-get install golang-go)"),
    needs_tool(gomodules.missing() if shutil.which("dpkg-query") else "dpkg-query is missing: not a Debian system"),
]

SECRET = "godeps-secret-91d0e4-never-committed"
PREPARED = {
    "setup": ["go mod download", "go build ./... && go test -count=1 -run '^$' ./..."],
    "setup_key": ["go.mod", "go.sum"],
    "copy": [".env"],
    "setup_network": "host",  # the proxy listens on this machine's loopback
    "gate_env": ["GOPROXY"],  # the user's GOPROXY, passed to setup (and the gate, which has no network)
    "gate": "go test ./...",
}
ZIPS = sorted(f"/{module}/@v/{version}.zip" for module, version, _package in gomodules.MODULES)
# Each agent: the tests pass before its edit, it adds one, they pass after (the dependencies from
# the shared module cache, no network); it tries to write into that cache (refused: read-only).
AGENT = (
    "go test ./... > /dev/null && "
    'printf \'package notes\\n\\nimport "testing"\\n\\nfunc Test%s(t *testing.T) {\\n'
    '\\tif New("a", "x").ID != New("a", "y").ID {\\n\\t\\tt.Fatal("the title decides")\\n\\t}\\n}\\n\' '
    "$BOSUN_UNIT > ${BOSUN_UNIT}_test.go && go test -count=1 ./... > /dev/null && "
    'echo "$GOMODCACHE" > seen-$BOSUN_UNIT.txt && grep -c never-committed .env >> seen-$BOSUN_UNIT.txt && '
    "(touch $GOMODCACHE/github.com/poison 2>/dev/null && echo POISONED >> seen-$BOSUN_UNIT.txt || true)"
)


def _with_modules(project, tmp_path: Path, proxy: Path):
    """The `project` factory, plus the Go module and its go.mod/go.sum tidied against `proxy`."""

    def make(units: list[dict], script: dict, extra_files: dict | None = None, **keys) -> Path:
        repo = project(units, script, extra_files={**gomodules.FILES, **(extra_files or {})}, **keys)
        gomodules.tidy(repo, proxy, tmp_path)
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "go.mod and go.sum, tidied")
        (repo / ".env").write_text(f"TOKEN={SECRET}\n")
        return repo

    return make


def test_the_proxys_go_mod_files_are_the_public_ones(tmp_path: Path) -> None:
    """Debian's trees lack LICENSE and README, so their zips hash differently from the public ones;
    their go.mod files (and the one made up for errwrap v1.0.0) hash as the upstream go.sum files
    Debian ships say they do."""
    proxy = gomodules.build(tmp_path / "proxy")
    repo = tmp_path / "notes"
    repo.mkdir()
    for name, text in gomodules.FILES.items():
        (repo / name).write_text(text)
    ours = set(gomodules.tidy(repo, proxy, tmp_path).splitlines())
    upstream = set()
    for module in ("github.com/hashicorp/go-multierror", "github.com/cpuguy83/go-md2man/v2"):
        upstream |= set((gomodules.SOURCES / module / "go.sum").read_text().splitlines())
    mods = {line for line in upstream if "/go.mod h1:" in line}
    assert "github.com/hashicorp/errwrap v1.0.0/go.mod h1:YH+1FKiLXxHSkmPseP+kNlulaMuP3n2brvKWEqk/Jc4=" in mods
    assert mods <= ours, mods - ours
    assert len([line for line in ours if "/go.mod" not in line]) == len(gomodules.MODULES), ours


def test_go_mod_download_runs_once_and_the_module_cache_is_shared_read_only(
    project, tmp_path: Path, monkeypatch
) -> None:
    proxy = gomodules.build(tmp_path / "proxy")
    units = [{"id": f"u{i}", "scope": [f"u{i}_test.go", f"seen-u{i}.txt"]} for i in range(3)]
    script = {f"u{i}": [[{"run": ["sh", "-c", AGENT], "check": True}, {"commit": f"test {i}"}]] for i in range(3)}
    agents = {f"a{i}": {"kind": "scripted", "script": "team.toml"} for i in range(3)}
    repo = _with_modules(project, tmp_path, proxy)(
        units, script, agents=agents, sandbox="auto", max_agents=3, **PREPARED
    )
    with gomodules.Served(proxy) as served:
        monkeypatch.setenv("GOPROXY", served.url)
        result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)}, timeout=400)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert sorted(first_parent_merges(repo)) == ["u0", "u1", "u2"]
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    prepared = [e for e in events if e["kind"] == "prepared"]
    assert len(prepared) == 3 and sum(not e["reused"] for e in prepared) == 1, prepared
    # Every zip was asked for once: by the one setup; no worktree or gate downloaded anything.
    assert sorted(p for p in served.asked if p.endswith(".zip")) == ZIPS, served.asked
    for unit in ("u0", "u1", "u2"):
        seen = git(repo, "show", f"bosun/integration:seen-{unit}.txt").split()
        assert seen == ["/tmp/bosun/work/.bosun-cache/go-mod", "1"], (unit, seen)
    (store,) = [p for p in (repo / ".bosun" / "prepared").iterdir() if len(p.name) == 64]
    modules = store / "files" / ".bosun-cache" / "go-mod"
    for module, version, _package in gomodules.MODULES:
        assert (modules / f"{module}@{version}" / "go.mod").is_file(), (module, version)
    assert not (modules / "github.com" / "poison").exists()
    assert any((store / "files" / ".bosun-cache" / "go-build").rglob("*-d")), "setup built nothing"
    tracked = git(repo, "ls-tree", "-r", "--name-only", "bosun/integration").split()
    assert ".env" not in tracked and not [p for p in tracked if p.startswith(".bosun-cache")], tracked
    assert SECRET not in git(repo, "log", "-p", "--all") + result.stdout + result.stderr
    for path in (repo / ".bosun").rglob("*.log"):
        assert SECRET not in path.read_text(errors="replace"), path


def test_a_proxy_serving_other_code_than_go_sum_names_fails_setup(project, tmp_path: Path, monkeypatch) -> None:
    """The proxy's uuid zip changed after go.sum was written (one line added to a file): `go mod
    download` refuses it, setup fails, the unit fails with reason `setup` and no agent starts."""
    proxy = gomodules.build(tmp_path / "proxy")
    units = [{"id": "u0", "scope": ["u0_test.go", "seen-u0.txt"]}]
    script = {"u0": [[{"run": ["sh", "-c", AGENT], "check": True}, {"commit": "test"}]]}
    repo = _with_modules(project, tmp_path, proxy)(units, script, sandbox="auto", **PREPARED)
    name = proxy / "github.com/google/uuid/@v/v1.3.0.zip"
    with zipfile.ZipFile(name) as old:
        files = {info.filename: old.read(info) for info in old.infolist()}
    files["github.com/google/uuid@v1.3.0/uuid.go"] += b"\nvar planted = 1\n"
    with zipfile.ZipFile(name, "w") as new:
        for path, data in files.items():
            new.writestr(path, data)
    with gomodules.Served(proxy) as served:
        monkeypatch.setenv("GOPROXY", served.url)
        result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)}, timeout=300)
    failed = [line for line in result.stdout.splitlines() if '"kind": "failed"' in line]
    assert failed and '"reason": "setup"' in failed[0] and "checksum mismatch" in failed[0], result.stdout
    assert first_parent_merges(repo) == []
    assert not list(repo.glob(".bosun/worktrees/*/seen-u0.txt"))


def test_claude_code_runs_go_test_with_the_prepared_dependencies(project, tmp_path: Path, monkeypatch) -> None:
    """The real Claude Code through its preset: its stub model writes a Go test that uses uuid with
    the Write tool, then runs `go test ./...` with its Bash tool in the worktree setup prepared
    (module cache shared, no network); the tests pass there and in the gate, and the unit merges."""
    from stubs.anthropic import AnthropicStub
    from stubs.clis import cli, run_preset

    program = cli("claude")
    proxy = gomodules.build(tmp_path / "proxy")
    new_test = (
        'package notes\n\nimport (\n\t"testing"\n\n\t"github.com/google/uuid"\n)\n\n'
        'func TestIDVersion(t *testing.T) {\n\tif New("x", "y").ID.Version() != uuid.Version(5) {\n'
        '\t\tt.Fatal("not a SHA-1 UUID")\n\t}\n}\n'
    )
    run = "go test -count=1 -v ./... > result.txt 2>&1; echo $GOMODCACHE >> result.txt; cat result.txt"
    with gomodules.Served(proxy) as served, AnthropicStub("id_test.go", new_test, then_run=run) as stub:
        monkeypatch.setenv("GOPROXY", served.url)
        env = {"ANTHROPIC_BASE_URL": stub.url, "ANTHROPIC_API_KEY": "sk-ant-stub"}
        out = run_preset(
            _with_modules(project, tmp_path, proxy),
            tmp_path,
            program,
            preset="claude-code",
            env=env,
            scope=["id_test.go", "result.txt"],
            prompt="Add a test of the notes' IDs and run the module's tests",
            timeout=400,
            **PREPARED,
        )
    assert out.result.returncode == 0, out.explain()
    assert first_parent_merges(out.repo) == ["calc"]
    assert len(stub.tool_results) == 2, stub.tool_results
    result = git(out.repo, "show", "bosun/integration:result.txt")
    for line in ("--- PASS: TestIDVersion", "--- PASS: TestMan", "ok  \texample.com/notes"):
        assert line in result, result
    assert "/tmp/bosun/work/.bosun-cache/go-mod" in result, result
    assert "--- PASS: TestIDVersion" in stub.tool_results[1], stub.tool_results[1]
    assert [e["reused"] for e in out.events if e["kind"] == "prepared"] == [False], out.events
    assert sorted(p for p in served.asked if p.endswith(".zip")) == ZIPS, served.asked
    assert SECRET not in git(out.repo, "log", "-p", "--all") + out.result.stdout + out.log
