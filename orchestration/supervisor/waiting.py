"""People away from the screen: one `waiting_for_human` event, and the plan's notify hook, per
unit that has just started to wait for a decision only a human can make."""

from __future__ import annotations

import asyncio
import threading

from bosun.orchestration.notify import run_notify
from bosun.orchestration.session import Session
from bosun.orchestration.states import waits_for_human


class WaitingNotices:
    """Remembers which units already wait, so each start of a wait is told once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.store = session.store
        self.waiting = {u.id for u in self.store.units() if waits_for_human(u.state, u.approved)}
        self.hooks: list[threading.Thread] = []

    def notice(self) -> None:
        """Tell each unit that has just started to wait: a state a human must decide, not one Bosun
        hands back by itself."""
        plan = self.session.plan
        rows = self.store.units()
        waiting = {u.id: u for u in rows if waits_for_human(u.state, u.approved)}
        for unit_id in waiting.keys() - self.waiting:
            row = waiting[unit_id]
            why = (row.detail or {}).get("error") or (row.detail or {}).get("reason") or row.state.replace("_", " ")
            event = self.store.append_event("waiting_for_human", unit_id, state=row.state, why=str(why))
            if plan.project.notify:
                self.hooks.append(
                    run_notify(
                        plan.project.notify,
                        plan.project.notify_env,
                        event.to_json(),
                        self.session.dir / "logs" / "notify.log",
                        plan.root,
                    )
                )
        self.waiting = set(waiting)

    async def finish(self) -> None:
        """Wait for the hooks still running, off the loop; each is bounded by its own timeout."""
        running = [t for t in self.hooks if t.is_alive()]
        if running:
            await asyncio.to_thread(lambda: [t.join() for t in running])
