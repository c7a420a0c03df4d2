"""The supervisor screen attached to a session that another process supervises (`bosun attach`,
and each browser page of `bosun serve`): everything is read from the store, every decision goes
through its command table, and quitting only detaches.
"""

from __future__ import annotations

from textual.binding import Binding

from bosun.app.tui.app import BosunApp
from bosun.orchestration.session import Session
from bosun.orchestration.states import DONE_STATES

SUPERVISOR_CHECK_S = 2.0
"""How often the screen looks whether a supervisor still runs the session."""


class AttachedApp(BosunApp):
    """BosunApp without a supervisor of its own; its return value is always 0 (detaching changes nothing)."""

    BINDINGS = [
        Binding(
            "q",
            "quit_bosun",
            "Detach",
            id="session.quit",
            tooltip="detach (the supervisor and its agents keep running)",
        )
        if b.key == "q"
        else b
        for b in BosunApp.BINDINGS
    ]

    def __init__(self, session: Session) -> None:
        super().__init__(session, supervise=False)
        self.remote_supervisor: int | None = None
        """The pid of the supervisor applying this screen's decisions, None when none runs."""
        self._checked = False

    def on_mount(self) -> None:  # (Textual runs BosunApp.on_mount too)
        self.check_supervisor()
        self.set_interval(SUPERVISOR_CHECK_S, self.check_supervisor)

    def check_supervisor(self) -> None:
        """Say in the header who applies the decisions, and pop up when that changes."""
        pid = self.session.running_supervisor()
        if self._checked and pid == self.remote_supervisor:
            return
        first, self._checked, self.remote_supervisor = not self._checked, True, pid
        if pid is None and all(u.state in DONE_STATES for u in self.session.store.units()):
            self.title = "Bosun · attached · the session is finished"
        elif pid is None:
            self.title = "Bosun · attached · no supervisor runs: decisions wait for `bosun resume`"
            self.notify(
                "No supervisor runs this session: your decisions are queued until `bosun resume`.",
                title="Attached",
                severity="warning",
                timeout=30,
            )
        else:
            self.title = f"Bosun · attached to the supervisor (pid {pid})"
            if not first:
                self.notify(
                    f"A supervisor (pid {pid}) runs the session again and applies the decisions.", title="Attached"
                )

    async def action_quit_bosun(self) -> None:
        """Detach: the remote supervisor and its agents are not this screen's to stop."""
        self.exit(0)
