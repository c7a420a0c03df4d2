"""The private names Bosun uses from Textual and textual-serve (each in one adapter module) still do
what Bosun relies on: an upgrade that renames or changes one fails here, not on a user's screen."""

from __future__ import annotations

from aiohttp import web
from textual.app import App, ComposeResult
from textual.driver import Driver
from textual.widgets import Static
from textual_serve.server import Server

from bosun.app.tui.serve_adapter import web_application
from bosun.widgets.keyed_table import KeyedTable
from bosun.widgets.textual_adapter import set_border_title, update_scrollbars, write_to_terminal


async def test_escapes_are_written_to_the_apps_driver_as_they_are():
    app = App()
    async with app.run_test():
        driver = app._driver
        assert isinstance(driver, Driver)
        assert not write_to_terminal(app, "\x1b]9;hello\x07"), "a headless run has no terminal to write to"
        written: list[str] = []
        headless = type(driver)

        class Terminal(headless):
            @property
            def is_headless(self) -> bool:
                return False

            def write(self, data: str) -> None:
                written.append(data)

        driver.__class__ = Terminal
        try:
            assert write_to_terminal(app, "\x1b]9;hello\x07")
            app.bell()  # Textual's own bell goes the same way
        finally:
            driver.__class__ = headless
        assert written == ["\x1b]9;hello\x07", "\x07"]


class _Table(App):
    def compose(self) -> ComposeResult:
        yield KeyedTable(["Unit"], id="table")


async def test_a_table_growing_updates_its_scrollbar_without_a_screen_layout():
    app = _Table()
    async with app.run_test(size=(40, 10)) as pilot:
        table = app.query_one(KeyedTable)
        table.show({f"u{i}": (f"u{i}",) for i in range(50)})
        await pilot.pause()
        assert table.virtual_size.height >= 50
        assert table.vertical_scrollbar.window_virtual_size == table.virtual_size.height
        update_scrollbars(table, table.virtual_size)
        assert table.vertical_scrollbar.window_virtual_size == table.virtual_size.height


async def test_textual_serve_builds_its_application_with_its_routes():
    app = await web_application(Server("true"))
    assert isinstance(app, web.Application)
    names = {route.name for route in app.router.routes() if route.name}
    assert {"index", "websocket", "static"} <= names


class _Titled(App):
    CSS = "Static { border: round white; height: 5; }"

    def compose(self) -> ComposeResult:
        yield Static("body", id="titled")


async def test_a_border_title_set_alone_repaints_its_row_with_the_new_title():
    app = _Titled()
    async with app.run_test(size=(40, 8)) as pilot:
        widget = app.query_one(Static)
        widget.border_title = "before"
        await pilot.pause()
        set_border_title(widget, "after · 3/4")
        await pilot.pause()
        assert widget.border_title == "after · 3/4"
        top = app.screen._compositor.render_strips()[0].text
        assert "after · 3/4" in top and "before" not in top, top
