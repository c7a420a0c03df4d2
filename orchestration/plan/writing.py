"""Writing a plan: edits go through tomlkit, so every table, key and comment the user wrote stays
where it was (tables written after the units too), and a plan is written only once it validates,
in one rename (nothing half-written)."""

from __future__ import annotations

from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Comment, Whitespace

from bosun.orchestration.errors import PlanError
from bosun.orchestration.plan.loading import parse_plan


def with_units(text: str, units: list[dict]) -> str:
    """`text` with its `[[units]]` replaced by `units`, where they were; everything else kept. The
    comments after the last unit, which introduce what follows it, move to the new last unit."""
    doc = tomlkit.parse(text)
    old = doc.get("units")
    trailing = _trailing(old[-1]) if isinstance(old, AoT) and len(old) else []
    new = tomlkit.aot()
    for unit in units:
        table = tomlkit.table()
        for key, value in unit.items():
            table.add(key, value)
        new.append(table)
    for item in trailing:
        new[-1].add(item)
    if old is None:
        doc.append("units", new)
    else:
        doc["units"] = new
    return tomlkit.dumps(doc)


def _trailing(table) -> list:
    """The comments and blank lines ending a table's body, after its last key."""
    items = []
    for key, item in reversed(table.value.body):
        if key is not None or not isinstance(item, Comment | Whitespace):
            break
        items.append(item)
    return items[::-1]


def write_plan(path: Path, text: str, what: str = "the proposed plan") -> None:
    """Validate the whole plan, then write it in one rename; PlanError (nothing written) otherwise."""
    try:
        parse_plan(text, path)
    except PlanError as exc:
        raise PlanError([f"{what} is invalid; nothing was written:"] + exc.problems) from None
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text)
    temporary.replace(path)
