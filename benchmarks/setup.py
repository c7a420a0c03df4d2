"""Prepared worktrees on a real project: `[project] setup` cold and warm, and disk per worktree.

    python benchmarks/setup.py SOURCE_REPO DEST [--project python|go|go-deps|ts] [--agents 4] [--units 4]

DEST becomes a new repository holding SOURCE_REPO's HEAD (for `--project ts`, SOURCE_REPO is not
read: a small TypeScript project is written, its lock file resolved from the npm registry), an
untracked `.env` holding a secret, and a plan with `setup`, `setup_key`, `copy = [".env"]` and
the project's tests as `gate`:

- python (2026-12-04: pallets/itsdangerous): a virtualenv with the project installed editable
  plus pytest and freezegun from the package index, keyed by `pyproject.toml`;
- go (2026-12-04: google/uuid, the standard library only; the Go module proxy is out of reach
  here): `go build ./... && go test -run '^$' ./...` warms the build cache Bosun keeps in the tree
  (`.bosun-cache/`), keyed by `go.mod` and `go.sum`, no network;
- go-deps (SOURCE_REPO not read): tests/gomodules.py's module, whose five dependencies (go-md2man,
  blackfriday, uuid, go-multierror, errwrap) come from a module proxy made from Debian's
  golang-*-dev trees and served on 127.0.0.1 as GOPROXY (passed through `gate_env`):
  `go mod download`, then a build, keyed by `go.mod` and `go.sum`;
- ts: `npm ci` from the registry, keyed by `package-lock.json`, `gate = "npm test"` (tsc, then
  `node --test`).

Each unit's agent (a command of a few lines, outside the repository) runs the project's tests
where the language allows it cheaply, adds a test, runs the tests again, and commits.
`bosun run --headless` runs them with `--agents` agents in the sandbox.

Printed: each worktree's preparation (the `prepared` events: the first runs setup, the others
reuse it), the ratio warm/cold, the disk each worktree takes against the shared environment,
the units merged, and where the secret was found (it must be nowhere: no commit, diff, log or
event).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import gomodules  # a module proxy made from Debian's Go module sources (--project go-deps)

SECRET = "bosun-bench-secret-5b0e2f"
PY_AGENT = '''"""Adds one test to the project, runs it with the worktree's prepared .venv, commits."""
import json, subprocess, sys
task = json.load(open(sys.argv[1]))
name = f"tests/test_bosun_{task['unit']}.py"
with open(name, "w") as out:
    out.write("from itsdangerous import Signer\\n\\n\\ndef test_round_trip():\\n"
              f"    s = Signer('k')\\n    assert s.unsign(s.sign(b'{task['unit']}')) == b'{task['unit']}'\\n")
ran = subprocess.run([".venv/bin/python", "-B", "-m", "pytest", "-q", "-p", "no:cacheprovider", name])
if ran.returncode != 0:
    sys.exit("the new test failed in the worktree")
subprocess.run(["git", "add", "-A"], check=True)
subprocess.run(["git", "commit", "-qm", f"test {task['unit']}"], check=True)
'''
GO_AGENT = '''"""Runs the module's tests, adds one, runs them again (the shared read-only build cache), commits."""
import json, subprocess, sys
task = json.load(open(sys.argv[1]))
unit = task["unit"]
if subprocess.run(["go", "test", "./..."]).returncode != 0:
    sys.exit("the tests failed before the edit")
with open(f"bosun_{unit}_test.go", "w") as out:
    out.write("package uuid\\n\\nimport \\"testing\\"\\n\\n"
              f"func TestBosun{unit.upper()}(t *testing.T) {{\\n"
              f"\\tu := NewSHA1(NameSpaceDNS, []byte(\\"{unit}\\"))\\n"
              "\\tif v, err := Parse(u.String()); err != nil || v != u {\\n\\t\\tt.Fatal(err)\\n\\t}\\n}\\n")
if subprocess.run(["go", "test", "-count=1", "./..."]).returncode != 0:
    sys.exit("the tests failed after the edit")
subprocess.run(["git", "add", "-A"], check=True)
subprocess.run(["git", "commit", "-qm", f"test {unit}"], check=True)
'''
# The same agent on tests/gomodules.py's module, its test using a dependency (uuid).
GO_DEPS_AGENT = (
    GO_AGENT.replace(
        'package uuid\\n\\nimport \\"testing\\"',
        'package notes\\n\\nimport (\\"testing\\"; \\"github.com/google/uuid\\")',
    )
    .replace("NewSHA1(NameSpaceDNS, []byte(", "New(")
    .replace('\\"{unit}\\"))', '\\"{unit}\\", \\"x\\").ID')
    .replace("Parse(", "uuid.Parse(")
)
TS_AGENT = '''"""Runs `npm test` (tsc, then node --test, with the shared node_modules), adds a test, again, commits."""
import json, subprocess, sys
task = json.load(open(sys.argv[1]))
unit = task["unit"]
if subprocess.run(["npm", "test", "--silent"]).returncode != 0:
    sys.exit("the tests failed before the edit")
with open(f"src/bosun_{unit}.test.ts", "w") as out:
    out.write('import test from "node:test";\\nimport assert from "node:assert/strict";\\n'
              f'import {{ sum }} from "./sum";\\n\\ntest("{unit}", () => assert.equal(sum(2, 3), 5));\\n')
if subprocess.run(["npm", "test", "--silent"]).returncode != 0:
    sys.exit("the tests failed after the edit")
subprocess.run(["git", "add", "-A"], check=True)
subprocess.run(["git", "commit", "-qm", f"test {unit}"], check=True)
'''
# A small TypeScript project whose dependencies come from npm (--project ts).
TS_FILES = {
    "package.json": json.dumps(
        {
            "name": "bosun-bench-ts",
            "version": "1.0.0",
            "private": True,
            "scripts": {"test": "tsc -p . && node --test dist/"},
            "devDependencies": {"typescript": "5.6.3", "@types/node": "20.17.9"},
        },
        indent=2,
    ),
    "tsconfig.json": json.dumps(
        {
            "compilerOptions": {
                "target": "ES2022",
                "module": "commonjs",
                "outDir": "dist",
                "strict": True,
                "esModuleInterop": True,
                "types": ["node"],
            },
            "include": ["src"],
        },
        indent=2,
    ),
    ".gitignore": "dist/\nnode_modules/\n",
    ".npmrc": "update-notifier=false\nfund=false\naudit=false\n",
    "src/sum.ts": "export function sum(a: number, b: number): number {\n  return a + b;\n}\n",
    "src/sum.test.ts": 'import test from "node:test";\nimport assert from "node:assert/strict";\n'
    'import { sum } from "./sum";\n\ntest("sum", () => assert.equal(sum(1, 2), 3));\n',
}


@dataclass(frozen=True)
class Project:
    agent: str
    setup: str
    setup_key: tuple[str, ...]
    gate: str
    added: str  # the file each unit's agent adds, its scope
    network: str = "host"


PROJECTS = {
    "python": Project(
        PY_AGENT,
        "python3 -m venv .venv && .venv/bin/pip install -q -e . pytest freezegun",
        ("pyproject.toml",),
        ".venv/bin/python -B -m pytest -q -p no:cacheprovider",
        "tests/test_bosun_{unit}.py",
    ),
    "go": Project(
        GO_AGENT,
        "go build ./... && go test -count=1 -run '^$' ./...",
        ("go.mod", "go.sum"),
        "go test ./...",
        "bosun_{unit}_test.go",
        "none",
    ),
    "go-deps": Project(
        GO_DEPS_AGENT,
        "go mod download && go build ./... && go test -count=1 -run '^$' ./...",
        ("go.mod", "go.sum"),
        "go test ./...",
        "bosun_{unit}_test.go",
    ),
    "ts": Project(
        TS_AGENT, "npm ci --no-audit --no-fund", ("package-lock.json",), "npm test", "src/bosun_{unit}.test.ts"
    ),
}


def git(*args: str, cwd: Path) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@b", "GIT_COMMITTER_NAME": "b"}
    env["GIT_COMMITTER_EMAIL"] = "b@b"
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def du(path: Path) -> int:
    """Bytes under `path`, each file once (no link followed)."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except OSError:
                pass
    return total


def checkout(kind: str, source: Path, dest: Path) -> None:
    if kind == "go-deps":
        dest.mkdir(parents=True)
        git("init", "-q", "-b", "main", cwd=dest)
        for name, text in gomodules.FILES.items():
            (dest / name).write_text(text)
        proxy = gomodules.build(proxy_of(dest))
        gomodules.tidy(dest, proxy, dest.parent)
        git("add", "-A", cwd=dest)
        git("commit", "-qm", "a Go module with dependencies", cwd=dest)
        return
    if kind != "ts":
        git("clone", "-q", "--no-hardlinks", str(source), str(dest), cwd=source.parent)
        git("remote", "remove", "origin", cwd=dest)
        git("checkout", "-q", "-B", "main", cwd=dest)
        return
    dest.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=dest)
    for name, text in TS_FILES.items():
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        (dest / name).write_text(text)
    subprocess.run(["npm", "install", "--package-lock-only", "--no-audit", "--no-fund"], cwd=dest, check=True)
    git("add", "-A", cwd=dest)
    git("commit", "-qm", "a small TypeScript project", cwd=dest)


def proxy_of(dest: Path) -> Path:
    return dest.parent / f"{dest.name}-goproxy"


def make(kind: str, source: Path, dest: Path, agents: int, units: int) -> None:
    for old in (dest, proxy_of(dest)):
        shutil.rmtree(old, ignore_errors=True)
    checkout(kind, source, dest)
    project = PROJECTS[kind]
    agent = dest.parent / f"{dest.name}-agent.py"
    agent.write_text(project.agent)
    plan = [
        "[project]",
        'merge = "auto"',
        f"max_agents = {agents}",
        f"gate = {json.dumps(project.gate)}",
        'gate_timeout = "5m"',
        f"setup = {json.dumps([project.setup])}",
        f"setup_key = {json.dumps(list(project.setup_key))}",
        'copy = [".env"]',
        f"setup_network = {json.dumps(project.network)}",
        *(['gate_env = ["GOPROXY"]'] if kind == "go-deps" else []),
    ]
    for i in range(agents):
        plan += [
            f"[agents.a{i}]",
            'kind = "command"',
            f"command = {json.dumps([sys.executable, str(agent), '{task_file}'])}",
        ]
    for i in range(units):
        added = project.added.format(unit=f"u{i}")
        plan += ["[[units]]", f'id = "u{i}"', 'prompt = "add a test"', f"scope = {json.dumps([added])}"]
    (dest / "bosun.toml").write_text("\n".join(plan) + "\n")
    git("add", "bosun.toml", cwd=dest)
    git("commit", "-qm", "the plan", cwd=dest)
    (dest / ".env").write_text(f"API_TOKEN={SECRET}\n")


def leaks_of(dest: Path, run: subprocess.CompletedProcess) -> list[str]:
    leaks = []
    if SECRET in git("log", "-p", "--all", cwd=dest):
        leaks.append("a commit")
    if SECRET in run.stdout + run.stderr:
        leaks.append("the events / output")
    leaks += [str(p) for p in (dest / ".bosun").rglob("*.log") if SECRET in p.read_text(errors="replace")]
    db = next((dest / ".bosun").glob("*.db"), None)
    if db is not None and SECRET.encode() in db.read_bytes():
        leaks.append(str(db))
    return leaks


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--project", choices=sorted(PROJECTS), default="python")
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--units", type=int, default=4)
    args = parser.parse_args()
    dest = args.dest.resolve()
    make(args.project, args.source.resolve(), dest, args.agents, args.units)
    served = gomodules.Served(proxy_of(dest)) if args.project == "go-deps" else contextlib.nullcontext()
    with served as proxy:
        env = {**os.environ, **({"GOPROXY": proxy.url} if proxy is not None else {})}
        began = time.monotonic()
        run = subprocess.run(
            [sys.executable, "-m", "bosun.app.cli.main", "run", "--headless", "--json"],
            cwd=dest,
            capture_output=True,
            text=True,
            env=env,
        )
        wall = time.monotonic() - began
    events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    prepared = [e for e in events if e.get("kind") == "prepared"]
    merged = [e["unit"] for e in events if e.get("kind") == "merged"]
    cold = [e["seconds"] for e in prepared if not e["reused"]]
    warm = [e["seconds"] - e.get("waited", 0.0) for e in prepared if e["reused"]]
    print(f"{args.project}: bosun run exit {run.returncode}, {wall:.1f}s, merged {len(merged)}/{args.units}: {merged}")
    for e in prepared:
        how = "reused" if e["reused"] else "ran setup"
        print(f"  prepared {e['unit']}: {how} in {e['seconds']:.3f}s (of which waiting for setup {e['waited']:.3f}s)")
    if cold and warm:
        mean = sum(warm) / len(warm)
        print(f"cold {max(cold):.2f}s, warm mean {mean:.3f}s (waiting excluded): ratio {mean / max(cold):.2%}")
    stores = [p for p in (dest / ".bosun" / "prepared").iterdir() if p.is_dir() and len(p.name) == 64]
    shared = sum(du(p) for p in stores)
    # A worktree on disk: its checkout and the copied files; setup's folders are bound, never copied.
    tree = du(dest) - du(dest / ".git") - du(dest / ".bosun")
    print(f"disk: the shared environment {shared / 1e6:.1f} MB, once per key; each worktree {tree / 1e6:.3f} MB")
    leaks = leaks_of(dest, run)
    print("secret found in: " + (", ".join(leaks) if leaks else "nothing (commits, diffs, logs, events, state)"))
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
    return 0 if run.returncode == 0 and not leaks and len(merged) == args.units else 1


if __name__ == "__main__":
    sys.exit(main())
