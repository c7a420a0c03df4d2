"""The Ray backend against the local one, in the same run (issue 19): many light agents from one
supervisor, the throughput and what the supervisor itself spends.

    python benchmarks/ray_backend.py [--agents 100] [--units 100] [--work 0.5] [--cpus 2]
                                     [--backends local,ray] [--json]

Builds a real git repository with U units (each writes its own file and commits, after A
seconds of "work") and A agents (scripted, sandbox off, each asking Ray for 1/A of a CPU on
the cluster), then runs real Bosun on it once per backend, each time in a supervisor process
of its own so its CPU time and peak RSS are its own (`getrusage(RUSAGE_SELF)`): the local
backend's agents are its children, the Ray backend's run on a local cluster started here (a
head and two workers on 127.0.0.1, C CPUs each, every node taking agents) and stopped after.
The merge queue integrates (gate_parallel 2, batch 10) the same way for both. Prints for each
backend: the makespan, units merged per second, the supervisor's CPU seconds (user + system),
its CPU share of the makespan and its peak RSS; for Ray, also the CPU seconds the cluster's
processes spent meanwhile (Ray's own and the agents', sampled twice a second).

With the screen (`--screens on` or `both`, the default both) the same run is done again with the
real supervisor screen in the supervisor's process, as `bosun run` has it: the Textual app
(`run_test`, headless, 120×40) whose worker is the orchestrator (`wait` on, as on a terminal; the
run ends when every unit is merged). It measures, besides the same CPU and RSS, the screen's
event-to-screen latency (from an event's commit in the store to the end of the first repaint that
shows it, the screen's EventsShown, as `benchmarks/screen.py` does) and key responsiveness: every
half second a key moving the graph's selection (`j`/`k`) is posted as the terminal driver posts
it, and timed to the end of the first repaint after the selection moved.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from merge_queue import GIT_ENV  # noqa: E402
from ray_cluster import Cluster, start_cluster  # noqa: E402

CHECK_PY = """\
import pathlib, sys
bad = [str(p) for p in pathlib.Path("src").rglob("*.py") if "BROKEN" in p.read_text()]
print("1 passed in 0.01s" if not bad else "FAILED")
sys.exit(1 if bad else 0)
"""

# The supervisor, in a process of its own: the run's outcome and its own rusage as JSON.
SUPERVISOR = """\
import asyncio, json, resource, sys, time
from pathlib import Path
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.supervisor.loop import Options, Orchestrator
from bosun.orchestration.session import create_session
repo = Path(sys.argv[1])
started = time.monotonic()
session = create_session(GitRepo(repo), repo / "bosun.toml")
code = asyncio.run(Orchestrator(session, Options(auto_approve=True)).run())
merged = sum(1 for u in session.store.units() if u.state == "merged")
others = {u.id: [u.state, (u.detail or {}).get("error") or (u.detail or {}).get("reason")]
          for u in session.store.units() if u.state != "merged"}
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"exit": code, "merged": merged, "not_merged": others, "seconds": time.monotonic() - started,
                  "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024}))
"""


KEYS_EVERY_S = 0.5  # a key moving the selection, this often, while the agents run


class ScreenProbe:
    """Commit times of the store's events (a listener, called as each transaction commits), the
    latency of each once the screen has shown it, and the key presses timed to their repaint."""

    def __init__(self) -> None:
        self.committed: collections.deque[tuple[int, float]] = collections.deque()
        self.events: list[float] = []
        self.keys: list[float] = []
        self.key_started: float | None = None
        self.key_shown: asyncio.Future | None = None

    def commit(self, event) -> None:
        self.committed.append((event.seq, time.perf_counter()))

    def shown(self, seq: int) -> None:
        now = time.perf_counter()
        while self.committed and self.committed[0][0] <= seq:
            self.events.append(now - self.committed.popleft()[1])

    def moved(self, app) -> None:
        """The selection moved: the key's time runs to the end of the next repaint."""
        future = self.key_shown
        if future is not None and not future.done():
            app.call_after_refresh(lambda: future.done() or future.set_result(time.perf_counter()))


async def press_keys(app, probe: ScreenProbe, stop: asyncio.Event) -> int:
    """Every KEYS_EVERY_S, `j` then `k` (down, up the graph), posted as the terminal driver posts a
    key; each is timed to the repaint after the selection moved. Returns the presses that did not
    move it within 10 s (a key the graph had no room for, or a screen that did not answer)."""
    from textual import events

    from bosun.widgets.graph_view import GraphView

    graph = app.screen_of_session.query_one(GraphView)
    app.watch(graph, "selected", lambda _value: probe.moved(app), init=False)
    lost, n = 0, 0
    while not stop.is_set():
        key = "jk"[n % 2]
        n += 1
        probe.key_shown = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        app._driver.send_message(events.Key(key, key))
        try:
            probe.keys.append(await asyncio.wait_for(asyncio.shield(probe.key_shown), 10) - started)
        except TimeoutError:
            lost += 1
        try:
            await asyncio.wait_for(stop.wait(), KEYS_EVERY_S)
        except TimeoutError:
            pass
    return lost


async def screen_session(repo: Path) -> dict:
    """The run with the real screen in this process, the orchestrator its worker (as `bosun run`)."""
    from harness import DrivenApp

    from bosun.orchestration.gitcmd import GitRepo
    from bosun.orchestration.session import create_session
    from bosun.orchestration.states import DONE_STATES
    from bosun.orchestration.supervisor.loop import Options

    probe = ScreenProbe()

    class MeasuredApp(DrivenApp):
        def on_supervisor_screen_events_shown(self, message) -> None:  # DrivenApp's runs as well
            probe.shown(message.seq)

    started = time.monotonic()
    session = create_session(GitRepo(repo), repo / "bosun.toml")
    session.store.listeners.append(probe.commit)  # before the app's: the commit is timed first
    app = MeasuredApp(session, Options(auto_approve=True, wait=True))
    stop = asyncio.Event()
    async with app.run_test(size=(120, 40)):
        await app.caught_up()
        keys = asyncio.create_task(press_keys(app, probe, stop))
        # Every unit done, or the supervisor stopped (an error is the run's outcome, not an hour's wait).
        done = lambda: app.supervisor_worker.is_finished or all(u.state in DONE_STATES for u in session.store.units())  # noqa: E731
        try:
            await app.until(done, "every unit merged", timeout=3600)
        finally:
            stop.set()
            lost = await keys
        error = app.supervisor_worker.error
        if error is not None:
            raise SystemExit(f"the supervisor under the screen stopped: {type(error).__name__}: {error}")
        seconds = time.monotonic() - started
        await app.caught_up()
    units = session.store.units()
    session.close()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    events, keys_s = sorted(probe.events), sorted(probe.keys)
    return {
        "exit": 0,
        "merged": sum(1 for u in units if u.state == "merged"),
        "not_merged": {u.id: [u.state] for u in units if u.state != "merged"},
        "seconds": seconds,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "events_shown": len(events),
        "event_p50": pct(events, 50),
        "event_p95": pct(events, 95),
        "event_max": events[-1] if events else float("nan"),
        "keys": len(keys_s),
        "keys_lost": lost,
        "key_p50": pct(keys_s, 50),
        "key_p95": pct(keys_s, 95),
        "key_max": keys_s[-1] if keys_s else float("nan"),
    }


def pct(values: list[float], at: int) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[at - 1] if len(values) > 1 else values[0]


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True)


def build(folder: Path, backend: str, address: str | None, agents: int, units: int, work: float) -> Path:
    repo = folder / backend
    (repo / "src").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "check.py").write_text(CHECK_PY)
    (repo / "src" / "__init__.py").write_text("")
    project = [
        'gate = "python check.py"',
        'merge = "auto"',
        f"max_agents = {agents}",
        'sandbox = "off"',
        'gate_timeout = "120s"',
        "gate_parallel = 2",
        "batch = 10",
        f'backend = "{backend}"',
    ]
    if address:
        project.append(f'ray_address = "{address}"')
    lines = ["[project]", *project]
    share = round(1 / agents, 4)
    for n in range(agents):
        lines += [f"[agents.a{n}]", 'kind = "scripted"', 'script = "team.toml"']
        if backend == "ray":
            lines.append(f"resources = {{ CPU = {share} }}")
    for n in range(units):
        lines += ["[[units]]", f'id = "u{n}"', f'prompt = "write src/u{n}.py"']
    (repo / "bosun.toml").write_text("\n".join(lines) + "\n")
    script = []
    for n in range(units):
        steps = ([f"{{sleep = {work}}}"] if work > 0 else []) + [
            f'{{write = "src/u{n}.py", content = "U{n} = {n}\\n"}}',
            f'{{commit = "u{n}"}}',
        ]
        script += [f'[[unit."u{n}"]]', "steps = [" + ", ".join(steps) + "]"]
    (repo / "team.toml").write_text("\n".join(script) + "\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "benchmark project")
    return repo


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (and of their waited-for children)."""
    total, tick = 0.0, os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / tick
    return total


class CpuSampler:
    """The CPU seconds a set of processes spent while it ran, sampled twice a second (a process
    that ends between two samples keeps what it had at the last one)."""

    def __init__(self, pids) -> None:
        self.pids, self.first, self.last = pids, {}, {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            for pid in self.pids():
                spent = cpu_seconds([pid])
                self.first.setdefault(pid, spent)
                self.last[pid] = spent
            if self.stop.wait(0.5):
                return

    def total(self) -> float:
        self.stop.set()
        self.thread.join()
        return sum(self.last[p] - self.first[p] for p in self.last)


def supervise(repo: Path, screen: bool) -> dict:
    """One run in a supervisor process of its own: headless, or with the screen in that process."""
    command = [__file__, "--screen-of", str(repo)] if screen else ["-c", SUPERVISOR, str(repo)]
    proc = subprocess.run([sys.executable, *command], capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit(f"the supervisor failed ({proc.returncode}): {proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_all(args, folder: Path) -> dict[str, dict]:
    """Each backend, headless and/or with the screen; one Ray cluster for every Ray run."""
    screens = {"off": [False], "on": [True], "both": [False, True]}[args.screens]
    results: dict[str, dict] = {}
    cluster: Cluster | None = None
    try:
        for backend in args.backends.split(","):
            address = None
            if backend == "ray":
                started = time.monotonic()
                cluster = start_cluster({"w1": args.cpus, "w2": args.cpus}, head_cpus=args.cpus)
                print(f"local Ray cluster (head + 2 workers) up in {time.monotonic() - started:.1f}s", file=sys.stderr)
                address = cluster.address
            for screen in screens:
                name = f"{backend}{'+screen' if screen else ''}"
                repo = build(folder / name, backend, address, args.agents, args.units, args.work)
                sampler = CpuSampler(cluster.own_pids) if cluster else None
                result = supervise(repo, screen)
                if sampler is not None:
                    result["cluster_cpu_s"] = sampler.total()
                result["units_per_s"] = result["merged"] / result["seconds"]
                result["cpu_share"] = result["cpu_s"] / result["seconds"]
                results[name] = result
                print(
                    f"{name}: {result['merged']}/{args.units} merged (exit {result['exit']})"
                    + (f"; not merged: {result['not_merged']}" if result["not_merged"] else ""),
                    file=sys.stderr,
                )
    finally:
        if cluster is not None:
            cluster.stop()
    return results


def report(args, results: dict[str, dict]) -> None:
    print(f"{args.units} units, {args.agents} agents, {args.work:g}s of work each; gate_parallel 2, batch 10")
    print(
        f"{'run':13} {'makespan':>9} {'units/s':>8} {'sup. CPU':>9} {'CPU share':>9} {'sup. RSS':>9} "
        f"{'cluster CPU':>11}"
    )
    for name, r in results.items():
        cluster_cpu = f"{r['cluster_cpu_s']:10.1f}s" if "cluster_cpu_s" in r else f"{'-':>11}"
        print(
            f"{name:13} {r['seconds']:8.1f}s {r['units_per_s']:8.2f} {r['cpu_s']:8.1f}s {r['cpu_share']:8.0%} "
            f"{r['rss_mb']:7.0f}MB {cluster_cpu}"
        )
    screened = {name: r for name, r in results.items() if "events_shown" in r}
    if not screened:
        return
    print("the screen, in the supervisor's process, while the agents ran (ms):")
    print(
        f"{'run':13} {'event to screen p50/p95/max':>28} {'events':>7}   {'key to repaint p50/p95/max':>27} {'keys':>5}"
    )
    for name, r in screened.items():
        ev = f"{r['event_p50'] * 1000:.0f} / {r['event_p95'] * 1000:.0f} / {r['event_max'] * 1000:.0f}"
        key = f"{r['key_p50'] * 1000:.0f} / {r['key_p95'] * 1000:.0f} / {r['key_max'] * 1000:.0f}"
        lost = f" ({r['keys_lost']} not shown within 10 s)" if r["keys_lost"] else ""
        print(f"{name:13} {ev:>28} {r['events_shown']:7}   {key:>27} {r['keys']:5}{lost}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, default=100, help="agents in the plan, all may run at once (100)")
    parser.add_argument("--units", type=int, default=100, help="units, one file each (100)")
    parser.add_argument("--work", type=float, default=0.5, help="seconds each agent sleeps before it commits (0.5)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs each local Ray node announces (2)")
    parser.add_argument("--backends", default="local,ray", help="which to run, in order (local,ray)")
    parser.add_argument("--screens", choices=("off", "on", "both"), default="both", help="the screen (both)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the repositories (their folder is printed)")
    parser.add_argument("--screen-of", type=Path, help=argparse.SUPPRESS)  # the supervisor process, screen on
    args = parser.parse_args(argv)
    if args.screen_of:
        print(json.dumps(asyncio.run(screen_session(args.screen_of))))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="bosun-ray-bench-"))
    if args.keep:
        print(f"repositories in {folder}", file=sys.stderr)
    try:
        results = run_all(args, folder)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    if args.json:
        print(json.dumps({"agents": args.agents, "units": args.units, "work_s": args.work, "results": results}))
    else:
        report(args, results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
