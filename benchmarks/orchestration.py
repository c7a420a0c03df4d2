"""How much Bosun's orchestration costs over raw git doing the same steps, per unit.

    python benchmarks/orchestration.py [--units N] [--max-agents K] [--rounds R] [--keep DIR]
                                       [--sandbox on|off|both] [--profile]

Builds a real git repository with N units in a temporary folder. Every unit is done by a
scripted agent (a real Python subprocess, no think time) that writes its own file
`src/u<i>.py` and commits; the gate is `true`; merges are automatic. The plan's graph: the
first half of the units are independent, the second half are chains of 5 (u[i] depends on
u[i-1] inside a chain), so the dependency hand-out is exercised without starving the agents.

Three figures are measured in the same run, each on a fresh copy of the same repository:
  * Bosun end to end: `create_session` + `Orchestrator(Options(auto_approve=True)).run()`.
  * raw git, sequentially, per unit: `git worktree add` from the integration head, write the
    file + `git add` + `git commit`, `git merge-tree --write-tree`, `git commit-tree` with two
    parents, `git update-ref` with the old value (compare-and-swap).
  * the same plus one `python -I -c pass` per unit: what starting an agent process costs,
    since Bosun starts a real subprocess per unit.
The issue's target is bosun / raw git <= 1.3. Everything runs `--rounds` times (default 3)
and medians are printed, since one run on a shared machine can be off by a factor of two.
With `--sandbox both` (the default) Bosun runs twice per round, agents and gates in bubblewrap
(`sandbox = "required"`) and without (`sandbox = "off"`), in alternating order, and the
sandbox's per-unit overhead is printed (issue 12's target: <= 15 %).

Cheap instrumentation (subprocesses started by Bosun's process, store transactions, phases
from the event timestamps) is printed too; `--no-instrument` turns the first two off.
`--profile` adds cProfile's top entries for the supervisor's event loop (the main thread; the
git and process work it hands to worker threads shows as the subprocess table above).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from bosun.orchestration import store as store_module
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import create_session
from bosun.orchestration.supervisor.loop import Options, Orchestrator

CHAIN = 5
GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("GIT_")},
    "LC_ALL": "C",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


# -- the project --------------------------------------------------------------------------------
def run_git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, env=GIT_ENV, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} in {cwd}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def unit_ids(n: int) -> list[str]:
    return [f"u{i}" for i in range(n)]


def dependencies(n: int) -> dict[str, list[str]]:
    """First half independent; second half in chains of CHAIN units."""
    deps: dict[str, list[str]] = {}
    half = n // 2
    for i in range(n):
        deps[f"u{i}"] = [f"u{i - 1}"] if i >= half and (i - half) % CHAIN else []
    return deps


def describe_graph(n: int) -> str:
    half = n // 2
    chains = -(-(n - half) // CHAIN)
    return f"{half} independent + {n - half} in {chains} chain(s) of <= {CHAIN}"


def make_project(repo: Path, n: int, agents: int, sandbox: str = "off") -> Path:
    """A committed repository on `main` with the plan and the scripted team's script."""
    (repo / "src").mkdir(parents=True)
    run_git(repo, "init", "-q", "-b", "main")
    (repo / "src" / "__init__.py").write_text("")
    plan = [
        "[project]",
        'gate = "true"',
        'merge = "auto"',
        f"max_agents = {agents}",
        'gate_timeout = "60s"',
        f'sandbox = "{"required" if sandbox == "on" else "off"}"',
    ]
    for a in range(agents):
        plan += [f"[agents.a{a}]", 'kind = "scripted"', 'script = "team.toml"']
    script = []
    for unit, deps in dependencies(n).items():
        plan += [
            "[[units]]",
            f'id = "{unit}"',
            f'prompt = "write src/{unit}.py"',
            f"depends_on = {json.dumps(deps)}",
            f'scope = ["src/{unit}.py"]',
        ]
        script += [
            f'[[unit."{unit}"]]',
            (
                f'steps = [{{write = "src/{unit}.py", content = "{unit.upper()} = 1\\n"}}, '
                f'{{commit = "write src/{unit}.py"}}]'
            ),
        ]
    (repo / "bosun.toml").write_text("\n".join(plan) + "\n")
    (repo / "team.toml").write_text("\n".join(script) + "\n")
    run_git(repo, "add", "-A")
    run_git(repo, "commit", "-q", "-m", "initial project")
    return repo


# -- the baselines ------------------------------------------------------------------------------
def raw_git(repo: Path, n: int) -> tuple[float, float]:
    """The same git steps per unit, sequentially; returns (git seconds, python-start seconds)."""
    ref = "refs/heads/integration"
    head = run_git(repo, "rev-parse", "main")
    run_git(repo, "update-ref", ref, head, "")
    worktrees = repo.parent / (repo.name + "-worktrees")
    git_s = python_s = 0.0
    for unit in unit_ids(n):
        start = time.perf_counter()
        path = worktrees / unit
        branch = f"unit/{unit}"
        run_git(repo, "worktree", "add", "-q", "-b", branch, str(path), head)
        (path / "src" / f"{unit}.py").write_text(f"{unit.upper()} = 1\n")
        run_git(path, "add", "--all")
        run_git(path, "commit", "-q", "--no-verify", "-m", f"write src/{unit}.py")
        tree = run_git(repo, "merge-tree", "--write-tree", head, branch).split("\n")[0]
        merged = run_git(repo, "commit-tree", tree, "-p", head, "-p", branch, "-m", f"merge unit {unit}")
        run_git(repo, "update-ref", "-m", f"merge unit {unit}", ref, merged, head)
        head = merged
        middle = time.perf_counter()
        subprocess.run([sys.executable, "-I", "-c", "pass"], check=True)
        git_s += middle - start
        python_s += time.perf_counter() - middle
    merges = run_git(repo, "rev-list", "--first-parent", "--count", f"main..{ref}")
    assert int(merges) == n, f"raw git baseline merged {merges} of {n}"
    return git_s, python_s


# -- instrumentation of Bosun's process -----------------------------------------------------------
LONG_LIVED = "git cat-file --batch(-check), long-lived"  # one per repository, reads objects for the whole run


class Probe:
    """Counts the subprocesses Bosun's process starts (by git command) and its store transactions."""

    # Bosun's own steps around a sandbox (and their unsandboxed counterparts), timed per call.
    STEPS = [
        ("bosun.orchestration.worktrees", "AgentClone", "sandbox_view"),
        ("bosun.orchestration.worktrees", "AgentClone", "absorb"),
        ("bosun.orchestration.agents.launch", None, "agent_box"),
        ("bosun.orchestration.integration.gate", None, "gate_box"),
        ("bosun.orchestration.sandbox.bwrap", None, "argv"),
        ("bosun.orchestration.sandbox.leftovers", None, "record"),
        ("bosun.orchestration.sandbox.leftovers", None, "end_named"),
        ("bosun.orchestration.sandbox.ports", None, "allocate"),
        ("bosun.orchestration.sandbox.limits", None, "open_group"),
        ("bosun.orchestration.sandbox.limits", None, "close_group"),
        ("bosun.orchestration.supervisor.loop", None, "start_agent"),
        ("bosun.orchestration.integration.gate_runs", None, "run_gate"),
    ]

    def __init__(self) -> None:
        self.procs: list[tuple[str, float, bool]] = []  # (label, seconds, started on the main thread)
        self.tx: list[float] = []
        self.steps: list[tuple[str, float]] = []
        self._undo: list = []

    def _time_steps(self) -> None:
        import importlib

        for module_name, class_name, name in self.STEPS:
            try:
                owner = importlib.import_module(module_name)
            except ImportError:
                continue
            owner = getattr(owner, class_name) if class_name else owner
            real = getattr(owner, name, None)
            if real is None:
                continue
            label = f"{class_name + '.' if class_name else module_name.rsplit('.', 1)[1] + '.'}{name}"

            def timed(*args, _real=real, _label=label, **kwargs):
                start = time.perf_counter()
                try:
                    return _real(*args, **kwargs)
                finally:
                    self.steps.append((_label, time.perf_counter() - start))

            setattr(owner, name, timed)
            self._undo.append((owner, name, real))

    @staticmethod
    def label(argv: list[str]) -> str:
        argv = [str(a) for a in argv]
        if Path(argv[0]).name == "git" and any(a in ("--batch", "--batch-check") for a in argv):
            return LONG_LIVED
        if Path(argv[0]).name == "git":
            rest, i = argv[1:], 0
            while i < len(rest) and rest[i] == "-c":
                i += 2
            words = rest[i : i + 2]
            name = words[0] if words else "?"
            return f"git {name} {words[1]}" if name == "worktree" and len(words) > 1 else f"git {name}"
        if Path(argv[0]).name == "bwrap" and "--" in argv:
            return Probe.label(argv[argv.index("--") + 1 :]) + " in bwrap"
        if argv[:2] == ["/bin/sh", "-c"] and argv[2].startswith("echo 0 >"):  # joins its process-limit group
            return Probe.label(argv[4:])
        if argv[:2] == ["/bin/sh", "-c"]:
            return "gate (sh -c)"
        if any(a.endswith("scripted.py") for a in argv):
            return "agent (python scripted.py)"
        return Path(argv[0]).name

    def install(self) -> None:
        probe, real_popen = self, subprocess.Popen

        class CountingPopen(real_popen):  # type: ignore[misc, valid-type]
            def __init__(self, args, *a, **kw):
                self._probe_t0 = time.perf_counter()
                self._probe_main = threading.current_thread() is threading.main_thread()
                self._probe_done = False
                super().__init__(args, *a, **kw)
                self._probe_args = list(args) if not isinstance(args, (str, bytes)) else [args]
                if probe.label(self._probe_args) == LONG_LIVED:  # counted when it starts: it ends after the run
                    self._probe_done = True
                    probe.procs.append((LONG_LIVED, 0.0, self._probe_main))

            def wait(self, timeout=None):
                code = super().wait(timeout)
                if not self._probe_done:
                    self._probe_done = True
                    probe.procs.append(
                        (probe.label(self._probe_args), time.perf_counter() - self._probe_t0, self._probe_main)
                    )
                return code

        real_tx = store_module.Store.tx

        @contextlib.contextmanager
        def timed_tx(store, *args, **kwargs):
            start = time.perf_counter()
            with real_tx(store, *args, **kwargs) as db:
                yield db
            probe.tx.append(time.perf_counter() - start)

        subprocess.Popen = CountingPopen
        store_module.Store.tx = timed_tx
        self._undo = [(subprocess, "Popen", real_popen), (store_module.Store, "tx", real_tx)]
        self._time_steps()

    def remove(self) -> None:
        for owner, name, value in reversed(self._undo):
            setattr(owner, name, value)
        self._undo = []


# -- Bosun ------------------------------------------------------------------------------------
PHASES = [  # (name, from event, to event)
    ("ready -> claimed (waiting for an agent)", "ready", "claimed"),
    ("claimed -> running (worktree, task file, spawn)", "claimed", "running"),
    ("running -> submitted (agent process + collect)", "running", "submitted"),
    ("submitted -> checking (waiting for the lane)", "submitted", "checking"),
    ("checking -> gating (merge-tree, diff, commit-tree)", "checking", "gating"),
    ("gating -> merged (gate folder, gate, intent, update-ref)", "gating", "merged"),
]


def run_bosun(repo: Path, n: int, max_agents: int, probe: Probe | None, profiler=None) -> dict:
    if probe:
        probe.install()
    try:
        start = time.perf_counter()
        session = create_session(GitRepo(repo), repo / "bosun.toml")
        created = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        code = asyncio.run(Orchestrator(session, Options(auto_approve=True, max_agents=max_agents)).run())
        if profiler is not None:
            profiler.disable()
        end = time.perf_counter()
    finally:
        if probe:
            probe.remove()
    try:
        units = session.store.units()
        events = session.store.events()
    finally:
        session.close()
    merged = sum(u.state == "merged" for u in units)
    for unit in units:
        if unit.state != "merged":
            print(f"  ! unit {unit.id} ended {unit.state}: {json.dumps(unit.detail)}", file=sys.stderr)
    merges = int(run_git(repo, "rev-list", "--first-parent", "--count", "main..bosun/integration"))
    return {
        "exit": code,
        "merged": merged,
        "merges": merges,
        "total_s": end - start,
        "session_s": created - start,
        "run_s": end - created,
        "events": events,
    }


def phase_table(runs: list[list], n: int) -> list[tuple[str, float, float]]:
    """(phase, mean ms per unit, s per run) from the first time each unit reached each event kind."""
    first: dict[tuple[int, str], dict[str, float]] = defaultdict(dict)
    for number, events in enumerate(runs):
        for event in events:
            if event.unit:
                first[(number, event.unit)].setdefault(event.kind, event.time)
    rows = []
    for name, a, b in PHASES:
        spans = [t[b] - t[a] for t in first.values() if a in t and b in t]
        rows.append((name, 1000 * statistics.fmean(spans) if spans else float("nan"), sum(spans) / len(runs)))
    # The lane is serial: its busy time bounds the whole run from below.
    busy = idle = 0.0
    for number in range(len(runs)):
        spans = sorted(
            (t["checking"], t["merged"])
            for (r, _), t in first.items()
            if r == number and "merged" in t and "checking" in t
        )
        busy += sum(m - c for c, m in spans)
        idle += sum(max(0.0, spans[i + 1][0] - spans[i][1]) for i in range(len(spans) - 1))
    units = n * len(runs)
    rows.append(("lane busy, checking -> merged (serial)", 1000 * busy / units, busy / len(runs)))
    rows.append(("lane idle between two merges", 1000 * idle / units, idle / len(runs)))
    return rows


def type_check() -> str:
    """Which analyser the gate's differential check runs on merges (BOSUN_PYTHON_TYPES), if any."""
    from bosun.orchestration.semantic.pytypes import find_program, python_checker

    analyser = python_checker()
    if analyser is None:
        return "off (BOSUN_PYTHON_TYPES=off)"
    found = find_program(analyser.name)
    return f"{analyser.name} ({found})" if found else f"{analyser.name} not installed, so none"


def cpu_seconds() -> tuple[float, float]:
    """(this process, its waited-for children) user + system CPU seconds."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime


def print_probes(probes: dict[str, Probe], units: int) -> None:
    """Subprocesses, Bosun's sandbox steps and store transactions per unit, one column per mode."""
    modes = list(probes)
    head = "".join(f"  {'sandbox ' + m:>24}" for m in modes)
    print(
        "\nSubprocesses started by Bosun's own process (agents' own git calls not included; session setup "
        f"included), per unit and ms each:\n  {'':<36}{head}"
    )
    tables = {}
    for mode, probe in probes.items():
        counts, seconds = Counter(), Counter()
        for label, secs, _ in probe.procs:
            counts[label] += 1
            seconds[label] += secs
        for label, secs in probe.steps:
            counts["step " + label] += 1
            seconds["step " + label] += secs
        tables[mode] = (counts, seconds)
    labels = sorted(
        {label for counts, _ in tables.values() for label in counts},
        key=lambda lb: (lb.startswith("step "), -max(t[1][lb] for t in tables.values())),
    )
    for number, label in enumerate(labels):
        if label.startswith("step ") and (number == 0 or not labels[number - 1].startswith("step ")):
            print("  Bosun's own steps (in-process; start_agent and run_gate include the ones below them):")
        cells = ""
        for mode in modes:
            counts, seconds = tables[mode]
            c = counts[label]
            if not c:
                cells += f"  {'-':>24}"
                continue
            each = "long-lived" if label == LONG_LIVED else f"{1000 * seconds[label] / c:7.1f} ms"
            cells += f"  {c / units:5.2f}/unit {each:>10}"
        print(f"  {label:<36}{cells}")
    totals = "".join(
        f"  {sum(c for lb, c in tables[m][0].items() if not lb.startswith('step ')) / units:5.2f}/unit{'':>13}"
        for m in modes
    )
    print(f"  {'processes per unit, all of the above':<36}{totals}")
    print("  (plus the scripted agent's own two, git add and git commit; raw git: 6 per unit, 7 with the python start)")
    for mode, probe in probes.items():
        tx = probe.tx
        if tx:
            print(
                f"Store, sandbox {mode}: {len(tx) / units:.1f} write transactions/unit, "
                f"{1000 * statistics.fmean(tx):.2f} ms each, {1000 * sum(tx) / units:.1f} ms/unit on the event loop"
            )


# -- main ---------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=50, help="number of units (default 50)")
    parser.add_argument(
        "--max-agents",
        type=int,
        default=os.cpu_count() or 2,
        help="agents running at once (default: this machine's cores)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="repeat everything; medians are shown (default 3)")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    parser.add_argument("--no-instrument", action="store_true", help="do not count subprocesses and transactions")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the supervisor's event loop in the first round (sandbox on) and print its top entries",
    )
    parser.add_argument(
        "--sandbox",
        choices=("on", "off", "both"),
        default="both",
        help="agents and gates in bubblewrap, not, or both in the same run (default both)",
    )
    args = parser.parse_args(argv)
    modes = ["off", "on"] if args.sandbox == "both" else [args.sandbox]
    n, k = args.units, args.max_agents
    if n < 1 or k < 1 or args.rounds < 1:
        parser.error("--units, --max-agents and --rounds must be at least 1")

    profiler = cProfile.Profile() if args.profile else None
    rounds: list[dict] = []
    other: dict[str, list[dict]] = {mode: [] for mode in modes}
    probes = {mode: None if args.no_instrument else Probe() for mode in modes}
    load = os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        if args.keep:
            base = args.keep.resolve()
            shutil.rmtree(base, ignore_errors=True)
            base.mkdir(parents=True)
        else:
            base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bosun-bench-")))
        templates = {mode: make_project(base / f"template-{mode}", n, k, mode) for mode in modes}
        template = templates[modes[0]]
        main_mode = modes[-1]  # the one the detailed figures below are about ("on" when both)
        for number in range(args.rounds):
            raw_repo, bosun_repo = base / f"raw{number}" / "repo", base / f"bosun{number}" / "repo"
            shutil.copytree(template, raw_repo, symlinks=True)
            shutil.copytree(templates[main_mode], bosun_repo, symlinks=True)
            cpu0 = cpu_seconds()
            git_s, python_s = raw_git(raw_repo, n)
            cpu_raw = cpu_seconds()
            for mode in modes if number % 2 == 0 else modes[::-1]:  # alternate, so neither always goes first
                if mode == main_mode:
                    cpu1 = cpu_seconds()
                    result = run_bosun(bosun_repo, n, k, probes[mode], profiler if number == 0 else None)
                    cpu2 = cpu_seconds()
                    other[mode].append(result)
                    continue
                side_repo = base / f"bosun-{mode}{number}" / "repo"
                shutil.copytree(templates[mode], side_repo, symlinks=True)
                other[mode].append(run_bosun(side_repo, n, k, probes[mode]))
                if not args.keep:
                    shutil.rmtree(side_repo.parent)
            rounds.append(
                {
                    **result,
                    "git_s": git_s,
                    "python_s": python_s,
                    "cpu_raw": sum(cpu_raw) - sum(cpu0),
                    "cpu_own": cpu2[0] - cpu1[0],
                    "cpu_children": cpu2[1] - cpu1[1],
                }
            )
            if not args.keep:
                shutil.rmtree(raw_repo.parent)
                shutil.rmtree(bosun_repo.parent)

    def median(key: str) -> float:
        return statistics.median(r[key] for r in rounds)

    total, git_s, python_s = median("total_s"), median("git_s"), median("python_s")
    baseline2 = git_s + python_s
    cores = os.cpu_count() or 1
    print(
        f"Bosun orchestration benchmark: {n} units ({describe_graph(n)}), max_agents {k}, "
        f"scripted agents without think time, gate `true`, merge auto"
    )
    print(f"differential type check of merged Python: {type_check()} (the same in every mode)")
    print(
        f"git {run_git(ROOT, '--version')[12:]}, Python {sys.version.split()[0]}, {cores} cores, "
        f"load average {load:.2f} at start; {args.rounds} round(s), medians shown"
        + (
            f" (bosun min {min(r['total_s'] for r in rounds):.2f} s, max {max(r['total_s'] for r in rounds):.2f} s)"
            if args.rounds > 1
            else ""
        )
    )
    outcomes = ", ".join(f"exit {r['exit']} {r['merged']}/{n} merged" for r in rounds)
    print(
        f"  bosun end to end            {total:7.2f} s  {1000 * total / n:7.1f} ms/unit   ({outcomes}; "
        f"session setup {1000 * median('session_s'):.0f} ms)"
    )
    print(f"  raw git, same steps         {git_s:7.2f} s  {1000 * git_s / n:7.1f} ms/unit   (sequential)")
    print(
        f"  raw git + python -I start   {baseline2:7.2f} s  {1000 * baseline2 / n:7.1f} ms/unit   "
        f"(python -I -c pass alone: {1000 * python_s / n:.1f} ms/unit)"
    )
    print(f"  ratio bosun / raw git             {total / git_s:6.2f}x   (target <= 1.3)   [sandbox {main_mode}]")
    print(f"  ratio bosun / raw git + python    {total / baseline2:6.2f}x")
    if args.rounds > 1:
        best = min(r["total_s"] for r in rounds)
        best_git = min(r["git_s"] for r in rounds)
        best_both = min(r["git_s"] + r["python_s"] for r in rounds)
        print(
            f"  best rounds (least disturbed): bosun {1000 * best / n:.1f}, raw git {1000 * best_git / n:.1f}, "
            f"+ python {1000 * best_both / n:.1f} ms/unit; ratios {best / best_git:.2f}x and {best / best_both:.2f}x"
        )
    if len(modes) == 2:
        on = [r["total_s"] for r in other["on"]]
        off = [r["total_s"] for r in other["off"]]
        pairs = [a / b - 1 for a, b in zip(on, off)]
        print(
            f"  sandbox on                  {statistics.median(on):7.2f} s  {1000 * statistics.median(on) / n:7.1f} ms/unit"  # noqa: E501
            f"   ({', '.join(str(r['merged']) + '/' + str(n) + ' merged' for r in other['on'])})"
        )
        print(
            f"  sandbox off                 {statistics.median(off):7.2f} s  {1000 * statistics.median(off) / n:7.1f} ms/unit"  # noqa: E501
        )
        print(
            f"  sandbox overhead per unit   {1000 * (statistics.median(on) - statistics.median(off)) / n:7.1f} ms  "
            f"{statistics.median(on) / statistics.median(off) - 1:+.1%} of medians; per round "
            + ", ".join(f"{p:+.1%}" for p in pairs)
            + "   (target <= +15 %)"
        )
        print(f"  sandbox overhead, median of the rounds' own ratios {statistics.median(pairs):+.1%}")
    own, children = median("cpu_own"), median("cpu_children")
    print(
        f"  CPU per unit: bosun run {1000 * own / n:.0f} ms in Bosun's process + {1000 * children / n:.0f} ms in "
        f"subprocesses ({(own + children) / total / cores:.0%} of {cores} cores busy); "
        f"raw git + python baseline {1000 * median('cpu_raw') / n:.0f} ms"
    )

    print("\nBosun per phase (from store event timestamps; ms = mean per unit, s = summed over units):")
    for name, ms, s in phase_table([r["events"] for r in rounds], n):
        print(f"  {name:<52} {ms:8.1f} ms  {s:7.2f} s")

    if probes[main_mode] is not None:
        print_probes(probes, n * len(rounds))
    if profiler is not None:
        print(f"\nThe supervisor's event loop (main thread) in round 1, sandbox {main_mode}, cProfile by own time:")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
        print("\n".join("  " + line for line in out.getvalue().splitlines() if line.strip()))
    everything = rounds + [r for results in other.values() for r in results]
    return 0 if all(r["exit"] == 0 and r["merged"] == n for r in everything) else 1


if __name__ == "__main__":
    sys.exit(main())
