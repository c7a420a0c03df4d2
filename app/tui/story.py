"""A unit's story, for `enter` on a unit that failed or waits for the human: what state it is in and
why (the failure's cause, the failing check and the tail of the gate's output), its spend against
its budget, the agent's last words, and the decisions that apply, each a key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Button, Label, Static

from bosun.app.tui.dialogs import ButtonRow, Dialog
from bosun.orchestration.agents.last_words import said_last
from bosun.orchestration.ansi import strip_ansi
from bosun.orchestration.integration.regate import why_not_regate
from bosun.orchestration.session import Session
from bosun.orchestration.states import COMMAND_STATES
from bosun.orchestration.store import UnitRow
from bosun.widgets.gate_pane import checks_line
from bosun.widgets.unit_looks import UnitLook

TAIL_LINES = 12
LAST_WORDS = 3
LOG_BYTES = 64_000
CHOICES = (("handback", "Hand back", "b"), ("reassign", "Reassign", "r"), ("takeover", "Take over", "t"))
CHOICES += (("cancel", "Cancel unit", "c"), ("regate", "Gate again", "G"))
"""The decisions a story offers (when they apply to the unit's state): the id, the button, the key."""


@dataclass
class Story:
    unit: str
    headline: str
    cause: list[str] = field(default_factory=list)
    gate: list[str] = field(default_factory=list)
    spend: str = ""
    last_words: list[str] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)


def _cause(row: UnitRow) -> list[str]:
    detail = row.detail or {}
    lines = [str(detail[key]) for key in ("error", "summary") if detail.get(key)]
    if detail.get("reason") and not lines:
        lines.append(f"reason: {detail['reason']}")
    files = detail.get("files") or []
    if files:
        lines.append("files: " + ", ".join(map(str, files[:10])) + (" …" if len(files) > 10 else ""))
    if row.handback and row.handback.get("reason"):
        lines.append(f"handed back: {row.handback['reason']}")
    return lines


def _gate(session: Session, unit: str) -> list[str]:
    runs = session.store.gate_runs(unit)
    if not runs:
        return []
    run = max(runs, key=lambda r: r.id)
    lines = [
        f"gate run {run.label or run.id} on try {run.attempt}: {'passed' if run.passed else 'FAILED'} · {run.cause}"
    ]
    failing = [c for c in run.checks if not c.get("passed")]
    if failing:
        lines.append(checks_line(failing))
    tail = [line for line in strip_ansi(run.output_tail).rstrip().splitlines() if line.strip()]
    return lines + tail[-TAIL_LINES:]


def _spend(session: Session, row: UnitRow) -> str:
    usage = row.usage or {}
    tokens = (usage.get("prompt_tokens") or 0) + (usage.get("completion_tokens") or 0)
    spent = f"{tokens} tokens" + (f", ${usage['cost_usd']:.4f}" if usage.get("cost_usd") is not None else "")
    spec = session.plan.units.get(row.id)
    budget = spec.budget if spec is not None else None
    if budget is None:
        return f"spent {spent}" if tokens else ""
    limits = [f"{budget.tokens} tokens" if budget.tokens is not None else "", f"${budget.usd:g}" if budget.usd else ""]
    over = budget.exceeded_by(usage)
    return f"spent {spent} · budget {', '.join(filter(None, limits))}" + (f" · over: {over}" if over else "")


def last_words(log: Path | None) -> list[str]:
    """What the agent said last: its last few messages, or the last lines of a plain log."""
    if log is None or not log.is_file():
        return []
    with open(log, "rb") as handle:
        handle.seek(max(0, log.stat().st_size - LOG_BYTES))
        said, plain = said_last(handle.read().decode("utf-8", errors="replace"))
    return said[-LAST_WORDS:] if said else plain[-LAST_WORDS * 2 :]


def unit_story(session: Session, row: UnitRow) -> Story:
    """Everything the screen knows about why `row` is where it is (reads the store and the log)."""
    state = UnitLook(row.state, approved=row.approved).label.replace("_", " ")
    who = row.owner or row.agent
    headline = f"'{row.id}' is {state}" + (f" · {who}" if who else "") + f" · try {row.attempts}"
    log = session.dir / "logs" / f"{row.id}.{row.attempts}.log" if row.attempts else None
    return Story(
        unit=row.id,
        headline=headline,
        cause=_cause(row),
        gate=_gate(session, row.id),
        spend=_spend(session, row),
        last_words=last_words(log),
        decisions=[
            kind
            for kind, _, _ in CHOICES
            if row.state in COMMAND_STATES[kind] and (kind != "regate" or why_not_regate(row) is None)
        ],
    )


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
