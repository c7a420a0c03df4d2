"""The graph at the size of a real plan: 60 and 200 units (a fixed-seed random DAG, fed straight into the
widget, no session) at 160×48, in boxes where the screen opens, and in the overview that fits them
all; and the overview of a terminal too small to name them, marks only. Update baselines with
`--snapshot-update` only after looking at the new SVGs."""

from __future__ import annotations

from test_graph_view import random_dag
from textual.app import App, ComposeResult

from bosun.widgets.graph_view import GraphView, UnitLook

STATES = ("merged", "merged", "running", "gating", "awaiting_approval", "ready", "pending", "conflicted", "cancelled")
AGENTS = ("ada", "bob", "cy", None)


class PlanGraphApp(App):
    """The graph widget alone, bordered as on the screen, with every state group on show."""

    CSS = "GraphView { border: round $foreground-muted; }"

    def __init__(self, units: int = 200) -> None:
        super().__init__()
        self.units = units

    def compose(self) -> ComposeResult:
        yield GraphView()

    def on_mount(self) -> None:
        graph = random_dag(self.units, seed=7)
        view = self.query_one(GraphView)
        view.set_graph(graph, list(graph))
        view.update_units(
            {unit: UnitLook(STATES[i % len(STATES)], AGENTS[i % len(AGENTS)]) for i, unit in enumerate(graph)}
        )
        view.border_title = f"Graph · {self.units} units"
        view.focus()


def test_graph_at_200_units(snap_compare):
    assert snap_compare(PlanGraphApp(), terminal_size=(160, 48), press=["j", "j", "l"])


def test_graph_overview_at_200_units(snap_compare):
    assert snap_compare(PlanGraphApp(), terminal_size=(160, 48), press=["j", "j", "l", "z"])


def test_graph_overview_too_small_for_names(snap_compare):
    assert snap_compare(PlanGraphApp(), terminal_size=(80, 24), press=["z", "l", "j"])


def test_graph_at_60_units_the_selections_neighbourhood_drawn_whole(snap_compare):
    """The selected unit's edges bright and unbroken over the quiet rest, its neighbours' frames marked."""
    assert snap_compare(PlanGraphApp(60), terminal_size=(160, 48), press=["l", "l", "j", "j"])


def test_graph_overview_at_60_units_names_every_unit(snap_compare):
    """Too narrow for `unit-000`: the prefix every id shares goes, the rest (`000`) stays."""
    assert snap_compare(PlanGraphApp(60), terminal_size=(72, 20), press=["l", "l", "j", "z"])
