"""The supervisor screen in a flood of store events (the real app, the real store, no supervisor: the
test moves the units as agents and the queue would, hundreds of events a second): however the events
are coalesced into frames, the screen ends showing exactly what the store holds, and a burst of events
costs one repaint of what changed, never a layout of the whole screen or a repaint of the whole graph."""

from __future__ import annotations

import asyncio
import math
import random
import subprocess
import time
from pathlib import Path

from harness import DrivenApp
from screen_kit import SIZE

from bosun.app.tui.supervisor_screen import COMMITS_EVERY_S
from bosun.app.tui.unit_rows import UnitRows
from bosun.orchestration.event_lines import format_event
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import Session, create_session
from bosun.orchestration.states import waits_for_human
from bosun.orchestration.status import agent_rows
from bosun.widgets.agents_table import AgentsTable
from bosun.widgets.event_log import EventLog
from bosun.widgets.graph_layout import BOX_HEIGHT, BOX_WIDTH
from bosun.widgets.graph_view import GraphView, UnitLook
from bosun.widgets.merge_queue import HUMAN_FIRST, MAX_ROWS, WAITS_FOR, MergeQueue
from bosun.widgets.unit_looks import STATE_LABELS
from bosun.widgets.waiting_notice import WaitingNotice

CYCLE = ["ready", "claimed", "running", "submitted", "checking", "gating", "awaiting_approval", "merged"]
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@localhost"]


def _session(folder: Path, units: int = 80, agents: int = 8) -> Session:
    lines = ["[project]", 'gate = "true"', 'merge = "manual"']
    for a in range(agents):
        lines += [f"[agents.agent{a}]", 'kind = "external"']
    for u in range(units):
        deps = f'["u{u - 1:03d}"]' if u % 3 else "[]"
        lines += ["[[units]]", f'id = "u{u:03d}"', f'prompt = "unit {u}"', f"depends_on = {deps}"]
    folder.mkdir()
    (folder / "bosun.toml").write_text("\n".join(lines) + "\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "plan"]):
        subprocess.run([*GIT, *args], cwd=folder, check=True, capture_output=True)
    return create_session(GitRepo(folder), folder / "bosun.toml")


def _move(session: Session, unit: str, rng: random.Random, agents: int = 8) -> None:
    """The unit's next state in the cycle, with what an agent or the queue writes with it."""
    store = session.store
    current = store.unit(unit).state
    to = CYCLE[(CYCLE.index(current) + 1) % len(CYCLE)] if current in CYCLE else "ready"
    fields: dict = {}
    if to in ("claimed", "running"):
        fields = {"owner": f"agent{rng.randrange(agents)}", "lease_until": store.clock() + 60, "attempts": 1}
    elif to == "submitted":
        fields = {"owner": None}
    gate_run = None
    if to == "awaiting_approval":
        gate_run = {
            "unit": unit,
            "attempt": 1,
            "commit_id": "0" * 40,
            "parent": "0" * 40,
            "passed": True,
            "exit_code": 0,
            "duration_s": 0.5,
            "cause": "tests passed",
            "output_tail": "1 passed in 0.5s",
        }
    data = {"gate": {"passed": True, "duration_s": 0.5, "commit": "0" * 40}} if gate_run else None
    store.transition(unit, to, (current,), data=data, gate_run=gate_run, fsync=False, **fields)


async def _shown(app: DrivenApp, pilot) -> None:
    """Until the screen, left to itself (nothing forces a repaint), has painted the store's last
    event and every table has had its turn with the rows it was painted from."""
    screen = app.screen_of_session
    target = app.session.store.last_seq()
    while app.shown_seq < target:
        app.shown.clear()
        await asyncio.wait_for(app.shown.wait(), 10)
    for _ in range(200):
        if not screen.tables_behind:
            break
        await pilot.pause(0.05)
    assert not screen.tables_behind, "the tables never caught up"
    await pilot.pause()


async def test_a_flood_ends_with_the_screen_showing_exactly_what_the_store_holds(tmp_path):
    session = _session(tmp_path / "repo")
    app = DrivenApp(session, supervise=False)
    rng = random.Random(5)
    units = [u.id for u in session.store.units()]
    async with app.run_test(size=SIZE) as pilot:
        await app.caught_up()
        for burst in range(12):  # bursts of events between frames, and frames in the middle of them
            for _ in range(rng.randrange(5, 60)):
                _move(session, rng.choice(units), rng)
            if burst % 3:
                await asyncio.sleep(0)
            else:
                await pilot.pause()
        session.store.update(units[1], owner="agent3", lease_until=session.store.clock() + 30)  # no event
        _move(session, units[0], rng)
        await _shown(app, pilot)
        screen = app.screen_of_session
        rows = session.store.units()
        assert screen.unit_rows.rows == rows
        graph = screen.query_one(GraphView)
        assert graph.looks == {u.id: UnitLook(u.state, u.owner or u.agent, u.approved) for u in rows}
        merged = sum(u.state == "merged" for u in rows)
        assert graph.border_title.startswith(f"Graph · {merged}/{len(rows)} merged")
        waiting = [u for u in rows if waits_for_human(u.state, u.approved)]
        assert [unit for unit, _ in screen.query_one(WaitingNotice).waiting] == [
            u.id for u in sorted(waiting, key=lambda u: u.position)
        ]
        queue = screen.query_one(MergeQueue)
        queued = sorted(
            (u for u in rows if u.state in WAITS_FOR), key=lambda u: (HUMAN_FIRST.index(u.state), u.position)
        )
        assert list(queue._shown) == [u.id for u in queued[:MAX_ROWS]] and queue.row_count == min(len(queued), MAX_ROWS)
        state = queue._column_names.index("State")
        assert [queue.get_row_at(i)[state] for i in range(queue.row_count)] == [
            STATE_LABELS.get(u.state, u.state) for u in queued[:MAX_ROWS]
        ]
        agents = screen.query_one(AgentsTable)
        assert {row["name"]: row["unit"] or "" for row in agent_rows(session)} == {
            key: str(agents.get_row(key)[1]) for key in agents._shown
        }
        log = screen.query_one(EventLog)
        last = session.store.events(after=session.store.last_seq() - 1)[0]
        assert log.last_seq == last.seq and log.lines[-1][0] == format_event(last)
    session.close()


async def test_a_burst_of_events_is_one_repaint_of_what_changed_and_no_layout(tmp_path):
    """Many events between two frames: one read of the store, the changed boxes of the graph painted
    again (not the whole graph, though its title's counts change), and no layout of the screen (a
    layout repaints every widget; a merge-queue row going, the waiting notice's text, the same diff
    again or a gate run in a tab that is not shown each used to ask for one)."""
    session = _session(tmp_path / "repo")
    app = DrivenApp(session, supervise=False)
    rng = random.Random(7)
    async with app.run_test(size=SIZE) as pilot:
        await app.caught_up()
        screen = app.screen_of_session
        graph = screen.query_one(GraphView)
        boxes, (sx, sy), (width, height) = graph.layout_data.boxes, graph.scroll_offset, graph.size
        others = [u.id for u in session.store.units() if u.id != screen.selected_unit]
        on_screen = [
            u
            for u in others
            if sx <= boxes[u].x <= sx + width - BOX_WIDTH and sy <= boxes[u].y <= sy + height - BOX_HEIGHT
        ]
        quiet = on_screen[-1]  # a unit whose box is on screen, never moved until the end
        others.remove(quiet)
        for unit in others[:30]:  # the queue already has rows
            for _ in range(rng.randrange(3, 7)):
                _move(session, unit, rng)
        while session.store.unit(others[30]).state != "awaiting_approval":  # the waiting notice stays shown
            _move(session, others[30], rng)
        await _shown(app, pilot)

        layouts: list[object] = []
        screen.screen_layout_refresh_signal.subscribe(screen, layouts.append)
        reads = []
        read = screen.unit_rows.read
        screen.unit_rows.read = lambda: (reads.append(1), read())[1]
        started = time.monotonic()
        for _ in range(10):  # ten bursts, a frame after each: nothing of the screen runs within one
            for _ in range(12):
                _move(session, rng.choice(others[:30]), rng)
            await pilot.pause()
        await _shown(app, pilot)
        # beside one read a burst, the screen reads on its own: the lease ages once a second and the
        # commit counts every COMMITS_EVERY_S (a slow machine spends seconds here: more of those)
        ticks = math.ceil((time.monotonic() - started) * (1 + 1 / COMMITS_EVERY_S)) + 2
        assert len(reads) <= 10 + ticks, f"{len(reads)} reads of the store for 10 bursts and {ticks} ticks"
        # (one layout is allowed: the Gate tab's "new runs above" line appearing, when the cursor
        # there is on the selected unit's run, shows or hides a line)
        assert len(layouts) <= 1, f"{len(layouts)} layouts of the whole screen in 10 bursts"

        painted: list[int] = []
        render_line = graph.render_line
        graph.render_line = lambda y: (painted.append(y), render_line(y))[1]
        _move(session, quiet, rng)  # pending -> ready: the counts in the graph's title change too
        await _shown(app, pilot)
        box = graph.layout_data.boxes[quiet]
        assert painted and set(painted) <= set(range(box.y - sy, box.y - sy + BOX_HEIGHT)), painted
    session.close()


def test_the_screens_copy_of_the_units_is_the_stores_and_names_what_changed(tmp_path):
    session = _session(tmp_path / "repo", units=20)
    rows = UnitRows(session.store)
    assert rows.read() == {u.id for u in session.store.units()}
    assert rows.rows == session.store.units() and rows.read() == set()
    rng = random.Random(3)
    _move(session, "u004", rng)
    session.store.update("u007", usage={"prompt_tokens": 5}, detail={"why": "x"})  # without an event
    assert rows.read() == {"u004", "u007"}
    assert rows.rows == session.store.units() and rows.get("u007").usage == {"prompt_tokens": 5}
    assert rows.get("nope") is None
    session.close()
