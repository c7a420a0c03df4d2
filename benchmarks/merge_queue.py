"""The merge queue against the one-at-a-time lane and the ideal lower bound (issue 14).

    python benchmarks/merge_queue.py [--units N] [--gate G] [--fail P] [--agents K] [--work A]
                               [--graph independent|dag] [--configs 1x1,4x1,2x4,...] [--retries R]
                               [--seed S] [--json]

Builds a real git repository with N units (each writes its own file `src/<id>.py`) in a
temporary folder and runs real Bosun on it in this process (`create_session` +
`Orchestrator(Options(auto_approve=True)).run()`, sandbox off): scripted agents that sleep A
seconds and commit, and a gate that sleeps G seconds and then fails when any file under src/
holds the word BROKEN. A fraction P of the units (chosen by the seed, at least one when P > 0)
write BROKEN on their first attempt and fix it on the second, after the automatic hand-back.

For each configuration `PxB` (`gate_parallel = P`, `batch = B`; `1x1` is one unit at a time,
`default` the plan's defaults: one gate slot, batches sized by the queue) it prints gate
runs, gate seconds (the sum of every run's duration: what the gates cost the machine) and the makespan,
then the ideal lower bound max(critical path, work / agents): the critical path weighs each unit (A + G) per attempt
along the longest dependency chain, the work is the agents' seconds (A per attempt).

The targets: `--units 24 --graph independent --fail 0.042 --agents 6 --gate 2`: the defaults'
makespan <= 0.4x one unit at a time (1x1); `--units 100 --graph dag --agents 8 --fail 0.05`:
makespan <= 1.15x the lower bound with 5 s levels, <= 1.1x with 10 s levels.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this folder comes first on sys.path, and this file would shadow the standard
# library's `queue` (which asyncio's thread pool imports).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import tempfile
import time

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import create_session
from bosun.orchestration.supervisor.loop import Options, Orchestrator

GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "LC_ALL": "C",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}

CHECK_PY = """\
import pathlib, sys
bad = [str(p) for p in pathlib.Path("src").rglob("*.py") if "BROKEN" in p.read_text()]
if bad:
    print("FAILED: broken files:", ", ".join(bad))
    sys.exit(1)
print("1 passed in 0.01s")
"""


def graph(n: int, kind: str, rng: random.Random) -> dict[str, list[str]]:
    ids = [f"u{i:03d}" for i in range(n)]
    if kind == "independent":
        return {u: [] for u in ids}
    deps = {}
    for i, unit in enumerate(ids):  # up to 2 parents among the 12 units before it
        window = ids[max(0, i - 12) : i]
        deps[unit] = sorted(rng.sample(window, min(len(window), rng.choice((0, 1, 1, 2)))))
    return deps


def make_project(
    repo: Path,
    deps: dict[str, list[str]],
    bad: set[str],
    agents: int,
    work: float,
    gate: float,
    parallel: int,
    batch: int,
    retries: int,
) -> None:
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, env=GIT_ENV, check=True)
    (repo / "src" / "__init__.py").write_text("")
    (repo / "check.py").write_text(CHECK_PY)
    plan = [
        "[project]",
        f'gate = "sleep {gate} && {sys.executable} check.py"',  # not a shim: the gate is G s, as the bound counts it
        'merge = "auto"',
        f"max_agents = {agents}",
        'gate_timeout = "120s"',
        'sandbox = "off"',
        *([f"gate_parallel = {parallel}"] if parallel else []),
        *([f"batch = {batch}"] if batch else []),
        f"gate_retries = {retries}",
        "max_attempts = 3",
        'semantic = "off"',
    ]
    for a in range(agents):
        plan += [f"[agents.a{a}]", 'kind = "scripted"', 'script = "team.toml"']
    script = []
    for unit, parents in deps.items():
        plan += [
            "[[units]]",
            f'id = "{unit}"',
            f'prompt = "write src/{unit}.py"',
            f"depends_on = {json.dumps(parents)}",
            f'scope = ["src/{unit}.py"]',
        ]
        tries = ["BROKEN = 1", f"{unit.upper()} = 2"] if unit in bad else [f"{unit.upper()} = 1"]
        for content in tries:
            script += [
                f'[[unit."{unit}"]]',
                f'steps = [{{sleep = {work}}}, {{write = "src/{unit}.py", content = "{content}\\n"}}, '
                f'{{commit = "write src/{unit}.py"}}]',
            ]
    (repo / "bosun.toml").write_text("\n".join(plan) + "\n")
    (repo / "team.toml").write_text("\n".join(script) + "\n")
    subprocess.run(["git", "add", "-A"], cwd=repo, env=GIT_ENV, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "initial project"], cwd=repo, env=GIT_ENV, check=True)


def lower_bound(deps: dict[str, list[str]], bad: set[str], agents: int, work: float, gate: float) -> dict:
    attempts = {u: 2 if u in bad else 1 for u in deps}
    finish: dict[str, float] = {}
    for unit, parents in deps.items():  # plan order is a topological order
        finish[unit] = max((finish[p] for p in parents), default=0.0) + attempts[unit] * (work + gate)
    path = max(finish.values())
    spread = sum(attempts.values()) * work / agents
    return {
        "critical_path_s": round(path, 2),
        "work_per_agent_s": round(spread, 2),
        "bound_s": round(max(path, spread), 2),
    }


PHASES = ("ready", "claimed", "running", "submitted", "gating", "merged")
"""A dependent unit's way from its last dependency's merge to its own, event by event."""


def phase_times(events, deps: dict[str, list[str]], merged_at: dict[str, float]) -> dict[str, list[float]]:
    """For each unit with dependencies, the seconds between consecutive steps of its last attempt
    (from its last dependency's merge), units that took one attempt: where the time per level goes."""
    last: dict[str, dict[str, float]] = {}
    runs: dict[str, int] = {}
    for e in events:
        if e.unit is not None and e.kind in PHASES:
            runs[e.unit] = runs.get(e.unit, 0) + (e.kind == "running")
            last.setdefault(e.unit, {})[e.kind] = e.time
    out: dict[str, list[float]] = {}
    for unit, parents in deps.items():
        seen = last.get(unit, {})
        if (
            not parents
            or runs.get(unit) != 1
            or not all(p in merged_at for p in parents)
            or any(k not in seen for k in PHASES)
        ):
            continue
        before, name = max(merged_at[p] for p in parents), "deps merged"
        for kind in PHASES:
            out.setdefault(f"{name} -> {kind}", []).append(max(0.0, seen[kind] - before))
            before, name = seen[kind], kind
    return out


def critical_chain(events, deps: dict[str, list[str]], merged_at: dict[str, float]) -> dict:
    """The chain the makespan actually followed: from the unit merged last, back through the
    dependency that merged last, to a unit with none; the seconds along it summed per step
    (first hand-out to the last merge for a unit that took two attempts: `retried`)."""
    first: dict[str, dict[str, float]] = {}
    for e in events:
        if e.unit is not None and e.kind in PHASES:
            first.setdefault(e.unit, {}).setdefault(e.kind, e.time)
    unit = max(merged_at, key=merged_at.get) if merged_at else None
    totals: dict[str, float] = {}
    length = 0
    start = min((e.time for e in events), default=0.0)
    while unit is not None:
        length += 1
        parents = [p for p in deps[unit] if p in merged_at]
        before = max(merged_at[p] for p in parents) if parents else start
        seen = first.get(unit, {})
        steps = [("dependency merged -> ready", seen.get("ready")), ("ready -> claimed", seen.get("claimed"))]
        steps += [("claimed -> running", seen.get("running")), ("running -> submitted", seen.get("submitted"))]
        steps += [("submitted -> merged", merged_at[unit])]
        for name, at in steps:
            if at is not None:
                totals[name] = totals.get(name, 0.0) + max(0.0, at - before)
                before = at
        for name, seconds in queue_steps(events, unit, merged_at[unit]).items():
            totals[name] = totals.get(name, 0.0) + seconds
        unit = max(parents, key=merged_at.get) if parents else None
    return {"units": length, **{k: round(v, 1) for k, v in totals.items()}}


def queue_steps(events, unit: str, merged: float) -> dict[str, float]:
    """Its last submission -> merged for one unit, split at the run that passed with it: stacking
    (its first `gating` since), waiting for the slot (and for failed runs and bisection), the run's
    own cost beyond its gate (folder, process start, verdict), the gate command, and landing."""
    submitted = max((e.time for e in events if e.unit == unit and e.kind == "submitted"), default=None)
    started, stacked, passed = {}, None, None
    for e in events:
        if e.kind == "gating" and e.unit == unit and stacked is None and submitted is not None and e.time >= submitted:
            stacked = e.time
        elif e.kind == "queue_run_started" and unit in e.data.get("units", ()):
            started[e.data["run"]] = e.time
        elif e.kind == "queue_run_finished" and e.data.get("passed") and e.data["run"] in started:
            passed = (started[e.data["run"]], e.time, e.data["duration_s"])
    if submitted is None or stacked is None or passed is None:
        return {}
    begin, end, gate = passed
    return {
        "  (queue) last submitted -> stacked": stacked - submitted,
        "  (queue) stacked -> passing run started": max(0.0, begin - stacked),
        "  (queue) run's own cost beyond the gate": max(0.0, end - begin - gate),
        "  (queue) the gate command": gate,
        "  (queue) verdict -> merged": max(0.0, merged - end),
    }


def measure(deps, bad, args, parallel: int, batch: int) -> dict:
    if args.keep is not None:
        Path(args.keep).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="bosun-queue-bench-", dir=args.keep))
    try:
        repo = folder / "repo"
        make_project(repo, deps, bad, args.agents, args.work, args.gate, parallel, batch, args.retries)
        session = create_session(GitRepo(repo), repo / "bosun.toml")
        start = time.perf_counter()
        code = asyncio.run(Orchestrator(session, Options(auto_approve=True, max_agents=args.agents)).run())
        makespan = time.perf_counter() - start
        runs = session.store.gate_runs()
        merged = sum(1 for u in session.store.units() if u.state == "merged")
        events = session.store.events()
        culprits = sum(1 for e in events if e.kind in ("queue_culprit", "gate_failed"))
        stopped = sum(1 for e in events if e.kind == "queue_take_in")  # runs stopped to take units in
        session.close()
        # Where a unit's time goes (means over units, last attempt): its agent (running -> submitted),
        # integration (submitted -> merged), and hand-out once its dependencies are merged.
        last: dict[tuple[str, str], float] = {}
        agent, integrate, handout = [], [], []
        merged_at: dict[str, float] = {}
        for e in events:
            if e.unit is None:
                continue
            last[(e.unit, e.kind)] = e.time
            if e.kind == "submitted" and (e.unit, "running") in last:
                agent.append(e.time - last[(e.unit, "running")])
            if e.kind == "merged":
                merged_at[e.unit] = e.time
                integrate.append(e.time - last[(e.unit, "submitted")])
        for unit, parents in deps.items():
            started = [e.time for e in events if e.unit == unit and e.kind == "running"]
            if parents and started and all(p in merged_at for p in parents):
                handout.append(started[0] - max(merged_at[p] for p in parents))
        mean = lambda xs: round(sum(xs) / len(xs), 2) if xs else None  # noqa: E731
        phases = {name: mean(xs) for name, xs in phase_times(events, deps, merged_at).items()}
        return {
            "config": f"{parallel}x{batch}" if parallel or batch else "default",
            "exit": code,
            "merged": merged,
            "gate_runs": len(runs),
            "gate_s": round(sum(r.duration_s for r in runs), 1),
            "makespan_s": round(makespan, 2),
            "culprits": culprits,
            "taken_in": stopped,
            "agent_s": mean(agent),
            "submitted_to_merged_s": mean(integrate),
            "deps_merged_to_running_s": mean(handout),
            "phases_s": phases,
            "critical_chain_s": critical_chain(events, deps, merged_at),
        }
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=24)
    parser.add_argument("--gate", type=float, default=2.0, help="gate seconds (a sleep)")
    parser.add_argument("--fail", type=float, default=1 / 24, help="fraction of units failing their first gate")
    parser.add_argument("--agents", type=int, default=6)
    parser.add_argument("--work", type=float, default=1.0, help="agent seconds per attempt (a sleep)")
    parser.add_argument("--graph", choices=("independent", "dag"), default="independent")
    parser.add_argument(
        "--configs",
        default="1x1,default,4x1,2x4,4x4",
        help="gate_parallel x batch, comma separated; `default`: neither key in the plan (the queue sizes batches)",
    )
    parser.add_argument("--retries", type=int, default=0)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--keep", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    deps = graph(args.units, args.graph, rng)
    count = max(1, round(args.fail * args.units)) if args.fail > 0 else 0
    bad = set(rng.sample(sorted(deps), count))
    bound = lower_bound(deps, bad, args.agents, args.work, args.gate)
    print(
        f"{args.units} units ({args.graph}), {len(bad)} failing once, {args.agents} agents, work {args.work:g} s, "
        f"gate {args.gate:g} s, retries {args.retries}",
        flush=True,
    )
    print(
        f"lower bound {bound['bound_s']} s = max(critical path {bound['critical_path_s']} s, "
        f"work / agents {bound['work_per_agent_s']} s)",
        flush=True,
    )
    results = []
    for config in args.configs.split(","):
        parallel, batch = (0, 0) if config == "default" else (int(x) for x in config.split("x"))
        result = measure(deps, bad, args, parallel, batch)
        results.append(result)
        serial = results[0]["makespan_s"] if results[0]["config"] == "1x1" else None
        ratio = f"  {result['makespan_s'] / serial:.2f}x the lane" if serial and config != "1x1" else ""
        print(
            f"  {result['config']:>5}  gate runs {result['gate_runs']:4d}  gate s {result['gate_s']:7.1f}  "
            f"makespan {result['makespan_s']:7.2f} s  {result['makespan_s'] / bound['bound_s']:.2f}x bound"
            f"{ratio}  merged {result['merged']}/{args.units} exit {result['exit']}"
            + (f"  ({result['taken_in']} runs stopped to take units in)" if result["taken_in"] else ""),
            flush=True,
        )
        print(
            f"         per unit: agent {result['agent_s']} s, submitted -> merged {result['submitted_to_merged_s']} s"
            + (
                f", dependencies merged -> running {result['deps_merged_to_running_s']} s"
                if result["deps_merged_to_running_s"] is not None
                else ""
            ),
            flush=True,
        )
        print("         per level: " + ", ".join(f"{k} {v} s" for k, v in result["phases_s"].items()), flush=True)
        chain = dict(result["critical_chain_s"])
        print(
            f"         the chain followed ({chain.pop('units')} units), seconds per step: "
            + ", ".join(f"{k} {v}" for k, v in chain.items()),
            flush=True,
        )
    if args.json:
        print(json.dumps({"bound": bound, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
