"""A DataTable that is handed its whole content each time and changes only what differs.

Live panes redraw many times a second; rebuilding a table would reset its cursor and
scroll position and repaint every cell. Here unchanged rows cost nothing, changed cells
are updated in place, and the cursor stays on the same row key when rows come and go.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

Cell = str | Text


class KeyedTable(DataTable):
    """Rows identified by a key; `show` makes the table hold exactly the rows given, in order."""

    DEFAULT_CSS = "KeyedTable { height: 1fr; }"

    def __init__(self, columns: Sequence[str], **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self._column_names = list(columns)
        self._shown: dict[str, tuple[Cell, ...]] = {}

    def on_mount(self) -> None:
        for name in self._column_names:
            self.add_column(name, key=name)

    @property
    def current_key(self) -> str | None:
        """The key of the row under the cursor."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def show(self, rows: dict[str, tuple[Cell, ...]]) -> None:
        if list(rows) == list(self._shown):
            for key, cells in rows.items():
                old = self._shown[key]
                for name, new, before in zip(self._column_names, cells, old):
                    if new != before:
                        self.update_cell(key, name, new, update_width=True)
        else:
            keep = self.current_key
            self.clear()
            for key, cells in rows.items():
                self.add_row(*cells, key=key)
            if keep in rows:
                self.move_cursor(row=self.get_row_index(keep), animate=False)
        self._shown = dict(rows)

    def select_key(self, key: str) -> None:
        """Put the cursor on `key`'s row, if there is one."""
        if key in self._shown and key != self.current_key:
            self.move_cursor(row=self.get_row_index(key), animate=False)
