"""Claims per second and double claims with K processes racing over N units (real SQLite, WAL),
against two baselines measured in the same run: the floor — the same K processes doing bare
SQLite compare-and-swap claims (one UPDATE ... WHERE state = 'ready' RETURNING per claim, the
same pragmas and durability as Bosun's claims) — and one process of bare fsynced single-row writes.

    python benchmarks/claims.py [--units 5000] [--procs 16]

Targets: >= 5,000 claims/s and 0 double claims (issue 6); Bosun >= 0.8x the floor (issue 16).
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
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


def racer(db: str, text: str, owner: str, start, out) -> None:
    """Bosun's claim: the scope check and the compare-and-swap in one transaction."""
    plan = parse_plan(text, Path("bosun.toml"))
    store = Store(Path(db))
    won: list[str] = []
    start.wait()
    begin = time.perf_counter()
    while isinstance(outcome := claim(store, plan, owner, 300), Claim):
        won.append(outcome.unit)
    out.put((won, begin, time.perf_counter()))
    store.close()


def bare_racer(db: str, owner: str, start, out) -> None:
    """The floor: a claim as one bare compare-and-swap, as durable as Bosun's (synchronous=NORMAL)."""
    conn = sqlite3.connect(db, isolation_level=None, timeout=60)
    conn.execute("PRAGMA busy_timeout = 60000")
    conn.execute("PRAGMA synchronous = NORMAL")
    won: list[str] = []
    start.wait()
    begin = time.perf_counter()
    while True:
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute("UPDATE units SET state = 'claimed', owner = ?, epoch = epoch + 1 WHERE id = "
                           "(SELECT id FROM units WHERE state = 'ready' ORDER BY position LIMIT 1) "
                           "AND state = 'ready' RETURNING id", (owner,)).fetchone()
        conn.execute("COMMIT")
        if row is None:
            break
        won.append(row[0])
    out.put((won, begin, time.perf_counter()))
    conn.close()


def race(target, db: Path, procs: int, extra: tuple) -> tuple[list[str], float, list[int]]:
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(procs), ctx.Queue()
    workers = [ctx.Process(target=target, args=(str(db), *extra, f"a{i}", start, out)) for i in range(procs)]
    for worker in workers:
        worker.start()  # the barrier releases them together once all have opened the store
    results = [out.get(timeout=600) for _ in workers]
    for worker in workers:
        worker.join()
    claimed = [unit for won, _, _ in results for unit in won]
    elapsed = max(end for _, _, end in results) - min(begin for _, begin, _ in results)
    return claimed, elapsed, [len(won) for won, _, _ in results]


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=5000)
    parser.add_argument("--procs", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bosun-claims-") as tmp:
        text = plan_text(args.units, args.procs)
        plan = parse_plan(text, Path("bosun.toml"))
        db, floor_db = Path(tmp) / "state.db", Path(tmp) / "floor.db"
        fresh_store(db, plan)
        fresh_store(floor_db, plan)
        claimed, elapsed, per = race(racer, db, args.procs, (text,))
        floor_claimed, floor_elapsed, _ = race(bare_racer, floor_db, args.procs, ())
        single = bare_updates(Path(tmp) / "bare.db", args.units)
    doubles = len(claimed) - len(set(claimed))
    rate, floor = len(claimed) / elapsed, len(floor_claimed) / floor_elapsed
    print(f"units {args.units}, processes {args.procs}")
    print(f"claimed {len(claimed)} (missing {args.units - len(set(claimed))}), double claims {doubles}")
    print(f"claims/s {rate:,.0f} over {elapsed:.2f}s; per process: " + ", ".join(map(str, per)))
    print(f"floor: bare compare-and-swap claims by the same {args.procs} processes: {floor:,.0f}/s "
          f"({len(floor_claimed)} claimed, {len(floor_claimed) - len(set(floor_claimed))} doubles); "
          f"Bosun {rate / floor:.2f}x of it")
    print(f"one process of bare fsynced single-row writes: {single:,.0f}/s")
    met = rate >= 5000 and doubles == 0 and rate >= 0.8 * floor
    print(f"targets >= 5,000 claims/s, 0 doubles, >= 0.8x the floor: {'met' if met else 'NOT met'}")


if __name__ == "__main__":
    main()
