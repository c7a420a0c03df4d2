"""The long run of the claims property test (tests/test_claims_stateful.py): hypothesis drives
claim / heartbeat / expire / crash / submit / gate / approve / revoke on real repositories and
stores, with and without scopes, checking after every step that no unit has two live owners,
none is lost and every integration commit passed the gate. CI runs 30 sequences per machine;
this runs `--sequences` in all, in pytest runs of `--batch` per machine, `--procs` at a time
(each run with its own random seed), and says how many passed.

    python benchmarks/claims_property.py [--sequences 10000] [--procs 2] [--batch 250] [--minutes M]

Temporary repositories go to /dev/shm where there is one: the run then measures the claims
and git, not the disk's fsyncs.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MACHINES = 2  # ClaimMachine and UnscopedClaimMachine


def batch(env: dict) -> subprocess.Popen:
    """One pytest run of both machines (its own random seed)."""
    argv = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "--hypothesis-show-statistics",
        "tests/test_claims_stateful.py",
    ]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequences", type=int, default=10000)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--batch", type=int, default=250, help="sequences per machine in one pytest run")
    parser.add_argument("--minutes", type=float, default=None, help="start no batch after this long")
    args = parser.parse_args()
    env = {**os.environ, "BOSUN_STATEFUL_EXAMPLES": str(args.batch)}
    if Path("/dev/shm").is_dir():
        env["TMPDIR"] = "/dev/shm"
    begin = time.monotonic()
    running: list[subprocess.Popen] = []
    asked = passing = 0
    failed: list[str] = []
    while running or (
        asked < args.sequences and not failed and (args.minutes is None or time.monotonic() - begin < args.minutes * 60)
    ):
        while (
            len(running) < args.procs
            and asked < args.sequences
            and not failed
            and (args.minutes is None or time.monotonic() - begin < args.minutes * 60)
        ):
            running.append(batch(env))
            asked += args.batch * MACHINES
        done = running.pop(0)
        out = done.communicate()[0]
        passing += sum(int(n) for n in re.findall(r"(\d+) passing", out))
        if done.returncode != 0:
            failed.append(out)
        print(f"{(time.monotonic() - begin) / 60:5.1f} min: {passing} sequences passed", flush=True)
    for out in failed:
        print(out[-8000:])
    print(
        f"sequences passed {passing} (asked {args.sequences}, {args.batch} per machine per run, {args.procs} "
        f"runs at once), failed runs {len(failed)}; {(time.monotonic() - begin) / 60:.1f} min"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
