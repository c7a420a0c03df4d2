"""A handed-back unit whose agent is busy with another unit goes to a free agent configured just
like it, with its worktree and hand-back; an agent configured otherwise does not take it.

Real runs of `bosun run --headless`: `fix` fails its gate once; meanwhile its agent `ada` took
`long`, which is pinned to her and waits until `fix` is merged. Handed on, `fix` is fixed by `bob`
at once; kept for `ada`, it would wait for `long`, which waits for it (until `long` gives up)."""

from __future__ import annotations

from conftest import bosun, first_parent_merges, write_unit

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.session import open_session

UNITS = [
    {"id": "fix", "scope": ["src/fix.py"]},
    {"id": "after", "depends_on": ["fix"], "scope": ["src/after.py"]},  # fix heads the longest chain: first out
    {"id": "long", "agent": "ada", "scope": ["src/long.py"]},
]


def _script(repo_marker: str, patience_s: int) -> dict:
    wait = (  # `long` ends once fix is merged, or gives up (and fails) after `patience_s`
        f"for i in $(seq {patience_s * 10}); do "
        f"git -C {repo_marker} cat-file -e bosun/integration:src/fix.py 2>/dev/null && exit 0; sleep 0.1; done; exit 1"
    )
    fixed = [
        {"run": ["sh", "-c", 'grep -q "broken files" "$BOSUN_TASK_FILE"'], "check": True},  # the hand-back came along
        {"run": ["sh", "-c", "test -f src/fix.py"], "check": True},  # in the unit's own worktree
        *write_unit("src/fix.py", "FIXED = 1\n", "fix"),
    ]
    return {
        "fix": [write_unit("src/fix.py", "BROKEN = 1\n"), fixed],
        "after": [write_unit("src/after.py", "AFTER = 1\n")],
        "long": [[{"run": ["sh", "-c", wait], "check": True}, *write_unit("src/long.py", "LONG = 1\n")]],
    }


def _run(project, tmp_path, agents: dict, patience_s: int) -> tuple[list, dict, str]:
    repo_path = tmp_path / "repo"
    repo = project(UNITS, _script(str(repo_path), patience_s), agents=agents, sandbox="off", max_agents=2, batch=1)
    result = bosun("run", "--headless", cwd=repo, timeout=120)
    session = open_session(GitRepo(repo))
    try:
        events = [(e.kind, e.unit, e.data) for e in session.store.events()]
        rows = {u.id: u for u in session.store.units()}
    finally:
        session.close()
    return events, rows, result.stdout + result.stderr


def test_a_handed_back_unit_goes_to_a_free_twin_of_its_busy_agent(project, tmp_path) -> None:
    twins = {"ada": {"kind": "scripted", "script": "team.toml"}, "bob": {"kind": "scripted", "script": "team.toml"}}
    events, rows, out = _run(project, tmp_path, twins, patience_s=60)
    assert all(row.state == "merged" for row in rows.values()), (out, {u: r.state for u, r in rows.items()})
    [(_, _, on)] = [e for e in events if e[0] == "handed_on"]
    assert (on["from_agent"], on["to_agent"]) == ("ada", "bob"), on
    attempts = [(u, d["agent"]) for kind, u, d in events if kind == "running" and u == "fix"]
    assert attempts == [("fix", "ada"), ("fix", "bob")], attempts
    assert rows["fix"].attempts == 2 and rows["long"].attempts == 1  # long waited for fix, not the other way
    assert first_parent_merges(tmp_path / "repo")[:1] == ["fix"]


def test_an_agent_configured_otherwise_never_takes_it(project, tmp_path) -> None:
    # bob differs from ada (he autocommits): fix waits for ada, so long gives up first.
    others = {
        "ada": {"kind": "scripted", "script": "team.toml"},
        "bob": {"kind": "scripted", "script": "team.toml", "autocommit": True},
    }
    events, rows, out = _run(project, tmp_path, others, patience_s=3)
    assert not [e for e in events if e[0] == "handed_on"], out
    attempts = [(u, d["agent"]) for kind, u, d in events if kind == "running" and u == "fix"]
    assert attempts == [("fix", "ada"), ("fix", "ada")], attempts
    assert rows["fix"].state == "merged" and rows["long"].attempts >= 1
