"""Bosun on a real project: replay a stretch of its own history as units, gated by its own tests.

    python benchmarks/replay_history.py SOURCE_REPO FIRST..LAST DEST --gate "CMD"
        [--paths src tests] [--agents 3] [--batch 4] [--merge auto|manual] [--prepare-only] [--first-parent]
        [--configs 1x1,default,4x4]

Each non-merge commit in FIRST..LAST that touches `--paths` becomes a unit whose prompt is the
commit's patch; a unit depends on the latest earlier unit touching one of its files (so
independent commits run side by side), and its scope is the files it touches. The agents are
a command agent of a few lines (written beside DEST, outside the repository, as a user's own
agent would be) that applies its patch with `git apply --3way` and commits. DEST becomes a new
repository holding the project as it was before FIRST, on `main`, with its submodules (filled from
SOURCE's own copies: initialize them there first).

Without `--prepare-only` it then measures, in the same run, two ways to the same end:

- baseline: raw git, one commit at a time: apply each patch to one checkout, run the gate on it,
  commit (no isolation, no merge checks, nothing in parallel);
- Bosun: `bosun run --headless` with the queue (`--batch`), `--agents` agents and the sandbox as
  the machine allows, every merge gated on the merged tree;

and prints both wall times, units merged and gate runs, and checks that Bosun's integration
branch ends with the same tree (under `--paths`) as the project's own LAST.

`--configs` runs Bosun once per merge-queue setting instead, each in its own copy (DEST-1x1,
DEST-default, ...): `PxB` is `gate_parallel = P, batch = B` (`1x1` one unit at a time), `default`
neither key (the queue sizes its batches); each prints its merged units per hour.

To watch it instead, `--prepare-only --merge manual`, then `cd DEST && bosun run` in a terminal.
On 2026-12-01 this ran itsdangerous 9a25d98^..4bb03cd (11 units, its 297 tests as the gate).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IDENTITY = {
    "GIT_AUTHOR_NAME": "replay",
    "GIT_AUTHOR_EMAIL": "replay@example.com",
    "GIT_COMMITTER_NAME": "replay",
    "GIT_COMMITTER_EMAIL": "replay@example.com",
}

AGENT = '''"""A command agent that replays one real commit: its patch is the unit's prompt."""
import json, subprocess, sys
task = json.load(open(sys.argv[1]))
applied = subprocess.run(["git", "apply", "--3way", "--whitespace=nowarn"], input=task["prompt"], text=True)
if applied.returncode != 0:
    sys.exit("the patch did not apply")
subprocess.run(["git", "add", "-A"], check=True)
subprocess.run(["git", "commit", "-qm", task.get("title") or task["unit"]], check=True)
'''


def git(*args: str, cwd: Path, stdin: str | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, input=stdin, capture_output=True, text=True, env={**os.environ, **IDENTITY}
    )
    if done.returncode != 0:
        sys.exit(f"replay_history: git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def units_of(source: Path, span: str, paths: list[str], first_parent: bool = False) -> list[dict]:
    """One unit per non-merge commit touching `paths`, oldest first, with file-overlap dependencies;
    with `first_parent`, one per commit of the first-parent line (a merged pull request is one unit,
    its change against the line it merged into: what a project that merges its PRs looks like)."""
    walk = "--first-parent" if first_parent else "--no-merges"
    commits = git("log", walk, "--reverse", "--format=%H", span, "--", *paths, cwd=source).split()
    units, last_touch = [], {}
    for commit in commits:
        files = git("diff", "--name-only", f"{commit}^1", commit, "--", *paths, cwd=source).split()
        if not files:
            continue
        unit_id = f"c{commit[:7]}"
        units.append(
            {
                "id": unit_id,
                "title": git("log", "-1", "--format=%s", commit, cwd=source).strip(),
                "prompt": git("diff", "--binary", f"{commit}^1", commit, "--", *paths, cwd=source),
                "depends_on": sorted({last_touch[f] for f in files if f in last_touch}),
                "scope": files,
            }
        )
        last_touch.update(dict.fromkeys(files, unit_id))
    return units


def plan_text(units: list[dict], gate: str, agent: Path, agents: int, queue: tuple, merge: str) -> str:
    """`queue`: (gate_parallel, batch), either None for the plan's default."""
    parallel, batch = queue
    lines = [
        "[project]",
        'base = "main"',
        f"gate = {json.dumps(gate)}",
        f"max_agents = {agents}",
        f'merge = "{merge}"',
        *([f"batch = {batch}"] if batch else []),
        *([f"gate_parallel = {parallel}"] if parallel else []),
        "",
    ]
    for n in range(1, agents + 1):
        lines += [
            f"[agents.replay{n}]",
            'kind = "command"',
            f'command = ["{sys.executable}", {json.dumps(str(agent))}, "{{task_file}}"]',
            "",
        ]
    for unit in units:
        lines += (
            ["[[units]]"]
            + [f"{key} = {json.dumps(unit[key])}" for key in ("id", "title", "prompt", "depends_on", "scope")]
            + [""]
        )
    return "\n".join(lines)


def prepare(
    source: Path,
    span: str,
    dest: Path,
    paths: list[str],
    gate: str,
    agents: int,
    queue: tuple,
    merge: str,
    first_parent: bool = False,
) -> list[dict]:
    first = span.split("..")[0]
    units = units_of(source, span, paths, first_parent)
    if not units:
        sys.exit(f"replay_history: no commit in {span} touches {' '.join(paths)}")
    if dest.exists():
        sys.exit(f"replay_history: {dest} exists; choose a new folder")
    dest.mkdir(parents=True)
    archive = subprocess.Popen(["git", "archive", first], cwd=source, stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", str(dest)], stdin=archive.stdout, check=True)
    archive.wait()
    agent = dest.parent / f"{dest.name}.agent.py"
    agent.write_text(AGENT)
    (dest / "bosun.toml").write_text(plan_text(units, gate, agent, agents, queue, merge))
    git("init", "-q", "-b", "main", cwd=dest)
    git("add", "-A", cwd=dest)
    add_submodules(source, first, dest)
    git("commit", "-qm", f"the project at {first}", cwd=dest)
    return units


def add_submodules(source: Path, commit: str, dest: Path) -> None:
    """`git archive` leaves submodules out: record each at the commit `commit` records and fill
    it from the source's own copy (`git submodule update --init` there first), as a clone would."""
    links = [line.split(None, 3) for line in git("ls-tree", "-r", commit, cwd=source).splitlines()]
    for mode, _, sha, path in (link for link in links if link[0] == "160000"):
        git("update-index", "--add", "--cacheinfo", f"{mode},{sha},{path}", cwd=dest)
        name = git("config", "--blob", f"{commit}:.gitmodules", "--get-regexp", r"\.path$", cwd=source)
        key = next(k for k, v in (line.split(" ", 1) for line in name.splitlines()) if v == path)
        module = git("rev-parse", "--absolute-git-dir", cwd=source / path).strip()
        git("config", f"{key[: -len('.path')]}.url", module, cwd=dest)
    if any(link[0] == "160000" for link in links):
        git("-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive", cwd=dest)


def baseline(dest: Path, units: list[dict], gate: str) -> tuple[float, int]:
    """Raw git, one commit at a time, in a copy: apply, gate, commit. Returns (seconds, gates passed)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "serial"
        git("clone", "-q", str(dest), str(work), cwd=dest)
        copy_submodules(dest, work)
        started, passed = time.perf_counter(), 0
        for unit in units:
            git("apply", "--3way", "--whitespace=nowarn", cwd=work, stdin=unit["prompt"])
            passed += subprocess.run(gate, shell=True, cwd=work, capture_output=True).returncode == 0
            git("add", "-A", cwd=work)
            git("commit", "-qm", unit["title"], cwd=work)
        return time.perf_counter() - started, passed


def copy_submodules(dest: Path, work: Path) -> None:
    """A clone of DEST gets DEST's submodules, from the same copies."""
    urls = subprocess.run(
        ["git", "config", "--get-regexp", r"^submodule\..*\.url$"], cwd=dest, capture_output=True, text=True
    ).stdout
    for key, url in (line.split(" ", 1) for line in urls.splitlines()):
        git("config", key, url, cwd=work)
    if urls:
        git("-c", "protocol.file.allow=always", "submodule", "update", "-q", "--init", "--recursive", cwd=work)


def queue_of(config: str) -> tuple:
    """`PxB` -> (P, B); `default` -> (None, None)."""
    if config == "default":
        return None, None
    parallel, batch = (int(x) for x in config.split("x"))
    return parallel, batch


def run_bosun(dest: Path, units: list[dict], args: argparse.Namespace) -> dict:
    bosun = shutil.which("bosun") or sys.exit("replay_history: no `bosun` on PATH")
    started = time.perf_counter()
    run = subprocess.run([bosun, "run", "--headless", "--json"], cwd=dest, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    events = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    merged = {e["unit"] for e in events if e["kind"] == "merged"}
    gates = sum(e["kind"] in ("gate_passed", "gate_failed", "queue_run_finished") for e in events)
    last = args.span.split("..")[1]
    git("fetch", "-q", str(args.source.resolve()), git("rev-parse", last, cwd=args.source.resolve()).strip(), cwd=dest)
    same = (
        subprocess.run(
            ["git", "diff", "--quiet", "bosun/integration", "FETCH_HEAD", "--", *args.paths], cwd=dest
        ).returncode
        == 0
    )
    return {"seconds": seconds, "merged": len(merged), "gates": gates, "exit": run.returncode, "same": same}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("span", help="FIRST..LAST: the commits after FIRST up to LAST")
    parser.add_argument("dest", type=Path)
    parser.add_argument("--gate", required=True)
    parser.add_argument("--paths", nargs="+", default=["."])
    parser.add_argument("--agents", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--merge", choices=("auto", "manual"), default="auto")
    parser.add_argument("--prepare-only", action="store_true")
    parser.add_argument(
        "--first-parent",
        action="store_true",
        help="one unit per commit of the first-parent line (merged pull requests whole)",
    )
    parser.add_argument("--configs", default=None, help="gate_parallel x batch per run, e.g. 1x1,default,4x4")
    args = parser.parse_args()
    dest = args.dest.resolve()
    configs = args.configs.split(",") if args.configs else [None]
    runs = []
    for config in configs:
        queue = queue_of(config) if config else (min(2, args.batch), args.batch)
        where = dest if config is None else dest.parent / f"{dest.name}-{config}"
        units = prepare(
            args.source.resolve(),
            args.span,
            where,
            args.paths,
            args.gate,
            args.agents,
            queue,
            args.merge,
            args.first_parent,
        )
        runs.append((config, where, units))
    print(f"{len(units)} units from {args.span} in {', '.join(str(w) for _, w, _ in runs)}")
    if args.prepare_only:
        print(f"cd {shlex.quote(str(runs[0][1]))} && bosun run")
        return 0
    serial_s, serial_passed = baseline(runs[0][1], units, args.gate)
    print(
        f"baseline, raw git one at a time: {serial_s:6.1f} s, gate passed on {serial_passed}/{len(units)}, "
        f"{len(units) * 3600 / serial_s:.0f} units/hour"
    )
    ok = True
    for config, where, _ in runs:
        done = run_bosun(where, units, args)
        name = f"batch {args.batch}" if config is None else config
        print(
            f"Bosun, {args.agents} agents, {name}: {done['seconds']:6.1f} s, {done['merged']}/{len(units)} merged "
            f"({done['merged'] * 3600 / done['seconds']:.0f} merged units/hour), {done['gates']} gate runs, "
            f"exit {done['exit']} ({done['seconds'] / serial_s:.2f}x the baseline); "
            f"integration branch equals {args.span.split('..')[1]} under {' '.join(args.paths)}: "
            f"{'yes' if done['same'] else 'NO'}",
            flush=True,
        )
        ok = ok and done["exit"] == 0 and done["same"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
