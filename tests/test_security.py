"""What agents cannot reach, proven with real runs of `bosun run --headless`
on real repositories with real scripted agents that misbehave on purpose.

Every attack is made observable: the hooks an agent plants write a line naming who ran them,
the agent's own git commands fire them once (so the trap is shown to be armed), and any line
from anyone else means Bosun ran a hook of the agent's choosing.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from conftest import ROOT, bosun, first_parent_merges, git, write_unit

HOOK_NAMES = (
    "post-commit",
    "reference-transaction",
    "post-checkout",
    "post-merge",
    "pre-commit",
    "pre-merge-commit",
    "commit-msg",
    "prepare-commit-msg",
    "post-rewrite",
    "post-index-change",
    "pre-auto-gc",
    "pre-push",
    "push-to-checkout",
)

# Run from the agent's worktree: plant hooks everywhere git might look for them, point the
# clone's core.hooksPath at a folder of hooks, and move `main` and the integration branch to a
# commit that would fail the gate. `set -e`: if any attack step fails, the agent fails and the
# test fails (so a passing test means every attack was really tried).
ATTACK_SH = r"""
set -eu
OUT="$1"
MARKER="$OUT/hook-ran"
EVIL="$OUT/evil-hooks"
plant() {
    mkdir -p "$1"
    for name in HOOK_NAMES; do
        printf '#!/bin/sh\necho "%s ${BOSUN_UNIT:-supervisor} $PWD" >> "%s"\nexit 0\n' "$name" "$MARKER" > "$1/$name"
        chmod +x "$1/$name"
    done
}
GIT_PATH_HOOKS=$(git rev-parse --git-path hooks)
COMMON=$(git rev-parse --path-format=absolute --git-common-dir)
GITDIR=$(git rev-parse --path-format=absolute --git-dir)
echo "$COMMON" > "$OUT/common-dir"
echo "$GIT_PATH_HOOKS" > "$OUT/git-path-hooks"
for dir in "$COMMON/hooks" "$GITDIR/hooks" "$EVIL"; do plant "$dir"; done
case "$GIT_PATH_HOOKS" in /dev/null) ;; *) plant "$GIT_PATH_HOOKS" ;; esac
git config core.hooksPath "$EVIL"
test "$(git config core.hooksPath)" = "$EVIL"

# A commit that fails the gate, never merged by Bosun.
export GIT_INDEX_FILE="$OUT/evil-index"
git read-tree HEAD
BLOB=$(printf 'BROKEN = True\n' | git hash-object -w --stdin)
git update-index --add --cacheinfo "100644,$BLOB,src/ungated.py"
TREE=$(git write-tree)
unset GIT_INDEX_FILE
EVIL_COMMIT=$(git commit-tree "$TREE" -p HEAD -m "not gated")
echo "$EVIL_COMMIT" > "$OUT/evil-commit"
git update-ref refs/heads/main "$EVIL_COMMIT"
git update-ref refs/heads/bosun/integration "$EVIL_COMMIT"
test "$(git rev-parse refs/heads/main)" = "$EVIL_COMMIT"
test "$(git rev-parse refs/heads/bosun/integration)" = "$EVIL_COMMIT"
""".replace("HOOK_NAMES", " ".join(HOOK_NAMES))

GATE_FREE_NAMES = {"PWD", "OLDPWD", "SHLVL", "_"}  # what `sh` itself adds to the environment
# What Bosun adds itself (issue 12): ports, a private TMPDIR, the agents' git identity,
# git-lfs's smudge off in their checkouts (the content is in the user's store: lfs.py), and the
# token a restarted supervisor finds a leftover process by (sandbox/leftovers.py).
ISOLATION_NAMES = {
    "BOSUN_LAUNCH",
    "GIT_LFS_SKIP_SMUDGE",
    "BOSUN_PORT_BASE",
    "BOSUN_PORT_COUNT",
    "PORT",
    "TMPDIR",
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
}


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under `folder` with its bytes and mode."""
    return {
        str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mode) for p in sorted(folder.rglob("*")) if p.is_file()
    }


def gated_history(repo: Path, base: str, branch: str = "bosun/integration") -> list[str]:
    """Every first-parent commit since `base` is a two-parent merge whose exact tree passes
    `python check.py` (extracted with git archive, so nothing of the repository can run)."""
    commits = git(repo, "rev-list", "--first-parent", "--reverse", f"{base}..{branch}").split()
    for number, commit in enumerate(commits):
        parents = git(repo, "rev-list", "--parents", "-n", "1", commit).split()[1:]
        assert len(parents) == 2, f"{commit} on the integration branch is not a merge commit"
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit], cwd=repo, capture_output=True, check=True
        ).stdout
        tree = repo.parent / f"gated-{number}"
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(tree, filter="data")
        result = subprocess.run([sys.executable, "check.py"], cwd=tree, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{commit} on the integration branch fails the gate: {result.stdout}"
    return commits


def read_env(path: Path) -> dict[str, str]:
    """An `env` dump (one NAME=value a line; continuation lines of multi-line values skipped)."""
    env = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and name.replace("_", "a").isalnum():
            env[name] = value
    return env


def test_an_agent_cannot_move_the_users_refs_or_plant_hooks_bosun_runs(project, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    attack = tmp_path / "attack.sh"
    attack.write_text(ATTACK_SH)
    evil_steps = [
        {"run": ["sh", str(attack), str(out)], "check": True},
        *write_unit("src/evil.py", "EVIL = 1\n", "looks harmless"),
    ]
    # c1 and c2 both write src/shared.py: whichever is integrated second conflicts, so Bosun
    # merges the integration head into its worktree in the clone (a `git merge` there).
    resolve = [
        {"run": ["grep", "-q", "<<<<<<<", "src/shared.py"], "check": True},
        *write_unit("src/shared.py", "ONE = 1\nTWO = 2\n", "resolve"),
    ]
    script = {
        "evil": [evil_steps],
        "c1": [write_unit("src/shared.py", "ONE = 1\n"), resolve],
        "c2": [write_unit("src/shared.py", "TWO = 2\n"), resolve],
        "later": [write_unit("src/later.py", "LATER = 1\n")],
    }
    units = [
        {"id": "evil"},
        {"id": "c1", "depends_on": ["evil"]},
        {"id": "c2", "depends_on": ["evil"]},
        {"id": "later", "depends_on": ["c1", "c2"]},
    ]
    repo = project(units, script, sandbox="off")  # the git-level defences, as without bubblewrap
    main_before = git(repo, "rev-parse", "main")
    hooks_before = snapshot(repo / ".git" / "hooks")
    config_before = (repo / ".git" / "config").read_bytes()

    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr

    # The attack really ran (set -e: every step of it succeeded) in a repository of its own.
    evil_commit = (out / "evil-commit").read_text().strip()
    common = Path((out / "common-dir").read_text().strip())
    assert common.resolve() != (repo / ".git").resolve()
    assert (common / "hooks" / "post-checkout").exists()
    # The trap was armed: the agent's own commit fired the hooks it planted ...
    ran = [line.split() for line in (out / "hook-ran").read_text().splitlines()]
    assert any(hook == "post-commit" and who == "evil" for hook, who, *_ in ran), ran
    # ... and no one else ever ran them: not Bosun (worktree add, merge, fetch) and not the
    # later agents in the same clone.
    assert {who for _, who, *_ in ran} == {"evil"}, ran
    assert str(out / "evil-hooks") not in (common / "config").read_text()

    # The user's repository: main, hooks and config untouched; the ungated commit unreachable.
    assert git(repo, "rev-parse", "main") == main_before
    assert snapshot(repo / ".git" / "hooks") == hooks_before
    assert (repo / ".git" / "config").read_bytes() == config_before
    assert evil_commit not in git(repo, "rev-list", "--all").split()
    assert git(repo, "status", "--porcelain") == ""

    # The integration branch holds exactly the gated merges, one per unit, every tree green.
    merged = first_parent_merges(repo)
    assert sorted(merged) == ["c1", "c2", "evil", "later"] and merged[0] == "evil" and merged[-1] == "later"
    assert len(gated_history(repo, main_before)) == 4
    assert git(repo, "show", "bosun/integration:src/shared.py") == "ONE = 1\nTWO = 2"
    assert "src/ungated.py" not in git(repo, "ls-tree", "-r", "--name-only", "bosun/integration").split()


def test_secrets_reach_neither_agents_nor_the_gate(project, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    gate_dump = out / "gate.env"
    # Each gate run appends its environment, then judges the tree.
    gate = f"env >> {gate_dump} && echo '--- end of run' >> {gate_dump} && python check.py"
    dump = ["sh", "-c", f'env > "{out}/$BOSUN_UNIT.env"']
    script = {
        "one": [[{"run": dump, "check": True}, *write_unit("src/one.py", "ONE = 1\n")]],
        "two": [[{"run": dump, "check": True}, *write_unit("src/two.py", "TWO = 2\n")]],
    }
    agents = {
        "ada": {"kind": "scripted", "script": "team.toml", "env": ["BOSUN_TEST_PASS"]},
        "bob": {"kind": "scripted", "script": "team.toml"},
    }
    units = [
        {"id": "one", "agent": "ada", "scope": ["src/one.py"]},
        {"id": "two", "agent": "bob", "scope": ["src/two.py"]},
    ]
    # batch = 1: a gate run per unit (batched, one run would cover both and be dumped once)
    repo = project(units, script, agents=agents, gate=gate, gate_env=["BOSUN_TEST_GATE_ONLY"], sandbox="off", batch=1)
    extra = {
        "BOSUN_TEST_SECRET": "hunter2",
        "ANTHROPIC_API_KEY": "sk-x-not-for-agents",
        "OPENAI_API_KEY": "sk-openai-not-for-agents",
        "BOSUN_TEST_PASS": "passed-to-ada",
        "BOSUN_TEST_GATE_ONLY": "passed-to-gate",
        "LANG": "C.UTF-8",
        "TERM": "xterm-bosun-test",
    }
    result = bosun("run", "--headless", cwd=repo, env=extra)
    assert result.returncode == 0, result.stdout + result.stderr
    supervisor_env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}  # what `bosun` ran with

    agent_envs = {unit: read_env(out / f"{unit}.env") for unit in ("one", "two")}
    gate_text = gate_dump.read_text()
    assert gate_text.count("--- end of run") >= 2  # the gate ran for each unit and was dumped
    gate_env = read_env(gate_dump)
    texts = {"gate": gate_text, **{u: (out / f"{u}.env").read_text() for u in agent_envs}}
    for where, text in texts.items():
        for secret in ("hunter2", "sk-x-not-for-agents", "sk-openai-not-for-agents"):
            assert secret not in text, f"{secret!r} leaked into the {where} environment"

    for unit, env in agent_envs.items():
        worktree = (repo / ".bosun" / "worktrees" / unit).resolve()
        assert Path(env["BOSUN_WORKTREE"]).resolve() == worktree
        assert env["BOSUN_UNIT"] == unit
        assert json.loads(Path(env["BOSUN_TASK_FILE"]).read_text())["unit"] == unit
        assert Path(env["BOSUN_REPORT_FILE"]).parent.is_dir()
        assert not Path(env["BOSUN_REPORT_FILE"]).resolve().is_relative_to(worktree)
        for name in ("PATH", "HOME", "LANG", "TERM"):
            assert env[name] == supervisor_env[name], name
        allowed = {
            "BOSUN_TASK_FILE",
            "BOSUN_REPORT_FILE",
            "BOSUN_UNIT",
            "BOSUN_WORKTREE",
            "PATH",
            "HOME",
            "LANG",
            "TERM",
            "GIT_CEILING_DIRECTORIES",
            *GATE_FREE_NAMES,
            *ISOLATION_NAMES,
        }
        assert env["GIT_CEILING_DIRECTORIES"] == str(worktree.parent)
        if unit == "one":
            allowed.add("BOSUN_TEST_PASS")
        assert set(env) <= allowed, f"{unit} got {sorted(set(env) - allowed)}"
        assert "BOSUN_TEST_GATE_ONLY" not in env
    # The name in ada's `env` list reaches ada, and only ada.
    assert agent_envs["one"]["BOSUN_TEST_PASS"] == "passed-to-ada"
    assert "BOSUN_TEST_PASS" not in agent_envs["two"]

    # The gate: PATH and HOME, its own gate_env name, nothing the supervisor had besides.
    assert gate_env["PATH"] == supervisor_env["PATH"] and gate_env["HOME"] == supervisor_env["HOME"]
    assert gate_env["BOSUN_TEST_GATE_ONLY"] == "passed-to-gate"
    assert "BOSUN_TEST_PASS" not in gate_env
    leaked = sorted(
        name
        for name, value in gate_env.items()
        if name not in {"PATH", "HOME", "LANG", "TERM", "BOSUN_TEST_GATE_ONLY", *GATE_FREE_NAMES, *ISOLATION_NAMES}
        and supervisor_env.get(name) == value
    )
    assert leaked == [], f"the supervisor's environment leaked into the gate: {leaked}"


TASK_KEYS = {
    "protocol",
    "unit",
    "title",
    "prompt",
    "scope",
    "branch",
    "base_commit",
    "attempt",
    "handback",
    "integrated",
}


def test_agents_work_in_their_worktree_with_the_task_outside_the_tracked_tree(project, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    look = [
        "sh",
        "-c",
        " && ".join(
            [
                f'O="{out}/$BOSUN_UNIT"',
                'pwd -P > "$O.cwd"',
                'printf %s "$BOSUN_TASK_FILE" > "$O.taskpath"',
                'cp "$BOSUN_TASK_FILE" "$O.task.json"',
                'git symbolic-ref HEAD > "$O.branch"',
                'git rev-parse HEAD > "$O.head"',
                'git rev-parse --path-format=absolute --git-common-dir > "$O.common"',
                'git rev-parse --show-toplevel > "$O.toplevel"',
                'git ls-files > "$O.tracked"',
                'git status --porcelain --untracked-files=all > "$O.status"',
            ]
        ),
    ]
    script = {
        "first": [
            [
                {"run": look, "check": True},
                *write_unit("src/first.py", "FIRST = 1\n"),
                {"report": "done", "summary": "first is in"},
            ]
        ],
        "second": [[{"run": look, "check": True}, *write_unit("src/second.py", "SECOND = 2\n")]],
    }
    units = [
        {"id": "first", "title": "The first unit", "scope": ["src/first.py"]},
        {"id": "second", "depends_on": ["first"], "scope": ["src/second.py"]},
    ]
    repo = project(units, script, sandbox="off")  # the agents write what they see outside their worktree
    base = git(repo, "rev-parse", "main")
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    first_merge = git(repo, "rev-list", "--first-parent", "--reverse", f"{base}..bosun/integration").split()[0]

    for unit, base_commit in (("first", base), ("second", first_merge)):
        seen = {p.name.split(".", 1)[1]: p.read_text().strip() for p in out.glob(f"{unit}.*")}
        worktree = (repo / ".bosun" / "worktrees" / unit).resolve()
        assert Path(seen["cwd"]) == worktree
        assert Path(seen["toplevel"]).resolve() == worktree
        # The worktree belongs to Bosun's own clone, not to the user's repository.
        assert Path(seen["common"]).resolve() != (repo / ".git").resolve()
        assert seen["branch"] == f"refs/heads/bosun/unit/{unit}"
        assert seen["head"] == base_commit
        # The task file lies outside the worktree, is not tracked anywhere, and the worktree
        # the agent starts in is clean (the task file is not an untracked file in it either).
        task_path = Path(seen["taskpath"]).resolve()
        assert task_path.is_absolute() and not task_path.is_relative_to(worktree)
        assert seen["status"] == ""
        assert task_path.name not in seen["tracked"].split("\n")
        listed = subprocess.run(
            ["git", "ls-files", "--error-unmatch", str(task_path)],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )
        assert listed.returncode != 0, f"{task_path} is tracked in the user's repository"
        assert git(repo, "status", "--porcelain") == ""

        task = json.loads(seen["task.json"])
        assert TASK_KEYS <= set(task), sorted(TASK_KEYS - set(task))
        assert task["protocol"] == 1 and task["unit"] == unit and task["prompt"] == f"do {unit}"
        assert task["scope"] == [f"src/{unit}.py"]
        assert task["branch"] == f"bosun/unit/{unit}" and task["base_commit"] == base_commit
        assert task["attempt"] == 1 and task["handback"] is None
    first_task = json.loads((out / "first.task.json").read_text())
    second_task = json.loads((out / "second.task.json").read_text())
    assert first_task["title"] == "The first unit"
    assert first_task["integrated"] == []
    assert second_task["integrated"] == [{"unit": "first", "commit": first_merge, "summary": "first is in"}]
    # Nothing of the protocol was committed: the integration tree holds only the units' files.
    tree = set(git(repo, "ls-tree", "-r", "--name-only", "bosun/integration").split())
    assert tree == set(git(repo, "ls-tree", "-r", "--name-only", "main").split()) | {"src/first.py", "src/second.py"}


# -- an agent that breaks its worktree's link to the clone -------------------------------------
# A worktree's `.git` is a plain file the agent can delete or rewrite. Deleted, git run in that
# folder walks up the directory tree and finds the *user's* repository (`.bosun/` lives inside
# it); rewritten to `gitdir: <user's .git>`, git goes there directly. Either way, a git command
# Bosun runs with the worktree as its working directory would land in the user's repository.

SABOTAGE = {
    "deleted": ["rm", "-f", ".git"],
    # The user's repository is found through the clone's alternates file (`--shared`).
    "redirected": [
        "sh",
        "-c",
        (
            'A=$(cat "$(git rev-parse --path-format=absolute --git-common-dir)/objects/info/'
            'alternates") && printf "gitdir: %s\\n" "$(dirname "$A")" > .git'
        ),
    ],
}


@pytest.mark.parametrize("sabotage", sorted(SABOTAGE))
def test_a_conflict_hand_back_never_merges_into_the_users_branch(project, sabotage: str) -> None:
    # Commit, clear the file out of the way (so a fast-forward of the user's branch would go
    # through), break the link. Both units write src/shared.py: the second one conflicts and is
    # handed back, so Bosun merges the integration head "into its worktree".
    after = [{"delete": "src/shared.py"}, {"run": SABOTAGE[sabotage], "check": True}]
    script = {
        "c1": [[*write_unit("src/shared.py", "ONE = 1\n"), *after], [{"exit": 3}]],
        "c2": [[*write_unit("src/shared.py", "TWO = 2\n"), *after], [{"exit": 3}]],
    }
    repo = project([{"id": "c1"}, {"id": "c2"}], script, max_attempts=2)
    (repo / "notes.txt").write_text("the user's own work in progress\n")
    main_before = git(repo, "rev-parse", "main")
    index_before = (repo / ".git" / "index").read_bytes()
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 1, result.stdout + result.stderr  # one unit merged, the other stuck
    assert len(first_parent_merges(repo)) == 1
    assert git(repo, "rev-parse", "main") == main_before, "Bosun moved the user's branch"
    assert (repo / ".git" / "index").read_bytes() == index_before, "Bosun rewrote the user's index"
    assert git(repo, "status", "--porcelain") == "?? notes.txt"
    assert not (repo / "src" / "shared.py").exists(), "Bosun changed the user's working tree"
    gated_history(repo, main_before)


@pytest.mark.parametrize("sabotage", sorted(SABOTAGE))
def test_committing_leftovers_never_commits_in_the_users_repository(project, sabotage: str) -> None:
    # An agent with autocommit leaves its edit uncommitted and breaks the link; the user has an
    # untracked file of their own in their repository.
    agents = {"ada": {"kind": "scripted", "script": "team.toml", "autocommit": True}}
    script = {"lazy": [[{"write": "src/lazy.py", "content": "LAZY = 1\n"}, {"run": SABOTAGE[sabotage], "check": True}]]}
    repo = project([{"id": "lazy"}], script, agents=agents, max_attempts=1)
    (repo / "notes.txt").write_text("the user's own work in progress\n")
    main_before = git(repo, "rev-parse", "main")
    index_before = (repo / ".git" / "index").read_bytes()
    result = bosun("run", "--headless", cwd=repo)
    assert git(repo, "rev-parse", "main") == main_before, "Bosun committed on the user's branch"
    assert (repo / ".git" / "index").read_bytes() == index_before, "Bosun rewrote the user's index"
    assert git(repo, "status", "--porcelain") == "?? notes.txt"
    assert result.returncode in (0, 1), result.stdout + result.stderr
    gated_history(repo, main_before)


# -- files Bosun rewrites where an agent can plant a symlink ---------------------------------------
# Bosun restores the clone's config after an agent changed it, and writes each attempt's task file.
# An agent can put a symlink in either place; Bosun must replace the link, never write through it.


def test_restoring_the_clone_config_never_writes_through_a_symlink(project) -> None:
    common = "$(git rev-parse --path-format=absolute --git-common-dir)"
    swap = [
        "sh",
        "-c",
        (
            f'C="{common}/config" && A=$(cat "{common}/objects/info/alternates") && '
            'rm "$C" && ln -s "$(dirname "$A")/config" "$C"'
        ),
    ]
    script = {"swap": [[*write_unit("src/swap.py", "SWAP = 1\n"), {"run": swap, "check": True}]]}
    repo = project([{"id": "swap"}], script)
    config_before = (repo / ".git" / "config").read_bytes()
    main_before = git(repo, "rev-parse", "main")
    bosun("run", "--headless", cwd=repo)
    assert (repo / ".git" / "config").read_bytes() == config_before, "Bosun rewrote the user's git config"
    assert git(repo, "rev-parse", "--is-bare-repository") == "false"
    assert git(repo, "rev-parse", "main") == main_before


def test_a_task_file_swapped_for_a_symlink_is_replaced_not_written_through(project, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("a file of the user's, outside the repository\n")
    # Attempt 1 swaps its task file for a link to the victim and fails the gate, so Bosun hands the
    # unit back and writes the task of attempt 2 where the link is.
    swap = ["sh", "-c", f'rm "$BOSUN_TASK_FILE" && ln -s "{victim}" "$BOSUN_TASK_FILE"']
    attempt_two = [
        {"run": ["sh", "-c", 'grep -q \'"attempt": 2\' "$BOSUN_TASK_FILE"'], "check": True},
        *write_unit("src/swap.py", "SWAP = 1\n", "fixed"),
    ]
    script = {"swap": [[{"run": swap, "check": True}, *write_unit("src/swap.py", "BROKEN = 1\n")], attempt_two]}
    repo = project([{"id": "swap"}], script, sandbox="off")  # sandboxed, the task file is read-only
    result = bosun("run", "--headless", cwd=repo)
    assert victim.read_text() == "a file of the user's, outside the repository\n", "Bosun wrote through the link"
    assert result.returncode == 0, result.stdout + result.stderr
    assert first_parent_merges(repo) == ["swap"]


# -- git settings an agent can reach with ordinary git commands ------------------------------------

# An agent can write the user's global git config (`git config --global`; agents get HOME).
# A filter defined there plus a committed .gitattributes must never make Bosun run the agent's
# command (gate folder checkout, other units' worktrees), least of all with Bosun's secrets.


def test_a_filter_an_agent_defines_in_the_global_git_config_never_runs_inside_bosun(project, tmp_path: Path) -> None:
    home, marker = tmp_path / "home", tmp_path / "filter-ran"
    home.mkdir()
    # `\$`: expanded when the filter runs, not when the agent writes it.
    smudge = f"sh -c 'echo \\${{BOSUN_UNIT:-supervisor}} \\${{BOSUN_TEST_SECRET:-no-secret}} >> {marker}; cat'"
    plant = [
        "sh",
        "-c",
        " && ".join(
            [
                f'git config --global filter.evil.smudge "{smudge}"',
                "git config --global filter.evil.clean cat",
                "printf '*.py filter=evil\\n' > .gitattributes",
                # The trap is armed: the agent's own checkout runs the filter once.
                "rm src/__init__.py",
                "git checkout -- src/__init__.py",
            ]
        ),
    ]
    script = {
        "plant": [[{"run": plant, "check": True}, *write_unit("src/plant.py", "PLANT = 1\n")]],
        "later": [write_unit("src/later.py", "LATER = 1\n")],
    }
    repo = project([{"id": "plant"}, {"id": "later", "depends_on": ["plant"]}], script, sandbox="off")
    result = bosun("run", "--headless", cwd=repo, env={"HOME": str(home), "BOSUN_TEST_SECRET": "hunter2"})
    assert result.returncode == 0, result.stdout + result.stderr
    ran = [line.split() for line in marker.read_text().splitlines()]
    assert ["plant", "no-secret"] in ran, ran
    assert not any(who == "supervisor" for who, _ in ran), f"Bosun ran the agent's filter: {ran}"
    assert "hunter2" not in marker.read_text()


@pytest.mark.parametrize("name", ["sub", "$(printf 'x\\377')"], ids=["plain", "not-utf-8"])
def test_a_filter_in_a_repository_an_agent_nests_in_its_worktree_never_runs_inside_bosun(
    project, tmp_path: Path, name: str
) -> None:
    # A nested repository with a clean filter in its own config, and a file in it whose stat data
    # is stale: `git status` in the worktree would descend into it and run the filter (Bosun runs
    # status there to commit what an agent left, `git diff` to show its work on the screen). A
    # name that is not UTF-8 read as text would match no path Bosun leaves out.
    marker = tmp_path / "filter-ran"
    filter_sh = tmp_path / "filter.sh"  # who ran it, and the git command that did
    git_pid = "$(cut -d' ' -f4 /proc/$PPID/stat)"  # git starts the filter through `sh -c`
    who = f'"${{BOSUN_UNIT:-supervisor}} $(tr "\\0" " " < /proc/{git_pid}/cmdline)"'
    filter_sh.write_text(f"echo {who} >> {marker}\ncat\n")
    clean = f"sh {filter_sh}"
    nest = " && ".join(
        [
            f'd="{name}"',
            'mkdir "$d"',
            'cd "$d"',
            "git init -q",
            "printf 'x\\n' > f",
            "printf '* filter=evil\\n' > .gitattributes",
            f'git config filter.evil.clean "{clean}"',
            "git config filter.evil.smudge cat",
            "git add f .gitattributes",  # the trap is armed: the agent's own add runs the filter
            "git -c user.name=a -c user.email=a@b commit -qm nested",
            "cd ..",
            'git add "$d"',
            'touch -d 2001-01-01 "$d/f"',
        ]
    )
    script = {"nest": [[{"run": ["sh", "-c", nest], "check": True}, {"write": "src/nest.py", "content": "N = 1\n"}]]}
    agents = {"ada": {"kind": "scripted", "script": "team.toml", "autocommit": True}}
    repo = project([{"id": "nest"}], script, agents=agents, sandbox="off", handback="manual")
    result = bosun("run", "--headless", cwd=repo)
    assert "reason=nested_repository" in result.stdout, result.stdout + result.stderr  # and never merged
    ran = marker.read_text().splitlines()
    assert any(line.startswith("nest ") for line in ran), ran
    bosuns = [line for line in ran if line.startswith("supervisor")]
    assert not bosuns, f"Bosun ran the nested repository's filter: {bosuns}"


def test_what_an_agent_writes_reaches_the_terminal_plain_and_each_event_on_one_line(project) -> None:
    """An agent's summary with a clipboard write (OSC 52), a screen clear, a bell and a forged event
    line; a gate whose failure prints many lines. Headless prints one plain line per event, and
    `bosun status UNIT` shows the summary without a single control character."""
    forged = "stuck\x1b]52;c;cHduZWQ=\x07\x1b[2J\x07\r\n12:00:00  forged-unit      merged\n"
    script = {
        "loud": [[{"report": "blocked", "summary": forged}]],
        "bad": [write_unit("src/bad.py", "X = 1\n")],
    }
    gate = "test ! -e src/bad.py || { printf 'one\\ntwo\\nthree\\n'; exit 1; }"
    repo = project([{"id": "loud"}, {"id": "bad"}], script, gate=gate, max_attempts=1)
    result = bosun("run", "--headless", cwd=repo)
    lines = result.stdout.splitlines()
    assert any(" gate_failed " in line and "bad" in line for line in lines), result.stdout
    for line in lines:
        assert line[:2].isdigit() and line[2] == ":", f"not an event line: {line!r}"  # no line of a gate's output
        assert not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in line), repr(line)
    assert not any(line.split()[1:2] == ["forged-unit"] for line in lines), "a forged event line"
    story = bosun("status", "loud", cwd=repo).stdout
    assert "stuck" in story and "forged-unit" in story, story
    assert not any(ord(c) < 32 and c != "\n" or 0x7F <= ord(c) <= 0x9F for c in story), repr(story)


def test_a_repository_an_agent_nests_and_commits_is_refused_not_merged(project) -> None:
    """An agent clones or inits a repository inside its worktree and `git add -A`s it: git records
    a gitlink (a commit id, no files), which nobody could check out. The unit is refused with the
    way out; a declared submodule is not this (test_submodules)."""
    nest = (
        "mkdir vendor && cd vendor && git init -q && git -c user.name=a -c user.email=a@b commit -q --allow-empty -m v"
    )
    steps = [{"run": ["sh", "-c", nest], "check": True}, *write_unit("src/uses.py", "USES = 1\n")]
    repo = project([{"id": "nest"}, {"id": "fine"}], {"nest": [steps], "fine": [write_unit("src/f.py", "F = 1\n")]},
                   handback="manual")  # fmt: skip
    result = bosun("run", "--headless", "--json", cwd=repo)
    refused = [json.loads(line) for line in result.stdout.splitlines() if '"kind": "out_of_scope"' in line]
    assert refused and refused[0]["reason"] == "nested_repository", result.stdout
    assert refused[0]["files"] == ["vendor"] and "git rm --cached" in refused[0]["output_tail"]
    assert first_parent_merges(repo) == ["fine"]
    assert "vendor" not in git(repo, "ls-tree", "--name-only", "bosun/integration").split()
