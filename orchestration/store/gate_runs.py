"""Gate runs: the verdict of each run of the gate on a candidate merge, and the merge queue's runs
(named R1, R2, ...) that mark the units they test."""

from __future__ import annotations

import json
import sqlite3
from typing import Any, NamedTuple

from bosun.orchestration.store.events import EventLog


class GateRun(NamedTuple):
    """One run of the gate on one candidate merge commit."""

    id: int
    unit: str
    attempt: int
    commit_id: str
    parent: str
    passed: bool
    exit_code: int | None
    duration_s: float
    cause: str
    output_tail: str
    time: float
    checks: list[dict] | tuple = ()
    """Every check's verdict, in the order they ran: `{"check", "passed", "blocking", "cause", ...}`."""
    covers: list[str] | tuple = ()
    """Every unit whose merge the tested tree holds, oldest first (empty: just `unit`, as before the queue)."""
    label: str | None = None
    """The merge queue's name for the run (R1, R2, ...), as its events say."""


def insert_gate_run(
    db: sqlite3.Connection,
    now: float,
    /,
    unit: str,
    attempt: int,
    commit_id: str,
    parent: str,
    passed: bool,
    exit_code: int | None,
    duration_s: float,
    cause: str,
    output_tail: str,
    checks: list[dict] | None = None,
    covers: list[str] | None = None,
    label: str | None = None,
) -> int:
    """Record one gate run at time `now` inside the open transaction `db` (a unit's state move may
    carry its verdict); returns the run's id."""
    cursor = db.execute(
        "INSERT INTO gate_runs (unit, attempt, commit_id, parent, passed, exit_code, duration_s, cause, "
        "output_tail, time, checks, covers, label) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            unit,
            attempt,
            commit_id,
            parent,
            int(passed),
            exit_code,
            duration_s,
            cause,
            output_tail,
            now,
            json.dumps(checks or []),
            json.dumps(covers or []),
            label,
        ),
    )
    return cursor.lastrowid


class GateRuns(EventLog):
    """The gate_runs table, and the merge queue's marks on the units it tests."""

    def add_gate_run(
        self, *, event: tuple[str, str, dict] | None = None, unmark: tuple[str, ...] = (), **gate_run: Any
    ) -> int:
        """Record one gate run of the merge queue (it may cover several units), with its `event`
        (kind, unit, data: the run's id is added as `gate_run`), and clear the `queue` mark of the
        units in `unmark` that this run (its `label`) still holds, in one transaction."""
        with self.tx() as db:
            run_id = insert_gate_run(db, self.clock(), **gate_run)
            for unit_id in unmark:
                db.execute(
                    "UPDATE units SET queue = NULL WHERE id = ? AND json_extract(queue, '$.run') = ?",
                    (unit_id, gate_run.get("label")),
                )
            if event is not None:
                kind, unit, data = event
                self._append(db, kind, unit, {**data, "gate_run": run_id})
            return run_id

    def start_queue_run(self, unit: str, marks: dict[str, dict], **data: Any) -> str:
        """Name the merge queue's next run (R1, R2, ...), log its start and mark the units it tests
        with it (`queue`), in one transaction; not fsynced: a crash ends the run anyway."""
        with self.tx(fsync=False) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'queue_runs'").fetchone()
            label = f"R{int(row[0]) + 1 if row else 1}"
            db.execute("INSERT OR REPLACE INTO meta VALUES ('queue_runs', ?)", (label[1:],))
            for unit_id, mark in marks.items():
                db.execute("UPDATE units SET queue = ? WHERE id = ?", (json.dumps({"run": label, **mark}), unit_id))
            self._append(db, "queue_run_started", unit, {"run": label, **data})
            return label

    def gate_runs(self, unit: str | None = None) -> list[GateRun]:
        sql = (
            "SELECT id, unit, attempt, commit_id, parent, passed, exit_code, duration_s, cause, output_tail, time, "
            "checks, covers, label FROM gate_runs"
        )
        rows = self.db.execute(
            sql + (" WHERE unit = ? ORDER BY id" if unit else " ORDER BY id"), (unit,) if unit else ()
        ).fetchall()
        return [GateRun(*r[:5], bool(r[5]), *r[6:11], json.loads(r[11]), json.loads(r[12]), r[13]) for r in rows]
