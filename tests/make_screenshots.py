"""`python tests/make_screenshots.py [DIR]`: run the real demo on screen, play the human at the keyboard
(approve, resolve the conflict, hand back the gate failure, reassign the stuck unit), and save
what the screen shows at each step as SVG in DIR (default `screenshots/`)."""

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

            def save(name: str) -> None:
                """Each picture once: the first time its moment comes."""
                if name not in {path.name for path in saved}:
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
                            save("main.svg")
                        await pilot.press("a")
                        await app.dialog(ApproveDialog)
                        if merged >= 1:
                            save("approve.svg")
                        await pilot.press("a")
                    elif unit.state == "conflicted":
                        await pilot.press("enter")
                        await app.dialog(ConflictDialog)
                        save("conflict.svg")
                        await pilot.press("b")
                        await app.dialog(NoteDialog)
                        await pilot.press(*"keep both names", "enter")
                    elif unit.state == "gate_failed":
                        await pilot.press("g")
                        await app.caught_up()
                        save("gate.svg")
                        await pilot.press("b")
                        await app.dialog(NoteDialog)
                        await pilot.press("enter")
                        await pilot.press("d")
                    elif unit.state == "failed":
                        await pilot.press("r")
                        await app.dialog(ReassignDialog)
                        save("reassign.svg")
                        await pilot.press("enter")
                    await app.back_on_main()
                    await app.until(
                        lambda u=unit, m=mark: any(
                            e.unit == u.id and e.kind in DECIDED for e in session.store.events(after=m)
                        ),
                        f"the decision on {unit.id} to be applied",
                    )
            await app.caught_up()
            save("finished.svg")
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
