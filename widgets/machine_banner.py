"""One banner at the top of the screen for what this machine lacks of what the plan needs (the
same lines as `bosun doctor`), shown once at start instead of a pop-up per problem."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

SHOWN = 3


class MachineBanner(Static):
    """Hidden while nothing is missing."""

    DEFAULT_CSS = """
    MachineBanner { height: auto; max-height: 4; display: none; background: $error 30%; color: $text; padding: 0 1; }
    MachineBanner.shown { display: block; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.lines: list[str] = []

    def show_problems(self, lines: list[str]) -> None:
        """`lines`: one doctor line per problem (✗ what: why — fix: how)."""
        self.lines = list(lines)
        self.set_class(bool(lines), "shown")
        if not lines:
            return
        text = Text.assemble(("This machine lacks what the plan needs (bosun doctor tells all):", "bold"))
        for line in lines[:SHOWN]:
            text.append("\n" + line)
        if len(lines) > SHOWN:
            text.append(f"\n+{len(lines) - SHOWN} more: run bosun doctor")
        self.update(text)
