"""Shared helpers: real git repositories in temporary folders, real subprocess agents.

`project(tmp_path, ...)` builds a repository holding a tiny project whose gate is `check.py`
(fails when any tracked file under src/ contains the word BROKEN), a plan and a script for
the scripted team. `bosun(...)` runs the real CLI in a subprocess.
"""

from __future__ import annotations

import importlib
import json
import os
import queue
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent


# -- tests whose tool is missing: skipped on a workstation, failed under CI -------------------
# A green CI must mean every promise was checked: a skip there would hide a test that never ran
# (no bubblewrap, no Chromium, no faketime, no tsc or Go, no Ray, a coding-agent CLI missing).
# Every tool-missing skip goes through `tool_missing`, as a call, a `needs_tool` mark or `import_tool`.


def in_ci() -> bool:
    """CI=true (or any value but "", 0, false, no): the run must prove everything."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def tool_missing(reason: str) -> NoReturn:
    """Skip this test because `reason` (a tool is not installed or cannot run here) — or, under
    CI, fail it with that reason, since CI installs every tool (.ci/run)."""
    if in_ci():  # at a module's top (import_tool): a collection error, which stops the run
        pytest.fail(f"CI must run this test, but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def needs_tool(missing: str | None) -> pytest.MarkDecorator:
    """A mark for a test or module: `missing` says why its tool cannot be used (None: it can)."""
    return pytest.mark.needs_tool(missing)


def import_tool(module: str, reason: str):
    """`pytest.importorskip` through `tool_missing`: the module, or a skip (a failure under CI)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pass
    tool_missing(reason)


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "needs_tool(missing): skip (fail under CI) when `missing` is a reason")


def pytest_runtest_setup(item) -> None:
    for mark in item.iter_markers("needs_tool"):
        if mark.args and mark.args[0]:
            tool_missing(mark.args[0])


CHECK_PY = textwrap.dedent("""\
    import pathlib, sys
    bad = [str(p) for p in pathlib.Path("src").rglob("*.py") if "BROKEN" in p.read_text()]
    print("checked", len(list(pathlib.Path("src").rglob("*.py"))), "files")
    if bad:
        print("FAILED: broken files:", ", ".join(bad))
        sys.exit(1)
    print("1 passed in 0.01s")
""")

GIT_ID = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ID})
    if result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)}: {result.stderr}")
    return result.stdout.strip()


def toml_plan(units: list[dict], agents: dict[str, dict] | None = None, **project) -> str:
    """A plan as TOML text; agents default to two scripted ones sharing team.toml."""
    project = {"gate": "python check.py", "merge": "auto", "max_agents": 2, "gate_timeout": "60s", **project}
    agents = agents or {
        "ada": {"kind": "scripted", "script": "team.toml"},
        "bob": {"kind": "scripted", "script": "team.toml"},
    }
    lines = ["[project]"] + [f"{k} = {_toml(v)}" for k, v in project.items()]
    for name, table in agents.items():
        lines.append(f"[agents.{name}]")
        lines += [f"{k} = {_toml(v)}" for k, v in table.items()]
    for unit in units:
        lines.append("[[units]]")
        unit = {"prompt": f"do {unit['id']}", **unit}
        lines += [f"{k} = {_toml(v)}" for k, v in unit.items()]
    return "\n".join(lines) + "\n"


def _toml(value) -> str:
    """A TOML value: JSON's form for strings, numbers and lists; an inline table for a dict."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def toml_script(attempts: dict[str, list[list[dict]]]) -> str:
    """The scripted team's script: for each unit, a list of attempts, each a list of steps."""
    lines = []
    for unit, tries in attempts.items():
        for steps in tries:
            lines.append(f'[[unit."{unit}"]]')
            lines.append("steps = [" + ", ".join(_inline(s) for s in steps) + "]")
    return "\n".join(lines) + "\n"


def _inline(step: dict) -> str:
    return "{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in step.items()) + "}"


def write_unit(path: str, content: str, message: str | None = None) -> list[dict]:
    """The steps of the simplest attempt: write one file and commit it."""
    return [{"write": path, "content": content}, {"commit": message or f"write {path}"}]


@pytest.fixture
def project(tmp_path: Path):
    """Factory: project(units, script, **project_keys) -> repository path, committed on main."""

    def make(
        units: list[dict], script: dict, agents: dict | None = None, extra_files: dict | None = None, **project_keys
    ) -> Path:
        repo = tmp_path / "repo"
        (repo / "src").mkdir(parents=True)
        git(repo, "init", "-q", "-b", "main")
        (repo / "check.py").write_text(CHECK_PY)
        (repo / "src" / "__init__.py").write_text("")
        (repo / "bosun.toml").write_text(toml_plan(units, agents, **project_keys))
        (repo / "team.toml").write_text(toml_script(script))
        for name, content in (extra_files or {}).items():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            (repo / name).write_text(content)
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "initial project")
        return repo

    return make


def bosun(*args: str, cwd: Path, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real `bosun` CLI in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "bosun.app.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def first_parent_merges(repo: Path, branch: str = "bosun/integration") -> list[str]:
    """The units merged on the integration branch, oldest first, from the commit trailers."""
    out = git(repo, "log", "--first-parent", "--reverse", "--format=%(trailers:key=Bosun-Unit,valueonly)%x00", branch)
    return [u.strip() for u in out.split("\0") if u.strip()]


class BackgroundRun:
    """`bosun run --headless --json ...` in the background, read event by event."""

    def __init__(self, repo: Path, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bosun.app.cli.main", *args],
            cwd=repo,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.seen: list[dict] = []
        self.returned: set[int] = set()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, kind: str, unit: str | None = None, after: int = 0, timeout: float = 60) -> dict:
        """The first matching event past `after` not returned before, whether it came already or comes later."""
        for event in self.seen:
            if (
                event["seq"] not in self.returned
                and event["seq"] > after
                and event["kind"] == kind
                and unit in (None, event["unit"])
            ):
                self.returned.add(event["seq"])
                return event
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            event = json.loads(line)
            self.seen.append(event)
            if event["kind"] == kind and unit in (None, event["unit"]) and event["seq"] > after:
                self.returned.add(event["seq"])
                return event
        self.proc.kill()
        raise AssertionError(
            f"no {kind} event for {unit}; saw {[(e['kind'], e['unit']) for e in self.seen]}; "
            f"stderr: {self.proc.stderr.read()}"
        )

    def finish(self, timeout: float = 60) -> int:
        """The run's exit code; a run still going after `timeout` is killed, and the failure shows
        every event it printed (what it was waiting on)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            while (line := self.lines.get(timeout=10)) is not None:
                self.seen.append(json.loads(line))
            events = [
                (e["kind"], e["unit"], {k: v for k, v in e.items() if k in ("reason", "error", "why")})
                for e in self.seen
            ]
            raise AssertionError(f"still running after {timeout}s; its events: {events}") from None

    def all_events(self) -> list[dict]:
        """Every event the run printed (call after `finish`)."""
        while (line := self.lines.get(timeout=10)) is not None:
            self.seen.append(json.loads(line))
        self.lines.put(None)
        return self.seen


AWAIT_GO = {"await": ".go"}
"""A scripted step that holds the agent until the test calls `release` (order without sleeps)."""


def release(repo: Path, unit: str) -> None:
    """Let the unit's scripted agent past its AWAIT_GO step."""
    (repo / ".bosun" / "worktrees" / unit / ".go").write_text("")


def run_after(repo: Path, event: tuple[str, str], unit: str, *args: str) -> tuple[int, list[dict]]:
    """`bosun run --headless --json ARGS` that releases `unit` once `event` (kind, unit) happened;
    returns the exit code and every event."""
    run = BackgroundRun(repo, "run", "--headless", "--json", *args)
    run.wait_for(*event)
    release(repo, unit)
    code = run.finish()
    return code, run.all_events()


@pytest.fixture(scope="session")
def demo_from_wheel(tmp_path_factory):
    """The README's first command as a user meets it, run once for every test that needs it: the
    wheel is built, unpacked on its own, and `bosun demo --headless --json --keep DIR` runs from it.
    Returns (the wheel's file names, the finished process, the kept repository). Under pytest-xdist
    the workers share one run: the first to get the lock plays it, the others read what it kept."""
    import fcntl

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # each worker's folder sits in the run's one folder
    tmp = shared / "demo-from-wheel"
    with open(shared / "demo-from-wheel.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (tmp / "result.json").exists():
            _play_demo_from_wheel(tmp)
        kept = json.loads((tmp / "result.json").read_text())
    assert "build_error" not in kept, kept.get("build_error")  # the wheel would not build (once, for every worker)
    demo = subprocess.CompletedProcess(kept["args"], kept["returncode"], kept["stdout"], kept["stderr"])
    return set(kept["names"]), demo, tmp / "demo"


def _play_demo_from_wheel(tmp: Path) -> None:
    import shutil
    import zipfile

    shutil.rmtree(tmp, ignore_errors=True)  # a worker that failed half-way left it
    tmp.mkdir(parents=True)
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"), str(ROOT)],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        (tmp / "result.json").write_text(json.dumps({"build_error": build.stderr}))
        return
    wheel = next((tmp / "dist").glob("bosun-*.whl"))
    names = sorted(zipfile.ZipFile(wheel).namelist())
    site = tmp / "site"
    zipfile.ZipFile(wheel).extractall(site)
    args = [sys.executable, "-m", "bosun.app.cli.main", "demo", "--headless", "--json", "--speed", "20"]
    args += ["--keep", str(tmp / "demo")]
    demo = subprocess.run(
        args, cwd=tmp, capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONPATH": str(site)}
    )
    kept = {"names": names, "args": args, "returncode": demo.returncode, "stdout": demo.stdout, "stderr": demo.stderr}
    (tmp / "result.json").write_text(json.dumps(kept))
