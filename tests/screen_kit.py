"""The screen tests' shorthand: the driven app on a new session of a test repository."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from harness import DrivenApp
from scenes import build_scene, frozen, local_times_in_utc

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import create_session
from bosun.orchestration.supervisor.loop import Options

SIZE = (120, 40)


def open_app(repo: Path, **options) -> DrivenApp:
    session = create_session(GitRepo(repo), repo / "bosun.toml")
    return DrivenApp(session, Options(**{"wait": True, "speed": 20, **options}))


@contextlib.contextmanager
def scene_app(folder: Path, monkeypatch, **options) -> Iterator[DrivenApp]:
    """The frozen scene (tests/scenes.py) on screen, no supervisor: the store moves only as a test moves it."""
    local_times_in_utc(monkeypatch)
    session = build_scene(folder, monkeypatch)
    frozen(session)
    try:
        yield DrivenApp(session, supervise=False, **options)
    finally:
        session.close()
        monkeypatch.undo()
        time.tzset()  # the process's local time as it was
