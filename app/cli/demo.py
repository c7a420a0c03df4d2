"""`bosun demo`: a throwaway repository with a small real project, a plan and a scripted team,
supervised end to end, with a stand-in human who approves merges and reassigns a stuck unit.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bosun.app.cli.headless import run_headless
from bosun.app.cli.repo_session import need_terminal, run_screen
from bosun.orchestration.errors import BosunError
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import create_session
from bosun.orchestration.states import AWAITING_APPROVAL, CONFLICTED, FAILED, GATE_FAILED
from bosun.orchestration.store import Store
from bosun.orchestration.supervisor.loop import Options

DEMO_PROJECT = Path(__file__).parent.parent / "demo_project"
DEMO_IDENTITY = ("-c", "user.name=Bosun demo", "-c", "user.email=demo@bosun.localhost")


def build_demo_repo(target: Path) -> GitRepo:
    """Copy the demo project into `target` and commit it on `main`."""
    shutil.copytree(DEMO_PROJECT, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    for args in (
        ["init", "-q", "-b", "main"],
        [*DEMO_IDENTITY, "add", "-A"],
        [*DEMO_IDENTITY, "commit", "-q", "-m", "calc: an empty package with a smoke test"],
    ):
        subprocess.run(["git", *args], cwd=target, check=True, capture_output=True)
    return GitRepo(target)


class DemoHuman(threading.Thread):
    """Plays the person at the terminal (headless only): approves each gated merge after a pause,
    hands a conflict or a gate failure back to its agent and a failed unit to another agent,
    through the store's command table like `bosun approve` does."""

    def __init__(self, db_path: Path, agents: list[str], pause_s: float) -> None:
        super().__init__(daemon=True, name="demo human")
        self.db_path, self.agents, self.pause_s = db_path, agents, pause_s
        self.stop = threading.Event()
        self.decided: set[tuple[str, int, str]] = set()
        """(unit, attempt, state) decided once: one attempt can need two decisions (approved, then
        conflicted because another unit merged first)."""

    def run(self) -> None:
        store = Store(self.db_path)
        try:
            while not self.stop.wait(self.pause_s):
                for unit in store.units():
                    key = (unit.id, unit.attempts, unit.state)
                    if key in self.decided:
                        continue
                    if unit.state == AWAITING_APPROVAL and not unit.approved:
                        store.add_command("approve", unit.id)
                    elif unit.state == FAILED:
                        other = next(a for a in self.agents if a != unit.agent)
                        store.add_command("reassign", unit.id, to=other)
                    elif unit.state in (CONFLICTED, GATE_FAILED):
                        store.add_command("handback", unit.id, note="fix it on top of the integration branch")
                    else:
                        continue
                    self.decided.add(key)
        finally:
            store.close()


def run_demo(args: argparse.Namespace) -> int:
    """Headless, a stand-in human decides; on screen, the person at the terminal does."""
    need_terminal(args)
    keep = args.keep.resolve() if args.keep else None
    if keep is not None and keep.exists() and any(keep.iterdir()):
        raise BosunError(f"{keep}: --keep needs an empty or new directory")
    target = keep or Path(tempfile.mkdtemp(prefix="bosun-demo-"))
    target.mkdir(parents=True, exist_ok=True)
    try:
        repo = build_demo_repo(target)
        session = create_session(repo, target / "bosun.toml")
        started = time.monotonic()
        options = Options(speed=args.speed, wait=True)
        if not args.headless:
            try:
                code = run_screen(session, options)
            finally:
                session.close()
        else:
            human = DemoHuman(session.store.path, list(session.plan.agents), pause_s=1.0 / args.speed)
            human.start()
            try:
                code = run_headless(session, options, as_json=args.json)
            finally:
                human.stop.set()
                human.join()
                session.close()
        if not args.json:
            log = subprocess.run(
                ["git", "log", "--first-parent", "--oneline", "bosun/integration"],
                cwd=target,
                capture_output=True,
                text=True,
            ).stdout
            print(f"\ndemo finished in {time.monotonic() - started:.1f}s, exit {code}; the integration branch:\n{log}")
            print(f"repository kept in {target}" if keep else "(run with --keep DIR to keep the repository)")
        return code
    finally:
        if keep is None:
            shutil.rmtree(target, ignore_errors=True)


cmd_demo = run_demo
