"""The session store on a real SQLite file: durability settings, the claim compare-and-swap under
real thread and process races, fencing by epoch, and every change landing together with its
event in one transaction (or not at all)."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from bosun.orchestration.store import StaleState, Store

UNITS = [f"u{i:02d}" for i in range(24)]


def ready_store(path: Path, units: list[str] = UNITS) -> Store:
    """A store whose units are all ready, as the supervisor leaves them once their dependencies merged."""
    store = Store(path)
    store.add_units([(u, None) for u in units])
    for unit in units:
        store.transition(unit, "ready", ("pending",))
    return store


def snapshot(store: Store) -> tuple:
    """Everything a failed operation must leave unchanged."""
    db = store.db
    return (
        store.units(),
        store.events(),
        db.execute("SELECT * FROM meta ORDER BY key").fetchall(),
        db.execute("SELECT * FROM intents ORDER BY id").fetchall(),
        db.execute("SELECT * FROM commands ORDER BY id").fetchall(),
    )


def release_all(store: Store, won: dict[str, int]) -> None:
    """Hand every won unit back to `ready`, fenced by the epoch that won it."""
    for unit, epoch in won.items():
        store.transition(unit, "ready", ("claimed",), epoch=epoch, kind="released", owner=None, lease_until=None)


# -- durability ------------------------------------------------------------------------------


def test_the_store_is_wal_with_full_sync_on_every_connection(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first, second = Store(path), Store(path)
    for store in (first, second):
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    # WAL is a property of the file: a plain connection that sets nothing sees it too.
    plain = sqlite3.connect(path)
    assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # What one connection commits, another sees at once.
    first.set_meta("integration_head", "abc")
    first.append_event("hello", None, n=1)
    assert second.get_meta("integration_head") == "abc"
    assert [(e.kind, e.data) for e in second.events()] == [("hello", {"n": 1})]
    assert plain.execute("SELECT value FROM meta WHERE key = 'integration_head'").fetchone() == ("abc",)
    plain.close()
    first.close()
    second.close()


def test_several_settings_are_set_together_or_not_at_all(tmp_path: Path) -> None:
    store = Store(tmp_path / "state.db")
    store.update_meta({"supervisor_pid": "42", "supervisor_start": "123"})
    assert (store.get_meta("supervisor_pid"), store.get_meta("supervisor_start")) == ("42", "123")
    with pytest.raises(sqlite3.ProgrammingError):  # the second value cannot be stored: the first rolls back
        store.update_meta({"supervisor_pid": "43", "supervisor_start": object()})
    assert (store.get_meta("supervisor_pid"), store.get_meta("supervisor_start")) == ("42", "123")
    store.close()


# -- claim: one compare-and-swap, at most one winner ---------------------------------------------


def _thread_race(
    path: Path,
    owner: str,
    barrier: threading.Barrier,
    rounds: int,
    results: list[list[tuple[int, str, str]]],
    errors: list[BaseException],
) -> None:
    store = Store(path)
    order = list(UNITS)
    random.Random(owner).shuffle(order)
    try:
        for round_no in range(rounds):
            barrier.wait(timeout=60)
            for unit in order:
                epoch = store.claim(unit, owner, 60)
                if epoch is not None:
                    results[round_no].append((epoch, unit, owner))
            barrier.wait(timeout=60)  # the round is over
            barrier.wait(timeout=60)  # the main thread has put every unit back
    except Exception as exc:  # surfaced by the test  # noqa: BLE001
        errors.append(exc)
        barrier.abort()
    finally:
        store.close()


def check_round(store: Store, won: list[tuple[int, str, str]], round_no: int) -> dict[str, int]:
    """Every unit won exactly once in the round, at the next epoch, by the owner the store records."""
    units = [unit for _, unit, _ in won]
    assert sorted(units) == sorted(UNITS), f"round {round_no}: {len(units)} wins for {len(UNITS)} units"
    rows = {row.id: row for row in store.units()}
    for epoch, unit, owner in won:
        assert epoch == round_no + 1, f"{unit} won at epoch {epoch} in round {round_no}"
        assert rows[unit].state == "claimed" and rows[unit].owner == owner and rows[unit].epoch == epoch
    return {unit: epoch for epoch, unit, _ in won}


def check_claim_events(store: Store, rounds: int) -> None:
    """One `claimed` event per win; per unit, in log order, the epochs run 1, 2, ... with no repeat."""
    claimed: dict[str, list[int]] = {}
    for event in store.events():
        if event.kind == "claimed":
            claimed.setdefault(event.unit, []).append(event.data["epoch"])
    assert claimed == {unit: list(range(1, rounds + 1)) for unit in UNITS}


def test_sixteen_threads_racing_win_each_unit_once_per_round_with_rising_epochs(tmp_path: Path) -> None:
    path, threads_n, rounds = tmp_path / "state.db", 16, 4
    store = ready_store(path)
    barrier = threading.Barrier(threads_n + 1)
    results: list[list[tuple[int, str, str]]] = [[] for _ in range(rounds)]
    errors: list[BaseException] = []
    threads = [
        threading.Thread(target=_thread_race, args=(path, f"t{i}", barrier, rounds, results, errors))
        for i in range(threads_n)
    ]
    for thread in threads:
        thread.start()
    try:
        for round_no in range(rounds):
            barrier.wait(timeout=60)  # go
            barrier.wait(timeout=60)  # every thread has finished its pass
            release_all(store, check_round(store, results[round_no], round_no))
            barrier.wait(timeout=60)  # next round
    except BaseException:
        barrier.abort()  # the threads stop at once instead of timing out
        raise
    finally:
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    check_claim_events(store, rounds)
    assert len({owner for won in results for _, _, owner in won}) > 1, "the race had a single participant"
    store.close()


def _process_race(path: str, owner: str, barrier, rounds: int, out) -> None:
    store = Store(Path(path))
    order = list(UNITS)
    random.Random(owner).shuffle(order)
    try:
        for _ in range(rounds):
            barrier.wait(timeout=120)
            won = []
            for unit in order:
                epoch = store.claim(unit, owner, 60)
                if epoch is not None:
                    won.append((epoch, unit, owner))
            out.put(won)
            barrier.wait(timeout=120)  # the parent has put every unit back
    except threading.BrokenBarrierError:
        raise SystemExit(3) from None  # the parent gave up on the race
    finally:
        store.close()


def test_eight_processes_with_their_own_store_win_each_unit_once_per_round(tmp_path: Path) -> None:
    path, procs_n, rounds = tmp_path / "state.db", 8, 3
    store = ready_store(path)
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(procs_n + 1), ctx.Queue()
    procs = [ctx.Process(target=_process_race, args=(str(path), f"p{i}", barrier, rounds, out)) for i in range(procs_n)]
    for proc in procs:
        proc.start()
    owners = set()
    try:
        for round_no in range(rounds):
            barrier.wait(timeout=120)  # go
            won = [win for _ in procs for win in out.get(timeout=120)]
            owners |= {owner for _, _, owner in won}
            release_all(store, check_round(store, won, round_no))
            barrier.wait(timeout=120)  # next round
    except BaseException:
        barrier.abort()  # the processes stop at once instead of timing out
        raise
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
                proc.join()
    assert [proc.exitcode for proc in procs] == [0] * procs_n
    check_claim_events(store, rounds)
    assert len(owners) > 1, "the race had a single participant"
    store.close()


def test_claim_takes_only_a_unit_in_an_expected_state(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a", "b"])
    store.add_units([("c", None)])  # still pending
    assert store.claim("c", "ada", 60) is None
    assert store.claim("nope", "ada", 60) is None
    first = store.claim("a", "ada", 60, now=1000.0)
    assert first == 1
    before = snapshot(store)
    assert store.claim("a", "bob", 60) is None  # held: the CAS fails and writes nothing
    assert snapshot(store) == before
    row = store.unit("a")
    assert (row.state, row.owner, row.agent, row.epoch, row.lease_mono) == ("claimed", "ada", "ada", 1, 1060.0)
    # Taking a unit over from another state is explicit, and still bumps the fencing token.
    assert store.claim("a", "bob", 60, expect=("claimed",)) == 2
    assert store.unit("a").owner == "bob"


# -- fencing: stale states and stale epochs write nothing ------------------------------------------


def test_transition_from_a_wrong_state_raises_and_writes_nothing(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a"])
    heard = []
    store.listeners.append(heard.append)
    before = snapshot(store)
    with pytest.raises(StaleState):
        store.transition("a", "running", ("claimed",), data={"why": "not claimed yet"})
    with pytest.raises(StaleState):
        store.transition("missing", "running", ("ready",))
    assert snapshot(store) == before and heard == []
    event = store.transition("a", "cancelled", ("ready",), data={"note": "n"})
    assert heard == [event] and event.data == {"from": "ready", "to": "cancelled", "note": "n"}
    assert store.unit("a").state == "cancelled" and store.events()[-1] == event


def test_transition_with_a_stale_epoch_raises_and_writes_nothing(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a"])
    old = store.claim("a", "ada", 60)
    store.transition("a", "ready", ("claimed",), epoch=old, owner=None)
    new = store.claim("a", "bob", 60)
    assert new == old + 1
    before = snapshot(store)
    with pytest.raises(StaleState):  # the old holder, in the right state, with a stale token
        store.transition("a", "running", ("claimed",), epoch=old, pid=4242)
    assert snapshot(store) == before
    store.transition("a", "running", ("claimed",), epoch=new, pid=4242)
    row = store.unit("a")
    assert (row.state, row.pid, row.epoch) == ("running", 4242, new)


def test_renew_lease_only_for_the_current_holder(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a"])
    old = store.claim("a", "ada", 10, now=1000.0)
    assert store.renew_lease("a", old, 10, now=1005.0) and store.unit("a").lease_mono == 1015.0
    assert [e.unit for e in store.expire_leases(now=1016.0)] == ["a"]
    assert store.unit("a").state == "ready"
    assert not store.renew_lease("a", old, 10, now=1017.0)  # expired, not held
    new = store.claim("a", "bob", 10, now=1018.0)
    assert new == old + 1
    assert not store.renew_lease("a", old, 100, now=1019.0)  # stale token
    assert store.unit("a").lease_mono == 1028.0
    assert store.renew_lease("a", new, 100, now=1019.0) and store.unit("a").lease_mono == 1119.0
    assert not store.renew_lease("a", new + 1, 100, now=1019.0)  # a token from the future is no better


def test_a_lease_from_an_earlier_boot_or_an_older_bosun_runs_out_and_none_without_a_lease(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a", "b", "c", "d"])
    for unit in ("a", "b", "c", "d"):
        assert store.claim(unit, "ada", 600, now=1000.0)
    # What a claim taken before a reboot and one taken by an older Bosun (wall time only) look like:
    store.db.execute("UPDATE units SET lease_boot = 'an-earlier-boot' WHERE id = 'b'")
    store.db.execute(
        "UPDATE units SET lease_mono = NULL, lease_boot = NULL, lease_until = ? WHERE id = 'c'", (time.time() - 1,)
    )
    store.update("d", lease_until=None)  # a human took it over: no lease at all, whatever lease_mono says
    assert sorted(e.unit for e in store.expire_leases(now=1001.0)) == ["b", "c"]
    assert [e.unit for e in store.expire_leases(now=1601.0)] == ["a"]
    assert store.unit("d").state == "claimed" and store.unit("a").lease_mono is None


# -- one transaction: the change and its event together or not at all ------------------------------


def test_a_transition_whose_event_cannot_be_written_changes_nothing(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a"])
    epoch = store.claim("a", "ada", 60)
    heard = []
    store.listeners.append(heard.append)
    before = snapshot(store)
    # The unit's row is updated first, then the event fails to encode: both must roll back.
    with pytest.raises(TypeError):
        store.transition("a", "running", ("claimed",), epoch=epoch, data={"unencodable": object()}, pid=99)
    with pytest.raises(KeyError):
        store.transition("a", "running", ("claimed",), epoch=epoch, no_such_column=1)
    assert snapshot(store) == before and heard == []
    # Another connection sees the same: nothing half-written.
    other = Store(tmp_path / "state.db")
    assert other.unit("a").state == "claimed" and other.unit("a").pid is None
    assert other.last_seq() == store.last_seq()
    other.close()
    # And the store is still usable afterwards (no transaction left open).
    event = store.transition("a", "running", ("claimed",), epoch=epoch, pid=99)
    assert store.unit("a").pid == 99 and store.events()[-1] == event and heard == [event]


def test_every_transition_logs_exactly_one_event_in_order(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a"])
    start = store.last_seq()
    epoch = store.claim("a", "ada", 60)
    store.transition("a", "running", ("claimed",), epoch=epoch)
    store.transition("a", "submitted", ("running",), epoch=epoch, head_commit="c0ffee", data={"commit": "c0ffee"})
    events = store.events(after=start)
    assert [(e.kind, e.data["from"], e.data["to"]) for e in events] == [
        ("claimed", "ready", "claimed"),
        ("running", "claimed", "running"),
        ("submitted", "running", "submitted"),
    ]
    assert [e.seq for e in events] == list(range(start + 1, start + 4))
    assert events[-1].data["commit"] == "c0ffee" and store.unit("a").head_commit == "c0ffee"


# -- human commands and merge intents ------------------------------------------------------------


def test_commands_queue_in_order_and_finish_once(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a", "b"])
    first = store.add_command("approve", "a")
    second = store.add_command("reassign", "b", to="bob", note="take it")
    assert second > first
    pending = store.pending_commands()
    assert [(c.id, c.kind, c.unit, c.args) for c in pending] == [
        (first, "approve", "a", {}),
        (second, "reassign", "b", {"to": "bob", "note": "take it"}),
    ]
    assert all(c.done_time is None and c.result is None for c in pending)
    queued = [e for e in store.events() if e.kind == "command_queued"]
    assert [(e.unit, e.data) for e in queued] == [
        ("a", {"command": "approve", "id": first}),
        ("b", {"command": "reassign", "id": second, "to": "bob", "note": "take it"}),
    ]
    # A second process (`bosun approve` in another terminal) sees the queue too.
    other = Store(tmp_path / "state.db")
    assert [c.id for c in other.pending_commands()] == [first, second]
    other.finish_command(first, "done")
    other.close()
    assert [c.id for c in store.pending_commands()] == [second]
    done = store.db.execute("SELECT done_time, result FROM commands WHERE id = ?", (first,)).fetchone()
    assert done[0] is not None and done[1] == "done"
    store.finish_command(second, "refused: unit is merged")
    assert store.pending_commands() == []


def test_intents_open_and_close(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a", "b"])
    ref = "refs/heads/bosun/integration"
    one = store.add_intent("a", ref, "old1", "new1")
    two = store.add_intent("b", ref, "new1", "new2")
    assert store.open_intents() == [(one, "a", ref, "old1", "new1"), (two, "b", ref, "new1", "new2")]
    assert [(e.kind, e.unit, e.data) for e in store.events() if e.kind == "merge_intent"] == [
        ("merge_intent", "a", {"old": "old1", "new": "new1"}),
        ("merge_intent", "b", {"old": "new1", "new": "new2"}),
    ]
    store.close_intent(one, "failed")
    assert store.open_intents() == [(two, "b", ref, "new1", "new2")]
    status = dict(store.db.execute("SELECT id, status FROM intents").fetchall())
    assert status == {one: "failed", two: "open"}


def test_finish_merge_closes_the_intent_marks_merged_and_moves_the_head_together(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a"])
    store.set_meta("integration_head", "base")
    epoch = store.claim("a", "ada", 60)
    store.transition("a", "gating", ("claimed",), epoch=epoch, candidate="cand", candidate_parent="base")
    intent = store.add_intent("a", "refs/heads/bosun/integration", "base", "cand")
    heard = []
    store.listeners.append(heard.append)
    event = store.finish_merge(intent, "a", "cand")
    assert store.open_intents() == []
    assert store.db.execute("SELECT status FROM intents WHERE id = ?", (intent,)).fetchone() == ("done",)
    assert store.get_meta("integration_head") == "cand"
    row = store.unit("a")
    assert (row.state, row.merged_commit, row.owner, row.lease_until) == ("merged", "cand", None, None)
    assert (event.kind, event.unit, event.data) == ("merged", "a", {"from": "gating", "to": "merged", "commit": "cand"})
    assert store.events()[-1] == event and heard == [event]


def test_finish_merge_that_fails_part_way_leaves_the_intent_open_and_the_head_unmoved(tmp_path: Path) -> None:
    store = ready_store(tmp_path / "state.db", ["a"])
    store.set_meta("integration_head", "base")
    intent = store.add_intent("ghost", "refs/heads/bosun/integration", "base", "cand")
    before = snapshot(store)
    # The intent's unit does not exist: finishing it must fail as a whole, after its first writes
    # (today the missing row surfaces as a TypeError; StaleState would be the better error).
    with pytest.raises((StaleState, TypeError, LookupError)):
        store.finish_merge(intent, "ghost", "cand")
    assert snapshot(store) == before
    assert store.open_intents() == [(intent, "ghost", "refs/heads/bosun/integration", "base", "cand")]
    assert store.get_meta("integration_head") == "base"


def test_a_version_1_store_is_upgraded_in_place(tmp_path: Path) -> None:
    from bosun.orchestration.store import SCHEMA, SCHEMA_VERSION

    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA.replace(", checks TEXT NOT NULL DEFAULT '[]'", ""))
    old.execute(
        "INSERT INTO gate_runs (unit, attempt, commit_id, parent, passed, exit_code, duration_s, cause, "
        "output_tail, time) VALUES ('a', 1, 'c', 'p', 1, 0, 0.5, 'tests passed', 'ok', 1.0)"
    )
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()
    store = Store(path)
    [run] = store.gate_runs()
    assert run.cause == "tests passed" and run.checks == []
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    store.close()


def test_a_store_call_from_another_thread_fails_loudly(tmp_path: Path) -> None:
    """Threads get plain data: a worker handed the store by mistake raises instead of racing the loop."""
    import sqlite3
    import threading

    store = Store(tmp_path / "state.db")
    store.add_units([("a", None)], {"integration_head": "0" * 40})
    errors: list[BaseException] = []

    def use_it() -> None:
        try:
            store.units()
        except BaseException as exc:  # noqa: BLE001 - the test wants whatever it raised
            errors.append(exc)

    worker = threading.Thread(target=use_it)
    worker.start()
    worker.join()
    assert len(errors) == 1 and isinstance(errors[0], sqlite3.ProgrammingError)
    assert [u.id for u in store.units()] == ["a"], "the owning thread still works"
    store.close()


def test_units_parses_again_only_the_rows_that_changed(tmp_path: Path) -> None:
    """`units()` reuses the parsed row of a unit whose stored values did not change, and shows every
    change at once: one made through this store and one made by another process's connection."""
    store = ready_store(tmp_path / "state.db", ["a", "b", "c"])
    before = {u.id: u for u in store.units()}
    store.transition("b", "claimed", ("ready",), agent="x", detail={"why": 1})
    after = {u.id: u for u in store.units()}
    assert after["a"] is before["a"] and after["c"] is before["c"], "untouched rows are not parsed again"
    assert after["b"] is not before["b"] and after["b"].state == "claimed" and after["b"].detail == {"why": 1}
    other = Store(tmp_path / "state.db")
    other.transition("c", "claimed", ("ready",), detail={"why": 2})
    other.close()
    seen = {u.id: u for u in store.units()}
    assert seen["c"].state == "claimed" and seen["c"].detail == {"why": 2}
    assert seen["a"] is before["a"] and [u.id for u in store.units()] == ["a", "b", "c"]
    store.close()
