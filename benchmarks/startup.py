"""How fast `bosun` starts: `bosun --help` and `bosun status` on a real session, against a bare
`python3 -c pass` measured in the same run (interleaved, median of N), since agents call the
claim commands in loops and people type `bosun status` all day.

    python benchmarks/startup.py [--runs 15] [--profile]

Each command runs once first with bytecode caching on, as an installed Bosun has it (pip compiles
on install); PYTHONDONTWRITEBYTECODE in the environment is ignored for that warm-up only. The load
average is printed before and after: on a shared machine read the ratios, not the times.
`--profile` adds where `bosun status` spends its start: its slowest imports (`-X importtime`) and
the top entries of cProfile.

Target: every command within 3x a bare interpreter start (issue 30; issue 11 asked for 8x).
`stdlib floor` is a start that only imports the standard library modules `bosun status` needs
(argparse, pathlib, sqlite3, json): what is left above it is Bosun's own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bosun.app.cli.demo import build_demo_repo
from bosun.orchestration.session import create_session

TARGET = 3.0
FLOOR = "import argparse, pathlib, sqlite3, json; argparse.ArgumentParser().parse_args([])"


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def warm_up(cases: dict[str, list[str]], cwd: Path) -> None:
    """One run of each with bytecode written, as after `pip install` (not timed)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    for argv in cases.values():
        subprocess.run(argv, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile(cwd: Path, top: int = 12) -> None:
    """Where `bosun status` spends its start: the slowest imports, then cProfile's top entries."""
    code = "import sys; sys.argv = ['bosun', 'status']; from bosun.app.cli.main import main; main()"
    err = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], cwd=cwd, capture_output=True, text=True, check=True
    ).stderr
    rows = []
    for line in err.splitlines():
        if line.startswith("import time:") and "|" in line:
            _, cumulative, name = line.split("|", 2)
            if cumulative.strip().isdigit():
                rows.append((int(cumulative), name.rstrip()))
    print(f"\nbosun status, slowest imports (-X importtime, cumulative microseconds; {load()}):")
    for cumulative, name in sorted(rows, reverse=True)[:top]:
        print(f"  {cumulative:>8} {name}")
    script = (
        "import cProfile, pstats, io, sys\nsys.argv = ['bosun', 'status']\nprofiler = cProfile.Profile()\n"
        "profiler.enable()\nfrom bosun.app.cli.main import main\nout, sys.stdout = sys.stdout, io.StringIO()\n"
        "main()\nsys.stdout = out\nprofiler.disable()\n"
        f"pstats.Stats(profiler).sort_stats('tottime').print_stats({top})\n"
    )
    report = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=True)
    print("bosun status, cProfile by own time:")
    print("\n".join("  " + line for line in report.stdout.splitlines() if line.strip()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--profile", action="store_true", help="print the slowest imports and cProfile's top entries")
    args = parser.parse_args()
    bosun = shutil.which("bosun", path=str(Path(sys.executable).parent)) or "bosun"
    with tempfile.TemporaryDirectory() as tmp:
        repo = build_demo_repo(Path(tmp) / "repo")
        create_session(repo, repo.path / "bosun.toml").close()
        cases = {
            "python3 -c pass": [sys.executable, "-c", "pass"],
            # What any command of this shape pays before its own code: the standard library `status` needs.
            "stdlib floor": [sys.executable, "-c", FLOOR],
            "bosun --help": [bosun, "--help"],
            "bosun status": [bosun, "status"],
            "bosun status --json": [bosun, "status", "--json"],
        }
        warm_up(cases, repo.path)
        before = load()
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, argv in cases.items():
                times[name].append(timed(argv, repo.path))
        after = load()
        if args.profile:
            profile(repo.path)
    floor = statistics.median(times["python3 -c pass"])
    print(f"\n{args.runs} runs each, interleaved; before: {before}; after: {after}")
    print(f"{'command':<22} {'median ms':>10} {'vs bare python':>15}")
    worst = 0.0
    for name, samples in times.items():
        median = statistics.median(samples)
        ratio = median / floor
        if name.startswith("bosun"):
            worst = max(worst, ratio)
        print(f"{name:<22} {median * 1000:>10.1f} {ratio:>14.1f}x")
    print(f"target: every command within {TARGET:g}x: {'met' if worst <= TARGET else 'NOT met'} (worst {worst:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
