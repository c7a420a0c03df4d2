"""One sandbox as a bubblewrap command line: what is hidden, what is bound back, and how.

The picture is "the machine, read-only, minus the private places": `/` is bound read-only,
then the places that hold secrets or other people's work (the user's repository, homes, /tmp,
/run) are covered by empty tmpfs, then exactly what this process needs is bound back on top —
read-only (toolchains, git objects) or writable (its worktree, its HOME). Binds are applied
parents first, so a read-only file can sit inside a writable folder.

Every sandbox gets its own PID, network, IPC, UTS, user and cgroup namespaces, drops every
capability (as root, CAP_SYS_ADMIN would let it remount `/` writable), and dies with the
thread that started it (`--die-with-parent`; see process.py's launcher thread). With a network
allow-list it keeps its own empty network too: the egress proxy's socket is bound in and the
command runs under relay.py, which serves it as an HTTP proxy on the box's loopback. Each tmpfs
has a size where the bwrap knows `--size`.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

TMP_SIZE = 1 << 30
"""/tmp (and every other empty place the box covers) holds at most 1 GiB."""
PROXY_INSIDE = Path("/run/bosun-egress.sock")
"""Where a box with an allow-list finds the egress proxy's socket (proxy.py)."""
RELAY = Path(__file__).with_name("relay.py")


@dataclass
class Box:
    """What one sandboxed process may see and touch."""

    hide: list[Path] = field(default_factory=list)  # covered with an empty tmpfs
    binds: list[tuple[Path, Path, bool]] = field(default_factory=list)  # (source, inside, writable)
    home: Path | None = None  # a writable folder bound at HOME
    network: bool = False  # True: the host's network
    proxy: Path | None = None  # an allow-list: the egress proxy's socket, reached through a relay inside
    tmp_size: int | None = TMP_SIZE  # bytes each tmpfs of the box may hold (where the bwrap knows --size)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None

    def read(self, path: Path, at: Path | None = None) -> None:
        self.binds.append((path, at or path, False))

    def write(self, path: Path, at: Path | None = None) -> None:
        self.binds.append((path, at or path, True))


def _under(path: str, root: str) -> bool:
    """Plain string tests: argv runs twice per unit, and Path's `parents` made it cost milliseconds."""
    return path == root or path.startswith(root if root.endswith("/") else root + "/")


def _depth(path: str) -> int:
    return path.count("/")


def argv(binary: str, box: Box, command: list[str]) -> list[str]:
    """The full command line: bwrap, its options, then `command`."""
    args = [
        binary,
        "--unshare-all",
        *(["--share-net"] if box.network and box.proxy is None else []),
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--hostname",
        "bosun",
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
    ]
    hidden: list[str] = []
    for place in sorted({str(p) for p in box.hide}, key=_depth):
        if place == "/" or any(_under(place, h) for h in hidden) or not os.path.isdir(place):
            continue
        hidden.append(place)
        if box.tmp_size and knows_size(binary):
            args += ["--size", str(box.tmp_size)]
        args += ["--tmpfs", place]
    binds = [(str(s), str(d), w) for s, d, w in dict.fromkeys(box.binds) if os.path.lexists(s)]
    if box.proxy is not None:
        binds.append((str(box.proxy), str(PROXY_INSIDE), True))
        command = [sys.executable, "-I", "-S", str(RELAY), str(PROXY_INSIDE), "--", *command]
    if box.home is not None:
        binds.append((str(box.home), str(Path(box.env.get("HOME", str(box.home)))), True))
    # A read-only bind outside every hidden place adds nothing: `/` is already read-only.
    binds = [(s, d, w) for s, d, w in binds if w or s != d or any(_under(d, h) for h in hidden)]
    applied: dict[str, bool] = {}  # inside -> a read-only bind of a path onto itself
    for source, inside, writable in sorted(binds, key=lambda b: _depth(b[1])):
        mirror = not writable and source == inside
        enclosing = [p for p in applied if _under(inside, p)]
        # Below a read-only mirror (and no other bind between), the same files are there already.
        if inside in applied or (mirror and enclosing and applied[max(enclosing, key=_depth)]):
            continue
        applied[inside] = mirror
        args += ["--bind" if writable else "--ro-bind", source, inside]
    args.append("--clearenv")
    for key, value in box.env.items():
        args += ["--setenv", key, value]
    if box.cwd is not None:
        args += ["--chdir", str(box.cwd)]
    return [*args, "--", *command]


@functools.cache
def knows_size(binary: str) -> bool:
    """Whether this bwrap takes `--size` before `--tmpfs` (bubblewrap 0.7 and later)."""
    try:
        helped = subprocess.run([binary, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in helped.stdout + helped.stderr


def private_places(user_home: Path | None) -> list[Path]:
    """What no sandbox sees by default: homes, /tmp and /run (sockets such as docker's)."""
    places = [Path("/tmp"), Path("/var/tmp"), Path("/run"), Path("/root"), Path("/home"), Path("/mnt"), Path("/media")]
    if user_home is not None and user_home != Path("/"):
        places.append(user_home)
    return places


@functools.lru_cache(maxsize=64)
def toolchain_paths(path_env: str, extra_programs: tuple[str, ...] = ()) -> list[Path]:
    """What must stay readable for programs to run: the Python running Bosun (the scripted and
    model agents are that Python) and Bosun's own code, each PATH folder (a `shims` folder with
    its parent, as pyenv needs its root; a virtualenv's `bin` with the whole environment and the
    Python it was made from), and the installation of each program named."""
    found: list[Path] = []
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix}:
        found.append(Path(prefix))
    found.append(Path(os.path.realpath(sys.executable)).parent.parent)
    # Bosun's own packages, not the folder holding them: in a development checkout that folder is
    # a repository too, maybe the very one being supervised.
    for name in ("bosun.orchestration", "bosun.app", "bosun.widgets"):
        spec = importlib.util.find_spec(name)
        found += [Path(p).resolve() for p in (spec.submodule_search_locations or [])] if spec else []
    folders = [Path(p) for p in path_env.split(os.pathsep) if p.startswith("/")]
    for program in extra_programs:
        for named in (Path(program), Path(os.path.realpath(program))):
            if named.parent.name in ("bin", "shims"):
                folders.append(named.parent)  # an installation: its libraries (a virtualenv whole)
            else:
                found.append(named)  # a script on its own: the file, never the folder around it
    for folder in folders:
        found += _install_of(folder)
    return found


def _install_of(folder: Path) -> list[Path]:
    parent = folder.parent
    if folder.name == "shims":
        return [parent]
    if folder.name == "bin" and (parent / "pyvenv.cfg").is_file():
        paths = [parent]
        try:
            for line in (parent / "pyvenv.cfg").read_text().splitlines():
                key, _, value = line.partition("=")
                if key.strip() == "home" and value.strip():
                    paths.append(Path(value.strip()).parent)
        except OSError:
            pass
        return paths
    if folder.name == "bin" and parent != Path("/") and parent.name not in ("usr", "local", ""):
        # ~/.local/bin, /opt/x/bin: the binaries and the libraries beside them (not share/: keyrings live there)
        return [folder, parent / "lib", parent / "libexec", *_rustup_home(folder)]
    return [folder]


def _rustup_home(folder: Path) -> list[Path]:
    """Where rustup keeps the toolchains its proxies in `folder` run (`cargo` and `rustc` there are
    links to `rustup`, which runs the default toolchain from RUSTUP_HOME, `~/.rustup` unless set)."""
    if not (folder / "rustup").is_file():
        return []
    home = os.environ.get("RUSTUP_HOME") or os.path.join(os.path.expanduser("~"), ".rustup")
    return [Path(home)] if os.path.isabs(home) else []
