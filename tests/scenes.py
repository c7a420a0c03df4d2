"""A session frozen mid-flight for snapshot tests: the demo's plan in a real repository with real
commits (fixed dates, so fixed ids), units moved through the real store to a chosen picture,
and the store's clock pinned, so every run paints the same screen.

The picture: `tokens` and `nodes` merged, `format` gated and waiting for approval, `exports` in
conflict with the integration branch, `version` failed (its agent gave up), `parser` running
under a live claim, the rest pending.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from bosun.app.cli.demo import build_demo_repo
from bosun.orchestration.integration.tallies import tally
from bosun.orchestration.session import Session, create_session

T0 = 1_790_000_000.0  # a fixed moment; the screen shows times relative to it
DATES = {"GIT_AUTHOR_DATE": "2026-09-21T12:00:00+0000", "GIT_COMMITTER_DATE": "2026-09-21T12:00:00+0000"}
IDENTITY = {
    "GIT_AUTHOR_NAME": "Scene",
    "GIT_AUTHOR_EMAIL": "scene@example.com",
    "GIT_COMMITTER_NAME": "Scene",
    "GIT_COMMITTER_EMAIL": "scene@example.com",
}


class Clock:
    """Advances one second per reading, from T0: events get distinct, repeatable times."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _git(repo: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
    env = {**os.environ, **DATES, **IDENTITY, **(env or {})}
    result = subprocess.run(["git", *args], cwd=repo, env=env, input=stdin, capture_output=True, text=True)
    if result.returncode not in (0, 1) or (result.returncode == 1 and args[0] != "merge-tree"):
        raise AssertionError(f"git {' '.join(args)}: {result.stderr}")
    return result.stdout.strip()


def _commit(repo: Path, parent: str, files: dict[str, str], message: str) -> str:
    """A commit on top of `parent` with `files` changed, made without touching the working tree."""
    index = repo / ".git" / "scene-index"
    private = {"GIT_INDEX_FILE": str(index)}
    try:
        _git(repo, "read-tree", parent, env=private)
        for path, content in files.items():
            blob = _git(repo, "hash-object", "-w", "--stdin", stdin=content)
            _git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=private)
        tree = _git(repo, "write-tree", env=private)
    finally:
        index.unlink(missing_ok=True)
    return _git(repo, "commit-tree", tree, "-p", parent, "-m", message)


def _merge(repo: Path, ours: str, theirs: str, message: str) -> str:
    tree = _git(repo, "merge-tree", "--write-tree", ours, theirs).split("\n")[0]
    return _git(repo, "commit-tree", tree, "-p", ours, "-p", theirs, "-m", message)


def build_scene(folder: Path, monkeypatch) -> Session:
    """The scene; the fixed commit dates are set through `monkeypatch`, so they end with the test."""
    for key, value in DATES.items():
        monkeypatch.setenv(key, value)
    repo = build_demo_repo(folder)
    session = create_session(repo, folder / "bosun.toml")
    store = session.store
    clock = Clock()
    store.clock = clock
    with store.tx() as db:  # the session's first event was written before the clock was pinned
        db.execute("UPDATE events SET time = ? WHERE seq = 1", (T0,))
    path = folder
    base = session.integration_head()

    tokens = _commit(
        path,
        base,
        {
            "src/calc/tokens.py": "def tokenize(text):\n    return text.split()\n",
            "src/calc/__init__.py": '"""calc."""\n\n__all__ = ["tokens"]\n',
        },
        "tokens",
    )
    merge_tokens = _merge(path, base, tokens, "bosun: merge unit tokens")
    nodes = _commit(path, base, {"src/calc/nodes.py": "class Num:\n    pass\n"}, "nodes")
    merge_nodes = _merge(path, merge_tokens, nodes, "bosun: merge unit nodes")
    fmt = _commit(
        path,
        merge_nodes,
        {
            "src/calc/format.py": "def show(node):\n    return str(node)\n",
            "tests/test_format.py": "def test_show():\n    assert True\n",
        },
        "format",
    )
    candidate = _merge(path, merge_nodes, fmt, "bosun: merge unit format")
    exports = _commit(path, base, {"src/calc/__init__.py": '"""calc."""\n\n__all__ = ["parser", "nodes"]\n'}, "exports")
    _git(path, "update-ref", session.integration_ref, merge_nodes)
    store.set_meta("integration_head", merge_nodes)

    def move(unit: str, *states: str, **fields) -> None:
        row = store.unit(unit)
        for state in states:
            store.transition(unit, state, (row.state,), **(fields if state == states[-1] else {}))
            row = store.unit(unit)

    def gate(unit: str, commit: str, parent: str, passed: bool, tail: str, attempt: int = 1) -> dict:
        return {
            "unit": unit,
            "attempt": attempt,
            "commit_id": commit,
            "parent": parent,
            "passed": passed,
            "exit_code": 0 if passed else 1,
            "duration_s": 0.84 if passed else 1.37,
            "cause": "tests passed" if passed else "tests failed (exit 1)",
            "output_tail": tail,
            "checks": [  # as a real run records its tests' verdict: with the counts read from the output
                {"check": "tests", "passed": passed, **{f"tests_{k}": v for k, v in tally(tail).items()}}
            ],
        }

    ok = "....\n----------------------------------------------------------------------\nRan 4 tests in 0.012s\n\nOK\n"
    bad = (
        "F..\n======================================================================\nFAIL: test_show "
        "(tests.test_format.FormatTest)\nAssertionError: <calc.nodes.Num> != '1'\n"
        "----------------------------------------------------------------------\nRan 3 tests in 0.009s\n\n"
        "FAILED (failures=1)\n"
    )
    for unit, agent, commit, merged, parent in (
        ("tokens", "ada", tokens, merge_tokens, base),
        ("nodes", "bob", nodes, merge_nodes, merge_tokens),
    ):
        move(unit, "ready", "claimed", "running", owner=agent, attempts=1, base_commit=parent, started_at=clock.now)
        move(unit, "submitted", "checking", "gating", head_commit=commit, owner=None)
        store.transition(
            unit,
            "gating",
            ("gating",),
            kind="gate_passed",
            gate_run=gate(unit, merged, parent, True, ok),
            data={"gate": {"passed": True, "duration_s": 0.84, "commit": merged}},
        )
        store.finish_merge(store.add_intent(unit, session.integration_ref, parent, merged), unit, merged)

    move("version", "ready", "claimed", "running", owner="cy", attempts=1, base_commit=base)
    store.transition(
        "version",
        "failed",
        ("running",),
        data={"reason": "blocked"},
        owner=None,
        detail={"reason": "blocked", "summary": "the version scheme is not in the prompt"},
    )
    move("exports", "ready", "claimed", "running", owner="dan", attempts=1, base_commit=base)
    move("exports", "submitted", "checking", head_commit=exports, owner=None)
    detail = {"reason": "conflict", "files": ["src/calc/__init__.py"]}
    store.transition("exports", "conflicted", ("checking",), data=detail, detail=detail)

    bad_format = _commit(path, merge_nodes, {"src/calc/format.py": "def show(node):\n    return node\n"}, "format")
    bad_candidate = _merge(path, merge_nodes, bad_format, "bosun: merge unit format")
    move("format", "ready", "claimed", "running", owner="bob", attempts=1, base_commit=merge_nodes)
    move(
        "format",
        "submitted",
        "checking",
        "gating",
        head_commit=bad_format,
        owner=None,
        candidate=bad_candidate,
        candidate_parent=merge_nodes,
    )
    failed = {"passed": False, "cause": "tests failed (exit 1)", "duration_s": 1.37, "commit": bad_candidate}
    store.transition(
        "format",
        "gate_failed",
        ("gating",),
        data={"gate": failed},
        gate_run=gate("format", bad_candidate, merge_nodes, False, bad),
        detail={"gate": failed},
    )
    store.transition("format", "ready", ("gate_failed",), kind="handed_back", data={"reason": "gate_failed"})
    move("format", "claimed", "running", owner="bob", attempts=2)
    move(
        "format",
        "submitted",
        "checking",
        "gating",
        head_commit=fmt,
        owner=None,
        candidate=candidate,
        candidate_parent=merge_nodes,
    )
    passed = {
        "passed": True,
        "cause": "tests passed",
        "duration_s": 0.84,
        "commit": candidate,
        "tests_passed": 4,
        "tests_failed": 0,
    }
    store.transition(
        "format",
        "awaiting_approval",
        ("gating",),
        data={"gate": passed},
        gate_run=gate("format", candidate, merge_nodes, True, ok, attempt=2),
        detail={"gate": passed, "files": ["src/calc/format.py", "tests/test_format.py"]},
    )

    move(
        "parser",
        "ready",
        "claimed",
        "running",
        owner="ada",
        attempts=1,
        base_commit=merge_nodes,
        branch="bosun/unit/parser",
        lease_until=clock.now + 40,
        started_at=clock.now - 75,
    )
    store.update("parser", epoch=3)
    return session


def frozen(session: Session) -> None:
    """Stop the clock where it is: the screen's lease ages and elapsed times stay put."""
    now = session.store.clock()
    session.store.clock = lambda: now


def local_times_in_utc(monkeypatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
