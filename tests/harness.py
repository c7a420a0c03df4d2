"""Driving the real app from a script (tests, screenshots, benchmarks): wait for the store, the
screen and dialogs by their signals (store events, the screen's EventsShown, screen changes),
never by sleeping; read the screen as the text a user sees."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual._wait import wait_for_idle

from bosun.app.tui.app import BosunApp
from bosun.app.tui.supervisor_screen import SupervisorScreen
from bosun.orchestration.session import Session
from bosun.orchestration.store import UnitRow
from bosun.orchestration.supervisor.loop import Options


class DrivenApp(BosunApp):
    """The real app, plus what a script driving it can await: a repaint of the session, a state
    in the store, a dialog on top. Tests, the screenshot script and the screen benchmark use it."""

    def __init__(self, session: Session, options: Options | None = None, **kwargs) -> None:
        super().__init__(session, options or Options(wait=True, speed=20), **kwargs)
        self.shown_seq = 0
        self.shown = asyncio.Event()
        self.screens_changed = asyncio.Event()

    def on_mount(self) -> None:  # Textual runs BosunApp.on_mount too
        self.screen_change_signal.subscribe(self, lambda _screen: self.screens_changed.set())

    def on_supervisor_screen_events_shown(self, message: SupervisorScreen.EventsShown) -> None:
        self.shown_seq = max(self.shown_seq, message.seq)
        self.shown.set()

    def unit(self, unit_id: str) -> UnitRow:
        return self.session.store.unit(unit_id)

    async def until(self, check: Callable[[], bool], what: str, timeout: float = 60) -> None:
        """Wait on store events until `check()` holds, then until the screen has painted them."""
        store = self.session.store
        changed = asyncio.Event()

        def listener(_event) -> None:
            changed.set()

        store.listeners.append(listener)
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while not check():
                changed.clear()
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    states = {u.id: u.state for u in store.units()}
                    raise AssertionError(f"timed out waiting for {what}; units: {states}")
                try:
                    await asyncio.wait_for(changed.wait(), min(left, 1.0))
                except TimeoutError:
                    pass  # also re-check for changes made by other processes
        finally:
            store.listeners.remove(listener)
        await self.caught_up()

    async def state(self, unit: str, *states: str, timeout: float = 60) -> UnitRow:
        await self.until(lambda: self.unit(unit).state in states, f"{unit} to be {'/'.join(states)}", timeout)
        return self.unit(unit)

    async def caught_up(self) -> None:
        """Until the screen has painted every event in the store, tables included (which a live
        screen repaints at most every TABLES_EVERY_S)."""
        target = self.session.store.last_seq()
        while self.shown_seq < target:
            await self._repaint()
        self.screen_of_session.refresh_tables(self.session.store.units())
        await self._repaint()

    async def _repaint(self) -> None:
        self.shown.clear()
        self.screen_of_session.store_changed()
        await asyncio.wait_for(self.shown.wait(), 10)

    async def dialog(self, kind: type, timeout: float = 20):
        """The dialog of type `kind` once it is on top."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not isinstance(self.screen, kind):
            self.screens_changed.clear()
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no {kind.__name__} appeared; the screen is {type(self.screen).__name__}")
            try:
                await asyncio.wait_for(self.screens_changed.wait(), left)
            except TimeoutError:
                pass
        screen = self.screen
        while not screen.is_running:
            await wait_for_idle(0)
        await screen.wait_for_refresh()  # laid out and painted, contents included
        return screen

    async def back_on_main(self) -> None:
        await self.dialog(SupervisorScreen)

    def text(self) -> str:
        """The whole screen as the characters a user sees."""
        return "\n".join(strip.text for strip in self.screen._compositor.render_strips())
