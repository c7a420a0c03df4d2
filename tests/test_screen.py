"""The supervisor screen driven from the keyboard, with the real orchestrator, real git and real
scripted agents: each decision is checked on screen and in the store."""

from __future__ import annotations

import asyncio
import json

import pytest
from conftest import AWAIT_GO, bosun, first_parent_merges, git, release, write_unit
from screen_kit import SIZE, open_app, scene_app
from textual.command import CommandPalette
from textual.widgets import Input, TabbedContent

from bosun.app.tui.dialogs import ApproveDialog, ConfirmDialog, ConflictDialog, HelpScreen, NoteDialog, ReassignDialog
from bosun.app.tui.story import StoryDialog
from bosun.app.tui.supervisor_screen import SupervisorScreen
from bosun.app.tui.user_config import load_user_config
from bosun.widgets.graph_view import GraphView
from bosun.widgets.keyed_table import KeyedTable
from bosun.widgets.merge_queue import MergeQueue
from bosun.widgets.waiting_notice import WaitingNotice


def _conflicting_pair(project, **keys):
    """'left' and 'right' both create src/shared.py; 'right' merges second and conflicts."""
    units = [{"id": "left"}, {"id": "right", "agent": "bob"}]
    script = {
        "left": [write_unit("src/shared.py", "VALUE = 'left'\n")],
        "right": [
            [AWAIT_GO] + write_unit("src/shared.py", "VALUE = 'right'\n"),
            write_unit("src/shared.py", "VALUE = 'left'\nOTHER = 'right'\n"),
        ],
    }
    return project(units, script, max_agents=2, **keys)


async def test_approve_from_the_modal_merges_and_the_graph_shows_it(project):
    repo = project([{"id": "a", "title": "Unit A"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, merge="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "awaiting_approval")
        assert "to approve" in app.text() and "you: a / x" in app.text()

        await pilot.press("a")
        dialog = await app.dialog(ApproveDialog)
        assert "passed" in app.text() and "src/a.py" in app.text() and "inside the scope" not in app.text()
        assert dialog.focused.id == "no", "the safe choice has the focus"
        await pilot.press("enter")  # "Not now"
        await app.back_on_main()
        assert app.unit("a").state == "awaiting_approval" and not app.session.store.pending_commands()

        await pilot.press("a")
        await app.dialog(ApproveDialog)
        await pilot.press("a")
        await app.state("a", "merged")
        assert first_parent_merges(repo) == ["a"]
        assert app.query_one(GraphView).looks["a"].state == "merged"
        assert "✔ merged" in app.text()
        assert "1/1 merged" in app.text()


async def test_the_approve_dialog_shows_each_file_of_the_stat_on_one_line(project):
    """A long path and a large change: git's stat bar fits the dialog instead of wrapping under it."""
    path = "src/package/a_module_with_a_long_name.py"
    body = "".join(f"VALUE_{i} = {i}\n" for i in range(90))
    repo = project([{"id": "a"}], {"a": [write_unit(path, body)]}, merge="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "awaiting_approval")
        await pilot.press("a")
        dialog = await app.dialog(ApproveDialog)
        stat = dialog.facts.stat.rstrip().splitlines()
        assert path in stat[0] and "+" * 20 in stat[0]
        shown = dialog.query_one(".dialog-scroll Static")
        assert shown.size.height == len(stat), "no line of the stat wraps"


async def test_a_and_x_go_to_the_unit_the_waiting_notice_names(project):
    """The notice says `b to approve (a / x)`: with the selection on a merged unit, `a` opens b's
    dialog and selects b; once nothing awaits approval, `a` is offered no more."""
    units = [{"id": "a"}, {"id": "b"}, {"id": "c"}]
    script = {u: [write_unit(f"src/{u}.py", f"{u.upper()} = 1\n")] for u in ("a", "b", "c")}
    repo = project(units, script, merge="manual", max_agents=1)
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "awaiting_approval")
        await pilot.press("a")
        await app.dialog(ApproveDialog)
        await pilot.press("a")
        await app.state("a", "merged")
        await app.state("b", "awaiting_approval")
        screen = app.screen
        screen.select("a")
        await pilot.pause()
        assert "b to approve (a / x)" in app.text()
        assert screen.check_action("approve", ()) and not screen.check_action("handback", ())

        await pilot.press("a")
        dialog = await app.dialog(ApproveDialog)
        assert dialog.facts.unit == "b" and screen.selected_unit == "b"
        await pilot.press("escape")
        await app.back_on_main()
        screen.select("a")
        await pilot.press("x")
        note = await app.dialog(NoteDialog)
        assert "Reject 'b'?" in note.title_text
        await pilot.press("escape")
        await app.back_on_main()

        app.session.store.add_command("approve", "b")
        app.wake_supervisor()
        await app.state("b", "merged")
        await app.state("c", "awaiting_approval")
        app.session.store.add_command("approve", "c")
        app.wake_supervisor()
        await app.state("c", "merged")
        screen.select("a")
        await pilot.pause()
        assert not screen.check_action("approve", ()), "nothing awaits approval: the key is not offered"


async def test_reject_with_a_note_hands_the_unit_back(project):
    script = {"a": [write_unit("src/a.py", "A = 1\n"), write_unit("src/a.py", "A = 2\n")]}
    repo = project([{"id": "a"}], script, merge="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "awaiting_approval")
        await pilot.press("x")
        await app.dialog(NoteDialog)
        await pilot.press(*"use two", "enter")
        await app.until(
            lambda: app.unit("a").attempts == 2 and app.unit("a").state == "awaiting_approval",
            "the second attempt to await approval",
        )
        rejected = [e for e in app.session.store.events() if e.kind == "rejected"]
        assert rejected and rejected[0].data.get("note") == "use two"
        assert "rejected" in app.text()


async def test_reassign_a_failed_unit_to_the_agent_picked_in_the_modal(project):
    script = {"a": [[{"report": "blocked", "summary": "cannot"}], write_unit("src/a.py", "A = 1\n")]}
    repo = project([{"id": "a", "agent": "ada"}], script, handback="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "failed")
        assert "you: r / b" in app.text()
        await pilot.press("r")
        dialog = await app.dialog(ReassignDialog)
        assert "ada" in app.text() and "(has it now)" in app.text()
        assert dialog.query_one("OptionList").highlighted_option.id == "bob"
        await pilot.press("enter")
        row = await app.state("a", "merged")
        assert row.agent == "bob"
        assert first_parent_merges(repo) == ["a"]


async def test_hand_back_a_gate_failure_from_the_keyboard(project):
    script = {"a": [write_unit("src/a.py", "BROKEN = 1\n"), write_unit("src/a.py", "FIXED = 1\n")]}
    repo = project([{"id": "a"}], script, handback="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "gate_failed")
        assert app.screen.check_action("regate", ()), "a failed test may be flaky: yours to run again"
        await pilot.press("g")
        assert "FAILED" in app.text() and "broken files" in app.text(), "the gate pane shows the run and its tail"
        await pilot.press("b")
        await app.dialog(NoteDialog)
        await pilot.press("enter")
        await app.state("a", "merged")
        assert [e.kind for e in app.session.store.events() if e.unit == "a"].count("handed_back") == 1
        assert "passed" in app.text()


async def test_cancel_asks_first_and_no_is_the_default(project):
    script = {"a": [[{"sleep": 30}] + write_unit("src/a.py", "A = 1\n")]}
    repo = project([{"id": "a"}, {"id": "b", "depends_on": ["a"]}], script)
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "running")
        await pilot.press("c")
        await app.dialog(ConfirmDialog)
        assert "depend on it" in app.text() and "wait: b." in app.text()
        await pilot.press("enter")  # "No" has the focus
        await app.back_on_main()
        assert app.unit("a").state == "running"

        await pilot.press("c")
        dialog = await app.dialog(ConfirmDialog)
        await pilot.press("right")  # the arrows move between the buttons
        assert dialog.focused.id == "yes"
        await pilot.press("left")
        assert dialog.focused.id == "no"
        await pilot.press("y")
        await app.state("a", "cancelled")
        assert app.unit("b").state == "pending"
        assert "cancelled" in app.text()


async def test_conflict_modal_shows_both_sides_and_hands_back(project):
    repo = _conflicting_pair(project, handback="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("left", "merged")
        release(repo, "right")
        await app.state("right", "conflicted")
        app.query_one(GraphView).selected = "right"
        await pilot.press("enter")
        await app.dialog(ConflictDialog)
        shown = app.text()
        assert "src/shared.py" in shown and "VALUE = 'left'" in shown and "VALUE = 'right'" in shown
        assert "<<<<<<<" in shown and ">>>>>>>" in shown
        await pilot.press("b")
        await app.dialog(NoteDialog)
        await pilot.press("enter")
        await app.state("right", "merged")
        assert first_parent_merges(repo) == ["left", "right"]


async def test_revoke_a_running_claim_from_the_screen(project):
    script = {"a": [[{"sleep": 60}] + write_unit("src/a.py", "A = 1\n"), write_unit("src/a.py", "A = 1\n")]}
    repo = project([{"id": "a"}], script)
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE) as pilot:
        row = await app.state("a", "running")
        await app.caught_up()
        assert "left" in app.text() and "old" in app.text(), "the claim's lease age is on screen"
        await pilot.press("v")
        await app.dialog(ConfirmDialog)
        assert f"Revoke {row.owner}'s claim on 'a'?" in app.text()
        await pilot.press("y")
        await app.until(lambda: any(e.kind == "revoked" for e in app.session.store.events()), "the revocation")
        later = await app.state("a", "merged")
        assert later.epoch > row.epoch, "the next claim carries a new fencing token"


async def test_quit_while_agents_work_asks_and_stops_them(project):
    script = {"a": [[{"sleep": 60}] + write_unit("src/a.py", "A = 1\n")]}
    repo = project([{"id": "a"}], script)
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE) as pilot:
        row = await app.state("a", "running")
        await pilot.press("q")
        await app.dialog(ConfirmDialog)
        assert "Quit while 1 agent(s) work?" in app.text()
        await pilot.press("n")
        await app.back_on_main()
        assert app.is_running
        await pilot.press("q")
        await app.dialog(ConfirmDialog)
        await pilot.press("y")
        await pilot.pause()
    assert app.return_value == 1, "quit with units unmerged"
    import os

    with pytest.raises(ProcessLookupError):
        os.kill(row.pid, 0)


async def test_filter_help_and_palette(project):
    units = [{"id": "tokens"}, {"id": "parser", "depends_on": ["tokens"]}, {"id": "docs"}]
    script = {u: [[{"sleep": 60}]] for u in ("tokens", "parser", "docs")}
    repo = project(units, script)
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE) as pilot:
        graph = app.query_one(GraphView)
        await pilot.press("slash", *"pars")
        assert graph.filter_text == "pars" and graph.selected == "parser"
        await pilot.press("escape")
        assert graph.filter_text == "" and graph.has_focus

        await pilot.press("question_mark")
        await app.dialog(HelpScreen)
        assert "revoke the claim" in app.text()
        await pilot.press("escape")
        await app.back_on_main()

        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {
            "view: filter units by id, title, state or agent",
            "view: the selected unit's diff",
            "session: quit (asks while agents work; `bosun resume` continues)",
        } <= set(titles)
        assert "Quit" not in titles, "Textual's own Quit does what the session's does: listed once"
        bindings = {b.id for b in app.screen.BINDINGS}
        assert {
            "unit.approve",
            "unit.reject",
            "unit.handback",
            "unit.reassign",
            "unit.cancel",
            "claim.revoke",
            "view.filter",
            "view.clear-filter",
        } <= bindings


async def test_a_claim_made_from_another_terminal_is_live_on_screen_and_revoked_there(project):
    repo = project([{"id": "one"}], {}, agents={"ext": {"kind": "external"}}, mode="claim", lease="60s")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("one", "ready")
        claimed = await asyncio.to_thread(bosun, "claim", "--agent", "ext", cwd=repo)
        task = json.loads(claimed.stdout)
        await app.state("one", "claimed", "running")
        shown = app.text()
        assert "ext" in shown and "one" in shown and "left" in shown and "old" in shown
        await pilot.press("v")
        await app.dialog(ConfirmDialog)
        assert "Revoke ext's claim on 'one'?" in app.text()
        await pilot.press("y")
        await app.until(lambda: any(e.kind == "revoked" for e in app.session.store.events()), "the revocation")
        late = await asyncio.to_thread(bosun, "submit", "one", "--token", str(task["token"]), cwd=repo)
        assert late.returncode == 1 and "stale" in late.stderr
        await app.caught_up()
        assert app.unit("one").owner is None and "revoked" in app.text()


async def test_a_semantic_conflict_is_explained_on_screen_and_handed_back(project):
    script = {
        "widen": [write_unit("src/calc/ops.py", "def add(a, b, c):\n    return a + b + c\n")],
        "use": [
            [AWAIT_GO] + write_unit("src/calc/use.py", "from calc.ops import add\n\nTOTAL = add(1, 2)\n"),
            write_unit("src/calc/use.py", "from calc.ops import add\n\nTOTAL = add(1, 2, 3)\n"),
        ],
    }
    units = [{"id": "widen", "scope": ["src/calc/ops.py"]}, {"id": "use", "scope": ["src/calc/use.py"]}]
    files = {"src/calc/__init__.py": "", "src/calc/ops.py": "def add(a, b):\n    return a + b\n"}
    repo = project(units, script, extra_files=files, handback="manual")
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("widen", "merged")
        release(repo, "use")
        await app.state("use", "semantic_conflict")
        assert "✖ clash" in app.text() and "you: enter" in app.text()
        app.query_one(GraphView).selected = "use"
        await pilot.press("enter")
        await app.dialog(ConflictDialog)
        shown = app.text()
        assert "merges cleanly but clashes" in shown and "src/calc/use.py:3" in shown and "signature_mismatch" in shown
        await pilot.press("b")
        await app.dialog(NoteDialog)
        await pilot.press("enter")
        await app.state("use", "merged")
        runs = app.session.store.gate_runs("use")
        assert [r.checks[1]["passed"] for r in runs] == [False, True]
        await pilot.press("g")
        await app.caught_up()
        assert "FAILED" in app.text() and "passed" in app.text(), "both runs are in the gate pane"


async def test_a_tampered_integration_branch_stops_the_supervisor_and_the_screen_says_so(project):
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, merge="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "awaiting_approval")
        git(
            repo,
            "update-ref",
            "refs/heads/bosun/integration",
            git(repo, "commit-tree", "-m", "sneaky", "-p", "main", "main^{tree}"),
        )
        await pilot.press("a")
        await app.dialog(ApproveDialog)
        await pilot.press("a")
        await app.until(lambda: app.supervisor_worker.is_finished, "the supervisor to stop")
        await pilot.pause()
        told = [n for n in app._notifications if n.title == "The supervisor stopped"]
        assert told and "only Bosun moves it" in told[0].message and told[0].severity == "error"
        assert app.unit("a").state != "merged" and first_parent_merges(repo) == []
        await pilot.press("q")
        await pilot.pause()
    assert app.return_value == 2, "as a headless run ends"


async def test_quit_during_a_long_gate_stops_it_and_merges_nothing(project):
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate="sleep 60 && python check.py")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "gating")
        await pilot.press("q")
        await app.dialog(ConfirmDialog)
        assert "a gate runs" in app.text()
        await pilot.press("y")
        await pilot.pause()
    assert app.return_value == 1
    assert first_parent_merges(repo) == [] and app.unit("a").state == "gating"
    assert app.orchestrator.queue.runs == [], "the gate was stopped and waited for"


async def test_ctrl_q_ends_a_finished_session_with_success(project):
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "merged")
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_value == 0


async def test_enter_on_a_row_of_any_table_does_what_the_unit_needs(project):
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, merge="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "awaiting_approval")
        await app.caught_up()
        for table in ("#queue", "#gate-runs"):
            app.query_one(table).focus()
            await pilot.press("enter")
            dialog = await app.dialog(ApproveDialog)
            assert dialog.facts.unit == "a"
            await pilot.press("escape")
            await app.back_on_main()
        app.query_one("#queue").focus()
        await pilot.press("enter")
        await app.dialog(ApproveDialog)
        await pilot.press("a")  # the dialog's own key for Approve
        await app.state("a", "merged")
    assert first_parent_merges(repo) == ["a"]


async def test_only_the_decisions_that_apply_are_offered(project):
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, merge="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.query_one(GraphView).screen
        assert isinstance(screen, SupervisorScreen)

        def offered() -> tuple[set[str], set[str]]:
            footer = {b.id for b in screen.offered_bindings()}
            palette = {c.title for c in app.get_system_commands(screen)}
            return footer, palette

        await app.state("a", "awaiting_approval")
        await app.caught_up()
        footer, palette = offered()
        assert {"unit.approve", "unit.reject"} <= footer and "claim.revoke" not in footer
        assert "unit: approve the merge" in palette

        await pilot.press("a")
        await app.dialog(ApproveDialog)
        await pilot.press("a")
        await app.state("a", "merged")
        await app.caught_up()
        footer, palette = offered()
        assert not footer & {"unit.approve", "unit.reject", "unit.handback", "unit.cancel", "claim.revoke"}
        assert "unit: approve the merge" not in palette and "view: every gate run" in palette
        await pilot.press("a")  # not offered: nothing opens
        await app.caught_up()
        assert app.screen is screen


# -- the one selection (frozen scene, no supervisor: the store moves only as the test moves it) -----
def _focused_unit(app) -> str | None:
    return app.screen_of_session.selected_unit


async def test_the_focused_row_is_the_selection_and_the_keys_act_on_it(tmp_path, monkeypatch):
    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=SIZE) as pilot:
            await app.caught_up()
            screen = app.screen_of_session
            queue = app.query_one(MergeQueue)
            assert _focused_unit(app) == "tokens" and not queue.show_cursor, "merged: no row of the queue"
            queue.focus()
            await pilot.pause()
            assert _focused_unit(app) == "tokens", "focus alone picks no row when none is highlighted"
            await pilot.press("down")  # the first key shows the cursor where it is, on the first row
            assert _focused_unit(app) == queue.current_key == app.query_one(GraphView).selected == "format"
            assert screen.check_action("approve", ())

            await pilot.press("down")  # 'exports', in conflict: enter resolves; `a` goes to 'format', which waits
            assert _focused_unit(app) == queue.current_key == app.query_one(GraphView).selected == "exports"
            assert screen.check_action("handback", ()) and screen.waiting_target("approve") == "format"
            assert screen.waiting_target("handback") is None, "only the notice's keys go elsewhere"

            await pilot.press("up", "x")  # reject acts on the highlighted row, and its dialog names it
            dialog = await app.dialog(NoteDialog)
            assert "'format'" in app.text()
            dialog.query_one(Input).value = "not yet"
            await pilot.press("enter")
            await app.back_on_main()
            assert [(c.kind, c.unit) for c in app.session.store.pending_commands()] == [("reject", "format")]


async def test_enter_on_an_approved_unit_says_so_and_opens_no_other_units_dialog(tmp_path, monkeypatch):
    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=SIZE) as pilot:
            await app.caught_up()
            app.session.store.update("format", approved=1)
            app.session.store.update("version", state="awaiting_approval")  # another that awaits approval
            app.screen_of_session.store_changed()
            await app.caught_up()
            app.screen_of_session.select("format")
            await pilot.press("enter")
            await pilot.pause()
            assert app.screen is app.screen_of_session, "no dialog: 'format' merges by itself"
            assert app.screen_of_session.selected_unit == "format"
            assert any("approved already" in str(n.message) for n in app._notifications)


async def test_w_goes_to_each_unit_that_waits_in_turn(tmp_path, monkeypatch):
    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=SIZE) as pilot:
            await app.caught_up()
            screen = app.screen_of_session
            waiting = [unit for unit, _ in app.query_one(WaitingNotice).waiting]
            assert len(waiting) >= 2 and screen.selected_unit not in waiting
            assert f"wait for you (w goes to each): {waiting[0]}" in app.text()
            seen = []
            for _ in range(len(waiting) + 1):
                await pilot.press("w")
                seen.append(screen.selected_unit)
                assert app.query_one(GraphView).selected == screen.selected_unit
            assert seen == [*waiting, waiting[0]], "in the line's order, then round again"


async def test_a_merge_or_a_gate_run_never_moves_the_selection(tmp_path, monkeypatch):
    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=SIZE) as pilot:
            await app.caught_up()
            store = app.session.store
            queue = app.query_one(MergeQueue)
            queue.focus()
            await pilot.press("down")
            assert _focused_unit(app) == "format" and app.screen_of_session.check_action("approve", ())

            store.transition(
                "format", "merged", ("awaiting_approval",), kind="merged", merged_commit=store.unit("format").candidate
            )
            await app.caught_up()
            assert "format" not in queue.rows and not queue.show_cursor, "no row stands for the selection"
            assert _focused_unit(app) == app.query_one(GraphView).selected == "format"
            assert not app.screen_of_session.check_action("approve", ()), "nothing to approve: no key offered"

            app.query_one(TabbedContent).active = "gate"
            await pilot.press("enter")  # enter acts on the selection, not on a row it has not got: the diff
            await app.workers.wait_for_complete()
            assert app.query_one(TabbedContent).active == "diff" and _focused_unit(app) == "format"
            await pilot.press("question_mark")  # a dialog comes and goes: the focus comes back, the selection stays
            await app.dialog(HelpScreen)
            await pilot.press("escape")
            await app.back_on_main()
            queue.focus()
            await pilot.pause()
            assert _focused_unit(app) == "format" and not queue.show_cursor
            await pilot.press("down")  # the user moves: the cursor shows again and is the selection
            assert queue.show_cursor and _focused_unit(app) == queue.current_key != "format"

            gates = app.query_one("#gate-runs", KeyedTable)
            app.query_one(GraphView).selected = "format"
            gates.focus()
            await pilot.pause()
            assert _focused_unit(app) == "format" and gates.unit_of(gates.current_key) == "format"
            before, count = gates.current_key, gates.row_count
            store.add_gate_run(
                event=("gate_passed", "parser", {"gate": {"passed": True, "duration_s": 0.5}}),
                **{"unit": "parser", "attempt": 1, "commit_id": "1" * 40, "parent": "2" * 40, "passed": True},
                **{"exit_code": 0, "duration_s": 0.5, "cause": "tests passed", "output_tail": "OK\n"},
            )
            await app.caught_up()
            assert gates.row_count == count + 1 and gates.current_key == before and _focused_unit(app) == "format"


async def test_enter_on_a_failed_unit_tells_its_story_and_offers_what_applies(tmp_path, monkeypatch):
    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=SIZE) as pilot:
            await app.caught_up()
            app.query_one(GraphView).selected = "version"
            await pilot.press("enter")
            story = await app.dialog(StoryDialog)
            text = app.text()
            assert "'version' is failed" in text and "the version scheme is not in the prompt" in text
            assert story.story.decisions == ["handback", "reassign", "takeover", "cancel"]
            await pilot.press("b")  # hand back, asked in its own dialog, for this unit
            await app.dialog(NoteDialog)
            assert "Hand 'version' back" in app.text()
            await pilot.press("enter")
            await app.back_on_main()
            assert [(c.kind, c.unit) for c in app.session.store.pending_commands()] == [("handback", "version")]


async def test_one_notice_says_what_waits_and_ctrl_p_opens_the_palette(tmp_path, monkeypatch):
    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=SIZE) as pilot:
            await app.caught_up()
            notice = app.query_one(WaitingNotice)
            assert {unit for unit, _ in notice.waiting} == {"format", "exports", "version"}
            assert "3 wait for you" in app.text()
            store = app.session.store
            store.append_event("waiting_for_human", "version", state="failed", why="blocked")
            store.append_event("waiting_for_human", "exports", state="conflicted", why="conflict")
            await app.caught_up()
            assert not app._notifications, "no pop-up per unit: the one notice says it"
            store.transition("version", "cancelled", ("failed",), kind="cancelled")
            await app.caught_up()
            assert "2 wait for you" in app.text() and "version" not in {u for u, _ in notice.waiting}

            await pilot.press("ctrl+p")
            await app.dialog(CommandPalette)


async def test_the_users_own_keys_and_theme_apply_and_the_help_shows_them(tmp_path, monkeypatch):
    folder = tmp_path / "config" / "bosun"
    folder.mkdir(parents=True)
    keys = '"unit.approve" = "A"\n"view.next-waiting" = "N,ctrl+n"\n"nope.nothing" = "n"\n'
    (folder / "config.toml").write_text(f'theme = "nord"\n[keys]\n{keys}')
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    config = load_user_config()
    assert config.theme == "nord" and config.keymap == {"unit.approve": "A", "view.next-waiting": "N,ctrl+n"}
    assert config.problems == [
        f"{folder / 'config.toml'}: keys.nope.nothing: no such binding (the help screen lists them)"
    ]
    with scene_app(tmp_path / "scene", monkeypatch, user_config=config) as app:
        async with app.run_test(size=SIZE) as pilot:
            await app.caught_up()
            assert app.theme == "nord"
            text = app.text()  # the panes that name keys name the user's
            assert "(N goes to each)" in text and "format to approve (A / x)" in text and "you: A / x" in text
            app.query_one(GraphView).selected = "format"
            await pilot.pause()
            await pilot.press("A")
            await app.dialog(ApproveDialog)
            await pilot.press("escape")
            await app.back_on_main()
            await pilot.press("question_mark")
            await app.dialog(HelpScreen)
            line = next(line for line in app.text().splitlines() if "approve the merge" in line)
            assert line.split("approve the merge")[0].split()[-1] == "A", line


async def test_a_gate_that_timed_out_is_gated_again_from_the_screen_at_no_attempt(project, tmp_path):
    """`G` (unit.regate) on a unit whose gate timed out: confirmed, the same commit goes back to the
    queue and merges, and the unit's attempts stay at one."""
    counter = tmp_path / "gate-runs"
    first_run_hangs = f"n=$(cat {counter} 2>/dev/null || echo 0); echo $((n+1)) > {counter}; [ $n -ge 1 ] || sleep 30"
    gate = f"{first_run_hangs}; python check.py"
    script = {"slow": [write_unit("src/slow.py", "S = 1\n")]}
    repo = project([{"id": "slow"}], script, gate=gate, gate_timeout="2s", handback="manual", sandbox="off")
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("slow", "gate_failed")
        assert app.screen.check_action("regate", ())
        await pilot.press("G")
        await app.dialog(ConfirmDialog)
        assert "Run the gate again on 'slow'?" in app.text()
        await pilot.press("y")
        await app.state("slow", "merged")
        assert app.unit("slow").attempts == 1
        assert [e.kind for e in app.session.store.events() if e.unit == "slow"].count("regated") == 1


async def test_what_the_machine_lacks_is_one_banner_at_start(project, tmp_path, monkeypatch):
    """A plan naming a CLI this machine does not have: the screen says so once, at the top, with the
    fix (the lines of `bosun doctor`), instead of a pop-up per problem."""
    import os
    import shutil
    import sys

    tools = tmp_path / "tools"  # a PATH with git and Python, and no agent CLI
    tools.mkdir()
    for name, found in (("git", shutil.which("git")), ("python", sys.executable), ("python3", sys.executable)):
        os.symlink(found, tools / name)
    monkeypatch.setenv("PATH", str(tools))
    agents = {"ada": {"kind": "command", "preset": "claude-code", "env": ["ANTHROPIC_API_KEY"]}}
    repo = project([{"id": "a"}], {}, agents=agents, sandbox="off", handback="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        doctor = [w for w in app.screen.workers if w.group == "doctor"]
        await app.screen.workers.wait_for_complete(doctor)
        await pilot.pause()
        banner = app.screen.query_one("#machine")
        assert banner.has_class("shown") and len(banner.lines) >= 1
        assert any("claude" in line and "npm install" in line for line in banner.lines), banner.lines
        assert "This machine lacks what the plan needs" in app.text()


async def test_two_moves_in_flight_settle_on_the_last_and_the_screen_goes_quiet(project):
    """Keys faster than the screen (two cursor moves before either is handled): the selection ends on
    the last row and stays there; the graph and the tables never answer each other's stale news."""
    units = [{"id": u} for u in ("alpha", "beta", "gamma")]
    script = {u: [write_unit(f"src/{u}.py", "X = 1\n")] for u in ("alpha", "beta", "gamma")}
    repo = project(units, script, merge="manual", max_agents=3)
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        for unit in ("alpha", "beta", "gamma"):
            await app.state(unit, "awaiting_approval")
        queue = app.screen.query_one(MergeQueue)
        queue.focus()
        await pilot.pause()
        first = queue.current_key
        queue.action_cursor_down()
        queue.action_cursor_down()  # both moves posted before either is handled
        last = queue.current_key
        assert last != first
        selections = []
        original = app.screen.select
        app.screen.select = lambda unit: (selections.append(unit), original(unit))[1]
        await asyncio.wait_for(pilot.pause(), 10)
        await asyncio.wait_for(pilot.pause(), 10)
        assert app.screen.selected_unit == queue.unit_of(last) == app.screen.query_one(GraphView).selected
        settled = len(selections)
        await asyncio.wait_for(pilot.pause(), 10)
        assert len(selections) == settled and settled <= 4, selections


async def test_enter_on_a_gate_failed_unit_shows_its_failing_output_and_its_agents_last_words(project):
    script = {"a": [write_unit("src/a.py", "BROKEN = 1\n"), write_unit("src/a.py", "FIXED = 1\n")]}
    repo = project([{"id": "a"}], script, handback="manual")
    app = open_app(repo)
    async with app.run_test(size=SIZE) as pilot:
        await app.state("a", "gate_failed")
        await pilot.press("enter")
        story = await app.dialog(StoryDialog)
        text = app.text()
        assert "'a' is gate failed" in text.replace("_", " ") or "'a' is" in story.story.headline
        assert "broken files: src/a.py" in text, "the gate's failing output"
        assert story.story.last_words and "Agent's last words" in text
        assert story.story.decisions == ["handback", "reassign", "takeover", "cancel", "regate"]
        await pilot.press("escape")
        await app.back_on_main()


def test_a_key_given_to_two_bindings_is_named_as_a_problem(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[keys]\n"unit.approve" = "A"\n"unit.reject" = "A"\n"view.next-waiting" = "N"\n')
    problems = load_user_config(path).problems
    assert problems == [f"{path}: keys: 'A' is bound to unit.approve and unit.reject: only one of them runs"]


async def test_every_dialogs_buttons_are_on_an_80_by_24_screen(tmp_path, monkeypatch):
    """On an 80x24 terminal the conflict dialog's Close / Hand back / Reassign / Cancel, and the
    help's Close, were below the screen's last row, with no way to see them."""
    from textual.widgets import Button

    from bosun.app.tui.dialogs import ConflictDialog, HelpScreen

    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=(80, 24)) as pilot:
            await app.caught_up()
            for unit, key, kind in (("exports", "enter", ConflictDialog), (None, "question_mark", HelpScreen)):
                if unit:
                    app.query_one(GraphView).selected = unit
                    await pilot.pause()
                await pilot.press(key)
                dialog = await app.dialog(kind)
                await pilot.pause()
                buttons = list(dialog.query(Button))
                assert buttons and all(b.region.bottom <= 24 and b.region.height > 0 for b in buttons), [
                    (str(b.label), b.region) for b in buttons
                ]
                await pilot.press("escape")
                await app.back_on_main()


async def test_help_and_quit_stay_in_the_footer_at_100_columns(tmp_path, monkeypatch):
    """At 80-100 columns, with a unit to approve selected, the footer cut its last keys: `?` help
    and `q` quit among them."""
    from textual.widgets._footer import FooterKey

    with scene_app(tmp_path / "scene", monkeypatch) as app:
        async with app.run_test(size=(100, 32)) as pilot:
            await app.caught_up()
            app.query_one(GraphView).selected = "format"  # awaits approval: `a` and `x` join the footer
            await pilot.pause()
            shown = {key.action: key.region for key in app.screen.query(FooterKey)}
            assert "approve" in shown
            for action in (
                "help",
                "quit_bosun",
            ):  # inside the screen, and under no other key (the palette's docks right)
                region = shown[action]
                assert region.width > 0 and region.right <= 100, (action, region)
                assert not [other for other, r in shown.items() if other != action and r.overlaps(region)], shown
            await pilot.resize_terminal(*SIZE)
            await pilot.pause()
            assert "command_palette" in {key.action for key in app.screen.query(FooterKey)}  # room for it again


async def test_quitting_says_a_working_unit_stopped_not_running(project):
    from bosun.app.cli.repo_session import left_behind

    repo = project(
        [{"id": "slow", "scope": ["src/slow.py"]}], {"slow": [[AWAIT_GO, *write_unit("src/slow.py", "S = 1\n")]]}
    )
    app = open_app(repo, speed=1)
    async with app.run_test(size=SIZE):
        await app.state("slow", "running")
    said = left_behind(app.session)
    line = next(line for line in said.splitlines() if "slow" in line)
    assert "stopped: starts again on resume" in line and "running" not in line, said
