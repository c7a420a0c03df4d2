"""Bad invocations of the real `bosun` CLI: exit 2, one line on stderr saying what is
wrong and where, and nothing written: no ref moved, no file changed, no `.bosun/` created,
`.git/info/exclude` untouched, and the session store (when there is one) unchanged.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from conftest import bosun, git, write_unit

from bosun.app.cli.example_plan import EXAMPLE_PLAN, RepoFacts, example_plan, installed_presets
from bosun.orchestration.errors import PlanError
from bosun.orchestration.plan import load_plan

UNITS = [{"id": "a", "scope": ["src/a.py"]}, {"id": "b", "depends_on": ["a"], "scope": ["src/b.py"]}]
SCRIPT = {"a": [write_unit("src/a.py", "A = 1\n")], "b": [write_unit("src/b.py", "B = 1\n")]}


def init_plan_here() -> str:
    """What `bosun init` writes in a repository on main with no test suite, with this machine's agent CLIs."""
    return example_plan(RepoFacts(base="main", presets=installed_presets()))


def store_rows(repo: Path) -> dict | None:
    """Every row of the session store, or None when there is no store."""
    db_path = repo / ".bosun" / "state.db"
    if not db_path.exists():
        return None
    db = sqlite3.connect(db_path)
    try:
        return {
            table: db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("meta", "units", "events", "commands", "gate_runs", "intents")
        }
    finally:
        db.close()


def snapshot(repo: Path) -> dict:
    """What a failed command must leave exactly as it was."""
    exclude = repo / ".git" / "info" / "exclude"
    return {
        "status": git(repo, "status", "--porcelain", "--ignored", "--untracked-files=all"),
        "refs": git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
        "exclude": exclude.read_text() if exclude.exists() else None,
        # SQLite's -wal/-shm files come and go with connections (ours included), so they are left out.
        "bosun_dir": sorted(
            str(p.relative_to(repo)) for p in (repo / ".bosun").glob("*") if not p.name.endswith(("-wal", "-shm"))
        ),
        "has_bosun_dir": (repo / ".bosun").exists(),
        "plan": (repo / "bosun.toml").read_bytes() if (repo / "bosun.toml").exists() else None,
        "store": store_rows(repo),
    }


def tree(folder: Path) -> dict:
    """Every file and folder below `folder`, with file contents (for a folder that is no repository)."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None for p in sorted(folder.rglob("*"))}


def assert_one_line_exit_2(result, *fragments: str, stdout: str = "") -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, repr(result.stderr)
    line = result.stderr.strip()
    assert line, "the one line must say something"
    assert "Traceback" not in line
    for fragment in fragments:
        assert fragment in line, f"{line!r} should mention {fragment!r}"
    if stdout is not None:
        assert result.stdout == stdout
    return line


@pytest.fixture
def fresh(project):
    """A repository with a valid plan and no session."""
    return project(UNITS, SCRIPT)


@pytest.fixture
def session(project):
    """A repository whose headless session paused: 'a' awaits approval, 'b' is pending."""
    repo = project(UNITS, SCRIPT, merge="manual")
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 1, result.stderr
    status = bosun("status", "--json", cwd=repo)
    assert status.returncode == 0, status.stderr
    states = {u["id"]: u["state"] for u in json.loads(status.stdout)["units"]}
    assert states == {"a": "awaiting_approval", "b": "pending"}
    return repo


# (name, which repository, arguments, what the one line must mention). `{repo}` is replaced.
IN_A_REPOSITORY = [
    ("validate of a missing file", "fresh", ["validate", "missing.toml"], ["missing.toml", "no such plan file"]),
    ("validate of a folder", "fresh", ["validate", "src"], ["src", "cannot read the plan"]),
    ("run of a missing plan", "fresh", ["run", "--headless", "nope.toml"], ["nope.toml", "no such plan file"]),
    (
        "run from a base branch that does not exist",
        "trunk",
        ["run", "--headless"],
        ["bosun: bosun.toml: project.base: branch 'trunk' does not exist in {repo}"],
    ),
    (
        "validate of a plan whose base branch does not exist (run would refuse it)",
        "trunk",
        ["validate"],
        ["bosun: bosun.toml: project.base: branch 'trunk' does not exist in {repo}"],
    ),
    (
        "run in a repository with no commits yet",
        "empty",
        ["run", "--headless"],
        ["branch 'main' does not exist in {repo}; the repository has no commits yet: commit your project first"],
    ),
    (
        "run of a plan without agents (as bosun init writes where it finds no agent CLI)",
        "agentless",
        ["run", "--headless"],
        ["bosun.toml: agents: the plan has no agents, so nothing would run: add one under [agents]"],
    ),
    ("status with no session", "fresh", ["status"], ["{repo}", "no Bosun session here"]),
    ("status --json with no session", "fresh", ["status", "--json"], ["no Bosun session here"]),
    ("approve with no session", "fresh", ["approve", "a"], ["no Bosun session here"]),
    (
        "claim for an unknown agent, before any session",
        "fresh",
        ["claim", "--agent", "nobody"],
        ["unknown agent 'nobody'"],
    ),
    (
        "claim for an agent Bosun starts, before any session",
        "fresh",
        ["claim", "--agent", "ada"],
        ["agent 'ada' is scripted", "external"],
    ),
    ("resume with no session", "fresh", ["resume", "--headless"], ["no Bosun session here"]),
    ("approve of an unknown unit", "session", ["approve", "zzz"], ["unknown unit 'zzz'", "units: a, b"]),
    ("approve of a pending unit", "session", ["approve", "b"], ["unit 'b' is pending", "awaiting_approval"]),
    ("cancel of an unknown unit", "session", ["cancel", "nope"], ["unknown unit 'nope'"]),
    (
        "reassign to an unknown agent",
        "session",
        ["reassign", "a", "--to", "nobody"],
        ["unknown agent 'nobody'", "agents: ada, bob"],
    ),
    (
        "run while an unfinished session is there",
        "session",
        ["run", "--headless"],
        ["state.db", "2 unfinished unit(s)", "bosun resume"],
    ),
    ("an unknown command", "fresh", ["frobnicate"], ["invalid choice: 'frobnicate'", "bosun --help"]),
    ("an unknown flag", "fresh", ["run", "--headless", "--frob"], ["unrecognized arguments: --frob"]),
    ("an unknown flag on status", "fresh", ["status", "--verbose"], ["unrecognized arguments: --verbose"]),
    ("--max-agents 0", "fresh", ["run", "--headless", "--max-agents", "0"], ["--max-agents must be at least 1"]),
    ("--max-agents -3 on resume", "fresh", ["resume", "--max-agents", "-3"], ["--max-agents must be at least 1"]),
    ("--max-agents not a number", "fresh", ["run", "--max-agents", "many"], ["--max-agents", "'many'"]),
    ("reassign without --to", "fresh", ["reassign", "a"], ["required", "--to"]),
    ("approve without a unit", "fresh", ["approve"], ["required", "unit"]),
    ("graph in an unknown format", "fresh", ["graph", "--format", "png"], ["invalid choice: 'png'"]),
    ("demo at speed 0", "fresh", ["demo", "--headless", "--speed", "0"], ["--speed must be above 0"]),
    ("--repo that does not exist", "fresh", ["status", "--repo", "{repo}/nowhere"], ["nowhere", "no such directory"]),
]


@pytest.mark.parametrize("kind, args, fragments", [c[1:] for c in IN_A_REPOSITORY], ids=[c[0] for c in IN_A_REPOSITORY])
def test_bad_invocation_exits_2_with_one_line_and_writes_nothing(request, project, kind, args, fragments):
    if kind == "trunk":
        repo = project(UNITS, SCRIPT, base="trunk")
    elif kind == "agentless":
        repo = project(UNITS, SCRIPT)
        (repo / "bosun.toml").write_text('[[units]]\nid = "a"\nprompt = "Add a"\n')
        git(repo, "commit", "-qam", "no agents")
    elif kind == "empty":  # the plan written, nothing committed
        repo = project(UNITS, SCRIPT)
        shutil.rmtree(repo / ".git")
        git(repo, "init", "-q", "-b", "main")
    else:
        repo = request.getfixturevalue(kind)
    before = snapshot(repo)
    if kind == "fresh":
        assert before["has_bosun_dir"] is False and "/.bosun/" not in (before["exclude"] or "")
    else:
        assert before["has_bosun_dir"] is (kind == "session")
    result = bosun(*[a.replace("{repo}", str(repo)) for a in args], cwd=repo)
    assert_one_line_exit_2(result, *[f.replace("{repo}", str(repo)) for f in fragments])
    assert snapshot(repo) == before


def test_no_command_prints_help_and_one_line(fresh: Path) -> None:
    before = snapshot(fresh)
    result = bosun(cwd=fresh)
    assert_one_line_exit_2(result, "no command given", stdout=None)
    assert "usage: bosun" in result.stdout
    assert snapshot(fresh) == before


@pytest.mark.parametrize(
    "args",
    [["status"], ["init"], ["run", "--headless"], ["approve", "a"], ["graph"], ["land"]],
    ids=lambda a: " ".join(a),
)
def test_outside_a_git_repository(tmp_path: Path, args: list[str]) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a repository\n")
    before = tree(folder)
    # GIT_CEILING_DIRECTORIES keeps git from finding a repository above the test's folder.
    result = bosun(*args, cwd=folder, env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert_one_line_exit_2(result, str(folder), "not inside a git repository")
    assert tree(folder) == before


def test_run_with_an_invalid_plan_lists_every_problem_and_writes_nothing(project) -> None:
    repo = project(
        [{"id": "a", "agent": "zed", "timeout": "10x"}, {"id": "b", "depends_on": ["ghost"]}], SCRIPT, merge="sometimes"
    )
    expected = None
    try:
        load_plan(repo / "bosun.toml")
    except PlanError as exc:
        expected = exc.problems
    assert expected is not None and len(expected) == 4
    before = snapshot(repo)
    assert before["has_bosun_dir"] is False
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == expected
    plan_lines = (repo / "bosun.toml").read_text().splitlines()
    for line, where, key in [
        (lines[0], "project.merge", "merge"),
        (lines[1], "unit 'a', agent", "agent"),
        (lines[2], "unit 'a', timeout", "timeout"),
        (lines[3], "unit 'b', depends_on", "depends_on"),
    ]:
        place, _, rest = line.partition(": ")
        name, _, number = place.partition(":")
        assert name == "bosun.toml" and rest.startswith(where + ": "), line
        assert plan_lines[int(number) - 1].startswith(f"{key} = "), (line, plan_lines[int(number) - 1])
    assert snapshot(repo) == before
    validate = bosun("validate", cwd=repo)
    assert (validate.returncode, validate.stdout, validate.stderr.splitlines()) == (2, "", expected)


def test_init_writes_a_plan_that_validates_and_a_second_init_refuses(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("hello\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")

    first = bosun("init", cwd=repo)
    assert first.returncode == 0, first.stderr
    assert first.stderr == ""
    plan = repo / "bosun.toml"
    assert plan.read_text() == init_plan_here()
    assert (repo / ".bosun").is_dir()
    assert "/.bosun/" in (repo / ".git" / "info" / "exclude").read_text().splitlines()
    # .bosun/ is ignored, the new plan is the only untracked file, and no branch appeared.
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == "?? bosun.toml"
    assert git(repo, "for-each-ref", "--format=%(refname)") == "refs/heads/main"

    validate = bosun("validate", cwd=repo)
    assert validate.returncode == 0, validate.stderr
    agents = f"{len(installed_presets())} agents" if installed_presets() else "0 agents: add one before `bosun run`"
    assert validate.stdout.strip() == f"bosun.toml: ok (1 units, {agents})"
    assert validate.stderr == ""

    plan.write_text(EXAMPLE_PLAN + "# my own edits\n")
    before = snapshot(repo)
    second = bosun("init", cwd=repo)
    assert_one_line_exit_2(second, str(plan), "already exists")
    assert plan.read_text() == EXAMPLE_PLAN + "# my own edits\n"
    assert snapshot(repo) == before


def test_init_from_a_subfolder_writes_at_the_repository_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "src" / "deep").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    result = bosun("init", cwd=repo / "src" / "deep")
    assert result.returncode == 0, result.stderr
    assert (repo / "bosun.toml").read_text() == init_plan_here()
    assert not (repo / "src" / "deep" / "bosun.toml").exists()


def test_the_snapshot_sees_a_decision_that_was_accepted(session: Path) -> None:
    """Control for the tests above: a valid decision is written to the store and the snapshot shows it."""
    before = snapshot(session)
    result = bosun("approve", "a", cwd=session)
    assert result.returncode == 0, result.stderr
    assert "queued approve of 'a'" in result.stdout
    after = snapshot(session)
    assert after["store"]["commands"] != before["store"]["commands"]
    assert {k: v for k, v in after.items() if k != "store"} == {k: v for k, v in before.items() if k != "store"}


@pytest.mark.parametrize("columns", ["44", "100"])
def test_help_is_as_wide_as_argparse_would_make_it(fresh: Path, columns: str, monkeypatch) -> None:
    """Bosun's help formatter asks the width itself (not through `shutil`): the same text as
    argparse's own formatter at the same $COLUMNS."""
    import argparse

    from bosun.app.cli import main as cli

    result = bosun("--help", cwd=fresh, env={"COLUMNS": columns})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= int(columns) - 2 < max(len(line) for line in lines) + 12
    parser = cli.build_parser()
    parser.formatter_class = argparse.HelpFormatter  # the stdlib's, which asks shutil
    monkeypatch.setenv("COLUMNS", columns)
    assert parser.format_help() == result.stdout
