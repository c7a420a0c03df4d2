"""Claims per second and double claims with K processes racing over N units (real SQLite, WAL),
against a baseline measured in the same run: one process doing the same number of bare
single-row UPDATE transactions, each fsynced (synchronous=FULL).

    python benchmarks/claims.py [--units 5000] [--procs 16]

Targets (issue 6): >= 5,000 claims/s, 0 double claims.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sqlite3
import sys
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
    plan = parse_plan(text, Path("bosun.toml"))
    store = Store(Path(db))
    won: list[str] = []
    start.wait()
    begin = time.perf_counter()
    while isinstance(outcome := claim(store, plan, owner, 300), Claim):
        won.append(outcome.unit)
    out.put((won, begin, time.perf_counter()))
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
        db = Path(tmp) / "state.db"
        text = plan_text(args.units, args.procs)
        plan = parse_plan(text, Path("bosun.toml"))
        store = Store(db)
        store.add_units([(u, None) for u in plan.units])
        promote_ready(store, build_graph(plan))
        store.close()
        ctx = multiprocessing.get_context("spawn")
        start, out = ctx.Barrier(args.procs), ctx.Queue()
        procs = [ctx.Process(target=racer, args=(str(db), text, f"a{i}", start, out)) for i in range(args.procs)]
        for proc in procs:
            proc.start()  # the barrier releases them together once all have opened the store
        results = [out.get(timeout=600) for _ in procs]
        for proc in procs:
            proc.join()
        claimed = [unit for won, _, _ in results for unit in won]
        elapsed = max(end for _, _, end in results) - min(begin for _, begin, _ in results)
        doubles = len(claimed) - len(set(claimed))
        rate = len(claimed) / elapsed
        floor = bare_updates(Path(tmp) / "bare.db", args.units)
    print(f"units {args.units}, processes {args.procs}")
    print(f"claimed {len(claimed)} (missing {args.units - len(set(claimed))}), double claims {doubles}")
    print(f"claims/s {rate:,.0f} over {elapsed:.2f}s; per process: "
          + ", ".join(str(len(won)) for won, _, _ in results))
    print(f"baseline: bare single-row fsynced write transactions, one process: {floor:,.0f}/s; "
          f"ratio {rate / floor:.2f} (a claim is a lease: committed without its own fsync, see the README)")
    print(f"target >= 5,000 claims/s and 0 doubles: {'met' if rate >= 5000 and doubles == 0 else 'NOT met'}")


if __name__ == "__main__":
    main()
