"""The Timeline view: its lanes from the report's engine on a 250-unit, 10-agent session written
through the real store, the widget's keys and clicks on it, and a frame's rendering time."""

from __future__ import annotations

import time

import pytest
from report_sessions import synthetic_session
from scenes import build_scene
from textual.app import App, ComposeResult

from bosun.orchestration.report import SESSION_KEYS
from bosun.orchestration.report.lanes import timeline
from bosun.orchestration.report.record import read_store
from bosun.orchestration.status import status_json
from bosun.widgets.timeline import NAME_W, TimelineView
from bosun.widgets.timeline_rows import placed


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """The 250-unit, 10-agent, 3-slot session's timeline (computed once: it takes a few seconds to play)."""
    played = synthetic_session(tmp_path_factory.mktemp("big"))
    record = read_store(played.store, live=False, agents=played.agents, gate_slots=played.slots)
    started = time.perf_counter()
    data = timeline(record)
    took = time.perf_counter() - started
    print(f"\ntimeline of 250 units / 10 agents computed in {took * 1000:.0f} ms")
    yield played, data
    played.store.close()


def test_every_attempt_is_a_bar_in_its_agents_lane_and_rows_never_overlap(big):
    played, data = big
    agents = [lane for lane in data.lanes if lane.group == "agent"]
    assert [lane.name for lane in agents] == played.agents
    claims = [e for e in played.store.events() if e.kind == "claimed"]
    bars = [bar for lane in agents for row in lane.rows for bar in row]
    assert len(bars) == len(claims)
    for claim in claims:
        lane = next(lane for lane in agents if lane.name == claim.data["owner"])
        assert any(bar.unit == claim.unit and bar.start == claim.time for row in lane.rows for bar in row)
    for lane in data.lanes:
        for row in lane.rows:
            assert all(a.end <= b.start for a, b in zip(row, row[1:])), f"bars overlap in {lane.name}"
    assert any(bar.look == "failed" for bar in bars), "failed attempts are marked"
    assert any("#2" in bar.label for bar in bars), "a second attempt says which"


def test_the_gate_slots_hold_every_run_with_batch_retry_and_bisect_marked(big):
    played, data = big
    gates = [lane for lane in data.lanes if lane.group == "gate"]
    assert [lane.name for lane in gates] == ["gate 1", "gate 2", "gate 3"]
    runs = [bar for lane in gates for row in lane.rows for bar in row]
    started = [e for e in played.store.events() if e.kind == "queue_run_started"]
    assert len(runs) == len(started)
    assert {"batch", "retry", "bisect"} <= {bar.mark for bar in runs}
    assert {"ok", "failed"} <= {bar.look for bar in runs}
    assert data.waiting and max(v for _, v in data.waiting) >= 1, "the human's waits are counted"
    assert data.cost and data.cost[-1][1] > 0


class TimelineApp(App):
    def __init__(self, data) -> None:
        super().__init__()
        self.data = data
        self.chosen: list[str] = []

    def compose(self) -> ComposeResult:
        yield TimelineView()

    def on_mount(self) -> None:
        view = self.query_one(TimelineView)
        view.show(self.data)
        view.focus()

    def on_timeline_view_unit_selected(self, message: TimelineView.UnitSelected) -> None:
        self.chosen.append(message.unit)
        self.query_one(TimelineView).selected = message.unit


async def test_250_units_on_10_agents_render_a_frame_quickly_and_every_lane_shows(big):
    _, data = big
    app = TimelineApp(data)
    async with app.run_test(size=(160, 24)) as pilot:
        await pilot.pause()
        view = app.query_one(TimelineView)
        started = time.perf_counter()
        lines = [view.render_line(y).text for y in range(view.size.height)]
        frame = time.perf_counter() - started
        print(f"\none frame of the 250-unit timeline ({view.size.width}x{view.size.height}) in {frame * 1000:.1f} ms")
        assert frame < 0.25
        names = [line[:NAME_W].strip() for line in lines]
        for name in [f"agent-{a}" for a in range(10)] + ["gate 1", "gate 2", "gate 3", "human", "cost"]:
            assert any(n.startswith(name[: NAME_W - 1]) for n in names), f"{name} has no lane on screen"


async def test_zoom_scroll_and_fit_keys_move_the_window_in_time(big):
    _, data = big
    app = TimelineApp(data)
    async with app.run_test(size=(160, 24)) as pilot:
        view = app.query_one(TimelineView)
        whole = view.span()
        await pilot.press("plus")
        zoomed = view.span()
        assert zoomed[1] - zoomed[0] == pytest.approx((whole[1] - whole[0]) / 2)
        await pilot.press("l", "right")
        later = view.span()
        assert later[0] > zoomed[0] and later[1] - later[0] == pytest.approx(zoomed[1] - zoomed[0])
        await pilot.press("h")
        assert view.span()[0] < later[0]
        await pilot.press("minus", "minus")
        assert view.span() == whole and view.window is None, "zooming out stops at the whole session"
        await pilot.press("plus", "plus", "plus", "0")
        assert view.span() == whole
        await pilot.press("plus", "home")
        assert view.span() == whole


async def test_keys_and_clicks_on_a_bar_select_its_unit(big):
    _, data = big
    app = TimelineApp(data)
    async with app.run_test(size=(160, 24)) as pilot:
        view = app.query_one(TimelineView)
        await pilot.press("down")
        first = view.where(view.cursor)
        assert first is not None and app.chosen == [first[1].unit]
        await pilot.press("right_square_bracket")
        second = view.where(view.cursor)
        assert second[0] == first[0] and second[1].start >= first[1].end and app.chosen[-1] == second[1].unit
        await pilot.press("j")
        assert view.where(view.cursor)[0] > first[0]
        row = view.rows[0]
        c0, c1, bar = placed(row.bars, view.plot())[3]
        await pilot.click(TimelineView, offset=(NAME_W + c0, 1))
        assert view.cursor == bar.key and app.chosen[-1] == bar.unit
        # the selected unit's bars stand out, the others keep their look
        strip = view.render_line(1)
        styles = {seg.style for seg in strip if seg.text.strip()}
        assert view.get_component_rich_style("timeline--cursor") in styles


def test_status_json_carries_the_session_figures(tmp_path, monkeypatch):
    session = build_scene(tmp_path / "scene", monkeypatch)
    try:
        status = status_json(session)
        waits = sum(1 for e in session.store.events() if e.kind == "waiting_for_human")
    finally:
        session.close()
    figs = status["figures"]
    assert list(figs) == list(SESSION_KEYS)
    assert figs["units"] == 9 and figs["merged"] == 2 and figs["gate_runs"] == 4
    assert figs["attempts"] == 7, "tokens, nodes, version, exports, format twice, parser"
    assert figs["human_waits"] == waits
