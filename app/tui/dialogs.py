"""The decisions that change history, each in a modal whose safe choice has the focus: approve a
merge, reassign, resolve a conflict, confirm (cancel, revoke, quit), and a note for reject and
hand back; plus the help screen."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from bosun.orchestration.review import Approval, ConflictSide
from bosun.orchestration.unit_story import checks_line


class ButtonRow(Horizontal):
    """A dialog's buttons: the arrow keys move between them, as tab does."""

    BINDINGS = [
        Binding("left", "app.focus_previous", "Previous", show=False),
        Binding("right", "app.focus_next", "Next", show=False),
    ]


class Dialog(ModalScreen):
    """A centred box with a title; `escape` gives the safe answer (None or False)."""

    BINDINGS = [Binding("escape", "dismiss_safely", "Close", show=False)]
    SAFE_ANSWER: object = None

    def action_dismiss_safely(self) -> None:
        self.dismiss(self.SAFE_ANSWER)


class ConfirmDialog(Dialog):
    """Yes or no to one consequential action; "No" has the focus."""

    SAFE_ANSWER = False
    BINDINGS = [Binding("y", "answer(True)", "Yes", show=False), Binding("n", "answer(False)", "No", show=False)]

    def __init__(self, title: str, body: str, yes: str = "Yes") -> None:
        super().__init__(classes="confirm")
        self.title_text, self.body, self.yes = title, body, yes

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.body, classes="dialog-body", markup=False)
            with ButtonRow(classes="dialog-buttons"):
                yield Button("No (n)", id="no", variant="primary")  # the keys, as the approve dialog shows its own
                yield Button(f"{self.yes} (y)", id="yes", variant="error")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class NoteDialog(Dialog):
    """Reject or hand back with an optional note for the agent; `enter` sends, `escape` does nothing."""

    def __init__(self, title: str, body: str, action: str) -> None:
        super().__init__(classes="note")
        self.title_text, self.body, self.action = title, body, action

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.body, classes="dialog-body", markup=False)
            yield Input(placeholder="a note for the agent (optional), then enter", id="note")
            with ButtonRow(classes="dialog-buttons"):
                yield Button("Keep as is", id="keep", variant="primary")
                yield Button(self.action, id="send", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#note", Input).focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one("#note", Input).value.strip() if event.button.id == "send" else None)


class ApproveDialog(Dialog):
    """The facts behind a merge (diff stat, gate verdict, scope check); "Not now" has the focus."""

    SAFE_ANSWER = False
    BINDINGS = [Binding("a", "approve", "Approve", show=False)]

    @staticmethod
    def stat_width(screen_width: int) -> int:
        """How wide git may draw the diff stat: what the dialog's box shows of a line (84 columns, or
        95 % of a narrower screen, less its border, padding and scroll bar, 14). git's own 80 wrapped
        each long file's bar onto a line of its own."""
        return max(min(84, screen_width * 95 // 100) - 14, 30)

    def __init__(self, facts: Approval) -> None:
        super().__init__(classes="approve")
        self.facts = facts

    def compose(self) -> ComposeResult:
        facts = self.facts
        gate = facts.gate or {}
        counts = ""
        if "tests_passed" in gate:
            counts = f": {gate['tests_passed']} passed, {gate.get('tests_failed', 0)} failed"
        verdict = "passed" if gate.get("passed") else "not passed"
        with Vertical(classes="dialog"):
            yield Label(f"Merge unit '{facts.unit}' into the integration branch?", classes="dialog-title")
            yield Static(
                Text.assemble(
                    ("Gate   ", "bold"),
                    f"{verdict}{counts} in {gate.get('duration_s', 0):.2f}s on {str(gate.get('commit', ''))[:10]}",
                ),
                classes="dialog-line",
            )
            yield Static(Text.assemble(("Scope  ", "bold"), facts.scope), classes="dialog-line")
            if facts.checks:
                yield Static(Text.assemble(("Checks ", "bold"), checks_line(facts.checks)), classes="dialog-line")
            if facts.warnings:
                yield Static(
                    Text.assemble(
                        (f"{len(facts.warnings)} warning(s) for you to judge:\n", "bold yellow"),
                        "\n".join(f"{w['path']}:{w['line']} {w['message']}" for w in facts.warnings),
                    ),
                    classes="dialog-line",
                )
            with VerticalScroll(classes="dialog-scroll"):
                yield Static(facts.stat.rstrip() or "no file changes", markup=False)
            with ButtonRow(classes="dialog-buttons"):
                yield Button("Not now", id="no", variant="primary")
                yield Button("Approve merge (a)", id="yes", variant="success")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def action_approve(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")


class ReassignDialog(Dialog):
    """Pick the agent that takes the unit over (with a fresh worktree from the integration head)."""

    def __init__(self, unit: str, agents: list[tuple[str, str]], current: str | None) -> None:
        super().__init__(classes="reassign")
        self.unit, self.agents, self.current = unit, agents, current

    def compose(self) -> ComposeResult:
        options = [
            Option(
                f"{name}  ·  {what}" + ("  (has it now)" if name == self.current else ""),
                id=name,
                disabled=name == self.current,
            )
            for name, what in self.agents
        ]
        with Vertical(classes="dialog"):
            yield Label(f"Reassign '{self.unit}' to which agent?", classes="dialog-title")
            yield Static(
                "It starts again from the current integration head in a fresh worktree.", classes="dialog-body"
            )
            yield OptionList(*options, id="agent-choice")
            with ButtonRow(classes="dialog-buttons"):
                yield Button("Keep as is", id="keep", variant="primary")

    def on_mount(self) -> None:
        agents = self.query_one(OptionList)
        agents.highlighted = next((i for i, (name, _) in enumerate(self.agents) if name != self.current), None)
        agents.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    @on(Button.Pressed)
    def _pressed(self) -> None:
        self.dismiss(None)


class ConflictDialog(Dialog):
    """A conflicted unit: its files with both sides around each conflict, and what to do about it."""

    BINDINGS = [
        Binding("b", "choose('handback')", "Hand back", show=False),
        Binding("r", "choose('reassign')", "Reassign", show=False),
        Binding("c", "choose('cancel')", "Cancel unit", show=False),
    ]

    def __init__(self, unit: str, sides: list[ConflictSide], findings: list[dict] | None = None) -> None:
        super().__init__(classes="conflict")
        self.unit, self.sides, self.findings = unit, sides, findings or []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            if self.findings:
                yield Label(
                    f"'{self.unit}' merges cleanly but clashes with the integration branch: "
                    f"{len(self.findings)} finding(s)",
                    classes="dialog-title",
                )
                yield Static("Each side is valid alone; together they do not hold.", classes="dialog-body")
            else:
                yield Label(
                    f"'{self.unit}' conflicts with the integration branch in {len(self.sides)} file(s)",
                    classes="dialog-title",
                )
                yield Static(
                    "Between the markers: the integration branch's side first, then this unit's.", classes="dialog-body"
                )
            with VerticalScroll(classes="dialog-scroll"):
                for finding in self.findings:
                    yield Static(
                        Text.assemble(
                            (f"{finding['path']}:{finding['line']}  ", "bold underline"),
                            (f"{finding['kind']} ({finding['severity']})", "bold"),
                            f"\n{finding['message']}\n",
                            ("  integration branch: ", "green"),
                            f"{finding['ours']}\n",
                            ("  this unit:          ", "cyan"),
                            f"{finding['theirs']}\n",
                        )
                    )
                for side in self.sides:
                    yield Static(Text(side.path, style="bold underline"))
                    yield Static(_marked(side.excerpt))
            with ButtonRow(classes="dialog-buttons"):
                yield Button("Close", id="close", variant="primary")
                yield Button("Hand back (b)", id="handback", variant="warning")
                yield Button("Reassign (r)", id="reassign")
                yield Button("Cancel unit (c)", id="cancel", variant="error")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(None if event.button.id == "close" else event.button.id)


def _marked(excerpt: str) -> Text:
    """Colour the two sides of each conflict region: ours green, theirs blue, markers bold."""
    text = Text()
    side = None
    for line in excerpt.splitlines():
        if line.startswith("<<<<<<<"):
            side, style = "ours", "bold"
        elif line.startswith("=======") and side:
            side, style = "theirs", "bold"
        elif line.startswith(">>>>>>>"):
            side, style = None, "bold"
        else:
            style = {"ours": "green", "theirs": "cyan"}.get(side or "", "")
        text.append(line + "\n", style=style)
    return text


class HelpScreen(Dialog):
    """Every key, what the states mean, and where decisions go."""

    def __init__(self, keys: list[tuple[str, str]], note: str = "") -> None:
        super().__init__(classes="help")
        self.keys, self.note = keys, note

    def compose(self) -> ComposeResult:
        lines = "\n".join(f"  [b]{escape(key):>9}[/b]  {escape(what)}" for key, what in self.keys)
        with Vertical(classes="dialog"):
            yield Label("Bosun — keys", classes="dialog-title")
            with VerticalScroll(classes="dialog-scroll"):
                yield Static(lines)
                yield Static(
                    "\n[b]States[/b]  ○ pending   ◌ ready   ● claimed, running\n"
                    "        ◍ submitted, checking, gating, approved (waits to land)\n"
                    "        ◆ to approve   ✔ merged   − cancelled\n"
                    "        ✖ conflicted, clash, gate failed, out of scope, failed\n"
                    "A clash merges cleanly, but the two sides do not fit together: enter shows where.\n\n"
                    "Decisions go to the session's store like `bosun approve` from another terminal, so a "
                    "supervisor anywhere acts on them."
                )
                if self.note:
                    yield Static("\n" + self.note, markup=False)
            with ButtonRow(classes="dialog-buttons"):
                yield Button("Close (esc)", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one(".dialog-scroll", VerticalScroll).focus()  # arrows, j/k, page keys scroll; esc closes

    @on(Button.Pressed)
    def _pressed(self) -> None:
        self.dismiss(None)
