"""The headless demo's stand-in human decides each state a unit waits in, even two in one attempt:
approved, then conflicted because another unit merged first (seen once in CI: the demo waited
for a hand-back that never came)."""

from __future__ import annotations

import time
from pathlib import Path

from bosun.app.cli.demo import DemoHuman
from bosun.orchestration.store import Store


def _commands(store: Store, count: int) -> list[tuple[str, str]]:
    deadline = time.monotonic() + 10
    while len(found := store.pending_commands()) < count and time.monotonic() < deadline:
        time.sleep(0.01)  # the human's own pause decides when it looks; this only waits for it
    return [(c.kind, c.unit) for c in found]


def test_one_attempt_approved_then_conflicted_is_handed_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    store.add_units([("exports", "dan")])
    store.update("exports", state="awaiting_approval", attempts=1, agent="dan")
    human = DemoHuman(tmp_path / "state.db", ["dan", "eve"], pause_s=0.01)
    human.start()
    try:
        assert _commands(store, 1) == [("approve", "exports")]
        store.update("exports", state="conflicted", approved=0)
        assert _commands(store, 2) == [("approve", "exports"), ("handback", "exports")]
    finally:
        human.stop.set()
        human.join()
        store.close()
