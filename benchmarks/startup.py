"""How fast `bosun` starts: `bosun --help` and `bosun status` on a real session, against a bare
`python3 -c pass` measured in the same run (interleaved, median of N), since agents call the
claim commands in loops and people type `bosun status` all day.

    python benchmarks/startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bosun.app.cli.demo import build_demo_repo
from bosun.orchestration.session import create_session

TARGET = 8.0  # issue 11: within 8x a bare interpreter start


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    bosun = shutil.which("bosun", path=str(Path(sys.executable).parent)) or "bosun"
    with tempfile.TemporaryDirectory() as tmp:
        repo = build_demo_repo(Path(tmp) / "repo")
        create_session(repo, repo.path / "bosun.toml").close()
        cases = {
            "python3 -c pass": [sys.executable, "-c", "pass"],
            "bosun --help": [bosun, "--help"],
            "bosun status": [bosun, "status"],
            "bosun status --json": [bosun, "status", "--json"],
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, argv in cases.items():
                times[name].append(timed(argv, repo.path))
    floor = statistics.median(times["python3 -c pass"])
    print(f"{'command':<22} {'median ms':>10} {'vs bare python':>15}")
    worst = 0.0
    for name, samples in times.items():
        median = statistics.median(samples)
        ratio = median / floor
        if name != "python3 -c pass":
            worst = max(worst, ratio)
        print(f"{name:<22} {median * 1000:>10.1f} {ratio:>14.1f}x")
    print(f"target: every command within {TARGET:g}x: {'met' if worst <= TARGET else 'NOT met'} (worst {worst:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
