"""A real Ray cluster on 127.0.0.1 for the tests and the benchmark: a head with no CPUs (so work
lands on the workers) and workers, each with a custom resource naming it. Every process of the
cluster is found by its temporary folder, so stopping it never touches another cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

RAY = str(Path(sys.executable).parent / "ray")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            tree.setdefault(ppid, []).append(int(entry.name))
    return tree


def descendants(pids: list[int]) -> list[int]:
    tree, found, todo = _children(), [], list(pids)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += tree.get(pid, [])
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _kill(pids: list[int]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + 5
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)


@dataclass
class Cluster:
    """A local cluster this process started: its address, folder and workers by name."""

    temp: Path
    port: int
    workers: dict[str, str] = field(default_factory=dict)  # name -> node id
    env: dict[str, str] = field(default_factory=dict)
    hide: tuple[Path, ...] = ()
    """Folders the workers cannot see: each worker runs in a mount namespace of its own with an
    empty tmpfs over them, as a node of a real cluster shares no filesystem with the supervisor."""

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def own_pids(self) -> list[int]:
        """Every process of this cluster (found by its folder) and what they started."""
        roots = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and int(p.name) != os.getpid() and str(self.temp) in _cmdline(int(p.name))
        ]
        return descendants(roots)

    def start_worker(self, name: str, cpus: int = 2) -> None:
        self.start_workers({name: cpus})

    def start_workers(self, workers: dict[str, int]) -> None:
        """Start the workers (name -> CPUs; one after the other: two `ray start` at once on one
        machine can collide), each with the resources `node_<name>` and `bosun_worker`, and
        learn their node ids."""
        for name, cpus in workers.items():
            subprocess.run(
                [
                    *self._apart(),
                    RAY,
                    "start",
                    f"--address={self.address}",
                    "--node-ip-address=127.0.0.1",
                    f"--num-cpus={cpus}",
                    "--disable-usage-stats",
                    f"--resources={json.dumps({f'node_{name}': 1000, 'bosun_worker': 1000})}",
                ],
                check=True,
                capture_output=True,
                timeout=120,
                env=self.env,
            )
        script = (
            "import ray, json; ray.init(address=%r, logging_level='ERROR', log_to_driver=False); "  # noqa: UP031
            "print(json.dumps({k: n['NodeID'] for n in ray.nodes() if n['Alive'] for k in n['Resources']}))"
            % self.address
        )
        out = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True, timeout=120)
        by_resource = json.loads(out.stdout.strip().splitlines()[-1])
        for name in workers:
            self.workers[name] = by_resource[f"node_{name}"]

    def _apart(self) -> list[str]:
        """The prefix that starts a worker in a mount namespace where `hide` is empty (what it starts,
        the raylet and its workers, stays there)."""
        if not self.hide:
            return []
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise OSError("bwrap is needed to start Ray workers that share no files with the supervisor")
        return [bwrap, "--dev-bind", "/", "/", *(a for p in self.hide for a in ("--tmpfs", str(p))), "--"]

    def raylet_of(self, node_id: str) -> int:
        for pid in self.own_pids():
            line = _cmdline(pid)
            if "raylet" in line.split(" ", 1)[0] and f"--node_id={node_id}" in line:
                return pid
        raise AssertionError(f"no raylet for node {node_id}")

    def kill_node(self, node_id: str) -> None:
        """The node is lost: its raylet killed outright (what it started must end by itself)."""
        os.kill(self.raylet_of(node_id), signal.SIGKILL)

    def stop(self) -> None:
        _kill(self.own_pids())
        shutil.rmtree(self.temp, ignore_errors=True)


def start_cluster(workers: dict[str, int], head_cpus: int = 0, hide: tuple[Path, ...] = ()) -> Cluster:
    """A head (by default with no CPUs: no agent or gate lands there) and the named workers
    (name -> CPUs), which cannot see the folders in `hide`. Raises if Ray cannot start here."""
    temp = Path(tempfile.mkdtemp(prefix="bray", dir="/tmp"))  # short: Ray's socket paths must fit
    # A lost node is noticed within about five seconds (Ray's default is about fifteen).
    cluster = Cluster(
        temp,
        free_port(),
        env={
            **os.environ,
            "RAY_USAGE_STATS_ENABLED": "0",
            # Ray turns token authentication on for a head when ~/.ray/auth_token exists (left by any
            # earlier local Ray), and then lets in no worker started here: this cluster has none.
            "RAY_AUTH_MODE": "disabled",
            "RAY_health_check_period_ms": "1000",
            "RAY_health_check_failure_threshold": "5",
        },
        hide=tuple(hide),
    )
    try:
        subprocess.run(
            [
                RAY,
                "start",
                "--head",
                "--node-ip-address=127.0.0.1",
                f"--port={cluster.port}",
                "--include-dashboard=false",
                f"--num-cpus={head_cpus}",
                "--disable-usage-stats",
                f"--temp-dir={temp}",
            ],
            check=True,
            capture_output=True,
            timeout=120,
            env=cluster.env,
        )
        cluster.start_workers(workers)
    except BaseException:
        cluster.stop()
        raise
    return cluster


class GitDaemon:
    """`git daemon` on 127.0.0.1 serving the repositories under `base`, pushes allowed: how the nodes
    of a real cluster reach the hub when they share no filesystem with the supervisor."""

    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                "git",
                "daemon",
                "--export-all",
                "--enable=receive-pack",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                f"--base-path={base}",
                str(base),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # `git daemon` runs `git-daemon` as its child: stop() ends the group
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise OSError("git daemon did not start") from None
                time.sleep(0.05)

    def url(self, path: str) -> str:
        return f"git://127.0.0.1:{self.port}/{path}"

    def stop(self) -> None:
        """The daemon and its `git-daemon` child (killing `git` alone left it serving, for good)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
