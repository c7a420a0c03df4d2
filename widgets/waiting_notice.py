"""One line that says what waits for the human, kept up to date: the units, each with what it
waits for and the key that starts on it (as the user has it: key_hints.py). It replaces a pop-up
per event, which piled up and hid the screen when several units came to wait at once."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from bosun.widgets.key_hints import NEXT_WAITING, NOTICE_KEYS, KeyOf, keys_for
from bosun.widgets.unit_looks import STATE_LABELS

SHOWN = 6


class WaitingNotice(Static):
    """Hidden while nothing waits for the human."""

    DEFAULT_CSS = """
    WaitingNotice { height: 1; display: none; background: $warning 25%; color: $text; padding: 0 1; }
    WaitingNotice.shown { display: block; }
    """

    def __init__(self, key_of: KeyOf, **kwargs) -> None:
        super().__init__("", markup=False, **kwargs)
        self.key_of = key_of
        self.waiting: list[tuple[str, str]] = []

    def show_waiting(self, waiting: list[tuple[str, str]]) -> None:
        """`waiting`: (unit, state) for every unit that waits for a decision, in the order to show."""
        if waiting == self.waiting:
            return
        self.waiting = list(waiting)
        self.set_class(bool(waiting), "shown")
        if not waiting:
            return
        go = f"{self.key_of(NEXT_WAITING)} goes {'there' if len(waiting) == 1 else 'to each'}"
        line = Text.assemble((f"◆ {len(waiting)} wait{'s' * (len(waiting) == 1)} for you ({go}): ", "bold"))
        for number, (unit, state) in enumerate(waiting[:SHOWN]):
            if number:
                line.append(" · ")
            line.append(unit, style="bold")
            line.append(
                f" {STATE_LABELS.get(state, state).replace('_', ' ')} ({keys_for(NOTICE_KEYS, state, self.key_of)})"
            )
        if len(waiting) > SHOWN:
            line.append(f" · +{len(waiting) - SHOWN} more")
        self.update(line, layout=False)  # one line high whatever it says: no layout of the screen
