"""The few things Bosun needs from Textual that it offers no public call for, in one place, each
pinned by tests/test_adapters.py so an upgrade that breaks one fails a test instead of the screen.
(Here in widgets/ so both the widgets and the app can use it.)"""

from __future__ import annotations

from textual.app import App
from textual.geometry import Region, Size
from textual.widget import Widget


def write_to_terminal(app: App, escapes: str) -> bool:
    """Write escape sequences to the terminal as they are (desktop notifications: OSC 9 and 777).
    Textual's own bell and clipboard write through the app's driver the same way; False when
    there is no terminal (a headless run)."""
    driver = app._driver
    if driver is None or app.is_headless:
        return False
    driver.write(escapes)
    return True


def update_scrollbars(widget: Widget, virtual_size: Size) -> None:
    """What Widget does when its scroll area changes, without the layout of the whole screen
    that its `virtual_size` reactive also asks for."""
    widget._scroll_update(virtual_size)


def set_border_title(widget: Widget, title: str) -> None:
    """`widget.border_title = title`, repainting only the border's top row: Textual's setter repaints
    the whole widget, which for a title that changes with every event (counts) is most of a frame."""
    if widget.border_title == title:
        return
    widget._border_title = widget.render_str(title).expand_tabs(4).split()[0]
    offset = widget.content_offset  # (refresh takes regions of the content; the top row is above it)
    widget.refresh(Region(-offset.x, -offset.y, widget.outer_size.width, 1))
