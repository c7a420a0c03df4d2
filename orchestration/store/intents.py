"""Merge intents: the crash-safe move of the integration branch. An intent (ref, old, new) is
written before the ref moves; finishing it marks its units merged and records the new head in one
transaction; an intent a crash left open is settled from what git shows (integration/landing.py)."""

from __future__ import annotations

import json

from bosun.orchestration.store.events import Event, EventLog


class Intents(EventLog):
    """The intents table, and the merged state its closing gives a unit."""

    def add_intent(self, unit: str, ref: str, old: str, new: str) -> int:
        with self.tx() as db:
            cursor = db.execute(
                "INSERT INTO intents (unit, ref, old, new, status, time) VALUES (?, ?, ?, ?, 'open', ?)",
                (unit, ref, old, new, self.clock()),
            )
            self._append(db, "merge_intent", unit, {"old": old, "new": new})
            return cursor.lastrowid

    def open_intents(self) -> list[tuple[int, str, str, str, str]]:
        return self.db.execute(
            "SELECT id, unit, ref, old, new FROM intents WHERE status = 'open' ORDER BY id"
        ).fetchall()

    def close_intent(self, intent_id: int, status: str) -> None:
        with self.tx() as db:
            db.execute("UPDATE intents SET status = ? WHERE id = ?", (status, intent_id))

    def add_batch_intent(self, ref: str, old: str, new: str, units: list[tuple[str, str]], gate_run: int) -> int:
        """An intent to move `ref` from `old` to `new` in one step, landing every unit of `units`
        ((unit, its merge commit), oldest first; `new` is the last one's) on `gate_run`'s verdict."""
        with self.tx() as db:
            cursor = db.execute(
                "INSERT INTO intents (unit, ref, old, new, status, time, units, gate_run) "
                "VALUES (?, ?, ?, ?, 'open', ?, ?, ?)",
                (units[-1][0], ref, old, new, self.clock(), json.dumps(units), gate_run),
            )
            self._append(
                db,
                "merge_intent",
                units[-1][0],
                {"old": old, "new": new, "units": [u for u, _ in units], "gate_run": gate_run},
            )
            return cursor.lastrowid

    def intent_batch(self, intent_id: int) -> tuple[list[tuple[str, str]] | None, int | None]:
        """The units a batch intent lands and the gate run behind it; (None, None) for a one-unit intent."""
        row = self.db.execute("SELECT units, gate_run FROM intents WHERE id = ?", (intent_id,)).fetchone()
        if row is None or row[0] is None:
            return None, None
        return [tuple(pair) for pair in json.loads(row[0])], row[1]

    def finish_merge(self, intent_id: int, unit_id: str, merged_commit: str) -> Event:
        """Close a merge intent, mark its unit merged and record the new integration head, atomically.
        Unconditional: the branch has moved, and what git shows is the truth."""
        return self.finish_batch(intent_id, [(unit_id, merged_commit)], None)[-1]

    def finish_batch(
        self, intent_id: int, units: list[tuple[str, str]], gate_run: int | None, details: dict[str, dict] | None = None
    ) -> list[Event]:
        """`finish_merge` for every unit one intent landed, oldest first, in one transaction; the head
        becomes the last one's merge commit. Without `gate_run`, the passed run of that very commit.
        `details` replaces those units' detail (their gate verdict) in the same transaction."""
        with self.tx() as db:
            for unit_id, detail in (details or {}).items():
                db.execute("UPDATE units SET detail = ? WHERE id = ?", (json.dumps(detail), unit_id))
            db.execute("UPDATE intents SET status = 'done' WHERE id = ?", (intent_id,))
            db.execute("INSERT OR REPLACE INTO meta VALUES ('integration_head', ?)", (units[-1][1],))
            if gate_run is None:
                found = db.execute(
                    "SELECT MAX(id) FROM gate_runs WHERE commit_id = ? AND passed = 1", (units[-1][1],)
                ).fetchone()
                gate_run = found[0] if found else None
            events = []
            for unit_id, merged_commit in units:
                row = db.execute("SELECT state FROM units WHERE id = ?", (unit_id,)).fetchone()
                db.execute(
                    "UPDATE units SET state = 'merged', merged_commit = ?, owner = NULL, lease_until = NULL, "
                    "pid = NULL, queue = NULL, gate_run = ?, updated = ? WHERE id = ?",
                    (merged_commit, gate_run, self.clock(), unit_id),
                )
                data = {"from": row[0], "to": "merged", "commit": merged_commit}
                if gate_run is not None:
                    data["gate_run"] = gate_run
                events.append(self._append(db, "merged", unit_id, data))
            return events
