"""Small widget rules a user relies on: when a lease counts as expiring, how times read."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region

from bosun.app.tui.keys import SCREEN_BINDINGS_BY_ID
from bosun.orchestration.store import Event
from bosun.widgets.agents_table import duration, lease_cell
from bosun.widgets.keyed_table import KeyedTable

COLOURS = {"warning": "yellow", "error": "red"}


def test_a_lease_with_under_a_third_left_is_flagged_expiring():
    assert lease_cell(40, 60, COLOURS).plain == "20s old · 40s left"
    expiring = lease_cell(15, 60, COLOURS)
    assert expiring.plain == "⚠ 45s old · 15s left" and "yellow" in str(expiring.style)
    assert lease_cell(-2, 60, COLOURS).plain == "✖ expired"
    assert lease_cell(None, 60, COLOURS).plain == ""


def test_durations_read_like_a_clock():
    assert [duration(s) for s in (None, 0, 59.9, 61, 3599, 3661)] == ["", "0s", "59s", "1m01s", "59m59s", "1h01m"]


def test_tokens_are_read_as_usage_stores_them():
    from bosun.widgets.agents_table import cost, tokens

    assert tokens({"prompt_tokens": 1500, "completion_tokens": 700, "cost_usd": 0.0123}) == "2.2k"
    assert tokens({"prompt_tokens": 12}) == "12" and tokens(None) == ""
    assert cost({"cost_usd": 0.0123}) == "$0.012"


def test_a_long_event_line_ends_at_a_field_never_inside_a_value():
    from bosun.widgets.event_log import elide

    line = "12:00:03  parser           gate_failed        attempt=2 gate=passed (6 passed, 1 failed) in 1.52s note=try again"  # noqa: E501
    assert elide(line, 200) == line
    assert elide(line, 70) == "12:00:03  parser           gate_failed        attempt=2 …"
    assert (
        elide(line, 99)
        == "12:00:03  parser           gate_failed        attempt=2 gate=passed (6 passed, 1 failed) in 1.52s …"
    )
    compact = " ".join(line.split())  # the columns' blanks gone, as in a pane too narrow for them
    for width in range(1, len(line)):
        short = elide(line, width)
        whole = short.removesuffix(" …").removesuffix("…")
        assert len(short) <= width and (line.startswith(whole) or compact.startswith(whole))
        assert "(6" not in short or "1.52s" in short, f"a value cut in two at {width}: {short!r}"
    # A narrow pane (80 columns of screen): the unit and its event kind before the blanks that align them.
    assert elide(line, 40) == "12:00:03 parser gate_failed attempt=2 …"
    assert elide("12:00:03  parser           running", 20) == "12:00:03 parser …"  # no field: at a word


def _event(seq: int, kind: str = "running", **data) -> Event:
    return Event(seq, 1_700_000_000.0 + seq, kind, f"unit-{seq}", data)


async def test_the_focused_event_log_opens_the_line_under_its_cursor_in_full():
    from bosun.orchestration.event_lines import format_event
    from bosun.widgets.event_log import EventDetail, EventLog

    class LogApp(App):
        AUTO_FOCUS = None  # the log starts unfocused, as on the screen

        def compose(self) -> ComposeResult:
            yield EventLog(format_event)

    app = LogApp()
    async with app.run_test(size=(60, 12)) as pilot:
        log = app.query_one(EventLog)
        log.add_events(
            [_event(seq) for seq in range(1, 30)]
            + [
                _event(
                    30,
                    "gate_failed",
                    gate={"passed": False, "tests_passed": 6, "tests_failed": 1, "duration_s": 1.5},
                    output_tail="FAILED test_x\n1 failed",
                )
            ]
        )
        await pilot.pause()
        last = log.render_line(log.size.height - 1).text.rstrip()
        assert last.endswith("…") and "(6" not in last, "the long line is elided at a field"
        await pilot.press("e")  # not bound here: nothing happens without the focus
        log.focus()
        await pilot.pause()
        assert log.cursor == 29
        await pilot.press("enter")
        await pilot.pause()
        detail = app.screen
        assert isinstance(detail, EventDetail) and detail.event.seq == 30
        text = str(detail.query_one("#event-line").render()) + str(detail.query_one("#event-fields").render())
        assert "gate=FAILED (6 passed, 1 failed) in 1.50s" in text and "FAILED test_x" in text
        await pilot.press("escape")
        await pilot.press("up", "up", "enter")
        await pilot.pause()
        assert isinstance(app.screen, EventDetail) and app.screen.event.seq == 28
        await pilot.press("escape")
        log.add_events([_event(31)])  # read back: the view stays, the cursor stays on its event
        await pilot.pause()
        assert log.cursor == 27 and log.scroll_offset.y < len(log.lines) - log.size.height
        log.blur()
        await pilot.pause()
        assert log.cursor is None and log.scroll_offset.y == len(log.lines) - log.size.height


def _run(run_id: int, unit: str = "parser"):
    from bosun.orchestration.store import GateRun

    return GateRun(run_id, unit, 1, f"{run_id:040x}", "0" * 40, True, 0, 1.0, "tests passed", "1 passed in 0.1s", 0.0)


class GateApp(App):
    """The Gate tab's pane alone."""

    def compose(self) -> ComposeResult:
        from bosun.widgets.gate_pane import GatePane

        yield GatePane()


async def test_new_gate_runs_come_in_at_the_top_and_are_not_missed():
    app = GateApp()
    async with app.run_test(size=(100, 20)) as pilot:
        pane = app.query_one("GatePane")
        table = pane.table
        pane.show_runs([_run(i) for i in range(1, 4)])
        await pilot.pause()
        assert table.current_key == "3"
        pane.show_runs([_run(i) for i in range(1, 5)])  # the cursor on the top row follows the newest
        await pilot.pause()
        assert table.current_key == "4" and table.cursor_row == 0
        table.move_cursor(row=2)
        pane.show_runs([_run(i) for i in range(1, 6)])  # elsewhere it stays, and the new row is in view
        await pilot.pause()
        assert table.current_key == "2" and table.scroll_y == 0 and not pane.unseen
        pane.show_runs([_run(i) for i in range(1, 41)])
        await pilot.pause()
        assert table.current_key == "2" and len(pane.unseen) == 35, "35 new, the cursor too far down for them"
        table.move_cursor(row=30)
        await pilot.pause()
        assert len(pane.unseen) == 30, "the cursor passed five of them"
        table.action_scroll_top()
        await pilot.pause()
        assert not pane.unseen
        table.move_cursor(row=30)
        await pilot.pause()
        pane.show_runs([_run(i) for i in range(1, 44)])  # too far down to show both: counted above the table
        await pilot.pause()
        banner = pane.query_one("#gate-new")
        assert table.current_key == "10" and pane.unseen == {"41", "42", "43"}
        assert banner.display and "3 new gate runs above" in str(banner.render())
        table.focus()
        await pilot.press("ctrl+home")
        await pilot.pause()
        assert table.current_key == "43" and not pane.unseen and not banner.display


async def test_the_agents_table_shows_each_agent_s_node_only_for_a_session_on_a_cluster():
    from bosun.widgets.agents_table import AgentsTable

    row = {
        "name": "ada",
        "unit": "parser",
        "activity": "busy",
        "lease_left_s": None,
        "branch": "bosun/unit/parser",
        "elapsed_s": 5.0,
        "usage": None,
        "node": "worker-2 a1b2c3d4",
    }

    class TableApp(App):
        def __init__(self, nodes: bool) -> None:
            super().__init__()
            self.nodes = nodes

        def compose(self) -> ComposeResult:
            yield AgentsTable(nodes=self.nodes)

    for nodes in (True, False):
        app = TableApp(nodes)
        async with app.run_test(size=(140, 8)) as pilot:
            table = app.query_one(AgentsTable)
            table.show_agents([row], {}, 60.0)
            await pilot.pause()
            labels = [str(column.label) for column in table.columns.values()]
            cells = [str(cell) for cell in table.get_row_at(0)]
            assert ("Node" in labels) is nodes, labels
            assert ("worker-2 a1b2c3d4" in cells) is nodes, cells
            assert cells[labels.index("Unit")] == "parser"


class _Tables(App):
    CSS = "#fixed { height: 8; } #auto { height: auto; max-height: 12; }"

    def compose(self) -> ComposeResult:
        yield KeyedTable(["Unit"], id="fixed")
        yield KeyedTable(["Unit"], id="auto")


async def test_a_table_of_fixed_height_loses_rows_without_a_layout_and_one_of_auto_height_follows_them():
    app = _Tables()
    async with app.run_test(size=(40, 30)) as pilot:
        fixed, auto = app.query_one("#fixed", KeyedTable), app.query_one("#auto", KeyedTable)
        fixed.show({f"u{i}": (f"u{i}",) for i in range(20)})
        auto.show({f"u{i}": (f"u{i}",) for i in range(2)})
        await pilot.pause()
        small = auto.size.height
        layouts: list[object] = []
        app.screen.screen_layout_refresh_signal.subscribe(app.screen, layouts.append)
        fixed.show({f"u{i}": (f"u{i}",) for i in range(0, 20, 2)})
        await pilot.pause()
        assert layouts == [] and fixed.row_count == 10 and list(fixed.rows)[0].value == "u0"
        auto.show({f"u{i}": (f"u{i}",) for i in range(6)})
        await pilot.pause()
        assert auto.size.height == small + 4, "a table whose height follows its rows grows with them"


class _CountingTable(KeyedTable):
    """Counts the cells DataTable renders (what a repaint costs)."""

    rendered = 0

    def _render_cell(self, *args, **kwargs):
        self.rendered += 1
        return super()._render_cell(*args, **kwargs)


class _OneTable(App):
    def compose(self) -> ComposeResult:
        yield _CountingTable(["Unit", "State", "Agent"], widths={"State": 8})


def _screen_text(pilot) -> str:
    """The table's lines as the screen draws them (through the widget's cache of painted lines)."""
    table = pilot.app.query_one(_CountingTable)
    return "\n".join(strip.text for strip in table.render_lines(Region(0, 0, *table.size)))


async def test_a_changed_row_repaints_only_itself_and_the_screen_shows_every_change():
    app = _OneTable()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(_CountingTable)
        rows = {f"u{i}": (f"u{i}", "ready", "") for i in range(30)}
        table.show(rows)
        await pilot.pause()
        before = table.rendered
        rows = {**rows, "u3": ("u3", "running", "ada")}
        table.show(rows)
        await pilot.pause()
        assert table.rendered - before == 3, "one row's three cells, not the whole visible table"
        assert "running" in _screen_text(pilot) and "ada" in _screen_text(pilot)
        rows = {"u4": ("u4", "gating", "bob"), **{k: v for k, v in rows.items() if k not in ("u4", "u5")}}
        table.show(rows)  # a change, a row gone and a row moved, in one go
        await pilot.pause()
        text = _screen_text(pilot).splitlines()
        shown = [line.split()[0] for line in text[1:6]]
        assert shown == ["u4", "u0", "u1", "u2", "u3"], text[:6]
        assert "gating" in text[1] and "running" in text[5] and "u5" not in _screen_text(pilot)
        table.show({**rows, "u0": ("u0", "gating", "a-longer-name")})  # wider than its column was
        await pilot.pause()
        assert "a-longer-name" in _screen_text(pilot)


async def test_the_merge_queue_lists_what_is_yours_first_and_an_approved_unit_with_those_on_their_way():
    from bosun.orchestration.store import UnitRow
    from bosun.widgets.merge_queue import MergeQueue

    class QueueApp(App):
        def compose(self) -> ComposeResult:
            yield MergeQueue(
                lambda binding: SCREEN_BINDINGS_BY_ID[binding].key_display or SCREEN_BINDINGS_BY_ID[binding].key
            )

    units = [
        UnitRow("landing", 0, "awaiting_approval", candidate="c2", candidate_parent="c1", approved=1),
        UnitRow("tested", 1, "gating", candidate="c3", candidate_parent="c2"),
        UnitRow("clash", 2, "conflicted"),
        UnitRow("decide", 3, "awaiting_approval", candidate="c1", candidate_parent="head"),
        UnitRow("on-branch", 4, "gate_failed", detail={"base_failing": True}),  # the branch fails its gate too
    ]
    app = QueueApp()
    async with app.run_test(size=(80, 10)) as pilot:
        queue = app.query_one(MergeQueue)
        queue.show_queue(units)
        await pilot.pause()
        rows = [[str(cell) for cell in queue.get_row_at(i)] for i in range(queue.row_count)]
    assert rows == [
        ["decide", "you: a / x", "to approve"],
        ["clash", "you: enter", "conflicted"],
        ["on-branch", "branch fix", "gate failed"],  # back in the queue once the branch passes
        ["landing", "decide", "approved"],  # lands right after the unit it is stacked on
        ["tested", "gate slot", "gating"],
    ]


async def test_a_new_run_of_the_selected_unit_takes_the_cursor_another_units_does_not():
    """The selected unit failed its gate and was handed back; its next run passed: the Gate tab
    shows that verdict, not the old failure (it stayed on try 1's FAILED with no line saying so)."""
    app = GateApp()
    async with app.run_test(size=(100, 20)) as pilot:
        pane = app.query_one("GatePane")
        table = pane.table
        pane.show_runs([_run(1, "evaluate"), _run(2, "parser")])
        await pilot.pause()
        table.follow("evaluate")
        await pilot.pause()
        assert table.current_key == "1"
        pane.show_runs([_run(1, "evaluate"), _run(2, "parser"), _run(3, "format")])  # another unit's: stays
        await pilot.pause()
        assert table.current_key == "1"
        pane.show_runs([_run(i, u) for i, u in enumerate(["evaluate", "parser", "format", "evaluate"], 1)])
        await pilot.pause()
        assert table.current_key == "4" and not pane.unseen
