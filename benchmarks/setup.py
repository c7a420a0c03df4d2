"""Prepared worktrees on a real project: `[project] setup` cold and warm, and disk per worktree.

    python benchmarks/setup.py SOURCE_REPO DEST [--agents 4] [--units 4]

DEST becomes a new repository holding SOURCE_REPO's HEAD (a small Python project with a
`pyproject.toml`; 2026-12-04: pallets/itsdangerous), an untracked `.env` holding a secret, and a
plan whose `setup` makes a virtualenv with the project installed editable plus pytest and
freezegun (from the package index: `setup_network = "host"`), `setup_key = ["pyproject.toml"]`,
`copy = [".env"]`, and `gate = ".venv/bin/python -m pytest -q"`. Each unit's agent (a command of a
few lines, outside the repository) adds a test file, runs it with the worktree's `.venv`, and
commits. `bosun run --headless` then runs them with `--agents` agents in the sandbox.

Printed: each worktree's preparation (the `prepared` events: the first runs setup, the others
reuse it), the ratio warm/cold, the disk each worktree takes against the shared environment,
the units merged, and where the secret was found (it must be nowhere: no commit, diff, log or
event).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SECRET = "itsdangerous-bench-secret-5b0e2f"
AGENT = '''"""Adds one test to the project, runs it with the worktree's prepared .venv, commits."""
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
SETUP = "python3 -m venv .venv && .venv/bin/pip install -q -e . pytest freezegun"


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


def make(source: Path, dest: Path, agents: int, units: int) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    git("clone", "-q", "--no-hardlinks", str(source), str(dest), cwd=source.parent)
    git("remote", "remove", "origin", cwd=dest)
    git("checkout", "-q", "-B", "main", cwd=dest)
    agent = dest.parent / f"{dest.name}-agent.py"
    agent.write_text(AGENT)
    plan = [
        "[project]",
        'merge = "auto"',
        f"max_agents = {agents}",
        'gate = ".venv/bin/python -B -m pytest -q -p no:cacheprovider"',
        'gate_timeout = "5m"',
        f"setup = {json.dumps([SETUP])}",
        'setup_key = ["pyproject.toml"]',
        'copy = [".env"]',
        'setup_network = "host"',
    ]
    for i in range(agents):
        plan += [
            f"[agents.a{i}]",
            'kind = "command"',
            f"command = {json.dumps([sys.executable, str(agent), '{task_file}'])}",
        ]
    for i in range(units):
        plan += ["[[units]]", f'id = "u{i}"', 'prompt = "add a test"', f'scope = ["tests/test_bosun_u{i}.py"]']
    (dest / "bosun.toml").write_text("\n".join(plan) + "\n")
    git("add", "bosun.toml", cwd=dest)
    git("commit", "-qm", "the plan", cwd=dest)
    (dest / ".env").write_text(f"API_TOKEN={SECRET}\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", type=Path)
    parser.add_argument("dest", type=Path)
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--units", type=int, default=4)
    args = parser.parse_args()
    dest = args.dest.resolve()
    make(args.source.resolve(), dest, args.agents, args.units)
    began = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "bosun.app.cli.main", "run", "--headless", "--json"],
        cwd=dest,
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - began
    events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    prepared = [e for e in events if e.get("kind") == "prepared"]
    merged = [e["unit"] for e in events if e.get("kind") == "merged"]
    cold = [e["seconds"] for e in prepared if not e["reused"]]
    warm = [e["seconds"] - e.get("waited", 0.0) for e in prepared if e["reused"]]
    print(f"bosun run: exit {run.returncode}, {wall:.1f}s, merged {len(merged)}/{args.units}: {merged}")
    for e in prepared:
        how = "reused" if e["reused"] else "ran setup"
        print(f"  prepared {e['unit']}: {how} in {e['seconds']:.3f}s (of which waiting for setup {e['waited']:.3f}s)")
    if cold and warm:
        mean = sum(warm) / len(warm)
        print(f"cold {max(cold):.2f}s, warm mean {mean:.3f}s (waiting excluded): ratio {mean / max(cold):.2%}")
    stores = [p for p in (dest / ".bosun" / "prepared").iterdir() if p.is_dir() and len(p.name) == 64]
    shared = sum(du(p) for p in stores)
    # A worktree on disk: its checkout and the copied files; setup's folders are bound, never copied.
    checkout = du(dest) - du(dest / ".git") - du(dest / ".bosun")
    print(f"disk: the shared environment {shared / 1e6:.1f} MB, once per key; each worktree {checkout / 1e6:.2f} MB")
    leaks = []
    if SECRET in git("log", "-p", "--all", cwd=dest):
        leaks.append("a commit")
    if SECRET in run.stdout + run.stderr:
        leaks.append("the events / output")
    leaks += [str(p) for p in (dest / ".bosun").rglob("*.log") if SECRET in p.read_text(errors="replace")]
    db = next((dest / ".bosun").glob("*.db"), None)
    if db is not None and SECRET.encode() in db.read_bytes():
        leaks.append(str(db))
    print("secret found in: " + (", ".join(leaks) if leaks else "nothing (commits, diffs, logs, events, state)"))
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
    return 0 if run.returncode == 0 and not leaks and len(merged) == args.units else 1


if __name__ == "__main__":
    sys.exit(main())
