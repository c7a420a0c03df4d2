"""Worktrees ready to build and test (issue 25): an agent's own git config, the project's
`setup` run once per `setup_key` and shared read-only, `copy` files that never leave the worktree.
Real git, real sandboxes, real `bosun run --headless`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from conftest import BackgroundRun, bosun, first_parent_merges, git, needs_tool, toml_script, write_unit

from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
needs_bwrap = needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}")


@needs_bwrap
def test_an_agent_sets_its_git_identity_in_the_sandbox_and_bosun_never_reads_it(project, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    evil = tmp_path / "evil-hooks"
    steps = [
        {"run": ["sh", "-c", "git config user.email me@example.com && git config --get user.email > seen.txt"]},
        {"run": ["sh", "-c", f"git config core.hooksPath {evil}; git config --global alias.x status"]},
        {"commit": "identity"},
    ]
    repo = project([{"id": "a"}], {"a": [steps]}, sandbox="auto")
    result = bosun("run", "--headless", cwd=repo, env={"HOME": str(home)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert first_parent_merges(repo) == ["a"]
    assert git(repo, "show", "bosun/integration:seen.txt") == "me@example.com"
    clone_config = (repo / ".bosun" / "agents.git" / "config").read_text()
    assert "me@example.com" not in clone_config and str(evil) not in clone_config
    own = list((repo / ".bosun" / "homes").glob("*/.gitconfig"))
    assert own and "me@example.com" in own[0].read_text(), own
    assert not (home / ".gitconfig").exists(), "the user's own git config was written"


# A stand-in for `python -m venv .venv && pip install -e .`: a real virtualenv (no pip: offline)
# whose `.pth` names the tree by the absolute path setup ran at, as an editable install does.
# Each run is counted in setup's HOME (its cache), which no agent sees.
SETUP = [
    "python3 -m venv --without-pip .venv",
    'echo "$PWD/src" > "$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()[\'purelib\'])")/proj.pth"',
    'echo ran >> "$HOME/setup-runs"',
]
SECRET = "token-6f1d0c2a-never-committed"
LOOK = (
    ".venv/bin/python -B -c 'import mod; print(mod.WHO)' > seen-$BOSUN_UNIT.txt && "
    "grep -c never-committed .env >> seen-$BOSUN_UNIT.txt && "
    "(echo poison > .venv/pyvenv.cfg 2>/dev/null && echo POISONED >> seen-$BOSUN_UNIT.txt || true)"
)
# ... and in the gate's own repository setup's products and the copied `.env` are not untracked files.
GATE = (
    ".venv/bin/python -B -c 'import mod, sys; assert mod.WHO == \"src\", mod.WHO' && python check.py && "
    'test -z "$(git status --porcelain)"'
)


def _prepared_project(project, setup: list[str], n: int = 3) -> Path:
    units = [{"id": f"u{i}"} for i in range(n)]
    script = {f"u{i}": [[{"run": ["sh", "-c", LOOK]}, {"commit": f"look {i}"}]] for i in range(n)}
    repo = project(
        units,
        script,
        sandbox="auto",
        setup=setup,
        setup_key=["requirements.txt"],
        copy=[".env"],
        setup_network="none",
        gate=GATE,
        extra_files={"requirements.txt": "nothing\n", "src/mod.py": "WHO = 'src'\n"},
    )
    (repo / ".env").write_text(f"SECRET={SECRET}\n")  # untracked in the user's repository
    return repo


@needs_bwrap
def test_setup_runs_once_per_key_and_every_worktree_and_gate_uses_it_read_only(project, tmp_path: Path) -> None:
    repo = _prepared_project(project, SETUP)
    result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(first_parent_merges(repo)) == ["u0", "u1", "u2"]
    runs = (repo / ".bosun" / "prepared" / "home" / "setup-runs").read_text().split()
    assert runs == ["ran"], runs  # three worktrees and three gates, one setup
    for unit in ("u0", "u1", "u2"):
        seen = git(repo, "show", f"bosun/integration:seen-{unit}.txt").split()
        assert seen == ["src", "1"], (unit, seen)  # the editable path is each box's own tree; .env there
    # Never committed, never in a log or an event: the copied file and setup's products.
    tracked = git(repo, "ls-tree", "-r", "--name-only", "bosun/integration")
    assert ".env" not in tracked.split() and ".venv" not in tracked, tracked
    assert SECRET not in git(repo, "log", "-p", "--all")
    assert SECRET not in result.stdout + result.stderr
    for path in (repo / ".bosun").rglob("*.log"):
        assert SECRET not in path.read_text(errors="replace"), path
    events = [line for line in result.stdout.splitlines() if '"kind": "prepared"' in line]
    assert len(events) == 3 and sum('"reused": true' in e for e in events) == 2, events


@needs_bwrap
def test_a_failing_setup_fails_the_unit_with_its_output(project, tmp_path: Path) -> None:
    repo = _prepared_project(project, ["echo 'cannot reach the index' >&2", "exit 3"], n=1)
    result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)})
    failed = [line for line in result.stdout.splitlines() if '"kind": "failed"' in line]
    assert failed and '"reason": "setup"' in failed[0] and "cannot reach the index" in failed[0], result.stdout
    assert first_parent_merges(repo) == []


@needs_bwrap
def test_a_program_setup_names_by_absolute_path_runs_in_its_box(project, tmp_path: Path) -> None:
    """As for the gate: a tool of the user's in a place the box hides (here /tmp) is bound read-only."""
    tool = tmp_path / "tools" / "make-venv"
    tool.parent.mkdir()
    tool.write_text("#!/bin/sh\nexec python3 -m venv --without-pip .venv\n")
    tool.chmod(0o755)
    repo = _prepared_project(project, [str(tool), *SETUP[1:]], n=1)
    result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert first_parent_merges(repo) == ["u0"]


@needs_bwrap
def test_setup_can_ask_git_about_the_tree_it_prepares(project, tmp_path: Path) -> None:
    """`pip install -e .` of a project versioned by setuptools-scm runs `git describe` in setup:
    the folder's repository (an agent's worktree in the agents' clone, or the gate's own) is there."""
    describe = "git describe --tags --long --abbrev=40 > .venv/version"
    repo = _prepared_project(project, [SETUP[0], describe, *SETUP[1:]], n=1)
    git(repo, "tag", "-a", "v3.1", "-m", "release")  # the agents' clone takes the tags at the session's start
    result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert first_parent_merges(repo) == ["u0"]
    (key,) = [p for p in (repo / ".bosun" / "prepared").iterdir() if (p / "files" / ".venv").is_dir()]
    main = git(repo, "rev-parse", "main")
    assert (key / "files" / ".venv" / "version").read_text().strip() == f"v3.1-0-g{main}"


def test_unsandboxed_setup_runs_in_each_worktree_and_nothing_it_made_is_committed(project, tmp_path: Path) -> None:
    """Without a sandbox nothing can be bound: setup runs in place for every worktree and gate,
    each gets its own environment, and info/exclude still keeps it (and .env) out of git."""
    repo = _prepared_project(project, SETUP, n=2)
    text = (repo / "bosun.toml").read_text().replace('sandbox = "auto"', 'sandbox = "off"')
    (repo / "bosun.toml").write_text(text)
    git(repo, "commit", "-qam", "unsandboxed")
    result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(first_parent_merges(repo)) == ["u0", "u1"]
    runs = (tmp_path / "setup-runs").read_text().split()
    assert len(runs) >= 3, runs  # two worktrees and every gate run (one or two: the queue may batch), each its own
    for unit in ("u0", "u1"):
        seen = git(repo, "show", f"bosun/integration:seen-{unit}.txt").split()
        assert seen == ["src", "1", "POISONED"], (unit, seen)  # writable, but only its own copy
    tracked = git(repo, "ls-tree", "-r", "--name-only", "bosun/integration").split()
    assert ".env" not in tracked and not [p for p in tracked if p.startswith(".venv")], tracked
    assert SECRET not in git(repo, "log", "-p", "--all")


@needs_bwrap
def test_a_gate_whose_setup_fails_fails_with_its_output(project, tmp_path: Path) -> None:
    """An agent changed a setup_key file: the gate's tree has a new key, setup runs for it and fails."""
    check = 'grep -q nothing requirements.txt || { echo "bad requirements" >&2; exit 4; }'
    repo = _prepared_project(project, [check, *SETUP], n=1)
    script = {"u0": [write_unit("requirements.txt", "broken\n")] * 3}
    (repo / "team.toml").write_text(toml_script(script))
    git(repo, "commit", "-qam", "an agent that breaks the requirements")
    result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)})
    gate_failed = [line for line in result.stdout.splitlines() if '"kind": "gate_failed"' in line]
    assert gate_failed and "the project's setup failed (exit 4)" in gate_failed[0], result.stdout
    (log,) = (repo / ".bosun" / "logs").glob("gate.u0.1.*log")  # gate.<unit>.<attempt>.<run>.log
    assert "bad requirements" in log.read_text()
    assert first_parent_merges(repo) == []


def test_a_preset_agent_without_the_sandbox_says_its_prompts_are_off(project, tmp_path: Path) -> None:
    """A stand-in `claude` on PATH: the preset's command line reaches it; the log's first line says
    the CLI runs with its permission prompts off and without Bosun's sandbox."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "claude"
    fake.write_text('#!/bin/sh\necho "args: $*" > src/args.txt\necho "IS_SANDBOX=$IS_SANDBOX" >> src/args.txt\n')
    fake.chmod(0o755)
    agents = {"cli": {"kind": "command", "preset": "claude-code", "mounts": [f"{bin_dir}:ro"]}}
    repo = project([{"id": "a"}], {}, agents=agents, sandbox="off")
    env = {"HOME": str(tmp_path), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = bosun("run", "--headless", cwd=repo, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = git(repo, "show", "bosun/integration:src/args.txt")
    assert "--permission-mode bypassPermissions" in seen and "IS_SANDBOX=1" in seen, seen
    log = (repo / ".bosun" / "logs" / "a.1.log").read_text()
    assert log.startswith("bosun: agent 'cli' runs claude-code with its permission prompts off and WITHOUT"), log


def test_a_unit_that_commits_a_copied_file_is_refused_and_its_secret_reaches_nothing(project, tmp_path: Path) -> None:
    """An agent forces the ignored `.env` into git (`git add -f`), then deletes it again: the tree
    it submits is clean, its history is not. The unit goes out of scope (reason copied_file), no
    candidate is made, and the secret is in no commit of the integration branch, no event, no log."""
    leak = [
        {"run": ["sh", "-c", "git add -f .env && git commit -qm 'the env' && git rm -q --cached .env"]},
        {"write": "src/leak.py", "content": "X = 1\n"},
        {"commit": "and some work"},
    ]
    script = {"leak": [leak], "fine": [write_unit("src/fine.py", "Y = 2\n")]}
    repo = project([{"id": "leak"}, {"id": "fine"}], script, copy=[".env"], handback="manual")
    (repo / ".env").write_text(f"SECRET={SECRET}\n")
    result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)})
    refused = [line for line in result.stdout.splitlines() if '"kind": "out_of_scope"' in line]
    assert refused and '"reason": "copied_file"' in refused[0] and '".env"' in refused[0], result.stdout
    assert "rewrite the unit's history without it" in refused[0], refused[0]  # what the agent is told
    assert first_parent_merges(repo) == ["fine"]
    assert SECRET not in git(repo, "log", "-p", "-m", "bosun/integration")
    # The unit's own ref (not a branch: never pushed with --all) keeps it for a human to look at,
    # and shows the agent did commit it: the check had something to find.
    assert SECRET in git(repo, "log", "-p", "refs/bosun/units/leak")
    assert SECRET not in result.stdout + result.stderr
    for path in (repo / ".bosun").rglob("*"):
        if path.is_file() and path.suffix in (".log", ".db", ".json", ".jsonl"):
            assert SECRET.encode() not in path.read_bytes(), path


@needs_bwrap
def test_a_key_an_agent_made_is_set_up_for_its_gate_with_a_home_of_its_own(project, tmp_path: Path) -> None:
    """The agent changed a setup_key file: its gate runs setup (with the agent's tree) in a
    throwaway HOME, so nothing it does reaches the download caches later setups share; the
    worktree's setup, on the integration branch's key, ran in the shared one."""
    repo = _prepared_project(project, [*SETUP, 'echo planted > "$HOME/planted"'], n=1)
    (repo / "team.toml").write_text(toml_script({"u0": [write_unit("requirements.txt", "changed\n")]}))
    git(repo, "commit", "-qam", "an agent that changes the requirements")
    result = bosun("run", "--headless", "--json", cwd=repo, env={"HOME": str(tmp_path)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert first_parent_merges(repo) == ["u0"]
    stores = [p for p in (repo / ".bosun" / "prepared").iterdir() if len(p.name) == 64]
    assert len(stores) == 2, stores  # the worktree's key and the gate's: setup ran twice
    shared = repo / ".bosun" / "prepared" / "home"
    assert (shared / "setup-runs").read_text().split() == ["ran"]  # the worktree's run only
    assert not list((repo / ".bosun").glob("home-*")), "the gate's HOME outlived its setup"


def test_while_setup_runs_the_agent_is_preparing_and_its_log_shows_setup(project, tmp_path: Path) -> None:
    """A setup that takes minutes (`npm install`) must not read as an agent `waiting` with no
    output: the claimed unit's agent is `preparing`, on the attempt being prepared, whose log (the
    one the Output tab follows) already holds setup's output."""
    release = tmp_path / "release-setup"
    setup = [f"echo installing the dependencies; while [ ! -e {release} ]; do sleep 0.05; done"]
    repo = project(
        [{"id": "a", "scope": ["src/a.py"]}],
        {"a": [write_unit("src/a.py", "A = 1\n")]},
        max_agents=1,
        sandbox="off",
        setup=setup,
        setup_key=["check.py"],
    )
    run = BackgroundRun(repo, "run", "--headless", "--json")
    try:
        run.wait_for("claimed", "a")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # until setup has printed (its process started after the claim)
            agents = {a["name"]: a for a in json.loads(bosun("status", "--json", cwd=repo).stdout)["agents"]}
            log = repo / ".bosun" / "logs" / "a.1.log"
            if log.is_file() and "installing" in log.read_text():
                break
        assert agents["ada"]["unit"] == "a" and agents["ada"]["activity"] == "preparing", agents
        assert agents["ada"]["attempt"] == 1, agents
        release.touch()
        assert run.finish() == 0
    finally:
        release.touch()
        run.proc.kill()
    assert first_parent_merges(repo) == ["a"]
    assert "installing the dependencies" in (repo / ".bosun" / "logs" / "a.1.log").read_text()


@needs_bwrap
def test_a_folder_a_unit_makes_a_link_is_not_written_through_by_setup_or_copy(project, tmp_path: Path) -> None:
    """`gen/` holds setup's product and a copied file; the agent commits `gen` as a link to a folder
    of the user's. Filling its gate folder must write neither through it: the product and the
    copy are left out there (the gate then fails on its own), the user's folder stays as it was."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "out.txt").write_text("the user's own\n")
    swap = f"rm -rf gen && ln -s {victim} gen && git add -A && git commit -qm 'gen is a link now'"
    script = {"swap": [[{"run": ["sh", "-c", swap], "check": True}]]}
    build = 'mkdir -p gen && echo "from setup" > gen/out.txt\n'
    repo = project(
        [{"id": "swap"}],
        script,
        setup=["sh build.sh"],
        setup_key=["build.sh"],
        copy=["gen/secret.env"],
        extra_files={"build.sh": build, "gen/.keep": ""},
        sandbox="required",
    )
    (repo / "gen" / "secret.env").write_text(f"SECRET={SECRET}\n")  # untracked: the user's
    result = bosun("run", "--headless", cwd=repo, env={"HOME": str(tmp_path)})
    assert "swap" in result.stdout, result.stdout + result.stderr  # the unit ran and was gated
    assert sorted(p.name for p in victim.iterdir()) == ["out.txt"]
    assert (victim / "out.txt").read_text() == "the user's own\n"
