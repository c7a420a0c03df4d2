"""The Timeline tab on the supervisor screen (the frozen scene of tests/scenes.py): T shows each
agent's lane and the gate's runs, a bar the user moves onto selects its unit everywhere, and a
new event refreshes the lanes without moving the selection or the cursor."""

from __future__ import annotations

import asyncio

from screen_kit import SIZE, scene_app
from textual.widgets import TabbedContent

from bosun.widgets.graph_view import GraphView
from bosun.widgets.merge_queue import MergeQueue
from bosun.widgets.timeline import NAME_W, TimelineView
from bosun.widgets.timeline_rows import placed


async def computed(app, more_than: int) -> None:
    """Until the screen has shown the timeline more than `more_than` times, and painted it."""
    await asyncio.wait_for(app.screen_of_session.timeline_feed.shown_after(more_than), 20)
    await app.screen_of_session.wait_for_refresh()


async def test_t_shows_every_agents_lane_and_the_gate_runs(tmp_path, monkeypatch):
    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=SIZE) as pilot:
            await app.caught_up()
            assert app.screen_of_session.timeline_feed.computed == 0, "nothing computed while the tab is hidden"
            await pilot.press("T")
            await computed(app, 0)
            view = app.query_one(TimelineView)
            assert app.query_one(TabbedContent).active == "timeline" and view.has_focus
            lines = app.text().splitlines()
            for lane in ("ada", "bob", "cy", "dan", "gate", "human", "cost"):
                assert any(f"│{lane}" in line for line in lines), f"no {lane} lane on screen"
            runs = [bar for lane in view.data.lanes if lane.group == "gate" for row in lane.rows for bar in row]
            assert [bar.look for bar in runs].count("failed") == 1 and len(runs) == len(app.session.store.gate_runs())
            bob = next(lane for lane in view.data.lanes if lane.name == "bob")
            assert [bar.label for bar in bob.rows[0]] == ["nodes", "format", "format #2"]
            await app.caught_up()  # repaints with no new event: a session no supervisor runs is not read again
            assert app.screen_of_session.timeline_feed.computed == 1


async def test_a_bar_selects_its_unit_everywhere_and_a_new_event_moves_nothing(tmp_path, monkeypatch):
    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=SIZE) as pilot:
            await app.caught_up()
            screen = app.screen_of_session
            app.query_one(GraphView).selected = "format"
            await pilot.pause()
            await pilot.press("T")
            await computed(app, 0)
            view = app.query_one(TimelineView)
            assert view.selected == "format", "the graph's selection is the timeline's"

            await pilot.press("down", "right_square_bracket")  # ada's first bar, then the next one: parser
            assert view.where(view.cursor)[1].unit == "parser"
            assert screen.selected_unit == "parser" and app.query_one(GraphView).selected == "parser"
            assert view.selected == "parser"
            cursor, done = view.cursor, screen.timeline_feed.computed

            store = app.session.store
            store.transition("evaluate", "ready", ("pending",))
            store.claim("evaluate", "cy", 60)
            await app.caught_up()
            await computed(app, done)
            cy = next(lane for lane in view.data.lanes if lane.name == "cy")
            assert "evaluate" in [bar.unit for row in cy.rows for bar in row], "the new claim is on cy's lane"
            assert screen.selected_unit == "parser" and view.cursor == cursor and view.selected == "parser"
            assert app.query_one(GraphView).selected == "parser"


async def test_a_click_on_a_bar_selects_its_unit_in_the_graph_and_the_queue(tmp_path, monkeypatch):
    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=SIZE) as pilot:
            await app.caught_up()
            await pilot.press("T")
            await computed(app, 0)
            view = app.query_one(TimelineView)
            index = next(i for i, row in enumerate(view.rows) if row.name == "cy")
            c0, _, bar = placed(view.rows[index].bars, view.plot())[0]
            assert bar.unit == "version"
            await pilot.click(TimelineView, offset=(NAME_W + c0, 1 + index))
            assert view.cursor == bar.key and app.screen_of_session.selected_unit == "version"
            assert app.query_one(GraphView).selected == "version" and app.query_one(MergeQueue).unit == "version"
