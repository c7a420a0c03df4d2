"""The screen tests' shorthand: the driven app on a new session of a test repository."""

from __future__ import annotations

from pathlib import Path

from harness import DrivenApp

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.orchestrator import Options
from bosun.orchestration.session import create_session

SIZE = (120, 40)


def open_app(repo: Path, **options) -> DrivenApp:
    session = create_session(GitRepo(repo), repo / "bosun.toml")
    return DrivenApp(session, Options(**{"wait": True, "speed": 20, **options}))
