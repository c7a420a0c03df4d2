"""A DataTable that is handed its whole content each time and changes only what differs.

Live panes redraw many times a second; rebuilding a table would reset its cursor and
scroll position and repaint every cell. Here unchanged rows cost nothing, changed cells
are updated in place, and the cursor stays on the same row key when rows come and go.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.text import Text
from textual import on
from textual.geometry import Size
from textual.message import Message
from textual.reactive import Reactive
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowKey

from bosun.widgets.textual_adapter import update_scrollbars

Cell = str | Text


class KeyedTable(DataTable):
    """Rows identified by a key, which is also the plain text of each row's first cell; `show`
    makes the table hold exactly the rows given, in the order given."""

    DEFAULT_CSS = "KeyedTable { height: 1fr; overflow-y: scroll; }"

    virtual_size: Reactive[Size] = Reactive(Size(0, 0))
    """As Widget's, without its whole-screen layout on every change: with the vertical scrollbar
    always shown, a row coming or going changes nothing outside this table."""

    _rows_only = False
    """A row is being removed: the refresh it asks for needs no layout of the screen."""

    def watch_virtual_size(self, size: Size) -> None:
        if self.is_mounted:
            update_scrollbars(self, size)
            self.refresh()

    def remove_row(self, row_key) -> None:
        """DataTable's, without the whole-screen layout it asks for: a table of fixed height is the
        same size with a row less (one whose height follows its rows is laid out by `show`)."""
        self._rows_only = True
        try:
            super().remove_row(row_key)
        finally:
            self._rows_only = False

    def refresh(self, *regions, repaint: bool = True, layout: bool = False, recompose: bool = False):
        return super().refresh(*regions, repaint=repaint, layout=layout and not self._rows_only, recompose=recompose)

    class UnitSelected(Message):
        """The human moved the cursor to a row that stands for `unit` (or focused the table on it)."""

        def __init__(self, table: KeyedTable, unit: str) -> None:
            super().__init__()
            self.table = table
            self.unit = unit

        @property
        def control(self) -> KeyedTable:
            return self.table

        @property
        def stale(self) -> bool:
            """The table's cursor has moved on since (keys faster than the screen): nothing to follow."""
            return self.table.unit != self.unit

    def __init__(self, columns: Sequence[str], widths: dict[str, int] | None = None, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._column_names = list(columns)
        self._widths = widths or {}
        self._shown: dict[str, tuple[Cell, ...]] = {}
        self.unit: str | None = None
        """The screen's selected unit: the cursor stays on its row, and is hidden when it has none."""

    def on_mount(self) -> None:
        for name in self._column_names:
            self.add_column(name, key=name, width=self._widths.get(name))

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def show(self, rows: dict[str, tuple[Cell, ...]]) -> None:
        keep = self.current_key
        count = len(self._shown)
        drawn = self._update_count
        order = [key for key in self._shown if key in rows]
        for key in self._shown.keys() - rows.keys():
            self.remove_row(key)
        changed: set[str] = set()
        for key, cells in rows.items():
            before = self._shown.get(key)
            if before is None:
                self.add_row(*cells, key=key)
                order.append(key)
            elif cells != before:
                self._set_cells(key, cells, before)
                changed.add(key)
        wanted = list(rows)
        if order != wanted:
            position = {key: index for index, key in enumerate(wanted)}
            self.sort(key=lambda cells: position[str(cells[0])])
        if changed and self._update_count == drawn:  # (rows came, went or moved: all is drawn again)
            self._repaint_rows(changed)
        self._shown = dict(rows)
        if len(rows) != count and self.styles.height is not None and self.styles.height.is_auto:
            self.refresh(layout=True)  # its height follows its rows
        if keep in rows and keep != self.current_key:
            self.move_cursor(row=self.get_row_index(keep), animate=False)
        self._place_cursor()

    def _set_cells(self, key: str, cells: tuple[Cell, ...], before: tuple[Cell, ...]) -> None:
        """The row's new values, in place: no width re-measure (it would scan the whole column) and,
        unlike DataTable's update_cell, no new render of every other row (`_repaint_rows`)."""
        data = self._data[RowKey(key)]
        for name, new, old in zip(self._column_names, cells, before):
            if new == old:
                continue
            column = self.columns[ColumnKey(name)]
            if column.auto_width and cell_len(str(new)) > column.content_width:  # a column that grows: all
                self.update_cell(key, name, new, update_width=True)  # is drawn again (and never shrinks)
            else:
                data[ColumnKey(name)] = new

    def _repaint_rows(self, keys: set[str]) -> None:
        """Forget what DataTable drew for these rows only and repaint their lines. DataTable's own
        update_cell starts its caches over (every visible cell rendered again, ~1.5 ms a row), which
        made each table's repaint in a flood of events the screen's slowest frame."""
        row_keys = {RowKey(key) for key in keys}
        indexes = {self._row_locations.get(row_key) for row_key in row_keys}
        for cache in (self._cell_render_cache, self._row_render_cache):  # keyed (row key, ...)
            for cache_key in [k for k in cache.keys() if k[0] in row_keys]:
                cache.discard(cache_key)
        for cache_key in [k for k in self._row_renderable_cache.keys() if k[1] in indexes]:
            self._row_renderable_cache.discard(cache_key)  # keyed (update count, row index)
        self._line_cache.clear()  # lines are cheap to join again from the rows' cached strips
        for index in indexes:
            self.refresh_row(index)

    def follow(self, unit: str | None) -> None:
        """The selection moved to `unit`: the cursor goes to its row (the one it is on, if that is
        one of the unit's), or hides when the table has none."""
        self.unit = unit
        self._place_cursor()

    def _place_cursor(self) -> None:
        if self.unit is None:  # no selection told (a table on its own): the cursor stays on its row
            return
        key = self.current_key
        if key is not None and self.unit_of(key) == self.unit:
            self.show_cursor = True
            return
        target = next((k for k in self._shown if self.unit_of(k) == self.unit), None)
        self.show_cursor = target is not None
        if target is not None:
            self.move_cursor(row=self.get_row_index(target), animate=False)

    # -- the human moves the cursor: keys, a click, the focus -----------------------------------------
    def _moved_by_user(self) -> None:
        key = self.current_key
        unit = self.unit_of(key) if key else None
        if unit:
            self.unit = unit
            self.post_message(self.UnitSelected(self, unit))

    def _wake_cursor(self) -> bool:
        """Show a hidden cursor where it is; True when it was hidden (the key only shows it)."""
        if self.show_cursor or not self.row_count:
            return False
        self.show_cursor = True
        return True

    def action_cursor_up(self) -> None:
        if not self._wake_cursor():
            super().action_cursor_up()
        self._moved_by_user()

    def action_cursor_down(self) -> None:
        if not self._wake_cursor():
            super().action_cursor_down()
        self._moved_by_user()

    def action_page_up(self) -> None:
        if not self._wake_cursor():
            super().action_page_up()
        self._moved_by_user()

    def action_page_down(self) -> None:
        if not self._wake_cursor():
            super().action_page_down()
        self._moved_by_user()

    def action_scroll_top(self) -> None:
        if not self._wake_cursor():
            super().action_scroll_top()
        self._moved_by_user()

    def action_scroll_bottom(self) -> None:
        if not self._wake_cursor():
            super().action_scroll_bottom()
        self._moved_by_user()

    def action_select_cursor(self) -> None:
        """enter: the cursor's row, or (the cursor hidden: the selection has no row here) the selection."""
        if self.show_cursor or self.unit is None:
            super().action_select_cursor()
        else:
            self.post_message(self.UnitOpened(self.unit))

    def on_click(self) -> None:
        self._wake_cursor()
        self.call_next(self._moved_by_user)  # after DataTable's own click handler moved the cursor

    def on_focus(self) -> None:
        """A table focused with its cursor shown: that row is the selection. A hidden cursor (the
        selection has no row here) stays hidden until a key or a click picks a row, so focus
        coming back after a dialog never moves the selection."""
        if self.show_cursor:
            self._moved_by_user()

    class UnitOpened(Message):
        """The human pressed enter on a row that stands for `unit`: do what that unit needs."""

        def __init__(self, unit: str) -> None:
            super().__init__()
            self.unit = unit

    def unit_of(self, key: str) -> str | None:
        """The unit a row stands for: its "Unit" cell, if the table has one and the cell is not empty."""
        if "Unit" not in self._column_names or key not in self._shown:
            return None
        return str(self._shown[key][self._column_names.index("Unit")]) or None

    @on(DataTable.RowSelected)
    def _open_row(self, event: DataTable.RowSelected) -> None:
        unit = self.unit_of(event.row_key.value) if event.row_key else None
        if unit:
            event.stop()
            self.post_message(self.UnitOpened(unit))
