"""The keys the panes name for a unit that waits for you, by binding id: each pane is given
`key_of` (a binding id -> that key as the user has it, their keymap included) by its screen, so
the key a pane names is the key that works."""

from __future__ import annotations

from collections.abc import Callable

KeyOf = Callable[[str], str]

QUEUE_KEYS: dict[str, tuple[str, ...]] = {
    "awaiting_approval": ("unit.approve", "unit.reject"),
    "conflicted": ("unit.open",),
    "semantic_conflict": ("unit.open",),
    "gate_failed": ("unit.handback", "unit.reassign"),
    "out_of_scope": ("unit.handback", "unit.reassign"),
    "failed": ("unit.reassign", "unit.handback"),
}
"""The merge queue's `you: ...` column: the decisions that move a unit in each state on."""

NOTICE_KEYS: dict[str, tuple[str, ...]] = {"awaiting_approval": ("unit.approve", "unit.reject")}
"""The waiting line's keys; any other state: enter, which says why and what applies."""

NEXT_WAITING = "view.next-waiting"
OPEN = "unit.open"

QUEUE_TIP = (
    ("unit.approve", "approve"),
    ("unit.reject", "reject"),
    ("unit.handback", "hand back"),
    ("unit.reassign", "reassign"),
    ("unit.open", "resolve a conflict"),
)


def keys_for(table: dict[str, tuple[str, ...]], state: str, key_of: KeyOf) -> str:
    """`state`'s keys from `table` as the user has them ('a / x'); enter's where it has none."""
    return " / ".join(key_of(binding) for binding in table.get(state, (OPEN,)))
