"""How fast the supervisor screen shows what happens: the real app (`run_test`, 120×40) on a real
session of 500 units and 50 agents, fed 200 store events per second for 10 seconds through the
real store (claims with owners and leases, state changes, gate results).

Latency is from an event's commit to the end of the first repaint that includes it (the screen's
EventsShown, posted after the refresh). The baseline, measured in the same run, is the latency
of single events on a quiet screen: the floor that the flood is compared with.

    python benchmarks/screen.py [--units 500] [--agents 50] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the driven app, the corpus

from bosun.orchestration.gitcmd import GitRepo  # noqa: E402
from bosun.orchestration.session import create_session  # noqa: E402

from harness import DrivenApp  # noqa: E402

CYCLE = ["ready", "claimed", "running", "submitted", "checking", "gating", "awaiting_approval", "merged"]
GIT = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def make_repo(folder: Path, units: int, agents: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    lines = ['[project]', 'gate = "true"', 'merge = "manual"']
    for a in range(agents):
        lines += [f"[agents.agent{a:02d}]", 'kind = "external"']
    for u in range(units):
        deps = sorted({f"u{d:03d}" for d in rng.sample(range(u), k=min(u, rng.choice((0, 1, 1, 2))))})
        lines += ["[[units]]", f'id = "u{u:03d}"', f'prompt = "unit {u}"', f"depends_on = {deps!r}".replace("'", '"')]
    folder.mkdir(parents=True)
    (folder / "bosun.toml").write_text("\n".join(lines) + "\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "plan"]):
        subprocess.run(["git", *GIT, *args], cwd=folder, check=True, capture_output=True)
    return folder


class Probe:
    """Commit times by event seq, and the latency of each once the screen has shown it."""

    def __init__(self) -> None:
        self.committed: dict[int, float] = {}
        self.latencies: list[float] = []

    def shown(self, seq: int) -> None:
        now = time.perf_counter()
        for done in [s for s in self.committed if s <= seq]:
            self.latencies.append(now - self.committed.pop(done))


class MeasuredApp(DrivenApp):
    probe: Probe

    def on_supervisor_screen_events_shown(self, message) -> None:
        self.probe.shown(message.seq)


async def feed(app: MeasuredApp, probe: Probe, agents: int, rate: float, seconds: float, rng: random.Random) -> int:
    store = app.session.store
    units = [u.id for u in store.units()]
    step = {unit: 0 for unit in units}
    count = int(rate * seconds)
    start = time.perf_counter()
    for n in range(count):
        wait = start + n / rate - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        unit = rng.choice(units)
        current = store.unit(unit).state
        to = CYCLE[step[unit] % len(CYCLE)]
        step[unit] += 1
        fields = {}
        if to in ("claimed", "running"):
            fields = {"owner": f"agent{rng.randrange(agents):02d}", "lease_until": store.clock() + rng.uniform(5, 60),
                      "started_at": store.clock() - rng.uniform(0, 300), "attempts": 1}
        elif to == "submitted":
            fields = {"owner": None}
        data = {"gate": {"passed": True, "duration_s": 0.5, "commit": "0" * 40}} if to == "awaiting_approval" else None
        gate_run = None
        if data:
            gate_run = {"unit": unit, "attempt": 1, "commit_id": "0" * 40, "parent": "0" * 40, "passed": True,
                        "exit_code": 0, "duration_s": 0.5, "cause": "tests passed", "output_tail": "1 passed in 0.5s"}
        event = store.transition(unit, to, (current,), data=data, gate_run=gate_run, fsync=False, **fields)
        probe.committed[event.seq] = time.perf_counter()
    return count


async def measure(units: int, agents: int, rate: float, seconds: float) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bosun-screen-bench-"))
    session = create_session(GitRepo(make_repo(folder / "repo", units, agents)), folder / "repo" / "bosun.toml")
    probe = Probe()
    app = MeasuredApp(session, supervise=False)
    app.probe = probe
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.caught_up()
        first_paint = time.perf_counter() - started
        rng = random.Random(2)
        for _ in range(20):  # the baseline: one event at a time on a quiet screen
            await feed(app, probe, agents, rate=1000, seconds=0.001, rng=rng)
            await app.caught_up()
            await pilot.pause(0.05)
        quiet = sorted(probe.latencies)
        probe.latencies = []
        flood_started = time.perf_counter()
        sent = await feed(app, probe, agents, rate, seconds, rng)
        await app.caught_up()
        flood_s = time.perf_counter() - flood_started
        for _ in range(10):  # the selection still moves while the last repaints land
            await pilot.press("j")
        await pilot.pause()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    session.close()
    flood = sorted(probe.latencies)
    return {"units": units, "agents": agents, "events": sent, "flood_s": flood_s, "first_paint_s": first_paint,
            "quiet_p50": _pct(quiet, 50), "quiet_p95": _pct(quiet, 95), "p50": _pct(flood, 50),
            "p95": _pct(flood, 95), "max": flood[-1] if flood else 0.0, "shown": len(flood),
            "peak_mb": peak_mb, "before_mb": rss_before / 1024}


def _pct(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1] if len(values) > 1 else values[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    r = asyncio.run(measure(args.units, args.agents, args.rate, args.seconds))
    ms = 1000
    print(f"screen benchmark: {r['units']} units, {r['agents']} agents, {r['events']} events in {r['flood_s']:.1f}s "
          f"({r['events'] / r['flood_s']:.0f}/s), first paint {r['first_paint_s']:.2f}s")
    print(f"  baseline, one event on a quiet screen:  p50 {r['quiet_p50'] * ms:6.1f} ms   p95 {r['quiet_p95'] * ms:6.1f} ms")
    print(f"  flood, event to screen:                 p50 {r['p50'] * ms:6.1f} ms   p95 {r['p95'] * ms:6.1f} ms   "
          f"max {r['max'] * ms:6.1f} ms   ({r['shown']} events shown)")
    print(f"  flood p95 / quiet p95: {r['p95'] / r['quiet_p95']:.2f}x")
    print(f"  peak memory (RSS) {r['peak_mb']:.0f} MB (Python with the app loaded: {r['before_mb']:.0f} MB before start)")
    print(f"  targets: p95 < 50 ms -> {'met' if r['p95'] < 0.05 else 'NOT met'}; "
          f"< 150 MB -> {'met' if r['peak_mb'] < 150 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
