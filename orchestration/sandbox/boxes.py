"""The two kinds of box Bosun builds: one for an agent on a unit, one for the gate.

Both start from "the machine read-only, minus the private places, plus the toolchains": the
user's repository, /tmp, /run and the homes are covered; the Python running Bosun, Bosun's
code and the folders on PATH are bound back read-only. Then:
- an agent gets its worktree and what git needs to commit there (see `AgentClone.sandbox_view`),
  its task file, a folder for its report, HOME at the user's home path but backed by
  `.bosun/homes/AGENT` (kept between attempts: CLIs keep their login and config there), the
  mounts its plan grants, and the network only with `network = "host"`;
- the gate gets only its folder `.bosun/gate/`, a fresh HOME and /tmp (a tmpfs: one unit's
  tests can leave nothing there for the next unit's gate), `gate_network`, and the installation
  of each program its command names by absolute path (a virtualenv's Python: the whole venv).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from pathlib import Path

from bosun.orchestration.plan import AgentSpec
from bosun.orchestration.sandbox.bwrap import Box, private_places, toolchain_paths

DNS = (Path("/run/systemd/resolve"), Path("/run/resolvconf"))


def user_home() -> Path | None:
    home = os.environ.get("HOME")
    return Path(home) if home and home.startswith("/") and home != "/" else None


def _base(repo: Path, env: dict[str, str], programs: list[str], network: bool) -> Box:
    box = Box(hide=[*private_places(user_home()), repo], network=network)
    kept_hidden = [p for p in (user_home(), repo) if p is not None]
    for path in toolchain_paths(env.get("PATH", ""), tuple(programs)):
        if not any(_holds(path, private) for private in kept_hidden):  # a toolchain, never a home or the repo
            box.read(path)
    if network:
        for path in DNS:
            box.read(path)
    box.env = {**env, "TMPDIR": "/tmp"}
    return box


def _holds(folder: Path, place: Path) -> bool:
    """Whether binding `folder` would show `place`: it is the place or a folder around it."""
    return place == folder or place.is_relative_to(folder)


def program_of(argv: list[str], env: dict[str, str]) -> list[str]:
    """Where the command's program is installed (so a CLI under a hidden home stays runnable)."""
    found = shutil.which(argv[0], path=env.get("PATH")) if argv else None
    return [found] if found else []


def agent_box(
    agent: AgentSpec,
    *,
    repo: Path,
    bosun_dir: Path,
    argv: list[str],
    env: dict[str, str],
    worktree: Path,
    git_read: list[Path],
    git_write: list[tuple[Path, Path]],
    git_env: dict[str, str],
    readable: list[Path],
    network: bool,
) -> Box:
    box = _base(repo, env, program_of(argv, env), network)
    for path in [*git_read, *readable]:
        box.read(path)
    for source, inside in git_write:
        box.write(source, inside)
    home_store = bosun_dir / "homes" / agent.name
    home_store.mkdir(parents=True, exist_ok=True)
    home = user_home() or home_store
    box.home = home_store
    box.env.update(git_env)
    box.env["HOME"] = str(home)
    for source, inside, writable in mounts_of(agent, home):
        if not source.exists():
            if not writable:
                continue  # nothing to read
            source.mkdir(parents=True, exist_ok=True)
        box.binds.append((source, inside, writable))
    box.cwd = worktree
    return box


def mounts_of(agent: AgentSpec, home: Path) -> list[tuple[Path, Path, bool]]:
    """(source, where inside, writable) of each of the agent's `mounts`: `~/x` is your home's, seen
    at `home`, the home the agent has."""
    found = []
    for written, writable in agent.mounts:
        source = (user_home() or Path("/nonexistent")) / written[2:] if written.startswith("~/") else Path(written)
        found.append((source, home / written[2:] if written.startswith("~/") else Path(written), writable))
    return found


def named_programs(command: str) -> list[str]:
    """The files a shell command names by absolute path (`/opt/venv/bin/python -m pytest`, `sh
    /opt/ci/test.sh`): each stays readable, and for one in a `bin` its installation (a whole
    virtualenv); never the folder around a script, a home or the repository."""
    try:
        words = shlex.split(command)
    except ValueError:
        return []
    return [word for word in words if word.startswith("/") and os.path.isfile(word)]


def gate_programs(command: str, env: dict[str, str]) -> list[str]:
    """The programs whose installations the gate's box shows: each the command names by absolute
    path, and each it starts by name, as found on its PATH (a tool pipx installed is a link from
    `~/.local/bin` into its own virtualenv elsewhere in your home)."""
    found = named_programs(command)
    try:
        started = programs_run(command)
    except ValueError:
        started = []
    for name in dict.fromkeys(started):
        found += program_of([name], env) if "/" not in name else []
    return found


def gate_box(*, repo: Path, folder: Path, env: dict[str, str], network: bool, command: str = "") -> Box:
    box = _base(repo, env, gate_programs(command, env), network)
    box.write(folder)
    if user_home() is None:
        box.env["HOME"] = "/tmp"
    box.cwd = folder
    return box


SHELL_WORDS = frozenset(
    "set cd export unset . source : true false test [ umask ulimit trap eval exec shift wait alias "
    "if then else elif fi for while until do done case esac in function { } ( ) !".split()
)
"""What `sh -c` runs itself: a command that starts `set -e; cd tests && pytest` runs pytest."""
SEPARATORS = frozenset({";", "&&", "||", "|", "&", "(", ")", ";;"})


def first_program(command: str) -> str | None:
    """The first program a shell command runs (after `VAR=value` words and the shell's own
    builtins and keywords), or None when it runs none; ValueError when it cannot be read."""
    return next(iter(programs_run(command)), None)


def programs_run(command: str) -> list[str]:
    """Each program a shell command starts, in order: the word at the start of each of its
    commands (`cd tests && tox -e py` runs tox; setup's lines each run theirs)."""
    lexer = shlex.shlex(command.replace("\\\n", " ").replace("\n", ";"), posix=True, punctuation_chars=True)
    lexer.whitespace_split = True  # (a new line ends a command as `;` does, a backslash before it does not)
    found, at_start = [], True
    for word in lexer:
        if word in SEPARATORS:
            at_start = True
        elif at_start and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
            if word not in SHELL_WORDS:
                found.append(word)
                at_start = False
            else:
                at_start = word in {"if", "then", "else", "elif", "do", "while", "until", "{", "!", "exec"}
    return found
