"""The screen's copy of the store's units, brought up to date once a frame by parsing only the rows
that changed. In a flood a frame sees a handful of units change among hundreds; parsing every row
again (JSON fields and all) was most of the time the screen spent per frame. The rows are still
all read, in one query, and compared as the database returns them, so a change made without an
event (a lease renewed, a run's batch noted) is seen in the same frame as before."""

from __future__ import annotations

import json

from bosun.orchestration.store import Store, UnitRow
from bosun.orchestration.store.units import JSON_FIELDS, UNIT_COLUMNS

_SELECT = f"SELECT {', '.join(UNIT_COLUMNS)} FROM units ORDER BY position"
_JSON = frozenset(UNIT_COLUMNS.index(name) for name in JSON_FIELDS)


def parse(values: tuple) -> UnitRow:
    """A row as the database returns it, as the store's `units()` gives it."""
    return UnitRow(
        *((json.loads(value) if value else None) if index in _JSON else value for index, value in enumerate(values))
    )


class UnitRows:
    """Every unit in plan order, and which of them changed since the last read."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.rows: list[UnitRow] = []
        self._raw: dict[str, tuple[tuple, UnitRow]] = {}

    def read(self) -> set[str]:
        """Bring `rows` up to date; the ids of the units that changed (or came) since the last read."""
        raw = self.store.db.execute(_SELECT).fetchall()
        before = self._raw
        changed: set[str] = set()
        now: dict[str, tuple[tuple, UnitRow]] = {}
        for values in raw:
            unit_id = values[0]
            seen = before.get(unit_id)
            if seen is None or seen[0] != values:
                seen = (values, parse(values))
                changed.add(unit_id)
            now[unit_id] = seen
        changed |= before.keys() - now.keys()
        self._raw = now
        self.rows = [row for _, row in now.values()]
        return changed

    def get(self, unit_id: str | None) -> UnitRow | None:
        """The unit as of the last read."""
        seen = self._raw.get(unit_id or "")
        return seen[1] if seen else None
