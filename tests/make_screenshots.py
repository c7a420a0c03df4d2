"""`python tests/make_screenshots.py [DIR]`: run the real demo on screen, play the human at the keyboard
(approve, resolve the conflict, hand back the gate failure, reassign the stuck unit), and save
what the screen shows at each step (and the whole session on the Timeline at the end) as SVG in DIR
(default `screenshots/`)."""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from harness import DrivenApp

from bosun.app.cli.demo import build_demo_repo
from bosun.app.tui.dialogs import ApproveDialog, ConflictDialog, NoteDialog, ReassignDialog
from bosun.orchestration.session import create_session
from bosun.orchestration.states import DONE_STATES, waits_for_human
from bosun.orchestration.supervisor.loop import Options
from bosun.widgets.graph_view import GraphView

SIZE = (120, 40)
DECIDED = ("approved", "handed_back", "reassigned")


async def play_demo(out: Path, speed: float = 4.0) -> list[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bosun-shots-"))
    saved: list[Path] = []
    try:
        session = create_session(build_demo_repo(folder), folder / "bosun.toml")
        app = DrivenApp(session, Options(speed=speed, wait=True))
        async with app.run_test(size=SIZE) as pilot:

            async def save(name: str) -> None:
                """Each picture once: the first time its moment comes, once the screen is idle (the
                footer recomposes after the selection moved; a picture taken before shows no keys)."""
                if name not in {path.name for path in saved}:
                    await pilot.pause()
                    await pilot.pause()
                    saved.append(Path(app.save_screenshot(name, str(out))))
                    print(f"saved {out / name}", flush=True)

            def waiting() -> list:
                return [u for u in session.store.units() if waits_for_human(u.state, u.approved)]

            while not all(u.state in DONE_STATES for u in session.store.units()):
                await app.until(
                    lambda: bool(waiting()) or all(u.state in DONE_STATES for u in session.store.units()),
                    "a decision to make",
                    timeout=120,
                )
                for unit in waiting():
                    mark = session.store.last_seq()
                    app.query_one(GraphView).selected = unit.id
                    await app.caught_up()
                    merged = sum(u.state == "merged" for u in session.store.units())
                    if unit.state == "awaiting_approval":
                        if merged >= 3:
                            await save("main.svg")
                        await pilot.press("a")
                        await app.dialog(ApproveDialog)
                        if merged >= 1:
                            await save("approve.svg")
                        await pilot.press("a")
                    elif unit.state == "conflicted":
                        await pilot.press("enter")
                        await app.dialog(ConflictDialog)
                        await save("conflict.svg")
                        await pilot.press("b")
                        await app.dialog(NoteDialog)
                        await pilot.press(*"keep both names", "enter")
                    elif unit.state == "gate_failed":
                        await pilot.press("g")
                        await app.caught_up()
                        await save("gate.svg")
                        await pilot.press("b")
                        await app.dialog(NoteDialog)
                        await pilot.press("enter")
                        await pilot.press("d")
                    elif unit.state == "failed":
                        await pilot.press("r")
                        await app.dialog(ReassignDialog)
                        await save("reassign.svg")
                        await pilot.press("enter")
                    await app.back_on_main()
                    await app.until(
                        lambda u=unit, m=mark: any(
                            e.unit == u.id and e.kind in DECIDED for e in session.store.events(after=m)
                        ),
                        f"the decision on {unit.id} to be applied",
                    )
            await app.caught_up()
            await save("finished.svg")
            # the whole session on the Timeline, the unit the gate failed picked out (its two attempts)
            retried = next((u.id for u in session.store.units() if u.attempts > 1), None)
            if retried is not None:
                app.query_one(GraphView).selected = retried
            feed = app.screen_of_session.timeline_feed
            await pilot.press("T")
            await asyncio.wait_for(feed.shown_after(0), 30)
            await pilot.pause()
            await save("timeline.svg")
        session.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return saved


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    saved = asyncio.run(play_demo(out))
    print(f"{len(saved)} screenshots in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
