"""Human commands: a decision (approve, reject, hand back, ...) queued by any process, e.g.
`bosun approve` in another terminal, and taken by the running session, which records its result."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from bosun.orchestration.store.events import EventLog


class Command(NamedTuple):
    """A human decision waiting for (or taken by) the running session."""

    id: int
    time: float
    kind: str
    unit: str
    args: dict
    done_time: float | None
    result: str | None


class Commands(EventLog):
    """The commands table: queued in order, finished once."""

    def add_command(self, kind: str, unit: str, **args: Any) -> int:
        with self.tx() as db:
            cursor = db.execute(
                "INSERT INTO commands (time, kind, unit, args) VALUES (?, ?, ?, ?)",
                (self.clock(), kind, unit, json.dumps(args)),
            )
            self._append(db, "command_queued", unit, {"command": kind, "id": cursor.lastrowid, **args})
            return cursor.lastrowid

    def pending_commands(self) -> list[Command]:
        rows = self.db.execute(
            "SELECT id, time, kind, unit, args, done_time, result FROM commands WHERE done_time IS NULL ORDER BY id"
        ).fetchall()
        return [Command(i, t, k, u, json.loads(a), d, r) for i, t, k, u, a, d, r in rows]

    def command_result(self, command_id: int) -> str | None:
        """'done', 'refused: ...', or None while the supervisor has not taken the command."""
        row = self.db.execute("SELECT result FROM commands WHERE id = ?", (command_id,)).fetchone()
        return row[0] if row else None

    def finish_command(self, command_id: int, result: str) -> None:
        with self.tx() as db:
            db.execute("UPDATE commands SET done_time = ?, result = ? WHERE id = ?", (self.clock(), result, command_id))
