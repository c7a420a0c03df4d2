"""A user's own tools outside the repository, inside the sandbox: an agent script the plan's command
names runs read-only with nothing beside it visible, and a gate run by a virtualenv's Python named
by absolute path finds its whole virtualenv.

Found by replaying a real project's history (itsdangerous) under Bosun: every attempt failed with
`can't open file` and the screen said only "agent exited 2 without a new commit"; then every gate
failed with `/bin/sh: …/venv/bin/python: not found`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from conftest import bosun, git, needs_tool, write_unit

from bosun.orchestration.sandbox.probe import probe

WORKS, WHY = probe()
pytestmark = needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}")

AGENT = """\
import pathlib, subprocess, sys
here = pathlib.Path(sys.argv[0]).parent
try:
    secret = (here / "secret.txt").read_text()
except OSError:
    secret = "hidden"
pathlib.Path("seen.txt").write_text(secret)
try:
    pathlib.Path(sys.argv[0]).write_text("changed")
    print("the script was writable")
except OSError:
    pass
subprocess.run(["git", "add", "-A"], check=True)
subprocess.run(["git", "commit", "-qm", "seen"], check=True)
"""


def test_a_script_named_in_the_command_runs_read_only_and_its_folder_stays_hidden(project, tmp_path: Path) -> None:
    tools = tmp_path / "my-agents"
    tools.mkdir()
    (tools / "agent.py").write_text(AGENT)
    (tools / "secret.txt").write_text("beside the script")
    agents = {"mine": {"kind": "command", "command": ["python3", str(tools / "agent.py"), "{task_file}"]}}
    repo = project([{"id": "a"}], {}, agents=agents)
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "show", "bosun/integration:seen.txt") == "hidden"
    assert (tools / "agent.py").read_text() == AGENT


def test_an_agent_that_fails_says_why_in_its_failure(project, tmp_path: Path) -> None:
    agents = {"mine": {"kind": "command", "command": ["python3", str(tmp_path / "no-such-agent.py")]}}
    repo = project([{"id": "a"}], {}, agents=agents, handback="manual")
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 1
    assert "without a new commit: " in result.stdout and "no-such-agent.py" in result.stdout, result.stdout


def test_a_gate_run_by_a_virtualenv_named_by_path_finds_that_virtualenv(project, tmp_path: Path) -> None:
    venv = tmp_path / "gate-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (tmp_path / "secret.txt").write_text("beside the virtualenv")
    probe_gate = (
        f"{venv}/bin/python -c \"import sys, pathlib; assert sys.prefix == '{venv}', sys.prefix; "
        f"assert not pathlib.Path('{tmp_path}/secret.txt').exists(), 'saw a secret'\""
    )
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate=probe_gate)
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "show", "bosun/integration:src/a.py") == "A = 1"


def test_a_gate_script_named_by_path_runs_and_nothing_beside_it_shows(project, tmp_path: Path) -> None:
    ci = tmp_path / "ci"
    ci.mkdir()
    (ci / "secret.txt").write_text("beside the script")
    (ci / "gate.sh").write_text(f'test -r "$0" && test ! -e "{ci}/secret.txt"\n')
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate=f"sh {ci}/gate.sh")
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "show", "bosun/integration:src/a.py") == "A = 1"


RUSTUP = """\
#!/bin/sh
# What rustup's proxies do: `cargo` here is a link to rustup, which runs the default toolchain's.
toolchain=$(cat "${RUSTUP_HOME:-$HOME/.rustup}/default")
exec "${RUSTUP_HOME:-$HOME/.rustup}/toolchains/$toolchain/bin/$(basename "$0")" "$@"
"""


def test_a_gate_run_by_rustup_s_cargo_finds_its_toolchain_and_nothing_else_of_the_home(project, tmp_path: Path) -> None:
    """Rust as rustup installs it: `~/.cargo/bin/cargo` is a link to `rustup`, which runs the
    toolchain under `~/.rustup`. The box hides the home, so every gate failed with "rustup could
    not choose a version of cargo to run" (found running a crate's `cargo test` as the gate; the
    real rustup was used by hand, this is its layout). `~/.rustup` is shown read-only; the rest of
    the home stays hidden."""
    home = tmp_path / "home"
    bin_dir, toolchain = home / ".cargo" / "bin", home / ".rustup" / "toolchains" / "stable-x86_64" / "bin"
    for folder in (bin_dir, toolchain, home / ".ssh"):
        folder.mkdir(parents=True)
    (home / ".rustup" / "default").write_text("stable-x86_64\n")
    (home / ".ssh" / "id_ed25519").write_text("a key")
    (bin_dir / "rustup").write_text(RUSTUP)
    (bin_dir / "cargo").symlink_to("rustup")
    (toolchain / "cargo").write_text(
        f'#!/bin/sh\ntest ! -e "{home}/.ssh/id_ed25519" || {{ echo "saw a key"; exit 1; }}\n'
        'echo "test result: ok. 1 passed; 0 failed"\n'
    )
    for script in (bin_dir / "rustup", toolchain / "cargo"):
        script.chmod(0o755)
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate="cargo test", sandbox="required")
    env = {"HOME": str(home), "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = bosun("run", "--headless", cwd=repo, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    logs = list((repo / ".bosun" / "logs").glob("gate.*.log"))
    assert [log.read_text().strip() for log in logs] == ["test result: ok. 1 passed; 0 failed"]


def test_a_gate_tool_pipx_installed_runs_from_its_own_virtualenv(project, tmp_path: Path) -> None:
    """pipx puts a link in `~/.local/bin` to the tool in its own virtualenv under
    `~/.local/share/pipx/venvs/`: the gate named it by name only, so the box showed the link but
    not what it points to (`bwrap: execvp tool: No such file or directory`, which `bosun doctor`
    now reports). The first program a gate runs is followed to its installation like one named
    by path; the rest of the home stays hidden."""
    home = tmp_path / "home"
    venv = home / ".local" / "share" / "pipx" / "venvs" / "tool"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    (home / ".local" / "bin").mkdir(parents=True)
    (home / "notes.txt").write_text("private")
    tool = venv / "bin" / "tool"
    tool.write_text(
        f"#!{venv}/bin/python\nimport pathlib, sys\nassert sys.prefix == '{venv}', sys.prefix\n"
        f"assert not pathlib.Path('{home}/notes.txt').exists(), 'saw the home'\nprint('1 passed')\n"
    )
    tool.chmod(0o755)
    (home / ".local" / "bin" / "tool").symlink_to(tool)
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, gate="tool -q", sandbox="required")
    env = {"HOME": str(home), "PATH": f"{home / '.local' / 'bin'}:{os.environ['PATH']}"}
    assert "✓ gate: tool" in bosun("doctor", cwd=repo, env=env).stdout
    result = bosun("run", "--headless", cwd=repo, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert git(repo, "show", "bosun/integration:src/a.py") == "A = 1"


def test_every_program_a_gate_or_setup_starts_by_name_is_followed(tmp_path: Path) -> None:
    """Not only the first: `cd tests && tox`, and each line of setup, run a program of their own,
    each followed to its installation (a link in a PATH folder to a virtualenv elsewhere)."""
    from bosun.orchestration.sandbox.boxes import first_program, gate_programs, programs_run

    assert programs_run("set -e; cd tests && pytest -q") == ["pytest"]
    assert programs_run("python3 -m venv .venv\n.venv/bin/pip install x\nuv sync") == ["python3", ".venv/bin/pip", "uv"]
    assert programs_run("A=1 make \\\n  test | tee log") == ["make", "tee"]
    assert first_program("if true; then tox; fi") == "tox"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("first", "later"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    found = gate_programs("first --x\ncd sub && later -q", {"PATH": str(bin_dir)})
    assert found == [str(bin_dir / "first"), str(bin_dir / "later")]
