"""The units: created from the plan, read back as `UnitRow`s, and moved from state to state by a
compare-and-swap on their state (and claim epoch) that logs its event in the same transaction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from bosun.orchestration.store.events import Event, EventLog, write_meta
from bosun.orchestration.store.gate_runs import insert_gate_run


class UnitRow(NamedTuple):
    """One unit as the store has it. `epoch` is the fencing token of the current claim; `agent` is
    who worked on it last (a hand-back goes back to them), `pinned` who must take it (plan or human).
    Read-only (`_replace` makes a changed copy): a NamedTuple, as every row of the store, not a
    dataclass: `bosun status` reads them, and `dataclasses` (with `inspect`) costs it ~10 ms."""

    id: str
    position: int
    state: str
    agent: str | None = None
    pinned: str | None = None
    owner: str | None = None
    epoch: int = 0
    lease_until: float | None = None
    """When the lease runs out, in wall time as of the last claim or heartbeat: for display, and the
    mark that there is a lease at all (None: no lease, e.g. a human's takeover)."""
    branch: str | None = None
    worktree: str | None = None
    base_commit: str | None = None
    head_commit: str | None = None
    attempts: int = 0
    merged_commit: str | None = None
    candidate: str | None = None
    candidate_parent: str | None = None
    approved: int = 0
    handback: dict | None = None
    detail: dict | None = None
    usage: dict | None = None
    pid: int | None = None
    pid_start: str | None = None
    started_at: float | None = None
    updated: float | None = None
    gate_run: int | None = None
    """The gate run that covered the unit's merge (its tree included the unit's merge and passed)."""
    queue: dict | None = None
    """The merge queue's run testing the unit now: `{"run", "with", "why", "slot"}`, or None."""
    lease_mono: float | None = None
    """When the lease runs out on the lease clock (lease_clock.py), which decides expiry."""
    lease_boot: str | None = None
    """The boot the lease clock reading belongs to: a lease from another boot has run out."""


UNIT_COLUMNS = UnitRow._fields
JSON_FIELDS = ("handback", "detail", "usage", "queue")
"""The unit columns kept as JSON text."""


class StaleState(Exception):
    """A compare-and-swap found the unit in another state than expected."""


class Units(EventLog):
    """The units table: plan order, state moves, field updates."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._units_cache: list[UnitRow] = []
        self._units_key: tuple[int, int] | None = None
        self._parsed: dict[tuple, UnitRow] = {}  # a row's raw values -> its parsed UnitRow

    def add_units(self, rows: list[tuple[str, str | None]], meta: dict[str, str] | None = None) -> None:
        """Create the session's units, all pending, in plan order (with the session's `meta`, in
        the same transaction: a crash never leaves a session without its units)."""
        with self.tx() as db:
            write_meta(db, meta or {})
            for position, (unit_id, agent) in enumerate(rows):
                db.execute(
                    "INSERT INTO units (id, position, state, agent, pinned, updated) VALUES (?, ?, 'pending', ?, ?, ?)",
                    (unit_id, position, agent, agent, self.clock()),
                )

    def reload_plan(
        self,
        meta: dict[str, str],
        added: list[tuple[str, str | None]],
        repinned: dict[str, str | None],
        removed: list[str],
        summary: dict,
    ) -> Event:
        """Apply an edited plan in one transaction: its text, the new units (pending, after the
        others), new pinned agents for units not yet started, and the units that left the plan
        (cancelled, never deleted: their events stay true)."""
        with self.tx() as db:
            write_meta(db, meta)
            position = db.execute("SELECT COALESCE(MAX(position), -1) FROM units").fetchone()[0]
            for offset, (unit_id, agent) in enumerate(added, start=1):
                db.execute(
                    "INSERT INTO units (id, position, state, agent, pinned, updated) VALUES (?, ?, 'pending', ?, ?, ?)",
                    (unit_id, position + offset, agent, agent, self.clock()),
                )
            for unit_id, agent in repinned.items():
                db.execute(
                    "UPDATE units SET agent = ?, pinned = ?, updated = ? WHERE id = ? "
                    "AND state IN ('pending', 'ready')",
                    (agent, agent, self.clock(), unit_id),
                )
            for unit_id in removed:
                db.execute(
                    "UPDATE units SET state = 'cancelled', updated = ? WHERE id = ? AND state IN ('pending', 'ready')",
                    (self.clock(), unit_id),
                )
                self._append(db, "cancelled", unit_id, {"reason": "removed from the plan"})
            return self._append(db, "plan_reloaded", None, summary)

    def _row(self, values: tuple) -> UnitRow:
        data = dict(zip(UNIT_COLUMNS, values))
        for key in JSON_FIELDS:
            data[key] = json.loads(data[key]) if data[key] else None
        return UnitRow(**data)

    def units(self) -> list[UnitRow]:
        """Every unit in plan order. Parsed again only when this or another connection changed the
        database since the last call (the supervisor asks several times a tick); treat as read-only."""
        key = (self.db.execute("PRAGMA data_version").fetchone()[0], self.db.total_changes)
        if key != self._units_key:
            rows = self.db.execute(f"SELECT {', '.join(UNIT_COLUMNS)} FROM units ORDER BY position").fetchall()
            # A change touches one or two units: the rows whose stored values are the same as at
            # the last read are not parsed again (their JSON decoding was most of this call's cost).
            parsed = {r: self._parsed.get(r) or self._row(r) for r in rows}
            self._units_cache, self._units_key, self._parsed = list(parsed.values()), key, parsed
        return list(self._units_cache)

    def unit(self, unit_id: str) -> UnitRow | None:
        row = self.db.execute(f"SELECT {', '.join(UNIT_COLUMNS)} FROM units WHERE id = ?", (unit_id,)).fetchone()
        return self._row(row) if row else None

    @staticmethod
    def _assignments(values: dict[str, Any]) -> tuple[str, list]:
        for key in values:
            if key not in UNIT_COLUMNS or key == "id":
                raise KeyError(key)
        encoded = [json.dumps(v) if k in JSON_FIELDS and v is not None else v for k, v in values.items()]
        return ", ".join(f"{k} = ?" for k in values), encoded

    def transition(
        self,
        unit_id: str,
        to: str,
        expect: tuple[str, ...],
        *,
        kind: str | None = None,
        data: dict | None = None,
        epoch: int | None = None,
        gate_run: dict | None = None,
        fsync: bool = True,
        new_epoch: bool = False,
        **values: Any,
    ) -> Event:
        """Move a unit from one of `expect` to `to` (and set `values`), logging the event.

        With `epoch`, the move also requires that claim epoch: a stale holder cannot write.
        With `gate_run`, the gate's verdict is recorded in the same transaction. With `new_epoch`,
        the claim's epoch goes up by one (a takeover fences off the previous holder).
        """
        with self.tx(fsync) as db:
            if gate_run is not None:
                insert_gate_run(db, self.clock(), **gate_run)
            row = db.execute("SELECT state, epoch FROM units WHERE id = ?", (unit_id,)).fetchone()
            if row is None:
                raise StaleState(f"unit '{unit_id}' does not exist")
            if row[0] not in expect or (epoch is not None and row[1] != epoch):
                raise StaleState(
                    f"unit '{unit_id}' is {row[0]} (epoch {row[1]}), expected "
                    f"{'/'.join(expect)}" + (f" at epoch {epoch}" if epoch is not None else "")
                )
            sets, params = self._assignments({**values, "state": to, "updated": self.clock()})
            if new_epoch:  # a new owner: every token handed out before is stale from now on
                sets += ", epoch = epoch + 1"
            db.execute(f"UPDATE units SET {sets} WHERE id = ?", (*params, unit_id))
            return self._append(db, kind or to, unit_id, {"from": row[0], "to": to, **(data or {})})

    def update(self, unit_id: str, **values: Any) -> None:
        """Change a unit's fields without a state change (and without an event)."""
        sets, params = self._assignments(values)
        with self.tx() as db:
            db.execute(f"UPDATE units SET {sets} WHERE id = ?", (*params, unit_id))
