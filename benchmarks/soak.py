"""Soak: a headless supervisor runs sessions of N units (a random DAG) with K scripted agents that
fail at random (exit codes, blocked reports, no commit) on first attempts, again and again with
`bosun reset` between, for M minutes. Checks after every session that nothing was lost (every
unit merged exactly once) and samples the supervisor's memory each second, to show it stays flat.

    python benchmarks/soak.py [--units 200] [--agents 16] [--minutes 10] [--fail 0.2] [--seed 1]

Baseline in the same run: the memory of the first session's first minute (flat means the last
session's peak is within 15 % of it).
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

GIT_ID = ["-c", "user.name=Soak", "-c", "user.email=soak@example.com"]


def build(repo: Path, units: int, agents: int, fail: float, seed: int) -> None:
    rng = random.Random(seed)
    (repo / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    (repo / "check.py").write_text(
        "import pathlib, sys\nbad = [p for p in pathlib.Path('src').rglob('*.py') "
        "if 'BROKEN' in p.read_text()]\nprint(bad or '1 passed')\n"
        "sys.exit(1 if bad else 0)\n"
    )
    lines = [
        "[project]",
        'gate = "python check.py"',
        'merge = "auto"',
        'handback = "auto"',
        f"max_agents = {agents}",
        "max_attempts = 3",
        'sandbox = "off"',
    ]
    lines += [f'[agents.a{i}]\nkind = "scripted"\nscript = "team.toml"' for i in range(agents)]
    script = []
    for i in range(units):
        deps = sorted({f"u{rng.randrange(i)}" for _ in range(rng.randint(0, 2))}) if i else []
        lines.append(f'[[units]]\nid = "u{i}"\nprompt = "p"\ndepends_on = {json.dumps(deps)}\nscope = ["src/u{i}.py"]')
        good = f'{{ write = "src/u{i}.py", content = "U{i} = 1\\n" }}, {{ commit = "u{i}" }}'
        if rng.random() < fail:
            broken = f'{{ write = "src/u{i}.py", content = "BROKEN\\n" }}, {{ commit = "u{i} broken" }}'
            bad = rng.choice(["{ exit = 3 }", '{ report = "blocked", summary = "no" }', broken])
            script.append(f"[[unit.u{i}]]\nsteps = [{bad}]")
        script.append(f"[[unit.u{i}]]\nsteps = [{good}]")
    (repo / "bosun.toml").write_text("\n".join(lines) + "\n")
    (repo / "team.toml").write_text("\n".join(script) + "\n")
    subprocess.run(["git", *GIT_ID, "add", "-A"], cwd=repo, check=True)
    subprocess.run(["git", *GIT_ID, "commit", "-qm", "soak"], cwd=repo, check=True)


def finish_when_done(proc: subprocess.Popen) -> None:
    """`--wait` keeps the supervisor for the stand-in's decisions; stop it once every unit is merged."""
    for line in proc.stdout:
        if "session_finished" in line:
            proc.terminate()
            return


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def stand_in(repo: Path, proc: subprocess.Popen) -> None:
    """The person at the terminal: hands every failed unit back to its agent (gate failures are
    handed back by Bosun itself)."""
    while proc.poll() is None:
        status = subprocess.run(
            [sys.executable, "-m", "bosun.app.cli.main", "status", "--json"], cwd=repo, capture_output=True, text=True
        )
        try:
            units = json.loads(status.stdout)["units"]
        except (ValueError, KeyError):
            units = []
        for unit in units:
            if unit["state"] == "failed":
                subprocess.run(
                    [sys.executable, "-m", "bosun.app.cli.main", "handback", unit["id"]], cwd=repo, capture_output=True
                )
        time.sleep(1)


def session(repo: Path, timeline: list[tuple[float, float]]) -> tuple[int, list[float], float]:
    """One supervised session to the end; its RSS samples, also added to `timeline` as (time, MB)."""
    start = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bosun.app.cli.main", "run", "--headless", "--wait"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    threading.Thread(target=stand_in, args=(repo, proc), daemon=True).start()
    threading.Thread(target=finish_when_done, args=(proc,), daemon=True).start()
    samples: list[float] = []

    def sample() -> None:
        while proc.poll() is None:
            if (mb := rss_mb(proc.pid)) is not None:
                samples.append(mb)
                timeline.append((time.monotonic(), mb))
            time.sleep(1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = proc.wait()
    sampler.join()
    return code, samples, time.monotonic() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200)
    parser.add_argument("--agents", type=int, default=16)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--fail", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bosun-soak-") as tmp:
        repo = Path(tmp) / "repo"
        build(repo, args.units, args.agents, args.fail, args.seed)
        deadline, sessions, lost, peaks = time.monotonic() + args.minutes * 60, 0, 0, []
        first: list[float] = []
        timeline: list[tuple[float, float]] = []
        merged_total = 0
        while True:
            code, samples, took = session(repo, timeline)
            sessions += 1
            merged = subprocess.run(
                ["git", "log", "--first-parent", "--format=%(trailers:key=Bosun-Unit,valueonly)", "bosun/integration"],
                cwd=repo,
                capture_output=True,
                text=True,
            ).stdout.split()
            missing = args.units - len(set(merged))
            doubles = len(merged) - len(set(merged))
            lost += missing + doubles
            merged_total += len(set(merged))
            first = first or samples[:60]
            peaks.append(max(samples) if samples else 0.0)
            print(
                f"session {sessions}: exit {code}, {len(set(merged))}/{args.units} merged, {doubles} doubles, "
                f"{took:.0f}s, supervisor RSS peak {peaks[-1]:.0f} MB",
                flush=True,
            )
            if time.monotonic() >= deadline:
                break
            subprocess.run(
                [sys.executable, "-m", "bosun.app.cli.main", "reset", "--yes"],
                cwd=repo,
                check=True,
                capture_output=True,
            )
    baseline = max(first) if first else 0.0
    flat = bool(peaks) and peaks[-1] <= baseline * 1.15
    print(
        f"{sessions} session(s), units merged {merged_total}, lost or doubled: {lost}; memory: first minute "
        f"{baseline:.0f} MB, last peak {peaks[-1]:.0f} MB: {'flat' if flat else 'GREW'}"
    )
    if timeline:

        def at(moment: float) -> float:
            return min(timeline, key=lambda sample: abs(sample[0] - moment))[1]

        began, ended = timeline[0][0], timeline[-1][0]  # the start: 10 s in, once the supervisor has loaded
        print(
            f"supervisor RSS at the start {at(began + 10):.0f} MB, the middle {at((began + ended) / 2):.0f} MB, "
            f"the end {at(ended):.0f} MB ({len(timeline)} samples, one a second)"
        )
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
