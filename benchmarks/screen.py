"""How fast the supervisor screen shows what happens: the real app (`run_test`, 120×40) on a real
session of 500 units and 50 agents, fed 200 store events per second for 10 seconds through the
real store (claims with owners and leases, state changes, gate results).

Latency is from an event's commit to the end of the first repaint that includes it (the screen's
EventsShown, posted after the refresh). The baseline, measured in the same run, is the latency
of single events on a quiet screen: the floor that the flood is compared with (target: the flood's
p95 at most 3x the quiet one).

Then, in a process of its own, the peak memory (the OS's ru_maxrss) of the same screen at 1,000
units through a 5-second flood (target: under 150 MB).

With `--stream N` the Output tab is open on an agent writing N lines a second of Claude Code
stream-json to its log (the model's words, tool calls, multi-line results) from another thread
while the same single events are measured again, and during the flood: the streaming p95 is
compared with the quiet one. It also reports how long a line takes from the log to the screen.

    python benchmarks/screen.py [--units 500] [--agents 50] [--rate 200] [--seconds 10] [--stream 200]
    python benchmarks/screen.py --profile        # and where the flood's time went (cProfile)
    python benchmarks/screen.py --memory-units 0 # without the peak memory at 1,000 units (a second process)
    python benchmarks/screen.py --graph-only     # one frame of the graph pane at 250 units
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the driven app, the corpus

from harness import DrivenApp  # noqa: E402

from bosun.orchestration.gitcmd import GitRepo  # noqa: E402
from bosun.orchestration.session import create_session  # noqa: E402
from bosun.widgets.graph_view import GraphView  # noqa: E402
from bosun.widgets.output_view import OutputView  # noqa: E402

CYCLE = ["ready", "claimed", "running", "submitted", "checking", "gating", "awaiting_approval", "merged"]
GIT = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]


def make_repo(folder: Path, units: int, agents: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    lines = ["[project]", 'gate = "true"', 'merge = "manual"']
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
            fields = {
                "owner": f"agent{rng.randrange(agents):02d}",
                "lease_until": store.clock() + rng.uniform(5, 60),
                "started_at": store.clock() - rng.uniform(0, 300),
                "attempts": 1,
            }
        elif to == "submitted":
            fields = {"owner": None}
        data = {"gate": {"passed": True, "duration_s": 0.5, "commit": "0" * 40}} if to == "awaiting_approval" else None
        gate_run = None
        if data:
            gate_run = {
                "unit": unit,
                "attempt": 1,
                "commit_id": "0" * 40,
                "parent": "0" * 40,
                "passed": True,
                "exit_code": 0,
                "duration_s": 0.5,
                "cause": "tests passed",
                "output_tail": "1 passed in 0.5s",
            }
        event = store.transition(unit, to, (current,), data=data, gate_run=gate_run, fsync=False, **fields)
        probe.committed[event.seq] = time.perf_counter()
    return count


def stream_lines(n: int) -> str:
    """The n-th line an agent prints: a Claude Code stream-json event (text, tool call, result)."""
    wt = "/home/me/project/.bosun/worktrees/u000/"
    kind = n % 4
    if kind == 0:
        event = {
            "type": "assistant",
            "message": {
                "id": f"m{n}",
                "content": [
                    {
                        "type": "text",
                        "text": (
                            f"Step {n}: the parser's precedence climbing needs one more level for unary minus, and the "
                            "tests for nested parentheses should cover the empty group as well."
                        ),
                    }
                ],
                "usage": {"input_tokens": 9000 + n, "output_tokens": 80},
            },
        }
    elif kind == 1:
        event = {
            "type": "assistant",
            "message": {
                "id": f"m{n}",
                "content": [
                    {
                        "type": "tool_use",
                        "id": f"t{n}",
                        "name": "Bash",
                        "input": {"command": f"python -m pytest -q tests/test_parser.py -k case{n}"},
                    }
                ],
                "usage": {"input_tokens": 9000 + n, "output_tokens": 30},
            },
        }
    elif kind == 2:
        event = {
            "type": "user",
            "message": {
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": f"t{n - 1}",
                        "content": "....F.\nFAILED tests/test_parser.py::test_unary\nAssertionError: assert -1 == 1\n"
                        "1 failed, 5 passed in 0.04s",
                    }
                ]
            },
        }
    else:
        event = {
            "type": "assistant",
            "message": {
                "id": f"m{n}",
                "content": [
                    {
                        "type": "tool_use",
                        "id": f"t{n}",
                        "name": "Edit",
                        "input": {"file_path": wt + "src/calc/parser.py", "old_string": "x", "new_string": "y"},
                    }
                ],
                "usage": {"input_tokens": 9000 + n, "output_tokens": 60},
            },
        }
    return json.dumps(event, separators=(",", ":")) + "\n"


class Stream:
    """An agent writing `rate` lines a second to `log` from its own thread, and when each line's
    bytes were written, to time them to the screen."""

    def __init__(self, log: Path, rate: float) -> None:
        self.log, self.rate = log, rate
        self.written: list[tuple[int, float]] = []
        """(the log's size after a line, when it was written)"""
        self.latencies: list[float] = []
        self._shown_upto = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return len(self.written)

    def _write(self) -> None:
        start = time.perf_counter()
        size = 0
        with open(self.log, "ab", buffering=0) as handle:
            n = 0
            while not self._stop.is_set():
                wait = start + n / self.rate - time.perf_counter()
                if wait > 0:
                    time.sleep(wait)
                data = stream_lines(n).encode()
                handle.write(data)
                size += len(data)
                self.written.append((size, time.perf_counter()))
                n += 1

    def shown(self, offset: int) -> None:
        """The screen has painted the log up to byte `offset`."""
        now = time.perf_counter()
        for size, when in self.written[self._shown_upto :]:
            if size > offset:
                break
            self.latencies.append(now - when)
            self._shown_upto += 1


def watch_output(app: DrivenApp, stream: Stream) -> None:
    """Time each line from its write to the repaint after the Output tab read it."""
    view = app.screen_of_session.query_one(OutputView)
    read = view.add_lines

    def add_lines(lines) -> None:
        read(lines)
        offset = view._offset - len(view._partial)
        view.call_after_refresh(lambda: stream.shown(offset))

    view.add_lines = add_lines


async def singles(app: DrivenApp, probe: Probe, agents: int, pilot, rng: random.Random, count: int = 60) -> list[float]:
    """One event at a time, each shown before the next: the latency of each (60: a p95 of 20 was
    their largest but one, as noisy as the machine)."""
    for _ in range(count):
        await feed(app, probe, agents, rate=1000, seconds=0.001, rng=rng)
        await app.caught_up()
        await pilot.pause(0.05)
    found = sorted(probe.latencies)
    probe.latencies = []
    return found


async def measure(
    units: int, agents: int, rate: float, seconds: float, stream_rate: float = 0, profile: bool = False
) -> dict:
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
        quiet = await singles(app, probe, agents, pilot, rng)  # the baseline: one event at a time, a quiet screen
        streaming: list[float] = []
        stream = None
        if stream_rate:  # the same with the Output tab following an agent that writes stream_rate lines/s
            log = session.dir / "logs" / "u000.1.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("")
            session.store.update("u000", attempts=1)
            app.query_one(GraphView).selected = "u000"
            await pilot.press("o")
            await pilot.pause()
            stream = Stream(log, stream_rate)
            watch_output(app, stream)
            stream.start()
            await asyncio.sleep(1.0)  # well under way
            streaming = await singles(app, probe, agents, pilot, rng, count=60)
        profiler = cProfile.Profile() if profile else None
        if profiler:
            profiler.enable()
        flood_started, cpu_started = time.perf_counter(), time.process_time()
        sent = await feed(app, probe, agents, rate, seconds, rng)
        await app.caught_up()
        flood_s = time.perf_counter() - flood_started
        flood_cpu_s = time.process_time() - cpu_started
        if profiler:
            profiler.disable()
        lines = stream.stop() if stream else 0
        for _ in range(10):  # the selection still moves while the last repaints land
            await pilot.press("j")
        await pilot.pause()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    session.close()
    flood = sorted(probe.latencies)
    return {
        "units": units,
        "agents": agents,
        "events": sent,
        "flood_s": flood_s,
        "flood_cpu_s": flood_cpu_s,
        "first_paint_s": first_paint,
        "quiet_p50": _pct(quiet, 50),
        "quiet_p95": _pct(quiet, 95),
        "p50": _pct(flood, 50),
        "p95": _pct(flood, 95),
        "max": flood[-1] if flood else 0.0,
        "shown": len(flood),
        "peak_mb": peak_mb,
        "before_mb": rss_before / 1024,
        "stream_rate": stream_rate,
        "streaming_p50": _pct(streaming, 50),
        "streaming_p95": _pct(streaming, 95),
        "lines": lines,
        "line_p50": _pct(sorted(stream.latencies), 50) if stream else 0.0,
        "line_p95": _pct(sorted(stream.latencies), 95) if stream else 0.0,
        "lines_shown": len(stream.latencies) if stream else 0,
        "profile": profiler,
    }


async def graph_frame(units: int = 250, repeats: int = 50) -> tuple[float, float, float]:
    """One whole frame of the graph pane alone (200×50, a random DAG of `units`, a unit selected, every
    line painted afresh): the median and the best of `repeats`, and the layout once, in seconds (the best
    is the steadier number on a busy machine)."""
    from test_graph_view import random_dag
    from textual.app import App

    graph = random_dag(units, seed=7)
    app = App()
    async with app.run_test(size=(200, 50)) as pilot:
        view = GraphView()
        await app.mount(view)
        started = time.perf_counter()
        view.set_graph(graph, list(graph))
        layout_s = time.perf_counter() - started
        view.selected = list(graph)[units // 2]
        await pilot.pause()
        frames = []
        for _ in range(repeats):
            started = time.perf_counter()
            view._lines.clear()
            for y in range(view.size.height):
                view.render_line(y)
            frames.append(time.perf_counter() - started)
    return statistics.median(frames), min(frames), layout_s


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
    parser.add_argument(
        "--stream",
        type=float,
        default=0,
        metavar="LINES_PER_S",
        help="the Output tab open on an agent writing this many stream-json lines a second",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile the flood (cProfile) and print where the event loop's time went"
    )
    parser.add_argument(
        "--memory-units",
        type=int,
        default=1000,
        metavar="N",
        help="also the peak memory of a screen of N units through a flood, in a process of its own (0: not)",
    )
    parser.add_argument("--peak-only", action="store_true", help=argparse.SUPPRESS)  # that process
    parser.add_argument("--graph-only", action="store_true", help="only time a frame of the graph pane at 250 units")
    args = parser.parse_args()
    if args.peak_only:
        r = asyncio.run(measure(args.units, args.agents, args.rate, args.seconds))
        print(json.dumps({"peak_mb": r["peak_mb"], "events": r["events"]}))
        return 0
    frame_s, best_s, layout_s = asyncio.run(graph_frame())
    print(
        f"graph pane, 250 units at 200×50: one frame {frame_s * 1000:.1f} ms median, "
        f"{best_s * 1000:.1f} ms best of 50, "
        f"layout {layout_s * 1000:.0f} ms"
    )
    if args.graph_only:
        return 0
    r = asyncio.run(measure(args.units, args.agents, args.rate, args.seconds, args.stream, args.profile))
    report(r)
    if args.memory_units:
        peak = peak_memory(args.memory_units, args.agents, args.rate)
        print(
            f"  peak memory at {args.memory_units} units ({peak['events']} events, a process of its own): "
            f"{peak['peak_mb']:.0f} MB RSS (target < 150 MB: {'met' if peak['peak_mb'] < 150 else 'NOT met'})"
        )
    if r["profile"]:
        print_profile(r["profile"])
    return 0


def peak_memory(units: int, agents: int, rate: float, seconds: float = 5) -> dict:
    """The peak resident memory of a fresh process that shows `units` units through a flood: the
    operating system's own count (ru_maxrss) of everything the screen holds, the interpreter,
    Textual, SQLite's cache and the rows alike, which is what a user's terminal pays; tracemalloc
    would count only Python's allocations, and slow the flood it measures. A process of its own, so
    the 500-unit run before it is not in the peak."""
    run = subprocess.run(
        [sys.executable, __file__, "--peak-only", "--units", str(units), "--agents", str(agents)]
        + ["--rate", str(rate), "--seconds", str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(run.stdout.strip().splitlines()[-1])


def report(r: dict) -> None:
    ms = 1000
    print(
        f"screen benchmark: {r['units']} units, {r['agents']} agents, {r['events']} events in {r['flood_s']:.1f}s "
        f"({r['events'] / r['flood_s']:.0f}/s), first paint {r['first_paint_s']:.2f}s"
    )
    print(  # the CPU the app spent (feeding the store included): steadier than latencies on a busy machine
        f"  CPU during the flood: {r['flood_cpu_s']:.1f} s in {r['flood_s']:.1f} s "
        f"({r['flood_cpu_s'] / r['flood_s']:.0%} of a core; {r['flood_cpu_s'] / r['events'] * 1000:.2f} ms an event)"
    )
    print(
        f"  baseline, one event on a quiet screen:  p50 {r['quiet_p50'] * ms:6.1f} ms   p95 {r['quiet_p95'] * ms:6.1f} ms"  # noqa: E501
    )
    print(
        f"  flood, event to screen:                 p50 {r['p50'] * ms:6.1f} ms   p95 {r['p95'] * ms:6.1f} ms   "
        f"max {r['max'] * ms:6.1f} ms   ({r['shown']} events shown)"
    )
    ratio = r["p95"] / r["quiet_p95"]
    print(f"  flood p95 / quiet p95: {ratio:.2f}x (target <= 3x: {'met' if ratio <= 3 else 'NOT met'})")
    if r["stream_rate"]:
        ratio = r["streaming_p95"] / r["quiet_p95"]
        print(
            f"  Output tab on an agent streaming {r['stream_rate']:.0f} lines/s ({r['lines']} lines, during the "
            f"single events and the flood):"
        )
        print(
            f"    one event, event to screen:          p50 {r['streaming_p50'] * ms:6.1f} ms   "
            f"p95 {r['streaming_p95'] * ms:6.1f} ms   ({ratio:.2f}x quiet p95: "
            f"{'within' if ratio <= 3 else 'NOT within'} 3x)"
        )
        print(
            f"    a line, log to screen:               p50 {r['line_p50'] * ms:6.1f} ms   "
            f"p95 {r['line_p95'] * ms:6.1f} ms   ({r['lines_shown']} lines shown)"
        )
    print(
        f"  peak memory (RSS) {r['peak_mb']:.0f} MB (Python with the app loaded: {r['before_mb']:.0f} MB before start)"
    )
    print(
        f"  targets: p95 < 50 ms -> {'met' if r['p95'] < 0.05 else 'NOT met'}; "
        f"< 150 MB -> {'met' if r['peak_mb'] < 150 else 'NOT met'}"
    )


def print_profile(profiler: cProfile.Profile, top: int = 25) -> None:
    """The flood's profile: the top entries by time spent inside each function, then by time
    including what they called (the event loop is one thread, so this is where its time went)."""
    for order in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        text = out.getvalue()
        print(f"\nprofile of the flood, by {order}:")
        print(text[text.find("   ncalls") :].rstrip())


if __name__ == "__main__":
    sys.exit(main())
