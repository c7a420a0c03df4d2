"""Claims per second and double claims with K processes racing over N units (real SQLite, WAL),
against two baselines measured in the same run: the floor — the same K processes doing bare
SQLite compare-and-swap claims (one UPDATE ... WHERE state = 'ready' RETURNING per claim, the
same pragmas and durability as Bosun's claims) — and one process of bare fsynced single-row writes.

    python benchmarks/claims.py [--units 5000] [--procs 16] [--rounds 5] [--runs 3] [--compare-queue]

The same K processes run every race, a round being one race of each kind (which goes first
alternates), so a busy machine slows both alike; the figures are per round and their medians.
With `--runs N` the whole measurement is made N times, each with new processes and stores, and
the median of the runs' medians is the figure; the load average is printed with each run.
`--compare-queue` races a third kind in every round: Bosun's claims queuing on a lock file
beside the store (flock) instead of waiting in SQLite's busy handler (a variant tried and dropped).

Targets: >= 5,000 claims/s and 0 double claims (issue 6); Bosun >= 0.8x the floor (issues 16, 30).
"""

from __future__ import annotations

import argparse
import fcntl
import multiprocessing
import os
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from bosun.orchestration.claims import Claim, claim, promote_ready  # noqa: E402
from bosun.orchestration.graph import build_graph  # noqa: E402
from bosun.orchestration.plan import parse_plan  # noqa: E402
from bosun.orchestration.store import Store  # noqa: E402


def plan_text(units: int, procs: int) -> str:
    agents = "".join(f'[agents.a{i}]\nkind = "external"\n' for i in range(procs))
    body = "".join(f'[[units]]\nid = "u{i:05d}"\nprompt = "p"\n' for i in range(units))
    return '[project]\nmode = "claim"\n' + agents + body


def bosun_claims(db: str, plan, owner: str):
    """Bosun's claims until none is left (opened before the start, run after it)."""
    store = Store(Path(db))

    def run() -> list[str]:
        won: list[str] = []
        while isinstance(outcome := claim(store, plan, owner, 300), Claim):
            won.append(outcome.unit)
        store.close()
        return won

    return run


def floor_claims(db: str, plan, owner: str):
    """The floor: a claim as one bare compare-and-swap, as durable as Bosun's (synchronous=NORMAL)."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=60)
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA synchronous = NORMAL")

    def run() -> list[str]:
        won: list[str] = []
        while True:
            conn.execute("BEGIN IMMEDIATE")
            row = conn.execute(
                "UPDATE units SET state = 'claimed', owner = ?, epoch = epoch + 1 WHERE id = "
                "(SELECT id FROM units WHERE state = 'ready' ORDER BY position LIMIT 1) "
                "AND state = 'ready' RETURNING id",
                (owner,),
            ).fetchone()
            conn.execute("COMMIT")
            if row is None:
                break
            won.append(row[0])
        conn.close()
        return won

    return run


def queued_claims(db: str, plan, owner: str):
    """Bosun's claims behind a queue on a lock file beside the store (`--compare-queue`): each
    claimer waits for the claim ahead of it in flock (asleep in the kernel, woken when it is done)
    instead of in SQLite's busy handler. Tried in the store (issue 30) and dropped; kept here to
    measure again."""
    store = Store(Path(db))
    queue = os.open(f"{db}-claims", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)

    def run() -> list[str]:
        won: list[str] = []
        while True:
            fcntl.flock(queue, fcntl.LOCK_EX)
            try:
                outcome = claim(store, plan, owner, 300)
            finally:
                fcntl.flock(queue, fcntl.LOCK_UN)
            if not isinstance(outcome, Claim):
                break
            won.append(outcome.unit)
        store.close()
        os.close(queue)
        return won

    return run


KINDS = {"bosun": bosun_claims, "floor": floor_claims, "queued": queued_claims}


def racer(rounds: list[list[tuple[str, str]]], text: str, owner: str, start, out) -> None:
    """One of the K processes: every round, each race in turn, all K starting together at a barrier."""
    plan = parse_plan(text, Path("bosun.toml"))
    for races in rounds:
        for kind, db in races:
            run = KINDS[kind](db, plan, owner)
            start.wait()
            begin = time.perf_counter()
            won = run()
            out.put((kind, db, won, begin, time.perf_counter()))


def race_rounds(rounds: list[list[tuple[str, str]]], text: str, procs: int) -> dict[str, tuple[list[str], float]]:
    """Run every race of every round with the same `procs` processes; per database: (claimed, seconds)."""
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(procs), ctx.Queue()
    workers = [ctx.Process(target=racer, args=(rounds, text, f"a{i}", start, out)) for i in range(procs)]
    for worker in workers:
        worker.start()
    results: dict[str, list] = {}
    for _ in range(procs * sum(len(races) for races in rounds)):
        kind, db, won, begin, end = out.get(timeout=900)
        results.setdefault(db, []).append((won, begin, end))
    for worker in workers:
        worker.join()
    return {
        db: ([u for won, _, _ in rs for u in won], max(end for _, _, end in rs) - min(begin for _, begin, _ in rs))
        for db, rs in results.items()
    }


def fresh_store(db: Path, plan) -> None:
    store = Store(db)
    store.add_units([(u, None) for u in plan.units])
    promote_ready(store, build_graph(plan))
    store.close()


def bare_updates(db: Path, count: int, synchronous: str = "FULL") -> float:
    """The floor: `count` single-row write transactions with the same pragmas, one process."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, epoch INTEGER)")
    conn.executemany("INSERT INTO t VALUES (?, 0)", ((i,) for i in range(count)))
    begin = time.perf_counter()
    for i in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE t SET epoch = epoch + 1 WHERE id = ?", (i,))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - begin
    conn.close()
    return count / elapsed


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


MEASURED_QUEUED: list[float] = []


def measure(args: argparse.Namespace) -> tuple[float, float, int]:
    """One run: every round's races with new processes and stores; returns (median claims/s,
    median ratio to the floor, double claims), printing each round against its floor."""
    with tempfile.TemporaryDirectory(prefix="bosun-claims-") as tmp:
        text = plan_text(args.units, args.procs)
        plan = parse_plan(text, Path("bosun.toml"))
        rounds = []
        kinds = ["bosun", "floor"] + (["queued"] if args.compare_queue else [])
        for r in range(args.rounds):  # the kinds take turns going first
            turn = kinds[r % len(kinds) :] + kinds[: r % len(kinds)]
            races = [(kind, str(Path(tmp) / f"{kind}{r}.db")) for kind in turn]
            for _, db in races:
                fresh_store(Path(db), plan)
            rounds.append(races)
        before = load()
        results = race_rounds(rounds, text, args.procs)
        after = load()
        single = bare_updates(Path(tmp) / "bare.db", args.units)
    print(f"units {args.units}, processes {args.procs}, rounds {args.rounds}; before: {before}; after: {after}")
    ratios, rates, doubles, queued = [], [], 0, []
    for r, races in enumerate(rounds):
        per = {}
        for kind, db in races:
            claimed, elapsed = results[db]
            doubles += len(claimed) - len(set(claimed))
            assert len(set(claimed)) == args.units, f"{kind} round {r}: {args.units - len(set(claimed))} never claimed"
            per[kind] = len(claimed) / elapsed
        ratios.append(per["bosun"] / per["floor"])
        rates.append(per["bosun"])
        other = ""
        if "queued" in per:
            queued.append(per["queued"] / per["floor"])
            other = f"; with a lock-file queue {per['queued']:,.0f}/s, {queued[-1]:.2f}x"
        print(
            f"round {r + 1}: floor (bare compare-and-swap, same processes) {per['floor']:,.0f}/s, "
            f"Bosun {per['bosun']:,.0f}/s, {ratios[-1]:.2f}x{other}"
        )
    ratio, rate = statistics.median(ratios), statistics.median(rates)
    print(f"median: Bosun {rate:,.0f} claims/s, {ratio:.2f}x the floor; double claims {doubles}")
    if queued:
        print(f"median with a lock-file queue: {statistics.median(queued):.2f}x the floor")
        MEASURED_QUEUED.append(statistics.median(queued))
    print(f"one process of bare fsynced single-row writes: {single:,.0f}/s")
    return rate, ratio, doubles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--procs", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1, help="whole measurements; the figure is their median")
    parser.add_argument(
        "--compare-queue",
        action="store_true",
        help="race Bosun's claims behind a lock-file queue too, in the same rounds",
    )
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        if args.runs > 1:
            print(f"-- run {n + 1} of {args.runs}")
        runs.append(measure(args))
    rate = statistics.median(r[0] for r in runs)
    ratio = statistics.median(r[1] for r in runs)
    doubles = sum(r[2] for r in runs)
    if args.runs > 1:
        listed = ", ".join(f"{r[1]:.2f}x" for r in runs)
        print(f"median of {args.runs} runs: Bosun {rate:,.0f} claims/s, {ratio:.2f}x the floor (runs: {listed})")
        if MEASURED_QUEUED:
            listed = ", ".join(f"{r:.2f}x" for r in MEASURED_QUEUED)
            print(f"  with a lock-file queue: {statistics.median(MEASURED_QUEUED):.2f}x the floor (runs: {listed})")
    met = rate >= 5000 and doubles == 0 and ratio >= 0.8
    print(f"targets >= 5,000 claims/s, 0 doubles, >= 0.8x the floor (medians): {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
