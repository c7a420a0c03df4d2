"""The graph widget: a layout where boxes never overlap and every edge arrives, and a 200-unit
graph that renders and lets the selection travel through it with the keyboard."""

from __future__ import annotations

import random
from collections import defaultdict

import networkx as nx
from textual.app import App, ComposeResult

from bosun.widgets import graph_layout
from bosun.widgets.graph_layout import ARROW, BOX_HEIGHT, BOX_WIDTH, layout_graph
from bosun.widgets.graph_overview import fit_name, overview_layout, shared_prefix
from bosun.widgets.graph_view import GraphView, UnitLook


def random_dag(units: int, seed: int = 7) -> nx.DiGraph:
    rng = random.Random(seed)
    graph = nx.DiGraph()
    names = [f"unit-{i:03d}" for i in range(units)]
    graph.add_nodes_from(names)
    for i, name in enumerate(names[1:], start=1):
        for dep in rng.sample(names[:i], k=min(i, rng.choice((0, 1, 1, 2, 3)))):
            graph.add_edge(dep, name)
    return graph


def test_layout_places_every_unit_once_without_overlap():
    graph = random_dag(200)
    layout = layout_graph(graph, list(graph))
    assert set(layout.boxes) == set(graph)
    cells = set()
    for box in layout.boxes.values():
        area = {(x, y) for x in range(box.x, box.x + BOX_WIDTH) for y in range(box.y, box.y + BOX_HEIGHT)}
        assert not cells & area, f"{box.unit} overlaps another box"
        cells |= area
        assert box.x + BOX_WIDTH <= layout.width and box.y + BOX_HEIGHT <= layout.height
    for source, target in graph.edges:
        assert layout.boxes[source].layer < layout.boxes[target].layer
    arrows = {(x, y) for y, row in layout.edge_rows.items() for x, char in row.items() if char == ARROW}
    into = {t for t in graph if graph.in_degree(t)}
    assert {(layout.boxes[t].x - 1, layout.boxes[t].port_y) for t in into} == arrows


def test_a_long_edge_runs_around_the_boxes_between():
    graph = nx.DiGraph([("a", "b"), ("b", "c"), ("a", "c")])
    layout = layout_graph(graph, ["a", "b", "c"])
    b = layout.boxes["b"]
    box_cells = {(x, y) for x in range(b.x, b.x + BOX_WIDTH) for y in range(b.y, b.y + BOX_HEIGHT)}
    drawn = {(x, y) for y, row in layout.edge_rows.items() for x in row}
    # the a -> c edge crosses b's column on a row of its own, under b's box
    crossing = {y for (x, y) in drawn if x == b.x + BOX_WIDTH // 2 and (x, y) not in box_cells}
    assert crossing and all(y >= b.y + BOX_HEIGHT for y in crossing)


class GraphApp(App):
    def __init__(self, graph: nx.DiGraph) -> None:
        super().__init__()
        self.graph = graph
        self.selections: list[str] = []

    def compose(self) -> ComposeResult:
        yield GraphView()

    def on_mount(self) -> None:
        view = self.query_one(GraphView)
        view.set_graph(self.graph, list(self.graph))
        view.update_units({u: UnitLook("running" if i % 3 else "merged", "ada") for i, u in enumerate(self.graph)})
        view.focus()

    def on_graph_view_unit_selected(self, message: GraphView.UnitSelected) -> None:
        self.selections.append(message.unit)


async def test_two_hundred_units_render_and_the_selection_moves_through_them():
    graph = random_dag(200)
    app = GraphApp(graph)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(GraphView)
        first = view.selected
        assert first is not None and view.virtual_size.height > 40 and view.virtual_size.width > 120
        for _ in range(30):
            await pilot.press("j")
        await pilot.press("right", "l", "down")
        await pilot.pause()
        moved = view.selected
        assert moved != first and len(set(app.selections)) >= 20
        box = view.layout_data.boxes[moved]
        top, left = view.scroll_offset.y, view.scroll_offset.x
        assert top <= box.y and box.y + BOX_HEIGHT <= top + view.size.height, "the selection is scrolled into view"
        assert left <= box.x < left + view.size.width
        shown = "\n".join(view.render_line(y).text for y in range(view.size.height))
        assert f" {moved} " in shown and "┏━" in shown, "the selected box is drawn, heavy-bordered"
        await pilot.press("k")
        assert view.selected != moved


async def test_a_state_change_repaints_only_that_box():
    graph = random_dag(50)
    app = GraphApp(graph)
    async with app.run_test(size=(120, 40)):
        view = app.query_one(GraphView)
        for y in range(view.layout_data.height):
            view._lines.setdefault(y, view._paint_row(y))
        unit = view.selected
        changed = view.update_units({unit: UnitLook("conflicted", "bob"), "unit-049": view.looks["unit-049"]})
        assert changed == [unit]
        box = view.layout_data.boxes[unit]
        assert set(range(box.y, box.y + BOX_HEIGHT)).isdisjoint(view._lines)
        assert len(view._lines) == view.layout_data.height - BOX_HEIGHT
        assert "conflicted" in view._paint_row(box.port_y).text


def test_the_layout_crosses_few_edges():
    """Median sweeps and adjacent swaps: on 100-unit random DAGs about a third fewer crossings than the
    four barycentre sweeps they replaced (473 on average over these seeds; 313 now)."""
    from collections import defaultdict

    from bosun.widgets.graph_layout import _ordered_layers, count_crossings

    totals = []
    for seed in range(5):
        graph = random_dag(100, seed)
        layers, links = _ordered_layers(graph, list(graph))
        after = defaultdict(list)
        for a, b in links:
            after[a].append(b)
        totals.append(count_crossings(layers, after))
    assert sum(totals) / len(totals) < 360


def test_counting_crossings():
    from bosun.widgets.graph_layout import count_crossings

    after = {"a": ["d"], "b": ["c"], "c": [], "d": []}
    assert count_crossings([["a", "b"], ["c", "d"]], after) == 1
    assert count_crossings([["a", "b"], ["d", "c"]], after) == 0


async def test_panning_moves_the_view_and_leaves_the_selection():
    from textual import events

    app = GraphApp(random_dag(200))
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(GraphView)
        await pilot.pause()
        first, seen = view.selected, len(app.selections)
        await pilot.press("shift+down", "J", "shift+right", "L")
        await pilot.pause()
        assert view.scroll_offset.y == 2 * view.PAN_Y and view.scroll_offset.x == 2 * view.PAN_X
        assert view.selected == first and len(app.selections) == seen, "the selection stays put"
        box = view.layout_data.boxes[first]
        assert box.y + BOX_HEIGHT <= view.scroll_offset.y or box.x + BOX_WIDTH <= view.scroll_offset.x, (
            "the selected box is out of view"
        )
        await pilot.press("K", "H")
        assert (view.scroll_offset.x, view.scroll_offset.y) == (view.PAN_X, view.PAN_Y)
        view.post_message(events.MouseScrollDown(view, 5, 5, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert view.scroll_offset.y > view.PAN_Y, "the mouse wheel scrolls too"
        await pilot.press("j")  # moving the selection brings it back into view
        await pilot.pause()
        box = view.layout_data.boxes[view.selected]
        assert view.scroll_offset.y <= box.y and box.y + BOX_HEIGHT <= view.scroll_offset.y + view.size.height


async def test_the_overview_fits_the_whole_graph_and_keeps_the_selection():
    graph = random_dag(200)
    app = GraphApp(graph)
    async with app.run_test(size=(160, 48)) as pilot:
        view = app.query_one(GraphView)
        await pilot.press("j", "j", "l")
        await pilot.pause()
        chosen = view.selected
        await pilot.press("z")
        await pilot.pause()
        assert view.overview and view.selected == chosen
        assert view.virtual_size.width <= view.size.width and view.virtual_size.height <= view.size.height
        shown = "\n".join(view.render_line(y).text for y in range(view.size.height))
        assert all(unit in shown for unit in graph), "every unit is named"
        assert shown.startswith("1 · ") and str(view.border_subtitle).startswith(f"overview · {chosen}")
        await pilot.press("l", "j")  # the selection moves in the overview too
        await pilot.pause()
        moved = view.selected
        assert moved != chosen and app.selections[-1] == moved
        assert "overview · " + moved in str(view.border_subtitle)
        await pilot.press("z")
        await pilot.pause()
        box = view.layout_data.boxes[moved]
        assert not view.overview and str(view.border_subtitle) == ""
        assert view.scroll_offset.y <= box.y and box.y + BOX_HEIGHT <= view.scroll_offset.y + view.size.height


async def test_an_overview_too_small_for_names_shows_marks_and_names_the_selection():
    app = GraphApp(random_dag(200))
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.query_one(GraphView)
        await pilot.press("z")
        await pilot.pause()
        assert view.virtual_size.width <= view.size.width and view.virtual_size.height <= view.size.height
        shown = "\n".join(view.render_line(y).text for y in range(view.size.height))
        assert "unit-" not in shown and shown.count("✔") + shown.count("●") == 200
        assert f"overview · {view.selected} · " in str(view.border_subtitle)
        await pilot.resize_terminal(160, 48)  # room again: names come back
        await pilot.pause()
        assert "unit-000" in "\n".join(view.render_line(y).text for y in range(view.size.height))


async def test_the_selected_units_edges_are_picked_out():
    graph = random_dag(50)
    app = GraphApp(graph)
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(GraphView)
        lit = view.get_component_rich_style("graph-view--lit")

        def lit_cells(row: int) -> set[int]:
            """Edge cells (not boxes, whose active ones share the colour) drawn lit on `row`."""
            cells, x = set(), 0
            boxed = {c for box in view.layout_data.boxes_on_row(row) for c in range(box.x, box.x + BOX_WIDTH)}
            for segment in view._paint_row(row):
                if segment.style == lit:
                    cells |= set(range(x, x + len(segment.text))) - boxed
                x += len(segment.text)
            return cells

        unit = next(u for u in graph if graph.out_degree(u) and graph.in_degree(u))
        view.selected = unit
        await pilot.pause()
        mine = view.layout_data.edge_cells(unit)
        rows = {y for _, y in mine}
        drawn = {(x, y) for y in rows for x in lit_cells(y)}
        assert drawn and drawn <= mine, "only the selected unit's edge cells are lit"
        boxes = view.layout_data.boxes
        for other in (*graph.predecessors(unit), *graph.successors(unit)):  # every edge reaches its box
            box = boxes[other]
            side = box.x - 1 if other in graph.successors(unit) else box.x + BOX_WIDTH
            assert (side, box.port_y) in drawn
        near = view.get_component_rich_style("graph-view--near", partial=True).color
        quiet = view.get_component_rich_style("graph-view--quiet")

        def colour_at(x: int, y: int):
            for segment in view._paint_row(y):
                if x < len(segment.text):
                    return segment.style.color, segment.text[x]
                x -= len(segment.text)

        for other in graph:  # the neighbours' frames are marked, no other box's
            box = boxes[other]
            linked = other in set(graph.predecessors(unit)) | set(graph.successors(unit))
            assert (colour_at(box.x, box.y)[0] == near) == linked, other
        glyphs = view.layout_data.edge_glyphs(unit)  # drawn whole: its own turns, not the joins of others
        assert all(colour_at(x, y)[1] == glyphs[y][x] for x, y in drawn)
        in_boxes = {(x, y) for b in boxes.values() for x in range(b.x, b.x + BOX_WIDTH) for y in range(b.y, b.y + 3)}
        others = {(x, y) for y, row in view.layout_data.edge_rows.items() for x in row} - mine - in_boxes
        assert others and all(colour_at(x, y)[0] == quiet.color for x, y in others)
        view.selected = next(u for u in graph if u != unit and not set(graph.neighbors(unit)) & {u})
        await pilot.pause()
        assert not {(x, y) for y in rows for x in lit_cells(y)} & (mine - view.layout_data.edge_cells(view.selected))


async def test_on_the_screen_z_pans_and_e_work_from_any_pane(tmp_path, monkeypatch):
    """The screen's own bindings (help and palette are made from them): the overview and panning
    reach the graph from another pane, and `e` opens the newest event in full."""
    import time

    from harness import DrivenApp
    from scenes import build_scene, frozen, local_times_in_utc

    from bosun.widgets.event_log import EventDetail, EventLog

    local_times_in_utc(monkeypatch)
    session = build_scene(tmp_path / "scene", monkeypatch)
    frozen(session)
    try:
        app = DrivenApp(session, supervise=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await app.caught_up()
            graph = app.query_one(GraphView)
            app.query_one(EventLog).focus()
            await pilot.press("z")
            assert graph.overview and graph.has_focus, "z shows the overview and takes you to the graph"
            await pilot.press("z")
            assert not graph.overview
            app.query_one("#agents").focus()
            await pilot.pause()  # the focused table's row is the selection (the one selection)
            selected = graph.selected
            await pilot.press("L")
            await pilot.pause()
            assert graph.scroll_offset.x == graph.PAN_X and graph.selected == selected
            await pilot.press("e")
            detail = await app.dialog(EventDetail)
            assert detail.event.seq == session.store.last_seq()
            await pilot.press("escape")
            commands = [binding.id for binding in app.screen_of_session.offered_bindings()]
            assert {"view.overview", "view.pan-left", "view.event-line"} <= set(commands)
    finally:
        session.close()
        monkeypatch.undo()
        time.tzset()


def test_overview_names_drop_the_shared_prefix_then_the_middle():
    ids = ["api-login-form", "api-logout", "api-schema-migration"]
    prefix = shared_prefix(ids)
    assert prefix == "api-"
    assert fit_name("api-logout", 20, prefix) == "api-logout"  # room: whole
    assert fit_name("api-logout", 6, prefix) == "logout"
    short = fit_name("api-schema-migration", 9, prefix)
    assert len(short) == 9 and short.startswith("sche") and short.endswith("tion") and "…" in short
    assert shared_prefix(["unit-1", "unit-2"]) == "unit-" and shared_prefix(["ab", "ab-c"]) == ""


def test_the_overview_names_sixty_units_where_the_old_cut_showed_marks():
    graph = random_dag(60)
    layout = layout_graph(graph, list(graph))
    overview = overview_layout(layout.columns, 64, 20)  # too narrow for `unit-000`, wide enough for `000`
    assert overview.named
    assert {overview.label(unit) for unit in graph} == {unit.removeprefix("unit-") for unit in graph}
    assert not overview_layout(layout.columns, 30, 20).named  # no room for three characters: marks


def test_edges_out_of_different_units_share_a_lane_only_when_none_is_free():
    """Four units of a layer each reach a unit far down the next: with a lane each, no vertical run
    is drawn over another's (a lattice of parallel edges is hard to follow)."""
    edges = [(f"s{i}", "t") for i in range(4)] + [(f"s{i}", f"f{i}") for i in range(4)]
    edges += [(f"f{i}", f"g{i}") for i in range(4)]  # dependents above t push it down the layer
    graph = nx.DiGraph(edges)
    layout = layout_graph(graph, sorted(graph))
    runs: dict[tuple[int, int], set[int]] = {}
    for index, path in enumerate(layout.paths):
        for (x1, y1), (x2, y2) in zip(path, path[1:]):
            if x1 == x2 and y1 != y2:
                runs.setdefault((x1, y1), set()).add(index)
    sources = {
        i: {s for s, t in graph.edges if i in layout.paths_of[s] and i in layout.paths_of[t]}
        for i in range(len(layout.paths))
    }
    shared = [cell for cell, paths in runs.items() if len({src for p in paths for src in sources[p]}) > 1]
    assert not shared


def test_starting_the_sweeps_again_from_other_orders_crosses_fewer_edges_at_60_units(monkeypatch):
    """The measure behind the restarts: crossings of a 60-unit random DAG, the best of several starts
    against the plan's order alone (179 down to 121 when this was written)."""
    graph = random_dag(60)

    def crossings() -> int:
        layers, links = graph_layout._ordered_layers(graph, list(graph))
        after = defaultdict(list)
        for a, b in links:
            after[a].append(b)
        return graph_layout.count_crossings(layers, after)

    several = crossings()
    monkeypatch.setattr(graph_layout, "STARTS", 1)
    assert several < crossings()
