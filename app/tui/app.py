"""The Bosun app: the supervisor screen with the orchestrator running in the same event loop.

The orchestrator does its git and subprocess work in threads and touches the store only from
this loop, so every change reaches the screen as a store event without locks; the screen never
waits on git.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import signal
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from bosun.app.tui.dialogs import ConfirmDialog, HelpScreen
from bosun.app.tui.keys import APP_BINDINGS
from bosun.app.tui.supervisor_screen import SupervisorScreen
from bosun.app.tui.user_config import CONFIG_SHOWN, UserConfig, config_path, load_user_config
from bosun.orchestration.session import Session
from bosun.orchestration.states import DONE_STATES
from bosun.orchestration.store import Event
from bosun.orchestration.supervisor.loop import Options, Orchestrator

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)
"""Signals that end the screen cleanly instead of killing it with the terminal left in raw mode."""


def settle_the_heap() -> None:
    """Once the screen is up: collect what starting left behind, then move every object alive now
    (Textual, the plan, the layout, the rows) out of the garbage collector's reach. Each full
    collection walks every object; in a flood of events those walks stalled the screen 100-200 ms
    a few times in ten seconds, which was most of its worst latencies."""
    gc.collect()
    gc.freeze()


class BosunApp(App[int]):
    """Supervises one session on screen; its return value is the session's exit code."""

    CSS_PATH = Path(__file__).with_name("bosun.tcss")  # absolute: subclasses live elsewhere
    TITLE = "Bosun"
    BINDINGS = APP_BINDINGS

    def __init__(
        self,
        session: Session,
        options: Options | None = None,
        *,
        supervise: bool = True,
        user_config: UserConfig | None = None,
    ) -> None:
        super().__init__()
        self.user_config = load_user_config() if user_config is None else user_config
        self.session = session
        self.options = options or Options(wait=True)
        self.supervise = supervise
        self.orchestrator: Orchestrator | None = None
        self.supervisor_worker: Worker | None = None
        self.screen_of_session = SupervisorScreen(session)

    def get_default_screen(self) -> Screen:
        return self.screen_of_session

    def on_mount(self) -> None:
        self.session.store.listeners.append(self._store_event)
        self.call_after_refresh(settle_the_heap)
        self._apply_user_config()
        if not self.is_headless:  # a terminal's screen: `bosun reset` (SIGTERM) or a closed terminal (SIGHUP)
            loop = asyncio.get_running_loop()
            for number in STOP_SIGNALS:
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(number, self.stop_from_outside, number)
        if self.supervise:
            self.orchestrator = Orchestrator(self.session, self.options)
            self.supervisor_worker = self.run_worker(
                self.orchestrator.run(), name="supervisor", group="supervisor", exit_on_error=False
            )

    async def on_unmount(self) -> None:
        gc.unfreeze()  # what the screen held can be collected once it is gone (tests start many apps)
        await self.stop_supervisor()  # however the app ends, no agent outlives it
        for number in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().remove_signal_handler(number)
        if self._store_event in self.session.store.listeners:
            self.session.store.listeners.remove(self._store_event)

    async def stop_supervisor(self) -> None:
        """Stop the agents and the orchestrator; the session stays in the store for `bosun resume`.
        On exit Textual has cancelled the worker already: it is waited for, not cancelled again."""
        worker = self.supervisor_worker
        if worker is not None and self.supervisor_running:
            if not worker.is_cancelled:
                worker.cancel()
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()

    def _apply_user_config(self) -> None:
        config = self.user_config
        if config.keymap:
            self.set_keymap(config.keymap)
        if config.theme:
            if config.theme in self.available_themes:
                self.theme = config.theme
            else:
                config.problems.append(f"{config_path()}: theme {config.theme!r} is not one of Textual's themes")
        for problem in config.problems:
            self.notify(problem, title="Your settings", severity="warning", timeout=20)

    def key_shown(self, binding: Binding, first: bool = False) -> str:
        """The key(s) of `binding` as the user has them (their keymap, else the default); `first`:
        only the first of several (where a pane names the key in a sentence)."""
        keys = self.user_config.keymap.get(binding.id or "")
        if not keys:
            return self.get_key_display(binding)
        chosen = keys.split(",")[:1] if first else keys.split(",")
        return " ".join(self.get_key_display(replace(binding, key=key, key_display=None)) for key in chosen)

    def stop_from_outside(self, number: int) -> None:
        """Told to stop by a signal: end as `q` does without asking (the terminal is given back as it
        was: no alternate screen, no mouse reports), and say why once it is."""
        name = signal.Signals(number).name
        why = {"SIGTERM": "`bosun reset` or another process", "SIGHUP": "its terminal closed"}.get(name, name)
        self.exit(1, message=f"bosun: the screen was stopped by {name} ({why})")

    def _store_event(self, event: Event) -> None:
        self.screen_of_session.store_changed(event)

    def wake_supervisor(self) -> bool:
        """Make the in-process supervisor look at the store now; False when there is none running."""
        if self.orchestrator is None or not self.supervisor_running:
            return False
        self.orchestrator.wake()
        return True

    @property
    def supervisor_running(self) -> bool:
        return self.supervisor_worker is not None and self.supervisor_worker.state == WorkerState.RUNNING

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self.supervisor_worker:
            return
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            self.notify(f"{error}", title="The supervisor stopped", severity="error", timeout=60)

    # -- keys and palette -------------------------------------------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands, then every binding of the session's screen and this app that applies
        now, titled by its id's category ("unit.approve" -> "unit: approve the merge"). Textual's own
        Quit is left out: `session: quit` does the same and says so."""
        yield from (command for command in super().get_system_commands(screen) if command.title != "Quit")
        bindings = [
            *(screen.offered_bindings() if isinstance(screen, SupervisorScreen) else []),
            *(b for b in self.BINDINGS if b.action != "command_palette"),
        ]
        for binding in bindings:
            if binding.id and binding.tooltip:
                category = binding.id.split(".")[0]
                owner = self if binding in self.BINDINGS else screen
                yield SystemCommand(
                    f"{category}: {binding.tooltip}",
                    f"key {self.key_shown(binding)}",
                    lambda b=binding, o=owner: o.run_action(b.action),
                )

    def action_help(self) -> None:
        """The keys, made from the same bindings as the footer and the palette."""
        screen = self.screen_of_session
        keys = [("↑↓←→ hjkl", "move through the graph"), ("tab", "next pane")]
        keys += [(self.key_shown(b), b.tooltip) for b in [*screen.BINDINGS, *self.BINDINGS] if b.tooltip]
        ids = ", ".join(b.id for b in [*screen.BINDINGS, *self.BINDINGS] if b.id and not b.id.startswith("view.pan"))
        note = (
            f'Your own keys and theme: {CONFIG_SHOWN}, e.g. theme = "nord" and under [keys] a key\'s id = '
            f'its key(s), "unit.approve" = "A". The ids: {ids}.'
        )
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(keys, note))

    async def action_quit(self) -> None:
        """Textual's own quit (ctrl+q, the palette) asks and ends like `q` does."""
        await self.action_quit_bosun()

    async def action_quit_bosun(self) -> None:
        busy = self.orchestrator is not None and self.supervisor_running
        working = len(self.orchestrator.running) if busy else 0
        gating = busy and self.orchestrator.lane is not None
        if working or gating:
            what = " and ".join(
                filter(None, [f"{working} agent(s) work" if working else "", "a gate runs" if gating else ""])
            )
            question = ConfirmDialog(
                f"Quit while {what}?",
                "They are stopped now; `bosun resume` continues the session where it is.",
                yes="Quit",
            )
            self.push_screen(question, self._quit_if)
        else:
            await self._quit_if(True)

    async def _quit_if(self, answer: bool | None) -> None:
        if not answer:
            return
        failed = self.supervisor_worker is not None and self.supervisor_worker.state == WorkerState.ERROR
        await self.stop_supervisor()
        units = self.session.store.units()
        # As headless: 2 when the supervisor stopped on an error, 1 with units unmerged, 0 when done.
        self.exit(2 if failed else 0 if all(u.state in DONE_STATES for u in units) else 1)
