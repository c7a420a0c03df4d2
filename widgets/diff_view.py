"""The selected unit's diff against its base: a stat header, then the patch, syntax highlighted."""

from __future__ import annotations

from rich.syntax import Syntax
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from bosun.orchestration.review import UnitDiff


class DiffView(VerticalScroll, can_focus=True):
    """Shows one `UnitDiff`; scrolls with the keyboard when focused."""

    DEFAULT_CSS = """
    DiffView > #diff-header { color: $text-muted; padding: 0 1; }
    DiffView > #diff-stat { padding: 0 1; border-bottom: solid $foreground-muted; }
    DiffView > #diff-patch { padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("Select a unit to see its diff.", id="diff-header", markup=False)
        yield Static("", id="diff-stat", markup=False)
        yield Static("", id="diff-patch")

    _shown: tuple[str, UnitDiff | None] | None = None

    def show_diff(self, unit: str, diff: UnitDiff | None) -> None:
        if (unit, diff) == self._shown:  # the same diff again: every update would lay out the screen
            return
        self._shown = (unit, diff)
        header = self.query_one("#diff-header", Static)
        stat = self.query_one("#diff-stat", Static)
        patch = self.query_one("#diff-patch", Static)
        if diff is None:
            header.update(f"{unit}: reading the diff…")
            return
        cut = "  (cut short: the full diff is on the branch)" if diff.truncated else ""
        header.update(f"{unit}: {diff.source}{cut}")
        stat.update(diff.stat.rstrip() or "no changes")
        stat.display = bool(diff.stat.strip())
        theme = "ansi_dark" if self.app.current_theme.dark else "ansi_light"
        patch.update(Syntax(diff.patch, "diff", theme=theme, word_wrap=False) if diff.patch else "")
