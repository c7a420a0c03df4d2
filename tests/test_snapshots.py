"""What the screen looks like, at 120×40: the main screen mid-session, the gate pane, each modal
and the filter, a failed unit's story, the notice of what waits, and the one selection staying
put while a unit merges and a gate run arrives. The session is a frozen scene (tests/scenes.py)
with no supervisor running, so every run paints the same picture. Update baselines with
`--snapshot-update` only after looking at the new SVGs."""

from __future__ import annotations

import time

import pytest
from harness import DrivenApp
from scenes import build_scene, frozen, local_times_in_utc
from screen_kit import SIZE

from bosun.app.tui.dialogs import ApproveDialog, ConfirmDialog, ConflictDialog, HelpScreen, NoteDialog, ReassignDialog
from bosun.app.tui.story import StoryDialog
from bosun.widgets.graph_view import GraphView
from bosun.widgets.merge_queue import MergeQueue


@pytest.fixture
def scene_app(tmp_path, monkeypatch):
    local_times_in_utc(monkeypatch)
    session = build_scene(tmp_path / "scene", monkeypatch)
    frozen(session)
    app = DrivenApp(session, supervise=False)
    yield app
    session.close()
    monkeypatch.undo()
    time.tzset()  # the process's local time as it was


def _after(select: str | None = None, keys: tuple[str, ...] = (), dialog: type | None = None):
    """A run_before: select a unit, let the screen settle, press keys, wait for the dialog."""

    async def run_before(pilot) -> None:
        app: DrivenApp = pilot.app
        await app.caught_up()
        if select:
            app.query_one(GraphView).selected = select
        await pilot.pause()
        await app.workers.wait_for_complete()
        if keys:
            await pilot.press(*keys)
        if dialog is not None:
            await app.dialog(dialog)  # (its worker waits for the answer: do not wait for workers here)
        for box in app.screen.query("Input, TextArea"):
            box.cursor_blink = False  # a blinking cursor is on or off by how long the run took: hold it on
        await pilot.pause()

    return run_before


def test_main_screen_mid_session(snap_compare, scene_app):
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_after())


def test_gate_pane(snap_compare, scene_app):
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_after("format", ("g",)))


def test_approve_modal(snap_compare, scene_app):
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_after("format", ("a",), ApproveDialog))


def test_conflict_modal(snap_compare, scene_app):
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_after("exports", ("enter",), ConflictDialog))


def test_reassign_modal(snap_compare, scene_app):
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_after("version", ("r",), ReassignDialog))


def test_reject_note_modal(snap_compare, scene_app):
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_after("format", ("x",), NoteDialog))


def test_cancel_confirm_modal(snap_compare, scene_app):
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_after("parser", ("c",), ConfirmDialog))


def test_help_screen(snap_compare, scene_app):
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_after(None, ("question_mark",), HelpScreen))


def test_filter_dims_other_units(snap_compare, scene_app):
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_after(None, ("slash", "f", "a", "i", "l")))


def test_a_failed_units_story(snap_compare, scene_app):
    """enter on the failed unit: why it failed, its agent, and the decisions that apply."""
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_after("version", ("enter",), StoryDialog))


async def _merged_while_focused(pilot) -> None:
    """The merge queue focused on `format`, which then merges (as an approval would end)."""
    app: DrivenApp = pilot.app
    await app.caught_up()
    app.query_one(MergeQueue).focus()
    await pilot.press("down")  # the first key shows the queue's cursor: `format` is the selection
    store = app.session.store
    store.transition(
        "format", "merged", ("awaiting_approval",), kind="merged", merged_commit=store.unit("format").candidate
    )
    await app.caught_up()
    await pilot.pause()


def test_the_selection_stays_on_a_unit_that_merged(snap_compare, scene_app):
    """The queue's cursor hides (its row is gone), the graph keeps `format` selected, the footer
    offers no approval."""
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_merged_while_focused)


async def _gate_run_arrives(pilot) -> None:
    """The gate table focused on `format`'s newest run; then a run of another unit arrives."""
    app: DrivenApp = pilot.app
    await app.caught_up()
    app.query_one(GraphView).selected = "format"
    await pilot.press("g")
    app.query_one("#gate-runs").focus()
    await pilot.pause()
    app.session.store.add_gate_run(
        event=("gate_passed", "parser", {"gate": {"passed": True, "duration_s": 0.5}}),
        unit="parser",
        attempt=1,
        commit_id="1" * 40,
        parent="2" * 40,
        passed=True,
        exit_code=0,
        duration_s=0.5,
        cause="tests passed",
        output_tail="OK\n",
    )
    await app.caught_up()
    await pilot.pause()


def test_a_gate_run_arriving_leaves_the_selection_where_it_is(snap_compare, scene_app):
    assert snap_compare(scene_app, terminal_size=SIZE, run_before=_gate_run_arrives)
