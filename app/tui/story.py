"""A unit's story (orchestration/unit_story.py), for `enter` on a unit that failed or waits for the
human, in a dialog whose buttons are the decisions that apply, each a key."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from bosun.app.tui.dialogs import ButtonRow, Dialog
from bosun.orchestration import unit_story as stories
from bosun.orchestration.session import Session
from bosun.orchestration.store import UnitRow
from bosun.orchestration.unit_story import Story
from bosun.widgets.unit_looks import UnitLook

CHOICES = (("handback", "Hand back", "b"), ("reassign", "Reassign", "r"), ("takeover", "Take over", "t"))
CHOICES += (("cancel", "Cancel unit", "c"), ("regate", "Gate again", "G"))
"""The decisions a story offers (orchestration/unit_story.py's, when they apply): the id, the button, the key."""


def unit_story(session: Session, row: UnitRow) -> Story:
    """The unit's story, its state read as the screen shows it."""
    return stories.unit_story(session, row, UnitLook(row.state, approved=row.approved).label.replace("_", " "))


class StoryDialog(Dialog):
    """The story of one unit; answers with the decision picked (its id) or None."""

    BINDINGS = [Binding(key, f"choose('{kind}')", label, show=False) for kind, label, key in CHOICES]

    def __init__(self, story: Story) -> None:
        super().__init__(classes="story")
        self.story = story

    def compose(self) -> ComposeResult:
        story = self.story
        with Vertical(classes="dialog"):
            yield Label(story.headline, classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll"):
                for title, lines, part in (
                    ("Why", story.cause, "story-why"),
                    ("Gate", story.gate, "story-gate"),
                    ("Agent's last words", story.last_words, "story-agent"),
                ):
                    if lines:
                        yield Static(Text(title, style="bold underline"))
                        yield Static(Text("\n".join(lines)), classes=part)
                if story.spend:
                    yield Static(Text.assemble(("Spend ", "bold underline"), "\n", story.spend))
                if not (story.cause or story.gate or story.last_words):
                    yield Static("Nothing more is known about it yet.")
            with ButtonRow(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary")
                for kind, label, key in CHOICES:
                    if kind in story.decisions:
                        yield Button(f"{label} ({key})", id=kind, variant="error" if kind == "cancel" else "default")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def action_choose(self, kind: str) -> None:
        if kind in self.story.decisions:
            self.dismiss(kind)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "close" else event.button.id)
